/*
 * cmd_itl.c: `opencapf itl build|show|publish|signer` and
 * `opencapf ctl build|show`: the signed trust lists phones download over
 * TFTP/HTTP (ITLFile.tlv, CTLFile.tlv), and the SAST/TFTP key that signs
 * them (capf/itl_file.h, capf/itl_show.h, capf/service_certs.h).
 */
#include "cmd/opencapf/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "admin/itl_file.h"
#include "admin/itl_settings.h"
#include "capf/itl_show.h"
#include "admin/service_certs.h"
#include "pki/pki.h"
#include "wire/itl.h"
#include "wire/roles.h"

/* ---- build ---- */

struct build_args {
	struct itl_build_opts o;
	const char *out;
	struct itl_settings s;       /* only its records: --add and --ccm */
};

static int parse_role(const char *what, const char *s, uint16_t *role)
{
	if (role_from_name(s, role) == 0)
		return 0;
	cli_error("%s: unknown role '%s' (SAST, CCM, CCM+TFTP, TFTP, CAPF, APP-SERVER, TVS or a number)", what, s);
	return -1;
}

/* --add ROLE:FILE, --ccm FILE: every certificate of FILE with that role. */
static int add_record(struct build_args *a, const char *opt, const char *role_file)
{
	char err[ERRLEN];

	if (itl_parse_record(role_file, &a->s, err, sizeof err) == 0)
		return 0;
	cli_error("%s %s", opt, err);
	return -1;
}

static int parse_build_opt(struct build_args *a, int c, const char *arg)
{
	char err[ERRLEN];
	uint16_t role;
	char *end;
	unsigned long ts;

	switch (c) {
	case 'o': a->out = arg; return 0;
	case 'v':
		return itl_parse_version(arg, &a->o.version_minor, err, sizeof err) < 0 ? cli_error("--%s", err), -1 : 0;
	case 'd':
		return itl_parse_digest(arg, &a->o.hash_alg, err, sizeof err) < 0 ? cli_error("--%s", err), -1 : 0;
	case 'n':
		return itl_parse_names(arg, &a->o.names, err, sizeof err) < 0 ? cli_error("--%s", err), -1 : 0;
	case 'H': a->o.hash_only = 1; return 0;
	case 'x':
		if (parse_role("--omit", arg, &role) < 0)
			return -1;
		if (role >= 32) {
			cli_error("--omit %s: not one of our records", arg);
			return -1;
		}
		a->o.omit_roles |= UINT32_C(1) << role;
		return 0;
	case 'a': return add_record(a, "--add", arg);
	case 'c': {
		char ccm[4200];

		snprintf(ccm, sizeof ccm, "CCM:%s", arg);
		return add_record(a, "--ccm", ccm);
	}
	case 't':
		errno = 0;
		ts = strtoul(arg, &end, 10);
		if (*arg == '\0' || *end || errno || ts == 0 || ts > UINT32_MAX) {
			cli_error("--timestamp must be a Unix time from 1 to 4294967295, not '%s'", arg);
			return -1;
		}
		a->o.timestamp = (uint32_t)ts;
		return 0;
	default:
		return -1;
	}
}

static const char itl_build_usage[] =
	"usage: opencapf itl build --out FILE [--version 1.0|1.1] [--digest sha1|sha256|sha512]\n"
	"                          [--name-format cucm|rfc4514] [--hash-only] [--omit ROLE]...\n"
	"                          [--add ROLE:CERT]... [--timestamp UNIX]\n\n"
	"Build ITLFile.tlv from the state, signed by the SAST/TFTP key: records for the\n"
	"signer (System Administrator Security Token), CAPF, TVS and TFTP, each with the\n"
	"whole certificate. (The daemon and certificate changes keep DIR/tftp/ITLFile.tlv\n"
	"current by themselves; see 'opencapf itl publish'.)\n\n"
	"  --out FILE          where to write it (atomically)\n"
	"  --version V         SIGNER_VERSION: 1.0 (default), or 1.1 (phones try HTTPS)\n"
	"  --digest D          signature hash: sha1 (default, every phone), sha256, sha512\n"
	"  --name-format F     cucm: CN=..;OU=.. CN first (default), or rfc4514: CN=..,OU=..\n"
	"  --hash-only         CAPF and TVS records carry only the SHA-1 of the certificate,\n"
	"                      as the vendor writes them\n"
	"  --omit ROLE         leave our CAPF, TVS or TFTP record out (to test phones)\n"
	"  --add ROLE:CERT     extra records: the certificates in CERT with role ROLE\n"
	"  --timestamp UNIX    header time (default now), for reproducible files\n";

