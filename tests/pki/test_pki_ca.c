/*
 * test_pki_ca.c: the CAPF certificate and the LSCs issued with it: layout
 * (extensions, criticality, serial, algorithm, validity), chains and their
 * failures in TLS-alert words, the signer's refusals and concurrent signing.
 */
#include "pki_test_util.h"
#include "pki/pki.h"
#include "common/util.h"

#include <openssl/x509v3.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAYS 1825

struct ca {
	EVP_PKEY *key;
	X509 *cert;
	struct signer *signer;
};
static struct ca rsa_ca, ec_ca;
static EVP_PKEY *phone_rsa, *phone_ec, *phone_ec384;
static struct pki_org org;

static int make_ca(struct ca *ca, enum pki_key_kind kind, int bits)
{
	char err[ERRLEN] = "";

	ca->key = pki_key_generate(kind, bits, err, sizeof err);
	if (!ca->key)
		return -1;
	ca->cert = pki_capf_cert_create(ca->key, &org, DAYS, err, sizeof err);
	if (!ca->cert) {
		fprintf(stderr, "capf cert: %s\n", err);
		return -1;
	}
	ca->signer = signer_local_new(ca->cert, ca->key);
	return ca->signer ? 0 : -1;
}

static int setup(void **state)
{
	char err[ERRLEN] = "";

	if (pki_org_parse("O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ", &org, err, sizeof err) != 0)
		return -1;
	if (make_ca(&rsa_ca, PKI_KEY_RSA, 2048) || make_ca(&ec_ca, PKI_KEY_EC, 256))
		return -1;
	phone_rsa = pki_key_generate(PKI_KEY_RSA, 1024, err, sizeof err);
	phone_ec = pki_key_generate(PKI_KEY_EC, 256, err, sizeof err);
	phone_ec384 = pki_key_generate(PKI_KEY_EC, 384, err, sizeof err);
	return phone_rsa && phone_ec && phone_ec384 ? 0 : -1;
}

static void free_ca(struct ca *ca)
{
	signer_free(ca->signer);
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
}

static int teardown(void **state)
{
	free_ca(&rsa_ca);
	free_ca(&ec_ca);
	EVP_PKEY_free(phone_rsa);
	EVP_PKEY_free(phone_ec);
	EVP_PKEY_free(phone_ec384);
	return 0;
}

static STACK_OF(X509) *one(X509 *x)
{
	STACK_OF(X509) *sk = sk_X509_new_null();

	assert_non_null(sk);
	assert_true(X509_up_ref(x));
	assert_true(sk_X509_push(sk, x) > 0);
	return sk;
}

static void check_capf_cert(struct ca *ca, int sig_nid)
{
	X509 *x = ca->cert;
	char cn[64], text[512], want[512];
	regex_t re;
	BASIC_CONSTRAINTS *bc;
	int crit = -1;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	const ASN1_OCTET_STRING *skid;
	int64_t nb, na, now = (int64_t)time(NULL);

	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_int_equal(pki_name_entry(X509_get_subject_name(x), NID_commonName, cn, sizeof cn), 0);
	assert_int_equal(regcomp(&re, "^CAPF-[0-9a-f]{8}$", REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regexec(&re, cn, 0, NULL, 0), 0);
	regfree(&re);
	/* CN first in the encoding, as the vendor and the vectors do */
	assert_int_equal(pki_name_text(X509_get_subject_name(x), PKI_NAME_RFC4514, text, sizeof text), 0);
	snprintf(want, sizeof want, "CN=%s,OU=Voice,O=Example,L=Wellington,ST=WGN,C=NZ", cn);
	assert_string_equal(text, want);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
	assert_int_equal(X509_verify(x, ca->key), 1);
	assert_int_equal(pki_cert_key_match(x, ca->key), 1);

	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_int_equal(crit, 1);
	assert_true(bc->ca);
	assert_non_null(bc->pathlen);
	assert_int_equal(ASN1_INTEGER_get(bc->pathlen), 0);
	BASIC_CONSTRAINTS_free(bc);

	assert_int_equal(ext_critical(x, NID_key_usage), 1);
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN);

	skid = X509_get0_subject_key_id(x);
	assert_non_null(skid);
	assert_int_equal(X509_pubkey_digest(x, EVP_sha1(), md, &mdlen), 1);
	assert_int_equal(ASN1_STRING_length(skid), (int)mdlen);
	assert_memory_equal(ASN1_STRING_get0_data(skid), md, mdlen);
	assert_int_equal(ext_critical(x, NID_subject_key_identifier), 0);
	assert_int_equal(X509_get_ext_count(x), 3);

	check_serial16(x);
	assert_int_equal(X509_get_signature_nid(x), sig_nid);

	nb = cert_time(X509_get0_notBefore(x));
	na = cert_time(X509_get0_notAfter(x));
	assert_true(nb <= now && nb >= now - 300);
	assert_int_equal(na - nb, (int64_t)DAYS * 86400);
}

