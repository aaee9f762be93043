/*
 * test_msg_parse.c - framing, header splitting, limits and accessors of the
 * message core (msg_parse, msg_hdr_*, msg_top_via & co).  Every input is
 * parsed from a copy that ends right before a PROT_NONE page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "core_util.h"
#include "msg/msg_core.h"

#define CRLF "\r\n"
#define BASE_HDRS                                                                                  \
	"Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK776asdhds" CRLF "Max-Forwards: 70" CRLF   \
	"To: Bob <sip:bob@example.com>" CRLF                                                       \
	"From: Alice <sip:alice@example.com>;tag=1928301774" CRLF                                  \
	"Call-ID: a84b4c76e66710@pc33.example.com" CRLF "CSeq: 314159 INVITE" CRLF

/* Parse s[0..n) from a guarded copy; the copy stays mapped until gbuf_free. */
static int gparse(struct gbuf *g, struct msg *m, const char *s, size_t n, unsigned flags,
		  size_t *used)
{
	const char *p = gbuf_put(g, s, n);
	return msg_parse(m, p, n, flags, used);
}

static int sparse(struct gbuf *g, struct msg *m, const char *s, unsigned flags, size_t *used)
{
	return gparse(g, m, s, strlen(s), flags, used);
}

static bool val_is(const struct msg *m, const struct msg_hdr *h, const char *s)
{
	return h != NULL && span_eq(m->buf, h->value, s);
}

/* ---- header table ---- */

static void test_hdr_names(void **state)
{
	(void)state;
	static const struct {
		uint8_t id;
		const char *name;
		char compact;
	} tab[] = {
#define X(id, name, compact, list) {MSG_HDR_##id, name, compact},
	    MSG_HDR_TABLE(X)
#undef X
	};
	char buf[64];
	assert_int_equal(ARRAY_SIZE(tab), MSG_HDR__COUNT - 1);
	for (size_t i = 0; i < ARRAY_SIZE(tab); i++) {
		const char *n = tab[i].name;
		size_t len = strlen(n);
		assert_string_equal(msg_hdr_name(tab[i].id), n);
		assert_int_equal(msg_hdr_lookup(n, len), tab[i].id);
		for (size_t k = 0; k < len; k++)
			buf[k] = ascii_lower(n[k]);
		assert_int_equal(msg_hdr_lookup(buf, len), tab[i].id);
		for (size_t k = 0; k < len; k++)
			buf[k] = (n[k] >= 'a' && n[k] <= 'z') ? (char)(n[k] - 32) : n[k];
		assert_int_equal(msg_hdr_lookup(buf, len), tab[i].id);
		/* a longer or shorter name is another header */
		memcpy(buf, n, len);
		buf[len] = 'x';
		assert_int_not_equal(msg_hdr_lookup(buf, len + 1), tab[i].id);
		if (len > 2) /* "T" is the compact form of To */
			assert_int_not_equal(msg_hdr_lookup(n, len - 1), tab[i].id);
		if (tab[i].compact) {
			char c = tab[i].compact, u = (char)(c - 32);
			assert_int_equal(msg_hdr_lookup(&c, 1), tab[i].id);
			assert_int_equal(msg_hdr_lookup(&u, 1), tab[i].id);
		}
	}
	/* letters without a compact form, non-names */
	static const char *const others[] = {"g",
					     "h",
					     "p",
					     "q",
					     "w",
					     "z",
					     "X-Via",
					     "Vias",
					     "Via ",
					     "",
					     "1",
					     "To_",
					     "Content-Lengt",
					     "Cseq2"};
	for (size_t i = 0; i < ARRAY_SIZE(others); i++)
		assert_int_equal(msg_hdr_lookup(others[i], strlen(others[i])), MSG_HDR_OTHER);
	assert_string_equal(msg_hdr_name(MSG_HDR_OTHER), "");
	assert_string_equal(msg_hdr_name(MSG_HDR__COUNT), "");
}

static void test_hdr_lists(void **state)
{
	(void)state;
	static const uint8_t lists[] = {
	    MSG_HDR_VIA,
	    MSG_HDR_CONTACT,
	    MSG_HDR_ROUTE,
	    MSG_HDR_RECORD_ROUTE,
	    MSG_HDR_PATH,
	    MSG_HDR_SERVICE_ROUTE,
	    MSG_HDR_ALLOW,
	    MSG_HDR_SUPPORTED,
	    MSG_HDR_REQUIRE,
	    MSG_HDR_PROXY_REQUIRE,
	    MSG_HDR_UNSUPPORTED,
	    MSG_HDR_ACCEPT,
	    MSG_HDR_ACCEPT_ENCODING,
	    MSG_HDR_ACCEPT_LANGUAGE,
	    MSG_HDR_ALLOW_EVENTS,
	    MSG_HDR_CONTENT_ENCODING,
	    MSG_HDR_CONTENT_LANGUAGE,
	    MSG_HDR_ALERT_INFO,
	    MSG_HDR_CALL_INFO,
	    MSG_HDR_ERROR_INFO,
	    MSG_HDR_IN_REPLY_TO,
	    MSG_HDR_WARNING,
	    MSG_HDR_ACCEPT_CONTACT,
	    MSG_HDR_REJECT_CONTACT,
	    MSG_HDR_REQUEST_DISPOSITION,
	};
	bool want[MSG_HDR__COUNT] = {false};
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		want[lists[i]] = true;
	for (unsigned id = 0; id < MSG_HDR__COUNT; id++)
		assert_int_equal(msg_hdr_is_list((enum msg_hdr_id)id), want[id]);
	assert_false(msg_hdr_is_list(MSG_HDR__COUNT));
}

