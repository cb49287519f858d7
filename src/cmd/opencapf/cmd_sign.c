/*
 * cmd_sign.c: `opencapf sign FILE...` and `opencapf sgn show|verify|strip
 * FILE`: the signed provisioning files (`.sgn`, `.enc.sgn`) phones with an
 * ITL demand (docs/protocol/provisioning.md §3-4). Signing uses the
 * SAST/TFTP key of the state, the one whose certificate the ITL lists with
 * the TFTP role (admin/service_certs.h); the layout is wire/sgn.h's, the
 * cryptography pki/pki_sgn.h's.
 */
#include "cmd/opencapf/cli.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "admin/service_certs.h"
#include "pki/pki.h"
#include "pki/pki_sgn.h"
#include "wire/sgn.h"

#define SGN_MAX_INPUT ((size_t)512 * 1024 * 1024)
#define TEXT_MAX 1024

static int read_input(const char *path, uint8_t **data, size_t *len)
{
	char err[ERRLEN];

	if (read_file(path, SGN_MAX_INPUT, data, len, err, sizeof err) < 0) {
		cli_error("%s", err);
		return -1;
	}
	return 0;
}

/* ---- sign ---- */

static const char sign_usage[] =
	"usage: opencapf sign [--hash sha1|sha512] [--names rfc4514|vendor] [-o OUT] FILE...\n\n"
	"Sign each FILE into FILE.sgn (written atomically beside it) with the SAST/TFTP\n"
	"key of the state: the key whose certificate the ITL lists with the TFTP role,\n"
	"so phones holding that ITL accept the file. Any provisioning file can be\n"
	"signed: SEP<MAC>.cnf.xml, soft keys, dial rules, ring lists. A file that fails\n"
	"is reported and the others are still signed (exit 1 if any failed).\n\n"
	"  --hash ALG        sha1 (default) or sha512\n"
	"  --names FORM      signer names as RFC 4514 text (default) or the vendor's\n"
	"                    \"CN=..;OU=..\" form (as the ITL writes them)\n"
	"  -o, --out OUT     write to OUT instead (one FILE only); the name stored in\n"
	"                    the header is OUT's base name\n";

struct signer_keys {
	X509 *cert;
	EVP_PKEY *key;
};

static int load_signer(struct cli *cli, struct signer_keys *k)
{
	struct store *st;
	char err[ERRLEN];
	int rc;

	if (cli_open_store(cli, &st) < 0)
		return -1;
	rc = service_cert_load(st, SERVICE_SAST, &k->cert, &k->key, err, sizeof err);
	store_close(st);
	if (rc < 0)
		cli_error("cannot load the SAST/TFTP signer: %s", err);
	return rc;
}

static int sign_one(const struct pki_sgn_opts *base, const struct signer_keys *k, const char *in,
		    const char *out)
{
	struct pki_sgn_opts o = *base;
	char err[ERRLEN], target[4096], namebuf[4096];
	uint8_t *data = NULL;
	size_t len = 0;
	struct buf file;
	int rc = -1;

	if (!out && snprintf(target, sizeof target, "%s.sgn", in) >= (int)sizeof target) {
		cli_error("%s: path too long", in);
		return -1;
	}
	out = out ? out : target;
	snprintf(namebuf, sizeof namebuf, "%s", out);
	o.filename = basename(namebuf);
	if (read_input(in, &data, &len) < 0)
		return -1;
	buf_init(&file);
	if (pki_sgn_sign(&o, k->cert, k->key, data, len, &file, err, sizeof err) < 0)
		cli_error("%s: %s", in, err);
	else if (write_file_atomic(out, file.data, file.len, 0644, err, sizeof err) < 0)
		cli_error("%s: %s", out, err);
	else {
		printf("%s: %zu bytes, %s, header file name %s\n", out, file.len,
		       sgn_hash_name(o.hash_alg), o.filename);
		rc = 0;
	}
	buf_free(&file);
	free(data);
	return rc;
}

