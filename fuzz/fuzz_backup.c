/*
 * fuzz_backup.c: fuzz target for the backup archive reader of `opencapf
 * restore` (backup_decode): untrusted files of any length, read without a
 * passphrase and with one (PBKDF2 iterations capped so each input stays
 * fast). Whatever decodes must describe files inside the plain body, and
 * must encode and decode again to the same files.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin/backup.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const struct backup_archive *a)
{
	struct backup_archive b;
	uint8_t *out = NULL;
	size_t len = 0;
	char err[ERRLEN];

	if (backup_encode(a, NULL, 0, &out, &len, err, sizeof err) < 0)
		abort();
	if (backup_decode(out, len, NULL, &b, err, sizeof err) < 0 || b.nfiles != a->nfiles ||
	    b.schema != a->schema || b.created != a->created)
		abort();
	for (size_t i = 0; i < b.nfiles; i++)
		if (strcmp(b.files[i].name, a->files[i].name) != 0 || b.files[i].len != a->files[i].len ||
		    (b.files[i].len && memcmp(b.files[i].data, a->files[i].data, b.files[i].len) != 0))
			abort();
	backup_archive_free(&b);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct backup_read_opts with_pass = { .passphrase = "fuzz passphrase", .max_iterations = 2000 };
	struct backup_archive a;
	char err[ERRLEN];

	if (backup_decode(data, size, NULL, &a, err, sizeof err) == 0) {
		roundtrip(&a);
		backup_archive_free(&a);
	}
	if (backup_decode(data, size, &with_pass, &a, err, sizeof err) == 0) {
		roundtrip(&a);
		backup_archive_free(&a);
	}
	return 0;
}
