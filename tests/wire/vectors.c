/*
 * vectors.c: reads the JSON session vectors and binary vector files for the
 * wire tests (vectors.h). Test-only code: failures stop the test with a
 * message naming the file.
 */
#include "vectors.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "vectors: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

void vec_path(const char *file, char *out, size_t outcap)
{
	const char *dir = getenv("VECTORS_DIR");

	if (!dir || !*dir)
		dir = "tests/vectors";
	if (path_join(out, outcap, dir, file) < 0)
		die("path too long for %s", file);
}

uint8_t *vec_read(const char *file, size_t *len)
{
	char path[1024], err[ERRLEN];
	uint8_t *data;

	vec_path(file, path, sizeof path);
	if (read_file(path, 4 * 1024 * 1024, &data, len, err, sizeof err) < 0)
		die("%s", err);
	return data;
}

static void copy_str(json_t *obj, const char *key, char *out, size_t outcap)
{
	const char *s = json_string_value(json_object_get(obj, key));

	snprintf(out, outcap, "%s", s ? s : "");
}

static void load_msg(json_t *jm, struct vec_msg *m)
{
	const char *hex = json_string_value(json_object_get(jm, "hex"));
	ssize_t n;

	if (!hex)
		die("message without hex");
	copy_str(jm, "from", m->from, sizeof m->from);
	copy_str(jm, "command", m->command, sizeof m->command);
	m->bytes = malloc(strlen(hex) / 2 + 1);
	if (!m->bytes)
		die("out of memory");
	n = hex_decode(hex, m->bytes, strlen(hex) / 2 + 1);
	if (n < 0)
		die("bad hex in a message");
	m->len = (size_t)n;
}

static void load_session(json_t *jc, struct vec_session *s)
{
	json_t *msgs = json_object_get(jc, "messages");
	const char *out = json_string_value(json_object_get(jc, "client_output"));

	copy_str(jc, "title", s->title, sizeof s->title);
	copy_str(jc, "device", s->device, sizeof s->device);
	s->session_id = (uint32_t)json_integer_value(json_object_get(jc, "session_id"));
	s->client_output = out ? strdup(out) : NULL;
	s->nmsgs = json_array_size(msgs);
	s->msgs = calloc(s->nmsgs ? s->nmsgs : 1, sizeof *s->msgs);
	if (!s->msgs)
		die("out of memory");
	for (size_t i = 0; i < s->nmsgs; i++)
		load_msg(json_array_get(msgs, i), &s->msgs[i]);
}

void vec_load_sessions(const char *file, struct vec_sessions *out)
{
	char path[1024];
	json_error_t jerr;
	json_t *root, *cases;

	vec_path(file, path, sizeof path);
	root = json_load_file(path, 0, &jerr);
	if (!root)
		die("%s: %s (line %d)", path, jerr.text, jerr.line);
	cases = json_object_get(root, "cases");
	out->n = json_array_size(cases);
	if (out->n == 0)
		die("%s: no cases", path);
	out->s = calloc(out->n, sizeof *out->s);
	if (!out->s)
		die("out of memory");
	for (size_t i = 0; i < out->n; i++)
		load_session(json_array_get(cases, i), &out->s[i]);
	json_decref(root);
}

void vec_free_sessions(struct vec_sessions *v)
{
	for (size_t i = 0; i < v->n; i++) {
		for (size_t j = 0; j < v->s[i].nmsgs; j++)
			free(v->s[i].msgs[j].bytes);
		free(v->s[i].msgs);
		free(v->s[i].client_output);
	}
	free(v->s);
	v->s = NULL;
	v->n = 0;
}
