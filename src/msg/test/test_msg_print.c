/*
 * test_msg_print.c - the printer: msg_out_* primitives, overflow, CR/LF
 * scrubbing, msg_print round trips (own messages and the torture corpus),
 * msg_out_response (RFC 3261 §8.2.6) and msg_reason_phrase.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "core_util.h"

#define OUTCAP (MSG_MAX_SIZE + 1024)

static void write_sample(struct msg_out *o)
{
	msg_out_request_line(o, "INVITE", "sip:bob@example.com", 19);
	msg_out_header(o, "Via", "SIP/2.0/UDP h;branch=z9hG4bK1", 29);
	msg_out_headerf(o, "CSeq", "%u %s", 7u, "INVITE");
	msg_out_raw(o, "X-Raw: 1\r\n", 10);
}

static const char sample[] = "INVITE sip:bob@example.com SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			     "CSeq: 7 INVITE\r\n"
			     "X-Raw: 1\r\n"
			     "Content-Length: 3\r\n\r\nabc";

static void test_out_basic(void **state)
{
	(void)state;
	char mem[512];
	struct msg_out o;

	msg_out_init(&o, mem, sizeof(mem));
	write_sample(&o);
	assert_int_equal(msg_out_end(&o, "abc", 3), 0);
	assert_int_equal(o.len, strlen(sample));
	assert_memory_equal(mem, sample, o.len);
	assert_false(o.overflow);
	assert_memory_equal(mem + o.clen_at, "3\r\n", 3);

	msg_out_init(&o, mem, sizeof(mem));
	msg_out_status_line(&o, 404, NULL);
	msg_out_status_line(&o, 200, "Fine");
	msg_out_status_line(&o, 99, "Odd");
	assert_int_equal(msg_out_end(&o, NULL, 0), 0);
	const char *want = "SIP/2.0 404 Not Found\r\nSIP/2.0 200 Fine\r\nSIP/2.0 099 Odd\r\n"
			   "Content-Length: 0\r\n\r\n";
	assert_int_equal(o.len, strlen(want));
	assert_memory_equal(mem, want, o.len);
}

/* At every capacity below the full size: EMSGSIZE, nothing written past cap. */
static void test_out_overflow(void **state)
{
	(void)state;
	size_t full = strlen(sample);
	char mem[512];
	struct msg_out o;

	for (size_t cap = 0; cap <= full; cap++) {
		memset(mem, 0xAA, sizeof(mem));
		msg_out_init(&o, cap ? mem : NULL, cap);
		write_sample(&o);
		int err = msg_out_end(&o, "abc", 3);
		assert_int_equal(err, cap < full ? EMSGSIZE : 0);
		assert_int_equal(o.overflow, cap < full);
		assert_true(o.len <= cap);
		/* writing stops at the first overflow: what is there is a prefix */
		assert_memory_equal(mem, sample, o.len);
		for (size_t i = cap; i < sizeof(mem); i++)
			if ((unsigned char)mem[i] != 0xAA)
				fail_msg("cap %zu: byte %zu written", cap, i);
		if (cap == full)
			assert_memory_equal(mem, sample, full);
	}
}

static void test_out_scrub(void **state)
{
	(void)state;
	char mem[256];
	struct msg_out o;

	msg_out_init(&o, mem, sizeof(mem));
	msg_out_header(&o, "Subject", "a\r\nEvil: x", 10);
	msg_out_headerf(&o, "X", "%s|%s", "b\r\n\r\nc", "\n");
	msg_out_request_line(&o, "BYE\r\n", "sip:a\r\n@b", 9);
	msg_out_status_line(&o, 400, "Bad\r\nX: y");
	const char *want = "Subject: aEvil: x\r\nX: bc|\r\nBYE sip:a@b SIP/2.0\r\n"
			   "SIP/2.0 400 BadX: y\r\n";
	assert_int_equal(o.len, strlen(want));
	assert_memory_equal(mem, want, o.len);
}

