/*
 * files_bench.c: how many files per second the daemon's file service
 * serves, measured from the client side on loopback.
 *
 *   files_bench tftp PORT FILE CLIENTS SECONDS [BLKSIZE]
 *   files_bench http PORT FILE CLIENTS SECONDS
 *   files_bench httpc PORT FILE CLIENTS SECONDS
 *
 * tftp: CLIENTS lock-step clients on 127.0.0.1, each fetching FILE again
 * and again (a read request with blksize when given, the OACK acknowledged,
 * every block acknowledged; a reply missing for a second restarts the
 * transfer). http: CLIENTS keep-alive connections, each sending GET FILE
 * again and again and reading the whole answer (Content-Length); httpc: the
 * same with a new connection for each file, as phones fetch them. Prints
 * "files N files/s F MiB/s M errors E" for the SECONDS measured.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 1024
#define BUF (70 * 1024)

struct result {
	unsigned long files, errors;
	unsigned long long bytes;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* ---- TFTP ---- */

struct tclient {
	int fd;
	uint16_t block;      /* the block expected next */
	double sent_at;
	unsigned long long got;
};

static size_t rrq(uint8_t *p, const char *file, int blksize)
{
	size_t n = 2;

	p[0] = 0;
	p[1] = 1;
	n += (size_t)sprintf((char *)p + n, "%s", file) + 1;
	n += (size_t)sprintf((char *)p + n, "octet") + 1;
	if (blksize) {
		n += (size_t)sprintf((char *)p + n, "blksize") + 1;
		n += (size_t)sprintf((char *)p + n, "%d", blksize) + 1;
	}
	return n;
}

static void tftp_start(struct tclient *c, const struct sockaddr_in *srv, const char *file,
		       int blksize)
{
	uint8_t p[600];
	size_t n = rrq(p, file, blksize);

	c->block = blksize ? 0 : 1;
	c->got = 0;
	c->sent_at = now();
	sendto(c->fd, p, n, 0, (const struct sockaddr *)srv, sizeof *srv);
}

/* One packet for client c; 1 when its file is complete. */
static int tftp_packet(struct tclient *c, const uint8_t *p, ssize_t n, const struct sockaddr_in *from,
		       int blksize, struct result *r)
{
	uint8_t ack[4] = { 0, 4, 0, 0 };
	int op = n >= 4 ? p[1] : -1, want = blksize ? blksize : 512;
	uint16_t block = n >= 4 ? (uint16_t)(p[2] << 8 | p[3]) : 0;

	if (op == 6 && c->block == 0) {
		c->block = 1;
	} else if (op == 3 && block == c->block) {
		ack[2] = p[2];
		ack[3] = p[3];
		c->got += (unsigned long long)(n - 4);
		c->block++;
	} else {
		if (op == 5)
			r->errors++;
		return op == 5 ? -1 : 0;
	}
	c->sent_at = now();
	sendto(c->fd, ack, 4, 0, (const struct sockaddr *)from, sizeof *from);
	if (op == 3 && n - 4 < want) {
		r->files++;
		r->bytes += c->got;
		return 1;
	}
	return 0;
}

static void tftp_drain(struct tclient *c, const struct sockaddr_in *srv, const char *file,
		       int blksize, struct result *r)
{
	static uint8_t p[BUF];
	struct sockaddr_in from;
	socklen_t flen = sizeof from;
	ssize_t n;

	while ((n = recvfrom(c->fd, p, sizeof p, MSG_DONTWAIT, (struct sockaddr *)&from, &flen)) > 0) {
		if (tftp_packet(c, p, n, &from, blksize, r) != 0)
			tftp_start(c, srv, file, blksize);
		flen = sizeof from;
	}
}

static void run_tftp(int port, const char *file, int clients, double secs, int blksize,
		     struct result *r)
{
	static struct tclient c[MAX_CLIENTS];
	static struct pollfd pfd[MAX_CLIENTS];
	struct sockaddr_in srv = loopback(port);
	double end = now() + secs;

	for (int i = 0; i < clients; i++) {
		c[i].fd = socket(AF_INET, SOCK_DGRAM, 0);
		pfd[i] = (struct pollfd){ .fd = c[i].fd, .events = POLLIN };
		tftp_start(&c[i], &srv, file, blksize);
	}
	while (now() < end) {
		poll(pfd, (nfds_t)clients, 100);
		for (int i = 0; i < clients; i++) {
			if (pfd[i].revents & POLLIN)
				tftp_drain(&c[i], &srv, file, blksize, r);
			else if (now() - c[i].sent_at > 1.0) {
				r->errors++;
				tftp_start(&c[i], &srv, file, blksize);
			}
		}
	}
	for (int i = 0; i < clients; i++)
		close(c[i].fd);
}

