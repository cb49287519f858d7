/*
 * signer_policy.h: what the signer process holds and what it agrees to
 * sign. One request frame in, one response frame out (signer_msg.h); the
 * process around it (signer_proc.h) only moves bytes.
 *
 * Keys are loaded on request, by path, and only from the state's keys/
 * folder or from the few other key files the daemon's configuration named
 * when the signer started. A key's role comes from its file name, never
 * from the request:
 *   capf-N.key  CAPF: LSCs (SIGN_CERT), TLS handshakes, CRLs, OCSP responses,
 *               requests for its own certificate (CSRs)
 *   sast-N.key  SAST/TFTP signer: signed files (ITL, CTL, .sgn) only
 *   tvs-N.key   TVS: TLS handshakes only
 *   other named key files: TLS handshakes only
 * SIGN_CERT takes a whole certificate template and signs it only when it is
 * an LSC of that CAPF: issuer = the CAPF subject, basicConstraints CA:FALSE,
 * no keyCertSign or cRLSign, starting within a day of now, ending no later
 * than the CAPF certificate and within the configured LSC validity (+1 day).
 * SIGN tells what a message is by its bytes: a TLS 1.3 server
 * CertificateVerify, a TLS 1.0-1.2 ServerKeyExchange, a CRL, an OCSP
 * response, a certificate request, a certificate (always refused: certificates go through
 * SIGN_CERT) or other data (only a SAST key signs it).
 * Every operation is counted against a rate limit per kind and logged once
 * (LSCs, files, CRLs, loads and refusals at info or warning level; TLS
 * handshake operations at debug level, they come with every connection).
 */
#ifndef OPENCAPF_SIGNER_POLICY_H
#define OPENCAPF_SIGNER_POLICY_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdint.h>

#include "common/util.h"

/* NEW: a key made on the administrators' door, not yet saved to its file. */
enum signer_role { SIGNER_ROLE_CAPF = 1, SIGNER_ROLE_SAST, SIGNER_ROLE_TVS, SIGNER_ROLE_TLS, SIGNER_ROLE_NEW };

#define SIGNER_SLOTS 32
#define SIGNER_EXTRA_KEYS 4
#define SIGNER_PATH_MAX 1024

struct signer_slot {
	EVP_PKEY *key;
	X509 *cert;             /* may be NULL (then no SIGN_CERT) */
	int role;
	char path[SIGNER_PATH_MAX];
	const char *name;       /* the file name in path */
	unsigned long long file_id; /* the file when loaded (device, inode, size, time): a replaced file loads again */
};

struct signer_limits {
	double lsc_per_second;  /* SIGN_CERT; burst twice as many */
	double ops_per_second;  /* SIGN and DECRYPT_TLS */
	int lsc_max_days;       /* LSC validity the daemon asks for */
};

struct signer_bucket {
	double tokens;
	double last;
};

struct signer_keys {
	pthread_mutex_t lock;
	struct signer_slot slot[SIGNER_SLOTS];
	int nslots;
	char keys_dir[SIGNER_PATH_MAX];               /* resolved (realpath) */
	char extra[SIGNER_EXTRA_KEYS][SIGNER_PATH_MAX]; /* resolved */
	int nextra;
	struct signer_limits limits;
	struct signer_bucket lsc_bucket, ops_bucket;
	unsigned long refused;                        /* for tests and the exit line */
};

/* keys_dir must exist; extra key files that cannot be resolved are an error. */
int signer_keys_init(struct signer_keys *k, const char *keys_dir, const char *const *extra, int nextra,
		     const struct signer_limits *limits, char *err, size_t errlen);
void signer_keys_free(struct signer_keys *k);
/* A key already in memory (tests, the fuzz target): its slot, or -1. Takes references. */
int signer_keys_add(struct signer_keys *k, const char *path, int role, EVP_PKEY *key, X509 *cert);

/* Answer one request frame; resp receives the whole response frame. */
void signer_handle(struct signer_keys *k, const uint8_t *req, size_t n, struct buf *resp);
/* The same for a request that came through the administrators' door
 * (signer_proc.h: a root or key-owner process): it may also generate keys
 * (GENERATE_KEY), save them as new files of the keys folder (SAVE_KEY),
 * sign certificates issued by a key to itself (self-signed CAPF, SAST, TVS
 * and HTTPS certificates), and sign requests for a new key's certificate. */
void signer_handle_admin(struct signer_keys *k, const uint8_t *req, size_t n, struct buf *resp);

#endif
