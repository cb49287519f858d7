/*
 * config.c: parsing the daemon's INI configuration with inih. Every key is
 * known and checked: an unknown key or a bad value is an error naming the
 * line, never silently ignored.
 */
#include "cmd/opencapfd/config.h"

#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "common/log.h"
#include "common/setting.h"
#include "common/util.h"
#include "net/addr.h"

#define CONFIG_MAX_BYTES (1024 * 1024)
#define CONN_MAX 1000000

static const struct listener_limits limits_default = {
	.max_connections = 0, .max_per_address = CONN_LIMIT_PER_ADDRESS_DEFAULT,
	.handshake_timeout = CONN_LIMIT_HANDSHAKE_TIMEOUT_DEFAULT,
};

void daemon_config_defaults(struct daemon_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	snprintf(cfg->state_dir, sizeof cfg->state_dir, "/var/lib/opencapf");
	cfg->max_connections = CONN_MAX; /* lowered to what the descriptor limit allows */
	cfg->log_level = LOG_LVL_INFO;
	cfg->drain_seconds = 10;
	snprintf(cfg->user, sizeof cfg->user, "opencapf");
	snprintf(cfg->capf_listen, sizeof cfg->capf_listen, "0.0.0.0:3804");
	cfg->capf_tls_profile = TLS_PROFILE_LEGACY;
	capf_server_cfg_defaults(&cfg->capf);
	cfg->capf_limits = cfg->tvs_limits = cfg->reg_limits = limits_default;
	api_config_defaults(&cfg->http);
	snprintf(cfg->tvs_listen, sizeof cfg->tvs_listen, "0.0.0.0:2445");
	cfg->tvs_tls_profile = TLS_PROFILE_LEGACY;
	cfg->tvs.default_ttl = TVS_TTL_DEFAULT;
	cfg->tvs.idle_timeout = TVS_IDLE_TIMEOUT_DEFAULT;
	cfg->register_tls_profile = TLS_PROFILE_LEGACY;
	cfg->reg.timeout = REGISTER_TIMEOUT_DEFAULT;
	file_service_defaults(&cfg->files);
	cfg->signer_lsc_rate = SIGNER_LSC_RATE_DEFAULT;
	cfg->signer_ops_rate = SIGNER_OPS_RATE_DEFAULT;
}

static int set_tls_profile(const char *v, enum tls_profile *p)
{
	return tls_profile_parse(v, p) < 0 ? setting_refuse("legacy or modern") : 0;
}

static int set_log_level(struct daemon_config *cfg, const char *v)
{
	static const char *const names[] = { "debug", "info", "warning", "error" };

	for (int i = 0; i < 4; i++)
		if (strcmp(v, names[i]) == 0) {
			cfg->log_level = i;
			return 0;
		}
	return setting_refuse("debug, info, warning or error");
}

static int set_daemon(struct daemon_config *cfg, const char *key, const char *v)
{
	if (strcmp(key, "state") == 0)
		return setting_str(cfg->state_dir, sizeof cfg->state_dir, v);
	if (strcmp(key, "node") == 0)
		return strchr(v, '/') ? setting_refuse("a name without '/'")
				       : setting_str(cfg->node, sizeof cfg->node, v); /* "": the host name */
	if (strcmp(key, "store") == 0)
		return v[0] && strncmp(v, "postgresql://", 13) && strncmp(v, "postgres://", 11)
			       ? setting_refuse("postgresql://..., or empty for SQLite in the state folder")
			       : setting_str(cfg->store_uri, sizeof cfg->store_uri, v);
	if (strcmp(key, "workers") == 0)
		return setting_int(v, 0, 256, &cfg->workers);
	if (strcmp(key, "max_connections") == 0) {
		cfg->max_connections_set = 1;
		return setting_int(v, 1, CONN_MAX, &cfg->max_connections);
	}
	if (strcmp(key, "log_level") == 0)
		return set_log_level(cfg, v);
	if (strcmp(key, "pidfile") == 0)
		return setting_str(cfg->pidfile, sizeof cfg->pidfile, v);
	if (strcmp(key, "drain_seconds") == 0)
		return setting_int(v, 0, 3600, &cfg->drain_seconds);
	if (strcmp(key, "user") == 0) {
		cfg->user_set = 1;
		return v[0] ? setting_str(cfg->user, sizeof cfg->user, v) : setting_refuse("a user name");
	}
	return -2;
}

