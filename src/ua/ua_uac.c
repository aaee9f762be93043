/*
 * ua_uac.c - calls we place (RFC 3261 §13.2): the INVITE with our SDP
 * offer, provisional responses, redirects (§8.1.3.4: the first Contact of
 * a 3xx, a bounded number of times), digest (§22.2), the ACK of every 2xx
 * (§13.2.2.4, dlg.h), a forked second 2xx ACKed and ended with BYE,
 * CANCEL (§9.1), and our re-INVITEs to hold and resume (RFC 3264 §8.4).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "ua"
#include "ringlet/log.h"
#include "ringlet/mem.h"
#include "ua/ua_int.h"

#define SDP_MAX 2048

static void inv_response(struct tsx *t, struct msg *resp, const struct tp_rx *rx, void *arg)
{
	struct ua_call *c = arg;

	(void)rx;
	if (t == c->inv)
		ua_uac_response(c, resp, false);
}

/* Build and send the (initial) INVITE for c->target to dest, with a fork to track its dialogs. */
static int send_invite_to(struct ua_call *c, const struct tp_dest *dest)
{
	struct ua *u = c->ua;
	char sdp[SDP_MAX], cred[UA_AUTH_MAX];
	size_t cap = 4096 + SDP_MAX + UA_AUTH_MAX, n;
	struct msg_out o;
	int sl = ua_call_sdp(c, NULL, MSG_SDP_DIR_NONE, sdp, sizeof(sdp));
	int err;

	if (sl < 0)
		return EMSGSIZE;
	char *buf = malloc(cap);
	if (!buf)
		return ENOMEM;
	ua_credentials(u, "INVITE", c->target, cred, sizeof(cred));
	msg_out_init(&o, buf, cap);
	msg_out_request_line(&o, "INVITE", c->target, strlen(c->target));
	msg_out_header(&o, "Max-Forwards", "70", 2);
	msg_out_headerf(&o, "From", "<%s>;tag=%s", u->aor, c->from_tag);
	msg_out_header(&o, "To", c->to, strlen(c->to));
	msg_out_header(&o, "Call-ID", c->callid, strlen(c->callid));
	msg_out_headerf(&o, "CSeq", "%u INVITE", c->cseq);
	msg_out_header(&o, "Contact", u->contact, strlen(u->contact));
	msg_out_raw(&o, u->route, strlen(u->route));
	msg_out_raw(&o, cred, strlen(cred));
	msg_out_raw(&o, ua_allow_hdr, strlen(ua_allow_hdr));
	msg_out_header(&o, "User-Agent", "Ringlet", 7);
	msg_out_header(&o, "Content-Type", "application/sdp", 15);
	err = msg_out_end(&o, sdp, (size_t)sl);
	if (!err) {
		if (c->inv) {
			tsx_detach(c->inv);
			c->inv = mem_deref(c->inv);
		}
		err =
		    tsx_request(&c->inv, u->layer, dest, buf, o.len, TSX_ADD_VIA, inv_response, c);
	}
	free(buf);
	if (err)
		return err;
	if (c->fork) {
		dlg_fork_end(c->fork);
		c->fork = mem_deref(c->fork);
	}
	const char *req = tsx_request_buf(c->inv, &n);
	err = dlg_fork_alloc(&c->fork, u->dlgs, req, n);
	if (err)
		log_warn("event=fork-alloc-failed err=%d", err);
	return err;
}

static void target_resolved(int err, const struct tp_dest *d, void *arg)
{
	struct ua_call *c = arg;

	c->lk = NULL;
	if (!err)
		err = send_invite_to(c, d);
	if (err)
		ua_call_end(c, 0,
			    err == ENOENT || err == EHOSTUNREACH ? "host not found"
								 : "INVITE could not be sent");
}

/* Send the INVITE to the target (or the outbound proxy), resolving a host name first. */
static int send_invite(struct ua_call *c)
{
	struct ua *u = c->ua;
	struct tp_dest dest;
	int err = ua_dest(u, c->target, &dest);

	if (err == EHOSTUNREACH && u->dns) {
		ua_lookup_cancel(c->lk);
		c->lk = ua_lookup(u, c->target, target_resolved, c);
		return c->lk ? 0 : EHOSTUNREACH;
	}
	return err ? err : send_invite_to(c, &dest);
}

