/*
 * phone_config.c: the CAPF part of a phone's configuration file, alone or
 * merged into the administrator's own file, with libxml2 (phone_config.h).
 */
#include "admin/phone_config.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#define CAPF_DEFAULT_PORT 3804

static const char *const our_elements[] = { "deviceSecurityMode", "capfAuthMode", "capfList" };
#define N_OUR (sizeof our_elements / sizeof our_elements[0])

/* ---- settings ---- */

/* "HOST[:PORT],..." into s; 0, or -1 with err naming the entry. */
static int parse_capf_list(const char *text, struct prov_settings *s, char *err, size_t errlen)
{
	char copy[1200], *save = NULL;

	snprintf(copy, sizeof copy, "%s", text);
	s->ncapf = 0;
	for (char *e = strtok_r(copy, ", ", &save); e; e = strtok_r(NULL, ", ", &save)) {
		char *colon = strrchr(e, ':'), *end = NULL;
		long port = colon ? strtol(colon + 1, &end, 10) : CAPF_DEFAULT_PORT;

		if (colon)
			*colon = '\0';
		if (s->ncapf == PROV_MAX_CAPF || !e[0] || strlen(e) >= sizeof s->capf_host[0] || !text_valid(e) ||
		    strpbrk(e, "<>&\"'") || (colon && (end == colon + 1 || *end || port < 1 || port > 65535))) {
			seterr(err, errlen, "CAPF server '%s': expected HOST[:PORT] (at most %d servers)",
			       text_valid(e) ? e : "?", PROV_MAX_CAPF);
			return -1;
		}
		snprintf(s->capf_host[s->ncapf], sizeof s->capf_host[0], "%s", e);
		s->capf_port[s->ncapf++] = (int)port;
	}
	return 0;
}

int prov_settings_load(struct store *st, struct prov_settings *s, char *err, size_t errlen)
{
	char v[1200];

	memset(s, 0, sizeof *s);
	s->security_mode = 2;
	if (store_setting_get(st, "capf_servers", v, sizeof v) == 0 && v[0] &&
	    parse_capf_list(v, s, err, errlen) < 0)
		return -1;
	if (s->ncapf == 0) {
		if (gethostname(s->capf_host[0], sizeof s->capf_host[0] - 1) < 0)
			snprintf(s->capf_host[0], sizeof s->capf_host[0], "localhost");
		s->capf_port[0] = CAPF_DEFAULT_PORT;
		s->ncapf = 1;
	}
	if (store_setting_get(st, "device_security_mode", v, sizeof v) == 0 && v[0] >= '1' && v[0] <= '3' && !v[1])
		s->security_mode = v[0] - '0';
	if (store_setting_get(st, "config_templates", s->templates, sizeof s->templates) != 0 || !s->templates[0])
		path_join(s->templates, sizeof s->templates, store_dir(st), "templates");
	return 0;
}

int admin_prov_settings_change(struct store *st, const char *actor, const struct prov_settings_change *c,
			       char *err, size_t errlen)
{
	struct prov_settings check;
	char mode[4], detail[1600], capf[1300] = "", dir[1100] = "";

	if (c->capf && parse_capf_list(c->capf, &check, err, errlen) < 0)
		return -1;
	if (c->security_mode && (c->security_mode < 1 || c->security_mode > 3)) {
		seterr(err, errlen, "security mode %d: expected 1 (non-secure), 2 (authenticated) or 3 (encrypted)",
		       c->security_mode);
		return -1;
	}
	if (c->templates && (!c->templates[0] || !text_valid(c->templates) || strlen(c->templates) >= 1024)) {
		seterr(err, errlen, "templates folder: expected a path of at most 1023 bytes");
		return -1;
	}
	snprintf(mode, sizeof mode, "%d", c->security_mode);
	store_json_str(capf, sizeof capf, c->capf ? c->capf : "");
	store_json_str(dir, sizeof dir, c->templates ? c->templates : "");
	snprintf(detail, sizeof detail, "{\"capf_servers\":%s,\"device_security_mode\":%d,\"config_templates\":%s}",
		 c->capf ? capf : "null", c->security_mode, c->templates ? dir : "null");
	if (store_begin(st) == 0 && (!c->capf || store_setting_set(st, "capf_servers", c->capf) == 0) &&
	    (!c->security_mode || store_setting_set(st, "device_security_mode", mode) == 0) &&
	    (!c->templates || store_setting_set(st, "config_templates", c->templates) == 0) &&
	    store_audit(st, actor, "provision.settings", "", detail) == 0 && store_commit(st) == 0)
		return 0;
	seterr(err, errlen, "cannot store the provisioning settings: %s", store_errmsg(st));
	store_rollback(st);
	return -1;
}

