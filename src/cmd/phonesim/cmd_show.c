/*
 * cmd_show.c: looking at a phone: `show` (what it holds, as text or JSON)
 * and `export` (its current certificate, key and chain as PEM files, e.g.
 * for an 802.1X or VPN client test).
 *
 * "Current" follows the phone's rule (phone-certificates.md §3): the LSC if
 * one is installed, otherwise the MIC.
 */
#include "cmd/phonesim/phonesim.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "pki/pki.h"

/* ---- show ---- */

static const char show_usage[] =
	"usage: phonesim show PHONEDIR [--json]\n\n"
	"Print the phone's name, model, MIC, LSC status and trusted CAPF certificate.\n\n"
	"  --json   one JSON object instead of text\n";

static void text_cert(const char *label, X509 *cert)
{
	struct pki_cert_info i;
	char until[40];

	if (pki_cert_info(cert, &i) < 0) {
		printf("%-12s (unreadable certificate)\n", label);
		return;
	}
	fmt_time_utc(i.not_after, until, sizeof until);
	printf("%-12s %s\n  Issuer:    %s\n  Serial:    %s\n  Not after: %s\n  Key:       %s\n"
	       "  SHA-256:   %s\n", label, i.subject, i.issuer, i.serial, until, i.key, i.sha256);
}

static void show_text(const struct phone_dir *pd)
{
	printf("%-12s %s\n%-12s %s\n", "Name:", pd->name, "Model:", pd->model);
	text_cert("MIC:", pd->mic);
	if (pd->lsc) {
		printf("%-12s Installed\n", "LSC status:");
		text_cert("LSC:", pd->lsc);
	} else {
		printf("%-12s None\n", "LSC status:");
	}
	if (!pd->capf)
		printf("%-12s none (set it with 'phonesim trust')\n", "CAPF:");
	for (int i = 0; pd->capf && i < sk_X509_num(pd->capf); i++)
		text_cert("CAPF:", sk_X509_value(pd->capf, i));
}

static json_t *json_cert(X509 *cert)
{
	struct pki_cert_info i;
	char from[40], until[40];

	if (pki_cert_info(cert, &i) < 0)
		return json_null();
	fmt_time_utc(i.not_before, from, sizeof from);
	fmt_time_utc(i.not_after, until, sizeof until);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "subject", i.subject, "issuer", i.issuer,
			 "serial", i.serial, "not_before", from, "not_after", until, "key", i.key,
			 "sha256", i.sha256);
}

static int show_json(const struct phone_dir *pd)
{
	json_t *root, *lsc, *capf = json_array();
	int rc;

	if (pd->lsc) {
		lsc = json_cert(pd->lsc);
		json_object_set_new(lsc, "status", json_string("Installed"));
	} else {
		lsc = json_pack("{s:s}", "status", "None");
	}
	for (int i = 0; pd->capf && i < sk_X509_num(pd->capf); i++)
		json_array_append_new(capf, json_cert(sk_X509_value(pd->capf, i)));
	root = json_pack("{s:s, s:s, s:o, s:o, s:o}", "name", pd->name, "model", pd->model,
			 "mic", json_cert(pd->mic), "lsc", lsc, "capf", capf);
	if (!root) {
		ps_error("out of memory");
		return -1;
	}
	rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(root);
	return rc;
}

int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct phone_dir pd;
	char err[ERRLEN];
	int c, as_json = 0, rc;

	while ((c = ps_getopt(argc, argv, "", opts, show_usage)) != -1) {
		if (c != 'j')
			return c == 'h' ? PS_EXIT_OK : PS_EXIT_LOCAL;
		as_json = 1;
	}
	if (ps_expect_args(argc, argv, 1, show_usage) < 0)
		return PS_EXIT_LOCAL;
	if (phone_dir_load(argv[optind], &pd, err, sizeof err) < 0) {
		ps_error("%s", err);
		return PS_EXIT_LOCAL;
	}
	rc = PS_EXIT_OK;
	if (as_json)
		rc = show_json(&pd) < 0 ? PS_EXIT_LOCAL : PS_EXIT_OK;
	else
		show_text(&pd);
	phone_dir_free(&pd);
	return rc;
}

