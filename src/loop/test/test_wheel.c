/*
 * test_wheel.c - the timer wheel under the virtual clock: expiry order and
 * exactness, cancel at every level, restarts from callbacks, delay 0, long
 * delays, a million timers, and the simulator API (loop_next_timer).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <errno.h>

#include <cmocka.h>

#include "ringlet/loop.h"
#include "ringlet/mem.h"

#define HOUR (3600u * 1000u)
#define DAY (24u * HOUR)

/* xorshift64*: a fixed seed gives the same "random" timers on every run. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

struct rec {
	struct loop *l;
	loop_ms *when; /* when[i]: loop_now() when timer i fired */
	unsigned *hits;
	unsigned *order;
	unsigned nfired;
	unsigned cap; /* entries of order */
	loop_ms last;
	bool out_of_order;
};

struct tmr {
	struct loop_timer t;
	struct rec *r;
	unsigned id;
	loop_ms expect;
};

static void on_fire(void *arg)
{
	struct tmr *x = arg;
	struct rec *r = x->r;
	loop_ms now = loop_now(r->l);

	if (now < r->last)
		r->out_of_order = true;
	r->last = now;
	r->when[x->id] = now;
	r->hits[x->id]++;
	if (r->nfired < r->cap)
		r->order[r->nfired] = x->id;
	r->nfired++;
}

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

static struct loop *vloop(void)
{
	struct loop *l = NULL;

	assert_int_equal(loop_alloc(&l, LOOP_CLOCK_VIRTUAL), 0);
	assert_int_equal(loop_now(l), 0);
	return l;
}

struct rec_set {
	struct rec r;
	struct tmr *t;
	unsigned n;
};

static void set_init(struct rec_set *s, struct loop *l, unsigned n)
{
	s->n = n;
	s->t = calloc(n, sizeof(*s->t));
	s->r = (struct rec){.l = l, .cap = n};
	s->r.when = calloc(n, sizeof(loop_ms));
	s->r.hits = calloc(n, sizeof(unsigned));
	s->r.order = calloc(n, sizeof(unsigned));
	assert_non_null(s->t);
	assert_non_null(s->r.when);
	assert_non_null(s->r.hits);
	assert_non_null(s->r.order);
	for (unsigned i = 0; i < n; i++) {
		s->t[i].r = &s->r;
		s->t[i].id = i;
	}
}

static void set_free(struct rec_set *s)
{
	free(s->t);
	free(s->r.when);
	free(s->r.hits);
	free(s->r.order);
}

/* Every timer fired once, exactly at its expiry, in order of expiry. */
static void set_check(const struct rec_set *s)
{
	assert_false(s->r.out_of_order);
	assert_int_equal(s->r.nfired, s->n);
	for (unsigned i = 1; i < s->n; i++) /* the firing sequence is sorted by expiry */
		assert_true(s->t[s->r.order[i - 1]].expect <= s->t[s->r.order[i]].expect);
	for (unsigned i = 0; i < s->n; i++) {
		assert_int_equal(s->r.hits[i], 1);
		assert_int_equal(s->r.when[i], s->t[i].expect);
		assert_false(loop_timer_pending(&s->t[i].t));
	}
}

/* Delay ranges of the random timers: one per wheel level, plus beyond the wheel. */
static loop_ms random_delay(uint64_t *seed, unsigned mode)
{
	static const loop_ms top[] = {256, 65536, 1u << 24, (loop_ms)1 << 32, (loop_ms)1 << 36};
	uint64_t r = rnd(seed);
	unsigned lv = (unsigned)(r % (mode == 0 ? 5 : mode)); /* mode n: levels below n */

	return 1 + (r >> 8) % top[lv];
}

enum drive { DRIVE_ONE_JUMP, DRIVE_RANDOM_STEPS, DRIVE_NEXT_TIMER };

struct order_case {
	const char *name;
	unsigned n;
	unsigned mode; /* see random_delay */
	enum drive drive;
	uint64_t seed;
};

