/*
 * cmd_init.c: `opencapf init` creates a state directory and the CAPF CA.
 *
 * Crash safety: everything is built in a hidden sibling folder
 * (.NAME.init-PID) and renamed into place as the very last step, so killing
 * init at any point leaves either no state at DIR or a complete one. An
 * existing state is never overwritten: with --force it is moved aside to
 * DIR.old-TIMESTAMP (keys included), never deleted.
 *
 * An empty DIR that already exists (a package's /var/lib/opencapf, owned by
 * the service user, in a parent only root may write) is kept as it is, with
 * its owner and mode: the state is built in DIR/.init-PID and its entries
 * are moved up, the database last. Until the database is in place DIR is no
 * state (the daemon and the service's ConditionPathExists look for it).
 */
#include "cmd/opencapf/cli.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin/capf_lifecycle.h"
#include "common/setting.h"
#include "pki/pki.h"
#include "signer/signer_p11.h"
#include "store/store.h"

static const char init_usage[] =
	"usage: opencapf init [--state DIR] [--subject FIELDS] [--key SPEC] [--days N]\n"
	"                     [--lsc-days N] [--force] [--store URI] [--key-store URI]\n\n"
	"Create the state directory (SQLite database, keys/) and a self-signed CAPF\n"
	"CA certificate: CN=CAPF-xxxxxxxx plus the organisation fields, CA:TRUE\n"
	"pathlen:0, keyUsage digitalSignature+keyCertSign, SHA-256. The certificate\n"
	"is placed in the CAPF-trust, CallManager-trust, phone-vpn-trust and 802.1x\n"
	"trust stores.\n\n"
	"  --subject FIELDS  organisation fields, e.g. \"O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ\"\n"
	"  --key SPEC        CAPF key: rsa:2048 (default), rsa:3072, rsa:4096, ec:p256, ec:p384\n"
	"  --days N          CAPF certificate validity in days (default 1825, 5 years)\n"
	"  --lsc-days N      validity of the LSCs it will issue (default 1825)\n"
	"  --force           if DIR already holds a state, move it aside to DIR.old-TIMESTAMP\n"
	"  --key-store URI   make the keys (CAPF, SAST, TVS) in a PKCS#11 token, never exported:\n"
	"                    pkcs11:token=LABEL[?pin-source=FILE][&module-path=LIB] (RFC 7512;\n"
	"                    default $OPENCAPF_KEY_STORE); keys/ then names them; the PIN from\n"
	"                    pin-source, $OPENCAPF_PKCS11_PIN or $OPENCAPF_PKCS11_PIN_FILE\n"
	"  --store URI       keep the database in PostgreSQL (postgresql://...), empty, for a\n"
	"                    cluster: DIR holds keys/ and store.uri (copy DIR to the other nodes)\n"
	"                    (nothing is deleted) and create a new one\n";

struct init_opts {
	struct pki_org org;
	enum pki_key_kind kind;
	int bits;
	int days;
	int lsc_days;
	int force;
	char key_store[1024];    /* a PKCS#11 token URI, or "" for key files */
};

