/*
 * conf_fix.c - fixture of the location store's conformance suite (included
 * by test_loc_conf.c): the backends under test, a redis-server of our own
 * on a free 127.0.0.1 port, and blocking wrappers that run a real loop
 * until the store's callback came (bounded by a deadline).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loc/loc_int.h"
#include "ringlet/base.h"
#include "ringlet/loc.h"
#include "ringlet/loop.h"
#include "ringlet/mem.h"

#define WAIT_MS 5000 /* longest wait for one callback */

enum kind { K_MEM = 1, K_SQLITE = 2, K_REDIS = 4, K_ALL = 7, K_PERSIST = 6 };

struct backend {
	const char *name;
	enum kind kind;
	char dir[64];  /* sqlite: a temp directory for the files */
	unsigned seq;  /* sqlite: one file per test */
	uint16_t port; /* redis: our server's port (0: it did not start) */
	pid_t pid;     /* redis: our server */
};

struct fx {
	struct backend *be;
	char url[128];
	struct loc_store *s;
	struct loop *l;
	size_t live0;
	/* the last callback */
	bool in_call, done;
	int err;
	unsigned n;
	struct loc_binding b[LOC_MAX_BINDINGS];
	struct loc_user user;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* --- redis-server of our own --- */

static uint16_t free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static redisContext *raw_connect(uint16_t port)
{
	struct timeval tv = {1, 0};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);

	if (c && c->err) {
		redisFree(c);
		return NULL;
	}
	if (c)
		redisSetTimeout(c, tv);
	return c;
}

/* One command on a fresh connection; the integer reply, or -1. */
static long long raw_int(uint16_t port, const char *cmd, const char *arg)
{
	redisContext *c = raw_connect(port);
	redisReply *r;
	long long v = -1;

	if (!c)
		return -1;
	r = redisCommand(c, "SELECT 3"); /* the tests' database */
	freeReplyObject(r);
	r = arg ? redisCommand(c, "%s %s", cmd, arg) : redisCommand(c, "%s", cmd);
	if (r && r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	else if (r && r->type == REDIS_REPLY_STATUS)
		v = 0;
	freeReplyObject(r);
	redisFree(c);
	return v;
}

static int redis_start(struct backend *be)
{
	char port[8];
	int64_t end;
	pid_t pid;
	int fd;

	snprintf(port, sizeof(port), "%u", be->port);
	pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("redis-server", "redis-server", "--save", "", "--appendonly", "no", "--port",
		       port, "--bind", "127.0.0.1", "--dir", be->dir, (char *)NULL);
		_exit(127);
	}
	be->pid = pid;
	for (end = mono_ms() + 5000; mono_ms() < end; sleep_ms(20)) {
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			be->pid = 0;
			return ENOENT; /* not installed, or it could not start */
		}
		if (raw_int(be->port, "PING", NULL) == 0)
			return 0;
	}
	return ETIMEDOUT;
}

static void redis_stop(struct backend *be)
{
	if (be->pid > 0) {
		kill(be->pid, SIGTERM);
		waitpid(be->pid, NULL, 0);
	}
	be->pid = 0;
}

/* --- per test: a fresh store and loop --- */

static void fx_url(struct fx *f)
{
	struct backend *be = f->be;

	if (be->kind == K_MEM)
		snprintf(f->url, sizeof(f->url), "memory:");
	else if (be->kind == K_SQLITE)
		snprintf(f->url, sizeof(f->url), "sqlite:%s/t%u.db", be->dir, ++be->seq);
	else
		snprintf(f->url, sizeof(f->url), "redis://127.0.0.1:%u/3", be->port);
}

static int fx_setup(struct fx *f, struct backend *be)
{
	char why[256];
	redisContext *c;
	redisReply *r;

	memset(f, 0, sizeof(*f));
	f->be = be;
	f->live0 = mem_live();
	fx_url(f);
	if (be->kind == K_REDIS) {
		if (!be->port || !be->pid)
			fail_msg("redis-server did not start: the redis backend cannot be tested");
		c = raw_connect(be->port);
		assert_non_null(c);
		r = redisCommand(c, "SELECT 3");
		freeReplyObject(r);
		r = redisCommand(c, "FLUSHDB");
		assert_non_null(r);
		freeReplyObject(r);
		redisFree(c);
	}
	assert_int_equal(loop_alloc(&f->l, LOOP_CLOCK_MONOTONIC), 0);
	if (loc_open(&f->s, f->url, why, sizeof(why)))
		fail_msg("loc_open %s: %s", f->url, why);
	return 0;
}

static void fx_teardown(struct fx *f)
{
	loc_close(f->s);
	loop_free(f->l);
	assert_int_equal(mem_live(), f->live0); /* leak check */
}

/* --- waiting for callbacks --- */

static void wait_flag(struct loop *l, const bool *flag)
{
	int64_t end = mono_ms() + WAIT_MS;

	while (!*flag) {
		if (mono_ms() > end)
			fail_msg("no callback from the store within %d ms", WAIT_MS);
		loop_once(l, 50);
	}
}

static void on_result(int err, const struct loc_binding *b, unsigned n, void *arg)
{
	struct fx *f = arg;

	assert_false(f->in_call); /* never inside the call */
	assert_false(f->done);	  /* exactly once */
	assert_true(n <= LOC_MAX_BINDINGS);
	assert_true(err == 0 || (b == NULL && n == 0));
	f->err = err;
	f->n = n;
	if (n)
		memcpy(f->b, b, n * sizeof(*b));
	f->done = true;
}

