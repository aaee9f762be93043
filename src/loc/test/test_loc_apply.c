/*
 * test_loc_apply.c - the pure parts of the location store: RFC 3261 §10.3
 * step 7 (loc_apply) case by case, contact comparison (§19.1.4), and the
 * binding codec of the Redis store against truncated and hostile values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "loc/loc_int.h"
#include "ringlet/base.h"
#include "ringlet/mem.h"

#define NOW 1000000
#define GONE (-1) /* exp: already expired (stored bindings) */

/* One binding: exp is seconds after NOW, 0 removes (changes), GONE is in the past. */
struct bd {
	const char *contact;
	const char *call_id;
	uint32_t cseq;
	int64_t exp;
};

struct acase {
	const char *name;
	struct bd cur[4];
	struct bd chg[4];
	bool remove_all;
	uint32_t cseq;	     /* the request's (used by "*" and by changes without Call-ID) */
	const char *call_id; /* the request's */
	int err;
	const char *want[6]; /* contacts after the update, any order */
};

/* One case per entry (clang-format would put every field on a line of its own). */
/* clang-format off */
static const struct acase cases[] = {
	{"add to empty", {{0}}, {{"sip:a@h", "c1", 1, 60}}, false, 1, "c1", 0, {"sip:a@h"}},
	{"refresh, higher CSeq", {{"sip:a@h", "c1", 1, 60}}, {{"sip:a@h", "c1", 2, 120}}, false, 2,
	 "c1", 0, {"sip:a@h"}},
	{"same Call-ID, same CSeq: replay", {{"sip:a@h", "c1", 5, 60}}, {{"sip:a@h", "c1", 5, 60}},
	 false, 5, "c1", EALREADY, {0}},
	{"same Call-ID, lower CSeq: out of order", {{"sip:a@h", "c1", 5, 60}},
	 {{"sip:a@h", "c1", 4, 60}}, false, 4, "c1", EALREADY, {0}},
	{"other Call-ID, lower CSeq: replaced", {{"sip:a@h", "c1", 5, 60}},
	 {{"sip:a@h", "c2", 1, 60}}, false, 1, "c2", 0, {"sip:a@h"}},
	{"remove one", {{"sip:a@h", "c1", 1, 60}, {"sip:b@h", "c1", 1, 60}},
	 {{"sip:a@h", "c1", 2, 0}}, false, 2, "c1", 0, {"sip:b@h"}},
	{"remove unknown: no-op", {{"sip:a@h", "c1", 1, 60}}, {{"sip:z@h", "c1", 2, 0}}, false, 2,
	 "c1", 0, {"sip:a@h"}},
	{"remove replayed: aborted", {{"sip:a@h", "c1", 3, 60}}, {{"sip:a@h", "c1", 3, 0}}, false,
	 3, "c1", EALREADY, {0}},
	{"star, other Call-ID", {{"sip:a@h", "c1", 9, 60}, {"sip:b@h", "c2", 9, 60}}, {{0}}, true,
	 1, "c3", 0, {0}},
	{"star, same Call-ID higher CSeq", {{"sip:a@h", "c1", 9, 60}}, {{0}}, true, 10, "c1", 0,
	 {0}},
	{"star, same Call-ID not higher", {{"sip:a@h", "c2", 1, 60}, {"sip:b@h", "c1", 9, 60}},
	 {{0}}, true, 9, "c1", EALREADY, {0}},
	{"star on empty", {{0}}, {{0}}, true, 1, "c1", 0, {0}},
	{"several contacts", {{0}},
	 {{"sip:a@h", "c1", 1, 60}, {"sip:b@h", "c1", 1, 60}, {"sip:c@h", "c1", 1, 60}}, false, 1,
	 "c1", 0, {"sip:a@h", "sip:b@h", "sip:c@h"}},
	{"one replay aborts all", {{"sip:b@h", "c1", 7, 60}},
	 {{"sip:a@h", "c1", 7, 60}, {"sip:b@h", "c1", 7, 60}}, false, 7, "c1", EALREADY, {0}},
	{"host case: one binding", {{"sip:a@Host:5060", "c1", 1, 60}},
	 {{"sip:a@host:5060", "c1", 2, 60}}, false, 2, "c1", 0, {"sip:a@host:5060"}},
	{"no port is not port 5060", {{"sip:a@host:5060", "c1", 1, 60}},
	 {{"sip:a@host", "c1", 2, 60}}, false, 2, "c1", 0, {"sip:a@host:5060", "sip:a@host"}},
	{"user case matters", {{"sip:a@h", "c1", 1, 60}}, {{"sip:A@h", "c1", 2, 60}}, false, 2,
	 "c1", 0, {"sip:a@h", "sip:A@h"}},
	{"param order ignored", {{"sip:a@h;transport=tcp;lr", "c1", 1, 60}},
	 {{"sip:a@h;lr;transport=TCP", "c1", 2, 60}}, false, 2, "c1", 0,
	 {"sip:a@h;lr;transport=TCP"}},
	{"URI equality in the replay check", {{"sip:a@H", "c1", 4, 60}}, {{"sip:a@h", "c1", 4, 60}},
	 false, 4, "c1", EALREADY, {0}},
	{"expired binding is gone", {{"sip:a@h", "c1", 9, GONE}, {"sip:b@h", "c1", 1, 60}},
	 {{"sip:a@h", "c1", 1, 60}}, false, 1, "c1", 0, {"sip:a@h", "sip:b@h"}},
	{"expired not returned", {{"sip:a@h", "c1", 1, GONE}}, {{0}}, false, 1, "c1", 0, {0}},
	{"same contact twice: last wins", {{"sip:a@h", "c1", 1, 60}},
	 {{"sip:a@h", "c1", 2, 60}, {"sip:a@h", "c1", 2, 0}}, false, 2, "c1", 0, {0}},
	{"same contact twice, added", {{0}}, {{"sip:a@h", "c1", 2, 0}, {"sip:a@H", "c1", 2, 60}},
	 false, 2, "c1", 0, {"sip:a@H"}},
	{"not a URI: compared as bytes", {{"junk<>", "c1", 1, 60}}, {{"junk<>", "c1", 2, 0}}, false,
	 2, "c1", 0, {0}},
	{"change without Call-ID takes the request's", {{"sip:a@h", "c9", 3, 60}},
	 {{"sip:a@h", "", 0, 60}}, false, 3, "c9", EALREADY, {0}},
};
/* clang-format on */