static int parse_sign_opt(struct pki_sgn_opts *o, const char **out, int c, const char *arg)
{
	switch (c) {
	case 'd':
		if (strcasecmp(arg, "sha1") == 0)
			o->hash_alg = SGN_HASH_SHA1;
		else if (strcasecmp(arg, "sha512") == 0)
			o->hash_alg = SGN_HASH_SHA512;
		else {
			cli_error("--hash must be sha1 or sha512, not '%s' (phones refuse SHA-256 here)",
				  arg);
			return -1;
		}
		return 0;
	case 'n':
		if (strcmp(arg, "rfc4514") == 0)
			o->names = PKI_NAME_RFC4514;
		else if (strcmp(arg, "vendor") == 0 || strcmp(arg, "cucm") == 0)
			o->names = PKI_NAME_VENDOR;
		else {
			cli_error("--names must be rfc4514 or vendor, not '%s'", arg);
			return -1;
		}
		return 0;
	case 'o': *out = arg; return 0;
	default: return -1;
	}
}

int cmd_sign(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hash", required_argument, NULL, 'd' },
		{ "names", required_argument, NULL, 'n' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct pki_sgn_opts o;
	struct signer_keys k = { 0 };
	const char *out = NULL;
	int help = 0, c, failed = 0;

	pki_sgn_opts_default(&o);
	while ((c = cli_getopt(cli, argc, argv, "o:", opts, sign_usage, &help)) != -1)
		if (c == '?' || parse_sign_opt(&o, &out, c, optarg) < 0)
			return EXIT_USAGE;
	if (help)
		return EXIT_OK;
	if (optind >= argc || (out && argc - optind != 1)) {
		cli_error(optind >= argc ? "sign: no FILE given" : "sign: --out takes one FILE");
		fputs(sign_usage, stderr);
		return EXIT_USAGE;
	}
	if (load_signer(cli, &k) < 0)
		return EXIT_FAIL;
	for (int i = optind; i < argc; i++)
		failed += sign_one(&o, &k, argv[i], out) < 0;
	X509_free(k.cert);
	EVP_PKEY_free(k.key);
	return failed ? EXIT_FAIL : EXIT_OK;
}

/* ---- sgn show ---- */

static void print_text(const char *label, const struct sgn_bytes *b)
{
	char raw[TEXT_MAX], esc[4 * TEXT_MAX];

	if (!b->p)
		return;
	if (sgn_text(b, raw, sizeof raw) < 0) {
		printf("%-22s (%zu bytes, not text)\n", label, b->len);
		return;
	}
	text_escape(esc, sizeof esc, raw, strlen(raw));
	printf("%-22s %s\n", label, esc);
}

static void print_hex(const char *label, const struct sgn_bytes *b, size_t max)
{
	char hex[2 * 64 + 1];
	size_t n = b->len < max ? b->len : max;

	if (!b->p)
		return;
	hex_encode(b->p, n, hex);
	printf("%-22s %s%s (%zu bytes)\n", label, hex, n < b->len ? "..." : "", b->len);
}

static void print_enc(const struct sgn_enc *e)
{
	if (!e->present)
		return;
	print_hex("Encryption IV:", &e->iv, 16);
	printf("%-22s %d\n", "Encryption padding:", e->pad);
	printf("%-22s %d bits, algorithm %d\n", "Encryption key:", e->key_bits, e->key_alg);
	printf("%-22s %s\n", "Encryption hash alg:", sgn_hash_name(e->hash_alg));
	print_hex("Encryption hash:", &e->hash, 64);
}

static void print_file(const struct sgn_file *f)
{
	char when[64] = "";
	time_t t = (time_t)f->timestamp;
	struct tm tm;

	if (f->has_timestamp && gmtime_r(&t, &tm))
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("%-22s %u.%u (%s)\n", "Version:", f->version_major, f->version_minor,
	       f->enc.present ? "encrypted" : "signed");
	printf("%-22s %u bytes\n", "Header length:", f->header_length);
	print_text("Signer name:", &f->signer_name);
	print_text("Issuer name:", &f->issuer_name);
	print_hex("Serial number:", &f->serial, 32);
	printf("%-22s %s\n", "Hash algorithm:", sgn_hash_name(f->hash_alg));
	printf("%-22s %d (%s), modulus index %d\n", "Signature algorithm:", f->sig_alg,
	       f->sig_alg == 0 ? "RSA" : "unknown", f->modulus_index);
	printf("%-22s %zu bytes at byte %zu\n", "Signature:", f->signature.len, f->signature_offset);
	print_text("File name:", &f->filename);
	if (f->has_timestamp)
		printf("%-22s %u (%s)\n", "Timestamp:", f->timestamp, when);
	print_enc(&f->enc);
	printf("%-22s %zu bytes\n", "Content:", f->content_len);
}

static const char sgn_show_usage[] =
	"usage: opencapf sgn show FILE\n\n"
	"Print the header of a signed (.sgn) or encrypted (.enc.sgn) provisioning file\n"
	"and whether it is one phones accept; 'sgn verify' checks the signature.\n";

static const char sgn_verify_usage[] =
	"usage: opencapf sgn verify [--cert PEM] FILE...\n\n"
	"Check each file's header and signature against the SAST/TFTP certificate of\n"
	"the state, or the certificate in PEM (e.g. another cluster's TFTP certificate).\n"
	"Exit 0 when every file verifies.\n";

static const char sgn_strip_usage[] =
	"usage: opencapf sgn strip [-o OUT] [--key PHONE.key] FILE\n\n"
	"Write the original file inside a signed FILE: to OUT ('-' for standard output),\n"
	"else to FILE without its .sgn suffix. The signature is not checked (see 'sgn\n"
	"verify'). An encrypted file (.enc.sgn) needs --key: the private key of the\n"
	"phone certificate it was encrypted to; the plaintext's hash is checked.\n";

/* Read and decode path; f points into *data (caller frees). */
static int load_sgn(const char *path, uint8_t **data, struct sgn_file *f)
{
	char err[ERRLEN];
	size_t len = 0;

	if (read_input(path, data, &len) < 0)
		return -1;
	if (sgn_decode(f, *data, len, err, sizeof err) < 0) {
		cli_error("%s: not a signed file: %s", path, err);
		free(*data);
		*data = NULL;
		return -1;
	}
	return 0;
}

static int sgn_show(struct cli *cli, int argc, char **argv)
{
	struct sgn_file f;
	uint8_t *data = NULL;
	char err[ERRLEN];
	int help = 0, c;

	while ((c = cli_getopt(cli, argc, argv, "", NULL, sgn_show_usage, &help)) != -1)
		return EXIT_USAGE;
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 1, 1, sgn_show_usage) < 0)
		return EXIT_USAGE;
	if (load_sgn(argv[optind], &data, &f) < 0)
		return EXIT_FAIL;
	print_file(&f);
	if (sgn_check(&f, err, sizeof err) < 0)
		printf("%-22s phones refuse it: %s\n", "Check:", err);
	else
		printf("%-22s well-formed ('sgn verify' checks the signature)\n", "Check:");
	free(data);
	return EXIT_OK;
}