static const struct order_case order_cases[] = {
    {"level0 one jump", 3000, 1, DRIVE_ONE_JUMP, 1},
    {"level0-1 random steps", 4000, 2, DRIVE_RANDOM_STEPS, 2},
    {"level0-2 simulator", 4000, 3, DRIVE_NEXT_TIMER, 3},
    {"all levels one jump", 5000, 0, DRIVE_ONE_JUMP, 4},
    {"all levels random steps", 5000, 0, DRIVE_RANDOM_STEPS, 5},
    {"all levels simulator", 5000, 0, DRIVE_NEXT_TIMER, 6},
    {"up to level 3 simulator", 5000, 4, DRIVE_NEXT_TIMER, 7},
};

static void run_order_case(const struct order_case *c)
{
	struct loop *l = vloop();
	struct rec_set s;
	uint64_t seed = c->seed;
	loop_ms maxe = 0;
	unsigned fired = 0, steps = 0;

	set_init(&s, l, c->n);
	/* Start in a few batches with time moving in between, so cur is not aligned. */
	for (unsigned i = 0; i < c->n; i++) {
		loop_ms d = random_delay(&seed, c->mode);

		if (i % 1000 == 999)
			fired += loop_advance(l, 1 + rnd(&seed) % 300);
		loop_timer_start(l, &s.t[i].t, d, on_fire, &s.t[i]);
		s.t[i].expect = loop_now(l) + d;
		assert_true(loop_timer_pending(&s.t[i].t));
		if (s.t[i].expect > maxe)
			maxe = s.t[i].expect;
	}
	switch (c->drive) {
	case DRIVE_ONE_JUMP:
		fired += loop_advance(l, maxe - loop_now(l));
		break;
	case DRIVE_RANDOM_STEPS:
		while (loop_now(l) < maxe) {
			loop_ms step = 1 + rnd(&seed) % (maxe / 500 + 2);

			fired += loop_advance(l, step);
		}
		break;
	case DRIVE_NEXT_TIMER:
		for (int64_t d; (d = loop_next_timer(l)) >= 0; steps++) {
			unsigned k;

			assert_true(d > 0); /* nothing started with delay 0 */
			k = loop_advance(l, (loop_ms)d);
			assert_true(k >= 1); /* exact: the next timer is due right then */
			fired += k;
		}
		assert_true(steps <= c->n);
		break;
	}
	assert_int_equal(fired, c->n);
	assert_int_equal(loop_next_timer(l), -1);
	set_check(&s);
	set_free(&s);
	loop_free(l);
}

static void test_random_order(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(order_cases) / sizeof(order_cases[0]); i++) {
		print_message("case: %s\n", order_cases[i].name);
		run_order_case(&order_cases[i]);
	}
}

/* Cancel at every level: the cancelled timer never fires, its neighbour does. */
static void test_cancel_levels(void **state)
{
	static const loop_ms delays[] = {1,
					 2,
					 255,
					 256,
					 300,
					 65535,
					 65536,
					 70000,
					 1u << 24,
					 20000000,
					 (loop_ms)1 << 31,
					 ((loop_ms)1 << 32) - 1,
					 (loop_ms)1 << 32,
					 (loop_ms)1 << 33,
					 400ull * DAY};
	(void)state;

	for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		struct loop *l = vloop();
		struct rec_set s;

		set_init(&s, l, 3);
		loop_advance(l, 77); /* cur not aligned to a block */
		for (unsigned k = 0; k < 3; k++) {
			loop_timer_start(l, &s.t[k].t, delays[i] + k, on_fire, &s.t[k]);
			s.t[k].expect = loop_now(l) + delays[i] + k;
		}
		assert_int_equal(loop_next_timer(l), (int64_t)delays[i]);
		loop_timer_cancel(&s.t[0].t);
		assert_false(loop_timer_pending(&s.t[0].t));
		loop_timer_cancel(&s.t[0].t); /* idle: no-op */
		assert_int_equal(loop_next_timer(l), (int64_t)delays[i] + 1);
		loop_timer_cancel(&s.t[2].t);
		assert_int_equal(loop_next_timer(l), (int64_t)delays[i] + 1);
		assert_int_equal(loop_advance(l, delays[i] + 10), 1);
		assert_int_equal(s.r.hits[0], 0);
		assert_int_equal(s.r.hits[1], 1);
		assert_int_equal(s.r.hits[2], 0);
		assert_int_equal(s.r.when[1], s.t[1].expect);
		/* All gone: the bitmaps must say so too. */
		loop_timer_start(l, &s.t[0].t, delays[i], on_fire, &s.t[0]);
		loop_timer_cancel(&s.t[0].t);
		assert_int_equal(loop_next_timer(l), -1);
		set_free(&s);
		loop_free(l);
	}
}

