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
#include "capf/itl_show.h"
#include "admin/service_certs.h"
#include "pki/pki.h"
#include "wire/itl.h"
#include "wire/roles.h"

#define MAX_EXTRA 32

/* ---- build ---- */

struct build_args {
	struct itl_build_opts o;
	const char *out;
	struct itl_entry extra[MAX_EXTRA];
	size_t nextra;
};

static void build_args_free(struct build_args *a)
{
	for (size_t i = 0; i < a->nextra; i++)
		X509_free(a->extra[i].cert);
	a->nextra = 0;
}

static int parse_role(const char *what, const char *s, uint16_t *role)
{
	if (role_from_name(s, role) == 0)
		return 0;
	cli_error("%s: unknown role '%s' (SAST, CCM, CCM+TFTP, TFTP, CAPF, APP-SERVER, TVS or a number)", what, s);
	return -1;
}

/* ROLE:FILE (every certificate of FILE, with that role) */
static int add_extra(struct build_args *a, uint16_t role, const char *file)
{
	char err[ERRLEN];
	STACK_OF(X509) *certs = pki_certs_load(file, err, sizeof err);
	int rc = 0;

	if (!certs) {
		cli_error("%s", err);
		return -1;
	}
	while (sk_X509_num(certs) > 0) {
		X509 *x = sk_X509_shift(certs);

		if (a->nextra == MAX_EXTRA) {
			cli_error("at most %d extra records", MAX_EXTRA);
			X509_free(x);
			rc = -1;
			break;
		}
		a->extra[a->nextra++] = (struct itl_entry){ x, role, 0 };
	}
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

static int parse_add(struct build_args *a, const char *arg)
{
	char role_text[32];
	const char *colon = strchr(arg, ':');
	uint16_t role;

	if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof role_text || !colon[1]) {
		cli_error("--add %s: expected ROLE:FILE, e.g. CCM:callmanager.pem", arg);
		return -1;
	}
	memcpy(role_text, arg, (size_t)(colon - arg));
	role_text[colon - arg] = '\0';
	if (parse_role("--add", role_text, &role) < 0)
		return -1;
	return add_extra(a, role, colon + 1);
}

static int parse_build_opt(struct build_args *a, int c, const char *arg)
{
	uint16_t role;
	char *end;
	unsigned long ts;

	switch (c) {
	case 'o': a->out = arg; return 0;
	case 'v':
		if (strcmp(arg, "1.0") == 0 || strcmp(arg, "1.1") == 0) {
			a->o.version_minor = arg[2] - '0';
			return 0;
		}
		cli_error("--version must be 1.0 or 1.1, not '%s'", arg);
		return -1;
	case 'd':
		if (strcasecmp(arg, "sha1") == 0)
			a->o.hash_alg = ITL_HASH_SHA1;
		else if (strcasecmp(arg, "sha256") == 0)
			a->o.hash_alg = ITL_HASH_SHA256;
		else if (strcasecmp(arg, "sha512") == 0)
			a->o.hash_alg = ITL_HASH_SHA512;
		else {
			cli_error("--digest must be sha1, sha256 or sha512, not '%s'", arg);
			return -1;
		}
		return 0;
	case 'n':
		if (strcmp(arg, "cucm") == 0 || strcmp(arg, "vendor") == 0)
			a->o.names = ITL_NAMES_VENDOR;
		else if (strcmp(arg, "rfc4514") == 0)
			a->o.names = ITL_NAMES_RFC4514;
		else {
			cli_error("--name-format must be cucm or rfc4514, not '%s'", arg);
			return -1;
		}
		return 0;
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
	case 'a': return parse_add(a, arg);
	case 'c': return add_extra(a, ROLE_CCM, arg);
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
	a->o.extra = a->extra;
	a->o.nextra = a->nextra;
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
	build_args_free(&a);
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

int cmd_itl(struct cli *cli, int argc, char **argv)
{
	static const struct cli_command cmds[] = {
		{ "build", itl_build_cmd, "build a signed ITLFile.tlv from the state" },
		{ "show", itl_show_cmd, "print an ITL file like 'show itl' and verify it" },
		{ "publish", itl_publish_cmd, "rebuild ITLFile.tlv into the TFTP/HTTP folder" },
		{ "signer", itl_signer_cmd, "the SAST/TFTP signing key: show, create, import" },
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
