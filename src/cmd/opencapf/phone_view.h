/*
 * phone_view.h: how phones are shown and exchanged: for people (text and
 * tables that fit a terminal), for scripts (JSON), as CSV files (import and
 * export, phone_csv.c), and as the before/after detail of an audit entry
 * (never the auth string). Also the phone selector options shared by
 * `phone list`, `phone op`, `phone export`, `phone auth-strings` and `report`.
 */
#ifndef OPENCAPF_PHONE_VIEW_H
#define OPENCAPF_PHONE_VIEW_H

#include <getopt.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "store/store.h"
#include "store/store_search.h"

/* Settings and status of a phone, without secrets ("auth_string_set": bool). */
json_t *phone_settings_json(const struct phone *p);
/* {"before":{...},"after":{...}}, malloc'd text; either side may be NULL. */
char *phone_audit_detail(const struct phone *before, const struct phone *after);
/* The same with one more member (e.g. "source": "phones.csv:12"); value may be NULL. */
char *phone_audit_detail_with(const struct phone *before, const struct phone *after, const char *key,
			      json_t *value);
/* A certificate summary as JSON (null when absent). */
json_t *phone_cert_brief_json(const struct phone_cert_brief *c);
/* One CAPF session of a phone's history. */
json_t *phone_history_json(const struct history_entry *h);
/* A selected phone: its settings with "lsc" and "mic" (briefs, or null). */
json_t *phone_row_json(const struct phone_row *r);
/* One phone in full, the one shape of `phone show --json` and the API's
 * GET /api/v1/phones/NAME: phone_row_json's members, the labels
 * (auth_label, key_order_label, operation_label), locked_until and the last
 * `history` sessions. */
json_t *phone_full_json(struct store *st, const struct phone *p, int history);

int phone_print_text(struct store *st, const struct phone *p);
int phone_print_json(struct store *st, const struct phone *p);
/* `phone list`: every phone matching f, one query. */
int phone_print_list(struct store *st, const struct phone_filter *f, int json);

/* ---- tables that fit a terminal ---- */

/* Columns take the width of their widest cell up to `max`; when the table
 * is wider than the terminal, columns shrink toward `min` (cells are cut
 * with a '~'), then columns with drop > 0 disappear, highest drop first. */
struct table_col {
	const char *title;
	int min, max;
	int drop;
};
struct table;
struct table *table_new(const struct table_col *cols, int ncols);
/* Add a row of ncols strings (copied; NULL prints as "-"). */
int table_add(struct table *t, const char *const *cells);
/* Print to out within `width` columns (0: no limit) and free the table;
 * out NULL: only free it. */
void table_print_free(struct table *t, FILE *out, int width);
/* The terminal's width for stdout: TIOCGWINSZ, else $COLUMNS, else 0. */
int terminal_width(void);

/* ---- phone selectors (options shared by list, op, export, report ...) ---- */

struct phone_selector {
	struct phone_filter f;
	char **names;               /* explicit names (--names, positional) */
	size_t n_names, cap_names;
	int all;                    /* --all: explicitly every phone */
};
/* Options to merge into a subcommand's long options; values 0x2000.. */
extern const struct option phone_selector_opts[];
extern const char phone_selector_help[];
void phone_selector_init(struct phone_selector *sel);
void phone_selector_free(struct phone_selector *sel);
/* 1 if c was a selector option (applied), 0 if not one, -1 on a bad value
 * (message printed). */
int phone_selector_opt(struct phone_selector *sel, int c, const char *arg);
/* Positional device names: validated and added; -1 (printed) on a bad one. */
int phone_selector_add_names(struct phone_selector *sel, int n, char **names);
/* Copy opts (up to its NULL entry) then phone_selector_opts into out
 * (cap entries, NULL-terminated). */
void phone_selector_merge_opts(struct option *out, size_t cap, const struct option *opts);

/* ---- CSV (phone_csv.c): RFC 4180 fields, bounded, with line numbers ---- */

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

enum phone_csv_column {
	PCSV_NAME, PCSV_MODEL, PCSV_DESCRIPTION, PCSV_AUTH, PCSV_AUTH_STRING, PCSV_KEY_ORDER,
	PCSV_RSA_BITS, PCSV_EC_BITS, PCSV_OPERATION, PCSV_DEADLINE, PCSV_NCOLS
};
struct phone_csv_map {
	int field[PCSV_NCOLS];      /* index in the record, or -1 when the file has no such column */
};
/* The header record: known column names (any case, '-' or '_'); name required. */
int phone_csv_map_header(const struct csv_record *rec, struct phone_csv_map *m, char *err, size_t errlen);
/* Apply a data record's non-empty cells to p (name excepted); *given gets
 * the bit (1u << column) of each applied cell. Every problem of the row is
 * put in err, '; '-separated. */
int phone_csv_apply(const struct phone_csv_map *m, const struct csv_record *rec, struct phone *p,
		    unsigned *given, char *err, size_t errlen);
const char *phone_csv_cell(const struct phone_csv_map *m, const struct csv_record *rec,
			   enum phone_csv_column col);  /* "" when absent */
void phone_csv_write_header(struct buf *b, int with_auth_strings);
/* Without with_auth_strings the auth_string cell is left empty. */
void phone_csv_write_row(struct buf *b, const struct phone *p, int with_auth_strings);

/* Shared validation of settings values (also used by `phone add|set`). */
int phone_valid_auth_string(const char *s);      /* 4..10 digits */
int phone_parse_rsa_bits(const char *s, int *out);
int phone_parse_ec_bits(const char *s, int *out);

#endif
