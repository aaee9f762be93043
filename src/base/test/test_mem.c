/*
 * test_mem.c - reference counting, destructor order, zeroing and alignment,
 * the shared (atomic) variant across threads, and the OOM countdown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdalign.h>
#include <string.h>

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
	mem_fail_after(-1);
	assert_int_equal(mem_live(), live_before); /* leak check */
	return 0;
}

/* Destructor log shared by the objects of one test. */
struct dlog {
	char seq[16];
	uint32_t child_refs[16]; /* refs of child[0] seen by each destructor (0: none) */
	unsigned n;
};

struct obj {
	struct dlog *log;
	char name;
	struct obj *child[2];
};

static void obj_destroy(void *p)
{
	struct obj *o = p;

	/* A child is still alive while its parent's destructor runs. */
	o->log->child_refs[o->log->n] = mem_nrefs(o->child[0]);
	o->log->seq[o->log->n++] = o->name;
	mem_deref(o->child[0]);
	mem_deref(o->child[1]);
}

static struct obj *obj_new(struct dlog *log, char name)
{
	struct obj *o = mem_alloc(sizeof(*o), obj_destroy);

	assert_non_null(o);
	o->log = log;
	o->name = name;
	return o;
}

static void test_refcount(void **state)
{
	struct dlog log = {0};
	struct obj *o = obj_new(&log, 'a');
	(void)state;

	assert_int_equal(mem_nrefs(o), 1);
	assert_ptr_equal(mem_ref(o), o);
	assert_ptr_equal(mem_ref(o), o);
	assert_int_equal(mem_nrefs(o), 3);
	assert_null(mem_deref(o));
	assert_null(mem_deref(o));
	assert_int_equal(log.n, 0); /* one reference left: still alive */
	assert_int_equal(mem_nrefs(o), 1);
	assert_null(mem_deref(o));
	assert_int_equal(log.n, 1);
	/* NULL-safe. */
	assert_null(mem_ref(NULL));
	assert_null(mem_deref(NULL));
	assert_int_equal(mem_nrefs(NULL), 0);
}

/* Parent destructor first; children go when their last holder drops them. */
static void test_destructor_order(void **state)
{
	struct dlog log = {0};
	struct obj *p = obj_new(&log, 'p');
	struct obj *c1 = obj_new(&log, '1'), *c2 = obj_new(&log, '2');
	struct obj *g = obj_new(&log, 'g');
	(void)state;

	c1->child[0] = g;	   /* c1 holds the only ref to g */
	p->child[0] = c1;	   /* p holds c1 */
	p->child[1] = mem_ref(c2); /* p and the test hold c2 */
	mem_deref(c2);
	mem_deref(p);
	assert_int_equal(log.n, 4);
	assert_memory_equal(log.seq, "p1g2", 4);
	assert_int_equal(log.child_refs[0], 1); /* p saw c1 alive */
	assert_int_equal(log.child_refs[1], 1); /* c1 saw g alive */
	assert_int_equal(log.child_refs[2], 0);
}

/* As above, but the test keeps c2 alive past its parent. */
static void test_shared_child(void **state)
{
	struct dlog log = {0};
	struct obj *p = obj_new(&log, 'p'), *c = obj_new(&log, 'c');
	uint32_t refs_seen;
	(void)state;

	p->child[0] = mem_ref(c);
	assert_int_equal(mem_nrefs(c), 2);
	mem_ref(p);
	mem_deref(p);
	assert_int_equal(log.n, 0);
	mem_deref(p);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.seq[0], 'p');
	assert_int_equal(log.child_refs[0], 2); /* the parent's ref was still held */
	refs_seen = mem_nrefs(c);
	assert_int_equal(refs_seen, 1);
	mem_deref(c);
	assert_int_equal(log.n, 2);
	assert_int_equal(log.seq[1], 'c');
}

