/*
 * cmd_itl.c: the phone's Initial Trust List and its Trust Verification
 * Service client:
 *   - `phonesim itl PHONEDIR FILE`: install an ITL the way a phone does:
 *     the file must verify with its own SAST record, and once the phone
 *     holds an ITL, a new one must be signed by a SAST the installed one
 *     lists (--replace erases the old one first, like the phone's
 *     "Erase ITL" menu);
 *   - `phonesim capf` with an ITL installed (itl_capf_open): the CAPF
 *     server's certificate must be one of the ITL's CAPF records (the whole
 *     certificate, or its SHA-1 for hash-only records), else
 *     "LSC: Connection failed"; an ITL without a CAPF record means
 *     "No valid CAPF server";
 *   - `phonesim tvs PHONEDIR HOST[:PORT] CERT...`: ask TVS (whose
 *     certificate must be in the ITL with role TVS) about certificates, one
 *     connection, one VERIFY_REQUEST each, printed as the public TVS client
 *     prints them.
 *
 * The ITL lives in the phone folder as ITLFile.tlv and is verified again
 * every time it is read, so a file changed on disk is refused too.
 */
#include "cmd/phonesim/phonesim.h"

#include <errno.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capf/itl_show.h"
#include "pki/pki.h"
#include "tvs/tvs_client.h"
#include "wire/itl.h"
#include "wire/roles.h"
#include "wire/tvs_msg.h"

#define PHONE_ITL_FILE "ITLFile.tlv"
#define TVS_TIMEOUT_DEFAULT 10.0

/* A verified ITL: the bytes (f points into them) and its signer record. */
struct phone_itl {
	uint8_t *data;
	size_t len;
	struct itl_file f;
	size_t signer;
};

static void phone_itl_free(struct phone_itl *it)
{
	itl_free(&it->f);
	free(it->data);
	it->data = NULL;
}

/* Decode and verify bytes (taking them over): 0, or -1 with the reason. */
static int phone_itl_parse(struct phone_itl *it, uint8_t *data, size_t len, char *err, size_t errlen)
{
	char why[ERRLEN];

	memset(it, 0, sizeof *it);
	it->data = data;
	it->len = len;
	if (itl_decode(&it->f, data, len, why, sizeof why) < 0 ||
	    itl_unknown_tags(&it->f, why, sizeof why) > 0 || pki_itl_verify(&it->f, &it->signer, why, sizeof why) < 0) {
		seterr(err, errlen, "%s", why);
		phone_itl_free(it);
		return -1;
	}
	return 0;
}

/* The phone's installed ITL: 0 loaded and verified, 1 none, -1 unusable. */
static int phone_itl_load(const struct phone_dir *pd, struct phone_itl *it, char *err, size_t errlen)
{
	char path[PATH_MAX], why[ERRLEN];
	struct stat sb;
	uint8_t *data;
	size_t len;

	memset(it, 0, sizeof *it);
	phone_dir_file(pd, PHONE_ITL_FILE, path, sizeof path);
	if (stat(path, &sb) < 0)
		return 1;
	if (read_file(path, ITL_MAX_FILE, &data, &len, err, errlen) < 0)
		return -1;
	if (phone_itl_parse(it, data, len, why, sizeof why) < 0) {
		seterr(err, errlen, "the installed ITL (%s) does not verify: %s", path, why);
		return -1;
	}
	return 0;
}

/* Does any record with `role` describe the certificate? */
static int itl_lists(const struct itl_file *f, uint16_t role, X509 *cert)
{
	uint8_t *der = NULL;
	size_t len;
	int found = 0;

	if (pki_cert_to_der(cert, &der, &len) < 0)
		return 0;
	for (size_t i = 0; i < f->nrecords && !found; i++)
		found = itl_record_has_role(&f->records[i], role) && pki_itl_record_matches(&f->records[i], der, len);
	OPENSSL_free(der);
	return found;
}

static size_t count_role(const struct itl_file *f, uint16_t role)
{
	size_t n = 0;

	for (size_t i = 0; i < f->nrecords; i++)
		n += (size_t)itl_record_has_role(&f->records[i], role);
	return n;
}

/* ---- phonesim itl ---- */

