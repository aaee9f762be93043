/*
 * ua_reg.c - the registration client (RFC 3261 §10.2): REGISTER with the
 * AOR in To and From, one Call-ID and a rising CSeq for every REGISTER of
 * the UA (§10.2.4), our Contact with Expires, digest retry (ua_req.c),
 * 423 answered with the Min-Expires asked (§10.2.8), refresh at half the
 * granted expiry, un-REGISTER with Expires: 0 (§10.2.2).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOG_MODULE "ua"
#include "ringlet/log.h"
#include "ringlet/mem.h"
#include "ua/ua_int.h"

#define RETRY_S 30 /* a failed refresh is tried again this much later (at most) */

static void reg_done(struct ua_creq *r, struct msg *resp, void *arg);

static int send_register(struct ua *u, uint32_t expires)
{
	struct ua_reg *g = &u->reg;
	char to[UA_URI_MAX + 2], extra[UA_URI_MAX + 64];

	snprintf(to, sizeof(to), "<%s>", u->aor);
	snprintf(extra, sizeof(extra), "Contact: %s\r\nExpires: %u\r\n", u->contact, expires);
	struct ua_creq *r =
	    ua_creq_new(u, "REGISTER", u->aor_domain, to, extra, NULL, NULL, 0, reg_done, NULL);
	if (!r)
		return ENOMEM;
	snprintf(r->callid, sizeof(r->callid), "%s", g->callid);
	snprintf(r->from_tag, sizeof(r->from_tag), "%s", g->from_tag);
	r->cseq = ++g->cseq;
	ua_creq_drop(g->r);
	g->r = r;
	int err = ua_creq_send(r);
	if (err)
		g->r = NULL, ua_creq_drop(r);
	return err;
}

static void refresh_fire(void *arg)
{
	struct ua *u = arg;
	struct ua_reg *g = &u->reg;

	if (!g->active || g->unreg || g->r)
		return;
	int err = send_register(u, g->asked);
	if (err) {
		struct ua_event ev = {
		    .type = UA_EV_REG_FAILED, .code = 0, .reason = strerror(err), .uri = u->aor};
		ua_emit(u, &ev);
		loop_timer_start(u->loop, &g->refresh, RETRY_S * 1000u, refresh_fire, u);
	}
}

/* The refresh point: half the granted expiry (at least 1 s), RFC 3261 §10.2.1 leaves it to us. */
static void arm_refresh(struct ua *u, uint32_t s)
{
	loop_ms ms = s > 1 ? (loop_ms)s * 500u : 1000u;

	loop_timer_start(u->loop, &u->reg.refresh, ms, refresh_fire, u);
}

/* The expiry of contact c in the 2xx: its expires parameter, else the Expires header. */
static uint32_t contact_expires(struct msg *m, const struct msg_contact *c, uint32_t dflt)
{
	const struct msg_hdr *h;
	uint32_t v;

	if (c->expires >= 0)
		return (uint32_t)c->expires;
	h = msg_hdr_find(m, MSG_HDR_EXPIRES);
	if (h && msg_uint_parse(m->buf, h->value, UINT32_MAX, &v) == 0)
		return v;
	return dflt;
}

/* UA_EV_BINDING per Contact of the 2xx; returns the expiry granted to ours. */
static uint32_t report_bindings(struct ua *u, struct msg *m)
{
	struct msg_uri mine;
	char curi[UA_URI_MAX];
	size_t cl = strlen(u->contact);
	uint32_t granted = u->reg.asked;
	bool found = false;

	if (cl < 2 || msg_uri_parse(u->contact, (struct span){1, (uint32_t)(cl - 2)}, &mine))
		return granted;
	for (const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_CONTACT); h;
	     h = msg_hdr_next(m, h)) {
		struct msg_contact c;
		if (msg_contact_parse(m->buf, h->value, &c) || c.star)
			continue;
		uint32_t e = contact_expires(m, &c, u->reg.asked);
		ua_span_copy(m->buf, c.na.uri_s, curi, sizeof(curi));
		struct ua_event ev = {.type = UA_EV_BINDING, .uri = curi, .expires = e};
		ua_emit(u, &ev);
		if (!found && msg_uri_equal(u->contact, &mine, m->buf, &c.na.uri)) {
			granted = e;
			found = true;
		}
	}
	if (!found) {
		const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_EXPIRES);
		uint32_t v;
		if (h && msg_uint_parse(m->buf, h->value, UINT32_MAX, &v) == 0)
			granted = v;
	}
	return granted;
}

