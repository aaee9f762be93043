/*
 * test_msg_auth.c - msg_auth_parse and msg_qstr_copy (RFC 3261 §25.1,
 * RFC 7616, RFC 8760, RFC 4475 §3.3.7).
 */
#include <errno.h>
#include <stdio.h>
#include <strings.h>

#include "hdr_util.h"

/* Expected fields; NULL means empty. */
struct auth_ok {
	const char *in;
	const char *scheme, *realm, *nonce, *opaque, *algorithm, *qop, *domain, *stale;
	const char *username, *uri, *response, *cnonce, *nc, *userhash, *params;
};

static const struct auth_ok auth_ok_cases[] = {
	/* RFC 3261 §22.4 / RFC 3665 style challenge */
	{"Digest realm=\"atlanta.example.com\", domain=\"sip:ss1.example.com\", qop=\"auth\", "
	 "nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE, algorithm=MD5",
	 "Digest", "atlanta.example.com", "f84f1cec41e6cbe5aea9c8e88d359", NULL, "MD5", "auth",
	 "sip:ss1.example.com", "FALSE", NULL, NULL, NULL, NULL, NULL, NULL,
	 "realm=\"atlanta.example.com\", domain=\"sip:ss1.example.com\", qop=\"auth\", "
	 "nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE, algorithm=MD5"},
	/* credentials */
	{"Digest username=\"bob\", realm=\"biloxi.example.com\", nonce=\"dcd98b7102dd2f0e8b11\", "
	 "uri=\"sip:bob@biloxi.example.com\", qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
	 "response=\"6629fae49393a05397450978507c4ef1\", opaque=\"5ccc069c403ebaf9f0171e95\"",
	 "Digest", "biloxi.example.com", "dcd98b7102dd2f0e8b11", "5ccc069c403ebaf9f0171e95", NULL,
	 "auth", NULL, NULL, "bob", "sip:bob@biloxi.example.com",
	 "6629fae49393a05397450978507c4ef1", "0a4f113b", "00000001", NULL, NULL},
	/* RFC 7616 §3.9.1 / RFC 8760: SHA-256, userhash, qop list */
	{"Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=SHA-256, "
	 "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", userhash=true",
	 "Digest", "http-auth@example.org", "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", NULL,
	 "SHA-256", "auth, auth-int", NULL, NULL, NULL, NULL, NULL, NULL, NULL, "true", NULL},
	/* LWS and folds around ',' and '=', names in any case, scheme in any case */
	{"digest  REALM = \"x\" ,Nonce=\"y\",\r\n\tAlgorithm\r\n =\r\n MD5-sess", "digest", "x", "y",
	 NULL, "MD5-sess", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 "REALM = \"x\" ,Nonce=\"y\",\r\n\tAlgorithm\r\n =\r\n MD5-sess"},
	/* quoted values: escapes kept, ',' and '=' inside quotes are data */
	{"Digest realm=\"a\\\"b\", nonce=\"n,=x\"", "Digest", "a\\\"b", "n,=x", NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
	/* unknown params are allowed (RFC 7616 username*, extensions) */
	{"Digest username*=UTF-8''J%C3%A4s, realm=\"r\", x-ext=\"1\"", "Digest", "r", NULL,
	 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
	/* RFC 4475 §3.3.7 regaut01.dat: other schemes keep the rest raw */
	{"NoOneKnowsThisScheme opaque-data=here", "NoOneKnowsThisScheme", NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "opaque-data=here"},
	{"Basic dXNlcjpwYXNzd29yZA==", "Basic", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, "dXNlcjpwYXNzd29yZA=="},
	{"Other realm=\"x\", realm=\"x\" garbage ,,", "Other", NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "realm=\"x\", realm=\"x\" garbage ,,"},
	{"Negotiate", "Negotiate", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL},
};

static void test_auth_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(auth_ok_cases); i++) {
		const struct auth_ok *c = &auth_ok_cases[i];
		struct hbuf h = hbuf_new(c->in);
		struct msg_auth a;
		int rc = msg_auth_parse(h.buf, h.v, &a);
		if (rc != 0)
			print_error("case %zu: %s\n", i, c->in);
		assert_int_equal(rc, 0);
		assert_span(h.buf, a.scheme, c->scheme);
		assert_span(h.buf, a.realm, c->realm);
		assert_span(h.buf, a.nonce, c->nonce);
		assert_span(h.buf, a.opaque, c->opaque);
		assert_span(h.buf, a.algorithm, c->algorithm);
		assert_span(h.buf, a.qop, c->qop);
		assert_span(h.buf, a.domain, c->domain);
		assert_span(h.buf, a.stale, c->stale);
		assert_span(h.buf, a.username, c->username);
		assert_span(h.buf, a.uri, c->uri);
		assert_span(h.buf, a.response, c->response);
		assert_span(h.buf, a.cnonce, c->cnonce);
		assert_span(h.buf, a.nc, c->nc);
		assert_span(h.buf, a.userhash, c->userhash);
		if (c->params != NULL)
			assert_span(h.buf, a.params, c->params);
		else if (span_ieq(h.buf, a.scheme, "Digest"))
			assert_int_equal(a.params.off + a.params.len, h.v.off + h.v.len);
		else
			assert_int_equal(a.params.len, 0);
		hbuf_free(&h);
	}
}

