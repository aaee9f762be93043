/*
 * auth.c - digest challenges and their verification for SIP (RFC 3261 §22,
 * RFC 7616, RFC 8760).
 *
 * What is accepted (everything else is AUTH_BAD, which the caller answers
 * with a new challenge):
 *   - scheme Digest, credentials whose realm equals ours byte for byte;
 *   - algorithm MD5 (also when absent, RFC 7616 §3.4) or SHA-256, no -sess
 *     variants (never offered), no userhash (never offered, §3.4.4);
 *   - qop=auth only.  qop is mandatory in RFC 7616 (§3.4), so the RFC 2069
 *     form without qop, nc and cnonce is refused: without nc there is no
 *     replay protection;
 *   - the digest-uri compared with the Request-URI as URIs (RFC 3261
 *     §19.1.4, via msg_uri_equal), after a byte-exact fast path: a client
 *     that re-prints the URI with other case or escaping still matches, one
 *     that names another resource does not (RFC 7616 §3.4.6);
 *   - a nonce of ours (auth_nonce.c) whose MAC checks; the response compared
 *     in constant time (CRYPTO_memcmp); then its age (stale), then its
 *     nonce-count (replay).  The count is recorded only after the response
 *     proved right, so forged requests cannot push it up.
 * An unknown user (NULL HA1) runs the same steps against a dummy HA1.
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth/auth_int.h"
#include "ringlet/msg_hdr.h"
#include "ringlet/msg_uri.h"

#define CNONCE_MAX 256 /* longer cnonces are refused */
#define DURI_MAX 2048  /* longer digest-uris are refused */
#define USER_MAX 256   /* longer usernames are refused */

static const char hexdig[] = "0123456789abcdef";

static size_t hexlen(enum auth_alg alg)
{
	return alg == AUTH_SHA256 ? 64 : 32;
}

void auth_hash_hex(enum auth_alg alg, const struct auth_part *parts, unsigned n, char *out)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	bool ok = c != NULL &&
		  EVP_DigestInit_ex(c, alg == AUTH_SHA256 ? EVP_sha256() : EVP_md5(), NULL) == 1;
	for (unsigned i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(c, parts[i].p, parts[i].len) == 1;
	ok = ok && EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen * 2 == hexlen(alg);
	EVP_MD_CTX_free(c);
	if (!ok) {
		out[0] = 0; /* matches no response */
		return;
	}
	for (unsigned i = 0; i < mdlen; i++) {
		out[2 * i] = hexdig[md[i] >> 4];
		out[2 * i + 1] = hexdig[md[i] & 15];
	}
	out[2 * mdlen] = 0;
}

static const struct auth_part colon = {":", 1};

static struct auth_part part(const char *s)
{
	return (struct auth_part){s, strlen(s)};
}

void auth_ha1(enum auth_alg alg, const char *user, const char *realm, const char *password,
	      char *out)
{
	const struct auth_part p[] = {part(user), colon, part(realm), colon, part(password)};
	auth_hash_hex(alg, p, 5, out);
}

void auth_response(enum auth_alg alg, const struct auth_resp *r, char *out)
{
	char ha2[65];
	const struct auth_part a2[] = {r->method, colon, r->uri};
	auth_hash_hex(alg, a2, 3, ha2);
	/* KD(HA1, nonce ":" nc ":" cnonce ":" qop ":" HA2), RFC 7616 §3.4.1 */
	const struct auth_part kd[] = {
	    r->ha1,    colon, r->nonce, colon, r->nc,	  colon,
	    r->cnonce, colon, r->qop,	colon, part(ha2),
	};
	auth_hash_hex(alg, kd, 11, out);
}

/* Append s[0..n) to out if it fits (then *len grows), else mark overflow. */
static void put(char *out, size_t cap, size_t *len, bool *over, const char *s, size_t n)
{
	if (*over || n >= cap - *len) {
		*over = true;
		return;
	}
	memcpy(out + *len, s, n);
	*len += n;
}

/* The realm as a quoted-string body: '"' and '\' escaped; control bytes refused. */
static bool put_realm(char *out, size_t cap, size_t *len, bool *over, const char *realm)
{
	for (const char *p = realm; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c == '"' || c == '\\')
			put(out, cap, len, over, "\\", 1);
		put(out, cap, len, over, p, 1);
	}
	return true;
}

int auth_challenge(struct auth *a, const char *realm, bool proxy, bool stale, char *out, size_t cap)
{
	return auth_challenge_algs(a, realm, proxy, stale, 0, out, cap);
}

