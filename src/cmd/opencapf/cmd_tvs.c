/*
 * cmd_tvs.c: `opencapf tvs add|remove|list|cert`: the certificates the Trust
 * Verification Service vouches for, with their roles and TTL
 * (store/store_tvs.h), and the certificate the TVS listener presents.
 * Changes take effect at once: the daemon looks every request up in the
 * database.
 */
#include "cmd/opencapf/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "admin/service_certs.h"
#include "admin/tvs_entries.h"
#include "pki/pki.h"
#include "store/store_tvs.h"
#include "tvs/tvs_server.h"
#include "wire/roles.h"

static const char add_usage[] =
	"usage: opencapf tvs add CERT --role ROLE [--role ROLE]... [--ttl SECONDS] [--note TEXT]\n\n"
	"Make TVS vouch for the certificates in CERT (PEM, one or more, or DER): a phone\n"
	"asking about one gets STATUS valid with these roles and TTL. Adding a known\n"
	"certificate again replaces its roles and TTL.\n\n"
	"  --role ROLE     SAST, CCM, CCM+TFTP, TFTP, CAPF, APP-SERVER, TVS or a number 0..255\n"
	"  --ttl SECONDS   how long phones may cache the answer (default: the daemon's\n"
	"                  [tvs] ttl, 86400)\n"
	"  --note TEXT     a remark shown by 'tvs list'\n";

static int parse_add(struct cli *cli, int argc, char **argv, struct admin_tvs_entry *a, int *help)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "ttl", required_argument, NULL, 't' },
		{ "note", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	uint16_t role;
	int c;

	a->ttl = -1;
	while ((c = cli_getopt(cli, argc, argv, "", opts, add_usage, help)) != -1) {
		switch (c) {
		case 'r':
			if (role_from_name(optarg, &role) < 0 || role > 255) {
				cli_error("tvs add: unknown role '%s' (SAST, CCM, CCM+TFTP, TFTP, CAPF, APP-SERVER, "
					  "TVS or a number 0..255)", optarg);
				return -1;
			}
			if (a->nroles == TVS_ROLES_MAX) {
				cli_error("tvs add: at most %d roles", TVS_ROLES_MAX);
				return -1;
			}
			a->roles[a->nroles++] = role;
			break;
		case 't':
			errno = 0;
			a->ttl = strtoll(optarg, &end, 10);
			if (!isdigit((unsigned char)*optarg) || *end || errno || a->ttl > (int64_t)UINT32_MAX) {
				cli_error("tvs add: --ttl must be a number of seconds from 0 to 4294967295");
				return -1;
			}
			break;
		case 'n': a->note = optarg; break;
		default: return -1;
		}
	}
	if (*help)
		return 0;
	if (cli_expect_args(argc, argv, 1, 1, add_usage) < 0)
		return -1;
	if (a->nroles == 0) {
		cli_error("tvs add: give at least one --role");
		fputs(add_usage, stderr);
		return -1;
	}
	return 0;
}

