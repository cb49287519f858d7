/*
 * cli.c: error output and option parsing shared by the phonesim
 * subcommands, so each reports mistakes the same way (one line on stderr,
 * then the usage, exit 1).
 */
#include "cmd/phonesim/phonesim.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/setting.h"

void ps_error(const char *fmt, ...)
{
	va_list ap;

	fputs("phonesim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

#define OPT_STATE 0x1000

int ps_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
	      const char *usage)
{
	struct option all[40];
	char so[64];
	size_t n = 0;
	int c;

	for (; longopts && longopts[n].name && n < 36; n++)
		all[n] = longopts[n];
	all[n++] = (struct option){ "state", required_argument, NULL, OPT_STATE };
	all[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	all[n] = (struct option){ NULL, 0, NULL, 0 };
	snprintf(so, sizeof so, ":h%s", shortopts ? shortopts : "");
	opterr = 0;
	do
		c = getopt_long(argc, argv, so, all, NULL);
	while (c == OPT_STATE);
	if (c == 'h') {
		fputs(usage, stdout);
		return 'h';
	}
	if (c == '?' || c == ':') {
		const char *what = argv[optind - 1];
		char shortname[3] = { '-', (char)optopt, '\0' };

		if (strncmp(what, "--", 2) != 0 && optopt > 0 && optopt < 128)
			what = shortname;
		ps_error("%s: %s '%s'", argv[0], c == ':' ? "missing value for" : "unknown option", what);
		fputs(usage, stderr);
		return '?';
	}
	return c;
}

int ps_expect_args(int argc, char **argv, int want, const char *usage)
{
	int n = argc - optind;

	if (n == want)
		return 0;
	if (n < want)
		ps_error("%s: missing argument (expected %d, got %d)", argv[0], want, n);
	else
		ps_error("%s: unexpected argument '%s'", argv[0], argv[optind + want]);
	fputs(usage, stderr);
	return -1;
}

int ps_parse_int(const char *what, const char *s, int min, int max, int *out)
{
	if (setting_int(s, min, max, out) < 0) {
		ps_error("%s must be a whole number from %d to %d, not '%s'", what, min, max, s);
		return -1;
	}
	return 0;
}

int ps_parse_seconds(const char *what, const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 86400) {
		ps_error("%s must be a number of seconds from 0 to 86400, not '%s'", what, s);
		return -1;
	}
	*out = v;
	return 0;
}
