/*
 * fuzz_itl_show.c: fuzz target for `itl show` and ITL signature checking
 * (src/capf/itl_show.h, pki_itl_verify in src/pki/pki_itl.c): the code that
 * prints every field of a file from anywhere and looks for its signer.
 *
 * Any bytes must be printed and judged without crashing; a file itl_show
 * calls verified must decode, have no unknown tags and verify on its own,
 * and a refusal must come with a reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capf/itl_show.h"
#include "common/util.h"
#include "pki/pki.h"
#include "wire/itl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	struct itl_file f;
	char err[ERRLEN] = "", why[ERRLEN];
	size_t signer = 0;

	if (!sink && !(sink = fopen("/dev/null", "w")))
		abort();
	if (itl_show(sink, data, size, err, sizeof err) < 0) {
		check(err[0] != '\0');
		return 0;
	}
	check(itl_decode(&f, data, size, why, sizeof why) == 0);
	check(itl_unknown_tags(&f, why, sizeof why) == 0);
	check(pki_itl_verify(&f, &signer, why, sizeof why) == 0 && signer < f.nrecords);
	itl_free(&f);
	return 0;
}
