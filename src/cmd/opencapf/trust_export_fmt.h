/*
 * trust_export_fmt.h: the server formats of `opencapf trust export`
 * (freeradius, ocserv, kamailio, asa): the store's certificates in the files
 * each server reads, and the configuration snippet that uses them
 * (docs/servers.md).
 */
#ifndef OPENCAPF_TRUST_EXPORT_FMT_H
#define OPENCAPF_TRUST_EXPORT_FMT_H

#include "store/store.h"

/* Lines for the usage text of `trust export`. */
#define TRUST_FMT_USAGE                                                                                   \
	"  --format freeradius|ocserv|kamailio|asa\n"                                                     \
	"                the hashed directory plus DIR/ca.pem (plain PEM bundle; asa also one file\n"     \
	"                per certificate in DIR/asa/), and on standard output the server settings\n"      \
	"                that use them (docs/servers.md); --out DIR is required.\n"

/* Writes the store as a hashed directory in c_rehash layout at DIR, replacing
 * an earlier export (`trust export --format dir`). 0, or -1 with the message
 * printed. */
typedef int (*trust_dir_writer)(struct store *st, const char *store_name, const char *dir);

/* 1 if FORMAT is one of the server formats. */
int trust_fmt_known(const char *format);

/* Export STORE for the server FORMAT into DIR: the hashed directory (by
 * write_dir), DIR/ca.pem, for asa DIR/asa/NAME.pem per certificate; then the
 * configuration snippet, with DIR's absolute path, on standard output.
 * 0, or -1 with the message printed. */
int trust_fmt_export(struct store *st, const char *store_name, const char *format, const char *dir,
		     trust_dir_writer write_dir);

#endif
