/*
 * tsx_2543.c - matching requests from RFC 2543 peers, whose Via branch
 * lacks the magic cookie (RFC 3261 §17.2.3, last paragraphs).  The only
 * place in the layer that knows these rules.
 *
 * An INVITE or non-INVITE request matches when its Request-URI, To tag,
 * From tag, Call-ID, CSeq and top Via equal those of the request that
 * created the transaction.  An ACK matches its INVITE on Request-URI, From
 * tag, Call-ID, CSeq number and top Via, with the ACK's To tag equal to the
 * To tag of the response the transaction sent.  A CANCEL is looked up for
 * its INVITE with the INVITE rules (same To tag: §9.1 copies To).
 */
#include <errno.h>
#include <string.h>

#include "tsx/tsx_int.h"

/*
 * Complete key k (Via part already set by tsx_key_request, and x's
 * transport and cseq) with the RFC 2543 fields, kept in x.  The hash
 * covers Call-ID, CSeq number and From tag: equal for an INVITE, its ACK
 * and its CANCEL.  Returns 0 or EBADMSG.
 */
int tsx_2543_key(struct tsx_key *k, struct tsx_k2543 *x, struct msg *m, uint64_t seed)
{
	const struct msg_hdr *cid = msg_hdr_find(m, MSG_HDR_CALL_ID);
	const struct msg_nameaddr *from = msg_from(m);
	const struct msg_nameaddr *to = msg_to(m);
	const struct msg_uri *ruri = msg_ruri(m);
	uint8_t num[4];
	uint64_t h;

	if (!cid || !from || !to || !ruri)
		return EBADMSG;
	k->rfc2543 = true;
	k->x = x;
	x->callid = cid->value;
	x->ftag = from->has_tag ? from->tag : SPAN_NULL;
	x->ttag = to->has_tag ? to->tag : SPAN_NULL;
	x->ruri = *ruri;
	num[0] = (uint8_t)(x->cseq >> 24);
	num[1] = (uint8_t)(x->cseq >> 16);
	num[2] = (uint8_t)(x->cseq >> 8);
	num[3] = (uint8_t)x->cseq;
	h = tsx_hash_add(seed, span_ptr(m->buf, x->callid), x->callid.len);
	h = tsx_hash_add(h, (const char *)num, sizeof(num));
	h = tsx_hash_add(h, span_ptr(m->buf, x->ftag), x->ftag.len);
	k->hash = tsx_hash_end(h);
	return 0;
}

/* Call-IDs and tags compare byte for byte (§20.8, §19.3). */
static bool exact(const char *a, struct span sa, const char *b, struct span sb)
{
	return sa.len == sb.len && memcmp(a + sa.off, b + sb.off, sa.len) == 0;
}

/* The To tag the transaction's responses carry: the request's, or ours once sent. */
static bool resp_tag_equal(const struct tsx *t, const struct tsx_key *k)
{
	const struct tsx_key *tk = &t->e.key;
	struct span kt = k->x->ttag;

	if (tk->x->ttag.len)
		return exact(tk->buf, tk->x->ttag, k->buf, kt);
	if (!t->tag_sent)
		return kt.len == 0;
	return kt.len == t->taglen && memcmp(k->buf + kt.off, tsx_tag_str(t), t->taglen) == 0;
}

/* Top Via: sent-protocol transport, sent-by, and the (cookie-less) branch if any. */
static bool via_equal(const struct tsx_key *a, const struct tsx_key *b)
{
	return a->port == b->port && span_ieq2(a->buf, a->host, b->buf, b->host) &&
	       span_ieq2(a->buf, a->x->transport, b->buf, b->x->transport) &&
	       exact(a->buf, a->branch, b->buf, b->branch);
}

/*
 * Does transaction t (created by an RFC 2543 request) match lookup key k?
 * The methods were already compared by tsx_key_equal.
 */
bool tsx_2543_equal(const struct tsx *t, const struct tsx_key *k)
{
	const struct tsx_key *tk = &t->e.key;
	const struct tsx_k2543 *a = tk->x, *b = k->x;

	if (a->cseq != b->cseq || !exact(tk->buf, a->callid, k->buf, b->callid) ||
	    !exact(tk->buf, a->ftag, k->buf, b->ftag) || !via_equal(tk, k))
		return false;
	if (k->rmethod == MSG_METHOD_ACK) {
		if (!resp_tag_equal(t, k))
			return false;
	} else if (!exact(tk->buf, a->ttag, k->buf, b->ttag)) {
		return false;
	}
	return msg_uri_equal(tk->buf, &a->ruri, k->buf, &b->ruri);
}
