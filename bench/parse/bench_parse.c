/*
 * bench_parse.c - `make bench-parse`: Ringlet's SIP parser against libosip2
 * and sofia-sip on one corpus, in one run.
 *
 *   bench_parse [--secs S] [--runs N] [--max-msgs N] [--only NAME] [--cpu-clock] [-v]
 *               CORPUS_DIR
 *
 * Every CORPUS_DIR/ *.sip file is one SIP message.  First each parser parses
 * every message once and must accept it (a failure makes the run invalid:
 * exit 1).  Then each parser warms up, and the parsers are measured in turn,
 * interleaved, --runs times (default 3): one measurement parses the whole
 * corpus round after round until --secs (default 2) have passed on
 * CLOCK_MONOTONIC or --max-msgs messages were parsed.  The median rate per
 * parser is printed with the heap allocations per message counted in the
 * timed loops (bench_alloc.c), and last `ratio: N.NN`: Ringlet's messages/s
 * over the faster peer's.  --cpu-clock times on process CPU time instead of
 * CLOCK_MONOTONIC (for a machine shared with other work; -v prints each run's
 * CPU share, process CPU time over wall time).  Exit 0 on a valid run, 1 on a
 * parse failure, 2 on bad usage or an unreadable corpus.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_parse.h"

#ifndef BENCH_BUILD_TYPE
#define BENCH_BUILD_TYPE "unknown"
#endif

#define MAX_FILES 256
#define MAX_FILE_SIZE 65535
#define MAX_RUNS 9
#define WARMUP_SECS 0.25

struct corpus {
	size_t n;
	size_t bytes;
	char *name[MAX_FILES];
	char *data[MAX_FILES];
	size_t len[MAX_FILES];
};

struct opts {
	clockid_t clock; /* CLOCK_MONOTONIC, or process CPU time with --cpu-clock */
	double secs;
	unsigned runs;
	uint64_t max_msgs;
	const char *only;
	int verbose;
	const char *dir;
};

/* One timed measurement of one parser. */
struct run {
	double rate;   /* messages per second */
	double allocs; /* allocations per message */
	double cpu;    /* process CPU time over wall time: < 1 when the CPU was shared */
	uint64_t fails;
};

static const struct bench_driver *const drivers[] = {
	&bench_ringlet,
	&bench_osip,
	&bench_sofia,
};
#define NDRV (sizeof(drivers) / sizeof(drivers[0]))

static double clock_secs(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_parse [--secs S] [--runs N] [--max-msgs N] "
			"[--only ringlet|osip2|sofia-sip] [--cpu-clock] [-v] CORPUS_DIR\n");
	return 2;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	char *end;
	int i;

	*o = (struct opts){.clock = CLOCK_MONOTONIC, .secs = 2.0, .runs = 3,
			   .max_msgs = 20000000};
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "-v") == 0) {
			o->verbose = 1;
			continue;
		}
		if (strcmp(a, "--cpu-clock") == 0) {
			o->clock = CLOCK_PROCESS_CPUTIME_ID;
			continue;
		}
		if (a[0] != '-') {
			if (o->dir != NULL)
				return usage();
			o->dir = a;
			continue;
		}
		if (val == NULL)
			return usage();
		i++;
		errno = 0;
		if (strcmp(a, "--secs") == 0) {
			o->secs = strtod(val, &end);
			if (*end != '\0' || !(o->secs > 0.0 && o->secs <= 60.0))
				return usage();
		} else if (strcmp(a, "--runs") == 0) {
			unsigned long r = strtoul(val, &end, 10);
			if (*end != '\0' || r < 1 || r > MAX_RUNS)
				return usage();
			o->runs = (unsigned)r;
		} else if (strcmp(a, "--max-msgs") == 0) {
			o->max_msgs = strtoull(val, &end, 10);
			if (*end != '\0' || errno != 0 || o->max_msgs == 0)
				return usage();
		} else if (strcmp(a, "--only") == 0) {
			o->only = val;
		} else {
			return usage();
		}
	}
	if (o->dir == NULL)
		return usage();
	for (i = 0; o->only != NULL && i < (int)NDRV; i++)
		if (strcmp(o->only, drivers[i]->name) == 0)
			return 0;
	return o->only == NULL ? 0 : usage();
}

