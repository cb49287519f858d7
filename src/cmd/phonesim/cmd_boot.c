/*
 * cmd_boot.c: `phonesim boot PHONEDIR SERVER`, a phone booting against the
 * file server DHCP named (docs/protocol/provisioning.md §1-2): CTLFile.tlv
 * (optional), ITLFile.tlv, then its configuration, each over HTTP (6970)
 * and over TFTP (69) once HTTP has failed; with an ITL of signer version
 * 1.1 the configuration over HTTPS (6971) first, the server trusted when
 * the ITL lists its certificate with the TFTP role.
 *
 * The first ITL is trusted as it comes (after its own signature) and kept
 * in the folder; later ones go through the installed one. With an ITL the
 * phone asks for SEP<MAC>.cnf.xml.sgn and refuses it unless it verifies
 * with the ITL's TFTP or SAST certificate; a stub with encrConfig makes it
 * fetch the .enc.sgn and decrypt it with its own key. capfAuthMode 2, 3 or
 * 4 (or 1 with --auth-string) then runs the CAPF operation as
 * `phonesim capf` does, against the first capfList server that answers.
 *
 * The phone's console lines go to stdout and console.log; one "result:"
 * line sums up, and the exit status says how far the boot went.
 */
#include "cmd/phonesim/boot.h"

#include <stdlib.h>
#include <string.h>

#include "pki/pki.h"
#include "wire/itl.h"
#include "wire/roles.h"

#define BOOT_FILE_MAX (4 * 1024 * 1024)
#define CTL_FILE "CTLFile.tlv"
#define ITL_FILE "ITLFile.tlv"

static const char boot_usage[] =
	"usage: phonesim boot PHONEDIR SERVER [OPTIONS]\n\n"
	"Boot as a phone whose DHCP named SERVER as its file server: fetch\n"
	"CTLFile.tlv (optional), ITLFile.tlv, then the phone's configuration\n"
	"(SEP<MAC>.cnf.xml.sgn once it holds an ITL, else SEP<MAC>.cnf.xml), over\n"
	"HTTP and, once HTTP has failed, over TFTP; with an ITL of signer version\n"
	"1.1 over HTTPS first (the server's certificate in the ITL with the TFTP role).\n"
	"The first ITL is trusted as it comes and kept in the folder; a later one must\n"
	"be signed by a SAST the installed one lists. The configuration must verify\n"
	"with the ITL's TFTP (or SAST) certificate; an encrypted one is decrypted\n"
	"with the phone's LSC. capfAuthMode 2 (null string), 3 (LSC first) or 4 (MIC\n"
	"first) make the phone run the CAPF operation by itself against the first\n"
	"capfList server that answers, trusting the ITL's CAPF certificate; mode 1\n"
	"needs --auth-string.\n\n"
	"  --http-port N         HTTP port (6970); 0: no HTTP, TFTP only\n"
	"  --https-port N        HTTPS port (6971); 0: no HTTPS\n"
	"  --tftp-port N         TFTP port (69)\n"
	"  --tftp-blksize N      blksize asked for (1024); 0: no options, 512-byte blocks\n"
	"  --auth-string DIGITS  the authentication string a user enters (mode 1)\n"
	"  --timeout SECS        longest wait for the file server (connect, a packet) (2)\n"
	"  --capf-timeout SECS   longest wait in the CAPF session (60)\n\n"
	"Exit status: 0 booted, and the CAPF operation, if any, worked; 1 usage or\n"
	"local error, or capfAuthMode 1 without --auth-string; 2 the CAPF server ended\n"
	"with an error reason or the phone's step failed; 3 no file server or no CAPF\n"
	"server answered, or no valid CAPF server; 4 CAPF protocol error or timeout;\n"
	"6 the configuration was not found, refused (unsigned, wrongly signed, not\n"
	"XML) or could not be decrypted.\n";

struct boot_run {
	const char *phonedir;
	char host[256];
	struct fetch_opts fo;
	int http_port, https_port, tftp_port;
	int http_down;                /* HTTP failed once: TFTP from then on */
	const char *auth_string;
	double timeout, capf_timeout;
	struct phone_dir pd;
	STACK_OF(X509) *signers;      /* the ITL's TFTP then SAST certificates */
	int have_itl, v11;
};

/* ---- options ---- */

