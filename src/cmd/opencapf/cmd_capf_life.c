/*
 * cmd_capf_life.c: `opencapf capf regenerate|csr|import|retire`: replacing
 * the CAPF certificate (a new self-signed one, or one an outside CA signed)
 * and retiring the old one once no phone needs it. The work is in
 * capf/capf_lifecycle.c; this file parses options and tells the
 * administrator what changed and what the phones will do about it
 * (phone-certificates.md §5, §6).
 */
#include "cmd/opencapf/cmd_capf.h"

#include <stdlib.h>
#include <string.h>

#include "admin/capf_lifecycle.h"
#include "common/setting.h"

int capf_parse_days(const char *cmd, const char *s, int *days)
{
	if (setting_int(s, 1, 36500, days) < 0) {
		cli_error("capf %s: --days %s: expected a number of days from 1 to 36500", cmd, s);
		return -1;
	}
	return 0;
}

int capf_parse_key(const char *cmd, const char *s, enum pki_key_kind *kind, int *bits)
{
	char err[ERRLEN];

	if (capf_key_spec_parse(s, kind, bits, err, sizeof err) < 0) {
		cli_error("capf %s: --key %s", cmd, err);
		return -1;
	}
	return 0;
}

static const char third_party_advice[] =
	"Advice: first run the whole feature with the self-signed CAPF certificate, then switch to\n"
	"the third-party one. Phones reset when they load the changed ITL: do it in a maintenance window.\n";

/* What changed, and what it means for the phones. */
static void print_change(const struct capf_change *c, const char *what)
{
	printf("%s: %s (%s), valid until %s\n", what, c->new_cn, c->new_key, c->new_not_after);
	printf("SHA-256 fingerprint %s\n", c->new_sha256);
	if (!c->new_self_signed)
		printf("issued by %s; LSCs issued from now on chain to it\n", c->new_issuer);
	if (c->chain_added)
		printf("%d issuing CA placement%s added to the trust stores\n", c->chain_added,
		       c->chain_added == 1 ? "" : "s");
	printf("previous certificate %s stays in its trust stores, marked \"previous\"\n", c->old_cn);
	if (c->retired_cn[0])
		printf("the older previous certificate %s was retired (removed from the trust stores)%s\n",
		       c->retired_cn,
		       c->retired_lsc_phones ? " although phones still held LSCs from it (--force)" : "");
	if (c->itl_published)
		printf("ITL rebuilt with the new CAPF certificate\n");
	else
		fprintf(stderr, "opencapf: warning: the ITL was not rebuilt: %s\n", c->itl_err);
	if (c->files_err[0])
		fprintf(stderr, "opencapf: warning: %s\n", c->files_err);
	fprintf(stderr, "opencapf: warning: phones reset when they load the changed ITL; %d phone%s hold%s LSCs "
			"issued by the previous CAPF certificate %s: they keep working while it stays trusted; "
			"re-issue them with 'opencapf capf rollover schedule'\n", c->old_lsc_phones,
		c->old_lsc_phones == 1 ? "" : "s", c->old_lsc_phones == 1 ? "s" : "", c->old_cn);
}

/* ---- regenerate ---- */

static const char regenerate_usage[] =
	"usage: opencapf capf regenerate [--key SPEC] [--days N] [--force]\n\n"
	"Replace the CAPF certificate with a new key and a new self-signed certificate\n"
	"(same organisation fields, new CN=CAPF-xxxxxxxx). The current certificate becomes\n"
	"\"previous\": it stays in every trust store it was in, so the LSCs it issued keep\n"
	"working until they are re-issued ('opencapf capf rollover'). The old key stays in\n"
	"keys/. The ITL is rebuilt, and a running opencapfd switches to the new certificate\n"
	"within seconds without a restart. Phones reset when they load the new ITL: do this\n"
	"in a maintenance window.\n\n"
	"  --key SPEC  rsa:2048, rsa:3072, rsa:4096, ec:p256 or ec:p384 (default: like the current key)\n"
	"  --days N    validity in days (default 1825)\n"
	"  --force     retire an older previous certificate even while phones hold LSCs from it\n";