static int sip_file(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 4 && e->d_name[0] != '.' && strcmp(e->d_name + n - 4, ".sip") == 0;
}

/* Read one whole file into a fresh buffer (exactly its bytes, no NUL). */
static int read_file(const char *path, char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	size_t n;
	int rc = 0;

	if (f == NULL)
		return errno;
	p = malloc(MAX_FILE_SIZE + 1);
	if (p == NULL) {
		fclose(f);
		return ENOMEM;
	}
	n = fread(p, 1, MAX_FILE_SIZE + 1, f);
	if (ferror(f))
		rc = EIO;
	else if (n == 0 || n > MAX_FILE_SIZE)
		rc = EMSGSIZE;
	fclose(f);
	if (rc != 0) {
		free(p);
		return rc;
	}
	*data = p;
	*len = n;
	return 0;
}

/* Load every *.sip of dir, sorted by name. */
static int load_corpus(const char *dir, struct corpus *c)
{
	struct dirent **ents;
	char path[4096];
	int n, i, rc = 0;

	memset(c, 0, sizeof(*c));
	n = scandir(dir, &ents, sip_file, alphasort);
	if (n < 0) {
		fprintf(stderr, "bench_parse: %s: %s\n", dir, strerror(errno));
		return 2;
	}
	for (i = 0; i < n; i++) {
		if (rc == 0 && c->n < MAX_FILES) {
			snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
			rc = read_file(path, &c->data[c->n], &c->len[c->n]);
			if (rc != 0) {
				fprintf(stderr, "bench_parse: %s: %s\n", path, strerror(rc));
			} else {
				c->name[c->n] = strdup(ents[i]->d_name);
				c->bytes += c->len[c->n];
				c->n++;
			}
		}
		free(ents[i]);
	}
	free(ents);
	if (rc == 0 && c->n == 0) {
		fprintf(stderr, "bench_parse: %s: no *.sip files\n", dir);
		rc = ENOENT;
	}
	return rc != 0 ? 2 : 0;
}

static void free_corpus(struct corpus *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->name[i]);
		free(c->data[i]);
	}
}

/* Parse every message once; print and count the ones the parser refuses. */
static unsigned check_corpus(const struct bench_driver *d, void *ctx, const struct corpus *c)
{
	uint64_t sink = 0;
	unsigned bad = 0;
	size_t i;

	for (i = 0; i < c->n; i++) {
		const char *why = "?";
		int rc = d->parse(ctx, c->data[i], c->len[i], &sink, &why);

		if (rc != 0) {
			printf("FAIL %s: %s: %s (%s)\n", d->name, c->name[i], why, strerror(rc));
			bad++;
		}
	}
	return bad;
}

/*
 * Parse the corpus round after round until secs have passed on o->clock or
 * o->max_msgs messages were parsed; fill *r.
 */
