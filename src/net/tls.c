/*
 * tls.c: building server SSL_CTXs for the legacy and modern profiles.
 */
#include "net/tls.h"

#include <openssl/err.h>
#include <string.h>

#include "common/util.h"

#define LEGACY_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE+AES:AES256-SHA:AES128-SHA:!aNULL:!eNULL"

int tls_profile_parse(const char *s, enum tls_profile *p)
{
	if (strcmp(s, "legacy") == 0)
		*p = TLS_PROFILE_LEGACY;
	else if (strcmp(s, "modern") == 0)
		*p = TLS_PROFILE_MODERN;
	else
		return -1;
	return 0;
}

static void openssl_err(char *err, size_t errlen, const char *what)
{
	char buf[200];

	ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
	ERR_clear_error();
	seterr(err, errlen, "%s: %s", what, buf);
}

SSL_CTX *tls_server_ctx(enum tls_profile profile, const char *ciphers, X509 *cert, EVP_PKEY *key,
			char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx) {
		openssl_err(err, errlen, "cannot create a TLS context");
		return NULL;
	}
	if (profile == TLS_PROFILE_LEGACY) {
		SSL_CTX_set_security_level(ctx, 0);
		SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
	} else {
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	}
	if ((ciphers && *ciphers) || profile == TLS_PROFILE_LEGACY) {
		if (!SSL_CTX_set_cipher_list(ctx, ciphers && *ciphers ? ciphers : LEGACY_CIPHERS)) {
			openssl_err(err, errlen, "bad cipher list");
			goto fail;
		}
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	/* TLS 1.3: one ticket is enough for a phone to resume (the default two
	 * cost a second encryption and write per handshake). */
	SSL_CTX_set_num_tickets(ctx, 1);
	if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		openssl_err(err, errlen, "cannot use the certificate and key");
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}
