/*
 * store_certparse.c: the one place the store looks inside a certificate.
 *
 * The store records certificates it is handed as DER (an LSC just issued, a
 * certificate a phone presented, a trust anchor) and keeps a few fields next
 * to the blob so that listings need no parsing: serial, subject, issuer,
 * validity and the SHA-256 of the bytes. Everything else about X.509 belongs
 * to pki/. The text forms match pki_cert_info() so that the CLI shows the
 * same strings whichever layer produced them: serial as lower-case hex
 * bytes, names as RFC 2253 escaping in the certificate's own RDN order,
 * non-ASCII left as UTF-8, times as unix seconds.
 *
 * The SHA-256 is of the DER exactly as given (which is also what the
 * phone sent or what was signed), not of a re-encoding.
 *
 * store_cert_parse_fields reads the same fields without d2i_X509, which in
 * OpenSSL 3 also decodes the public key through the provider decoders (most
 * of the cost of a parse, paid once per enrollment when the LSC just issued
 * is recorded). It checks only the fields it reads: use it for certificates
 * this program built, store_cert_parse for anything received.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/util.h"
#include "store/store_internal.h"

void store_sha256_hex(const uint8_t *data, size_t len, char out[65])
{
	uint8_t md[32];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != sizeof md) {
		ERR_clear_error();
		out[0] = '\0';
		return;
	}
	hex_encode(md, sizeof md, out);
}

static void name_text(const X509_NAME *name, char *out, size_t outcap)
{
	unsigned long flags = (XN_FLAG_RFC2253 & ~XN_FLAG_DN_REV) & ~(unsigned long)ASN1_STRFLGS_ESC_MSB;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long n = 0;

	out[0] = '\0';
	if (bio && name && X509_NAME_print_ex(bio, name, 0, flags) >= 0)
		n = BIO_get_mem_data(bio, &data);
	if (n > 0)
		snprintf(out, outcap, "%.*s", (int)n, data);
	BIO_free(bio);
}

static void serial_text(const ASN1_INTEGER *sn, char *out, size_t outcap)
{
	BIGNUM *bn = sn ? ASN1_INTEGER_to_BN(sn, NULL) : NULL;
	uint8_t bytes[64] = { 0 };
	int n;
	size_t off = 0;

	out[0] = '\0';
	if (!bn)
		return;
	n = BN_num_bytes(bn);
	if (n <= (int)sizeof bytes && outcap >= (size_t)n * 2 + 3) {
		if (BN_is_negative(bn))
			out[off++] = '-';
		if (n == 0)
			n = 1;          /* zero is "00", as pki prints it */
		else
			BN_bn2bin(bn, bytes);
		hex_encode(bytes, (size_t)n, out + off);
	}
	BN_free(bn);
}

static int64_t time_unix(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

int store_cert_parse(const uint8_t *der, size_t len, struct store_certinfo *out)
{
	const unsigned char *p = der;
	X509 *x;

	memset(out, 0, sizeof *out);
	if (!der || len == 0 || len > 1 << 20)
		return -1;
	x = d2i_X509(NULL, &p, (long)len);
	if (!x || p != der + len) {
		X509_free(x);
		ERR_clear_error();
		return -1;
	}
	serial_text(X509_get0_serialNumber(x), out->serial, sizeof out->serial);
	name_text(X509_get_subject_name(x), out->subject, sizeof out->subject);
	name_text(X509_get_issuer_name(x), out->issuer, sizeof out->issuer);
	out->not_before = time_unix(X509_get0_notBefore(x));
	out->not_after = time_unix(X509_get0_notAfter(x));
	store_sha256_hex(der, len, out->sha256);
	X509_free(x);
	ERR_clear_error();
	return out->sha256[0] ? 0 : -1;
}

/* ---- the fields alone, for certificates this program just built ---- */

/* Enter the SEQUENCE at *p (ending before end): 0 and *p at its contents,
 * *inner_end at its end; -1 if it is not one. */
static int enter_sequence(const unsigned char **p, const unsigned char *end, const unsigned char **inner_end)
{
	long len;
	int tag, xclass, rc = ASN1_get_object(p, &len, &tag, &xclass, end - *p);

	if ((rc & 0x80) || rc != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE || xclass != V_ASN1_UNIVERSAL ||
	    len > end - *p)
		return -1;
	*inner_end = *p + len;
	return 0;
}

static int skip_object(const unsigned char **p, const unsigned char *end)
{
	long len;
	int tag, xclass, rc = ASN1_get_object(p, &len, &tag, &xclass, end - *p);

	if ((rc & 0x80) || len > end - *p)
		return -1;
	*p += len;
	return 0;
}

static int walk_names(const unsigned char **p, const unsigned char *end, X509_NAME **name)
{
	*name = d2i_X509_NAME(NULL, p, end - *p);
	return *name ? 0 : -1;
}

/* TBSCertificate: [0] version, serial, signature algorithm, issuer,
 * validity, subject (the rest is not looked at). */
static int walk_tbs(const uint8_t *der, size_t len, ASN1_INTEGER **sn, X509_NAME **issuer, ASN1_TIME **nb,
		    ASN1_TIME **na, X509_NAME **subject)
{
	const unsigned char *p = der, *end = der + len, *cert_end, *tbs_end, *val_end;

	if (enter_sequence(&p, end, &cert_end) < 0 || cert_end != end || enter_sequence(&p, cert_end, &tbs_end) < 0)
		return -1;
	if (p < tbs_end && *p == 0xA0 && skip_object(&p, tbs_end) < 0)
		return -1;
	if (!(*sn = d2i_ASN1_INTEGER(NULL, &p, tbs_end - p)) || skip_object(&p, tbs_end) < 0 ||
	    walk_names(&p, tbs_end, issuer) < 0 || enter_sequence(&p, tbs_end, &val_end) < 0 ||
	    !(*nb = d2i_ASN1_TIME(NULL, &p, val_end - p)) || !(*na = d2i_ASN1_TIME(NULL, &p, val_end - p)) ||
	    p != val_end || walk_names(&p, tbs_end, subject) < 0)
		return -1;
	return 0;
}

int store_cert_parse_fields(const uint8_t *der, size_t len, struct store_certinfo *out)
{
	ASN1_INTEGER *sn = NULL;
	X509_NAME *issuer = NULL, *subject = NULL;
	ASN1_TIME *nb = NULL, *na = NULL;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (der && len > 0 && len <= 1 << 20 && walk_tbs(der, len, &sn, &issuer, &nb, &na, &subject) == 0) {
		serial_text(sn, out->serial, sizeof out->serial);
		name_text(subject, out->subject, sizeof out->subject);
		name_text(issuer, out->issuer, sizeof out->issuer);
		out->not_before = time_unix(nb);
		out->not_after = time_unix(na);
		store_sha256_hex(der, len, out->sha256);
		rc = out->sha256[0] ? 0 : -1;
	}
	ASN1_INTEGER_free(sn);
	X509_NAME_free(issuer);
	X509_NAME_free(subject);
	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	ERR_clear_error();
	return rc < 0 ? store_cert_parse(der, len, out) : 0;
}