/* Restarting a pending timer moves it; a cancelled slot stays usable. */
static void test_restart_pending(void **state)
{
	struct loop *l = vloop();
	struct rec_set s;
	(void)state;

	set_init(&s, l, 1);
	loop_timer_start(l, &s.t[0].t, 100, on_fire, &s.t[0]);
	loop_timer_start(l, &s.t[0].t, 5000, on_fire, &s.t[0]);
	assert_int_equal(loop_advance(l, 4999), 0);
	assert_int_equal(loop_advance(l, 1), 1);
	assert_int_equal(s.r.when[0], 5000);
	loop_timer_start(l, &s.t[0].t, 70000, on_fire, &s.t[0]);
	loop_timer_start(l, &s.t[0].t, 10, on_fire, &s.t[0]);
	assert_int_equal(loop_advance(l, 100000), 1);
	assert_int_equal(s.r.when[0], 5010);
	set_free(&s);
	loop_free(l);
}

/* Callbacks that start and cancel timers, including ones due in the same tick. */
struct chain {
	struct loop *l;
	struct loop_timer a, b, c, d, self;
	loop_ms fired_a, fired_b, fired_c, fired_d;
	unsigned nb, nc, nd, nself;
	loop_ms self_at[8];
	unsigned log[8];
	unsigned nlog;
};

static void chain_b(void *arg)
{
	struct chain *c = arg;

	c->nb++;
	c->fired_b = loop_now(c->l);
	c->log[c->nlog++] = 'b';
}

static void chain_c(void *arg)
{
	struct chain *c = arg;

	c->nc++;
	c->fired_c = loop_now(c->l);
	c->log[c->nlog++] = 'c';
}

static void chain_d(void *arg)
{
	struct chain *c = arg;

	c->nd++;
	c->fired_d = loop_now(c->l);
	c->log[c->nlog++] = 'd';
}

/* Due at 100 together with b, c and d: moves b, cancels d, starts c for "now". */
static void chain_a(void *arg)
{
	struct chain *c = arg;

	c->fired_a = loop_now(c->l);
	c->log[c->nlog++] = 'a';
	loop_timer_start(c->l, &c->b, 50, chain_b, c);
	loop_timer_cancel(&c->d);
	loop_timer_start(c->l, &c->c, 0, chain_c, c);
}

static void chain_self(void *arg)
{
	struct chain *c = arg;

	c->self_at[c->nself++] = loop_now(c->l);
	if (c->nself < 5)
		loop_timer_start(c->l, &c->self, 1000 * c->nself, chain_self, c);
}

static void test_callbacks_restart_cancel(void **state)
{
	struct chain c = {0};
	(void)state;

	c.l = vloop();
	loop_timer_start(c.l, &c.a, 100, chain_a, &c);
	loop_timer_start(c.l, &c.b, 100, chain_b, &c);
	loop_timer_start(c.l, &c.d, 100, chain_d, &c);
	loop_timer_start(c.l, &c.self, 1, chain_self, &c);
	assert_int_equal(loop_advance(c.l, 20000), 1 + 1 + 1 + 5); /* a, b, c, self x5 */
	assert_int_equal(c.fired_a, 100);
	assert_int_equal(c.nb, 1);
	assert_int_equal(c.fired_b, 150);
	assert_int_equal(c.nc, 1);
	assert_int_equal(c.fired_c, 100); /* delay 0 from a callback: same ms, after a */
	assert_int_equal(c.nd, 0);
	assert_int_equal(c.nlog, 3);
	assert_int_equal(c.log[0], 'a');
	assert_int_equal(c.log[1], 'c');
	assert_int_equal(c.log[2], 'b');
	assert_int_equal(c.nself, 5);
	static const loop_ms want[] = {1, 1001, 3001, 6001, 10001};
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(c.self_at[i], want[i]);
	loop_free(c.l);
}

