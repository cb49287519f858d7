/*
 * fuzz_pcap.c: fuzz target for whole capture files as `opencapf pcap`
 * reads them: libpcap's file reader, then our frame decoders, TCP
 * reassembly and the TLS parser, and the JSON description of every
 * connection found (src/diag/capture.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "diag/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcp_limits lim = { .max_streams = 8, .max_ooo_bytes = 64 * 1024 };
	struct capture_result res;
	FILE *f;

	if (size == 0 || !(f = fmemopen((void *)data, size, "rb")))
		return 0;
	capture_analyse_stream(f, 0, &lim, &res);
	for (size_t i = 0; i < res.n; i++) {
		json_t *j = capture_conn_json(&res.conns[i], NULL);
		char *text = json_dumps(j, JSON_COMPACT);
		if (!text)
			abort();
		free(text);
		json_decref(j);
	}
	capture_result_free(&res);
	return 0;
}
