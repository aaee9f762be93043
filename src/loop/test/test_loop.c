/*
 * test_loop.c - the epoll loop: fd callbacks, removal from inside callbacks
 * (also of an fd later in the same batch), loop_post from other threads,
 * loop_stop from another thread, monotonic timers, OOM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "ringlet/loop.h"
#include "ringlet/mem.h"

static size_t live_before;

static int setup(void **state)
{
	(void)state;
	live_before = mem_live();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(mem_live(), live_before); /* leak check */
	return 0;
}

static struct loop *mloop(void)
{
	struct loop *l = NULL;

	assert_int_equal(loop_alloc(&l, LOOP_CLOCK_MONOTONIC), 0);
	return l;
}

static uint64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

struct pipe_ctx {
	struct loop *l;
	int fds[2];
	unsigned calls;
	unsigned last_events;
	char got[16];
	size_t ngot;
};

static void pipe_open(struct pipe_ctx *p, struct loop *l)
{
	memset(p, 0, sizeof(*p));
	p->l = l;
	assert_int_equal(pipe(p->fds), 0);
}

static void pipe_close(struct pipe_ctx *p)
{
	if (p->fds[0] >= 0)
		close(p->fds[0]);
	if (p->fds[1] >= 0)
		close(p->fds[1]);
	p->fds[0] = p->fds[1] = -1;
}

static void on_readable(int fd, unsigned events, void *arg)
{
	struct pipe_ctx *p = arg;
	ssize_t n;

	p->calls++;
	p->last_events = events;
	n = read(fd, p->got + p->ngot, sizeof(p->got) - p->ngot);
	if (n > 0)
		p->ngot += (size_t)n;
}

static void test_fd_read(void **state)
{
	struct loop *l = mloop();
	struct pipe_ctx p;
	(void)state;

	pipe_open(&p, l);
	assert_int_equal(loop_fd_add(l, p.fds[0], LOOP_IN, on_readable, &p), 0);
	assert_int_equal(loop_once(l, 0), 0);
	assert_int_equal(p.calls, 0); /* nothing to read yet */
	assert_int_equal(write(p.fds[1], "abc", 3), 3);
	assert_int_equal(loop_once(l, 1000), 0);
	assert_int_equal(p.calls, 1);
	assert_int_equal(p.last_events, LOOP_IN);
	assert_int_equal(p.ngot, 3);
	assert_memory_equal(p.got, "abc", 3);

	/* Paused: no callback even though data waits. */
	assert_int_equal(write(p.fds[1], "d", 1), 1);
	assert_int_equal(loop_fd_mod(l, p.fds[0], 0), 0);
	assert_int_equal(loop_once(l, 0), 0);
	assert_int_equal(p.calls, 1);
	assert_int_equal(loop_fd_mod(l, p.fds[0], LOOP_IN), 0);
	assert_int_equal(loop_once(l, 0), 0);
	assert_int_equal(p.calls, 2);

	/* Writer end closed: HUP is reported as IN and OUT. */
	close(p.fds[1]);
	p.fds[1] = -1;
	assert_int_equal(loop_once(l, 1000), 0);
	assert_int_equal(p.calls, 3);
	assert_int_equal(p.last_events, LOOP_IN | LOOP_OUT);

	loop_fd_del(l, p.fds[0]);
	loop_fd_del(l, p.fds[0]); /* twice: no-op */
	assert_int_equal(loop_once(l, 0), 0);
	assert_int_equal(p.calls, 3);
	pipe_close(&p);
	loop_free(l);
}

static void on_writable(int fd, unsigned events, void *arg)
{
	unsigned *n = arg;

	(void)fd;
	if (events & LOOP_OUT)
		(*n)++;
}

static void test_fd_errors(void **state)
{
	struct loop *l = mloop();
	unsigned n = 0;
	int efd = eventfd(0, EFD_NONBLOCK);
	(void)state;

	assert_true(efd >= 0);
	assert_int_equal(loop_fd_add(l, -1, LOOP_IN, on_writable, &n), EBADF);
	assert_int_equal(loop_fd_add(l, efd, 0x10, on_writable, &n), EINVAL);
	assert_int_equal(loop_fd_add(l, efd, LOOP_IN, NULL, &n), EINVAL);
	assert_int_equal(loop_fd_mod(l, efd, LOOP_IN), ENOENT);
	assert_int_equal(loop_fd_add(l, efd, LOOP_OUT, on_writable, &n), 0);
	assert_int_equal(loop_fd_add(l, efd, LOOP_OUT, on_writable, &n), EEXIST);
	assert_int_equal(loop_fd_mod(l, efd, 0x10), EINVAL);
	assert_int_equal(loop_once(l, 0), 0);
	assert_int_equal(n, 1); /* an eventfd is always writable */
	loop_fd_del(l, efd);
	assert_int_equal(loop_once(l, 0), 0);
	assert_int_equal(n, 1);
	close(efd);
	/* Not an fd epoll accepts. */
	assert_int_equal(loop_fd_add(l, 100000, LOOP_IN, on_writable, &n), EBADF);
	loop_free(l);
}

