/*
 * cmd_setup.c: the subcommands that make a phone: `mfg-ca create` (a test
 * manufacturing CA), `init` (a phone folder with its MIC) and `trust` (the
 * CAPF certificate the phone accepts).
 *
 * Nothing is overwritten: an existing CA or phone folder is an error, so a
 * test cannot silently lose the keys an earlier step made.
 */
#include "cmd/phonesim/phonesim.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pki/pki.h"

#define MFG_SUBJECT_DEFAULT "CN=Test Manufacturing CA,O=Example"
#define MFG_DAYS_DEFAULT 7300
#define MIC_DAYS_DEFAULT 3650

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static EVP_PKEY *key_from_spec(const char *what, const char *spec)
{
	enum pki_key_kind kind;
	char err[ERRLEN];
	EVP_PKEY *key;
	int bits;

	if (pki_key_parse_spec(spec, &kind, &bits, err, sizeof err) < 0) {
		ps_error("%s: %s", what, err);
		return NULL;
	}
	key = pki_key_generate(kind, bits, err, sizeof err);
	if (!key)
		ps_error("%s: %s", what, err);
	return key;
}

static void print_cert_summary(const char *label, X509 *cert)
{
	struct pki_cert_info info;
	char until[40];

	if (pki_cert_info(cert, &info) < 0)
		return;
	fmt_time_utc(info.not_after, until, sizeof until);
	printf("%s: %s\n  serial %s, %s, valid until %s\n", label, info.subject, info.serial, info.key, until);
}

/* ---- mfg-ca create ---- */

static const char mfg_usage[] =
	"usage: phonesim mfg-ca create DIR [--subject NAME] [--key SPEC] [--days N]\n\n"
	"Create a test manufacturing CA in DIR: mfg.crt and mfg.key (mode 0600).\n\n"
	"  --subject NAME  subject, default \"" MFG_SUBJECT_DEFAULT "\"\n"
	"  --key SPEC      rsa:512..rsa:4096 or ec:p256, ec:p384, ec:p521 (default rsa:2048)\n"
	"  --days N        validity in days (default 7300)\n";

