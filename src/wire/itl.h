/*
 * itl.h: the ITL / CTL file codec (docs/protocol/tvs-and-itl.md).
 *
 * A file is a signed header then records; every field is a TLV (tag 1 byte,
 * length 2 bytes big-endian, value) except header tag 13, a single padding
 * byte. Header tags 3, 7 and 9 are containers: their length covers the nested
 * TLVs that follow them, which are listed after them in file order.
 *
 * The decoder keeps every TLV in file order with its byte offset and a
 * pointer into the caller's buffer (which must outlive the struct), so that
 *   - itl_encode of a decoded file reproduces it byte for byte, and
 *   - a printer can show "BYTEPOS TAG LENGTH VALUE" for each TLV.
 * Typed header fields and record accessors are views of those TLVs.
 *
 * Unknown tags are not errors: they are kept (known = 0) and
 * itl_unknown_tags reports them. Structural problems (a TLV running past its
 * header, container or record, a bad RECORD_LENGTH, a wrong-sized fixed
 * field) are errors that name the byte offset.
 *
 * The builder writes a new file: header from fields (HEADER_LENGTH,
 * container lengths and padding computed), records from elements
 * (RECORD_LENGTH computed), a zero signature placeholder of the size the
 * modulus index says; the caller signs itl_builder_signed_data with OpenSSL
 * in a higher layer and fills the signature in with itl_builder_set_signature.
 *
 * Pure: no I/O, no OpenSSL. The decoder allocates its TLV and record lists
 * (free with itl_free); files over ITL_MAX_FILE bytes or with more than
 * ITL_MAX_RECORDS records are rejected.
 */
#ifndef OPENCAPF_WIRE_ITL_H
#define OPENCAPF_WIRE_ITL_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define ITL_MAX_FILE (1024 * 1024)
#define ITL_MAX_RECORDS 10000
#define ITL_FORMAT_MAJOR 1
#define ITL_FORMAT_MINOR 2

enum itl_header_tag {
	ITL_H_VERSION = 1,
	ITL_H_HEADER_LENGTH = 2,
	ITL_H_SIGNER_INFO = 3,          /* container: 4, 6, 5 */
	ITL_H_SIGNER_NAME = 4,
	ITL_H_SERIAL_NUMBER = 5,
	ITL_H_ISSUER_NAME = 6,
	ITL_H_SIGNATURE_INFO = 7,       /* container: 8, 9 */
	ITL_H_HASH_ALGORITHM = 8,
	ITL_H_SIGNATURE_ALGORITHM_INFO = 9, /* container: 10, 11 */
	ITL_H_SIGNATURE_ALGORITHM = 10,
	ITL_H_SIGNATURE_MODULUS = 11,
	ITL_H_SIGNATURE = 12,
	ITL_H_PADDING = 13,             /* a single byte, no length */
	ITL_H_FILENAME = 14,
	ITL_H_TIMESTAMP = 15,
	ITL_H_SIGNER_VERSION = 28,
};

enum itl_record_tag {
	ITL_R_RECORD_LENGTH = 1,
	ITL_R_DNS_NAME = 2,
	ITL_R_SUBJECT_NAME = 3,
	ITL_R_ROLE = 4,
	ITL_R_ISSUER_NAME = 5,
	ITL_R_SERIAL_NUMBER = 6,
	ITL_R_PUBLIC_KEY = 7,
	ITL_R_SIGNATURE = 8,
	ITL_R_CERTIFICATE = 9,
	ITL_R_IP_ADDRESS = 10,
	ITL_R_CERTIFICATE_HASH = 11,
	ITL_R_HASH_ALGORITHM = 12,
};

enum itl_hash { ITL_HASH_SHA1 = 1, ITL_HASH_SHA256 = 2, ITL_HASH_SHA512 = 3 };
enum itl_sig_alg { ITL_SIG_RSA = 0 };

enum itl_tlv_kind {
	ITL_TLV_VALUE = 0,     /* tag, length, value */
	ITL_TLV_CONTAINER = 1, /* tag, length; the nested TLVs follow in the list */
	ITL_TLV_PADDING = 2,   /* the single byte 13 */
};

/* Where a tag lives: its meaning differs between header and records. */
enum itl_scope { ITL_SCOPE_HEADER = 0, ITL_SCOPE_RECORD = 1 };

