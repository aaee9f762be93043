/*
 * test_msg_lex.c - the lexer of src/msg (msg_lex.h) and the header parameter
 * iterator (msg_hdr_int.h): known cases, and on random inputs the SSE2 paths
 * against their byte-by-byte twins (lex_host / lex_host_scalar, lex_find4 /
 * lex_find4_scalar) and the unrolled scanners against plain loops.
 *
 * Random inputs live in heap blocks of their exact size, so a scanner that
 * reads one byte too far is caught by AddressSanitizer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ringlet/msg_uri.h"

#include "msg/msg_hdr_int.h"
#include "msg/msg_lex.h"

#define RANDOM_ROUNDS 200000

/* xorshift64: a fixed sequence, so a failure can be replayed. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A heap copy of exactly n bytes (no NUL after them). */
static char *dup_exact(const char *s, size_t n)
{
	char *b = malloc(n ? n : 1);
	assert_non_null(b);
	memcpy(b, s, n);
	return b;
}

/* n random bytes drawn from alphabet (its bytes; "\0" may be part of it). */
static void fill(char *out, size_t n, const char *alphabet, size_t na, uint64_t *seed)
{
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[rnd(seed) % na];
}

/* ---- hosts ---- */

static const struct {
	const char *in;
	uint8_t kind;
	int len; /* length of the host when kind != NONE */
} host_cases[] = {
    {"atlanta.example.com", MSG_HOST_NAME, 19},
    {"atlanta.example.com;transport=tcp;lr", MSG_HOST_NAME, 19},
    {"pc33.atlanta.example.com:5060;branch=z9hG4bK7", MSG_HOST_NAME, 24},
    {"example.com.", MSG_HOST_NAME, 12},
    {"example.com.;x", MSG_HOST_NAME, 12},
    {"a", MSG_HOST_NAME, 1},
    {"a-b.c-d", MSG_HOST_NAME, 7},
    {"1a.b2", MSG_HOST_NAME, 5},
    {"203.0.113.20", MSG_HOST_IPV4, 12},
    {"203.0.113.20:5060;received=1", MSG_HOST_IPV4, 12},
    {"0.0.0.0", MSG_HOST_IPV4, 7},
    {"255.255.255.255>", MSG_HOST_IPV4, 15},
    {"001.002.003.004", MSG_HOST_IPV4, 15},
    {"256.1.1.1", MSG_HOST_NONE, 0},
    {"1.2.3", MSG_HOST_NONE, 0},
    {"1.2.3.4.", MSG_HOST_NONE, 0},
    {"1.2.3.4.5", MSG_HOST_NONE, 0},
    {"1.2.3.4a", MSG_HOST_NONE, 0},
    {"1.2.3.0004", MSG_HOST_NONE, 0},
    {"example.123", MSG_HOST_NONE, 0},
    {"example.123.", MSG_HOST_NONE, 0},
    {"-a.com", MSG_HOST_NONE, 0},
    {"a-.com", MSG_HOST_NONE, 0},
    {"a.-com", MSG_HOST_NONE, 0},
    {"a..com", MSG_HOST_NONE, 0},
    {"a.com..", MSG_HOST_NONE, 0},
    {".a.com", MSG_HOST_NONE, 0},
    {".", MSG_HOST_NONE, 0},
    {"", MSG_HOST_NONE, 0},
    {";lr", MSG_HOST_NONE, 0},
    {"a.com-", MSG_HOST_NONE, 0},
    {"very-long-label-number-one.very-long-label-number-two.example.com", MSG_HOST_NAME, 65},
};

