/*
 * cmd_check.c: `opencapf check`, a monitoring plugin (Nagios style): the
 * findings of admin/health.h as one status line, then one line per finding;
 * exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (state unreadable or a usage
 * error). Reads the state only: it never writes.
 */
#include "cmd/opencapf/cli.h"
#include "cmd/opencapfd/config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "admin/health.h"
#include "common/setting.h"

#define CHECK_MAX_ITEMS 16
#define CHECK_MAX_LINES 64

static const char check_usage[] =
	"usage: opencapf check [--days N] [--critical-days N] [--cert FILE]... [--connect HOST:PORT]...\n"
	"                      [--timeout S]\n\n"
	"What needs attention soon, monitoring-plugin style: a status line, then one\n"
	"line per finding. Exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n"
	"  - CAPF, TVS and SAST/TFTP certificates (and each --cert) expiring within\n"
	"    --days (WARNING) or --critical-days, or expired (CRITICAL)\n"
	"  - phones whose LSC expires within --days, or has expired (WARNING, counted)\n"
	"  - pending operations past their deadline (WARNING, counted)\n"
	"  - each --connect address that does not accept a TCP connection (CRITICAL)\n"
	"  --days N           warning window in days (default 30)\n"
	"  --critical-days N  critical window for certificates (default 7, at most --days)\n"
	"  --cert FILE        also check this PEM certificate, e.g. the API's HTTPS one\n"
	"  --connect H:P      probe a daemon listener, e.g. 127.0.0.1:3804 (repeatable)\n"
	"  --timeout S        seconds per probe (default 3)\n"
	"  --config FILE      the daemon's configuration (e.g. /etc/opencapf/opencapfd.conf): probe\n"
	"                     every listener it enables and check its HTTPS certificates\n";

struct check_run {
	struct health_options o;
	const char *certs[CHECK_MAX_ITEMS], *probes[CHECK_MAX_ITEMS];
	int ncerts, nprobes, timeout;
	enum health_level worst;
	int critical, warning;
	char lines[CHECK_MAX_LINES][600];
	int nlines;
};

static void on_finding(const struct health_finding *f, void *arg)
{
	struct check_run *r = arg;

	if (f->level > r->worst)
		r->worst = f->level;
	r->critical += f->level == HEALTH_CRITICAL;
	r->warning += f->level == HEALTH_WARNING;
	if (r->nlines < CHECK_MAX_LINES)
		snprintf(r->lines[r->nlines++], sizeof r->lines[0], "%s %s: %s", health_level_name(f->level),
			 f->subject, f->text);
}

static int parse_count(const char *opt, const char *v, int lo, int hi, int *out)
{
	if (setting_int(v, lo, hi, out) < 0) {
		cli_error("%s %s: expected a whole number from %d to %d", opt, text_valid(v) ? v : "?", lo, hi);
		return -1;
	}
	return 0;
}

static int add_item(const char **list, int *n, const char *opt, const char *v)
{
	if (*n >= CHECK_MAX_ITEMS) {
		cli_error("%s %s: at most %d of them", opt, text_valid(v) ? v : "?", CHECK_MAX_ITEMS);
		return -1;
	}
	list[(*n)++] = v;
	return 0;
}

/* A listener address as a probe: a wildcard becomes loopback. "" for off. */
static void probe_of(const char *listen, char *out, size_t cap)
{
	out[0] = '\0';
	if (!listen[0] || strcmp(listen, "off") == 0)
		return;
	if (strncmp(listen, "0.0.0.0:", 8) == 0)
		snprintf(out, cap, "127.0.0.1:%s", listen + 8);
	else if (strncmp(listen, "[::]:", 5) == 0)
		snprintf(out, cap, "[::1]:%s", listen + 5);
	else
		snprintf(out, cap, "%s", listen);
}

/* --config: every listener the daemon's configuration enables is probed,
 * and its HTTPS certificates checked. The texts live as long as the run. */
