/*
 * test_conn_limit.c: a listener's pool (conn_limit.h): its cap, the
 * per-address limit (IPv4, IPv6, IPv4-mapped IPv6 counted as IPv4), slots
 * given back, refusals logged once per interval and not once each; and how
 * opencapfd splits the descriptor limit into listener caps
 * (daemon_config_connection_caps).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "cmd/opencapfd/config.h"
#include "common/log.h"
#include "net/conn_limit.h"

static struct sockaddr_storage v4(const char *text)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof ss);
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)(rand() & 0xffff));
	assert_int_equal(inet_pton(AF_INET, text, &sin->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *text)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof ss);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)(rand() & 0xffff));
	assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static struct conn_limit *limit(int max, int per_address)
{
	struct listener_limits lim = { .max_connections = max, .max_per_address = per_address };
	struct conn_limit *l = conn_limit_new("test", &lim);

	assert_non_null(l);
	return l;
}

static void test_per_address(void **state)
{
	struct conn_limit *l = limit(10, 3);
	struct sockaddr_storage a = v4("10.0.0.1"), b = v4("10.0.0.2");
	struct conn_ticket t[4], u;

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(conn_limit_take(l, SA(a), &t[i]), CONN_LIMIT_OK);
	assert_int_equal(conn_limit_take(l, SA(a), &t[3]), CONN_LIMIT_ADDRESS);
	assert_int_equal(conn_limit_take(l, SA(b), &u), CONN_LIMIT_OK);
	assert_int_equal(conn_limit_open(l, SA(a)), 3);
	assert_int_equal(conn_limit_open(l, NULL), 4);
	conn_limit_release(l, &t[1]);
	conn_limit_release(l, &t[1]); /* a given-back ticket holds nothing */
	conn_limit_release(l, &t[3]); /* nor does a refused one */
	assert_int_equal(conn_limit_open(l, SA(a)), 2);
	assert_int_equal(conn_limit_take(l, SA(a), &t[1]), CONN_LIMIT_OK);
	for (int i = 0; i < 3; i++)
		conn_limit_release(l, &t[i]);
	conn_limit_release(l, &u);
	assert_int_equal(conn_limit_open(l, NULL), 0);
	assert_int_equal(conn_limit_open(l, SA(a)), 0);
	conn_limit_free(l);
}

static void test_cap(void **state)
{
	struct conn_limit *l = limit(2, 0);
	struct sockaddr_storage a = v4("10.0.0.1"), b = v4("10.0.0.2"), c = v4("10.0.0.3");
	struct conn_ticket t[3];

	(void)state;
	assert_int_equal(conn_limit_take(l, SA(a), &t[0]), CONN_LIMIT_OK);
	assert_int_equal(conn_limit_take(l, SA(b), &t[1]), CONN_LIMIT_OK);
	assert_int_equal(conn_limit_take(l, SA(c), &t[2]), CONN_LIMIT_FULL);
	conn_limit_release(l, &t[0]);
	assert_int_equal(conn_limit_take(l, SA(c), &t[2]), CONN_LIMIT_OK);
	conn_limit_release(l, &t[1]);
	conn_limit_release(l, &t[2]);
	conn_limit_free(l);
}

static void test_ipv6(void **state)
{
	struct conn_limit *l = limit(100, 1);
	struct sockaddr_storage a = v4("127.0.0.5"), mapped = v6("::ffff:127.0.0.5"), x = v6("2001:db8::1"),
				y = v6("2001:db8::2");
	struct conn_ticket t[5];

	(void)state;
	assert_int_equal(conn_limit_take(l, SA(a), &t[0]), CONN_LIMIT_OK);
	assert_int_equal(conn_limit_take(l, SA(mapped), &t[1]), CONN_LIMIT_ADDRESS);
	assert_int_equal(conn_limit_take(l, SA(x), &t[2]), CONN_LIMIT_OK);
	assert_int_equal(conn_limit_take(l, SA(y), &t[3]), CONN_LIMIT_OK);
	assert_int_equal(conn_limit_take(l, SA(x), &t[4]), CONN_LIMIT_ADDRESS);
	conn_limit_release(l, &t[0]);
	assert_int_equal(conn_limit_take(l, SA(mapped), &t[1]), CONN_LIMIT_OK);
	conn_limit_release(l, &t[1]);
	conn_limit_release(l, &t[2]);
	conn_limit_release(l, &t[3]);
	assert_int_equal(conn_limit_open(l, NULL), 0);
	conn_limit_free(l);
}

/* Many addresses (more than buckets): every count stays its own. */
static void test_many_addresses(void **state)
{
	enum { N = 3000 };
	struct conn_limit *l = limit(N, 2);
	static struct conn_ticket t[N];
	char text[32];

	(void)state;
	for (int i = 0; i < N; i++) {
		struct sockaddr_storage a;

		snprintf(text, sizeof text, "10.%d.%d.1", i / 256, i % 256);
		a = v4(text);
		assert_int_equal(conn_limit_take(l, SA(a), &t[i]), CONN_LIMIT_OK);
		assert_int_equal(conn_limit_open(l, SA(a)), 1);
	}
	assert_int_equal(conn_limit_open(l, NULL), N);
	for (int i = 0; i < N; i++)
		conn_limit_release(l, &t[i]);
	assert_int_equal(conn_limit_open(l, NULL), 0);
	conn_limit_free(l);
}

static struct conn_limit *refusing;

