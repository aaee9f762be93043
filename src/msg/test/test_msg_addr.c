/*
 * test_msg_addr.c - msg_nameaddr_parse and msg_contact_parse
 * (RFC 3261 §20.10, §20.20, §25.1; RFC 4475 torture lines).
 */
#include <errno.h>

#include "hdr_util.h"

/* A malformed case of a table whose struct has `in` and `rc` first. */
#define BAD(s) {.in = (s), .rc = EBADMSG}

struct na_ok {
	const char *in;
	const char *display, *uri;
	bool angle;
	uint8_t scheme;
	const char *params, *tag;
};

static const struct na_ok na_ok_cases[] = {
	{"<sip:user@example.com>", NULL, "sip:user@example.com", true, MSG_URI_SIP, NULL, NULL},
	{"Bob <sips:bob@biloxi.example.com>;tag=a6c85cf", "Bob", "sips:bob@biloxi.example.com",
	 true, MSG_URI_SIPS, "tag=a6c85cf", "a6c85cf"},
	/* RFC 4475 §3.1.1.1 wsinv.dat From and To: escapes, folds, LWS around ';' '=' */
	{"\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8",
	 "\"J Rosenberg \\\\\\\"\"", "sip:jdrosen@example.com", true, MSG_URI_SIP,
	 "tag = 98asjd8", "98asjd8"},
	{"sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n", NULL,
	 "sip:vivekg@chair-dnrc.example.com", false, MSG_URI_SIP, "tag    = 1918181833n",
	 "1918181833n"},
	{"\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n      newvalue ;"
	 "\r\n  secondparam ; q = 0.33",
	 "\"Quoted string \\\"\\\"\"", "sip:jdrosen@example.com", true, MSG_URI_SIP,
	 "newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33", NULL},
	/* RFC 4475 §3.1.1.6 lwsdisp.dat: no LWS before '<' */
	{"caller<sip:caller@example.com>;tag=323", "caller", "sip:caller@example.com", true,
	 MSG_URI_SIP, "tag=323", "323"},
	/* RFC 4475 §3.1.1.2 intmeth.dat: every token character in the display name */
	{"token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%="
	 "\"\xd0\xb2\xd0\xb8\xd0\xbd\";tag=_token~1'+`*%!-.",
	 "token1~` token2'+_ token3*%!.-", "sip:mundane@example.com", true, MSG_URI_SIP,
	 "fromParam''~+*_!.-%=\"\xd0\xb2\xd0\xb8\xd0\xbd\";tag=_token~1'+`*%!-.",
	 "_token~1'+`*%!-."},
	{"A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe", "A. Bell", "sip:a.g.bell@example.com",
	 true, MSG_URI_SIP, "tag=qweoiqpe", "qweoiqpe"},
	{"\"Bell, Alexander\" <sip:a.g.bell@example.com>;tag=433423", "\"Bell, Alexander\"",
	 "sip:a.g.bell@example.com", true, MSG_URI_SIP, "tag=433423", "433423"},
	{"\"%Z%45\" <sip:resource@example.com>;tag=f232jadfj23", "\"%Z%45\"",
	 "sip:resource@example.com", true, MSG_URI_SIP, "tag=f232jadfj23", "f232jadfj23"},
	/* header params after a bare URI; URI params inside brackets */
	{"sip:+19725552222@gw1.example.net;unknownparam", NULL, "sip:+19725552222@gw1.example.net",
	 false, MSG_URI_SIP, "unknownparam", NULL},
	{"<sip:+19725552222@gw1.example.net;unknownparam>", NULL,
	 "sip:+19725552222@gw1.example.net;unknownparam", true, MSG_URI_SIP, NULL, NULL},
	/* RFC 4475 §3.3.14 regescrt.dat: escaped header inside the brackets */
	{"<sip:user@example.com?Route=%3Csip:sip.example.com%3E>", NULL,
	 "sip:user@example.com?Route=%3Csip:sip.example.com%3E", true, MSG_URI_SIP, NULL, NULL},
	/* RFC 5118: IPv6 references */
	{"\"Caller\" <sip:caller@[2001:db8::1]>", "\"Caller\"", "sip:caller@[2001:db8::1]", true,
	 MSG_URI_SIP, NULL, NULL},
	{"sip:user@[2001:db8::10];tag=1", NULL, "sip:user@[2001:db8::10]", false, MSG_URI_SIP,
	 "tag=1", "1"},
	/* any scheme is accepted here (RFC 4475 §3.3.4 unksm2.dat, §3.3.2) */
	{"<tel:+1-201-555-0123>", NULL, "tel:+1-201-555-0123", true, MSG_URI_TEL, NULL, NULL},
	{"<http://www.example.com>;tag=3234233", NULL, "http://www.example.com", true,
	 MSG_URI_OTHER, "tag=3234233", "3234233"},
	{"<name:John_Smith>", NULL, "name:John_Smith", true, MSG_URI_OTHER, NULL, NULL},
	{"urn:service:sos", NULL, "urn:service:sos", false, MSG_URI_OTHER, NULL, NULL},
	/* tag matched case-insensitively, quoted generic values may hold ';' */
	{"<sip:a@b.example>;TAG=x1", NULL, "sip:a@b.example", true, MSG_URI_SIP, "TAG=x1", "x1"},
	{"<sip:a@b.example> ; tag=1 ; x=\"a;b\"", NULL, "sip:a@b.example", true, MSG_URI_SIP,
	 "tag=1 ; x=\"a;b\"", "1"},
	{"\"\" <sip:a@b.example>", "\"\"", "sip:a@b.example", true, MSG_URI_SIP, NULL, NULL},
	{"\"I have a user name of extremeextremeextreme proportion\"<sip:user@example.com:6000;"
	 "unknownparam1=verylonglonglongvalue;ParameterNameWithNoValue>",
	 "\"I have a user name of extremeextremeextreme proportion\"",
	 "sip:user@example.com:6000;unknownparam1=verylonglonglongvalue;ParameterNameWithNoValue",
	 true, MSG_URI_SIP, NULL, NULL},
	{"<sip:a@b.example>;received=2001:db8::1", NULL, "sip:a@b.example", true, MSG_URI_SIP,
	 "received=2001:db8::1", NULL},
};

