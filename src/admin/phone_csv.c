/*
 * phone_csv.c: phones as CSV files for `opencapf phone import|export` and
 * `phone auth-strings generate`.
 *
 * The reader parses outside bytes, so it is bounded and strict:
 *  - RFC 4180 fields: separated by ',', records end with LF or CRLF; a field
 *    in double quotes may hold ',', quotes (doubled) and line breaks.
 *  - At most CSV_MAX_FIELDS fields and CSV_MAX_RECORD bytes of text per
 *    record; a NUL byte, a quote inside an unquoted field, text after a
 *    closing quote, a lone CR and an unterminated quote are errors.
 *  - An error names the physical line where it was found; the reader then
 *    skips to the next line, so the caller can report every bad line.
 *  - A UTF-8 byte-order mark at the start is skipped; blank lines are skipped.
 * Cell values are checked by phone_settings_apply (phone_settings.c), the
 * same checks as `phone add|set` and the API's phone bodies.
 *
 * The writer quotes a field only when it must (',', '"', CR, LF, leading or
 * trailing space, an empty or BOM-led first field), so exported files read
 * back to the same values (fuzz_csv.c checks it).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin/phone_csv.h"

/* ---- reader ---- */

void csv_reader_init(struct csv_reader *r, const char *data, size_t len)
{
	r->data = data;
	r->len = len;
	r->pos = 0;
	r->line = 1;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		r->pos = 3;
}

/* Skip to the start of the next physical line after an error. */
static void skip_line(struct csv_reader *r)
{
	while (r->pos < r->len && r->data[r->pos] != '\n')
		r->pos++;
	if (r->pos < r->len) {
		r->pos++;
		r->line++;
	}
}

static int bad(struct csv_reader *r, struct csv_record *rec, int skip, char *err, size_t errlen,
	       const char *what)
{
	rec->line = r->line;
	seterr(err, errlen, "%s", what);
	if (skip)
		skip_line(r);
	return -1;
}

/* Skip blank lines; 0 at the end of the input, else 1. */
static int skip_blank_lines(struct csv_reader *r)
{
	const char *d = r->data;

	for (;;) {
		if (r->pos >= r->len)
			return 0;
		if (d[r->pos] == '\n') {
			r->pos++;
			r->line++;
		} else if (d[r->pos] == '\r' && r->pos + 1 < r->len && d[r->pos + 1] == '\n') {
			r->pos += 2;
			r->line++;
		} else
			return 1;
	}
}

/* A field in double quotes, from its opening quote; its text goes to
 * rec->text at *o. */
static int read_quoted(struct csv_reader *r, struct csv_record *rec, size_t *o, char *err, size_t errlen)
{
	const char *d = r->data;
	size_t opened = r->line;

	r->pos++;
	for (;;) {
		char c;
		if (r->pos >= r->len) {
			/* Named where the quote opened: the end of the file says nothing. */
			bad(r, rec, 0, err, errlen, "a quoted field opened on this line is never closed");
			rec->line = opened;
			return -1;
		}
		c = d[r->pos];
		if (c == '"') {
			r->pos++;
			if (r->pos >= r->len || d[r->pos] != '"')
				break;
		} else if (c == '\0') {
			return bad(r, rec, 1, err, errlen, "NUL byte in the file");
		} else if (c == '\n') {
			r->line++;
		}
		if (*o + 2 > CSV_MAX_RECORD)
			return bad(r, rec, 1, err, errlen, "record too long (at most 8192 bytes)");
		rec->text[(*o)++] = c;
		r->pos++;
	}
	if (r->pos < r->len && d[r->pos] != ',' && d[r->pos] != '\n' && d[r->pos] != '\r')
		return bad(r, rec, 1, err, errlen, "text after a closing quote");
	return 0;
}

