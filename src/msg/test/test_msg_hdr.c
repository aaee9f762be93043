/*
 * test_msg_hdr.c - method ids and the scalar typed headers: CSeq, unsigned
 * numbers, Call-ID, tokens, Content-Type, Retry-After, Event,
 * Subscription-State.
 */
#include <errno.h>

#include "hdr_util.h"

/* A malformed case of a table whose struct has `in` and `rc` first. */
#define BAD(s) {.in = (s), .rc = EBADMSG}

/* ---- methods ---------------------------------------------------------- */

static void test_method_ids(void **state)
{
	static const struct {
		const char *name;
		enum msg_method id;
	} cases[] = {
		{"INVITE", MSG_METHOD_INVITE},       {"ACK", MSG_METHOD_ACK},
		{"BYE", MSG_METHOD_BYE},             {"CANCEL", MSG_METHOD_CANCEL},
		{"OPTIONS", MSG_METHOD_OPTIONS},     {"REGISTER", MSG_METHOD_REGISTER},
		{"PRACK", MSG_METHOD_PRACK},         {"SUBSCRIBE", MSG_METHOD_SUBSCRIBE},
		{"NOTIFY", MSG_METHOD_NOTIFY},       {"PUBLISH", MSG_METHOD_PUBLISH},
		{"INFO", MSG_METHOD_INFO},           {"REFER", MSG_METHOD_REFER},
		{"MESSAGE", MSG_METHOD_MESSAGE},     {"UPDATE", MSG_METHOD_UPDATE},
		/* case-sensitive (RFC 3261 §7.1), never unescaped (RFC 4475 §3.1.1.5) */
		{"invite", MSG_METHOD_OTHER},        {"Invite", MSG_METHOD_OTHER},
		{"RE%47IST%45R", MSG_METHOD_OTHER},  {"INVITEX", MSG_METHOD_OTHER},
		{"INVIT", MSG_METHOD_OTHER},         {"", MSG_METHOD_OTHER},
		{"AC", MSG_METHOD_OTHER},            {"SUBSCRIBES", MSG_METHOD_OTHER},
		{"!interesting-Method0123456789_*+`.%indeed'~", MSG_METHOD_OTHER},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		/* exact-size copy: the lookup must not read past len */
		size_t n = strlen(cases[i].name);
		char *p = malloc(n + 1);
		assert_non_null(p);
		memcpy(p, cases[i].name, n);
		assert_int_equal(msg_method_id(p, n), cases[i].id);
		free(p);
		if (cases[i].id != MSG_METHOD_OTHER)
			assert_string_equal(msg_method_name(cases[i].id), cases[i].name);
	}
	/* a prefix of a longer buffer is matched by its length only */
	assert_int_equal(msg_method_id("INVITEX", 6), MSG_METHOD_INVITE);
	assert_int_equal(msg_method_id(NULL, 0), MSG_METHOD_OTHER);
	assert_null(msg_method_name(MSG_METHOD_OTHER));
	assert_null(msg_method_name(MSG_METHOD__COUNT));
	assert_null(msg_method_name((enum msg_method)-1));
}

/* ---- CSeq ----------------------------------------------------------- */