static int print_parse(const struct msg *m, char *out, struct msg *m2, size_t *outlen)
{
	struct msg_out o;
	size_t used;

	msg_out_init(&o, out, OUTCAP);
	int err = msg_print(m, &o);
	if (err)
		return err;
	*outlen = o.len;
	return msg_parse(m2, out, o.len, MSG_PARSE_STREAM, &used);
}

/* parse -> print -> parse gives the same message; printing again gives the same bytes. */
static void roundtrip(const char *name, const char *in, size_t len)
{
	struct msg *m = malloc(sizeof(*m)), *m2 = malloc(sizeof(*m2)), *m3 = malloc(sizeof(*m3));
	char *out = malloc(OUTCAP), *out2 = malloc(OUTCAP);
	struct gbuf g;
	size_t used, n = 0, n2 = 0;
	char why[256];

	assert_int_equal(msg_parse(m, gbuf_put(&g, in, len), len, MSG_PARSE_DGRAM, &used), 0);
	if (print_parse(m, out, m2, &n) != 0)
		fail_msg("%s: reparse failed:\n%.*s", name, (int)n, out);
	if (!msg_same(m, m2, why, sizeof(why)))
		fail_msg("%s: %s\n%.*s", name, why, (int)n, out);
	assert_int_equal(m2->anomalies, 0);
	for (uint32_t k = 0; k + 1 < m2->body.off; k++)
		if (out[k] == '\n' && (out[k + 1] == ' ' || out[k + 1] == '\t'))
			fail_msg("%s: folding left in the output", name);
	assert_int_equal(print_parse(m2, out2, m3, &n2), 0);
	if (n2 != n || memcmp(out, out2, n) != 0)
		fail_msg("%s: printing is not stable", name);
	gbuf_free(&g);
	free(m);
	free(m2);
	free(m3);
	free(out);
	free(out2);
}

static const char *const own[] = {
    "INVITE sip:bob@example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP a;branch=z9hG4bK1 , SIP/2.0/TCP b\r\n"
    "v: SIP/2.0/UDP c\r\n"
    "To: <sip:bob@example.com>\r\n"
    "f: \"A, B\" <sip:a@example.com>;tag=1\r\n"
    "Call-ID: x@y\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:a@h>;q=0.1,\"x,y\" <sip:b@h>\r\n"
    "Supported: a,,b,\r\n"
    "Allow:\r\n"
    "Subject: multi\r\n\tline\r\n  value\r\n"
    "X-Unknown:  a, b ,c  \r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 5\r\n\r\nhello",
    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a\r\nl: 0\r\nX: y\r\n\r\n",
    "SIP/2.0 100 \r\n\r\n",
    "MESSAGE sip:a@b SIP/2.0\nVia: x\n\nbody without content-length",
    "OPTIONS sip:a@b SIP/2.0\r\nAccept: a/b,\r\n c/d\r\nRoute:\r\n <sip:r;lr>\r\n\r\n",
};

static void test_roundtrip_own(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(own); i++) {
		char name[32];
		snprintf(name, sizeof(name), "own[%zu]", i);
		roundtrip(name, own[i], strlen(own[i]));
	}
}

/* Every torture message that frames without anomalies round-trips. */
static void test_roundtrip_torture(void **state)
{
	(void)state;
	struct trow rows[128];
	int n = torture_rows(rows, 128), done = 0;
	struct msg *m = malloc(sizeof(*m));

	assert_true(n >= 60);
	for (int i = 0; i < n; i++) {
		size_t len, used;
		char *b = torture_read(rows[i].file, &len);
		bool valid = strcmp(rows[i].validity, "valid") == 0;
		if (msg_parse(m, b, len, MSG_PARSE_DGRAM, &used) == 0 && m->anomalies == 0) {
			roundtrip(rows[i].file, b, len);
			done++;
		} else if (valid) {
			fail_msg("%s: valid message does not frame cleanly", rows[i].file);
		}
		free(b);
	}
	assert_true(done >= 50);
	free(m);
}

