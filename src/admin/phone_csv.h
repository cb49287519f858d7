/*
 * phone_csv.h: phones as CSV files, for `opencapf phone import|export` and
 * `phone auth-strings generate`: an RFC 4180 reader (bounded, with line
 * numbers), a writer whose files read back to the same values, and the
 * header that maps a file's columns onto a phone's settings
 * (phone_settings.h checks the values).
 */
#ifndef OPENCAPF_ADMIN_PHONE_CSV_H
#define OPENCAPF_ADMIN_PHONE_CSV_H

#include <stddef.h>

#include "admin/phone_settings.h"
#include "common/util.h"
#include "store/store.h"

#define CSV_MAX_FIELDS 64
#define CSV_MAX_RECORD 8192         /* bytes of one record's field text */

struct csv_reader {
	const char *data;
	size_t len, pos;
	size_t line;                /* current physical line, 1-based */
};
struct csv_record {
	size_t line;                /* line the record starts on */
	size_t nfields;
	char *field[CSV_MAX_FIELDS];
	char text[CSV_MAX_RECORD];
};
void csv_reader_init(struct csv_reader *r, const char *data, size_t len);
/* 1: a record (blank lines are skipped), 0: end of input, -1: a bad record
 * (err says why, rec->line where; reading can go on with the next line). */
int csv_read(struct csv_reader *r, struct csv_record *rec, char *err, size_t errlen);
/* Append one field (quoted when it needs to be), preceded by ',' unless first. */
void csv_put(struct buf *b, const char *s, int first);
void csv_end(struct buf *b);        /* "\n" */

/* text_valid(): common/util.h. */

struct phone_csv_map {
	int field[PSET_COUNT];      /* index in the record, or -1 when the file has no such column */
};
/* The header record: known column names (any case, '-' or '_'); name required. */
int phone_csv_map_header(const struct csv_record *rec, struct phone_csv_map *m, char *err, size_t errlen);
/* Apply a data record's non-empty cells to p (name excepted); *given gets
 * the bit (1u << column) of each applied cell. Every problem of the row is
 * put in err, '; '-separated. */
int phone_csv_apply(const struct phone_csv_map *m, const struct csv_record *rec, struct phone *p,
		    unsigned *given, char *err, size_t errlen);
const char *phone_csv_cell(const struct phone_csv_map *m, const struct csv_record *rec,
			   enum phone_setting col);  /* "" when absent */
void phone_csv_write_header(struct buf *b, int with_auth_strings);
/* Without with_auth_strings the auth_string cell is left empty. */
void phone_csv_write_row(struct buf *b, const struct phone *p, int with_auth_strings);

#endif