static void test_cseq(void **state)
{
	static const struct {
		const char *in;
		int rc;
		uint32_t num;
		const char *method;
		enum msg_method id;
	} cases[] = {
		{"8 INVITE", 0, 8, "INVITE", MSG_METHOD_INVITE},
		{"0 INVITE", 0, 0, "INVITE", MSG_METHOD_INVITE},
		/* RFC 4475 §3.1.1.1: leading zeros, folded LWS */
		{"0009\r\n  INVITE", 0, 9, "INVITE", MSG_METHOD_INVITE},
		{"3923239 \t OPTIONS", 0, 3923239, "OPTIONS", MSG_METHOD_OPTIONS},
		{"2147483647 BYE", 0, 2147483647u, "BYE", MSG_METHOD_BYE},
		{"29344 RE%47IST%45R", 0, 29344, "RE%47IST%45R", MSG_METHOD_OTHER},
		{"139122385 !interesting-Method0123456789_*+`.%indeed'~", 0, 139122385,
		 "!interesting-Method0123456789_*+`.%indeed'~", MSG_METHOD_OTHER},
		{"1 register", 0, 1, "register", MSG_METHOD_OTHER},
		/* RFC 3261 §8.1.1.5: less than 2^31; RFC 4475 §3.1.2.4, §3.1.2.5 */
		BAD("2147483648 INVITE"),
		BAD("4294967296 INVITE"),
		BAD("36893488147419103232 REGISTER"),
		BAD("9292394834772304023312 OPTIONS"),
		BAD(""),
		BAD("INVITE"),
		BAD("8"),
		BAD("8 "),
		BAD("8INVITE"),
		BAD("-1 INVITE"),
		BAD("+1 INVITE"),
		BAD("8 INVITE x"),
		BAD("8 INV ITE"),
		BAD("8 INVITE;x"),
		BAD("8\r\nINVITE"), /* a line break that is not a fold */
		BAD("8 \"INVITE\""),
		BAD("1.5 INVITE"),
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hbuf h = hbuf_new(cases[i].in);
		struct msg_cseq c;
		int rc = msg_cseq_parse(h.buf, h.v, &c);
		if (rc != cases[i].rc)
			print_error("case %zu: %s\n", i, cases[i].in);
		assert_int_equal(rc, cases[i].rc);
		if (rc == 0) {
			assert_int_equal(c.num, cases[i].num);
			assert_span(h.buf, c.method, cases[i].method);
			assert_int_equal(c.method_id, cases[i].id);
		}
		hbuf_free(&h);
	}
}

/* ---- unsigned numbers ----------------------------------------------- */

static void test_uint(void **state)
{
	static const struct {
		const char *in;
		uint32_t max;
		int rc;
		uint32_t val;
	} cases[] = {
		{"70", 255, 0, 70},
		{"0068", 255, 0, 68}, /* RFC 4475 §3.1.1.1 */
		{"0", 255, 0, 0},
		{"255", 255, 0, 255},
		{.in = "256", .max = 255, .rc = EBADMSG},
		{.in = "300", .max = 255, .rc = EBADMSG}, /* RFC 4475 §3.1.2.4 Max-Forwards */
		{"4294967295", UINT32_MAX, 0, UINT32_MAX},
		{.in = "4294967296", .max = UINT32_MAX, .rc = EBADMSG},
		{"10000000000000000000000000000000000000000000000000000000000000000000000000000"
		 "000000000000000000000000000",
		 UINT32_MAX, EBADMSG, 0},
		{"00000000000000000000000000000000000000000000000000000000000000000000000000000"
		 "000000000000000000000000007",
		 UINT32_MAX, 0, 7},
		{.in = "", .max = UINT32_MAX, .rc = EBADMSG},
		{.in = "-1", .max = UINT32_MAX, .rc = EBADMSG},
		{.in = "+1", .max = UINT32_MAX, .rc = EBADMSG},
		{.in = "1 2", .max = UINT32_MAX, .rc = EBADMSG},
		{.in = "12a", .max = UINT32_MAX, .rc = EBADMSG},
		{.in = "0x10", .max = UINT32_MAX, .rc = EBADMSG},
		{.in = "1.0", .max = UINT32_MAX, .rc = EBADMSG},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hbuf h = hbuf_new(cases[i].in);
		uint32_t v = 12345;
		int rc = msg_uint_parse(h.buf, h.v, cases[i].max, &v);
		if (rc != cases[i].rc)
			print_error("case %zu: %s\n", i, cases[i].in);
		assert_int_equal(rc, cases[i].rc);
		if (rc == 0)
			assert_int_equal(v, cases[i].val);
		hbuf_free(&h);
	}
}