int auth_challenge_algs(struct auth *a, const char *realm, bool proxy, bool stale, unsigned want,
			char *out, size_t cap)
{
	/* RFC 8760 §2.4: strongest first */
	static const char *const algs[] = {"SHA-256", "MD5"};
	static const enum auth_alg ids[] = {AUTH_SHA256, AUTH_MD5};
	const char *name = proxy ? "Proxy-Authenticate" : "WWW-Authenticate";
	char nonce[AUTH_NONCE_HEX + 1];
	size_t len = 0;
	bool over = false;

	if (cap == 0 || auth_nonce_make(a, realm, strlen(realm), auth_now(a), nonce) != 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(algs); i++) {
		if (want && !(want & AUTH_ALG(ids[i])))
			continue;
		put(out, cap, &len, &over, name, strlen(name));
		put(out, cap, &len, &over, ": Digest realm=\"", 16);
		if (!put_realm(out, cap, &len, &over, realm))
			return -1;
		put(out, cap, &len, &over, "\", nonce=\"", 10);
		put(out, cap, &len, &over, nonce, AUTH_NONCE_HEX);
		put(out, cap, &len, &over, "\", algorithm=", 13);
		put(out, cap, &len, &over, algs[i], strlen(algs[i]));
		put(out, cap, &len, &over, ", qop=\"auth\"", 12);
		if (stale)
			put(out, cap, &len, &over, ", stale=true", 12);
		put(out, cap, &len, &over, "\r\n", 2);
	}
	if (over)
		return -1;
	out[len] = 0;
	return (int)len;
}

/*
 * The Digest credentials of m for realm: the first Authorization (or
 * Proxy-Authorization) element that parses, is Digest and names our realm.
 * AUTH_NONE when there is none; AUTH_BAD when there is none but some element
 * did not parse (it may have been meant for us).
 */
static enum auth_result find_cred(const struct msg *m, const char *realm, bool proxy,
				  struct msg_auth *out)
{
	enum msg_hdr_id id = proxy ? MSG_HDR_PROXY_AUTHORIZATION : MSG_HDR_AUTHORIZATION;
	size_t rlen = strlen(realm);
	bool bad = false;
	char r[AUTH_REALM_MAX];

	for (const struct msg_hdr *h = msg_hdr_find(m, id); h != NULL; h = msg_hdr_next(m, h)) {
		struct msg_auth c;
		if (msg_auth_parse(m->buf, h->value, &c) != 0) {
			bad = true;
			continue;
		}
		if (!span_ieq(m->buf, c.scheme, "digest"))
			continue;
		int n = msg_qstr_copy(m->buf, c.realm, r, sizeof(r));
		if (n >= 0 && (size_t)n == rlen && memcmp(r, realm, rlen) == 0) {
			*out = c;
			return AUTH_OK;
		}
	}
	return bad ? AUTH_BAD : AUTH_NONE;
}

