/*
 * phone_import.h: adding phones, or changing them, from a CSV file in the
 * columns `phone export` writes: the rules behind `opencapf phone import`.
 *
 * Rules:
 *  - The first record names the columns (phone_csv_map_header); every
 *    later record is one phone. Rows whose cells are all blank are skipped.
 *  - All or nothing: every bad line is named as "FILE:LINE: sentence" and
 *    then nothing is imported. A line is bad when it cannot be read, has no
 *    or no valid device name, names a phone an earlier line names, names an
 *    existing phone without `update`, has a bad setting (all of a line's
 *    problems in one sentence), a deadline without an operation, or auth
 *    "string" without an auth string. Sentences never echo an auth string.
 *  - A phone being updated keeps the value of every empty cell; a new phone
 *    takes the defaults. Operation, deadline and status are settled as for
 *    `phone add|set` (admin_phone_settle).
 *  - A row that leaves an existing phone as it was is counted unchanged
 *    and neither written nor audited.
 *  - One transaction (store_bulk_*): one audit row per phone added or
 *    changed (action "phone.import", object the name, detail the
 *    before/after with "source": "FILE:LINE"), and one summary row
 *    ("phone.import.done", object FILE, detail {file, added, updated,
 *    unchanged, update}).
 *  - A dry run checks everything the same way and writes nothing.
 *  - The file may hold authentication strings: the core wipes its own
 *    copies of them; the caller wipes `data`.
 *
 * Nothing here prints: the caller words the counts and prints the problems.
 */
#ifndef OPENCAPF_ADMIN_PHONE_IMPORT_H
#define OPENCAPF_ADMIN_PHONE_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "store/store.h"

/* What an import ends with. Unless OK, nothing was imported. */
enum admin_import_rc {
	ADMIN_IMPORT_OK = 0,          /* imported (or, dry run, the file is valid) */
	ADMIN_IMPORT_EMPTY = -1,      /* no record at all: problems holds "FILE:1: empty file: ..." */
	ADMIN_IMPORT_BAD_HEADER = -2, /* the first record is unreadable or no header: problems holds it */
	ADMIN_IMPORT_BAD_LINES = -3,  /* problems holds every bad line, bad_lines counts them */
	ADMIN_IMPORT_FAILED = -4,     /* out of memory, or the store could not begin or commit: err */
};

struct admin_import_result {
	size_t added, updated, unchanged;  /* phones (that would be, in a dry run) */
	size_t bad_lines;                  /* lines in problems */
	/* One line per problem, "FILE:LINE: sentence\n", in file order
	 * (not NUL-terminated: problems.len bytes). */
	struct buf problems;
	/* Lines that import but will not do what they seem to, in the same
	 * form: an operation whose deadline is already past. */
	struct buf warnings;
};

/* Import the CSV text data[0..len) (file_label names it in problems and the
 * audit, e.g. "phones.csv" or "(stdin)") as actor. update: existing phones
 * are changed, else they are an error. dry_run: check and count only. out
 * is initialised here; admin_import_result_free(out) after, whatever the
 * result. Returns an admin_import_rc; err gets the sentence of
 * ADMIN_IMPORT_FAILED. */
int admin_phone_import(struct store *st, const char *actor, const uint8_t *data, size_t len,
		       const char *file_label, int update, int dry_run, struct admin_import_result *out,
		       char *err, size_t errlen);

void admin_import_result_free(struct admin_import_result *r);

#endif