static void check_na(const char *buf, struct span v, const struct na_ok *c,
		     const struct msg_nameaddr *na)
{
	assert_span(buf, na->display, c->display);
	assert_span(buf, na->uri_s, c->uri);
	assert_int_equal(na->angle, c->angle);
	assert_int_equal(na->uri.scheme, c->scheme);
	assert_span(buf, na->params, c->params);
	assert_int_equal(na->has_tag, c->tag != NULL);
	assert_span(buf, na->tag, c->tag);
	assert_in_value(v, na->display);
	assert_in_value(v, na->uri_s);
	assert_in_value(v, na->params);
}

static void test_nameaddr_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(na_ok_cases); i++) {
		const struct na_ok *c = &na_ok_cases[i];
		struct hbuf h = hbuf_new(c->in);
		struct msg_nameaddr na;
		int rc = msg_nameaddr_parse(h.buf, h.v, &na);
		if (rc != 0)
			print_error("case %zu: %s\n", i, c->in);
		assert_int_equal(rc, 0);
		check_na(h.buf, h.v, c, &na);
		hbuf_free(&h);
	}
}

/* RFC 4475 §3.1.1.2: quoted-pairs of control characters, NUL included. */
static void test_nameaddr_ctl_escapes(void **state)
{
	static const char in[] = "\"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" <sip:1_unusual.URI~(to-be!"
				 "sure)&isn't+it$/crazy?,/;;*@example.com>";
	struct hbuf h = hbuf_newn(in, sizeof(in) - 1);
	struct msg_nameaddr na;
	char out[32];
	(void)state;
	assert_int_equal(msg_nameaddr_parse(h.buf, h.v, &na), 0);
	assert_int_equal(na.display.len, 22);
	assert_true(na.angle);
	assert_span(h.buf, na.uri_s,
		    "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com");
	assert_int_equal(msg_qstr_copy(h.buf, na.display, out, sizeof(out)), 17);
	assert_memory_equal(out, "BEL:\x07 NUL:\x00 DEL:\x7f", 17);
	hbuf_free(&h);
}

static const char *const na_bad_cases[] = {
	"",
	/* RFC 4475 §3.1.2.15 baddn.dat */
	"Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
	"Watson, Thomas <sip:t.watson@example.org>",
	/* RFC 4475 §3.1.2.6 quotbal.dat */
	"\"Mr. J. User <sip:j.user@example.com>",
	"\"x\\",
	/* RFC 4475 §3.1.2.14 badaspec.dat */
	"\"Watson, Thomas\" < sip:t.watson@example.org >",
	"<sip:a@b.example >",
	"< sip:a@b.example>",
	"<sip:a @b.example>",
	"<sip:a@b.example\r\n >",
	/* RFC 4475 §3.1.2.13 regbadct.dat */
	"sip:user@example.com?Route=%3Csip:sip.example.com%3E",
	"sip:a@b.example,sip:c@d.example",
	"sip:a@b.example>",
	"sip:a\"@b.example",
	"sip:a b",
	"<sip:a@b.example",
	"<sip:a@b.example;",
	"<>",
	"<sip:a@b.example>>",
	"<<sip:a@b.example>>",
	"<sip:a@b.example> x",
	"<sip:a@b.example>x",
	"\"x\" sip:a@b.example",
	"\"x\"",
	"\"x\" <sip:a@b.example",
	"name <sip:a@b.example",
	"name",
	"not a uri",
	"ralph@example.com",
	"<sip:>",
	"<:x>",
	"a\r\nb <sip:a@b.example>",
	/* header params */
	"sip:a@b.example;tag",
	"sip:a@b.example;tag=",
	"sip:a@b.example;tag=1;tag=2",
	"sip:a@b.example;TAG=1;tag=2",
	"sip:a@b.example;tag=\"x\"",
	"sip:a@b.example;;",
	"sip:a@b.example;",
	"<sip:a@b.example>;",
	"<sip:a@b.example>;;tag=1",
	"<sip:a@b.example>;tag=1;",
	"<sip:a@b.example>;x=\"open",
	"<sip:a@b.example>;x=a b",
	"<sip:a@b.example>;x y=1",
	"<sip:a@b.example>;=1",
	"<sip:a@b.example>;x=[::1",
	"<sip:a@b.example>;x=1:2",
};

static void test_nameaddr_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(na_bad_cases); i++) {
		struct hbuf h = hbuf_new(na_bad_cases[i]);
		struct msg_nameaddr na;
		int rc = msg_nameaddr_parse(h.buf, h.v, &na);
		if (rc != EBADMSG)
			print_error("case %zu accepted: %s\n", i, na_bad_cases[i]);
		assert_int_equal(rc, EBADMSG);
		hbuf_free(&h);
	}
}

