/*
 * api_static.c: the web UI's files (web/ in the source tree: plain HTML,
 * CSS and JavaScript, no build step), served from one folder.
 *
 * The folder is [http] web_dir, else the first of: the installed data
 * folder (OPENCAPF_WEB_DIR), share/opencapf/web next to the binary's
 * prefix, the source tree's web/ (OPENCAPF_SOURCE_WEB_DIR, so a build runs
 * from its checkout). Only plain names are served: letters, digits, '.',
 * '-', '_' and '/', no segment starting with '.', nothing above the folder.
 * The pages hold no data: they call /api/v1 like any client.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api_internal.h"
#include "common/util.h"

#define STATIC_MAX_BYTES (4 * 1024 * 1024)

#ifndef OPENCAPF_WEB_DIR
#define OPENCAPF_WEB_DIR "/usr/local/share/opencapf/web"
#endif
#ifndef OPENCAPF_SOURCE_WEB_DIR
#define OPENCAPF_SOURCE_WEB_DIR ""
#endif

static int has_index(const char *dir)
{
	char path[1200];
	struct stat sb;

	return dir[0] && path_join(path, sizeof path, dir, "index.html") == 0 && stat(path, &sb) == 0 &&
	       S_ISREG(sb.st_mode);
}

/* PREFIX/share/opencapf/web for a binary in PREFIX/bin or PREFIX/sbin. */
static void next_to_binary(char *out, size_t outcap)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	char *slash;

	out[0] = '\0';
	if (n <= 0)
		return;
	exe[n] = '\0';
	for (int i = 0; i < 2 && (slash = strrchr(exe, '/')); i++)
		*slash = '\0';
	snprintf(out, outcap, "%s/share/opencapf/web", exe);
}

int api_static_find_dir(const struct api_config *cfg, char *out, size_t outcap)
{
	char near[PATH_MAX];

	next_to_binary(near, sizeof near);
	const char *candidates[] = { cfg->web_dir, OPENCAPF_WEB_DIR, near, OPENCAPF_SOURCE_WEB_DIR };

	out[0] = '\0';
	for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
		if (i > 0 && cfg->web_dir[0])
			break; /* a configured folder is the only one tried */
		if (has_index(candidates[i])) {
			snprintf(out, outcap, "%s", candidates[i]);
			return 0;
		}
	}
	return -1;
}

static const char *content_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },   { ".svg", "image/svg+xml" },
		{ ".png", "image/png" },                 { ".ico", "image/x-icon" },
		{ ".json", "application/json" },         { ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

/* A path below the folder that may be served. */
static int plain_path(const char *p)
{
	if (*p != '/')
		return 0;
	for (const char *s = p; *s; s++) {
		if (*s == '/' && s[1] == '.')
			return 0;
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '-' || *s == '_' || *s == '/'))
			return 0;
	}
	return !strstr(p, "//");
}

void api_static(struct api_req *r)
{
	const char *rel = strcmp(r->path, "/") == 0 ? "/index.html" : r->path;
	char path[2200], err[ERRLEN];
	uint8_t *data = NULL;
	struct stat sb;
	size_t len;

	if (r->method != EVHTTP_REQ_GET && r->method != EVHTTP_REQ_HEAD) {
		api_header(r, "Allow", "GET, HEAD");
		api_reply_error(r, 405, "%s is not allowed on %s (allowed: GET, HEAD)", api_method_name(r->method),
				r->path);
		return;
	}
	if (!r->srv->web_dir[0] || !plain_path(rel) || snprintf(path, sizeof path, "%s%s", r->srv->web_dir, rel) >=
							       (int)sizeof path ||
	    stat(path, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    read_file(path, STATIC_MAX_BYTES, &data, &len, err, sizeof err) < 0) {
		api_reply_error(r, 404, "not found: %s", r->path);
		return;
	}
	api_header(r, "Cache-Control", "no-cache");
	api_reply_text(r, 200, content_type(rel), data, len);
	free(data);
}
