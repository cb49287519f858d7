/*
 * backup.h: backups of a state (`opencapf backup`, `opencapf restore`):
 * one archive file holding a consistent snapshot of the database and the
 * state's other files (keys/, certs/, tftp/), described by a manifest with
 * a SHA-256 per file, optionally encrypted with a passphrase (PBKDF2-SHA256
 * and AES-256-GCM, OpenSSL EVP). Nothing here prints.
 *
 * Archive format, version 1 (all integers big-endian):
 *   header   "OPENCAPF-BACKUP\n" (16 bytes), u8 version (1), u8 encryption
 *            (0 none, 1 PBKDF2-HMAC-SHA256 + AES-256-GCM), u16 zero,
 *            u64 body length; with encryption also u32 PBKDF2 iterations,
 *            16 bytes salt, 12 bytes GCM nonce
 *   body     u32 manifest length, the manifest (text), then each file's
 *            bytes in manifest order; encrypted: the body's ciphertext
 *   trailer  without encryption SHA-256(header || body) (32 bytes); with
 *            it the GCM tag (16 bytes; the header is the associated data)
 * Manifest: lines "opencapf-backup 1", "created UNIX_TIME", "schema N",
 * then one "file MODE SIZE SHA256 NAME" per file (MODE octal, NAME a
 * relative path of [A-Za-z0-9._-] components, none starting with '.').
 * "opencapf.db" must be one of them.
 */
#ifndef OPENCAPF_ADMIN_BACKUP_H
#define OPENCAPF_ADMIN_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#define BACKUP_MAGIC "OPENCAPF-BACKUP\n"
#define BACKUP_VERSION 1
#define BACKUP_MAX_FILES 10000
#define BACKUP_MAX_BYTES ((size_t)2 << 30)   /* 2 GiB: an archive is read whole */
#define BACKUP_KDF_ITERATIONS 600000
#define BACKUP_KDF_MAX_ITERATIONS 10000000

struct backup_file {
	char name[256];
	unsigned mode;              /* permission bits, 0600 or 0644 */
	const uint8_t *data;        /* into the archive's plain body (decode) or the caller's (encode) */
	size_t len;
};

struct backup_archive {
	int64_t created;
	int schema;                 /* the database's PRAGMA user_version */
	int encrypted;              /* decode: whether it was */
	struct backup_file *files;
	size_t nfiles;
	uint8_t *plain;             /* decode: the plain body that files point into */
};
void backup_archive_free(struct backup_archive *a);

/* A passphrase given to decode, and the highest PBKDF2 iteration count it
 * accepts (0: BACKUP_KDF_MAX_ITERATIONS). */
struct backup_read_opts {
	const char *passphrase;     /* NULL: an encrypted archive is refused */
	uint32_t max_iterations;
};

/* The archive bytes for a (files, created, schema); encrypted when
 * passphrase is not NULL (iterations 0: BACKUP_KDF_ITERATIONS). *out is
 * malloc'd. 0, or -1 with err. */
int backup_encode(const struct backup_archive *a, const char *passphrase, uint32_t iterations, uint8_t **out,
		  size_t *outlen, char *err, size_t errlen);
/* Check and read an archive: header, length (truncation), checksum or
 * authentication tag (tampering, wrong passphrase), manifest, and each
 * file's SHA-256. 0 with *out filled (backup_archive_free), or -1 with the
 * reason in err. */
int backup_decode(const uint8_t *data, size_t len, const struct backup_read_opts *o, struct backup_archive *out,
		  char *err, size_t errlen);

/* What backup_create and backup_restore did. */
struct backup_summary {
	size_t files;
	size_t bytes;               /* archive size */
	int schema;
	int encrypted;
};

/* Snapshot the state in state_dir into the archive `path` (written
 * atomically, mode 0600; an existing file is refused). */
int backup_create(const char *state_dir, const char *path, const char *passphrase, struct backup_summary *sum,
		  char *err, size_t errlen);
/* Restore the archive `path` into state_dir, which must not exist or be
 * an empty folder: the files are written into a sibling folder, the
 * database's integrity is checked, then the folder is renamed into place.
 * keys/ is 0700 and its files 0600. */
int backup_restore(const char *path, const char *state_dir, const char *passphrase, struct backup_summary *sum,
		   char *err, size_t errlen);

/* The passphrase in a file: its first line, without the line end; an
 * empty one is refused. *out is malloc'd (free it with backup_passphrase_free). */
int backup_passphrase_read(const char *path, char **out, char *err, size_t errlen);
void backup_passphrase_free(char *p);

#endif
