/*
 * diagnose.c: the checks of diagnose.h, one function per question the
 * vendor Q&A asks, in the order an administrator would ask them:
 *
 *   which certificate does the phone present?            (§3: LSC, else MIC)
 *   is it valid now, and what is it (LSC / MIC / unknown)? (§1, §8)
 *   does each server trust store accept it?   (§2; fixes from §6 and §7)
 *   can the pending operation's authentication mode work? (§4)
 *   deadline, CAPF certificate expiry, lockout, last status  (§4, §5)
 *   what did the last registration check see?
 *
 * Every problem carries the fix in the Q&A's words, with the opencapf
 * command that does it. "As far as this state knows": the phone's LSC is the
 * one CAPF installed or last saw; the registration log tells when the phone
 * itself disagrees.
 */
#include "diag/diagnose.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capf/trust_load.h"
#include "common/json_util.h"
#include "common/util.h"
#include "store/store_revoke.h"

#define CAPF_EXPIRY_WARN_DAYS 30

static const char *const store_names[DIAG_TRUST_STORES] = {
	TRUST_CALLMANAGER, TRUST_CAPF, TRUST_8021X, TRUST_PHONE_VPN,
};
enum { T_CM, T_CAPF, T_8021X, T_VPN };

struct dctx {
	struct store *st;
	struct diag_report *r;
	int64_t now;
	struct classify_ctx cls;
	X509 *cert;              /* the presented certificate (a reference to lsc or mic, or the file's) */
	X509 *lsc, *mic;
	STACK_OF(X509) *stores[DIAG_TRUST_STORES];
	const char *name;        /* the phone's name, or NAME in fixes for a file */
};

/* ---- findings ---- */

const char *diag_level_name(enum diag_level l)
{
	static const char *const names[] = { "ok", "info", "warning", "problem" };
	return names[l];
}