static void check_host(const char *in, size_t n, uint8_t want_kind, int want_len)
{
	char *b = dup_exact(in, n);
	uint8_t k1 = 0xff, k2 = 0xff;
	const char *e1 = lex_host(b, b + n, &k1);
	const char *e2 = lex_host_scalar(b, b + n, &k2);

	if (k1 != want_kind || k2 != want_kind)
		fail_msg("\"%.*s\": kind %u / %u, want %u", (int)n, in, k1, k2, want_kind);
	if (want_kind != MSG_HOST_NONE && (e1 - b != want_len || e2 - b != want_len))
		fail_msg("\"%.*s\": end %d / %d, want %d", (int)n, in, (int)(e1 - b), (int)(e2 - b),
			 want_len);
	free(b);
}

static void test_host_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(host_cases); i++) {
		const char *in = host_cases[i].in;
		char padded[160];
		check_host(in, strlen(in), host_cases[i].kind, host_cases[i].len);
		/* the same host followed by enough text for the 16-byte path */
		int n = snprintf(padded, sizeof(padded), "%s;transport=tcp;lr;x=1234567890", in);
		if (host_cases[i].kind != MSG_HOST_NONE && strchr(in, ';') == NULL &&
		    strchr(in, ':') == NULL && strchr(in, '>') == NULL)
			check_host(padded, (size_t)n, host_cases[i].kind, host_cases[i].len);
	}
	/* msg_host_kind is lex_host over the whole text, brackets for IPv6 */
	assert_int_equal(msg_host_kind("example.com", 11), MSG_HOST_NAME);
	assert_int_equal(msg_host_kind("example.com;", 12), MSG_HOST_NONE);
	assert_int_equal(msg_host_kind("192.0.2.1", 9), MSG_HOST_IPV4);
	assert_int_equal(msg_host_kind("[2001:db8::1]", 13), MSG_HOST_IPV6);
	assert_int_equal(msg_host_kind("[2001:db8::1", 12), MSG_HOST_NONE);
}

/* The grammar written out plainly (RFC 3261 §25.1): the third opinion. */
static bool ref_ipv4(const char *p, size_t n)
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		unsigned v = 0, k = 0;
		while (i < n && p[i] >= '0' && p[i] <= '9' && k < 4)
			v = v * 10 + (unsigned)(p[i++] - '0'), k++;
		if (k == 0 || k > 3 || v > 255)
			return false;
		if (part < 3 && (i >= n || p[i++] != '.'))
			return false;
	}
	return i == n;
}

static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool ref_hostname(const char *p, size_t n)
{
	size_t i = 0, label = 0;
	if (n > 0 && p[n - 1] == '.')
		n--;
	if (n == 0)
		return false;
	while (i < n) {
		label = i;
		while (i < n && (alnum(p[i]) || p[i] == '-'))
			i++;
		if (i == label || p[label] == '-' || p[i - 1] == '-')
			return false;
		if (i == n)
			break;
		if (p[i] != '.' || ++i == n)
			return false;
	}
	return !(p[label] >= '0' && p[label] <= '9');
}

/* The run of host characters at p, classified by the reference functions. */
static const char *ref_host(const char *p, const char *end, uint8_t *kind)
{
	const char *e = p;
	while (e < end && (alnum(*e) || *e == '-' || *e == '.'))
		e++;
	*kind = ref_ipv4(p, (size_t)(e - p))	   ? MSG_HOST_IPV4
		: ref_hostname(p, (size_t)(e - p)) ? MSG_HOST_NAME
						   : MSG_HOST_NONE;
	return e;
}

/* Random text shaped like an IPv4 address (parts of 0-4 digits) and a tail. */
static size_t random_ipv4ish(char *out, uint64_t *seed)
{
	size_t n = 0;
	for (int part = 0; part < 4 + (int)(rnd(seed) % 8 == 0); part++) {
		if (part)
			out[n++] = '.';
		for (unsigned k = rnd(seed) % 5; k > 0; k--)
			out[n++] = "0125"[rnd(seed) % 4];
	}
	static const char tail[] = ":;>a.-9 ";
	for (unsigned k = rnd(seed) % 24; k > 0; k--)
		out[n++] = tail[rnd(seed) % (sizeof(tail) - 1)];
	return n;
}

