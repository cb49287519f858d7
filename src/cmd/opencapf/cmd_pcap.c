/*
 * cmd_pcap.c: `opencapf pcap FILE [--port N] [--json]`: the check of
 * phone-certificates.md §8 ("in the phone's Certificate message an LSC shows
 * the CAPF CN in the issuer, a MIC the manufacturing CA") for every TLS
 * connection in a capture at once.
 *
 * The analysis is src/diag/capture.c; each connection is described once, as
 * JSON, and the text output is printed from that same JSON so the two forms
 * cannot disagree. The state (when there is one) sharpens the
 * classification: issuers are checked against its CAPF certificates and its
 * manufacturing trust store, not only by name.
 */
#include "cmd/opencapf/cli.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/setting.h"
#include "diag/capture.h"

static const char pcap_usage[] =
	"usage: opencapf pcap FILE [--port N] [--json] [--no-state]\n\n"
	"Find the TLS handshakes in a packet capture (pcap or pcapng, e.g. from\n"
	"tcpdump -w or Wireshark) on any port and report, per connection, the\n"
	"client and server, the TLS version and cipher, the certificate chain each\n"
	"side sent, whether the client's certificate is an LSC, a MIC or unknown\n"
	"(and by which rule), and the alerts sent. TLS 1.3 handshakes are listed as\n"
	"such: their certificates are encrypted.\n\n"
	"  --port N     only connections with this port at either end\n"
	"  --json       machine-readable output\n"
	"  --no-state   classify by issuer names only, without the state's CAPF\n"
	"               certificates and manufacturing trust\n\n"
	"Exit status: 0 read to the end, 1 the file cannot be read or breaks off\n"
	"(what came before is still reported), 2 usage.\n";

struct tally {
	int lsc, mic, unknown, no_cert, tls13;
};

/* ---- text output, from the JSON ---- */

static const char *jstr(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "";
}

static void print_list(const char *label, json_t *a)
{
	size_t i;
	json_t *v;

	if (json_array_size(a) == 0)
		return;
	printf("  %s ", label);
	json_array_foreach(a, i, v)
		printf("%s%s", i ? ", " : "", json_string_value(v));
	printf("\n");
}

static void print_cert(json_t *c, int leaf_of_client)
{
	if (json_object_get(c, "error")) {
		printf("      (%s)\n", jstr(c, "error"));
		return;
	}
	if (leaf_of_client)
		printf("      %s  %s\n      issuer %s\n      serial %s, valid until %s\n      why: %s\n",
		       jstr(c, "kind"), jstr(c, "subject"), jstr(c, "issuer"), jstr(c, "serial"),
		       jstr(c, "not_after"), jstr(c, "why"));
	else
		printf("      %s\n      issuer %s\n      serial %s, valid until %s\n", jstr(c, "subject"),
		       jstr(c, "issuer"), jstr(c, "serial"), jstr(c, "not_after"));
}

static void print_chain(const char *who, json_t *chain, int client)
{
	size_t i;
	json_t *c;

	if (json_array_size(chain) == 0)
		return;
	printf("  %s certificate chain (%zu):\n", who, json_array_size(chain));
	json_array_foreach(chain, i, c) {
		printf("    [%zu]\n", i);
		print_cert(c, client && i == 0);
	}
}

static void print_conn(json_t *o)
{
	json_t *alerts = json_object_get(o, "alerts"), *v;
	size_t i;

	printf("connection %lld  %s -> %s  %s\n", (long long)json_integer_value(json_object_get(o, "index")),
	       jstr(o, "client"), jstr(o, "server"), jstr(o, "start"));
	printf("  %s", jstr(o, "version"));
	if (json_is_string(json_object_get(o, "cipher")))
		printf(", cipher %s", jstr(o, "cipher"));
	if (json_is_string(json_object_get(o, "client_offered")))
		printf(" (client offered up to %s)", jstr(o, "client_offered"));
	if (json_is_string(json_object_get(o, "sni")))
		printf(", server name %s", jstr(o, "sni"));
	printf("\n");
	if (json_array_size(json_object_get(o, "client_chain")) > 0) {
		json_t *leaf = json_array_get(json_object_get(o, "client_chain"), 0);
		printf("  %s presented its %s\n", jstr(leaf, "device")[0] ? jstr(leaf, "device") : "the client",
		       jstr(leaf, "kind"));
	}
	print_list("client sent:", json_object_get(o, "client_messages"));
	print_list("server sent:", json_object_get(o, "server_messages"));
	print_chain("client", json_object_get(o, "client_chain"), 1);
	print_chain("server", json_object_get(o, "server_chain"), 0);
	json_array_foreach(alerts, i, v)
		printf("  alert: %s sent %s \"%s\"\n", jstr(v, "from"), jstr(v, "level"), jstr(v, "description"));
	json_array_foreach(json_object_get(o, "notes"), i, v)
		printf("  note: %s\n", json_string_value(v));
	printf("\n");
}

/* ---- the analysis ---- */

static void count(json_t *conn, struct tally *t)
{
	json_t *leaf = json_array_get(json_object_get(conn, "client_chain"), 0);
	const char *kind = jstr(leaf, "kind");

	if (json_is_true(json_object_get(conn, "tls13")))
		t->tls13++;
	else if (!leaf)
		t->no_cert++;
	else if (strcmp(kind, "LSC") == 0)
		t->lsc++;
	else if (strcmp(kind, "MIC") == 0)
		t->mic++;
	else
		t->unknown++;
}

