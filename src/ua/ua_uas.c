/*
 * ua_uas.c - calls we answer (RFC 3261 §13.3): 180 Ringing, then after the
 * ring delay 200 with our SDP answer (RFC 3264 §6) or the configured
 * rejection; the 2xx retransmitted until its ACK (§13.3.1.4, BYE after
 * 64*T1 without one); CANCEL (§9.2: 200, then 487); re-INVITEs answered
 * with a new SDP answer, hold included (RFC 3264 §8.4), 491 while one of
 * ours is pending (§14.2).
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
#define HDRS_MAX 4096

void ua_uas_ok_stop(struct ua_call *c)
{
	loop_timer_cancel(&c->rexmit);
	if (c->ok_tsx)
		c->ok_tsx = mem_deref(c->ok_tsx);
	free(c->ok_hdrs);
	free(c->ok_body);
	c->ok_hdrs = c->ok_body = NULL;
}

static void rexmit_fire(void *arg)
{
	struct ua_call *c = arg;
	struct ua *u = c->ua;

	c->ok_spent += c->ok_iv;
	if (c->ok_spent >= 64u * u->t1) {
		ua_uas_ok_stop(c);
		log_warn("event=no-ack call=%u initial=%d", c->no, c->ok_initial);
		/* §13.3.1.4: the dialog is confirmed but the session SHOULD end, with a
		 * BYE -- for the 2xx of a re-INVITE as for the initial one's */
		if (c->state == UA_CALL_UP && !c->hanging) {
			c->hanging = true;
			ua_call_bye(c);
		}
		return;
	}
	tsx_respond(c->ok_tsx, 200, NULL, c->ok_hdrs, c->ok_body, c->ok_bodylen);
	/* doubling up to T2, the last wait cut so that the BYE goes at 64*T1 sharp */
	loop_ms left = 64u * u->t1 - c->ok_spent;
	c->ok_iv = c->ok_iv * 2 < u->t2 ? c->ok_iv * 2 : u->t2;
	if (c->ok_iv > left)
		c->ok_iv = left;
	loop_timer_start(u->loop, &c->rexmit, c->ok_iv, rexmit_fire, c);
}

/* Send 200 on t and retransmit it until the ACK with its CSeq comes (§13.3.1.4). */
static int ok_start(struct ua_call *c, struct tsx *t, struct msg *req, const char *hdrs,
		    const char *body, size_t bodylen, bool initial)
{
	struct ua *u = c->ua;
	const struct msg_cseq *cs = msg_cseq(req);

	ua_uas_ok_stop(c);
	c->ok_hdrs = strdup(hdrs);
	c->ok_body = malloc(bodylen ? bodylen : 1);
	if (!c->ok_hdrs || !c->ok_body || !cs) {
		ua_uas_ok_stop(c);
		return ENOMEM;
	}
	memcpy(c->ok_body, body, bodylen);
	c->ok_bodylen = bodylen;
	c->ok_cseq = cs->num;
	c->ok_initial = initial;
	c->ok_tsx = mem_ref(t);
	c->ok_iv = u->t1;
	c->ok_spent = 0;
	int err = tsx_respond(t, 200, NULL, c->ok_hdrs, c->ok_body, c->ok_bodylen);
	if (err) {
		ua_uas_ok_stop(c);
		return err;
	}
	loop_timer_start(u->loop, &c->rexmit, c->ok_iv, rexmit_fire, c);
	return 0;
}

/* Response headers in the call's dialog (Record-Route for the dialog-creating one, Contact). */
static bool dialog_hdrs(struct ua_call *c, bool creating, bool sdp, char *out, size_t cap)
{
	size_t n = 0;

	if (dlg_response_hdrs(c->dlg, creating, out, cap, &n))
		return false;
	if (sdp &&
	    snprintf(out + n, cap - n, "Content-Type: application/sdp\r\n") >= (int)(cap - n))
		return false;
	return true;
}

/* Final non-2xx to the INVITE we have not answered yet; the call ends. */
static void reject(struct ua_call *c, unsigned code, const char *text)
{
	char hdrs[HDRS_MAX];

	if (c->inv && dialog_hdrs(c, true, false, hdrs, sizeof(hdrs)))
		ua_respond(c->inv, code, NULL, hdrs);
	else if (c->inv)
		ua_respond(c->inv, code, NULL, NULL);
	dlg_uas_answered(c->dlg, code);
	ua_call_end(c, code, text);
}

