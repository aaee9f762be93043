/*
 * test_auth_client.c - the UA side of digest (auth_client_answer): answers to
 * our own server's challenges verify with auth_check (SHA-256 preferred, MD5,
 * 401 and 407, escaped realms, several realms), the RFC 2069 form checked
 * against hashing done here, and challenges that cannot be answered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "auth/auth_int.h"
#include "ringlet/msg.h"
#include "ringlet/msg_hdr.h"

#define RURI "sip:biloxi.example"

struct doc {
	char text[8192];
	struct msg m;
};

static void parse(struct doc *d, int n)
{
	size_t used;
	assert_true(n > 0 && (size_t)n < sizeof(d->text));
	assert_int_equal(msg_parse(&d->m, d->text, (size_t)n, MSG_PARSE_DGRAM, &used), 0);
}

/* A 401/407 response carrying challenge lines hdrs (each ending in CRLF). */
static struct doc *resp_new(unsigned code, const char *hdrs)
{
	struct doc *d = calloc(1, sizeof(*d));
	assert_non_null(d);
	parse(d, snprintf(d->text, sizeof(d->text),
			  "SIP/2.0 %u Unauthorized\r\n"
			  "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx1\r\n"
			  "From: <sip:bob@biloxi.example>;tag=1\r\n"
			  "To: <sip:bob@biloxi.example>;tag=2\r\n"
			  "Call-ID: c1@127.0.0.1\r\n"
			  "CSeq: 1 REGISTER\r\n"
			  "%sContent-Length: 0\r\n\r\n",
			  code, hdrs));
	return d;
}

/* The REGISTER that carries the credentials cred (header lines). */
static struct doc *req_new(const char *cred)
{
	struct doc *d = calloc(1, sizeof(*d));
	assert_non_null(d);
	parse(d, snprintf(d->text, sizeof(d->text),
			  "REGISTER " RURI " SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx2\r\n"
			  "Max-Forwards: 70\r\n"
			  "From: <sip:bob@biloxi.example>;tag=1\r\n"
			  "To: <sip:bob@biloxi.example>\r\n"
			  "Call-ID: c1@127.0.0.1\r\n"
			  "CSeq: 2 REGISTER\r\n"
			  "%sContent-Length: 0\r\n\r\n",
			  cred));
	return d;
}

/* Challenge from our server for realm (proxy: 407), answered and verified. */
static enum auth_result round_trip(const char *realm, bool proxy, const char *password,
				   char *cred, size_t cap)
{
	struct auth *a;
	char ch[2048], ha1m[33], ha1s[65];
	bool stale = true;
	assert_int_equal(auth_alloc(&a, NULL, 60), 0);
	assert_true(auth_challenge(a, realm, proxy, false, ch, sizeof(ch)) > 0);
	struct doc *r = resp_new(proxy ? 407 : 401, ch);
	assert_true(auth_client_answer(&r->m, "REGISTER", RURI, "bob", password, 1, &stale, cred,
				       cap) > 0);
	assert_false(stale);
	struct doc *q = req_new(cred);
	auth_ha1(AUTH_MD5, "bob", realm, "zanzibar", ha1m);
	auth_ha1(AUTH_SHA256, "bob", realm, "zanzibar", ha1s);
	enum auth_result res = auth_check(a, &q->m, realm, proxy, ha1m, ha1s);
	free(q);
	free(r);
	auth_free(a);
	return res;
}

static void test_answers_our_challenge(void **state)
{
	(void)state;
	char cred[2048];
	assert_int_equal(round_trip("biloxi.example", false, "zanzibar", cred, sizeof(cred)),
			 AUTH_OK);
	/* both algorithms offered: SHA-256 is the one answered, once */
	assert_non_null(strstr(cred, "algorithm=SHA-256"));
	assert_null(strstr(cred, "algorithm=MD5"));
	assert_int_equal(strncmp(cred, "Authorization: Digest ", 22), 0);
	assert_non_null(strstr(cred, "qop=auth, nc=00000001, cnonce=\""));
	assert_int_equal(round_trip("biloxi.example", false, "wrong", cred, sizeof(cred)),
			 AUTH_BAD);
	assert_int_equal(round_trip("biloxi.example", true, "zanzibar", cred, sizeof(cred)),
			 AUTH_OK);
	assert_int_equal(strncmp(cred, "Proxy-Authorization: Digest ", 28), 0);
	/* a realm that needs escaping is escaped again in the answer */
	assert_int_equal(round_trip("Bob's \"realm\" \\ x", false, "zanzibar", cred, sizeof(cred)),
			 AUTH_OK);
	assert_non_null(strstr(cred, "realm=\"Bob's \\\"realm\\\" \\\\ x\""));
}