/* Phones ask for a file by name and find that name in its header: a
 * renamed file is worth a warning. */
static void check_filename(const struct sgn_file *f, const char *path)
{
	char name[TEXT_MAX], own[4096], esc[4 * TEXT_MAX];

	snprintf(own, sizeof own, "%s", path);
	if (sgn_text(&f->filename, name, sizeof name) < 0 || strcmp(name, basename(own)) == 0)
		return;
	text_escape(esc, sizeof esc, name, strlen(name));
	fprintf(stderr, "opencapf: warning: %s: the header names the file \"%s\"\n", path, esc);
}

static int verify_one(X509 *cert, const char *path)
{
	struct sgn_file f;
	uint8_t *data = NULL;
	char err[ERRLEN];
	int rc;

	if (load_sgn(path, &data, &f) < 0)
		return -1;
	rc = pki_sgn_verify(&f, cert, err, sizeof err);
	if (rc < 0)
		cli_error("%s: %s", path, err);
	else {
		printf("%s: signature valid (%s, %s)\n", path, sgn_hash_name(f.hash_alg),
		       f.enc.present ? "encrypted" : "signed");
		check_filename(&f, path);
	}
	free(data);
	return rc;
}

static X509 *verify_cert(struct cli *cli, const char *pem)
{
	STACK_OF(X509) *certs;
	struct signer_keys k = { 0 };
	char err[ERRLEN];
	X509 *x;

	if (!pem) {
		if (load_signer(cli, &k) < 0)
			return NULL;
		EVP_PKEY_free(k.key);
		return k.cert;
	}
	if (!(certs = pki_certs_load(pem, err, sizeof err))) {
		cli_error("%s", err);
		return NULL;
	}
	x = sk_X509_shift(certs);
	sk_X509_pop_free(certs, X509_free);
	return x;
}

