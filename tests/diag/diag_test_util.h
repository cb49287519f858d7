/*
 * diag_test_util.h: real TLS handshakes in memory and capture files made
 * from them, for the diag unit tests.
 *
 * tls_transcript() runs an OpenSSL client and server over memory BIOs and
 * keeps every byte each side sent, so the parser is tested on what OpenSSL
 * really writes (TLS 1.0, 1.2, 1.3; with or without a client certificate;
 * accepted or refused). capfile_write() turns a transcript into TCP
 * segments in a pcap file (through libpcap's own writer) or a pcapng file
 * (written here), on any of the link layers the reader knows.
 */
#ifndef DIAG_TEST_UTIL_H
#define DIAG_TEST_UTIL_H

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

/* A CAPF-like CA ("CAPF-xxxxxxxx"), an LSC it issued, a manufacturing CA
 * ("CN=Test Manufacturing CA") and a MIC it issued, a stranger CA and a
 * certificate it issued, and a server certificate (the CAPF one). */
struct test_pki {
	X509 *capf, *lsc, *mfg, *mic, *other_ca, *other_leaf;
	EVP_PKEY *capf_key, *lsc_key, *mfg_key, *mic_key, *other_key, *other_leaf_key;
};
void test_pki_make(struct test_pki *p);
void test_pki_free(struct test_pki *p);

struct transcript {
	uint8_t *c2s, *s2c;      /* malloc'd */
	size_t c2s_len, s2c_len;
	int ok;                  /* the handshake completed on both sides */
	uint16_t version;        /* SSL_version() of the client */
	uint16_t cipher;         /* IANA id of the negotiated suite (0 if none) */
};

enum { TT_TLS10 = 1, TT_TLS12 = 2, TT_TLS13 = 3 };
/* client_cert/key NULL: no client certificate. trusted: what the server
 * accepts client certificates from (NULL: it does not ask for one). */
void tls_transcript(struct transcript *t, int version, X509 *server_cert, EVP_PKEY *server_key,
		    X509 *client_cert, EVP_PKEY *client_key, X509 *trusted);
void transcript_free(struct transcript *t);

/* ---- capture files ---- */

struct capfile_opts {
	int linktype;            /* DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_RAW */
	int ipv6;
	int pcapng;              /* write pcapng instead of pcap */
	size_t mss;              /* payload bytes per segment (default 1000) */
	int swap_pairs;          /* send segments 2 and 3 (and 5 and 6, ...) in swapped order */
	int retransmit;          /* send every data segment twice */
	int drop_one;            /* leave out the 2nd data segment of the client */
	int snaplen;             /* 0: whole frames */
	uint32_t isn;            /* first sequence number of the client (the server uses isn ^ 0x5a5a5a5a) */
	uint16_t client_port, server_port;
};
/* Write the transcript as one TCP connection; returns the file size. */
size_t capfile_write(const char *path, const struct transcript *t, const struct capfile_opts *o);

char *diag_tmpdir(void);           /* malloc'd path of a new folder */
void diag_rmdir(char *dir);        /* removes the folder and its files, frees the path */

#endif