static const char *const auth_bad_cases[] = {
	"",
	"   ",
	"Digest",
	"Digest ",
	"Digest realm",
	"Digest realm=",
	"Digest realm= ",
	"Digest realm=,nonce=\"x\"",
	"Digest realm=\"x",
	"Digest realm=\"x\\\"",
	"Digest realm=\"x\", realm=\"y\"",
	"Digest realm=\"x\", REALM=\"x\"",
	"Digest foo=1, foo=2",
	"Digest realm=\"x\",",
	"Digest realm=\"x\" ,",
	"Digest ,realm=\"x\"",
	"Digest realm=\"x\",,nonce=\"y\"",
	"Digest realm=\"x\" nonce=\"y\"",
	"Digest realm=a b",
	"Digest realm==a",
	"Digest =a",
	"Digest realm=\"x\"y",
	"Digest realm=<x>",
	"Digestrealm=\"x\"",
	"Digest=x",
	"\"Digest\" realm=\"x\"",
	"Basic, x",
	"Digest realm=\"x\"\r\nnonce=\"y\"",
	"Digest realm=\"x\r\ny\"",
};

static void test_auth_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(auth_bad_cases); i++) {
		struct hbuf h = hbuf_new(auth_bad_cases[i]);
		struct msg_auth a;
		int rc = msg_auth_parse(h.buf, h.v, &a);
		if (rc != EBADMSG)
			print_error("case %zu accepted: %s\n", i, auth_bad_cases[i]);
		assert_int_equal(rc, EBADMSG);
		hbuf_free(&h);
	}
}

/* 32 distinct parameters are fine, a 33rd is refused (bounded duplicate check). */
static void test_auth_many_params(void **state)
{
	char in[1024];
	size_t n = (size_t)snprintf(in, sizeof(in), "Digest p0=0");
	struct msg_auth a;
	(void)state;
	for (int i = 1; i < 33; i++) {
		n += (size_t)snprintf(in + n, sizeof(in) - n, ", p%d=%d", i, i);
		struct hbuf h = hbuf_new(in);
		assert_int_equal(msg_auth_parse(h.buf, h.v, &a), i < 32 ? 0 : EBADMSG);
		hbuf_free(&h);
	}
}

/* True if the first n bytes of in leave a quoted string open. */
static bool open_quote(const char *in, size_t n)
{
	bool inq = false;
	for (size_t i = 0; i < n; i++) {
		if (inq && in[i] == '\\')
			i++;
		else if (in[i] == '"')
			inq = !inq;
	}
	return inq;
}

/* Every prefix: no over-read; cuts inside a quoted value or after '=' fail. */
static void test_auth_truncated(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(auth_ok_cases); i++) {
		const char *in = auth_ok_cases[i].in;
		bool digest = strncasecmp(in, "Digest", 6) == 0;
		for (size_t n = 0; n < strlen(in); n++) {
			char tmp[512];
			assert_true(n < sizeof(tmp));
			memcpy(tmp, in, n);
			tmp[n] = '\0';
			struct hbuf h = hbuf_new(tmp);
			struct msg_auth a;
			int rc = msg_auth_parse(h.buf, h.v, &a);
			assert_true(rc == 0 || rc == EBADMSG);
			if (digest && (open_quote(in, n) || (n > 0 && (in[n - 1] == '=' || in[n - 1] == ','))))
				assert_int_equal(rc, EBADMSG);
			if (rc == 0) {
				assert_in_value(h.v, a.params);
				assert_in_value(h.v, a.realm);
				assert_in_value(h.v, a.nonce);
			}
			hbuf_free(&h);
		}
	}
}

static void test_unquote(void **state)
{
	static const struct {
		const char *in;
		size_t cap;
		int rc;
		const char *out;
	} cases[] = {
		{"\"a\\\"b\"", 16, 3, "a\"b"},
		{"a\\\"b", 16, 3, "a\"b"},
		{"\"abc\"", 3, 3, "abc"},
		{"\"abc\"", 2, -1, NULL},
		{"\"\"", 4, 0, ""},
		{"", 4, 0, ""},
		{"\"a\r\n b\"", 8, 3, "a b"},
		{"\\\\\\\\", 8, 2, "\\\\"},
		{"\"x\\\\\"", 8, 2, "x\\"},
		{"plain", 5, 5, "plain"},
		{"plain", 4, -1, NULL},
		{"\"", 4, 0, ""},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hbuf h = hbuf_new(cases[i].in);
		char out[16];
		memset(out, 'Z', sizeof(out));
		int rc = msg_qstr_copy(h.buf, h.v, out, cases[i].cap);
		if (rc != cases[i].rc)
			print_error("case %zu: %s\n", i, cases[i].in);
		assert_int_equal(rc, cases[i].rc);
		if (rc >= 0) {
			assert_memory_equal(out, cases[i].out, (size_t)rc);
			assert_int_equal(out[rc], 'Z'); /* nothing written past the result */
		}
		hbuf_free(&h);
	}
}

/* The quoted fields of a parsed value decode with msg_qstr_copy. */
static void test_auth_unquote_field(void **state)
{
	struct hbuf h = hbuf_new("Digest realm=\"Bob\\'s \\\"realm\\\"\", nonce=\"n\"");
	struct msg_auth a;
	char out[32];
	(void)state;
	assert_int_equal(msg_auth_parse(h.buf, h.v, &a), 0);
	int n = msg_qstr_copy(h.buf, a.realm, out, sizeof(out));
	assert_int_equal(n, 13);
	assert_memory_equal(out, "Bob's \"realm\"", 13);
	hbuf_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auth_valid),       cmocka_unit_test(test_auth_malformed),
		cmocka_unit_test(test_auth_many_params), cmocka_unit_test(test_auth_truncated),
		cmocka_unit_test(test_unquote),          cmocka_unit_test(test_auth_unquote_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
