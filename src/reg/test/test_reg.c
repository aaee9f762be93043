/*
 * test_reg.c - the registrar's pure parts, table by table: the canonical
 * address-of-record (RFC 3261 §10.3 step 5, §19.1.4), To checks, the
 * fields every binding shares, Contact -> store changes with the expiry
 * rules of §10.3 steps 6 and 7, and the 200's header lines (step 8).
 * The flow through the store and digest auth is driven by the black-box
 * tests (tests/test_registrar.py) against the real stores.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reg/reg_int.h"
#include "ringlet/mem.h"

#define NOW 1700000000LL

/* Everything a test message needs: the request and its parsed view. */
struct req {
	char buf[16384];
	struct msg m;
};

/* A REGISTER with the usual headers plus `extra` (lines ending in "\r\n"); To given apart. */
static struct req *mkreq(const char *to, const char *extra)
{
	struct req *r = calloc(1, sizeof(*r));
	size_t used;

	assert_non_null(r);
	int n = snprintf(r->buf, sizeof(r->buf),
			 "REGISTER sip:example.com SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n"
			 "Max-Forwards: 70\r\n"
			 "To: %s\r\n"
			 "From: <sip:alice@example.com>;tag=1\r\n"
			 "Call-ID: cid-1@192.0.2.1\r\n"
			 "CSeq: 7 REGISTER\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n",
			 to, extra);
	assert_true(n > 0 && (size_t)n < sizeof(r->buf));
	assert_int_equal(msg_parse(&r->m, r->buf, (size_t)n, MSG_PARSE_DGRAM, &used), 0);
	return r;
}

static bool own_example(void *arg, const char *buf, const struct msg_uri *u)
{
	(void)arg;
	return span_ieq(buf, u->host, "example.com") || span_ieq(buf, u->host, "[2001:db8::1]");
}

/* ---- reg_aor ---------------------------------------------------------- */

static void test_aor_canonical(void **state)
{
	static const struct {
		const char *uri;
		const char *key; /* NULL: -1 */
	} cases[] = {
	    {"sip:Alice@Example.COM;transport=tcp", "sip:Alice@example.com"},
	    {"sips:bob@host.example:5061", "sip:bob@host.example"},
	    {"sip:bob:secret@host.example?subject=x", "sip:bob@host.example"},
	    {"sip:%61lice@x.example", "sip:alice@x.example"},
	    {"sip:%7euser@x.example", "sip:~user@x.example"},
	    {"sip:a%2fb@x.example", "sip:a/b@x.example"},
	    {"sip:a%20b@x.example", "sip:a%20b@x.example"},
	    {"sip:a%3cb@x.example", "sip:a%3Cb@x.example"},
	    {"sip:null-%00-null@example.com", "sip:null-%00-null@example.com"},
	    {"sip:+1-212;x=y@gw.example", "sip:+1-212;x=y@gw.example"},
	    {"sip:u@[2001:DB8::1]:5060;lr", "sip:u@[2001:db8::1]"},
	    {"sip:host.example", NULL},
	    {"tel:+1-201-555-0123", NULL},
	    {"mailto:a@example.com", NULL},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct msg_uri u;
		struct span s = {0, (uint32_t)strlen(cases[i].uri)};
		char out[LOC_AOR_MAX];
		assert_int_equal(msg_uri_parse(cases[i].uri, s, &u), 0);
		int n = reg_aor(cases[i].uri, &u, out, sizeof(out));
		if (!cases[i].key) {
			assert_int_equal(n, -1);
			continue;
		}
		assert_int_equal(n, (int)strlen(cases[i].key));
		assert_string_equal(out, cases[i].key);
		/* equal URIs give equal keys; the key itself is stable */
		struct msg_uri u2;
		char again[LOC_AOR_MAX];
		assert_int_equal(msg_uri_parse(out, (struct span){0, (uint32_t)n}, &u2), 0);
		assert_int_equal(reg_aor(out, &u2, again, sizeof(again)), n);
		assert_string_equal(again, out);
	}
}