static int from_daemon_config(struct check_run *r, const char *path)
{
	static struct daemon_config cfg;
	static char probes[8][160];
	const char *listens[] = { cfg.capf_listen, cfg.tvs_listen, cfg.register_listen, cfg.http.listen,
				  cfg.files.tftp_listen, cfg.files.http_listen, cfg.files.https_listen };
	char err[ERRLEN];
	int rc = 0;

	daemon_config_defaults(&cfg);
	if (daemon_config_load(&cfg, path, err, sizeof err) < 0) {
		cli_error("--config: %s", err);
		return -1;
	}
	for (size_t i = 0; rc == 0 && i < sizeof listens / sizeof listens[0]; i++) {
		probe_of(listens[i], probes[i], sizeof probes[i]);
		if (probes[i][0] && listens[i] != cfg.files.tftp_listen) /* TFTP is UDP: no TCP probe */
			rc = add_item(r->probes, &r->nprobes, "--config", probes[i]);
	}
	if (rc == 0 && cfg.http.cert_file[0])
		rc = add_item(r->certs, &r->ncerts, "--config", cfg.http.cert_file);
	if (rc == 0 && cfg.files.https_cert[0])
		rc = add_item(r->certs, &r->ncerts, "--config", cfg.files.https_cert);
	return rc;
}

static int check_options(struct cli *cli, int argc, char **argv, struct check_run *r, int *help)
{
	static const struct option opts[] = {
		{ "days", required_argument, NULL, 'd' }, { "critical-days", required_argument, NULL, 'c' },
		{ "cert", required_argument, NULL, 'f' }, { "connect", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' }, { "config", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	int c, crit_set = 0, rc = 0;

	while (rc == 0 && (c = cli_getopt(cli, argc, argv, "", opts, check_usage, help)) != -1) {
		switch (c) {
		case 'd': rc = parse_count("--days", optarg, 1, 36500, &r->o.days); break;
		case 'c': rc = parse_count("--critical-days", optarg, 0, 36500, &r->o.critical_days); crit_set = 1; break;
		case 'f': rc = add_item(r->certs, &r->ncerts, "--cert", optarg); break;
		case 'p': rc = add_item(r->probes, &r->nprobes, "--connect", optarg); break;
		case 't': rc = parse_count("--timeout", optarg, 1, 60, &r->timeout); break;
		case 'C': rc = from_daemon_config(r, optarg); break;
		default: return -1;
		}
	}
	if (rc < 0 || *help || cli_expect_args(argc, argv, 0, 0, check_usage) < 0)
		return -1;
	if (r->o.critical_days > r->o.days) {
		if (crit_set) {
			cli_error("--critical-days %d: more than --days %d", r->o.critical_days, r->o.days);
			return -1;
		}
		r->o.critical_days = r->o.days;
	}
	return 0;
}

static int check_run_all(struct cli *cli, struct check_run *r, char *err, size_t errlen)
{
	struct store *st;

	if (store_open(cli->state_dir, STORE_OPEN_EXISTING, &st, err, errlen) < 0)
		return -1;
	if (health_check_state(st, &r->o, on_finding, r, err, errlen) < 0) {
		store_close(st);
		return -1;
	}
	store_close(st);
	for (int i = 0; i < r->ncerts; i++)
		if (health_check_cert_file(r->certs[i], &r->o, on_finding, r, err, errlen) < 0)
			return -1;
	for (int i = 0; i < r->nprobes; i++)
		if (health_probe_listener(r->probes[i], r->timeout * 1000, on_finding, r, err, errlen) < 0)
			return -1;
	return 0;
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	static struct check_run r;
	char err[ERRLEN];
	int help = 0;

	memset(&r, 0, sizeof r);
	health_options_default(&r.o);
	r.timeout = 3;
	if (check_options(cli, argc, argv, &r, &help) < 0)
		return help ? EXIT_OK : HEALTH_UNKNOWN;
	if (check_run_all(cli, &r, err, sizeof err) < 0) {
		printf("OPENCAPF UNKNOWN - %s\n", err);
		return HEALTH_UNKNOWN;
	}
	if (r.worst == HEALTH_OK)
		printf("OPENCAPF OK - certificates valid beyond %d days, no LSC expiring, no overdue operation%s\n",
		       r.o.days, r.nprobes ? ", listeners up" : "");
	else
		printf("OPENCAPF %s - %d critical, %d warning%s\n", health_level_name(r.worst), r.critical,
		       r.warning, r.warning == 1 ? "" : "s");
	for (int i = 0; i < r.nlines; i++)
		printf("%s\n", r.lines[i]);
	return (int)r.worst;
}