/* ---- a full request ---- */

static void test_request_basic(void **state)
{
	(void)state;
	struct msg m;
	struct gbuf g;
	size_t used = 0;
	const char *s = "INVITE sip:bob@example.com SIP/2.0" CRLF BASE_HDRS
			"Contact: <sip:alice@pc33.example.com>" CRLF "X-Custom:   some value  " CRLF
			"x-custom: second" CRLF "Content-Type: application/sdp" CRLF
			"Content-Length: 4" CRLF CRLF "v=0\n";

	assert_int_equal(sparse(&g, &m, s, MSG_PARSE_DGRAM, &used), 0);
	assert_int_equal(used, strlen(s));
	assert_int_equal(m.len, strlen(s));
	assert_true(m.is_request);
	assert_int_equal(m.method, MSG_METHOD_INVITE);
	assert_true(span_eq(m.buf, m.method_s, "INVITE"));
	assert_true(span_eq(m.buf, m.ruri_s, "sip:bob@example.com"));
	assert_true(span_eq(m.buf, m.version, "SIP/2.0"));
	assert_true(span_eq(m.buf, m.body, "v=0\n"));
	assert_true(m.has_clen);
	assert_int_equal(m.anomalies, 0);
	assert_int_equal(m.nhdrs, 11);
	assert_true(val_is(&m, msg_hdr_find(&m, MSG_HDR_TO), "Bob <sip:bob@example.com>"));
	assert_true(val_is(&m, msg_hdr_find(&m, MSG_HDR_CSEQ), "314159 INVITE"));
	const struct msg_hdr *x = msg_hdr_find_name(&m, "X-CUSTOM");
	assert_true(val_is(&m, x, "some value"));
	assert_true(span_eq(m.buf, x->name, "X-Custom"));
	x = msg_hdr_next(&m, x);
	assert_true(val_is(&m, x, "second"));
	assert_null(msg_hdr_next(&m, x));
	assert_null(msg_hdr_find_name(&m, "X-Other"));
	assert_true(
	    val_is(&m, msg_hdr_find_name(&m, "call-id"), "a84b4c76e66710@pc33.example.com"));
	assert_null(msg_hdr_find(&m, MSG_HDR_ROUTE));
	assert_null(msg_hdr_find(&m, MSG_HDR__COUNT));
	/* links: every element reachable from first[] exactly once, in order */
	unsigned seen = 0;
	for (unsigned id = 0; id < MSG_HDR__COUNT; id++) {
		int prev = -1;
		for (const struct msg_hdr *h = msg_hdr_find(&m, id); h; h = msg_hdr_next(&m, h)) {
			assert_int_equal(h->id, id);
			assert_true(h - m.hdrs > prev);
			prev = (int)(h - m.hdrs);
			seen++;
		}
	}
	assert_int_equal(seen, m.nhdrs);
	gbuf_free(&g);
}

static void test_response_basic(void **state)
{
	(void)state;
	struct msg m;
	struct gbuf g;
	size_t used;
	const char *s = "SIP/2.0 180 Ringing Now" CRLF BASE_HDRS "Content-Length: 0" CRLF CRLF;

	assert_int_equal(sparse(&g, &m, s, MSG_PARSE_STREAM, &used), 0);
	assert_false(m.is_request);
	assert_int_equal(m.status, 180);
	assert_true(span_eq(m.buf, m.reason, "Ringing Now"));
	assert_true(span_eq(m.buf, m.version, "SIP/2.0"));
	assert_int_equal(m.body.len, 0);
	assert_int_equal(used, strlen(s));
	gbuf_free(&g);
}

/* ---- framing table ---- */

struct fcase {
	const char *name;
	const char *in;
	unsigned flags;
	int err;
	uint32_t anomalies;
	int used; /* -1: the whole input */
	const char *body;
};

