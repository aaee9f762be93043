/*
 * bench_loc.c - updates per second through the location store (loc.h), as
 * the registrar drives it: each worker thread has its own loop and keeps
 * WINDOW REGISTER-like updates in flight (a refresh of one contact, with a
 * rising CSeq, over AORS AORs of its own); the callback issues the next one.
 *
 * Backends: memory:, and sqlite: on a temp file (WAL, synchronous=FULL: every
 * update is durable before its callback; group commit makes that cheap).
 * Each configuration runs for a fixed time (argv[1] seconds, default 2).
 * Last line: "loc: mem N/s sqlite N/s" (2 threads).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ringlet/loc.h"
#include "ringlet/loop.h"

#define WINDOW 256
#define AORS 10000

struct worker {
	struct loc_store *s;
	unsigned id;
	double secs;
	struct loop *l;
	uint64_t issued, done, failed;
	int first_err;
	bool stop;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void issue(struct worker *w);

static void on_done(int err, const struct loc_binding *b, unsigned n, void *arg)
{
	struct worker *w = arg;

	(void)b;
	(void)n;
	w->done++;
	if (err) {
		if (!w->failed)
			w->first_err = err;
		w->failed++;
	}
	if (!w->stop)
		issue(w);
}

static void issue(struct worker *w)
{
	struct loc_change c;
	char aor[64], cid[64];
	uint64_t i = w->issued;
	unsigned k = (unsigned)(i % AORS);

	memset(&c, 0, sizeof(c));
	snprintf(aor, sizeof(aor), "w%u-user%u@bench.example", w->id, k);
	snprintf(cid, sizeof(cid), "reg-%u-%u@192.0.2.1", w->id, k);
	snprintf(c.b.contact, sizeof(c.b.contact), "sip:user%u@192.0.2.%u:%u;transport=udp", k,
		 w->id + 1, 5060 + k % 1000);
	snprintf(c.b.call_id, sizeof(c.b.call_id), "%s", cid);
	snprintf(c.b.received, sizeof(c.b.received), "udp:192.0.2.%u:%u", w->id + 1, 5060);
	snprintf(c.b.user_agent, sizeof(c.b.user_agent), "bench");
	c.b.q = -1;
	c.b.cseq = (uint32_t)(i / AORS + 1);
	c.b.expires = (int64_t)time(NULL) + 3600;
	if (loc_update(w->s, w->l, aor, &c, 1, false, c.b.cseq, cid, on_done, w)) {
		w->failed++;
		w->stop = true;
		return;
	}
	w->issued++;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	double end;
	unsigned i;

	if (loop_alloc(&w->l, LOOP_CLOCK_MONOTONIC))
		return NULL;
	end = now_s() + w->secs;
	for (i = 0; i < WINDOW; i++)
		issue(w);
	while (now_s() < end && !w->stop)
		loop_once(w->l, 10);
	w->stop = true;
	while (w->done < w->issued)
		loop_once(w->l, 10);
	loop_free(w->l);
	return NULL;
}

/* Updates/s with nthreads workers on store url. */
static double run(const char *url, unsigned nthreads, double secs)
{
	struct worker w[2];
	pthread_t t[2];
	struct loc_store *s;
	struct loc_stats st;
	uint64_t done = 0, failed = 0;
	char why[256];
	double t0, el;
	unsigned i;

	if (loc_open(&s, url, why, sizeof(why))) {
		fprintf(stderr, "bench_loc: %s\n", why);
		exit(1);
	}
	memset(w, 0, sizeof(w));
	t0 = now_s();
	for (i = 0; i < nthreads; i++) {
		w[i].s = s;
		w[i].id = i;
		w[i].secs = secs;
		if (pthread_create(&t[i], NULL, worker_main, &w[i]))
			exit(1);
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		done += w[i].done;
		failed += w[i].failed;
	}
	el = now_s() - t0;
	loc_stats(s, &st);
	loc_close(s);
	if (failed) {
		fprintf(stderr, "bench_loc: %s: %llu updates failed (err %d)\n", url,
			(unsigned long long)failed,
			w[0].first_err ? w[0].first_err : w[1].first_err);
		exit(1);
	}
	printf("%-8s threads=%u updates=%llu secs=%.2f rate=%.0f/s commits=%llu\n",
	       strncmp(url, "sqlite:", 7) == 0 ? "sqlite" : "mem", nthreads,
	       (unsigned long long)done, el, (double)done / el, (unsigned long long)st.commits);
	return (double)done / el;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/ringlet-bench-loc-XXXXXX", url[128], cmd[128];
	double secs = argc > 1 ? atof(argv[1]) : 2.0, mem2, sql2;

	if (secs <= 0 || !mkdtemp(dir))
		return 1;
	run("memory:", 1, secs);
	mem2 = run("memory:", 2, secs);
	snprintf(url, sizeof(url), "sqlite:%s/bench1.db", dir); /* a fresh file each: CSeqs */
	run(url, 1, secs);
	snprintf(url, sizeof(url), "sqlite:%s/bench2.db", dir);
	sql2 = run(url, 2, secs);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_loc: cannot remove %s\n", dir);
	printf("loc: mem %.0f/s sqlite %.0f/s\n", mem2, sql2);
	return 0;
}