/* ---- HTTP ---- */

struct hclient {
	int fd;
	size_t have, need; /* bytes of the current answer read, and its whole size (0: head not read) */
	char head[4096];
};

static void http_connect(struct hclient *c, const struct sockaddr_in *srv, struct result *r)
{
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c->fd, (const struct sockaddr *)srv, sizeof *srv) < 0)
		r->errors++;
}

static void http_send(struct hclient *c, const char *file)
{
	char req[512];
	int n = snprintf(req, sizeof req, "GET /%s HTTP/1.1\r\nHost: bench\r\n\r\n", file);

	c->have = c->need = 0;
	if (send(c->fd, req, (size_t)n, 0) < 0)
		perror("send");
}

/* Bytes of an answer arrived; 1 when it is complete. */
static int http_bytes(struct hclient *c, const char *p, size_t n)
{
	if (c->need == 0 && c->have < sizeof c->head - 1) {
		size_t k = n < sizeof c->head - 1 - c->have ? n : sizeof c->head - 1 - c->have;
		char *end, *cl;

		memcpy(c->head + c->have, p, k);
		c->head[c->have + k] = '\0';
		end = strstr(c->head, "\r\n\r\n");
		cl = strcasestr(c->head, "Content-Length:");
		if (end && cl)
			c->need = (size_t)(end + 4 - c->head) + strtoul(cl + 15, NULL, 10);
	}
	c->have += n;
	return c->need && c->have >= c->need;
}

/* The answer of client i is complete: count it, ask again (reconnecting when close). */
static void http_next(struct hclient *c, struct pollfd *pfd, const struct sockaddr_in *srv,
		      const char *file, int close_each, struct result *r)
{
	r->files++;
	r->bytes += c->need;
	if (close_each) {
		close(c->fd);
		http_connect(c, srv, r);
		pfd->fd = c->fd;
	}
	http_send(c, file);
}

static void run_http(int port, const char *file, int clients, double secs, int close_each,
		     struct result *r)
{
	static struct hclient c[MAX_CLIENTS];
	static struct pollfd pfd[MAX_CLIENTS];
	static char buf[BUF];
	struct sockaddr_in srv = loopback(port);
	double end = now() + secs;

	for (int i = 0; i < clients; i++) {
		http_connect(&c[i], &srv, r);
		pfd[i] = (struct pollfd){ .fd = c[i].fd, .events = POLLIN };
		http_send(&c[i], file);
	}
	while (now() < end) {
		poll(pfd, (nfds_t)clients, 100);
		for (int i = 0; i < clients; i++) {
			ssize_t n;

			if (!(pfd[i].revents & POLLIN))
				continue;
			n = recv(c[i].fd, buf, sizeof buf, MSG_DONTWAIT);
			if (n <= 0) {
				r->errors++;
				pfd[i].fd = -1;
			} else if (http_bytes(&c[i], buf, (size_t)n)) {
				http_next(&c[i], &pfd[i], &srv, file, close_each, r);
			}
		}
	}
	for (int i = 0; i < clients; i++)
		close(c[i].fd);
}

int main(int argc, char **argv)
{
	struct result r = { 0 };
	int clients, port;
	double secs;

	if (argc < 6 || (strcmp(argv[1], "tftp") != 0 && strcmp(argv[1], "http") != 0 &&
			 strcmp(argv[1], "httpc") != 0)) {
		fprintf(stderr, "usage: files_bench tftp|http|httpc PORT FILE CLIENTS SECONDS [BLKSIZE]\n");
		return 2;
	}
	port = atoi(argv[2]);
	clients = atoi(argv[4]);
	secs = atof(argv[5]);
	if (clients < 1 || clients > MAX_CLIENTS || secs <= 0) {
		fprintf(stderr, "files_bench: CLIENTS must be 1..%d and SECONDS positive\n", MAX_CLIENTS);
		return 2;
	}
	if (argv[1][0] == 't')
		run_tftp(port, argv[3], clients, secs, argc > 6 ? atoi(argv[6]) : 0, &r);
	else
		run_http(port, argv[3], clients, secs, strcmp(argv[1], "httpc") == 0, &r);
	printf("files %lu files/s %.0f MiB/s %.1f errors %lu\n", r.files, (double)r.files / secs,
	       (double)r.bytes / secs / 1048576.0, r.errors);
	return 0;
}
