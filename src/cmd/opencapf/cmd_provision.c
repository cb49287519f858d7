/*
 * cmd_provision.c: `opencapf phone config NAME [--merge FILE]` (the CAPF
 * part of one phone's configuration file) and `opencapf provision
 * [publish|settings]` (the provisioning folder and the cluster's
 * provisioning settings). The rules are the administration core's
 * (admin/phone_config.c, admin/provision.c); here options and output.
 */
#include "cmd/opencapf/cmd_phone.h"

#include <stdlib.h>
#include <string.h>

#include "admin/itl_file.h"
#include "admin/phone_config.h"
#include "admin/provision.h"

/* ---- phone config ---- */

static const char config_usage[] =
	"usage: opencapf phone config NAME [--merge FILE]\n\n"
	"The CAPF part of the phone's configuration file SEP<MAC>.cnf.xml:\n"
	"deviceSecurityMode, capfAuthMode (0 with no pending operation, else 1 string,\n"
	"2 null string, 3 LSC first, 4 MIC first) and capfList (the CAPF servers of\n"
	"'opencapf provision settings'). Without --merge it prints those elements; with\n"
	"it, FILE (your own SEP<MAC>.cnf.xml, from the PBX's templates) with them\n"
	"replaced or added and every other element untouched. Invalid XML is refused\n"
	"with its line.\n";

static int print_config(struct store *st, const struct phone *p, const char *merge)
{
	struct prov_settings s;
	char err[1400];
	uint8_t *tpl = NULL;
	size_t len = 0;
	struct buf out;
	int rc = -1;

	buf_init(&out);
	if (prov_settings_load(st, &s, err, sizeof err) < 0 ||
	    (merge && read_file(merge, PROV_TEMPLATE_MAX_BYTES + 1, &tpl, &len, err, sizeof err) < 0))
		cli_error("phone config: %s", err);
	else if ((merge ? phone_config_merge(p, &s, merge, tpl, len, &out, err, sizeof err)
			: phone_config_fragment(p, &s, &out, err, sizeof err)) < 0)
		cli_error("phone config: %s", err);
	else
		rc = fwrite(out.data, 1, out.len, stdout) == out.len ? 0 : -1;
	free(tpl);
	buf_free(&out);
	return rc;
}

int phone_config_cmd(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "merge", required_argument, NULL, 'm' }, { NULL, 0, NULL, 0 } };
	const char *merge = NULL;
	char canonical[16];
	struct phone p;
	struct store *st;
	int help = 0, c, rc;

	while ((c = cli_getopt(cli, argc, argv, "", opts, config_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		merge = optarg;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 1, 1, config_usage) < 0)
		return EXIT_USAGE;
	if (devname_normalize(argv[optind], canonical, sizeof canonical) == 0)
		argv[optind] = canonical;
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	rc = store_phone_get(st, argv[optind], &p);
	if (rc > 0)
		cli_error("no phone named %s (see 'opencapf phone list')", text_valid(argv[optind]) ? argv[optind] : "?");
	else if (rc < 0)
		cli_error("phone config: %s", store_errmsg(st));
	else
		rc = print_config(st, &p, merge);
	store_close(st);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}

/* ---- provision publish ---- */

static const char publish_usage[] =
	"usage: opencapf provision [publish] [--dry-run]\n\n"
	"Write the provisioning folder (the TFTP/HTTP folder of the ITL): for every phone\n"
	"with a template TEMPLATES/SEP<MAC>.cnf.xml, the file with its CAPF part merged in\n"
	"and its signature .sgn (SAST/TFTP key). Files are written atomically and only\n"
	"when they changed; a template that cannot be used is reported with its line and\n"
	"the other phones are still published.\n"
	"  --dry-run   say what would be written, write nothing\n";