static int parse_one(struct boot_run *r, int c, const char *arg)
{
	int v;

	switch (c) {
	case 'H': return ps_parse_int("--http-port", arg, 0, 65535, &r->http_port);
	case 'S': return ps_parse_int("--https-port", arg, 0, 65535, &r->https_port);
	case 'T': return ps_parse_int("--tftp-port", arg, 1, 65535, &r->tftp_port);
	case 'b':
		if (ps_parse_int("--tftp-blksize", arg, 0, 65464, &v) < 0)
			return -1;
		if (v != 0 && v < 8) {
			ps_error("--tftp-blksize must be 0 or from 8 to 65464");
			return -1;
		}
		r->fo.tftp_blksize = (unsigned)v;
		return 0;
	case 'a':
		if (strlen(arg) > 64) {
			ps_error("--auth-string: at most 64 characters");
			return -1;
		}
		r->auth_string = arg;
		return 0;
	case 't': return ps_parse_seconds("--timeout", arg, &r->timeout);
	case 'c': return ps_parse_seconds("--capf-timeout", arg, &r->capf_timeout);
	default: return -1;
	}
}

/* SERVER: a name, an IPv4 address, an IPv6 address with or without []. */
static int set_server(struct boot_run *r, const char *s)
{
	size_t n = strlen(s);
	const char *colon;

	if (s[0] == '[' && n > 2 && s[n - 1] == ']')
		snprintf(r->host, sizeof r->host, "%.*s", (int)(n - 2), s + 1);
	else
		snprintf(r->host, sizeof r->host, "%s", s);
	colon = strchr(r->host, ':');
	if (!r->host[0] || n >= sizeof r->host || strchr(r->host, '/') || strchr(r->host, ' ') ||
	    (colon && !strchr(colon + 1, ':'))) {
		ps_error("boot: '%s' is not a server name or address (ports are options)", s);
		return -1;
	}
	r->fo.host = r->host;
	return 0;
}

/* 0 ready, 1 help printed, -1 error printed. */
static int parse_args(struct boot_run *r, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "http-port", required_argument, NULL, 'H' },
		{ "https-port", required_argument, NULL, 'S' },
		{ "tftp-port", required_argument, NULL, 'T' },
		{ "tftp-blksize", required_argument, NULL, 'b' },
		{ "auth-string", required_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "capf-timeout", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = ps_getopt(argc, argv, "", opts, boot_usage)) != -1) {
		if (c == 'h')
			return 1;
		if (c == '?' || parse_one(r, c, optarg) < 0)
			return -1;
	}
	if (ps_expect_args(argc, argv, 2, boot_usage) < 0)
		return -1;
	if (r->timeout < 0.001 || r->capf_timeout < 0.001) {
		ps_error("timeouts must be more than 0");
		return -1;
	}
	r->phonedir = argv[optind];
	r->fo.timeout_ms = (int)(r->timeout * 1000);
	return set_server(r, argv[optind + 1]);
}

/* ---- fetching ---- */

static void console_file(struct boot_run *r, const char *what, const char *name, const char *detail)
{
	char line[ERRLEN + 400];

	snprintf(line, sizeof line, "%s: %s%s%s", what, name, detail ? ": " : "", detail ? detail : "");
	phone_dir_console(&r->pd, line);
}

static void console_got(struct boot_run *r, const char *name, size_t len, const char *how)
{
	char detail[64];

	snprintf(detail, sizeof detail, "%zu bytes over %s", len, how);
	console_file(r, "File", name, detail);
}

/* One file as a phone fetches it: HTTP, else TFTP. Console lines printed. */
static int fetch_file(struct boot_run *r, const char *name, struct buf *out)
{
	char err[ERRLEN];
	int rc = FETCH_FAILED, over_http = r->http_port && !r->http_down;

	if (over_http) {
		rc = fetch_http(&r->fo, r->http_port, name, out, err, sizeof err);
		if (rc == FETCH_FAILED) {
			console_file(r, "HTTP Error", name, err);
			r->http_down = 1;
			over_http = 0;
		}
	}
	if (!over_http)
		rc = fetch_tftp(&r->fo, r->tftp_port, name, out, err, sizeof err);
	if (rc == FETCH_OK)
		console_got(r, name, out->len, over_http ? "HTTP" : "TFTP");
	else if (rc == FETCH_NOT_FOUND)
		console_file(r, "File Not Found", name, NULL);
	else
		console_file(r, "TFTP Error", name, err);
	return rc;
}

/* ---- CTL and ITL ---- */

