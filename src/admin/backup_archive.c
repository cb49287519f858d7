/*
 * backup_archive.c: the backup archive format of backup.h, in memory:
 * writing one from a list of files, and reading one back with every check
 * (magic, version, length, checksum or GCM tag, manifest, per-file
 * SHA-256). The reader is fed untrusted bytes: fuzz/fuzz_backup.c.
 */
#include "admin/backup.h"

#include <ctype.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define MAGIC_LEN 16
#define PLAIN_HEADER 28                  /* magic, version, encryption, zero, body length */
#define ENC_HEADER (PLAIN_HEADER + 4 + 16 + 12)
#define SHA_LEN 32
#define TAG_LEN 16
#define MANIFEST_MAX (4u << 20)
#define ENC_NONE 0
#define ENC_GCM 1

void backup_archive_free(struct backup_archive *a)
{
	if (!a)
		return;
	free(a->files);
	free(a->plain);
	memset(a, 0, sizeof *a);
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void sha256_hex(const uint8_t *d, size_t n, char out[65])
{
	uint8_t md[SHA_LEN];

	EVP_Digest(d, n, md, NULL, EVP_sha256(), NULL);
	for (int i = 0; i < SHA_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The manifest text into a growing buffer. */
static int manifest_build(const struct backup_archive *a, struct buf *m)
{
	char line[512], hex[65];

	snprintf(line, sizeof line, "opencapf-backup %d\ncreated %" PRId64 "\nschema %d\n", BACKUP_VERSION,
		 a->created, a->schema);
	buf_put(m, line, strlen(line));
	for (size_t i = 0; i < a->nfiles; i++) {
		const struct backup_file *f = &a->files[i];

		sha256_hex(f->data, f->len, hex);
		snprintf(line, sizeof line, "file %04o %zu %s %s\n", f->mode & 0777, f->len, hex, f->name);
		buf_put(m, line, strlen(line));
	}
	return m->failed ? -1 : 0;
}

/* The plain body: manifest length, manifest, file bytes. */
static int body_build(const struct backup_archive *a, struct buf *b, char *err, size_t errlen)
{
	struct buf m = { 0 };
	uint8_t len[4];
	int rc = -1;

	if (a->nfiles > BACKUP_MAX_FILES) {
		seterr(err, errlen, "%zu files: more than an archive holds (%d)", a->nfiles, BACKUP_MAX_FILES);
		return -1;
	}
	if (manifest_build(a, &m) < 0 || m.len > MANIFEST_MAX)
		goto out;
	put_be(len, m.len, 4);
	buf_put(b, len, 4);
	buf_put(b, m.data, m.len);
	for (size_t i = 0; i < a->nfiles; i++)
		buf_put(b, a->files[i].data, a->files[i].len);
	if (b->failed)
		goto out;
	if (b->len + ENC_HEADER + SHA_LEN > BACKUP_MAX_BYTES) {
		seterr(err, errlen, "the state is larger than an archive holds (%zu bytes)", BACKUP_MAX_BYTES);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0 && !err[0])
		seterr(err, errlen, "out of memory building the archive");
	buf_free(&m);
	return rc;
}

static int derive_key(const char *pass, const uint8_t *salt, uint32_t iter, uint8_t key[32])
{
	return PKCS5_PBKDF2_HMAC(pass, (int)strlen(pass), salt, 16, (int)iter, EVP_sha256(), 32, key) == 1 ? 0 : -1;
}

/* AES-256-GCM over `in` (n bytes) into out, the header as associated data;
 * enc: tag written, else checked. 0, or -1 (bad tag or OpenSSL error). */
static int gcm(int enc, const uint8_t key[32], const uint8_t *hdr, size_t hdrlen, const uint8_t *in, size_t n,
	       uint8_t *out, uint8_t tag[TAG_LEN])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	const uint8_t *nonce = hdr + hdrlen - 12;
	int ok = c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, enc) == 1;
	int outl = 0;
	size_t done = 0;

	ok = ok && EVP_CipherUpdate(c, NULL, &outl, hdr, (int)hdrlen) == 1;
	while (ok && done < n) {
		int chunk = n - done > (1u << 30) ? 1 << 30 : (int)(n - done);

		ok = EVP_CipherUpdate(c, out + done, &outl, in + done, chunk) == 1;
		done += (size_t)chunk;
	}
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1;
	ok = ok && EVP_CipherFinal_ex(c, out + done, &outl) == 1;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

static void header_build(uint8_t *h, int enc, uint64_t bodylen, uint32_t iter)
{
	memcpy(h, BACKUP_MAGIC, MAGIC_LEN);
	h[16] = BACKUP_VERSION;
	h[17] = (uint8_t)enc;
	h[18] = h[19] = 0;
	put_be(h + 20, bodylen, 8);
	if (enc)
		put_be(h + PLAIN_HEADER, iter, 4);
}

/* Header, body (encrypted or not) and trailer into one malloc'd block. */
static int seal(const struct buf *body, const char *pass, uint32_t iter, uint8_t **out, size_t *outlen, char *err,
		size_t errlen)
{
	size_t hl = pass ? ENC_HEADER : PLAIN_HEADER, tl = pass ? TAG_LEN : SHA_LEN;
	uint8_t *a = malloc(hl + body->len + tl), key[32];

	if (!a) {
		seterr(err, errlen, "out of memory writing the archive");
		return -1;
	}
	header_build(a, pass ? ENC_GCM : ENC_NONE, body->len, iter);
	if (!pass) {
		memcpy(a + hl, body->data, body->len);
		EVP_Digest(a, hl + body->len, a + hl + body->len, NULL, EVP_sha256(), NULL);
	} else if (RAND_bytes(a + PLAIN_HEADER + 4, 28) != 1 || derive_key(pass, a + PLAIN_HEADER + 4, iter, key) < 0 ||
		   gcm(1, key, a, hl, body->data, body->len, a + hl, a + hl + body->len) < 0) {
		OPENSSL_cleanse(key, sizeof key);
		free(a);
		seterr(err, errlen, "cannot encrypt the archive (OpenSSL)");
		return -1;
	}
	OPENSSL_cleanse(key, sizeof key);
	*out = a;
	*outlen = hl + body->len + tl;
	return 0;
}

int backup_encode(const struct backup_archive *a, const char *passphrase, uint32_t iterations, uint8_t **out,
		  size_t *outlen, char *err, size_t errlen)
{
	struct buf body = { 0 };
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!iterations)
		iterations = BACKUP_KDF_ITERATIONS;
	rc = body_build(a, &body, err, errlen);
	if (rc == 0)
		rc = seal(&body, passphrase, iterations, out, outlen, err, errlen);
	OPENSSL_cleanse(body.data, body.cap);
	buf_free(&body);
	return rc;
}

/* ---- reading ---- */

/* Header checks; *hl = header length, *bodylen from it. */
static int header_check(const uint8_t *d, size_t len, const struct backup_read_opts *o, size_t *hl,
			uint64_t *bodylen, char *err, size_t errlen)
{
	uint32_t iter, max = o && o->max_iterations ? o->max_iterations : BACKUP_KDF_MAX_ITERATIONS;

	if (len < MAGIC_LEN || memcmp(d, BACKUP_MAGIC, MAGIC_LEN) != 0) {
		seterr(err, errlen, "not an opencapf backup (no OPENCAPF-BACKUP header)");
		return -1;
	}
	if (len < PLAIN_HEADER) {
		seterr(err, errlen, "truncated: %zu bytes, shorter than the header", len);
		return -1;
	}
	if (d[16] != BACKUP_VERSION) {
		seterr(err, errlen, "archive format version %u: this opencapf reads version %d", d[16], BACKUP_VERSION);
		return -1;
	}
	if (d[17] > ENC_GCM || d[18] || d[19]) {
		seterr(err, errlen, "unknown encryption %u in the header", d[17]);
		return -1;
	}
	*hl = d[17] == ENC_GCM ? ENC_HEADER : PLAIN_HEADER;
	*bodylen = get_be(d + 20, 8);
	if (len < *hl) {
		seterr(err, errlen, "truncated: %zu bytes, shorter than the header", len);
		return -1;
	}
	if (d[17] == ENC_GCM) {
		iter = (uint32_t)get_be(d + PLAIN_HEADER, 4);
		if (iter < 1000 || iter > max) {
			seterr(err, errlen, "PBKDF2 iteration count %u out of range (1000 to %u)", iter, max);
			return -1;
		}
		if (!o || !o->passphrase) {
			seterr(err, errlen, "the archive is encrypted: a passphrase is needed");
			return -1;
		}
	}
	return 0;
}

/* The body's bytes in plain text into *plain (malloc'd), after the length,
 * checksum or tag checks. */
static int body_open(const uint8_t *d, size_t len, const struct backup_read_opts *o, uint8_t **plain,
		     size_t *plainlen, char *err, size_t errlen)
{
	size_t hl, tl;
	uint64_t bl;
	uint8_t md[SHA_LEN], key[32], tag[TAG_LEN];
	int enc;

	if (header_check(d, len, o, &hl, &bl, err, errlen) < 0)
		return -1;
	enc = d[17] == ENC_GCM;
	tl = enc ? TAG_LEN : SHA_LEN;
	if (bl > BACKUP_MAX_BYTES || len - hl < tl || len - hl - tl < bl) {
		seterr(err, errlen, "truncated: %zu bytes, the header announces %" PRIu64, len, (uint64_t)(hl + bl + tl));
		return -1;
	}
	if (len - hl - tl > bl) {
		seterr(err, errlen, "%zu bytes of trailing garbage after the archive", (size_t)(len - hl - tl - bl));
		return -1;
	}
	if (!(*plain = malloc(bl ? bl : 1))) {
		seterr(err, errlen, "out of memory reading the archive");
		return -1;
	}
	*plainlen = bl;
	if (!enc) {
		EVP_Digest(d, hl + bl, md, NULL, EVP_sha256(), NULL);
		if (CRYPTO_memcmp(md, d + hl + bl, SHA_LEN) == 0) {
			memcpy(*plain, d + hl, bl);
			return 0;
		}
		seterr(err, errlen, "checksum mismatch: the archive was altered or damaged");
	} else {
		memcpy(tag, d + hl + bl, TAG_LEN);
		if (derive_key(o->passphrase, d + PLAIN_HEADER + 4, (uint32_t)get_be(d + PLAIN_HEADER, 4), key) == 0 &&
		    gcm(0, key, d, hl, d + hl, bl, *plain, tag) == 0) {
			OPENSSL_cleanse(key, sizeof key);
			return 0;
		}
		OPENSSL_cleanse(key, sizeof key);
		seterr(err, errlen, "authentication failed: wrong passphrase, or the archive was altered");
	}
	free(*plain);
	*plain = NULL;
	return -1;
}

/* A relative path of [A-Za-z0-9._-] components, none empty or starting with '.'. */
static int name_valid(const char *s)
{
	size_t n = strlen(s);
	int start = 1;

	if (n == 0 || n >= sizeof ((struct backup_file *)0)->name)
		return 0;
	for (const char *p = s; *p; p++) {
		if (*p == '/') {
			if (start)
				return 0;
			start = 1;
			continue;
		}
		if ((start && *p == '.') || !(isalnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-'))
			return 0;
		start = 0;
	}
	return !start;
}

/* One "file MODE SIZE SHA256 NAME" line against the body at *pos. */
static int manifest_file(const char *line, const uint8_t *body, size_t bodylen, size_t *pos,
			 struct backup_file *f, char *err, size_t errlen)
{
	char hex[80], want[65];
	unsigned mode;
	unsigned long long size;
	int used = 0;

	if (sscanf(line, "file %o %llu %64s %255s%n", &mode, &size, hex, f->name, &used) != 4 ||
	    line[used] != '\0' || strlen(hex) != 64 || !name_valid(f->name) || (mode & ~0777u)) {
		seterr(err, errlen, "bad manifest line '%.80s'", line);
		return -1;
	}
	for (char *h = hex; *h; h++)
		*h = (char)tolower((unsigned char)*h);
	if (size > bodylen - *pos) {
		seterr(err, errlen, "manifest: %s has %llu bytes, more than the archive holds", f->name, size);
		return -1;
	}
	f->mode = mode;
	f->data = body + *pos;
	f->len = (size_t)size;
	sha256_hex(f->data, f->len, want);
	if (strcmp(want, hex) != 0) {
		seterr(err, errlen, "%s: SHA-256 mismatch (manifest %.16s..., content %.16s...)", f->name, hex, want);
		return -1;
	}
	*pos += f->len;
	return 0;
}

/* "key VALUE" lines of the manifest's head, each exactly once in order. */
static int manifest_head(char **line, struct backup_archive *a, char *err, size_t errlen)
{
	long long v[3];
	static const char *const keys[3] = { "opencapf-backup", "created", "schema" };
	char *end;

	for (int i = 0; i < 3; i++) {
		size_t kl = strlen(keys[i]);

		if (!line[i] || strncmp(line[i], keys[i], kl) != 0 || line[i][kl] != ' ' ||
		    !isdigit((unsigned char)line[i][kl + 1]) || (v[i] = strtoll(line[i] + kl + 1, &end, 10), *end) ||
		    v[i] < 0 || v[i] > INT32_MAX * (i == 1 ? 4LL : 1LL)) {
			seterr(err, errlen, "bad manifest: expected '%s N', not '%.60s'", keys[i], line[i] ? line[i] : "");
			return -1;
		}
	}
	if (v[0] != BACKUP_VERSION) {
		seterr(err, errlen, "manifest version %lld: this opencapf reads version %d", v[0], BACKUP_VERSION);
		return -1;
	}
	a->created = v[1];
	a->schema = (int)v[2];
	return 0;
}

/* Split the manifest into lines (in place); NULL-terminated array. */
static char **manifest_lines(char *text, size_t *n)
{
	size_t count = 0, cap = 16;
	char **lines = malloc(cap * sizeof *lines), **more;

	for (char *p = text; lines && *p;) {
		char *nl = strchr(p, '\n');

		if (count + 2 > cap) {
			cap *= 2;
			if (!(more = realloc(lines, cap * sizeof *lines))) {
				free(lines);
				return NULL;
			}
			lines = more;
		}
		lines[count++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	if (lines)
		lines[count] = NULL;
	*n = count;
	return lines;
}

static int files_parse(char **lines, size_t n, const uint8_t *body, size_t bodylen, size_t pos,
		       struct backup_archive *a, char *err, size_t errlen)
{
	int has_db = 0;

	if (n - 3 > BACKUP_MAX_FILES || !(a->files = calloc(n - 3 ? n - 3 : 1, sizeof *a->files))) {
		seterr(err, errlen, "manifest lists %zu files: more than an archive holds", n - 3);
		return -1;
	}
	for (size_t i = 3; i < n; i++) {
		struct backup_file *f = &a->files[a->nfiles];

		if (manifest_file(lines[i], body, bodylen, &pos, f, err, errlen) < 0)
			return -1;
		for (size_t j = 0; j < a->nfiles; j++)
			if (strcmp(a->files[j].name, f->name) == 0) {
				seterr(err, errlen, "manifest lists %s twice", f->name);
				return -1;
			}
		has_db |= strcmp(f->name, "opencapf.db") == 0;
		a->nfiles++;
	}
	if (pos != bodylen) {
		seterr(err, errlen, "%zu bytes in the archive that the manifest does not list", bodylen - pos);
		return -1;
	}
	if (!has_db) {
		seterr(err, errlen, "the archive holds no opencapf.db");
		return -1;
	}
	return 0;
}

static int body_parse(struct backup_archive *a, size_t bodylen, char *err, size_t errlen)
{
	uint32_t ml;
	char *text, **lines;
	size_t n = 0;
	int rc = -1;

	if (bodylen < 4 || (ml = (uint32_t)get_be(a->plain, 4)) > bodylen - 4 || ml > MANIFEST_MAX) {
		seterr(err, errlen, "bad manifest length");
		return -1;
	}
	if (!(text = malloc(ml + 1))) {
		seterr(err, errlen, "out of memory reading the manifest");
		return -1;
	}
	memcpy(text, a->plain + 4, ml);
	text[ml] = '\0';
	if (strlen(text) != ml || (ml && text[ml - 1] != '\n'))
		seterr(err, errlen, "bad manifest: not lines of text");
	else if (!(lines = manifest_lines(text, &n)))
		seterr(err, errlen, "out of memory reading the manifest");
	else {
		if (n >= 3 && manifest_head(lines, a, err, errlen) == 0)
			rc = files_parse(lines, n, a->plain, bodylen, 4 + (size_t)ml, a, err, errlen);
		else if (n < 3)
			seterr(err, errlen, "bad manifest: %zu lines", n);
		free(lines);
	}
	free(text);
	return rc;
}

int backup_decode(const uint8_t *data, size_t len, const struct backup_read_opts *o, struct backup_archive *out,
		  char *err, size_t errlen)
{
	size_t bodylen = 0;

	memset(out, 0, sizeof *out);
	if (body_open(data, len, o, &out->plain, &bodylen, err, errlen) < 0)
		return -1;
	out->encrypted = data[17] == ENC_GCM;
	if (body_parse(out, bodylen, err, errlen) < 0) {
		backup_archive_free(out);
		return -1;
	}
	return 0;
}