static struct loc_binding mk(const struct bd *d)
{
	struct loc_binding b;

	memset(&b, 0, sizeof(b));
	snprintf(b.contact, sizeof(b.contact), "%s", d->contact);
	snprintf(b.call_id, sizeof(b.call_id), "%s", d->call_id);
	b.cseq = d->cseq;
	b.expires = d->exp == GONE ? NOW - 1 : d->exp == 0 ? 0 : NOW + d->exp;
	b.q = -1;
	return b;
}

static unsigned count_bd(const struct bd *d, unsigned max)
{
	unsigned n = 0;

	while (n < max && d[n].contact)
		n++;
	return n;
}

static void run_case(const struct acase *t)
{
	struct loc_binding cur[4], out[LOC_MAX_BINDINGS];
	struct loc_change chg[4];
	unsigned ncur = count_bd(t->cur, 4), nchg = count_bd(t->chg, 4), nout = 999, i, j, nwant;
	int err;

	for (i = 0; i < ncur; i++)
		cur[i] = mk(&t->cur[i]);
	for (i = 0; i < nchg; i++)
		chg[i].b = mk(&t->chg[i]);
	err = loc_apply(cur, ncur, chg, nchg, t->remove_all, t->cseq, t->call_id, NOW, out, &nout);
	if (err != t->err)
		fail_msg("%s: err %d, want %d", t->name, err, t->err);
	if (err) {
		assert_int_equal(nout, 999); /* untouched on failure */
		return;
	}
	for (nwant = 0; t->want[nwant]; nwant++)
		;
	if (nout != nwant)
		fail_msg("%s: %u bindings, want %u", t->name, nout, nwant);
	for (i = 0; i < nwant; i++) {
		for (j = 0; j < nout; j++)
			if (strcmp(out[j].contact, t->want[i]) == 0)
				break;
		if (j == nout)
			fail_msg("%s: %s missing", t->name, t->want[i]);
		assert_true(out[j].expires > NOW);
	}
}

static void test_cases(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
}

