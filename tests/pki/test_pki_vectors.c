/*
 * test_pki_vectors.c: pki against bytes this project did not produce: the
 * LSCs, MIC and signatures recorded between two independent CAPF
 * implementations (tests/vectors/capf-sessions.json, keys/).
 */
#include "pki_test_util.h"
#include "pki/pki.h"
#include "common/util.h"

#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

enum { CMD_AUTH_RESPONSE = 2, CMD_KEY_GENERATE_RESPONSE = 4, CMD_STORE_CERTIFICATE_REQUEST = 9 };
enum { TAG_CERTIFICATE = 4, TAG_SIGNED_DATA = 6, TAG_PUBLIC_KEY = 9, TAG_DEVICE_NAME = 13,
       TAG_SUDI_DATA = 16, TAG_SHA2_SIGNED_DATA = 20 };

static STACK_OF(X509) *one(X509 *x)
{
	STACK_OF(X509) *sk = sk_X509_new_null();

	assert_non_null(sk);
	assert_true(X509_up_ref(x));
	assert_true(sk_X509_push(sk, x) > 0);
	return sk;
}

/* Every LSC the recorded server stored chains to keys/capf.crt, has the
 * documented layout and carries the key the phone generated. */
static void test_session_lscs(void **state)
{
	json_t *root = vec_sessions();
	X509 *capf = vec_cert("keys/capf.crt");
	STACK_OF(X509) *trust = one(capf);
	size_t i;
	json_t *c;
	int seen = 0;

	json_array_foreach(json_object_get(root, "cases"), i, c) {
		struct tmsg store, keygen;
		const uint8_t *val, *der;
		size_t len, derlen;
		const char *dev = json_string_value(json_object_get(c, "device"));
		char err[ERRLEN] = "";
		X509 *lsc, *which = NULL;
		EVP_PKEY *phone;

		if (tmsg_find(c, CMD_STORE_CERTIFICATE_REQUEST, &store) != 0)
			continue;
		seen++;
		assert_int_equal(store.session, json_integer_value(json_object_get(c, "session_id")));
		assert_int_equal(tmsg_elem(&store, TAG_CERTIFICATE, &val, &len), 0);
		unwrap_cert(val, len, &der, &derlen);
		lsc = pki_cert_from_der(der, derlen, err, sizeof err);
		assert_non_null(lsc);

		/* at a time inside its validity: one hour after notBefore */
		assert_int_equal(pki_verify_chain(lsc, trust, cert_time(X509_get0_notBefore(lsc)) + 3600,
						  &which, err, sizeof err), 0);
		assert_ptr_equal(which, capf);
		check_lsc(lsc, dev, capf, 0);

		assert_int_equal(tmsg_find(c, CMD_KEY_GENERATE_RESPONSE, &keygen), 0);
		assert_int_equal(tmsg_elem(&keygen, TAG_PUBLIC_KEY, &val, &len), 0);
		phone = pki_pubkey_from_der(val, len, err, sizeof err);
		assert_non_null(phone);
		assert_int_equal(EVP_PKEY_eq(phone, X509_get0_pubkey(lsc)), 1);

		EVP_PKEY_free(phone);
		tmsg_free(&keygen);
		X509_free(lsc);
		tmsg_free(&store);
	}
	assert_int_equal(seen, 4); /* RSA-2048, EC P-256, RSA-1024 upgrade, install by MIC */
	sk_X509_pop_free(trust, X509_free);
	X509_free(capf);
	json_decref(root);
}

static void test_mic_chains_to_mfg_only(void **state)
{
	X509 *mic = vec_cert("keys/mic.crt");
	X509 *mfg = vec_cert("keys/mfg.crt");
	X509 *capf = vec_cert("keys/capf.crt");
	STACK_OF(X509) *mfgs = one(mfg), *capfs = one(capf), *both = one(capf);
	X509 *which = NULL;
	char err[ERRLEN] = "";
	int64_t at = cert_time(X509_get0_notBefore(mic)) + 86400;

	assert_int_equal(pki_verify_chain(mic, mfgs, at, &which, err, sizeof err), 0);
	assert_ptr_equal(which, mfg);
	assert_int_equal(pki_verify_chain(mic, capfs, at, &which, err, sizeof err), -1);
	assert_string_equal(err, "unknown CA");
	assert_null(which);
	/* with both trusted it picks the right anchor */
	assert_true(X509_up_ref(mfg));
	assert_true(sk_X509_push(both, mfg) > 0);
	assert_int_equal(pki_verify_chain(mic, both, at, &which, err, sizeof err), 0);
	assert_ptr_equal(which, mfg);
	/* and the serial of the README */
	{
		struct pki_cert_info info;
		assert_int_equal(pki_cert_info(mic, &info), 0);
		assert_string_equal(info.serial, "075a85f6e0000000015d");
		assert_string_equal(info.issuer_cn, "Test Manufacturing CA");
	}
	sk_X509_pop_free(both, X509_free);
	sk_X509_pop_free(mfgs, X509_free);
	sk_X509_pop_free(capfs, X509_free);
	X509_free(mic);
	X509_free(mfg);
	X509_free(capf);
}

