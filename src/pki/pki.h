/*
 * pki.h: X.509 work for opencapf on OpenSSL 3 EVP APIs only.
 *
 * Keys (RSA 512-4096, EC P-256/384/521), the CAPF CA certificate, LSCs
 * issued through the signer interface, the bare-hash signatures of CAPF
 * authentication, chain checks against a set of trusted certificates, and
 * the text forms administrators read (names, fingerprints, summaries).
 *
 * Nothing here touches sockets or the database. Errors: 0 / -1 with an
 * `err` sentence (see common/util.h) unless a comment says otherwise.
 */
#ifndef OPENCAPF_PKI_H
#define OPENCAPF_PKI_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

/* ---- keys ---- */

enum pki_key_kind { PKI_KEY_RSA = 0, PKI_KEY_EC = 1 }; /* same values as CAPF KEY_TYPE */

/* spec: "rsa:512".."rsa:4096" (512, 1024, 2048, 3072, 4096) or "ec:p256", "ec:p384", "ec:p521". */
int pki_key_parse_spec(const char *spec, enum pki_key_kind *kind, int *bits, char *err, size_t errlen);
/* bits: RSA modulus bits, or EC curve size 256/384/521. */
EVP_PKEY *pki_key_generate(enum pki_key_kind kind, int bits, char *err, size_t errlen);
/* Kind and size (RSA modulus bits / EC curve bits) of a key; -1 for other key types
 * (and for EC keys not on P-256/384/521 by name). kind and bits may be NULL. */
int pki_key_info(const EVP_PKEY *key, enum pki_key_kind *kind, int *bits);
/* "RSA 2048" / "EC P-256" */
void pki_key_describe(const EVP_PKEY *key, char *out, size_t outcap);

/* DER SubjectPublicKeyInfo in and out (CAPF PUBLIC_KEY element). */
EVP_PKEY *pki_pubkey_from_der(const uint8_t *der, size_t len, char *err, size_t errlen);
int pki_pubkey_to_der(EVP_PKEY *key, uint8_t **der, size_t *len); /* *der: OPENSSL_free */
/* Where a DER certificate holds its SubjectPublicKeyInfo (a pointer into der),
 * found by walking the TBSCertificate without decoding the key; 0 or -1. Only
 * the structure up to the key is checked. */
int pki_cert_spki_der(const uint8_t *der, size_t len, const uint8_t **spki, size_t *spki_len);

/* Private key files: PEM (PKCS#8), written atomically with mode 0600. */
int pki_key_save(const char *path, EVP_PKEY *key, char *err, size_t errlen);
EVP_PKEY *pki_key_load(const char *path, char *err, size_t errlen);
/* The file itself, past the hooks (pki_key_hooks). */
EVP_PKEY *pki_key_load_file(const char *path, char *err, size_t errlen);
/* 1 if `key` is the private (or public) key of `cert`, else 0. */
int pki_cert_key_match(X509 *cert, EVP_PKEY *key);

/* ---- certificates in and out ---- */

X509 *pki_cert_from_der(const uint8_t *der, size_t len, char *err, size_t errlen);
int pki_cert_to_der(X509 *cert, uint8_t **der, size_t *len);        /* *der: OPENSSL_free */
int pki_cert_to_pem(X509 *cert, char **pem, size_t *len);           /* *pem: OPENSSL_free */
/* A file with one or more PEM certificates, or one DER certificate. */
STACK_OF(X509) *pki_certs_load(const char *path, char *err, size_t errlen);
/* Same, from memory. */
STACK_OF(X509) *pki_certs_parse(const uint8_t *data, size_t len, char *err, size_t errlen);
int pki_cert_save_pem(const char *path, X509 *cert, char *err, size_t errlen); /* mode 0644 */

/* ---- what an administrator reads ---- */

/* PKI_NAME_RFC4514: RFC 4514 escaping and ',' separators, RDNs in encoding
 * order (not reversed), UTF-8 unescaped; this is what the independent tools
 * print, e.g. "CN=CAPF-0a1b2c3d,OU=Voice,O=Example,L=Wellington,ST=WGN,C=NZ"
 * for tests/vectors/keys/capf.crt. PKI_NAME_VENDOR: CN, OU, O, L, ST, C, then
 * other attributes, ';'-separated, unescaped, whatever the encoding order. */