static void boot_ctl(struct boot_run *r)
{
	struct itl_file f;
	struct buf b;
	char err[ERRLEN], path[PATH_MAX], line[64];
	size_t signer;

	buf_init(&b);
	if (fetch_file(r, CTL_FILE, &b) == FETCH_OK) {
		if (itl_decode(&f, b.data, b.len, err, sizeof err) < 0) {
			phone_dir_console(&r->pd, "CTL Update Failed");
			printf("CTL refused: %s\n", err);
		} else {
			if (pki_itl_verify(&f, &signer, err, sizeof err) < 0) {
				phone_dir_console(&r->pd, "CTL Update Failed");
				printf("CTL refused: %s\n", err);
			} else if (phone_dir_file(&r->pd, CTL_FILE, path, sizeof path) == 0 &&
				   write_file_atomic(path, b.data, b.len, 0644, err, sizeof err) == 0) {
				snprintf(line, sizeof line, "CTL: Installed (%zu records)", f.nrecords);
				phone_dir_console(&r->pd, line);
			}
			itl_free(&f);
		}
	}
	buf_free(&b);
}

/* 0, or -1 on a local error (printed). */
static int boot_itl(struct boot_run *r)
{
	static const uint16_t roles[] = { ROLE_TFTP, ROLE_SAST };
	struct buf b;
	char err[ERRLEN];
	int rc;

	buf_init(&b);
	if (fetch_file(r, ITL_FILE, &b) == FETCH_OK) {
		rc = itl_install_fetched(&r->pd, b.data, b.len, err, sizeof err);
		buf_init(&b); /* the data was taken over */
		if (rc < 0) {
			ps_error("%s", err);
			return -1;
		}
		if (rc == ITL_FETCH_REFUSED)
			printf("ITL refused: %s\n", err);
	}
	buf_free(&b);
	rc = itl_installed_certs(&r->pd, roles, 2, &r->signers, &r->v11, err, sizeof err);
	if (rc < 0) {
		ps_error("%s", err);
		return -1;
	}
	r->have_itl = rc == 0;
	return 0;
}

/* ---- the configuration ---- */

static int https_trust(void *arg, X509 *peer)
{
	return itl_installed_lists(arg, ROLE_TFTP, peer);
}

static int refused(struct boot_run *r, const char *what, const char *name, const char *why)
{
	console_file(r, what, name, NULL);
	printf("result: %s refused: %s\n", name, why);
	return PS_EXIT_BOOT;
}

/* The signed configuration: over HTTPS (unsigned there) when the ITL is
 * 1.1, else over HTTP/TFTP, verified. PS_EXIT_OK with the XML in xml. */
static int fetch_signed(struct boot_run *r, const char *name, struct buf *xml)
{
	const uint8_t *content;
	size_t clen;
	char err[ERRLEN];
	struct buf b;
	int rc;

	if (r->v11 && r->https_port) {
		rc = fetch_https(&r->fo, r->https_port, name, https_trust, &r->pd, xml, err, sizeof err);
		if (rc == FETCH_OK) {
			console_got(r, name, xml->len, "HTTPS");
			return PS_EXIT_OK;
		}
		console_file(r, "HTTPS Error", name, rc == FETCH_NOT_FOUND ? "not found" : err);
	}
	buf_init(&b);
	rc = fetch_file(r, name, &b);
	if (rc != FETCH_OK) {
		buf_free(&b);
		printf("result: no configuration: %s %s\n", name, rc == FETCH_NOT_FOUND ? "not found" : "not fetched");
		return rc == FETCH_NOT_FOUND ? PS_EXIT_BOOT : PS_EXIT_CONNECT;
	}
	rc = boot_sgn_verify(b.data, b.len, r->signers, &content, &clen, err, sizeof err);
	if (rc == 0)
		buf_put(xml, content, clen);
	buf_free(&b);
	return rc == 0 ? PS_EXIT_OK : refused(r, "File Auth Error", name, err);
}

/* The full configuration after a stub: the .enc.sgn, decrypted. */
static int fetch_encrypted(struct boot_run *r, const char *name, struct buf *xml)
{
	char err[ERRLEN], line[96];
	struct buf b;
	int rc;

	buf_init(&b);
	rc = fetch_file(r, name, &b);
	if (rc != FETCH_OK) {
		buf_free(&b);
		printf("result: no configuration: %s %s\n", name, rc == FETCH_NOT_FOUND ? "not found" : "not fetched");
		return rc == FETCH_NOT_FOUND ? PS_EXIT_BOOT : PS_EXIT_CONNECT;
	}
	buf_reset(xml);
	rc = boot_sgn_decrypt(b.data, b.len, r->signers, &r->pd, xml, err, sizeof err);
	buf_free(&b);
	if (rc < 0)
		return refused(r, "File Decryption Failed", name, err);
	snprintf(line, sizeof line, "Config: decrypted %s (%zu bytes)", name, xml->len);
	phone_dir_console(&r->pd, line);
	return PS_EXIT_OK;
}