struct zero {
	struct loop *l;
	struct loop_timer t;
	unsigned n;
	unsigned limit;
	loop_ms at[64];
};

static void zero_fire(void *arg)
{
	struct zero *z = arg;

	z->at[z->n < 64 ? z->n : 63] = loop_now(z->l);
	z->n++;
	if (z->n < z->limit)
		loop_timer_start(z->l, &z->t, 0, zero_fire, z);
}

/* Delay 0: never inside start; next iteration; a self-restarting one cannot livelock. */
static void test_delay_zero(void **state)
{
	struct zero z = {0};
	(void)state;

	z.l = vloop();
	z.limit = 1;
	loop_advance(z.l, 42);
	loop_timer_start(z.l, &z.t, 0, zero_fire, &z);
	assert_int_equal(z.n, 0); /* not recursively inside start */
	assert_true(loop_timer_pending(&z.t));
	assert_int_equal(loop_next_timer(z.l), 0);
	assert_int_equal(loop_advance(z.l, 0), 1);
	assert_int_equal(z.n, 1);
	assert_int_equal(z.at[0], 42);
	assert_int_equal(loop_next_timer(z.l), -1);

	/* Restarting itself with delay 0 forever: each pass fires it a bounded number of times. */
	z.n = 0;
	z.limit = 1000000;
	loop_timer_start(z.l, &z.t, 0, zero_fire, &z);
	assert_int_equal(loop_advance(z.l, 0), 1);
	assert_int_equal(loop_advance(z.l, 0), 1);
	assert_int_equal(z.n, 2);
	unsigned k = loop_advance(z.l, 10);
	assert_true(k >= 10 && k <= 21);
	assert_int_equal(loop_now(z.l), 52);
	loop_timer_cancel(&z.t);
	assert_int_equal(loop_next_timer(z.l), -1);

	/* loop_once in virtual mode is an iteration too: fires the due list, time stays. */
	z.n = 0;
	z.limit = 1;
	loop_timer_start(z.l, &z.t, 0, zero_fire, &z);
	assert_int_equal(loop_once(z.l, 0), 0);
	assert_int_equal(z.n, 1);
	assert_int_equal(z.at[0], 52);
	loop_free(z.l);
}

/* Hours and days: exact expiry, few simulator steps. */
static void test_long_delays(void **state)
{
	static const loop_ms delays[] = {HOUR,	       2 * HOUR + 7, DAY,      DAY + 1,
					 10 * DAY,     49 * DAY,     50 * DAY, 60 * DAY + 123,
					 400ull * DAY, 3650ull * DAY};
	const unsigned n = sizeof(delays) / sizeof(delays[0]);
	(void)state;

	for (int drive = 0; drive < 2; drive++) {
		struct loop *l = vloop();
		struct rec_set s;
		unsigned steps = 0, fired = 0;

		set_init(&s, l, n);
		loop_advance(l, 12345);
		for (unsigned i = 0; i < n; i++) {
			loop_timer_start(l, &s.t[i].t, delays[i], on_fire, &s.t[i]);
			s.t[i].expect = loop_now(l) + delays[i];
		}
		if (drive == 0) {
			fired = loop_advance(l, 3651ull * DAY);
		} else {
			for (int64_t d; (d = loop_next_timer(l)) >= 0; steps++) {
				assert_int_equal(loop_advance(l, (loop_ms)d), 1);
				fired++;
			}
			assert_int_equal(steps, n);
		}
		assert_int_equal(fired, n);
		set_check(&s);
		set_free(&s);
		loop_free(l);
	}
}

/*
 * loop_next_timer is exact even when a timer beyond the wheel's reach (2^32
 * ms) waits in an earlier level-3 slot than a later-started, earlier timer.
 */
