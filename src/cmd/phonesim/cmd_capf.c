/*
 * cmd_capf.c: `phonesim capf`, one CAPF session from the phone's side: TLS
 * to the server, then the phone_session state machine (src/capf) answers
 * every server message until END_SESSION, a protocol error, a deliberate
 * hang-up (--misbehave disconnect-*), the server closing, or a timeout.
 *
 * What the phone did is kept in its folder as it happens on a real phone:
 * the LSC it stored, or the deletion, whatever the server does afterwards.
 * The console lines go to stdout and console.log; one "result:" line (and a
 * "server:" line when misbehaving) sums up, and the exit status says how the
 * session ended (see phonesim(1)). The authentication string is passed to
 * the session and never printed.
 */
#include "cmd/phonesim/phonesim.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "capf/phone_session.h"
#include "pki/pki.h"
#include "wire/capf_msg.h"

#define TIMEOUT_DEFAULT 60.0
#define AUTH_STRING_MAX 64

static const char capf_usage[] =
	"usage: phonesim capf PHONEDIR HOST[:PORT] [OPTIONS]\n\n"
	"Run one CAPF session (TLS, default port 3804) as the phone: authenticate,\n"
	"then do what the server asks (install an LSC, send it, delete it, nothing).\n\n"
	"  --auth-string DIGITS  authentication string (PASSWORD element; default empty)\n"
	"  --auth-cert MODE      lsc-first (default: LSC if installed, else MIC),\n"
	"                        mic-first, or none; the server's AUTH_TYPE 3/4 overrides\n"
	"  --sudi                add SUDI_DATA (the authentication certificate reused)\n"
	"  --no-ec               refuse EC key requests (KEY_GENERATE_RESPONSE reason 7)\n"
	"  --wrap-mic-as-lsc     wrap a MIC with certificate type 1 like the public test client\n"
	"  --keygen-delay SECS   wait this long after REQUEST_IN_PROGRESS (a slow phone)\n"
	"  --in-progress-every SECS  meanwhile repeat REQUEST_IN_PROGRESS this often\n"
	"  --timeout SECS        longest wait for connect, handshake or a server message (60)\n"
	"  --source ADDR         connect from this local address (e.g. 127.0.0.2)\n"
	"  --tls-max VERSION     1.0 (old phone: TLS 1.0, AES-SHA ciphers), 1.2 or 1.3\n"
	"  --misbehave MODE      disconnect-after-auth, disconnect-before-store, silent,\n"
	"                        wrong-session-id, truncated, oversize-element,\n"
	"                        bad-protocol-id, garbage\n"
	"  -v, --verbose         log each message sent and received on stderr\n\n"
	"Exit status: 0 END_SESSION reason 0/1 and the phone's step worked; 2 the server\n"
	"ended with an error reason or the phone's step failed; 3 connection/TLS failure;\n"
	"4 protocol error, timeout or the server closed early; 5 deliberate hang-up;\n"
	"1 usage or local error.\n";

struct capf_run {
	const char *phonedir, *hostport;
	struct phone_options opts;
	double keygen_delay, in_progress_every, timeout;
	enum tls_max tls_max;
	int verbose;
	char server_did[2 * ERRLEN];      /* what the server did last, for --misbehave */
};

/* ---- options ---- */

static int parse_auth_cert(const char *s, enum phone_auth_cert *out)
{
	if (strcmp(s, "lsc-first") == 0)
		*out = PHONE_AUTH_LSC_FIRST;
	else if (strcmp(s, "mic-first") == 0)
		*out = PHONE_AUTH_MIC_FIRST;
	else if (strcmp(s, "none") == 0)
		*out = PHONE_AUTH_NO_CERT;
	else
		return -1;
	return 0;
}

