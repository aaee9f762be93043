/*
 * tsx_sinv.c - the server INVITE transaction (RFC 3261 §17.2.1, Figure 7,
 * with the Accepted state of RFC 6026 §7.1).
 *
 *   Proceeding --TU 300-699--> Completed --ACK--> Confirmed --Timer I--> Terminated
 *      |                          +--Timer H / transport error: tell the TU--> Terminated
 *      +--TU 2xx--> Accepted --Timer L--> Terminated
 *   Proceeding: a retransmitted INVITE gets the last provisional again; 100
 *   Trying goes out by itself when the TU is silent for 200 ms.
 *   Completed: Timer G retransmits the final (T1 doubling up to T2,
 *   unreliable only), Timer H (64*T1) gives up.  Confirmed: Timer I (T4, 0
 *   if reliable) absorbs ACK retransmissions.  Accepted: INVITE
 *   retransmissions are absorbed, ACKs go up to the TU, 2xx from the TU go
 *   out; Timer L = 64*T1.  Once the final response is out, the transaction
 *   keeps only what it still uses (tsx_shed): the key, the non-2xx final
 *   in Completed, nothing more in Confirmed and Accepted; an Accepted one
 *   the TU let go becomes a record (tsx_done.c).
 */
#include <errno.h>
#include <stdlib.h>

#include "ringlet/mem.h"
#include "tsx/tsx_int.h"

void tsx_sinv_start(struct tsx *t)
{
	t->state = TSX_STATE_PROCEEDING;
	tsx_timer_tr(t, TSX_TIMER_TRYING, t->l->tm.trying);
}

/* A response the transaction may not send any more. */
static int refuse(const struct tsx_ev *ev)
{
	free(ev->data);
	return EALREADY;
}

/* Retransmit the last response; a transport error ends t (§17.2.4). */
static int resend(struct tsx *t)
{
	int err = t->resp ? tsx_xmit(t, t->resp, t->resplen) : 0;

	if (err)
		tsx_fail(t, err);
	return 0;
}

/*
 * A response from the TU (or the 100 of the Trying timer) in Proceeding.
 * The transport error of a TU send is returned to it, not reported again.
 */
static int send_response(struct tsx *t, const struct tsx_ev *ev, bool from_tu)
{
	const struct tsx_times *tm = &t->l->tm;
	int err;

	loop_timer_cancel(&t->tr);
	tsx_keep_response(t, ev->data, ev->len, ev->code);
	err = tsx_xmit(t, t->resp, t->resplen);
	if (err) {
		if (from_tu)
			tsx_terminate(t);
		else
			tsx_fail(t, err);
		return err;
	}
	if (ev->code < 200)
		return 0;
	if (ev->code < 300) {
		/*
		 * The TU retransmits the 2xx (RFC 6026 §7.1), so nothing is
		 * resent from here: keep the key only, and the request too if
		 * the TU builds its retransmissions with tsx_respond.
		 */
		t->state = TSX_STATE_ACCEPTED;
		t->keep_req = ev->built;
		tsx_shed(t, false);
		tsx_timer_to(t, TSX_TIMER_L, 64 * tm->t1);
		/* once the TU has let go, a smaller record does the rest (tsx_done.c) */
		tsx_timer_tr(t, TSX_TIMER_COMPACT, 0);
		return 0;
	}
	t->state = TSX_STATE_COMPLETED;
	tsx_shed(t, true);
	if (!t->reliable) {
		t->tr_ival = (uint32_t)tm->t1;
		tsx_timer_tr(t, TSX_TIMER_G, tm->t1);
	}
	tsx_timer_to(t, TSX_TIMER_H, 64 * tm->t1);
	return 0;
}

/* §17.2.1: 100 Trying when the TU has not answered within 200 ms. */
static int send_trying(struct tsx *t)
{
	struct tsx_ev ev = {.type = TSX_EV_SEND, .code = 100};

	if (tsx_build_response(t, 100, NULL, NULL, NULL, 0, &ev.data, &ev.len, NULL))
		return 0;
	return send_response(t, &ev, false);
}

