/*
 * phone_select_opts.c: picking phones on the command line, shared by
 * `phone list`, `phone op`, `phone export` and `phone auth-strings`: the
 * selector options merged with a command's own, positional device names,
 * and the check that every name given explicitly is a phone (with the
 * core's name set, admin/name_set.h).
 */
#include "cmd/opencapf/cmd_phone.h"
#include "admin/name_set.h"

#include <stdlib.h>
#include <string.h>

/* ---- selectors ---- */

static int mark_found(const struct phone_row *r, void *arg)
{
	struct name_slot *slot = name_set_find(arg, r->phone.name);

	if (slot)
		slot->found = 1;
	return 0;
}

int phone_names_missing(struct store *st, const struct phone_selector *sel)
{
	struct name_set want = { NULL, 0, 0 };
	struct phone_filter only;
	int missing = 0;

	if (!sel->n_names)
		return 0;
	for (size_t i = 0; i < sel->n_names; i++)
		if (name_set_add(&want, sel->names[i], i + 1) == (size_t)-1) {
			cli_error("out of memory");
			name_set_free(&want);
			return -1;
		}
	phone_filter_init(&only);
	only.names = (const char *const *)sel->names;
	only.n_names = sel->n_names;
	if (store_phone_select(st, &only, mark_found, &want) != 0) {
		cli_error("cannot read phones: %s", store_errmsg(st));
		name_set_free(&want);
		return -1;
	}
	for (size_t i = 0; i < sel->n_names; i++) {
		struct name_slot *slot = name_set_find(&want, sel->names[i]);
		if (slot && !slot->found && slot->line == i + 1) {
			cli_error("no phone named %s (see 'opencapf phone list')", sel->names[i]);
			missing++;
		}
	}
	name_set_free(&want);
	return missing ? -1 : 0;
}

int phone_parse_selector_cmd(struct cli *cli, int argc, char **argv, const struct option *own,
			     const char *usage, struct phone_selector *sel, int *help,
			     int (*on_opt)(int c, const char *arg, void *ctx), void *ctx)
{
	struct option opts[40];
	int c;

	phone_selector_merge_opts(opts, sizeof opts / sizeof opts[0], own);
	while ((c = cli_getopt(cli, argc, argv, "", opts, usage, help)) != -1) {
		int s;
		if (c == '?')
			return -1;
		if ((s = phone_selector_opt(sel, c, optarg)) < 0)
			return -1;
		if (!s && on_opt(c, optarg, ctx) < 0)
			return -1;
	}
	if (*help) {
		fputs(phone_selector_help, stdout);
		return 0;
	}
	return phone_selector_add_names(sel, argc - optind, argv + optind);
}