static void unreg_done(struct ua *u, struct msg *resp)
{
	struct ua_reg *g = &u->reg;
	char reason[128];
	struct ua_event ev = {
	    .type = UA_EV_UNREGISTERED, .code = resp->status, .reason = reason, .uri = u->aor};

	ua_span_copy(resp->buf, resp->reason, reason, sizeof(reason));
	g->active = g->registered = g->unreg = false;
	ua_emit(u, &ev);
}

/* 423 (§10.2.8): ask again for at least Min-Expires; false if that makes no sense. */
static bool retry_423(struct ua *u, struct msg *resp)
{
	const struct msg_hdr *h = msg_hdr_find(resp, MSG_HDR_MIN_EXPIRES);
	uint32_t min;

	if (!h || msg_uint_parse(resp->buf, h->value, UINT32_MAX, &min) || min <= u->reg.asked)
		return false;
	u->reg.asked = min;
	return send_register(u, min) == 0;
}

static void reg_done(struct ua_creq *r, struct msg *resp, void *arg)
{
	struct ua *u = r->ua;
	struct ua_reg *g = &u->reg;
	char reason[128];

	(void)arg;
	if (g->r == r) {
		g->cseq = r->cseq > g->cseq ? r->cseq : g->cseq;
		g->r = NULL;
		mem_deref(r); /* the reference send_register kept in g->r */
	}
	if (g->unreg) {
		unreg_done(u, resp);
		return;
	}
	if (resp->status >= 200 && resp->status < 300) {
		g->granted = report_bindings(u, resp);
		g->registered = g->granted > 0;
		struct ua_event ev = {.type = UA_EV_REGISTERED,
				      .uri = u->aor,
				      .expires = g->granted,
				      .code = resp->status};
		ua_emit(u, &ev);
		if (g->granted)
			arm_refresh(u, g->granted);
		return;
	}
	if (resp->status == 423 && retry_423(u, resp))
		return;
	ua_span_copy(resp->buf, resp->reason, reason, sizeof(reason));
	struct ua_event ev = {
	    .type = UA_EV_REG_FAILED, .code = resp->status, .reason = reason, .uri = u->aor};
	if (g->registered) {
		uint32_t s = g->granted / 2 < RETRY_S ? g->granted / 2 : RETRY_S;
		loop_timer_start(u->loop, &g->refresh, (s ? s : 1) * 1000u, refresh_fire, u);
	} else {
		g->active = false;
	}
	ua_emit(u, &ev);
}

int ua_register(struct ua *u)
{
	struct ua_reg *g = &u->reg;

	if (g->active)
		return EALREADY;
	if (!g->callid[0]) {
		ua_random_hex(u, g->callid, 24);
		ua_random_hex(u, g->from_tag, UA_TAG_LEN);
	}
	g->asked = u->expires;
	g->active = true;
	g->unreg = false;
	int err = send_register(u, g->asked);
	if (err)
		g->active = false;
	return err;
}

int ua_unregister(struct ua *u)
{
	struct ua_reg *g = &u->reg;

	if (!g->active || g->unreg)
		return ENOENT;
	loop_timer_cancel(&g->refresh);
	g->unreg = true;
	int err = send_register(u, 0);
	if (err) {
		g->active = g->registered = g->unreg = false;
		struct ua_event ev = {
		    .type = UA_EV_UNREGISTERED, .code = 0, .reason = strerror(err), .uri = u->aor};
		ua_emit(u, &ev);
	}
	return 0;
}

bool ua_reg_busy(const struct ua *u)
{
	return u->reg.r != NULL;
}

void ua_reg_free(struct ua *u)
{
	loop_timer_cancel(&u->reg.refresh);
	ua_creq_drop(u->reg.r);
	u->reg.r = NULL;
}
