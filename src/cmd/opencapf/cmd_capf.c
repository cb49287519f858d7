/*
 * cmd_capf.c: `opencapf capf show|cert`: the CAPF certificate as an
 * administrator reads it, and its PEM for phones, peers and trust exports;
 * and the table of every `capf` subcommand (the others live in
 * cmd_capf_life.c and cmd_rollover.c, see cmd_capf.h).
 */
#include "cmd/opencapf/cmd_capf.h"

#include <string.h>

#include "admin/capf_lifecycle.h"
#include "pki/pki.h"

static int load_current(struct cli *cli, X509 **cert)
{
	struct store *st;
	char err[ERRLEN];
	int rc;

	if (cli_open_store(cli, &st) < 0)
		return -1;
	rc = capf_ca_load(st, cert, NULL, err, sizeof err);
	if (rc < 0)
		cli_error("%s", err);
	store_close(st);
	return rc;
}

/* The previous certificate, if any, and the phones still on it. */
static void print_previous(struct cli *cli)
{
	struct capf_row prev;
	struct pki_cert_info info;
	struct store *st;
	char err[ERRLEN], holders[512];
	X509 *x;

	if (cli_open_store(cli, &st) < 0)
		return;
	if (store_capf_previous(st, &prev) == 0) {
		if ((x = pki_cert_from_der(prev.der, prev.derlen, err, sizeof err)) != NULL &&
		    pki_cert_info(x, &info) == 0 && capf_ca_lsc_holders(st, prev.sha256, holders, sizeof holders) >= 0)
			printf("Previous:     %s (still trusted; LSCs held by %s)\n", info.cn, holders);
		X509_free(x);
		capf_row_free(&prev);
	}
	store_close(st);
}

static const char show_usage[] =
	"usage: opencapf capf show [--state DIR]\n\n"
	"Print the current CAPF certificate: subject, issuer, serial, validity, key,\n"
	"SHA-1 and SHA-256 fingerprints, and the days it has left; and the previous\n"
	"certificate with the phones still holding LSCs from it.\n";

static void print_cert_summary(X509 *cert)
{
	struct pki_cert_info info;
	char nb[40], na[40], sha1[64], sha256[100];
	int64_t days_left;

	pki_cert_info(cert, &info);
	fmt_time_utc(info.not_before, nb, sizeof nb);
	fmt_time_utc(info.not_after, na, sizeof na);
	pki_fingerprint(cert, "sha1", 0, sha1, sizeof sha1);
	pki_fingerprint(cert, "sha256", 0, sha256, sizeof sha256);
	days_left = (info.not_after - now_utc()) / 86400;
	printf("Subject:      %s\n", info.subject);
	printf("Issuer:       %s%s\n", info.issuer, info.self_signed ? " (self-signed)" : "");
	printf("Serial:       %s\n", info.serial);
	printf("Not before:   %s\n", nb);
	printf("Not after:    %s\n", na);
	printf("Key:          %s\n", info.key);
	printf("SHA-1:        %s\n", sha1);
	printf("SHA-256:      %s\n", sha256);
	if (days_left < 0)
		printf("Days left:    EXPIRED %lld days ago: regenerate before issuing LSCs\n",
		       (long long)-days_left);
	else
		printf("Days left:    %lld%s\n", (long long)days_left,
		       days_left < 30 ? " (expiring soon: regenerate before issuing LSCs)" : "");
}

static int capf_show(struct cli *cli, int argc, char **argv)
{
	X509 *cert;
	int help = 0, c;

	while ((c = cli_getopt(cli, argc, argv, "", NULL, show_usage, &help)) != -1)
		if (c == '?')
			return EXIT_USAGE;
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 0, 0, show_usage) < 0)
		return EXIT_USAGE;
	if (load_current(cli, &cert) < 0)
		return EXIT_FAIL;
	print_cert_summary(cert);
	print_previous(cli);
	X509_free(cert);
	return EXIT_OK;
}

static const char cert_usage[] =
	"usage: opencapf capf cert [--state DIR]\n\n"
	"Print the current CAPF certificate in PEM form.\n";

static int capf_cert(struct cli *cli, int argc, char **argv)
{
	X509 *cert;
	char *pem;
	size_t len;
	int help = 0, c;

	while ((c = cli_getopt(cli, argc, argv, "", NULL, cert_usage, &help)) != -1)
		if (c == '?')
			return EXIT_USAGE;
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 0, 0, cert_usage) < 0)
		return EXIT_USAGE;
	if (load_current(cli, &cert) < 0)
		return EXIT_FAIL;
	if (pki_cert_to_pem(cert, &pem, &len) < 0) {
		cli_error("cannot encode the CAPF certificate");
		X509_free(cert);
		return EXIT_FAIL;
	}
	fwrite(pem, 1, len, stdout);
	OPENSSL_free(pem);
	X509_free(cert);
	return EXIT_OK;
}

int cmd_capf(struct cli *cli, int argc, char **argv)
{
	static const struct cli_command cmds[] = {
		{ "show", capf_show, "print the CAPF certificate for people" },
		{ "cert", capf_cert, "print the CAPF certificate's PEM" },
		{ "regenerate", capf_regenerate, "new key and certificate; the old one stays as previous" },
		{ "csr", capf_csr, "certificate signing request for an outside CA" },
		{ "import", capf_import, "make a certificate an outside CA issued the CAPF certificate" },
		{ "rollover", capf_rollover, "status|schedule: move phones to the current certificate" },
		{ "retire", capf_retire, "remove the previous certificate from the trust stores" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(cli, "capf", cmds, argc, argv);
}
