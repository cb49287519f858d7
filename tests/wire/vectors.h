/*
 * vectors.h: loading the golden vectors (tests/vectors, see its README.md)
 * for the wire codec tests. The folder comes from the VECTORS_DIR
 * environment variable that tests/wire/meson.build sets.
 */
#ifndef OPENCAPF_TESTS_WIRE_VECTORS_H
#define OPENCAPF_TESTS_WIRE_VECTORS_H

#include <stddef.h>
#include <stdint.h>

struct vec_msg {
	char from[16];     /* "server" / "phone" */
	char command[64];  /* CAPF only: "COMMAND_AUTH_REQUEST"; "" otherwise */
	uint8_t *bytes;
	size_t len;
};

struct vec_session {
	char title[160];
	char device[64];          /* CAPF only */
	uint32_t session_id;      /* CAPF only */
	char *client_output;      /* TVS only, may be NULL */
	struct vec_msg *msgs;
	size_t nmsgs;
};

struct vec_sessions {
	struct vec_session *s;
	size_t n;
};

/* Load capf-sessions.json or tvs-sessions.json; aborts the test on error. */
void vec_load_sessions(const char *file, struct vec_sessions *out);
void vec_free_sessions(struct vec_sessions *v);

/* Read a whole vector file (malloc'd, free it); aborts the test on error. */
uint8_t *vec_read(const char *file, size_t *len);

/* Path of a vector file into out. */
void vec_path(const char *file, char *out, size_t outcap);

#endif
