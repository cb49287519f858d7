/*
 * api_config.c: the [http] section of the daemon's configuration (and the
 * --http-* options): where the API listens, HTTPS, the web folder, session
 * lifetime and failed-login limits. Every key is checked; config.c turns
 * -2 into "unknown setting" and -1 into "bad value".
 */
#include "api/api.h"

#include <stdio.h>
#include <string.h>

#include "common/setting.h"
#include "net/addr.h"

void api_config_defaults(struct api_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	snprintf(cfg->listen, sizeof cfg->listen, "127.0.0.1:8080");
	cfg->listen_is_default = 1;
	cfg->session_minutes = 8 * 60;
	cfg->login_max_failures = 10;
	cfg->login_window = 300;
}

int api_config_set(struct api_config *cfg, const char *key, const char *value)
{
	if (strcmp(key, "listen") == 0) {
		cfg->listen_is_default = 0;
		return addr_listen_setting(cfg->listen, sizeof cfg->listen, value);
	}
	if (strcmp(key, "cert") == 0)
		return setting_str(cfg->cert_file, sizeof cfg->cert_file, value);
	if (strcmp(key, "key") == 0)
		return setting_str(cfg->key_file, sizeof cfg->key_file, value);
	if (strcmp(key, "web_dir") == 0)
		return setting_str(cfg->web_dir, sizeof cfg->web_dir, value);
	if (strcmp(key, "session_minutes") == 0)
		return setting_int(value, 1, 7 * 24 * 60, &cfg->session_minutes);
	if (strcmp(key, "metrics_public") == 0)
		return setting_bool(value, &cfg->metrics_public);
	if (strcmp(key, "login_max_failures") == 0)
		return setting_int(value, 1, 100000, &cfg->login_max_failures);
	if (strcmp(key, "login_window") == 0)
		return setting_int(value, 1, 86400, &cfg->login_window);
	return -2;
}
