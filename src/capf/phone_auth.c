/*
 * phone_auth.c: the phone's AUTH_RESPONSE: which certificate it
 * authenticates with (the server's AUTH_TYPE, else the phone's own
 * preference), the signatures over it (SHA-1 SIGNED_DATA, SHA-512
 * SHA2_SIGNED_DATA), the optional SUDI_DATA, and the deliberately broken
 * forms the misbehave option asks for. phone_session.c decides when to
 * send it.
 *
 * The elements go in ascending tag order, as the public phone
 * implementation sends them (the unit test compares recorded bytes).
 */
#include "capf/phone_session_internal.h"

#include <openssl/rand.h>
#include <string.h>

/* The certificate (and key) the phone authenticates with, or none. */
struct auth_choice {
	X509 *cert;
	EVP_PKEY *key;
	uint8_t wrap_type;
};

static void choose_lsc_then_mic(struct phone_session *ps, struct auth_choice *c, int lsc_first)
{
	int use_lsc = lsc_first ? ps->lsc != NULL : ps->mic == NULL;

	if (use_lsc && ps->lsc) {
		*c = (struct auth_choice){ ps->lsc, ps->lsc_key, CAPF_CERT_LSC };
	} else if (ps->mic) {
		uint8_t type = ps->opts.mic_wrapped_as_lsc ? CAPF_CERT_LSC : CAPF_CERT_MIC;
		*c = (struct auth_choice){ ps->mic, ps->mic_key, type };
	}
}

static void choose_auth_cert(struct phone_session *ps, uint8_t auth_type, struct auth_choice *c)
{
	memset(c, 0, sizeof *c);
	if (auth_type == CAPF_AUTH_LSC)
		choose_lsc_then_mic(ps, c, 1);
	else if (auth_type == CAPF_AUTH_MIC)
		choose_lsc_then_mic(ps, c, 0);
	else if (ps->opts.auth_cert == PHONE_AUTH_LSC_FIRST)
		choose_lsc_then_mic(ps, c, 1);
	else if (ps->opts.auth_cert == PHONE_AUTH_MIC_FIRST)
		choose_lsc_then_mic(ps, c, 0);
}

/* Everything AUTH_RESPONSE carries about the certificate; the message
 * points into these buffers until it is encoded. */
struct auth_proof {
	uint8_t *der;
	size_t derlen;
	struct buf wrapped, sha2, sudi;
	uint8_t *sig1, *sig512, *sudi1, *sudi512;
	size_t sig1len, sig512len, sudi1len, sudi512len;
};

static void proof_free(struct auth_proof *p)
{
	OPENSSL_free(p->der);
	OPENSSL_free(p->sig1);
	OPENSSL_free(p->sig512);
	OPENSSL_free(p->sudi1);
	OPENSSL_free(p->sudi512);
	buf_free(&p->wrapped);
	buf_free(&p->sha2);
	buf_free(&p->sudi);
}

static int proof_build_sudi(struct phone_session *ps, const struct auth_choice *c,
			    struct auth_proof *p)
{
	struct capf_sudi s;
	uint32_t sid = ps->out.session_id;

	if (pki_sudi_sign(c->key, sid, p->der, p->derlen, CAPF_HASH_SHA1, &p->sudi1, &p->sudi1len) < 0)
		return -1;
	/* An RSA-512 key cannot carry a SHA-512 hash: such a phone sends no SUDI. */
	if (pki_sudi_sign(c->key, sid, p->der, p->derlen, CAPF_HASH_SHA512, &p->sudi512,
			  &p->sudi512len) < 0)
		return 0;
	s = (struct capf_sudi){ p->der, p->derlen, p->sudi1, p->sudi1len, p->sudi512, p->sudi512len };
	capf_sudi_build(&p->sudi, &s);
	return p->sudi.failed ? -1 : 0;
}

static int proof_build(struct phone_session *ps, const struct auth_choice *c, struct auth_proof *p)
{
	memset(p, 0, sizeof *p);
	if (pki_cert_to_der(c->cert, &p->der, &p->derlen) < 0)
		return -1;
	capf_cert_wrap(&p->wrapped, p->der, p->derlen, c->wrap_type);
	if (pki_capf_auth_sign(c->key, ps->devname, p->der, p->derlen, &p->sig1, &p->sig1len,
			       &p->sig512, &p->sig512len) < 0)
		return -1;
	if (p->sig512) /* absent for RSA-512 keys */
		capf_sha2_signed_build(&p->sha2, CAPF_HASH_SHA512, p->sig512, p->sig512len);
	if (ps->opts.sudi && proof_build_sudi(ps, c, p) < 0)
		return -1;
	return p->wrapped.failed || p->sha2.failed ? -1 : 0;
}