static const struct fcase fcases[] = {
    {"keepalive prefix", CRLF CRLF "OPTIONS sip:a@b SIP/2.0" CRLF "l: 0" CRLF CRLF,
     MSG_PARSE_STREAM, 0, 0, -1, ""},
    {"bare LF lines", "OPTIONS sip:a@b SIP/2.0\nVia: x\nContent-Length: 2\n\nab", MSG_PARSE_STREAM,
     0, 0, -1, "ab"},
    {"dgram no clen: rest is body", "MESSAGE sip:a@b SIP/2.0" CRLF "Via: x" CRLF CRLF "hello",
     MSG_PARSE_DGRAM, 0, 0, -1, "hello"},
    {"default is dgram", "MESSAGE sip:a@b SIP/2.0" CRLF "Via: x" CRLF CRLF "hi", 0, 0, 0, -1, "hi"},
    {"dgram extra bytes ignored", "MESSAGE sip:a@b SIP/2.0" CRLF "l: 2" CRLF CRLF "hello",
     MSG_PARSE_DGRAM, 0, 0, 35, "he"},
    {"dgram clen too big", "MESSAGE sip:a@b SIP/2.0" CRLF "l: 9" CRLF CRLF "hello", MSG_PARSE_DGRAM,
     0, MSG_A_SHORT_BODY, -1, "hello"},
    {"dgram clen huge", "MESSAGE sip:a@b SIP/2.0" CRLF "l: 99999999999999999999" CRLF CRLF "x",
     MSG_PARSE_DGRAM, 0, MSG_A_SHORT_BODY, -1, "x"},
    {"negative clen", "MESSAGE sip:a@b SIP/2.0" CRLF "l: -3" CRLF CRLF "hello", MSG_PARSE_DGRAM, 0,
     MSG_A_BAD_CLEN, -1, "hello"},
    {"non-numeric clen", "MESSAGE sip:a@b SIP/2.0" CRLF "Content-Length: 1x" CRLF CRLF "hey",
     MSG_PARSE_DGRAM, 0, MSG_A_BAD_CLEN, -1, "hey"},
    {"empty clen", "MESSAGE sip:a@b SIP/2.0" CRLF "Content-Length:" CRLF CRLF, MSG_PARSE_DGRAM, 0,
     MSG_A_BAD_CLEN, -1, ""},
    {"stream bad clen: framing lost", "MESSAGE sip:a@b SIP/2.0" CRLF "l: -3" CRLF CRLF "hello",
     MSG_PARSE_STREAM, 0, MSG_A_BAD_CLEN, 34, ""},
    {"stream without clen", "MESSAGE sip:a@b SIP/2.0" CRLF "Via: x" CRLF CRLF "hello",
     MSG_PARSE_STREAM, 0, MSG_A_NO_CLEN, 35, ""},
    {"two equal clen", "MESSAGE sip:a@b SIP/2.0" CRLF "l: 1" CRLF "l: 01" CRLF CRLF "x",
     MSG_PARSE_STREAM, 0, 0, -1, "x"},
    {"two different clen", "MESSAGE sip:a@b SIP/2.0" CRLF "l: 1" CRLF "l: 2" CRLF CRLF "xy",
     MSG_PARSE_STREAM, 0, MSG_A_MULTI_CLEN, 40, "x"},
    {"stream partial body", "MESSAGE sip:a@b SIP/2.0" CRLF "l: 9" CRLF CRLF "hello",
     MSG_PARSE_STREAM, EAGAIN, 0, 0, NULL},
    {"stream partial headers", "MESSAGE sip:a@b SIP/2.0" CRLF "l: 9" CRLF, MSG_PARSE_STREAM, EAGAIN,
     0, 0, NULL},
    {"stream only CRLF", CRLF CRLF, MSG_PARSE_STREAM, EAGAIN, 0, 0, NULL},
    {"dgram only CRLF", CRLF CRLF, MSG_PARSE_DGRAM, ENODATA, 0, 0, NULL},
    {"empty", "", MSG_PARSE_DGRAM, ENODATA, 0, 0, NULL},
    {"garbage", "hello world" CRLF CRLF, MSG_PARSE_DGRAM, EBADMSG, MSG_A_NOT_SIP, 0, NULL},
    {"one word", "hello" CRLF CRLF, MSG_PARSE_DGRAM, EBADMSG, MSG_A_NOT_SIP, 0, NULL},
    {"http", "GET / HTTP/1.1" CRLF "Host: x" CRLF CRLF, MSG_PARSE_DGRAM, EBADMSG, MSG_A_NOT_SIP, 0,
     NULL},
    {"leading space", " INVITE sip:a@b SIP/2.0" CRLF CRLF, MSG_PARSE_DGRAM, EBADMSG, MSG_A_NOT_SIP,
     0, NULL},
    {"status without code", "SIP/2.0" CRLF CRLF, MSG_PARSE_DGRAM, EBADMSG, MSG_A_NOT_SIP, 0, NULL},
    {"status code too long", "SIP/2.0 4294967301 x" CRLF "l: 0" CRLF CRLF, MSG_PARSE_DGRAM, 0,
     MSG_A_BAD_STATUS, -1, ""},
    {"status code letters", "SIP/2.0 2x0 x" CRLF "l: 0" CRLF CRLF, MSG_PARSE_DGRAM, 0,
     MSG_A_BAD_STATUS, -1, ""},
    {"no empty line (dgram)", "OPTIONS sip:a@b SIP/2.0" CRLF "Via: x" CRLF, MSG_PARSE_DGRAM, 0,
     MSG_A_NO_EOH, -1, ""},
    {"no line end at all (dgram)", "OPTIONS sip:a@b SIP/2.0", MSG_PARSE_DGRAM, 0, MSG_A_NO_EOH, -1,
     ""},
    {"last line unterminated (dgram)", "OPTIONS sip:a@b SIP/2.0" CRLF "Via: x", MSG_PARSE_DGRAM, 0,
     MSG_A_NO_EOH, -1, ""},
    {"no empty line (stream)", "OPTIONS sip:a@b SIP/2.0" CRLF "Via: x" CRLF, MSG_PARSE_STREAM,
     EAGAIN, 0, 0, NULL},
    {"line without colon", "OPTIONS sip:a@b SIP/2.0" CRLF "Foobar roobar" CRLF "l: 0" CRLF CRLF,
     MSG_PARSE_DGRAM, 0, MSG_A_BAD_LINE, -1, ""},
    {"name with space", "OPTIONS sip:a@b SIP/2.0" CRLF "Max Forwards: 3" CRLF CRLF, MSG_PARSE_DGRAM,
     0, MSG_A_BAD_LINE, -1, ""},
    {"empty name", "OPTIONS sip:a@b SIP/2.0" CRLF ": 3" CRLF CRLF, MSG_PARSE_DGRAM, 0,
     MSG_A_BAD_LINE, -1, ""},
    {"bad name char", "OPTIONS sip:a@b SIP/2.0" CRLF "Vi@: 3" CRLF CRLF, MSG_PARSE_DGRAM, 0,
     MSG_A_BAD_LINE, -1, ""},
    {"continuation first", "OPTIONS sip:a@b SIP/2.0" CRLF " Via: 3" CRLF CRLF, MSG_PARSE_DGRAM, 0,
     MSG_A_BAD_LINE, -1, ""},
    {"extra SP in request line", "OPTIONS  sip:a@b  SIP/2.0" CRLF CRLF, MSG_PARSE_DGRAM, 0,
     MSG_A_LWS_START, -1, ""},
    {"trailing SP", "OPTIONS sip:a@b SIP/2.0 \t" CRLF CRLF, MSG_PARSE_DGRAM, 0, MSG_A_TRAILING_WS,
     -1, ""},
    {"no version", "INVITE sip:alan@jasomi.com" CRLF "l: 0" CRLF CRLF, MSG_PARSE_DGRAM, 0,
     MSG_A_NO_VERSION, -1, ""},
    {"method not a token", "INV\"TE sip:a@b SIP/2.0" CRLF CRLF, MSG_PARSE_DGRAM, 0,
     MSG_A_BAD_METHOD, -1, ""},
};

