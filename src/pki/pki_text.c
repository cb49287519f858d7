/*
 * pki_text.c: what an administrator reads about a certificate: names in the
 * comma form and in the vendor's "CN=..;OU=..;O=.." form, single name
 * entries, fingerprints, and the one-struct summary the CLI, the web UI and
 * the reports print.
 *
 * Name order. The comma form lists the RDNs in the order they are encoded
 * (for the usual Cisco-style name, CN first), with RFC 4514 escaping and
 * UTF-8 kept as it is. That is what the independent ITL tools print for the
 * test vectors ("CN=CAPF-0a1b2c3d,OU=Voice,O=Example,L=Wellington,ST=WGN,
 * C=NZ" for keys/capf.crt, whose DER starts with the CN); strict RFC 4514
 * would reverse it. The vendor form does not depend on the encoding order at
 * all: CN, OU, O, L, ST, C, then any other attribute in encoding order,
 * separated by ';' without escaping, exactly as CUCM writes ITL names.
 *
 * What is shown (pki_cert_info, pki_name_entry_text) is escaped: certificate
 * names come from the network (a phone's certificate in the registration
 * check or in CAPF), so their text goes through text_escape (common/util.h)
 * before anyone logs, stores or prints it. pki_name_entry and the vendor form
 * stay raw: they are data (LSC subjects, ITL records), not display.
 */
#include "pki/pki.h"
#include "pki/pki_internal.h"
#include "common/util.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static int copy_out(const char *s, size_t n, char *out, size_t outcap)
{
	if (n + 1 > outcap) {
		if (outcap) {
			memcpy(out, s, outcap - 1);
			out[outcap - 1] = '\0';
		}
		return -1;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static int name_rfc4514(const X509_NAME *name, char *out, size_t outcap)
{
	BIO *bio = BIO_new(BIO_s_mem());
	unsigned long flags = (XN_FLAG_RFC2253 & ~XN_FLAG_DN_REV) & ~(unsigned long)ASN1_STRFLGS_ESC_MSB;
	char *data;
	long n;
	int rc;

	if (!bio)
		return -1;
	if (X509_NAME_print_ex(bio, name, 0, flags) < 0) {
		BIO_free(bio);
		ERR_clear_error();
		return -1;
	}
	n = BIO_get_mem_data(bio, &data);
	rc = copy_out(n > 0 ? data : "", n > 0 ? (size_t)n : 0, out, outcap);
	BIO_free(bio);
	return rc;
}

static int vendor_rank(int nid)
{
	switch (nid) {
	case NID_commonName: return 0;
	case NID_organizationalUnitName: return 1;
	case NID_organizationName: return 2;
	case NID_localityName: return 3;
	case NID_stateOrProvinceName: return 4;
	case NID_countryName: return 5;
	default: return 6;
	}
}

/* "SN=value" of one entry into b (value as UTF-8, control bytes as '?'). */
static void put_entry(struct buf *b, const X509_NAME_ENTRY *e)
{
	const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
	int nid = OBJ_obj2nid(obj);
	unsigned char *utf8 = NULL;
	int n;

	if (nid != NID_undef) {
		const char *sn = OBJ_nid2sn(nid);
		buf_put(b, sn, strlen(sn));
	} else {
		char oid[80];
		OBJ_obj2txt(oid, sizeof oid, obj, 1);
		buf_put(b, oid, strlen(oid));
	}
	buf_put_u8(b, '=');
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
	if (n < 0) {
		ERR_clear_error();
		buf_put(b, "?", 1);
		return;
	}
	for (int i = 0; i < n; i++)
		buf_put_u8(b, (utf8[i] < 0x20 || utf8[i] == 0x7f) ? '?' : utf8[i]);
	OPENSSL_free(utf8);
}

static int name_vendor(const X509_NAME *name, char *out, size_t outcap)
{
	struct buf b;
	int count = X509_NAME_entry_count(name);
	int first = 1;
	int rc;

	buf_init(&b);
	for (int rank = 0; rank <= 6; rank++) {
		for (int i = 0; i < count; i++) {
			const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);

			if (vendor_rank(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e))) != rank)
				continue;
			if (!first)
				buf_put_u8(&b, ';');
			first = 0;
			put_entry(&b, e);
		}
	}
	if (b.failed) {
		buf_free(&b);
		return -1;
	}
	rc = copy_out(b.len ? (const char *)b.data : "", b.len, out, outcap);
	buf_free(&b);
	return rc;
}

int pki_name_text(const X509_NAME *name, enum pki_name_form form, char *out, size_t outcap)
{
	if (!out || outcap == 0)
		return -1;
	out[0] = '\0';
	if (!name)
		return -1;
	return form == PKI_NAME_VENDOR ? name_vendor(name, out, outcap) : name_rfc4514(name, out, outcap);
}