/* ---- Call-ID and token ---------------------------------------------- */

static void test_callid(void **state)
{
	static const struct {
		const char *in;
		int rc;
	} cases[] = {
		{"wsinv.ndaksdj@192.0.2.1", 0},
		{"a84b4c76e66710@pc33.atlanta.com", 0},
		{"f81d4fae-7dec-11d0-a765-00a0c91e6bf6", 0},
		/* RFC 4475 §3.1.1.2: every word character */
		{"intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{", 0},
		{"x", 0},
		BAD(""),
		BAD("@host"),
		BAD("id@"),
		BAD("a@b@c"),
		BAD("a b"),
		BAD("a;b"),
		BAD("a,b"),
		BAD("a=b"),
		BAD("a\r\n b"),
		BAD("caf\xc3\xa9"),
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hbuf h = hbuf_new(cases[i].in);
		struct span s;
		int rc = msg_callid_parse(h.buf, h.v, &s);
		if (rc != cases[i].rc)
			print_error("case %zu: %s\n", i, cases[i].in);
		assert_int_equal(rc, cases[i].rc);
		if (rc == 0)
			assert_span(h.buf, s, cases[i].in);
		hbuf_free(&h);
	}
}

static void test_token(void **state)
{
	static const struct {
		const char *in;
		int rc;
	} cases[] = {
		{"100rel", 0},     {"timer", 0},    {"INVITE", 0},     {"x-.!%*_+`'~", 0},
		BAD(""),     BAD("a b"), BAD("a,b"), BAD("a;b"),
		BAD("\"a\""), BAD("a/b"), BAD("a:b"), BAD("a\x01"),
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hbuf h = hbuf_new(cases[i].in);
		struct span s;
		int rc = msg_token_parse(h.buf, h.v, &s);
		assert_int_equal(rc, cases[i].rc);
		if (rc == 0)
			assert_span(h.buf, s, cases[i].in);
		hbuf_free(&h);
	}
}

/* ---- Content-Type ----------------------------------------------------- */

static void test_ctype(void **state)
{
	static const struct {
		const char *in;
		int rc;
		const char *type, *sub, *params;
	} cases[] = {
		{"application/sdp", 0, "application", "sdp", NULL},
		{"application/unknownformat", 0, "application", "unknownformat", NULL},
		{"text/plain; charset=UTF-8", 0, "text", "plain", "charset=UTF-8"},
		{"multipart/signed;protocol=\"application/pkcs7-signature\";micalg=sha1;"
		 "boundary=boundary42",
		 0, "multipart", "signed",
		 "protocol=\"application/pkcs7-signature\";micalg=sha1;boundary=boundary42"},
		{"application \r\n / sdp ;\r\n x=y", 0, "application", "sdp", "x=y"},
		{"message/sipfrag;version=2.0", 0, "message", "sipfrag", "version=2.0"},
		BAD(""),
		BAD("application"),
		BAD("application/"),
		BAD("/sdp"),
		BAD("application/sdp/x"),
		BAD("application/sdp;"),
		BAD("application/sdp;;a=b"),
		BAD("application/sdp;charset"), /* m-parameter needs a value */
		BAD("application/sdp;charset="),
		BAD("application/sdp;a=\"open"),
		BAD("application/sdp x"),
		BAD("appli cation/sdp"),
		BAD("application/s dp"),
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hbuf h = hbuf_new(cases[i].in);
		struct msg_ctype ct;
		int rc = msg_ctype_parse(h.buf, h.v, &ct);
		if (rc != cases[i].rc)
			print_error("case %zu: %s\n", i, cases[i].in);
		assert_int_equal(rc, cases[i].rc);
		if (rc == 0) {
			assert_span(h.buf, ct.type, cases[i].type);
			assert_span(h.buf, ct.subtype, cases[i].sub);
			assert_span(h.buf, ct.params, cases[i].params);
		}
		hbuf_free(&h);
	}
}

