/*
 * tls.h: server TLS contexts. Two profiles:
 *  - legacy (default for CAPF): TLS 1.0+, security level 0 in this context
 *    only, RSA key-exchange ciphers AES256-SHA / AES128-SHA after the ECDHE
 *    ones, for old phones (capf-protocol.md, OpenSSL 3 notes);
 *  - modern: TLS 1.2+, OpenSSL's default security level and ciphers.
 * A cipher list given in the configuration replaces the profile's.
 */
#ifndef OPENCAPF_NET_TLS_H
#define OPENCAPF_NET_TLS_H

#include <openssl/ssl.h>

enum tls_profile { TLS_PROFILE_LEGACY, TLS_PROFILE_MODERN };

int tls_profile_parse(const char *s, enum tls_profile *p);
/* A server context presenting `cert` with `key` (references taken). */
SSL_CTX *tls_server_ctx(enum tls_profile profile, const char *ciphers, X509 *cert, EVP_PKEY *key,
			char *err, size_t errlen);

#endif
