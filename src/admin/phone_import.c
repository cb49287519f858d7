/*
 * phone_import.c: phones from a CSV file, all or nothing (phone_import.h).
 *
 * The file is read record by record (phone_csv.c); each row is checked
 * against the phones inside the one bulk transaction, so an existing
 * phone's values are the ones the import changes. After the first bad line
 * the remaining rows are only checked, so that every bad line is named;
 * the transaction is then rolled back. Device names already seen are kept
 * in a small hash set with their line, to name the first line of a
 * duplicate.
 */
#include "admin/phone_import.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/name_set.h"
#include "admin/phone_csv.h"
#include "admin/phone_json.h"
#include "admin/phones.h"
#include "store/store_search.h"

/* ---- one import ---- */

struct import {
	struct store *st;
	const char *actor, *file;
	struct store_bulk *bulk;
	struct phone_csv_map map;
	struct name_set names;
	int update, dry_run;
	int fatal;                  /* stop reading: the store or memory failed */
	struct admin_import_result *out;
};

static void problem(struct import *im, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void problem(struct import *im, size_t line, const char *fmt, ...)
{
	char msg[1300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	buf_printf(&im->out->problems, "%s:%zu: %s\n", im->file, line, msg);
	im->out->bad_lines++;
}

static int phone_same(const struct phone *a, const struct phone *b)
{
	return !strcmp(a->model, b->model) && !strcmp(a->description, b->description) && a->auth == b->auth &&
	       !strcmp(a->auth_string, b->auth_string) && a->key_order == b->key_order &&
	       a->rsa_bits == b->rsa_bits && a->ec_bits == b->ec_bits && a->op == b->op &&
	       a->deadline == b->deadline && !strcmp(a->status, b->status);
}

static int all_empty(const struct csv_record *rec)
{
	for (size_t i = 0; i < rec->nfields; i++)
		for (const char *p = rec->field[i]; *p; p++)
			if (*p != ' ' && *p != '\t')
				return 0;
	return 1;
}

/* The problems of a row's other cells, so that a bad name does not hide them. */
static void other_problems(struct import *im, const struct csv_record *rec, char *out, size_t cap)
{
	struct phone scratch;
	unsigned given;

	out[0] = '\0';
	phone_defaults(&scratch, "");
	phone_csv_apply(&im->map, rec, &scratch, &given, out, cap);
	OPENSSL_cleanse(&scratch, sizeof scratch);
}

/* The row's device name, without the padding spreadsheets add: 0, or -1
 * when the line was reported. */
static int row_name(struct import *im, const struct csv_record *rec, char name[64])
{
	const char *cell = phone_csv_cell(&im->map, rec, PSET_NAME);
	char *s = name, *e, canonical[16], others[1024];
	size_t first;

	snprintf(name, 64, "%s", cell);
	while (*s == ' ' || *s == '\t')
		s++;
	memmove(name, s, strlen(s) + 1);
	e = name + strlen(name);
	while (e > name && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	if (!name[0]) {
		problem(im, rec->line, "no name (every row needs a device name)");
		return -1;
	}
	if (strlen(cell) < 64 && devname_normalize(name, canonical, sizeof canonical) == 0)
		snprintf(name, 64, "%s", canonical);   /* a MAC address, or "sep..." */
	if (!devname_valid(name) || strlen(cell) >= 64) {
		other_problems(im, rec, others, sizeof others);
		problem(im, rec->line, "'%s' is not a device name: expected " DEVNAME_RULE "%s%s", text_valid(name) && strlen(cell) < 64 ? name : "?",
			others[0] ? "; " : "", others);
		return -1;
	}
	first = name_set_add(&im->names, name, rec->line);
	if (first == (size_t)-1) {
		problem(im, rec->line, "out of memory");
		im->fatal = 1;
		return -1;
	}
	if (first) {
		problem(im, rec->line, "phone %s is also on line %zu", name, first);
		return -1;
	}
	return 0;
}

/* The phone as it was (*exists) and as the row makes it: 0, or -1 when
 * the line was reported. */
static int row_phone(struct import *im, const struct csv_record *rec, const char *name, struct phone *before,
		     struct phone *p, int *exists)
{
	char err[1024];
	unsigned given, settle;
	int rc = store_bulk_get(im->bulk, name, before);

	if (rc < 0) {
		problem(im, rec->line, "cannot read phone %s: %s", name, store_errmsg(im->st));
		im->fatal = 1;
		return -1;
	}
	*exists = rc == 0;
	if (*exists && !im->update) {
		problem(im, rec->line, "phone %s already exists (use --update to change existing phones)", name);
		return -1;
	}
	if (*exists)
		*p = *before;
	else
		phone_defaults(p, name);
	if (phone_csv_apply(&im->map, rec, p, &given, err, sizeof err) < 0) {
		problem(im, rec->line, "%s: %s", name, err);
		return -1;
	}
	settle = (given & (1u << PSET_OPERATION) ? ADMIN_GIVEN_OP : 0u) |
		 (given & (1u << PSET_DEADLINE) ? ADMIN_GIVEN_BY : 0u);
	admin_phone_settle(p, *exists ? before : NULL, settle);
	if ((settle & ADMIN_GIVEN_BY) && p->op == OP_NONE && !(settle & ADMIN_GIVEN_OP)) {
		problem(im, rec->line, "%s: a deadline without an operation", name);
		return -1;
	}
	if (p->auth == AUTH_STRING && !p->auth_string[0]) {
		problem(im, rec->line, "%s: auth string needs an auth_string (4 to 10 digits; or import with "
				       "another mode and run 'opencapf phone auth-strings generate')", name);
		return -1;
	}
	if (settle && p->op != OP_NONE && p->deadline && p->deadline <= now_utc())
		buf_printf(&im->out->warnings, "%s:%zu: %s: the deadline is already past; the operation will fail "
			   "with \"%s\"\n", im->file, rec->line, name, STATUS_LATE);
	return 0;
}

/* Write the phone and its audit row (source FILE:LINE). */
static void row_write(struct import *im, size_t line, const struct phone *before, const struct phone *p)
{
	char src[300];
	char *detail;
	int rc;

	snprintf(src, sizeof src, "%s:%zu", im->file, line);
	rc = before ? store_bulk_update(im->bulk, p) : store_bulk_insert(im->bulk, p);
	detail = phone_audit_detail_with(before, p, "source", json_string(src));
	if (rc == 0)
		rc = store_bulk_audit(im->bulk, im->actor, "phone.import", p->name, detail ? detail : "{}");
	free(detail);
	if (rc < 0) {
		problem(im, line, "cannot write phone %s: %s", p->name, store_errmsg(im->st));
		im->fatal = 1;
	}
}

static void import_row(struct import *im, const struct csv_record *rec)
{
	struct phone before, p;
	char name[64];
	int exists = 0;

	if (row_name(im, rec, name) < 0 || row_phone(im, rec, name, &before, &p, &exists) < 0)
		goto out;
	if (im->out->bad_lines || im->fatal)
		goto out; /* everything will be rolled back: only checking from here on */
	if (exists && phone_same(&before, &p)) {
		im->out->unchanged++;
		goto out;
	}
	if (!im->dry_run)
		row_write(im, rec->line, exists ? &before : NULL, &p);
	if (im->fatal)
		goto out;
	if (exists)
		im->out->updated++;
	else
		im->out->added++;
out:
	OPENSSL_cleanse(&before, sizeof before);
	OPENSSL_cleanse(&p, sizeof p);
}

/* The summary audit row and the commit: ADMIN_IMPORT_OK or _FAILED. */
static int import_commit(struct import *im, char *err, size_t errlen)
{
	const struct admin_import_result *o = im->out;
	json_t *sum = json_pack("{s:s, s:I, s:I, s:I, s:b}", "file", im->file, "added", (json_int_t)o->added,
				"updated", (json_int_t)o->updated, "unchanged", (json_int_t)o->unchanged,
				"update", im->update);
	char *detail = sum ? json_dumps(sum, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	int ok;

	json_decref(sum);
	ok = store_bulk_audit(im->bulk, im->actor, "phone.import.done", im->file, detail ? detail : "{}") == 0;
	free(detail);
	ok = store_bulk_end(im->bulk, ok) == 0;
	im->bulk = NULL;
	if (!ok) {
		seterr(err, errlen, "%s: cannot commit the import: %s; nothing imported", im->file,
		       store_errmsg(im->st));
		return ADMIN_IMPORT_FAILED;
	}
	return ADMIN_IMPORT_OK;
}

/* The header record: ADMIN_IMPORT_OK, _EMPTY or _BAD_HEADER. */
static int import_header(struct import *im, struct csv_reader *rd, struct csv_record *rec)
{
	char err[1024];
	int r = csv_read(rd, rec, err, sizeof err);

	if (r == 0) {
		problem(im, 1, "empty file: the first line must name the columns (e.g. name,model,auth)");
		return ADMIN_IMPORT_EMPTY;
	}
	if (r < 0 || phone_csv_map_header(rec, &im->map, err, sizeof err) < 0) {
		problem(im, rec->line, "%s", err);
		return ADMIN_IMPORT_BAD_HEADER;
	}
	return ADMIN_IMPORT_OK;
}

/* Every data record, inside the bulk transaction: OK, _BAD_LINES or _FAILED. */
static int import_rows(struct import *im, struct csv_reader *rd, struct csv_record *rec, char *err,
		       size_t errlen)
{
	char why[1024];
	int r;

	if (store_bulk_begin(im->st, &im->bulk) < 0) {
		seterr(err, errlen, "cannot start the import: %s", store_errmsg(im->st));
		return ADMIN_IMPORT_FAILED;
	}
	while (!im->fatal && (r = csv_read(rd, rec, why, sizeof why)) != 0) {
		if (r < 0)
			problem(im, rec->line, "%s", why);
		else if (!all_empty(rec))
			import_row(im, rec);
	}
	if (im->out->bad_lines || im->fatal || im->dry_run) {
		store_bulk_end(im->bulk, 0);
		im->bulk = NULL;
		return im->out->bad_lines || im->fatal ? ADMIN_IMPORT_BAD_LINES : ADMIN_IMPORT_OK;
	}
	return import_commit(im, err, errlen);
}

int admin_phone_import(struct store *st, const char *actor, const uint8_t *data, size_t len,
		       const char *file_label, int update, int dry_run, struct admin_import_result *out,
		       char *err, size_t errlen)
{
	struct import im = { .st = st, .actor = actor, .file = file_label, .update = update, .dry_run = dry_run,
			     .out = out };
	struct csv_reader rd;
	struct csv_record *rec;
	int rc;

	memset(out, 0, sizeof *out);
	buf_init(&out->problems);
	buf_init(&out->warnings);
	rec = malloc(sizeof *rec);
	if (!rec) {
		seterr(err, errlen, "out of memory");
		return ADMIN_IMPORT_FAILED;
	}
	csv_reader_init(&rd, (const char *)data, len);
	rc = import_header(&im, &rd, rec);
	if (rc == ADMIN_IMPORT_OK)
		rc = import_rows(&im, &rd, rec, err, errlen);
	if (im.bulk)
		store_bulk_end(im.bulk, 0);
	name_set_free(&im.names);
	/* The record's text may hold an authentication string. */
	OPENSSL_cleanse(rec, sizeof *rec);
	free(rec);
	return rc;
}

void admin_import_result_free(struct admin_import_result *r)
{
	buf_free(&r->problems);
	buf_free(&r->warnings);
}
