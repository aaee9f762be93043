/*
 * dlg_recv.c - what a dialog does with the messages it receives: requests
 * within it (RFC 3261 §12.2.2: CSeq order, target refresh, BYE §15.1.2) and
 * responses to the requests it sent (§12.2.1.2, §15.1.1).
 */
#include <errno.h>

#include "dlg/dlg_int.h"

/* True if request req carries d's dialog id (To tag local, From tag remote). */
static bool req_of_dlg(const struct dlg *d, struct msg *req)
{
	const struct msg_nameaddr *from = msg_from(req), *to = msg_to(req);
	struct span cid;

	if (!from || !to || !to->has_tag || !dlg_msg_callid(req, &cid))
		return false;
	return dlg_field_eq(d, DLG_F_CALLID, req->buf, cid) &&
	       dlg_field_eq(d, DLG_F_LTAG, req->buf, to->tag) &&
	       dlg_field_eq(d, DLG_F_RTAG, req->buf, from->tag);
}

unsigned dlg_receive(struct dlg *d, struct msg *req)
{
	const struct msg_cseq *cs;
	int err;

	if (!req->is_request)
		return 400;
	if (req->method == MSG_METHOD_ACK)
		return 0; /* never answered; its CSeq is its INVITE's (§13.2.2.4) */
	if (!req_of_dlg(d, req) || d->state == DLG_TERMINATED)
		return 481;
	cs = msg_cseq(req);
	if (!cs)
		return 400;
	if (d->rcseq_set && cs->num < d->rcseq)
		return 500; /* §12.2.2: out of order */
	if (dlg_is_refresh(req->method)) {
		err = dlg_refresh_target(d, req);
		if (err)
			return err == EBADMSG ? 400 : 500;
	}
	d->rcseq = cs->num;
	d->rcseq_set = true;
	if (req->method == MSG_METHOD_BYE)
		d->state = DLG_TERMINATED; /* §15.1.2 */
	return 0;
}

int dlg_response(struct dlg *d, struct msg *resp)
{
	const struct msg_nameaddr *from, *to;
	const struct msg_cseq *cs;
	unsigned status = resp->status;
	struct span cid;

	if (resp->is_request || !dlg_msg_callid(resp, &cid))
		return EINVAL;
	from = msg_from(resp);
	to = msg_to(resp);
	cs = msg_cseq(resp);
	if (!from || !to || !cs || !dlg_field_eq(d, DLG_F_CALLID, resp->buf, cid) ||
	    !dlg_field_eq(d, DLG_F_LTAG, resp->buf, from->tag))
		return EINVAL;
	/* a peer that sent no From tag (RFC 2543) answers without a To tag */
	if (d->f[DLG_F_RTAG].len && !dlg_field_eq(d, DLG_F_RTAG, resp->buf, to->tag))
		return EINVAL;
	if (d->state == DLG_TERMINATED || status < 200)
		return 0;
	if (status == 481 || status == 408) { /* §12.2.1.2 */
		d->state = DLG_TERMINATED;
		return 0;
	}
	if (cs->method_id == MSG_METHOD_BYE) {
		/* §15.1.1; a challenge is answered by a new BYE in the same dialog */
		if (status != 401 && status != 407)
			d->state = DLG_TERMINATED;
		return 0;
	}
	if (status < 300 && dlg_is_refresh(cs->method_id))
		return dlg_refresh_target(d, resp); /* §12.2.1.2 */
	return 0;
}
