/*
 * backup.c: `opencapf backup` and `restore` on a state directory
 * (backup.h): collecting the snapshot and the state's files into an
 * archive, and putting an archive's files into a new state, checked before
 * it is renamed into place.
 */
#include "admin/backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "store/store.h"
#include "store/store_backup.h"

#define WALK_DEPTH 4

/* The files collected for an archive: names and their bytes (owned). */
struct collect {
	struct backup_file *files;
	size_t n, cap;
};

static void collect_free(struct collect *c)
{
	for (size_t i = 0; i < c->n; i++)
		free((void *)c->files[i].data);
	free(c->files);
}

static int collect_add(struct collect *c, const char *path, const char *name, mode_t mode, char *err,
		       size_t errlen)
{
	uint8_t *data;
	size_t len;

	if (c->n >= BACKUP_MAX_FILES) {
		seterr(err, errlen, "more than %d files in the state", BACKUP_MAX_FILES);
		return -1;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 32;
		struct backup_file *f = realloc(c->files, cap * sizeof *f);

		if (!f) {
			seterr(err, errlen, "out of memory");
			return -1;
		}
		c->files = f;
		c->cap = cap;
	}
	if (read_file(path, BACKUP_MAX_BYTES, &data, &len, err, errlen) < 0)
		return -1;
	memset(&c->files[c->n], 0, sizeof c->files[0]);
	snprintf(c->files[c->n].name, sizeof c->files[0].name, "%s", name);
	c->files[c->n].mode = (mode & 077) ? 0644 : 0600;
	c->files[c->n].data = data;
	c->files[c->n].len = len;
	c->n++;
	return 0;
}

/* Regular files under dir/rel (rel "" for the state's top), skipping the
 * live database files and anything hidden; symbolic links are not followed. */
