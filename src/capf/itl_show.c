/*
 * itl_show.c: printing and verifying ITL / CTL files the way the vendor's
 * `show itl` does (itl_show.h).
 *
 * Verification happens before printing so that each SAST record can say
 * whether it signed the file; printing never depends on the file being
 * valid, and every value printed comes through the codec's bounds-checked
 * views (wire/itl.h), so a hostile file can at worst be reported.
 * The reasons, in the order they are looked for: the file does not decode
 * (truncated record, bad length: the decoder names the byte), an unknown
 * tag (named with its byte position), then the signature (no SAST record
 * for the header's serial, a bad signature).
 */
#include "capf/itl_show.h"

#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "pki/pki.h"
#include "wire/itl.h"
#include "wire/roles.h"

#define HEX_SHOW_MAX 64   /* bytes of a serial or hash printed in full */
#define UNKNOWN_SHOW_MAX 16

void itl_role_label(uint16_t role, char *out, size_t outcap)
{
	const char *name = role_name(role);

	if (role == ROLE_SAST)
		snprintf(out, outcap, "System Administrator Security Token");
	else if (name)
		snprintf(out, outcap, "%s", name);
	else
		snprintf(out, outcap, "Unknown (%u)", role);
}

static void hex_upper(const uint8_t *p, size_t n, char sep, char *out, size_t outcap)
{
	size_t shown = n > HEX_SHOW_MAX ? HEX_SHOW_MAX : n;

	if (outcap < shown * 3 + 4) {
		out[0] = '\0';
		return;
	}
	hex_encode_sep(p, shown, sep, 1, out);
	if (shown < n)
		strcat(out, "...");
}

/* Text as written (NUL-terminated or not); NUL padding after the text,
 * as in a vendor's empty DNSNAME of length 2, is accepted. */
static void text_value(const struct itl_tlv *t, char *out, size_t outcap)
{
	const uint8_t *nul = t->len ? memchr(t->val, '\0', t->len) : NULL;
	size_t n = nul ? (size_t)(nul - t->val) : t->len;
	struct itl_bytes b = { t->val, n };

	out[0] = '\0';
	for (size_t i = n; i < t->len; i++)
		if (t->val[i] != '\0') {
			snprintf(out, outcap, "(not text)");
			return;
		}
	if (n > 0 && itl_text(&b, out, outcap) < 0)
		snprintf(out, outcap, "(not text)");
	for (char *p = out; *p; p++) /* no terminal control sequences from a file */
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* One table row: tag number, name, length, value (no trailing blanks). */
static void row(FILE *out, unsigned tag, const char *name, const char *len, const char *value)
{
	char line[2048];
	int n = snprintf(line, sizeof line, "%-8u %-16s %-7s %s", tag, name, len, value);

	while (n > 0 && (size_t)n < sizeof line && line[n - 1] == ' ')
		line[--n] = '\0';
	fprintf(out, "%s\n", line);
}

static void table_head(FILE *out)
{
	fputs("BYTEPOS TAG              LENGTH  VALUE\n", out);
	fputs("-------  ---              ------  -----\n", out);
}

static void unknown_value(const struct itl_tlv *t, char *out, size_t outcap)
{
	size_t n = t->len > UNKNOWN_SHOW_MAX ? UNKNOWN_SHOW_MAX : t->len;
	char hex[UNKNOWN_SHOW_MAX * 3 + 1] = "";

	if (n)
		hex_encode_sep(t->val, n, ' ', 1, hex);
	snprintf(out, outcap, "(unknown tag 0x%02X at byte %zu) %s%s", t->tag, t->offset, hex,
		 n < t->len ? " ..." : "");
}

static void header_value(const struct itl_tlv *t, char *v, size_t vcap)
{
	v[0] = '\0';
	if (!t->known) {
		unknown_value(t, v, vcap);
		return;
	}
	switch (t->tag) {
	case ITL_H_VERSION:
	case ITL_H_SIGNER_VERSION:
		snprintf(v, vcap, "%u.%u", t->val[0], t->val[1]);
		break;
	case ITL_H_HEADER_LENGTH: snprintf(v, vcap, "%u", get_u16(t->val)); break;
	case ITL_H_SIGNER_NAME:
	case ITL_H_ISSUER_NAME:
	case ITL_H_FILENAME:
		text_value(t, v, vcap);
		break;
	case ITL_H_SERIAL_NUMBER: hex_upper(t->val, t->len, ':', v, vcap); break;
	case ITL_H_HASH_ALGORITHM: snprintf(v, vcap, "%s", itl_hash_name(t->val[0])); break;
	case ITL_H_SIGNATURE_ALGORITHM:
		snprintf(v, vcap, "%s", t->val[0] == ITL_SIG_RSA ? "RSA" : "unknown");
		break;
	case ITL_H_SIGNATURE_MODULUS:
		snprintf(v, vcap, "%u (%zu bytes)", t->val[0], itl_modulus_bytes(t->val[0]));
		break;
	case ITL_H_TIMESTAMP: fmt_time_utc(get_u32(t->val), v, vcap); break;
	default: break;
	}
}

static void print_header(FILE *out, const struct itl_file *f)
{
	char v[1024], len[16];

	fprintf(out, "Version:          %u.%u\n", f->hdr.version_major, f->hdr.version_minor);
	fprintf(out, "HeaderLength:     %u (BYTES)\n\n", f->hdr.header_length);
	table_head(out);
	for (size_t i = 2; i < f->nheader_tlvs; i++) {
		const struct itl_tlv *t = &f->tlvs[i];

		if (t->kind == ITL_TLV_PADDING) {
			size_t run = 1;

			while (i + run < f->nheader_tlvs && f->tlvs[i + run].kind == ITL_TLV_PADDING)
				run++;
			snprintf(len, sizeof len, "%zu", run);
			row(out, t->tag, "PADDING", len, "");
			i += run - 1;
			continue;
		}
		header_value(t, v, sizeof v);
		snprintf(len, sizeof len, "%u", t->len);
		row(out, t->tag, t->known ? itl_tag_vendor_name(ITL_SCOPE_HEADER, t->tag) : "UNKNOWN", len, v);
	}
}

static void certificate_value(const struct itl_tlv *t, char *v, size_t vcap)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;
	char hex[EVP_MAX_MD_SIZE * 3 + 1];

	if (EVP_Digest(t->val, t->len, h, &hlen, EVP_sha1(), NULL) != 1) {
		v[0] = '\0';
		return;
	}
	hex_encode_sep(h, hlen, ' ', 1, hex);
	snprintf(v, vcap, "%s (SHA1 Hash HEX)", hex);
}

