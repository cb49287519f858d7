/*
 * pki_sgn.h: the cryptography of signed provisioning files (`.sgn`) and
 * encrypted configurations (`.enc.sgn`), docs/protocol/provisioning.md
 * §3-4, over the pure codec in wire/sgn.h.
 *
 * Signing: RSA PKCS#1 v1.5 with DigestInfo (SHA-1 or SHA-512) over the whole
 * file with the SIGNATURE TLV cut out, by an RSA key of 512..4096 bits whose
 * certificate names the signer in the header (phones want the key whose
 * certificate has the TFTP role in their ITL). Every file made is decoded
 * and verified again before it is returned.
 *
 * Encryption: a fresh AES-128 key and IV, the plaintext padded with 1 to 16
 * carriage returns to whole blocks (the open tools strip the recorded count,
 * so it is never 0), AES-128-CBC, the key wrapped with the phone
 * certificate's RSA key (PKCS#1 v1.5). A phone certificate with another key
 * type is refused with a clear error.
 *
 * Errors: 0, or -1 with a sentence in err.
 */
#ifndef OPENCAPF_PKI_SGN_H
#define OPENCAPF_PKI_SGN_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "pki/pki.h"

struct sgn_file;

struct pki_sgn_opts {
	int hash_alg;               /* SGN_HASH_SHA1 (default) or SGN_HASH_SHA512 */
	enum pki_name_form names;   /* PKI_NAME_RFC4514 (default, the document's) or _VENDOR */
	const char *filename;       /* FILENAME: the signed file's own name (required) */
	uint32_t timestamp;         /* 0 = now */
};
void pki_sgn_opts_default(struct pki_sgn_opts *o);

/* Append the `.sgn` of content[0..len) to out. */
int pki_sgn_sign(const struct pki_sgn_opts *o, X509 *signer, EVP_PKEY *key, const uint8_t *content,
		 size_t len, struct buf *out, char *err, size_t errlen);

/* Append the `.enc.sgn` of xml[0..len) encrypted to phone's RSA key to out. */
int pki_sgn_encrypt(const struct pki_sgn_opts *o, X509 *signer, EVP_PKEY *key, X509 *phone,
		    const uint8_t *xml, size_t len, struct buf *out, char *err, size_t errlen);

/* Check a decoded file (sgn_check, then its serial number against cert's,
 * then the signature with cert's RSA key). 0 when it verifies. */
int pki_sgn_verify(const struct sgn_file *f, X509 *cert, char *err, size_t errlen);

/* Decrypt a decoded `.enc.sgn` with the phone's private key, checking the
 * plaintext hash; the plaintext is appended to xml. */
int pki_sgn_decrypt(const struct sgn_file *f, EVP_PKEY *phone_key, struct buf *xml, char *err,
		    size_t errlen);

#endif
