/*
 * load_received.c: `phonesim load --received FILE`, the phones' own record of
 * every LSC they received.
 *
 * The crash trials (scripts/crash-trials.sh) kill the daemon at a random
 * moment and then check that every LSC any phone received is on record in
 * the server's issued_certs. The record on the phone side must therefore be
 * written the moment a STORE_CERTIFICATE_REQUEST arrives, before the phone
 * answers it, and must survive anything that happens after: one line
 *   <device> <sha256 hex of the DER> <serial hex>
 * per certificate, in one write(2) on a descriptor opened with O_APPEND (the
 * worker threads share it; the kernel keeps each line whole). The sha256 is
 * of the DER as the server sent it (lower-case hex, as issued_certs.sha256);
 * the serial is lower-case hex without leading zero bytes (as
 * issued_certs.serial), read from the DER without OpenSSL's decoders.
 */
#include "cmd/phonesim/load.h"

#include <errno.h>
#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#include "wire/capf_msg.h"

/* The next DER element at *p (before end): its content and the byte after it. */
static int der_next(const uint8_t **p, const uint8_t *end, int want_tag, int want_class, const uint8_t **content,
		    long *clen)
{
	const unsigned char *q = *p;
	int tag, xclass, rc;

	if (*p >= end)
		return -1;
	rc = ASN1_get_object(&q, clen, &tag, &xclass, end - *p);
	if ((rc & 0x80) || tag != want_tag || xclass != want_class)
		return -1;
	*content = q;
	*p = q + *clen;
	return 0;
}

/* Certificate ::= SEQUENCE { TBSCertificate ::= SEQUENCE { [0] version OPTIONAL,
 * serialNumber INTEGER, ... } ... } */
static int der_serial_hex(const uint8_t *der, size_t len, char *out, size_t outcap)
{
	const uint8_t *p = der, *end = der + len, *cert, *tbs, *tbs_end, *c;
	long clen;

	if (der_next(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &cert, &clen) < 0)
		return -1;
	p = cert;
	end = cert + clen;
	if (der_next(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &tbs, &clen) < 0)
		return -1;
	p = tbs;
	tbs_end = tbs + clen;
	if (p < tbs_end && *p == 0xa0 && der_next(&p, tbs_end, 0, V_ASN1_CONTEXT_SPECIFIC, &c, &clen) < 0)
		return -1;
	if (der_next(&p, tbs_end, V_ASN1_INTEGER, V_ASN1_UNIVERSAL, &c, &clen) < 0 || clen < 1)
		return -1;
	while (clen > 1 && c[0] == 0) {
		c++;
		clen--;
	}
	if ((size_t)clen * 2 + 1 > outcap)
		return -1;
	if (clen == 1 && c[0] == 0) {
		snprintf(out, outcap, "00");
		return 0;
	}
	hex_encode(c, (size_t)clen, out);
	return 0;
}

int load_record_received(int fd, const char *devname, const uint8_t *msg, size_t len, char *err, size_t errlen)
{
	const struct capf_elem *e;
	struct capf_msg m;
	const uint8_t *der;
	size_t derlen;
	uint8_t type, md[32];
	unsigned int mdlen = 0;
	char line[400], sha[65], serial[140], why[ERRLEN];
	int n;
	ssize_t w;

	if (fd < 0 || len < CAPF_HEADER_LEN || msg[1] != CAPF_CMD_STORE_CERTIFICATE_REQUEST)
		return 0;
	/* What does not decode is no certificate the phone could store; the
	 * phone session reports it. */
	if (capf_msg_decode(&m, msg, len, why, sizeof why) < 0 || !(e = capf_msg_find(&m, CAPF_TAG_CERTIFICATE)) ||
	    capf_cert_unwrap(e->val, e->len, &der, &derlen, &type, why, sizeof why) < 0)
		return 0;
	if (EVP_Digest(der, derlen, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != sizeof md) {
		seterr(err, errlen, "--received: cannot hash the certificate");
		return -1;
	}
	hex_encode(md, sizeof md, sha);
	if (der_serial_hex(der, derlen, serial, sizeof serial) < 0)
		snprintf(serial, sizeof serial, "-");
	n = snprintf(line, sizeof line, "%s %s %s\n", devname, sha, serial);
	if (n < 0 || (size_t)n >= sizeof line) {
		seterr(err, errlen, "--received: line too long");
		return -1;
	}
	do
		w = write(fd, line, (size_t)n);
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)n) {
		seterr(err, errlen, "--received: %s", w < 0 ? strerror(errno) : "short write");
		return -1;
	}
	return 0;
}