static int parse_one(struct capf_run *r, int c, const char *arg)
{
	int m;

	switch (c) {
	case 'a':
		if (strlen(arg) > AUTH_STRING_MAX) {
			ps_error("--auth-string: at most %d characters", AUTH_STRING_MAX);
			return -1;
		}
		r->opts.auth_string = arg;
		return 0;
	case 'c':
		if (parse_auth_cert(arg, &r->opts.auth_cert) == 0)
			return 0;
		ps_error("--auth-cert must be lsc-first, mic-first or none, not '%s'", arg);
		return -1;
	case 's': r->opts.sudi = 1; return 0;
	case 'e': r->opts.refuse_ec = 1; return 0;
	case 'w': r->opts.mic_wrapped_as_lsc = 1; return 0;
	case 'v': r->verbose = 1; return 0;
	case 'k': return ps_parse_seconds("--keygen-delay", arg, &r->keygen_delay);
	case 'I': return ps_parse_seconds("--in-progress-every", arg, &r->in_progress_every);
	case 't':
		if (ps_parse_seconds("--timeout", arg, &r->timeout) < 0)
			return -1;
		if (r->timeout < 0.001) {
			ps_error("--timeout must be more than 0");
			return -1;
		}
		return 0;
	case 'S':
		if (tls_client_set_source(arg) == 0)
			return 0;
		ps_error("--source must be a numeric IP address of this machine, not '%s'", arg);
		return -1;
	case 'T':
		if (tls_max_parse(arg, &r->tls_max) == 0)
			return 0;
		ps_error("--tls-max must be 1.0, 1.2 or 1.3, not '%s'", arg);
		return -1;
	case 'm':
		m = phone_misbehave_parse(arg);
		if (m > 0) {
			r->opts.misbehave = (enum phone_misbehave)m;
			return 0;
		}
		ps_error("--misbehave: unknown mode '%s' (see 'phonesim capf --help')", arg);
		return -1;
	default:
		return -1;
	}
}

/* 0 ready, 1 help printed, -1 error printed. */
static int parse_args(struct capf_run *r, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "auth-string", required_argument, NULL, 'a' },
		{ "auth-cert", required_argument, NULL, 'c' },
		{ "sudi", no_argument, NULL, 's' },
		{ "no-ec", no_argument, NULL, 'e' },
		{ "wrap-mic-as-lsc", no_argument, NULL, 'w' },
		{ "keygen-delay", required_argument, NULL, 'k' },
		{ "in-progress-every", required_argument, NULL, 'I' },
		{ "timeout", required_argument, NULL, 't' },
		{ "source", required_argument, NULL, 'S' },
		{ "tls-max", required_argument, NULL, 'T' },
		{ "misbehave", required_argument, NULL, 'm' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = ps_getopt(argc, argv, "v", opts, capf_usage)) != -1) {
		if (c == 'h')
			return 1;
		if (c == '?' || parse_one(r, c, optarg) < 0)
			return -1;
	}
	if (ps_expect_args(argc, argv, 2, capf_usage) < 0)
		return -1;
	r->phonedir = argv[optind];
	r->hostport = argv[optind + 1];
	if (!tls_hostport_valid(r->hostport)) {
		ps_error("capf: '%s' is not HOST[:PORT] (e.g. capf.example.net:3804 or [::1]:3804)",
			 r->hostport);
		return -1;
	}
	return 0;
}

/* ---- the session ---- */

static void console_line(void *arg, const char *line)
{
	phone_dir_console(arg, line);
}

