/*
 * ca.c: the current CAPF certificate and key of a state, loaded for the
 * server (the key only ever leaves here wrapped in a signer), and the LSC
 * validity setting.
 */
#include "capf/ca.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "pki/pki_crl.h"


int capf_ca_load(struct store *st, X509 **cert, EVP_PKEY **key, char *err, size_t errlen)
{
	struct capf_row row;
	char path[4200];
	int rc;

	rc = store_capf_current(st, &row);
	if (rc != 0) {
		seterr(err, errlen, rc > 0 ? "the state has no CAPF certificate (run 'opencapf init')"
					   : "cannot read the CAPF certificate: %s", store_errmsg(st));
		return -1;
	}
	*cert = pki_cert_from_der(row.der, row.derlen, err, errlen);
	if (!*cert) {
		capf_row_free(&row);
		return -1;
	}
	if (key) {
		if (store_key_path(st, row.key_file, path, sizeof path) < 0 ||
		    !(*key = pki_key_load(path, err, errlen))) {
			X509_free(*cert);
			*cert = NULL;
			capf_row_free(&row);
			return -1;
		}
	}
	capf_row_free(&row);
	return 0;
}

struct signer *capf_ca_signer(struct store *st, char *err, size_t errlen)
{
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	struct signer *s;

	if (capf_ca_load(st, &cert, &key, err, errlen) < 0)
		return NULL;
	s = signer_local_new(cert, key);
	capf_ca_signer_urls(st, s);
	X509_free(cert);
	EVP_PKEY_free(key);
	if (!s)
		seterr(err, errlen, "cannot create the CAPF signer");
	return s;
}

void capf_ca_signer_urls(struct store *st, struct signer *s)
{
	char base[200], stem[72];

	if (!s || !s->issuer || store_setting_get(st, CAPF_SETTING_REVOCATION_URL, base, sizeof base) != 0 || !base[0])
		return;
	pki_capf_file_stem(s->issuer, stem, sizeof stem);
	snprintf(s->crl_url, sizeof s->crl_url, "URI:%s/crl/%s.crl", base, stem);
	snprintf(s->ocsp_url, sizeof s->ocsp_url, "OCSP;URI:%s/ocsp", base);
}

int capf_ca_lsc_days(struct store *st)
{
	char v[32];
	int days;

	if (store_setting_get(st, "lsc_days", v, sizeof v) != 0)
		return 1825;
	days = atoi(v);
	return days > 0 ? days : 1825;
}
