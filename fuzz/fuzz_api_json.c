/*
 * fuzz_api_json.c: fuzz target for the admin API's request bodies
 * (src/api/api_input.c): any bytes are parsed as JSON the way the API
 * does, and every body checker sees the result. Each must either accept
 * values within their bounds or refuse with an error sentence; never crash,
 * leak or read out of bounds.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_input.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must_say_why(int rc, const char *err)
{
	if (rc < 0 && err[0] == '\0')
		abort(); /* a refusal must say why */
}

static void check_phone(const json_t *o, int creating)
{
	struct phone p;
	char err[ERRLEN] = "";
	int rc;

	phone_defaults(&p, "SEP001122334455");
	rc = api_input_phone(o, creating, &p, err, sizeof err);
	must_say_why(rc, err);
	if (rc == 0 && (!devname_valid(p.name) || p.rsa_bits < 512 || p.rsa_bits > 4096 ||
			(p.ec_bits != 256 && p.ec_bits != 384 && p.ec_bits != 521) ||
			strlen(p.auth_string) > 10 || (p.auth == AUTH_STRING && !p.auth_string[0])))
		abort(); /* accepted settings stay within their bounds */
}

static void check_schedule(const json_t *o)
{
	struct api_schedule s;
	enum capf_op op;
	int64_t deadline;
	char err[ERRLEN] = "";
	int rc = api_input_schedule(o, &s, err, sizeof err);

	must_say_why(rc, err);
	if (rc == 0) {
		if (!s.all && phone_filter_is_empty(&s.filter.f))
			abort(); /* an empty filter needs "all" */
		api_schedule_free(&s);
	}
	err[0] = '\0';
	must_say_why(api_input_operation(o, &op, &deadline, err, sizeof err), err);
}

static void check_capf(const json_t *o)
{
	struct api_regen g;
	enum pki_key_kind kind;
	STACK_OF(X509) *chain = NULL, *certs = NULL;
	const char *note;
	X509 *cert = NULL;
	char err[ERRLEN] = "";
	int new_key = 0, bits, force, rc;

	rc = api_input_regenerate(o, &g, err, sizeof err);
	must_say_why(rc, err);
	if (rc == 0 && g.has_key && ((g.kind == PKI_KEY_RSA && g.bits < 2048) || (g.kind == PKI_KEY_EC && g.bits > 384)))
		abort(); /* no weak CAPF key gets through */
	err[0] = '\0';
	must_say_why(api_input_csr(o, &new_key, &kind, &bits, err, sizeof err), err);
	err[0] = '\0';
	rc = api_input_import(o, &cert, &chain, &force, err, sizeof err);
	must_say_why(rc, err);
	if (rc == 0 && !cert)
		abort();
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
	err[0] = '\0';
	must_say_why(api_input_trust_add(o, &certs, &note, err, sizeof err), err);
	sk_X509_pop_free(certs, X509_free);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	struct api_filter f;
	char err[ERRLEN] = "";

	if (!o)
		return 0;
	check_phone(o, 1);
	check_phone(o, 0);
	check_schedule(o);
	check_capf(o);
	if (api_input_filter(o, &f, err, sizeof err) == 0)
		api_filter_free(&f);
	else
		must_say_why(-1, err);
	json_decref(o);
	return 0;
}