static void hex_hash(bool sha, const char *s, char *out)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	assert_int_equal(EVP_Digest(s, strlen(s), md, &n, sha ? EVP_sha256() : EVP_md5(), NULL), 1);
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

/* The value of param name="..." (or name=token) in line, into out. */
static void param(const char *line, const char *name, char *out, size_t cap)
{
	char key[32];
	snprintf(key, sizeof(key), " %s=", name);
	const char *p = strstr(line, key);
	assert_non_null(p);
	p += strlen(key);
	bool q = *p == '"';
	p += q;
	size_t n = strcspn(p, q ? "\"" : ",\r");
	assert_true(n < cap);
	memcpy(out, p, n);
	out[n] = 0;
}

/* MD5 only, no qop: the RFC 2069 form H(HA1:nonce:HA2), opaque echoed. */
static void test_md5_without_qop(void **state)
{
	(void)state;
	char cred[1024], s[512], ha1[33], ha2[33], want[33], got[65];
	bool stale;
	struct doc *r = resp_new(401, "WWW-Authenticate: Digest realm=\"r\", nonce=\"n0\", "
				      "opaque=\"op\", algorithm=MD5\r\n");
	assert_true(auth_client_answer(&r->m, "INVITE", "sip:bob@r", "bob", "pw", 7, &stale, cred,
				       sizeof(cred)) > 0);
	hex_hash(false, "bob:r:pw", ha1);
	hex_hash(false, "INVITE:sip:bob@r", ha2);
	snprintf(s, sizeof(s), "%s:n0:%s", ha1, ha2);
	hex_hash(false, s, want);
	param(cred, "response", got, sizeof(got));
	assert_string_equal(got, want);
	param(cred, "opaque", got, sizeof(got));
	assert_string_equal(got, "op");
	assert_null(strstr(cred, "qop="));
	assert_null(strstr(cred, "cnonce="));
	free(r);
}

/* qop=auth with nc 7 and an MD5 challenge given without algorithm (MD5 by default). */
static void test_nc_and_default_alg(void **state)
{
	(void)state;
	char cred[1024], s[512], ha1[33], ha2[33], want[33], cn[64], got[65];
	bool stale;
	struct doc *r = resp_new(401, "WWW-Authenticate: Digest realm=\"r\", nonce=\"n1\", "
				      "qop=\"auth,auth-int\", stale=TRUE\r\n");
	assert_true(auth_client_answer(&r->m, "INVITE", "sip:bob@r", "bob", "pw", 7, &stale, cred,
				       sizeof(cred)) > 0);
	assert_true(stale);
	param(cred, "cnonce", cn, sizeof(cn));
	assert_int_equal(strlen(cn), 32);
	hex_hash(false, "bob:r:pw", ha1);
	hex_hash(false, "INVITE:sip:bob@r", ha2);
	snprintf(s, sizeof(s), "%s:n1:00000007:%s:auth:%s", ha1, cn, ha2);
	hex_hash(false, s, want);
	param(cred, "response", got, sizeof(got));
	assert_string_equal(got, want);
	assert_non_null(strstr(cred, "nc=00000007"));
	free(r);
}

/* Two realms (forked challenges merged by a proxy): one line each. */
static void test_two_realms(void **state)
{
	(void)state;
	char cred[2048];
	bool stale;
	struct doc *r = resp_new(407, "Proxy-Authenticate: Digest realm=\"a\", nonce=\"1\", "
				      "qop=\"auth\", algorithm=MD5\r\n"
				      "Proxy-Authenticate: Digest realm=\"b\", nonce=\"2\", "
				      "qop=\"auth\"\r\n"
				      "Proxy-Authenticate: Digest realm=\"a\", nonce=\"3\", "
				      "qop=\"auth\", algorithm=SHA-256\r\n");
	int n = auth_client_answer(&r->m, "INVITE", "sip:x@y", "bob", "pw", 1, &stale, cred,
				   sizeof(cred));
	assert_true(n > 0);
	assert_int_equal(strlen(cred), (size_t)n);
	char *second = strstr(cred, "\r\nProxy-Authorization: ");
	assert_non_null(second);
	assert_null(strstr(second + 2, "\r\nProxy-Authorization: "));
	assert_non_null(strstr(cred, "realm=\"a\", nonce=\"3\""));
	assert_non_null(strstr(cred, "realm=\"b\", nonce=\"2\""));
	assert_false(stale);
	free(r);
}

