/*
 * fuzz_csv.c: fuzz target for the phone CSV reader (phone_csv.c), which
 * parses files administrators get from elsewhere. Any bytes must either
 * parse into bounded records or be refused line by line with an error
 * sentence and a line number that only moves forward; never crash or read
 * out of bounds. Two round trips must hold:
 *  - a parsed record written back with csv_put reads back to the same fields;
 *  - a phone built from a valid row, exported and imported again, is the
 *    same phone (the deadline is exported only with an operation).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/phone_csv.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct csv_record rec, again;

static void check_record_round_trip(const struct csv_record *r)
{
	struct buf b;
	struct csv_reader rd;
	char err[ERRLEN];

	buf_init(&b);
	for (size_t i = 0; i < r->nfields; i++)
		csv_put(&b, r->field[i], i == 0);
	csv_end(&b);
	if (b.failed)
		abort();
	csv_reader_init(&rd, (const char *)b.data, b.len);
	if (csv_read(&rd, &again, err, sizeof err) != 1 || again.nfields != r->nfields)
		abort();
	for (size_t i = 0; i < r->nfields; i++)
		if (strcmp(again.field[i], r->field[i]) != 0)
			abort();
	if (csv_read(&rd, &again, err, sizeof err) != 0)
		abort();
	buf_free(&b);
}

static void check_phone_round_trip(const struct phone *p)
{
	struct phone_csv_map m;
	struct csv_reader rd;
	struct phone q;
	struct buf b;
	char err[1024];
	unsigned given;

	buf_init(&b);
	phone_csv_write_header(&b, 1);
	phone_csv_write_row(&b, p, 1);
	csv_reader_init(&rd, (const char *)b.data, b.len);
	if (csv_read(&rd, &again, err, sizeof err) != 1 || phone_csv_map_header(&again, &m, err, sizeof err) < 0)
		abort();
	if (csv_read(&rd, &again, err, sizeof err) != 1)
		abort();
	phone_defaults(&q, p->name);
	if (phone_csv_apply(&m, &again, &q, &given, err, sizeof err) < 0)
		abort();
	if (strcmp(q.model, p->model) || strcmp(q.description, p->description) || q.auth != p->auth ||
	    strcmp(q.auth_string, p->auth_string) || q.key_order != p->key_order || q.rsa_bits != p->rsa_bits ||
	    q.ec_bits != p->ec_bits || q.op != p->op ||
	    (p->op != OP_NONE && q.deadline != p->deadline))
		abort();
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_reader rd;
	struct phone_csv_map map;
	char err[1024];
	int have_map = 0, r;
	size_t last_line = 0, records = 0;

	csv_reader_init(&rd, (const char *)data, size);
	while ((r = csv_read(&rd, &rec, err, sizeof err)) != 0) {
		if (rec.line < last_line || ++records > size + 1)
			abort(); /* lines go forward; the reader always advances */
		last_line = rec.line;
		if (r < 0) {
			if (!err[0])
				abort(); /* a refusal must say why */
			continue;
		}
		if (rec.nfields < 1 || rec.nfields > CSV_MAX_FIELDS)
			abort();
		for (size_t i = 0; i < rec.nfields; i++)
			if (rec.field[i] < rec.text || rec.field[i] >= rec.text + sizeof rec.text ||
			    strlen(rec.field[i]) >= sizeof rec.text)
				abort();
		check_record_round_trip(&rec);
		if (!have_map) {
			err[0] = '\0';
			if (phone_csv_map_header(&rec, &map, err, sizeof err) == 0)
				have_map = 1;
			else if (!err[0])
				abort();
			continue;
		}
		{
			struct phone p;
			unsigned given;

			phone_defaults(&p, "SEP001122334455");
			err[0] = '\0';
			if (phone_csv_apply(&map, &rec, &p, &given, err, sizeof err) < 0) {
				if (!err[0])
					abort();
				continue;
			}
			if (!text_valid(p.model) || !text_valid(p.description) || strlen(p.model) >= sizeof p.model ||
			    (p.auth_string[0] && !phone_valid_auth_string(p.auth_string)))
				abort();
			if (p.deadline >= 0)
				check_phone_round_trip(&p);
		}
	}
	return 0;
}