static const char itl_usage[] =
	"usage: phonesim itl PHONEDIR FILE [--replace]\n\n"
	"Install an ITL file (ITLFile.tlv) into the phone, as a phone does after\n"
	"downloading it over TFTP: the file must be signed by its own SAST record, and\n"
	"when the phone already holds an ITL, by a SAST that one lists. With an ITL\n"
	"installed, 'phonesim capf' trusts only the ITL's CAPF certificate and\n"
	"'phonesim tvs' only its TVS certificate.\n\n"
	"  --replace   erase the installed ITL first (the phone's 'Erase ITL' menu)\n\n"
	"Exit status: 0 installed, 1 refused (the reason is printed) or local error.\n";

/* The new file's signer must be a SAST of the installed ITL. */
static int signer_trusted(const struct phone_itl *old, const struct phone_itl *new, char *err, size_t errlen)
{
	const struct itl_record *r = &new->f.records[new->signer];
	struct itl_bytes der;

	if (itl_record_certificate(r, &der) < 0) {
		seterr(err, errlen, "the new ITL's signer record carries no certificate");
		return -1;
	}
	for (size_t i = 0; i < old->f.nrecords; i++)
		if (itl_record_has_role(&old->f.records[i], ROLE_SAST) &&
		    pki_itl_record_matches(&old->f.records[i], der.p, der.len))
			return 0;
	seterr(err, errlen, "it is signed by a SAST the installed ITL does not list");
	return -1;
}

static void print_records(const struct itl_file *f)
{
	for (size_t i = 0; i < f->nrecords; i++) {
		uint16_t roles[8];
		size_t n = itl_record_roles(&f->records[i], roles, 8);
		char subject[512] = "", label[64];

		itl_record_subject(&f->records[i], subject, sizeof subject);
		printf("ITL record %zu:", i + 1);
		for (size_t k = 0; k < n && k < 8; k++) {
			itl_role_label(roles[k], label, sizeof label);
			printf("%s %s", k ? "," : "", label);
		}
		printf(" %s%s\n", subject, itl_record_find(&f->records[i], ITL_R_CERTIFICATE) ? "" : " (hash only)");
	}
}

static int install(struct phone_dir *pd, const char *file, int replace)
{
	struct phone_itl old, new;
	char err[ERRLEN], path[PATH_MAX], line[ERRLEN + 64];
	uint8_t *data;
	size_t len;
	int have;

	if (read_file(file, ITL_MAX_FILE, &data, &len, err, sizeof err) < 0) {
		ps_error("%s", err);
		return PS_EXIT_LOCAL;
	}
	if (phone_itl_parse(&new, data, len, err, sizeof err) < 0)
		goto refused;
	have = replace ? 1 : phone_itl_load(pd, &old, err, sizeof err);
	if (have == 0) {
		int rc = signer_trusted(&old, &new, err, sizeof err);

		phone_itl_free(&old);
		if (rc < 0) {
			phone_itl_free(&new);
			snprintf(err + strlen(err), sizeof err - strlen(err),
				 " (use --replace to erase the installed ITL first)");
			goto refused;
		}
	} else if (have < 0) {
		ps_error("%s (use --replace)", err);
		phone_itl_free(&new);
		return PS_EXIT_LOCAL;
	}
	phone_dir_file(pd, PHONE_ITL_FILE, path, sizeof path);
	if (write_file_atomic(path, new.data, new.len, 0644, err, sizeof err) < 0) {
		ps_error("%s", err);
		phone_itl_free(&new);
		return PS_EXIT_LOCAL;
	}
	snprintf(line, sizeof line, "ITL: Installed (%zu records)", new.f.nrecords);
	phone_dir_console(pd, line);
	print_records(&new.f);
	phone_itl_free(&new);
	return PS_EXIT_OK;
refused:
	phone_dir_console(pd, "Trust List Update Failed");
	printf("result: ITL refused: %s\n", err);
	return PS_EXIT_LOCAL;
}

int cmd_itl(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "replace", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct phone_dir pd;
	char err[ERRLEN];
	int c, replace = 0, rc;

	while ((c = ps_getopt(argc, argv, "", opts, itl_usage)) != -1) {
		if (c == 'h')
			return PS_EXIT_OK;
		if (c != 'r')
			return PS_EXIT_LOCAL;
		replace = 1;
	}
	if (ps_expect_args(argc, argv, 2, itl_usage) < 0)
		return PS_EXIT_LOCAL;
	if (phone_dir_load(argv[optind], &pd, err, sizeof err) < 0) {
		ps_error("%s", err);
		return PS_EXIT_LOCAL;
	}
	rc = install(&pd, argv[optind + 1], replace);
	phone_dir_free(&pd);
	return rc;
}

/* ---- CAPF with an ITL ---- */