enum pki_name_form { PKI_NAME_RFC4514, PKI_NAME_VENDOR /* "CN=..;OU=..;O=.." CN first */ };
/* 0, or -1 if it does not fit (out then holds a truncated string). */
int pki_name_text(const X509_NAME *name, enum pki_name_form form, char *out, size_t outcap);
/* Value (UTF-8) of the first CN (or another NID) of a name: 0, or -1 if
 * absent or too long for out (out is then ""/truncated). */
int pki_name_entry(const X509_NAME *name, int nid, char *out, size_t outcap);
/* The same entry for display: every byte of it (a NUL too) through
 * text_escape; 0, or -1 if absent or cut to fit out. */
int pki_name_entry_text(const X509_NAME *name, int nid, char *out, size_t outcap);

/* Hex fingerprint of the DER: "sha1" or "sha256". colons=1 gives "AB:CD:..". */
int pki_fingerprint(X509 *cert, const char *alg, int colons, char *out, size_t outcap);
void pki_fingerprint_der(const uint8_t *der, size_t len, const char *alg, int colons,
			 char *out, size_t outcap);

/* What an administrator reads about a certificate; every name escaped
 * (RFC 4514 with C1 controls as \xNN; CNs through text_escape). */
struct pki_cert_info {
	char subject[512];       /* RFC 4514 */
	char issuer[512];
	char cn[128];            /* text_escape'd */
	char issuer_cn[128];
	char serial[130];        /* lower-case hex, no separators */
	int64_t not_before;
	int64_t not_after;
	char key[32];            /* "RSA 2048" */
	char sha1[64];           /* lower-case hex */
	char sha256[80];
	int is_ca;
	int self_signed;
};
int pki_cert_info(X509 *cert, struct pki_cert_info *info);

/* ---- the CAPF certificate ---- */

/* Organisation fields copied into CAPF and LSC subjects. */
struct pki_org {
	char o[65], ou[65], l[129], st[129], c[3];
};
/* "O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ" or "/O=Example/OU=Voice/...". */
int pki_org_parse(const char *text, struct pki_org *org, char *err, size_t errlen);

/* Self-signed CAPF CA: CN "CAPF-" + 8 random hex digits + org fields,
 * basicConstraints critical CA:TRUE pathlen:0, keyUsage critical
 * digitalSignature+keyCertSign+cRLSign (the CRLs of its LSCs), subject key identifier, 16-byte positive
 * serial, SHA-256, validity `days` from now. */
X509 *pki_capf_cert_create(EVP_PKEY *key, const struct pki_org *org, int days, char *err, size_t errlen);

/* ---- signing LSCs: the narrow signer interface ---- */

/* The only way the CAPF private key is used to sign certificates. The local
 * implementation holds the key in this process; another could live in a
 * separate process or a PKCS#11 token. Thread-safe: sign may be called from
 * several threads at once. */
struct signer {
	/* Sign `cert` (issuer name, AKI already set) with SHA-256. */
	int (*sign_cert)(struct signer *s, X509 *cert, char *err, size_t errlen);
	void (*destroy)(struct signer *s);
	X509 *issuer;   /* the CAPF certificate (owned by the signer) */
	void *impl;
	/* Written into each LSC when set (capf_ca_signer_urls): cRLDistributionPoints
	 * and authorityInfoAccess OCSP; "" for none. */
	char crl_url[256];
	char ocsp_url[256];
};
/* Takes its own references (up_ref): the caller still frees its copies.
 * NULL if the key does not belong to the certificate or out of memory. The
 * local signer refuses certificates whose issuer is not the CAPF subject and
 * certificates with basicConstraints CA:TRUE. */
struct signer *signer_local_new(X509 *capf_cert, EVP_PKEY *capf_key);
void signer_free(struct signer *s);

/* A process whose keys live elsewhere (opencapfd's signer process,
 * signer/signer_client.h) routes key loading through these: `load` answers
 * pki_key_load, and `signer` (NULL when the key is not one of its own)
 * answers signer_local_new. Set once, before threads start. */
struct pki_key_hooks {
	EVP_PKEY *(*load)(void *ctx, const char *path, char *err, size_t errlen);
	struct signer *(*signer)(void *ctx, X509 *cert, EVP_PKEY *key);
	/* Optional (the opencapf command through a running daemon's signer):
	 * `generate` answers pki_key_generate; `save` answers pki_key_save for
	 * its own keys (1 saved, 0 not one of its keys, -1 failed). */
	EVP_PKEY *(*generate)(void *ctx, enum pki_key_kind kind, int bits, char *err, size_t errlen);
	int (*save)(void *ctx, const char *path, EVP_PKEY *key, char *err, size_t errlen);
	void *ctx;
};
void pki_key_hooks_set(const struct pki_key_hooks *hooks); /* NULL: files and local signing again */

