/*
 * ua_req.c - out-of-dialog client requests with digest retry (RFC 3261
 * §8.1, §22.2, §22.3), OPTIONS (§11) and MESSAGE (RFC 3428) both ways.
 *
 * A 401/407 is answered with auth_client_answer and the request is sent
 * again with the next CSeq (§8.1.3.5).  A challenge that says stale=true
 * may be answered again; a second challenge that is not stale ends the
 * request with that response (wrong password).  The latest challenge of
 * each kind is kept, so later requests carry credentials from the start
 * (the nonce-count goes up by one each time, RFC 7616 §3.4).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "ua"
#include "ringlet/auth.h"
#include "ringlet/log.h"
#include "ringlet/mem.h"
#include "ua/ua_int.h"

static void creq_destroy(void *p)
{
	struct ua_creq *r = p;

	list_remove(&r->node);
	ua_lookup_cancel(r->lk);
	if (r->t) {
		tsx_detach(r->t);
		mem_deref(r->t);
	}
	free(r->extra);
	free(r->ctype);
	free(r->body);
}

static char *dup_or_null(const char *s, bool *fail)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*fail = true;
	return d;
}

struct ua_creq *ua_creq_new(struct ua *u, const char *method, const char *ruri, const char *to,
			    const char *extra, const char *ctype, const char *body, size_t bodylen,
			    ua_creq_fn *done, void *arg)
{
	struct ua_creq *r = mem_alloc(sizeof(*r), creq_destroy);
	bool fail = false;

	if (!r)
		return NULL;
	r->ua = u;
	snprintf(r->method, sizeof(r->method), "%s", method);
	snprintf(r->ruri, sizeof(r->ruri), "%s", ruri);
	if (to)
		snprintf(r->to, sizeof(r->to), "%s", to);
	else
		snprintf(r->to, sizeof(r->to), "<%s>", ruri);
	ua_random_hex(u, r->from_tag, UA_TAG_LEN);
	ua_random_hex(u, r->callid, 24);
	r->cseq = 1;
	r->extra = dup_or_null(extra, &fail);
	r->ctype = dup_or_null(ctype, &fail);
	if (body && bodylen) {
		r->body = malloc(bodylen);
		if (r->body)
			memcpy(r->body, body, bodylen);
		else
			fail = true;
		r->bodylen = bodylen;
	}
	r->done = done;
	r->arg = arg;
	list_push_back(&u->reqs, &r->node);
	if (fail)
		return mem_deref(r);
	return r;
}

void ua_creq_drop(struct ua_creq *r)
{
	if (!r)
		return;
	r->done = NULL;
	ua_lookup_cancel(r->lk);
	r->lk = NULL;
	if (r->t) {
		tsx_detach(r->t);
		r->t = mem_deref(r->t);
	}
	mem_deref(r);
}

void ua_reqs_free(struct ua *u)
{
	struct list_node *n, *tmp;

	LIST_FOREACH_SAFE(&u->reqs, n, tmp)
	{
		struct ua_creq *r = LIST_ENTRY(n, struct ua_creq, node);
		list_remove(&r->node);
		ua_creq_drop(r);
	}
}

int ua_chal_keep(struct ua *u, const struct msg *resp)
{
	struct ua_chal *c = &u->chal[resp->status == 407 ? 1 : 0];
	char *d = malloc(resp->len);

	if (!d)
		return ENOMEM;
	memcpy(d, resp->buf, resp->len);
	free(c->data);
	c->data = d;
	c->len = resp->len;
	c->nc = 0;
	return 0;
}

void ua_chal_free(struct ua *u)
{
	for (size_t i = 0; i < ARRAY_SIZE(u->chal); i++) {
		free(u->chal[i].data);
		u->chal[i].data = NULL;
	}
}

size_t ua_credentials(struct ua *u, const char *method, const char *ruri, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = 0;
	if (!u->has_password)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(u->chal); i++) {
		struct ua_chal *c = &u->chal[i];
		struct msg m;
		size_t used;
		bool stale;
		if (!c->data || msg_parse(&m, c->data, c->len, MSG_PARSE_DGRAM, &used))
			continue;
		int w = auth_client_answer(&m, method, ruri, u->auth_user, u->password, ++c->nc,
					   &stale, out + n, cap - n);
		if (w > 0)
			n += (size_t)w;
	}
	return n;
}

int ua_creq_build(struct ua_creq *r, char *out, size_t cap)
{
	struct ua *u = r->ua;
	char cred[UA_AUTH_MAX];
	struct msg_out o;

	ua_credentials(u, r->method, r->ruri, cred, sizeof(cred));
	msg_out_init(&o, out, cap);
	msg_out_request_line(&o, r->method, r->ruri, strlen(r->ruri));
	msg_out_header(&o, "Max-Forwards", "70", 2);
	msg_out_headerf(&o, "From", "<%s>;tag=%s", u->aor, r->from_tag);
	msg_out_header(&o, "To", r->to, strlen(r->to));
	msg_out_header(&o, "Call-ID", r->callid, strlen(r->callid));
	msg_out_headerf(&o, "CSeq", "%u %s", r->cseq, r->method);
	msg_out_raw(&o, u->route, strlen(u->route));
	msg_out_raw(&o, cred, strlen(cred));
	msg_out_header(&o, "User-Agent", "Ringlet", 7);
	if (r->extra)
		msg_out_raw(&o, r->extra, strlen(r->extra));
	if (r->ctype)
		msg_out_header(&o, "Content-Type", r->ctype, strlen(r->ctype));
	if (msg_out_end(&o, r->body, r->bodylen))
		return -1;
	return (int)o.len;
}

static void creq_response(struct tsx *t, struct msg *resp, const struct tp_rx *rx, void *arg);

/* Build the request and start its transaction toward r->dest. */
static int creq_xmit(struct ua_creq *r)
{
	struct ua *u = r->ua;
	size_t cap = 4096 + UA_AUTH_MAX + r->bodylen + (r->extra ? strlen(r->extra) : 0);
	char *buf = malloc(cap);
	int len, err;

	if (!buf)
		return ENOMEM;
	len = ua_creq_build(r, buf, cap);
	if (r->t) {
		tsx_detach(r->t);
		r->t = mem_deref(r->t);
	}
	err = len < 0 ? EMSGSIZE
		      : tsx_request(&r->t, u->layer, &r->dest, buf, (size_t)len, TSX_ADD_VIA,
				    creq_response, r);
	free(buf);
	return err;
}

