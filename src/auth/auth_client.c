/*
 * auth_client.c - digest credentials for a UA answering 401/407 challenges
 * (RFC 3261 §22.2, §22.3; RFC 7616 §3.4; RFC 8760 §2.4).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "auth_int.h"
#include "ringlet/msg_hdr.h"

#define MAX_REALMS 8 /* realms answered per response (merged 401/407 of forks) */
#define FIELD 256    /* longest realm / nonce / opaque / algorithm we answer */

/* The chosen challenge of one realm. */
struct pick {
	enum auth_alg alg;
	bool qop_auth;	/* offers qop "auth" */
	bool stale;
	char realm[FIELD];
	char nonce[FIELD];
	char opaque[FIELD];
	bool has_opaque;
};

/* Copy a (possibly quoted) value into out, NUL-terminated; false if it does not fit. */
static bool value_copy(const char *buf, struct span s, char *out)
{
	int n = msg_qstr_copy(buf, s, out, FIELD - 1);
	if (n < 0)
		return false;
	out[n] = 0;
	for (int i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			return false;
	return true;
}

/* Algorithm of a challenge: AUTH_MD5 when absent (RFC 7616 §3.3), 0 when unsupported. */
static enum auth_alg alg_of(const char *buf, const struct msg_auth *c)
{
	char a[FIELD];
	if (!c->algorithm.len)
		return AUTH_MD5;
	if (!value_copy(buf, c->algorithm, a))
		return 0;
	if (!strcasecmp(a, "SHA-256"))
		return AUTH_SHA256;
	if (!strcasecmp(a, "MD5"))
		return AUTH_MD5;
	return 0;
}

/* Does the qop-options list offer "auth"?  *any: it offers something. */
static bool offers_auth(const char *buf, struct span qop, bool *any)
{
	char q[FIELD];
	*any = qop.len != 0;
	if (!qop.len || !value_copy(buf, qop, q))
		return false;
	char *save = NULL;
	for (char *t = strtok_r(q, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save))
		if (!strcasecmp(t, "auth"))
			return true;
	return false;
}

/* Take challenge c into picks (one per realm, strongest algorithm). */
static void consider(const char *buf, const struct msg_auth *c, struct pick *pk, unsigned *n)
{
	bool anyqop;
	struct pick p = {0};
	if (c->scheme.len != 6 || strncasecmp(buf + c->scheme.off, "Digest", 6))
		return;
	p.alg = alg_of(buf, c);
	p.qop_auth = offers_auth(buf, c->qop, &anyqop);
	if (!p.alg || (anyqop && !p.qop_auth) || !c->nonce.len)
		return;
	if (!value_copy(buf, c->realm, p.realm) || !value_copy(buf, c->nonce, p.nonce))
		return;
	p.has_opaque = c->opaque.len != 0;
	if (p.has_opaque && !value_copy(buf, c->opaque, p.opaque))
		return;
	char st[FIELD];
	p.stale = c->stale.len && value_copy(buf, c->stale, st) && !strcasecmp(st, "true");
	for (unsigned i = 0; i < *n; i++) {
		if (strcmp(pk[i].realm, p.realm))
			continue;
		if (p.alg == AUTH_SHA256 && pk[i].alg != AUTH_SHA256)
			pk[i] = p; /* RFC 8760 §2.4: the strongest one offered */
		return;
	}
	if (*n < MAX_REALMS)
		pk[(*n)++] = p;
}

static bool user_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* s with '"' and '\' escaped (RFC 3261 quoted-pair) into out. */
static bool quote(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	for (; *s; s++) {
		if (n + 3 > cap)
			return false;
		if (*s == '"' || *s == '\\')
			out[n++] = '\\';
		out[n++] = *s;
	}
	out[n] = 0;
	return true;
}

/* One credentials line for pick p.  Returns its length or -1. */
static int answer_one(const struct pick *p, bool proxy, const char *method, const char *uri,
		      const char *user, const char *password, uint32_t nc, char *out, size_t cap)
{
	char ha1[65], resp[65], ncs[9], cnonce[33], quser[2 * FIELD], qrealm[2 * FIELD],
	    qnonce[2 * FIELD], qopaque[2 * FIELD];
	unsigned char rnd[16];
	if (!quote(user, quser, sizeof(quser)) || !quote(p->realm, qrealm, sizeof(qrealm)) ||
	    !quote(p->nonce, qnonce, sizeof(qnonce)) || !quote(p->opaque, qopaque, sizeof(qopaque)))
		return -1;
	auth_ha1(p->alg, user, p->realm, password, ha1);
	snprintf(ncs, sizeof(ncs), "%08x", (unsigned)nc);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	for (unsigned i = 0; i < sizeof(rnd); i++)
		snprintf(cnonce + 2 * i, 3, "%02x", rnd[i]);
	const struct auth_part h1 = {ha1, strlen(ha1)}, no = {p->nonce, strlen(p->nonce)},
			       me = {method, strlen(method)}, ur = {uri, strlen(uri)};
	if (p->qop_auth) {
		const struct auth_resp r = {h1, no, {ncs, 8}, {cnonce, 32}, {"auth", 4}, me, ur};
		auth_response(p->alg, &r, resp);
	} else {
		/* RFC 2069 form, RFC 7616 §3.4.1 without qop: H(HA1 ":" nonce ":" HA2) */
		char ha2[65];
		const struct auth_part colon = {":", 1};
		const struct auth_part a2[] = {me, colon, ur};
		auth_hash_hex(p->alg, a2, 3, ha2);
		const struct auth_part kd[] = {h1, colon, no, colon, {ha2, strlen(ha2)}};
		auth_hash_hex(p->alg, kd, 5, resp);
	}
	int n = snprintf(out, cap,
			 "%s: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
			 "response=\"%s\", algorithm=%s",
			 proxy ? "Proxy-Authorization" : "Authorization", quser, qrealm,
			 qnonce, uri, resp, p->alg == AUTH_SHA256 ? "SHA-256" : "MD5");
	if (n < 0 || (size_t)n >= cap)
		return -1;
	int m = 0;
	if (p->qop_auth)
		m = snprintf(out + n, cap - (size_t)n, ", qop=auth, nc=%s, cnonce=\"%s\"", ncs,
			     cnonce);
	if (m < 0 || (size_t)(n + m) >= cap)
		return -1;
	n += m;
	m = p->has_opaque ? snprintf(out + n, cap - (size_t)n, ", opaque=\"%s\"\r\n", qopaque)
			  : snprintf(out + n, cap - (size_t)n, "\r\n");
	if (m < 0 || (size_t)(n + m) >= cap)
		return -1;
	return n + m;
}

int auth_client_answer(const struct msg *resp, const char *method, const char *uri,
		       const char *user, const char *password, uint32_t nc, bool *stale,
		       char *out, size_t cap)
{
	struct pick pk[MAX_REALMS];
	unsigned n = 0;
	*stale = false;
	if (!cap || !user_ok(user) || !user_ok(uri) || strchr(uri, '"'))
		return -1;
	out[0] = 0;
	bool proxy = resp->status == 407;
	enum msg_hdr_id id = proxy ? MSG_HDR_PROXY_AUTHENTICATE : MSG_HDR_WWW_AUTHENTICATE;
	for (const struct msg_hdr *h = msg_hdr_find(resp, id); h; h = msg_hdr_next(resp, h)) {
		struct msg_auth c;
		if (!msg_auth_parse(resp->buf, h->value, &c))
			consider(resp->buf, &c, pk, &n);
	}
	size_t len = 0;
	for (unsigned i = 0; i < n; i++) {
		int k = answer_one(&pk[i], proxy, method, uri, user, password, nc, out + len,
				   cap - len);
		if (k < 0)
			return -1;
		len += (size_t)k;
		*stale |= pk[i].stale;
	}
	return (int)len;
}
