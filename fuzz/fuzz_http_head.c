/*
 * fuzz_http_head.c: fuzz target for the one part of an HTTP request the API
 * reads before libevent does (src/api/api_head.c): any bytes as a request
 * head. The answer must be -1 or a length within the clamp; never a crash or
 * a read past the bytes given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly `size` bytes, so that ASan sees any read past them. */
	char *head = malloc(size ? size : 1);
	long long v;

	if (!head)
		return 0;
	if (size)
		memcpy(head, data, size);
	v = api_head_content_length(head, size);
	if (v < -1 || v > 1000000000000000LL)
		abort();
	free(head);
	return 0;
}