static int read_unquoted(struct csv_reader *r, struct csv_record *rec, size_t *o, char *err, size_t errlen)
{
	const char *d = r->data;

	while (r->pos < r->len && d[r->pos] != ',' && d[r->pos] != '\n' && d[r->pos] != '\r') {
		if (d[r->pos] == '"')
			return bad(r, rec, 1, err, errlen,
				   "a quote inside an unquoted field (quote the whole field and double the quote)");
		if (d[r->pos] == '\0')
			return bad(r, rec, 1, err, errlen, "NUL byte in the file");
		if (*o + 2 > CSV_MAX_RECORD)
			return bad(r, rec, 1, err, errlen, "record too long (at most 8192 bytes)");
		rec->text[(*o)++] = d[r->pos++];
	}
	return 0;
}

/* After a field: 0 when another field follows (','), 1 at the end of the
 * record (or input), -1 on a lone CR. */
static int field_end(struct csv_reader *r, struct csv_record *rec, char *err, size_t errlen)
{
	const char *d = r->data;

	if (r->pos >= r->len)
		return 1;
	switch (d[r->pos]) {
	case ',':
		r->pos++;
		return 0;
	case '\n':
		r->pos++;
		r->line++;
		return 1;
	default: /* '\r' */
		if (r->pos + 1 < r->len && d[r->pos + 1] == '\n') {
			r->pos += 2;
			r->line++;
			return 1;
		}
		return bad(r, rec, 1, err, errlen, "carriage return not followed by a line feed");
	}
}

int csv_read(struct csv_reader *r, struct csv_record *rec, char *err, size_t errlen)
{
	size_t o = 0;
	int rc;

	if (!skip_blank_lines(r))
		return 0;
	rec->line = r->line;
	rec->nfields = 0;
	do {
		if (rec->nfields == CSV_MAX_FIELDS)
			return bad(r, rec, 1, err, errlen, "too many fields (at most 64)");
		rec->field[rec->nfields++] = rec->text + o;
		if (r->pos < r->len && r->data[r->pos] == '"')
			rc = read_quoted(r, rec, &o, err, errlen);
		else
			rc = read_unquoted(r, rec, &o, err, errlen);
		if (rc < 0)
			return -1;
		if (o + 1 > CSV_MAX_RECORD) /* room for this field's NUL */
			return bad(r, rec, 1, err, errlen, "record too long (at most 8192 bytes)");
		rec->text[o++] = '\0';
	} while ((rc = field_end(r, rec, err, errlen)) == 0);
	return rc;
}

/* ---- writer ---- */

void csv_put(struct buf *b, const char *s, int first)
{
	size_t n;
	int quote;

	if (!s)
		s = "";
	n = strlen(s);
	/* A first field that is empty or starts with a byte-order mark would
	 * read back differently unquoted (a blank line; a skipped mark). */
	quote = strpbrk(s, ",\"\r\n") != NULL || (n && (s[0] == ' ' || s[n - 1] == ' ')) ||
		(first && (n == 0 || strncmp(s, "\xef\xbb\xbf", 3) == 0));
	if (!first)
		buf_put_u8(b, ',');
	if (!quote) {
		buf_put(b, s, n);
		return;
	}
	buf_put_u8(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			buf_put_u8(b, '"');
		buf_put_u8(b, (uint8_t)*s);
	}
	buf_put_u8(b, '"');
}

void csv_end(struct buf *b)
{
	buf_put_u8(b, '\n');
}

/* ---- phone columns ---- */

/* Other spellings accepted in a header. */
static const struct {
	const char *alias;
	enum phone_setting col;
} column_aliases[] = {
	{ "device_name", PSET_NAME },  { "auth_mode", PSET_AUTH },     { "authentication_mode", PSET_AUTH },
	{ "completes_by", PSET_DEADLINE }, { "by", PSET_DEADLINE },
};