/* Our SDP for this answer: the answer to the INVITE's offer, or an offer of our own. */
static int answer_sdp(struct ua_call *c, char *out, size_t cap)
{
	struct msg_sdp *offer = NULL;
	int n;

	if (c->offer) {
		offer = malloc(sizeof(*offer));
		if (!offer ||
		    msg_sdp_parse(offer, c->offer, (struct span){0, (uint32_t)c->offerlen})) {
			free(offer);
			return -2;
		}
	}
	n = ua_call_sdp(c, offer, MSG_SDP_DIR_NONE, out, cap);
	free(offer);
	c->await_ack_sdp = n >= 0 && !c->offer;
	return n;
}

static void answer_now(struct ua_call *c)
{
	char sdp[SDP_MAX], hdrs[HDRS_MAX];
	struct msg req;
	size_t len, used;
	const char *buf = tsx_request_buf(c->inv, &len);
	int n = answer_sdp(c, sdp, sizeof(sdp));

	if (n == -2) {
		reject(c, 488, "no common codec");
		return;
	}
	if (n < 0 || !dialog_hdrs(c, true, true, hdrs, sizeof(hdrs)) ||
	    msg_parse(&req, buf, len, MSG_PARSE_DGRAM, &used) ||
	    ok_start(c, c->inv, &req, hdrs, sdp, (size_t)n, true)) {
		reject(c, 500, "could not answer");
		return;
	}
	dlg_uas_answered(c->dlg, 200);
	c->state = UA_CALL_UP;
	struct msg_sdp *ours = malloc(sizeof(*ours));
	if (ours && msg_sdp_parse(ours, sdp, (struct span){0, (uint32_t)n}) == 0)
		ua_sdp_codec(ours, c->codec, sizeof(c->codec));
	free(ours);
	if (!c->await_ack_sdp)
		ua_call_media_up(c);
}

static void ring_fire(void *arg)
{
	struct ua_call *c = arg;
	unsigned code = c->ua->answer.reject;

	if (c->state != UA_CALL_CALLING)
		return;
	if (code >= 300 && code <= 699)
		reject(c, code, "rejected");
	else
		answer_now(c);
}

/* Keep the INVITE's SDP offer (RFC 3264 §5); false when the body is not usable SDP. */
static bool keep_offer(struct ua_call *c, struct msg *m)
{
	if (!m->body.len)
		return true;
	struct msg_sdp *s = ua_sdp_of(m);
	free(s);
	if (!s)
		return false;
	c->offer = malloc(m->body.len);
	if (!c->offer)
		return false;
	memcpy(c->offer, m->buf + m->body.off, m->body.len);
	c->offerlen = m->body.len;
	return true;
}

void ua_uas_invite(struct ua *u, struct tsx *t, struct tp_rx *rx)
{
	struct msg *m = &rx->msg;
	const struct msg_nameaddr *from = msg_from(m);
	char hdrs[HDRS_MAX];

	if (!u->answer.enabled || ua_calls(u) >= u->answer.max_calls) {
		ua_respond(t, 486, NULL, NULL);
		return;
	}
	struct ua_call *c = ua_call_new(u, false, &u->answer.media);
	if (!c) {
		ua_respond(t, 500, NULL, NULL);
		return;
	}
	struct dlg_uas_opts o = {.local_tag = c->tag, .contact = u->contact};
	int err = dlg_tag_new(c->tag, sizeof(c->tag));
	if (!err)
		err = tsx_set_tag(t, c->tag, strlen(c->tag));
	if (!err)
		err = dlg_uas_create(&c->dlg, m, &o);
	if (!err)
		err = dlg_table_add(u->dlgs, c->dlg);
	if (err || !keep_offer(c, m)) {
		ua_respond(t, err == EBADMSG ? 400 : err ? 500 : 488, NULL, NULL);
		ua_call_free(c);
		return;
	}
	dlg_set_user(c->dlg, c);
	c->inv = mem_ref(t);
	tsx_set_user(t, c);
	if (from)
		ua_span_copy(m->buf, from->uri_s, c->from_uri, sizeof(c->from_uri));
	struct ua_event ev = {
	    .type = UA_EV_INCOMING, .call = c, .call_no = c->no, .uri = c->from_uri};
	ua_emit(u, &ev);
	if (c->state != UA_CALL_CALLING)
		return; /* hung up from the event */
	if (dialog_hdrs(c, true, false, hdrs, sizeof(hdrs)))
		ua_respond(t, 180, NULL, hdrs);
	loop_timer_start(u->loop, &c->ring, u->answer.ring_ms, ring_fire, c);
}

