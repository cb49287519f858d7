/*
 * phonesim.h: what the phonesim subcommands share: exit codes, option
 * parsing, the phone folder, the test manufacturing CA and the TLS client.
 *
 * A phone is a folder (phonesim(1), FILES): phone.conf (name, model),
 * mic.crt + mic.key, mfg.crt, and once CAPF has run, lsc.crt + lsc.key,
 * capf.pem (the CAPF certificate it trusts) and console.log. Private keys are
 * mode 0600 and never printed.
 */
#ifndef OPENCAPF_PHONESIM_H
#define OPENCAPF_PHONESIM_H

#include <getopt.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>

#include "common/util.h"

/* Exit codes (phonesim(1), EXIT STATUS). */
enum {
	PS_EXIT_OK = 0,          /* done; for capf: END_SESSION reason 0 or 1, phone step fine */
	PS_EXIT_LOCAL = 1,       /* usage or local error (files, keys, arguments) */
	PS_EXIT_SERVER = 2,      /* server ended with an error reason, or the phone's step failed */
	PS_EXIT_CONNECT = 3,     /* TCP/TLS failure, untrusted server, no capf.pem */
	PS_EXIT_PROTOCOL = 4,    /* bad message, wrong session id, timeout, closed early */
	PS_EXIT_HANGUP = 5,      /* --misbehave disconnect-*: the phone hung up as asked */
	PS_EXIT_BOOT = 6,        /* boot: the configuration missing, refused or not decrypted */
};

struct ps_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

void ps_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* getopt_long over a subcommand's options, always accepting --state DIR
 * (ignored: phonesim works on a phone folder) and -h/--help. Returns the
 * option, -1 at the end, '?' after printing an error, or 'h' after printing
 * the usage (the caller exits 0). */
int ps_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
	      const char *usage);
/* Exactly `want` positional arguments left; otherwise an error and usage. */
int ps_expect_args(int argc, char **argv, int want, const char *usage);
int ps_parse_int(const char *what, const char *s, int min, int max, int *out);
int ps_parse_seconds(const char *what, const char *s, double *out);

/* ---- the phone folder (phonedir.c) ---- */

#define PHONE_MODEL_DEFAULT "7962"

struct phone_dir {
	char path[PATH_MAX - 64];
	char name[32];
	char model[32];
	X509 *mic;
	EVP_PKEY *mic_key;
	X509 *lsc;                   /* NULL: no LSC installed */
	EVP_PKEY *lsc_key;
	X509 *mfg;                   /* the manufacturing CA copy, may be NULL */
	STACK_OF(X509) *capf;        /* trusted CAPF certificates, NULL if none */
};

int phone_dir_load(const char *path, struct phone_dir *pd, char *err, size_t errlen);
void phone_dir_free(struct phone_dir *pd);
int phone_dir_file(const struct phone_dir *pd, const char *file, char *out, size_t outcap);
int phone_dir_save_lsc(struct phone_dir *pd, X509 *lsc, EVP_PKEY *key, char *err, size_t errlen);
int phone_dir_delete_lsc(struct phone_dir *pd, char *err, size_t errlen);
int phone_conf_write(const char *dir, const char *name, const char *model, char *err, size_t errlen);
/* Print a console line and append it, time-stamped, to console.log. */
void phone_dir_console(const struct phone_dir *pd, const char *line);
/* Several certificates as one PEM file (mode 0644). */
int certs_save_pem(const char *path, X509 *const *certs, size_t n, char *err, size_t errlen);

/* ---- the test manufacturing CA and MICs (mfg.c) ---- */

/* "CN=Test Manufacturing CA,O=Example" or "/CN=.../O=...". */
X509_NAME *mfg_name_parse(const char *text, char *err, size_t errlen);
/* Self-signed: basicConstraints critical CA:TRUE, keyUsage critical
 * keyCertSign + cRLSign + digitalSignature, SKI; SHA-256. */
X509 *mfg_ca_create(EVP_PKEY *key, X509_NAME *subject, int days, char *err, size_t errlen);
/* MIC: subject CN=cn, O = the CA's O; random serial; CA:FALSE; keyUsage
 * digitalSignature + keyEncipherment; EKU clientAuth; SKI/AKI; SHA-256. */
X509 *mfg_mic_issue(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *mic_key, const char *cn, int days,
		    char *err, size_t errlen);

/* ---- the TLS client (tls_client.c) ---- */

enum tls_max { TLS_MAX_DEFAULT = 0, TLS_MAX_1_0, TLS_MAX_1_2, TLS_MAX_1_3 };
int tls_max_parse(const char *s, enum tls_max *out);