static void test_framing(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(fcases); i++) {
		const struct fcase *c = &fcases[i];
		struct msg m;
		struct gbuf g;
		size_t used = 12345;
		int err = sparse(&g, &m, c->in, c->flags, &used);
		if (err != c->err || m.anomalies != c->anomalies)
			fail_msg("%s: err %d anomalies %#x, want %d %#x", c->name, err, m.anomalies,
				 c->err, c->anomalies);
		if (err == 0) {
			size_t want = c->used < 0 ? strlen(c->in) : (size_t)c->used;
			if (used != want)
				fail_msg("%s: used %zu want %zu", c->name, used, want);
			if (!span_eq(m.buf, m.body, c->body))
				fail_msg("%s: body %.*s", c->name, (int)m.body.len,
					 m.buf + m.body.off);
		} else {
			assert_int_equal(used, 12345); /* out-param untouched on error */
		}
		gbuf_free(&g);
	}
}

/* Request line pieces under anomalies stay usable for a 400. */
static void test_start_line_pieces(void **state)
{
	(void)state;
	struct msg m;
	struct gbuf g;
	size_t used;

	assert_int_equal(sparse(&g, &m, "INVITE  sip:a@b  SIP/2.0  " CRLF CRLF, 0, &used), 0);
	assert_true(span_eq(m.buf, m.ruri_s, "sip:a@b"));
	assert_true(span_eq(m.buf, m.version, "SIP/2.0"));
	assert_int_equal(m.anomalies, MSG_A_LWS_START | MSG_A_TRAILING_WS);
	gbuf_free(&g);

	assert_int_equal(
	    sparse(&g, &m, "INVITE sip:user@example.com; lr SIP/2.0" CRLF CRLF, 0, &used), 0);
	assert_true(span_eq(m.buf, m.ruri_s, "sip:user@example.com; lr"));
	assert_int_equal(m.anomalies, 0);
	gbuf_free(&g);

	assert_int_equal(sparse(&g, &m, "RE%47IST%45R sip:r SIP/2.0" CRLF CRLF, 0, &used), 0);
	assert_int_equal(m.method, MSG_METHOD_OTHER);
	assert_true(span_eq(m.buf, m.method_s, "RE%47IST%45R"));
	gbuf_free(&g);

	assert_int_equal(sparse(&g, &m, "sip/2.0 200 OK" CRLF CRLF, 0, &used), 0);
	assert_false(m.is_request);
	assert_int_equal(m.status, 200);
	gbuf_free(&g);

	assert_int_equal(sparse(&g, &m, "SIP/2.0 100 " CRLF CRLF, 0, &used), 0);
	assert_int_equal(m.status, 100);
	assert_int_equal(m.reason.len, 0);
	gbuf_free(&g);

	assert_int_equal(sparse(&g, &m, "SIP/2.0 100" CRLF CRLF, 0, &used), 0);
	assert_int_equal(m.status, 100);
	assert_int_equal(m.anomalies, 0);
	gbuf_free(&g);
}