int ua_call(struct ua *u, const char *uri, const struct ua_media_conf *mc, struct ua_call **out)
{
	char target[UA_URI_MAX];
	struct msg_uri mu;

	if (ua_with_scheme(uri, target, sizeof(target)) || ua_uri_parse(target, &mu) ||
	    (mu.scheme != MSG_URI_SIP && mu.scheme != MSG_URI_SIPS))
		return EINVAL;
	if (ua_calls(u))
		return EBUSY;
	struct ua_call *c = ua_call_new(u, true, mc);
	if (!c)
		return ENOMEM;
	snprintf(c->target, sizeof(c->target), "%s", target);
	snprintf(c->from_uri, sizeof(c->from_uri), "%s", target);
	snprintf(c->to, sizeof(c->to), "<%s>", target);
	int err = dlg_callid_new(c->callid, sizeof(c->callid));
	if (!err)
		err = dlg_tag_new(c->from_tag, sizeof(c->from_tag));
	c->cseq = 1;
	if (!err)
		err = send_invite(c);
	if (err) {
		ua_call_free(c);
		return err;
	}
	if (out)
		*out = c;
	return 0;
}

/* ACK for a 2xx to INVITE inv[0..invlen) in dialog d (§13.2.2.4): no transaction. */
static void send_ack(struct ua_call *c, struct dlg *d, const char *inv, size_t invlen)
{
	int err = ua_call_ack(c, d, inv, invlen);

	if (err)
		log_warn("event=ack-failed call=%u err=%d", c->no, err);
}

/* A 2xx of another fork while we have our call (§13.2.2.4): ACK it, then BYE it. */
static void ack_bye(struct ua_call *c, struct dlg *d)
{
	size_t invlen;
	const char *inv = dlg_fork_request(c->fork, &invlen);
	struct dlg_msg bye;

	send_ack(c, d, inv, invlen);
	bye.cap = dlg_msg_size(d, NULL);
	bye.buf = malloc(bye.cap);
	if (bye.buf && dlg_request(d, "BYE", NULL, &bye) == 0 &&
	    ua_call_send(c, &bye, NULL, NULL) == 0)
		log_info("event=forked-2xx-ended call=%u", c->no);
	dlg_terminate(d);
	free(bye.buf);
}

/* The first 2xx: ACK, the answer's media, UA_EV_ANSWERED; or BYE when unusable / unwanted. */
static void confirmed(struct ua_call *c, struct dlg *d, struct msg *resp)
{
	size_t invlen;
	const char *inv = dlg_fork_request(c->fork, &invlen);

	c->dlg = mem_ref(d);
	dlg_set_user(d, c);
	send_ack(c, d, inv, invlen);
	c->state = UA_CALL_UP;
	struct msg_sdp *sdp = ua_sdp_of(resp);
	int err = sdp ? media_sdp_answered(c->media, sdp) : ENOENT;
	if (!err)
		ua_sdp_codec(sdp, c->codec, sizeof(c->codec));
	free(sdp);
	if (err) {
		log_warn("event=no-usable-answer call=%u err=%d", c->no, err);
		c->hanging = true;
		ua_call_bye(c);
		return;
	}
	ua_call_media_up(c);
	if (c->hanging && c->state == UA_CALL_UP)
		ua_call_bye(c); /* our CANCEL lost the race with the 2xx (§9.1) */
}

/* 3xx (§8.1.3.4): try the first Contact; false when there is none or too many redirects. */
static bool redirect(struct ua_call *c, struct msg *resp)
{
	const struct msg_hdr *h = msg_hdr_find(resp, MSG_HDR_CONTACT);
	struct msg_contact ct;

	if (c->hanging || c->redirects >= UA_MAX_REDIRECTS || !h ||
	    msg_contact_parse(resp->buf, h->value, &ct) || ct.star ||
	    (ct.na.uri.scheme != MSG_URI_SIP && ct.na.uri.scheme != MSG_URI_SIPS) ||
	    ct.na.uri_s.len >= sizeof(c->target))
		return false;
	ua_span_copy(resp->buf, ct.na.uri_s, c->target, sizeof(c->target));
	c->redirects++;
	c->cseq++;
	c->challenges = 0;
	struct ua_event ev = {.type = UA_EV_REDIRECT,
			      .call = c,
			      .call_no = c->no,
			      .code = resp->status,
			      .uri = c->target};
	ua_emit(c->ua, &ev);
	return send_invite(c) == 0;
}