/* ---- the elements ---- */

int phone_capf_auth_mode(const struct phone *p)
{
	static const int by_mode[] = { [AUTH_STRING] = 1, [AUTH_NULL] = 2, [AUTH_LSC_FIRST] = 3, [AUTH_MIC_FIRST] = 4 };

	if (p->op == OP_NONE || (unsigned)p->auth >= sizeof by_mode / sizeof by_mode[0])
		return 0;
	return by_mode[p->auth];
}

static xmlNodePtr text_element(const char *name, const char *text)
{
	xmlNodePtr n = xmlNewNode(NULL, BAD_CAST name);

	if (n)
		xmlNodeAddContent(n, BAD_CAST text);
	return n;
}

static xmlNodePtr capf_list(const struct prov_settings *s)
{
	xmlNodePtr list = xmlNewNode(NULL, BAD_CAST "capfList");
	char port[16];

	for (int i = 0; list && i < s->ncapf; i++) {
		xmlNodePtr capf = xmlNewChild(list, NULL, BAD_CAST "capf", NULL);

		snprintf(port, sizeof port, "%d", s->capf_port[i]);
		if (!capf || !xmlNewTextChild(capf, NULL, BAD_CAST "phonePort", BAD_CAST port) ||
		    !xmlNewTextChild(capf, NULL, BAD_CAST "processNodeName", BAD_CAST s->capf_host[i])) {
			xmlFreeNode(list);
			return NULL;
		}
	}
	return list;
}

/* Our elements, in our_elements' order; 0, or -1 (out of memory, all freed). */
static int build_elements(const struct phone *p, const struct prov_settings *s, xmlNodePtr out[N_OUR])
{
	char mode[8], auth[8];

	snprintf(mode, sizeof mode, "%d", s->security_mode);
	snprintf(auth, sizeof auth, "%d", phone_capf_auth_mode(p));
	out[0] = text_element(our_elements[0], mode);
	out[1] = text_element(our_elements[1], auth);
	out[2] = capf_list(s);
	if (out[0] && out[1] && out[2])
		return 0;
	for (size_t i = 0; i < N_OUR; i++)
		xmlFreeNode(out[i]);
	return -1;
}

static void init_libxml(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, xmlInitParser);
}

int phone_config_fragment(const struct phone *p, const struct prov_settings *s, struct buf *out, char *err,
			  size_t errlen)
{
	xmlNodePtr el[N_OUR];
	xmlBufferPtr b;
	int rc = -1;

	init_libxml();
	if (build_elements(p, s, el) < 0 || !(b = xmlBufferCreate())) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < N_OUR; i++) {
		if (xmlNodeDump(b, NULL, el[i], 0, 1) >= 0)
			xmlBufferCCat(b, "\n");
		xmlFreeNode(el[i]);
	}
	buf_put(out, xmlBufferContent(b), (size_t)xmlBufferLength(b));
	rc = out->failed ? -1 : 0;
	if (rc < 0)
		seterr(err, errlen, "out of memory");
	xmlBufferFree(b);
	return rc;
}

/* ---- merging ---- */

/* The first child element of root named name, others of that name removed. */
static xmlNodePtr take_existing(xmlNodePtr root, const char *name)
{
	xmlNodePtr first = NULL, next;

	for (xmlNodePtr c = root->children; c; c = next) {
		next = c->next;
		if (c->type != XML_ELEMENT_NODE || xmlStrcmp(c->name, BAD_CAST name) != 0)
			continue;
		if (!first) {
			first = c;
			continue;
		}
		xmlUnlinkNode(c);
		xmlFreeNode(c);
	}
	return first;
}