/* ---- splitting ---- */

struct scase {
	const char *hdr; /* one header line (without CRLF) */
	uint8_t id;
	const char *elems[5]; /* expected element values */
};

static const struct scase scases[] = {
    {"Via: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/TCP b",
     MSG_HDR_VIA,
     {"SIP/2.0/UDP a;branch=z9hG4bK1", "SIP/2.0/TCP b"}},
    {"v:a,b ,  c", MSG_HDR_VIA, {"a", "b", "c"}},
    {"Contact: \"Doe, John\" <sip:j@x>;q=0.5, <sip:k@y?a=b,c>",
     MSG_HDR_CONTACT,
     {"\"Doe, John\" <sip:j@x>;q=0.5", "<sip:k@y?a=b,c>"}},
    {"m: \"a \\\", b\" <sip:x>, c", MSG_HDR_CONTACT, {"\"a \\\", b\" <sip:x>", "c"}},
    {"Contact: *", MSG_HDR_CONTACT, {"*"}},
    {"Route: <sip:a;lr>,<sip:b;lr>", MSG_HDR_ROUTE, {"<sip:a;lr>", "<sip:b;lr>"}},
    {"Allow: INVITE, ACK,CANCEL", MSG_HDR_ALLOW, {"INVITE", "ACK", "CANCEL"}},
    {"Allow:", MSG_HDR_ALLOW, {""}},
    {"Supported: a,,b,", MSG_HDR_SUPPORTED, {"a", "", "b", ""}},
    {"Warning: 370 h \"a, b\", 307 i \"c\"", MSG_HDR_WARNING, {"370 h \"a, b\"", "307 i \"c\""}},
    {"In-Reply-To: a<b@c, d", MSG_HDR_IN_REPLY_TO, {"a<b@c", "d"}},
    {"Accept-Language: da, en-gb;q=0.8", MSG_HDR_ACCEPT_LANGUAGE, {"da", "en-gb;q=0.8"}},
    {"Contact: \"unterminated, x", MSG_HDR_CONTACT, {"\"unterminated, x"}},
    /* not lists: commas stay inside the value */
    {"From: sip:a@b, sip:c@d", MSG_HDR_FROM, {"sip:a@b, sip:c@d"}},
    {"Date: Sat, 13 Nov 2010 23:29:00 GMT", MSG_HDR_DATE, {"Sat, 13 Nov 2010 23:29:00 GMT"}},
    {"Authorization: Digest username=\"a\", realm=\"b\"",
     MSG_HDR_AUTHORIZATION,
     {"Digest username=\"a\", realm=\"b\""}},
    {"WWW-Authenticate: Digest realm=\"x\", nonce=\"y\"",
     MSG_HDR_WWW_AUTHENTICATE,
     {"Digest realm=\"x\", nonce=\"y\""}},
    {"Retry-After: 18000;duration=3600, x", MSG_HDR_RETRY_AFTER, {"18000;duration=3600, x"}},
    {"Subject: a, b", MSG_HDR_SUBJECT, {"a, b"}},
    {"X-Unknown: ;;,,;;,; ", MSG_HDR_OTHER, {";;,,;;,;"}},
    {"NewHeader:   a,   b  ", MSG_HDR_OTHER, {"a,   b"}},
};

static void test_split(void **state)
{
	(void)state;
	char in[512];
	for (size_t i = 0; i < ARRAY_SIZE(scases); i++) {
		const struct scase *c = &scases[i];
		struct msg m;
		struct gbuf g;
		size_t used;
		snprintf(in, sizeof(in), "OPTIONS sip:a@b SIP/2.0\r\n%s\r\nl: 0\r\n\r\n", c->hdr);
		assert_int_equal(sparse(&g, &m, in, MSG_PARSE_DGRAM, &used), 0);
		assert_int_equal(m.anomalies, 0);
		size_t n = 0;
		for (const struct msg_hdr *h = msg_hdr_find(&m, c->id); h;
		     h = msg_hdr_next(&m, h)) {
			if (n >= 5 || c->elems[n] == NULL || !span_eq(m.buf, h->value, c->elems[n]))
				fail_msg("%s: element %zu is '%.*s'", c->hdr, n, (int)h->value.len,
					 m.buf + h->value.off);
			assert_int_equal(h->flags, n == 0 ? MSG_HDRF_FIRST : 0);
			n++;
		}
		if (n < 5 && c->elems[n] != NULL)
			fail_msg("%s: only %zu elements", c->hdr, n);
		gbuf_free(&g);
	}
}

