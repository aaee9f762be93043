/*
 * tsx_snon.c - the server non-INVITE transaction (RFC 3261 §17.2.2,
 * Figure 8).
 *
 *   Trying --TU 1xx--> Proceeding --TU 200-699--> Completed --Timer J--> Terminated
 *      +--------------TU 200-699--------------------^
 *   Trying: retransmitted requests are discarded (nothing to send yet).
 *   Proceeding, Completed: they get the last response again.  Timer J is
 *   64*T1 over unreliable transports, 0 over reliable ones; for that time
 *   the transaction keeps its key and final response only (tsx_shed), a
 *   response it built itself as a recipe (tsx_recipe_make).  A transport
 *   error ends the transaction and is reported to the TU (§17.2.4).
 */
#include <errno.h>
#include <stdlib.h>

#include "ringlet/mem.h"
#include "tsx/tsx_int.h"

void tsx_snon_start(struct tsx *t)
{
	t->state = TSX_STATE_TRYING;
}

static int send_response(struct tsx *t, const struct tsx_ev *ev)
{
	int err;

	tsx_keep_response(t, ev->data, ev->len, ev->code);
	err = tsx_xmit(t, t->resp, t->resplen);
	if (err) {
		tsx_terminate(t);
		return err;
	}
	if (ev->code < 200) {
		t->state = TSX_STATE_PROCEEDING;
		return 0;
	}
	t->state = TSX_STATE_COMPLETED;
	if (t->reliable) {
		tsx_terminate(t);
		return 0;
	}
	/* Timer J: only the key and the response to repeat are kept that long. */
	tsx_shed(t, true);
	if (ev->built)
		tsx_recipe_make(t, ev->headlen);
	tsx_timer_to(t, TSX_TIMER_J, 64 * t->l->tm.t1);
	/* once the TU has let go, a smaller record does the rest (tsx_done.c) */
	tsx_timer_tr(t, TSX_TIMER_COMPACT, 0);
	return 0;
}

/* The last response again, for a retransmission rx of the request. */
static int resend(struct tsx *t, struct tp_rx *rx)
{
	int err = t->recipe ? tsx_recipe_send(t->l, &t->dest, t->code, tsx_tag_str(t), t->resp,
						t->resplen, rx)
			    : tsx_xmit(t, t->resp, t->resplen);

	if (err)
		tsx_fail(t, err);
	return 0;
}

static int trying(struct tsx *t, const struct tsx_ev *ev)
{
	return ev->type == TSX_EV_SEND ? send_response(t, ev) : 0;
}

static int proceeding(struct tsx *t, const struct tsx_ev *ev)
{
	if (ev->type == TSX_EV_SEND)
		return send_response(t, ev);
	if (ev->type == TSX_EV_RX)
		return resend(t, ev->rx);
	return 0;
}

static int completed(struct tsx *t, const struct tsx_ev *ev)
{
	switch (ev->type) {
	case TSX_EV_SEND:
		free(ev->data);
		return EALREADY;
	case TSX_EV_RX:
		return resend(t, ev->rx);
	case TSX_EV_TIMER:
		if (ev->timer == TSX_TIMER_J)
			tsx_terminate(t);
		else if (ev->timer == TSX_TIMER_COMPACT && mem_nrefs(t) == 2)
			tsx_done_make(t); /* held by the layer and this dispatch only */
		return 0;
	default:
		return 0;
	}
}

static tsx_state_fn *const states[TSX_STATE_TERMINATED + 1] = {
	[TSX_STATE_TRYING] = trying,
	[TSX_STATE_PROCEEDING] = proceeding,
	[TSX_STATE_COMPLETED] = completed,
};

int tsx_snon_event(struct tsx *t, const struct tsx_ev *ev)
{
	tsx_state_fn *fn = t->state < ARRAY_SIZE(states) ? states[t->state] : NULL;

	if (!fn) {
		if (ev->type == TSX_EV_SEND)
			free(ev->data);
		return ev->type == TSX_EV_SEND ? EALREADY : 0;
	}
	return fn(t, ev);
}
