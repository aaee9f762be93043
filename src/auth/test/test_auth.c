/*
 * test_auth.c - digest authentication (auth.h): RFC 7616 §3.9.1 vectors,
 * challenges, full rounds against a client written here with its own
 * hashing, stale nonces (injected clock), nonce-count replay, two nodes
 * sharing a secret, the bounded cache, and concurrent checks.
 */
#include <errno.h>
#include <pthread.h>
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

#define REALM "atlanta.example"
#define RURI "sip:atlanta.example"
#define T0 1700000000

static const uint8_t secret_a[AUTH_SECRET_LEN] = "0123456789abcdef0123456789abcdef";
static const uint8_t secret_b[AUTH_SECRET_LEN] = "fedcba9876543210fedcba9876543210";

/* ---- the test's own client: hashing done here, not by the library ---- */

static void hex_hash(enum auth_alg alg, const char *s, char *out)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	assert_int_equal(
	    EVP_Digest(s, strlen(s), md, &n, alg == AUTH_SHA256 ? EVP_sha256() : EVP_md5(), NULL),
	    1);
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

/* What the client puts into its credentials; NULL string fields are left out. */
struct client {
	const char *user, *password;
	const char *realm;     /* realm= and the realm hashed */
	const char *method;    /* hashed */
	const char *uri;       /* uri= and hashed */
	enum auth_alg alg;     /* the hash used */
	const char *alg_param; /* algorithm= */
	const char *qop;       /* qop= (also hashed; "auth" when NULL) */
	const char *nc;	       /* nc= and hashed */
	const char *cnonce;
	const char *nonce;
	const char *extra; /* appended raw, e.g. ", userhash=true" */
	bool upper;	   /* response in upper-case hex */
};

/* Authorization value for c into out. */
static void client_creds(const struct client *c, char *out, size_t cap)
{
	char s[1024], ha1[65], ha2[65], resp[65];
	snprintf(s, sizeof(s), "%s:%s:%s", c->user, c->realm, c->password);
	hex_hash(c->alg, s, ha1);
	snprintf(s, sizeof(s), "%s:%s", c->method, c->uri);
	hex_hash(c->alg, s, ha2);
	snprintf(s, sizeof(s), "%s:%s:%s:%s:%s:%s", ha1, c->nonce, c->nc,
		 c->cnonce ? c->cnonce : "", c->qop ? c->qop : "auth", ha2);
	hex_hash(c->alg, s, resp);
	for (char *p = resp; c->upper && *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 32);
	int n = snprintf(out, cap,
			 "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
			 "response=\"%s\"",
			 c->user, c->realm, c->nonce, c->uri, resp);
	if (c->alg_param)
		n += snprintf(out + n, cap - (size_t)n, ", algorithm=%s", c->alg_param);
	if (c->qop)
		n += snprintf(out + n, cap - (size_t)n, ", qop=%s", c->qop);
	if (c->nc)
		n += snprintf(out + n, cap - (size_t)n, ", nc=%s", c->nc);
	if (c->cnonce)
		n += snprintf(out + n, cap - (size_t)n, ", cnonce=\"%s\"", c->cnonce);
	if (c->extra)
		n += snprintf(out + n, cap - (size_t)n, "%s", c->extra);
	assert_true(n > 0 && (size_t)n < cap);
}

/* ---- requests ---- */

struct req {
	char text[4096];
	struct msg m;
};

/* A request with the given extra header lines (each ending in CRLF). */
static struct req *req_new(const char *method, const char *ruri, const char *hdrs)
{
	struct req *r = calloc(1, sizeof(*r));
	size_t used;
	assert_non_null(r);
	int n = snprintf(r->text, sizeof(r->text),
			 "%s %s SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx1\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <sip:alice@atlanta.example>;tag=1\r\n"
			 "To: <sip:alice@atlanta.example>\r\n"
			 "Call-ID: c1@127.0.0.1\r\n"
			 "CSeq: 2 %s\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n",
			 method, ruri, method, hdrs);
	assert_true(n > 0 && (size_t)n < sizeof(r->text));
	assert_int_equal(msg_parse(&r->m, r->text, (size_t)n, MSG_PARSE_DGRAM, &used), 0);
	return r;
}

/* A request carrying one header name: value. */
static struct req *req_with(const char *method, const char *ruri, const char *name,
			    const char *value)
{
	char h[2048];
	assert_true(snprintf(h, sizeof(h), "%s: %s\r\n", name, value) < (int)sizeof(h));
	return req_new(method, ruri, h);
}