static int provision_publish(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "dry-run", no_argument, NULL, 'n' }, { NULL, 0, NULL, 0 } };
	struct provision_result r;
	struct store *st;
	char err[1400];
	int help = 0, c, dry_run = 0, rc;

	while ((c = cli_getopt(cli, argc, argv, "", opts, publish_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		dry_run = 1;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 0, 0, publish_usage) < 0)
		return EXIT_USAGE;
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	rc = admin_provision_publish(st, cli->actor, dry_run, &r, err, sizeof err);
	store_close(st);
	if (rc < 0) {
		cli_error("provision: %s", err);
		return EXIT_FAIL;
	}
	if (r.problems.len)
		fwrite(r.problems.data, 1, r.problems.len, stderr);
	printf("%s%zu written, %zu unchanged, %zu without a template, %zu failed\n", dry_run ? "dry run: " : "",
	       r.written, r.unchanged, r.no_template, r.failed);
	rc = r.failed ? EXIT_FAIL : EXIT_OK;
	provision_result_free(&r);
	return rc;
}

/* ---- provision settings ---- */

static const char settings_usage[] =
	"usage: opencapf provision settings [--capf-server HOST[:PORT],...] [--security-mode 1|2|3]\n"
	"                                   [--templates DIR]\n\n"
	"The cluster's provisioning settings; without options, shown.\n"
	"  --capf-server LIST   the CAPF servers phones are told, in order (capfList;\n"
	"                       default: this host, port 3804)\n"
	"  --security-mode N    deviceSecurityMode: 1 non-secure, 2 authenticated (default),\n"
	"                       3 encrypted\n"
	"  --templates DIR      the folder of your SEP<MAC>.cnf.xml files (default DIR/templates)\n";

static void print_prov_settings(const struct prov_settings *s)
{
	printf("capf servers  ");
	for (int i = 0; i < s->ncapf; i++)
		printf("%s%s:%d", i ? ", " : "", s->capf_host[i], s->capf_port[i]);
	printf("\nsecurity mode %d\ntemplates     %s\n", s->security_mode, s->templates);
}

static int provision_settings(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "capf-server", required_argument, NULL, 'c' }, { "security-mode", required_argument, NULL, 'm' },
		{ "templates", required_argument, NULL, 't' }, { NULL, 0, NULL, 0 },
	};
	struct prov_settings_change ch = { 0 };
	struct prov_settings s;
	struct store *st;
	char err[1400];
	int help = 0, c, rc = EXIT_FAIL;

	while ((c = cli_getopt(cli, argc, argv, "", opts, settings_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		if (c == 'c')
			ch.capf = optarg;
		else if (c == 't')
			ch.templates = optarg;
		else if ((ch.security_mode = atoi(optarg)) < 1 || ch.security_mode > 3 || strlen(optarg) != 1) {
			cli_error("--security-mode %s: expected 1, 2 or 3", text_valid(optarg) ? optarg : "?");
			return EXIT_USAGE;
		}
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 0, 0, settings_usage) < 0)
		return EXIT_USAGE;
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	if ((ch.capf || ch.templates || ch.security_mode) &&
	    admin_prov_settings_change(st, cli->actor, &ch, err, sizeof err) < 0)
		cli_error("provision settings: %s", err);
	else if (prov_settings_load(st, &s, err, sizeof err) < 0)
		cli_error("provision settings: %s", err);
	else {
		print_prov_settings(&s);
		rc = EXIT_OK;
	}
	store_close(st);
	return rc;
}

/* ---- provision encrypt ---- */

static const char encrypt_usage[] =
	"usage: opencapf provision encrypt NAME... [--off]\n\n"
	"Publish these phones' configurations encrypted: SEP<MAC>.cnf.xml.enc.sgn,\n"
	"encrypted to the phone's LSC (else its MIC; RSA keys only), and beside it the\n"
	"stub SEP<MAC>.cnf.xml.sgn the phone reads first (provisioning.md §4); never the\n"
	"plain file. It is encrypted again when the phone's certificate changes.\n"
	"  --off   publish them in the clear again\n";