/* Keys in a token (signer/signer_p11.h): a key file may hold, instead of a
 * PEM key, one line naming the key ("pkcs11:...", RFC 7512). With a store
 * set, pki_key_load reads such a file through `load`; pki_key_save writes
 * the reference of a store's key (`ref_of`) instead of the key; and while
 * `generate` is set (the store a state's keys are made in), pki_key_generate
 * makes keys there. */
struct pki_key_store {
	EVP_PKEY *(*load)(void *ctx, const char *ref, char *err, size_t errlen);
	const char *(*ref_of)(void *ctx, const EVP_PKEY *key); /* NULL: not a key of the store */
	EVP_PKEY *(*generate)(void *ctx, enum pki_key_kind kind, int bits, char *err, size_t errlen);
	void *ctx;
};
void pki_key_store_set(const struct pki_key_store *store); /* NULL: files only */

/* LSC per capf-protocol.md: subject CN=devname + O, OU, L, ST, C of the CAPF
 * subject; issuer = CAPF subject; 16-byte positive random serial; validity
 * `days` from now but never past the CAPF certificate's own notAfter
 * (backdated 5 minutes for clock skew is NOT done: not_before = now); basicConstraints critical CA:FALSE; keyUsage critical
 * digitalSignature+keyEncipherment; EKU serverAuth, clientAuth,
 * 1.3.6.1.5.5.7.3.5; subjectAltName URI:devname; AKI from the CAPF cert; SHA-256. */
X509 *pki_lsc_issue(struct signer *s, const char *devname, EVP_PKEY *phone_pub, int days,
		    char *err, size_t errlen);
/* The same LSC as DER only (*der: OPENSSL_free), the CAPF server's path: the
 * phone's key goes in without OpenSSL 3.0's encode-and-decode round trip
 * (see pki_spki.c), about a third of the cost of issuing. */
int pki_lsc_issue_der(struct signer *s, const char *devname, EVP_PKEY *phone_pub, int days,
		      uint8_t **der, size_t *len, char *err, size_t errlen);

/* ---- CAPF authentication signatures ---- */

/* RSA: raw private-key operation on 00 01 FF..FF 00 || hash (no DigestInfo).
 * EC: DER ECDSA over the hash. *sig: OPENSSL_free. */
int pki_bare_sign(EVP_PKEY *key, const uint8_t *hash, size_t hashlen, uint8_t **sig, size_t *siglen);
/* 1 = valid, 0 = invalid (strict: for RSA the whole recovered block must be
 * exactly the type-1 padding and the hash), -1 = error. */
int pki_bare_verify(EVP_PKEY *pub, const uint8_t *hash, size_t hashlen, const uint8_t *sig, size_t siglen);

/* auth_data = devname + NUL + cert DER. Produces SIGNED_DATA (over SHA-1)
 * and the SHA-512 signature of SHA2_SIGNED_DATA (hash id 3). An RSA-512 key
 * cannot carry a SHA-512 hash: then *sig_sha512 is NULL and *sig_sha512_len 0
 * (send no SHA2_SIGNED_DATA). */
int pki_capf_auth_sign(EVP_PKEY *key, const char *devname, const uint8_t *der, size_t derlen,
		       uint8_t **sig_sha1, size_t *sig_sha1_len, uint8_t **sig_sha512, size_t *sig_sha512_len);
/* Verify one signature over auth_data with hash id 1 (SHA-1), 2, or 3 (SHA-512).
 * 1 valid / 0 invalid (including malformed or wrong-length signatures) /
 * -1 our error (unknown hash id, unsupported key type). */
int pki_capf_auth_verify(EVP_PKEY *pub, const char *devname, const uint8_t *der, size_t derlen,
			 int hash_id, const uint8_t *sig, size_t siglen);
/* SUDI signatures: over session id (4 bytes little-endian) + SUDI cert DER,
 * hash ids as above (SUDI_DATA tags 1 and 3). 1/0/-1. */
int pki_sudi_verify(EVP_PKEY *pub, uint32_t session_id, const uint8_t *der, size_t derlen,
		    int hash_id, const uint8_t *sig, size_t siglen);
int pki_sudi_sign(EVP_PKEY *key, uint32_t session_id, const uint8_t *der, size_t derlen,
		  int hash_id, uint8_t **sig, size_t *siglen);

