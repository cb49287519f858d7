/*
 * diag_test_util.c: certificates, in-memory TLS handshakes and capture
 * files for the diag tests (diag_test_util.h).
 */
#include "diag_test_util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "pki/pki.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "diag_test_util: %s\n", what);
	ERR_print_errors_fp(stderr);
	abort();
}

/* ---- certificates ---- */

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	if (!(ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) || !X509_add_ext(cert, ext, -1))
		die("extension");
	X509_EXTENSION_free(ext);
}

/* issuer NULL: self-signed CA. */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int ca)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	BIGNUM *bn = BN_new();

	if (!x || !name || !bn || !BN_rand(bn, 64, 0, 0) || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		die("cert");
	X509_set_version(x, 2);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"Example", -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_set_pubkey(x, key);
	add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
	if (ca) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
	} else {
		add_ext(x, issuer, NID_authority_key_identifier, "keyid");
		add_ext(x, x, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, x, NID_key_usage, "critical,digitalSignature,keyEncipherment");
		add_ext(x, x, NID_ext_key_usage, "clientAuth,serverAuth");
	}
	if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()))
		die("sign");
	X509_NAME_free(name);
	BN_free(bn);
	return x;
}

static EVP_PKEY *rsa_key(void)
{
	char err[ERRLEN];
	EVP_PKEY *k = pki_key_generate(PKI_KEY_RSA, 2048, err, sizeof err);

	if (!k)
		die(err);
	return k;
}

void test_pki_make(struct test_pki *p)
{
	struct pki_org org = { .o = "Example", .ou = "Voice", .c = "NZ" };
	char err[ERRLEN];
	struct signer *s;

	memset(p, 0, sizeof *p);
	p->capf_key = rsa_key();
	if (!(p->capf = pki_capf_cert_create(p->capf_key, &org, 365, err, sizeof err)))
		die(err);
	p->lsc_key = rsa_key();
	if (!(s = signer_local_new(p->capf, p->capf_key)) ||
	    !(p->lsc = pki_lsc_issue(s, "SEP001122334455", p->lsc_key, 365, err, sizeof err)))
		die("LSC");
	signer_free(s);
	p->mfg_key = rsa_key();
	p->mfg = make_cert("Test Manufacturing CA", p->mfg_key, NULL, NULL, 1);
	p->mic_key = rsa_key();
	p->mic = make_cert("SEP001122334455", p->mic_key, p->mfg, p->mfg_key, 0);
	p->other_key = rsa_key();
	p->other_ca = make_cert("Stranger Root", p->other_key, NULL, NULL, 1);
	p->other_leaf_key = rsa_key();
	p->other_leaf = make_cert("SEP001122334455", p->other_leaf_key, p->other_ca, p->other_key, 0);
}

void test_pki_free(struct test_pki *p)
{
	X509 *certs[] = { p->capf, p->lsc, p->mfg, p->mic, p->other_ca, p->other_leaf };
	EVP_PKEY *keys[] = { p->capf_key, p->lsc_key, p->mfg_key, p->mic_key, p->other_key, p->other_leaf_key };

	for (size_t i = 0; i < 6; i++) {
		X509_free(certs[i]);
		EVP_PKEY_free(keys[i]);
	}
	memset(p, 0, sizeof *p);
}

/* ---- handshakes in memory ---- */

static SSL_CTX *ctx_for(int server, int version)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	if (!ctx)
		die("SSL_CTX_new");
	if (version == TT_TLS10) {
		SSL_CTX_set_security_level(ctx, 0);
		SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
		SSL_CTX_set_max_proto_version(ctx, TLS1_VERSION);
		SSL_CTX_set_cipher_list(ctx, "AES256-SHA:AES128-SHA");
	} else {
		SSL_CTX_set_max_proto_version(ctx, version == TT_TLS12 ? TLS1_2_VERSION : TLS1_3_VERSION);
	}
	return ctx;
}

static void pump(BIO *from, BIO *to, uint8_t **acc, size_t *acc_len)
{
	uint8_t chunk[4096];
	int n;

	while ((n = BIO_read(from, chunk, sizeof chunk)) > 0) {
		uint8_t *more = realloc(*acc, *acc_len + (size_t)n);
		if (!more)
			die("realloc");
		memcpy(more + *acc_len, chunk, (size_t)n);
		*acc = more;
		*acc_len += (size_t)n;
		BIO_write(to, chunk, n);
	}
}

/* One step of a side: 1 done, 0 wants more, -1 failed. */
static int step(SSL *ssl, int *state)
{
	int r;

	if (*state != 0)
		return *state;
	ERR_clear_error();
	r = SSL_do_handshake(ssl);
	if (r == 1)
		*state = 1;
	else if (SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ)
		*state = -1;
	if (*state == 1) { /* TLS 1.3: let the server see the client's last flight */
		uint8_t b;
		SSL_read(ssl, &b, 1);
	}
	return *state;
}

