/*
 * tsx_match.c - transaction keys: requests to server transactions
 * (RFC 3261 §17.2.3) and responses to client transactions (§17.1.3).
 *
 * A key is a handful of spans into the message, so building one for a
 * lookup costs no allocation.  The hash covers only what the INVITE, its
 * ACK and its CANCEL have in common (the branch; for RFC 2543 requests
 * Call-ID, CSeq number and From tag), so all three land in one bucket and
 * one stripe lock covers the CANCEL-to-INVITE lookup.
 */
#include <errno.h>
#include <string.h>

#include "tsx/tsx_int.h"

/* FNV-1a over lower-cased bytes, 64 bit, started from a per-group seed. */
uint64_t tsx_hash_add(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)ascii_lower(p[i]);
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Final avalanche (from splitmix64), folded to 32 bits. */
uint32_t tsx_hash_end(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return (uint32_t)(h ^ (h >> 32));
}

/* A branch that starts with the magic cookie (§8.1.1.7) and has more after it. */
bool tsx_branch_is_3261(const char *p, size_t n)
{
	if (n <= TSX_COOKIE_LEN)
		return false;
	for (size_t i = 0; i < TSX_COOKIE_LEN; i++)
		if (ascii_lower(p[i]) != ascii_lower(TSX_COOKIE[i]))
			return false;
	return true;
}

/* Default sent-by port when the Via gives none (§18.1.1 / §26.2). */
static uint16_t default_port(const char *buf, struct span transport)
{
	if (span_ieq(buf, transport, "TLS") || span_ieq(buf, transport, "WSS"))
		return 5061;
	return 5060;
}

static bool bytes_eq(const char *a, struct span sa, const char *b, struct span sb)
{
	return sa.len == sb.len && memcmp(a + sa.off, b + sb.off, sa.len) == 0;
}

/* CSeq method must name the request method (§8.2, a mismatch deserves 400). */
static bool cseq_consistent(const struct msg *m, const struct msg_cseq *cs)
{
	if (cs->method_id != m->method)
		return false;
	if (m->method != MSG_METHOD_OTHER)
		return true;
	return bytes_eq(m->buf, cs->method, m->buf, m->method_s);
}

/*
 * Build the lookup key of request m (§17.2.3): branch + sent-by + method
 * when the branch carries the magic cookie, else the RFC 2543 key.  The key
 * method of an ACK is INVITE (an ACK for a non-2xx final belongs to the
 * INVITE transaction).  Returns 0, or EBADMSG when the Via, CSeq or (RFC
 * 2543) Call-ID, From, To or Request-URI needed are missing or malformed.
 * An RFC 2543 key keeps its extra fields in *x (k->x == x).
 */
int tsx_key_request(struct tsx_key *k, struct tsx_k2543 *x, struct msg *m, uint64_t seed)
{
	const struct msg_via *v = msg_top_via(m);
	const struct msg_cseq *cs = msg_cseq(m);

	if (!m->is_request || !v || !cs || !cseq_consistent(m, cs))
		return EBADMSG;
	memset(k, 0, sizeof(*k));
	k->buf = m->buf;
	k->rmethod = m->method;
	k->method = m->method == MSG_METHOD_ACK ? MSG_METHOD_INVITE : m->method;
	k->method_s = m->method_s;
	k->host = v->host;
	k->port = v->port ? v->port : default_port(m->buf, v->transport);
	k->branch = v->branch;
	if (!tsx_branch_is_3261(span_ptr(m->buf, v->branch), v->branch.len)) {
		memset(x, 0, sizeof(*x));
		x->transport = v->transport;
		x->cseq = cs->num;
		return tsx_2543_key(k, x, m, seed);
	}
	k->hash = tsx_hash_end(tsx_hash_add(seed, span_ptr(m->buf, v->branch), v->branch.len));
	return 0;
}

static bool method_equal(const struct tsx_key *a, const struct tsx_key *b)
{
	if (a->method != b->method)
		return false;
	if (a->method != MSG_METHOD_OTHER)
		return true;
	return bytes_eq(a->buf, a->method_s, b->buf, b->method_s);
}

/*
 * Does server table entry e match lookup key k?  §17.2.3: the branch
 * (compared case-insensitively, as a token), the sent-by host and port, and
 * the method, with ACK standing for INVITE.  RFC 2543 keys go to
 * tsx_2543_equal.
 */
bool tsx_key_equal(const struct tsx_ent *e, const struct tsx_key *k)
{
	const struct tsx_key *tk = &e->key;

	if (tk->hash != k->hash || tk->rfc2543 != k->rfc2543 || !method_equal(tk, k))
		return false;
	if (k->rfc2543) /* never a record: those keep a 3261 key only */
		return tsx_2543_equal(TSX_OF(e), k);
	return tk->port == k->port && span_ieq2(tk->buf, tk->branch, k->buf, k->branch) &&
	       span_ieq2(tk->buf, tk->host, k->buf, k->host);
}

/*
 * Does client transaction t match a response with this top-Via branch and
 * CSeq method (§17.1.3)?  The branch is ours, so it comes back byte for
 * byte; the CSeq method tells the CANCEL transaction from its INVITE.
 */
bool tsx_client_match(const struct tsx *t, const char *branch, size_t blen, uint8_t method,
		      const char *mbuf, struct span method_s)
{
	const struct tsx_key *tk = &t->e.key;

	if (tk->branch.len != blen || memcmp(tk->buf + tk->branch.off, branch, blen) != 0)
		return false;
	if (tk->method != method)
		return false;
	return method != MSG_METHOD_OTHER || bytes_eq(tk->buf, tk->method_s, mbuf, method_s);
}