static int tvs_add(struct cli *cli, int argc, char **argv)
{
	struct admin_tvs_entry a = { .nroles = 0 };
	struct admin_tvs_item *items = NULL;
	STACK_OF(X509) *certs;
	struct store *st;
	char err[ERRLEN], roles[256], ttl[32];
	int help = 0, rc = EXIT_FAIL, n = 0;

	if (parse_add(cli, argc, argv, &a, &help) < 0)
		return EXIT_USAGE;
	if (help)
		return EXIT_OK;
	if (!(certs = pki_certs_load(argv[optind], err, sizeof err))) {
		cli_error("tvs add: %s", err);
		return EXIT_FAIL;
	}
	if (cli_open_store(cli, &st) == 0) {
		if (admin_tvs_add(st, cli->actor, certs, &a, &items, &n, err, sizeof err) < 0)
			cli_error("tvs add: %s", err);
		else
			rc = EXIT_OK;
		store_close(st);
	}
	tvs_roles_text(a.roles, a.nroles, roles, sizeof roles);
	snprintf(ttl, sizeof ttl, a.ttl < 0 ? "default" : "%lld", (long long)a.ttl);
	for (int i = 0; i < n; i++)
		printf("%s %s: roles %s, TTL %s\n", items[i].updated ? "updated" : "added", items[i].subject, roles, ttl);
	free(items);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

static const char remove_usage[] =
	"usage: opencapf tvs remove CERT|SHA256\n\n"
	"Stop vouching for a certificate (given as a file, or its SHA-256 fingerprint\n"
	"in hex, with or without colons). TVS answers STATUS invalid from then on.\n";

/* The fingerprints to remove: of every certificate in the file, or the hex given. */
static STACK_OF(X509) *remove_targets(const char *arg, char *sha256, size_t cap)
{
	char err[ERRLEN];
	size_t n = 0;

	for (const char *p = arg; *p && n + 1 < cap; p++)
		if (isxdigit((unsigned char)*p))
			sha256[n++] = (char)tolower((unsigned char)*p);
		else if (*p != ':')
			return pki_certs_load(arg, err, sizeof err);
	sha256[n] = '\0';
	if (n == 64)
		return NULL;
	sha256[0] = '\0';
	return pki_certs_load(arg, err, sizeof err);
}

static int remove_one(struct cli *cli, struct store *st, const char *sha256)
{
	char subject[512], err[ERRLEN];
	int rc = admin_tvs_remove(st, cli->actor, sha256, subject, sizeof subject, err, sizeof err);

	if (rc < 0)
		cli_error("tvs remove: %s", err);
	else if (rc > 0)
		cli_error("tvs remove: TVS does not know %s", sha256);
	else
		printf("removed %s\n", subject);
	return rc == 0 ? 0 : -1;
}

static int tvs_remove(struct cli *cli, int argc, char **argv)
{
	STACK_OF(X509) *certs;
	struct store *st;
	char sha256[80];
	int help = 0, c, failed = 0;

	while ((c = cli_getopt(cli, argc, argv, "", NULL, remove_usage, &help)) != -1)
		if (c == '?')
			return EXIT_USAGE;
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 1, 1, remove_usage) < 0)
		return EXIT_USAGE;
	certs = remove_targets(argv[optind], sha256, sizeof sha256);
	if (!certs && !sha256[0]) {
		cli_error("tvs remove: '%s' is neither a certificate file nor a SHA-256 fingerprint", argv[optind]);
		return EXIT_FAIL;
	}
	if (cli_open_store(cli, &st) < 0) {
		sk_X509_pop_free(certs, X509_free);
		return EXIT_FAIL;
	}
	if (!certs)
		failed = remove_one(cli, st, sha256) < 0;
	for (int i = 0; certs && i < sk_X509_num(certs); i++) {
		char fp[80];

		pki_fingerprint(sk_X509_value(certs, i), "sha256", 0, fp, sizeof fp);
		failed |= remove_one(cli, st, fp) < 0;
	}
	store_close(st);
	sk_X509_pop_free(certs, X509_free);
	return failed ? EXIT_FAIL : EXIT_OK;
}

static const char list_usage[] =
	"usage: opencapf tvs list\n\n"
	"The certificates TVS vouches for: SHA-256 fingerprint, roles, TTL (seconds, or\n"
	"'default' for the daemon's [tvs] ttl), where the entry comes from (service: one\n"
	"of opencapf's own certificates; admin: 'tvs add'), subject and expiry.\n";

