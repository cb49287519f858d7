/*
 * fuzz_config.c: fuzz target for the daemon's INI configuration parser.
 * Any text must either parse into settings within their bounds or be
 * refused with an error sentence; never crash or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/opencapfd/config.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct daemon_config cfg;
	char err[ERRLEN];
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	daemon_config_defaults(&cfg);
	err[0] = '\0';
	if (daemon_config_parse_string(&cfg, text, err, sizeof err) < 0) {
		if (err[0] == '\0')
			abort(); /* a refusal must say why */
	} else if (cfg.capf.auth_timeout < 1 || cfg.capf.keygen_timeout < 1 || cfg.max_connections < 1 ||
		   strlen(cfg.state_dir) >= sizeof cfg.state_dir) {
		abort(); /* accepted values stay within their bounds */
	}
	free(text);
	return 0;
}
