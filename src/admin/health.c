/*
 * health.c: the findings of `opencapf check` (health.h): certificate
 * expiry windows, the fleet's LSCs, overdue operations and listener probes.
 * Each rule turns what the store says into a level and one sentence.
 */
#include "admin/health.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admin/report.h"
#include "common/util.h"
#include "pki/pki.h"
#include "store/store_search.h"
#include "store/store_tvs.h"

void health_options_default(struct health_options *o)
{
	memset(o, 0, sizeof *o);
	o->days = 30;
	o->critical_days = 7;
	o->list_max = 5;
}

const char *health_level_name(enum health_level l)
{
	switch (l) {
	case HEALTH_OK: return "OK";
	case HEALTH_WARNING: return "WARNING";
	case HEALTH_CRITICAL: return "CRITICAL";
	default: return "UNKNOWN";
	}
}

static int64_t ref_now(const struct health_options *o)
{
	return o->now ? o->now : now_utc();
}

/* "in 2 days 23 hours", "in 5 hours" or "3 days ago": how far not_after is. */
static void fmt_distance(int64_t delta, char *out, size_t cap)
{
	int64_t a = delta < 0 ? -delta : delta, d = a / 86400, h = a % 86400 / 3600, m = a % 3600 / 60;
	const char *pre = delta < 0 ? "" : "in ", *post = delta < 0 ? " ago" : "";

	if (d > 0 && h > 0)
		snprintf(out, cap, "%s%lld day%s %lld hour%s%s", pre, (long long)d, d == 1 ? "" : "s", (long long)h,
			 h == 1 ? "" : "s", post);
	else if (d > 0)
		snprintf(out, cap, "%s%lld day%s%s", pre, (long long)d, d == 1 ? "" : "s", post);
	else if (h > 0)
		snprintf(out, cap, "%s%lld hour%s%s", pre, (long long)h, h == 1 ? "" : "s", post);
	else
		snprintf(out, cap, "%s%lld minute%s%s", pre, (long long)m, m == 1 ? "" : "s", post);
}

/* One certificate against the windows: a finding when it is due. */
static void check_cert(const char *subject, const char *label, const uint8_t *der, size_t len, X509 *x,
		       const struct health_options *o, health_fn fn, void *arg)
{
	struct health_finding f = { .subject = subject };
	struct pki_cert_info info;
	char err[ERRLEN], when[40], dist[48];
	X509 *own = NULL;
	int64_t now = ref_now(o), left;

	if (!x && !(x = own = pki_cert_from_der(der, len, err, sizeof err))) {
		f.level = HEALTH_CRITICAL;
		snprintf(f.text, sizeof f.text, "%s cannot be read: %s", label, err);
		fn(&f, arg);
		return;
	}
	pki_cert_info(x, &info);
	X509_free(own);
	left = info.not_after - now;
	if (left > (int64_t)o->days * 86400)
		return;
	f.level = left <= (int64_t)o->critical_days * 86400 ? HEALTH_CRITICAL : HEALTH_WARNING;
	fmt_time_utc(info.not_after, when, sizeof when);
	fmt_distance(left, dist, sizeof dist);
	snprintf(f.text, sizeof f.text, "%s %s (CN=%s) %s %s, %s", label, info.sha256, info.cn,
		 left < 0 ? "expired" : "expires", dist, when);
	fn(&f, arg);
}

static int check_capf(struct store *st, const struct health_options *o, health_fn fn, void *arg, char *err,
		      size_t errlen)
{
	struct capf_row row;
	int rc = store_capf_current(st, &row);

	if (rc < 0) {
		seterr(err, errlen, "cannot read the CAPF certificate: %s", store_errmsg(st));
		return -1;
	}
	if (rc > 0) {
		struct health_finding f = { .level = HEALTH_CRITICAL, .subject = "capf" };

		snprintf(f.text, sizeof f.text, "the state has no current CAPF certificate");
		fn(&f, arg);
		return 0;
	}
	check_cert("capf", "CAPF certificate", row.der, row.derlen, NULL, o, fn, arg);
	capf_row_free(&row);
	return 0;
}

/* The TVS and SAST certificates: a state without one is not a finding
 * (states from before TVS; `opencapf diagnose` says how to create them). */
static int check_service(struct store *st, const char *name, const char *label, const struct health_options *o,
			 health_fn fn, void *arg, char *err, size_t errlen)
{
	struct service_cert_row row;
	int rc = store_service_cert_get(st, name, &row);

	if (rc < 0) {
		seterr(err, errlen, "cannot read the %s certificate: %s", name, store_errmsg(st));
		return -1;
	}
	if (rc == 0) {
		check_cert(name, label, row.der, row.derlen, NULL, o, fn, arg);
		service_cert_row_free(&row);
	}
	return 0;
}

struct fleet_walk {
	int64_t now;
	int64_t overdue;
	char names[256];            /* the first overdue phones, for the sentence */
	int listed, list_max;
};

static int fleet_row(const struct admin_report_row *r, void *arg)
{
	struct fleet_walk *w = arg;
	const struct phone *p = &r->row->phone;
	size_t used = strlen(w->names);

	if (p->op == OP_NONE || p->deadline <= 0 || p->deadline >= w->now)
		return 0;
	w->overdue++;
	if (w->listed < w->list_max && used + strlen(p->name) + 3 < sizeof w->names) {
		snprintf(w->names + used, sizeof w->names - used, "%s%s", used ? ", " : "", p->name);
		w->listed++;
	}
	return 0;
}