static void on_done(int err, void *arg)
{
	struct fx *f = arg;

	assert_false(f->in_call);
	assert_false(f->done);
	f->err = err;
	f->done = true;
}

static void on_user(int err, const struct loc_user *u, void *arg)
{
	struct fx *f = arg;

	assert_false(f->in_call);
	assert_false(f->done);
	assert_true(err == 0 || u == NULL);
	f->err = err;
	if (u)
		f->user = *u;
	f->done = true;
}

static int upd(struct fx *f, const char *aor, const struct loc_change *c, unsigned n, bool star,
	       uint32_t cseq, const char *call_id)
{
	f->done = false;
	f->in_call = true;
	assert_int_equal(loc_update(f->s, f->l, aor, c, n, star, cseq, call_id, on_result, f), 0);
	f->in_call = false;
	wait_flag(f->l, &f->done);
	return f->err;
}

static int look(struct fx *f, const char *aor)
{
	f->done = false;
	f->in_call = true;
	assert_int_equal(loc_lookup(f->s, f->l, aor, on_result, f), 0);
	f->in_call = false;
	wait_flag(f->l, &f->done);
	return f->err;
}

static int rm(struct fx *f, const char *aor)
{
	f->done = false;
	f->in_call = true;
	assert_int_equal(loc_remove(f->s, f->l, aor, on_done, f), 0);
	f->in_call = false;
	wait_flag(f->l, &f->done);
	return f->err;
}

static int uget(struct fx *f, const char *user)
{
	f->done = false;
	f->in_call = true;
	assert_int_equal(loc_user_get(f->s, f->l, user, on_user, f), 0);
	f->in_call = false;
	wait_flag(f->l, &f->done);
	return f->err;
}

/* A change of contact with an absolute expiry (0 removes). */
static struct loc_change cha(const char *contact, const char *call_id, uint32_t cseq,
			     int64_t expires)
{
	struct loc_change c;

	memset(&c, 0, sizeof(c));
	snprintf(c.b.contact, sizeof(c.b.contact), "%s", contact);
	snprintf(c.b.call_id, sizeof(c.b.call_id), "%s", call_id);
	c.b.cseq = cseq;
	c.b.expires = expires;
	c.b.q = -1;
	snprintf(c.b.received, sizeof(c.b.received), "udp:127.0.0.1:5060");
	return c;
}

/* The same, expiring rel seconds from now (rel 0: a removal). */
static struct loc_change ch(const char *contact, const char *call_id, uint32_t cseq, int rel)
{
	return cha(contact, call_id, cseq, rel ? loc_now() + rel : 0);
}

/* The binding of the last result whose contact is exactly contact, or NULL. */
static const struct loc_binding *got(const struct fx *f, const char *contact)
{
	unsigned i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->b[i].contact, contact) == 0)
			return &f->b[i];
	return NULL;
}

/* --- worker threads: many requests in flight from a loop of their own --- */

struct worker {
	struct loc_store *s;
	const char *aor; /* one AOR for all updates, or NULL: "gc<k>@h" each */
	unsigned first, count;
	unsigned done, failed;
	int first_err;
	bool timed_out;
};

static void worker_done(int err, const struct loc_binding *b, unsigned n, void *arg)
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
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct loc_change c;
	struct loop *l;
	char aor[64], contact[64], cid[32];
	unsigned i;
	int64_t end;

	if (loop_alloc(&l, LOOP_CLOCK_MONOTONIC))
		return NULL;
	for (i = 0; i < w->count; i++) {
		unsigned k = w->first + i;

		if (w->aor)
			snprintf(aor, sizeof(aor), "%s", w->aor);
		else
			snprintf(aor, sizeof(aor), "gc%u@h", k);
		snprintf(contact, sizeof(contact), "sip:u%u@192.0.2.1:%u", k, 1024 + k);
		snprintf(cid, sizeof(cid), "call-%u", k);
		c = ch(contact, cid, 1, 300);
		if (loc_update(w->s, l, aor, &c, 1, false, 1, cid, worker_done, w)) {
			w->failed++;
			w->done++;
		}
	}
	end = mono_ms() + 4 * WAIT_MS;
	while (w->done < w->count && mono_ms() < end)
		loop_once(l, 50);
	w->timed_out = w->done < w->count;
	/* a late callback would touch w: wait for all before going (bounded above) */
	loop_free(l);
	return NULL;
}

/* Run two workers (on stores s1 and s2) at once. */
static void run_workers(struct worker *w, struct loc_store *s1, struct loc_store *s2)
{
	pthread_t t[2];

	w[0].s = s1;
	w[1].s = s2;
	assert_int_equal(pthread_create(&t[0], NULL, worker_main, &w[0]), 0);
	assert_int_equal(pthread_create(&t[1], NULL, worker_main, &w[1]), 0);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	assert_false(w[0].timed_out);
	assert_false(w[1].timed_out);
	if (w[0].failed || w[1].failed)
		fail_msg("updates failed: %u, %u (err %d, %d)", w[0].failed, w[1].failed,
			 w[0].first_err, w[1].first_err);
	assert_int_equal(w[0].done, w[0].count);
	assert_int_equal(w[1].done, w[1].count);
}
