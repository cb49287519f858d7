/*
 * load_keypool.c: the phone keys of `phonesim load`.
 *
 * A real phone spends seconds generating its key; an emulator that did the
 * same would measure itself instead of the server. So each (kind, bits) the
 * servers ask for gets a pool of `per_type` keys, handed out round robin:
 * filled up front for the kinds named with --key-types, otherwise one key
 * per request until the pool is full (that time is measured and reported).
 * Phones sharing a public key is harmless to a CAPF server: every LSC still
 * gets its own serial number.
 *
 * Thread-safe: one mutex around the slots; a key is handed out as a new
 * reference (EVP_PKEY_up_ref), so sessions free theirs independently.
 */
#include "cmd/phonesim/load.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_KINDS 16

struct pool_slot {
	enum pki_key_kind kind;
	int bits;
	EVP_PKEY **keys;
	int n, next;
};

struct key_pool {
	pthread_mutex_t lock;
	int per_type;
	struct pool_slot slots[MAX_KINDS];
	int nslots;
	int lazy_keys;
	double lazy_seconds;
};

struct key_pool *key_pool_new(int per_type)
{
	struct key_pool *kp = calloc(1, sizeof *kp);

	if (!kp)
		return NULL;
	pthread_mutex_init(&kp->lock, NULL);
	kp->per_type = per_type > 0 ? per_type : 1;
	return kp;
}

void key_pool_free(struct key_pool *kp)
{
	if (!kp)
		return;
	for (int i = 0; i < kp->nslots; i++) {
		for (int k = 0; k < kp->slots[i].n; k++)
			EVP_PKEY_free(kp->slots[i].keys[k]);
		free(kp->slots[i].keys);
	}
	pthread_mutex_destroy(&kp->lock);
	free(kp);
}

static double seconds_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The slot for kind/bits, created when missing; NULL when the table is full. Locked. */
static struct pool_slot *slot_for(struct key_pool *kp, enum pki_key_kind kind, int bits)
{
	struct pool_slot *s;

	for (int i = 0; i < kp->nslots; i++)
		if (kp->slots[i].kind == kind && kp->slots[i].bits == bits)
			return &kp->slots[i];
	if (kp->nslots == MAX_KINDS)
		return NULL;
	s = &kp->slots[kp->nslots];
	s->keys = calloc((size_t)kp->per_type, sizeof *s->keys);
	if (!s->keys)
		return NULL;
	s->kind = kind;
	s->bits = bits;
	kp->nslots++;
	return s;
}

/* One more key into a slot that is not full. Locked. */
static int slot_grow(struct pool_slot *s, char *err, size_t errlen)
{
	EVP_PKEY *key = pki_key_generate(s->kind, s->bits, err, errlen);

	if (!key)
		return -1;
	s->keys[s->n++] = key;
	return 0;
}

int key_pool_fill(struct key_pool *kp, const char *specs, char *err, size_t errlen)
{
	char copy[256], *save = NULL, *tok;
	enum pki_key_kind kind;
	struct pool_slot *s;
	int bits, rc = 0;

	snprintf(copy, sizeof copy, "%s", specs);
	pthread_mutex_lock(&kp->lock);
	for (tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
		if (pki_key_parse_spec(tok, &kind, &bits, err, errlen) < 0) {
			rc = -1;
			break;
		}
		if (!(s = slot_for(kp, kind, bits))) {
			seterr(err, errlen, "too many key types");
			rc = -1;
			break;
		}
		while (rc == 0 && s->n < kp->per_type)
			rc = slot_grow(s, err, errlen);
	}
	pthread_mutex_unlock(&kp->lock);
	return rc;
}

EVP_PKEY *key_pool_get(struct key_pool *kp, enum pki_key_kind kind, int bits, char *err, size_t errlen)
{
	struct pool_slot *s;
	EVP_PKEY *key = NULL;

	pthread_mutex_lock(&kp->lock);
	s = slot_for(kp, kind, bits);
	if (!s) {
		seterr(err, errlen, "too many key types");
	} else if (s->n < kp->per_type) {
		double t = seconds_now();
		if (slot_grow(s, err, errlen) == 0) {
			key = s->keys[s->n - 1];
			kp->lazy_keys++;
		}
		kp->lazy_seconds += seconds_now() - t;
	} else {
		key = s->keys[s->next];
		s->next = (s->next + 1) % s->n;
	}
	if (key)
		EVP_PKEY_up_ref(key);
	pthread_mutex_unlock(&kp->lock);
	return key;
}

void key_pool_lazy(struct key_pool *kp, int *keys, double *seconds)
{
	pthread_mutex_lock(&kp->lock);
	*keys = kp->lazy_keys;
	*seconds = kp->lazy_seconds;
	pthread_mutex_unlock(&kp->lock);
}

void key_pool_describe(struct key_pool *kp, char *out, size_t outcap)
{
	size_t used = 0;

	out[0] = '\0';
	pthread_mutex_lock(&kp->lock);
	for (int i = 0; i < kp->nslots && used < outcap; i++) {
		const struct pool_slot *s = &kp->slots[i];
		int n = snprintf(out + used, outcap - used, "%s%s %d x%d", i ? ", " : "",
				 s->kind == PKI_KEY_RSA ? "rsa" : "ec", s->bits, s->n);
		if (n > 0)
			used += (size_t)n;
	}
	pthread_mutex_unlock(&kp->lock);
	if (!out[0])
		snprintf(out, outcap, "none used");
}
