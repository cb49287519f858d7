/*
 * phone_config.h: the CAPF part of a phone's configuration file
 * SEP<MAC>.cnf.xml (docs/protocol/provisioning.md §2): a phone starts a CAPF
 * session only when its own configuration names a CAPF server and an
 * authentication mode.
 *
 * The elements written, as direct children of <device>, in this order:
 *   <deviceSecurityMode>  1 non-secure, 2 authenticated, 3 encrypted
 *                         (the cluster setting; 3 for a phone with encrypted configs)
 *   <capfAuthMode>        0 no pending operation; else by the phone's mode:
 *                         1 authentication string, 2 null string, 3 existing
 *                         certificate (LSC first), 4 existing certificate (MIC first)
 *   <capfList>            <capf><phonePort>PORT</phonePort><processNodeName>HOST
 *                         </processNodeName></capf> per CAPF server, in order
 * Merging into the administrator's own file (from their PBX templates)
 * replaces those elements where they are and appends the missing ones;
 * every other element and the rest of the file stay as they were. XML is
 * read and written with libxml2, never by hand; no network access, no
 * external entities, files of at most 1 MiB.
 *
 * The cluster settings live in the state: "capf_servers" (HOST:PORT,...),
 * "device_security_mode" and "config_templates" (the folder of the
 * administrator's SEP<MAC>.cnf.xml files, default DIR/templates).
 */
#ifndef OPENCAPF_ADMIN_PHONE_CONFIG_H
#define OPENCAPF_ADMIN_PHONE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "store/store.h"

#define PROV_MAX_CAPF 8
#define PROV_TEMPLATE_MAX_BYTES (1024 * 1024)

struct prov_settings {
	char capf_host[PROV_MAX_CAPF][128];
	int capf_port[PROV_MAX_CAPF];
	int ncapf;                           /* 0: this host's name, port 3804 */
	int security_mode;                   /* 1, 2 or 3 (default 2: authenticated) */
	char templates[1024];                /* folder of SEP<MAC>.cnf.xml templates */
};

/* The state's settings, defaults for what is not set. 0, or -1 with err. */
int prov_settings_load(struct store *st, struct prov_settings *s, char *err, size_t errlen);

/* A change; NULL / 0 leaves a setting as it is. capf: "HOST[:PORT],..." (replaces the list). */
struct prov_settings_change {
	const char *capf;
	int security_mode;
	const char *templates;
};
/* Check, store (one transaction, audited "provision.settings"). 0, or -1 with err. */
int admin_prov_settings_change(struct store *st, const char *actor, const struct prov_settings_change *c,
			       char *err, size_t errlen);

/* The phone's <capfAuthMode> value (0..4). */
int phone_capf_auth_mode(const struct phone *p);

/* The elements as an XML fragment (for `opencapf phone config NAME`). */
int phone_config_fragment(const struct phone *p, const struct prov_settings *s, struct buf *out, char *err,
			  size_t errlen);

/* The template tpl[0..len) (named `file` in errors) with the phone's
 * elements merged in, as a whole document appended to out. -1 with err
 * "FILE:LINE: what" for XML that does not parse, and for a root other than
 * <device>. */
int phone_config_merge(const struct phone *p, const struct prov_settings *s, const char *file, const uint8_t *tpl,
		       size_t len, struct buf *out, char *err, size_t errlen);

/* The stub SEP<MAC>.cnf.xml.sgn carries beside an encrypted configuration
 * (provisioning.md §4): <device> with <fullConfig>false</fullConfig>, the
 * template's ipAddressMode and loadInformation when it has them, the CAPF
 * elements (deviceSecurityMode 3), <certHash> (cert_hash: the MD5 of the
 * phone certificate's DER, hex) and <encrConfig>true</encrConfig>. */
int phone_config_stub(const struct phone *p, const struct prov_settings *s, const char *file, const uint8_t *tpl,
		      size_t len, const char *cert_hash, struct buf *out, char *err, size_t errlen);

/* The phones whose configuration is published encrypted (setting
 * "config_encrypted", one name per line): 1 if name is one, 0 if not. */
int prov_encrypted(struct store *st, const char *name);
/* Set or clear the encrypted configuration of names[0..n) (one transaction,
 * an audit row "provision.encrypt" per phone). Unknown phones are refused. */
int admin_prov_encrypt(struct store *st, const char *actor, const char *const *names, size_t n, int on, char *err,
		       size_t errlen);

#endif