/*
 * Removal inside callbacks.  Every fd is readable in the same epoll batch;
 * whichever callback runs first removes the others (mode 0), closes them and
 * reuses the fd number for a fresh registration (mode 1), or removes itself
 * (mode 2).  A stale event must never reach a removed or new registration.
 */
#define NFD 8

struct batch {
	struct loop *l;
	int mode;
	int rd[NFD], wr[NFD];
	unsigned calls[NFD];
	unsigned first;
	unsigned total;
	int reused_fd;
	unsigned reused_calls;
};

static void on_reused(int fd, unsigned events, void *arg)
{
	struct batch *b = arg;

	(void)fd;
	(void)events;
	b->reused_calls++;
}

static void on_batch(int fd, unsigned events, void *arg)
{
	struct batch *b = arg;
	unsigned me = NFD;

	(void)events;
	for (unsigned i = 0; i < NFD; i++)
		if (b->rd[i] == fd)
			me = i;
	assert_true(me < NFD);
	b->calls[me]++;
	if (b->total++ > 0)
		return;
	b->first = me;
	if (b->mode == 2) {
		loop_fd_del(b->l, fd);
		close(fd);
		b->rd[me] = -1;
		return;
	}
	for (unsigned i = 0; i < NFD; i++) {
		if (i == me)
			continue;
		loop_fd_del(b->l, b->rd[i]);
		if (b->mode == 1 && i == (me + 1) % NFD) {
			/* Close and reuse the number: dup2 keeps it, and the new file is readable.
			 */
			int fds[2];

			assert_int_equal(pipe(fds), 0);
			assert_int_equal(write(fds[1], "y", 1), 1);
			assert_int_equal(dup2(fds[0], b->rd[i]), b->rd[i]);
			close(fds[0]);
			close(b->wr[i]);
			b->wr[i] = fds[1];
			b->reused_fd = b->rd[i];
			assert_int_equal(loop_fd_add(b->l, b->rd[i], LOOP_IN, on_reused, b), 0);
		}
	}
}

static void test_remove_in_callback(void **state)
{
	(void)state;
	for (int mode = 0; mode < 3; mode++) {
		struct batch b = {.mode = mode, .reused_fd = -1};

		b.l = mloop();
		for (unsigned i = 0; i < NFD; i++) {
			int fds[2];

			assert_int_equal(pipe(fds), 0);
			b.rd[i] = fds[0];
			b.wr[i] = fds[1];
			assert_int_equal(loop_fd_add(b.l, b.rd[i], LOOP_IN, on_batch, &b), 0);
			assert_int_equal(write(b.wr[i], "x", 1), 1);
		}
		assert_int_equal(loop_once(b.l, 1000), 0);
		if (mode == 2) {
			/* Self-removal: every fd runs once, none twice. */
			assert_int_equal(b.total, NFD);
			for (unsigned i = 0; i < NFD; i++)
				assert_int_equal(b.calls[i], 1);
		} else {
			assert_int_equal(b.total, 1);
			assert_int_equal(b.calls[b.first], 1);
			/* The reused number's stale event was dropped, not handed to on_reused. */
			assert_int_equal(b.reused_calls, 0);
		}
		if (mode == 1) {
			/* ...and the new registration works from the next iteration. */
			assert_int_equal(loop_once(b.l, 1000), 0);
			assert_int_equal(b.reused_calls, 1);
			loop_fd_del(b.l, b.reused_fd);
		}
		for (unsigned i = 0; i < NFD; i++) {
			loop_fd_del(b.l, b.rd[i]);
			if (b.rd[i] >= 0)
				close(b.rd[i]);
			close(b.wr[i]);
		}
		loop_free(b.l);
	}
}

/* loop_post from several threads: all run on the loop thread, FIFO per producer. */
#define PRODUCERS 4
#define POSTS 5000

struct post_item {
	struct post_sink *sink;
	unsigned producer;
	unsigned seq;
};

struct post_sink {
	pthread_t loop_thread;
	unsigned next[PRODUCERS];
	unsigned received;
	bool bad_order;
	bool bad_thread;
};

