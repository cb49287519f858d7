/*
 * name_set.h: a set of device names (open addressing), each with the line
 * or position it was first seen at: the duplicates of a phone import, the
 * explicit names of a command-line selector.
 */
#ifndef OPENCAPF_ADMIN_NAME_SET_H
#define OPENCAPF_ADMIN_NAME_SET_H

#include <stddef.h>

struct name_slot {
	char name[16];
	size_t line;                /* 0: empty slot */
	int found;                  /* the caller's mark */
};
struct name_set {
	struct name_slot *slot;
	size_t cap, n;
};

/* 0 added; the earlier line when already there; (size_t)-1 out of memory. */
size_t name_set_add(struct name_set *ns, const char *name, size_t line);
/* The slot of name, or NULL. */
struct name_slot *name_set_find(const struct name_set *ns, const char *name);
void name_set_free(struct name_set *ns);

#endif