static void test_folding(void **state)
{
	(void)state;
	struct msg m;
	struct gbuf g;
	size_t used;
	const char *s = "OPTIONS sip:a@b SIP/2.0" CRLF "Subject: one" CRLF "\ttwo" CRLF
			"v: SIP/2.0/UDP a ," CRLF " SIP/2.0/UDP" CRLF " b" CRLF "TO :" CRLF
			" sip:c@d" CRLF "s :" CRLF "l: 0" CRLF CRLF;

	assert_int_equal(sparse(&g, &m, s, MSG_PARSE_STREAM, &used), 0);
	assert_int_equal(used, strlen(s));
	const struct msg_hdr *h = msg_hdr_find(&m, MSG_HDR_SUBJECT);
	assert_true(val_is(&m, h, "one" CRLF "\ttwo"));
	assert_int_equal(h->flags, MSG_HDRF_FIRST | MSG_HDRF_FOLDED);
	h = msg_hdr_next(&m, h);
	assert_true(val_is(&m, h, ""));
	assert_int_equal(h->flags, MSG_HDRF_FIRST);
	h = msg_hdr_find(&m, MSG_HDR_VIA);
	assert_true(val_is(&m, h, "SIP/2.0/UDP a"));
	assert_int_equal(h->flags, MSG_HDRF_FIRST);
	h = msg_hdr_next(&m, h);
	assert_true(val_is(&m, h, "SIP/2.0/UDP" CRLF " b"));
	assert_int_equal(h->flags, MSG_HDRF_FOLDED);
	h = msg_hdr_find(&m, MSG_HDR_TO);
	assert_true(val_is(&m, h, "sip:c@d"));
	assert_true(span_eq(m.buf, h->name, "TO"));
	gbuf_free(&g);

	/* a line break that ends the buffer: stream must wait for the next byte */
	const char *part = "OPTIONS sip:a@b SIP/2.0" CRLF "Subject: one" CRLF;
	assert_int_equal(sparse(&g, &m, part, MSG_PARSE_STREAM, &used), EAGAIN);
	gbuf_free(&g);
}

/* ---- stream ---- */

static void test_stream_prefixes(void **state)
{
	(void)state;
	const char *s =
	    CRLF "INVITE sip:bob@example.com SIP/2.0" CRLF BASE_HDRS "Subject: folded" CRLF
		 " line" CRLF "Content-Length: 5" CRLF CRLF "hello";
	size_t n = strlen(s), used;
	struct msg m;
	struct gbuf g;

	for (size_t k = 0; k < n; k++) {
		int err = gparse(&g, &m, s, k, MSG_PARSE_STREAM, &used);
		if (err != EAGAIN)
			fail_msg("prefix %zu: %d", k, err);
		gbuf_free(&g);
	}
	assert_int_equal(gparse(&g, &m, s, n, MSG_PARSE_STREAM, &used), 0);
	assert_int_equal(used, n);
	gbuf_free(&g);
}

static void test_stream_pipeline(void **state)
{
	(void)state;
	const char *s = "OPTIONS sip:a@b SIP/2.0" CRLF "l: 3" CRLF CRLF "abc"
			"SIP/2.0 200 OK" CRLF "Content-Length: 0" CRLF CRLF CRLF CRLF
			"MESSAGE sip:a@b SIP/2.0" CRLF "l: 2" CRLF CRLF "hiMESS";
	const uint8_t want_method[] = {MSG_METHOD_OPTIONS, MSG_METHOD_OTHER, MSG_METHOD_MESSAGE};
	const char *want_body[] = {"abc", "", "hi"};
	struct gbuf g;
	const char *p = gbuf_put(&g, s, strlen(s)), *end = p + strlen(s);
	struct msg m;
	size_t used;

	for (int i = 0; i < 3; i++) {
		assert_int_equal(msg_parse(&m, p, (size_t)(end - p), MSG_PARSE_STREAM, &used), 0);
		assert_int_equal(m.method, want_method[i]);
		assert_true(span_eq(m.buf, m.body, want_body[i]));
		p += used;
	}
	assert_int_equal(msg_parse(&m, p, (size_t)(end - p), MSG_PARSE_STREAM, &used), EAGAIN);
	assert_true(span_eq(p, (struct span){0, 4}, "MESS"));
	gbuf_free(&g);
}

/* ---- limits ---- */