/* What cannot be answered: 0 or -1, never a guess. */
static void test_unanswerable(void **state)
{
	(void)state;
	char cred[1024];
	bool stale;
	static const char *const zero[] = {
	    "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"\r\n",
	    "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256\r\n",
	    "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", algorithm=MD5-sess\r\n",
	    "WWW-Authenticate: Basic realm=\"r\"\r\n",
	    "WWW-Authenticate: Digest realm=\"r\"\r\n",
	    "Proxy-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n", /* wrong header for 401 */
	    "",
	};
	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++) {
		struct doc *r = resp_new(401, zero[i]);
		assert_int_equal(auth_client_answer(&r->m, "INVITE", "sip:x@y", "bob", "pw", 1,
						    &stale, cred, sizeof(cred)),
				 0);
		free(r);
	}
	struct doc *r = resp_new(401, "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n");
	assert_int_equal(auth_client_answer(&r->m, "INVITE", "sip:x@y", "bo\r\nb", "pw", 1, &stale,
					    cred, sizeof(cred)),
			 -1);
	assert_int_equal(auth_client_answer(&r->m, "INVITE", "sip:x@\"y", "bob", "pw", 1, &stale,
					    cred, sizeof(cred)),
			 -1);
	int full = auth_client_answer(&r->m, "INVITE", "sip:x@y", "bob", "pw", 1, &stale, cred,
				      sizeof(cred));
	assert_true(full > 0);
	for (size_t cap = 1; cap <= (size_t)full; cap += 3)
		assert_int_equal(auth_client_answer(&r->m, "INVITE", "sip:x@y", "bob", "pw", 1,
						    &stale, cred, cap),
				 -1);
	free(r);
}

/* A challenge limited to some algorithms, and the check that an answer uses one of them. */
static void test_algs_offered_and_allowed(void **state)
{
	(void)state;
	struct auth *a;
	char ch[2048], cred[1024];
	bool stale;
	assert_int_equal(auth_alloc(&a, NULL, 60), 0);
	assert_true(auth_challenge_algs(a, "r", false, false, AUTH_ALG(AUTH_MD5), ch, sizeof(ch)) >
		    0);
	assert_non_null(strstr(ch, "algorithm=MD5"));
	assert_null(strstr(ch, "SHA-256"));
	assert_null(strstr(strstr(ch, "\r\n") + 2, "WWW-Authenticate")); /* one line */
	assert_true(auth_challenge_algs(a, "r", true, true, AUTH_ALG(AUTH_SHA256), ch, sizeof(ch)) >
		    0);
	assert_true(strncmp(ch, "Proxy-Authenticate: ", 20) == 0 && strstr(ch, "SHA-256") &&
		    strstr(ch, "stale=true") && !strstr(ch, "MD5"));
	assert_true(auth_challenge_algs(a, "r", false, false, 0, ch, sizeof(ch)) ==
		    auth_challenge(a, "r", false, false, cred, sizeof(cred)));

	assert_true(auth_challenge_algs(a, "r", false, false, AUTH_ALG(AUTH_MD5), ch, sizeof(ch)) >
		    0);
	struct doc *r = resp_new(401, ch);
	assert_true(auth_client_answer(&r->m, "REGISTER", RURI, "bob", "pw", 1, &stale, cred,
				       sizeof(cred)) > 0);
	struct doc *q = req_new(cred);
	assert_true(auth_alg_allowed(&q->m, "r", false, AUTH_ALG(AUTH_MD5)));
	assert_true(auth_alg_allowed(&q->m, "r", false, 0));
	assert_false(auth_alg_allowed(&q->m, "r", false, AUTH_ALG(AUTH_SHA256)));
	assert_false(auth_alg_allowed(&q->m, "other", false, AUTH_ALG(AUTH_MD5)));
	assert_false(auth_alg_allowed(&q->m, "r", true, AUTH_ALG(AUTH_MD5))); /* not Proxy- */
	free(q);
	free(r);
	auth_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_answers_our_challenge), cmocka_unit_test(test_md5_without_qop),
	    cmocka_unit_test(test_nc_and_default_alg),	  cmocka_unit_test(test_two_realms),
	    cmocka_unit_test(test_unanswerable),
	    cmocka_unit_test(test_algs_offered_and_allowed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