static const char ctl_build_usage[] =
	"usage: opencapf ctl build --out FILE [--ccm CERT]... [--version 1.0|1.1]\n"
	"                          [--digest sha1|sha256|sha512] [--name-format cucm|rfc4514]\n"
	"                          [--hash-only] [--omit ROLE]... [--add ROLE:CERT]... [--timestamp UNIX]\n\n"
	"Build CTLFile.tlv (the mixed-mode Certificate Trust List) from the state, signed\n"
	"by the SAST/TFTP key: records for the signer (SAST), the CCM certificates given,\n"
	"TFTP and CAPF. Options as for 'opencapf itl build', and\n\n"
	"  --ccm CERT          call-control (CallManager) certificates, role CCM\n";

static int parse_build(struct cli *cli, int argc, char **argv, enum itl_kind kind, struct build_args *a,
		       int *help)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "version", required_argument, NULL, 'v' },
		{ "digest", required_argument, NULL, 'd' },
		{ "name-format", required_argument, NULL, 'n' },
		{ "hash-only", no_argument, NULL, 'H' },
		{ "omit", required_argument, NULL, 'x' },
		{ "add", required_argument, NULL, 'a' },
		{ "ccm", required_argument, NULL, 'c' },
		{ "timestamp", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = kind == ITL_KIND_CTL ? ctl_build_usage : itl_build_usage;
	int c;

	itl_build_opts_default(&a->o);
	a->o.kind = kind;
	while ((c = cli_getopt(cli, argc, argv, "o:", opts, usage, help)) != -1)
		if (c == '?' || parse_build_opt(a, c, optarg) < 0)
			return -1;
	if (*help)
		return 0;
	if (cli_expect_args(argc, argv, 0, 0, usage) < 0)
		return -1;
	if (!a->out) {
		cli_error("%s build: --out FILE is required", kind == ITL_KIND_CTL ? "ctl" : "itl");
		fputs(usage, stderr);
		return -1;
	}
	a->o.extra = a->s.records;
	a->o.nextra = a->s.nrecords;
	return 0;
}

static int build(struct cli *cli, int argc, char **argv, enum itl_kind kind)
{
	struct build_args a = { 0 };
	struct store *st = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	char err[ERRLEN];
	int help = 0, rc = EXIT_USAGE;

	if (parse_build(cli, argc, argv, kind, &a, &help) < 0 || help) {
		rc = help ? EXIT_OK : EXIT_USAGE;
		goto out;
	}
	rc = EXIT_FAIL;
	if (cli_open_store(cli, &st) < 0)
		goto out;
	if (itl_build_from_state(st, &a.o, &data, &len, err, sizeof err) < 0 ||
	    itl_write_atomic(a.out, data, len, err, sizeof err) < 0) {
		cli_error("%s build: %s", kind == ITL_KIND_CTL ? "ctl" : "itl", err);
		goto out;
	}
	printf("%s written: %zu bytes, signer version 1.%d, %s\n", a.out, len, a.o.version_minor,
	       itl_hash_name(a.o.hash_alg));
	rc = EXIT_OK;
out:
	free(data);
	store_close(st);
	itl_settings_free(&a.s);
	return rc;
}

static int itl_build_cmd(struct cli *cli, int argc, char **argv)
{
	return build(cli, argc, argv, ITL_KIND_ITL);
}

static int ctl_build_cmd(struct cli *cli, int argc, char **argv)
{
	return build(cli, argc, argv, ITL_KIND_CTL);
}

/* ---- show ---- */

static const char itl_show_usage[] =
	"usage: opencapf itl show FILE\n\n"
	"Print an ITL file (ours, the vendor's or another tool's) as the vendor's\n"
	"'show itl' does and verify its signature with its SAST record. The last line\n"
	"is 'The ITL file was verified successfully.' or says why not; exit status 1\n"
	"when it does not verify.\n";

static const char ctl_show_usage[] =
	"usage: opencapf ctl show FILE\n\n"
	"Print a CTL file as the vendor's 'show ctl' does and verify its signature.\n";

