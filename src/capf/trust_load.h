/*
 * trust_load.h: a trust store from the database as an OpenSSL stack of
 * anchors, for chain checks (CAPF authentication, registration checks).
 */
#ifndef OPENCAPF_CAPF_TRUST_LOAD_H
#define OPENCAPF_CAPF_TRUST_LOAD_H

#include <openssl/x509.h>

#include "store/store.h"

/* NULL on a database error; an empty stack for an empty or unknown store. */
STACK_OF(X509) *trust_load_stack(struct store *st, const char *store_name);

#endif
