/*
 * tsx_core.c - the transaction object: life cycle, timers, sending,
 * reporting to the TU, and the public calls on a transaction (tsx_request,
 * tsx_respond, accessors).  The state machines themselves are in
 * tsx_cinv.c, tsx_cnon.c, tsx_sinv.c and tsx_snon.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ringlet/mem.h"
#include "tsx/tsx_int.h"

static bool is_server(const struct tsx *t)
{
	return t->kind == TSX_SERVER_INVITE || t->kind == TSX_SERVER_NON_INVITE;
}

/*
 * Destructor: the only teardown path (STYLE.md §2, "Ownership").  A
 * transaction is never still linked here: the layer holds a reference for
 * as long as it is in a table, and drops it only in tsx_terminate, after
 * unlinking it.
 */
static void tsx_destroy(void *arg)
{
	struct tsx *t = arg;

	loop_timer_cancel(&t->tr);
	loop_timer_cancel(&t->to);
	free(t->req);
	if (is_server(t)) {
		free(t->resp);
		free(t->via1);
		free(t->tag_long);
	} else {
		free(t->ack);
	}
	if (t->e.key.rfc2543)
		free(t->e.key.x);
	if (t->dest.conn)
		tp_conn_unref(t->dest.conn);
}

/* Copy span s of src to kb at *off; the same bytes as a span of kb. */
static struct span kcopy(char *kb, size_t *off, const char *src, struct span s)
{
	struct span r = {(uint32_t)*off, s.len};

	memcpy(kb + *off, src + s.off, s.len);
	*off += s.len;
	return r;
}

/* Bytes tsx_key_copy needs for RFC 3261 key k: branch, sent-by host, extension method. */
size_t tsx_key_bytes(const struct tsx_key *k)
{
	return (size_t)k->branch.len + k->host.len +
	       (k->method == MSG_METHOD_OTHER ? k->method_s.len : 0);
}

/*
 * *dst = RFC 3261 key *src with its bytes copied into kb (tsx_key_bytes of
 * them), so it matches without the message it came from.
 */
void tsx_key_copy(struct tsx_key *dst, const struct tsx_key *src, char *kb)
{
	size_t off = 0;

	*dst = *src;
	dst->buf = kb;
	dst->x = NULL;
	dst->branch = kcopy(kb, &off, src->buf, src->branch);
	dst->host = kcopy(kb, &off, src->buf, src->host);
	dst->method_s = src->method == MSG_METHOD_OTHER ? kcopy(kb, &off, src->buf, src->method_s)
							: SPAN_NULL;
}

/*
 * A new transaction of layer l taking over req (malloc'ed, freed on
 * failure), found by key k (spans relative to req, or to a buffer with the
 * same bytes at the same offsets): the key's bytes are copied into the
 * transaction, so it matches after the request is gone.  Not linked
 * anywhere yet.  Returns NULL on ENOMEM.
 */
struct tsx *tsx_new(struct tsx_layer *l, uint8_t kind, char *req, uint32_t len,
		    const struct tsx_key *k)
{
	struct tsx_k2543 *x = NULL;
	struct tsx *t;

	if (k->rfc2543) {
		x = malloc(sizeof(*x));
		if (!x) {
			free(req);
			return NULL;
		}
		*x = *k->x;
	}
	t = mem_alloc(sizeof(*t) + (x ? 0 : tsx_key_bytes(k)), tsx_destroy);
	if (!t) {
		free(x);
		free(req);
		return NULL;
	}
	t->l = l;
	t->e.worker = l->worker;
	t->kind = kind;
	t->req = req;
	t->reqlen = len;
	if (x) {
		t->e.key = *k;
		t->e.key.buf = req;
		t->e.key.x = x;
	} else {
		tsx_key_copy(&t->e.key, k, t->kb);
	}
	loop_timer_init(&t->tr);
	loop_timer_init(&t->to);
	return t;
}

/*
 * The final response is sent (server) or passed up (client): drop what
 * only building messages needed, the request and the rewritten Via (kept
 * for RFC 2543 keys, which point into the request, and for a server INVITE
 * whose TU sends its 2xx retransmissions with tsx_respond), and the last
 * response unless keep_resp (it is retransmitted: server non-INVITE in
 * Completed, server INVITE in Completed).  Matching needs only kb[].
 */