static void test_aor_cap(void **state)
{
	const char *uri = "sip:alice@example.com";
	struct msg_uri u;
	char out[32];
	(void)state;
	assert_int_equal(msg_uri_parse(uri, (struct span){0, (uint32_t)strlen(uri)}, &u), 0);
	/* "sip:alice@example.com" is 21 bytes: 22 with the NUL fits, 21 does not */
	assert_int_equal(reg_aor(uri, &u, out, 22), 21);
	assert_int_equal(reg_aor(uri, &u, out, 21), -1);
	assert_int_equal(reg_aor(uri, &u, out, 4), -1);
	const char *esc = "sip:%20@x"; /* one byte becomes three */
	assert_int_equal(msg_uri_parse(esc, (struct span){0, (uint32_t)strlen(esc)}, &u), 0);
	assert_int_equal(reg_aor(esc, &u, out, 9), -1);
	assert_int_equal(reg_aor(esc, &u, out, 10), 9);
	assert_string_equal(out, "sip:%20@x");
}

/* ---- reg_parse_aor ---------------------------------------------------- */

static void test_parse_aor(void **state)
{
	static const struct {
		const char *to;
		uint16_t status;
		const char *aor;
		const char *domain;
	} cases[] = {
	    {"<sip:alice@Example.com>", 0, "sip:alice@example.com", "example.com"},
	    {"\"A\" <sips:alice@example.com:5061;transport=tls>;x=1", 0, "sip:alice@example.com",
	     "example.com"},
	    {"sip:u@[2001:db8::1]", 0, "sip:u@[2001:db8::1]", "[2001:db8::1]"},
	    {"isbn:2983792873", 400, NULL, NULL}, /* RFC 4475 §3.3.4 unksm2 */
	    {"<tel:+1-201-555-0123>", 400, NULL, NULL},
	    {"<sip:alice@elsewhere.example>", 404, NULL, NULL},
	    {"<sip:example.com>", 404, NULL, NULL},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct req *r = mkreq(cases[i].to, "");
		struct reg_aor a;
		struct reg_verdict v = {0, NULL};
		bool ok = reg_parse_aor(&r->m, own_example, NULL, &a, &v);
		assert_int_equal(ok, cases[i].status == 0);
		if (ok) {
			assert_string_equal(a.aor, cases[i].aor);
			assert_string_equal(a.domain, cases[i].domain);
		} else {
			assert_int_equal(v.status, cases[i].status);
			assert_non_null(v.reason);
		}
		free(r);
	}
}

static void test_parse_aor_user_unescaped(void **state)
{
	struct req *r = mkreq("sip:null-%00-%41@example.com", "");
	struct reg_aor a;
	struct reg_verdict v = {0, NULL};
	(void)state;
	assert_true(reg_parse_aor(&r->m, own_example, NULL, &a, &v));
	assert_int_equal(a.userlen, 8);
	assert_memory_equal(a.user, "null-\0-A", 8);
	assert_string_equal(a.aor, "sip:null-%00-A@example.com");
	free(r);
}

/* ---- reg_parse_common ------------------------------------------------- */

static void test_common(void **state)
{
	struct req *r = mkreq("<sip:alice@example.com>",
			      "Path: <sip:p1.example;lr>\r\n"
			      "Path: <sip:p2.example;lr>, <sip:p3.example;lr>\r\n"
			      "User-Agent: phone/1.0\r\n");
	struct loc_binding b;
	struct reg_verdict v = {0, NULL};
	(void)state;
	assert_true(reg_parse_common(&r->m, "udp:192.0.2.1:5060", &b, &v));
	assert_string_equal(b.call_id, "cid-1@192.0.2.1");
	assert_int_equal(b.cseq, 7);
	assert_string_equal(b.path, "<sip:p1.example;lr>,<sip:p2.example;lr>,<sip:p3.example;lr>");
	assert_string_equal(b.user_agent, "phone/1.0");
	assert_string_equal(b.received, "udp:192.0.2.1:5060");
	assert_int_equal(b.q, -1);
	assert_string_equal(b.contact, "");
	free(r);
}

/* A header line "Name: " + n copies of c + suffix. */
static char *long_line(const char *name, char c, size_t n, const char *prefix,
		       const char *suffix)
{
	size_t cap = strlen(name) + strlen(prefix) + n + strlen(suffix) + 8;
	char *s = malloc(cap);
	assert_non_null(s);
	size_t k = (size_t)snprintf(s, cap, "%s: %s", name, prefix);
	memset(s + k, c, n);
	snprintf(s + k + n, cap - k - n, "%s\r\n", suffix);
	return s;
}