static int write_mfg_ca(const char *dir, X509 *cert, EVP_PKEY *key)
{
	char crt[PATH_MAX], kpath[PATH_MAX], err[ERRLEN];

	if (path_join(crt, sizeof crt, dir, "mfg.crt") < 0 || path_join(kpath, sizeof kpath, dir, "mfg.key") < 0) {
		ps_error("folder name too long: %s", dir);
		return -1;
	}
	if (exists(crt) || exists(kpath)) {
		ps_error("%s already holds a manufacturing CA (mfg.crt/mfg.key); not overwriting it", dir);
		return -1;
	}
	if (mkdir_p(dir, 0755) < 0) {
		ps_error("cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (pki_key_save(kpath, key, err, sizeof err) < 0 || pki_cert_save_pem(crt, cert, err, sizeof err) < 0) {
		ps_error("%s", err);
		return -1;
	}
	return 0;
}

static int mfg_create(const char *dir, const char *subject, const char *spec, int days)
{
	char err[ERRLEN];
	X509_NAME *name = mfg_name_parse(subject, err, sizeof err);
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int rc = PS_EXIT_LOCAL;

	if (!name) {
		ps_error("--subject: %s", err);
		return PS_EXIT_LOCAL;
	}
	key = key_from_spec("--key", spec);
	if (key && !(cert = mfg_ca_create(key, name, days, err, sizeof err)))
		ps_error("%s", err);
	if (cert && write_mfg_ca(dir, cert, key) == 0) {
		print_cert_summary("manufacturing CA", cert);
		rc = PS_EXIT_OK;
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	X509_NAME_free(name);
	return rc;
}

int cmd_mfg_ca(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "subject", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "days", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *subject = MFG_SUBJECT_DEFAULT, *spec = "rsa:2048";
	int days = MFG_DAYS_DEFAULT, c;

	while ((c = ps_getopt(argc, argv, "", opts, mfg_usage)) != -1) {
		switch (c) {
		case 'h': return PS_EXIT_OK;
		case 's': subject = optarg; break;
		case 'k': spec = optarg; break;
		case 'd': if (ps_parse_int("--days", optarg, 1, 36500, &days) < 0) return PS_EXIT_LOCAL; break;
		default: return PS_EXIT_LOCAL;
		}
	}
	if (optind >= argc || strcmp(argv[optind], "create") != 0) {
		ps_error("mfg-ca: expected 'create DIR'");
		fputs(mfg_usage, stderr);
		return PS_EXIT_LOCAL;
	}
	optind++;
	if (ps_expect_args(argc, argv, 1, mfg_usage) < 0)
		return PS_EXIT_LOCAL;
	return mfg_create(argv[optind], subject, spec, days);
}

/* ---- init ---- */

static const char init_usage[] =
	"usage: phonesim init PHONEDIR --name SEPXXXXXXXXXXXX --mfg-ca DIR [--model MODEL]\n"
	"                     [--mic-key SPEC] [--mic-days N]\n\n"
	"Create a phone folder: phone.conf, a MIC (mic.crt, mic.key) issued by the\n"
	"manufacturing CA in DIR, and a copy of its certificate (mfg.crt).\n\n"
	"  --name NAME     device name: SEP + 12 upper-case hex digits (required)\n"
	"  --mfg-ca DIR    folder made by 'phonesim mfg-ca create' (required)\n"
	"  --model MODEL   phone model, default 7962; the MIC CN is CP-MODEL-NAME\n"
	"  --mic-key SPEC  rsa:512..rsa:4096 or ec:p256/p384/p521 (default rsa:2048)\n"
	"  --mic-days N    MIC validity in days (default 3650)\n";

struct init_args {
	const char *dir, *name, *mfg_dir, *model, *mic_spec;
	int mic_days;
};

static int load_mfg(const char *dir, X509 **ca, EVP_PKEY **key)
{
	char crt[PATH_MAX], kpath[PATH_MAX], err[ERRLEN];
	STACK_OF(X509) *certs;

	if (path_join(crt, sizeof crt, dir, "mfg.crt") < 0 || path_join(kpath, sizeof kpath, dir, "mfg.key") < 0)
		return -1;
	certs = pki_certs_load(crt, err, sizeof err);
	if (!certs) {
		ps_error("--mfg-ca: %s (create one with 'phonesim mfg-ca create %s')", err, dir);
		return -1;
	}
	*ca = sk_X509_shift(certs);
	sk_X509_pop_free(certs, X509_free);
	*key = pki_key_load(kpath, err, sizeof err);
	if (!*key) {
		ps_error("--mfg-ca: %s", err);
		return -1;
	}
	if (pki_cert_key_match(*ca, *key) != 1) {
		ps_error("--mfg-ca: %s does not hold the key of %s", kpath, crt);
		return -1;
	}
	return 0;
}

/* "CP-7962-SEP001122334455" (a model given as "CP-7962" is not doubled). */
static void mic_cn(const char *model, const char *name, char *out, size_t outcap)
{
	if (strncmp(model, "CP-", 3) == 0)
		model += 3;
	snprintf(out, outcap, "CP-%s-%s", model, name);
}

static int write_phone(const struct init_args *a, X509 *mic, EVP_PKEY *mic_key, X509 *ca)
{
	char path[PATH_MAX], err[ERRLEN];

	if (mkdir_p(a->dir, 0755) < 0) {
		ps_error("cannot create %s: %s", a->dir, strerror(errno));
		return -1;
	}
	if (path_join(path, sizeof path, a->dir, "mic.key") < 0 || pki_key_save(path, mic_key, err, sizeof err) < 0 ||
	    path_join(path, sizeof path, a->dir, "mic.crt") < 0 || pki_cert_save_pem(path, mic, err, sizeof err) < 0 ||
	    path_join(path, sizeof path, a->dir, "mfg.crt") < 0 || pki_cert_save_pem(path, ca, err, sizeof err) < 0 ||
	    phone_conf_write(a->dir, a->name, a->model, err, sizeof err) < 0) {
		ps_error("%s", err);
		return -1;
	}
	return 0;
}

static int init_phone(const struct init_args *a)
{
	char conf[PATH_MAX], cn[96], err[ERRLEN];
	X509 *ca = NULL, *mic = NULL;
	EVP_PKEY *ca_key = NULL, *mic_key = NULL;
	int rc = PS_EXIT_LOCAL;

	if (path_join(conf, sizeof conf, a->dir, "phone.conf") < 0 || exists(conf)) {
		ps_error("%s is already a phone folder (phone.conf exists); not overwriting it", a->dir);
		return PS_EXIT_LOCAL;
	}
	if (load_mfg(a->mfg_dir, &ca, &ca_key) < 0 || !(mic_key = key_from_spec("--mic-key", a->mic_spec)))
		goto out;
	mic_cn(a->model, a->name, cn, sizeof cn);
	mic = mfg_mic_issue(ca, ca_key, mic_key, cn, a->mic_days, err, sizeof err);
	if (!mic) {
		ps_error("%s", err);
		goto out;
	}
	if (write_phone(a, mic, mic_key, ca) < 0)
		goto out;
	printf("phone %s (model %s) in %s\n", a->name, a->model, a->dir);
	print_cert_summary("MIC", mic);
	rc = PS_EXIT_OK;
out:
	X509_free(ca);
	X509_free(mic);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(mic_key);
	return rc;
}

static int model_valid(const char *m)
{
	size_t n = strlen(m);

	if (n == 0 || n > 24)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((m[i] >= '0' && m[i] <= '9') || (m[i] >= 'A' && m[i] <= 'Z') ||
		      (m[i] >= 'a' && m[i] <= 'z') || m[i] == '-'))
			return 0;
	return 1;
}

static int init_check(const struct init_args *a)
{
	if (!a->name || !a->mfg_dir) {
		ps_error("init: --name and --mfg-ca are required");
		fputs(init_usage, stderr);
		return -1;
	}
	if (!devname_valid(a->name)) {
		ps_error("init: '%s' is not a device name: expected SEP followed by 12 upper-case hex digits, "
			 "e.g. SEP001122334455", a->name);
		return -1;
	}
	if (!model_valid(a->model)) {
		ps_error("init: '%s' is not a model: letters, digits and '-', at most 24", a->model);
		return -1;
	}
	return 0;
}

int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "mfg-ca", required_argument, NULL, 'm' },
		{ "model", required_argument, NULL, 'M' },
		{ "mic-key", required_argument, NULL, 'k' },
		{ "mic-days", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct init_args a = { .model = PHONE_MODEL_DEFAULT, .mic_spec = "rsa:2048",
			       .mic_days = MIC_DAYS_DEFAULT };
	int c;

	while ((c = ps_getopt(argc, argv, "", opts, init_usage)) != -1) {
		switch (c) {
		case 'h': return PS_EXIT_OK;
		case 'n': a.name = optarg; break;
		case 'm': a.mfg_dir = optarg; break;
		case 'M': a.model = optarg; break;
		case 'k': a.mic_spec = optarg; break;
		case 'd': if (ps_parse_int("--mic-days", optarg, 1, 36500, &a.mic_days) < 0) return PS_EXIT_LOCAL; break;
		default: return PS_EXIT_LOCAL;
		}
	}
	if (ps_expect_args(argc, argv, 1, init_usage) < 0 || init_check(&a) < 0)
		return PS_EXIT_LOCAL;
	a.dir = argv[optind];
	return init_phone(&a);
}

