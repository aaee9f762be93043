/*
 * test_loc_mem.c - the memory store's compact records: every field of a
 * binding survives the trip into the store and back at its largest size,
 * refreshes that grow and shrink a record keep the other bindings intact,
 * so does the expiry of records between live ones,
 * and 100k AORs of one typical binding each (as the peer benchmark
 * registers them) cost a few hundred bytes each (mallinfo2; the figure is
 * printed, and checked when the allocator is glibc's own, not ASan's).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ringlet/loc.h"
#include "ringlet/loop.h"

#define NAORS 100000u
#define WINDOW 64u

struct fx {
	struct loc_store *s;
	struct loop *l;
	unsigned issued, done, failed;
	struct loc_binding got[LOC_MAX_BINDINGS];
	unsigned ngot;
	int err;
};

static void on_result(int err, const struct loc_binding *b, unsigned n, void *arg)
{
	struct fx *f = arg;

	f->done++;
	f->err = err;
	f->failed += err != 0;
	f->ngot = n;
	if (n)
		memcpy(f->got, b, n * sizeof(*b));
}

static void wait_all(struct fx *f)
{
	while (f->done < f->issued)
		loop_once(f->l, 100);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || loop_alloc(&f->l, LOOP_CLOCK_MONOTONIC) || loc_open(&f->s, "memory:", NULL, 0)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	loc_close(f->s);
	loop_free(f->l);
	free(f);
	return 0;
}

/* A string of len bytes of c (len < cap). */
static void fill(char *dst, size_t cap, size_t len, char c)
{
	assert_true(len < cap);
	memset(dst, c, len);
	dst[len] = '\0';
}

static void update1(struct fx *f, const char *aor, const struct loc_change *c, unsigned n)
{
	f->issued++;
	assert_int_equal(loc_update(f->s, f->l, aor, c, n, false, 1, "cid", on_result, f), 0);
	wait_all(f);
	assert_int_equal(f->err, 0);
}

static const struct loc_binding *find(const struct fx *f, const char *contact)
{
	unsigned i;

	for (i = 0; i < f->ngot; i++)
		if (strcmp(f->got[i].contact, contact) == 0)
			return &f->got[i];
	return NULL;
}

/* Every field at its largest, back unchanged from update and lookup. */
static void test_max_fields(void **state)
{
	struct fx *f = *state;
	struct loc_change c;
	const struct loc_binding *g;
	char aor[LOC_AOR_MAX];

	memset(&c, 0, sizeof(c));
	memcpy(c.b.contact, "sip:", 4);
	fill(c.b.contact + 4, LOC_CONTACT_MAX - 4, LOC_CONTACT_MAX - 5, 'c');
	fill(c.b.path, LOC_PATH_MAX, LOC_PATH_MAX - 1, 'p');
	fill(c.b.instance, LOC_INSTANCE_MAX, LOC_INSTANCE_MAX - 1, 'i');
	fill(c.b.call_id, LOC_CALLID_MAX, LOC_CALLID_MAX - 1, 'k');
	fill(c.b.received, LOC_ADDR_MAX, LOC_ADDR_MAX - 1, 'r');
	fill(c.b.user_agent, LOC_UA_MAX, LOC_UA_MAX - 1, 'u');
	fill(aor, sizeof(aor), LOC_AOR_MAX - 1, 'a');
	c.b.reg_id = 0xfffffffeu;
	c.b.q = 1000;
	c.b.cseq = 0xfffffff0u;
	c.b.expires = (int64_t)time(NULL) + 3600;
	update1(f, aor, &c, 1);
	assert_int_equal(f->ngot, 1);
	assert_memory_equal(&f->got[0], &c.b, sizeof(c.b));
	f->issued++;
	assert_int_equal(loc_lookup(f->s, f->l, aor, on_result, f), 0);
	wait_all(f);
	assert_int_equal(f->ngot, 1);
	g = &f->got[0];
	assert_string_equal(g->contact, c.b.contact);
	assert_string_equal(g->path, c.b.path);
	assert_string_equal(g->instance, c.b.instance);
	assert_string_equal(g->call_id, c.b.call_id);
	assert_string_equal(g->received, c.b.received);
	assert_string_equal(g->user_agent, c.b.user_agent);
	assert_int_equal(g->reg_id, c.b.reg_id);
	assert_int_equal(g->q, 1000);
	assert_int_equal(g->cseq, c.b.cseq);
	assert_int_equal(g->expires, c.b.expires);
	assert_memory_equal(g, &c.b, sizeof(c.b)); /* unused bytes are zero */
}