struct itl_tlv {
	size_t offset;      /* byte position of the tag in the file */
	const uint8_t *val; /* into the file; nested TLVs for a container; NULL for padding */
	uint16_t len;       /* value length (container: its nested bytes; padding: 0) */
	uint8_t tag;
	uint8_t kind;       /* enum itl_tlv_kind */
	uint8_t known;      /* 0 for a tag this codec does not know */
	uint8_t depth;      /* header container nesting, 0 at top level */
};

/* Bytes of a header field, p NULL when the field is absent. Text fields are
 * as stored (normally NUL-terminated); use itl_text to copy them out. */
struct itl_bytes {
	const uint8_t *p;
	size_t len;
};

struct itl_header {
	uint8_t version_major, version_minor;
	uint16_t header_length;
	int has_signer_version;
	uint8_t signer_version_major, signer_version_minor;
	struct itl_bytes signer_name;
	struct itl_bytes issuer_name;
	struct itl_bytes serial;
	int hash_alg;      /* enum itl_hash; -1 when absent */
	int sig_alg;       /* enum itl_sig_alg; -1 when absent */
	int modulus_index; /* index into 64, 128, 256, 512 bytes; -1 when absent */
	struct itl_bytes signature;
	size_t signature_offset; /* byte position of the SIGNATURE tag (value 3 bytes later) */
	struct itl_bytes filename;
	int has_timestamp;
	uint32_t timestamp;
};

struct itl_record {
	size_t offset;                /* byte position of its RECORD_LENGTH tag */
	uint16_t length;              /* the whole record, RECORD_LENGTH included */
	const struct itl_tlv *elems;  /* elems[0] is RECORD_LENGTH; in file order */
	size_t nelems;
	size_t first;                 /* index of elems[0] in itl_file.tlvs */
};

struct itl_file {
	const uint8_t *data;
	size_t len;
	struct itl_header hdr;
	struct itl_tlv *tlvs;         /* every TLV (header and records) in file order */
	size_t ntlvs;
	size_t nheader_tlvs;          /* tlvs[0 .. nheader_tlvs) are the header */
	struct itl_record *records;
	size_t nrecords;
};

/* Names for logs and printers ("SIGNER_INFO", "ROLE"); "UNKNOWN" otherwise.
 * itl_tag_vendor_name gives the vendor's `show itl` spelling of record tags
 * ("SUBJECTNAME", "FUNCTION", "CERTHASH") and header tags without
 * underscores. */
const char *itl_tag_name(enum itl_scope scope, uint8_t tag);
const char *itl_tag_vendor_name(enum itl_scope scope, uint8_t tag);
const char *itl_hash_name(int hash_alg); /* "SHA1", "SHA256", "SHA512", "UNKNOWN" */

/* Signature length in bytes for a modulus index (64 << index); 0 if > 3. */
size_t itl_modulus_bytes(int modulus_index);

/* Decode a whole file. On failure f is left empty (safe to itl_free). */
int itl_decode(struct itl_file *f, const uint8_t *data, size_t len, char *err, size_t errlen);
void itl_free(struct itl_file *f);

/* Re-encode from the TLV list (appending to out). -1 on allocation failure. */
int itl_encode(const struct itl_file *f, struct buf *out);

/* Count the TLVs with tags this codec does not know; when there are any,
 * err says where the first is ("unknown tag 0x2a at byte 1234 in record 2"). */
size_t itl_unknown_tags(const struct itl_file *f, char *err, size_t errlen);

/* The bytes that are signed: the whole file with the SIGNATURE TLV (its 3
 * header bytes and value) cut out, appended to out. -1 (with err) when the
 * file has no signature. */
int itl_signed_data(const struct itl_file *f, struct buf *out, char *err, size_t errlen);

/* Copy out NUL-terminated text (names, filename): text before the final NUL,
 * outcap including the NUL. Also accepts a value without the final NUL.
 * -1 if absent, holding an inner NUL, or too long. */
int itl_text(const struct itl_bytes *b, char *out, size_t outcap);

/* Record accessors. Each finds the first element with the tag.
 * Text ones copy like itl_text; byte ones point into the file.
 * All return 0 when found and well-formed, -1 otherwise. */