static int init_parse(struct cli *cli, int argc, char **argv, struct init_opts *o, int *help)
{
	static const struct option longopts[] = {
		{ "subject", required_argument, NULL, 'S' },
		{ "key", required_argument, NULL, 'k' },
		{ "days", required_argument, NULL, 'd' },
		{ "lsc-days", required_argument, NULL, 'l' },
		{ "force", no_argument, NULL, 'f' },
		{ "store", required_argument, NULL, 'U' },
		{ "key-store", required_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	char err[ERRLEN];
	int c;

	memset(o, 0, sizeof *o);
	o->kind = PKI_KEY_RSA;
	o->bits = 2048;
	o->days = o->lsc_days = 1825;
	while ((c = cli_getopt(cli, argc, argv, "", longopts, init_usage, help)) != -1) {
		switch (c) {
		case 'S':
			if (pki_org_parse(optarg, &o->org, err, sizeof err) < 0) {
				cli_error("init: --subject: %s", err);
				return -1;
			}
			break;
		case 'k':
			if (capf_key_spec_parse(optarg, &o->kind, &o->bits, err, sizeof err) < 0) {
				cli_error("init: --key %s", err);
				return -1;
			}
			break;
		case 'd':
		case 'l':
			if (setting_int(optarg, 1, 36500, c == 'd' ? &o->days : &o->lsc_days) < 0) {
				cli_error("init: --%s %s: expected a number of days from 1 to 36500",
					  c == 'd' ? "days" : "lsc-days", optarg);
				return -1;
			}
			break;
		case 'f': o->force = 1; break;
		case 'K': snprintf(o->key_store, sizeof o->key_store, "%s", optarg); break;
		case 'U':
			if (store_set_uri(optarg) < 0) {
				cli_error("init: --store %s: expected a postgresql:// URI", optarg);
				return -1;
			}
			break;
		default: return -1;
		}
	}
	if (*help)
		return 0;
	if (!o->key_store[0] && getenv("OPENCAPF_KEY_STORE"))
		snprintf(o->key_store, sizeof o->key_store, "%s", getenv("OPENCAPF_KEY_STORE"));
	if (o->key_store[0] && signer_p11_set_store(o->key_store, err, sizeof err) < 0) {
		cli_error("init: --key-store: %s", err);
		return -1;
	}
	return cli_expect_args(argc, argv, 0, 0, init_usage);
}

/* 1 if `dir` exists and holds anything, 0 if absent or empty, -1 if unreadable. */
static int dir_nonempty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			found = 1;
			break;
		}
	closedir(d);
	return found;
}

static int tmp_sibling(const char *dir, const char *tag, char *out, size_t outcap)
{
	char a[4096], b[4096];
	int n;

	snprintf(a, sizeof a, "%s", dir);
	snprintf(b, sizeof b, "%s", dir);
	n = snprintf(out, outcap, "%s/.%s.%s-%ld", dirname(a), basename(b), tag, (long)getpid());
	return (n < 0 || (size_t)n >= outcap) ? -1 : 0;
}

/* Move an existing state aside (never deleting it). */
static int move_aside(const char *dir, char *moved, size_t movedcap)
{
	char stamp[32];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	snprintf(moved, movedcap, "%s.old-%s", dir, stamp);
	if (rename(dir, moved) < 0) {
		cli_error("init: cannot move %s aside to %s: %s", dir, moved, strerror(errno));
		return -1;
	}
	return 0;
}

/* The token the state's keys are made in, for `capf regenerate` (no PIN value kept). */
static int record_key_store(const char *dir, const char *uri)
{
	struct store *st = NULL;
	char err[ERRLEN], text[1024];
	int rc = -1;

	if (signer_p11_uri_public(uri, text, sizeof text) < 0 || store_open(dir, STORE_OPEN_EXISTING, &st, err, sizeof err) < 0)
		cli_error("init: cannot record the key store");
	else if (store_setting_set(st, SIGNER_P11_STORE_SETTING, text) < 0)
		cli_error("init: cannot record the key store: %s", store_errmsg(st));
	else
		rc = 0;
	store_close(st);
	return rc;
}

static int build_state(const char *tmp, const struct init_opts *o, const char *actor,
		       struct capf_ca_summary *summary)
{
	struct capf_ca_params params = {
		.org = o->org, .kind = o->kind, .bits = o->bits, .days = o->days, .lsc_days = o->lsc_days,
	};
	char err[ERRLEN];

	if (capf_ca_create_state(tmp, &params, actor, summary, err, sizeof err) < 0) {
		cli_error("init: %s", err);
		return -1;
	}
	return o->key_store[0] ? record_key_store(tmp, o->key_store) : 0;
}