static void test_capf_cert_rsa(void **state)
{
	check_capf_cert(&rsa_ca, NID_sha256WithRSAEncryption);
}

static void test_capf_cert_ec(void **state)
{
	check_capf_cert(&ec_ca, NID_ecdsa_with_SHA256);
}

static void test_capf_cert_serials_differ(void **state)
{
	char err[ERRLEN];
	X509 *a = pki_capf_cert_create(ec_ca.key, &org, 30, err, sizeof err);
	X509 *b = pki_capf_cert_create(ec_ca.key, NULL, 30, err, sizeof err);
	char cn[64];

	assert_non_null(a);
	assert_non_null(b);
	check_serial16(a);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(a), X509_get0_serialNumber(b)), 0);
	/* no organisation: the subject is the CN alone */
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(b)), 1);
	assert_int_equal(pki_name_entry(X509_get_subject_name(b), NID_commonName, cn, sizeof cn), 0);
	assert_int_equal(strncmp(cn, "CAPF-", 5), 0);
	X509_free(a);
	X509_free(b);

	err[0] = '\0';
	assert_null(pki_capf_cert_create(ec_ca.key, &org, 0, err, sizeof err));
	assert_non_null(strstr(err, "days"));
	assert_null(pki_capf_cert_create(ec_ca.key, &org, -5, err, sizeof err));
	assert_null(pki_capf_cert_create(NULL, &org, 30, err, sizeof err));
}

/* pki_lsc_issue_der (the server's path, the key's bits set directly): the
 * same layout, and the key in it is exactly the phone's SubjectPublicKeyInfo. */
static void check_der_issue(struct ca *ca, EVP_PKEY *phone, const char *dev)
{
	char err[ERRLEN] = "";
	uint8_t *der = NULL, *spki = NULL, *want = NULL;
	size_t len = 0, spki_len, want_len;
	X509 *back;

	if (pki_lsc_issue_der(ca->signer, dev, phone, 365, &der, &len, err, sizeof err) < 0)
		fail_msg("pki_lsc_issue_der: %s", err);
	assert_non_null(back = pki_cert_from_der(der, len, err, sizeof err));
	check_lsc(back, dev, ca->cert, 1);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(back), phone), 1);
	assert_int_equal(X509_verify(back, X509_get0_pubkey(ca->cert)), 1);
	assert_int_equal(pki_pubkey_to_der(X509_get0_pubkey(back), &spki, &spki_len), 0);
	assert_int_equal(pki_pubkey_to_der(phone, &want, &want_len), 0);
	assert_int_equal(spki_len, want_len);
	assert_memory_equal(spki, want, want_len);
	{
		uint8_t *none = (uint8_t *)"x";
		size_t none_len = 1;

		assert_int_equal(pki_lsc_issue_der(ca->signer, "SEP 1", phone, 365, &none, &none_len, err, sizeof err),
				 -1);
		assert_null(none);
		assert_int_equal(none_len, 0);
	}
	OPENSSL_free(spki);
	OPENSSL_free(want);
	OPENSSL_free(der);
	X509_free(back);
}