static void report_fleet(const struct admin_report_summary *sum, const struct fleet_walk *w,
			 const struct health_options *o, health_fn fn, void *arg)
{
	struct health_finding f = { .level = HEALTH_WARNING, .subject = "lsc" };

	if (sum->expiring > 0) {
		f.count = sum->expiring;
		snprintf(f.text, sizeof f.text, "%lld phone%s' LSC%s expire within %d days", (long long)sum->expiring,
			 sum->expiring == 1 ? "" : "s", sum->expiring == 1 ? "" : "s", o->days);
		fn(&f, arg);
	}
	if (sum->expired > 0) {
		f.count = sum->expired;
		snprintf(f.text, sizeof f.text, "%lld phone%s' LSC%s expired", (long long)sum->expired,
			 sum->expired == 1 ? "" : "s", sum->expired == 1 ? " has" : "s have");
		fn(&f, arg);
	}
	if (w->overdue > 0) {
		f.subject = "operation";
		f.count = w->overdue;
		snprintf(f.text, sizeof f.text, "%lld pending operation%s past %s deadline: %s%s",
			 (long long)w->overdue, w->overdue == 1 ? "" : "s", w->overdue == 1 ? "its" : "their",
			 w->names, w->overdue > w->listed ? ", ..." : "");
		fn(&f, arg);
	}
}

static int check_fleet(struct store *st, const struct health_options *o, health_fn fn, void *arg, char *err,
		       size_t errlen)
{
	struct fleet_walk w = { .now = ref_now(o), .list_max = o->list_max };
	struct admin_report_summary sum;
	struct phone_filter f;

	phone_filter_init(&f);
	f.now = w.now;
	f.expiring_days = o->days;
	if (admin_report_each(st, &f, fleet_row, &w, &sum) < 0) {
		seterr(err, errlen, "cannot read the phones: %s", store_errmsg(st));
		return -1;
	}
	report_fleet(&sum, &w, o, fn, arg);
	return 0;
}

int health_check_state(struct store *st, const struct health_options *o, health_fn fn, void *arg, char *err,
		       size_t errlen)
{
	if (check_capf(st, o, fn, arg, err, errlen) < 0 ||
	    check_service(st, SERVICE_TVS, "TVS certificate", o, fn, arg, err, errlen) < 0 ||
	    check_service(st, SERVICE_SAST, "SAST/TFTP signer", o, fn, arg, err, errlen) < 0)
		return -1;
	return check_fleet(st, o, fn, arg, err, errlen);
}

int health_check_cert_file(const char *path, const struct health_options *o, health_fn fn, void *arg,
			   char *err, size_t errlen)
{
	STACK_OF(X509) *certs = pki_certs_load(path, err, errlen);
	char label[600];

	if (!certs)
		return -1;
	if (sk_X509_num(certs) < 1) {
		seterr(err, errlen, "%s holds no certificate", path);
		sk_X509_pop_free(certs, X509_free);
		return -1;
	}
	snprintf(label, sizeof label, "certificate %s", path);
	check_cert("cert", label, NULL, 0, sk_X509_value(certs, 0), o, fn, arg);
	sk_X509_pop_free(certs, X509_free);
	return 0;
}

/* "host:port" or "[v6]:port" split; -1 when malformed. */
static int split_hostport(const char *s, char *host, size_t hostcap, char *port, size_t portcap)
{
	const char *colon = strrchr(s, ':');
	const char *h = s;
	size_t hl;

	if (!colon || !colon[1] || strlen(colon + 1) >= portcap || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -1;
	hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		h = s + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= hostcap)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, portcap, "%s", colon + 1);
	return 0;
}

/* Non-blocking connect with a deadline: 0 connected, else an errno. */
static int connect_within(const struct addrinfo *ai, int timeout_ms)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	int rc = 0;
	socklen_t len = sizeof rc;
	struct pollfd p;

	if (fd < 0)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		rc = errno;
		if (rc == EINPROGRESS) {
			p = (struct pollfd){ .fd = fd, .events = POLLOUT };
			rc = poll(&p, 1, timeout_ms);
			if (rc == 0)
				rc = ETIMEDOUT;
			else if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &rc, &len) < 0)
				rc = errno;
		}
	}
	close(fd);
	return rc;
}

int health_probe_listener(const char *hostport, int timeout_ms, health_fn fn, void *arg, char *err,
			  size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *res = NULL;
	struct health_finding f = { .level = HEALTH_CRITICAL, .subject = "listener" };
	char host[256], port[8];
	int rc, e = 0;

	if (split_hostport(hostport, host, sizeof host, port, sizeof port) < 0) {
		seterr(err, errlen, "'%s' is not HOST:PORT", hostport);
		return -1;
	}
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(f.text, sizeof f.text, "%s: cannot resolve %s: %s", hostport, host, gai_strerror(rc));
		fn(&f, arg);
		return 0;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
		if ((e = connect_within(ai, timeout_ms)) == 0)
			break;
	freeaddrinfo(res);
	if (e != 0) {
		snprintf(f.text, sizeof f.text, "%s does not accept connections: %s", hostport, strerror(e));
		fn(&f, arg);
	}
	return 0;
}
