/*
 * tsx_done.c - what a completed server non-INVITE transaction leaves for
 * the rest of Timer J (RFC 3261 §17.2.2), and an accepted INVITE for the
 * rest of Timer L (RFC 6026 §7.1): a struct tsx_done record.
 *
 * Over UDP a non-INVITE transaction stays Completed for 64*T1 (32 s) after
 * its final response, only to answer retransmissions of the request with
 * that response again.  At tens of thousands of requests a second that is
 * hundreds of thousands of transactions, so what each one keeps decides
 * the server's memory; an INVITE that got its 2xx likewise waits 64*T1 in
 * Accepted only to absorb retransmissions and pass ACKs up.  Once the TU
 * no longer holds such a transaction (the usual case: a registrar or proxy
 * answers and lets go), it is replaced in the server table by a record of
 * half its size or less: the key with its bytes and, for a non-INVITE, the
 * destination, the To tag and the response (bytes, or the recipe of
 * tsx_recipe_make).  The transaction itself is then Terminated and freed;
 * a TU that still holds it keeps the whole transaction instead.  A CANCEL
 * for an INVITE that is a record is answered 200 by the layer (tsx_layer.c).
 *
 * Records are found by request_in like transactions (they carry a 3261 key
 * only: RFC 2543 transactions are never reduced), are owned and freed by
 * their worker, and wait on a per-layer FIFO: every record of a layer has
 * the same timeout, 64*T1, so the FIFO is in expiry order and one loop
 * timer, set for its head, reaps them all.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ringlet/mem.h"
#include "tsx/tsx_int.h"

static void on_done_tmr(void *arg);

/* (Re)arm the reaper for the head of the FIFO, if any. */
static void arm(struct tsx_layer *l)
{
	loop_ms now = loop_now(l->loop);
	struct tsx_done *d = l->done_head;

	if (d)
		loop_timer_start(l->loop, &l->done_tmr, d->expires > now ? d->expires - now : 0,
				 on_done_tmr, l);
}

/* Unlink d from the table and free it: its Timer J fired, or the layer goes. */
static void done_free(struct tsx_layer *l, struct tsx_done *d)
{
	tsx_group_swap(l, &d->e, NULL);
	l->count--;
	free(d);
}

/* Timer J of the records at the head of the FIFO: they end (Terminated). */
static void on_done_tmr(void *arg)
{
	struct tsx_layer *l = arg;
	loop_ms now = loop_now(l->loop);
	struct tsx_done *d;

	while ((d = l->done_head) != NULL && d->expires <= now) {
		l->done_head = d->next;
		if (!l->done_head)
			l->done_tail = NULL;
		done_free(l, d);
	}
	arm(l);
}

/* Can server transaction t be replaced by a record (its TU aside)? */
static bool qualifies(const struct tsx *t)
{
	if (!t->l || !t->linked || t->e.key.rfc2543)
		return false;
	if (t->kind == TSX_SERVER_INVITE) /* Accepted: nothing is ever sent again */
		return t->state == TSX_STATE_ACCEPTED;
	return t->kind == TSX_SERVER_NON_INVITE && t->state == TSX_STATE_COMPLETED &&
	       !t->reliable && t->resp && !t->dest.conn;
}

/*
 * Replace server transaction t (non-INVITE Completed over UDP, or INVITE
 * Accepted: RFC 3261 key, held by the layer alone) by a record that lives
 * until its Timer J or L (both 64*T1), and end t without a callback.
 * Returns false (t is left as it was) when t does not qualify or without
 * memory.
 */
bool tsx_done_make(struct tsx *t)
{
	struct tsx_layer *l = t->l;
	bool inv = t->kind == TSX_SERVER_INVITE;
	size_t kbn, tagn, rn;
	struct tsx_done *d;

	if (!qualifies(t))
		return false;
	kbn = tsx_key_bytes(&t->e.key);
	tagn = inv ? 0 : (size_t)t->taglen + 1;
	rn = inv ? 0 : t->resplen;
	d = malloc(sizeof(*d) + kbn + tagn + rn);
	if (!d)
		return false;
	memset(d, 0, sizeof(*d));
	tsx_key_copy(&d->e.key, &t->e.key, d->data);
	d->e.worker = t->e.worker;
	d->e.done = true;
	/* the timer runs from now: at most a loop turn after the transaction's own */
	d->expires = loop_now(l->loop) + 64 * l->tm.t1;
	d->code = t->code;
	if (!inv) {
		d->dest = t->dest;
		d->recipe = t->recipe;
		d->taglen = t->taglen;
		d->resplen = t->resplen;
		memcpy(d->data + kbn, tsx_tag_str(t), tagn);
		memcpy(d->data + kbn + tagn, t->resp, rn);
	}
	/* the record takes t's place in its chain and in the layer's count */
	tsx_group_swap(l, &t->e, &d->e);
	t->linked = false;
	l->count++;
	tsx_terminate(t);
	if (l->done_tail)
		l->done_tail->next = d;
	else
		l->done_head = d;
	l->done_tail = d;
	if (l->done_head == d)
		arm(l);
	return true;
}

/*
 * A request rx matching record d, on d's worker.  Non-INVITE: a
 * retransmission, answered with the final response again (§17.2.2; a
 * transport error is not reported: no TU holds the transaction any more).
 * INVITE (Accepted, RFC 6026 §7.1): a retransmission is absorbed, an ACK
 * goes to the TU's stray-request callback.
 */
void tsx_done_rx(struct tsx_layer *l, struct tsx_done *d, struct tp_rx *rx)
{
	const char *tag = d->data + tsx_key_bytes(&d->e.key);
	const char *resp = tag + d->taglen + 1;

	if (d->e.key.method == MSG_METHOD_INVITE) {
		if (rx->msg.method == MSG_METHOD_ACK)
			tsx_stray_request(l, rx);
		return;
	}
	if (d->recipe)
		(void)tsx_recipe_send(l, &d->dest, d->code, tag, resp, d->resplen, rx);
	else
		(void)tp_send(l->tp, &d->dest, resp, d->resplen);
}

/* Free every record of l (the layer goes; its loop is stopped). */
void tsx_done_free_all(struct tsx_layer *l)
{
	struct tsx_done *d;

	loop_timer_cancel(&l->done_tmr);
	while ((d = l->done_head) != NULL) {
		l->done_head = d->next;
		done_free(l, d);
	}
	l->done_tail = NULL;
}