static void issue_and_check(struct ca *ca, EVP_PKEY *phone)
{
	char err[ERRLEN] = "";
	const char *dev = "SEP0011223344CC";
	X509 *lsc = pki_lsc_issue(ca->signer, dev, phone, 365, err, sizeof err);
	STACK_OF(X509) *trust = one(ca->cert);
	X509 *which = NULL;
	int64_t nb, na, now = (int64_t)time(NULL);
	char vendor[512], want[512], cn[64];

	if (!lsc)
		fail_msg("pki_lsc_issue: %s", err);
	check_lsc(lsc, dev, ca->cert, 1);
	check_der_issue(ca, phone, dev);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(lsc), phone), 1);
	assert_int_equal(X509_get_ext_count(lsc), 5); /* BC, KU, EKU, SAN, AKI: nothing else */
	assert_int_equal(pki_name_text(X509_get_subject_name(lsc), PKI_NAME_VENDOR, vendor, sizeof vendor), 0);
	assert_string_equal(vendor, "CN=SEP0011223344CC;OU=Voice;O=Example;L=Wellington;ST=WGN;C=NZ");
	pki_name_entry(X509_get_subject_name(ca->cert), NID_commonName, cn, sizeof cn);
	assert_int_equal(pki_name_text(X509_get_issuer_name(lsc), PKI_NAME_VENDOR, vendor, sizeof vendor), 0);
	snprintf(want, sizeof want, "CN=%s;OU=Voice;O=Example;L=Wellington;ST=WGN;C=NZ", cn);
	assert_string_equal(vendor, want);

	nb = cert_time(X509_get0_notBefore(lsc));
	na = cert_time(X509_get0_notAfter(lsc));
	assert_true(nb <= now && nb >= now - 300);
	assert_int_equal(na - nb, 365 * 86400);

	assert_int_equal(pki_verify_chain(lsc, trust, 0, &which, err, sizeof err), 0);
	assert_ptr_equal(which, ca->cert);
	assert_int_equal(pki_verify_chain(lsc, trust, nb + 100 * 86400, NULL, err, sizeof err), 0);
	assert_int_equal(pki_verify_chain(lsc, trust, na + 86400, NULL, err, sizeof err), -1);
	assert_string_equal(err, "certificate expired");
	assert_int_equal(pki_verify_chain(lsc, trust, nb - 86400, NULL, err, sizeof err), -1);
	assert_string_equal(err, "certificate not yet valid");
	/* the LSC is not signed by the other CAPF */
	{
		STACK_OF(X509) *other = one(ca == &rsa_ca ? ec_ca.cert : rsa_ca.cert);
		assert_int_equal(pki_verify_chain(lsc, other, 0, NULL, err, sizeof err), -1);
		assert_string_equal(err, "unknown CA");
		sk_X509_pop_free(other, X509_free);
	}
	/* a flipped bit in the signature */
	{
		uint8_t *der;
		size_t len;
		X509 *bent;

		assert_int_equal(pki_cert_to_der(lsc, &der, &len), 0);
		der[len - 8] ^= 0x01;
		bent = pki_cert_from_der(der, len, err, sizeof err);
		assert_non_null(bent);
		assert_int_equal(pki_verify_chain(bent, trust, 0, NULL, err, sizeof err), -1);
		assert_string_equal(err, "bad certificate signature");
		X509_free(bent);
		OPENSSL_free(der);
	}
	sk_X509_pop_free(trust, X509_free);
	X509_free(lsc);
}

static void test_lsc_rsa_ca(void **state)
{
	issue_and_check(&rsa_ca, phone_rsa);
	issue_and_check(&rsa_ca, phone_ec);
}

static void test_lsc_ec_ca(void **state)
{
	issue_and_check(&ec_ca, phone_rsa);
	issue_and_check(&ec_ca, phone_ec384);
}