static struct diag_finding *add(struct diag_report *r, enum diag_level level, const char *topic, const char *ref,
				const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static struct diag_finding *add(struct diag_report *r, enum diag_level level, const char *topic, const char *ref,
				const char *fmt, ...)
{
	struct diag_finding *f;
	va_list ap;

	if (r->nfindings == DIAG_MAX_FINDINGS)
		return NULL;
	f = &r->findings[r->nfindings++];
	memset(f, 0, sizeof *f);
	f->level = level;
	snprintf(f->topic, sizeof f->topic, "%s", topic);
	snprintf(f->ref, sizeof f->ref, "%s", ref);
	va_start(ap, fmt);
	vsnprintf(f->text, sizeof f->text, fmt, ap);
	va_end(ap);
	r->problems += level == DIAG_PROBLEM;
	r->warnings += level == DIAG_WARN;
	return f;
}

static void fix(struct diag_finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fix(struct diag_finding *f, const char *fmt, ...)
{
	va_list ap;

	if (!f)
		return;
	va_start(ap, fmt);
	vsnprintf(f->fix, sizeof f->fix, fmt, ap);
	va_end(ap);
}

static void date_text(int64_t t, char *out, size_t cap)
{
	fmt_time_utc(t, out, cap);
}

/* ---- loading ---- */

static X509 *row_cert(const struct cert_row *row)
{
	char err[ERRLEN];

	return pki_cert_from_der(row->der, row->derlen, err, sizeof err);
}

static int load_phone_certs(struct dctx *d)
{
	struct cert_row row;
	int rc;

	memset(&row, 0, sizeof row);
	if ((rc = store_phone_lsc(d->st, d->name, 1, &row)) < 0)
		return -1;
	if (rc == 0)
		d->lsc = row_cert(&row);
	cert_row_free(&row);
	memset(&row, 0, sizeof row);
	if ((rc = store_phone_mic(d->st, d->name, 1, &row)) < 0)
		return -1;
	if (rc == 0)
		d->mic = row_cert(&row);
	cert_row_free(&row);
	d->r->have_lsc = d->lsc != NULL;
	d->r->have_mic = d->mic != NULL;
	return 0;
}

static int load_stores(struct dctx *d, char *err, size_t errlen)
{
	if (classify_ctx_load(d->st, &d->cls, err, errlen) < 0)
		return -1;
	for (int i = 0; i < DIAG_TRUST_STORES; i++)
		if (!(d->stores[i] = trust_load_stack(d->st, store_names[i]))) {
			seterr(err, errlen, "cannot read trust store %s: %s", store_names[i], store_errmsg(d->st));
			return -1;
		}
	return 0;
}

static void dctx_free(struct dctx *d)
{
	X509_free(d->lsc);
	X509_free(d->mic);
	for (int i = 0; i < DIAG_TRUST_STORES; i++)
		sk_X509_pop_free(d->stores[i], X509_free);
	classify_ctx_free(&d->cls);
}

/* ---- the presented certificate ---- */

static void describe_presented(struct dctx *d)
{
	struct diag_report *r = d->r;

	r->have_cert = d->cert != NULL;
	if (!d->cert) {
		snprintf(r->presented, sizeof r->presented, "none");
		fix(add(r, DIAG_WARN, "certificate", "§3, §8",
			"no certificate of this phone on record: it presents its LSC if it has one, else its MIC, "
			"but this state has seen neither"),
		    "%sschedule a Troubleshoot to fetch the phone's certificates into the state: "
		    "opencapf phone op %s troubleshoot; then run diagnose again",
		    r->known ? "" : "once the phone is added (above), ", d->name);
		return;
	}
	pki_cert_info(d->cert, &r->cert);
	cert_classify(&d->cls, d->cert, &r->cls);
	if (!r->phone[0]) /* a certificate file: name it by what it is */
		snprintf(r->presented, sizeof r->presented, "%s",
			 r->cls.kind == CERT_KIND_UNKNOWN ? "cert" : cert_kind_name(r->cls.kind));
	else
		add(r, DIAG_INFO, "certificate", "§3", "the phone presents its %s: %s one (an installed LSC always "
		    "wins over the MIC; there is no setting)", r->presented,
		    d->lsc ? "it holds an LSC, as far as this state knows, so this is the" : "it holds no LSC, so the MIC is the");
	add(r, r->cls.kind == CERT_KIND_UNKNOWN ? DIAG_WARN : DIAG_OK, "certificate", "§8",
	    "%s %s, issuer %s, serial %s: %s by the rule \"%s\"", r->presented, r->cert.cn, r->cert.issuer,
	    r->cert.serial, cert_kind_name(r->cls.kind), r->cls.why);
}

static void check_validity(struct dctx *d)
{
	struct diag_report *r = d->r;
	char when[40];
	struct diag_finding *f;

	if (!d->cert)
		return;
	if (r->cert.not_after < d->now) {
		date_text(r->cert.not_after, when, sizeof when);
		f = add(r, DIAG_PROBLEM, "certificate", "§1", "the %s expired on %s: every server refuses it "
			"(\"certificate expired\")", r->presented, when);
		if (r->cls.kind == CERT_KIND_MIC)
			fix(f, "an expired MIC cannot be used and its CA cannot renew it: install an LSC by "
			    "authentication string or null string: opencapf phone set %s --auth string "
			    "--auth-string DIGITS; opencapf phone op %s install", d->name, d->name);
		else
			fix(f, "install a new LSC with a mode that does not rely on the expired one: "
			    "opencapf phone set %s --auth null (or --auth string); opencapf phone op %s install",
			    d->name, d->name);
	} else if (r->cert.not_before > d->now) {
		date_text(r->cert.not_before, when, sizeof when);
		fix(add(r, DIAG_PROBLEM, "certificate", "", "the %s is not valid before %s "
			"(\"certificate not yet valid\")", r->presented, when),
		    "check the clocks of the phone and the servers (NTP)");
	}
}

/* An LSC this state issued and revoked: every server that checks
 * revocation, and the registration check, refuses it. */
static void check_revoked(struct dctx *d)
{
	struct diag_report *r = d->r;
	struct cert_row row;
	struct revocation rv;
	char when[40];
	int confirmed;

	if (!d->cert || store_issued_find(d->st, r->cert.sha256, &row, &confirmed) != 1 ||
	    store_revocation_effective(d->st, row.issuer_sha256, row.serial, d->now, &rv) != 0)
		return;
	date_text(rv.time, when, sizeof when);
	fix(add(r, DIAG_PROBLEM, "revocation", "", "the %s (serial %s) was revoked on %s (%s): servers that "
		"check revocation (the CRL from 'opencapf trust export', OCSP) and the registration check refuse "
		"it (\"certificate revoked\")", r->presented, row.serial, when, revoke_reason_name(rv.reason)),
	    "give the phone a new LSC without relying on the revoked one: opencapf phone set %s --auth string "
	    "--auth-string DIGITS (or --auth null, or --auth mic-first); opencapf phone op %s install",
	    d->name, d->name);
}

/* ---- trust stores ---- */

static void check_trust(struct dctx *d)
{
	for (int i = 0; i < DIAG_TRUST_STORES; i++) {
		struct diag_trust *t = &d->r->trust[i];
		X509 *which = NULL;

		snprintf(t->store, sizeof t->store, "%s", store_names[i]);
		t->count = sk_X509_num(d->stores[i]);
		if (!d->cert)
			continue;
		if (t->count == 0) {
			snprintf(t->reason, sizeof t->reason, "the store is empty");
			continue;
		}
		t->accepted = pki_verify_chain(d->cert, d->stores[i], d->now, &which, t->reason,
					       sizeof t->reason) == 0;
		if (t->accepted) {
			t->reason[0] = '\0';
			if (which && pki_name_entry(X509_get_subject_name(which), NID_commonName, t->anchor,
						    sizeof t->anchor) < 0)
				snprintf(t->anchor, sizeof t->anchor, "(no CN)");
		}
	}
}

/* CallManager-trust refuses an LSC: which of §6 or §7 it is, and their fixes. */
static void callmanager_lsc_fix(struct dctx *d, struct diag_finding *f)
{
	const struct cert_class *c = &d->r->cls;

	if (c->rule == 1 && strcmp(c->capf_state, "current") != 0)
		fix(f, "the LSC was issued by this state's %s CAPF certificate (%s), which CallManager-trust no "
		    "longer holds. Install new LSCs before removing the old CAPF certificate from CallManager-trust "
		    "(§6): opencapf phone op %s install; or put the old CAPF certificate back meanwhile: "
		    "opencapf trust add %s OLD-CAPF.pem", c->capf_state, c->issuer_cn, d->name, TRUST_CALLMANAGER);
	else if (c->rule == 1)
		fix(f, "add the current CAPF certificate to CallManager-trust: opencapf capf cert > capf.pem; "
		    "opencapf trust add %s capf.pem", TRUST_CALLMANAGER);
	else
		fix(f, "this LSC comes from a CAPF this cluster does not hold (%s): the phone moved from another "
		    "cluster (§7). It presents that LSC (an LSC wins over the MIC), this cluster's "
		    "CallManager-trust lacks the old CA, so TLS fails with \"unknown CA\". Fixes: (1) register the "
		    "phone with a non-secure profile, delete the LSC (opencapf phone op %s delete), install one "
		    "from this cluster (opencapf phone op %s install), then go back to the secure profile; (2) or "
		    "delete the LSC and register with the MIC; (3) as a bridge only, add the old cluster's CAPF "
		    "certificate: opencapf trust add %s OLD-CAPF.pem",
		    c->issuer_cn[0] ? c->issuer_cn : "unknown issuer", d->name, d->name, TRUST_CALLMANAGER);
}

static void finding_callmanager(struct dctx *d)
{
	struct diag_report *r = d->r;
	struct diag_trust *t = &r->trust[T_CM];
	struct diag_finding *f;

	if (!d->cert || r->cert.not_after < d->now)
		return; /* nothing presented, or expiry already reported */
	if (t->accepted) {
		add(r, DIAG_OK, TRUST_CALLMANAGER, "§2", "CallManager-trust accepts the %s (through %s): the "
		    "phone's TLS to call control can succeed", r->presented, t->anchor);
		return;
	}
	f = add(r, DIAG_PROBLEM, TRUST_CALLMANAGER, r->cls.kind == CERT_KIND_LSC && r->cls.rule != 1 ? "§7" : "§2, §6",
		"CallManager-trust refuses the %s: %s. The phone cannot register securely; its console shows "
		"STATE_SSL3_ALERT ... [%s]", r->presented, t->reason, t->reason);
	if (r->cls.kind == CERT_KIND_LSC)
		callmanager_lsc_fix(d, f);
	else if (r->cls.kind == CERT_KIND_MIC)
		fix(f, "add the manufacturing CA that issued the MIC (%s) to CallManager-trust: "
		    "opencapf trust add %s MFG-CA.pem; or install an LSC: opencapf phone op %s install",
		    r->cls.issuer_cn, TRUST_CALLMANAGER, d->name);
	else
		fix(f, "the certificate is neither an LSC nor a MIC this state knows: install an LSC "
		    "(opencapf phone op %s install), or add its issuer to CallManager-trust if it is meant to be "
		    "trusted", d->name);
}

static void finding_edge_server(struct dctx *d, int which, const char *server)
{
	struct diag_report *r = d->r;
	struct diag_trust *t = &r->trust[which];

	if (!d->cert || r->cert.not_after < d->now)
		return;
	if (t->count == 0) {
		add(r, DIAG_INFO, t->store, "§2", "%s is empty: not in use here, or the %s's trust is kept "
		    "elsewhere", t->store, server);
		return;
	}
	if (t->accepted) {
		add(r, DIAG_OK, t->store, "§2", "the %s (%s) accepts the %s (through %s)", server, t->store,
		    r->presented, t->anchor);
		return;
	}
	fix(add(r, DIAG_WARN, t->store, "§2, §6", "the %s (%s) refuses the %s: %s", server, t->store,
		r->presented, t->reason),
	    "upload the %s to the %s and to this store: opencapf trust add %s FILE. After a CAPF "
	    "regeneration keep the old CAPF certificate there until every phone holds an LSC from the new one",
	    r->cls.kind == CERT_KIND_MIC ? "manufacturing CA" : "CAPF certificate", server, t->store);
}

/* ---- the CAPF operation ---- */

static int chains(X509 *cert, STACK_OF(X509) *trusted, int64_t now, char *why, size_t cap)
{
	return cert && pki_verify_chain(cert, trusted, now, NULL, why, cap) == 0;
}

static void auth_by_certificate(struct dctx *d)
{
	struct diag_report *r = d->r;
	char why[128] = "";
	struct diag_finding *f;

	if (r->ph.auth == AUTH_MIC_FIRST) {
		if (!d->mic)
			add(r, DIAG_WARN, "authentication", "§4", "By Existing Certificate (Precedence to MIC): no MIC "
			    "of this phone on record, so whether it chains to the manufacturing trust cannot be checked");
		else if (!chains(d->mic, d->cls.mfg, d->now, why, sizeof why))
			fix(add(r, DIAG_PROBLEM, "authentication", "§4", "By Existing Certificate (Precedence to MIC): "
				"the MIC does not chain to the manufacturing trust (%s): the operation fails with "
				"\"Invalid MIC\"", why),
			    "add the manufacturing CA (opencapf trust add %s MFG-CA.pem) or use another mode: "
			    "opencapf phone set %s --auth string --auth-string DIGITS (or --auth null)",
			    TRUST_MANUFACTURING, d->name);
		else
			add(r, DIAG_OK, "authentication", "§4", "By Existing Certificate (Precedence to MIC): the MIC "
			    "chains to the manufacturing trust");
		return;
	}
	/* Precedence to LSC: the LSC against CAPF-trust, or the MIC when there is no LSC */
	if (d->lsc && !chains(d->lsc, d->stores[T_CAPF], d->now, why, sizeof why))
		f = add(r, DIAG_PROBLEM, "authentication", "§4", "By Existing Certificate (Precedence to LSC): the "
			"LSC's issuer is not in CAPF-trust (%s): the operation fails with \"Invalid LSC\"", why);
	else if (!d->lsc && d->mic && !chains(d->mic, d->cls.mfg, d->now, why, sizeof why))
		f = add(r, DIAG_PROBLEM, "authentication", "§4", "By Existing Certificate (Precedence to LSC) "
			"without an LSC: the MIC does not chain to the manufacturing trust (%s): the operation "
			"fails with \"Invalid LSC\"", why);
	else {
		add(r, d->lsc || d->mic ? DIAG_OK : DIAG_WARN, "authentication", "§4",
		    d->lsc || d->mic ? "By Existing Certificate (Precedence to LSC): the %s chains to its trust store"
				     : "By Existing Certificate (Precedence to LSC): no certificate of the phone on "
				       "record to check%s", d->lsc ? "LSC" : d->mic ? "MIC" : "");
		return;
	}
	fix(f, "use another authentication mode: opencapf phone set %s --auth string --auth-string DIGITS "
	    "(or --auth null)", d->name);
}

static void check_auth(struct dctx *d)
{
	struct diag_report *r = d->r;

	if (r->ph.op == OP_NONE) {
		add(r, DIAG_INFO, "operation", "§4", "No Pending Operation");
		return;
	}
	switch (r->ph.auth) {
	case AUTH_NULL:
		add(r, DIAG_OK, "authentication", "§4", "By Null String: the %s needs no proof from the phone",
		    capf_op_label(r->ph.op));
		break;
	case AUTH_STRING:
		if (r->ph.auth_string[0])
			add(r, DIAG_OK, "authentication", "§4", "By Authentication String: the user enters the "
			    "string on the phone to start the %s", capf_op_label(r->ph.op));
		else
			fix(add(r, DIAG_PROBLEM, "authentication", "§4", "By Authentication String, but no string is "
				"set: the phone cannot authenticate"),
			    "opencapf phone set %s --auth-string DIGITS", d->name);
		break;
	default:
		auth_by_certificate(d);
	}
	if (r->ph.op == OP_DELETE && !d->lsc)
		add(r, DIAG_INFO, "operation", "", "Delete is pending but this state knows of no LSC on the phone: "
		    "the operation still completes");
}

static void check_deadline(struct dctx *d)
{
	struct diag_report *r = d->r;
	char when[40];

	if (r->ph.op == OP_NONE || r->ph.deadline == 0)
		return;
	date_text(r->ph.deadline, when, sizeof when);
	if (r->ph.deadline < d->now)
		fix(add(r, DIAG_PROBLEM, "deadline", "§4, §5", "the operation had to complete by %s: every attempt "
			"now fails with \"%s\" (the phone shows LSC: Failed)", when, STATUS_LATE),
		    "set a new deadline at least an hour ahead: opencapf phone op %s %s --by \"YYYY-MM-DD HH:MM\"",
		    d->name, capf_op_name(r->ph.op));
	else if (r->ph.deadline - d->now < 3600)
		fix(add(r, DIAG_WARN, "deadline", "§4", "the operation must complete by %s, less than an hour from "
			"now", when),
		    "give the phone time: opencapf phone op %s %s --by \"YYYY-MM-DD HH:MM\" (an hour ahead or more)",
		    d->name, capf_op_name(r->ph.op));
	else
		add(r, DIAG_OK, "deadline", "§4", "the operation completes by %s", when);
}

static int lockout_finding(const struct auth_lockout *l, void *arg)
{
	struct dctx *d = arg;
	char when[40];

	if (l->locked_until <= d->now)
		return 0;
	date_text(l->locked_until, when, sizeof when);
	fix(add(d->r, DIAG_WARN, "lockout", "", "CAPF refuses string authentication from %s for this phone until "
		"%s after repeated failures (other addresses are not affected)", l->source, when),
	    "if that is the phone's own address, wait until then and make sure the phone has the right "
	    "authentication string");
	return 0;
}

static int unconfirmed_finding(const struct cert_row *c, void *arg)
{
	struct dctx *d = arg;
	char when[40];

	date_text(c->time, when, sizeof when);
	fix(add(d->r, DIAG_WARN, "unconfirmed", "", "an LSC (serial %s) was sent to this phone on %s but the phone "
		"never confirmed storing it: whoever received it holds a valid certificate", c->serial, when),
	    "if that session was not the phone's own, treat the certificate as compromised "
	    "('opencapf phone show %s' lists it)", d->name);
	return 0;
}

static void check_phone_state(struct dctx *d)
{
	struct diag_report *r = d->r;

	store_auth_lockouts_each(d->st, d->name, lockout_finding, d);
	store_unconfirmed_each(d->st, d->name, unconfirmed_finding, d);
	if (strstr(r->ph.status, "Failed"))
		add(r, DIAG_INFO, "status", "§4", "the last operation status is \"%s\"", r->ph.status);
}

/* ---- the CAPF certificate and the previous one ---- */

static void check_capf(struct dctx *d)
{
	struct diag_report *r = d->r;
	struct capf_row row;
	struct pki_cert_info info;
	char err[ERRLEN], when[40];
	X509 *x;
	int rc;

	memset(&row, 0, sizeof row);
	if ((rc = store_capf_current(d->st, &row)) != 0) {
		add(r, DIAG_PROBLEM, "capf", "§5", "this state has no current CAPF certificate");
		return;
	}
	x = pki_cert_from_der(row.der, row.derlen, err, sizeof err);
	capf_row_free(&row);
	if (!x || pki_cert_info(x, &info) < 0) {
		X509_free(x);
		return;
	}
	X509_free(x);
	date_text(info.not_after, when, sizeof when);
	if (info.not_after < d->now)
		fix(add(r, DIAG_PROBLEM, "capf", "§5", "the CAPF certificate %s expired on %s", info.cn, when),
		    "regenerate it in a maintenance window (it resets the phones): opencapf capf regenerate");
	else if (info.not_after - d->now < 86400LL * CAPF_EXPIRY_WARN_DAYS)
		fix(add(r, DIAG_WARN, "capf", "§5", "the CAPF certificate %s expires on %s, within %d days", info.cn,
			when, CAPF_EXPIRY_WARN_DAYS),
		    "regenerate it before issuing more LSCs, in a maintenance window: opencapf capf regenerate");
	else
		add(r, DIAG_OK, "capf", "§5", "the CAPF certificate %s is valid until %s", info.cn, when);
	if (r->cls.rule == 1 && strcmp(r->cls.capf_state, "current") != 0)
		fix(add(r, DIAG_WARN, "capf", "§6", "the phone's LSC was issued by the %s CAPF certificate %s",
			r->cls.capf_state, r->cls.issuer_cn),
		    "install a new LSC (opencapf phone op %s install) before removing the old CAPF certificate from "
		    "CallManager-trust, CAPF-trust, the 802.1X server and the VPN head-end", d->name);
}

/* ---- what the registration check saw ---- */

static void check_register(struct dctx *d)
{
	struct diag_report *r = d->r;
	struct register_row *g = &r->last_register;
	char when[40];
	int rc = store_register_last(d->st, d->name, g);

	if (rc != 0)
		return;
	r->have_register = 1;
	date_text(g->time, when, sizeof when);
	add(r, strcmp(g->result, "accepted") == 0 ? DIAG_OK : DIAG_INFO, "registration", "§3",
	    "last registration check %s from %s: presented %s, %s%s%s", when, g->peer,
	    strcmp(g->cert_kind, "none") == 0 ? "no certificate" : g->cert_kind, g->result,
	    g->alert[0] ? ", alert " : "", g->alert);
	if (d->cert && strcmp(g->cert_kind, "mic") == 0 && d->lsc && strcmp(g->sha256, r->cert.sha256) != 0)
		fix(add(r, DIAG_WARN, "registration", "§3", "this state believes the phone holds an LSC, but it "
			"last registered with its MIC: it has no LSC any more (deleted on the phone?)"),
		    "install an LSC again, or fetch the phone's certificates: opencapf phone op %s troubleshoot",
		    d->name);
}

/* ---- entry points ---- */

static int run_checks(struct dctx *d, char *err, size_t errlen)
{
	if (!d->now)
		d->now = now_utc();
	if (load_stores(d, err, errlen) < 0)
		return -1;
	describe_presented(d);
	check_validity(d);
	check_revoked(d);
	check_trust(d);
	finding_callmanager(d);
	finding_edge_server(d, T_8021X, "802.1X server");
	finding_edge_server(d, T_VPN, "VPN head-end");
	return 0;
}

int diag_phone(struct store *st, const char *name, int64_t now, struct diag_report *out,
	       char *err, size_t errlen)
{
	struct dctx d = { .st = st, .r = out, .now = now ? now : now_utc(), .name = name };
	int rc;

	memset(out, 0, sizeof *out);
	snprintf(out->phone, sizeof out->phone, "%s", name);
	if ((rc = store_phone_get(st, name, &out->ph)) < 0) {
		seterr(err, errlen, "%s", store_errmsg(st));
		return -1;
	}
	out->known = rc == 0;
	if (!out->known)
		fix(add(out, DIAG_PROBLEM, "phone", "§4", "%s is not configured in this state: CAPF answers it "
			"\"unknown device\"", name), "opencapf phone add %s", name);
	else if (load_phone_certs(&d) < 0) {
		seterr(err, errlen, "%s", store_errmsg(st));
		dctx_free(&d);
		return -1;
	}
	d.cert = d.lsc ? d.lsc : d.mic;
	snprintf(out->presented, sizeof out->presented, "%s", d.lsc ? "LSC" : "MIC");
	rc = run_checks(&d, err, errlen);
	if (rc == 0 && out->known) {
		check_auth(&d);
		check_deadline(&d);
		check_phone_state(&d);
	}
	if (rc == 0) {
		check_capf(&d);
		check_register(&d);
	}
	dctx_free(&d);
	return rc;
}

int diag_certificate(struct store *st, X509 *cert, int64_t now, struct diag_report *out,
		     char *err, size_t errlen)
{
	struct dctx d = { .st = st, .r = out, .now = now ? now : now_utc(), .name = "NAME", .cert = cert };
	int rc;

	memset(out, 0, sizeof *out);
	rc = run_checks(&d, err, errlen);
	if (rc == 0)
		check_capf(&d);
	d.cert = NULL; /* the caller's */
	dctx_free(&d);
	return rc;
}

/* ---- JSON ---- */

static json_t *cert_json(const struct diag_report *r)
{
	if (!r->have_cert)
		return json_null();
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:i, s:s}", "subject", r->cert.subject,
			 "issuer", r->cert.issuer, "serial", r->cert.serial, "sha256", r->cert.sha256,
			 "not_before", json_time_utc(r->cert.not_before), "not_after", json_time_utc(r->cert.not_after),
			 "key", r->cert.key, "kind", cert_kind_name(r->cls.kind), "rule", r->cls.rule,
			 "why", r->cls.why);
}