static void sleep_seconds(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void log_message(const struct capf_run *r, const char *dir, const uint8_t *msg, size_t len)
{
	if (r->verbose)
		fprintf(stderr, "phonesim: %s %s (%zu bytes)\n", dir,
			len >= 2 && msg[0] == CAPF_PROTOCOL_ID ? capf_cmd_name(msg[1]) : "(not a CAPF message)", len);
}

/* The keygen delay after REQUEST_IN_PROGRESS, repeating the message every
 * --in-progress-every seconds meanwhile (a phone that keeps saying so). */
static int keygen_wait(struct capf_run *r, struct tls_client *conn, const uint8_t *msg, size_t len, char *err,
		       size_t errlen)
{
	double left = r->keygen_delay;

	while (left > 0) {
		double step = r->in_progress_every > 0 && r->in_progress_every < left ? r->in_progress_every : left;

		sleep_seconds(step);
		left -= step;
		if (left > 0 && tls_client_send(conn, msg, len, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* Send each reply with one write; after REQUEST_IN_PROGRESS, the keygen delay. */
static int send_replies(struct capf_run *r, struct tls_client *conn, const struct buf *replies,
			struct phone_session *ps)
{
	const uint8_t *msg;
	size_t off = 0, len;
	char err[ERRLEN];

	while (phone_replies_next(replies, &off, &msg, &len)) {
		log_message(r, "->", msg, len);
		if (tls_client_send(conn, msg, len, err, sizeof err) < 0) {
			phone_session_on_close(ps, err);
			snprintf(r->server_did, sizeof r->server_did, "closed the connection (%s)", err);
			return -1;
		}
		if (len >= 2 && msg[1] == CAPF_CMD_REQUEST_IN_PROGRESS &&
		    keygen_wait(r, conn, msg, len, err, sizeof err) < 0) {
			phone_session_on_close(ps, err);
			snprintf(r->server_did, sizeof r->server_did, "closed the connection (%s)", err);
			return -1;
		}
	}
	return 0;
}

static void note_server_message(struct capf_run *r, const struct phone_session *ps,
				const uint8_t *msg, size_t len)
{
	const struct phone_outcome *o = phone_session_outcome(ps);

	if (o->status == PHONE_STATUS_ENDED)
		snprintf(r->server_did, sizeof r->server_did, "END_SESSION reason=%d", o->end_reason);
	else
		snprintf(r->server_did, sizeof r->server_did, "sent %s",
			 len >= 2 && msg[0] == CAPF_PROTOCOL_ID ? capf_cmd_name(msg[1]) : "bytes that are not CAPF");
}

/* Read, answer, repeat while the session runs. */
static void converse(struct capf_run *r, struct tls_client *conn, struct phone_session *ps)
{
	struct buf replies;
	const uint8_t *msg;
	size_t len;
	char err[ERRLEN];
	int rc;

	buf_init(&replies);
	while (phone_session_outcome(ps)->status == PHONE_STATUS_RUNNING) {
		rc = tls_client_recv(conn, &msg, &len, err, sizeof err);
		if (rc == 0 || rc == -1) {
			snprintf(r->server_did, sizeof r->server_did, "%s",
				 rc == 0 ? "closed the connection" : err);
			phone_session_on_close(ps, rc == 0 ? NULL : err);
			break;
		}
		log_message(r, "<-", msg, len);
		buf_reset(&replies);
		phone_session_on_bytes(ps, msg, len, &replies);
		note_server_message(r, ps, msg, len);
		if (send_replies(r, conn, &replies, ps) < 0)
			break;
	}
	buf_free(&replies);
}

/* Keep in the folder what the phone did: a stored LSC, a deletion. */
static int persist(struct phone_dir *pd, const struct phone_outcome *o)
{
	char err[ERRLEN];

	if (o->new_lsc && phone_dir_save_lsc(pd, o->new_lsc, o->new_lsc_key, err, sizeof err) < 0) {
		ps_error("cannot keep the new LSC: %s", err);
		return -1;
	}
	if (o->operation == PHONE_OP_DELETE && o->had_lsc && phone_dir_delete_lsc(pd, err, sizeof err) < 0) {
		ps_error("cannot delete the LSC: %s", err);
		return -1;
	}
	return 0;
}

static int exit_status(const struct phone_outcome *o)
{
	switch (o->status) {
	case PHONE_STATUS_HANGUP:
		return PS_EXIT_HANGUP;
	case PHONE_STATUS_ENDED:
		if (o->end_reason != CAPF_REASON_NO_ACTION && o->end_reason != CAPF_REASON_UPDATE_CERTIFICATE)
			return PS_EXIT_SERVER;
		if (o->operation == PHONE_OP_INSTALL && !o->phone_step_ok)
			return PS_EXIT_SERVER;
		return PS_EXIT_OK;
	default:
		return PS_EXIT_PROTOCOL;
	}
}

static void report(const struct capf_run *r, const struct phone_session *ps)
{
	char text[1024];

	phone_session_result_text(ps, text, sizeof text);
	printf("result: %s\n", text);
	if (r->opts.misbehave != PHONE_MISBEHAVE_NONE)
		printf("server: %s\n", phone_session_outcome(ps)->status == PHONE_STATUS_HANGUP
			       ? "not observed: the phone hung up as asked" : r->server_did);
	fflush(stdout);
}

static int connection_failed(struct phone_dir *pd, const char *why)
{
	phone_dir_console(pd, "LSC: Connection failed");
	printf("result: connection failed: %s\n", why);
	return PS_EXIT_CONNECT;
}

/* Connect as the phone does: to the ITL's CAPF certificate, else to the
 * one of 'phonesim trust'. ITL_CAPF_OK with *conn, or ITL_CAPF_FAILED
 * (another server may answer) or ITL_CAPF_REFUSED, lines printed. */
static int capf_connect(struct capf_run *r, struct phone_dir *pd, struct tls_client **conn)
{
	char err[ERRLEN];
	int rc;

	rc = itl_capf_open(pd, r->hostport, r->tls_max, (int)(r->timeout * 1000), conn, err, sizeof err);
	if (rc == ITL_CAPF_REFUSED)
		return ITL_CAPF_REFUSED;
	if (rc == ITL_CAPF_FAILED) {
		connection_failed(pd, err);
		return ITL_CAPF_FAILED;
	}
	if (rc == ITL_CAPF_NONE && !pd->capf) {
		connection_failed(pd, "the phone trusts no CAPF certificate (see 'phonesim trust')");
		return ITL_CAPF_REFUSED;
	}
	if (rc == ITL_CAPF_NONE && tls_client_open(r->hostport, pd->capf, r->tls_max, (int)(r->timeout * 1000), conn,
						 err, sizeof err) < 0) {
		connection_failed(pd, err);
		return ITL_CAPF_FAILED;
	}
	return ITL_CAPF_OK;
}

/* The session over an open connection (closed here): the exit status. */
static int run_on(struct capf_run *r, struct phone_dir *pd, struct tls_client *conn)
{
	struct phone_identity id = { pd->name, pd->mic, pd->mic_key, pd->lsc, pd->lsc_key };
	struct phone_session *ps;
	char tls[128];
	int rc;

	tls_client_describe(conn, tls, sizeof tls);
	if (r->verbose)
		fprintf(stderr, "phonesim: connected to %s (%s)\n", r->hostport, tls);
	r->opts.console = console_line;
	r->opts.console_arg = pd;
	ps = phone_session_new(&id, &r->opts);
	if (!ps) {
		tls_client_close(conn);
		ps_error("out of memory");
		return PS_EXIT_LOCAL;
	}
	converse(r, conn, ps);
	tls_client_close(conn);
	rc = persist(pd, phone_session_outcome(ps)) < 0 ? PS_EXIT_LOCAL : exit_status(phone_session_outcome(ps));
	report(r, ps);
	phone_session_free(ps);
	return rc;
}

static int run_session(struct capf_run *r, struct phone_dir *pd)
{
	struct tls_client *conn;

	if (capf_connect(r, pd, &conn) != ITL_CAPF_OK)
		return PS_EXIT_CONNECT;
	return run_on(r, pd, conn);
}

int capf_boot_session(struct phone_dir *pd, const char (*servers)[300], size_t n, const char *auth_string,
		      const char *auth_cert, double timeout)
{
	struct capf_run r = { .timeout = timeout };
	struct tls_client *conn;

	r.opts.auth_string = auth_string;
	if (auth_cert && parse_auth_cert(auth_cert, &r.opts.auth_cert) < 0)
		return PS_EXIT_LOCAL;
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < n; i++) {
		int rc;

		r.hostport = servers[i];
		if (!tls_hostport_valid(r.hostport)) {
			printf("capfList: '%s' is not HOST:PORT, skipped\n", r.hostport);
			continue;
		}
		rc = capf_connect(&r, pd, &conn);
		if (rc == ITL_CAPF_OK)
			return run_on(&r, pd, conn);
		if (rc == ITL_CAPF_REFUSED)
			return PS_EXIT_CONNECT;
	}
	return PS_EXIT_CONNECT;
}

int cmd_capf(int argc, char **argv)
{
	struct capf_run r = { .timeout = TIMEOUT_DEFAULT };
	struct phone_dir pd;
	char err[ERRLEN];
	int rc;

	rc = parse_args(&r, argc, argv);
	if (rc != 0)
		return rc > 0 ? PS_EXIT_OK : PS_EXIT_LOCAL;
	if (phone_dir_load(r.phonedir, &pd, err, sizeof err) < 0) {
		ps_error("%s", err);
		return PS_EXIT_LOCAL;
	}
	signal(SIGPIPE, SIG_IGN); /* a server that hangs up is reported, not fatal */
	rc = run_session(&r, &pd);
	phone_dir_free(&pd);
	return rc;
}
