/*
 * prx_loop.c - loop detection (RFC 3261 §16.3 item 4, §16.6 item 8).
 *
 * Every branch the proxy sends ends in a hash of what decides how the
 * request is processed: "z9hG4bKR<ww><16 hex random>.<16 hex hash>".  When
 * a request arrives with a Via of ours whose branch ends in the hash this
 * request would get now, it came back unchanged: a loop (482).  A spiral
 * (say the Request-URI was rewritten to another user of ours) changes the
 * hash and is processed again.  The "topmost Via" of the hash is the Via
 * the request carried when we forwarded it: the one right below ours now.
 *
 * FNV-1a (64 bits) over length-prefixed fields: a collision only makes a
 * spiral look like a loop, with odds of 2^-64 per request.
 */
#include <stdio.h>
#include <string.h>

#include "proxy/prx_int.h"

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t fnv(uint64_t h, const char *p, size_t n, bool fold)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (fold && ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch - 'A' + 'a');
		h = (h ^ ch) * FNV_PRIME;
	}
	return h;
}

/* One field: its length first, so that no two field lists hash the same bytes. */
static uint64_t field(uint64_t h, const char *buf, struct span s, bool fold)
{
	uint32_t n = s.len;
	h = fnv(h, (const char *)&n, sizeof(n), false);
	return fnv(h, buf + s.off, s.len, fold);
}

/* Every element value of header id. */
static uint64_t values(uint64_t h, const struct msg *m, enum msg_hdr_id id)
{
	for (const struct msg_hdr *x = msg_hdr_find(m, id); x; x = msg_hdr_next(m, x))
		h = field(h, m->buf, x->value, false);
	return fnv(h, "|", 1, false);
}

/* The fields of m every candidate Via shares (see prx_loop_hash), hashed once. */
static uint64_t hash_base(struct msg *m)
{
	static const struct span none = {0, 0};
	const struct msg_nameaddr *to = msg_to(m);
	const struct msg_nameaddr *from = msg_from(m);
	const struct msg_hdr *cid = msg_hdr_find(m, MSG_HDR_CALL_ID);
	const struct msg_cseq *cs = msg_cseq(m);
	uint64_t h = FNV_OFFSET;
	h = field(h, m->buf, m->ruri_s, false);
	h = field(h, m->buf, to && to->has_tag ? to->tag : none, false);
	h = field(h, m->buf, from && from->has_tag ? from->tag : none, false);
	h = field(h, m->buf, cid ? cid->value : none, false);
	uint32_t num = cs ? cs->num : 0;
	h = fnv(h, (const char *)&num, sizeof(num), false);
	h = values(h, m, MSG_HDR_PROXY_REQUIRE);
	h = values(h, m, MSG_HDR_PROXY_AUTHORIZATION);
	return values(h, m, MSG_HDR_ROUTE);
}

/* The hash from base and the Via element via, as PRX_HASH_LEN hex digits into out. */
static void hash_via(uint64_t h, const struct msg *m, const struct msg_hdr *via, char *out)
{
	struct msg_via v;
	if (via && msg_via_parse(m->buf, via->value, &v) == 0) {
		/* what identifies the upstream hop's transaction, however it is spelt */
		h = field(h, m->buf, v.transport, true);
		h = field(h, m->buf, v.host, true);
		h = fnv(h, (const char *)&v.port, sizeof(v.port), false);
		h = field(h, m->buf, v.branch, false);
	} else if (via) {
		h = field(h, m->buf, via->value, false);
	}
	snprintf(out, PRX_HASH_LEN + 1, "%016llx", (unsigned long long)h);
}

void prx_loop_hash(struct msg *m, const struct msg_hdr *via, char *out)
{
	hash_via(hash_base(m), m, via, out);
}

/* True if Via v (parsed from buf) has our sent-by on transport tp: we sent it. */
static bool via_is_ours(struct tp *tp, const char *buf, const struct msg_via *v)
{
	enum tp_proto proto = tp_proto_from_token(buf + v->transport.off, v->transport.len);
	const struct tp_addr *self = proto ? tp->ops->local(tp, proto) : NULL;
	struct tp_addr a;
	return self &&
	       tp_addr_set(&a, buf + v->host.off, v->host.len, v->port ? v->port : 5060) == 0 &&
	       tp_addr_equal(&a, self);
}

bool prx_looped(const struct tsx *t, struct msg *m)
{
	static const char cookie[] = "z9hG4bKR";
	struct tsx_layer *l = t ? tsx_layer_of(t) : NULL;
	struct tp *tp = l ? tsx_layer_tp(l) : NULL;
	uint64_t base = 0;
	bool have = false;
	if (!tp)
		return false;
	for (const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_VIA); h; h = msg_hdr_next(m, h)) {
		const struct msg_hdr *below = msg_hdr_next(m, h);
		struct msg_via v;
		if (!below || msg_via_parse(m->buf, h->value, &v) || v.branch.len != PRX_BRANCH_LEN)
			continue;
		const char *b = m->buf + v.branch.off;
		size_t at = PRX_BRANCH_LEN - PRX_HASH_LEN;
		if (memcmp(b, cookie, sizeof(cookie) - 1) || b[at - 1] != '.' ||
		    !via_is_ours(tp, m->buf, &v))
			continue;
		char want[PRX_HASH_LEN + 1];
		if (!have) /* once: a request may carry many Vias that look like ours */
			base = hash_base(m);
		have = true;
		hash_via(base, m, below, want);
		if (!memcmp(b + at, want, PRX_HASH_LEN))
			return true;
	}
	return false;
}