/* Index of the closing quote of the quoted string at in[0], 0 if none. */
static size_t closing_quote(const char *in)
{
	if (in[0] != '"')
		return 0;
	for (size_t i = 1; in[i] != '\0'; i++) {
		if (in[i] == '\\' && in[i + 1] != '\0')
			i++;
		else if (in[i] == '"')
			return i;
	}
	return 0;
}

/* Prefixes: never an over-read; a cut inside quotes or brackets fails. */
static void test_nameaddr_truncated(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(na_ok_cases); i++) {
		const char *in = na_ok_cases[i].in;
		const char *lt = strchr(in + closing_quote(in), '<');
		const char *gt = lt ? strchr(lt, '>') : NULL;
		size_t cq = closing_quote(in);
		for (size_t n = 0; n < strlen(in); n++) {
			char tmp[512];
			assert_true(n < sizeof(tmp));
			memcpy(tmp, in, n);
			tmp[n] = '\0';
			struct hbuf h = hbuf_new(tmp);
			struct msg_nameaddr na;
			struct msg_contact ct;
			int rc = msg_nameaddr_parse(h.buf, h.v, &na);
			assert_true(rc == 0 || rc == EBADMSG);
			if (na_ok_cases[i].angle && n > (size_t)(lt - in) && n <= (size_t)(gt - in))
				assert_int_equal(rc, EBADMSG);
			if (n > 0 && n <= cq)
				assert_int_equal(rc, EBADMSG); /* inside the quoted display name */
			rc = msg_contact_parse(h.buf, h.v, &ct);
			assert_true(rc == 0 || rc == EBADMSG);
			hbuf_free(&h);
		}
	}
}

/* ---- Contact ----------------------------------------------------------- */