static int proceeding(struct tsx *t, const struct tsx_ev *ev)
{
	switch (ev->type) {
	case TSX_EV_SEND:
		return send_response(t, ev, true);
	case TSX_EV_RX:
		if (ev->rx->msg.method == MSG_METHOD_INVITE)
			return resend(t);
		return 0;
	case TSX_EV_TIMER:
		return ev->timer == TSX_TIMER_TRYING ? send_trying(t) : 0;
	default:
		return 0;
	}
}

static int completed(struct tsx *t, const struct tsx_ev *ev)
{
	const struct tsx_times *tm = &t->l->tm;

	switch (ev->type) {
	case TSX_EV_SEND:
		return refuse(ev);
	case TSX_EV_RX:
		if (ev->rx->msg.method == MSG_METHOD_INVITE)
			return resend(t);
		/* The ACK of the non-2xx final (§17.2.1). */
		loop_timer_cancel(&t->tr);
		loop_timer_cancel(&t->to);
		t->state = TSX_STATE_CONFIRMED;
		tsx_shed(t, false); /* ACK retransmissions need no answer */
		if (t->reliable)
			tsx_terminate(t);
		else
			tsx_timer_to(t, TSX_TIMER_I, tm->t4);
		return 0;
	case TSX_EV_TIMER:
		if (ev->timer == TSX_TIMER_H) {
			tsx_fail(t, ETIMEDOUT);
		} else if (ev->timer == TSX_TIMER_G) {
			t->tr_ival = (uint32_t)(2 * t->tr_ival < tm->t2 ? 2 * t->tr_ival : tm->t2);
			tsx_timer_tr(t, TSX_TIMER_G, t->tr_ival);
			resend(t);
		}
		return 0;
	default:
		return 0;
	}
}

static int confirmed(struct tsx *t, const struct tsx_ev *ev)
{
	if (ev->type == TSX_EV_SEND)
		return refuse(ev);
	if (ev->type == TSX_EV_TIMER && ev->timer == TSX_TIMER_I)
		tsx_terminate(t);
	return 0;
}

static int accepted(struct tsx *t, const struct tsx_ev *ev)
{
	int err;

	switch (ev->type) {
	case TSX_EV_SEND:
		if (ev->code < 200 || ev->code >= 300)
			return refuse(ev);
		/* A 2xx retransmission of the TU (§13.3.1.4), or another 2xx: not kept. */
		tsx_keep_response(t, ev->data, ev->len, ev->code);
		err = tsx_xmit(t, t->resp, t->resplen);
		tsx_shed(t, false);
		if (err)
			tsx_terminate(t);
		return err;
	case TSX_EV_RX:
		/* INVITE retransmissions are absorbed; an ACK is the TU's (RFC 6026 §7.1). */
		if (ev->rx->msg.method == MSG_METHOD_ACK)
			tsx_stray_request(t->l, ev->rx);
		return 0;
	case TSX_EV_TIMER:
		if (ev->timer == TSX_TIMER_L)
			tsx_terminate(t);
		else if (ev->timer == TSX_TIMER_COMPACT && mem_nrefs(t) == 2)
			tsx_done_make(t); /* held by the layer and this dispatch only */
		return 0;
	default:
		return 0;
	}
}

static tsx_state_fn *const states[TSX_STATE_TERMINATED + 1] = {
	[TSX_STATE_PROCEEDING] = proceeding,
	[TSX_STATE_COMPLETED] = completed,
	[TSX_STATE_CONFIRMED] = confirmed,
	[TSX_STATE_ACCEPTED] = accepted,
};

int tsx_sinv_event(struct tsx *t, const struct tsx_ev *ev)
{
	tsx_state_fn *fn = t->state < ARRAY_SIZE(states) ? states[t->state] : NULL;

	if (!fn)
		return ev->type == TSX_EV_SEND ? refuse(ev) : 0;
	return fn(t, ev);
}
