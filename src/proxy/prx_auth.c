/*
 * prx_auth.c - the proxy's side of digest authentication: the challenge
 * and check of its own users (RFC 3261 §22.3, RFC 8760), and the merge of
 * the challenges of several branches into the one 401/407 forwarded
 * upstream (§16.7 item 7).  See prx_int.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "prx"
#include "proxy/prx_int.h"
#include "ringlet/log.h"

/* 407 with a fresh challenge (§22.3), stale=true for an expired nonce; the call ends. */
static void challenge(struct prx_call *c, bool stale)
{
	char hdrs[1024];
	if (auth_challenge_algs(c->p->auth, c->realm, true, stale, c->p->algs, hdrs,
				sizeof(hdrs)) < 0)
		prx_respond(c->st, 500, NULL, NULL);
	else
		prx_respond(c->st, 407, NULL, hdrs);
	prx_call_end(c);
}

/* The From user's HA1 digests arrived (or ENOENT): verify, then forward or challenge. */
static void on_auth_user(int err, const struct loc_user *u, void *arg)
{
	struct prx_call *c = arg;
	if (c->cancelled) {
		prx_call_end(c);
		return;
	}
	if (err && err != ENOENT) {
		log_warn_rl("event=store-error op=user err=%d", err);
		prx_respond(c->st, 500, "User Store Failed", NULL);
		prx_call_end(c);
		return;
	}
	struct msg m;
	enum auth_result r = auth_check(c->p->auth, prx_call_msg(c, &m), c->realm, true,
					u ? u->ha1_md5 : NULL, u ? u->ha1_sha256 : NULL);
	if (r != AUTH_OK) {
		challenge(c, r == AUTH_STALE);
		return;
	}
	prx_proceed(c);
}

/* The realm of c's challenge (§22.3): the configured one, else the From host. */
static char *realm_of(const struct prx_call *c, const char *host, size_t hlen)
{
	const char *r = c->p->realm ? c->p->realm : host;
	size_t n = c->p->realm ? strlen(r) : hlen;
	if (n > LOC_AOR_MAX - 1)
		n = LOC_AOR_MAX - 1;
	char *out = malloc(n + 1);
	if (out) {
		memcpy(out, r, n);
		out[n] = 0;
	}
	return out;
}

void prx_authenticate(struct prx_call *c)
{
	struct msg m;
	const struct msg_nameaddr *from = msg_from(prx_call_msg(c, &m));
	const struct msg_uri *fu = from ? &from->uri : NULL;
	char user[LOC_AOR_MAX], key[LOC_AOR_MAX];
	if (!fu || !fu->has_user || !fu->host.len ||
	    fu->user.len + fu->host.len + 2 > sizeof(key)) {
		prx_respond(c->st, 403, NULL, NULL);
		prx_call_end(c);
		return;
	}
	const char *host = c->buf + fu->host.off;
	c->realm = realm_of(c, host, fu->host.len);
	if (!c->realm) {
		prx_respond(c->st, 500, NULL, NULL);
		prx_call_end(c);
		return;
	}
	if (auth_credentials(&m, c->realm, true, user, sizeof(user)) != AUTH_OK ||
	    !auth_alg_allowed(&m, c->realm, true, c->p->algs)) {
		challenge(c, false);
		return;
	}
	if (strlen(user) != fu->user.len || memcmp(user, c->buf + fu->user.off, fu->user.len)) {
		prx_respond(c->st, 403, "Credentials Of Another User", NULL);
		prx_call_end(c);
		return;
	}
	/* users are provisioned as USER@DOMAIN (ringletd user add), the domain in lower case */
	int w = snprintf(key, sizeof(key), "%s@", user);
	for (uint32_t i = 0; i < fu->host.len; i++) {
		char ch = host[i];
		key[w++] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
	}
	key[w] = 0;
	if (loc_user_get(c->p->store, c->loop, key, on_auth_user, c)) {
		prx_respond(c->st, 500, NULL, NULL);
		prx_call_end(c);
	}
}

void prx_chal_collect(const struct msg *resp, char **out, size_t *len)
{
	size_t need = 0;
	*out = NULL;
	*len = 0;
	for (unsigned pass = 0; pass < 2; pass++) {
		size_t n = 0;
		for (unsigned i = 0; i < resp->nhdrs; i++) {
			const struct msg_hdr *h = &resp->hdrs[i];
			if (h->id != MSG_HDR_WWW_AUTHENTICATE &&
			    h->id != MSG_HDR_PROXY_AUTHENTICATE)
				continue;
			const char *name = msg_hdr_name((enum msg_hdr_id)h->id);
			size_t nl = strlen(name);
			if (pass) {
				memcpy(*out + n, name, nl);
				memcpy(*out + n + nl, ": ", 2);
				memcpy(*out + n + nl + 2, resp->buf + h->value.off, h->value.len);
				memcpy(*out + n + nl + 2 + h->value.len, "\r\n", 2);
			}
			n += nl + 2 + h->value.len + 2;
		}
		if (!pass) {
			need = n;
			if (!need || need > PRX_CHAL_MAX || !(*out = malloc(need)))
				return;
		}
	}
	*len = need;
}

long prx_chal_merge(const struct prx_call *c, const char *buf, size_t len, char **out)
{
	size_t extra = 0;
	*out = NULL;
	for (unsigned i = 0; i < c->nbr; i++)
		if ((int)i != c->best_br)
			extra += c->br[i]->chal_len;
	struct msg m;
	size_t used;
	if (!extra || len + extra > MSG_MAX_SIZE ||
	    msg_parse(&m, buf, len, MSG_PARSE_DGRAM, &used) || m.buf != buf || !m.nhdrs)
		return -1;
	const struct msg_hdr *last = &m.hdrs[m.nhdrs - 1];
	size_t at = prx_line_end(&m, last->value.off + last->value.len);
	char *o = malloc(len + extra);
	if (!o)
		return -1;
	memcpy(o, buf, at);
	size_t n = at;
	for (unsigned i = 0; i < c->nbr; i++) {
		if ((int)i == c->best_br || !c->br[i]->chal_len)
			continue;
		memcpy(o + n, c->br[i]->chal, c->br[i]->chal_len);
		n += c->br[i]->chal_len;
	}
	memcpy(o + n, buf + at, len - at);
	*out = o;
	return (long)(len + extra);
}
