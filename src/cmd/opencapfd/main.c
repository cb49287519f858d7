/*
 * main.c: `opencapfd`, the opencapf daemon. Reads its configuration, opens
 * the state, starts one worker event loop per core and the configured
 * listeners (CAPF on 3804, TVS on 2445), and runs until SIGINT or SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "capf/ca.h"
#include "admin/itl_file.h"
#include "admin/provision.h"
#include "admin/service_certs.h"
#include "cmd/opencapfd/config.h"
#include "cmd/opencapfd/notify.h"
#include "cmd/opencapfd/privsep.h"
#include "common/log.h"
#include "common/util.h"
#include "store/store.h"
#include "store/store_lock.h"
#include "net/capf_listener.h"
#include "net/file_service.h"
#include "net/register_listener.h"
#include "net/tvs_listener.h"
#include "net/tls.h"
#include "net/worker_stores.h"
#include "net/workers.h"
#include "signer/signer_p11.h"

static const char usage_text[] =
	"usage: opencapfd [--config FILE] [--state DIR] [OPTIONS]\n\n"
	"The opencapf daemon: the CAPF service phones enroll with (TLS port 3804) and\n"
	"the Trust Verification Service (TVS, TLS port 2445).\n"
	"Settings come from built-in defaults, then --config FILE, then these options.\n\n"
	"  --config FILE          INI configuration file (see opencapfd(8))\n"
	"  --state DIR            state directory (default $OPENCAPF_STATE, else /var/lib/opencapf)\n"
	"  --store URI            the database in PostgreSQL, shared by several nodes (postgresql://...;\n"
	"                         default $OPENCAPF_STORE, else STATE/store.uri, else SQLite in STATE)\n"
	"  --node NAME            this node's name in operation claims, unique in a cluster (default:\n"
	"                         the host name)\n"
	"  --capf-listen ADDR:PORT  CAPF listener (default 0.0.0.0:3804; 'off' disables it)\n"
	"  --tls-profile P        legacy (TLS 1.0+, AES128-SHA/AES256-SHA for old phones; default)\n"
	"                         or modern (TLS 1.2+)\n"
	"  --tvs-listen ADDR:PORT TVS listener (default 0.0.0.0:2445; 'off' disables it)\n"
	"  --tftp-dir DIR         publish ITLFile.tlv there now and whenever a service\n"
	"                         certificate changes (default: the state's setting, DIR/tftp)\n"
	"  --http-listen ADDR:PORT  admin API, web UI and /metrics (default 127.0.0.1:8080;\n"
	"                         'off' disables it; other than loopback needs --http-cert/--http-key)\n"
	"  --http-cert FILE       PEM certificate (chain) for HTTPS on the API\n"
	"  --http-key FILE        its private key\n"
	"  --web-dir DIR          the web UI's files (default: installed, else the source tree's web/)\n"
	"  --tftp-listen ADDR:PORT  TFTP file service over the ITL folder (phones: port 69; default off)\n"
	"  --http-files-listen ADDR:PORT  HTTP file service over the same folder (phones: 6970; default off)\n"
	"  --https-files-listen ADDR:PORT  HTTPS file service (phones: 6971; default off), with\n"
	"  --https-files-cert FILE, --https-files-key FILE  its certificate (EC key) and key, PEM\n"
	"  --register-listen ADDR:PORT  registration TLS check: requires a client certificate,\n"
	"                         checks it against CallManager-trust, records LSC/MIC (default off)\n"
	"  --workers N            worker threads (default: one per core)\n"
	"  --max-connections N    cap on open connections, all listeners together (default: the\n"
	"                         descriptor limit less a reserve; never more than that)\n"
	"  --max-per-address N    CAPF connections open at once from one address (default 64, 0 = no limit)\n"
	"  --handshake-timeout S  seconds a CAPF connection may take to finish its TLS handshake (default 10)\n"
	"  --auth-timeout S       seconds to wait for short answers after the handshake (default 30)\n"
	"  --keygen-timeout S     seconds a phone may take to generate its key (default 600)\n"
	"  --lockout-failures N   failed authentications before a lockout (default 5, 0 = never)\n"
	"  --lockout-seconds S    lockout length (default 900)\n"
	"  --lsc-days N           LSC validity (default: the state's setting, 1825)\n"
	"  --pidfile FILE         write the process id there\n"
	"  --user NAME            started as root: the user the network-facing process becomes once\n"
	"                         its ports are bound (default opencapf); keys stay with the signer\n"
	"  --drain-seconds S      on SIGTERM, stop taking connections and let open ones end for up to S s (default 10)\n"
	"  --log-level L          debug, info (default), warning, error\n"
	"  -h, --help             this help\n"
	"  --version              print the version\n";

enum {
	OPT_CONFIG = 0x100, OPT_STATE, OPT_STORE, OPT_NODE, OPT_CAPF_LISTEN, OPT_TLS_PROFILE, OPT_WORKERS, OPT_MAX_CONN,
	OPT_AUTH_TIMEOUT, OPT_KEYGEN_TIMEOUT, OPT_LOCKOUT_FAILURES, OPT_LOCKOUT_SECONDS, OPT_LSC_DAYS,
	OPT_PIDFILE, OPT_LOG_LEVEL, OPT_TVS_LISTEN, OPT_TFTP_DIR, OPT_HTTP_LISTEN, OPT_HTTP_CERT, OPT_HTTP_KEY, OPT_WEB_DIR, OPT_REGISTER_LISTEN, OPT_VERSION,
	OPT_MAX_PER_ADDRESS, OPT_HANDSHAKE_TIMEOUT,
	OPT_DRAIN_SECONDS, OPT_TFTP_LISTEN, OPT_HTTP_FILES_LISTEN, OPT_HTTPS_FILES_LISTEN, OPT_HTTPS_FILES_CERT, OPT_HTTPS_FILES_KEY, OPT_USER,
};

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "node", required_argument, NULL, OPT_NODE },
	{ "capf-listen", required_argument, NULL, OPT_CAPF_LISTEN },
	{ "tls-profile", required_argument, NULL, OPT_TLS_PROFILE },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONN },
	{ "auth-timeout", required_argument, NULL, OPT_AUTH_TIMEOUT },
	{ "keygen-timeout", required_argument, NULL, OPT_KEYGEN_TIMEOUT },
	{ "lockout-failures", required_argument, NULL, OPT_LOCKOUT_FAILURES },
	{ "lockout-seconds", required_argument, NULL, OPT_LOCKOUT_SECONDS },
	{ "lsc-days", required_argument, NULL, OPT_LSC_DAYS },
	{ "pidfile", required_argument, NULL, OPT_PIDFILE },
	{ "drain-seconds", required_argument, NULL, OPT_DRAIN_SECONDS },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "tvs-listen", required_argument, NULL, OPT_TVS_LISTEN },
	{ "tftp-dir", required_argument, NULL, OPT_TFTP_DIR },
	{ "http-listen", required_argument, NULL, OPT_HTTP_LISTEN },
	{ "http-cert", required_argument, NULL, OPT_HTTP_CERT },
	{ "http-key", required_argument, NULL, OPT_HTTP_KEY },
	{ "web-dir", required_argument, NULL, OPT_WEB_DIR },
	{ "register-listen", required_argument, NULL, OPT_REGISTER_LISTEN },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "max-per-address", required_argument, NULL, OPT_MAX_PER_ADDRESS },
	{ "handshake-timeout", required_argument, NULL, OPT_HANDSHAKE_TIMEOUT },
	{ "tftp-listen", required_argument, NULL, OPT_TFTP_LISTEN },
	{ "http-files-listen", required_argument, NULL, OPT_HTTP_FILES_LISTEN },
	{ "https-files-listen", required_argument, NULL, OPT_HTTPS_FILES_LISTEN },
	{ "https-files-cert", required_argument, NULL, OPT_HTTPS_FILES_CERT },
	{ "https-files-key", required_argument, NULL, OPT_HTTPS_FILES_KEY },
	{ "user", required_argument, NULL, OPT_USER },
	{ NULL, 0, NULL, 0 },
};

/* Command-line option -> (section, key) of the configuration. */
static const struct { int opt; const char *section, *key; } opt_keys[] = {
	{ OPT_STATE, "daemon", "state" }, { OPT_STORE, "daemon", "store" }, { OPT_NODE, "daemon", "node" }, { OPT_WORKERS, "daemon", "workers" },
	{ OPT_MAX_CONN, "daemon", "max_connections" }, { OPT_PIDFILE, "daemon", "pidfile" },
	{ OPT_DRAIN_SECONDS, "daemon", "drain_seconds" },
	{ OPT_LOG_LEVEL, "daemon", "log_level" }, { OPT_CAPF_LISTEN, "capf", "listen" },
	{ OPT_TLS_PROFILE, "capf", "tls_profile" }, { OPT_AUTH_TIMEOUT, "capf", "auth_timeout" },
	{ OPT_KEYGEN_TIMEOUT, "capf", "keygen_timeout" }, { OPT_LOCKOUT_FAILURES, "capf", "lockout_failures" },
	{ OPT_LOCKOUT_SECONDS, "capf", "lockout_seconds" }, { OPT_LSC_DAYS, "capf", "lsc_days" },
	{ OPT_TVS_LISTEN, "tvs", "listen" }, { OPT_TFTP_DIR, "itl", "tftp_dir" },
	{ OPT_HTTP_LISTEN, "http", "listen" }, { OPT_HTTP_CERT, "http", "cert" },
	{ OPT_HTTP_KEY, "http", "key" }, { OPT_WEB_DIR, "http", "web_dir" },
	{ OPT_REGISTER_LISTEN, "register", "listen" },
	{ OPT_MAX_PER_ADDRESS, "capf", "max_per_address" }, { OPT_HANDSHAKE_TIMEOUT, "capf", "handshake_timeout" },
	{ OPT_TFTP_LISTEN, "files", "tftp_listen" }, { OPT_HTTP_FILES_LISTEN, "files", "http_listen" },
	{ OPT_HTTPS_FILES_LISTEN, "files", "https_listen" }, { OPT_HTTPS_FILES_CERT, "files", "https_cert" },
	{ OPT_HTTPS_FILES_KEY, "files", "https_key" }, { OPT_USER, "daemon", "user" },
	{ 0, NULL, NULL },
};