/* The three TLVs of SUDI_DATA. */
struct sudi {
	const uint8_t *cert, *sig1, *sig3;
	size_t certlen, sig1len, sig3len;
};

static void parse_sudi(const uint8_t *p, size_t len, struct sudi *s)
{
	size_t off = 0;

	memset(s, 0, sizeof *s);
	while (off < len) {
		size_t l;

		assert_true(off + 3 <= len);
		l = get_u16(p + off + 1);
		assert_true(off + 3 + l <= len);
		switch (p[off]) {
		case 0: s->cert = p + off + 3; s->certlen = l; break;
		case 1: s->sig1 = p + off + 3; s->sig1len = l; break;
		case 3: s->sig3 = p + off + 3; s->sig3len = l; break;
		default: fail_msg("unexpected SUDI tag %d", p[off]);
		}
		off += 3 + l;
	}
	assert_non_null(s->cert);
	assert_non_null(s->sig1);
	assert_non_null(s->sig3);
}

static void check_auth_case(const char *title, const char *anchor_file)
{
	json_t *root = vec_sessions();
	json_t *c = vec_case(root, title);
	uint32_t sid = (uint32_t)json_integer_value(json_object_get(c, "session_id"));
	struct tmsg m;
	const uint8_t *val, *der, *sig1, *sha2;
	size_t len, derlen, sig1len, sha2len;
	char devname[64], err[ERRLEN] = "";
	X509 *cert, *sudi_cert, *anchor = vec_cert(anchor_file);
	STACK_OF(X509) *trust = one(anchor);
	EVP_PKEY *pub;
	uint8_t *copy;
	struct sudi s;

	assert_int_equal(tmsg_find(c, CMD_AUTH_RESPONSE, &m), 0);
	assert_int_equal(m.session, sid);
	assert_int_equal(tmsg_elem(&m, TAG_DEVICE_NAME, &val, &len), 0);
	assert_true(len >= 2 && len < sizeof devname && val[len - 1] == 0);
	memcpy(devname, val, len);
	assert_string_equal(devname, json_string_value(json_object_get(c, "device")));

	assert_int_equal(tmsg_elem(&m, TAG_CERTIFICATE, &val, &len), 0);
	unwrap_cert(val, len, &der, &derlen);
	cert = pki_cert_from_der(der, derlen, err, sizeof err);
	assert_non_null(cert);
	pub = X509_get0_pubkey(cert);
	assert_int_equal(pki_verify_chain(cert, trust, cert_time(X509_get0_notBefore(cert)) + 3600, NULL, err,
					  sizeof err), 0);

	assert_int_equal(tmsg_elem(&m, TAG_SIGNED_DATA, &sig1, &sig1len), 0);
	assert_int_equal(tmsg_elem(&m, TAG_SHA2_SIGNED_DATA, &sha2, &sha2len), 0);
	assert_true(sha2len > 3);
	assert_int_equal(sha2[0], 3); /* SHA-512 */
	assert_int_equal(get_u16(sha2 + 1), sha2len - 3);

	assert_int_equal(pki_capf_auth_verify(pub, devname, der, derlen, 1, sig1, sig1len), 1);
	assert_int_equal(pki_capf_auth_verify(pub, devname, der, derlen, 3, sha2 + 3, sha2len - 3), 1);
	/* the wrong hash id for each */
	assert_int_equal(pki_capf_auth_verify(pub, devname, der, derlen, 3, sig1, sig1len), 0);
	assert_int_equal(pki_capf_auth_verify(pub, devname, der, derlen, 1, sha2 + 3, sha2len - 3), 0);
	assert_int_equal(pki_capf_auth_verify(pub, devname, der, derlen, 9, sig1, sig1len), -1);

	/* one byte of the signature */
	copy = malloc(sig1len);
	memcpy(copy, sig1, sig1len);
	copy[sig1len / 2] ^= 0x01;
	assert_int_equal(pki_capf_auth_verify(pub, devname, der, derlen, 1, copy, sig1len), 0);
	free(copy);
	copy = malloc(sha2len - 3);
	memcpy(copy, sha2 + 3, sha2len - 3);
	copy[sha2len - 4] ^= 0x80;
	assert_int_equal(pki_capf_auth_verify(pub, devname, der, derlen, 3, copy, sha2len - 3), 0);
	free(copy);
	/* the device name */
	devname[strlen(devname) - 1] ^= 0x01;
	assert_int_equal(pki_capf_auth_verify(pub, devname, der, derlen, 1, sig1, sig1len), 0);
	assert_int_equal(pki_capf_auth_verify(pub, devname, der, derlen, 3, sha2 + 3, sha2len - 3), 0);
	devname[strlen(devname) - 1] ^= 0x01;
	/* the certificate */
	copy = malloc(derlen);
	memcpy(copy, der, derlen);
	copy[derlen - 10] ^= 0x01;
	assert_int_equal(pki_capf_auth_verify(pub, devname, copy, derlen, 1, sig1, sig1len), 0);
	assert_int_equal(pki_capf_auth_verify(pub, devname, copy, derlen, 3, sha2 + 3, sha2len - 3), 0);
	free(copy);

	/* SUDI: over session id (LE) + SUDI certificate, with the SUDI key */
	assert_int_equal(tmsg_elem(&m, TAG_SUDI_DATA, &val, &len), 0);
	parse_sudi(val, len, &s);
	sudi_cert = pki_cert_from_der(s.cert, s.certlen, err, sizeof err);
	assert_non_null(sudi_cert);
	assert_int_equal(pki_verify_chain(sudi_cert, trust, cert_time(X509_get0_notBefore(sudi_cert)) + 3600,
					  NULL, err, sizeof err), 0);
	pub = X509_get0_pubkey(sudi_cert);
	assert_int_equal(pki_sudi_verify(pub, sid, s.cert, s.certlen, 1, s.sig1, s.sig1len), 1);
	assert_int_equal(pki_sudi_verify(pub, sid, s.cert, s.certlen, 3, s.sig3, s.sig3len), 1);
	assert_int_equal(pki_sudi_verify(pub, sid + 1, s.cert, s.certlen, 1, s.sig1, s.sig1len), 0);
	assert_int_equal(pki_sudi_verify(pub, sid << 24, s.cert, s.certlen, 3, s.sig3, s.sig3len), 0);
	/* the SUDI signature is not the auth signature */
	assert_int_equal(pki_capf_auth_verify(pub, devname, s.cert, s.certlen, 1, s.sig1, s.sig1len), 0);
	copy = malloc(s.sig3len);
	memcpy(copy, s.sig3, s.sig3len);
	copy[0] ^= 0x01;
	assert_int_equal(pki_sudi_verify(pub, sid, s.cert, s.certlen, 3, copy, s.sig3len), 0);
	free(copy);

	X509_free(sudi_cert);
	X509_free(cert);
	sk_X509_pop_free(trust, X509_free);
	X509_free(anchor);
	tmsg_free(&m);
	json_decref(root);
}