/* ---- challenges ---- */

/* Line i (0-based) of a challenge block: header name and parsed value. */
static void challenge_line(const char *text, int i, char *name, size_t namecap, struct msg_auth *a)
{
	const char *p = text;
	for (; i > 0; i--) {
		p = strstr(p, "\r\n");
		assert_non_null(p);
		p += 2;
	}
	const char *colon = strchr(p, ':');
	const char *eol = strstr(p, "\r\n");
	assert_non_null(colon);
	assert_non_null(eol);
	assert_true(colon < eol && (size_t)(colon - p) < namecap);
	memcpy(name, p, (size_t)(colon - p));
	name[colon - p] = 0;
	const char *v = colon + 1;
	while (*v == ' ')
		v++;
	struct span s = {(uint32_t)(v - text), (uint32_t)(eol - v)};
	assert_int_equal(msg_auth_parse(text, s, a), 0);
}

/* The nonce of a fresh challenge for realm. */
static void fresh_nonce(struct auth *a, const char *realm, char nonce[AUTH_NONCE_HEX + 1])
{
	char ch[1024], name[64];
	struct msg_auth pa;
	assert_true(auth_challenge(a, realm, false, false, ch, sizeof(ch)) > 0);
	challenge_line(ch, 0, name, sizeof(name), &pa);
	assert_int_equal(pa.nonce.len, AUTH_NONCE_HEX);
	memcpy(nonce, ch + pa.nonce.off, AUTH_NONCE_HEX);
	nonce[AUTH_NONCE_HEX] = 0;
}

static int64_t test_clock(void *arg)
{
	return *(int64_t *)arg;
}

struct fix {
	struct auth *a;
	int64_t now;
	char md5[33], sha[65]; /* HA1 of alice / "secret" in REALM */
};

static int fix_setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(auth_alloc(&f->a, secret_a, 300), 0);
	f->now = T0;
	auth_set_clock(f->a, test_clock, &f->now);
	auth_ha1(AUTH_MD5, "alice", REALM, "secret", f->md5);
	auth_ha1(AUTH_SHA256, "alice", REALM, "secret", f->sha);
	*state = f;
	return 0;
}

static int fix_teardown(void **state)
{
	struct fix *f = *state;
	auth_free(f->a);
	free(f);
	return 0;
}

/* A client that answers right for alice/secret with nonce n. */
static struct client good_client(const char *nonce, enum auth_alg alg)
{
	struct client c = {
	    .user = "alice",
	    .password = "secret",
	    .realm = REALM,
	    .method = "REGISTER",
	    .uri = RURI,
	    .alg = alg,
	    .alg_param = alg == AUTH_SHA256 ? "SHA-256" : "MD5",
	    .qop = "auth",
	    .nc = "00000001",
	    .cnonce = "0a4f113b",
	    .nonce = nonce,
	};
	return c;
}

/* Check one request with credentials from c against alice's stored HA1s. */
static enum auth_result check_client(struct fix *f, const struct client *c, const char *hdr,
				     bool proxy)
{
	char v[2048];
	client_creds(c, v, sizeof(v));
	struct req *r = req_with(c->method, RURI, hdr, v);
	enum auth_result res = auth_check(f->a, &r->m, REALM, proxy, f->md5, f->sha);
	free(r);
	return res;
}

/* ---- tests ---- */

/* RFC 7616 §3.9.1: Mufasa / "Circle of Life", GET /dir/index.html. */
static void test_rfc7616_vectors(void **state)
{
	static const struct {
		enum auth_alg alg;
		const char *response;
	} v[] = {
	    {AUTH_MD5, "8ca523f5e9506fed4657c9700eebdbec"},
	    {AUTH_SHA256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	};
	const char *nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
	const char *cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		char ha1[65], out[65];
		auth_ha1(v[i].alg, "Mufasa", "http-auth@example.org", "Circle of Life", ha1);
		assert_int_equal(strlen(ha1), v[i].alg == AUTH_MD5 ? 32 : 64);
		struct auth_resp in = {
		    {ha1, strlen(ha1)},
		    {nonce, strlen(nonce)},
		    {"00000001", 8},
		    {cnonce, strlen(cnonce)},
		    {"auth", 4},
		    {"GET", 3},
		    {"/dir/index.html", 15},
		};
		auth_response(v[i].alg, &in, out);
		assert_string_equal(out, v[i].response);
		/* the test's own client agrees, so the rounds below test the library */
		char hdr[1024];
		struct client c = {"Mufasa",
				   "Circle of Life",
				   "http-auth@example.org",
				   "GET",
				   "/dir/index.html",
				   v[i].alg,
				   NULL,
				   "auth",
				   "00000001",
				   cnonce,
				   nonce,
				   NULL,
				   false};
		client_creds(&c, hdr, sizeof(hdr));
		assert_non_null(strstr(hdr, v[i].response));
	}
}