/* The AUTH_RESPONSE elements in ascending tag order. */
static void auth_response_fill(struct phone_session *ps, struct capf_msg *m,
			       const struct auth_proof *p, int with_cert)
{
	static const uint8_t success = CAPF_REASON_UPDATE_CERTIFICATE, version = CAPF_VERSION;

	capf_msg_add_u8(m, CAPF_TAG_REASON, &success);
	if (with_cert) {
		capf_msg_add(m, CAPF_TAG_CERTIFICATE, p->wrapped.data, p->wrapped.len);
		capf_msg_add(m, CAPF_TAG_SIGNED_DATA, p->sig1, p->sig1len);
	}
	capf_msg_add_u8(m, CAPF_TAG_VERSION, &version);
	capf_msg_add(m, CAPF_TAG_PASSWORD, ps->auth_string, strlen(ps->auth_string) + 1);
	capf_msg_add(m, CAPF_TAG_DEVICE_NAME, ps->devname, strlen(ps->devname) + 1);
	if (with_cert && p->sudi.len)
		capf_msg_add(m, CAPF_TAG_SUDI_DATA, p->sudi.data, p->sudi.len);
	if (with_cert && p->sha2.len)
		capf_msg_add(m, CAPF_TAG_SHA2_SIGNED_DATA, p->sha2.data, p->sha2.len);
}

static void put_garbage(struct buf *out)
{
	uint8_t junk[64];

	if (RAND_bytes(junk, sizeof junk) != 1)
		memset(junk, 0xA5, sizeof junk);
	if (junk[0] == CAPF_PROTOCOL_ID)
		junk[0] ^= 0xFF;
	buf_put(out, junk, sizeof junk);
}

/* Encode AUTH_RESPONSE, spoiled as the misbehave option says. */
static int auth_response_encode(struct phone_session *ps, struct capf_msg *m, struct buf *out)
{
	struct buf tmp;
	size_t body;
	int rc;

	if (ps->opts.misbehave == PHONE_MISBEHAVE_GARBAGE) {
		put_garbage(out);
		return 0;
	}
	if (ps->opts.misbehave == PHONE_MISBEHAVE_WRONG_SESSION_ID)
		m->session_id = ps->out.session_id + 1;
	if (ps->opts.misbehave == PHONE_MISBEHAVE_OVERSIZE_ELEMENT)
		capf_msg_add(m, CAPF_TAG_REASON_INFO, "x", 1);
	buf_init(&tmp);
	rc = phone_emit(ps, m, &tmp);
	if (rc == 0) {
		body = tmp.len - CAPF_HEADER_LEN;
		if (ps->opts.misbehave == PHONE_MISBEHAVE_BAD_PROTOCOL_ID)
			tmp.data[0] = CAPF_PROTOCOL_ID ^ 0xFF;
		if (ps->opts.misbehave == PHONE_MISBEHAVE_TRUNCATED)
			buf_set_u16(&tmp, 6, (uint16_t)(body + 64 > 0xFFFF ? 0xFFFF : body + 64));
		if (ps->opts.misbehave == PHONE_MISBEHAVE_OVERSIZE_ELEMENT)
			buf_set_u16(&tmp, tmp.len - 3, 0x0400); /* the last element's length */
		buf_put(out, tmp.data, tmp.len);
	}
	buf_free(&tmp);
	return rc;
}

int phone_send_auth_response(struct phone_session *ps, uint8_t auth_type, struct buf *out)
{
	struct auth_choice c;
	struct auth_proof p;
	struct capf_msg m;
	int rc = 0;

	choose_auth_cert(ps, auth_type, &c);
	memset(&p, 0, sizeof p);
	if (c.cert && proof_build(ps, &c, &p) < 0)
		rc = phone_protocol_error(ps, "cannot sign the authentication data with the %s key",
					  c.cert == ps->lsc ? "LSC" : "MIC");
	if (rc == 0) {
		capf_msg_init(&m, CAPF_CMD_AUTH_RESPONSE, ps->out.session_id);
		auth_response_fill(ps, &m, &p, c.cert != NULL);
		rc = auth_response_encode(ps, &m, out);
	}
	proof_free(&p);
	return rc;
}