/* Fetch, check and read the configuration into c: PS_EXIT_OK or a status. */
static int boot_config(struct boot_run *r, struct boot_config *c)
{
	char name[96], err[ERRLEN];
	struct buf xml;
	int rc;

	buf_init(&xml);
	snprintf(name, sizeof name, "%s.cnf.xml%s", r->pd.name, r->have_itl ? ".sgn" : "");
	if (r->have_itl) {
		rc = fetch_signed(r, name, &xml);
	} else {
		rc = fetch_file(r, name, &xml);
		if (rc != FETCH_OK)
			printf("result: no configuration: %s %s\n", name, rc == FETCH_NOT_FOUND ? "not found" : "not fetched");
		rc = rc == FETCH_OK ? PS_EXIT_OK : rc == FETCH_NOT_FOUND ? PS_EXIT_BOOT : PS_EXIT_CONNECT;
	}
	if (rc == PS_EXIT_OK && boot_config_parse(xml.data, xml.len, name, c, err, sizeof err) < 0)
		rc = refused(r, "Config Error", name, err);
	if (rc == PS_EXIT_OK && c->encr_config) {
		snprintf(name, sizeof name, "%s.cnf.xml.enc.sgn", r->pd.name);
		rc = fetch_encrypted(r, name, &xml);
		if (rc == PS_EXIT_OK && boot_config_parse(xml.data, xml.len, name, c, err, sizeof err) < 0)
			rc = refused(r, "Config Error", name, err);
	}
	buf_free(&xml);
	return rc;
}

/* ---- CAPF ---- */

static int boot_capf(struct boot_run *r, const struct boot_config *c)
{
	static const char *const cert_mode[] = { NULL, NULL, NULL, "lsc-first", "mic-first" };
	int mode = c->capf_auth_mode;

	printf("config: capfAuthMode %d, %zu CAPF server%s", mode, c->ncapf, c->ncapf == 1 ? "" : "s");
	for (size_t i = 0; i < c->ncapf; i++)
		printf("%s%s", i ? ", " : ": ", c->capf[i]);
	putchar('\n');
	if (mode <= 0) {
		printf("result: booted, no CAPF operation\n");
		return PS_EXIT_OK;
	}
	if (mode > 4) {
		printf("result: capfAuthMode %d is not one this phone knows\n", mode);
		return PS_EXIT_BOOT;
	}
	if (mode == 1 && !r->auth_string) {
		phone_dir_console(&r->pd, "LSC: Authentication string required");
		printf("result: capfAuthMode 1 needs the authentication string a user enters (--auth-string)\n");
		return PS_EXIT_LOCAL;
	}
	if (c->ncapf == 0) {
		phone_dir_console(&r->pd, "LSC: Connection failed");
		printf("result: connection failed: the configuration names no CAPF server (capfList)\n");
		return PS_EXIT_CONNECT;
	}
	fflush(stdout);
	return capf_boot_session(&r->pd, c->capf, c->ncapf, mode == 1 ? r->auth_string : NULL,
				 cert_mode[mode], r->capf_timeout);
}

static int boot(struct boot_run *r)
{
	struct boot_config c;
	int rc;

	boot_ctl(r);
	if (boot_itl(r) < 0)
		return PS_EXIT_LOCAL;
	rc = boot_config(r, &c);
	if (rc != PS_EXIT_OK)
		return rc;
	return boot_capf(r, &c);
}

int cmd_boot(int argc, char **argv)
{
	struct boot_run r = { .http_port = 6970, .https_port = 6971, .tftp_port = 69, .timeout = 2.0,
			      .capf_timeout = 60.0, .fo = { .max = BOOT_FILE_MAX, .tftp_blksize = 1024 } };
	char err[ERRLEN];
	int rc;

	rc = parse_args(&r, argc, argv);
	if (rc != 0)
		return rc > 0 ? PS_EXIT_OK : PS_EXIT_LOCAL;
	if (phone_dir_load(r.phonedir, &r.pd, err, sizeof err) < 0) {
		ps_error("%s", err);
		return PS_EXIT_LOCAL;
	}
	rc = boot(&r);
	fflush(stdout);
	sk_X509_pop_free(r.signers, X509_free);
	phone_dir_free(&r.pd);
	return rc;
}