int capf_regenerate(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' }, { "days", required_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 },
	};
	struct capf_regen_params p = { .kind = PKI_KEY_RSA };
	struct capf_change change;
	struct store *st;
	char err[ERRLEN];
	int help = 0, c, rc;

	while ((c = cli_getopt(cli, argc, argv, "", opts, regenerate_usage, &help)) != -1) {
		if (c == '?' || (c == 'k' && capf_parse_key("regenerate", optarg, &p.kind, &p.bits) < 0) ||
		    (c == 'd' && capf_parse_days("regenerate", optarg, &p.days) < 0))
			return EXIT_USAGE;
		if (c == 'f')
			p.force = 1;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 0, 0, regenerate_usage) < 0)
		return EXIT_USAGE;
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	rc = capf_ca_regenerate(st, &p, cli->actor, &change, err, sizeof err);
	if (rc < 0)
		cli_error("capf regenerate: %s", err);
	else
		print_change(&change, "CAPF certificate regenerated");
	store_close(st);
	return rc < 0 ? EXIT_FAIL : EXIT_OK;
}

/* ---- csr ---- */

static const char csr_usage[] =
	"usage: opencapf capf csr [--new-key [--key SPEC]] [--out FILE]\n\n"
	"A certificate signing request for an outside CA, with the CAPF subject and the\n"
	"extensions a CAPF certificate needs (basicConstraints CA:TRUE, pathlen:0;\n"
	"keyUsage digitalSignature, keyCertSign). The CA must keep them: 'capf import'\n"
	"refuses a certificate without them, because phones would fail the TLS connection.\n\n"
	"  --new-key   for a new key (kept in keys/ until its certificate is imported) and a\n"
	"              new CAPF-xxxxxxxx subject; default: the current key and subject\n"
	"  --key SPEC  the new key: rsa:2048, rsa:3072, rsa:4096, ec:p256, ec:p384\n"
	"              (default: like the current key)\n"
	"  --out FILE  write the request there (default: standard output)\n";

struct csr_opts {
	int new_key;
	enum pki_key_kind kind;
	int bits;
	const char *out;
};

static int write_csr(const char *out, const char *pem, size_t len)
{
	char err[ERRLEN];

	if (!out) {
		fwrite(pem, 1, len, stdout);
		return 0;
	}
	if (write_file_atomic(out, pem, len, 0644, err, sizeof err) < 0) {
		cli_error("capf csr: %s", err);
		return -1;
	}
	fprintf(stderr, "certificate signing request written to %s\n", out);
	return 0;
}

int capf_csr(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "new-key", no_argument, NULL, 'n' }, { "key", required_argument, NULL, 'k' },
		{ "out", required_argument, NULL, 'o' }, { NULL, 0, NULL, 0 },
	};
	struct csr_opts o = { .kind = PKI_KEY_RSA };
	struct store *st;
	char err[ERRLEN], subject[512] = "", *pem = NULL;
	size_t len;
	int help = 0, c, rc = EXIT_FAIL;

	while ((c = cli_getopt(cli, argc, argv, "", opts, csr_usage, &help)) != -1) {
		if (c == '?' || (c == 'k' && capf_parse_key("csr", optarg, &o.kind, &o.bits) < 0))
			return EXIT_USAGE;
		if (c == 'n')
			o.new_key = 1;
		if (c == 'o')
			o.out = optarg;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 0, 0, csr_usage) < 0)
		return EXIT_USAGE;
	if (o.bits && !o.new_key) {
		cli_error("capf csr: --key needs --new-key (the current key cannot change)");
		return EXIT_USAGE;
	}
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	if (capf_ca_csr(st, o.new_key, o.kind, o.bits, cli->actor, &pem, &len, subject, sizeof subject, err,
			sizeof err) < 0)
		cli_error("capf csr: %s", err);
	else if (write_csr(o.out, pem, len) == 0) {
		fprintf(stderr, "subject %s (%s key)\n", subject, o.new_key ? "new" : "current");
		fprintf(stderr, "Have the CA sign it as a CA certificate: basicConstraints critical CA:TRUE, "
				"pathlen:0; keyUsage critical digitalSignature, keyCertSign. Then: opencapf capf "
				"import CERT --chain CA.pem\n%s", third_party_advice);
		rc = EXIT_OK;
	}
	OPENSSL_free(pem);
	store_close(st);
	return rc;
}

/* ---- import ---- */

