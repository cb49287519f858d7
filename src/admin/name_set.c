/*
 * name_set.c: device names seen, with their line (name_set.h).
 */
#include "admin/name_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t name_hash(const char *s)
{
	size_t h = 1469598103934665603u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

size_t name_set_add(struct name_set *ns, const char *name, size_t line)
{
	size_t i;

	if ((ns->n + 1) * 2 > ns->cap) {
		struct name_set bigger = { NULL, ns->cap ? ns->cap * 2 : 1024, 0 };
		bigger.slot = calloc(bigger.cap, sizeof *bigger.slot);
		if (!bigger.slot)
			return (size_t)-1;
		for (size_t k = 0; k < ns->cap; k++)
			if (ns->slot[k].line)
				name_set_add(&bigger, ns->slot[k].name, ns->slot[k].line);
		free(ns->slot);
		*ns = bigger;
	}
	for (i = name_hash(name) & (ns->cap - 1); ns->slot[i].line; i = (i + 1) & (ns->cap - 1))
		if (strcmp(ns->slot[i].name, name) == 0)
			return ns->slot[i].line;
	snprintf(ns->slot[i].name, sizeof ns->slot[i].name, "%s", name);
	ns->slot[i].line = line;
	ns->n++;
	return 0;
}

struct name_slot *name_set_find(const struct name_set *ns, const char *name)
{
	if (!ns->cap)
		return NULL;
	for (size_t i = name_hash(name) & (ns->cap - 1); ns->slot[i].line; i = (i + 1) & (ns->cap - 1))
		if (strcmp(ns->slot[i].name, name) == 0)
			return &ns->slot[i];
	return NULL;
}

void name_set_free(struct name_set *ns)
{
	free(ns->slot);
	ns->slot = NULL;
	ns->cap = ns->n = 0;
}