static void test_common_limits(void **state)
{
	struct loc_binding b;
	struct reg_verdict v = {0, NULL};
	(void)state;

	/* a Call-ID of LOC_CALLID_MAX - 1 bytes fits, one more does not */
	for (int extra = 0; extra < 2; extra++) {
		char *cid = long_line("Call-ID", 'c', LOC_CALLID_MAX - 1 + (size_t)extra, "", "");
		struct req *r = calloc(1, sizeof(*r));
		size_t used;
		int n = snprintf(r->buf, sizeof(r->buf),
				 "REGISTER sip:example.com SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-2\r\n"
				 "To: <sip:a@example.com>\r\nFrom: <sip:a@example.com>;tag=2\r\n"
				 "%sCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n",
				 cid);
		assert_int_equal(msg_parse(&r->m, r->buf, (size_t)n, 0, &used), 0);
		bool ok = reg_parse_common(&r->m, "udp:192.0.2.1:5060", &b, &v);
		assert_int_equal(ok, extra == 0);
		if (!ok) {
			assert_int_equal(v.status, 400);
			assert_string_equal(v.reason, "Call-ID Too Long");
		}
		free(r);
		free(cid);
	}
	/* a Path longer than LOC_PATH_MAX, and one that is not a name-addr */
	char *path = long_line("Path", 'p', LOC_PATH_MAX, "<sip:", ".example;lr>");
	struct req *r = mkreq("<sip:a@example.com>", path);
	assert_false(reg_parse_common(&r->m, "", &b, &v));
	assert_int_equal(v.status, 400);
	assert_string_equal(v.reason, "Path Too Long");
	free(r);
	free(path);
	r = mkreq("<sip:a@example.com>", "Path: <sip:p.example;lr\r\n");
	assert_false(reg_parse_common(&r->m, "", &b, &v));
	assert_int_equal(v.status, 400);
	assert_string_equal(v.reason, "Bad Path");
	free(r);
	/* an over-long User-Agent is cut, never refused */
	char *ua = long_line("User-Agent", 'u', 4 * LOC_UA_MAX, "", "");
	r = mkreq("<sip:a@example.com>", ua);
	assert_true(reg_parse_common(&r->m, "", &b, &v));
	assert_int_equal(strlen(b.user_agent), LOC_UA_MAX - 1);
	free(r);
	free(ua);
}

/* ---- reg_parse_contacts ----------------------------------------------- */

struct want {
	const char *contact;
	int64_t secs; /* granted; 0: removal (expires 0) */
	int q;
	const char *instance;
	uint32_t reg_id;
};

/* a wanted change without RFC 5626 parameters */
#define W(contact, secs, q) {contact, secs, q, NULL, 0}
#define C_A "Contact: <sip:a@192.0.2.1>\r\n"

struct contact_case {
	const char *hdrs;
	uint32_t min, max, def;
	uint16_t status; /* 0: accepted */
	bool star;
	unsigned n;
	struct want w[3];
};