static json_t *trust_json(const struct diag_report *r)
{
	json_t *a = json_array();

	for (int i = 0; i < DIAG_TRUST_STORES; i++) {
		const struct diag_trust *t = &r->trust[i];
		json_array_append_new(a, json_pack("{s:s, s:i, s:b, s:o, s:o}", "store", t->store,
						   "certificates", t->count, "accepts", t->accepted,
						   "reason", t->reason[0] ? json_string(t->reason) : json_null(),
						   "anchor", t->anchor[0] ? json_string(t->anchor) : json_null()));
	}
	return a;
}

static json_t *findings_json(const struct diag_report *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->nfindings; i++) {
		const struct diag_finding *f = &r->findings[i];
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o, s:s}", "level", diag_level_name(f->level),
						   "topic", f->topic, "text", f->text,
						   "fix", f->fix[0] ? json_string(f->fix) : json_null(), "ref", f->ref));
	}
	return a;
}

json_t *diag_report_json(const struct diag_report *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "phone", r->phone[0] ? json_string(r->phone) : json_null());
	json_object_set_new(o, "known", json_boolean(r->known));
	if (r->known)
		json_object_set_new(o, "settings", json_pack("{s:s, s:s, s:o, s:s}", "operation",
							     capf_op_name(r->ph.op), "auth", auth_mode_name(r->ph.auth),
							     "deadline", json_time_utc(r->ph.deadline), "status", r->ph.status));
	json_object_set_new(o, "has_lsc", json_boolean(r->have_lsc));
	json_object_set_new(o, "has_mic", json_boolean(r->have_mic));
	json_object_set_new(o, "presents", json_string(r->presented));
	json_object_set_new(o, "certificate", cert_json(r));
	json_object_set_new(o, "trust", trust_json(r));
	json_object_set_new(o, "findings", findings_json(r));
	json_object_set_new(o, "problems", json_integer(r->problems));
	json_object_set_new(o, "warnings", json_integer(r->warnings));
	return o;
}