/* Connect to the CAPF server and accept it only if its certificate is one
 * of the ITL's CAPF records. */
int itl_capf_open(struct phone_dir *pd, const char *hostport, enum tls_max max, int timeout_ms,
		  struct tls_client **conn, char *err, size_t errlen)
{
	struct phone_itl it;
	X509 *peer;
	int rc = phone_itl_load(pd, &it, err, errlen);

	*conn = NULL;
	if (rc == 1)
		return ITL_CAPF_NONE;
	if (rc < 0) {
		phone_dir_console(pd, "LSC: Connection failed");
		printf("result: connection failed: %s\n", err);
		return ITL_CAPF_REFUSED;
	}
	if (count_role(&it.f, ROLE_CAPF) == 0) {
		phone_itl_free(&it);
		phone_dir_console(pd, "No valid CAPF server");
		printf("result: no valid CAPF server: the ITL has no CAPF record\n");
		return ITL_CAPF_REFUSED;
	}
	rc = ITL_CAPF_FAILED;
	if (tls_client_open(hostport, NULL, max, timeout_ms, conn, err, errlen) == 0) {
		peer = tls_client_peer(*conn);
		if (peer && itl_lists(&it.f, ROLE_CAPF, peer)) {
			rc = ITL_CAPF_OK;
		} else {
			char subject[256] = "?";

			if (peer)
				pki_name_text(X509_get_subject_name(peer), PKI_NAME_RFC4514, subject, sizeof subject);
			seterr(err, errlen, "the server's certificate (%s) is not the CAPF certificate in the ITL",
			       subject);
			tls_client_close(*conn);
			*conn = NULL;
		}
		X509_free(peer);
	}
	phone_itl_free(&it);
	return rc;
}

/* ---- the ITL at boot (phonesim boot) ---- */

int itl_install_fetched(struct phone_dir *pd, uint8_t *data, size_t len, char *err, size_t errlen)
{
	struct phone_itl old, new;
	char path[PATH_MAX], line[96];
	int have = phone_itl_load(pd, &old, err, errlen);

	if (have == 0 && old.len == len && memcmp(old.data, data, len) == 0) {
		phone_itl_free(&old);
		free(data);
		return ITL_FETCH_SAME;
	}
	if (phone_itl_parse(&new, data, len, err, errlen) < 0) {
		if (have == 0)
			phone_itl_free(&old);
		goto refused;
	}
	if (have == 0) {
		int rc = signer_trusted(&old, &new, err, errlen);

		phone_itl_free(&old);
		if (rc < 0) {
			phone_itl_free(&new);
			goto refused;
		}
	}
	phone_dir_file(pd, PHONE_ITL_FILE, path, sizeof path);
	if (write_file_atomic(path, new.data, new.len, 0644, err, errlen) < 0) {
		phone_itl_free(&new);
		return -1;
	}
	if (have == 0)
		phone_dir_console(pd, "Trust List Updated");
	snprintf(line, sizeof line, "ITL: Installed (%zu records)", new.f.nrecords);
	phone_dir_console(pd, line);
	phone_itl_free(&new);
	return have == 0 ? ITL_FETCH_UPDATED : ITL_FETCH_INSTALLED;
refused:
	phone_dir_console(pd, "Trust List Update Failed");
	return ITL_FETCH_REFUSED;
}

int itl_installed_certs(const struct phone_dir *pd, const uint16_t *roles, size_t nroles, STACK_OF(X509) **certs,
			int *v11, char *err, size_t errlen)
{
	struct phone_itl it;
	int rc = phone_itl_load(pd, &it, err, errlen);

	*certs = NULL;
	if (rc != 0)
		return rc;
	*v11 = it.f.hdr.has_signer_version && (it.f.hdr.signer_version_major > 1 ||
					       (it.f.hdr.signer_version_major == 1 && it.f.hdr.signer_version_minor >= 1));
	*certs = sk_X509_new_null();
	for (size_t k = 0; k < nroles; k++)
		for (size_t i = 0; i < it.f.nrecords && *certs; i++) {
			struct itl_bytes der;
			char why[ERRLEN];
			X509 *x;

			if (!itl_record_has_role(&it.f.records[i], roles[k]) ||
			    itl_record_certificate(&it.f.records[i], &der) < 0)
				continue;
			x = pki_cert_from_der(der.p, der.len, why, sizeof why);
			if (x && !sk_X509_push(*certs, x))
				X509_free(x);
		}
	phone_itl_free(&it);
	return 0;
}