/* ---- Retry-After ------------------------------------------------------ */

static void test_retry_after(void **state)
{
	static const struct {
		const char *in;
		int rc;
		uint32_t secs;
		const char *comment;
		int64_t duration;
		const char *params;
	} cases[] = {
		{"18000;duration=3600", 0, 18000, NULL, 3600, "duration=3600"},
		{"120 (I'm in a meeting)", 0, 120, "(I'm in a meeting)", -1, NULL},
		{"0", 0, 0, NULL, -1, NULL},
		{"4294967295", 0, 4294967295u, NULL, -1, NULL},
		{"5 (a (nested \\) comment) here) ; duration = 10 ; x", 0, 5,
		 "(a (nested \\) comment) here)", 10, "duration = 10 ; x"},
		{"5(folded\r\n comment)", 0, 5, "(folded\r\n comment)", -1, NULL},
		{"60;DURATION=0;foo=bar", 0, 60, NULL, 0, "DURATION=0;foo=bar"},
		/* RFC 4475 §3.1.2.5 scalarlg.dat */
		BAD("949302838503028349304023988"),
		BAD("4294967296"),
		BAD(""),
		BAD("(comment)"),
		BAD("-5"),
		BAD("5 (unterminated"),
		BAD("5 (a (b)"),
		BAD("5 (bad\r\nfold)"),
		BAD("5 (escape at end\\"),
		BAD("5 (ctl\x01)"),
		BAD("5 (a) (b)"),
		BAD("5 x"),
		BAD("5;"),
		BAD("5;duration"),
		BAD("5;duration="),
		BAD("5;duration=x"),
		BAD("5;duration=99999999999"),
		BAD("5;duration=1;duration=2"),
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hbuf h = hbuf_new(cases[i].in);
		struct msg_retry_after ra;
		int rc = msg_retry_after_parse(h.buf, h.v, &ra);
		if (rc != cases[i].rc)
			print_error("case %zu: %s\n", i, cases[i].in);
		assert_int_equal(rc, cases[i].rc);
		if (rc == 0) {
			assert_int_equal(ra.seconds, cases[i].secs);
			assert_span(h.buf, ra.comment, cases[i].comment);
			assert_int_equal(ra.duration, cases[i].duration);
			assert_span(h.buf, ra.params, cases[i].params);
		}
		hbuf_free(&h);
	}
}

/* ---- Event, Subscription-State (RFC 6665) ------------------------------ */

static void test_event(void **state)
{
	static const struct {
		const char *in;
		int rc;
		const char *package, *id, *params;
	} cases[] = {
		{"presence", 0, "presence", NULL, NULL},
		{"presence.winfo", 0, "presence.winfo", NULL, NULL},
		{"refer;id=93809824", 0, "refer", "93809824", "id=93809824"},
		{"dialog ; ID = 1 ; call-id=\"x@y\"", 0, "dialog", "1", "ID = 1 ; call-id=\"x@y\""},
		{"message-summary;foo", 0, "message-summary", NULL, "foo"},
		BAD(""),
		BAD(".presence"),
		BAD("presence."),
		BAD("presence..winfo"),
		BAD("pres ence"),
		BAD("presence;"),
		BAD("presence;id"),
		BAD("presence;id="),
		BAD("presence;id=\"1\""),
		BAD("presence;id=1;id=2"),
		BAD("presence/x"),
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hbuf h = hbuf_new(cases[i].in);
		struct msg_event ev;
		int rc = msg_event_parse(h.buf, h.v, &ev);
		if (rc != cases[i].rc)
			print_error("case %zu: %s\n", i, cases[i].in);
		assert_int_equal(rc, cases[i].rc);
		if (rc == 0) {
			assert_span(h.buf, ev.package, cases[i].package);
			assert_span(h.buf, ev.id, cases[i].id);
			assert_span(h.buf, ev.params, cases[i].params);
		}
		hbuf_free(&h);
	}
}

