/*
 * phone_view.h: how `opencapf` shows phones to people: text and tables that
 * fit a terminal, and JSON printed from the administration core's views
 * (admin/phone_json.h; CSV files: admin/phone_csv.h). Also the phone
 * selector options shared by `phone list`, `phone op`, `phone export`,
 * `phone auth-strings` and `report`.
 */
#ifndef OPENCAPF_PHONE_VIEW_H
#define OPENCAPF_PHONE_VIEW_H

#include <getopt.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "admin/phone_csv.h"
#include "admin/phone_json.h"
#include "admin/phone_settings.h"
#include "common/util.h"
#include "store/store.h"
#include "store/store_search.h"

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

#endif
