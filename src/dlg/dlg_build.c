/*
 * dlg_build.c - the messages a dialog writes: requests within the dialog
 * (RFC 3261 §12.2.1.1), the ACK of a 2xx (§13.2.2.4), the ACK + BYE that
 * ends an unwanted forked dialog, the header lines of our responses
 * (§12.1.1) and a Via for the ACK.
 *
 * Requests come out without a Via unless the caller gives one: tsx_request
 * with TSX_ADD_VIA inserts it right after the request line, which is where
 * one would be printed here.
 */
#include <errno.h>
#include <stdio.h>

#include "dlg/dlg_int.h"

#define METHOD_MAX 32

/* What differs between the requests of one dialog. */
struct build {
	const char *method;
	uint32_t cseq;
	bool contact;	 /* a target refresh: carry our Contact */
	struct msg *inv; /* ACK: the INVITE whose credentials are copied */
};

static bool token_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	struct span tok;

	return n > 0 && n <= max && msg_token_parse(s, (struct span){0, (uint32_t)n}, &tok) == 0 &&
	       tok.len == n;
}

/* Extra header lines: each ends in CRLF, none is empty (that would end the header block). */
static bool extra_ok(const struct dlg_extra *x)
{
	size_t n;

	if (!x)
		return true;
	if (x->bodylen && !x->body)
		return false;
	if (x->bodylen > MSG_MAX_SIZE)
		return false;
	if (!x->hdrs || !x->hdrs[0])
		return true;
	n = strlen(x->hdrs);
	if (n < 2 || x->hdrs[n - 2] != '\r' || x->hdrs[n - 1] != '\n')
		return false;
	if (x->hdrs[0] == '\r' || x->hdrs[0] == '\n')
		return false;
	return !strstr(x->hdrs, "\n\r\n") && !strstr(x->hdrs, "\n\n");
}

static void out_str(struct msg_out *o, const char *s)
{
	msg_out_raw(o, s, strlen(s));
}

static void out_field(struct msg_out *o, const struct dlg *d, enum dlg_field f)
{
	msg_out_raw(o, dlg_str(d, f), d->f[f].len);
}

/* The Request-URI of a strict route: the entry's URI without method and headers. */
static void out_strict_ruri(struct msg_out *o, const struct dlg *d, const struct msg_uri *u)
{
	struct dlg_text t;

	dlg_text_init(&t);
	dlg_text_begin(&t);
	dlg_text_clean_uri(&t, d->blob, u);
	msg_out_raw(o, t.b + t.start, t.len - t.start);
}

/* "Route:" lines and the Request-URI (§12.2.1.1); *hop as in struct dlg_msg. */
static void out_start(struct msg_out *o, const struct dlg *d, const struct build *b,
		      const struct dlg_extra *x, struct span *hop)
{
	struct msg_nameaddr first;
	struct span v;
	bool strict = false;
	bool parsed = d->nroutes && msg_nameaddr_parse(d->blob, d->route[0], &first) == 0;
	unsigned i = 0;

	if (parsed)
		strict = !msg_param_get(d->blob, first.uri.params, "lr", &v);
	out_str(o, b->method);
	msg_out_raw(o, " ", 1);
	hop->off = o->len;
	if (strict) {
		out_strict_ruri(o, d, &first.uri);
		i = 1;
	} else {
		out_field(o, d, DLG_F_TARGET);
	}
	hop->len = o->len - hop->off;
	msg_out_raw(o, " SIP/2.0\r\n", 10);
	if (x && x->via)
		msg_out_header(o, "Via", x->via, strlen(x->via));
	for (; i < d->nroutes; i++) {
		if (i == 0 && parsed) { /* loose routing: the request goes to the first Route */
			hop->off = o->len + 7 + (first.uri_s.off - d->route[0].off);
			hop->len = first.uri_s.len;
		}
		msg_out_header(o, "Route", d->blob + d->route[i].off, d->route[i].len);
	}
	if (strict) {
		msg_out_raw(o, "Route: <", 8);
		out_field(o, d, DLG_F_TARGET);
		msg_out_raw(o, ">\r\n", 3);
	}
}

/* The INVITE's credentials, for its ACK (§13.2.2.4, §22). */
static void out_credentials(struct msg_out *o, const struct msg *inv)
{
	static const uint8_t ids[] = {MSG_HDR_AUTHORIZATION, MSG_HDR_PROXY_AUTHORIZATION};

	for (size_t k = 0; k < ARRAY_SIZE(ids); k++)
		for (const struct msg_hdr *h = msg_hdr_find(inv, ids[k]); h;
		     h = msg_hdr_next(inv, h))
			msg_out_header(o, msg_hdr_name(ids[k]), inv->buf + h->value.off,
				       h->value.len);
}

static int build(const struct dlg *d, const struct build *b, const struct dlg_extra *x,
		 struct dlg_msg *m)
{
	struct msg_out o;
	struct span hop;
	int err;