static const struct contact_case contact_cases[] = {
    /* no Contact: a query */
    {"", 60, 7200, 0, 0, false, 0, {{0}}},
    /* no expiry anywhere: the default, 3600 */
    {C_A, 60, 7200, 0, 0, false, 1, {W("sip:a@192.0.2.1", 3600, -1)}},
    /* the configured default, clamped into [min, max] */
    {C_A, 60, 7200, 300, 0, false, 1, {W("sip:a@192.0.2.1", 300, -1)}},
    {C_A, 600, 7200, 300, 0, false, 1, {W("sip:a@192.0.2.1", 600, -1)}},
    {C_A, 60, 1000, 0, 0, false, 1, {W("sip:a@192.0.2.1", 1000, -1)}},
    /* the Expires header, then the contact's parameter, which wins */
    {"Contact: <sip:a@192.0.2.1>\r\nExpires: 120\r\n", 60, 7200, 0, 0, false, 1,
     {W("sip:a@192.0.2.1", 120, -1)}},
    {"Contact: <sip:a@192.0.2.1>;expires=90\r\nExpires: 600\r\n", 60, 7200, 0, 0, false, 1,
     {W("sip:a@192.0.2.1", 90, -1)}},
    {"Contact: <sip:a@192.0.2.1>;expires=0\r\nExpires: 600\r\n", 60, 7200, 0, 0, false, 1,
     {W("sip:a@192.0.2.1", 0, -1)}},
    /* above the maximum: capped; below the minimum: 423; zero is never too brief */
    {"Contact: <sip:a@192.0.2.1>;expires=99999\r\n", 60, 7200, 0, 0, false, 1,
     {W("sip:a@192.0.2.1", 7200, -1)}},
    {"Contact: <sip:a@192.0.2.1>;expires=4294967295\r\n", 0, 0, 0, 0, false, 1,
     {W("sip:a@192.0.2.1", 4294967295LL, -1)}},
    {"Contact: <sip:a@192.0.2.1>;expires=59\r\n", 60, 7200, 0, 423, false, 0, {{0}}},
    {"Contact: <sip:a@192.0.2.1>\r\nExpires: 1\r\n", 60, 7200, 0, 423, false, 0, {{0}}},
    {"Contact: <sip:a@192.0.2.1>\r\nExpires: 0\r\n", 60, 7200, 0, 0, false, 1,
     {W("sip:a@192.0.2.1", 0, -1)}},
    {"Contact: <sip:a@192.0.2.1>;expires=1\r\n", 1, 7200, 0, 0, false, 1,
     {W("sip:a@192.0.2.1", 1, -1)}},
    /* one bad contact fails the whole request */
    {"Contact: <sip:a@192.0.2.1>;expires=600, <sip:b@192.0.2.1>;expires=5\r\n", 60, 7200, 0, 423,
     false, 0, {{0}}},
    /* several contacts, q-values, RFC 5626 parameters */
    {"Contact: <sip:a@192.0.2.1>;q=0.5, \"B\" <sip:b@192.0.2.2:5070;transport=tcp>;q=1\r\n"
     "Contact: <sip:c@192.0.2.3>;+sip.instance=\"<urn:uuid:0000-1>\";reg-id=2;expires=300\r\n",
     60, 7200, 0, 0, false, 3,
     {W("sip:a@192.0.2.1", 3600, 500),
      W("sip:b@192.0.2.2:5070;transport=tcp", 3600, 1000),
      {"sip:c@192.0.2.3", 300, -1, "<urn:uuid:0000-1>", 2}}},
    /* the same contact twice (§19.1.4: parameters compare without case, the user with):
     * its last occurrence counts, in the place of the first */
    {"Contact: <sip:a@192.0.2.1;transport=udp>;expires=100, <sip:A@192.0.2.1;transport=udp>;"
     "expires=200\r\nContact: <sip:a@192.0.2.1;TRANSPORT=UDP>;expires=300\r\n",
     60, 7200, 0, 0, false, 2,
     {W("sip:a@192.0.2.1;TRANSPORT=UDP", 300, -1), W("sip:A@192.0.2.1;transport=udp", 200, -1)}},
    /* Contact: * (§10.3 step 6) */
    {"Contact: *\r\nExpires: 0\r\n", 60, 7200, 0, 0, true, 0, {{0}}},
    {"Contact: *\r\n", 60, 7200, 0, 400, false, 0, {{0}}},
    {"Contact: *\r\nExpires: 30\r\n", 1, 7200, 0, 400, false, 0, {{0}}},
    {"Contact: *\r\nContact: <sip:a@192.0.2.1>\r\nExpires: 0\r\n", 60, 7200, 0, 400, false, 0,
     {{0}}},
    {"Contact: <sip:a@192.0.2.1>, *\r\nExpires: 0\r\n", 60, 7200, 0, 400, false, 0, {{0}}},
    /* bad parameters */
    {"Contact: <sip:a@192.0.2.1>;reg-id=0\r\n", 60, 7200, 0, 400, false, 0, {{0}}},
    {"Contact: <sip:a@192.0.2.1>;reg-id=x\r\n", 60, 7200, 0, 400, false, 0, {{0}}},
    {"Contact: <sip:a@192.0.2.1>;+sip.instance=\"\"\r\n", 60, 7200, 0, 400, false, 0, {{0}}},
    {"Contact: <sip:a@192.0.2.1>;+sip.instance=\"a\\\"b\"\r\n", 60, 7200, 0, 400, false, 0,
     {{0}}},
    {"Contact: <sip:a@192.0.2.1>\r\nExpires: soon\r\n", 60, 7200, 0, 400, false, 0, {{0}}},
};

static void check_change(const struct loc_change *c, const struct want *w)
{
	assert_string_equal(c->b.contact, w->contact);
	assert_int_equal(c->b.expires, w->secs ? NOW + w->secs : 0);
	assert_int_equal(c->b.q, w->q);
	assert_string_equal(c->b.instance, w->instance ? w->instance : "");
	assert_int_equal(c->b.reg_id, w->reg_id);
	/* the shared fields come from the template */
	assert_string_equal(c->b.call_id, "cid-1@192.0.2.1");
	assert_int_equal(c->b.cseq, 7);
	assert_string_equal(c->b.received, "tcp:192.0.2.9:5062");
}

