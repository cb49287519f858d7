/*
 * addr.h: "ADDR:PORT" / "[V6ADDR]:PORT" listener addresses.
 */
#ifndef OPENCAPF_NET_ADDR_H
#define OPENCAPF_NET_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

int addr_parse(const char *text, struct sockaddr_storage *ss, socklen_t *len, char *err, size_t errlen);
/* A listen setting (common/setting.h): "off", "" (disabled) or a parseable
 * ADDR:PORT, copied to dst. */
int addr_listen_setting(char *dst, size_t cap, const char *text);
/* Listeners bind once per worker with SO_REUSEPORT, which would also let a
 * second daemon share the port silently. Bind a plain socket (no
 * SO_REUSEPORT) first: if anything listens there already, that fails with
 * "address in use", and the caller refuses to start. */
int addr_check_free(const struct sockaddr *sa, socklen_t len, const char *text, char *err, size_t errlen);
/* "1.2.3.4" or "::1" (no port), for logs and history. */
void addr_host(const struct sockaddr *sa, char *out, size_t outcap);

#endif