static void test_contact(void **state)
{
	static const struct {
		const char *in;
		int rc;
		bool star;
		int64_t expires;
		int16_t q;
		const char *uri;
	} cases[] = {
		{"*", 0, true, -1, -1, NULL},
		{"<sip:a@b.example>", 0, false, -1, -1, "sip:a@b.example"},
		{"<sip:a@b.example>;expires=3600;q=0.7", 0, false, 3600, 700, "sip:a@b.example"},
		{"\"Mr. Watson\" <sip:watson@worcester.bell-telephone.com>;q=0.7; expires=3600", 0,
		 false, 3600, 700, "sip:watson@worcester.bell-telephone.com"},
		/* RFC 4475 §3.1.2.4 scalar02.dat: clamp to 2^32-1 */
		{"<sip:user@host129.example.com>\r\n  ;expires=280297596632815", 0, false,
		 4294967295LL, -1, "sip:user@host129.example.com"},
		{"<sip:a@b.example>;expires=4294967295", 0, false, 4294967295LL, -1,
		 "sip:a@b.example"},
		{"<sip:a@b.example>;expires=0", 0, false, 0, -1, "sip:a@b.example"},
		{"<sip:a@b.example>;EXPIRES=007;Q=1", 0, false, 7, 1000, "sip:a@b.example"},
		{"<sip:a@b.example>;q=1.000", 0, false, -1, 1000, "sip:a@b.example"},
		{"<sip:a@b.example>;q=1.", 0, false, -1, 1000, "sip:a@b.example"},
		{"<sip:a@b.example>;q=0", 0, false, -1, 0, "sip:a@b.example"},
		{"<sip:a@b.example>;q=0.", 0, false, -1, 0, "sip:a@b.example"},
		{"<sip:a@b.example>;q=0.001", 0, false, -1, 1, "sip:a@b.example"},
		{"<sip:a@b.example>;q=0.999", 0, false, -1, 999, "sip:a@b.example"},
		{"<sip:a@b.example>;q=0.05", 0, false, -1, 50, "sip:a@b.example"},
		/* RFC 4475 §3.1.1.1 wsinv.dat m: */
		{"\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n      "
		 "newvalue ;\r\n  secondparam ; q = 0.33",
		 0, false, -1, 330, "sip:jdrosen@example.com"},
		{"sip:+19725552222@gw1.example.net;unknownparam", 0, false, -1, -1,
		 "sip:+19725552222@gw1.example.net"},
		{"<sip:a@b.example>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\""
		 ";reg-id=1",
		 0, false, -1, -1, "sip:a@b.example"},
		/* RFC 4475 §3.1.2.1 badinv01.dat */
		BAD("\"Joe\" <sip:joe@example.org>;;;;"),
		BAD(""),
		BAD("*;expires=0"),
		BAD("* x"),
		BAD("**"),
		BAD("<*>"),
		BAD("sip:user@example.com?Route=%3Csip:sip.example.com%3E"),
		BAD("<sip:a@b.example>;q=1.001"),
		BAD("<sip:a@b.example>;q=1.5"),
		BAD("<sip:a@b.example>;q=2"),
		BAD("<sip:a@b.example>;q=0.1234"),
		BAD("<sip:a@b.example>;q=.5"),
		BAD("<sip:a@b.example>;q=-0.5"),
		BAD("<sip:a@b.example>;q=0,5"),
		BAD("<sip:a@b.example>;q=00.5"),
		BAD("<sip:a@b.example>;q"),
		BAD("<sip:a@b.example>;q="),
		BAD("<sip:a@b.example>;q=\"0.5\""),
		BAD("<sip:a@b.example>;q=0.5;q=0.6"),
		BAD("<sip:a@b.example>;expires"),
		BAD("<sip:a@b.example>;expires="),
		BAD("<sip:a@b.example>;expires=-1"),
		BAD("<sip:a@b.example>;expires=abc"),
		BAD("<sip:a@b.example>;expires=1.5"),
		BAD("<sip:a@b.example>;expires=\"60\""),
		BAD("<sip:a@b.example>;expires=1;expires=2"),
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hbuf h = hbuf_new(cases[i].in);
		struct msg_contact c;
		int rc = msg_contact_parse(h.buf, h.v, &c);
		if (rc != cases[i].rc)
			print_error("case %zu: %s\n", i, cases[i].in);
		assert_int_equal(rc, cases[i].rc);
		if (rc == 0) {
			assert_int_equal(c.star, cases[i].star);
			assert_int_equal(c.expires, cases[i].expires);
			assert_int_equal(c.q, cases[i].q);
			if (!c.star)
				assert_span(h.buf, c.na.uri_s, cases[i].uri);
		}
		hbuf_free(&h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nameaddr_valid),
		cmocka_unit_test(test_nameaddr_ctl_escapes),
		cmocka_unit_test(test_nameaddr_malformed),
		cmocka_unit_test(test_nameaddr_truncated),
		cmocka_unit_test(test_contact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