/*
 * lex_host, lex_host_scalar and the reference agree on random text made
 * mostly of host characters (positions are compared when the kind is not
 * NONE: otherwise the position is unspecified).
 */
static void test_host_random(void **state)
{
	static const char alphabet[] = "aZ1905.-.-x;:>@\0 ";
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	char tmp[96];
	(void)state;

	for (int r = 0; r < RANDOM_ROUNDS; r++) {
		size_t n;
		if (r % 3 == 0) {
			n = random_ipv4ish(tmp, &seed);
		} else {
			n = rnd(&seed) % 72;
			fill(tmp, n, alphabet, sizeof(alphabet) - 1, &seed);
		}
		/* long runs of letters make the 32-byte fallback and label paths likely */
		if (r % 3 == 1)
			for (size_t i = 0; i < n; i++)
				if (tmp[i] == ';' || tmp[i] == ':')
					tmp[i] = 'q';
		char *b = dup_exact(tmp, n);
		uint8_t k1, k2, k3;
		const char *e1 = lex_host(b, b + n, &k1);
		const char *e2 = lex_host_scalar(b, b + n, &k2);
		const char *e3 = ref_host(b, b + n, &k3);
		if (k1 != k3 || k2 != k3 || (k3 != MSG_HOST_NONE && (e1 != e3 || e2 != e3)))
			fail_msg("\"%.*s\": lex_host %u at %d, scalar %u at %d, ref %u at %d",
				 (int)n, tmp, k1, (int)(e1 - b), k2, (int)(e2 - b), k3,
				 (int)(e3 - b));
		assert_true(e1 >= b && e1 <= b + n);
		free(b);
	}
}

/* ---- find4, quoted strings, scanners ---- */

static void test_find4_random(void **state)
{
	static const char alphabet[] = "ab\"\\\r\n,<x";
	uint64_t seed = 12345;
	char tmp[100];
	(void)state;

	for (int r = 0; r < RANDOM_ROUNDS; r++) {
		size_t n = rnd(&seed) % 90;
		fill(tmp, n, alphabet, sizeof(alphabet) - 1, &seed);
		/* sparse stop bytes: long runs make the 16-byte blocks matter */
		if (r % 2)
			for (size_t i = 0; i < n; i++)
				if (rnd(&seed) % 8)
					tmp[i] = 'a';
		char *b = dup_exact(tmp, n);
		const char *e1 = lex_find4(b, b + n, '"', '\\', '\r', '\n');
		const char *e2 = lex_find4_scalar(b, b + n, '"', '\\', '\r', '\n');
		const char *e3 = lex_find4(b, b + n, ',', '"', '<', '<');
		const char *e4 = lex_find4_scalar(b, b + n, ',', '"', '<', '<');
		if (e1 != e2 || e3 != e4)
			fail_msg("\"%.*s\": %d/%d %d/%d", (int)n, tmp, (int)(e1 - b), (int)(e2 - b),
				 (int)(e3 - b), (int)(e4 - b));
		free(b);
	}
}

/* The quoted-string scanner as first written, byte by byte: the reference. */
static const char *ref_quoted(const char *p, const char *end)
{
	p++;
	while (p < end) {
		char c = *p;
		if (c == '"')
			return p + 1;
		if (c == '\\') {
			if (p + 1 >= end || p[1] == '\r' || p[1] == '\n')
				return NULL;
			p += 2;
			continue;
		}
		if (c == '\r' || c == '\n') {
			const char *q = lex_lws_slow(p, end);
			if (q == p)
				return NULL;
			p = q;
			continue;
		}
		p++;
	}
	return NULL;
}

