/*
 * file_service.c: the file service's thread and configuration
 * (file_service.h). Listeners are bound before the thread starts, so a busy
 * port is an error at start-up; stopping breaks the loop from the caller's
 * thread (libevent runs with pthreads locking, see workers.c) and frees
 * everything after the join.
 */
#include "net/file_service.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/setting.h"
#include "net/addr.h"
#include "net/http_files.h"
#include "net/tftp_server.h"
#include "net/tls.h"
#include "pki/pki.h"

struct file_service {
	struct event_base *base;
	struct tftp_server *tftp;
	struct http_files *http, *https;
	pthread_t thread;
	int running;
};

void file_service_defaults(struct file_service_cfg *c)
{
	memset(c, 0, sizeof *c);
	c->tftp_timeout_ms = 1000;
	c->tftp_retries = 5;
	c->tftp_max_transfers = 1024;
	c->tftp_max_per_address = 64;
}

int file_service_config_set(struct file_service_cfg *c, const char *key, const char *value)
{
	if (strcmp(key, "tftp_listen") == 0)
		return addr_listen_setting(c->tftp_listen, sizeof c->tftp_listen, value);
	if (strcmp(key, "http_listen") == 0)
		return addr_listen_setting(c->http_listen, sizeof c->http_listen, value);
	if (strcmp(key, "https_listen") == 0)
		return addr_listen_setting(c->https_listen, sizeof c->https_listen, value);
	if (strcmp(key, "https_cert") == 0 || strcmp(key, "https_key") == 0) {
		char *dst = key[6] == 'c' ? c->https_cert : c->https_key;

		return setting_str(dst, sizeof c->https_cert, value);
	}
	if (strcmp(key, "tftp_timeout_ms") == 0)
		return setting_int(value, 10, 60000, &c->tftp_timeout_ms);
	if (strcmp(key, "tftp_retries") == 0)
		return setting_int(value, 1, 100, &c->tftp_retries);
	if (strcmp(key, "tftp_max_transfers") == 0)
		return setting_int(value, 1, 1000000, &c->tftp_max_transfers);
	if (strcmp(key, "tftp_max_per_address") == 0)
		return setting_int(value, 1, 1000000, &c->tftp_max_per_address);
	return -2;
}

static int on(const char *listen)
{
	return listen[0] && strcmp(listen, "off") != 0;
}

int file_service_enabled(const struct file_service_cfg *c)
{
	return on(c->tftp_listen) || on(c->http_listen) || on(c->https_listen);
}

static void *run(void *arg)
{
	struct file_service *fs = arg;

	event_base_loop(fs->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static void free_parts(struct file_service *fs)
{
	tftp_server_free(fs->tftp);
	http_files_free(fs->http);
	http_files_free(fs->https);
	if (fs->base)
		event_base_free(fs->base);
	free(fs);
}

/* The HTTPS context from the configured PEM files (legacy TLS profile, as
 * for CAPF: phones' TLS stacks are old). The key comes through pki_key_load:
 * in opencapfd, a handle on the key the signer process holds. */
static SSL_CTX *https_ctx(const struct file_service_cfg *c, char *err, size_t errlen)
{
	FILE *cf = c->https_cert[0] ? fopen(c->https_cert, "r") : NULL;
	X509 *cert = cf ? PEM_read_X509(cf, NULL, NULL, NULL) : NULL;
	EVP_PKEY *key = c->https_key[0] ? pki_key_load(c->https_key, err, errlen) : NULL;
	SSL_CTX *ctx = NULL;

	if (!cert || !key)
		seterr(err, errlen, "HTTPS files need https_cert and https_key (PEM): %s unreadable",
		       !cert ? "the certificate" : "the key");
	else if ((ctx = tls_server_ctx(TLS_PROFILE_LEGACY, NULL, cert, key, err, errlen)) &&
		 EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
		log_warn("HTTPS files: the certificate's key is not EC; phones want an EC key on 6971");
	if (cf)
		fclose(cf);
	X509_free(cert);
	EVP_PKEY_free(key);
	return ctx;
}

static int bind_https(struct file_service *fs, const struct file_service_cfg *c, const char *dir,
		      char *err, size_t errlen)
{
	SSL_CTX *ctx = https_ctx(c, err, errlen);

	if (!ctx)
		return -1;
	fs->https = http_files_new(fs->base, c->https_listen, dir, ctx, err, errlen);
	SSL_CTX_free(ctx);
	if (!fs->https)
		return -1;
	log_info("HTTPS files listening on %s (port %d), serving %s; configurations unsigned",
		 c->https_listen, http_files_port(fs->https), dir);
	return 0;
}

static int bind_all(struct file_service *fs, const struct file_service_cfg *c, const char *dir,
		    char *err, size_t errlen)
{
	struct tftp_server_opts o = { .root = dir, .timeout_ms = (unsigned)c->tftp_timeout_ms,
				      .retries = (unsigned)c->tftp_retries,
				      .max_transfers = (unsigned)c->tftp_max_transfers,
				      .max_per_address = (unsigned)c->tftp_max_per_address };

	if (on(c->tftp_listen)) {
		if (!(fs->tftp = tftp_server_new(fs->base, c->tftp_listen, &o, err, errlen)))
			return -1;
		log_info("TFTP listening on %s (port %d), serving %s", c->tftp_listen,
			 tftp_server_port(fs->tftp), dir);
	}
	if (on(c->http_listen)) {
		if (!(fs->http = http_files_new(fs->base, c->http_listen, dir, NULL, err, errlen)))
			return -1;
		log_info("HTTP files listening on %s (port %d), serving %s", c->http_listen,
			 http_files_port(fs->http), dir);
	}
	return on(c->https_listen) ? bind_https(fs, c, dir, err, errlen) : 0;
}

struct file_service *file_service_start(const struct file_service_cfg *c, const char *dir,
					char *err, size_t errlen)
{
	struct file_service *fs = calloc(1, sizeof *fs);

	if (!fs || evthread_use_pthreads() < 0 || !(fs->base = event_base_new())) {
		seterr(err, errlen, "cannot create the file service's event loop");
		if (fs)
			free_parts(fs);
		return NULL;
	}
	if (bind_all(fs, c, dir, err, errlen) < 0) {
		free_parts(fs);
		return NULL;
	}
	if (pthread_create(&fs->thread, NULL, run, fs) != 0) {
		seterr(err, errlen, "cannot start the file service's thread");
		free_parts(fs);
		return NULL;
	}
	fs->running = 1;
	return fs;
}

void file_service_stop(struct file_service *fs)
{
	if (!fs)
		return;
	if (fs->running) {
		event_base_loopbreak(fs->base);
		pthread_join(fs->thread, NULL);
	}
	free_parts(fs);
}

void file_service_metrics_render(struct buf *out)
{
	tftp_metrics_render(out);
	http_files_metrics_render(out);
}