/* Room for the changes of m, exactly as reg.c allocates it (so ASan sees an overrun). */
static struct loc_change *changes_for(struct msg *m)
{
	unsigned elems = 0;
	for (const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_CONTACT);
	     h && elems < LOC_MAX_BINDINGS; h = msg_hdr_next(m, h))
		elems++;
	struct loc_change *c = malloc((elems ? elems : 1) * sizeof(*c));
	assert_non_null(c);
	return c;
}

static void test_contacts(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(contact_cases); i++) {
		const struct contact_case *k = &contact_cases[i];
		struct req *r = mkreq("<sip:alice@example.com>", k->hdrs);
		struct loc_change *c = changes_for(&r->m);
		struct reg_conf conf = {.min_expires = k->min, .max_expires = k->max,
					.default_expires = k->def};
		struct loc_binding tmpl;
		struct reg_verdict v = {0, NULL};
		unsigned n = 99;
		bool star = false;
		print_message("case %zu\n", i);
		assert_true(reg_parse_common(&r->m, "tcp:192.0.2.9:5062", &tmpl, &v));
		bool ok = reg_parse_contacts(&r->m, &conf, NOW, &tmpl, c, &n, &star, &v);
		assert_int_equal(ok, k->status == 0);
		if (!ok) {
			assert_int_equal(v.status, k->status);
		} else {
			assert_int_equal(star, k->star);
			assert_int_equal(n, k->n);
			for (unsigned j = 0; j < n; j++)
				check_change(&c[j], &k->w[j]);
		}
		free(c);
		free(r);
	}
}

static void test_contacts_limits(void **state)
{
	struct loc_change *c = calloc(LOC_MAX_BINDINGS, sizeof(*c));
	char *hdrs = calloc(1, 8192);
	struct reg_conf conf = {.min_expires = 60, .max_expires = 7200};
	struct loc_binding tmpl;
	struct reg_verdict v;
	unsigned n;
	bool star;
	(void)state;
	assert_non_null(c);
	assert_non_null(hdrs);

	/* LOC_MAX_BINDINGS distinct contacts are fine, one more is 403 */
	for (unsigned total = LOC_MAX_BINDINGS; total <= LOC_MAX_BINDINGS + 1; total++) {
		size_t k = 0;
		for (unsigned i = 0; i < total; i++)
			k += (size_t)snprintf(hdrs + k, 8192 - k, "Contact: <sip:u%u@192.0.2.1>\r\n",
					      i);
		struct req *r = mkreq("<sip:alice@example.com>", hdrs);
		struct loc_change *exact = changes_for(&r->m);
		assert_true(reg_parse_common(&r->m, "", &tmpl, &v));
		bool ok = reg_parse_contacts(&r->m, &conf, NOW, &tmpl, exact, &n, &star, &v);
		assert_int_equal(ok, total == LOC_MAX_BINDINGS);
		if (ok)
			assert_int_equal(n, LOC_MAX_BINDINGS);
		else
			assert_int_equal(v.status, 403);
		free(exact);
		free(r);
	}
	/* a contact URI of LOC_CONTACT_MAX - 1 bytes fits, one more is 400 */
	for (int extra = 0; extra < 2; extra++) {
		size_t ulen = LOC_CONTACT_MAX - 1 + (size_t)extra - strlen("sip:@h");
		char *line = long_line("Contact", 'x', ulen, "<sip:", "@h>");
		struct req *r = mkreq("<sip:alice@example.com>", line);
		assert_true(reg_parse_common(&r->m, "", &tmpl, &v));
		bool ok = reg_parse_contacts(&r->m, &conf, NOW, &tmpl, c, &n, &star, &v);
		assert_int_equal(ok, extra == 0);
		if (ok) {
			assert_int_equal(strlen(c[0].b.contact), LOC_CONTACT_MAX - 1);
		} else {
			assert_int_equal(v.status, 400);
			assert_string_equal(v.reason, "Contact Too Long");
		}
		free(r);
		free(line);
	}
	free(hdrs);
	free(c);
}

static void test_supported(void **state)
{
	struct req *r = mkreq("<sip:a@example.com>", "Supported: timer, PATH\r\nk: 100rel\r\n");
	(void)state;
	assert_true(reg_supported(&r->m, "path"));
	assert_true(reg_supported(&r->m, "100rel"));
	assert_false(reg_supported(&r->m, "outbound"));
	free(r);
	r = mkreq("<sip:a@example.com>", "");
	assert_false(reg_supported(&r->m, "path"));
	free(r);
}