static int show(struct cli *cli, int argc, char **argv, const char *usage)
{
	uint8_t *data = NULL;
	size_t len = 0;
	char err[ERRLEN];
	int help = 0, c, rc;

	while ((c = cli_getopt(cli, argc, argv, "", NULL, usage, &help)) != -1)
		if (c == '?')
			return EXIT_USAGE;
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 1, 1, usage) < 0)
		return EXIT_USAGE;
	if (read_file(argv[optind], ITL_MAX_FILE + 1, &data, &len, err, sizeof err) < 0) {
		cli_error("%s", err);
		return EXIT_FAIL;
	}
	rc = itl_show(stdout, data, len, err, sizeof err) == 0 ? EXIT_OK : EXIT_FAIL;
	free(data);
	return rc;
}

static int itl_show_cmd(struct cli *cli, int argc, char **argv)
{
	return show(cli, argc, argv, itl_show_usage);
}

static int ctl_show_cmd(struct cli *cli, int argc, char **argv)
{
	return show(cli, argc, argv, ctl_show_usage);
}

/* ---- publish ---- */

static const char publish_usage[] =
	"usage: opencapf itl publish [--tftp-dir DIR]\n\n"
	"Rebuild ITLFile.tlv from the state into the TFTP/HTTP folder (atomically), and\n"
	"make sure TVS knows the current CAPF, TVS and TFTP certificates. This also\n"
	"happens by itself at init and whenever one of those certificates changes.\n\n"
	"  --tftp-dir DIR   use (and remember) this folder from now on (default DIR/tftp)\n";

static int set_tftp_dir(struct store *st, const char *dir)
{
	char abs[4096], cwd[2048];

	if (dir[0] == '/')
		snprintf(abs, sizeof abs, "%s", dir);
	else if (getcwd(cwd, sizeof cwd))
		snprintf(abs, sizeof abs, "%s/%s", cwd, dir);
	else {
		cli_error("cannot resolve %s: %s", dir, strerror(errno));
		return -1;
	}
	if (store_setting_set(st, ITL_SETTING_TFTP_DIR, abs) < 0) {
		cli_error("cannot record the TFTP folder: %s", store_errmsg(st));
		return -1;
	}
	return 0;
}

