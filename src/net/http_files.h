/*
 * http_files.h: a read-only HTTP file server over the provisioning folder,
 * on a libevent loop (evhttp): what phones fetch first, on port 6970, before
 * falling back to TFTP (docs/protocol/provisioning.md §1).
 *
 * GET and HEAD only (405 otherwise, with Allow). The path, percent-decoded,
 * names a file of the folder under the same rules as TFTP (file_folder.h):
 * 400 for a path that does not decode (an encoded NUL, over 255 bytes), 403
 * for a name that is refused ("..", absolute after the leading slash,
 * control characters), outside the folder or not a regular file, 404
 * missing. The file goes out with sendfile (evbuffer_add_file), whatever its
 * size. Given a TLS context it serves HTTPS (the service of 6971, where TLS
 * authenticates the file), and a request for a configuration's
 * `.cnf.xml.sgn` is answered with the unsigned `.cnf.xml` beside it, as
 * phones expect, or when there is none with the `.sgn`'s content, its
 * header cut off.
 *
 * Every request is logged on one line and counted for /metrics.
 */
#ifndef OPENCAPF_NET_HTTP_FILES_H
#define OPENCAPF_NET_HTTP_FILES_H

#include <event2/event.h>
#include <openssl/ssl.h>

#include "common/util.h"

struct http_files;

/* Listen on ADDR:PORT over the folder dir; HTTPS with ssl (a reference is
 * taken), else HTTP. NULL with err. */
struct http_files *http_files_new(struct event_base *base, const char *listen, const char *dir,
				  SSL_CTX *ssl, char *err, size_t errlen);
void http_files_free(struct http_files *h);
int http_files_port(const struct http_files *h);

/* Append the HTTP file service counters in the Prometheus text format. */
void http_files_metrics_render(struct buf *out);

#endif