void tsx_shed(struct tsx *t, bool keep_resp)
{
	bool server = is_server(t);

	if (!t->e.key.rfc2543 && !t->keep_req) {
		free(t->req);
		t->req = NULL;
		t->reqlen = 0;
		if (server) {
			free(t->via1);
			t->via1 = NULL;
			t->via1len = 0;
		}
	}
	if (server && !keep_resp) {
		free(t->resp);
		t->resp = NULL;
		t->resplen = 0;
	}
}

/* Run event ev through t's state machine; t stays alive until it returns. */
int tsx_dispatch(struct tsx *t, const struct tsx_ev *ev)
{
	int err = 0;

	if (t->state == TSX_STATE_TERMINATED || !t->l) {
		if (ev->type == TSX_EV_SEND)
			free(ev->data);
		return ESRCH;
	}
	mem_ref(t);
	switch (t->kind) {
	case TSX_CLIENT_INVITE:
		err = tsx_cinv_event(t, ev);
		break;
	case TSX_CLIENT_NON_INVITE:
		err = tsx_cnon_event(t, ev);
		break;
	case TSX_SERVER_INVITE:
		err = tsx_sinv_event(t, ev);
		break;
	default:
		err = tsx_snon_event(t, ev);
		break;
	}
	mem_deref(t);
	return err;
}

static void on_tr(void *arg)
{
	struct tsx *t = arg;
	struct tsx_ev ev = {.type = TSX_EV_TIMER, .timer = t->tr_id};

	tsx_dispatch(t, &ev);
}

static void on_to(void *arg)
{
	struct tsx *t = arg;
	struct tsx_ev ev = {.type = TSX_EV_TIMER, .timer = t->to_id};

	if (t->to_id == TSX_TIMER_ERR) {
		ev.type = TSX_EV_TPERR;
		ev.err = t->err;
	}
	tsx_dispatch(t, &ev);
}

/* (Re)start the retransmission timer (A, E, G, or the 100-Trying timer). */
void tsx_timer_tr(struct tsx *t, unsigned id, loop_ms ms)
{
	t->tr_id = (uint8_t)id;
	loop_timer_start(t->l->loop, &t->tr, ms, on_tr, t);
}

/* (Re)start the timeout timer (B, D, F, H, I, J, K, L, or the deferred error). */
void tsx_timer_to(struct tsx *t, unsigned id, loop_ms ms)
{
	t->to_id = (uint8_t)id;
	loop_timer_start(t->l->loop, &t->to, ms, on_to, t);
}

/* Hand bytes to the transport toward the transaction's destination. */
int tsx_xmit(struct tsx *t, const char *data, size_t len)
{
	return tp_send(t->l->tp, &t->dest, data, len);
}

/*
 * Enter Terminated: stop the timers, leave the tables and drop the layer's
 * reference.  No callback.  The caller's own reference (tsx_dispatch holds
 * one) keeps t valid until it returns.
 */
void tsx_terminate(struct tsx *t)
{
	if (!t->l)
		return;
	t->state = TSX_STATE_TERMINATED;
	t->cancel_pending = false;
	loop_timer_cancel(&t->tr);
	loop_timer_cancel(&t->to);
	tsx_unlink(t);
	t->l = NULL;
	mem_deref(t);
}

/* Pass a response to the client TU, unless it detached. */
void tsx_to_tu(struct tsx *t, struct msg *resp, const struct tp_rx *rx)
{
	if (!t->detached && t->fn)
		t->fn(t, resp, rx, t->arg);
}

/*
 * Synthesise response code (408, 503: §8.1.3) from the stored request and
 * pass it to the TU as if received.  Without memory the TU hears nothing,
 * the transaction ends all the same.
 */