/* An LSC asked to outlive its CAPF certificate ends when the CAPF does. */
static void test_lsc_clipped_to_issuer(void **state)
{
	char err[ERRLEN];
	X509 *lsc = pki_lsc_issue(ec_ca.signer, "SEP0011223344CD", phone_ec, DAYS + 1000, err, sizeof err);

	assert_non_null(lsc);
	assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(lsc), X509_get0_notAfter(ec_ca.cert)), 0);
	X509_free(lsc);
	lsc = pki_lsc_issue(ec_ca.signer, "SEP0011223344CD", phone_ec, DAYS - 10, err, sizeof err);
	assert_non_null(lsc);
	assert_true(ASN1_TIME_compare(X509_get0_notAfter(lsc), X509_get0_notAfter(ec_ca.cert)) < 0);
	X509_free(lsc);
}

static void test_lsc_bad_input(void **state)
{
	char err[ERRLEN];
	X509 *lsc;
	GENERAL_NAMES *san;

	assert_null(pki_lsc_issue(rsa_ca.signer, "", phone_rsa, 365, err, sizeof err));
	assert_null(pki_lsc_issue(rsa_ca.signer, "SEP 001122", phone_rsa, 365, err, sizeof err));
	assert_null(pki_lsc_issue(rsa_ca.signer, NULL, phone_rsa, 365, err, sizeof err));
	assert_null(pki_lsc_issue(rsa_ca.signer, "SEP0011223344CC", NULL, 365, err, sizeof err));
	assert_null(pki_lsc_issue(rsa_ca.signer, "SEP0011223344CC", phone_rsa, 0, err, sizeof err));
	assert_null(pki_lsc_issue(NULL, "SEP0011223344CC", phone_rsa, 365, err, sizeof err));
	/* configuration syntax in a name stays a name: one SAN URI, the whole text */
	lsc = pki_lsc_issue(rsa_ca.signer, "SEP1,URI:evil,critical", phone_rsa, 365, err, sizeof err);
	assert_non_null(lsc);
	san = X509_get_ext_d2i(lsc, NID_subject_alt_name, NULL, NULL);
	assert_int_equal(sk_GENERAL_NAME_num(san), 1);
	assert_string_equal((const char *)ASN1_STRING_get0_data(sk_GENERAL_NAME_value(san, 0)->d.ia5),
			    "SEP1,URI:evil,critical");
	GENERAL_NAMES_free(san);
	X509_free(lsc);
}

static void test_signer_refusals(void **state)
{
	char err[ERRLEN] = "";
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	/* a key that is not the certificate's */
	assert_null(signer_local_new(rsa_ca.cert, ec_ca.key));
	assert_null(signer_local_new(rsa_ca.cert, NULL));

	X509_set_version(x, X509_VERSION_3);
	X509_set_pubkey(x, phone_ec);
	X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_ASC, (const unsigned char *)"someone else", -1, -1,
				   0);
	X509_set_issuer_name(x, n);
	X509_set_subject_name(x, n);
	assert_int_equal(rsa_ca.signer->sign_cert(rsa_ca.signer, x, err, sizeof err), -1);
	assert_non_null(strstr(err, "issuer"));
	/* right issuer but a CA */
	X509_set_issuer_name(x, X509_get_subject_name(rsa_ca.cert));
	{
		X509V3_CTX ctx;
		X509_EXTENSION *ext;

		X509V3_set_ctx(&ctx, rsa_ca.cert, x, NULL, NULL, 0);
		ext = X509V3_EXT_nconf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
		assert_non_null(ext);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	assert_int_equal(rsa_ca.signer->sign_cert(rsa_ca.signer, x, err, sizeof err), -1);
	assert_non_null(strstr(err, "CA"));
	X509_NAME_free(n);
	X509_free(x);
	signer_free(NULL);
}