/* Two passes: find --config first so that every other option overrides the file. */
static int load_config(int argc, char **argv, struct daemon_config *cfg)
{
	const char *config = NULL, *env_state = getenv("OPENCAPF_STATE");
	char err[ERRLEN];
	int c, idx = 0;

	daemon_config_defaults(cfg);
	if (env_state && *env_state)
		snprintf(cfg->state_dir, sizeof cfg->state_dir, "%s", env_state);
	opterr = 1;
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			exit(0);
		}
		if (c == OPT_VERSION) {
			printf("opencapfd %s\n", OPENCAPF_VERSION);
			exit(0);
		}
		if (c == '?') {
			fputs(usage_text, stderr);
			return -1;
		}
		if (c == OPT_CONFIG)
			config = optarg;
	}
	if (optind < argc) {
		log_err("unexpected argument '%s' (see --help)", argv[optind]);
		return -1;
	}
	if (config && daemon_config_load(cfg, config, err, sizeof err) < 0) {
		log_err("%s", err);
		return -1;
	}
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", long_opts, &idx)) != -1)
		for (int i = 0; opt_keys[i].key; i++)
			if (opt_keys[i].opt == c &&
			    daemon_config_set(cfg, opt_keys[i].section, opt_keys[i].key, optarg, err, sizeof err) < 0) {
				log_err("--%s: %s", long_opts[idx].name, err);
				return -1;
			}
	return 0;
}