static void test_print_exact(void **state)
{
	(void)state;
	const char *in = "OPTIONS sip:a@b SIP/2.0\r\n"
			 "TO :\r\n sip:c@d\r\n"
			 "l: 2\r\n"
			 "Subject: one\r\n two\r\n"
			 "Allow: A ,B\r\n\r\nxyEXTRA";
	const char *want = "OPTIONS sip:a@b SIP/2.0\r\n"
			   "TO: sip:c@d\r\n"
			   "Subject: one two\r\n"
			   "Allow: A, B\r\n"
			   "Content-Length: 2\r\n\r\nxy";
	struct msg *m = malloc(sizeof(*m));
	char out[512];
	struct msg_out o;
	size_t used;

	assert_int_equal(msg_parse(m, in, strlen(in), MSG_PARSE_DGRAM, &used), 0);
	msg_out_init(&o, out, sizeof(out));
	assert_int_equal(msg_print(m, &o), 0);
	assert_int_equal(o.len, strlen(want));
	assert_memory_equal(out, want, o.len);
	msg_out_init(&o, out, 20);
	assert_int_equal(msg_print(m, &o), EMSGSIZE);
	free(m);
}

static void test_response(void **state)
{
	(void)state;
	const char *req = "INVITE sip:bob@example.com SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP p1;branch=z9hG4bK1, SIP/2.0/UDP p2;branch=z9hG4bK2\r\n"
			  "Max-Forwards: 70\r\n"
			  "Via: SIP/2.0/UDP p3;branch=z9hG4bK3;received=192.0.2.1\r\n"
			  "To: Bob\r\n <sip:bob@example.com>\r\n"
			  "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
			  "Call-ID: a84b4c76e66710\r\n"
			  "CSeq: 314159 INVITE\r\n"
			  "Contact: <sip:alice@pc33>\r\n"
			  "Content-Length: 0\r\n\r\n";
	const char *want = "SIP/2.0 486 Busy Here\r\n"
			   "Via: SIP/2.0/UDP p1;branch=z9hG4bK1\r\n"
			   "Via: SIP/2.0/UDP p2;branch=z9hG4bK2\r\n"
			   "Via: SIP/2.0/UDP p3;branch=z9hG4bK3;received=192.0.2.1\r\n"
			   "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
			   "To: Bob <sip:bob@example.com>;tag=xyz\r\n"
			   "Call-ID: a84b4c76e66710\r\n"
			   "CSeq: 314159 INVITE\r\n"
			   "Content-Length: 0\r\n\r\n";
	struct msg *m = malloc(sizeof(*m)), *r = malloc(sizeof(*r));
	char out[1024];
	struct msg_out o;
	size_t used;

	assert_int_equal(msg_parse(m, req, strlen(req), MSG_PARSE_DGRAM, &used), 0);
	msg_out_init(&o, out, sizeof(out));
	msg_out_response(&o, m, 486, NULL, "xyz");
	assert_int_equal(msg_out_end(&o, NULL, 0), 0);
	assert_int_equal(o.len, strlen(want));
	assert_memory_equal(out, want, o.len);

	/* the response parses and validates */
	struct msg_verdict v;
	assert_int_equal(msg_parse(r, out, o.len, MSG_PARSE_STREAM, &used), 0);
	assert_true(msg_validate(r, MSG_V_ALL, NULL, &v));
	assert_int_equal(r->status, 486);
	assert_true(span_eq(r->buf, msg_to(r)->tag, "xyz"));

	/* no tag added when there is one, or when none is given */
	assert_int_equal(msg_parse(m, out, o.len, MSG_PARSE_STREAM, &used), 0);
	char out2[1024];
	msg_out_init(&o, out2, sizeof(out2));
	msg_out_response(&o, m, 200, "Yes", "other");
	assert_int_equal(msg_out_end(&o, NULL, 0), 0);
	assert_non_null(memmem(out2, o.len, "SIP/2.0 200 Yes\r\n", 17));
	assert_non_null(memmem(out2, o.len, ";tag=xyz\r\n", 10));
	assert_null(memmem(out2, o.len, "other", 5));
	assert_int_equal(msg_parse(m, req, strlen(req), MSG_PARSE_DGRAM, &used), 0);
	msg_out_init(&o, out2, sizeof(out2));
	msg_out_response(&o, m, 100, NULL, NULL);
	assert_int_equal(msg_out_end(&o, NULL, 0), 0);
	assert_non_null(memmem(out2, o.len, "To: Bob <sip:bob@example.com>\r\n", 31));
	assert_non_null(memmem(out2, o.len, "SIP/2.0 100 Trying\r\n", 20));

	/* a request missing headers still gives a response with what there is */
	const char *bad = "INVITE sip:a@b SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n";
	assert_int_equal(msg_parse(m, bad, strlen(bad), MSG_PARSE_DGRAM, &used), 0);
	msg_out_init(&o, out2, sizeof(out2));
	msg_out_response(&o, m, 400, "Missing Via", "t");
	assert_int_equal(msg_out_end(&o, NULL, 0), 0);
	const char *want2 =
	    "SIP/2.0 400 Missing Via\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(o.len, strlen(want2));
	assert_memory_equal(out2, want2, o.len);
	free(m);
	free(r);
}