/* The new binding carries every field of the change, and the request's ids when it has none. */
static void test_fields_kept(void **state)
{
	struct loc_binding out[LOC_MAX_BINDINGS];
	struct loc_change c;
	unsigned n = 0;

	(void)state;
	memset(&c, 0, sizeof(c));
	strcpy(c.b.contact, "sip:alice@192.0.2.1:5062;transport=tcp");
	strcpy(c.b.path, "<sip:p1.example;lr>,<sip:p2.example;lr>");
	strcpy(c.b.instance, "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>");
	c.b.reg_id = 2;
	c.b.q = 700;
	c.b.expires = NOW + 3600;
	strcpy(c.b.received, "tcp:192.0.2.1:40000");
	strcpy(c.b.user_agent, "ringlet-test");
	assert_int_equal(loc_apply(NULL, 0, &c, 1, false, 42, "cid@host", NOW, out, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].call_id, "cid@host");
	assert_int_equal(out[0].cseq, 42);
	assert_string_equal(out[0].path, c.b.path);
	assert_string_equal(out[0].instance, c.b.instance);
	assert_int_equal(out[0].reg_id, 2);
	assert_int_equal(out[0].q, 700);
	assert_int_equal(out[0].expires, NOW + 3600);
	assert_string_equal(out[0].received, c.b.received);
	assert_string_equal(out[0].user_agent, c.b.user_agent);
}

/* LOC_MAX_BINDINGS fit; one more is ENOSPC; a refresh at the cap does not grow it. */
static void test_cap(void **state)
{
	struct loc_binding *cur = calloc(LOC_MAX_BINDINGS, sizeof(*cur));
	struct loc_binding *out = calloc(LOC_MAX_BINDINGS, sizeof(*out));
	struct loc_change *c = calloc(LOC_MAX_CHANGES + 1, sizeof(*c));
	unsigned i, n = 0;

	(void)state;
	assert_non_null(cur);
	assert_non_null(out);
	assert_non_null(c);
	for (i = 0; i < LOC_MAX_BINDINGS + 1; i++) {
		snprintf(c[i].b.contact, sizeof(c[i].b.contact), "sip:u%u@h", i);
		c[i].b.expires = NOW + 60;
	}
	assert_int_equal(loc_apply(NULL, 0, c, LOC_MAX_BINDINGS, false, 1, "c", NOW, cur, &n), 0);
	assert_int_equal(n, LOC_MAX_BINDINGS);
	assert_int_equal(loc_apply(NULL, 0, c, LOC_MAX_BINDINGS + 1, false, 1, "c", NOW, out, &n),
			 ENOSPC);
	assert_int_equal(
	    loc_apply(cur, LOC_MAX_BINDINGS, &c[LOC_MAX_BINDINGS], 1, false, 2, "c", NOW, out, &n),
	    ENOSPC);
	/* a refresh of bindings already there and a removal plus an add at the cap */
	c[0].b.expires = 0;
	assert_int_equal(loc_apply(cur, LOC_MAX_BINDINGS, &c[1], 1, false, 2, "c2", NOW, out, &n),
			 0);
	assert_int_equal(n, LOC_MAX_BINDINGS);
	memcpy(&c[1], &c[LOC_MAX_BINDINGS], sizeof(c[1]));
	assert_int_equal(loc_apply(cur, LOC_MAX_BINDINGS, c, 2, false, 2, "c2", NOW, out, &n), 0);
	assert_int_equal(n, LOC_MAX_BINDINGS);
	/* expired bindings do not count */
	cur[0].expires = NOW;
	assert_int_equal(loc_apply(cur, LOC_MAX_BINDINGS, &c[1], 1, false, 2, "c2", NOW, out, &n),
			 0);
	assert_int_equal(n, LOC_MAX_BINDINGS);
	/* bounds */
	assert_int_equal(loc_apply(cur, LOC_MAX_BINDINGS + 1, c, 0, false, 2, "c", NOW, out, &n),
			 EINVAL);
	assert_int_equal(loc_apply(NULL, 0, c, LOC_MAX_CHANGES + 1, false, 2, "c", NOW, out, &n),
			 EINVAL);
	free(cur);
	free(out);
	free(c);
}