static void test_quoted(void **state)
{
	static const struct {
		const char *in;
		int end; /* -1: NULL */
	} cases[] = {
	    {"\"Alice Liddell\" <sip:a@b>", 15},
	    {"\"\"", 2},
	    {"\"a\\\"b\"", 6},
	    {"\"a\\", -1},
	    {"\"a\\\r\n b\"", -1},
	    {"\"a\r\n b\"", 7},
	    {"\"a\r\nb\"", -1},
	    {"\"unterminated", -1},
	    {"\"<urn:uuid:5f2b7c1e-8d4a-4e3b-9c6f-0a1b2c3d4e5f>\";expires=3600", 49},
	};
	static const char alphabet[] = "ab\"\\\r\n \t";
	uint64_t seed = 777;
	char tmp[100];
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t n = strlen(cases[i].in);
		char *b = dup_exact(cases[i].in, n);
		const char *e = lex_quoted(b, b + n);
		if ((e == NULL ? -1 : (int)(e - b)) != cases[i].end)
			fail_msg("%s: %d", cases[i].in, e == NULL ? -1 : (int)(e - b));
		free(b);
	}
	for (int r = 0; r < RANDOM_ROUNDS; r++) {
		size_t n = 1 + rnd(&seed) % 60;
		fill(tmp, n, alphabet, sizeof(alphabet) - 1, &seed);
		tmp[0] = '"';
		for (size_t i = 1; i < n; i++)
			if (rnd(&seed) % 6)
				tmp[i] = 'a';
		char *b = dup_exact(tmp, n);
		if (lex_quoted(b, b + n) != ref_quoted(b, b + n))
			fail_msg("\"%.*s\"", (int)n, tmp);
		free(b);
	}
}

/* Plain loop: skip bytes of class cls. */
static const char *ref_span(const char *p, const char *end, uint8_t cls)
{
	while (p < end && (lex_class[(uint8_t)*p] & cls))
		p++;
	return p;
}

/*
 * lex_token, lex_lws and the SSE2 skip of lex_skip_an (token and word
 * classes) against plain loops on random bytes; every other round is made
 * of long runs of alphanumerics, '-' and '.' so that the 16-byte blocks run.
 */
static void test_scanners_random(void **state)
{
	static const char mix[] = "aZ9-.!%*_+`'~ \t\r\n;:\"<";
	static const char an[] = "aZ09-.";
	uint64_t seed = 4242;
	char tmp[96];
	(void)state;

	for (int r = 0; r < RANDOM_ROUNDS; r++) {
		size_t n = rnd(&seed) % 80;
		for (size_t i = 0; i < n; i++) {
			uint64_t x = rnd(&seed);
			if (r % 2 && x % 23)
				tmp[i] = an[(x >> 8) % 6];
			else
				tmp[i] = x % 3 ? mix[x % 22] : (char)(x >> 8);
		}
		char *b = dup_exact(tmp, n), *e = b + n;
		const char *skip = lex_skip_an(b, e);
		assert_true(skip >= b && skip <= e);
		assert_ptr_equal(lex_token(b, e), ref_span(b, e, LEX_TOKEN));
		assert_ptr_equal(lex_span(skip, e, lex_class, LEX_TOKEN),
				 ref_span(b, e, LEX_TOKEN));
		assert_ptr_equal(lex_span(skip, e, lex_class, LEX_WORD), ref_span(b, e, LEX_WORD));
		assert_ptr_equal(lex_lws(b, e), lex_lws_slow(b, e));
		free(b);
	}
}

