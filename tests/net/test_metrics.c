/*
 * test_metrics.c: the counters added for the web UI and /metrics
 * (metrics.h): TVS requests by result in the Prometheus text, and the
 * per-10-second request rates of the last hour (metrics_rate_series): the
 * current slot counts, older slots read as 0 until counted again, and a
 * series never runs longer than the hour kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/util.h"
#include "net/metrics.h"

static void test_tvs_counters_render(void **state)
{
	struct buf out;

	(void)state;
	metrics_tvs_request(METRICS_TVS_VALID);
	metrics_tvs_request(METRICS_TVS_VALID);
	metrics_tvs_request(METRICS_TVS_INVALID);
	metrics_tvs_request(METRICS_TVS_ERROR);
	buf_init(&out);
	metrics_render(&out);
	buf_put(&out, "", 1);
	assert_false(out.failed);
	assert_non_null(strstr((char *)out.data, "# TYPE opencapf_tvs_requests_total counter\n"));
	assert_non_null(strstr((char *)out.data, "opencapf_tvs_requests_total{result=\"valid\"} 2\n"));
	assert_non_null(strstr((char *)out.data, "opencapf_tvs_requests_total{result=\"invalid\"} 1\n"));
	assert_non_null(strstr((char *)out.data, "opencapf_tvs_requests_total{result=\"error\"} 1\n"));
	assert_non_null(strstr((char *)out.data, "opencapf_capf_sessions_total{outcome=\"upgrade_success\"} 0\n"));
	buf_free(&out);
}

static void test_rate_series(void **state)
{
	unsigned counts[400];
	int64_t now = (int64_t)time(NULL);
	int n;

	(void)state;
	/* the four requests of the test above, and one more, all in this slot */
	metrics_tvs_request(METRICS_TVS_VALID);
	n = metrics_rate_series(METRICS_RATE_TVS, now, counts, 6);
	assert_int_equal(n, 6);
	if (now / METRICS_RATE_SLOT == (int64_t)time(NULL) / METRICS_RATE_SLOT) {
		assert_int_equal(counts[5], 5);
		for (int i = 0; i < 5; i++)
			assert_int_equal(counts[i], 0);
	}
	/* nothing on the CAPF side */
	metrics_rate_series(METRICS_RATE_CAPF, now, counts, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(counts[i], 0);
	/* an hour later the slot is stale: 0, not its old count */
	metrics_rate_series(METRICS_RATE_TVS, now + 3600, counts, 6);
	assert_int_equal(counts[5], 0);
	/* at most an hour of slots */
	assert_int_equal(metrics_rate_series(METRICS_RATE_TVS, now, counts, 400), 3600 / METRICS_RATE_SLOT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tvs_counters_render),
		cmocka_unit_test(test_rate_series),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
