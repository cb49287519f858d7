/*
 * api.h: the admin HTTP API (/api/v1/...), the web UI and the Prometheus
 * metrics of opencapfd, served by one thread of their own.
 *
 * The API is small traffic next to CAPF, so it runs on one dedicated event
 * loop with its own store handle: a slow request (a CAPF regeneration makes
 * a key) never holds up a phone, and a phone never holds up the UI.
 *
 * Listening: plain HTTP only on a loopback address; any other address needs
 * a certificate and key (HTTPS). docs/api.md describes every endpoint.
 */
#ifndef OPENCAPF_API_H
#define OPENCAPF_API_H

#include <stddef.h>

struct api_config {
	char listen[128];          /* "ADDR:PORT"; "" or "off": no HTTP listener */
	int listen_is_default;     /* not configured: failing to bind only warns */
	char cert_file[1024];      /* PEM certificate (chain) for HTTPS; "" = plain HTTP */
	char key_file[1024];       /* its private key */
	char web_dir[1024];        /* the web UI's files; "" = found next to the binary or source */
	int session_minutes;       /* browser session lifetime */
	int metrics_public;        /* /metrics without a token */
	int login_max_failures;    /* bad tokens per source address and round (a day) ... */
	int login_window;          /* ... then its bad tokens get 429 this long, doubled each round */
	char state_dir[1024];
	char argv0[1024];          /* to find web/ relative to the binary */
};
void api_config_defaults(struct api_config *cfg);
/* One [http] setting; -2 unknown key, -1 bad value, 0 set. */
int api_config_set(struct api_config *cfg, const char *key, const char *value);

struct api_server;

/* Open the store, bind the listener and start the thread. When the listener
 * is off, or the default address is busy (a warning is logged), the thread
 * runs only the upkeep timers (CRL, provisioning, ITL). */
int api_server_start(const struct api_config *cfg, struct api_server **out, char *err, size_t errlen);
/* Stop the thread, close everything (NULL is fine). */
void api_server_stop(struct api_server *srv);

#endif