void ua_uas_cancel(struct ua *u, struct tsx *t)
{
	struct tsx *inv = tsx_cancel_target(t);
	struct ua_call *c = inv ? tsx_user(inv) : NULL;

	(void)u;
	if (!inv) {
		ua_respond(t, 481, NULL, NULL); /* §9.2 */
		return;
	}
	ua_respond(t, 200, NULL, NULL);
	if (c && c->inv == inv && c->state == UA_CALL_CALLING)
		reject(c, 487, "CANCEL from remote");
	else if (tsx_last_code(inv) < 200)
		ua_respond(inv, 487, NULL, NULL);
}

void ua_uas_ack(struct ua_call *c, struct tp_rx *rx)
{
	const struct msg_cseq *cs = msg_cseq(&rx->msg);

	if (!cs || !c->ok_tsx || cs->num != c->ok_cseq)
		return;
	ua_uas_ok_stop(c);
	if (!c->await_ack_sdp)
		return;
	/* offerless INVITE: our offer went in the 2xx, the answer comes here (§13.2.1) */
	c->await_ack_sdp = false;
	struct msg_sdp *sdp = ua_sdp_of(&rx->msg);
	int err = sdp ? media_sdp_answered(c->media, sdp) : ENOENT;
	if (!err)
		ua_sdp_codec(sdp, c->codec, sizeof(c->codec));
	free(sdp);
	if (err) {
		c->hanging = true;
		ua_call_bye(c);
		return;
	}
	if (c->ok_initial || !c->media_on)
		ua_call_media_up(c);
}

/* Our direction in the answer to offer (RFC 3264 §6.1): the offer's, mirrored. */
static enum msg_sdp_dir answer_dir(const struct msg_sdp *offer)
{
	if (!offer->nmedia)
		return MSG_SDP_SENDRECV;
	const struct msg_sdp_media *m = &offer->media[0];
	enum msg_sdp_dir d = msg_sdp_dir(offer, m);
	if (msg_sdp_held(offer, m) && d == MSG_SDP_SENDRECV)
		d = MSG_SDP_SENDONLY;
	else if (msg_sdp_held(offer, m) && d == MSG_SDP_RECVONLY)
		d = MSG_SDP_INACTIVE;
	return d == MSG_SDP_SENDONLY   ? MSG_SDP_RECVONLY
	       : d == MSG_SDP_RECVONLY ? MSG_SDP_SENDONLY
				       : d;
}

void ua_uas_reinvite(struct ua_call *c, struct tsx *t, struct tp_rx *rx)
{
	struct msg *m = &rx->msg;
	char sdp[SDP_MAX], hdrs[HDRS_MAX];

	if (c->state != UA_CALL_UP) {
		ua_respond(t, 500, NULL, "Retry-After: 1\r\n"); /* §14.2 */
		return;
	}
	if (c->reinv || c->ok_tsx) {
		ua_respond(t, 491, NULL, NULL); /* §14.2: glare */
		return;
	}
	struct msg_sdp *offer = ua_sdp_of(m);
	if (!offer && m->body.len) {
		ua_respond(t, 488, NULL, NULL);
		return;
	}
	int n = ua_call_sdp(c, offer, MSG_SDP_DIR_NONE, sdp, sizeof(sdp));
	enum msg_sdp_dir dir = offer ? answer_dir(offer) : MSG_SDP_SENDRECV;
	free(offer);
	if (n < 0) {
		ua_respond(t, n == -2 ? 488 : 500, NULL, NULL);
		return;
	}
	if (!dialog_hdrs(c, false, true, hdrs, sizeof(hdrs)) ||
	    ok_start(c, t, m, hdrs, sdp, (size_t)n, false)) {
		ua_respond(t, 500, NULL, NULL);
		return;
	}
	c->await_ack_sdp = !m->body.len;
	if (m->body.len)
		ua_call_hold_event(c, dir, true);
}

int ua_uas_hangup(struct ua_call *c, unsigned code)
{
	if (code < 300 || code > 699)
		code = 486;
	reject(c, code, "rejected");
	return 0;
}
