/*
 * tsx_cinv.c - the client INVITE transaction (RFC 3261 §17.1.1, Figure 5),
 * and CANCEL of it (§9.1).
 *
 *   Calling --1xx--> Proceeding --300-699: ACK--> Completed --Timer D--> Terminated
 *      |                  |
 *      +-------2xx--------+------------------------------------------> Terminated
 *   Calling: Timer A retransmits (T1, doubling, unreliable transports only);
 *   Timer B (64*T1) or a transport error ends it with a synthesised 408/503.
 *
 * A 2xx ends the transaction at once: its retransmissions and the ACK for
 * it are the TU's (§13.2.2.4, §17.1.1.2).
 */
#include <errno.h>

#include "tsx/tsx_int.h"

/* Timer D: at least 32 s over unreliable transports (Table 4), 0 over reliable ones. */
static loop_ms timer_d(const struct tsx *t)
{
	loop_ms d = 64 * t->l->tm.t1;

	return d > 32000 ? d : 32000;
}

int tsx_cinv_start(struct tsx *t)
{
	const struct tsx_times *tm = &t->l->tm;
	int err;

	t->state = TSX_STATE_CALLING;
	tsx_timer_to(t, TSX_TIMER_B, 64 * tm->t1);
	err = tsx_xmit(t, t->req, t->reqlen);
	if (err) {
		/* Reported from the loop, once the caller has its handle. */
		t->err = err;
		tsx_timer_to(t, TSX_TIMER_ERR, 0);
		return 0;
	}
	if (!t->reliable) {
		t->tr_ival = (uint32_t)tm->t1;
		tsx_timer_tr(t, TSX_TIMER_A, tm->t1);
	}
	return 0;
}

/* Send the CANCEL of §9.1 on a client transaction of its own (same branch). */
static int send_cancel(struct tsx *inv)
{
	char *buf;
	uint32_t len;
	int err;

	inv->cancel_pending = false;
	err = tsx_build_cancel(inv, &buf, &len);
	if (err)
		return err;
	return tsx_client_new(NULL, inv->l, &inv->dest, buf, len, inv->cancel_fn, inv->cancel_arg);
}

int tsx_cancel(struct tsx *inv, tsx_response_fn *fn, void *arg)
{
	if (!inv->l)
		return ESRCH;
	if (inv->kind != TSX_CLIENT_INVITE)
		return EINVAL;
	if (inv->cancelled ||
	    (inv->state != TSX_STATE_CALLING && inv->state != TSX_STATE_PROCEEDING))
		return EALREADY;
	inv->cancelled = true;
	inv->cancel_fn = fn;
	inv->cancel_arg = arg;
	if (inv->state == TSX_STATE_PROCEEDING)
		return send_cancel(inv);
	/* §9.1: no CANCEL before a provisional response; it goes out with the first. */
	inv->cancel_pending = true;
	return 0;
}

/* Timer B, or a transport error: end with a synthesised 408 or 503 (§8.1.3). */
static int give_up(struct tsx *t, unsigned code)
{
	tsx_terminate(t);
	tsx_synth(t, code);
	return 0;
}

static int provisional(struct tsx *t, const struct tsx_ev *ev)
{
	t->code = ev->code;
	if (t->state == TSX_STATE_CALLING) {
		t->state = TSX_STATE_PROCEEDING;
		loop_timer_cancel(&t->tr);
		loop_timer_cancel(&t->to);
	}
	if (t->cancel_pending)
		send_cancel(t);
	tsx_to_tu(t, &ev->rx->msg, ev->rx);
	return 0;
}

/*
 * A final response in Calling or Proceeding.  2xx: Terminated.  300-699:
 * ACK it (§17.1.1.3), Completed with Timer D, so that retransmissions of
 * the response are acknowledged again and not passed up.
 */
static int final(struct tsx *t, const struct tsx_ev *ev)
{
	int err = 0;

	t->code = ev->code;
	t->cancel_pending = false;
	if (ev->code < 300) {
		tsx_terminate(t);
		tsx_to_tu(t, &ev->rx->msg, ev->rx);
		return 0;
	}
	loop_timer_cancel(&t->tr);
	loop_timer_cancel(&t->to);
	t->state = TSX_STATE_COMPLETED;
	err = tsx_build_ack(t, &ev->rx->msg);
	if (!err)
		err = tsx_xmit(t, t->ack, t->acklen);
	if (!err && !t->reliable)
		tsx_timer_to(t, TSX_TIMER_D, timer_d(t));
	tsx_to_tu(t, &ev->rx->msg, ev->rx);
	if (err || t->reliable)
		tsx_terminate(t);
	else
		tsx_shed(t, false); /* Timer D: the key and the ACK are enough */
	return 0;
}

static int response(struct tsx *t, const struct tsx_ev *ev)
{
	return ev->code < 200 ? provisional(t, ev) : final(t, ev);
}

static int calling(struct tsx *t, const struct tsx_ev *ev)
{
	switch (ev->type) {
	case TSX_EV_RX:
		return response(t, ev);
	case TSX_EV_TIMER:
		if (ev->timer == TSX_TIMER_B)
			return give_up(t, 408);
		if (ev->timer != TSX_TIMER_A)
			return 0;
		if (tsx_xmit(t, t->req, t->reqlen))
			return give_up(t, 503);
		t->tr_ival *= 2; /* §17.1.1.2: Timer A doubles, with no cap */
		tsx_timer_tr(t, TSX_TIMER_A, t->tr_ival);
		return 0;
	case TSX_EV_TPERR:
		return give_up(t, 503);
	default:
		return 0;
	}
}

static int proceeding(struct tsx *t, const struct tsx_ev *ev)
{
	return ev->type == TSX_EV_RX ? response(t, ev) : 0;
}

static int completed(struct tsx *t, const struct tsx_ev *ev)
{
	if (ev->type == TSX_EV_TIMER && ev->timer == TSX_TIMER_D) {
		tsx_terminate(t);
	} else if (ev->type == TSX_EV_RX && ev->code >= 300) {
		/* A retransmitted final: acknowledge again, do not pass up. */
		if (tsx_xmit(t, t->ack, t->acklen))
			tsx_terminate(t);
	}
	return 0;
}

static tsx_state_fn *const states[TSX_STATE_TERMINATED + 1] = {
	[TSX_STATE_CALLING] = calling,
	[TSX_STATE_PROCEEDING] = proceeding,
	[TSX_STATE_COMPLETED] = completed,
};

int tsx_cinv_event(struct tsx *t, const struct tsx_ev *ev)
{
	tsx_state_fn *fn = t->state < ARRAY_SIZE(states) ? states[t->state] : NULL;

	return fn ? fn(t, ev) : 0;
}