static void test_auth_by_lsc(void **state)
{
	check_auth_case("upgrade to RSA-1024 authenticating by existing LSC", "keys/capf.crt");
}

static void test_auth_by_mic(void **state)
{
	check_auth_case("install authenticating by MIC", "keys/mfg.crt");
}

/* The MIC the recorded phone sent is keys/mic.crt, and keys/mic.key signs
 * exactly the bytes the recorded phone sent (our signer vs theirs). */
static void test_mic_signature_reproduced(void **state)
{
	json_t *root = vec_sessions();
	json_t *c = vec_case(root, "install authenticating by MIC");
	X509 *mic = vec_cert("keys/mic.crt");
	EVP_PKEY *key = vec_key("keys/mic.key");
	struct tmsg m;
	const uint8_t *val, *der, *sig1;
	size_t len, derlen, sig1len, l1, l3;
	uint8_t *s1, *s3;
	X509 *sent;
	char err[ERRLEN];

	assert_int_equal(tmsg_find(c, CMD_AUTH_RESPONSE, &m), 0);
	assert_int_equal(tmsg_elem(&m, TAG_CERTIFICATE, &val, &len), 0);
	unwrap_cert(val, len, &der, &derlen);
	sent = pki_cert_from_der(der, derlen, err, sizeof err);
	assert_non_null(sent);
	assert_int_equal(X509_cmp(sent, mic), 0);
	assert_int_equal(tmsg_elem(&m, TAG_SIGNED_DATA, &sig1, &sig1len), 0);
	/* PKCS#1 v1.5 type 1 is deterministic: our signature must be byte-identical */
	assert_int_equal(pki_capf_auth_sign(key, "SEP0011223344AA", der, derlen, &s1, &l1, &s3, &l3), 0);
	assert_int_equal(l1, sig1len);
	assert_memory_equal(s1, sig1, sig1len);
	assert_int_equal(tmsg_elem(&m, TAG_SHA2_SIGNED_DATA, &val, &len), 0);
	assert_int_equal(l3, len - 3);
	assert_memory_equal(s3, val + 3, l3);
	OPENSSL_free(s1);
	OPENSSL_free(s3);
	X509_free(sent);
	X509_free(mic);
	EVP_PKEY_free(key);
	tmsg_free(&m);
	json_decref(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_lscs),
		cmocka_unit_test(test_mic_chains_to_mfg_only),
		cmocka_unit_test(test_auth_by_lsc),
		cmocka_unit_test(test_auth_by_mic),
		cmocka_unit_test(test_mic_signature_reproduced),
	};
	return cmocka_run_group_tests_name("pki-vectors", tests, NULL, NULL);
}