/* The first `nid` entry of a name as UTF-8 (OPENSSL_free it): its length, or -1. */
static int entry_utf8(const X509_NAME *name, int nid, unsigned char **utf8)
{
	int idx, n;

	*utf8 = NULL;
	if (!name || (idx = X509_NAME_get_index_by_NID(name, nid, -1)) < 0)
		return -1;
	n = ASN1_STRING_to_UTF8(utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
	if (n < 0) {
		ERR_clear_error();
		*utf8 = NULL;
	}
	return n;
}

int pki_name_entry(const X509_NAME *name, int nid, char *out, size_t outcap)
{
	unsigned char *utf8;
	int n, rc;

	if (out && outcap)
		out[0] = '\0';
	if (!out || outcap == 0 || (n = entry_utf8(name, nid, &utf8)) < 0)
		return -1;
	rc = copy_out((const char *)utf8, (size_t)n, out, outcap);
	OPENSSL_free(utf8);
	return rc;
}

int pki_name_entry_text(const X509_NAME *name, int nid, char *out, size_t outcap)
{
	unsigned char *utf8;
	int n;
	size_t need;

	if (out && outcap)
		out[0] = '\0';
	if (!out || outcap == 0 || (n = entry_utf8(name, nid, &utf8)) < 0)
		return -1;
	need = text_escape(out, outcap, (const char *)utf8, (size_t)n);
	OPENSSL_free(utf8);
	return need < outcap ? 0 : -1;
}

static const EVP_MD *fingerprint_md(const char *alg)
{
	if (!alg || strcasecmp(alg, "sha256") == 0 || strcasecmp(alg, "sha-256") == 0)
		return EVP_sha256();
	if (strcasecmp(alg, "sha1") == 0 || strcasecmp(alg, "sha-1") == 0)
		return EVP_sha1();
	if (strcasecmp(alg, "sha512") == 0 || strcasecmp(alg, "sha-512") == 0)
		return EVP_sha512();
	return NULL;
}

void pki_fingerprint_der(const uint8_t *der, size_t len, const char *alg, int colons,
			 char *out, size_t outcap)
{
	const EVP_MD *md = fingerprint_md(alg);
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;

	if (!out || outcap == 0)
		return;
	out[0] = '\0';
	if (!md || !der || EVP_Digest(der, len, h, &hlen, md, NULL) != 1) {
		ERR_clear_error();
		return;
	}
	if (colons) {
		if (outcap < (size_t)hlen * 3)
			return;
		hex_encode_sep(h, hlen, ':', 1, out);
	} else {
		if (outcap < (size_t)hlen * 2 + 1)
			return;
		hex_encode(h, hlen, out);
	}
}

int pki_fingerprint(X509 *cert, const char *alg, int colons, char *out, size_t outcap)
{
	uint8_t *der = NULL;
	size_t len = 0;

	if (out && outcap)
		out[0] = '\0';
	if (!out || outcap == 0 || !fingerprint_md(alg) || pki_cert_to_der(cert, &der, &len) != 0)
		return -1;
	pki_fingerprint_der(der, len, alg, colons, out, outcap);
	OPENSSL_free(der);
	return out[0] ? 0 : -1;
}

static int64_t asn1_time_to_unix(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
		ERR_clear_error();
		return 0;
	}
	return (int64_t)timegm(&tm);
}

static void serial_hex(X509 *cert, char *out, size_t outcap)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(cert);
	BIGNUM *bn = sn ? ASN1_INTEGER_to_BN(sn, NULL) : NULL;
	unsigned char bytes[64];
	int n;
	size_t off = 0;

	out[0] = '\0';
	if (!bn) {
		ERR_clear_error();
		return;
	}
	n = BN_num_bytes(bn);
	if (n <= (int)sizeof bytes && outcap >= (size_t)n * 2 + 2) {
		if (BN_is_negative(bn))
			out[off++] = '-';
		if (n == 0) {
			bytes[0] = 0;
			n = 1;
		} else {
			BN_bn2bin(bn, bytes);
		}
		hex_encode(bytes, (size_t)n, out + off);
	}
	BN_free(bn);
}

int pki_cert_info(X509 *cert, struct pki_cert_info *info)
{
	if (!cert || !info)
		return -1;
	memset(info, 0, sizeof *info);
	pki_name_text(X509_get_subject_name(cert), PKI_NAME_RFC4514, info->subject, sizeof info->subject);
	pki_name_text(X509_get_issuer_name(cert), PKI_NAME_RFC4514, info->issuer, sizeof info->issuer);
	/* RFC 4514 escapes C0 controls and backslashes itself; the rest (C1) here */
	text_escape_controls(info->subject, sizeof info->subject, info->subject, strlen(info->subject));
	text_escape_controls(info->issuer, sizeof info->issuer, info->issuer, strlen(info->issuer));
	pki_name_entry_text(X509_get_subject_name(cert), NID_commonName, info->cn, sizeof info->cn);
	pki_name_entry_text(X509_get_issuer_name(cert), NID_commonName, info->issuer_cn, sizeof info->issuer_cn);
	serial_hex(cert, info->serial, sizeof info->serial);
	info->not_before = asn1_time_to_unix(X509_get0_notBefore(cert));
	info->not_after = asn1_time_to_unix(X509_get0_notAfter(cert));
	pki_key_describe(X509_get0_pubkey(cert), info->key, sizeof info->key);
	if (pki_fingerprint(cert, "sha1", 0, info->sha1, sizeof info->sha1) != 0 ||
	    pki_fingerprint(cert, "sha256", 0, info->sha256, sizeof info->sha256) != 0)
		return -1;
	info->is_ca = (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;
	info->self_signed = X509_self_signed(cert, 0) == 1;
	ERR_clear_error();
	return 0;
}
