/*
 * pki_cert.c: certificates in and out: single DER certificates, PEM text,
 * bundles read from files or memory, and PEM files written for others.
 *
 * Bundles are the way administrators hand us trust (a manufacturing CA
 * chain, a third-party CAPF issuer), so the reader is forgiving about what
 * else is in the file (private keys, parameters and other PEM blocks are
 * skipped) but strict about size (1 MiB, 1000 certificates), about a
 * certificate block that does not parse (error, never silently skipped), and
 * about a file with no certificate at all (error). A DER file must be
 * exactly one certificate with nothing after it.
 */
#include "pki/pki.h"
#include "pki/pki_internal.h"
#include "common/util.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <string.h>

X509 *pki_cert_from_der(const uint8_t *der, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = der;
	X509 *x;

	if (!der || len == 0 || len > PKI_MAX_INPUT) {
		seterr(err, errlen, "certificate: empty or too large (%zu bytes)", len);
		return NULL;
	}
	x = d2i_X509(NULL, &p, (long)len);
	if (!x) {
		pki_ossl_err(err, errlen, "not a valid DER certificate");
		return NULL;
	}
	if ((size_t)(p - der) != len) {
		seterr(err, errlen, "certificate: %zu stray bytes after the DER certificate",
		       len - (size_t)(p - der));
		X509_free(x);
		return NULL;
	}
	return x;
}

int pki_cert_to_der(X509 *cert, uint8_t **der, size_t *len)
{
	unsigned char *out = NULL;
	int n;

	if (!cert || !der || !len)
		return -1;
	n = i2d_X509(cert, &out);
	if (n <= 0) {
		ERR_clear_error();
		return -1;
	}
	*der = out;
	*len = (size_t)n;
	return 0;
}

int pki_cert_to_pem(X509 *cert, char **pem, size_t *len)
{
	BIO *bio;
	char *data;
	long n;
	char *out;

	if (!cert || !pem)
		return -1;
	bio = BIO_new(BIO_s_mem());
	if (!bio || PEM_write_bio_X509(bio, cert) != 1 || (n = BIO_get_mem_data(bio, &data)) <= 0) {
		BIO_free(bio);
		ERR_clear_error();
		return -1;
	}
	out = OPENSSL_malloc((size_t)n + 1);
	if (!out) {
		BIO_free(bio);
		return -1;
	}
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	BIO_free(bio);
	*pem = out;
	if (len)
		*len = (size_t)n;
	return 0;
}

static int is_cert_block(const char *name)
{
	return strcmp(name, PEM_STRING_X509) == 0 || strcmp(name, PEM_STRING_X509_OLD) == 0 ||
	       strcmp(name, PEM_STRING_X509_TRUSTED) == 0;
}

/* Parse PEM text; 0 with certificates pushed to `out`, -1 with err. */
static int parse_pem(const uint8_t *data, size_t len, STACK_OF(X509) *out, char *err, size_t errlen)
{
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	int blocks = 0;

	if (!bio) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	for (;;) {
		char *name = NULL, *header = NULL;
		unsigned char *body = NULL;
		long blen = 0;
		const unsigned char *p;
		X509 *x;

		if (PEM_read_bio(bio, &name, &header, &body, &blen) != 1) {
			unsigned long e = ERR_peek_last_error();

			if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
				ERR_clear_error(); /* no more blocks */
				break;
			}
			pki_ossl_err(err, errlen, blocks ? "malformed PEM block after the first ones"
						       : "malformed PEM block");
			BIO_free(bio);
			return -1;
		}
		blocks++;
		if (!is_cert_block(name)) {
			/* keys and anything else: skip, wiping what was decoded */
			OPENSSL_free(name);
			OPENSSL_free(header);
			OPENSSL_clear_free(body, (size_t)blen);
			continue;
		}
		p = body;
		if (strcmp(name, PEM_STRING_X509_TRUSTED) == 0)
			x = d2i_X509_AUX(NULL, &p, blen);
		else
			x = d2i_X509(NULL, &p, blen);
		if (x && p != body + blen) {
			X509_free(x);
			x = NULL;
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(body);
		if (!x) {
			char what[96];

			snprintf(what, sizeof what, "certificate %d of the PEM bundle does not parse",
				 sk_X509_num(out) + 1);
			pki_ossl_err(err, errlen, what);
			BIO_free(bio);
			return -1;
		}
		if (sk_X509_num(out) >= PKI_MAX_CERTS) {
			X509_free(x);
			seterr(err, errlen, "more than %d certificates in one bundle", PKI_MAX_CERTS);
			BIO_free(bio);
			return -1;
		}
		if (!sk_X509_push(out, x)) {
			X509_free(x);
			seterr(err, errlen, "out of memory");
			BIO_free(bio);
			return -1;
		}
	}
	BIO_free(bio);
	if (sk_X509_num(out) == 0) {
		seterr(err, errlen, blocks ? "no certificate found (only other PEM blocks, such as keys)"
					   : "no certificate found");
		return -1;
	}
	return 0;
}

STACK_OF(X509) *pki_certs_parse(const uint8_t *data, size_t len, char *err, size_t errlen)
{
	STACK_OF(X509) *out;
	static const char begin[] = "-----BEGIN ";

	if (!data || len == 0) {
		seterr(err, errlen, "empty input: no certificate found");
		return NULL;
	}
	if (len > PKI_MAX_INPUT) {
		seterr(err, errlen, "input too large (%zu bytes; at most %d)", len, PKI_MAX_INPUT);
		return NULL;
	}
	out = sk_X509_new_null();
	if (!out) {
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	if (memmem(data, len, begin, sizeof begin - 1)) {
		if (parse_pem(data, len, out, err, errlen) != 0) {
			sk_X509_pop_free(out, X509_free);
			return NULL;
		}
		return out;
	}
	if (data[0] == 0x30) {
		char sub[ERRLEN];
		X509 *x = pki_cert_from_der(data, len, sub, sizeof sub);

		if (!x) {
			seterr(err, errlen, "not a PEM or DER certificate (%s)", sub);
			sk_X509_free(out);
			return NULL;
		}
		if (!sk_X509_push(out, x)) {
			X509_free(x);
			sk_X509_free(out);
			seterr(err, errlen, "out of memory");
			return NULL;
		}
		return out;
	}
	seterr(err, errlen, "not a PEM or DER certificate");
	sk_X509_free(out);
	return NULL;
}

STACK_OF(X509) *pki_certs_load(const char *path, char *err, size_t errlen)
{
	uint8_t *data = NULL;
	size_t len = 0;
	char sub[ERRLEN];
	STACK_OF(X509) *out;

	if (read_file(path, PKI_MAX_INPUT, &data, &len, err, errlen) != 0)
		return NULL; /* read_file names the file */
	out = pki_certs_parse(data, len, sub, sizeof sub);
	if (!out)
		seterr(err, errlen, "%s: %s", path, sub);
	/* the file may also hold a private key: wipe our copy */
	OPENSSL_cleanse(data, len);
	free(data);
	return out;
}

int pki_cert_save_pem(const char *path, X509 *cert, char *err, size_t errlen)
{
	char *pem = NULL;
	size_t len = 0;
	int rc;

	if (pki_cert_to_pem(cert, &pem, &len) != 0) {
		seterr(err, errlen, "cannot encode the certificate as PEM");
		return -1;
	}
	rc = write_file_atomic(path, pem, len, 0644, err, errlen);
	OPENSSL_free(pem);
	return rc;
}
