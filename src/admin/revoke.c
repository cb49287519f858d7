/*
 * revoke.c: revoking LSCs by phone or by serial (revoke.h); one
 * transaction each, the revocation and its audit row written by the store.
 */
#include "admin/revoke.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>

#include "common/util.h"

int admin_serial_normalize(const char *in, char *out, size_t outcap, char *err, size_t errlen)
{
	char hex[260];
	size_t n = 0;
	const char *p = in ? in : "";
	BIGNUM *bn = NULL;
	unsigned char bytes[128];
	int len;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (; *p; p++) {
		if (*p == ':' || *p == ' ')
			continue;
		if (!isxdigit((unsigned char)*p) || n + 1 >= sizeof hex) {
			seterr(err, errlen, "\"%s\" is not a certificate serial number (hexadecimal, e.g. 1a2b3c or "
			       "1A:2B:3C)", in ? in : "");
			return -1;
		}
		hex[n++] = *p;
	}
	hex[n] = '\0';
	if (n == 0 || !BN_hex2bn(&bn, hex) || (len = BN_num_bytes(bn)) > (int)sizeof bytes ||
	    outcap < (size_t)(len ? len : 1) * 2 + 1) {
		BN_free(bn);
		seterr(err, errlen, "\"%s\" is not a certificate serial number", in ? in : "");
		return -1;
	}
	if (len == 0) {
		snprintf(out, outcap, "00");
	} else {
		BN_bn2bin(bn, bytes);
		hex_encode(bytes, (size_t)len, out);
	}
	BN_free(bn);
	return 0;
}

void admin_revoked_add(struct admin_revoked *out, const struct cert_row *c, int reason, int64_t when)
{
	struct revocation *r;

	if (!out)
		return;
	if (out->n >= ADMIN_REVOKED_MAX) {
		out->more++;
		out->n++;
		return;
	}
	r = &out->r[out->n++];
	memset(r, 0, sizeof *r);
	snprintf(r->serial, sizeof r->serial, "%s", c->serial);
	snprintf(r->issuer_sha256, sizeof r->issuer_sha256, "%s", c->issuer_sha256);
	snprintf(r->phone, sizeof r->phone, "%s", c->phone);
	r->time = when;
	r->reason = reason;
}

static int fail(struct store *st, int rc, char *err, size_t errlen)
{
	if (rc == ADMIN_REVOKE_STORE)
		snprintf(err, errlen, "%s", store_errmsg(st));
	store_rollback(st);
	return rc;
}

/* Revoke one certificate inside the open transaction, then commit. */
static int revoke_one(struct store *st, const char *actor, const struct cert_row *c, int reason,
		      struct admin_revoked *out, char *err, size_t errlen)
{
	int64_t when = now_utc();
	int rc = store_revoke_locked(st, actor, c->serial, c->issuer_sha256, c->phone, reason, when);

	if (rc < 0)
		return fail(st, ADMIN_REVOKE_STORE, err, errlen);
	if (rc > 0) {
		if (out && store_revocation_find(st, c->issuer_sha256, c->serial, &out->r[0]) == 0)
			out->n = 1;
		seterr(err, errlen, "the certificate with serial %s was revoked already", c->serial);
		return fail(st, ADMIN_REVOKE_ALREADY, err, errlen);
	}
	if (store_commit(st) != 0)
		return fail(st, ADMIN_REVOKE_STORE, err, errlen);
	admin_revoked_add(out, c, reason, when);
	return ADMIN_REVOKE_OK;
}

static int check_reason(int reason, char *err, size_t errlen)
{
	if (revoke_reason_name(reason))
		return 0;
	seterr(err, errlen, "revocation reason %d is not one of unspecified, keyCompromise, affiliationChanged, "
	       "superseded, cessationOfOperation", reason);
	return -1;
}

int admin_revoke_phone(struct store *st, const char *actor, const char *name, int reason,
		       struct admin_revoked *out, char *err, size_t errlen)
{
	struct phone p;
	struct cert_row lsc;
	int rc;

	if (out)
		memset(out, 0, sizeof *out);
	if (check_reason(reason, err, errlen) < 0)
		return ADMIN_REVOKE_INVALID;
	if (store_begin(st) != 0)
		return fail(st, ADMIN_REVOKE_STORE, err, errlen);
	rc = store_phone_get(st, name, &p);
	if (rc != 0) {
		seterr(err, errlen, "no phone named %s", name);
		return fail(st, rc < 0 ? ADMIN_REVOKE_STORE : ADMIN_REVOKE_NOT_FOUND, err, errlen);
	}
	rc = store_phone_lsc(st, name, 0, &lsc);
	if (rc < 0)
		return fail(st, ADMIN_REVOKE_STORE, err, errlen);
	if (rc > 0 || !lsc.issuer_sha256[0]) {
		seterr(err, errlen, rc > 0 ? "phone %s holds no LSC" : "phone %s holds an LSC this state did not issue",
		       name);
		return fail(st, ADMIN_REVOKE_NO_LSC, err, errlen);
	}
	snprintf(lsc.phone, sizeof lsc.phone, "%s", name);
	return revoke_one(st, actor, &lsc, reason, out, err, errlen);
}

struct serial_find {
	struct cert_row c;
	int n;
};

static int serial_found(const struct cert_row *r, void *arg)
{
	struct serial_find *f = arg;

	if (f->n == 0 || strcmp(f->c.issuer_sha256, r->issuer_sha256) != 0) {
		if (f->n == 0)
			f->c = *r;
		f->n++;
	}
	return 0;
}

int admin_revoke_serial(struct store *st, const char *actor, const char *serial, int reason,
			struct admin_revoked *out, char *err, size_t errlen)
{
	struct serial_find f;
	char sn[130];

	if (out)
		memset(out, 0, sizeof *out);
	memset(&f, 0, sizeof f);
	if (admin_serial_normalize(serial, sn, sizeof sn, err, errlen) < 0 || check_reason(reason, err, errlen) < 0)
		return ADMIN_REVOKE_INVALID;
	if (store_begin(st) != 0)
		return fail(st, ADMIN_REVOKE_STORE, err, errlen);
	if (store_issued_serial_each(st, sn, serial_found, &f) < 0)
		return fail(st, ADMIN_REVOKE_STORE, err, errlen);
	if (f.n == 0) {
		seterr(err, errlen, "no LSC with serial %s was issued by this state", sn);
		return fail(st, ADMIN_REVOKE_NOT_FOUND, err, errlen);
	}
	if (f.n > 1) {
		seterr(err, errlen, "serial %s was issued under %d CAPF certificates; revoke by phone instead", sn,
		       f.n);
		return fail(st, ADMIN_REVOKE_AMBIGUOUS, err, errlen);
	}
	return revoke_one(st, actor, &f.c, reason, out, err, errlen);
}
