/*
 * store_enums.c: names, vendor labels and parsing of the phone enums.
 *
 * The name is what the database stores (CHECK constraints in the schema list
 * the same words) and what the command line takes; the label is the
 * vendor's wording (phone-certificates.md §4) for displays. Parsing accepts
 * either, case-insensitively, and nothing else. Out-of-range values give
 * "unknown" (name) so that a bad value is visible instead of crashing.
 */
#include <strings.h>

#include "store/store.h"

struct enum_words {
	const char *name;
	const char *label;
	const char *alias;       /* one more accepted spelling, or NULL */
};

static const struct enum_words auth_words[] = {
	[AUTH_NULL] = { "null", "By Null String", NULL },
	[AUTH_STRING] = { "string", "By Authentication String", "auth-string" },
	[AUTH_LSC_FIRST] = { "lsc-first", "By Existing Certificate (Precedence to LSC)", "lsc" },
	[AUTH_MIC_FIRST] = { "mic-first", "By Existing Certificate (Precedence to MIC)", "mic" },
};

static const struct enum_words key_words[] = {
	[KEY_ORDER_RSA] = { "rsa", "RSA Only", NULL },
	[KEY_ORDER_EC] = { "ec", "EC Only", NULL },
	[KEY_ORDER_EC_RSA] = { "ec-rsa", "EC Preferred, RSA Backup", NULL },
};

static const struct enum_words op_words[] = {
	[OP_NONE] = { "none", "No Pending Operation", NULL },
	[OP_INSTALL] = { "install", "Install/Upgrade", "upgrade" },
	[OP_DELETE] = { "delete", "Delete", NULL },
	[OP_TROUBLESHOOT] = { "troubleshoot", "Troubleshoot", NULL },
};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *word(const struct enum_words *w, int n, int v, int label)
{
	if (v < 0 || v >= n)
		return "unknown";
	return label ? w[v].label : w[v].name;
}

static int parse(const struct enum_words *w, int n, const char *s)
{
	if (!s)
		return -1;
	for (int i = 0; i < n; i++)
		if (!strcasecmp(s, w[i].name) || !strcasecmp(s, w[i].label) ||
		    (w[i].alias && !strcasecmp(s, w[i].alias)))
			return i;
	return -1;
}

const char *auth_mode_name(enum auth_mode m) { return word(auth_words, COUNT(auth_words), (int)m, 0); }
const char *auth_mode_label(enum auth_mode m) { return word(auth_words, COUNT(auth_words), (int)m, 1); }
const char *key_order_name(enum key_order k) { return word(key_words, COUNT(key_words), (int)k, 0); }
const char *key_order_label(enum key_order k) { return word(key_words, COUNT(key_words), (int)k, 1); }
const char *capf_op_name(enum capf_op o) { return word(op_words, COUNT(op_words), (int)o, 0); }
const char *capf_op_label(enum capf_op o) { return word(op_words, COUNT(op_words), (int)o, 1); }

int auth_mode_parse(const char *s, enum auth_mode *m)
{
	int v = parse(auth_words, COUNT(auth_words), s);

	if (v < 0)
		return -1;
	*m = (enum auth_mode)v;
	return 0;
}

int key_order_parse(const char *s, enum key_order *k)
{
	int v = parse(key_words, COUNT(key_words), s);

	if (v < 0)
		return -1;
	*k = (enum key_order)v;
	return 0;
}

int capf_op_parse(const char *s, enum capf_op *o)
{
	int v = parse(op_words, COUNT(op_words), s);

	if (v < 0)
		return -1;
	*o = (enum capf_op)v;
	return 0;
}