static void test_zero_align(void **state)
{
	(void)state;
	for (size_t sz = 0; sz < 200; sz += 7) {
		unsigned char *p = mem_alloc(sz, NULL);

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
		for (size_t i = 0; i < sz; i++)
			assert_int_equal(p[i], 0);
		memset(p, 0xab, sz);
		mem_deref(p);
	}
	assert_null(mem_alloc(SIZE_MAX - 8, NULL)); /* overflow of size + header */

	char *s = mem_strndup("hello world", 5);
	assert_non_null(s);
	assert_string_equal(s, "hello");
	mem_deref(s);
	s = mem_strndup(NULL, 0);
	assert_non_null(s);
	assert_string_equal(s, "");
	mem_deref(s);
}

static void test_live_count(void **state)
{
	size_t base = mem_live();
	void *a = mem_alloc(1, NULL), *b = mem_alloc_shared(1, NULL);
	(void)state;

	assert_int_equal(mem_live(), base + 2);
	mem_ref(a);
	assert_int_equal(mem_live(), base + 2);
	mem_deref(a);
	mem_deref(a);
	mem_deref(b);
	assert_int_equal(mem_live(), base);
}

/* mem_alloc_shared: refs and derefs from several threads at once keep the count exact. */
#define THREADS 4
#define ROUNDS 100000

static void *hammer(void *arg)
{
	for (int i = 0; i < ROUNDS; i++) {
		mem_ref(arg);
		mem_deref(arg);
	}
	return NULL;
}

static void test_shared_threads(void **state)
{
	struct dlog log = {0};
	struct obj *o = mem_alloc_shared(sizeof(*o), obj_destroy);
	pthread_t th[THREADS];
	(void)state;

	assert_non_null(o);
	o->log = &log;
	o->name = 's';
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer, o), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(mem_nrefs(o), 1);
	assert_int_equal(log.n, 0);
	mem_deref(o);
	assert_int_equal(log.n, 1);
}

/* The countdown: n successes, then failures until turned off. */
static void test_fail_after(void **state)
{
	static const long counts[] = {0, 1, 3, 10};
	(void)state;

	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		void *p[16] = {0};
		long n = counts[c];

		mem_fail_after(n);
		assert_int_equal(mem_fail_count(), 0);
		for (long i = 0; i < 16; i++) {
			p[i] = i % 2 ? mem_alloc(8, NULL) : mem_alloc_shared(8, NULL);
			if (i < n)
				assert_non_null(p[i]);
			else
				assert_null(p[i]);
		}
		assert_int_equal(mem_fail_count(), 16 - n);
		assert_null(mem_strndup("x", 1));
		mem_fail_after(-1);
		void *q = mem_alloc(8, NULL);
		assert_non_null(q);
		mem_deref(q);
		for (int i = 0; i < 16; i++)
			mem_deref(p[i]);
	}
}

/*
 * An OOM pass the way module tests run one: build a small structure,
 * failing at each allocation in turn; every failure cleans up fully.
 */
static int build3(struct dlog *log, struct obj **out)
{
	struct obj *a = mem_alloc(sizeof(*a), obj_destroy), *b, *c;

	if (!a)
		return 12;
	a->log = log;
	a->name = 'a';
	b = mem_alloc(sizeof(*b), obj_destroy);
	if (!b)
		goto fail;
	b->log = log;
	b->name = 'b';
	a->child[0] = b;
	c = mem_alloc(sizeof(*c), obj_destroy);
	if (!c)
		goto fail;
	c->log = log;
	c->name = 'c';
	a->child[1] = c;
	*out = a;
	return 0;
fail:
	mem_deref(a);
	return 12;
}

static void test_oom_pass(void **state)
{
	long n;
	(void)state;

	for (n = 0;; n++) {
		struct dlog log = {0};
		struct obj *o = NULL;
		size_t live = mem_live();
		int err;

		mem_fail_after(n);
		err = build3(&log, &o);
		mem_fail_after(-1);
		if (err == 0) {
			mem_deref(o);
			assert_int_equal(log.n, 3);
			break;
		}
		assert_int_equal(mem_live(), live);
		assert_int_equal(log.n, (unsigned)n); /* every object made was destroyed */
	}
	assert_int_equal(n, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_refcount, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_destructor_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shared_child, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zero_align, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_live_count, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shared_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fail_after, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oom_pass, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