static json_t *report_json(const char *file, const struct capture_result *res, const struct classify_ctx *ctx,
			   const char *state, struct tally *t)
{
	json_t *conns = json_array(), *o;

	for (size_t i = 0; i < res->n; i++) {
		json_t *c = capture_conn_json(&res->conns[i], ctx);
		count(c, t);
		json_array_append_new(conns, c);
	}
	o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "file", file,
		      "linktype", res->counts.linktype, "frames", (json_int_t)res->counts.frames,
		      "tcp_segments", (json_int_t)res->counts.tcp, "malformed_frames", (json_int_t)res->counts.malformed,
		      "ip_fragments", (json_int_t)res->counts.fragments, "tcp_streams", (json_int_t)res->tcp.streams,
		      "not_tls", (json_int_t)res->not_tls, "not_listed", (json_int_t)res->not_listed);
	json_object_set_new(o, "state", state ? json_string(state) : json_null());
	json_object_set_new(o, "error", res->error[0] ? json_string(res->error) : json_null());
	json_object_set_new(o, "partial", json_boolean(res->partial));
	json_object_set_new(o, "connections", conns);
	json_object_set_new(o, "summary", json_pack("{s:i, s:i, s:i, s:i, s:i}", "lsc", t->lsc, "mic", t->mic,
						    "unknown", t->unknown, "no_client_certificate", t->no_cert,
						    "tls13", t->tls13));
	return o;
}

static void print_text(json_t *rep, const struct tally *t)
{
	json_t *c;
	size_t i;

	printf("%s: %lld frames (%s), %lld TCP segments, %lld streams, %zu TLS connections\n", jstr(rep, "file"),
	       (long long)json_integer_value(json_object_get(rep, "frames")), jstr(rep, "linktype"),
	       (long long)json_integer_value(json_object_get(rep, "tcp_segments")),
	       (long long)json_integer_value(json_object_get(rep, "tcp_streams")),
	       json_array_size(json_object_get(rep, "connections")));
	if (json_is_string(json_object_get(rep, "state")))
		printf("classified with the CAPF certificates and manufacturing trust of %s\n\n", jstr(rep, "state"));
	else
		printf("no state: classified by issuer names only\n\n");
	json_array_foreach(json_object_get(rep, "connections"), i, c)
		print_conn(c);
	printf("client certificates: %d LSC, %d MIC, %d unknown, %d connections without one, "
	       "%d TLS 1.3 (encrypted)\n", t->lsc, t->mic, t->unknown, t->no_cert, t->tls13);
	if (json_integer_value(json_object_get(rep, "not_listed")))
		printf("%lld more TLS connections not listed\n",
		       (long long)json_integer_value(json_object_get(rep, "not_listed")));
}

static int load_ctx(struct cli *cli, int no_state, struct classify_ctx *ctx, const char **state)
{
	char err[ERRLEN];
	struct store *st;

	*state = NULL;
	if (no_state)
		return 0;
	if (store_open(cli->state_dir, STORE_OPEN_EXISTING, &st, err, sizeof err) < 0) {
		if (strcmp(cli->state_dir, DEFAULT_STATE_DIR) == 0)
			return 0; /* no state here: names only */
		cli_error("%s (use --no-state to analyse without one)", err);
		return -1;
	}
	if (classify_ctx_load(st, ctx, err, sizeof err) < 0) {
		cli_error("%s", err);
		store_close(st);
		return -1;
	}
	store_close(st);
	*state = cli->state_dir;
	return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
	int v;

	if (setting_int(s, 1, 65535, &v) < 0) {
		cli_error("pcap: --port wants a port number from 1 to 65535, not '%s'", s);
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

int cmd_pcap(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "no-state", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct classify_ctx ctx = { 0 };
	struct capture_result res;
	struct tally t = { 0 };
	const char *state;
	int c, help = 0, json = 0, no_state = 0, rc;
	uint16_t port = 0;
	json_t *rep;

	while ((c = cli_getopt(cli, argc, argv, "", opts, pcap_usage, &help)) != -1) {
		if (c == 'p' && parse_port(optarg, &port) == 0)
			continue;
		if (c == 'j' || c == 'n') {
			*(c == 'j' ? &json : &no_state) = 1;
			continue;
		}
		return EXIT_USAGE;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 1, 1, pcap_usage) < 0 || load_ctx(cli, no_state, &ctx, &state) < 0)
		return EXIT_USAGE;
	rc = capture_analyse_file(argv[optind], port, NULL, &res);
	if (rc < 0 && !res.partial) {
		cli_error("%s: %s", argv[optind], res.error);
		capture_result_free(&res);
		classify_ctx_free(&ctx);
		return EXIT_FAIL;
	}
	rep = report_json(argv[optind], &res, state ? &ctx : NULL, state, &t);
	if (json)
		json_dumpf(rep, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER), putchar('\n');
	else
		print_text(rep, &t);
	if (rc < 0)
		cli_error("%s: %s", argv[optind], res.error);
	json_decref(rep);
	capture_result_free(&res);
	classify_ctx_free(&ctx);
	return rc < 0 ? EXIT_FAIL : EXIT_OK;
}