/* ---- reg_reply_hdrs --------------------------------------------------- */

static struct loc_binding mkbind(const char *contact, int64_t left, int q, const char *inst,
			       uint32_t reg_id)
{
	struct loc_binding b;
	memset(&b, 0, sizeof(b));
	snprintf(b.contact, sizeof(b.contact), "%s", contact);
	snprintf(b.instance, sizeof(b.instance), "%s", inst);
	b.expires = NOW + left;
	b.q = (int16_t)q;
	b.reg_id = reg_id;
	return b;
}

static void test_reply(void **state)
{
	struct loc_binding b[6];
	char out[8192];
	(void)state;
	b[0] = mkbind("sip:a@192.0.2.1", 3600, -1, "", 0);
	b[1] = mkbind("sip:b@192.0.2.2;transport=tcp", 10, 500, "", 0);
	b[2] = mkbind("sip:c@192.0.2.3", 1, 1000, "<urn:uuid:1>", 3);
	b[3] = mkbind("sip:gone@192.0.2.4", 0, -1, "", 0);       /* expired now */
	b[4] = mkbind("sip:x@h>\r\nX-Evil: 1", 60, -1, "", 0);   /* would break the header */
	b[5] = mkbind("sip:d@192.0.2.5", 5, 125, "", 0);
	int n = reg_reply_hdrs(b, 6, NOW, "<sip:p1.example;lr>,<sip:p2.example;lr>", out,
			       sizeof(out));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(out));
	const char *want = "Contact: <sip:a@192.0.2.1>;expires=3600\r\n"
			   "Contact: <sip:b@192.0.2.2;transport=tcp>;expires=10;q=0.5\r\n"
			   "Contact: <sip:c@192.0.2.3>;expires=1;q=1;+sip.instance=\"<urn:uuid:1>\""
			   ";reg-id=3\r\n"
			   "Contact: <sip:d@192.0.2.5>;expires=5;q=0.125\r\n"
			   "Path: <sip:p1.example;lr>,<sip:p2.example;lr>\r\n"
			   "Date: Tue, 14 Nov 2023 22:13:20 GMT\r\n";
	assert_string_equal(out, want);
	/* exactly big enough works, one byte less does not */
	assert_int_equal(reg_reply_hdrs(b, 6, NOW, "<sip:p1.example;lr>,<sip:p2.example;lr>", out,
					(size_t)n + 1),
			 n);
	assert_int_equal(reg_reply_hdrs(b, 6, NOW, "<sip:p1.example;lr>,<sip:p2.example;lr>", out,
					(size_t)n),
			 -1);
	/* no binding, no Path: only the date */
	n = reg_reply_hdrs(b, 0, NOW, NULL, out, sizeof(out));
	assert_string_equal(out, "Date: Tue, 14 Nov 2023 22:13:20 GMT\r\n");
	/* the bound holds for the largest bindings */
	struct loc_binding *big = calloc(LOC_MAX_BINDINGS, sizeof(*big));
	assert_non_null(big);
	for (unsigned i = 0; i < LOC_MAX_BINDINGS; i++) {
		memset(big[i].contact, 'c', LOC_CONTACT_MAX - 1);
		memset(big[i].instance, 'i', LOC_INSTANCE_MAX - 1);
		big[i].expires = NOW + 4294967295LL;
		big[i].q = 999;
		big[i].reg_id = 0x7fffffff;
	}
	char path[LOC_PATH_MAX];
	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = 0;
	size_t cap = reg_reply_cap(LOC_MAX_BINDINGS, strlen(path));
	char *o = malloc(cap);
	assert_non_null(o);
	n = reg_reply_hdrs(big, LOC_MAX_BINDINGS, NOW, path, o, cap);
	assert_true(n > 0 && (size_t)n < cap);
	free(o);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_aor_canonical),
	    cmocka_unit_test(test_aor_cap),
	    cmocka_unit_test(test_parse_aor),
	    cmocka_unit_test(test_parse_aor_user_unescaped),
	    cmocka_unit_test(test_common),
	    cmocka_unit_test(test_common_limits),
	    cmocka_unit_test(test_contacts),
	    cmocka_unit_test(test_contacts_limits),
	    cmocka_unit_test(test_supported),
	    cmocka_unit_test(test_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