void tsx_synth(struct tsx *t, unsigned code)
{
	struct msg req, resp;
	struct msg_out o;
	size_t cap = 2 * (size_t)t->reqlen + 128, used;
	char *mem;

	t->code = (uint16_t)code;
	if (t->detached || !t->fn || !t->req || tsx_reparse(t->req, t->reqlen, &req))
		return;
	mem = malloc(cap);
	if (!mem)
		return;
	msg_out_init(&o, mem, cap);
	msg_out_response(&o, &req, code, NULL, NULL);
	if (msg_out_end(&o, NULL, 0) == 0 &&
	    msg_parse(&resp, mem, o.len, MSG_PARSE_DGRAM, &used) == 0)
		tsx_to_tu(t, &resp, NULL);
	free(mem);
}

/* A server transaction failed on its own (Timer H, transport error): end it, tell the TU. */
void tsx_fail(struct tsx *t, int err)
{
	struct tsx_layer *l = t->l;

	tsx_terminate(t);
	if (l && l->tu.server_fail)
		l->tu.server_fail(t, err, l->tu.arg);
}

void tsx_stray_request(struct tsx_layer *l, struct tp_rx *rx)
{
	if (l->tu.stray_request)
		l->tu.stray_request(l, rx, l->tu.arg);
}

/* Make data (malloc'ed) the server transaction's last response. */
void tsx_keep_response(struct tsx *t, char *data, uint32_t len, unsigned code)
{
	free(t->resp);
	t->resp = data;
	t->resplen = len;
	t->code = (uint16_t)code;
	if (code != 100 && !t->tag_sent)
		(void)tsx_tag_set(t, NULL, 0, true);
}

/*
 * Client transaction for request req (malloc'ed; taken over, freed on any
 * error) toward dest; see tsx_request.
 */
int tsx_client_new(struct tsx **out, struct tsx_layer *l, const struct tp_dest *dest, char *req,
		   uint32_t len, tsx_response_fn *fn, void *arg)
{
	struct msg m;
	const struct msg_via *via;
	const struct msg_cseq *cs;
	struct tsx_key k = {0};
	struct tsx *t;

	if (tsx_reparse(req, len, &m) || !m.is_request || m.method == MSG_METHOD_ACK ||
	    m.buf != req || !(via = msg_top_via(&m)) || !(cs = msg_cseq(&m)) ||
	    via->branch.len == 0) {
		free(req);
		return EBADMSG;
	}
	k.buf = req;
	k.method = cs->method_id;
	k.rmethod = m.method;
	k.method_s = cs->method;
	k.branch = via->branch;
	k.hash = tsx_hash_end(tsx_hash_add(0, req + via->branch.off, via->branch.len));
	t = tsx_new(l, cs->method_id == MSG_METHOD_INVITE ? TSX_CLIENT_INVITE
							 : TSX_CLIENT_NON_INVITE,
		    req, len, &k);
	if (!t)
		return ENOMEM;
	t->dest = *dest;
	if (t->dest.conn)
		tp_conn_ref(t->dest.conn);
	t->reliable = tp_proto_reliable((enum tp_proto)dest->proto);
	t->fn = fn;
	t->arg = arg;
	tsx_link(t);
	if (t->kind == TSX_CLIENT_INVITE)
		tsx_cinv_start(t);
	else
		tsx_cnon_start(t);
	if (out)
		*out = mem_ref(t);
	return 0;
}

int tsx_request(struct tsx **out, struct tsx_layer *l, const struct tp_dest *dest,
		const char *req, size_t len, unsigned flags, tsx_response_fn *fn, void *arg)
{
	char *buf;
	uint32_t n;
	int err;

	if (len == 0 || len > MSG_MAX_SIZE)
		return EBADMSG;
	if (flags & TSX_ADD_VIA) {
		err = tsx_build_via(l, dest, req, len, &buf, &n);
		if (err)
			return err;
	} else {
		buf = malloc(len);
		if (!buf)
			return ENOMEM;
		memcpy(buf, req, len);
		n = (uint32_t)len;
	}
	return tsx_client_new(out, l, dest, buf, n, fn, arg);
}

static int send_built(struct tsx *t, char *data, uint32_t len, unsigned code, uint32_t headlen)
{
	struct tsx_ev ev = {.type = TSX_EV_SEND,
			    .code = (uint16_t)code,
			    .built = headlen != 0,
			    .headlen = headlen,
			    .data = data,
			    .len = len};

	return tsx_dispatch(t, &ev);
}

