/*
 * api_head.h: the one look the HTTP API takes at a request's head before
 * libevent parses it (api_conn.c): its Content-Length, so that a body too
 * big for the API is refused with the API's JSON 413 before it comes.
 * Pure: bytes in, a number out (fuzz/fuzz_http_head.c).
 */
#ifndef OPENCAPF_API_HEAD_H
#define OPENCAPF_API_HEAD_H

#include <stddef.h>

/* The value of the first Content-Length header line in the request head
 * `head` (n bytes: the request line and header lines, each ending in "\n",
 * the blank line excluded), clamped to 10^15; -1 when there is none. Digits
 * only: a value with a sign or without digits reads as 0 and is left to
 * libevent's own parser to refuse. */
long long api_head_content_length(const char *head, size_t n);

#endif
