/*
 * config.h: the daemon's configuration: built-in defaults, then the INI file
 * (--config), then command-line options, each overriding the one before.
 */
#ifndef OPENCAPFD_CONFIG_H
#define OPENCAPFD_CONFIG_H

#include <stddef.h>

#include "capf/server_session.h"
#include "net/tls.h"

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
};

void daemon_config_defaults(struct daemon_config *cfg);
/* Apply one setting; section is "daemon" or "capf". -1 with err for an unknown
 * key or a bad value. */
int daemon_config_set(struct daemon_config *cfg, const char *section, const char *key, const char *value,
		      char *err, size_t errlen);
/* INI text; errors name the line. */
int daemon_config_parse_string(struct daemon_config *cfg, const char *text, char *err, size_t errlen);
int daemon_config_load(struct daemon_config *cfg, const char *path, char *err, size_t errlen);

#endif