/* Record fields have no size check in the decoder (except the leading
 * RECORD_LENGTH): every fixed-size value is checked here before use. */
static void record_value(const struct itl_tlv *t, char *v, size_t vcap)
{
	v[0] = '\0';
	if (!t->known) {
		unknown_value(t, v, vcap);
		return;
	}
	switch (t->tag) {
	case ITL_R_RECORD_LENGTH:
		if (t->len == 2)
			snprintf(v, vcap, "%u", get_u16(t->val));
		break;
	case ITL_R_DNS_NAME:
	case ITL_R_SUBJECT_NAME:
	case ITL_R_ISSUER_NAME:
		text_value(t, v, vcap);
		break;
	case ITL_R_ROLE:
		if (t->len == 2)
			itl_role_label(get_u16(t->val), v, vcap);
		break;
	case ITL_R_SERIAL_NUMBER: hex_upper(t->val, t->len, ':', v, vcap); break;
	case ITL_R_CERTIFICATE: certificate_value(t, v, vcap); break;
	case ITL_R_IP_ADDRESS:
		if (t->len == 4)
			snprintf(v, vcap, "%u.%u.%u.%u", t->val[0], t->val[1], t->val[2], t->val[3]);
		break;
	case ITL_R_CERTIFICATE_HASH: hex_upper(t->val, t->len, ' ', v, vcap); break;
	case ITL_R_HASH_ALGORITHM:
		if (t->len == 1)
			snprintf(v, vcap, "%s", t->val[0] == 0 ? "null" : itl_hash_name(t->val[0]));
		break;
	default: break;
	}
}

static void print_record(FILE *out, const char *kind, const struct itl_file *f, size_t i, int signer)
{
	const struct itl_record *r = &f->records[i];
	char v[1024], len[16];

	fprintf(out, "\n%s Record #:%zu\n----\n", kind, i + 1);
	table_head(out);
	for (size_t k = 0; k < r->nelems; k++) {
		const struct itl_tlv *t = &r->elems[k];

		record_value(t, v, sizeof v);
		snprintf(len, sizeof len, "%u", t->len);
		row(out, t->tag, t->known ? itl_tag_vendor_name(ITL_SCOPE_RECORD, t->tag) : "UNKNOWN", len, v);
	}
	if (itl_record_has_role(r, ROLE_SAST))
		fprintf(out, "\nThis etoken was %sused to sign the %s file.\n", signer ? "" : "not ", kind);
}

/* "ITL" or "CTL", from the header's FILENAME. */
static const char *file_kind(const struct itl_file *f)
{
	char name[64];

	if (itl_text(&f->hdr.filename, name, sizeof name) == 0 && strncasecmp(name, "CTL", 3) == 0)
		return "CTL";
	return "ITL";
}

static int fail(FILE *out, const char *kind, const char *why, char *err, size_t errlen)
{
	size_t n = strlen(why);

	fprintf(out, "\nVerification of the %s file failed: %s%s\n", kind, why,
		n && why[n - 1] == '.' ? "" : ".");
	seterr(err, errlen, "%s", why);
	return -1;
}

int itl_show(FILE *out, const uint8_t *data, size_t len, char *err, size_t errlen)
{
	struct itl_file f;
	const char *kind;
	char why[ERRLEN] = "", unknown[ERRLEN] = "";
	size_t signer = (size_t)-1;
	int verified;

	if (itl_decode(&f, data, len, why, sizeof why) < 0) {
		fprintf(out, "Length of file: %zu\n", len);
		return fail(out, len >= 14 && memmem(data, len > 600 ? 600 : len, "CTLFile", 7) ? "CTL" : "ITL",
			    why, err, errlen);
	}
	kind = file_kind(&f);
	fprintf(out, "Length of %s file: %zu\n", kind, len);
	verified = pki_itl_verify(&f, &signer, why, sizeof why) == 0;
	print_header(out, &f);
	for (size_t i = 0; i < f.nrecords; i++)
		print_record(out, kind, &f, i, verified && i == signer);
	if (itl_unknown_tags(&f, unknown, sizeof unknown) > 0) {
		itl_free(&f);
		return fail(out, kind, unknown, err, errlen);
	}
	itl_free(&f);
	if (!verified)
		return fail(out, kind, why, err, errlen);
	fprintf(out, "\nThe %s file was verified successfully.\n", kind);
	return 0;
}
