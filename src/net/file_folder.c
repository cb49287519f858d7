/*
 * file_folder.c: the one place where a client's file name becomes an open
 * file (file_folder.h). realpath resolves every symbolic link and ".", and
 * the result must lie strictly inside the resolved folder; the final open
 * refuses a symbolic link swapped in meanwhile (O_NOFOLLOW) and anything
 * that is not a regular file.
 */
#include "net/file_folder.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "net/tftp_proto.h"

int file_folder_init(struct file_folder *f, const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (!realpath(dir, f->root) || stat(f->root, &st) < 0) {
		seterr(err, errlen, "file folder %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		seterr(err, errlen, "file folder %s is not a folder", dir);
		return -1;
	}
	f->root_len = strcmp(f->root, "/") == 0 ? 0 : strlen(f->root);
	return 0;
}

static int refused(int *kind, const char **why, const char *text)
{
	*kind = FILE_OPEN_REFUSED;
	*why = text;
	return -1;
}

int file_folder_open(const struct file_folder *f, const char *name, int *fd, uint64_t *size,
		     int *kind, const char **why)
{
	char path[2 * PATH_MAX], real[PATH_MAX];
	const char *bad = tftp_name_check(name);
	struct stat st;

	if (bad)
		return refused(kind, why, bad);
	snprintf(path, sizeof path, "%s/%s", f->root, name);
	if (!realpath(path, real)) {
		if (errno != ENOENT && errno != ENOTDIR)
			return refused(kind, why, strerror(errno));
		*kind = FILE_OPEN_MISSING;
		*why = "no such file";
		return -1;
	}
	if (strncmp(real, f->root, f->root_len) != 0 || real[f->root_len] != '/')
		return refused(kind, why, real[f->root_len] == '\0' ? "not a regular file" :
				       "the name leads outside the served folder");
	*fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (*fd < 0) {
		*kind = errno == ENOENT ? FILE_OPEN_MISSING : FILE_OPEN_REFUSED;
		*why = *kind == FILE_OPEN_MISSING ? "no such file" : strerror(errno);
		return -1;
	}
	if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(*fd);
		return refused(kind, why, "not a regular file");
	}
	*size = (uint64_t)st.st_size;
	return 0;
}