static int provision_encrypt(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "off", no_argument, NULL, 'o' }, { NULL, 0, NULL, 0 } };
	char err[1400], canon[64][16];
	struct store *st;
	int help = 0, c, on = 1, rc = EXIT_OK;

	while ((c = cli_getopt(cli, argc, argv, "", opts, encrypt_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		on = 0;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 1, 64, encrypt_usage) < 0)
		return EXIT_USAGE;
	for (int i = optind; i < argc; i++)
		if (devname_normalize(argv[i], canon[i - optind], sizeof canon[0]) == 0)
			argv[i] = canon[i - optind];
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	if (admin_prov_encrypt(st, cli->actor, (const char *const *)argv + optind, (size_t)(argc - optind), on, err,
			       sizeof err) < 0) {
		cli_error("provision encrypt: %s", err);
		rc = EXIT_FAIL;
	} else
		printf("%d phone%s: configuration %s from the next publish\n", argc - optind,
		       argc - optind == 1 ? "" : "s", on ? "encrypted" : "in the clear");
	store_close(st);
	return rc;
}

/* ---- provision https-cert ---- */

static const char https_usage[] =
	"usage: opencapf provision https-cert [--renew] [--days N]\n\n"
	"The HTTPS provisioning certificate: an EC P-256 key (keys/https.key) and a\n"
	"self-signed certificate (certs/https.pem) for opencapfd's HTTPS file service\n"
	"(6971), listed in every ITL of signer version 1.1 with role TFTP so phones trust\n"
	"it. init makes one; this makes one for an older state, or a new one with\n"
	"--renew, then publishes the ITL. Prints the certificate.\n"
	"  --renew    a new key and certificate even if one exists\n"
	"  --days N   validity (default 1825)\n";

static int provision_https_cert(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "renew", no_argument, NULL, 'r' }, { "days", required_argument, NULL, 'd' }, { NULL, 0, NULL, 0 },
	};
	char err[1400], path[4300];
	struct store *st;
	int help = 0, c, renew = 0, days = 0, rc = EXIT_FAIL;

	while ((c = cli_getopt(cli, argc, argv, "", opts, https_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		if (c == 'r')
			renew = 1;
		else if ((days = atoi(optarg)) < 1 || days > 36500) {
			cli_error("--days %s: expected 1 to 36500", text_valid(optarg) ? optarg : "?");
			return EXIT_USAGE;
		}
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 0, 0, https_usage) < 0 || cli_open_store(cli, &st) < 0)
		return EXIT_USAGE;
	if (admin_https_cert_create(st, cli->actor, days, renew, err, sizeof err) < 0 ||
	    itl_publish_from_state(st, err, sizeof err) < 0)
		cli_error("provision https-cert: %s", err);
	else {
		snprintf(path, sizeof path, "%s/%s", store_dir(st), PROV_HTTPS_CERT);
		printf("%s (key %s/%s)\n", path, store_dir(st), PROV_HTTPS_KEY);
		rc = EXIT_OK;
	}
	store_close(st);
	return rc;
}

int cmd_provision(struct cli *cli, int argc, char **argv)
{
	static const struct cli_command cmds[] = {
		{ "publish", provision_publish, "write the provisioning folder (the default)" },
		{ "settings", provision_settings, "CAPF servers, security mode, templates folder" },
		{ "encrypt", provision_encrypt, "publish phones' configurations encrypted to their certificate" },
		{ "https-cert", provision_https_cert, "the EC certificate of the HTTPS file service (role TFTP in a 1.1 ITL)" },
		{ NULL, NULL, NULL },
	};

	if (argc < 2 || (argv[1][0] == '-' && strcmp(argv[1], "-h") && strcmp(argv[1], "--help")))
		return provision_publish(cli, argc, argv);
	return cli_dispatch(cli, "provision", cmds, argc, argv);
}