static void refuse_many(void)
{
	struct sockaddr_storage a = v4("127.0.0.5");
	struct conn_ticket held, t;

	assert_int_equal(conn_limit_take(refusing, SA(a), &held), CONN_LIMIT_OK);
	for (int i = 0; i < 500; i++)
		assert_int_equal(conn_limit_take(refusing, SA(a), &t), CONN_LIMIT_ADDRESS);
	conn_limit_flush(refusing); /* not due yet: nothing */
	conn_limit_release(refusing, &held);
}

/* stderr of fn, in a temporary file. */
static char *capture_stderr(void (*fn)(void))
{
	char path[] = "/tmp/test_conn_limit.XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	char *text = calloc(1, 1 << 16);
	FILE *f;
	size_t n;

	assert_true(fd >= 0 && saved >= 0 && text != NULL);
	fflush(stderr);
	assert_int_equal(dup2(fd, 2), 2);
	fn();
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	close(fd);
	assert_non_null(f = fopen(path, "r"));
	n = fread(text, 1, (1 << 16) - 1, f);
	text[n] = '\0';
	fclose(f);
	unlink(path);
	return text;
}

static void test_refusals_logged_once(void **state)
{
	char *text;

	(void)state;
	refusing = limit(10, 1);
	text = capture_stderr(refuse_many);
	assert_non_null(strstr(text, "test: refused 1 connection: per-address limit 1 reached for 127.0.0.5"));
	assert_null(strchr(strchr(text, '\n') + 1, '\n')); /* one line for 501 refusals */
	free(text);
	conn_limit_free(refusing);
}

/* ---- the daemon's split of the descriptor limit ---- */

static struct daemon_config caps(long nofile, const char *tvs, const char *reg, char *note, size_t notelen)
{
	struct daemon_config cfg;

	daemon_config_defaults(&cfg);
	snprintf(cfg.tvs_listen, sizeof cfg.tvs_listen, "%s", tvs);
	snprintf(cfg.register_listen, sizeof cfg.register_listen, "%s", reg);
	daemon_config_connection_caps(&cfg, nofile, note, notelen);
	return cfg;
}

static void test_caps_from_nofile(void **state)
{
	struct daemon_config cfg;
	char note[400];

	(void)state;
	cfg = caps(512, "off", "", note, sizeof note);
	assert_int_equal(cfg.max_connections, 448);
	assert_int_equal(cfg.capf_limits.max_connections, 448);
	assert_string_equal(note, "");
	cfg = caps(20000, "0.0.0.0:2445", "0.0.0.0:2443", note, sizeof note);
	assert_int_equal(cfg.max_connections, 18000);
	assert_int_equal(cfg.capf_limits.max_connections, 10800);
	assert_int_equal(cfg.tvs_limits.max_connections, 5400);
	assert_int_equal(cfg.reg_limits.max_connections, 1800);
	assert_int_equal(cfg.capf_limits.max_per_address, CONN_LIMIT_PER_ADDRESS_DEFAULT);
	assert_int_equal(cfg.tvs_limits.handshake_timeout, CONN_LIMIT_HANDSHAKE_TIMEOUT_DEFAULT);
}

static void test_caps_configured(void **state)
{
	struct daemon_config cfg;
	char note[400], err[200];

	(void)state;
	daemon_config_defaults(&cfg);
	assert_int_equal(daemon_config_set(&cfg, "daemon", "max_connections", "100000", err, sizeof err), 0);
	assert_int_equal(daemon_config_set(&cfg, "tvs", "listen", "off", err, sizeof err), 0);
	daemon_config_connection_caps(&cfg, 512, note, sizeof note);
	assert_int_equal(cfg.max_connections, 448);
	assert_non_null(strstr(note, "max_connections 100000 lowered to 448 (descriptor limit 512 less 64 kept"));

	daemon_config_defaults(&cfg);
	assert_int_equal(daemon_config_set(&cfg, "daemon", "max_connections", "1000", err, sizeof err), 0);
	assert_int_equal(daemon_config_set(&cfg, "capf", "max_connections", "100", err, sizeof err), 0);
	daemon_config_connection_caps(&cfg, 20000, note, sizeof note);
	assert_int_equal(cfg.capf_limits.max_connections, 100);
	assert_int_equal(cfg.tvs_limits.max_connections, 900);
	assert_string_equal(note, "");

	daemon_config_defaults(&cfg);
	assert_int_equal(daemon_config_set(&cfg, "capf", "max_connections", "400", err, sizeof err), 0);
	assert_int_equal(daemon_config_set(&cfg, "tvs", "max_connections", "400", err, sizeof err), 0);
	daemon_config_connection_caps(&cfg, 512, note, sizeof note);
	assert_int_equal(cfg.capf_limits.max_connections, 224);
	assert_int_equal(cfg.tvs_limits.max_connections, 224);
	assert_non_null(strstr(note, "the listeners' max_connections (800 together) lowered to fit the daemon's 448"));

	assert_int_equal(daemon_config_set(&cfg, "register", "handshake_timeout", "0", err, sizeof err), -1);
	assert_string_equal(err, "bad value for register.handshake_timeout: '0' (expected a whole number from 1 to 3600)");
	assert_int_equal(daemon_config_set(&cfg, "capf", "max_per_address", "x", err, sizeof err), -1);
	assert_string_equal(err, "bad value for capf.max_per_address: 'x' (expected a whole number from 0 to 1000000)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_address),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_many_addresses),
		cmocka_unit_test(test_refusals_logged_once),
		cmocka_unit_test(test_caps_from_nofile),
		cmocka_unit_test(test_caps_configured),
	};

	log_init("test_conn_limit", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