int itl_installed_lists(const struct phone_dir *pd, uint16_t role, X509 *cert)
{
	struct phone_itl it;
	char err[ERRLEN];
	int found;

	if (phone_itl_load(pd, &it, err, sizeof err) != 0)
		return 0;
	found = itl_lists(&it.f, role, cert);
	phone_itl_free(&it);
	return found;
}

/* ---- phonesim tvs ---- */

static const char tvs_usage[] =
	"usage: phonesim tvs PHONEDIR HOST[:PORT] CERT... [--timeout SECS]\n\n"
	"Ask the Trust Verification Service (TLS, default port 2445) about the\n"
	"certificates in each CERT file, as a phone does for a certificate its ITL\n"
	"does not list: one connection, one VERIFY_REQUEST per certificate. The\n"
	"phone needs an ITL (see 'phonesim itl'); the server must present the\n"
	"ITL's TVS certificate. For each certificate it prints subject, issuer,\n"
	"serial, SHA-256 and the answer (status, roles, TTL).\n\n"
	"  --timeout SECS   longest wait for connect, handshake or an answer (10)\n\n"
	"Exit status: 0 every certificate valid, 2 TVS said invalid for one or more,\n"
	"3 connection/TLS failure or an untrusted server, 4 protocol error,\n"
	"1 usage or local error.\n";

/* host:port with TVS's default port when none is given. */
static void tvs_hostport(const char *in, char *out, size_t outcap)
{
	const char *colon = strchr(in, ':');

	if (in[0] == '[') {
		const char *end = strchr(in, ']');

		if (end && end[1] == ':')
			snprintf(out, outcap, "%s", in);
		else
			snprintf(out, outcap, "%s:%s", in, TVS_DEFAULT_PORT);
	} else if (colon && strchr(colon + 1, ':')) {
		snprintf(out, outcap, "[%s]:%s", in, TVS_DEFAULT_PORT); /* a bare IPv6 address */
	} else if (colon) {
		snprintf(out, outcap, "%s", in);
	} else {
		snprintf(out, outcap, "%s:%s", in, TVS_DEFAULT_PORT);
	}
}

/* Read one whole TVS message into msg: 1, 0 closed, -1 error. */
static int read_message(SSL *ssl, struct buf *msg, char *err, size_t errlen)
{
	uint8_t chunk[4096];
	size_t total = 0;
	int rc, n;

	buf_reset(msg);
	for (;;) {
		if (msg->len >= TVS_HEADER_LEN) {
			rc = tvs_frame_length(msg->data, msg->len, &total, err, errlen);
			if (rc < 0)
				return -1;
			if (rc == 1 && msg->len == total)
				return 1;
			if (rc == 1 && msg->len > total) {
				seterr(err, errlen, "TVS sent more than one answer");
				return -1;
			}
		}
		errno = 0;
		n = SSL_read(ssl, chunk, sizeof chunk);
		if (n <= 0) {
			int e = SSL_get_error(ssl, n);

			if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
				return 0;
			seterr(err, errlen, "%s", errno == EAGAIN ? "no answer from TVS in time" : "cannot read from TVS");
			return -1;
		}
		buf_put(msg, chunk, (size_t)n);
		if (msg->failed) {
			seterr(err, errlen, "out of memory");
			return -1;
		}
	}
}

static void print_cert(X509 *cert)
{
	struct pki_cert_info info;

	pki_cert_info(cert, &info);
	printf("Subject Name:     %s\n", info.subject);
	printf("Issuer Name:      %s\n", info.issuer);
	printf("Serial Number:    %s\n", info.serial);
	printf("Certificate Hash: %s\n", info.sha256);
}

struct tvs_run {
	struct phone_dir pd;
	char device[80];
	struct tls_client *conn;
	uint32_t session;
	int invalid;
};

/* One VERIFY_REQUEST and its answer: PS_EXIT_OK or an exit status. */
static int verify_one(struct tvs_run *r, X509 *cert)
{
	struct tvs_verdict v;
	struct buf req, resp;
	uint8_t *der = NULL;
	size_t len;
	char err[ERRLEN];
	int rc = PS_EXIT_PROTOCOL;

	buf_init(&req);
	buf_init(&resp);
	if (pki_cert_to_der(cert, &der, &len) < 0 ||
	    tvs_client_request(&req, ++r->session, r->device, der, len, err, sizeof err) < 0) {
		ps_error("cannot build the TVS request");
		rc = PS_EXIT_LOCAL;
		goto out;
	}
	if (tls_client_send(r->conn, req.data, req.len, err, sizeof err) < 0 ||
	    read_message(tls_client_ssl(r->conn), &resp, err, sizeof err) <= 0) {
		printf("result: TVS did not answer: %s\n", err[0] ? err : "connection closed");
		goto out;
	}
	if (tvs_client_response(resp.data, resp.len, r->session, &v, err, sizeof err) < 0) {
		printf("result: bad TVS answer: %s\n", err);
		goto out;
	}
	print_cert(cert);
	tvs_verdict_print(stdout, &v);
	r->invalid |= v.status != TVS_STATUS_VALID;
	rc = PS_EXIT_OK;
out:
	OPENSSL_free(der);
	buf_free(&req);
	buf_free(&resp);
	return rc;
}