void tls_transcript(struct transcript *t, int version, X509 *server_cert, EVP_PKEY *server_key,
		    X509 *client_cert, EVP_PKEY *client_key, X509 *trusted)
{
	SSL_CTX *sctx = ctx_for(1, version), *cctx = ctx_for(0, version);
	BIO *c_in = BIO_new(BIO_s_mem()), *c_out = BIO_new(BIO_s_mem());
	BIO *s_in = BIO_new(BIO_s_mem()), *s_out = BIO_new(BIO_s_mem());
	SSL *c, *s;
	int cs = 0, ss = 0;

	memset(t, 0, sizeof *t);
	if (SSL_CTX_use_certificate(sctx, server_cert) != 1 || SSL_CTX_use_PrivateKey(sctx, server_key) != 1)
		die("server cert");
	if (trusted) {
		X509_STORE_add_cert(SSL_CTX_get_cert_store(sctx), trusted);
		SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	if (client_cert && (SSL_CTX_use_certificate(cctx, client_cert) != 1 ||
			    SSL_CTX_use_PrivateKey(cctx, client_key) != 1))
		die("client cert");
	SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
	c = SSL_new(cctx);
	s = SSL_new(sctx);
	SSL_set_bio(c, c_in, c_out);
	SSL_set_bio(s, s_in, s_out);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	for (int i = 0; i < 40 && !(cs != 0 && ss != 0 && i > 4); i++) {
		step(c, &cs);
		pump(c_out, s_in, &t->c2s, &t->c2s_len);
		step(s, &ss);
		pump(s_out, c_in, &t->s2c, &t->s2c_len);
	}
	t->ok = cs == 1 && ss == 1;
	t->version = (uint16_t)SSL_version(c);
	t->cipher = SSL_get_current_cipher(c) ? SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(c)) : 0;
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	ERR_clear_error();
}

void transcript_free(struct transcript *t)
{
	free(t->c2s);
	free(t->s2c);
	memset(t, 0, sizeof *t);
}

/* ---- capture files ---- */

struct frame {
	uint8_t b[70000];
	size_t len;
};

struct writer {
	const struct capfile_opts *o;
	pcap_t *dead;
	pcap_dumper_t *dump;
	FILE *ng;
	int64_t usec;
};

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

static size_t link_header(const struct capfile_opts *o, uint8_t *p)
{
	uint16_t proto = o->ipv6 ? 0x86dd : 0x0800;

	switch (o->linktype) {
	case DLT_EN10MB:
		memcpy(p, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
		put16(p + 12, proto);
		return 14;
	case DLT_LINUX_SLL:
		memset(p, 0, 16);
		put16(p + 2, 1);
		put16(p + 4, 6);
		put16(p + 14, proto);
		return 16;
	case DLT_LINUX_SLL2:
		memset(p, 0, 20);
		put16(p, proto);
		put32(p + 4, 1);
		put16(p + 8, 1);
		p[11] = 6;
		return 20;
	case DLT_NULL: {
		uint32_t af = o->ipv6 ? 24 : 2; /* host order */
		memcpy(p, &af, 4);
		return 4;
	}
	default:
		return 0;
	}
}

static size_t ip_header(const struct capfile_opts *o, uint8_t *p, int from_client, size_t l4len)
{
	static const uint8_t v4[2][4] = { { 192, 0, 2, 20 }, { 192, 0, 2, 10 } };
	uint8_t v6[2][16] = { { 0x20, 0x01, 0x0d, 0xb8 }, { 0x20, 0x01, 0x0d, 0xb8 } };

	if (o->ipv6) {
		v6[0][15] = 0x20;
		v6[1][15] = 0x10;
		memset(p, 0, 40);
		p[0] = 0x60;
		put16(p + 4, (uint16_t)l4len);
		p[6] = 6;
		p[7] = 64;
		memcpy(p + 8, v6[from_client], 16);
		memcpy(p + 24, v6[!from_client], 16);
		return 40;
	}
	memset(p, 0, 20);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)(20 + l4len));
	put16(p + 6, 0x4000);
	p[8] = 64;
	p[9] = 6;
	memcpy(p + 12, v4[from_client], 4);
	memcpy(p + 16, v4[!from_client], 4);
	return 20;
}