static void set_binding(struct loc_change *c, const char *contact, const char *ua, uint32_t cseq,
			int64_t exp)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->b.contact, sizeof(c->b.contact), "%s", contact);
	snprintf(c->b.user_agent, sizeof(c->b.user_agent), "%s", ua);
	snprintf(c->b.call_id, sizeof(c->b.call_id), "call-%s", contact);
	c->b.q = -1;
	c->b.cseq = cseq;
	c->b.expires = exp;
}

/* A binding's record grows, shrinks and goes; the others stay as they were. */
static void test_resize(void **state)
{
	struct fx *f = *state;
	int64_t t = (int64_t)time(NULL);
	struct loc_change c[3];
	const struct loc_binding *g;

	set_binding(&c[0], "sip:a@192.0.2.1", "ua-a", 1, t + 100);
	set_binding(&c[1], "sip:b@192.0.2.2", "ua-b", 1, t + 200);
	set_binding(&c[2], "sip:c@192.0.2.3", "ua-c", 1, t + 300);
	update1(f, "sip:x@example.com", c, 3);
	assert_int_equal(f->ngot, 3);
	set_binding(&c[1], "sip:b@192.0.2.2", "a much longer user agent than before", 2, t + 250);
	update1(f, "sip:x@example.com", &c[1], 1);
	assert_int_equal(f->ngot, 3);
	g = find(f, "sip:b@192.0.2.2");
	assert_non_null(g);
	assert_string_equal(g->user_agent, "a much longer user agent than before");
	assert_int_equal(g->expires, t + 250);
	set_binding(&c[1], "sip:b@192.0.2.2", "", 3, t + 260);
	update1(f, "sip:x@example.com", &c[1], 1);
	g = find(f, "sip:b@192.0.2.2");
	assert_non_null(g);
	assert_string_equal(g->user_agent, "");
	set_binding(&c[0], "sip:a@192.0.2.1", "ua-a", 2, 0); /* removes a */
	update1(f, "sip:x@example.com", &c[0], 1);
	assert_int_equal(f->ngot, 2);
	assert_null(find(f, "sip:a@192.0.2.1"));
	g = find(f, "sip:c@192.0.2.3");
	assert_non_null(g);
	assert_string_equal(g->user_agent, "ua-c");
	assert_string_equal(g->call_id, "call-sip:c@192.0.2.3");
	assert_int_equal(g->expires, t + 300);
}