static const char import_usage[] =
	"usage: opencapf capf import CERT [--chain FILE] [--force]\n\n"
	"Make a certificate an outside CA issued for the CAPF key (see 'capf csr') the\n"
	"current CAPF certificate. It must match the current key or the key of\n"
	"'capf csr --new-key', and carry basicConstraints CA:TRUE, pathlen:0 and keyUsage\n"
	"digitalSignature, keyCertSign (refused otherwise: phones would fail TLS). The\n"
	"issuing CA certificates (--chain, or further certificates in CERT) go into the\n"
	"trust stores that hold the CAPF certificate (CAPF-trust and CallManager-trust\n"
	"at least); without them the issuer must already be in CAPF-trust. The previous\n"
	"certificate stays trusted, marked \"previous\"; LSCs issued afterwards chain to\n"
	"the outside CA. The ITL is rebuilt and a running opencapfd switches by itself.\n\n"
	"  --chain FILE  the issuing CA certificate(s), PEM bundle or DER\n"
	"  --force       retire an older previous certificate even while phones hold LSCs from it\n";

/* CERT's first certificate is the CAPF certificate; the rest join the chain. */
static int load_import(const char *cert_file, const char *chain_file, X509 **cert, STACK_OF(X509) **chain)
{
	STACK_OF(X509) *certs = NULL;
	char err[ERRLEN];

	if (!(certs = pki_certs_load(cert_file, err, sizeof err)) ||
	    !(*chain = chain_file ? pki_certs_load(chain_file, err, sizeof err) : sk_X509_new_null())) {
		cli_error("capf import: %s", err);
		sk_X509_pop_free(certs, X509_free);
		return -1;
	}
	capf_import_split(certs, cert, *chain);
	return 0;
}

int capf_import(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "chain", required_argument, NULL, 'c' }, { "force", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 },
	};
	STACK_OF(X509) *chain = NULL;
	struct capf_change change;
	const char *chain_file = NULL;
	struct store *st;
	X509 *cert = NULL;
	char err[ERRLEN];
	int help = 0, c, force = 0, rc = EXIT_FAIL;

	while ((c = cli_getopt(cli, argc, argv, "", opts, import_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		if (c == 'c')
			chain_file = optarg;
		if (c == 'f')
			force = 1;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 1, 1, import_usage) < 0)
		return EXIT_USAGE;
	if (load_import(argv[optind], chain_file, &cert, &chain) < 0)
		return EXIT_FAIL;
	if (cli_open_store(cli, &st) == 0) {
		if (capf_ca_import(st, cert, chain, force, cli->actor, &change, err, sizeof err) < 0) {
			cli_error("capf import: %s", err);
		} else {
			print_change(&change, "CAPF certificate imported");
			fputs(third_party_advice, stderr);
			rc = EXIT_OK;
		}
		store_close(st);
	}
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

/* ---- retire ---- */

static const char retire_usage[] =
	"usage: opencapf capf retire [FINGERPRINT] [--force]\n\n"
	"Retire the previous CAPF certificate (or the one with this SHA-256 fingerprint,\n"
	"8 hex digits or more): remove it from every trust store; it stays on record as\n"
	"\"retired\" and its key stays in keys/. Refused while phones still hold LSCs it\n"
	"issued ('opencapf capf rollover status' lists them): they would fail TLS with\n"
	"call control and \"Invalid LSC\" with CAPF.\n\n"
	"  --force  retire it anyway (recorded in the audit log with the phones left behind)\n";

int capf_retire(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
	struct capf_retire_result r;
	struct store *st;
	char err[ERRLEN];
	int help = 0, c, force = 0, rc;

	while ((c = cli_getopt(cli, argc, argv, "", opts, retire_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		force = 1;
	}
	if (help)
		return EXIT_OK;
	if (argc - optind > 1) {
		cli_error("capf retire: expected at most one fingerprint, got %d arguments", argc - optind);
		fputs(retire_usage, stderr);
		return EXIT_USAGE;
	}
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	rc = capf_ca_retire(st, optind < argc ? argv[optind] : NULL, force, cli->actor, &r, err, sizeof err);
	if (rc < 0) {
		cli_error("capf retire: %s", err);
	} else {
		printf("retired %s (SHA-256 %s): removed from %d trust store%s\n", r.cn, r.sha256, r.stores,
		       r.stores == 1 ? "" : "s");
		if (r.forced)
			fprintf(stderr, "opencapf: warning: %d phone%s still hold%s LSCs from it: they fail TLS with "
					"call control until they get a new LSC\n", r.lsc_phones,
				r.lsc_phones == 1 ? "" : "s", r.lsc_phones == 1 ? "s" : "");
		if (!r.itl_published)
			fprintf(stderr, "opencapf: warning: the ITL was not rebuilt: %s\n", r.itl_err);
	}
	store_close(st);
	return rc < 0 ? EXIT_FAIL : EXIT_OK;
}
