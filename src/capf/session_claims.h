/*
 * session_claims.h: the devices that have a CAPF session working on their
 * operation in this process, so that a second session for the same device
 * is refused at once, without a database write on the worker's hot path.
 *
 * This is the fast, in-process half of "one operation, one certificate";
 * the database half is the claim recorded with the LSC's delivery
 * (store_capf_lsc_delivered), which also holds across daemons sharing one
 * database. Thread-safe: the workers share one set.
 */
#ifndef OPENCAPF_CAPF_SESSION_CLAIMS_H
#define OPENCAPF_CAPF_SESSION_CLAIMS_H

struct session_claims;

struct session_claims *session_claims_new(void);
void session_claims_free(struct session_claims *c);
/* 0 taken, 1 another session holds the device, -1 out of memory. */
int session_claims_take(struct session_claims *c, const char *device);
void session_claims_drop(struct session_claims *c, const char *device);
/* How many devices are held now. */
long session_claims_count(struct session_claims *c);

#endif