struct producer {
	struct loop *l;
	struct post_sink *sink;
	unsigned id;
	struct post_item items[POSTS];
};

static void on_post(void *arg)
{
	struct post_item *it = arg;
	struct post_sink *s = it->sink;

	if (!pthread_equal(pthread_self(), s->loop_thread))
		s->bad_thread = true;
	if (it->seq != s->next[it->producer])
		s->bad_order = true;
	s->next[it->producer] = it->seq + 1;
	s->received++;
}

static void *produce(void *arg)
{
	struct producer *p = arg;

	for (unsigned i = 0; i < POSTS; i++) {
		p->items[i] = (struct post_item){p->sink, p->id, i};
		while (loop_post(p->l, on_post, &p->items[i]) != 0)
			sleep_ms(1);
		if (i % 1000 == 0)
			sleep_ms(1); /* let the loop go idle and be woken again */
	}
	return NULL;
}

static void test_post_threads(void **state)
{
	struct loop *l = mloop();
	struct post_sink sink = {.loop_thread = pthread_self()};
	struct producer *prod = calloc(PRODUCERS, sizeof(*prod));
	pthread_t th[PRODUCERS];
	uint64_t deadline = real_ms() + 30000;
	(void)state;

	assert_non_null(prod);
	for (unsigned i = 0; i < PRODUCERS; i++) {
		prod[i].l = l;
		prod[i].sink = &sink;
		prod[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, produce, &prod[i]), 0);
	}
	/* Only the posts' wake-ups end each wait early; a lost one leaves items queued. */
	while (sink.received < PRODUCERS * POSTS && real_ms() < deadline)
		assert_int_equal(loop_once(l, 2000), 0);
	for (unsigned i = 0; i < PRODUCERS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(sink.received, PRODUCERS * POSTS);
	assert_false(sink.bad_order);
	assert_false(sink.bad_thread);
	free(prod);
	loop_free(l);
}

/*
 * Lost wake-ups: a producer posts short bursts and waits for each burst to
 * run before the next.  A post whose wake-up got lost would sit in the queue
 * while the loop sleeps, and the producer would time out.
 */
struct pingpong {
	struct loop *l;
	atomic_uint done;
	unsigned sent;
	unsigned timeouts;
};

static void pp_run(void *arg)
{
	struct pingpong *pp = arg;

	atomic_fetch_add(&pp->done, 1);
}

static void *pp_produce(void *arg)
{
	struct pingpong *pp = arg;
	unsigned sent = 0;

	for (unsigned i = 0; i < 2000; i++) {
		unsigned burst = 1 + i % 3;
		uint64_t deadline;

		for (unsigned k = 0; k < burst; k++, sent++)
			if (loop_post(pp->l, pp_run, pp) != 0)
				pp->timeouts++; /* reported by the main thread */
		deadline = real_ms() + 5000;
		while (atomic_load(&pp->done) < sent && real_ms() < deadline)
			sched_yield(); /* the loop runs the burst on its own thread */
		if (atomic_load(&pp->done) < sent)
			pp->timeouts++;
	}
	pp->sent = sent;
	loop_stop(pp->l);
	return NULL;
}

static void test_post_wakeups(void **state)
{
	struct pingpong pp = {.l = mloop()};
	pthread_t th;
	(void)state;

	atomic_init(&pp.done, 0);
	assert_int_equal(pthread_create(&th, NULL, pp_produce, &pp), 0);
	assert_int_equal(loop_run(pp.l), 0);
	pthread_join(th, NULL);
	assert_int_equal(pp.timeouts, 0);
	assert_int_equal(pp.sent, 3999);
	assert_int_equal(atomic_load(&pp.done), pp.sent);
	loop_free(pp.l);
}

/* An event already in the batch is not delivered once a callback turned it off. */
struct modctx {
	struct loop *l;
	int fd[2];
	unsigned calls[2];
};

static void on_mod(int fd, unsigned events, void *arg)
{
	struct modctx *m = arg;
	unsigned me = fd == m->fd[1];

	assert_true(events & LOOP_OUT);
	m->calls[me]++;
	assert_int_equal(loop_fd_mod(m->l, m->fd[!me], LOOP_IN), 0);
}

static void test_mod_in_callback(void **state)
{
	struct modctx m = {.l = mloop()};
	(void)state;

	for (int i = 0; i < 2; i++) {
		m.fd[i] = eventfd(0, EFD_NONBLOCK); /* writable, not readable */
		assert_true(m.fd[i] >= 0);
		assert_int_equal(loop_fd_add(m.l, m.fd[i], LOOP_OUT, on_mod, &m), 0);
	}
	assert_int_equal(loop_once(m.l, 1000), 0);
	assert_int_equal(m.calls[0] + m.calls[1], 1);
	for (int i = 0; i < 2; i++) {
		loop_fd_del(m.l, m.fd[i]);
		close(m.fd[i]);
	}
	loop_free(m.l);
}