/* ---- export ---- */

static const char export_usage[] =
	"usage: phonesim export PHONEDIR --out DIR [--which current|lsc|mic]\n\n"
	"Write the phone's certificate and key as PEM: DIR/cert.pem, DIR/key.pem\n"
	"(mode 0600) and DIR/chain.pem (the certificate, then its issuer when the\n"
	"phone holds it: the manufacturing CA for the MIC, the CAPF certificate for\n"
	"an LSC).\n\n"
	"  --out DIR     output folder (created if missing; required)\n"
	"  --which WHAT  current (default: the LSC if installed, else the MIC), lsc, mic\n";

/* The issuer of `cert` among what the phone holds, or NULL. */
static X509 *issuer_held(const struct phone_dir *pd, X509 *cert)
{
	X509_NAME *want = X509_get_issuer_name(cert);

	if (pd->mfg && X509_NAME_cmp(X509_get_subject_name(pd->mfg), want) == 0)
		return pd->mfg;
	for (int i = 0; pd->capf && i < sk_X509_num(pd->capf); i++)
		if (X509_NAME_cmp(X509_get_subject_name(sk_X509_value(pd->capf, i)), want) == 0)
			return sk_X509_value(pd->capf, i);
	return NULL;
}

static int export_files(const struct phone_dir *pd, const char *dir, X509 *cert, EVP_PKEY *key)
{
	char path[PATH_MAX], err[ERRLEN];
	X509 *chain[2] = { cert, issuer_held(pd, cert) };

	if (mkdir_p(dir, 0755) < 0) {
		ps_error("cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (path_join(path, sizeof path, dir, "key.pem") < 0 || pki_key_save(path, key, err, sizeof err) < 0 ||
	    path_join(path, sizeof path, dir, "cert.pem") < 0 || pki_cert_save_pem(path, cert, err, sizeof err) < 0 ||
	    path_join(path, sizeof path, dir, "chain.pem") < 0 ||
	    certs_save_pem(path, chain, chain[1] ? 2 : 1, err, sizeof err) < 0) {
		ps_error("%s", err);
		return -1;
	}
	return 0;
}

static int pick_cert(const struct phone_dir *pd, const char *which, X509 **cert, EVP_PKEY **key)
{
	if (strcmp(which, "lsc") == 0 || (strcmp(which, "current") == 0 && pd->lsc)) {
		if (!pd->lsc) {
			ps_error("export: %s has no LSC installed", pd->name);
			return -1;
		}
		*cert = pd->lsc;
		*key = pd->lsc_key;
		return 0;
	}
	if (strcmp(which, "mic") == 0 || strcmp(which, "current") == 0) {
		*cert = pd->mic;
		*key = pd->mic_key;
		return 0;
	}
	ps_error("export: --which must be current, lsc or mic, not '%s'", which);
	return -1;
}

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "which", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *which = "current";
	struct phone_dir pd;
	char err[ERRLEN];
	X509 *cert;
	EVP_PKEY *key;
	int c, rc = PS_EXIT_LOCAL;

	while ((c = ps_getopt(argc, argv, "", opts, export_usage)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'w')
			which = optarg;
		else
			return c == 'h' ? PS_EXIT_OK : PS_EXIT_LOCAL;
	}
	if (ps_expect_args(argc, argv, 1, export_usage) < 0)
		return PS_EXIT_LOCAL;
	if (!out) {
		ps_error("export: --out DIR is required");
		return PS_EXIT_LOCAL;
	}
	if (phone_dir_load(argv[optind], &pd, err, sizeof err) < 0) {
		ps_error("%s", err);
		return PS_EXIT_LOCAL;
	}
	if (pick_cert(&pd, which, &cert, &key) == 0 && export_files(&pd, out, cert, key) == 0) {
		printf("exported the %s of %s to %s\n", cert == pd.lsc ? "LSC" : "MIC", pd.name, out);
		rc = PS_EXIT_OK;
	}
	phone_dir_free(&pd);
	return rc;
}