/* ---- chains ---- */

/* Does `leaf` chain to one of `trusted` (each a trust anchor) at time `at`
 * (0 = now)? 0 = yes. -1 with err naming the reason in the words a TLS alert
 * would use (exactly "unknown CA", "certificate expired", "certificate not yet
 * valid", "bad certificate signature"; rarer failures in OpenSSL's words).
 * `which` (optional) receives the element of `trusted` used (no new reference). */
int pki_verify_chain(X509 *leaf, STACK_OF(X509) *trusted, int64_t at, X509 **which,
		     char *err, size_t errlen);

/* ---- CAPF certificate signed by an outside CA (pki_csr.c) ---- */

/* A CAPF subject: CN "CAPF-" + 8 random hex digits, then OU, O, L, ST, C. */
X509_NAME *pki_capf_subject_new(const struct pki_org *org, char *err, size_t errlen);
/* The organisation fields (O, OU, L, ST, C) of a name; absent ones empty. */
void pki_org_from_name(const X509_NAME *name, struct pki_org *org);
/* A request for `subject` and `key`, asking for basicConstraints critical
 * CA:TRUE pathlen:0 and keyUsage critical digitalSignature+keyCertSign+cRLSign, SHA-256. */
X509_REQ *pki_capf_csr_create(EVP_PKEY *key, const X509_NAME *subject, char *err, size_t errlen);
int pki_csr_to_pem(X509_REQ *req, char **pem, size_t *len);         /* *pem: OPENSSL_free */
/* May this certificate be the CAPF certificate? RSA or EC P-256/384/521 key,
 * basicConstraints CA:TRUE pathlen:0, keyUsage digitalSignature+keyCertSign,
 * valid now. 0, or -1 with err saying what is missing. */
int pki_capf_cert_check(X509 *cert, char *err, size_t errlen);
/* 1 if `issuer` issued `cert` (names, key identifiers, key usage and the
 * signature all agree), else 0. */
int pki_cert_signed_by(X509 *cert, X509 *issuer);

/* ---- ITL / CTL files (pki_itl.c; docs/protocol/tvs-and-itl.md) ---- */

struct itl_file;
struct itl_record;

/* RSA PKCS#1 v1.5 with DigestInfo over data, hash by ITL id (1 SHA-1,
 * 2 SHA-256, 3 SHA-512). *sig: OPENSSL_free. */
int pki_itl_sign(EVP_PKEY *key, int hash_alg, const uint8_t *data, size_t len, uint8_t **sig,
		 size_t *siglen, char *err, size_t errlen);
/* 1 valid, 0 invalid, -1 unusable key (not RSA) or unknown hash id. */
int pki_itl_verify_sig(EVP_PKEY *pub, int hash_alg, const uint8_t *data, size_t len, const uint8_t *sig,
		       size_t siglen);
/* Header SIGNATURE_MODULUS for an RSA key (64 << index bytes), -1 when the
 * key is not RSA of 512, 1024, 2048 or 4096 bits. */
int pki_itl_modulus_index(EVP_PKEY *key);
/* A record's PUBLIC_KEY (RSAPublicKey DER / EC point) and SIGNATURE values:
 * pointers into cert, valid while it lives. */
int pki_itl_cert_parts(X509 *cert, const uint8_t **pubkey, size_t *pubkeylen, const uint8_t **sig,
		       size_t *siglen);
/* 1 when the record describes this certificate: its CERTIFICATE equals der,
 * or (without one) its CERTIFICATE_HASH is the SHA-1 of der; else 0. */
int pki_itl_record_matches(const struct itl_record *r, const uint8_t *der, size_t derlen);
/* Check a decoded file's signature with the certificate of the SAST record
 * whose serial number equals the header's. 0 and *signer (record index,
 * may be NULL) when valid; -1 with the reason ("no SAST record matches ...",
 * "bad signature: ...", a header problem). */
int pki_itl_verify(const struct itl_file *f, size_t *signer, char *err, size_t errlen);
/* A self-signed certificate for a service (SAST/TFTP signer, TVS): subject
 * CN=cn + org fields, CA:TRUE pathlen:0, keyUsage digitalSignature +
 * keyEncipherment + keyCertSign, EKU serverAuth + clientAuth, SHA-256. */
X509 *pki_service_cert_create(EVP_PKEY *key, const char *cn, const struct pki_org *org, int days,
			      char *err, size_t errlen);

#endif