/* Put n where root had an element of its name, or at the end of root
 * (before the closing whitespace, indented like the last element). */
static void place(xmlNodePtr root, xmlNodePtr n)
{
	xmlNodePtr old = take_existing(root, (const char *)n->name), last = root->last;

	if (old) {
		xmlReplaceNode(old, n);
		xmlFreeNode(old);
	} else if (last && xmlNodeIsText(last) && xmlIsBlankNode(last)) {
		xmlNodePtr indent = NULL;

		for (xmlNodePtr c = last->prev; c && !indent; c = c->prev)
			if (xmlNodeIsText(c) && xmlIsBlankNode(c))
				indent = c;
		xmlAddPrevSibling(last, n);
		if (indent)
			xmlAddPrevSibling(n, xmlNewText(indent->content));
	} else
		xmlAddChild(root, n);
}

static xmlDocPtr parse_template(const char *file, const uint8_t *tpl, size_t len, char *err, size_t errlen)
{
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	xmlDocPtr doc = NULL;
	xmlErrorPtr e;

	if (!ctxt) {
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	doc = xmlCtxtReadMemory(ctxt, (const char *)tpl, (int)len, file, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		e = xmlCtxtGetLastError(ctxt);
		seterr(err, errlen, "%s:%d: not well-formed XML: %s", file, e ? e->line : 0,
		       e && e->message ? e->message : "unreadable");
		if (err[0] && err[strlen(err) - 1] == '\n')
			err[strlen(err) - 1] = '\0';
	}
	xmlFreeParserCtxt(ctxt);
	return doc;
}

int phone_config_merge(const struct phone *p, const struct prov_settings *s, const char *file, const uint8_t *tpl,
		       size_t len, struct buf *out, char *err, size_t errlen)
{
	xmlNodePtr el[N_OUR], root;
	xmlChar *mem = NULL;
	xmlDocPtr doc;
	int size = 0;

	init_libxml();
	if (len > PROV_TEMPLATE_MAX_BYTES) {
		seterr(err, errlen, "%s: larger than %d bytes", file, PROV_TEMPLATE_MAX_BYTES);
		return -1;
	}
	if (!(doc = parse_template(file, tpl, len, err, errlen)))
		return -1;
	root = xmlDocGetRootElement(doc);
	if (!root || xmlStrcmp(root->name, BAD_CAST "device") != 0) {
		seterr(err, errlen, "%s:%d: the root element is <%s>, not <device>", file, root ? (int)xmlGetLineNo(root) : 1,
		       root ? (const char *)root->name : "");
		xmlFreeDoc(doc);
		return -1;
	}
	if (build_elements(p, s, el) == 0) {
		for (size_t i = 0; i < N_OUR; i++)
			place(root, el[i]);
		xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
	}
	xmlFreeDoc(doc);
	if (!mem) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	buf_put(out, mem, (size_t)size);
	xmlFree(mem);
	return out->failed ? -1 : 0;
}

/* ---- the stub beside an encrypted configuration ---- */

/* A copy of the template's first element named name, or NULL. */
static xmlNodePtr copy_from(xmlNodePtr root, const char *name)
{
	for (xmlNodePtr c = root ? root->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && xmlStrcmp(c->name, BAD_CAST name) == 0)
			return xmlCopyNode(c, 1);
	return NULL;
}

static void add_line(xmlNodePtr root, xmlNodePtr n)
{
	if (!n)
		return;
	xmlAddChild(root, xmlNewText(BAD_CAST "\n  "));
	xmlAddChild(root, n);
}

int phone_config_stub(const struct phone *p, const struct prov_settings *s, const char *file, const uint8_t *tpl,
		      size_t len, const char *cert_hash, struct buf *out, char *err, size_t errlen)
{
	struct prov_settings enc = *s;
	xmlDocPtr tdoc, doc = NULL;
	xmlNodePtr troot, root, el[N_OUR];
	xmlChar *mem = NULL;
	int size = 0;

	init_libxml();
	if (!(tdoc = parse_template(file, tpl, len, err, errlen)))
		return -1;
	troot = xmlDocGetRootElement(tdoc);
	enc.security_mode = 3;
	if ((doc = xmlNewDoc(BAD_CAST "1.0")) && (root = xmlNewNode(NULL, BAD_CAST "device")) &&
	    build_elements(p, &enc, el) == 0) {
		xmlDocSetRootElement(doc, root);
		add_line(root, text_element("fullConfig", "false"));
		add_line(root, copy_from(troot, "ipAddressMode"));
		add_line(root, copy_from(troot, "loadInformation"));
		for (size_t i = 0; i < N_OUR; i++)
			add_line(root, el[i]);
		add_line(root, text_element("certHash", cert_hash));
		add_line(root, text_element("encrConfig", "true"));
		xmlAddChild(root, xmlNewText(BAD_CAST "\n"));
		xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
	}
	xmlFreeDoc(tdoc);
	xmlFreeDoc(doc);
	if (!mem) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	buf_put(out, mem, (size_t)size);
	xmlFree(mem);
	return out->failed ? -1 : 0;
}

/* ---- which phones get encrypted configurations ---- */

#define ENCRYPTED_MAX (64 * 1024)

int prov_encrypted(struct store *st, const char *name)
{
	char *list = malloc(ENCRYPTED_MAX), *save = NULL;
	int found = 0;

	if (list && store_setting_get(st, "config_encrypted", list, ENCRYPTED_MAX) == 0)
		for (char *l = strtok_r(list, "\n", &save); l && !found; l = strtok_r(NULL, "\n", &save))
			found = strcmp(l, name) == 0;
	free(list);
	return found;
}

/* list without name, then with it when on; -1 when it would not fit. */
static int edit_list(char *list, const char *name, int on)
{
	char *copy = strdup(list), *save = NULL;
	size_t n = 0;

	if (!copy)
		return -1;
	list[0] = '\0';
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (strcmp(l, name) != 0)
			n += (size_t)snprintf(list + n, ENCRYPTED_MAX - n, "%s\n", l);
	free(copy);
	if (on && n + strlen(name) + 2 < ENCRYPTED_MAX)
		n += (size_t)snprintf(list + n, ENCRYPTED_MAX - n, "%s\n", name);
	return n + 2 >= ENCRYPTED_MAX ? -1 : 0;
}

static int encrypt_one(struct store *st, const char *actor, char *list, const char *name, int on, char *err,
		       size_t errlen)
{
	struct phone p;
	int rc = store_phone_get(st, name, &p);

	if (rc != 0) {
		seterr(err, errlen, rc > 0 ? "no phone named %s" : "%s", rc > 0 ? name : store_errmsg(st));
		return -1;
	}
	if (edit_list(list, name, on) < 0) {
		seterr(err, errlen, "too many phones with encrypted configurations");
		return -1;
	}
	if (store_audit(st, actor, "provision.encrypt", name, on ? "{\"encrypted\":true}" : "{\"encrypted\":false}") < 0) {
		seterr(err, errlen, "%s", store_errmsg(st));
		return -1;
	}
	return 0;
}

int admin_prov_encrypt(struct store *st, const char *actor, const char *const *names, size_t n, int on, char *err,
		       size_t errlen)
{
	char *list = calloc(1, ENCRYPTED_MAX);
	size_t i = 0;

	if (!list || store_begin(st) < 0) {
		seterr(err, errlen, "%s", list ? store_errmsg(st) : "out of memory");
		free(list);
		return -1;
	}
	if (store_setting_get(st, "config_encrypted", list, ENCRYPTED_MAX) < 0)
		list[0] = '\0';
	for (; i < n; i++)
		if (encrypt_one(st, actor, list, names[i], on, err, errlen) < 0)
			break;
	if (i == n && store_setting_set(st, "config_encrypted", list) == 0 && store_commit(st) == 0) {
		free(list);
		return 0;
	}
	if (i == n)
		seterr(err, errlen, "%s", store_errmsg(st));
	store_rollback(st);
	free(list);
	return -1;
}