/* Unquote span s of buf into out (cap includes the NUL); no control bytes, not empty. */
static bool text_copy(const char *buf, struct span s, char *out, size_t cap, size_t *len)
{
	if (cap == 0 || s.len == 0)
		return false;
	int n = msg_qstr_copy(buf, s, out, cap - 1);
	if (n <= 0)
		return false;
	for (int i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			return false;
	out[n] = 0;
	*len = (size_t)n;
	return true;
}

enum auth_result auth_credentials(const struct msg *m, const char *realm, bool proxy, char *user,
				  size_t usercap)
{
	struct msg_auth c;
	size_t n;
	enum auth_result r = find_cred(m, realm, proxy, &c);
	if (r != AUTH_OK)
		return r;
	return text_copy(m->buf, c.username, user, usercap, &n) ? AUTH_OK : AUTH_BAD;
}

/* The checked fields of one Digest credentials element. */
struct cred {
	enum auth_alg alg;
	uint32_t nc;
	char cnonce[CNONCE_MAX + 1];
	size_t cnlen;
	char uri[DURI_MAX + 1];
	size_t urilen;
	char resp[65]; /* lower-cased */
};

/* nc-value = 8LHEX (RFC 7616 §3.4); upper case tolerated; 0 is no count. */
static bool nc_parse(const char *buf, struct span s, uint32_t *out)
{
	uint32_t v = 0;
	if (s.len != 8)
		return false;
	for (uint32_t i = 0; i < 8; i++) {
		char c = ascii_lower(buf[s.off + i]);
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return false;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return v != 0;
}

/* The response as hex of the algorithm's length, lower-cased into out. */
static bool resp_parse(const char *buf, struct span s, enum auth_alg alg, char *out)
{
	if (s.len != hexlen(alg))
		return false;
	for (uint32_t i = 0; i < s.len; i++) {
		char c = ascii_lower(buf[s.off + i]);
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		out[i] = c;
	}
	out[s.len] = 0;
	return true;
}

/* Syntax of the credentials (RFC 7616 §3.4) and what we support of it. */
static bool cred_parse(const char *buf, const struct msg_auth *c, struct cred *d)
{
	char user[USER_MAX + 1];
	size_t n;

	if (span_empty(c->algorithm) || span_ieq(buf, c->algorithm, "MD5"))
		d->alg = AUTH_MD5;
	else if (span_ieq(buf, c->algorithm, "SHA-256"))
		d->alg = AUTH_SHA256;
	else
		return false;
	if (!span_empty(c->userhash) && !span_ieq(buf, c->userhash, "false"))
		return false;
	/* username: present and clean (which user it is, is the caller's business) */
	if (!text_copy(buf, c->username, user, sizeof(user), &n))
		return false;
	return span_ieq(buf, c->qop, "auth") && nc_parse(buf, c->nc, &d->nc) &&
	       text_copy(buf, c->cnonce, d->cnonce, sizeof(d->cnonce), &d->cnlen) &&
	       text_copy(buf, c->uri, d->uri, sizeof(d->uri), &d->urilen) &&
	       resp_parse(buf, c->response, d->alg, d->resp) && !span_empty(c->nonce);
}

/* digest-uri vs Request-URI: byte-exact, else as URIs (RFC 3261 §19.1.4). */
static bool uri_matches(const struct msg *m, const char *uri, size_t len)
{
	struct msg_uri a, b;
	if (len == m->ruri_s.len && memcmp(uri, m->buf + m->ruri_s.off, len) == 0)
		return true;
	if (msg_uri_parse(uri, (struct span){0, (uint32_t)len}, &a) != 0 ||
	    msg_uri_parse(m->buf, m->ruri_s, &b) != 0)
		return false;
	return msg_uri_equal(uri, &a, m->buf, &b);
}

/* The stored HA1 for alg, lower-cased into out, or false when absent or malformed. */
static bool ha1_pick(enum auth_alg alg, const char *ha1, char *out)
{
	size_t n = hexlen(alg);
	if (ha1 == NULL || strnlen(ha1, n + 1) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = ascii_lower(ha1[i]);
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		out[i] = c;
	}
	out[n] = 0;
	return true;
}

enum auth_result auth_check(struct auth *a, const struct msg *m, const char *realm, bool proxy,
			    const char *ha1_md5, const char *ha1_sha256)
{
	struct msg_auth c;
	struct cred d;
	int64_t ts;
	uint8_t mac[AUTH_MAC_LEN];
	char ha1[65], want[65];

	if (!m->is_request)
		return AUTH_BAD;
	enum auth_result r = find_cred(m, realm, proxy, &c);
	if (r != AUTH_OK)
		return r;
	if (!cred_parse(m->buf, &c, &d) ||
	    !auth_nonce_verify(a, realm, strlen(realm), m->buf + c.nonce.off, c.nonce.len, &ts,
			       mac) ||
	    !uri_matches(m, d.uri, d.urilen))
		return AUTH_BAD;
	/* from here on, known and unknown users take the same path */
	bool known = ha1_pick(d.alg, d.alg == AUTH_MD5 ? ha1_md5 : ha1_sha256, ha1);
	if (!known)
		memcpy(ha1, d.alg == AUTH_MD5 ? a->dummy_md5 : a->dummy_sha256, hexlen(d.alg) + 1);
	const struct auth_resp in = {
	    .ha1 = {ha1, hexlen(d.alg)},
	    .nonce = {m->buf + c.nonce.off, c.nonce.len},
	    .nc = {m->buf + c.nc.off, c.nc.len},
	    .cnonce = {d.cnonce, d.cnlen},
	    .qop = {m->buf + c.qop.off, c.qop.len},
	    .method = {m->buf + m->method_s.off, m->method_s.len},
	    .uri = {d.uri, d.urilen},
	};
	auth_response(d.alg, &in, want);
	int diff = CRYPTO_memcmp(want, d.resp, hexlen(d.alg));
	OPENSSL_cleanse(ha1, sizeof(ha1));
	if ((diff != 0) | !known)
		return AUTH_BAD;
	int64_t now = auth_now(a);
	if (ts + (int64_t)a->ttl < now || ts > now + AUTH_SKEW)
		return AUTH_STALE; /* RFC 7616 §3.3: right digest, old nonce */
	return auth_nc_check(a, mac, ts, d.nc, now);
}

/* The algorithm of credentials a (absent: MD5, RFC 7616 §3.3), or 0 for another one. */
static enum auth_alg cred_alg(const char *buf, const struct msg_auth *a)
{
	if (a->algorithm.len == 0 || span_ieq(buf, a->algorithm, "MD5"))
		return AUTH_MD5;
	if (span_ieq(buf, a->algorithm, "SHA-256"))
		return AUTH_SHA256;
	return 0;
}

bool auth_alg_allowed(const struct msg *m, const char *realm, bool proxy, unsigned algs)
{
	char got[AUTH_REALM_MAX + 1];
	size_t want = strlen(realm);
	if (!algs)
		return true;
	enum msg_hdr_id id = proxy ? MSG_HDR_PROXY_AUTHORIZATION : MSG_HDR_AUTHORIZATION;
	for (const struct msg_hdr *h = msg_hdr_find(m, id); h; h = msg_hdr_next(m, h)) {
		struct msg_auth a;
		if (msg_auth_parse(m->buf, h->value, &a) || !span_ieq(m->buf, a.scheme, "Digest"))
			continue;
		int n = msg_qstr_copy(m->buf, a.realm, got, sizeof(got) - 1);
		if (n < 0 || (size_t)n != want || memcmp(got, realm, want))
			continue;
		enum auth_alg alg = cred_alg(m->buf, &a);
		if (alg && (algs & AUTH_ALG(alg)))
			return true;
	}
	return false;
}