struct tls_client;
/* 1 if the text is HOST, HOST:PORT or [IPV6]:PORT. */
int tls_hostport_valid(const char *hostport);
/* Connect to HOST:PORT (default port 3804), TLS handshake without a client
 * certificate, then accept the server only if its certificate is one of
 * `trusted` or chains to one of them (trusted NULL: the caller checks the
 * server's certificate itself, with tls_client_peer). */
int tls_client_open(const char *hostport, STACK_OF(X509) *trusted, enum tls_max max, int timeout_ms,
		    struct tls_client **out, char *err, size_t errlen);
/* Start every later connection from this local address (a numeric IPv4
 * or IPv6 address; connections of the other family are left alone). */
int tls_client_set_source(const char *addr);
/* One SSL_write with the whole message. */
int tls_client_send(struct tls_client *c, const uint8_t *data, size_t len, char *err, size_t errlen);
/* Read one whole CAPF message into *msg (valid until the next call).
 * 1 = a message, 0 = the server closed, -1 = error or timeout (err says),
 * -2 = bytes that are not a CAPF message (*msg and *len hold them). */
int tls_client_recv(struct tls_client *c, const uint8_t **msg, size_t *len, char *err, size_t errlen);
void tls_client_close(struct tls_client *c);
/* The server's certificate (a new reference, X509_free it), and the SSL
 * object for protocols other than CAPF (TVS). */
X509 *tls_client_peer(const struct tls_client *c);
struct ssl_st *tls_client_ssl(struct tls_client *c);
/* "TLSv1.2 AES256-GCM-SHA384" */
void tls_client_describe(const struct tls_client *c, char *out, size_t outcap);

/* ---- subcommands ---- */

int cmd_mfg_ca(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_trust(int argc, char **argv);
int cmd_capf(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_load(int argc, char **argv);        /* cmd_load.c, load.h */
int cmd_load_limit(int argc, char **argv);  /* cmd_load_limit.c */
int cmd_load_ceiling(int argc, char **argv); /* cmd_load_ceiling.c */
int cmd_itl(int argc, char **argv);         /* cmd_itl.c: the phone's ITL */
int cmd_tvs(int argc, char **argv);         /* cmd_itl.c: asking TVS */
int cmd_register(int argc, char **argv);    /* cmd_register.c: TLS to call control (§3) */
int cmd_boot(int argc, char **argv);        /* cmd_boot.c: boot against a file server */

/* `phonesim capf` with an ITL in the folder (cmd_itl.c): connect and accept
 * the server only if its certificate is one of the ITL's CAPF records. */
enum { ITL_CAPF_OK = 0, ITL_CAPF_NONE = 1 /* no ITL: trust capf.pem */,
       ITL_CAPF_FAILED = -1 /* err says why: "LSC: Connection failed" */,
       ITL_CAPF_REFUSED = -2 /* console and result lines printed ("No valid CAPF server") */ };
int itl_capf_open(struct phone_dir *pd, const char *hostport, enum tls_max max, int timeout_ms,
		  struct tls_client **conn, char *err, size_t errlen);

/* `phonesim boot` (cmd_itl.c): install the ITL fetched from the file server
 * as a phone does (taking data over): the first one is trusted as it is
 * (after its own signature), a new one must be signed by a SAST the
 * installed one lists. Console lines printed; -1 with err on a local error. */
enum { ITL_FETCH_INSTALLED = 0, ITL_FETCH_UPDATED = 1, ITL_FETCH_SAME = 2,
       ITL_FETCH_REFUSED = 3 /* err says why; the installed ITL stays */ };
int itl_install_fetched(struct phone_dir *pd, uint8_t *data, size_t len, char *err, size_t errlen);
/* The installed ITL's certificates with one of roles (records carrying the
 * whole certificate, in roles' order) and whether its signer version is
 * 1.1 or later: 0, 1 when the phone has no ITL, -1 with err. */
int itl_installed_certs(const struct phone_dir *pd, const uint16_t *roles, size_t nroles, STACK_OF(X509) **certs,
			int *v11, char *err, size_t errlen);
/* 1 when the installed ITL lists cert with role (whole or hash-only record). */
int itl_installed_lists(const struct phone_dir *pd, uint16_t role, X509 *cert);

/* `phonesim boot` (cmd_capf.c): the CAPF operation its configuration asks
 * for, as `phonesim capf` runs it, against the first of servers (HOST:PORT)
 * that answers; auth_cert "lsc-first", "mic-first" or NULL. Console and
 * result lines printed; returns the exit status of `phonesim capf`. */
int capf_boot_session(struct phone_dir *pd, const char (*servers)[300], size_t n, const char *auth_string,
		      const char *auth_cert, double timeout);

#endif