static int write_pidfile(const char *path)
{
	char text[32], err[ERRLEN];

	if (!*path)
		return 0;
	snprintf(text, sizeof text, "%ld\n", (long)getpid());
	if (write_file_atomic(path, text, strlen(text), 0644, err, sizeof err) < 0) {
		log_err("%s", err);
		return -1;
	}
	return 0;
}

struct daemon {
	struct daemon_config cfg;
	struct daemon_config loaded;     /* as read, before the connection caps: what a reload compares */
	int argc;
	char **argv;
	struct worker_pool pool;
	struct capf_service capf;
	SSL_CTX *capf_ctx;
	struct tvs_service tvs;
	SSL_CTX *tvs_ctx;
	struct register_service reg;
	SSL_CTX *reg_ctx;
	struct signer *signer;
	struct api_server *api;
	struct file_service *files;
	struct privsep ps;
};

static int start_capf(struct daemon *d)
{
	struct store *st;
	struct pki_cert_info info;
	char err[ERRLEN];
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	int rc = -1;

	if (!d->cfg.capf_listen[0] || strcmp(d->cfg.capf_listen, "off") == 0)
		return 0;
	st = d->pool.workers[0].st;
	if (capf_ca_load(st, &cert, &key, err, sizeof err) < 0)
		goto out;
	if (!d->cfg.lsc_days_set)
		d->cfg.capf.lsc_days = capf_ca_lsc_days(st);
	if (!(d->capf_ctx = tls_server_ctx(d->cfg.capf_tls_profile, d->cfg.capf_tls_ciphers, cert, key,
					   err, sizeof err)))
		goto out;
	if (!(d->signer = signer_local_new(cert, key))) {
		seterr(err, sizeof err, "cannot create the CAPF signer");
		goto out;
	}
	capf_ca_signer_urls(st, d->signer);
	pki_cert_info(cert, &info);
	snprintf(d->capf.capf_sha256, sizeof d->capf.capf_sha256, "%s", info.sha256);
	d->capf.limits = d->cfg.capf_limits;
	snprintf(d->capf.node, sizeof d->capf.node, "%s", d->cfg.node);
	if (capf_service_start(&d->capf, &d->pool, d->cfg.capf_listen, d->capf_ctx, d->signer, &d->cfg.capf,
			       err, sizeof err) < 0)
		goto out;
	log_info("CAPF listening on %s (certificate %s, TLS profile %s)", d->cfg.capf_listen, info.cn,
		 d->cfg.capf_tls_profile == TLS_PROFILE_LEGACY ? "legacy" : "modern");
	rc = 0;
out:
	if (rc < 0)
		log_err("CAPF: %s", err);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

/* TVS on its port with the TVS certificate. A state without one (created
 * before TVS existed) only stops the daemon when TVS was asked for. */
/* An SSL_CTX for the TVS listener with the state's TVS certificate; *cn its CN. */
static SSL_CTX *tvs_ctx_load(struct daemon *d, struct store *st, char *cn, size_t cncap, char *err, size_t errlen)
{
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	SSL_CTX *ctx = NULL;

	if (service_cert_load(st, SERVICE_TVS, &cert, &key, err, errlen) == 0 &&
	    (ctx = tls_server_ctx(d->cfg.tvs_tls_profile, d->cfg.tvs_tls_ciphers, cert, key, err, errlen)))
		pki_name_entry(X509_get_subject_name(cert), NID_commonName, cn, cncap);
	X509_free(cert);
	EVP_PKEY_free(key);
	return ctx;
}

static SSL_CTX *tvs_ctx_from_state(struct daemon *d, char *cn, size_t cncap, char *err, size_t errlen)
{
	return tvs_ctx_load(d, d->pool.workers[0].st, cn, cncap, err, errlen);
}

/* The TVS listener follows the state's TVS certificate (tvs_listener.h): on worker 0, with its store. */
static SSL_CTX *tvs_ctx_follow(void *arg, struct store *st, char *cn, size_t cncap, char *err, size_t errlen)
{
	return tvs_ctx_load(arg, st, cn, cncap, err, errlen);
}

static int start_tvs(struct daemon *d)
{
	char err[ERRLEN], cn[128] = "";

	if (!d->cfg.tvs_listen[0] || strcmp(d->cfg.tvs_listen, "off") == 0)
		return 0;
	d->tvs.limits = d->cfg.tvs_limits;
	d->tvs.follow = tvs_ctx_follow;
	d->tvs.follow_arg = d;
	if (!(d->tvs_ctx = tvs_ctx_from_state(d, cn, sizeof cn, err, sizeof err))) {
		if (!d->cfg.tvs_listen_set) {
			log_warn("TVS not started: %s", err);
			return 0;
		}
		log_err("TVS: %s", err);
		return -1;
	}
	if (tvs_service_start(&d->tvs, &d->pool, d->cfg.tvs_listen, d->tvs_ctx, &d->cfg.tvs, err, sizeof err) < 0) {
		log_err("TVS: %s", err);
		return -1;
	}
	log_info("TVS listening on %s (certificate %s, default TTL %u s)", d->cfg.tvs_listen, cn,
		 d->cfg.tvs.default_ttl);
	return 0;
}

/* The registration TLS check (register_listener.h), off unless configured.
 * It presents the CAPF certificate: the phone trusts it from its ITL. */
static int start_register(struct daemon *d)
{
	char err[ERRLEN];
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	int rc = -1;

	if (!d->cfg.register_listen[0] || strcmp(d->cfg.register_listen, "off") == 0)
		return 0;
	d->reg.limits = d->cfg.reg_limits;
	if (capf_ca_load(d->pool.workers[0].st, &cert, &key, err, sizeof err) < 0 ||
	    !(d->reg_ctx = tls_server_ctx(d->cfg.register_tls_profile, d->cfg.register_tls_ciphers, cert, key,
					  err, sizeof err)) ||
	    register_service_start(&d->reg, &d->pool, d->cfg.register_listen, d->reg_ctx, &d->cfg.reg, err,
				   sizeof err) < 0)
		log_err("registration check: %s", err);
	else {
		log_info("registration check listening on %s (client certificates against %s)",
			 d->cfg.register_listen, TRUST_CALLMANAGER);
		rc = 0;
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

/* The state's PKCS#11 key store (`init --key-store`), where keys made
 * through the signer go; NULL when new keys are files. */
static const char *state_key_store(struct store *st, char *uri, size_t cap)
{
	return store_setting_get(st, SIGNER_P11_STORE_SETTING, uri, cap) == 0 && uri[0] ? uri : NULL;
}

/* [itl] tftp_dir: remember the folder in the state (so the CLI publishes
 * there too) and publish the ITL now. */
static int publish_itl(struct daemon *d)
{
	struct store *st = d->pool.workers[0].st;
	char err[ERRLEN], dir[4096], cwd[2048];

	if (!d->cfg.tftp_dir[0])
		return 0;
	if (d->cfg.tftp_dir[0] == '/')
		snprintf(dir, sizeof dir, "%s", d->cfg.tftp_dir);
	else if (getcwd(cwd, sizeof cwd))
		snprintf(dir, sizeof dir, "%s/%s", cwd, d->cfg.tftp_dir);
	else {
		log_err("ITL: cannot resolve the relative folder %s", d->cfg.tftp_dir);
		return -1;
	}
	if (store_setting_set(st, ITL_SETTING_TFTP_DIR, dir) < 0) {
		log_err("ITL: cannot record the TFTP folder: %s", store_errmsg(st));
		return -1;
	}
	if (itl_publish_from_state(st, err, sizeof err) < 0) {
		log_err("ITL: %s", err);
		return -1;
	}
	log_info("ITL published to %s/%s", dir, ITL_FILE_NAME);
	return 0;
}

/* TFTP and HTTP over the folder ITLFile.tlv is published to (file_service.h). */
static int start_files(struct daemon *d)
{
	char err[ERRLEN], dir[4096] = "";

	if (!file_service_enabled(&d->cfg.files))
		return 0;
	if (itl_tftp_dir(d->pool.workers[0].st, dir, sizeof dir) < 0 || mkdir_p(dir, 0755) < 0) {
		log_err("file service: cannot find or create the folder %s", dir);
		return -1;
	}
	if (!(d->files = file_service_start(&d->cfg.files, dir, err, sizeof err))) {
		log_err("file service: %s", err);
		return -1;
	}
	return 0;
}

/* The HTTPS file service without a certificate of its own presents the
 * state's HTTPS provisioning certificate (opencapf provision https-cert).
 * Set before the signer starts: it serves only the key files it was given. */
static void default_https_files_cert(struct daemon_config *cfg)
{
	if (!cfg->files.https_listen[0] || strcmp(cfg->files.https_listen, "off") == 0 || cfg->files.https_cert[0])
		return;
	snprintf(cfg->files.https_cert, sizeof cfg->files.https_cert, "%s/%s", cfg->state_dir, PROV_HTTPS_CERT);
	snprintf(cfg->files.https_key, sizeof cfg->files.https_key, "%s/%s", cfg->state_dir, PROV_HTTPS_KEY);
}

/* The admin API, web UI and metrics on their own thread (api.h). */
static int start_api(struct daemon *d)
{
	char err[ERRLEN];

	snprintf(d->cfg.http.state_dir, sizeof d->cfg.http.state_dir, "%s", d->cfg.state_dir);
	if (api_server_start(&d->cfg.http, &d->api, err, sizeof err) < 0) {
		log_err("%s", err);
		return -1;
	}
	return 0;
}

static void daemon_cleanup(struct daemon *d)
{
	api_server_stop(d->api);
	file_service_stop(d->files);
	capf_service_close(&d->capf);
	tvs_service_close(&d->tvs);
	register_service_close(&d->reg);
	worker_pool_close_stores(&d->pool);
	worker_pool_free(&d->pool);
	SSL_CTX_free(d->capf_ctx);
	SSL_CTX_free(d->tvs_ctx);
	SSL_CTX_free(d->reg_ctx);
	signer_free(d->signer);
	if (d->cfg.pidfile[0])
		unlink(d->cfg.pidfile);
	privsep_stop(&d->ps);
}

/* SIGINT or SIGTERM ends the wait. SIGHUP does not reload (the
 * configuration is read once; the CAPF certificate is followed without
 * it): it is logged and ignored rather than ending the daemon. */
/* SIGTERM: no new connection on any TLS listener, and the open ones (a phone
 * generating its key, a TVS query) get up to drain_seconds to end by
 * themselves before the loops stop. */
static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void drain(struct daemon *d)
{
	struct tls_service *svcs[] = { &d->capf.conns, &d->tvs.conns, &d->reg.conns };
	int64_t until = monotonic_ms() + (int64_t)d->cfg.drain_seconds * 1000;
	int open = 0;

	for (size_t i = 0; i < sizeof svcs / sizeof svcs[0]; i++)
		tls_service_drain(svcs[i]);
	for (;;) {
		open = 0;
		for (size_t i = 0; i < sizeof svcs / sizeof svcs[0]; i++)
			open += tls_service_open_count(svcs[i]);
		if (open == 0 || monotonic_ms() >= until)
			break;
		usleep(50 * 1000);
	}
	if (open)
		log_warn("stopping with %d connection%s still open after %d s", open, open == 1 ? "" : "s",
			 d->cfg.drain_seconds);
	else
		log_info("every connection has ended");
}

/* SIGHUP: the TVS listener takes the state's TVS certificate as it is now
 * (new connections; open ones keep theirs), at once rather than at its next
 * check (it follows the certificate by itself, as the CAPF listener does). */
static void reload_tvs_cert(struct daemon *d)
{
	char err[ERRLEN], cn[128] = "";
	SSL_CTX *ctx;

	if (!d->tvs_ctx)
		return;
	if (!(ctx = tvs_ctx_from_state(d, cn, sizeof cn, err, sizeof err))) {
		log_err("reload: TVS keeps its certificate: %s", err);
		return;
	}
	if (tls_service_set_ctx(&d->tvs.conns, ctx) < 0)
		log_err("reload: TVS keeps its certificate: out of memory");
	else
		log_info("reload: TVS presents %s to new connections", cn);
	SSL_CTX_free(ctx);   /* the service holds its own reference */
}

/* SIGHUP: read the configuration again; apply what can change while phones
 * are connected (log level, drain time, the TVS certificate) and name the
 * sections that need a restart. Sessions in flight are not touched. */
static void reload(struct daemon *d)
{
	struct daemon_config *now = calloc(1, sizeof *now);
	char changed[160];

	optind = 0;
	if (!now || load_config(d->argc, d->argv, now) < 0) {
		log_err("reload: the configuration cannot be read; the running one stays");
		free(now);
		return;
	}
	if (now->log_level != d->cfg.log_level)
		log_set_level((enum log_level)now->log_level);
	d->cfg.log_level = d->loaded.log_level = now->log_level;
	d->cfg.drain_seconds = d->loaded.drain_seconds = now->drain_seconds;
	daemon_config_changes(&d->loaded, now, changed, sizeof changed);
	if (changed[0])
		log_warn("reload: %s changed: restart opencapfd to apply (the rest is applied)", changed);
	reload_tvs_cert(d);
	log_info("reloaded: log level, drain time and certificates");
	free(now);
}

static int wait_for_signal(struct daemon *d)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD); /* the signer process ended: stop */
	while (sigwait(&set, &sig) == 0 && (sig == SIGHUP || (sig == SIGCHLD && !privsep_signer_ended(&d->ps))))
		if (sig == SIGHUP)
			reload(d);
	return sig;
}

/* glibc returns a thread arena's free top to the kernel once it passes
 * 128 KiB, and each worker's and the committer's allocations swing past that
 * on every session: madvise, then page faults to get it back, were a tenth of
 * the daemon's CPU under load. Keep up to 8 MiB per arena instead. */
static void tune_malloc(void)
{
	mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
}

/* The soft descriptor limit raised to the hard one; the limit in force. */
static long raise_nofile(void)
{
	struct rlimit rl;
	rlim_t want;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (1 << 20) ? (rlim_t)1 << 20 : rl.rlim_max;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		struct rlimit raised = { want, rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
			rl.rlim_cur = want;
		else
			log_warn("cannot raise the descriptor limit from %ld to %ld: %s", (long)rl.rlim_cur, (long)want,
				 strerror(errno));
	}
	return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > want ? (long)want : (long)rl.rlim_cur;
}

static void limits_text(char *out, size_t cap, const char *name, const char *listen,
			const struct listener_limits *l)
{
	size_t used = strlen(out);

	if (!listen[0] || strcmp(listen, "off") == 0 || used >= cap)
		return;
	snprintf(out + used, cap - used, ", %s %d (%d per address, handshake %d s)", name, l->max_connections,
		 l->max_per_address, l->handshake_timeout);
}

/* Each listener's pool from the descriptor limit (daemon_config_connection_caps). */
static void connection_caps(struct daemon_config *cfg)
{
	long nofile = raise_nofile();
	char note[400], text[400] = "";

	daemon_config_connection_caps(cfg, nofile, note, sizeof note);
	if (note[0])
		log_warn("%s", note);
	limits_text(text, sizeof text, "CAPF", cfg->capf_listen, &cfg->capf_limits);
	limits_text(text, sizeof text, "TVS", cfg->tvs_listen, &cfg->tvs_limits);
	limits_text(text, sizeof text, "registration", cfg->register_listen, &cfg->reg_limits);
	log_info("connections: %d in all (descriptor limit %ld)%s", cfg->max_connections, nofile, text);
}

int main(int argc, char **argv)
{
	static struct daemon d;
	char err[ERRLEN];
	sigset_t set;
	char key_store[1024];
	int workers, lock_fd, sig, rc = 1;

	log_init("opencapfd", 1);
	tune_malloc();
	signal(SIGPIPE, SIG_IGN);
	if (load_config(argc, argv, &d.cfg) < 0)
		return 2;
	d.loaded = d.cfg;
	d.argc = argc;
	d.argv = argv;
	log_set_level((enum log_level)d.cfg.log_level);
	if (d.cfg.store_uri[0] && store_set_uri(d.cfg.store_uri) < 0) {
		log_err("store %s: not a postgresql:// URI", d.cfg.store_uri);
		return 2;
	}
	if (!d.cfg.node[0] && (gethostname(d.cfg.node, sizeof d.cfg.node - 1) != 0 || !d.cfg.node[0]))
		snprintf(d.cfg.node, sizeof d.cfg.node, "local");
	store_set_node(d.cfg.node);
	default_https_files_cert(&d.cfg);
	if (store_lock_state(d.cfg.state_dir, &lock_fd, err, sizeof err) < 0) {
		log_err("%s", err);
		return 1;
	}
	workers = d.cfg.workers > 0 ? d.cfg.workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (workers < 1)
		workers = 1;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* threads inherit it; main waits with sigwait */
	connection_caps(&d.cfg);

	if (worker_pool_init(&d.pool, workers, d.cfg.max_connections, err, sizeof err) < 0 ||
	    worker_pool_open_stores(&d.pool, d.cfg.state_dir, err, sizeof err) < 0) {
		log_err("%s", err);
		goto out;
	}
	if (privsep_start(&d.ps, &d.cfg, d.cfg.lsc_days_set ? d.cfg.capf.lsc_days : capf_ca_lsc_days(d.pool.workers[0].st),
			  workers + 8, state_key_store(d.pool.workers[0].st, key_store, sizeof key_store), err,
			  sizeof err) < 0) {
		log_err("%s", err);
		goto out;
	}
	if (publish_itl(&d) < 0 || start_capf(&d) < 0 || start_tvs(&d) < 0 || start_register(&d) < 0 || start_api(&d) < 0 || write_pidfile(d.cfg.pidfile) < 0)
		goto out;
	if (start_files(&d) < 0)
		goto out;
	if (privsep_drop(&d.ps, &d.cfg, err, sizeof err) < 0) {
		log_err("%s", err);
		goto out;
	}
	privsep_door_open(&d.ps, &d.cfg);
	if (worker_pool_run(&d.pool, err, sizeof err) < 0) {
		log_err("%s", err);
		goto out;
	}
	log_info("ready: state %s, %d worker%s", d.cfg.state_dir, workers, workers == 1 ? "" : "s");
	notify_send("READY=1\nSTATUS=serving");
	sig = wait_for_signal(&d);
	log_info("stopping on signal %d", sig);
	notify_send("STOPPING=1");
	if (sig != SIGCHLD)
		drain(&d); /* without the signer no session can finish */
	worker_pool_stop(&d.pool);
	rc = sig == SIGCHLD ? 1 : 0;
out:
	daemon_cleanup(&d);
	return rc;
}