static int sgn_verify(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pem = NULL;
	int help = 0, c, failed = 0;
	X509 *cert;

	while ((c = cli_getopt(cli, argc, argv, "", opts, sgn_verify_usage, &help)) != -1) {
		if (c != 'c')
			return EXIT_USAGE;
		pem = optarg;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 1, argc, sgn_verify_usage) < 0)
		return EXIT_USAGE;
	if (!(cert = verify_cert(cli, pem)))
		return EXIT_FAIL;
	for (int i = optind; i < argc; i++)
		failed += verify_one(cert, argv[i]) < 0;
	X509_free(cert);
	return failed ? EXIT_FAIL : EXIT_OK;
}

/* FILE without ".sgn" (and refused when it has no such suffix). */
static int strip_target(const char *in, char *out, size_t cap)
{
	size_t n = strlen(in);

	if (n <= 4 || strcmp(in + n - 4, ".sgn") != 0 || n - 4 >= cap) {
		cli_error("%s does not end in .sgn: give -o OUT", in);
		return -1;
	}
	memcpy(out, in, n - 4);
	out[n - 4] = '\0';
	return 0;
}

static int write_content(const struct sgn_file *f, const char *out)
{
	char err[ERRLEN];

	if (strcmp(out, "-") == 0) {
		if (fwrite(f->content, 1, f->content_len, stdout) != f->content_len ||
		    fflush(stdout) != 0) {
			cli_error("cannot write to standard output: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	if (write_file_atomic(out, f->content, f->content_len, 0644, err, sizeof err) < 0) {
		cli_error("%s: %s", out, err);
		return -1;
	}
	fprintf(stderr, "%s: %zu bytes\n", out, f->content_len);
	return 0;
}

/* An encrypted file's plaintext, with the phone's key, as write_content writes. */
static int write_decrypted(const struct sgn_file *f, const char *keyfile, const char *out)
{
	struct sgn_file plain = *f;
	char err[ERRLEN];
	EVP_PKEY *key = pki_key_load(keyfile, err, sizeof err);
	struct buf xml;
	int rc = -1;

	buf_init(&xml);
	if (!key)
		cli_error("--key %s: %s", keyfile, err);
	else if (pki_sgn_decrypt(f, key, &xml, err, sizeof err) < 0)
		cli_error("cannot decrypt: %s", err);
	else {
		plain.content = xml.data;
		plain.content_len = xml.len;
		rc = write_content(&plain, out);
	}
	if (xml.data)
		OPENSSL_cleanse(xml.data, xml.cap);
	buf_free(&xml);
	EVP_PKEY_free(key);
	return rc;
}

static int sgn_strip(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *keyfile = NULL;
	char target[4096];
	struct sgn_file f;
	uint8_t *data = NULL;
	int help = 0, c, rc = EXIT_FAIL;

	while ((c = cli_getopt(cli, argc, argv, "o:", opts, sgn_strip_usage, &help)) != -1) {
		if (c == 'k')
			keyfile = optarg;
		else if (c == 'o')
			out = optarg;
		else
			return EXIT_USAGE;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 1, 1, sgn_strip_usage) < 0)
		return EXIT_USAGE;
	if (!out && strip_target(argv[optind], target, sizeof target) < 0)
		return EXIT_USAGE;
	if (load_sgn(argv[optind], &data, &f) < 0)
		return EXIT_FAIL;
	if (f.enc.present && keyfile)
		rc = write_decrypted(&f, keyfile, out ? out : target) == 0 ? EXIT_OK : EXIT_FAIL;
	else if (f.enc.present)
		cli_error("%s is encrypted: its content is ciphertext for the phone's key (give it with --key)",
			  argv[optind]);
	else if (write_content(&f, out ? out : target) == 0)
		rc = EXIT_OK;
	free(data);
	return rc;
}

int cmd_sgn(struct cli *cli, int argc, char **argv)
{
	static const struct cli_command cmds[] = {
		{ "show", sgn_show, "print the header of a .sgn or .enc.sgn file" },
		{ "verify", sgn_verify, "check the signature against the TFTP/SAST certificate" },
		{ "strip", sgn_strip, "write the original file inside a .sgn" },
		{ NULL, NULL, NULL },
	};

	return cli_dispatch(cli, "sgn", cmds, argc, argv);
}