static void measure(const struct opts *o, const struct bench_driver *d, void *ctx,
		    const struct corpus *c, double secs, struct run *r)
{
	uint64_t sink = 0, msgs = 0, fails = 0, a0, a1;
	double t0, t, w0, cpu0;
	size_t i;

	a0 = bench_alloc_count();
	cpu0 = clock_secs(CLOCK_PROCESS_CPUTIME_ID);
	w0 = clock_secs(CLOCK_MONOTONIC);
	t0 = clock_secs(o->clock);
	do {
		for (i = 0; i < c->n; i++)
			if (d->parse(ctx, c->data[i], c->len[i], &sink, NULL) != 0)
				fails++;
		msgs += c->n;
		t = clock_secs(o->clock);
	} while (t - t0 < secs && msgs < o->max_msgs);
	a1 = bench_alloc_count();
	r->cpu = (clock_secs(CLOCK_PROCESS_CPUTIME_ID) - cpu0) /
		 (clock_secs(CLOCK_MONOTONIC) - w0);
	r->rate = (double)msgs / (t - t0);
	r->allocs = (double)(a1 - a0) / (double)msgs;
	r->fails = fails;
	/* keep the results alive without printing them */
	__asm__ volatile("" : : "r"(sink) : "memory");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const struct run *runs, unsigned n, double *lo, double *hi)
{
	double v[MAX_RUNS];
	unsigned i;

	for (i = 0; i < n; i++)
		v[i] = runs[i].rate;
	qsort(v, n, sizeof(v[0]), cmp_double);
	*lo = v[0];
	*hi = v[n - 1];
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Initialise the selected drivers and check them on the corpus. */
static int setup(const struct opts *o, const struct corpus *c, void **ctx, int *use)
{
	unsigned bad = 0;
	size_t k;
	int rc;

	for (k = 0; k < NDRV; k++) {
		use[k] = o->only == NULL || strcmp(o->only, drivers[k]->name) == 0;
		if (!use[k])
			continue;
		rc = drivers[k]->init(&ctx[k]);
		if (rc != 0) {
			fprintf(stderr, "bench_parse: %s: init failed: %s\n", drivers[k]->name,
				strerror(rc));
			return 2;
		}
		bad += check_corpus(drivers[k], ctx[k], c);
	}
	if (bad != 0) {
		printf("bench-parse: INVALID RUN: %u parse failure(s)\n", bad);
		return 1;
	}
	return 0;
}

/* Measure every selected parser o->runs times, interleaved; print the medians. */
static int bench(const struct opts *o, const struct corpus *c, void **ctx, const int *use)
{
	struct run runs[NDRV][MAX_RUNS];
	double med[NDRV] = {0}, lo, hi, allocs, peer = 0.0;
	uint64_t fails = 0;
	struct run warm;
	unsigned r;
	size_t k;

	for (k = 0; k < NDRV; k++)
		if (use[k])
			measure(o, drivers[k], ctx[k], c, WARMUP_SECS, &warm);
	for (r = 0; r < o->runs; r++) {
		for (k = 0; k < NDRV; k++) {
			if (!use[k])
				continue;
			measure(o, drivers[k], ctx[k], c, o->secs, &runs[k][r]);
			fails += runs[k][r].fails;
			if (o->verbose)
				printf("  run %u %s: %.0f msg/s, %.2f allocs/msg, cpu share %.2f\n",
				       r + 1, drivers[k]->name, runs[k][r].rate,
				       runs[k][r].allocs, runs[k][r].cpu);
		}
	}
	if (fails != 0) {
		printf("bench-parse: INVALID RUN: %" PRIu64 " failure(s) in the timed loops\n",
		       fails);
		return 1;
	}
	for (k = 0; k < NDRV; k++) {
		if (!use[k])
			continue;
		med[k] = median(runs[k], o->runs, &lo, &hi);
		allocs = 0.0;
		for (r = 0; r < o->runs; r++)
			allocs += runs[k][r].allocs;
		printf("%s: %.0f msg/s, %.2f allocs/msg\n", drivers[k]->name, med[k],
		       allocs / o->runs);
		if (o->verbose)
			printf("  (runs from %.0f to %.0f msg/s)\n", lo, hi);
		if (k > 0 && med[k] > peer)
			peer = med[k];
	}
	if (use[0] && peer > 0.0)
		printf("ratio: %.2f\n", med[0] / peer);
	return 0;
}

int main(int argc, char **argv)
{
	void *ctx[NDRV] = {0};
	int use[NDRV] = {0};
	struct corpus *c;
	struct opts o;
	size_t k;
	int rc;

	rc = parse_opts(argc, argv, &o);
	if (rc != 0)
		return rc;
	c = malloc(sizeof(*c));
	if (c == NULL)
		return 2;
	rc = load_corpus(o.dir, c);
	if (rc != 0) {
		free_corpus(c);
		free(c);
		return rc;
	}
	printf("bench-parse: %zu messages (%zu bytes) from %s, full parse of every header\n"
	       "and the Request-URI; %u interleaved runs of ~%.1f s per parser, median;\n"
	       "allocations counted by malloc interposition; %s clock; build %s\n",
	       c->n, c->bytes, o.dir, o.runs, o.secs,
	       o.clock == CLOCK_MONOTONIC ? "monotonic" : "process CPU", BENCH_BUILD_TYPE);
	fflush(stdout);
	rc = setup(&o, c, ctx, use);
	if (rc == 0)
		rc = bench(&o, c, ctx, use);
	for (k = 0; k < NDRV; k++)
		if (use[k] && ctx[k] != NULL)
			drivers[k]->fini(ctx[k]);
	free_corpus(c);
	free(c);
	return rc;
}