/* Challenges parse back with msg_auth_parse, SHA-256 first, right header name, stale. */
static void test_challenge(void **state)
{
	struct fix *f = *state;
	static const struct {
		bool proxy, stale;
		const char *name;
	} cases[] = {
	    {false, false, "WWW-Authenticate"},
	    {true, false, "Proxy-Authenticate"},
	    {false, true, "WWW-Authenticate"},
	    {true, true, "Proxy-Authenticate"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char out[1024], name[64];
		int n =
		    auth_challenge(f->a, REALM, cases[i].proxy, cases[i].stale, out, sizeof(out));
		assert_true(n > 0);
		assert_int_equal((size_t)n, strlen(out));
		assert_memory_equal(out + n - 2, "\r\n", 2);
		static const char *const algs[] = {"SHA-256", "MD5"};
		struct msg_auth pa[2];
		for (int k = 0; k < 2; k++) {
			challenge_line(out, k, name, sizeof(name), &pa[k]);
			assert_string_equal(name, cases[i].name);
			assert_true(span_ieq(out, pa[k].scheme, "Digest"));
			assert_true(span_eq(out, pa[k].realm, REALM));
			assert_true(span_eq(out, pa[k].algorithm, algs[k]));
			assert_true(span_eq(out, pa[k].qop, "auth"));
			assert_int_equal(pa[k].nonce.len, AUTH_NONCE_HEX);
			assert_int_equal(span_eq(out, pa[k].stale, "true"), cases[i].stale);
			assert_int_equal(span_empty(pa[k].stale), !cases[i].stale);
		}
		/* exactly two lines */
		assert_null(strstr(strstr(strstr(out, "\r\n") + 2, "\r\n") + 2, "\r\n"));
	}
	/* every challenge has a nonce of its own */
	char n1[AUTH_NONCE_HEX + 1], n2[AUTH_NONCE_HEX + 1];
	fresh_nonce(f->a, REALM, n1);
	fresh_nonce(f->a, REALM, n2);
	assert_string_not_equal(n1, n2);
}

/* Output capacity: -1 when too small (nothing promised in out), exact fit works. */
static void test_challenge_cap(void **state)
{
	struct fix *f = *state;
	char out[1024];
	int n = auth_challenge(f->a, REALM, false, false, out, sizeof(out));
	assert_true(n > 0);
	const size_t caps[] = {0, 1, 10, (size_t)n / 2, (size_t)n};
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++)
		assert_int_equal(auth_challenge(f->a, REALM, false, false, out, caps[i]), -1);
	assert_int_equal(auth_challenge(f->a, REALM, false, false, out, (size_t)n + 1), n);
	/* realms that cannot be quoted safely, or are too long */
	char big[AUTH_REALM_MAX + 2];
	memset(big, 'r', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	const char *bad[] = {"a\r\nX-Injected: 1", "tab\there", "del\x7f", big};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(auth_challenge(f->a, bad[i], false, false, out, sizeof(out)), -1);
}

/* A realm with a quote and a backslash is escaped and still verifies. */
static void test_realm_escaping(void **state)
{
	struct fix *f = *state;
	const char *realm = "Bob's \"realm\" \\ x";
	char out[1024], name[64], got[64], nonce[AUTH_NONCE_HEX + 1];
	struct msg_auth pa;
	assert_true(auth_challenge(f->a, realm, false, false, out, sizeof(out)) > 0);
	challenge_line(out, 0, name, sizeof(name), &pa);
	int n = msg_qstr_copy(out, pa.realm, got, sizeof(got));
	assert_int_equal(n, (int)strlen(realm));
	assert_memory_equal(got, realm, (size_t)n);
	memcpy(nonce, out + pa.nonce.off, AUTH_NONCE_HEX);
	nonce[AUTH_NONCE_HEX] = 0;

	char ha1[65], v[2048], s[512], ha2[65], resp[65];
	auth_ha1(AUTH_SHA256, "bob", realm, "pw", ha1);
	snprintf(s, sizeof(s), "REGISTER:%s", RURI);
	hex_hash(AUTH_SHA256, s, ha2);
	snprintf(s, sizeof(s), "%s:%s:00000001:c:auth:%s", ha1, nonce, ha2);
	hex_hash(AUTH_SHA256, s, resp);
	snprintf(v, sizeof(v),
		 "Digest username=\"bob\", realm=\"Bob's \\\"realm\\\" \\\\ x\", nonce=\"%s\", "
		 "uri=\"%s\", response=\"%s\", algorithm=SHA-256, qop=auth, nc=00000001, "
		 "cnonce=\"c\"",
		 nonce, RURI, resp);
	struct req *r = req_with("REGISTER", RURI, "Authorization", v);
	assert_int_equal(auth_check(f->a, &r->m, realm, false, NULL, ha1), AUTH_OK);
	free(r);
}

/* One round; zero fields mean "as a good client would" (alice/secret, SHA-256). */
struct round_case {
	const char *name;
	enum auth_alg alg;	 /* the hash the client uses (0: SHA-256) */
	const char *alg_param;	 /* NULL: named after alg; "": left out */
	const char *password;	 /* NULL: "secret" */
	bool unknown;		 /* the user is not stored (NULL HA1s) */
	bool proxy;		 /* auth_check(proxy) */
	bool proxy_hdr;		 /* the client sends Proxy-Authorization */
	const char *cred_realm;	 /* NULL: REALM */
	const char *nonce_realm; /* realm the nonce was made for; NULL: REALM */
	const char *uri;	 /* NULL: RURI */
	const char *qop;	 /* NULL: "auth"; "": left out */
	const char *nc;		 /* NULL: "00000001" */
	const char *cnonce;	 /* NULL: "0a4f113b"; "": left out */
	const char *extra;
	bool tamper_nonce, upper;
	enum auth_result want;
};

static const struct round_case rounds[] = {
    {"sha256 ok", .want = AUTH_OK},
    {"md5 ok", .alg = AUTH_MD5, .want = AUTH_OK},
    {"algorithm absent means MD5", .alg = AUTH_MD5, .alg_param = "", .want = AUTH_OK},
    {"algorithm absent, SHA-256 response", .alg_param = "", .want = AUTH_BAD},
    {"algorithm in other case", .alg_param = "sha-256", .want = AUTH_OK},
    {"upper-case response hex", .upper = true, .want = AUTH_OK},
    {"sha256 wrong password", .password = "Secret", .want = AUTH_BAD},
    {"md5 wrong password", .alg = AUTH_MD5, .password = "secre", .want = AUTH_BAD},
    {"unknown user, sha256", .unknown = true, .want = AUTH_BAD},
    {"unknown user, md5", .alg = AUTH_MD5, .unknown = true, .want = AUTH_BAD},
    {"credentials for another realm", .cred_realm = "biloxi.example", .want = AUTH_NONE},
    {"nonce made for another realm", .nonce_realm = "biloxi.example", .want = AUTH_BAD},
    {"proxy check, Proxy-Authorization", .proxy = true, .proxy_hdr = true, .want = AUTH_OK},
    {"proxy check, only Authorization", .proxy = true, .want = AUTH_NONE},
    {"registrar check, only Proxy-Authorization", .proxy_hdr = true, .want = AUTH_NONE},
    {"digest uri names another resource", .uri = "sip:biloxi.example", .want = AUTH_BAD},
    {"digest uri with a user part", .uri = "sip:alice@atlanta.example", .want = AUTH_BAD},
    {"digest uri equal as a URI (host case)", .uri = "sip:ATLANTA.example", .want = AUTH_OK},
    {"digest uri not a URI", .uri = "/dir/index.html", .want = AUTH_BAD},
    {"qop absent (RFC 2069 form)", .qop = "", .want = AUTH_BAD},
    {"qop auth-int", .qop = "auth-int", .want = AUTH_BAD},
    {"nc not hex", .nc = "0000000g", .want = AUTH_BAD},
    {"nc too short", .nc = "0000001", .want = AUTH_BAD},
    {"nc zero", .nc = "00000000", .want = AUTH_BAD},
    {"cnonce absent", .cnonce = "", .want = AUTH_BAD},
    {"algorithm MD5-sess", .alg = AUTH_MD5, .alg_param = "MD5-sess", .want = AUTH_BAD},
    {"algorithm says MD5, SHA-256 response", .alg_param = "MD5", .want = AUTH_BAD},
    {"userhash=true", .extra = ", userhash=true", .want = AUTH_BAD},
    {"userhash=false", .extra = ", userhash=false", .want = AUTH_OK},
    {"tampered nonce", .tamper_nonce = true, .want = AUTH_BAD},
};

/* s, or def when s is NULL, or NULL (left out) when s is "". */
static const char *pick(const char *s, const char *def)
{
	return s == NULL ? def : *s ? s : NULL;
}

static void test_rounds(void **state)
{
	struct fix *f = *state;
	for (size_t i = 0; i < ARRAY_SIZE(rounds); i++) {
		const struct round_case *t = &rounds[i];
		char nonce[AUTH_NONCE_HEX + 1], v[2048];
		fresh_nonce(f->a, t->nonce_realm ? t->nonce_realm : REALM, nonce);
		if (t->tamper_nonce)
			nonce[20] = nonce[20] == '0' ? '1' : '0';
		struct client c = good_client(nonce, t->alg ? t->alg : AUTH_SHA256);
		c.alg_param = pick(t->alg_param, c.alg_param);
		c.password = pick(t->password, "secret");
		c.realm = pick(t->cred_realm, REALM);
		c.uri = pick(t->uri, RURI);
		c.qop = pick(t->qop, "auth");
		c.nc = pick(t->nc, "00000001");
		c.cnonce = pick(t->cnonce, "0a4f113b");
		c.extra = t->extra;
		c.upper = t->upper;
		client_creds(&c, v, sizeof(v));
		struct req *r = req_with("REGISTER", RURI,
					 t->proxy_hdr ? "Proxy-Authorization" : "Authorization", v);
		enum auth_result got =
		    auth_check(f->a, &r->m, REALM, t->proxy, t->unknown ? NULL : f->md5,
			       t->unknown ? NULL : f->sha);
		if (got != t->want)
			print_error("case \"%s\": got %d, want %d\n", t->name, got, t->want);
		assert_int_equal(got, t->want);
		free(r);
	}
}

/* Which credentials are picked, and what auth_credentials reports. */
static void test_credentials(void **state)
{
	struct fix *f = *state;
	static const struct {
		const char *hdrs; /* %1$s: ours, %2$s: another realm's */
		bool proxy;
		enum auth_result want; /* of auth_credentials and of auth_check */
		const char *user;
	} cases[] = {
	    {"", false, AUTH_NONE, NULL},
	    {"Authorization: Basic YWxpY2U6c2VjcmV0\r\n", false, AUTH_NONE, NULL},
	    {"Authorization: Digest realm=\"atlanta.example\", ,\r\n", false, AUTH_BAD, NULL},
	    {"Authorization: %2$s\r\nAuthorization: %1$s\r\n", false, AUTH_OK, "alice"},
	    {"Authorization: %1$s\r\nAuthorization: %2$s\r\n", false, AUTH_OK, "alice"},
	    {"Authorization: %2$s\r\n", false, AUTH_NONE, NULL},
	    {"Authorization: %2$s\r\nProxy-Authorization: %1$s\r\n", true, AUTH_OK, "alice"},
	    {"Authorization: %1$s\r\nProxy-Authorization: %2$s\r\n", true, AUTH_NONE, NULL},
	    {"Proxy-Authorization: %1$s\r\n", false, AUTH_NONE, NULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char nonce[AUTH_NONCE_HEX + 1], mine[2048], other[2048], hdrs[4500];
		fresh_nonce(f->a, REALM, nonce); /* a nonce per case: no replay between cases */
		struct client c = good_client(nonce, AUTH_SHA256);
		client_creds(&c, mine, sizeof(mine));
		c.realm = "biloxi.example";
		c.user = "someone";
		client_creds(&c, other, sizeof(other));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(hdrs, sizeof(hdrs), cases[i].hdrs, mine, other);
#pragma GCC diagnostic pop
		struct req *r = req_new("REGISTER", RURI, hdrs);
		char user[64] = "";
		assert_int_equal(auth_credentials(&r->m, REALM, cases[i].proxy, user, sizeof(user)),
				 cases[i].want);
		if (cases[i].user)
			assert_string_equal(user, cases[i].user);
		assert_int_equal(auth_check(f->a, &r->m, REALM, cases[i].proxy, f->md5, f->sha),
				 cases[i].want);
		free(r);
	}
}

/* Usernames: quoted-pairs resolved, the capacity respected, control bytes refused. */
static void test_username(void **state)
{
	(void)state;
	static const struct {
		const char *value;
		size_t cap;
		enum auth_result want;
		const char *user;
	} cases[] = {
	    {"Digest username=\"alice\", realm=\"" REALM "\", nonce=\"n\"", 64, AUTH_OK, "alice"},
	    {"Digest username=\"a\\\"b\", realm=\"" REALM "\"", 64, AUTH_OK, "a\"b"},
	    {"Digest username=\"alice\", realm=\"" REALM "\"", 6, AUTH_OK, "alice"},
	    {"Digest username=\"alice\", realm=\"" REALM "\"", 5, AUTH_BAD, NULL},
	    {"Digest username=\"alice\", realm=\"" REALM "\"", 0, AUTH_BAD, NULL},
	    {"Digest username=\"\", realm=\"" REALM "\"", 64, AUTH_BAD, NULL},
	    {"Digest realm=\"" REALM "\", nonce=\"n\"", 64, AUTH_BAD, NULL},
	    {"Digest username=\"a\\\tb\", realm=\"" REALM "\"", 64, AUTH_BAD, NULL},
	    {"Digest username=\"alice\", realm=\"ATLANTA.example\"", 64, AUTH_NONE, NULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct req *r =
		    req_with("INVITE", "sip:bob@biloxi.example", "Authorization", cases[i].value);
		char user[64];
		assert_int_equal(auth_credentials(&r->m, REALM, false, user, cases[i].cap),
				 cases[i].want);
		if (cases[i].user)
			assert_string_equal(user, cases[i].user);
		free(r);
	}
}

/* Expired nonces: right response gives AUTH_STALE, wrong one AUTH_BAD (injected clock). */
static void test_stale(void **state)
{
	struct fix *f = *state;
	static const struct {
		int64_t made, used; /* offsets from T0 */
		const char *password;
		enum auth_result want;
	} cases[] = {
	    {0, 0, "secret", AUTH_OK},
	    {0, 300, "secret", AUTH_OK}, /* ttl 300: the last valid second */
	    {0, 301, "secret", AUTH_STALE},
	    {0, 301, "wrong", AUTH_BAD},
	    {0, 86400, "secret", AUTH_STALE},
	    {AUTH_SKEW, 0, "secret", AUTH_OK},	      /* from a node slightly ahead */
	    {AUTH_SKEW + 1, 0, "secret", AUTH_STALE}, /* too far ahead */
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char nonce[AUTH_NONCE_HEX + 1];
		f->now = T0 + cases[i].made;
		fresh_nonce(f->a, REALM, nonce);
		f->now = T0 + cases[i].used;
		struct client c = good_client(nonce, AUTH_SHA256);
		c.password = cases[i].password;
		assert_int_equal(check_client(f, &c, "Authorization", false), cases[i].want);
	}
}

/* nc must strictly increase per nonce; failed checks do not move it. */
static void test_replay(void **state)
{
	struct fix *f = *state;
	static const struct {
		const char *nc;
		const char *password;
		enum auth_result want;
	} steps[] = {
	    {"00000001", "secret", AUTH_OK},	 {"00000001", "secret", AUTH_REPLAY},
	    {"00000002", "secret", AUTH_OK},	 {"00000001", "secret", AUTH_REPLAY},
	    {"00000100", "wrong", AUTH_BAD},	 {"00000003", "secret", AUTH_OK},
	    {"00000009", "secret", AUTH_OK},	 {"00000005", "secret", AUTH_REPLAY},
	    {"00000009", "secret", AUTH_REPLAY}, {"0000000A", "secret", AUTH_OK},
	    {"ffffffff", "secret", AUTH_OK},	 {"ffffffff", "secret", AUTH_REPLAY},
	};
	char nonce[AUTH_NONCE_HEX + 1], other[AUTH_NONCE_HEX + 1];
	fresh_nonce(f->a, REALM, nonce);
	fresh_nonce(f->a, REALM, other);
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		struct client c = good_client(nonce, i % 2 ? AUTH_MD5 : AUTH_SHA256);
		c.nc = steps[i].nc;
		c.password = steps[i].password;
		enum auth_result got = check_client(f, &c, "Authorization", false);
		if (got != steps[i].want)
			print_error("step %zu nc %s\n", i, steps[i].nc);
		assert_int_equal(got, steps[i].want);
	}
	/* another nonce has counts of its own */
	struct client c = good_client(other, AUTH_SHA256);
	assert_int_equal(check_client(f, &c, "Authorization", false), AUTH_OK);
	/* a stale nonce is reported stale, not as a replay */
	f->now += 1000;
	c = good_client(nonce, AUTH_SHA256);
	c.nc = "00000001";
	assert_int_equal(check_client(f, &c, "Authorization", false), AUTH_STALE);
}

/* Two nodes with one secret verify each other's nonces; another secret does not. */
static void test_two_nodes(void **state)
{
	struct fix *f = *state;
	struct auth *same, *diff, *rnd;
	assert_int_equal(auth_alloc(&same, secret_a, 300), 0);
	assert_int_equal(auth_alloc(&diff, secret_b, 300), 0);
	assert_int_equal(auth_alloc(&rnd, NULL, 300), 0);
	auth_set_clock(same, test_clock, &f->now);
	auth_set_clock(diff, test_clock, &f->now);
	auth_set_clock(rnd, test_clock, &f->now);
	static const struct {
		int node; /* 0 same secret, 1 other secret, 2 random secret */
		const char *nc;
		enum auth_result want;
	} cases[] = {
	    {0, "00000001", AUTH_OK}, /* first sight on node 2: accepted */
	    {0, "00000001", AUTH_REPLAY}, {1, "00000002", AUTH_BAD},
	    {2, "00000002", AUTH_BAD},	  {0, "00000002", AUTH_OK},
	};
	char nonce[AUTH_NONCE_HEX + 1];
	fresh_nonce(f->a, REALM, nonce); /* made by node 1 (the fixture) */
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct auth *n = cases[i].node == 0 ? same : cases[i].node == 1 ? diff : rnd;
		struct client c = good_client(nonce, AUTH_SHA256);
		c.nc = cases[i].nc;
		char v[2048];
		client_creds(&c, v, sizeof(v));
		struct req *r = req_with("REGISTER", RURI, "Authorization", v);
		assert_int_equal(auth_check(n, &r->m, REALM, false, f->md5, f->sha), cases[i].want);
		free(r);
	}
	/* node 1 never saw nc 1 or 2 itself: it keeps its own count */
	struct client c = good_client(nonce, AUTH_SHA256);
	c.nc = "00000001";
	assert_int_equal(check_client(f, &c, "Authorization", false), AUTH_OK);
	auth_free(same);
	auth_free(diff);
	auth_free(rnd);
}

/* The cache is bounded: many nonces fit in a small cache; recent ones still replay. */
static void test_cache_bounded(void **state)
{
	struct fix *f = *state;
	struct auth *a;
	assert_int_equal(auth_alloc_cache(&a, secret_a, 300, 8), 0);
	auth_set_clock(a, test_clock, &f->now);
	assert_int_equal(a->nsets * AUTH_NC_WAYS, 8);
	char nonces[64][AUTH_NONCE_HEX + 1];
	for (int i = 0; i < 64; i++) {
		fresh_nonce(a, REALM, nonces[i]);
		f->now++; /* each nonce a second younger: eviction order is defined */
	}
	for (int i = 0; i < 64; i++) {
		struct client c = good_client(nonces[i], AUTH_MD5);
		char v[2048];
		client_creds(&c, v, sizeof(v));
		struct req *r = req_with("REGISTER", RURI, "Authorization", v);
		assert_int_equal(auth_check(a, &r->m, REALM, false, f->md5, f->sha), AUTH_OK);
		/* the nonce just used is remembered whatever was evicted */
		assert_int_equal(auth_check(a, &r->m, REALM, false, f->md5, f->sha), AUTH_REPLAY);
		free(r);
	}
	unsigned used = 0;
	for (unsigned i = 0; i < a->nsets * AUTH_NC_WAYS; i++)
		used += a->nc[i].ts != 0;
	assert_int_equal(used, 8);
	auth_free(a);
}

#define RACE_THREADS 4
#define RACE_ROUNDS 200

struct race {
	struct auth *a;
	struct req **rq; /* one request per round, each with a nonce of its own */
	const char *md5, *sha;
	pthread_barrier_t *bar;
	enum auth_result got[RACE_ROUNDS];
};

static void *race_main(void *arg)
{
	struct race *r = arg;
	for (int i = 0; i < RACE_ROUNDS; i++) {
		pthread_barrier_wait(r->bar); /* all threads check round i's request at once */
		r->got[i] = auth_check(r->a, &r->rq[i]->m, REALM, false, r->md5, r->sha);
	}
	return NULL;
}

/* Threads replaying one request at the same moment: exactly one AUTH_OK per request. */
static void test_threads(void **state)
{
	struct fix *f = *state;
	struct req *rq[RACE_ROUNDS];
	for (int i = 0; i < RACE_ROUNDS; i++) {
		char nonce[AUTH_NONCE_HEX + 1], v[2048];
		fresh_nonce(f->a, REALM, nonce);
		struct client c = good_client(nonce, AUTH_SHA256);
		client_creds(&c, v, sizeof(v));
		rq[i] = req_with("REGISTER", RURI, "Authorization", v);
	}
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, RACE_THREADS);
	struct race r[RACE_THREADS];
	pthread_t th[RACE_THREADS];
	for (int i = 0; i < RACE_THREADS; i++) {
		r[i] =
		    (struct race){.a = f->a, .rq = rq, .md5 = f->md5, .sha = f->sha, .bar = &bar};
		assert_int_equal(pthread_create(&th[i], NULL, race_main, &r[i]), 0);
	}
	for (int i = 0; i < RACE_THREADS; i++)
		pthread_join(th[i], NULL);
	for (int k = 0; k < RACE_ROUNDS; k++) {
		int ok = 0, replay = 0;
		for (int i = 0; i < RACE_THREADS; i++) {
			ok += r[i].got[k] == AUTH_OK;
			replay += r[i].got[k] == AUTH_REPLAY;
		}
		if (ok != 1)
			print_error("round %d: %d threads accepted one nonce-count\n", k, ok);
		assert_int_equal(ok, 1);
		assert_int_equal(replay, RACE_THREADS - 1);
	}
	pthread_barrier_destroy(&bar);
	for (int i = 0; i < RACE_ROUNDS; i++)
		free(rq[i]);
}