/* Several threads issue through one signer at once. */
#define THREADS 4
#define PER_THREAD 8
static void *issue_many(void *arg)
{
	struct ca *ca = arg;
	long bad = 0;

	for (int i = 0; i < PER_THREAD; i++) {
		char err[ERRLEN];
		X509 *lsc = pki_lsc_issue(ca->signer, "SEP0011223344DD", phone_ec, 30, err, sizeof err);

		if (!lsc || X509_verify(lsc, X509_get0_pubkey(ca->cert)) != 1)
			bad++;
		X509_free(lsc);
	}
	return (void *)bad;
}

static void test_signer_threads(void **state)
{
	pthread_t t[THREADS];

	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, issue_many, i % 2 ? &rsa_ca : &ec_ca), 0);
	for (int i = 0; i < THREADS; i++) {
		void *bad;

		assert_int_equal(pthread_join(t[i], &bad), 0);
		assert_int_equal((long)bad, 0);
	}
}

/* A CAPF issued by another CA: the anchor can be the intermediate alone. */
static void test_partial_chain(void **state)
{
	X509 *mic = vec_cert("keys/mic.crt");
	X509 *mfg = vec_cert("keys/mfg.crt");
	STACK_OF(X509) *trust = one(mfg);
	X509 *which = NULL;
	char err[ERRLEN];

	/* the anchor itself verifies against itself */
	assert_int_equal(pki_verify_chain(mfg, trust, cert_time(X509_get0_notBefore(mic)) + 60, &which, err,
					  sizeof err), 0);
	assert_ptr_equal(which, mfg);
	/* an empty trust list knows no CA */
	sk_X509_pop_free(trust, X509_free);
	trust = sk_X509_new_null();
	assert_int_equal(pki_verify_chain(mic, trust, 0, NULL, err, sizeof err), -1);
	assert_string_equal(err, "unknown CA");
	/* a non-self-signed intermediate as the only anchor: a CAPF whose
	 * certificate another CA (here rsa_ca) signed; its LSCs chain to it alone */
	{
		X509 *inter = pki_capf_cert_create(ec_ca.key, &org, 30, err, sizeof err);
		struct signer *s;
		X509 *lsc;
		STACK_OF(X509) *t2;

		assert_non_null(inter);
		assert_int_equal(X509_set_issuer_name(inter, X509_get_subject_name(rsa_ca.cert)), 1);
		assert_true(X509_sign(inter, rsa_ca.key, EVP_sha256()) > 0);
		assert_int_equal(X509_self_signed(inter, 1), 0);
		s = signer_local_new(inter, ec_ca.key);
		assert_non_null(s);
		lsc = pki_lsc_issue(s, "SEP0011223344EE", phone_ec, 30, err, sizeof err);
		assert_non_null(lsc);
		t2 = one(inter);
		assert_int_equal(pki_verify_chain(lsc, t2, 0, &which, err, sizeof err), 0);
		assert_ptr_equal(which, inter);
		sk_X509_pop_free(t2, X509_free);
		/* the root alone does not do: the intermediate is not given */
		t2 = one(rsa_ca.cert);
		assert_int_equal(pki_verify_chain(lsc, t2, 0, &which, err, sizeof err), -1);
		assert_string_equal(err, "unknown CA");
		sk_X509_pop_free(t2, X509_free);
		X509_free(lsc);
		signer_free(s);
		X509_free(inter);
	}
	sk_X509_free(trust);
	X509_free(mic);
	X509_free(mfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capf_cert_rsa),
		cmocka_unit_test(test_capf_cert_ec),
		cmocka_unit_test(test_capf_cert_serials_differ),
		cmocka_unit_test(test_lsc_rsa_ca),
		cmocka_unit_test(test_lsc_ec_ca),
		cmocka_unit_test(test_lsc_clipped_to_issuer),
		cmocka_unit_test(test_lsc_bad_input),
		cmocka_unit_test(test_signer_refusals),
		cmocka_unit_test(test_signer_threads),
		cmocka_unit_test(test_partial_chain),
	};
	return cmocka_run_group_tests_name("pki-ca", tests, setup, teardown);
}