static char *many_headers(unsigned n, size_t *len)
{
	size_t cap = 64 + (size_t)n * 16;
	char *s = malloc(cap);
	size_t k = (size_t)snprintf(s, cap, "OPTIONS sip:a@b SIP/2.0\r\n");
	for (unsigned i = 0; i < n; i++)
		k += (size_t)snprintf(s + k, cap - k, "X-H: %u\r\n", i);
	k += (size_t)snprintf(s + k, cap - k, "\r\n");
	*len = k;
	return s;
}

static void test_limits(void **state)
{
	(void)state;
	struct msg *m = malloc(sizeof(*m));
	struct gbuf g;
	size_t len, used;

	char *s = many_headers(MSG_MAX_HDRS, &len);
	assert_int_equal(gparse(&g, m, s, len, MSG_PARSE_DGRAM, &used), 0);
	assert_int_equal(m->nhdrs, MSG_MAX_HDRS);
	gbuf_free(&g);
	free(s);

	s = many_headers(MSG_MAX_HDRS + 1, &len);
	assert_int_equal(gparse(&g, m, s, len, MSG_PARSE_DGRAM, &used), EMSGSIZE);
	assert_true(m->anomalies & MSG_A_TOO_BIG);
	assert_true(m->is_request);
	assert_int_equal(m->method, MSG_METHOD_OPTIONS);
	gbuf_free(&g);
	free(s);

	/* elements count, not lines */
	s = malloc(4096);
	len = (size_t)snprintf(s, 4096, "OPTIONS sip:a@b SIP/2.0\r\nAllow: ");
	for (unsigned i = 0; i <= MSG_MAX_HDRS; i++)
		len += (size_t)snprintf(s + len, 4096 - len, "A,");
	len += (size_t)snprintf(s + len, 4096 - len, "\r\n\r\n");
	assert_int_equal(gparse(&g, m, s, len, MSG_PARSE_DGRAM, &used), EMSGSIZE);
	gbuf_free(&g);
	free(s);

	/* line length, with and without folding */
	size_t big = MSG_MAX_LINE + 100;
	s = malloc(big + 100);
	len = (size_t)sprintf(s, "OPTIONS sip:a@b SIP/2.0\r\nX: ");
	memset(s + len, 'a', MSG_MAX_LINE);
	len += MSG_MAX_LINE;
	len += (size_t)sprintf(s + len, "\r\n\r\n");
	assert_int_equal(gparse(&g, m, s, len, MSG_PARSE_DGRAM, &used), EMSGSIZE);
	gbuf_free(&g);
	for (size_t i = 100; i < MSG_MAX_LINE; i += 100)
		memcpy(s + 28 + i, "\r\n ", 3);
	assert_int_equal(gparse(&g, m, s, len, MSG_PARSE_DGRAM, &used), EMSGSIZE);
	gbuf_free(&g);
	/* a partial over-long line in a stream is too big, not "wait for more" */
	assert_int_equal(gparse(&g, m, s, len - 3, MSG_PARSE_STREAM, &used), EMSGSIZE);
	gbuf_free(&g);
	/* a start line that long */
	memset(s, 'A', big);
	assert_int_equal(gparse(&g, m, s, big, MSG_PARSE_STREAM, &used), EMSGSIZE);
	gbuf_free(&g);
	free(s);

	/* whole size: a datagram body, and a stream Content-Length */
	size_t huge = MSG_MAX_SIZE + 10;
	s = malloc(huge);
	len = (size_t)sprintf(s, "MESSAGE sip:a@b SIP/2.0\r\nVia: x\r\n\r\n");
	memset(s + len, 'b', huge - len);
	assert_int_equal(gparse(&g, m, s, huge, MSG_PARSE_DGRAM, &used), EMSGSIZE);
	assert_true(m->anomalies & MSG_A_TOO_BIG);
	assert_non_null(msg_hdr_find(m, MSG_HDR_VIA)); /* headers kept for the 513 */
	gbuf_free(&g);
	assert_int_equal(gparse(&g, m, s, MSG_MAX_SIZE, MSG_PARSE_DGRAM, &used), 0);
	assert_int_equal(used, MSG_MAX_SIZE);
	gbuf_free(&g);
	len = (size_t)sprintf(s, "MESSAGE sip:a@b SIP/2.0\r\nl: 70000\r\n\r\nab");
	assert_int_equal(gparse(&g, m, s, len, MSG_PARSE_STREAM, &used), EMSGSIZE);
	assert_true(m->has_clen);
	gbuf_free(&g);
	/* headers that never end (lines without ':' do not count as headers) */
	len = (size_t)sprintf(s, "MESSAGE sip:a@b SIP/2.0\r\n");
	for (; len + 10 < huge; len += 8)
		memcpy(s + len, "Xx12345\n", 8);
	assert_int_equal(gparse(&g, m, s, len, MSG_PARSE_STREAM, &used), EMSGSIZE);
	gbuf_free(&g);
	/* keep-alives alone beyond the limit */
	memset(s, '\n', huge);
	assert_int_equal(gparse(&g, m, s, huge, MSG_PARSE_STREAM, &used), EMSGSIZE);
	gbuf_free(&g);
	free(s);
	free(m);
}