static void test_next_timer_far(void **state)
{
	struct loop *l = vloop();
	struct rec_set s;
	const loop_ms far = (loop_ms)1 << 33, near = ((loop_ms)1 << 32) - (1u << 24);
	(void)state;

	set_init(&s, l, 2);
	loop_timer_start(l, &s.t[0].t, far, on_fire, &s.t[0]);
	s.t[0].expect = far;
	assert_int_equal(loop_advance(l, (loop_ms)1 << 31), 0);
	loop_timer_start(l, &s.t[1].t, near, on_fire, &s.t[1]);
	s.t[1].expect = ((loop_ms)1 << 31) + near;
	assert_true(s.t[1].expect < s.t[0].expect);
	assert_int_equal(loop_next_timer(l), (int64_t)near);
	assert_int_equal(loop_advance(l, near), 1);
	assert_int_equal(loop_next_timer(l), (int64_t)(far - loop_now(l)));
	assert_int_equal(loop_advance(l, far - loop_now(l)), 1);
	set_check(&s);
	set_free(&s);
	loop_free(l);
}

static void nop_fire(void *arg)
{
	unsigned *n = arg;

	(*n)++;
}

/* A million timers started and cancelled; then a quarter of a million fired in order. */
static void test_million(void **state)
{
	const unsigned n = 1000000;
	struct loop_timer *t = calloc(n, sizeof(*t));
	struct loop *l = vloop();
	uint64_t seed = 99;
	unsigned fired = 0;
	(void)state;

	assert_non_null(t);
	for (unsigned i = 0; i < n; i++)
		loop_timer_start(l, &t[i], random_delay(&seed, 0), nop_fire, &fired);
	for (unsigned i = 0; i < n; i++)
		assert_true(loop_timer_pending(&t[i]));
	/* Cancel in a scrambled order (stride coprime with n). */
	for (unsigned i = 0, k = 0; i < n; i++, k = (k + 7919) % n)
		loop_timer_cancel(&t[k]);
	for (unsigned i = 0; i < n; i++)
		assert_false(loop_timer_pending(&t[i]));
	assert_int_equal(loop_next_timer(l), -1);
	assert_int_equal(loop_advance(l, (loop_ms)1 << 37), 0);
	assert_int_equal(fired, 0);

	/* Fire a quarter million spread over all levels, and cancel every other one first. */
	for (unsigned i = 0; i < n / 4; i++)
		loop_timer_start(l, &t[i], random_delay(&seed, 0), nop_fire, &fired);
	for (unsigned i = 0; i < n / 4; i += 2)
		loop_timer_cancel(&t[i]);
	assert_int_equal(loop_advance(l, (loop_ms)1 << 37), n / 8);
	assert_int_equal(fired, n / 8);
	assert_int_equal(loop_next_timer(l), -1);
	free(t);
	loop_free(l);
}

/* Time moves without timers; loop_advance does nothing on the monotonic clock. */
static void test_clock(void **state)
{
	struct loop *l = vloop(), *m = NULL;
	struct loop_timer t;
	unsigned n = 0;
	(void)state;

	assert_int_equal(loop_advance(l, 5), 0);
	assert_int_equal(loop_now(l), 5);
	assert_int_equal(loop_advance(l, (loop_ms)1 << 40), 0);
	assert_int_equal(loop_now(l), 5 + ((loop_ms)1 << 40));
	loop_timer_init(&t);
	assert_false(loop_timer_pending(&t));
	loop_timer_start(l, &t, 1, nop_fire, &n);
	assert_int_equal(loop_next_timer(l), 1);
	assert_int_equal(loop_advance(l, 1), 1);
	assert_int_equal(n, 1);
	loop_free(l);

	assert_int_equal(loop_alloc(&m, LOOP_CLOCK_MONOTONIC), 0);
	assert_int_equal(loop_advance(m, 1000), 0);
	loop_free(m);
	assert_int_equal(loop_alloc(&m, 7), EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_random_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_levels, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart_pending, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_callbacks_restart_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delay_zero, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_delays, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_next_timer_far, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_million, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clock, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