/* [signer]: the brakes on what the signer process signs a second. */
static int set_signer(struct daemon_config *cfg, const char *key, const char *v)
{
	if (strcmp(key, "lsc_per_second") == 0)
		return setting_int(v, 1, 1000000, &cfg->signer_lsc_rate);
	if (strcmp(key, "ops_per_second") == 0)
		return setting_int(v, 1, 10000000, &cfg->signer_ops_rate);
	return -2;
}

/* A listener's pool and handshake deadline (conn_limit.h): -2 not one of those keys. */
static int set_limits(struct listener_limits *l, const char *key, const char *v)
{
	if (strcmp(key, "max_connections") == 0)
		return setting_int(v, 0, CONN_MAX, &l->max_connections);
	if (strcmp(key, "max_per_address") == 0)
		return setting_int(v, 0, CONN_MAX, &l->max_per_address);
	if (strcmp(key, "handshake_timeout") == 0)
		return setting_int(v, 1, 3600, &l->handshake_timeout);
	return -2;
}

static int set_capf(struct daemon_config *cfg, const char *key, const char *v)
{
	struct capf_server_cfg *c = &cfg->capf;

	if (strcmp(key, "listen") == 0)
		return addr_listen_setting(cfg->capf_listen, sizeof cfg->capf_listen, v);
	if (strcmp(key, "tls_profile") == 0)
		return set_tls_profile(v, &cfg->capf_tls_profile);
	if (strcmp(key, "tls_ciphers") == 0)
		return setting_str(cfg->capf_tls_ciphers, sizeof cfg->capf_tls_ciphers, v);
	if (strcmp(key, "auth_timeout") == 0)
		return setting_int(v, 1, 3600, &c->auth_timeout);
	if (strcmp(key, "keygen_timeout") == 0)
		return setting_int(v, 1, 86400, &c->keygen_timeout);
	if (strcmp(key, "lockout_failures") == 0)
		return setting_int(v, 0, 1000, &c->lockout_failures);
	if (strcmp(key, "lockout_seconds") == 0)
		return setting_int(v, 1, 86400 * 30, &c->lockout_seconds);
	if (strcmp(key, "lsc_days") == 0) {
		cfg->lsc_days_set = 1;
		return setting_int(v, 1, 36500, &c->lsc_days);
	}
	return set_limits(&cfg->capf_limits, key, v);
}

static int set_tvs(struct daemon_config *cfg, const char *key, const char *v)
{
	int ttl;

	if (strcmp(key, "listen") == 0) {
		cfg->tvs_listen_set = 1;
		return addr_listen_setting(cfg->tvs_listen, sizeof cfg->tvs_listen, v);
	}
	if (strcmp(key, "tls_profile") == 0)
		return set_tls_profile(v, &cfg->tvs_tls_profile);
	if (strcmp(key, "tls_ciphers") == 0)
		return setting_str(cfg->tvs_tls_ciphers, sizeof cfg->tvs_tls_ciphers, v);
	if (strcmp(key, "ttl") == 0) {
		if (setting_int(v, 0, INT_MAX, &ttl) < 0)
			return -1;
		cfg->tvs.default_ttl = (uint32_t)ttl;
		return 0;
	}
	if (strcmp(key, "idle_timeout") == 0)
		return setting_int(v, 1, 86400, &cfg->tvs.idle_timeout);
	return set_limits(&cfg->tvs_limits, key, v);
}

static int set_register(struct daemon_config *cfg, const char *key, const char *v)
{
	if (strcmp(key, "listen") == 0)
		return addr_listen_setting(cfg->register_listen, sizeof cfg->register_listen, v);
	if (strcmp(key, "tls_profile") == 0)
		return set_tls_profile(v, &cfg->register_tls_profile);
	if (strcmp(key, "tls_ciphers") == 0)
		return setting_str(cfg->register_tls_ciphers, sizeof cfg->register_tls_ciphers, v);
	if (strcmp(key, "timeout") == 0)
		return setting_int(v, 1, 3600, &cfg->reg.timeout);
	return set_limits(&cfg->reg_limits, key, v);
}