/* Move tmp/NAME up into dir/NAME; 0 or -1 (printed). */
static int move_entry(const char *tmp, const char *dir, const char *name, int back)
{
	char from[4300], to[4300];

	snprintf(from, sizeof from, "%s/%s", back ? dir : tmp, name);
	snprintf(to, sizeof to, "%s/%s", back ? tmp : dir, name);
	if (rename(from, to) == 0)
		return 0;
	if (!back)
		cli_error("init: cannot move %s into %s: %s", name, dir, strerror(errno));
	return -1;
}

/* Move every entry of the state built in tmp (inside dir) up into dir, the
 * database last; on failure the ones moved go back. 0 or -1 (printed). */
static int move_up(const char *tmp, const char *dir)
{
	char names[32][256];
	int n = 0, i, rc = 0;
	DIR *d = opendir(tmp);
	struct dirent *e;

	if (!d) {
		cli_error("init: cannot read %s: %s", tmp, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) && n < 32)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "opencapf.db"))
			snprintf(names[n++], sizeof names[0], "%s", e->d_name);
	closedir(d);
	snprintf(names[n++], sizeof names[0], "opencapf.db");
	for (i = 0; i < n && rc == 0; i++)
		rc = move_entry(tmp, dir, names[i], 0);
	if (rc == 0)
		return rmdir(tmp) < 0 ? (cli_error("init: cannot remove %s: %s", tmp, strerror(errno)), -1) : 0;
	for (i -= 2; i >= 0; i--)
		move_entry(tmp, dir, names[i], 1);
	return -1;
}

/* The state built inside an existing empty dir (see the top of the file). */
static int init_in_place(const char *dir, const struct init_opts *o, const char *actor,
			 struct capf_ca_summary *summary)
{
	char tmp[4300];

	snprintf(tmp, sizeof tmp, "%s/.init-%ld", dir, (long)getpid());
	if (build_state(tmp, o, actor, summary) < 0 || move_up(tmp, dir) < 0) {
		remove_tree(tmp);
		return -1;
	}
	return 0;
}

static int is_dir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Built aside and renamed into place, an existing state moved aside first. */
static int init_aside(const char *dir, int state, const struct init_opts *o, const char *actor,
		      struct capf_ca_summary *summary, char *moved, size_t movedcap)
{
	char tmp[4200];

	if (tmp_sibling(dir, "init", tmp, sizeof tmp) < 0) {
		cli_error("init: state path too long");
		return -1;
	}
	if (build_state(tmp, o, actor, summary) < 0) {
		remove_tree(tmp);
		return -1;
	}
	if (state > 0 && move_aside(dir, moved, movedcap) < 0) {
		remove_tree(tmp);
		return -1;
	}
	if (rename(tmp, dir) < 0) {
		cli_error("init: cannot move the new state into %s: %s", dir, strerror(errno));
		remove_tree(tmp);
		return -1;
	}
	return 0;
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
	struct init_opts o;
	struct capf_ca_summary summary;
	char moved[4200] = "";
	int help = 0, state;

	if (init_parse(cli, argc, argv, &o, &help) < 0)
		return EXIT_USAGE;
	if (help)
		return EXIT_OK;

	state = dir_nonempty(cli->state_dir);
	if (state < 0) {
		cli_error("init: cannot read %s: %s", cli->state_dir, strerror(errno));
		return EXIT_FAIL;
	}
	if (state > 0 && !o.force) {
		cli_error("init: %s already exists and is not empty (an existing state is never "
			  "overwritten; use --force to move it aside and start over)", cli->state_dir);
		return EXIT_FAIL;
	}
	if (state == 0 && is_dir(cli->state_dir) ? init_in_place(cli->state_dir, &o, cli->actor, &summary) < 0
						 : init_aside(cli->state_dir, state, &o, cli->actor, &summary, moved,
							      sizeof moved) < 0)
		return EXIT_FAIL;
	if (*moved)
		printf("previous state moved to %s\n", moved);
	printf("state created in %s\n", cli->state_dir);
	printf("CAPF certificate %s (%s), valid until %s\n", summary.cn, summary.key, summary.not_after);
	printf("SHA-256 fingerprint %s\n", summary.sha256);
	return EXIT_OK;
}
