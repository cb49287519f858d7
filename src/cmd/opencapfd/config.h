/*
 * config.h: the daemon's configuration: built-in defaults, then the INI file
 * (--config), then command-line options, each overriding the one before.
 */
#ifndef OPENCAPFD_CONFIG_H
#define OPENCAPFD_CONFIG_H

#include <stddef.h>

#include "api/api.h"
#include "capf/server_session.h"
#include "net/tls.h"
#include "net/register_listener.h"
#include "net/tvs_listener.h"

struct daemon_config {
	char state_dir[1024];
	int workers;                 /* 0 = one per core */
	int max_connections;
	int log_level;               /* enum log_level */
	char pidfile[1024];

	char capf_listen[128];       /* "" = disabled */
	enum tls_profile capf_tls_profile;
	char capf_tls_ciphers[512];
	struct capf_server_cfg capf;
	int lsc_days_set;            /* lsc_days given in the file or on the command line */

	char tvs_listen[128];        /* "" or "off" = disabled */
	int tvs_listen_set;          /* given in the file or on the command line */
	enum tls_profile tvs_tls_profile;
	char tvs_tls_ciphers[512];
	struct tvs_service_cfg tvs;

	char register_listen[128];   /* [register]: "" or "off" = disabled (the default) */
	enum tls_profile register_tls_profile;
	char register_tls_ciphers[512];
	struct register_service_cfg reg;

	struct api_config http;       /* [http]: the admin API, web UI and metrics */

	char tftp_dir[1024];         /* [itl] tftp_dir: "" = keep the state's setting */
};

void daemon_config_defaults(struct daemon_config *cfg);
/* Apply one setting; section is "daemon", "capf", "tvs" or "itl". -1 with err for an unknown
 * key or a bad value. */
int daemon_config_set(struct daemon_config *cfg, const char *section, const char *key, const char *value,
		      char *err, size_t errlen);
/* INI text; errors name the line. */
int daemon_config_parse_string(struct daemon_config *cfg, const char *text, char *err, size_t errlen);
int daemon_config_load(struct daemon_config *cfg, const char *path, char *err, size_t errlen);

#endif
