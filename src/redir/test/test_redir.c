/*
 * test_redir.c - the redirect server's 302 Contact list (rdr_contacts,
 * RFC 3261 §8.3, §20.10) and its allocation contract.  The request path
 * (lookup, 302/404/480 on the wire, SIPp following the 302) is covered by
 * tests/test_redirect.py against ringletd --mode redirect.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ringlet/loc.h"
#include "ringlet/mem.h"
#include "ringlet/rdr.h"

#define NOW 1000000

struct bspec {
	const char *contact;
	int q;	      /* thousandths, -1 absent */
	int64_t left; /* seconds to expiry (<= 0: expired) */
};

struct ccase {
	const char *name;
	struct bspec b[4];
	unsigned n;
	const char *want; /* NULL: -1 expected (no room) */
	size_t cap;	  /* 0: big */
};

static const struct ccase cases[] = {
    {"none", {{0}}, 0, "", 0},
    {"one without q",
     {{"sip:a@10.0.0.1", -1, 60}},
     1,
     "Contact: <sip:a@10.0.0.1>;expires=60\r\n",
     0},
    {"q order, highest first",
     {{"sip:low@10.0.0.1", 500, 30}, {"sip:high@10.0.0.2:5070", 1000, 300}},
     2,
     "Contact: <sip:high@10.0.0.2:5070>;q=1;expires=300\r\n"
     "Contact: <sip:low@10.0.0.1>;q=0.5;expires=30\r\n",
     0},
    {"absent q ranks as 1.0, ties keep the store's order",
     {{"sip:x@h1", 125, 10}, {"sip:y@h2", -1, 20}, {"sip:z@h3", 1000, 30}},
     3,
     "Contact: <sip:y@h2>;expires=20\r\n"
     "Contact: <sip:z@h3>;q=1;expires=30\r\n"
     "Contact: <sip:x@h1>;q=0.125;expires=10\r\n",
     0},
    {"expired and unprintable bindings are skipped",
     {{"sip:old@h", 900, 0},
      {"sip:a b@h", 800, 5},
      {"sip:in\r\nX: y@h", 700, 5},
      {"sip:ok@h;transport=tcp", 0, 5}},
     4,
     "Contact: <sip:ok@h;transport=tcp>;q=0.0;expires=5\r\n",
     0},
    {"too small a buffer", {{"sip:a@10.0.0.1", -1, 60}}, 1, NULL, 20},
};

static void fill(const struct ccase *k, struct loc_binding *b)
{
	memset(b, 0, 4 * sizeof(*b));
	for (unsigned i = 0; i < k->n; i++) {
		strcpy(b[i].contact, k->b[i].contact);
		b[i].q = (int16_t)k->b[i].q;
		b[i].expires = NOW + k->b[i].left;
	}
}

static void test_contacts(void **state)
{
	(void)state;
	struct loc_binding b[4];
	char out[2048];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ccase *k = &cases[i];
		fill(k, b);
		size_t cap = k->cap ? k->cap : sizeof(out);
		int n = rdr_contacts(b, k->n, NOW, out, cap);
		print_message("case: %s\n", k->name);
		if (!k->want) {
			assert_int_equal(n, -1);
			assert_true(strlen(out) < cap);
			continue;
		}
		assert_int_equal(n, (int)strlen(k->want));
		assert_string_equal(out, k->want);
	}
}

static void test_zero_cap(void **state)
{
	(void)state;
	char c = 'x';
	assert_int_equal(rdr_contacts(NULL, 0, NOW, &c, 0), -1);
	assert_int_equal(c, 'x');
}

static void test_alloc(void **state)
{
	(void)state;
	size_t live = mem_live();
	struct rdr *r = NULL;
	struct rdr_conf none = {.store = NULL};
	assert_int_equal(rdr_alloc(&r, &none), EINVAL);
	assert_int_equal(rdr_alloc(&r, NULL), EINVAL);
	assert_null(r);
	struct loc_store *s = NULL;
	assert_int_equal(loc_open(&s, "memory:", NULL, 0), 0);
	struct rdr_conf conf = {.store = s};
	mem_fail_after(0);
	assert_int_equal(rdr_alloc(&r, &conf), ENOMEM);
	mem_fail_after(-1);
	assert_null(r);
	assert_int_equal(rdr_alloc(&r, &conf), 0);
	assert_non_null(r);
	rdr_free(r);
	rdr_free(NULL);
	loc_close(s);
	assert_int_equal(mem_live(), live);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_contacts),
	    cmocka_unit_test(test_zero_cap),
	    cmocka_unit_test(test_alloc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