/* The request cannot go out: its owner hears a made-up final response (§8.1.3). */
static void creq_fail(struct ua_creq *r, unsigned code, const char *reason)
{
	char buf[512];
	struct msg m;
	size_t used;
	int n = snprintf(buf, sizeof(buf),
			 "SIP/2.0 %u %s\r\nCall-ID: %s\r\nCSeq: %u %s\r\nContent-Length: 0\r\n\r\n",
			 code, reason, r->callid, r->cseq, r->method);

	if (n <= 0 || (size_t)n >= sizeof(buf) || msg_parse(&m, buf, (size_t)n, 0, &used))
		return;
	mem_ref(r);
	if (r->done)
		r->done(r, &m, r->arg);
	mem_deref(r);
}

static void creq_resolved(int err, const struct tp_dest *d, void *arg)
{
	struct ua_creq *r = arg;

	r->lk = NULL;
	if (!err) {
		r->dest = *d;
		err = creq_xmit(r);
	}
	if (err)
		creq_fail(r, 503,
			  err == ENOENT || err == EHOSTUNREACH ? "Host Not Found"
							       : "Service Unavailable");
}

int ua_creq_send(struct ua_creq *r)
{
	struct ua *u = r->ua;
	int err = ua_dest(u, r->ruri, &r->dest);

	if (err == EHOSTUNREACH && u->dns) {
		ua_lookup_cancel(r->lk);
		r->lk = ua_lookup(u, r->ruri, creq_resolved, r);
		return r->lk ? 0 : EHOSTUNREACH;
	}
	return err ? err : creq_xmit(r);
}

bool ua_auth_retry(struct ua *u, struct msg *resp, const char *method, const char *ruri,
		   unsigned *challenges)
{
	char probe[UA_AUTH_MAX];
	bool stale = false;

	if (!u->has_password)
		return false;
	int w = auth_client_answer(resp, method, ruri, u->auth_user, u->password, 1, &stale, probe,
				   sizeof(probe));
	if (w <= 0)
		return false;
	if (!stale && ++*challenges >= UA_MAX_CHALLENGES)
		return false;
	return ua_chal_keep(u, resp) == 0;
}

/* 401/407: send again with credentials when it makes sense; true if it was sent. */
static bool retry_auth(struct ua_creq *r, struct msg *resp)
{
	if (!ua_auth_retry(r->ua, resp, r->method, r->ruri, &r->challenges))
		return false;
	r->cseq++;
	return ua_creq_send(r) == 0;
}