static void write_frame(struct writer *w, const uint8_t *b, size_t len)
{
	size_t cap = w->o->snaplen && (size_t)w->o->snaplen < len ? (size_t)w->o->snaplen : len;

	w->usec += 1000;
	if (w->ng) {
		uint8_t h[28];
		size_t pad = (4 - cap % 4) % 4;
		uint32_t total = (uint32_t)(32 + cap + pad), v[7] = { 6, total, 0, (uint32_t)((uint64_t)w->usec >> 32),
								      (uint32_t)w->usec, (uint32_t)cap, (uint32_t)len };
		memcpy(h, v, 28);
		fwrite(h, 1, 28, w->ng);
		fwrite(b, 1, cap, w->ng);
		fwrite("\0\0\0", 1, pad, w->ng);
		fwrite(&total, 4, 1, w->ng);
		return;
	}
	struct pcap_pkthdr ph = { .caplen = (bpf_u_int32)cap, .len = (bpf_u_int32)len };
	ph.ts.tv_sec = 1800000000 + w->usec / 1000000;
	ph.ts.tv_usec = w->usec % 1000000;
	pcap_dump((u_char *)w->dump, &ph, b);
}

static void segment(struct writer *w, int from_client, uint32_t seq, uint8_t flags, const uint8_t *data, size_t n)
{
	static struct frame f;
	const struct capfile_opts *o = w->o;
	size_t l = link_header(o, f.b);
	uint8_t *tcp;

	l += ip_header(o, f.b + l, from_client, 20 + n);
	tcp = f.b + l;
	memset(tcp, 0, 20);
	put16(tcp, from_client ? o->client_port : o->server_port);
	put16(tcp + 2, from_client ? o->server_port : o->client_port);
	put32(tcp + 4, seq);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	put16(tcp + 14, 65535);
	if (n)
		memcpy(tcp + 20, data, n);
	write_frame(w, f.b, l + 20 + n);
}

static void data_segments(struct writer *w, int from_client, uint32_t isn, const uint8_t *d, size_t len)
{
	const struct capfile_opts *o = w->o;
	size_t mss = o->mss ? o->mss : 1000, nseg = (len + mss - 1) / mss;

	for (size_t k = 0; k < nseg; k++) {
		size_t i = k;
		if (o->swap_pairs && k % 3 == 1 && k + 1 < nseg)
			i = k + 1;
		else if (o->swap_pairs && k % 3 == 2)
			i = k - 1;
		if (o->drop_one && from_client && i == 1)
			continue;
		size_t off = i * mss, n = len - off < mss ? len - off : mss;
		for (int r = 0; r <= o->retransmit; r++)
			segment(w, from_client, isn + 1 + (uint32_t)off, 0x18, d + off, n);
	}
}

static void pcapng_header(FILE *f, int linktype, int snaplen)
{
	uint32_t shb[7] = { 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0xffffffff, 0xffffffff, 28 };
	uint32_t idb[5] = { 1, 20, (uint32_t)linktype, (uint32_t)(snaplen ? snaplen : 262144), 20 };

	shb[3] = 1; /* major 1, minor 0 (little-endian u16 pair) */
	fwrite(shb, 4, 7, f);
	fwrite(idb, 4, 5, f);
}

size_t capfile_write(const char *path, const struct transcript *t, const struct capfile_opts *o)
{
	struct writer w = { .o = o };
	uint32_t ci = o->isn, si = o->isn ^ 0x5a5a5a5a;
	FILE *f;
	long size;

	if (o->pcapng) {
		if (!(w.ng = fopen(path, "wb")))
			die("fopen");
		pcapng_header(w.ng, o->linktype, o->snaplen);
	} else {
		if (!(w.dead = pcap_open_dead(o->linktype, o->snaplen ? o->snaplen : 262144)) ||
		    !(w.dump = pcap_dump_open(w.dead, path)))
			die("pcap_dump_open");
	}
	segment(&w, 1, ci, 0x02, NULL, 0);
	segment(&w, 0, si, 0x12, NULL, 0);
	data_segments(&w, 1, ci, t->c2s, t->c2s_len);
	data_segments(&w, 0, si, t->s2c, t->s2c_len);
	segment(&w, 1, ci + 1 + (uint32_t)t->c2s_len, 0x11, NULL, 0);
	segment(&w, 0, si + 1 + (uint32_t)t->s2c_len, 0x11, NULL, 0);
	if (w.ng)
		fclose(w.ng);
	else {
		pcap_dump_close(w.dump);
		pcap_close(w.dead);
	}
	if (!(f = fopen(path, "rb")) || fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0)
		die("size");
	fclose(f);
	return (size_t)size;
}

char *diag_tmpdir(void)
{
	char *d = strdup("/tmp/opencapf-diag-test.XXXXXX");

	if (!d || !mkdtemp(d))
		die("mkdtemp");
	return d;
}

void diag_rmdir(char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];

	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			unlink(path);
		}
	}
	if (d)
		closedir(d);
	rmdir(dir);
	free(dir);
}
