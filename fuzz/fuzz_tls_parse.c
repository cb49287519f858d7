/*
 * fuzz_tls_parse.c: fuzz target for the TLS record/handshake parser that
 * `opencapf pcap` runs on captured streams (src/diag/tls_parse.c).
 *
 * Input: one byte choosing a chunk size, then the bytes one side of a
 * connection sent. The stream is parsed twice, whole and in chunks; the
 * facts must agree (the parser is streaming, so how bytes arrive must not
 * matter), and every certificate reported must lie within the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag/tls_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const struct tls_side *a, const struct tls_side *b)
{
	if (a->state != b->state || a->client_hello != b->client_hello || a->server_hello != b->server_hello ||
	    a->selected_version != b->selected_version || a->max_version != b->max_version ||
	    a->cipher != b->cipher || a->ncerts != b->ncerts || a->ncerts_total != b->ncerts_total ||
	    a->nalerts != b->nalerts || a->nmsgs != b->nmsgs || strcmp(a->error, b->error) != 0 ||
	    strcmp(a->sni, b->sni) != 0)
		abort();
	for (size_t i = 0; i < a->ncerts; i++)
		if (a->certs[i].len != b->certs[i].len || memcmp(a->certs[i].der, b->certs[i].der, a->certs[i].len))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_side whole, chunked;
	size_t chunk;

	if (size < 1)
		return 0;
	chunk = 1 + data[0] % 97;
	data++;
	size--;
	memset(&whole, 0, sizeof whole);
	memset(&chunked, 0, sizeof chunked);
	tls_side_feed(&whole, data, size);
	for (size_t off = 0; off < size; off += chunk)
		tls_side_feed(&chunked, data + off, size - off < chunk ? size - off : chunk);
	same(&whole, &chunked);
	for (size_t i = 0; i < whole.ncerts; i++)
		if (whole.certs[i].len == 0 || whole.certs[i].len > size)
			abort();
	if (whole.bytes != size || strlen(whole.error) >= sizeof whole.error)
		abort();
	tls_side_free(&whole);
	tls_side_free(&chunked);
	return 0;
}