static int tvs_connect(struct tvs_run *r, const char *hostport, double timeout)
{
	struct phone_itl it;
	char err[ERRLEN], hp[300];
	X509 *peer = NULL;
	int rc = phone_itl_load(&r->pd, &it, err, sizeof err);

	if (rc != 0) {
		if (rc > 0)
			seterr(err, sizeof err, "the phone has no ITL, so no TVS certificate (see 'phonesim itl')");
		goto failed;
	}
	rc = -1;
	tvs_hostport(hostport, hp, sizeof hp);
	if (count_role(&it.f, ROLE_TVS) == 0) {
		seterr(err, sizeof err, "the ITL has no TVS record");
	} else if (tls_client_open(hp, NULL, TLS_MAX_DEFAULT, (int)(timeout * 1000), &r->conn, err, sizeof err) == 0) {
		peer = tls_client_peer(r->conn);
		if (peer && itl_lists(&it.f, ROLE_TVS, peer))
			rc = 0;
		else
			seterr(err, sizeof err, "the server's certificate is not the TVS certificate in the ITL");
	}
	X509_free(peer);
	phone_itl_free(&it);
	if (rc == 0)
		return 0;
failed:
	phone_dir_console(&r->pd, "TVS: Connection failed");
	printf("result: connection failed: %s\n", err);
	return -1;
}

static int load_certs(int n, char **files, STACK_OF(X509) **out)
{
	char err[ERRLEN];

	*out = sk_X509_new_null();
	for (int i = 0; i < n; i++) {
		STACK_OF(X509) *certs = pki_certs_load(files[i], err, sizeof err);

		if (!certs) {
			ps_error("%s", err);
			return -1;
		}
		while (sk_X509_num(certs) > 0)
			sk_X509_push(*out, sk_X509_shift(certs));
		sk_X509_free(certs);
	}
	return 0;
}

int cmd_tvs(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct tvs_run r = { .session = 0 };
	STACK_OF(X509) *certs = NULL;
	double timeout = TVS_TIMEOUT_DEFAULT;
	char err[ERRLEN];
	int c, rc = PS_EXIT_LOCAL;

	while ((c = ps_getopt(argc, argv, "", opts, tvs_usage)) != -1) {
		if (c == 'h')
			return PS_EXIT_OK;
		if (c != 't' || ps_parse_seconds("--timeout", optarg, &timeout) < 0 || timeout < 0.001)
			return PS_EXIT_LOCAL;
	}
	if (argc - optind < 3) {
		ps_error("tvs: expected PHONEDIR HOST[:PORT] CERT...");
		fputs(tvs_usage, stderr);
		return PS_EXIT_LOCAL;
	}
	if (phone_dir_load(argv[optind], &r.pd, err, sizeof err) < 0) {
		ps_error("%s", err);
		return PS_EXIT_LOCAL;
	}
	snprintf(r.device, sizeof r.device, "CP-%s-%s", r.pd.model, r.pd.name);
	signal(SIGPIPE, SIG_IGN);
	if (load_certs(argc - optind - 2, argv + optind + 2, &certs) < 0)
		goto out;
	rc = PS_EXIT_CONNECT;
	if (tvs_connect(&r, argv[optind + 1], timeout) < 0)
		goto out;
	rc = PS_EXIT_OK;
	for (int i = 0; i < sk_X509_num(certs) && rc == PS_EXIT_OK; i++) {
		if (i)
			putchar('\n');
		rc = verify_one(&r, sk_X509_value(certs, i));
	}
	if (rc == PS_EXIT_OK && r.invalid)
		rc = PS_EXIT_SERVER;
out:
	tls_client_close(r.conn);
	sk_X509_pop_free(certs, X509_free);
	phone_dir_free(&r.pd);
	fflush(stdout);
	return rc;
}