/* Only requests are checked; the method is part of the digest. */
static void test_method_and_response(void **state)
{
	struct fix *f = *state;
	char nonce[AUTH_NONCE_HEX + 1], v[2048];
	fresh_nonce(f->a, REALM, nonce);
	struct client c = good_client(nonce, AUTH_SHA256);
	c.method = "INVITE"; /* hashed as INVITE, sent as REGISTER */
	client_creds(&c, v, sizeof(v));
	struct req *r = req_with("REGISTER", RURI, "Authorization", v);
	assert_int_equal(auth_check(f->a, &r->m, REALM, false, f->md5, f->sha), AUTH_BAD);
	free(r);

	char resp[3072];
	snprintf(resp, sizeof(resp),
		 "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx\r\n"
		 "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\n"
		 "Authorization: %s\r\nContent-Length: 0\r\n\r\n",
		 v);
	struct msg *m = calloc(1, sizeof(*m));
	size_t used;
	assert_non_null(m);
	assert_int_equal(msg_parse(m, resp, strlen(resp), MSG_PARSE_DGRAM, &used), 0);
	assert_int_equal(auth_check(f->a, m, REALM, false, f->md5, f->sha), AUTH_BAD);
	free(m);
}

/* HA1s stored in upper case or malformed: the former works, the latter is unknown. */
static void test_stored_ha1(void **state)
{
	struct fix *f = *state;
	char up[65], shortha[64];
	strcpy(up, f->sha);
	for (char *p = up; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 32);
	memcpy(shortha, f->sha, 63);
	shortha[63] = 0;
	const struct {
		const char *sha;
		enum auth_result want;
	} cases[] = {{up, AUTH_OK}, {shortha, AUTH_BAD}, {"", AUTH_BAD}, {f->md5, AUTH_BAD}};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char nonce[AUTH_NONCE_HEX + 1], v[2048];
		fresh_nonce(f->a, REALM, nonce);
		struct client c = good_client(nonce, AUTH_SHA256);
		client_creds(&c, v, sizeof(v));
		struct req *r = req_with("REGISTER", RURI, "Authorization", v);
		assert_int_equal(auth_check(f->a, &r->m, REALM, false, f->md5, cases[i].sha),
				 cases[i].want);
		free(r);
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fix_setup, fix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc7616_vectors),
	    T(test_challenge),
	    T(test_challenge_cap),
	    T(test_realm_escaping),
	    T(test_rounds),
	    T(test_credentials),
	    cmocka_unit_test(test_username),
	    T(test_stale),
	    T(test_replay),
	    T(test_two_nodes),
	    T(test_cache_bounded),
	    T(test_threads),
	    T(test_method_and_response),
	    T(test_stored_ha1),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
