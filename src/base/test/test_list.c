/*
 * test_list.c - the intrusive list: order of push/insert, removal (also of
 * unlinked nodes and while iterating), splice, pop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ringlet/list.h"

struct el {
	int v;
	struct list_node le;
};

/* The values of l, front to back, as a small string of digits. */
static void expect(const struct list *l, const char *want)
{
	char got[32];
	size_t n = 0;
	const struct list_node *p;

	LIST_FOREACH(l, p)
	{
		assert_true(n < sizeof(got) - 1);
		got[n++] = (char)('0' + LIST_ENTRY(p, struct el, le)->v);
	}
	got[n] = '\0';
	assert_string_equal(got, want);
	assert_int_equal(list_count(l), n);
	assert_int_equal(list_empty(l), n == 0);
	/* Backwards agrees. */
	n = 0;
	for (p = list_back(l); p; p = list_prev(l, p))
		n++;
	assert_int_equal(n, list_count(l));
}

/* Unlinked elements with values 0..n-1. */
static void els_init(struct el *e, int n)
{
	for (int i = 0; i < n; i++)
		e[i] = (struct el){.v = i};
}

static void test_basic(void **state)
{
	struct list l = LIST_INIT(l);
	struct el e[6];
	(void)state;

	els_init(e, 6);
	expect(&l, "");
	assert_null(list_front(&l));
	assert_null(list_back(&l));
	assert_null(list_pop_front(&l));
	assert_false(list_linked(&e[0].le));
	list_push_back(&l, &e[1].le);
	list_push_back(&l, &e[2].le);
	list_push_front(&l, &e[0].le);
	expect(&l, "012");
	list_insert_after(&e[0].le, &e[3].le);
	list_insert_before(&e[2].le, &e[4].le);
	expect(&l, "03142");
	assert_ptr_equal(list_front(&l), &e[0].le);
	assert_ptr_equal(list_back(&l), &e[2].le);
	assert_ptr_equal(list_next(&l, &e[3].le), &e[1].le);
	assert_null(list_next(&l, &e[2].le));
	assert_null(list_prev(&l, &e[0].le));
	list_remove(&e[1].le);
	assert_false(list_linked(&e[1].le));
	list_remove(&e[1].le); /* unlinked: no-op */
	list_remove(&e[5].le); /* never linked (zeroed): no-op */
	expect(&l, "0342");
	assert_ptr_equal(list_pop_front(&l), &e[0].le);
	assert_false(list_linked(&e[0].le));
	expect(&l, "342");
}

static void test_remove_while_iterating(void **state)
{
	struct list l;
	struct el e[8];
	struct list_node *p, *tmp;
	(void)state;

	list_init(&l);
	for (int i = 0; i < 8; i++) {
		e[i] = (struct el){.v = i};
		list_push_back(&l, &e[i].le);
	}
	LIST_FOREACH_SAFE(&l, p, tmp)
	{
		if (LIST_ENTRY(p, struct el, le)->v % 2)
			list_remove(p);
	}
	expect(&l, "0246");
}

static void test_splice(void **state)
{
	struct list a = LIST_INIT(a), b = LIST_INIT(b);
	struct el e[5];
	(void)state;

	els_init(e, 5);
	list_splice_back(&a, &b); /* both empty */
	expect(&a, "");
	list_push_back(&b, &e[3].le);
	list_push_back(&b, &e[4].le);
	list_splice_back(&a, &b); /* into empty */
	expect(&a, "34");
	expect(&b, "");
	list_push_back(&b, &e[0].le);
	list_push_back(&b, &e[1].le);
	list_push_back(&b, &e[2].le);
	list_splice_back(&a, &b);
	expect(&a, "34012");
	expect(&b, "");
	assert_ptr_equal(list_pop_front(&a), &e[3].le);
	expect(&a, "4012");
	list_push_back(&b, &e[3].le);
	list_splice_back(&b, &a); /* the other way round */
	expect(&b, "34012");
	expect(&a, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic),
	    cmocka_unit_test(test_remove_while_iterating),
	    cmocka_unit_test(test_splice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