static void test_substate(void **state)
{
	static const struct {
		const char *in;
		int rc;
		const char *state, *reason;
		int64_t expires, retry;
	} cases[] = {
		{"active;expires=3600", 0, "active", NULL, 3600, -1},
		{"pending", 0, "pending", NULL, -1, -1},
		{"terminated;reason=timeout;retry-after=60", 0, "terminated", "timeout", -1, 60},
		{"terminated ; Reason = noresource", 0, "terminated", "noresource", -1, -1},
		{"active;expires=99999999999999", 0, "active", NULL, 4294967295LL, -1},
		{"x-ext;foo=bar;expires=0", 0, "x-ext", NULL, 0, -1},
		BAD(""),
		BAD("active;"),
		BAD("active;expires"),
		BAD("active;expires="),
		BAD("active;expires=-1"),
		BAD("active;expires=1;expires=2"),
		BAD("terminated;retry-after=x"),
		BAD("terminated;reason=\"timeout\""),
		BAD("terminated;reason=a;reason=b"),
		BAD("act ive"),
		BAD("active,pending"),
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hbuf h = hbuf_new(cases[i].in);
		struct msg_substate ss;
		int rc = msg_substate_parse(h.buf, h.v, &ss);
		if (rc != cases[i].rc)
			print_error("case %zu: %s\n", i, cases[i].in);
		assert_int_equal(rc, cases[i].rc);
		if (rc == 0) {
			assert_span(h.buf, ss.state, cases[i].state);
			assert_span(h.buf, ss.reason, cases[i].reason);
			assert_int_equal(ss.expires, cases[i].expires);
			assert_int_equal(ss.retry_after, cases[i].retry);
		}
		hbuf_free(&h);
	}
}

/* Every prefix of some valid values: no over-read, only 0 or EBADMSG. */
static void test_scalar_truncated(void **state)
{
	static const char *const inputs[] = {
		"0009\r\n  INVITE",
		"multipart/signed;protocol=\"application/pkcs7-signature\";micalg=sha1",
		"5 (a (nested \\) comment) here) ; duration = 10 ; x",
		"dialog ; ID = 1 ; call-id=\"x@y\"",
		"terminated;reason=timeout;retry-after=60",
		"intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{",
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(inputs); i++) {
		for (size_t n = 0; n < strlen(inputs[i]); n++) {
			char tmp[128];
			memcpy(tmp, inputs[i], n);
			tmp[n] = '\0';
			struct hbuf h = hbuf_new(tmp);
			struct msg_cseq cs;
			struct msg_ctype ct;
			struct msg_retry_after ra;
			struct msg_event ev;
			struct msg_substate ss;
			struct span s;
			uint32_t u;
			int rc[] = {
				msg_cseq_parse(h.buf, h.v, &cs),
				msg_ctype_parse(h.buf, h.v, &ct),
				msg_retry_after_parse(h.buf, h.v, &ra),
				msg_event_parse(h.buf, h.v, &ev),
				msg_substate_parse(h.buf, h.v, &ss),
				msg_callid_parse(h.buf, h.v, &s),
				msg_token_parse(h.buf, h.v, &s),
				msg_uint_parse(h.buf, h.v, UINT32_MAX, &u),
			};
			for (size_t k = 0; k < ARRAY_SIZE(rc); k++)
				assert_true(rc[k] == 0 || rc[k] == EBADMSG);
			hbuf_free(&h);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_method_ids),  cmocka_unit_test(test_cseq),
		cmocka_unit_test(test_uint),        cmocka_unit_test(test_callid),
		cmocka_unit_test(test_token),       cmocka_unit_test(test_ctype),
		cmocka_unit_test(test_retry_after), cmocka_unit_test(test_event),
		cmocka_unit_test(test_substate),    cmocka_unit_test(test_scalar_truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