static int print_row(const struct tvs_cert_row *r, void *arg)
{
	char roles[256], ttl[24], na[40];
	int *count = arg;

	tvs_roles_text(r->roles, r->nroles, roles, sizeof roles);
	if (r->ttl < 0)
		snprintf(ttl, sizeof ttl, "default");
	else
		snprintf(ttl, sizeof ttl, "%lld", (long long)r->ttl);
	fmt_time_utc(r->not_after, na, sizeof na);
	printf("%s\n  roles    %s\n  ttl      %s\n  source   %s%s%s\n  subject  %s\n  valid to %s%s\n", r->sha256,
	       roles, ttl, r->source, r->note[0] ? ": " : "", r->note, r->subject, na,
	       r->not_after < now_utc() ? " (EXPIRED)" : "");
	(*count)++;
	return 0;
}

static int tvs_list(struct cli *cli, int argc, char **argv)
{
	struct store *st;
	int help = 0, c, count = 0, rc;

	while ((c = cli_getopt(cli, argc, argv, "", NULL, list_usage, &help)) != -1)
		if (c == '?')
			return EXIT_USAGE;
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 0, 0, list_usage) < 0)
		return EXIT_USAGE;
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	rc = store_tvs_each(st, print_row, &count);
	if (rc < 0)
		cli_error("tvs list: %s", store_errmsg(st));
	else
		printf("%d certificate%s known to TVS\n", count, count == 1 ? "" : "s");
	store_close(st);
	return rc < 0 ? EXIT_FAIL : EXIT_OK;
}

static const char cert_usage[] =
	"usage: opencapf tvs cert [--create | --renew] [--days N]\n\n"
	"Print the PEM of the certificate the TVS listener presents (listed in the ITL\n"
	"with role TVS). --create makes one if the state has none (a state from before\n"
	"TVS); --renew replaces it with a new key and certificate. Both publish the ITL\n"
	"again; restart opencapfd to present the new certificate.\n";

static int tvs_cert(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "create", no_argument, NULL, 'c' },
		{ "renew", no_argument, NULL, 'r' },
		{ "days", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct store *st;
	X509 *cert = NULL;
	char err[ERRLEN], *pem = NULL;
	size_t len;
	int help = 0, c, create = 0, renew = 0, days = SERVICE_DAYS_DEFAULT, rc = EXIT_FAIL;

	while ((c = cli_getopt(cli, argc, argv, "", opts, cert_usage, &help)) != -1) {
		if (c == 'c')
			create = 1;
		else if (c == 'r')
			renew = 1;
		else if (c == 'd' && (days = atoi(optarg)) >= 1 && days <= 36500)
			continue;
		else {
			if (c == 'd')
				cli_error("--days must be from 1 to 36500");
			return EXIT_USAGE;
		}
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 0, 0, cert_usage) < 0)
		return EXIT_USAGE;
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	if (renew || (create && service_cert_load(st, SERVICE_TVS, &cert, NULL, err, sizeof err) < 0)) {
		if (service_cert_renew(st, SERVICE_TVS, days, cli->actor, err, sizeof err) < 0) {
			cli_error("tvs cert: %s", err);
			goto out;
		}
	}
	X509_free(cert);
	cert = NULL;
	if (service_cert_load(st, SERVICE_TVS, &cert, NULL, err, sizeof err) < 0) {
		cli_error("%s", err);
		goto out;
	}
	if (pki_cert_to_pem(cert, &pem, &len) < 0) {
		cli_error("tvs cert: cannot encode the certificate");
		goto out;
	}
	fwrite(pem, 1, len, stdout);
	rc = EXIT_OK;
out:
	OPENSSL_free(pem);
	X509_free(cert);
	store_close(st);
	return rc;
}

int cmd_tvs(struct cli *cli, int argc, char **argv)
{
	static const struct cli_command cmds[] = {
		{ "add", tvs_add, "vouch for certificates with roles and a TTL" },
		{ "remove", tvs_remove, "stop vouching for a certificate" },
		{ "list", tvs_list, "the certificates TVS vouches for" },
		{ "cert", tvs_cert, "print (or create, renew) the TVS listener's certificate" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(cli, "tvs", cmds, argc, argv);
}