/* The expiry thread drops the expired records between live ones; the live ones stay whole. */
static void test_prune(void **state)
{
	struct fx *f = *state;
	int64_t t = (int64_t)time(NULL);
	struct loc_change c[4];
	struct loc_stats st0, st;
	const struct loc_binding *g;
	int tries;

	set_binding(&c[0], "sip:a@192.0.2.1", "ua-a", 1, t + 60);
	set_binding(&c[1], "sip:b@192.0.2.2", "ua-b-short-lived", 1, t + 1);
	set_binding(&c[2], "sip:c@192.0.2.3", "ua-c", 1, t + 70);
	set_binding(&c[3], "sip:d@192.0.2.4", "ua-d-short-lived", 1, t + 1);
	loc_stats(f->s, &st0);
	update1(f, "sip:y@example.com", c, 4);
	assert_int_equal(f->ngot, 4);
	for (tries = 0; tries < 80; tries++) { /* the expiry thread ticks every second */
		loc_stats(f->s, &st);
		if (st.expired >= st0.expired + 2)
			break;
		loop_once(f->l, 50);
	}
	assert_int_equal(st.expired, st0.expired + 2);
	f->issued++;
	assert_int_equal(loc_lookup(f->s, f->l, "sip:y@example.com", on_result, f), 0);
	wait_all(f);
	assert_int_equal(f->ngot, 2);
	g = find(f, "sip:c@192.0.2.3");
	assert_non_null(g);
	assert_string_equal(g->user_agent, "ua-c");
	assert_string_equal(g->call_id, "call-sip:c@192.0.2.3");
	assert_int_equal(g->expires, t + 70);
	set_binding(&c[0], "sip:a@192.0.2.1", "ua-a2", 2, t + 80); /* a refresh after the prune */
	update1(f, "sip:y@example.com", &c[0], 1);
	assert_int_equal(f->ngot, 2);
	g = find(f, "sip:a@192.0.2.1");
	assert_non_null(g);
	assert_string_equal(g->user_agent, "ua-a2");
	assert_int_equal(g->expires, t + 80);
	assert_non_null(find(f, "sip:c@192.0.2.3"));
}

static void issue_reg(struct fx *f, unsigned i, int64_t exp)
{
	struct loc_change c;
	char aor[64];

	memset(&c, 0, sizeof(c));
	snprintf(aor, sizeof(aor), "sip:reg%07u@127.0.0.1", i);
	snprintf(c.b.contact, sizeof(c.b.contact), "sip:reg%07u@127.0.0.1:5070;transport=udp", i);
	snprintf(c.b.call_id, sizeof(c.b.call_id), "%u-4711@127.0.0.1", i);
	snprintf(c.b.received, sizeof(c.b.received), "udp:127.0.0.1:5070");
	c.b.q = -1;
	c.b.cseq = 1;
	c.b.expires = exp;
	f->issued++;
	assert_int_equal(loc_update(f->s, f->l, aor, &c, 1, false, 1, c.b.call_id, on_result, f),
			 0);
}

/* 100k AORs of one typical binding: every one is found, and costs little memory. */
static void test_100k(void **state)
{
	struct fx *f = *state;
	int64_t exp = (int64_t)time(NULL) + 3600;
	struct mallinfo2 m0, m1;
	char aor[64], contact[80];
	double per;
	unsigned i;

	m0 = mallinfo2();
	for (i = 0; i < NAORS; i++) {
		while (f->issued - f->done >= WINDOW)
			loop_once(f->l, 100);
		issue_reg(f, i, exp);
	}
	wait_all(f);
	assert_int_equal(f->failed, 0);
	m1 = mallinfo2();
	per = ((double)m1.uordblks - (double)m0.uordblks) / NAORS;
	printf("loc_mem: %u AORs: in use %zu -> %zu bytes, %.0f bytes per AOR+binding\n", NAORS,
	       m0.uordblks, m1.uordblks, per);
	if (m1.uordblks > m0.uordblks) /* glibc's malloc (ASan's reports nothing) */
		assert_true(per < 600);
	for (i = 0; i < NAORS; i += 997) {
		snprintf(aor, sizeof(aor), "sip:reg%07u@127.0.0.1", i);
		snprintf(contact, sizeof(contact), "sip:reg%07u@127.0.0.1:5070;transport=udp", i);
		f->issued++;
		assert_int_equal(loc_lookup(f->s, f->l, aor, on_result, f), 0);
		wait_all(f);
		assert_int_equal(f->ngot, 1);
		assert_string_equal(f->got[0].contact, contact);
		assert_string_equal(f->got[0].received, "udp:127.0.0.1:5070");
		assert_int_equal(f->got[0].expires, exp);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_max_fields, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_resize, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_prune, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_100k, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
