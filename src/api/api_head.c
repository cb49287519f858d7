/*
 * api_head.c: a request head's Content-Length (api_head.h). The head is
 * bytes from the network: every read stays within n, and a number longer
 * than any real length is clamped rather than overflowing.
 */
#include "api/api_head.h"

#include <string.h>
#include <strings.h>

#define LENGTH_CLAMP 1000000000000000LL

long long api_head_content_length(const char *head, size_t n)
{
	const char *p = head, *stop = head + n;
	long long v;

	while ((p = memchr(p, '\n', (size_t)(stop - p))) != NULL) {
		p++; /* the start of a header line */
		if (stop - p < 15 || strncasecmp(p, "content-length:", 15) != 0)
			continue;
		for (p += 15; p < stop && (*p == ' ' || *p == '\t'); p++)
			;
		for (v = 0; p < stop && *p >= '0' && *p <= '9'; p++)
			v = v < LENGTH_CLAMP / 10 ? v * 10 + (*p - '0') : LENGTH_CLAMP;
		return v;
	}
	return -1;
}
