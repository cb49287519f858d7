/*
 * fuzz_signer.c: one request frame, as a compromised network-facing process
 * could send it, through the signer's whole answer (signer_policy.h):
 * framing, payload parsing, the LSC policy on certificate templates, the
 * classification of messages, signing. Keys: an EC CAPF key in slot 0 and
 * an RSA SAST key in slot 1, made once in memory; loading by path finds no
 * folder to load from. Every frame but a key generation (which would make a
 * key per input) goes through the administrators' door's answer too
 * (signer_handle_admin): its own-certificate check, and SAVE_KEY, which finds
 * no keys folder to write to.
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/log.h"
#include "pki/pki.h"
#include "signer/signer_msg.h"
#include "signer/signer_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct signer_keys *keys_once(void)
{
	static struct signer_keys k;
	static int ready;
	struct signer_limits lim = { 0, 0, 1825 };
	struct pki_org org = { "Example", "Voice", "Wellington", "WGN", "NZ" };
	char err[ERRLEN];
	EVP_PKEY *ec, *rsa;
	X509 *cert;

	if (ready)
		return &k;
	log_set_level(LOG_LVL_ERR); /* refusals are the point: no warning per input */
	if (signer_keys_init(&k, "/nonexistent/opencapf-fuzz/keys", NULL, 0, &lim, err, sizeof err) < 0 ||
	    !(ec = pki_key_generate(PKI_KEY_EC, 256, err, sizeof err)) ||
	    !(cert = pki_capf_cert_create(ec, &org, 3650, err, sizeof err)) ||
	    !(rsa = pki_key_generate(PKI_KEY_RSA, 1024, err, sizeof err)))
		abort();
	signer_keys_add(&k, "/keys/capf-1.key", SIGNER_ROLE_CAPF, ec, cert);
	signer_keys_add(&k, "/keys/sast-1.key", SIGNER_ROLE_SAST, rsa, NULL);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
	X509_free(cert);
	ready = 1;
	return &k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf resp;

	buf_init(&resp);
	signer_handle(keys_once(), data, size, &resp);
	if (resp.len < 8)
		abort(); /* every request gets a whole response frame */
	if (size < 2 || data[1] != SIGNER_GENERATE_KEY) {
		signer_handle_admin(keys_once(), data, size, &resp);
		if (resp.len < 8)
			abort();
	}
	buf_free(&resp);
	return 0;
}
