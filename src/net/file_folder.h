/*
 * file_folder.h: opening files of the provisioning folder by the name a
 * client asked for, shared by the TFTP and HTTP file services: the name must
 * pass tftp_name_check (relative, no "..", printable) and resolve, symbolic
 * links followed, to a regular file inside the folder.
 */
#ifndef OPENCAPF_NET_FILE_FOLDER_H
#define OPENCAPF_NET_FILE_FOLDER_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

struct file_folder {
	char root[PATH_MAX];  /* the folder, resolved */
	size_t root_len;      /* 0 when the folder is "/" */
};

/* Resolve the folder (it must exist). 0, or -1 with err. */
int file_folder_init(struct file_folder *f, const char *dir, char *err, size_t errlen);

enum file_open_error { FILE_OPEN_MISSING = 1, FILE_OPEN_REFUSED = 2 };

/* Open name read-only: 0 with *fd and *size, or -1 with *why and *kind
 * (FILE_OPEN_MISSING: no such file; FILE_OPEN_REFUSED: a bad name, outside
 * the folder, not a regular file, no permission). */
int file_folder_open(const struct file_folder *f, const char *name, int *fd, uint64_t *size,
		     int *kind, const char **why);

#endif