void ua_uac_response(struct ua_call *c, struct msg *resp, bool stray)
{
	struct ua *u = c->ua;
	struct dlg *d = NULL;
	enum dlg_event ev = DLG_EV_NONE;
	unsigned st = resp->status;
	int err = c->fork ? dlg_fork_response(c->fork, resp, &d, &ev) : EINVAL;

	if (c->state == UA_CALL_ENDED)
		return;
	if (st < 200) {
		char reason[128];
		ua_span_copy(resp->buf, resp->reason, reason, sizeof(reason));
		struct ua_event e = {.type = UA_EV_PROGRESS,
				     .call = c,
				     .call_no = c->no,
				     .code = st,
				     .reason = reason};
		if (!stray)
			ua_emit(u, &e);
		return;
	}
	if (st < 300) {
		size_t invlen;
		const char *inv = c->fork ? dlg_fork_request(c->fork, &invlen) : NULL;
		if (err == 0 && ev == DLG_EV_CONFIRMED && !c->dlg)
			confirmed(c, d, resp);
		else if (err == 0 && (ev == DLG_EV_RETRANSMIT || ev == DLG_EV_CONFIRMED))
			send_ack(c, d, inv, invlen);
		else if (err == 0 && ev == DLG_EV_FORKED)
			ack_bye(c, d);
		else if (!c->dlg && !stray)
			ua_call_end(c, 0, "unusable 2xx (no dialog)");
		return;
	}
	if (stray)
		return;
	if (st >= 300 && st < 400 && redirect(c, resp))
		return;
	if ((st == 401 || st == 407) && !c->hanging &&
	    ua_auth_retry(u, resp, "INVITE", c->target, &c->challenges)) {
		c->cseq++;
		if (send_invite(c) == 0)
			return;
	}
	ua_call_reason(c, resp);
	ua_call_end(c, st, c->hanging ? "cancelled" : "call failed");
}

int ua_uac_hangup(struct ua_call *c)
{
	if (c->lk) { /* nothing sent yet */
		ua_lookup_cancel(c->lk);
		c->lk = NULL;
		ua_call_end(c, 0, "cancelled");
		return 0;
	}
	int err = c->inv ? tsx_cancel(c->inv, NULL, NULL) : ESRCH;

	if (err == 0 || c->state == UA_CALL_UP)
		return 0;
	ua_call_end(c, 0, "cancelled");
	return 0;
}

static void reinv_response(struct tsx *t, struct msg *resp, const struct tp_rx *rx, void *arg)
{
	struct ua_call *c = arg;
	size_t n;

	(void)rx;
	if (t != c->reinv || resp->status < 200 || c->state != UA_CALL_UP)
		return;
	dlg_response(c->dlg, resp);
	if (resp->status >= 300) {
		c->reinv = mem_deref(c->reinv);
		if (dlg_state(c->dlg) == DLG_TERMINATED) {
			ua_call_reason(c, resp);
			ua_call_end(c, resp->status, "re-INVITE failed");
		}
		return;
	}
	const char *req = tsx_request_buf(t, &n);
	char *copy = malloc(n);
	if (copy) {
		memcpy(copy, req, n);
		free(c->reinv_req);
		c->reinv_req = copy;
		c->reinv_len = n;
		send_ack(c, c->dlg, copy, n);
	}
	c->reinv = mem_deref(c->reinv);
	struct msg_sdp *sdp = ua_sdp_of(resp);
	if (sdp && media_sdp_answered(c->media, sdp) == 0) {
		enum msg_sdp_dir peer =
		    sdp->nmedia ? msg_sdp_dir(sdp, &sdp->media[0]) : MSG_SDP_SENDRECV;
		enum msg_sdp_dir ours = peer == MSG_SDP_RECVONLY   ? MSG_SDP_SENDONLY
					: peer == MSG_SDP_SENDONLY ? MSG_SDP_RECVONLY
								   : peer;
		ua_call_hold_event(c, ours, false);
	}
	free(sdp);
}

int ua_reinvite(struct ua_call *c, bool hold)
{
	char sdp[SDP_MAX];
	struct dlg_extra x = {.hdrs = "Content-Type: application/sdp\r\n", .body = sdp};
	struct dlg_msg m;
	int sl = ua_call_sdp(c, NULL, hold ? MSG_SDP_SENDONLY : MSG_SDP_SENDRECV, sdp, sizeof(sdp));

	if (sl < 0)
		return EMSGSIZE;
	x.bodylen = (size_t)sl;
	m.cap = dlg_msg_size(c->dlg, &x);
	m.buf = malloc(m.cap);
	if (!m.buf)
		return ENOMEM;
	int err = dlg_request(c->dlg, "INVITE", &x, &m);
	if (!err)
		err = ua_call_send(c, &m, &c->reinv, reinv_response);
	free(m.buf);
	c->hold_wanted = hold;
	return err;
}

void ua_uac_reack(struct ua_call *c, struct dlg *d, struct msg *resp)
{
	struct msg req;
	size_t used;
	const struct msg_cseq *a, *b;

	if (!c->reinv_req || msg_parse(&req, c->reinv_req, c->reinv_len, MSG_PARSE_DGRAM, &used))
		return;
	a = msg_cseq(&req);
	b = msg_cseq(resp);
	if (a && b && a->num == b->num)
		send_ack(c, d, c->reinv_req, c->reinv_len);
}