	msg_out_init(&o, m->buf, m->cap);
	out_start(&o, d, b, x, &hop);
	msg_out_header(&o, "Max-Forwards", "70", 2);
	msg_out_headerf(&o, "From", "%s;tag=%s", dlg_str(d, DLG_F_LURI), dlg_str(d, DLG_F_LTAG));
	if (d->f[DLG_F_RTAG].len)
		msg_out_headerf(&o, "To", "%s;tag=%s", dlg_str(d, DLG_F_RURI),
				dlg_str(d, DLG_F_RTAG));
	else
		msg_out_header(&o, "To", dlg_str(d, DLG_F_RURI), d->f[DLG_F_RURI].len);
	msg_out_header(&o, "Call-ID", dlg_str(d, DLG_F_CALLID), d->f[DLG_F_CALLID].len);
	msg_out_headerf(&o, "CSeq", "%u %s", (unsigned)b->cseq, b->method);
	if (b->contact)
		msg_out_header(&o, "Contact", dlg_str(d, DLG_F_CONTACT), d->f[DLG_F_CONTACT].len);
	if (b->inv)
		out_credentials(&o, b->inv);
	if (x && x->hdrs)
		out_str(&o, x->hdrs);
	err = msg_out_end(&o, x ? x->body : NULL, x ? x->bodylen : 0);
	if (err)
		return err;
	m->len = o.len;
	m->cseq = b->cseq;
	m->hop = hop;
	return 0;
}

size_t dlg_msg_size(const struct dlg *d, const struct dlg_extra *x)
{
	size_t n = 512 + 2 * (size_t)d->f[DLG_F_TARGET].len;

	for (unsigned f = 0; f < DLG_F__N; f++)
		n += d->f[f].len;
	for (unsigned i = 0; i < d->nroutes; i++)
		n += 16 + (size_t)d->route[i].len;
	if (x && x->via)
		n += 8 + strlen(x->via);
	if (x && x->hdrs)
		n += strlen(x->hdrs);
	if (x)
		n += x->bodylen;
	return n;
}

int dlg_request(struct dlg *d, const char *method, const struct dlg_extra *x, struct dlg_msg *m)
{
	struct build b = {.method = method};
	enum msg_method id;
	uint16_t r;
	int err;

	if (!token_ok(method, METHOD_MAX) || !extra_ok(x))
		return EINVAL;
	id = msg_method_id(method, strlen(method));
	if (id == MSG_METHOD_ACK || id == MSG_METHOD_CANCEL)
		return EINVAL;
	if (d->state == DLG_TERMINATED)
		return ESRCH;
	if (id == MSG_METHOD_BYE && !d->uac && d->state == DLG_EARLY)
		return EINVAL; /* §15: the callee may not BYE an early dialog */
	if (d->lcseq_set) {
		if (d->lcseq >= 0x7fffffffu)
			return EOVERFLOW; /* §8.1.1.5: below 2^31 */
		b.cseq = d->lcseq + 1;
	} else {
		if (dlg_random(&r, sizeof(r)))
			return EIO;
		b.cseq = r ? r : 1;
	}
	b.contact = dlg_is_refresh(id);
	err = build(d, &b, x, m);
	if (err)
		return err;
	d->lcseq = b.cseq;
	d->lcseq_set = true;
	return 0;
}

int dlg_ack(struct dlg *d, const char *inv, size_t invlen, const struct dlg_extra *x,
	    struct dlg_msg *m)
{
	struct build b = {.method = "ACK"};
	const struct msg_nameaddr *from;
	const struct msg_cseq *cs;
	struct msg im;
	struct span cid;
	size_t used;

	if (!x || !x->via || !x->via[0] || !extra_ok(x))
		return EINVAL;
	if (msg_parse(&im, inv, invlen, MSG_PARSE_DGRAM, &used) != 0 || !im.is_request ||
	    im.method != MSG_METHOD_INVITE)
		return EINVAL;
	from = msg_from(&im);
	cs = msg_cseq(&im);
	if (!from || !cs || cs->method_id != MSG_METHOD_INVITE || !dlg_msg_callid(&im, &cid))
		return EINVAL;
	if (!dlg_field_eq(d, DLG_F_CALLID, im.buf, cid) ||
	    !dlg_field_eq(d, DLG_F_LTAG, im.buf, from->tag))
		return EINVAL;
	b.cseq = cs->num;
	b.inv = &im;
	return build(d, &b, x, m);
}

int dlg_ack_bye(struct dlg *d, const char *inv, size_t invlen, const char *ack_via,
		struct dlg_msg *ack, struct dlg_msg *bye)
{
	struct dlg_extra x = {.via = ack_via};
	int err = dlg_ack(d, inv, invlen, &x, ack);

	if (err)
		return err;
	return dlg_request(d, "BYE", NULL, bye);
}

int dlg_via(struct tsx_layer *l, enum tp_proto proto, char *out, size_t cap)
{
	struct tp *tp = tsx_layer_tp(l);
	const struct tp_addr *a = tp->ops->local(tp, proto);
	const char *name = tp_proto_name(proto);
	char host[64], br[TSX_BRANCH_MAX];
	int n;

	if (!a || !name[0] || tsx_branch(l, br, sizeof(br)) == 0)
		return EINVAL;
	tp_addr_str(a, host, sizeof(host));
	n = snprintf(out, cap, "SIP/2.0/%s %s;branch=%s;rport", name, host, br);
	if (n < 0 || (size_t)n >= cap)
		return EMSGSIZE;
	return 0;
}

int dlg_response_hdrs(const struct dlg *d, bool record_route, char *out, size_t cap, size_t *len)
{
	struct msg_out o;

	if (record_route && d->uac)
		return EINVAL;
	msg_out_init(&o, out, cap);
	for (unsigned i = 0; record_route && i < d->nroutes; i++)
		msg_out_header(&o, "Record-Route", d->blob + d->route[i].off, d->route[i].len);
	msg_out_header(&o, "Contact", dlg_str(d, DLG_F_CONTACT), d->f[DLG_F_CONTACT].len);
	msg_out_raw(&o, "", 1);
	if (o.overflow)
		return EMSGSIZE;
	*len = o.len - 1;
	return 0;
}
