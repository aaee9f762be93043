/*
 * tsx_cnon.c - the client non-INVITE transaction (RFC 3261 §17.1.2,
 * Figure 6).
 *
 *   Trying --1xx--> Proceeding --200-699--> Completed --Timer K--> Terminated
 *      +-----------200-699-----------------^
 *   Timer E retransmits (unreliable transports only): T1 doubling up to T2
 *   in Trying, T2 in Proceeding.  Timer F (64*T1) or a transport error ends
 *   it with a synthesised 408/503 (§8.1.3).  Timer K is T4 (0 if reliable).
 */
#include <errno.h>

#include "tsx/tsx_int.h"

int tsx_cnon_start(struct tsx *t)
{
	const struct tsx_times *tm = &t->l->tm;
	int err;

	t->state = TSX_STATE_TRYING;
	tsx_timer_to(t, TSX_TIMER_F, 64 * tm->t1);
	err = tsx_xmit(t, t->req, t->reqlen);
	if (err) {
		/* Reported from the loop, once the caller has its handle. */
		t->err = err;
		tsx_timer_to(t, TSX_TIMER_ERR, 0);
		return 0;
	}
	if (!t->reliable) {
		t->tr_ival = (uint32_t)tm->t1;
		tsx_timer_tr(t, TSX_TIMER_E, tm->t1);
	}
	return 0;
}

static int give_up(struct tsx *t, unsigned code)
{
	tsx_terminate(t);
	tsx_synth(t, code);
	return 0;
}

static int response(struct tsx *t, const struct tsx_ev *ev)
{
	t->code = ev->code;
	if (ev->code < 200) {
		t->state = TSX_STATE_PROCEEDING;
		tsx_to_tu(t, &ev->rx->msg, ev->rx);
		return 0;
	}
	loop_timer_cancel(&t->tr);
	loop_timer_cancel(&t->to);
	t->state = TSX_STATE_COMPLETED;
	/* Timer K absorbs retransmitted responses (§17.1.2.2). */
	if (!t->reliable)
		tsx_timer_to(t, TSX_TIMER_K, t->l->tm.t4);
	tsx_to_tu(t, &ev->rx->msg, ev->rx);
	if (t->reliable)
		tsx_terminate(t);
	else
		tsx_shed(t, false); /* Timer K matches by the key alone */
	return 0;
}

/* Timer E: retransmit; the interval doubles up to T2 in Trying, is T2 in Proceeding. */
static int retransmit(struct tsx *t)
{
	loop_ms t2 = t->l->tm.t2;

	if (tsx_xmit(t, t->req, t->reqlen))
		return give_up(t, 503);
	if (t->state == TSX_STATE_PROCEEDING)
		t->tr_ival = (uint32_t)t2;
	else
		t->tr_ival = (uint32_t)(2 * t->tr_ival < t2 ? 2 * t->tr_ival : t2);
	tsx_timer_tr(t, TSX_TIMER_E, t->tr_ival);
	return 0;
}

/* Trying and Proceeding differ only in the Timer E interval. */
static int trying(struct tsx *t, const struct tsx_ev *ev)
{
	switch (ev->type) {
	case TSX_EV_RX:
		return response(t, ev);
	case TSX_EV_TIMER:
		if (ev->timer == TSX_TIMER_E)
			return retransmit(t);
		if (ev->timer == TSX_TIMER_F)
			return give_up(t, 408);
		return 0;
	case TSX_EV_TPERR:
		return give_up(t, 503);
	default:
		return 0;
	}
}

static int proceeding(struct tsx *t, const struct tsx_ev *ev)
{
	return trying(t, ev);
}

static int completed(struct tsx *t, const struct tsx_ev *ev)
{
	if (ev->type == TSX_EV_TIMER && ev->timer == TSX_TIMER_K)
		tsx_terminate(t);
	return 0;
}

static tsx_state_fn *const states[TSX_STATE_TERMINATED + 1] = {
	[TSX_STATE_TRYING] = trying,
	[TSX_STATE_PROCEEDING] = proceeding,
	[TSX_STATE_COMPLETED] = completed,
};

int tsx_cnon_event(struct tsx *t, const struct tsx_ev *ev)
{
	tsx_state_fn *fn = t->state < ARRAY_SIZE(states) ? states[t->state] : NULL;

	return fn ? fn(t, ev) : 0;
}