static int set_itl(struct daemon_config *cfg, const char *key, const char *v)
{
	if (strcmp(key, "tftp_dir") == 0)
		return *v ? setting_str(cfg->tftp_dir, sizeof cfg->tftp_dir, v) : setting_refuse("a folder");
	return -2;
}

int daemon_config_set(struct daemon_config *cfg, const char *section, const char *key, const char *value,
		      char *err, size_t errlen)
{
	int rc;

	setting_expected_clear();
	if (strcmp(section, "daemon") == 0)
		rc = set_daemon(cfg, key, value);
	else if (strcmp(section, "capf") == 0)
		rc = set_capf(cfg, key, value);
	else if (strcmp(section, "tvs") == 0)
		rc = set_tvs(cfg, key, value);
	else if (strcmp(section, "itl") == 0)
		rc = set_itl(cfg, key, value);
	else if (strcmp(section, "register") == 0)
		rc = set_register(cfg, key, value);
	else if (strcmp(section, "http") == 0)
		rc = api_config_set(&cfg->http, key, value);
	else if (strcmp(section, "files") == 0)
		rc = file_service_config_set(&cfg->files, key, value);
	else if (strcmp(section, "signer") == 0)
		rc = set_signer(cfg, key, value);
	else {
		seterr(err, errlen, "unknown section [%s]", section);
		return -1;
	}
	if (rc == -2)
		seterr(err, errlen, "unknown setting '%s' in [%s]", key, section);
	else if (rc < 0)
		seterr(err, errlen, "bad value for %s.%s: '%s' (%s%s)", section, key, value,
		       setting_expected()[0] ? "expected " : "see CONFIGURATION in opencapfd(8)", setting_expected());
	return rc < 0 ? -1 : 0;
}

struct ini_ctx {
	struct daemon_config *cfg;
	char err[ERRLEN];
	int failed;
};

static int config_ini_line(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *ctx = user;

	if (ctx->failed)
		return 0;
	if (!name) /* a section header alone (inih with INI_CALL_HANDLER_ON_NEW_SECTION) */
		return 1;
	if (daemon_config_set(ctx->cfg, section, name, value, ctx->err, sizeof ctx->err) < 0) {
		ctx->failed = 1;
		return 0;
	}
	return 1;
}

int daemon_config_parse_string(struct daemon_config *cfg, const char *text, char *err, size_t errlen)
{
	struct ini_ctx ctx = { .cfg = cfg };
	int line = ini_parse_string(text, config_ini_line, &ctx);

	if (line == 0)
		return 0;
	if (ctx.failed)
		seterr(err, errlen, "line %d: %s", line, ctx.err);
	else
		seterr(err, errlen, "line %d: syntax error (expected [section] or key = value)", line);
	return -1;
}

int daemon_config_load(struct daemon_config *cfg, const char *path, char *err, size_t errlen)
{
	uint8_t *text;
	size_t len;
	char inner[ERRLEN];
	int rc;

	if (read_file(path, CONFIG_MAX_BYTES, &text, &len, err, errlen) < 0)
		return -1;
	if (memchr(text, '\0', len)) {
		seterr(err, errlen, "%s: not a text file", path);
		free(text);
		return -1;
	}
	rc = daemon_config_parse_string(cfg, (const char *)text, inner, sizeof inner);
	if (rc < 0)
		seterr(err, errlen, "%s: %s", path, inner);
	free(text);
	return rc;
}

/* ---- connection caps ---- */

static int listen_enabled(const char *v)
{
	return v[0] && strcmp(v, "off") != 0;
}

/* The explicit listener caps together (*asked), scaled down when they
 * exceed total; what they take after that. */
