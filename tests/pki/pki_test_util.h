/*
 * pki_test_util.h: helpers shared by the pki unit tests: paths into the
 * vectors folder (VECTORS_DIR in the environment), loading the test keys and
 * certificates, the recorded CAPF sessions and a tiny reader for their
 * elements (independent of src/wire on purpose), and the structural checks
 * every LSC must pass whoever issued it.
 */
#ifndef PKI_TEST_UTIL_H
#define PKI_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <openssl/x509.h>

/* Path of a file in the vectors folder (static buffer, one at a time). */
const char *vec_path(const char *rel);
X509 *vec_cert(const char *rel);        /* first certificate of a vectors file */
EVP_PKEY *vec_key(const char *rel);     /* private key of a vectors file */
json_t *vec_sessions(void);             /* capf-sessions.json */
json_t *vec_case(json_t *root, const char *title_prefix);

/* A recorded message: hex decoded into msg (malloc'd). */
struct tmsg {
	uint8_t *data;
	size_t len;
	int command;
	uint32_t session;
};
int tmsg_from_hex(const char *hex, struct tmsg *m);
void tmsg_free(struct tmsg *m);
/* First message of a case with this command number; 0 found, -1 absent. */
int tmsg_find(json_t *c, int command, struct tmsg *m);
/* Value of the first element `tag` of the body; 0 found, -1 absent. */
int tmsg_elem(const struct tmsg *m, int tag, const uint8_t **val, size_t *len);
/* CERTIFICATE element: unwrap the 5-byte inner header (asserts it agrees). */
void unwrap_cert(const uint8_t *val, size_t len, const uint8_t **der, size_t *derlen);

/* Make a temporary folder; returns its path (malloc'd). */
char *make_tmpdir(void);
void remove_tmpdir(char *dir);
void write_bytes(const char *path, const void *data, size_t len);

/* The LSC layout of capf-protocol.md. ours: also require our serial form
 * (16 DER bytes, top bit clear) and the AKI = CAPF SKI, which the recorded
 * implementation does not do. */
void check_lsc(X509 *lsc, const char *devname, X509 *capf, int ours);
/* 16-byte positive serial: DER content exactly 16 bytes, no 00 pad. */
void check_serial16(X509 *x);
/* Criticality of an extension (-1 when absent). */
int ext_critical(X509 *x, int nid);
int64_t cert_time(const ASN1_TIME *t);

#endif