static void test_token_is(void **state)
{
	(void)state;
	const char *b = "BRANCH;branch;Branch;branc;Received;maddr;ttl;Retry-After";
	assert_true(lex_tieq(b, "branch", 6));
	assert_true(lex_tieq(b + 7, "branch", 6));
	assert_true(lex_tieq(b + 14, "branch", 6));
	assert_false(lex_tieq(b + 21, "branch", 6));
	assert_true(LEX_TOKEN_IS(b, ((struct span){27, 8}), "received"));
	assert_false(LEX_TOKEN_IS(b, ((struct span){27, 7}), "received"));
	assert_true(LEX_TOKEN_IS(b, ((struct span){42, 3}), "ttl"));
	assert_true(LEX_TOKEN_IS(b, ((struct span){46, 11}), "retry-after"));
	/* '_' folds to 0x7f, '`' stays: neither becomes a letter, '-' or '.' */
	assert_false(lex_tieq("RETRY_AFTER", "retry-after", 11));
	/* exhaustively: a token byte folds onto a literal byte only if it is that byte or its
	 * upper case */
	static const char lits[] = "abcdefghijklmnopqrstuvwxyz0123456789-.";
	for (int c = 0; c < 256; c++) {
		char t = (char)c;
		if (!(lex_class[c] & LEX_TOKEN))
			continue;
		for (const char *l = lits; *l; l++)
			assert_int_equal(lex_tieq(&t, l, 1), ascii_lower(t) == *l);
	}
	assert_false(lex_tieq("tag", "tab", 3));
	assert_true(lex_ieq("SIP/2.0", "sip/2.0", 7));
	assert_false(lex_ieq("SIP\0172.0", "sip/2.0", 7)); /* \017, not '/' */
}

/* ---- header parameters ---- */

/* Iterate params of s; the names joined by ',' into out; returns the final code. */
static int iterate(const char *s, char *out, size_t cap)
{
	size_t n = strlen(s), k = 0;
	char *b = dup_exact(s, n);
	struct span params = {0, (uint32_t)n};
	struct hparam hp;
	uint32_t pos = 0;
	int rc;

	out[0] = '\0';
	while ((rc = msg_hparam_next(b, params, &pos, &hp)) == 0) {
		k += (size_t)snprintf(out + k, cap - k, "%s%.*s=%.*s/%u", k ? "," : "",
				      (int)hp.name.len, b + hp.name.off, (int)hp.value.len,
				      b + hp.value.off, hp.kind);
		assert_true(k < cap);
	}
	free(b);
	return rc;
}

static void test_hparam(void **state)
{
	static const struct {
		const char *in;
		int rc;
		const char *want; /* NULL: not checked */
	} cases[] = {
	    {"branch=z9hG4bK1;rport", ENOENT, "branch=z9hG4bK1/1,rport=/0"},
	    {"tag = 123 ; lr", ENOENT, "tag=123/1,lr=/0"},
	    {"a=\"x;y\";b=1", ENOENT, "a=\"x;y\"/2,b=1/1"},
	    {"received=2001:db8::1", ENOENT, "received=2001:db8::1/3"},
	    {"received=[2001:db8::1];x", ENOENT, "received=[2001:db8::1]/3,x=/0"},
	    {"a\r\n =\r\n 1", ENOENT, "a=1/1"},
	    {"", ENOENT, ""},
	    {"  ", ENOENT, ""},
	    {"a;", EBADMSG, NULL},
	    {"a;;b", EBADMSG, NULL},
	    {"a=", EBADMSG, NULL},
	    {"a=;b", EBADMSG, NULL},
	    {"a b", EBADMSG, NULL},
	    {"a=b c", EBADMSG, NULL},
	    {"a=\"b\" c", EBADMSG, NULL},
	    {"a=\"b", EBADMSG, NULL},
	    {"a=b=c", EBADMSG, NULL},
	    {"a/b=1", EBADMSG, NULL},
	    {"a=[::1", EBADMSG, NULL},
	    {"a=1.2.3.4:5060", EBADMSG, NULL},
	    {"a=\r\nb", EBADMSG, NULL},
	};
	char out[256];
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int rc = iterate(cases[i].in, out, sizeof(out));
		if (rc != cases[i].rc || (cases[i].want && strcmp(out, cases[i].want) != 0))
			fail_msg("\"%s\": rc %d, \"%s\"", cases[i].in, rc, out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_host_cases),	    cmocka_unit_test(test_host_random),
	    cmocka_unit_test(test_find4_random),    cmocka_unit_test(test_quoted),
	    cmocka_unit_test(test_scanners_random), cmocka_unit_test(test_token_is),
	    cmocka_unit_test(test_hparam),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
