/*
 * addr.h: "ADDR:PORT" / "[V6ADDR]:PORT" listener addresses.
 */
#ifndef OPENCAPF_NET_ADDR_H
#define OPENCAPF_NET_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

int addr_parse(const char *text, struct sockaddr_storage *ss, socklen_t *len, char *err, size_t errlen);
/* "1.2.3.4" or "::1" (no port), for logs and history. */
void addr_host(const struct sockaddr *sa, char *out, size_t outcap);

#endif