static int itl_publish_cmd(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tftp-dir", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL;
	struct store *st;
	char err[ERRLEN], where[4096];
	int help = 0, c, rc = EXIT_FAIL;

	while ((c = cli_getopt(cli, argc, argv, "", opts, publish_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		dir = optarg;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 0, 0, publish_usage) < 0)
		return EXIT_USAGE;
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	if (dir && set_tftp_dir(st, dir) < 0)
		goto out;
	if (admin_itl_publish(st, cli->actor, where, sizeof where, err, sizeof err) < 0) {
		cli_error("itl publish: %s", err);
		goto out;
	}
	if (where[0])
		printf("ITL published to %s\n", where);
	rc = EXIT_OK;
out:
	store_close(st);
	return rc;
}

/* ---- signer ---- */

static void print_service_cert(X509 *cert, const char *what)
{
	struct pki_cert_info info;
	char na[40];

	pki_cert_info(cert, &info);
	fmt_time_utc(info.not_after, na, sizeof na);
	printf("%s %s (%s), serial %s, valid until %s\nSHA-256 fingerprint %s\n", what, info.subject, info.key,
	       info.serial, na, info.sha256);
}

static const char signer_usage[] =
	"usage: opencapf itl signer show [--pem]\n"
	"       opencapf itl signer create [--days N]\n"
	"       opencapf itl signer import CERT KEY\n\n"
	"The SAST/TFTP signer: the RSA key that signs ITL and CTL files (record role\n"
	"SAST, and TFTP). init creates one (CN=ITLRECOVERY_<host>); 'create' makes a\n"
	"new one, 'import' uses an existing certificate and key (RSA 512, 1024, 2048 or\n"
	"4096 bits; PEM or DER certificate, PEM key). Both publish the ITL again.\n"
	"Phones holding an ITL signed by the old key refuse a file signed by a new\n"
	"one unless TVS vouches for it: keep the key, or plan the change.\n";

static int signer_show(struct cli *cli, struct store *st, int pem)
{
	X509 *cert;
	char err[ERRLEN], *text = NULL;
	size_t len;

	(void)cli;
	if (service_cert_load(st, SERVICE_SAST, &cert, NULL, err, sizeof err) < 0) {
		cli_error("%s", err);
		return EXIT_FAIL;
	}
	if (pem && pki_cert_to_pem(cert, &text, &len) == 0)
		fwrite(text, 1, len, stdout);
	else
		print_service_cert(cert, "SAST/TFTP signer");
	OPENSSL_free(text);
	X509_free(cert);
	return EXIT_OK;
}

static int signer_import(struct cli *cli, struct store *st, const char *certfile, const char *keyfile)
{
	STACK_OF(X509) *certs;
	EVP_PKEY *key;
	char err[ERRLEN];
	int rc = EXIT_FAIL;

	if (!(certs = pki_certs_load(certfile, err, sizeof err))) {
		cli_error("%s", err);
		return EXIT_FAIL;
	}
	if (!(key = pki_key_load(keyfile, err, sizeof err))) {
		cli_error("%s", err);
	} else if (service_cert_import(st, SERVICE_SAST, sk_X509_value(certs, 0), key, cli->actor, err,
				       sizeof err) < 0) {
		cli_error("itl signer import: %s", err);
	} else {
		print_service_cert(sk_X509_value(certs, 0), "SAST/TFTP signer imported:");
		rc = EXIT_OK;
	}
	EVP_PKEY_free(key);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

static int itl_signer_cmd(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pem", no_argument, NULL, 'p' },
		{ "days", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct store *st;
	const char *verb;
	char err[ERRLEN];
	int help = 0, c, pem = 0, days = SERVICE_DAYS_DEFAULT, rc = EXIT_FAIL;
	X509 *cert = NULL;

	while ((c = cli_getopt(cli, argc, argv, "", opts, signer_usage, &help)) != -1) {
		if (c == 'p')
			pem = 1;
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
	if (cli_expect_args(argc, argv, 1, 3, signer_usage) < 0)
		return EXIT_USAGE;
	verb = argv[optind];
	if ((strcmp(verb, "import") == 0) != (argc - optind == 3) ||
	    (strcmp(verb, "show") && strcmp(verb, "create") && strcmp(verb, "import"))) {
		cli_error("itl signer: expected show, create or import CERT KEY");
		fputs(signer_usage, stderr);
		return EXIT_USAGE;
	}
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	if (strcmp(verb, "show") == 0) {
		rc = signer_show(cli, st, pem);
	} else if (strcmp(verb, "import") == 0) {
		rc = signer_import(cli, st, argv[optind + 1], argv[optind + 2]);
	} else if (service_cert_renew(st, SERVICE_SAST, days, cli->actor, err, sizeof err) < 0) {
		cli_error("itl signer create: %s", err);
	} else if (service_cert_load(st, SERVICE_SAST, &cert, NULL, err, sizeof err) == 0) {
		print_service_cert(cert, "SAST/TFTP signer created:");
		rc = EXIT_OK;
	}
	X509_free(cert);
	store_close(st);
	return rc;
}

/* ---- settings ---- */

static const char settings_usage[] =
	"usage: opencapf itl settings [--version 1.0|1.1] [--digest sha1|sha256|sha512]\n"
	"                             [--name-format cucm|rfc4514] [--hash-only on|off]\n"
	"                             [--add ROLE:CERT]... [--remove FINGERPRINT]...\n\n"
	"How the state's ITL is built, kept for every publish (this command, the API's\n"
	"rebuild and the automatic ones after a certificate changes). Without options\n"
	"it shows them; with options it changes them and publishes the ITL again.\n\n"
	"  --version V        SIGNER_VERSION: 1.1 makes phones try HTTPS (6971) for their\n"
	"                     configuration and accept EC keys; 1.0 (default)\n"
	"  --digest D         signature hash: sha1 (default, every phone), sha256, sha512\n"
	"  --name-format F    cucm: CN=..;OU=.. (default), or rfc4514: CN=..,OU=..\n"
	"  --hash-only on|off CAPF and TVS records carry only the certificate's SHA-1\n"
	"  --add ROLE:CERT    extra records: CCM, APP-SERVER, the HTTPS provisioning\n"
	"                     certificate as TFTP, the TVS of other nodes (repeatable)\n"
	"  --remove FP        drop the extra record(s) whose SHA-256 starts with FP\n";

static void print_itl_settings(const struct itl_settings *s)
{
	printf("version       1.%d\ndigest        %s\nname format   %s\nhash only     %s\n", s->version_minor,
	       itl_digest_name(s->hash_alg), s->names == ITL_NAMES_RFC4514 ? "rfc4514" : "cucm",
	       s->hash_only ? "on" : "off");
	printf("extra records %zu\n", s->nrecords);
	for (size_t i = 0; i < s->nrecords; i++) {
		struct pki_cert_info info;
		const char *role = role_name(s->records[i].role);

		pki_cert_info(s->records[i].cert, &info);
		printf("  %-10s %s  %s\n", role ? role : "?", info.sha256, info.subject);
	}
}

struct settings_args {
	struct itl_settings_change c;
	const char *add[ITL_SETTINGS_MAX_RECORDS], *remove[ITL_SETTINGS_MAX_RECORDS];
	int given;
};

static int settings_opt(struct settings_args *a, int c, const char *arg)
{
	struct itl_settings scratch;
	char err[ERRLEN];

	a->given = 1;
	switch (c) {
	case 'v':
		a->c.version = arg;
		return itl_parse_version(arg, &scratch.version_minor, err, sizeof err) < 0 ? cli_error("--%s", err), -1 : 0;
	case 'd':
		a->c.digest = arg;
		return itl_parse_digest(arg, &scratch.hash_alg, err, sizeof err) < 0 ? cli_error("--%s", err), -1 : 0;
	case 'n':
		a->c.names = arg;
		return itl_parse_names(arg, &scratch.names, err, sizeof err) < 0 ? cli_error("--%s", err), -1 : 0;
	case 'H':
		if (strcmp(arg, "on") && strcmp(arg, "off")) {
			cli_error("--hash-only %s: expected on or off", text_valid(arg) ? arg : "?");
			return -1;
		}
		a->c.hash_only = strcmp(arg, "on") == 0;
		return 0;
	case 'a':
	case 'r':
		if ((c == 'a' ? a->c.nadd : a->c.nremove) == ITL_SETTINGS_MAX_RECORDS) {
			cli_error("at most %d --add and %d --remove", ITL_SETTINGS_MAX_RECORDS, ITL_SETTINGS_MAX_RECORDS);
			return -1;
		}
		if (c == 'a')
			a->add[a->c.nadd++] = arg;
		else
			a->remove[a->c.nremove++] = arg;
		return 0;
	default:
		return -1;
	}
}

static int itl_settings_show(struct store *st)
{
	struct itl_settings s;
	char err[ERRLEN];

	if (itl_settings_load(st, &s, err, sizeof err) < 0) {
		cli_error("itl settings: %s", err);
		return EXIT_FAIL;
	}
	print_itl_settings(&s);
	itl_settings_free(&s);
	return EXIT_OK;
}

static int itl_settings_cmd(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "version", required_argument, NULL, 'v' }, { "digest", required_argument, NULL, 'd' },
		{ "name-format", required_argument, NULL, 'n' }, { "hash-only", required_argument, NULL, 'H' },
		{ "add", required_argument, NULL, 'a' }, { "remove", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct settings_args a = { .c = { .hash_only = -1 } };
	struct store *st;
	char err[ERRLEN];
	int help = 0, c, rc = EXIT_OK;

	while ((c = cli_getopt(cli, argc, argv, "", opts, settings_usage, &help)) != -1)
		if (c == '?' || settings_opt(&a, c, optarg) < 0)
			return EXIT_USAGE;
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 0, 0, settings_usage) < 0)
		return EXIT_USAGE;
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	a.c.add = a.add;
	a.c.remove = a.remove;
	if (a.given && (c = admin_itl_settings_change(st, cli->actor, &a.c, err, sizeof err)) < 0) {
		cli_error("itl settings: %s%s", c == -2 ? "stored, but the ITL was not published: " : "", err);
		rc = EXIT_FAIL;
	}
	if (rc == EXIT_OK)
		rc = itl_settings_show(st);
	if (rc == EXIT_OK && a.given)
		printf("ITL published with these settings\n");
	store_close(st);
	return rc;
}

int cmd_itl(struct cli *cli, int argc, char **argv)
{
	static const struct cli_command cmds[] = {
		{ "build", itl_build_cmd, "build a signed ITLFile.tlv from the state" },
		{ "show", itl_show_cmd, "print an ITL file like 'show itl' and verify it" },
		{ "publish", itl_publish_cmd, "rebuild ITLFile.tlv into the TFTP/HTTP folder" },
		{ "signer", itl_signer_cmd, "the SAST/TFTP signing key: show, create, import" },
		{ "settings", itl_settings_cmd, "how every publish builds the ITL: version, digest, extra records" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(cli, "itl", cmds, argc, argv);
}

int cmd_ctl(struct cli *cli, int argc, char **argv)
{
	static const struct cli_command cmds[] = {
		{ "build", ctl_build_cmd, "build a signed CTLFile.tlv from the state" },
		{ "show", ctl_show_cmd, "print a CTL file like 'show ctl' and verify it" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(cli, "ctl", cmds, argc, argv);
}
