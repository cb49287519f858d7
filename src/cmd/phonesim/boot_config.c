/*
 * boot_config.c: what a phone does with the configuration file it fetched
 * at boot: a `.sgn` must verify with a certificate of its ITL (the TFTP or
 * SAST record), a `.enc.sgn` too, and is then decrypted with the phone's
 * own key (its LSC, else its MIC); the XML is read with libxml2 (no
 * network, no entities) for the elements that start a CAPF session:
 * capfAuthMode and capfList, and fullConfig/encrConfig of a stub.
 */
#include "cmd/phonesim/boot.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki_sgn.h"
#include "wire/sgn.h"

/* ---- signatures ---- */

static int verify_decoded(const struct sgn_file *f, STACK_OF(X509) *signers, char *err, size_t errlen)
{
	char why[ERRLEN] = "the phone's ITL has no TFTP or SAST certificate";

	if (sgn_check(f, why, sizeof why) < 0) {
		seterr(err, errlen, "%s", why);
		return -1;
	}
	for (int i = 0; signers && i < sk_X509_num(signers); i++)
		if (pki_sgn_verify(f, sk_X509_value(signers, i), why, sizeof why) == 0)
			return 0;
	seterr(err, errlen, "the signature does not verify with the ITL: %s", why);
	return -1;
}

int boot_sgn_verify(const uint8_t *data, size_t len, STACK_OF(X509) *signers, const uint8_t **content,
		    size_t *content_len, char *err, size_t errlen)
{
	struct sgn_file f;
	char why[ERRLEN];

	if (sgn_decode(&f, data, len, why, sizeof why) < 0) {
		seterr(err, errlen, "not a signed file: %s", why);
		return -1;
	}
	if (f.enc.present) {
		seterr(err, errlen, "an encrypted file where a signed one was expected");
		return -1;
	}
	if (verify_decoded(&f, signers, err, errlen) < 0)
		return -1;
	*content = f.content;
	*content_len = f.content_len;
	return 0;
}

int boot_sgn_decrypt(const uint8_t *data, size_t len, STACK_OF(X509) *signers, const struct phone_dir *pd,
		     struct buf *xml, char *err, size_t errlen)
{
	struct sgn_file f;
	char why[ERRLEN];

	if (sgn_decode(&f, data, len, why, sizeof why) < 0) {
		seterr(err, errlen, "not an encrypted file: %s", why);
		return -1;
	}
	if (!f.enc.present) {
		seterr(err, errlen, "the file is not encrypted (no ENCRYPTION_INFO)");
		return -1;
	}
	if (verify_decoded(&f, signers, err, errlen) < 0)
		return -1;
	if (pd->lsc_key && pki_sgn_decrypt(&f, pd->lsc_key, xml, why, sizeof why) == 0)
		return 0;
	if (!pd->lsc_key)
		snprintf(why, sizeof why, "the phone has no LSC");
	buf_reset(xml);
	if (pd->mic_key && pki_sgn_decrypt(&f, pd->mic_key, xml, err, errlen) == 0)
		return 0;
	seterr(err, errlen, "cannot decrypt with the LSC (%s) nor the MIC", why);
	return -1;
}

/* ---- the XML ---- */

/* The element's text as a whole number, -1 if it is not one. */
static int elem_int(xmlNode *n)
{
	xmlChar *t = xmlNodeGetContent(n);
	char *end;
	long v = t ? strtol((const char *)t, &end, 10) : -1;

	if (!t || end == (char *)t || *end || v < 0 || v > 65535)
		v = -1;
	xmlFree(t);
	return (int)v;
}

static int elem_true(xmlNode *n)
{
	xmlChar *t = xmlNodeGetContent(n);
	int yes = t && (xmlStrcmp(t, BAD_CAST "true") == 0 || xmlStrcmp(t, BAD_CAST "1") == 0);

	xmlFree(t);
	return yes;
}

static int is_elem(xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0;
}

/* One <capf>: phonePort and processNodeName as HOST:PORT. */
static void read_capf(struct boot_config *c, xmlNode *capf)
{
	xmlChar *host = NULL;
	int port = 3804;

	for (xmlNode *n = capf->children; n; n = n->next) {
		if (is_elem(n, "phonePort"))
			port = elem_int(n);
		else if (is_elem(n, "processNodeName") && !host)
			host = xmlNodeGetContent(n);
	}
	if (host && host[0] && port > 0 && c->ncapf < BOOT_MAX_CAPF) {
		int v6 = strchr((const char *)host, ':') != NULL;

		snprintf(c->capf[c->ncapf++], sizeof c->capf[0], v6 ? "[%s]:%d" : "%s:%d", (const char *)host, port);
	}
	xmlFree(host);
}

static void read_device(struct boot_config *c, xmlNode *root)
{
	for (xmlNode *n = root->children; n; n = n->next) {
		if (is_elem(n, "fullConfig"))
			c->full_config = elem_true(n);
		else if (is_elem(n, "encrConfig"))
			c->encr_config = elem_true(n);
		else if (is_elem(n, "deviceSecurityMode"))
			c->security_mode = elem_int(n);
		else if (is_elem(n, "capfAuthMode"))
			c->capf_auth_mode = elem_int(n);
		else if (is_elem(n, "capfList"))
			for (xmlNode *k = n->children; k; k = k->next)
				if (is_elem(k, "capf"))
					read_capf(c, k);
	}
}

int boot_config_parse(const uint8_t *xml, size_t len, const char *name, struct boot_config *c, char *err,
		      size_t errlen)
{
	xmlDoc *doc;
	xmlNode *root;
	const xmlError *e;

	memset(c, 0, sizeof *c);
	c->full_config = c->security_mode = c->capf_auth_mode = -1;
	if (len > (size_t)INT32_MAX) {
		seterr(err, errlen, "%s: too large", name);
		return -1;
	}
	xmlResetLastError();
	doc = xmlReadMemory((const char *)xml, (int)len, name, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		e = xmlGetLastError();
		seterr(err, errlen, "%s:%d: not well-formed XML%s%s", name, e ? e->line : 0, e && e->message ? ": " : "",
		       e && e->message ? e->message : "");
		if (err[0] && err[strlen(err) - 1] == '\n')
			err[strlen(err) - 1] = '\0';
		return -1;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || xmlStrcmp(root->name, BAD_CAST "device") != 0) {
		seterr(err, errlen, "%s: the root element is <%s>, not <device>", name,
		       root ? (const char *)root->name : "");
		xmlFreeDoc(doc);
		return -1;
	}
	read_device(c, root);
	xmlFreeDoc(doc);
	return 0;
}