/* ---- trust ---- */

static const char trust_usage[] =
	"usage: phonesim trust PHONEDIR CAPF.pem\n\n"
	"Set the CAPF certificate(s) the phone trusts (copied to PHONEDIR/capf.pem).\n"
	"'phonesim capf' accepts a server only if its certificate is one of them or\n"
	"chains to one of them.\n";

#define TRUST_MAX 64

static int save_trust(struct phone_dir *pd, STACK_OF(X509) *certs)
{
	X509 *list[TRUST_MAX];
	char path[PATH_MAX], err[ERRLEN];
	int n = sk_X509_num(certs);

	for (int i = 0; i < n; i++)
		list[i] = sk_X509_value(certs, i);
	phone_dir_file(pd, "capf.pem", path, sizeof path);
	if (certs_save_pem(path, list, (size_t)n, err, sizeof err) < 0) {
		ps_error("%s", err);
		return -1;
	}
	for (int i = 0; i < n; i++)
		print_cert_summary("trusted CAPF certificate", list[i]);
	return 0;
}

int cmd_trust(int argc, char **argv)
{
	struct phone_dir pd;
	char err[ERRLEN];
	STACK_OF(X509) *certs;
	int c, rc = PS_EXIT_LOCAL;

	c = ps_getopt(argc, argv, "", NULL, trust_usage);
	if (c != -1)
		return c == 'h' ? PS_EXIT_OK : PS_EXIT_LOCAL;
	if (ps_expect_args(argc, argv, 2, trust_usage) < 0)
		return PS_EXIT_LOCAL;
	if (phone_dir_load(argv[optind], &pd, err, sizeof err) < 0) {
		ps_error("%s", err);
		return PS_EXIT_LOCAL;
	}
	certs = pki_certs_load(argv[optind + 1], err, sizeof err);
	if (!certs)
		ps_error("%s", err);
	else if (sk_X509_num(certs) > TRUST_MAX)
		ps_error("%s holds more than %d certificates", argv[optind + 1], TRUST_MAX);
	else if (save_trust(&pd, certs) == 0)
		rc = PS_EXIT_OK;
	sk_X509_pop_free(certs, X509_free);
	phone_dir_free(&pd);
	return rc;
}
