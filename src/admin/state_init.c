/*
 * state_init.c: creating a state with its CAPF CA: database, keys, the first
 * CAPF certificate placed in its trust stores, the service certificates.
 *
 * The key file is written (0600, atomically) before the database row that
 * names it, so a row never points at a missing key.
 */
#include "admin/capf_lifecycle.h"
#include "admin/provision.h"
#include "admin/service_certs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

const char *const capf_default_trust_stores[][2] = {
	{ TRUST_CALLMANAGER, "CA certificates call control trusts for phone TLS (LSC and MIC issuers)" },
	{ TRUST_CAPF, "issuers CAPF accepts for authentication by existing certificate" },
	{ TRUST_MANUFACTURING, "manufacturing CAs that issue phones' MICs" },
	{ TRUST_PHONE_VPN, "CA certificates the phone VPN head-end trusts" },
	{ TRUST_8021X, "CA certificates the 802.1X server trusts" },
	{ NULL, NULL },
};

/* Stores that receive the CAPF certificate at init (§2 of phone-certificates.md). */
static const char *const capf_cert_stores[] = {
	TRUST_CAPF, TRUST_CALLMANAGER, TRUST_PHONE_VPN, TRUST_8021X, NULL,
};

static int place_capf_cert(struct store *st, const uint8_t *der, size_t len,
			   const struct pki_cert_info *info, char *err, size_t errlen)
{
	for (int i = 0; capf_default_trust_stores[i][0]; i++)
		if (store_trust_create(st, capf_default_trust_stores[i][0], capf_default_trust_stores[i][1]) < 0)
			goto fail;
	for (int i = 0; capf_cert_stores[i]; i++)
		if (store_trust_add(st, capf_cert_stores[i], der, len, info->sha256, info->subject,
				    "CAPF certificate") < 0)
			goto fail;
	return 0;
fail:
	seterr(err, errlen, "cannot fill trust stores: %s", store_errmsg(st));
	return -1;
}

static int record_capf(struct store *st, X509 *cert, const struct capf_ca_params *p,
		       const char *key_file, const char *actor, char *err, size_t errlen)
{
	struct pki_cert_info info;
	uint8_t *der = NULL;
	size_t len;
	char lsc_days[16], detail[512];
	int rc = -1;

	if (pki_cert_info(cert, &info) < 0 || pki_cert_to_der(cert, &der, &len) < 0) {
		seterr(err, errlen, "cannot encode the CAPF certificate");
		return -1;
	}
	snprintf(lsc_days, sizeof lsc_days, "%d", p->lsc_days);
	snprintf(detail, sizeof detail, "{\"capf\":\"%s\",\"sha256\":\"%s\",\"key\":\"%s\"}",
		 info.cn, info.sha256, info.key);
	if (store_begin(st) < 0)
		goto out;
	if (store_capf_add(st, der, len, key_file, info.sha256) < 0 ||
	    store_setting_set(st, "lsc_days", lsc_days) < 0 ||
	    place_capf_cert(st, der, len, &info, err, errlen) < 0 ||
	    store_audit(st, actor, "init", info.cn, detail) < 0 ||
	    store_commit(st) < 0) {
		if (!err[0])
			seterr(err, errlen, "cannot record the CAPF certificate: %s", store_errmsg(st));
		store_rollback(st);
		goto out;
	}
	rc = 0;
out:
	OPENSSL_free(der);
	return rc;
}

static void summarise(X509 *cert, struct capf_ca_summary *s)
{
	struct pki_cert_info info;

	memset(s, 0, sizeof *s);
	if (pki_cert_info(cert, &info) < 0)
		return;
	snprintf(s->cn, sizeof s->cn, "%s", info.cn);
	snprintf(s->key, sizeof s->key, "%s", info.key);
	snprintf(s->sha256, sizeof s->sha256, "%s", info.sha256);
	fmt_time_utc(info.not_after, s->not_after, sizeof s->not_after);
}

int capf_ca_create_state(const char *dir, const struct capf_ca_params *p, const char *actor,
			 struct capf_ca_summary *summary, char *err, size_t errlen)
{
	struct store *st = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	char path[4200];
	int rc = -1;

	err[0] = '\0';
	if (store_open(dir, STORE_OPEN_CREATE, &st, err, errlen) < 0)
		return -1;
	if (!(key = pki_key_generate(p->kind, p->bits, err, errlen)))
		goto out;
	if (!(cert = pki_capf_cert_create(key, &p->org, p->days, err, errlen)))
		goto out;
	if (store_key_path(st, "capf-1.key", path, sizeof path) < 0 ||
	    pki_key_save(path, key, err, errlen) < 0)
		goto out;
	if (path_join(path, sizeof path, dir, "certs/capf.pem") < 0 ||
	    pki_cert_save_pem(path, cert, err, errlen) < 0)
		goto out;
	if (record_capf(st, cert, p, "capf-1.key", actor, err, errlen) < 0)
		goto out;
	if (admin_https_cert_create(st, actor, p->days, 0, err, errlen) < 0 || /* HTTPS provisioning */
	    service_certs_create(st, &p->org, p->days, actor, err, errlen) < 0)  /* SAST/TFTP, TVS, ITL */
		goto out;
	summarise(cert, summary);
	rc = 0;
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	store_close(st);
	return rc;
}