int tsx_respond(struct tsx *t, unsigned code, const char *reason, const char *hdrs,
		const char *body, size_t bodylen)
{
	char *data;
	uint32_t len, headlen;
	int err;

	if (!t->l)
		return ESRCH;
	if (!is_server(t) || code < 100 || code > 699)
		return EINVAL;
	err = tsx_build_response(t, code, reason, hdrs, body, bodylen, &data, &len, &headlen);
	if (err)
		return err;
	return send_built(t, data, len, code, headlen);
}

/* Adopt the To tag of a pre-built response as the transaction's tag. */
static void adopt_tag(struct tsx *t, struct msg *m)
{
	const struct msg_nameaddr *to = msg_to(m);

	if (t->tag_sent || m->status == 100 || !to || !to->has_tag || to->tag.len > TSX_TAG_MAX)
		return;
	(void)tsx_tag_set(t, span_ptr(m->buf, to->tag), to->tag.len, false);
}

int tsx_send_response(struct tsx *t, const char *data, size_t len)
{
	struct msg m;
	size_t used;
	char *copy;

	if (!t->l)
		return ESRCH;
	if (!is_server(t))
		return EINVAL;
	if (len == 0 || len > MSG_MAX_SIZE || msg_parse(&m, data, len, MSG_PARSE_DGRAM, &used) ||
	    m.is_request)
		return EBADMSG;
	if (m.status < 100 || m.status > 699)
		return EINVAL;
	copy = malloc(len);
	if (!copy)
		return ENOMEM;
	memcpy(copy, data, len);
	adopt_tag(t, &m);
	return send_built(t, copy, (uint32_t)len, m.status, 0);
}

static bool tag_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("-.!%*_+`'~", c) != NULL);
}

int tsx_set_tag(struct tsx *t, const char *tag, size_t len)
{
	if (!t->l)
		return ESRCH;
	if (!is_server(t) || len == 0 || len > TSX_TAG_MAX)
		return EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!tag_char(tag[i]))
			return EINVAL;
	if (t->tag_sent)
		return EALREADY;
	return tsx_tag_set(t, tag, len, false);
}

const char *tsx_tag_str(const struct tsx *t)
{
	if (!is_server(t))
		return "";
	return t->tag_long ? t->tag_long : t->tag;
}

const char *tsx_tag(struct tsx *t)
{
	if (is_server(t))
		tsx_tag_ensure(t);
	return tsx_tag_str(t);
}

struct tsx *tsx_cancel_target(struct tsx *t)
{
	struct tsx_key k;
	struct tsx *inv;

	if (!t->l || t->kind != TSX_SERVER_NON_INVITE || t->e.key.rmethod != MSG_METHOD_CANCEL)
		return NULL;
	k = t->e.key;
	k.method = MSG_METHOD_INVITE;
	k.rmethod = MSG_METHOD_INVITE;
	inv = tsx_group_find(t->l, &k);
	return inv && inv->e.worker == t->e.worker ? inv : NULL;
}

void tsx_detach(struct tsx *t)
{
	t->detached = true;
}

enum tsx_kind tsx_kind(const struct tsx *t)
{
	return (enum tsx_kind)t->kind;
}

enum tsx_state tsx_state(const struct tsx *t)
{
	return (enum tsx_state)t->state;
}

const char *tsx_request_buf(const struct tsx *t, size_t *len)
{
	*len = t->req ? t->reqlen : 0;
	return t->req;
}

const char *tsx_branch_of(const struct tsx *t, size_t *len)
{
	*len = t->e.key.branch.len;
	return t->e.key.buf + t->e.key.branch.off;
}

unsigned tsx_last_code(const struct tsx *t)
{
	return t->code;
}

struct tsx_layer *tsx_layer_of(const struct tsx *t)
{
	return t->l;
}

void tsx_set_user(struct tsx *t, void *user)
{
	t->user = user;
}

void *tsx_user(const struct tsx *t)
{
	return t->user;
}
