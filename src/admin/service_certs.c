/*
 * service_certs.c: creating, importing and loading the SAST/TFTP signer and
 * the TVS certificate, and keeping TVS in step with the state's own
 * certificates (service_certs.h).
 *
 * As with the CAPF key (ca.c), the key file is written before the database
 * row that names it, so a row never points at a missing key; a new key gets
 * a new file name, so an interrupted renewal leaves the old pair intact.
 */
#include "admin/service_certs.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capf/ca.h"
#include "admin/itl_file.h"
#include "common/util.h"
#include "store/store_tvs.h"
#include "wire/roles.h"

#define CN_HOST_MAX 40

static int valid_name(const char *name, char *err, size_t errlen)
{
	if (name && (strcmp(name, SERVICE_SAST) == 0 || strcmp(name, SERVICE_TVS) == 0))
		return 0;
	seterr(err, errlen, "unknown service certificate '%s' (sast or tvs)", name ? name : "");
	return -1;
}

/* "ITLRECOVERY_" / "TVS_" + this host's name, reduced to safe characters. */
static void service_cn(const char *name, char *out, size_t outcap)
{
	char host[256] = "", clean[CN_HOST_MAX + 1];
	size_t n = 0;

	if (gethostname(host, sizeof host - 1) < 0 || !host[0])
		snprintf(host, sizeof host, "opencapf");
	for (const char *p = host; *p && *p != '.' && n < CN_HOST_MAX; p++)
		if (isalnum((unsigned char)*p) || *p == '-' || *p == '_')
			clean[n++] = *p;
	clean[n] = '\0';
	snprintf(out, outcap, "%s%s", strcmp(name, SERVICE_SAST) == 0 ? "ITLRECOVERY_" : "TVS_",
		 n ? clean : "opencapf");
}

/* keys/<name>-<n>.key for the first n whose file does not exist yet. */
static int new_key_file(struct store *st, const char *name, char *file, size_t filecap, char *path,
			size_t pathcap)
{
	struct stat sb;

	for (int n = 1; n < 100000; n++) {
		snprintf(file, filecap, "%s-%d.key", name, n);
		if (store_key_path(st, file, path, pathcap) < 0)
			return -1;
		if (stat(path, &sb) < 0)
			return 0;
	}
	return -1;
}