struct stopper {
	struct loop *l;
	unsigned delay_ms;
};

static void *stop_later(void *arg)
{
	struct stopper *s = arg;

	sleep_ms(s->delay_ms);
	loop_stop(s->l);
	return NULL;
}

static void test_stop_thread(void **state)
{
	struct loop *l = mloop();
	struct stopper s = {l, 30};
	pthread_t th;
	(void)state;

	/* Nothing registered, no timer: only loop_stop can end loop_run. */
	assert_int_equal(pthread_create(&th, NULL, stop_later, &s), 0);
	assert_int_equal(loop_run(l), 0);
	pthread_join(th, NULL);

	/* Stop before run: run returns; and the loop can run again afterwards. */
	loop_stop(l);
	assert_int_equal(loop_run(l), 0);
	s.delay_ms = 10;
	assert_int_equal(pthread_create(&th, NULL, stop_later, &s), 0);
	assert_int_equal(loop_run(l), 0);
	pthread_join(th, NULL);
	loop_free(l);
}

/* Posts and stop from callbacks on the loop thread itself. */
static void post_stop(void *arg)
{
	loop_stop(arg);
}

static void test_post_self(void **state)
{
	struct loop *l = mloop();
	(void)state;

	assert_int_equal(loop_post(l, post_stop, l), 0);
	assert_int_equal(loop_run(l), 0);
	/* Posts left when the loop is freed are dropped (and freed). */
	assert_int_equal(loop_post(l, post_stop, l), 0);
	loop_free(l);
}

struct mtimer {
	struct loop *l;
	struct loop_timer t, z;
	uint64_t fired_at;
	unsigned n, nz;
	unsigned iter_started, iter_fired;
	unsigned iter;
};

static void mt_zero(void *arg)
{
	struct mtimer *m = arg;

	m->nz++;
	m->iter_fired = m->iter;
}

static void mt_fire(void *arg)
{
	struct mtimer *m = arg;

	m->n++;
	m->fired_at = real_ms();
	m->iter_started = m->iter;
	loop_timer_start(m->l, &m->z, 0, mt_zero, m);
	assert_int_equal(m->nz, 0);
}

/* Monotonic clock: loop_once(-1) sleeps until the timer, which is never early. */
static void test_monotonic_timer(void **state)
{
	struct mtimer m = {0};
	uint64_t start;
	(void)state;

	m.l = mloop();
	/*
	 * A delay counts from the loop's cached time (loop.h), which may be older
	 * than the real time now (a slow loop_alloc under valgrind): measure from it.
	 */
	start = loop_now(m.l);
	loop_timer_start(m.l, &m.t, 25, mt_fire, &m);
	while (m.n == 0 && real_ms() < start + 10000) {
		m.iter++;
		assert_int_equal(loop_once(m.l, -1), 0);
	}
	assert_int_equal(m.n, 1);
	assert_true(m.fired_at >= start + 25);
	assert_true(loop_now(m.l) >= start + 25);
	/* The delay-0 timer started by the callback runs on the next iteration, not this one. */
	assert_int_equal(m.nz, 0);
	m.iter++;
	assert_int_equal(loop_once(m.l, -1), 0); /* must not block: a timer is due */
	assert_int_equal(m.nz, 1);
	assert_int_equal(m.iter_fired, m.iter_started + 1);
	/* A cancelled timer neither fires nor keeps the loop waiting for it. */
	loop_timer_start(m.l, &m.t, 5, mt_fire, &m);
	loop_timer_cancel(&m.t);
	sleep_ms(10);
	assert_int_equal(loop_once(m.l, 0), 0);
	assert_int_equal(m.n, 1);
	loop_free(m.l);
}

/* A delay-0 timer started by an fd callback runs at the end of the same loop_once. */
struct fdzero {
	struct loop *l;
	struct loop_timer t;
	unsigned fd_calls, timer_calls;
	bool timer_ran_inside_start;
};

static void fz_timer(void *arg)
{
	struct fdzero *z = arg;

	z->timer_calls++;
}

static void fz_fd(int fd, unsigned events, void *arg)
{
	struct fdzero *z = arg;
	uint64_t v;

	(void)events;
	assert_int_equal(read(fd, &v, sizeof(v)), sizeof(v));
	z->fd_calls++;
	loop_timer_start(z->l, &z->t, 0, fz_timer, z);
	z->timer_ran_inside_start = z->timer_calls != 0;
}

