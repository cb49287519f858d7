/*
 * replay_main.c: a stand-in for libFuzzer's main, so that every fuzz target
 * also runs as an ordinary test with any compiler (gcc included).
 *
 *   replay-NAME CORPUS [MUTATIONS [SEED]]
 *
 * CORPUS is a folder (every regular file in it, in name order) or a single
 * file (to replay a crash). After the files themselves, the target gets
 * MUTATIONS (default 20000) inputs derived from them by a seeded PRNG: bit
 * flips, interesting bytes, truncations, big-endian length tweaks, inserted,
 * deleted and duplicated chunks, splices of two files. Nothing depends on the
 * time, so a failure repeats exactly. When the target aborts, the input is
 * written to replay-crash.bin in the current folder.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (2 * 1024 * 1024)
#define MAX_FILES 4096
#define MAX_GROWTH 4096 /* a mutated input is at most this much longer than its base */

struct input {
	uint8_t *data;
	size_t len;
};

struct corpus {
	struct input in[MAX_FILES];
	size_t n;
};

/* The input being run, for the abort handler (test driver only). */
static const uint8_t *current;
static size_t current_len;

static void on_abort(int sig)
{
	int fd = open("replay-crash.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd >= 0) {
		if (write(fd, current, current_len) < 0) {
			/* nothing more can be done inside a signal handler */
		}
		close(fd);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void run(const uint8_t *data, size_t len)
{
	/* A private copy, exactly len bytes, so ASan sees any overread. */
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy) {
		perror("replay");
		exit(2);
	}
	memcpy(copy, data, len);
	current = copy;
	current_len = len;
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
}

static int read_input(const char *path, struct input *in)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(REPLAY_MAX_INPUT);
	size_t n;

	if (!f || !buf) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		if (f)
			fclose(f);
		free(buf);
		return -1;
	}
	n = fread(buf, 1, REPLAY_MAX_INPUT, f);
	fclose(f);
	in->data = realloc(buf, n ? n : 1); /* shrinking cannot fail in practice */
	if (!in->data)
		in->data = buf;
	in->len = n;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dir(const char *dir, struct corpus *c)
{
	char *names[MAX_FILES], path[4096];
	size_t n = 0;
	struct dirent *e;
	struct stat st;
	DIR *d = opendir(dir);

	if (!d)
		return 0; /* no seeds: the mutations start from empty inputs */
	while ((e = readdir(d)) && n < MAX_FILES) {
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof names[0], name_cmp);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (read_input(path, &c->in[c->n]) == 0)
			c->n++;
		free(names[i]);
	}
	return 0;
}

/* splitmix64: small, good enough, and the same everywhere. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t below(size_t n)
{
	return n ? (size_t)(rng() % n) : 0;
}

static void tweak_length(uint8_t *d, size_t len)
{
	static const int deltas[] = { -4, -3, -2, -1, 1, 2, 3, 4 };
	size_t at = below(len - 1);
	unsigned v = (unsigned)(d[at] << 8 | d[at + 1]);

	switch (below(4)) {
	case 0: v = (unsigned)((int)v + deltas[below(8)]); break;
	case 1: v = 0; break;
	case 2: v = 0xffff; break;
	default: v = (unsigned)(len - at); break;
	}
	d[at] = (uint8_t)(v >> 8);
	d[at + 1] = (uint8_t)v;
}

/* One mutation of d[0..*len) in place; cap is the room in d. */
static void mutate_once(uint8_t *d, size_t *len, size_t cap, const struct corpus *c)
{
	static const uint8_t interesting[] = { 0x00, 0x01, 0x02, 0x0d, 0x7f, 0x80, 0xfe, 0xff };
	size_t n = *len, at = below(n), k = 1 + below(16);

	switch (below(8)) {
	case 0: if (n) d[at] ^= (uint8_t)(1u << below(8)); break;
	case 1: if (n) d[at] = interesting[below(sizeof interesting)]; break;
	case 2: *len = below(n + 1); break;
	case 3: if (n >= 2) tweak_length(d, n); break;
	case 4: /* insert random bytes */
		if (n + k > cap)
			break;
		memmove(d + at + k, d + at, n - at);
		for (size_t i = 0; i < k; i++)
			d[at + i] = (uint8_t)rng();
		*len = n + k;
		break;
	case 5: /* delete a chunk */
		k = k > n - at ? n - at : k;
		memmove(d + at, d + at + k, n - at - k);
		*len = n - k;
		break;
	case 6: /* duplicate a chunk at the end */
		k = k > n - at ? n - at : k;
		if (n + k <= cap) {
			memmove(d + n, d + at, k);
			*len = n + k;
		}
		break;
	default: /* splice: the tail of another input from here on */
		if (c->n) {
			const struct input *o = &c->in[below(c->n)];
			size_t from = below(o->len + 1), take = o->len - from;

			if (at + take <= cap) {
				memcpy(d + at, o->data + from, take);
				*len = at + take;
			}
		}
		break;
	}
}

static void run_mutations(const struct corpus *c, unsigned long count)
{
	uint8_t *buf = malloc(REPLAY_MAX_INPUT + MAX_GROWTH);

	if (!buf) {
		perror("replay");
		exit(2);
	}
	for (unsigned long i = 0; i < count; i++) {
		size_t len = 0, cap = MAX_GROWTH, rounds = 1 + below(4);

		if (c->n) {
			const struct input *base = &c->in[below(c->n)];

			memcpy(buf, base->data, base->len);
			len = base->len;
			cap = base->len + MAX_GROWTH;
		}
		for (size_t r = 0; r < rounds; r++)
			mutate_once(buf, &len, cap, c);
		run(buf, len);
	}
	free(buf);
}

int main(int argc, char **argv)
{
	static struct corpus c;
	unsigned long count = argc > 2 ? strtoul(argv[2], NULL, 10) : 20000;
	struct stat st;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS-FOLDER-OR-FILE [MUTATIONS [SEED]]\n", argv[0]);
		return 2;
	}
	rng_state = argc > 3 ? strtoull(argv[3], NULL, 0) : 0x0ca9f5eedULL;
	signal(SIGABRT, on_abort);
	if (stat(argv[1], &st) == 0 && S_ISREG(st.st_mode)) {
		if (read_input(argv[1], &c.in[0]) < 0)
			return 2;
		run(c.in[0].data, c.in[0].len);
		printf("replay: %s ok\n", argv[1]);
		return 0;
	}
	load_dir(argv[1], &c);
	for (size_t i = 0; i < c.n; i++)
		run(c.in[i].data, c.in[i].len);
	run_mutations(&c, count);
	printf("replay: %zu corpus files and %lu mutations ok\n", c.n, count);
	for (size_t i = 0; i < c.n; i++)
		free(c.in[i].data);
	return 0;
}