static void test_reason(void **state)
{
	(void)state;
	static const struct {
		unsigned code;
		const char *phrase;
	} tab[] = {
	    /* RFC 3261 §21 */
	    {100, "Trying"},
	    {180, "Ringing"},
	    {181, "Call Is Being Forwarded"},
	    {182, "Queued"},
	    {183, "Session Progress"},
	    {200, "OK"},
	    {300, "Multiple Choices"},
	    {301, "Moved Permanently"},
	    {302, "Moved Temporarily"},
	    {305, "Use Proxy"},
	    {380, "Alternative Service"},
	    {400, "Bad Request"},
	    {401, "Unauthorized"},
	    {402, "Payment Required"},
	    {403, "Forbidden"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {406, "Not Acceptable"},
	    {407, "Proxy Authentication Required"},
	    {408, "Request Timeout"},
	    {410, "Gone"},
	    {413, "Request Entity Too Large"},
	    {414, "Request-URI Too Long"},
	    {415, "Unsupported Media Type"},
	    {416, "Unsupported URI Scheme"},
	    {420, "Bad Extension"},
	    {421, "Extension Required"},
	    {423, "Interval Too Brief"},
	    {480, "Temporarily Unavailable"},
	    {481, "Call/Transaction Does Not Exist"},
	    {482, "Loop Detected"},
	    {483, "Too Many Hops"},
	    {484, "Address Incomplete"},
	    {485, "Ambiguous"},
	    {486, "Busy Here"},
	    {487, "Request Terminated"},
	    {488, "Not Acceptable Here"},
	    {491, "Request Pending"},
	    {493, "Undecipherable"},
	    {500, "Server Internal Error"},
	    {501, "Not Implemented"},
	    {502, "Bad Gateway"},
	    {503, "Service Unavailable"},
	    {504, "Server Time-out"},
	    {505, "Version Not Supported"},
	    {513, "Message Too Large"},
	    {600, "Busy Everywhere"},
	    {603, "Decline"},
	    {604, "Does Not Exist Anywhere"},
	    {606, "Not Acceptable"},
	    /* later RFCs */
	    {202, "Accepted"},
	    {204, "No Notification"},
	    {412, "Conditional Request Failed"},
	    {422, "Session Interval Too Small"},
	    {429, "Provide Referrer Identity"},
	    {470, "Consent Needed"},
	    {489, "Bad Event"},
	    {494, "Security Agreement Required"},
	    {580, "Precondition Failure"},
	    {607, "Unwanted"},
	    {608, "Rejected"},
	    /* none */
	    {0, "Unknown"},
	    {299, "Unknown"},
	    {999, "Unknown"},
	    {100000, "Unknown"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(tab); i++)
		assert_string_equal(msg_reason_phrase(tab[i].code), tab[i].phrase);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_out_basic),	      cmocka_unit_test(test_out_overflow),
	    cmocka_unit_test(test_out_scrub),	      cmocka_unit_test(test_roundtrip_own),
	    cmocka_unit_test(test_roundtrip_torture), cmocka_unit_test(test_print_exact),
	    cmocka_unit_test(test_response),	      cmocka_unit_test(test_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
