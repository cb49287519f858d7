/*
 * cmd_trust_export.c: `opencapf trust export`: a trust store in the forms
 * peers read, written by the administration core (admin/trust_export.c);
 * here the options, the settings text on standard output and the counts
 * and warnings on standard error.
 */
#include "cmd/opencapf/cmd_trust.h"

#include <stdlib.h>
#include <string.h>

#include "admin/trust_export.h"
#include "common/util.h"
#include "store/store.h"

static const char export_usage[] =
	"usage: opencapf trust export STORE [--format FORMAT] [--out PATH]\n\n"
	"Write a trust store for a peer that checks phone certificates (802.1X server,\n"
	"VPN head-end, SIP proxy, CallManager-style TLS):\n"
	"  --format pem  one plain PEM bundle (default), to standard output or --out FILE\n"
	"  --format dir  a hashed directory in c_rehash layout: one PEM per certificate,\n"
	"                HASH.N links to them (CApath, ca_path) and ca.pem, the bundle;\n"
	"                --out DIR is required\n"
	"  --format freeradius|ocserv|kamailio|asa\n"
	"                the hashed directory plus DIR/ca.pem (plain PEM bundle; asa also one file\n"
	"                per certificate in DIR/asa/), and on standard output the server settings\n"
	"                that use them (docs/servers.md); --out DIR is required.\n"
	"  --out PATH    where to write. A directory replaces an earlier export there; any\n"
	"                other non-empty folder is refused.\n";

static void report_export(const char *store_name, const char *format, const char *out,
			  const struct admin_trust_export *x)
{
	if (x->skipped)
		fprintf(stderr, "opencapf: warning: %d certificate%s of %s skipped: cannot encode %s\n", x->skipped,
			x->skipped == 1 ? "" : "s", store_name, x->skipped == 1 ? "it" : "them");
	if (out && !strcmp(format, "pem"))
		fprintf(stderr, "%d certificate%s of %s written to %s\n", x->count, x->count == 1 ? "" : "s",
			store_name, out);
	else if (out)
		fprintf(stderr, "%d certificate%s of %s written to %s (c_rehash layout, bundle in ca.pem; "
			"%d CRL%s in crl.pem, with the certificates in ca-crl.pem)\n", x->count,
			x->count == 1 ? "" : "s", store_name, out, x->crls, x->crls == 1 ? "" : "s");
	if (x->count == 0)
		fprintf(stderr, "opencapf: warning: %s holds no certificate%s\n", store_name,
			strcmp(format, "pem") && strcmp(format, "dir") ? ": the server will trust no phone" : "");
}

static int run_export(struct store *st, const char *store_name, const char *format, const char *out)
{
	struct admin_trust_export x;
	char err[ERRLEN];
	int rc = admin_trust_export(st, store_name, format, out, &x, err, sizeof err);

	if (rc > 0)
		cli_error("%s (see 'opencapf trust list')", err);
	else if (rc < 0)
		cli_error("trust export: %s", err);
	else {
		report_export(store_name, format, out, &x);
		if (x.text.len && fwrite(x.text.data, 1, x.text.len, stdout) != x.text.len)
			rc = -1;
		if (fflush(stdout) != 0)
			rc = -1;
	}
	buf_free(&x.text);
	return rc;
}

int trust_export(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'F' }, { "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *format = "pem";
	struct store *st;
	int help = 0, c, rc;

	while ((c = cli_getopt(cli, argc, argv, "", opts, export_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		if (c == 'F')
			format = optarg;
		if (c == 'o')
			out = optarg;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 1, 1, export_usage) < 0)
		return EXIT_USAGE;
	if (!admin_trust_export_known(format)) {
		cli_error("trust export: --format must be pem, dir, freeradius, ocserv, kamailio or asa, not '%s'",
			  text_valid(format) ? format : "?");
		return EXIT_USAGE;
	}
	if (admin_trust_export_needs_dir(format) && !out) {
		cli_error("trust export: --format %s needs --out DIR", format);
		return EXIT_USAGE;
	}
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	rc = run_export(st, argv[optind], format, out);
	store_close(st);
	return rc < 0 || rc > 0 ? EXIT_FAIL : EXIT_OK;
}