/* ---- accessors ---- */

static void test_accessors(void **state)
{
	(void)state;
	struct msg m;
	struct gbuf g;
	size_t used;
	const char *s =
	    "INVITE sips:bob@example.com;transport=tcp SIP/2.0" CRLF
	    "Via: SIP/2.0/TLS h.example.com:5061;branch=z9hG4bKx;rport, SIP/2.0/UDP b" CRLF
	    "To: <sip:bob@example.com>" CRLF "From: \"A\" <sip:a@example.com>;tag=88" CRLF
	    "CSeq: 7 INVITE" CRLF "Content-Length: 0" CRLF CRLF;

	assert_int_equal(sparse(&g, &m, s, MSG_PARSE_DGRAM, &used), 0);
	assert_int_equal(m.cached, 0);
	const struct msg_via *v = msg_top_via(&m);
	assert_non_null(v);
	assert_true(span_eq(m.buf, v->transport, "TLS"));
	assert_true(span_eq(m.buf, v->host, "h.example.com"));
	assert_int_equal(v->port, 5061);
	assert_true(span_eq(m.buf, v->branch, "z9hG4bKx"));
	assert_int_equal(m.cached, MSG_C_VIA);
	assert_ptr_equal(msg_top_via(&m), v);

	const struct msg_nameaddr *f = msg_from(&m);
	assert_non_null(f);
	assert_true(span_eq(m.buf, f->tag, "88"));
	const struct msg_nameaddr *t = msg_to(&m);
	assert_non_null(t);
	assert_false(t->has_tag);
	const struct msg_cseq *c = msg_cseq(&m);
	assert_non_null(c);
	assert_int_equal(c->num, 7);
	assert_int_equal(c->method_id, MSG_METHOD_INVITE);
	const struct msg_uri *u = msg_ruri(&m);
	assert_non_null(u);
	assert_int_equal(u->scheme, MSG_URI_SIPS);
	assert_true(span_eq(m.buf, u->host, "example.com"));
	assert_int_equal(m.cached, MSG_C_VIA | MSG_C_FROM | MSG_C_TO | MSG_C_CSEQ | MSG_C_RURI);
	gbuf_free(&g);

	/* malformed and absent */
	s = "INVITE <sip:bob@example.com> SIP/2.0" CRLF "Via: garbage" CRLF "CSeq: x INVITE" CRLF
	    "From: <sip:a@b" CRLF CRLF;
	assert_int_equal(sparse(&g, &m, s, MSG_PARSE_DGRAM, &used), 0);
	assert_null(msg_top_via(&m));
	assert_null(msg_top_via(&m));
	assert_null(msg_from(&m));
	assert_null(msg_to(&m));
	assert_null(msg_cseq(&m));
	assert_null(msg_ruri(&m));
	assert_int_equal(m.cached,
			 MSG_C_BAD_VIA | MSG_C_BAD_FROM | MSG_C_BAD_CSEQ | MSG_C_BAD_RURI);
	gbuf_free(&g);

	assert_int_equal(sparse(&g, &m, "SIP/2.0 200 OK" CRLF CRLF, 0, &used), 0);
	assert_null(msg_ruri(&m));
	gbuf_free(&g);
}

/* ---- the torture corpus frames in both modes ---- */

static void test_torture_framing(void **state)
{
	(void)state;
	struct trow rows[128];
	int n = torture_rows(rows, 128);
	assert_true(n >= 60);
	struct msg *m = malloc(sizeof(*m));
	for (int i = 0; i < n; i++) {
		size_t len, used = 0;
		struct gbuf g;
		char *b = torture_read(rows[i].file, &len);
		int err = gparse(&g, m, b, len, MSG_PARSE_DGRAM, &used);
		if (err != 0 || used == 0 || used > len)
			fail_msg("%s: dgram %d used %zu", rows[i].file, err, used);
		gbuf_free(&g);
		/* stream: a complete message or, with no/short Content-Length, a verdict */
		err = gparse(&g, m, b, len, MSG_PARSE_STREAM, &used);
		if (err == 0)
			assert_true(used <= len);
		else if (err != EAGAIN)
			fail_msg("%s: stream %d", rows[i].file, err);
		gbuf_free(&g);
		free(b);
	}
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hdr_names),	    cmocka_unit_test(test_hdr_lists),
	    cmocka_unit_test(test_request_basic),   cmocka_unit_test(test_response_basic),
	    cmocka_unit_test(test_framing),	    cmocka_unit_test(test_start_line_pieces),
	    cmocka_unit_test(test_split),	    cmocka_unit_test(test_folding),
	    cmocka_unit_test(test_stream_prefixes), cmocka_unit_test(test_stream_pipeline),
	    cmocka_unit_test(test_limits),	    cmocka_unit_test(test_accessors),
	    cmocka_unit_test(test_torture_framing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