static long fit_fixed(struct listener_limits **lims, const int *on, long total, long *asked)
{
	*asked = 0;
	for (int i = 0; i < 3; i++)
		if (on[i] && lims[i]->max_connections > 0)
			*asked += lims[i]->max_connections;
	if (*asked <= total)
		return *asked;
	for (int i = 0; i < 3; i++)
		if (on[i] && lims[i]->max_connections > 0) {
			long v = (long)lims[i]->max_connections * total / *asked;
			lims[i]->max_connections = v > 0 ? (int)v : 1;
		}
	return total;
}

/* Listeners without a cap of their own share `rest` by weight. */
static void share_rest(struct listener_limits **lims, const int *on, long rest)
{
	static const int weight[3] = { 6, 3, 1 };
	long wsum = 0;

	for (int i = 0; i < 3; i++)
		if (on[i] && lims[i]->max_connections == 0)
			wsum += weight[i];
	for (int i = 0; i < 3; i++)
		if (on[i] && lims[i]->max_connections == 0) {
			long share = rest * weight[i] / wsum;
			lims[i]->max_connections = share > 0 ? (int)share : 1;
		}
}

void daemon_config_connection_caps(struct daemon_config *cfg, long nofile, char *note, size_t notelen)
{
	struct listener_limits *lims[3] = { &cfg->capf_limits, &cfg->tvs_limits, &cfg->reg_limits };
	int on[3] = { listen_enabled(cfg->capf_listen), listen_enabled(cfg->tvs_listen),
		      listen_enabled(cfg->register_listen) };
	long reserve = nofile / 10 > 64 ? nofile / 10 : 64, budget = nofile - reserve, total, fixed, asked;
	size_t used = 0;

	if (budget < 3)
		budget = 3;
	if (budget > CONN_MAX)
		budget = CONN_MAX;
	total = cfg->max_connections < budget ? cfg->max_connections : budget;
	note[0] = '\0';
	if (cfg->max_connections_set && cfg->max_connections > budget)
		used = (size_t)snprintf(note, notelen, "max_connections %d lowered to %ld (descriptor limit %ld less "
					"%ld kept for the store, logs and the API)", cfg->max_connections, total,
					nofile, reserve);
	cfg->max_connections = (int)total;
	fixed = fit_fixed(lims, on, total, &asked);
	if (asked > fixed && used < notelen)
		snprintf(note + used, notelen - used, "%sthe listeners' max_connections (%ld together) lowered to "
			 "fit the daemon's %ld", used ? "; " : "", asked, total);
	share_rest(lims, on, total - fixed);
}

/* Bytes [from, to) of two configurations differ. */
static int range_differs(const struct daemon_config *a, const struct daemon_config *b, size_t from, size_t to)
{
	return memcmp((const char *)a + from, (const char *)b + from, to - from) != 0;
}

void daemon_config_changes(const struct daemon_config *running, const struct daemon_config *reread, char *out,
			   size_t cap)
{
	static const struct { const char *name; size_t from, to; } sections[] = {
		{ "[daemon]", offsetof(struct daemon_config, state_dir), offsetof(struct daemon_config, log_level) },
		{ "[daemon]", offsetof(struct daemon_config, pidfile), offsetof(struct daemon_config, drain_seconds) },
		{ "[capf]", offsetof(struct daemon_config, capf_listen), offsetof(struct daemon_config, tvs_listen) },
		{ "[tvs]", offsetof(struct daemon_config, tvs_listen), offsetof(struct daemon_config, register_listen) },
		{ "[register]", offsetof(struct daemon_config, register_listen), offsetof(struct daemon_config, http) },
		{ "[http]", offsetof(struct daemon_config, http), offsetof(struct daemon_config, tftp_dir) },
		{ "[itl]", offsetof(struct daemon_config, tftp_dir), offsetof(struct daemon_config, files) },
		{ "[files]", offsetof(struct daemon_config, files), offsetof(struct daemon_config, signer_lsc_rate) },
		{ "[signer]", offsetof(struct daemon_config, signer_lsc_rate), sizeof(struct daemon_config) },
	};
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
		if (range_differs(running, reread, sections[i].from, sections[i].to) && !strstr(out, sections[i].name))
			n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? " " : "", sections[i].name);
}