/* Key file, certs/<name>.pem, then the row. */
static int record(struct store *st, const char *name, X509 *cert, EVP_PKEY *key, const char *actor,
		  const char *how, char *err, size_t errlen)
{
	struct pki_cert_info info;
	char file[64], path[4200], detail[512];
	uint8_t *der = NULL;
	size_t len;
	int rc = -1;

	if (new_key_file(st, name, file, sizeof file, path, sizeof path) < 0) {
		seterr(err, errlen, "no free key file name for the %s certificate", name);
		return -1;
	}
	if (pki_key_save(path, key, err, errlen) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/certs/%s.pem", store_dir(st), name);
	if (pki_cert_save_pem(path, cert, err, errlen) < 0)
		return -1;
	if (pki_cert_info(cert, &info) < 0 || pki_cert_to_der(cert, &der, &len) < 0) {
		seterr(err, errlen, "cannot encode the %s certificate", name);
		return -1;
	}
	snprintf(detail, sizeof detail, "{\"cn\":\"%s\",\"sha256\":\"%s\",\"key\":\"%s\",\"how\":\"%s\"}",
		 info.cn, info.sha256, info.key, how);
	if (store_service_cert_set(st, name, der, len, file) < 0 ||
	    store_audit(st, actor, strcmp(name, SERVICE_SAST) == 0 ? "itl.signer" : "tvs.cert", info.cn,
			detail) < 0) {
		seterr(err, errlen, "cannot record the %s certificate: %s", name, store_errmsg(st));
		goto out;
	}
	rc = 0;
out:
	OPENSSL_free(der);
	return rc;
}

static int generate(struct store *st, const char *name, const struct pki_org *org, int days, const char *actor,
		    char *err, size_t errlen)
{
	EVP_PKEY *key = pki_key_generate(PKI_KEY_RSA, SERVICE_KEY_SPEC_BITS, err, errlen);
	X509 *cert = NULL;
	char cn[64];
	int rc = -1;

	if (!key)
		return -1;
	service_cn(name, cn, sizeof cn);
	if ((cert = pki_service_cert_create(key, cn, org, days, err, errlen)) != NULL)
		rc = record(st, name, cert, key, actor, "created", err, errlen);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

int service_certs_create(struct store *st, const struct pki_org *org, int days, const char *actor,
			 char *err, size_t errlen)
{
	if (generate(st, SERVICE_SAST, org, days, actor, err, errlen) < 0 ||
	    generate(st, SERVICE_TVS, org, days, actor, err, errlen) < 0)
		return -1;
	return itl_publish_from_state(st, err, errlen);
}

int service_cert_load(struct store *st, const char *name, X509 **cert, EVP_PKEY **key, char *err,
		      size_t errlen)
{
	struct service_cert_row row;
	char path[4200];
	int rc;

	*cert = NULL;
	if (key)
		*key = NULL;
	if (valid_name(name, err, errlen) < 0)
		return -1;
	rc = store_service_cert_get(st, name, &row);
	if (rc != 0) {
		if (rc < 0)
			seterr(err, errlen, "cannot read the %s certificate: %s", name, store_errmsg(st));
		else if (strcmp(name, SERVICE_SAST) == 0)
			seterr(err, errlen, "the state has no SAST/TFTP signer (create one with 'opencapf itl "
			       "signer create' or import one with 'opencapf itl signer import')");
		else
			seterr(err, errlen, "the state has no TVS certificate (create one with "
			       "'opencapf tvs cert --create')");
		return -1;
	}
	*cert = pki_cert_from_der(row.der, row.derlen, err, errlen);
	if (*cert && key && (store_key_path(st, row.key_file, path, sizeof path) < 0 ||
			     !(*key = pki_key_load(path, err, errlen)))) {
		X509_free(*cert);
		*cert = NULL;
	}
	service_cert_row_free(&row);
	return *cert ? 0 : -1;
}

/* The organisation fields of the CAPF certificate, for a new service certificate. */
static void capf_org(struct store *st, struct pki_org *org)
{
	X509 *capf = NULL;
	char err[ERRLEN];
	const X509_NAME *n;

	memset(org, 0, sizeof *org);
	if (capf_ca_load(st, &capf, NULL, err, sizeof err) < 0)
		return;
	n = X509_get_subject_name(capf);
	pki_name_entry(n, NID_organizationName, org->o, sizeof org->o);
	pki_name_entry(n, NID_organizationalUnitName, org->ou, sizeof org->ou);
	pki_name_entry(n, NID_localityName, org->l, sizeof org->l);
	pki_name_entry(n, NID_stateOrProvinceName, org->st, sizeof org->st);
	pki_name_entry(n, NID_countryName, org->c, sizeof org->c);
	X509_free(capf);
}

/* A state from before TVS and ITLs (schema 1) has neither service
 * certificate: whichever is still missing is created with the first one, so
 * the ITL can be built at once. */
static int create_missing(struct store *st, const struct pki_org *org, int days, const char *actor, char *err,
			  size_t errlen)
{
	static const char *const names[] = { SERVICE_SAST, SERVICE_TVS };
	struct service_cert_row row;

	for (size_t i = 0; i < 2; i++) {
		int rc = store_service_cert_get(st, names[i], &row);

		service_cert_row_free(&row);
		if (rc < 0) {
			seterr(err, errlen, "cannot read the service certificates: %s", store_errmsg(st));
			return -1;
		}
		if (rc == 1 && generate(st, names[i], org, days, actor, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int service_cert_renew(struct store *st, const char *name, int days, const char *actor, char *err,
		       size_t errlen)
{
	struct pki_org org;

	if (valid_name(name, err, errlen) < 0)
		return -1;
	if (days <= 0)
		days = SERVICE_DAYS_DEFAULT;
	capf_org(st, &org);
	if (generate(st, name, &org, days, actor, err, errlen) < 0 ||
	    create_missing(st, &org, days, actor, err, errlen) < 0)
		return -1;
	return itl_publish_from_state(st, err, errlen);
}

int service_cert_import(struct store *st, const char *name, X509 *cert, EVP_PKEY *key, const char *actor,
			char *err, size_t errlen)
{
	if (valid_name(name, err, errlen) < 0)
		return -1;
	if (pki_cert_key_match(cert, key) != 1) {
		seterr(err, errlen, "the key does not belong to the certificate");
		return -1;
	}
	if (strcmp(name, SERVICE_SAST) == 0 && pki_itl_modulus_index(key) < 0) {
		seterr(err, errlen, "the SAST/TFTP signer must be an RSA key of 512, 1024, 2048 or 4096 bits "
		       "(the sizes an ITL header can name)");
		return -1;
	}
	if (pki_key_info(key, NULL, NULL) != 0) {
		seterr(err, errlen, "the key must be RSA or EC on P-256, P-384 or P-521");
		return -1;
	}
	if (record(st, name, cert, key, actor, "imported", err, errlen) < 0)
		return -1;
	{
		struct pki_org org;

		capf_org(st, &org);
		if (create_missing(st, &org, SERVICE_DAYS_DEFAULT, actor, err, errlen) < 0)
			return -1;
	}
	return itl_publish_from_state(st, err, errlen);
}

/* Put cert into TVS with roles unless TVS already knows it. */
static int register_one(struct store *st, X509 *cert, const uint16_t *roles, size_t n, char *err,
			size_t errlen)
{
	struct tvs_cert_row row;
	char sha256[80];
	uint8_t *der = NULL;
	size_t len;
	int rc;

	if (pki_fingerprint(cert, "sha256", 0, sha256, sizeof sha256) < 0 || pki_cert_to_der(cert, &der, &len) < 0) {
		seterr(err, errlen, "cannot encode a service certificate");
		return -1;
	}
	rc = store_tvs_get(st, sha256, &row);
	if (rc == 1)
		rc = store_tvs_put(st, der, len, roles, n, -1, TVS_SOURCE_SERVICE, "opencapf service certificate");
	OPENSSL_free(der);
	if (rc < 0) {
		seterr(err, errlen, "cannot register a service certificate with TVS: %s", store_errmsg(st));
		return -1;
	}
	return 0;
}

int service_certs_register_tvs(struct store *st, char *err, size_t errlen)
{
	static const uint16_t capf_roles[] = { ROLE_CAPF }, tvs_roles[] = { ROLE_TVS },
			      sast_roles[] = { ROLE_SAST, ROLE_TFTP };
	X509 *capf = NULL, *tvs = NULL, *sast = NULL;
	int rc = -1;

	if (capf_ca_load(st, &capf, NULL, err, errlen) < 0 ||
	    service_cert_load(st, SERVICE_TVS, &tvs, NULL, err, errlen) < 0 ||
	    service_cert_load(st, SERVICE_SAST, &sast, NULL, err, errlen) < 0)
		goto out;
	if (register_one(st, capf, capf_roles, 1, err, errlen) < 0 ||
	    register_one(st, tvs, tvs_roles, 1, err, errlen) < 0 ||
	    register_one(st, sast, sast_roles, 2, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	X509_free(capf);
	X509_free(tvs);
	X509_free(sast);
	return rc;
}