const struct itl_tlv *itl_record_find(const struct itl_record *r, uint8_t tag);
int itl_record_text(const struct itl_record *r, uint8_t tag, char *out, size_t outcap);
int itl_record_bytes(const struct itl_record *r, uint8_t tag, struct itl_bytes *out);
int itl_record_subject(const struct itl_record *r, char *out, size_t outcap);
int itl_record_issuer(const struct itl_record *r, char *out, size_t outcap);
int itl_record_dns_name(const struct itl_record *r, char *out, size_t outcap);
int itl_record_serial(const struct itl_record *r, struct itl_bytes *out);
int itl_record_public_key(const struct itl_record *r, struct itl_bytes *out);
int itl_record_signature(const struct itl_record *r, struct itl_bytes *out);
int itl_record_certificate(const struct itl_record *r, struct itl_bytes *out);
int itl_record_cert_hash(const struct itl_record *r, struct itl_bytes *out);
int itl_record_ip(const struct itl_record *r, uint8_t ip[4]);
int itl_record_hash_alg(const struct itl_record *r, uint8_t *alg);
/* The first ROLE (2 bytes), and all of them: copies up to cap ids, returns
 * how many ROLE elements of the right size the record has. */
int itl_record_role(const struct itl_record *r, uint16_t *role);
size_t itl_record_roles(const struct itl_record *r, uint16_t *roles, size_t cap);
/* Whether any ROLE of the record equals role. */
int itl_record_has_role(const struct itl_record *r, uint16_t role);

/* ---- building ---- */

struct itl_header_spec {
	uint8_t version_major, version_minor;               /* 1.2 */
	uint8_t signer_version_major, signer_version_minor; /* 1.0 */
	const char *signer_name; /* written with its NUL */
	const char *issuer_name;
	const uint8_t *serial;
	size_t serial_len;
	uint8_t hash_alg;        /* enum itl_hash */
	uint8_t sig_alg;         /* enum itl_sig_alg */
	uint8_t modulus_index;   /* signature of itl_modulus_bytes(index) bytes */
	const char *filename;    /* "ITLFile.tlv" */
	uint32_t timestamp;
};

/* Defaults: format 1.2, signer version 1.0, SHA-1, RSA, 256-byte signature,
 * filename ITLFile.tlv; names, serial and timestamp left empty. */
void itl_header_spec_init(struct itl_header_spec *s);
/* The spec of a decoded file (names and serial point into its data); -1 when
 * a field the builder needs is absent or a text field is not NUL-terminated. */
int itl_header_spec_from(const struct itl_file *f, struct itl_header_spec *s, char *err,
			 size_t errlen);

struct itl_builder {
	struct buf out;          /* the file so far */
	size_t sig_offset;       /* byte position of the SIGNATURE tag */
	size_t sig_len;
	size_t record_start;
	int in_record;
	size_t nrecords;
	char err[ERRLEN];        /* first error; once set, every call fails */
};

/* Writes the header. Layout: VERSION, HEADER_LENGTH, SIGNER_VERSION,
 * SIGNER_INFO{SIGNER_NAME, ISSUER_NAME, SERIAL_NUMBER},
 * SIGNATURE_INFO{HASH_ALGORITHM, SIGNATURE_ALGORITHM_INFO{SIGNATURE_ALGORITHM,
 * SIGNATURE_MODULUS}}, SIGNATURE (zeros), FILENAME, TIMESTAMP, PADDING. */
int itl_builder_init(struct itl_builder *b, const struct itl_header_spec *h, char *err,
		     size_t errlen);
/* Records: begin, elements in the order given, end (fills RECORD_LENGTH).
 * Errors stick in b->err and are reported by itl_builder_finish. */
int itl_builder_record_begin(struct itl_builder *b);
int itl_builder_put(struct itl_builder *b, uint8_t tag, const void *val, size_t len);
int itl_builder_put_text(struct itl_builder *b, uint8_t tag, const char *s); /* with NUL */
int itl_builder_put_u8(struct itl_builder *b, uint8_t tag, uint8_t v);
int itl_builder_put_u16(struct itl_builder *b, uint8_t tag, uint16_t v);
int itl_builder_record_end(struct itl_builder *b);
/* Copies a decoded record's elements (all but RECORD_LENGTH) as a new record. */
int itl_builder_add_record(struct itl_builder *b, const struct itl_record *r);
/* Checks the result (no open record, limits); the file is b->out. */
int itl_builder_finish(struct itl_builder *b, char *err, size_t errlen);
/* After finish: the bytes to sign, and filling the signature in place. */
int itl_builder_signed_data(const struct itl_builder *b, struct buf *out);
int itl_builder_set_signature(struct itl_builder *b, const uint8_t *sig, size_t siglen,
			      char *err, size_t errlen);
void itl_builder_free(struct itl_builder *b);

#endif