static void creq_response(struct tsx *t, struct msg *resp, const struct tp_rx *rx, void *arg)
{
	struct ua_creq *r = arg;

	(void)rx;
	if (t != r->t || resp->status < 200)
		return;
	if ((resp->status == 401 || resp->status == 407) && retry_auth(r, resp))
		return;
	mem_ref(r);
	if (r->done)
		r->done(r, resp, r->arg);
	mem_deref(r);
}

/* The elements of every header id of m joined by ", " into out. */
static void join_hdr(struct msg *m, enum msg_hdr_id id, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = 0;
	for (const struct msg_hdr *h = msg_hdr_find(m, id); h && n + 3 < cap;
	     h = msg_hdr_next(m, h)) {
		if (n) {
			memcpy(out + n, ", ", 3);
			n += 2;
		}
		ua_span_copy(m->buf, h->value, out + n, cap - n);
		n += strlen(out + n);
	}
}

/* The final response to our OPTIONS or MESSAGE: one event, and the request is done. */
static void simple_done(struct ua_creq *r, struct msg *resp, void *arg)
{
	struct ua *u = r->ua;
	char reason[128], allow[512], accept[512], supported[512];
	struct ua_event ev = {
	    .type = UA_EV_RESPONSE, .code = resp->status, .reason = reason, .text = r->method};

	(void)arg;
	ua_span_copy(resp->buf, resp->reason, reason, sizeof(reason));
	if (!strcmp(r->method, "OPTIONS")) {
		join_hdr(resp, MSG_HDR_ALLOW, allow, sizeof(allow));
		join_hdr(resp, MSG_HDR_ACCEPT, accept, sizeof(accept));
		join_hdr(resp, MSG_HDR_SUPPORTED, supported, sizeof(supported));
		ev.allow = allow;
		ev.accept = accept;
		ev.supported = supported;
	}
	ev.uri = r->ruri;
	ua_emit(u, &ev);
	ua_creq_drop(r);
}

/* A fire-and-forget request: its reference is dropped by simple_done. */
static int simple_send(struct ua *u, const char *method, const char *uri, const char *extra,
		       const char *ctype, const char *body)
{
	char ruri[UA_URI_MAX];
	struct msg_uri mu;

	if (ua_with_scheme(uri, ruri, sizeof(ruri)) || ua_uri_parse(ruri, &mu))
		return EINVAL;
	struct ua_creq *r = ua_creq_new(u, method, ruri, NULL, extra, ctype, body,
					body ? strlen(body) : 0, simple_done, NULL);
	if (!r)
		return ENOMEM;
	int err = ua_creq_send(r);
	if (err)
		ua_creq_drop(r);
	return err;
}

int ua_options(struct ua *u, const char *uri)
{
	return simple_send(u, "OPTIONS", uri, "Accept: application/sdp\r\n", NULL, NULL);
}

int ua_message(struct ua *u, const char *uri, const char *text)
{
	return simple_send(u, "MESSAGE", uri, NULL, "text/plain;charset=UTF-8", text);
}

void ua_req_options_in(struct ua *u, struct tsx *t, struct tp_rx *rx)
{
	char hdrs[256];

	(void)u;
	(void)rx;
	snprintf(hdrs, sizeof(hdrs), "%sAccept: application/sdp, text/plain\r\n", ua_allow_hdr);
	ua_respond(t, 200, NULL, hdrs);
}

/* True if m's Content-Type is text/plain (absent counts as text, RFC 3428 §7). */
static bool is_text(struct msg *m)
{
	const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_CONTENT_TYPE);
	struct msg_ctype ct;

	if (!h)
		return true;
	return msg_ctype_parse(m->buf, h->value, &ct) == 0 && span_ieq(m->buf, ct.type, "text");
}

void ua_req_message_in(struct ua *u, struct tsx *t, struct tp_rx *rx)
{
	struct msg *m = &rx->msg;
	const struct msg_nameaddr *from = msg_from(m);
	char furi[UA_URI_MAX];
	struct ua_event ev = {.type = UA_EV_MESSAGE, .uri = furi};

	if (!is_text(m)) {
		ua_respond(t, 415, NULL, "Accept: text/plain\r\n");
		return;
	}
	char *text = malloc((size_t)m->body.len + 1);
	if (!text) {
		ua_respond(t, 500, NULL, NULL);
		return;
	}
	memcpy(text, m->buf + m->body.off, m->body.len);
	text[m->body.len] = 0;
	furi[0] = 0;
	if (from)
		ua_span_copy(m->buf, from->uri_s, furi, sizeof(furi));
	ua_respond(t, 200, NULL, NULL);
	ev.text = text;
	ua_emit(u, &ev);
	free(text);
}