static void test_zero_from_fd(void **state)
{
	struct fdzero z = {.l = mloop()};
	int efd = eventfd(1, EFD_NONBLOCK);
	(void)state;

	assert_true(efd >= 0);
	assert_int_equal(loop_fd_add(z.l, efd, LOOP_IN, fz_fd, &z), 0);
	assert_int_equal(loop_once(z.l, 1000), 0);
	assert_int_equal(z.fd_calls, 1);
	assert_false(z.timer_ran_inside_start);
	assert_int_equal(z.timer_calls, 1);
	assert_false(loop_timer_pending(&z.t));
	loop_fd_del(z.l, efd);
	close(efd);
	loop_free(z.l);
}

/* OOM: every allocation failure of loop_alloc reports ENOMEM and leaks nothing. */
static void test_oom(void **state)
{
	struct loop *l = NULL;
	long n;
	(void)state;

	for (n = 0; n < 100; n++) {
		size_t live = mem_live();
		int err;

		mem_fail_after(n);
		err = loop_alloc(&l, LOOP_CLOCK_VIRTUAL);
		if (err == 0)
			break;
		assert_int_equal(err, ENOMEM);
		assert_true(mem_fail_count() > 0);
		assert_int_equal(mem_live(), live);
	}
	mem_fail_after(-1);
	assert_true(n > 0); /* loop_alloc does allocate */
	assert_non_null(l);
	mem_fail_after(0);
	assert_int_equal(loop_post(l, post_stop, l), ENOMEM);
	int efd = eventfd(0, 0);
	assert_int_equal(loop_fd_add(l, efd, LOOP_OUT, on_writable, NULL), ENOMEM);
	mem_fail_after(-1);
	assert_int_equal(loop_fd_add(l, efd, LOOP_OUT, on_writable, &n), 0);
	loop_fd_del(l, efd);
	close(efd);
	loop_free(l);
}

/* Hooks: a log of what ran, in order ('B'/'E' per hook id, 'p' post, 't' timer). */
struct hooklog {
	struct loop *l;
	char ev[64];
	unsigned n;
	struct loop_hook h[2];
	bool del_self; /* hook 1 removes itself on its next end */
};

static void hook_log(struct hooklog *g, char c)
{
	if (g->n < sizeof(g->ev) - 1)
		g->ev[g->n++] = c;
	g->ev[g->n] = 0;
}

static void on_hook0(void *arg, bool begin)
{
	hook_log(arg, begin ? 'B' : 'E');
}

static void on_hook1(void *arg, bool begin)
{
	struct hooklog *g = arg;

	hook_log(g, begin ? 'b' : 'e');
	if (!begin && g->del_self)
		loop_hook_del(g->l, &g->h[1]);
}

static void hook_post(void *arg)
{
	hook_log(arg, 'p');
}

static void hook_timer(void *arg)
{
	hook_log(arg, 't');
}

/* Hooks bracket the posts and due timers of each iteration, newest hook first. */
static void test_hooks(void **state)
{
	struct hooklog g = {.l = mloop()};
	struct loop_timer t;
	(void)state;

	loop_timer_init(&t);
	loop_hook_add(g.l, &g.h[0], on_hook0, &g);
	loop_hook_add(g.l, &g.h[1], on_hook1, &g);
	assert_int_equal(loop_post(g.l, hook_post, &g), 0);
	assert_int_equal(loop_post(g.l, hook_post, &g), 0);
	loop_timer_start(g.l, &t, 0, hook_timer, &g);
	assert_int_equal(loop_once(g.l, 1000), 0);
	assert_string_equal(g.ev, "bBppteE");
	/* an iteration with nothing to do still brackets; a hook removes itself */
	g.n = 0;
	g.del_self = true;
	assert_int_equal(loop_once(g.l, 0), 0);
	assert_string_equal(g.ev, "bBeE");
	g.n = 0;
	assert_int_equal(loop_once(g.l, 0), 0);
	assert_string_equal(g.ev, "BE");
	/* removed: no more calls; removing again is a no-op */
	loop_hook_del(g.l, &g.h[0]);
	loop_hook_del(g.l, &g.h[0]);
	g.n = 0;
	g.ev[0] = 0;
	assert_int_equal(loop_post(g.l, hook_post, &g), 0);
	assert_int_equal(loop_once(g.l, 1000), 0);
	assert_string_equal(g.ev, "p");
	loop_free(g.l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fd_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fd_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_in_callback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_post_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_post_wakeups, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mod_in_callback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_thread, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_post_self, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_monotonic_timer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zero_from_fd, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oom, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hooks, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
