/*
 * tsx_build.c - the messages the transaction layer writes itself: responses
 * (§8.2.6), the ACK for a non-2xx final (§17.1.1.3), CANCEL (§9.1), the top
 * Via of a client request (§8.1.1.7, §18.1.1), branches and tags.
 *
 * Stored requests are kept as bytes only and parsed again here when
 * something has to be built from them: it is rare (one final response, one
 * ACK, one CANCEL per transaction) and keeps a transaction small.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsx/tsx_int.h"

/* Parse stored bytes again; they were parsed once, so this cannot fail in practice. */
int tsx_reparse(const char *buf, size_t len, struct msg *m)
{
	size_t used;

	return msg_parse(m, buf, len, MSG_PARSE_DGRAM, &used);
}

/* splitmix64: the layer's generator for branches and tags (not for secrets). */
static uint64_t next_rand(struct tsx_layer *l)
{
	uint64_t z = (l->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Write n lower-case hex digits of fresh randomness to out (no NUL). */
void tsx_random_hex(struct tsx_layer *l, char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t r = 0;

	for (size_t i = 0; i < n; i++) {
		if (i % 16 == 0)
			r = next_rand(l);
		out[i] = hex[r & 0xf];
		r >>= 4;
	}
}

/* See tsx.h.  "z9hG4bK" "R" <worker: 2 hex> <16 hex>: 26 characters. */
size_t tsx_branch(struct tsx_layer *l, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	if (cap < 27)
		return 0;
	memcpy(out, TSX_COOKIE "R", TSX_COOKIE_LEN + 1);
	n = TSX_COOKIE_LEN + 1;
	out[n++] = hex[(l->worker >> 4) & 0xf];
	out[n++] = hex[l->worker & 0xf];
	tsx_random_hex(l, out + n, 16);
	n += 16;
	out[n] = '\0';
	return n;
}

/* Start a message in the layer's scratch buffer (no message is longer). */
static void out_begin(struct tsx_layer *l, struct msg_out *o)
{
	msg_out_init(o, l->scratch, TSX_SCRATCH);
}

/*
 * End the message begun by out_begin (Content-Length, body) and copy it
 * out at its size: a kept message costs its length, not a worst-case
 * capacity.  *out is malloc'ed.  Returns 0, EMSGSIZE or ENOMEM.
 */
static int out_end(struct msg_out *o, const char *body, size_t bodylen, char **out,
		   uint32_t *outlen)
{
	int err = msg_out_end(o, body, bodylen);
	char *mem;

	if (err)
		return err;
	mem = malloc(o->len);
	if (!mem)
		return ENOMEM;
	memcpy(mem, o->p, o->len);
	*out = mem;
	*outlen = o->len;
	return 0;
}

/*
 * Response code to the stored request of server transaction t, with the
 * transaction's To tag (made up on first use) unless code is 100
 * (§8.2.6.2), extra header lines hdrs and a body.  *out is malloc'ed;
 * *headlen (if not NULL) gets the length of what came from the request
 * (status line, Vias, From, To, Call-ID, CSeq: see tsx_recipe_make).
 * Returns 0, ENOMEM, EMSGSIZE, EBADMSG, or EALREADY when the request is
 * no longer kept (tsx_shed: the final response was sent).
 */
int tsx_build_response(struct tsx *t, unsigned code, const char *reason, const char *hdrs,
		       const char *body, size_t bodylen, char **out, uint32_t *outlen,
		       uint32_t *headlen)
{
	struct msg req;
	struct msg_out o;
	const char *tag = NULL;

	if (!t->req)
		return EALREADY;
	if (tsx_reparse(t->req, t->reqlen, &req))
		return EBADMSG;
	if (code != 100) {
		tsx_tag_ensure(t);
		tag = tsx_tag_str(t);
	}
	out_begin(t->l, &o);
	msg_out_response_via(&o, &req, code, reason, tag, t->via1, t->via1len);
	if (headlen)
		*headlen = o.len;
	if (hdrs)
		msg_out_raw(&o, hdrs, strlen(hdrs));
	return out_end(&o, body, bodylen, out, outlen);
}

/* "SIP/2.0 200 " precedes the reason phrase in a status line we wrote (§7.2). */
#define REASON_AT 12u

/*
 * Server non-INVITE transaction t has sent its final response t->resp,
 * built by tsx_build_response with head length headlen: keep only the
 * reason phrase and what followed the head (the TU's header lines,
 * Content-Length, body), "reason NUL rest", instead of every byte.  A
 * retransmission of the request carries the same Vias, From, To, Call-ID
 * and CSeq as the original (§17.1.2.2 resends the same request), so the
 * response built again from it and this recipe (tsx_recipe_send) is the
 * response sent first (§17.2.2).  Without memory the bytes stay.
 */
void tsx_recipe_make(struct tsx *t, uint32_t headlen)
{
	const char *eol;
	size_t rlen, rest;
	char *r;

	if (!t->resp || headlen <= REASON_AT || headlen > t->resplen)
		return;
	eol = memchr(t->resp + REASON_AT, '\r', headlen - REASON_AT);
	if (!eol)
		return;
	rlen = (size_t)(eol - (t->resp + REASON_AT));
	rest = t->resplen - headlen;
	r = malloc(rlen + 1 + rest);
	if (!r)
		return;
	memcpy(r, t->resp + REASON_AT, rlen);
	r[rlen] = '\0';
	memcpy(r + rlen + 1, t->resp + headlen, rest);
	free(t->resp);
	t->resp = r;
	t->resplen = (uint32_t)(rlen + 1 + rest);
	t->recipe = true;
}

/*
 * Send a final response kept as a recipe (tsx_recipe_make: reason NUL
 * rest, len bytes) again to d, built from retransmitted request rx with the
 * top Via the transport would have rewritten and To tag `tag` (NUL-
 * terminated).  Returns 0 or the transport's errno.
 */
int tsx_recipe_send(struct tsx_layer *l, const struct tp_dest *d, unsigned code, const char *tag,
		    const char *recipe, uint32_t len, struct tp_rx *rx)
{
	char via[MSG_MAX_LINE];
	struct msg_out o;
	const char *nul = memchr(recipe, '\0', len);
	int vlen = tsx_via1(rx, via, sizeof(via));

	if (!nul)
		return 0;
	out_begin(l, &o);
	msg_out_response_via(&o, &rx->msg, code, recipe, tag, vlen > 0 ? via : NULL,
			     vlen > 0 ? (size_t)vlen : 0);
	msg_out_raw(&o, nul + 1, len - (size_t)(nul - recipe) - 1);
	if (o.overflow)
		return 0;
	return tp_send(l->tp, d, o.p, o.len);
}

/* Value of the first header with this id, or NULL. */
static const struct msg_hdr *hdr1(const struct msg *m, enum msg_hdr_id id)
{
	return msg_hdr_find(m, id);
}

/*
 * The headers an ACK and a CANCEL copy from the request (§9.1, §17.1.1.3):
 * request line, top Via only, Route set, From, To (from `to` of tobuf),
 * Call-ID, CSeq with the new method, Max-Forwards.
 */
static int build_from_request(struct tsx_layer *l, struct msg *req, const char *method,
			      const char *tobuf, const struct msg_hdr *to, char **out,
			      uint32_t *outlen)
{
	const struct msg_hdr *via = hdr1(req, MSG_HDR_VIA);
	const struct msg_hdr *from = hdr1(req, MSG_HDR_FROM);
	const struct msg_hdr *cid = hdr1(req, MSG_HDR_CALL_ID);
	const struct msg_cseq *cs = msg_cseq(req);
	struct msg_out o;

	if (!via || !from || !cid || !to || !cs)
		return EBADMSG;
	out_begin(l, &o);
	msg_out_request_line(&o, method, span_ptr(req->buf, req->ruri_s), req->ruri_s.len);
	msg_out_header(&o, "Via", span_ptr(req->buf, via->value), via->value.len);
	for (const struct msg_hdr *h = hdr1(req, MSG_HDR_ROUTE); h; h = msg_hdr_next(req, h))
		msg_out_header(&o, "Route", span_ptr(req->buf, h->value), h->value.len);
	msg_out_header(&o, "From", span_ptr(req->buf, from->value), from->value.len);
	msg_out_header(&o, "To", span_ptr(tobuf, to->value), to->value.len);
	msg_out_header(&o, "Call-ID", span_ptr(req->buf, cid->value), cid->value.len);
	msg_out_headerf(&o, "CSeq", "%u %s", (unsigned)cs->num, method);
	msg_out_header(&o, "Max-Forwards", "70", 2);
	return out_end(&o, NULL, 0, out, outlen);
}

/*
 * Build (once) the ACK of client INVITE transaction t for non-2xx final
 * resp into t->ack (§17.1.1.3): To from the response, the rest from the
 * request.  Returns 0, EBADMSG or ENOMEM.
 */
int tsx_build_ack(struct tsx *t, struct msg *resp)
{
	struct msg req;
	const struct msg_hdr *to = hdr1(resp, MSG_HDR_TO);

	if (t->ack)
		return 0;
	if (!t->req || tsx_reparse(t->req, t->reqlen, &req))
		return EBADMSG;
	return build_from_request(t->l, &req, "ACK", resp->buf, to, &t->ack, &t->acklen);
}

/* CANCEL for client INVITE transaction inv (§9.1).  *out is malloc'ed. */
int tsx_build_cancel(const struct tsx *inv, char **out, uint32_t *outlen)
{
	struct msg req;

	if (!inv->req || tsx_reparse(inv->req, inv->reqlen, &req))
		return EBADMSG;
	return build_from_request(inv->l, &req, "CANCEL", req.buf, hdr1(&req, MSG_HDR_TO), out,
				  outlen);
}

/*
 * Copy request req[0..len) with a new top Via right after the request line:
 * "Via: SIP/2.0/<proto> <local address>;branch=<new>;rport" (RFC 3581).
 * Returns 0, EBADMSG (no request line), EINVAL (no local address for the
 * transport) or ENOMEM.
 */
int tsx_build_via(struct tsx_layer *l, const struct tp_dest *d, const char *req, size_t len,
		  char **out, uint32_t *outlen)
{
	const char *eol = memchr(req, '\n', len);
	const struct tp_addr *local = l->tp->ops->local(l->tp, (enum tp_proto)d->proto);
	const char *proto = tp_proto_name((enum tp_proto)d->proto);
	char host[64], branch[TSX_BRANCH_MAX], via[160];
	size_t head, vlen;
	int n;
	char *mem;

	if (!eol || len > MSG_MAX_SIZE)
		return EBADMSG;
	if (!local || !proto)
		return EINVAL;
	tp_addr_str(local, host, sizeof(host));
	tsx_branch(l, branch, sizeof(branch));
	n = snprintf(via, sizeof(via), "Via: SIP/2.0/%s %s;branch=%s;rport\r\n", proto, host,
		     branch);
	if (n < 0 || (size_t)n >= sizeof(via))
		return EINVAL;
	vlen = (size_t)n;
	head = (size_t)(eol - req) + 1;
	mem = malloc(len + vlen);
	if (!mem)
		return ENOMEM;
	memcpy(mem, req, head);
	memcpy(mem + head, via, vlen);
	memcpy(mem + head + vlen, req + head, len - head);
	*out = mem;
	*outlen = (uint32_t)(len + vlen);
	return 0;
}