static void test_contact_equal(void **state)
{
	static const struct {
		const char *a, *b;
		bool eq;
	} t[] = {
	    {"sip:a@Host:5060", "sip:a@host:5060", true},
	    {"sip:a@host", "sip:a@host:5060", false},
	    {"sip:a@host", "sips:a@host", false},
	    {"sip:%61@host", "sip:a@host", true},
	    {"sip:a@host;transport=udp", "sip:a@host", false},
	    {"sip:a@host;foo=1", "sip:a@host", true},
	    {"sip:a@host;maddr=x", "sip:a@host", false},
	    {"not a uri", "not a uri", true},
	    {"not a uri", "Not a uri", false},
	    {"", "", true},
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		if (loc_contact_equal(t[i].a, t[i].b) != t[i].eq)
			fail_msg("%s vs %s", t[i].a, t[i].b);
		assert_true(loc_contact_equal(t[i].b, t[i].a) == t[i].eq);
	}
}

static void fill(struct loc_binding *b, unsigned i)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->contact, sizeof(b->contact), "sip:user%u@192.0.2.%u:5060", i, i);
	memset(b->path, 'p', sizeof(b->path) - 1); /* the longest field at its limit */
	snprintf(b->instance, sizeof(b->instance), "<urn:uuid:%u>", i);
	b->reg_id = i;
	b->q = i % 2 ? -1 : (int16_t)(i * 10);
	snprintf(b->call_id, sizeof(b->call_id), "call-%u", i);
	b->cseq = 0xffffffffu - i;
	b->expires = (int64_t)1 << 40 | i;
	snprintf(b->received, sizeof(b->received), "udp:192.0.2.%u:5060", i);
	snprintf(b->user_agent, sizeof(b->user_agent), "ua %u", i);
}

static void test_codec(void **state)
{
	struct loc_binding *in = calloc(LOC_MAX_BINDINGS, sizeof(*in));
	struct loc_binding *out = calloc(LOC_MAX_BINDINGS, sizeof(*out));
	char *buf = malloc(LOC_ENC_MAX), tok[LOC_TOKEN_LEN];
	size_t len, cut;
	unsigned i, n;

	(void)state;
	assert_non_null(in);
	assert_non_null(out);
	assert_non_null(buf);
	for (i = 0; i < LOC_MAX_BINDINGS; i++)
		fill(&in[i], i);
	len = loc_encode("0123456789abcdef", in, LOC_MAX_BINDINGS, buf);
	assert_true(len <= LOC_ENC_MAX);
	assert_int_equal(loc_decode(buf, len, tok, out, &n), 0);
	assert_int_equal(n, LOC_MAX_BINDINGS);
	assert_memory_equal(tok, "0123456789abcdef", LOC_TOKEN_LEN);
	assert_memory_equal(in, out, LOC_MAX_BINDINGS * sizeof(*in));
	/* every truncation and a trailing byte fail cleanly */
	for (cut = 0; cut < len; cut += (cut < 200 ? 1 : 97))
		assert_int_equal(loc_decode(buf, cut, tok, out, &n), EBADMSG);
	assert_int_equal(loc_decode(buf, len + 1, tok, out, &n), EBADMSG);
	/* a count above the cap, a bad version, an oversized field length */
	buf[LOC_TOKEN_LEN + 1] = LOC_MAX_BINDINGS + 1;
	assert_int_equal(loc_decode(buf, len, tok, out, &n), EBADMSG);
	buf[LOC_TOKEN_LEN + 1] = 1;
	buf[LOC_TOKEN_LEN] = 9;
	assert_int_equal(loc_decode(buf, len, tok, out, &n), EBADMSG);
	buf[LOC_TOKEN_LEN] = 1;
	buf[LOC_TOKEN_LEN + 2] = (char)0xff; /* contact length 0x..ff: longer than the field */
	buf[LOC_TOKEN_LEN + 3] = (char)0xff;
	assert_int_equal(loc_decode(buf, len, tok, out, &n), EBADMSG);
	/* empty */
	len = loc_encode("fedcba9876543210", NULL, 0, buf);
	assert_int_equal(loc_decode(buf, len, tok, out, &n), 0);
	assert_int_equal(n, 0);
	free(in);
	free(out);
	free(buf);
}

static void test_max_expiry(void **state)
{
	struct loc_binding b[3];

	(void)state;
	memset(b, 0, sizeof(b));
	b[0].expires = 5;
	b[1].expires = 9;
	b[2].expires = 7;
	assert_int_equal(loc_max_expiry(b, 3), 9);
	assert_int_equal(loc_max_expiry(b, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases), cmocka_unit_test(test_fields_kept),
	    cmocka_unit_test(test_cap),	  cmocka_unit_test(test_contact_equal),
	    cmocka_unit_test(test_codec), cmocka_unit_test(test_max_expiry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