static int walk(struct collect *c, const char *dir, const char *rel, int depth, char *err, size_t errlen)
{
	char path[4200], name[512];
	struct dirent *e;
	struct stat sb;
	DIR *d;
	int rc = 0;

	snprintf(path, sizeof path, "%s%s%s", dir, *rel ? "/" : "", rel);
	if (!(d = opendir(path))) {
		seterr(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.' || (!*rel && strncmp(e->d_name, STORE_DB_NAME, strlen(STORE_DB_NAME)) == 0))
			continue;
		snprintf(name, sizeof name, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		snprintf(path, sizeof path, "%s/%s", dir, name);
		if (strlen(name) >= sizeof c->files[0].name || lstat(path, &sb) < 0)
			continue;
		if (S_ISREG(sb.st_mode))
			rc = collect_add(c, path, name, sb.st_mode, err, errlen);
		else if (S_ISDIR(sb.st_mode) && depth < WALK_DEPTH)
			rc = walk(c, dir, name, depth + 1, err, errlen);
	}
	closedir(d);
	return rc;
}

/* The database snapshot as the archive's first file. */
static int collect_db(struct collect *c, const char *state_dir, const char *archive, int *schema, char *err,
		      size_t errlen)
{
	char tmp[4200];
	int rc;

	snprintf(tmp, sizeof tmp, "%s.db-%ld.tmp", archive, (long)getpid());
	unlink(tmp);
	if (store_snapshot(state_dir, tmp, schema, err, errlen) < 0)
		return -1;
	rc = collect_add(c, tmp, STORE_DB_NAME, 0600, err, errlen);
	unlink(tmp);
	return rc;
}

int backup_create(const char *state_dir, const char *path, const char *passphrase, struct backup_summary *sum,
		  char *err, size_t errlen)
{
	struct collect c = { 0 };
	struct backup_archive a = { 0 };
	struct stat sb;
	uint8_t *out = NULL;
	size_t outlen = 0;
	int rc = -1;

	memset(sum, 0, sizeof *sum);
	if (lstat(path, &sb) == 0) {
		seterr(err, errlen, "%s already exists: choose a new file name", path);
		return -1;
	}
	if (collect_db(&c, state_dir, path, &a.schema, err, errlen) < 0 || walk(&c, state_dir, "", 0, err, errlen) < 0)
		goto out;
	a.created = now_utc();
	a.files = c.files;
	a.nfiles = c.n;
	if (backup_encode(&a, passphrase, 0, &out, &outlen, err, errlen) < 0 ||
	    write_file_atomic(path, out, outlen, 0600, err, errlen) < 0)
		goto out;
	*sum = (struct backup_summary){ .files = c.n, .bytes = outlen, .schema = a.schema, .encrypted = !!passphrase };
	rc = 0;
out:
	if (out)
		OPENSSL_cleanse(out, outlen);
	free(out);
	collect_free(&c);
	return rc;
}

/* state_dir must not exist, or be an empty folder (removed then). */
static int target_empty(const char *state_dir, int *existed, char *err, size_t errlen)
{
	struct dirent *e;
	DIR *d = opendir(state_dir);

	*existed = 0;
	if (!d) {
		if (errno == ENOENT)
			return 0;
		seterr(err, errlen, "%s: %s", state_dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			closedir(d);
			seterr(err, errlen, "%s is not empty: restore only into a new or empty state folder", state_dir);
			return -1;
		}
	closedir(d);
	*existed = 1;
	return 0;
}

/* Folders on the way to one file: keys/ 0700, others 0755. */
static int make_parents(const char *root, const char *name, char *err, size_t errlen)
{
	char path[4200];
	size_t rl = strlen(root);

	snprintf(path, sizeof path, "%s/%s", root, name);
	for (char *p = path + rl + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(path, strcmp(path + rl + 1, "keys") == 0 ? 0700 : 0755) < 0 && errno != EEXIST) {
			seterr(err, errlen, "cannot create %s: %s", path, strerror(errno));
			return -1;
		}
		*p = '/';
	}
	return 0;
}

/* Every file of the archive into the staging folder. */
static int write_files(const struct backup_archive *a, const char *stage, char *err, size_t errlen)
{
	char path[4200];

	for (size_t i = 0; i < a->nfiles; i++) {
		const struct backup_file *f = &a->files[i];
		mode_t mode = strncmp(f->name, "keys/", 5) == 0 || (f->mode & 077) == 0 ? 0600 : 0644;

		snprintf(path, sizeof path, "%s/%s", stage, f->name);
		if (make_parents(stage, f->name, err, errlen) < 0 ||
		    write_file_atomic(path, f->data, f->len, mode, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* Write, check and rename the staging folder into place. */
static int restore_into(const struct backup_archive *a, const char *state_dir, int existed, int *schema, char *err,
			size_t errlen)
{
	char stage[4200], db[4300];
	int rc = -1;

	snprintf(stage, sizeof stage, "%s.restore-XXXXXX", state_dir);
	if (!mkdtemp(stage)) {
		seterr(err, errlen, "cannot create a folder beside %s: %s", state_dir, strerror(errno));
		return -1;
	}
	chmod(stage, 0755);
	snprintf(db, sizeof db, "%s/%s", stage, STORE_DB_NAME);
	if (write_files(a, stage, err, errlen) < 0 || store_file_check(db, schema, err, errlen) < 0)
		goto out;
	if (*schema > STORE_SCHEMA_VERSION) {
		seterr(err, errlen, "the database has schema version %d, newer than this opencapf (%d)", *schema,
		       STORE_SCHEMA_VERSION);
		goto out;
	}
	if ((existed && rmdir(state_dir) < 0) || rename(stage, state_dir) < 0) {
		seterr(err, errlen, "cannot move the restored state to %s: %s", state_dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		remove_tree(stage);
	return rc;
}

int backup_restore(const char *path, const char *state_dir, const char *passphrase, struct backup_summary *sum,
		   char *err, size_t errlen)
{
	struct backup_read_opts o = { .passphrase = passphrase };
	struct backup_archive a;
	uint8_t *data = NULL;
	size_t len = 0;
	int existed, rc = -1;

	memset(sum, 0, sizeof *sum);
	if (target_empty(state_dir, &existed, err, errlen) < 0 ||
	    read_file(path, BACKUP_MAX_BYTES, &data, &len, err, errlen) < 0)
		return -1;
	if (backup_decode(data, len, &o, &a, err, errlen) == 0) {
		rc = restore_into(&a, state_dir, existed, &sum->schema, err, errlen);
		sum->files = a.nfiles;
		sum->bytes = len;
		sum->encrypted = a.encrypted;
		backup_archive_free(&a);
	}
	free(data);
	return rc;
}

int backup_passphrase_read(const char *path, char **out, char *err, size_t errlen)
{
	uint8_t *data;
	size_t len;

	if (read_file(path, 64 * 1024, &data, &len, err, errlen) < 0)
		return -1;
	len = strcspn((char *)data, "\r\n");
	data[len] = '\0';
	if (len == 0) {
		free(data);
		seterr(err, errlen, "%s: the passphrase (its first line) is empty", path);
		return -1;
	}
	*out = (char *)data;
	return 0;
}

void backup_passphrase_free(char *p)
{
	if (p)
		OPENSSL_cleanse(p, strlen(p));
	free(p);
}
