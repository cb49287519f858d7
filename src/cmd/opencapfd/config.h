/*
 * config.h: the daemon's configuration: built-in defaults, then the INI file
 * (--config), then command-line options, each overriding the one before.
 */
#ifndef OPENCAPFD_CONFIG_H
#define OPENCAPFD_CONFIG_H

#include <stddef.h>

#include "api/api.h"
#include "capf/server_session.h"
#include "net/conn_limit.h"
#include "net/file_service.h"
#include "net/tls.h"
#include "net/register_listener.h"
#include "net/tvs_listener.h"

struct daemon_config {
	char state_dir[1024];
	char store_uri[1024];        /* "": the database is SQLite in the state (or $OPENCAPF_STORE...) */
	char node[32];               /* this node's name in operation claims ("": the host name) */
	int workers;                 /* 0 = one per core */
	int max_connections;         /* all listeners together; see daemon_config_connection_caps */
	int max_connections_set;     /* given in the file or on the command line */
	int log_level;               /* enum log_level */
	char pidfile[1024];
	char user[64];               /* started as root: the workers' user (default opencapf) */
	int user_set;                /* given in the file or on the command line */
	int drain_seconds;           /* on SIGTERM: how long open sessions may take to end */

	char capf_listen[128];       /* "" = disabled */
	enum tls_profile capf_tls_profile;
	char capf_tls_ciphers[512];
	struct capf_server_cfg capf;
	struct listener_limits capf_limits;
	int lsc_days_set;            /* lsc_days given in the file or on the command line */

	char tvs_listen[128];        /* "" or "off" = disabled */
	int tvs_listen_set;          /* given in the file or on the command line */
	enum tls_profile tvs_tls_profile;
	char tvs_tls_ciphers[512];
	struct tvs_service_cfg tvs;
	struct listener_limits tvs_limits;

	char register_listen[128];   /* [register]: "" or "off" = disabled (the default) */
	enum tls_profile register_tls_profile;
	char register_tls_ciphers[512];
	struct register_service_cfg reg;
	struct listener_limits reg_limits;

	struct api_config http;       /* [http]: the admin API, web UI and metrics */

	char tftp_dir[1024];         /* [itl] tftp_dir: "" = keep the state's setting */

	struct file_service_cfg files; /* [files]: TFTP and HTTP over the tftp_dir folder */

	int signer_lsc_rate;          /* [signer] lsc_per_second: LSCs the signer signs a second (burst twice) */
	int signer_ops_rate;          /* [signer] ops_per_second: other signatures a second (burst twice) */
};

#define SIGNER_LSC_RATE_DEFAULT 5000
#define SIGNER_OPS_RATE_DEFAULT 100000

void daemon_config_defaults(struct daemon_config *cfg);
/* Apply one setting; section is "daemon", "capf", "tvs" or "itl". -1 with err for an unknown
 * key or a bad value. */
int daemon_config_set(struct daemon_config *cfg, const char *section, const char *key, const char *value,
		      char *err, size_t errlen);
/* INI text; errors name the line. */
int daemon_config_parse_string(struct daemon_config *cfg, const char *text, char *err, size_t errlen);
int daemon_config_load(struct daemon_config *cfg, const char *path, char *err, size_t errlen);

/* The sections whose settings differ between the running configuration
 * and one read again, other than what a reload applies (log_level,
 * drain_seconds): "[capf] [http]" into out ("" when none). */
void daemon_config_changes(const struct daemon_config *running, const struct daemon_config *reread, char *out,
			   size_t cap);

/* Connection caps from the descriptor limit `nofile` (the soft limit after
 * raising it to the hard one): the daemon's total is nofile less a reserve
 * for the store, logs, committer and API (max(64, nofile / 10)), or
 * max_connections when that is lower. Listeners enabled without a
 * max_connections of their own share what the others leave by weight (CAPF
 * 6, TVS 3, registration 1); caps that do not fit are lowered. What was
 * lowered is described in `note` (one sentence; "" when nothing was). */
void daemon_config_connection_caps(struct daemon_config *cfg, long nofile, char *note, size_t notelen);

#endif