static int column_lookup(const char *cell)
{
	char norm[40];
	size_t n = 0;

	while (*cell == ' ')
		cell++;
	for (; *cell && n + 1 < sizeof norm; cell++)
		norm[n++] = *cell == '-' ? '_' : (char)tolower((unsigned char)*cell);
	while (n && norm[n - 1] == ' ')
		n--;
	norm[n] = '\0';
	if (*cell)
		return -1;
	for (int i = 0; i < PSET_COUNT; i++)
		if (strcmp(norm, phone_setting_name((enum phone_setting)i)) == 0)
			return i;
	for (size_t i = 0; i < sizeof column_aliases / sizeof column_aliases[0]; i++)
		if (strcmp(norm, column_aliases[i].alias) == 0)
			return (int)column_aliases[i].col;
	return -1;
}

int phone_csv_map_header(const struct csv_record *rec, struct phone_csv_map *m, char *err, size_t errlen)
{
	for (int i = 0; i < PSET_COUNT; i++)
		m->field[i] = -1;
	for (size_t f = 0; f < rec->nfields; f++) {
		int col = column_lookup(rec->field[f]);
		if (col < 0) {
			char shown[48];
			snprintf(shown, sizeof shown, "%s", rec->field[f]);
			seterr(err, errlen, "unknown column '%s' in the header (known: name, model, description, "
					    "auth, auth_string, key_order, rsa_bits, ec_bits, operation, deadline)",
			       text_valid(shown) ? shown : "?");
			return -1;
		}
		if (m->field[col] >= 0) {
			seterr(err, errlen, "column %s appears twice in the header", phone_setting_name((enum phone_setting)col));
			return -1;
		}
		m->field[col] = (int)f;
	}
	if (m->field[PSET_NAME] < 0) {
		seterr(err, errlen, "the header has no 'name' column (the first line must name the columns, "
				    "e.g. name,model,auth,auth_string)");
		return -1;
	}
	return 0;
}

const char *phone_csv_cell(const struct phone_csv_map *m, const struct csv_record *rec, enum phone_setting col)
{
	int f = m->field[col];

	if (f < 0 || (size_t)f >= rec->nfields)
		return "";
	return rec->field[f];
}

int phone_csv_apply(const struct phone_csv_map *m, const struct csv_record *rec, struct phone *p,
		    unsigned *given, char *err, size_t errlen)
{
	const char *value[PSET_COUNT];

	err[0] = '\0';
	if (rec->nfields > 0) {
		size_t want = 0;
		for (int i = 0; i < PSET_COUNT; i++)
			if (m->field[i] >= 0 && (size_t)m->field[i] + 1 > want)
				want = (size_t)m->field[i] + 1;
		if (rec->nfields > want) {
			char n[24];
			snprintf(n, sizeof n, "%zu", rec->nfields);
			phone_settings_add_problem(err, errlen, "%s fields, more than the header has", n);
		}
	}
	for (int s = 0; s < PSET_COUNT; s++)
		value[s] = phone_csv_cell(m, rec, (enum phone_setting)s);
	return phone_settings_apply(value, p, given, err, errlen);
}

void phone_csv_write_header(struct buf *b, int with_auth_strings)
{
	(void)with_auth_strings; /* the column stays, so files keep one shape */
	for (int i = 0; i < PSET_COUNT; i++)
		csv_put(b, phone_setting_name((enum phone_setting)i), i == 0);
	csv_end(b);
}

void phone_csv_write_row(struct buf *b, const struct phone *p, int with_auth_strings)
{
	char n[16], t[40] = "";

	csv_put(b, p->name, 1);
	csv_put(b, p->model, 0);
	csv_put(b, p->description, 0);
	csv_put(b, auth_mode_name(p->auth), 0);
	csv_put(b, with_auth_strings && p->auth == AUTH_STRING ? p->auth_string : "", 0); /* only a used one */
	csv_put(b, key_order_name(p->key_order), 0);
	snprintf(n, sizeof n, "%d", p->rsa_bits);
	csv_put(b, n, 0);
	snprintf(n, sizeof n, "%d", p->ec_bits);
	csv_put(b, n, 0);
	csv_put(b, capf_op_name(p->op), 0);
	if (p->op != OP_NONE && p->deadline)
		fmt_time_utc(p->deadline, t, sizeof t);
	csv_put(b, t, 0);
	csv_end(b);
}
