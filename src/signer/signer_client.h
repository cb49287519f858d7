/*
 * signer_client.h: opencapfd's side of the signer process (signer_proc.h).
 *
 * A client owns the daemon's ends of the signer's socketpairs; a call takes
 * a free channel, writes one request and reads one response, so as many
 * threads sign at once as there are channels. Keys come back as EVP_PKEYs of
 * the built-in provider "opencapf-signer" (signer_provider.c): their public
 * half is real, their private operations (the TLS handshake signature, the
 * RSA key exchange, other messages) go to the signer process, so SSL_CTXs
 * take them like any key. LSCs are signed by a `struct signer` whose
 * sign_cert sends the whole template (SIGN_CERT).
 *
 * signer_client_install routes the process's pki_key_load and
 * signer_local_new through the signer: code that loads a key of the state
 * (the CAPF, TVS and SAST keys, the listeners' key files) gets a signer key,
 * and code that makes a signer over such a key gets the remote one.
 */
#ifndef OPENCAPF_SIGNER_CLIENT_H
#define OPENCAPF_SIGNER_CLIENT_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/types.h>

#include "common/util.h"
#include "pki/pki.h"

struct signer_client;

/* Takes the descriptors. NULL when out of memory. */
struct signer_client *signer_client_new(const int *fds, int n, pid_t pid);
/* Closes the channels (the signer process then exits). */
void signer_client_free(struct signer_client *c);
pid_t signer_client_pid(const struct signer_client *c);

/* One exchange; the payload is a then b. 0 with *status and resp (the
 * signature, or the signer's sentence when status is not SIGNER_OK), or -1
 * when no channel works any more (the signer is gone): err says so. */
int signer_call(struct signer_client *c, uint8_t type, uint8_t purpose, uint8_t slot, const uint8_t *a, size_t alen,
		const uint8_t *b, size_t blen, uint8_t *status, struct buf *resp, char *err, size_t errlen);

/* LOAD_KEY: the signer opens `path` (and checks `cert`, may be NULL); the
 * slot and a provider key over it. */
int signer_client_load(struct signer_client *c, const char *path, X509 *cert, int *slot, EVP_PKEY **key,
		       char *err, size_t errlen);

/* A signer for LSCs over a slot loaded with its CAPF certificate. */
struct signer *signer_remote_new(struct signer_client *c, int slot, X509 *cert);

/* Keys of the provider whose operations go to the signer process. */
struct signer_key_backend;
extern const struct signer_key_backend signer_client_backend;

/* The process-wide hooks (pki.h) over this client; c must outlive every key. */
void signer_client_install(struct signer_client *c);

/* ---- the opencapf command through a running daemon's signer ----
 * (signer_proc.h: the administrators' door, STATE/signer.sock) */

/* A client of one connection to the door; NULL with err when nothing answers there. */
/* On a connection to the door: the signer's welcome read (0), or -1 with
 * err naming its refusal, or saying that nothing came within 5 s. */
int signer_door_welcome(int fd, char *err, size_t errlen);
struct signer_client *signer_door_connect(const char *path, char *err, size_t errlen);
/* The hooks for a command: the keys of keys_dir are loaded, made
 * (pki_key_generate) and saved (pki_key_save of a key made here) by the
 * signer; key files elsewhere are read by the command itself. */
void signer_client_install_admin(struct signer_client *c, const char *keys_dir);
/* GENERATE_KEY: a key of the signer, not yet in any file. */
int signer_client_generate(struct signer_client *c, enum pki_key_kind kind, int bits, EVP_PKEY **key, char *err,
			   size_t errlen);
/* SAVE_KEY of a key from signer_client_generate into a new file of the keys
 * folder: 1, 0 when the key is not one of this client's, -1 with err. */
int signer_client_save(struct signer_client *c, EVP_PKEY *key, const char *path, char *err, size_t errlen);

#endif
