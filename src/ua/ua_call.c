/*
 * ua_call.c - what outgoing and incoming calls share: the call table and
 * its life cycle, requests in dialogs (§12.2.2: 481 for unknown dialogs,
 * BYE §15.1.2), ACK and stray 2xx dispatch, the media glue (SDP offer and
 * answer through media.h, RFC 3264), BYE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_MODULE "ua"
#include "ringlet/log.h"
#include "ringlet/mem.h"
#include "ua/ua_int.h"

static char *dup_opt(const char *s, bool *fail)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*fail = true;
	return d;
}

struct ua_call *ua_call_new(struct ua *u, bool uac, const struct ua_media_conf *mc)
{
	struct ua_call *c = calloc(1, sizeof(*c));
	bool fail = false;

	if (!c)
		return NULL;
	c->ua = u;
	c->uac = uac;
	c->state = UA_CALL_CALLING;
	loop_timer_init(&c->ring);
	loop_timer_init(&c->rexmit);
	loop_timer_init(&c->reap);
	list_init(&c->pend);
	if (mc) {
		c->play = dup_opt(mc->play, &fail);
		c->record = dup_opt(mc->record, &fail);
	}
	int err = fail ? ENOMEM : media_alloc(&c->media, u->loop, &u->local, NULL);
	if (err) {
		log_warn("event=media-alloc-failed err=%d", err);
		free(c->play);
		free(c->record);
		free(c);
		return NULL;
	}
	c->no = ++u->ncalls;
	list_push_back(&u->calls, &c->node);
	return c;
}

void ua_tsx_drop(struct tsx **t)
{
	if (*t) {
		tsx_set_user(*t, NULL);
		tsx_detach(*t);
		*t = mem_deref(*t);
	}
}

void ua_call_free(struct ua_call *c)
{
	struct ua *u = c->ua;

	loop_timer_cancel(&c->ring);
	loop_timer_cancel(&c->rexmit);
	loop_timer_cancel(&c->reap);
	ua_lookup_cancel(c->lk);
	c->lk = NULL;
	ua_call_pend_free(c);
	ua_tsx_drop(&c->inv);
	ua_tsx_drop(&c->bye);
	ua_tsx_drop(&c->reinv);
	ua_tsx_drop(&c->ok_tsx);
	if (c->media) {
		media_stop(c->media);
		mem_deref(c->media);
	}
	if (c->fork) {
		/* the fork's dialogs stay in the table: they must not point to c any more */
		for (unsigned i = 0; i < dlg_fork_count(c->fork); i++) {
			struct dlg *d = dlg_fork_dialog(c->fork, i);
			dlg_set_user(d, NULL);
			dlg_table_remove(u->dlgs, d);
		}
		dlg_fork_end(c->fork);
		mem_deref(c->fork);
	}
	if (c->dlg) {
		dlg_set_user(c->dlg, NULL);
		dlg_table_remove(u->dlgs, c->dlg);
		mem_deref(c->dlg);
	}
	list_remove(&c->node);
	free(c->play);
	free(c->record);
	free(c->reinv_req);
	free(c->offer);
	free(c->ok_hdrs);
	free(c->ok_body);
	free(c);
}

static void reap(void *arg)
{
	ua_call_free(arg);
}

void ua_call_end(struct ua_call *c, unsigned code, const char *text)
{
	struct ua *u = c->ua;
	bool answered = c->state == UA_CALL_UP;

	if (c->state == UA_CALL_ENDED)
		return;
	c->state = UA_CALL_ENDED;
	loop_timer_cancel(&c->ring);
	ua_lookup_cancel(c->lk);
	c->lk = NULL;
	ua_uas_ok_stop(c);
	ua_tsx_drop(&c->inv);
	ua_tsx_drop(&c->reinv);
	ua_tsx_drop(&c->bye);
	if (c->dlg && dlg_state(c->dlg) != DLG_TERMINATED)
		dlg_terminate(c->dlg);
	if (c->media_on) {
		struct media_stats ms;
		media_stop(c->media);
		media_stats(c->media, &ms);
		struct ua_event ev = {.type = UA_EV_MEDIA,
				      .call = c,
				      .call_no = c->no,
				      .stats = {.sent = ms.sent_packets,
						.received = ms.recv_packets,
						.lost = ms.lost,
						.jitter_ms = ms.jitter_ms,
						.recorded = ms.frames_played * G711_FRAME}};
		ua_emit(u, &ev);
	}
	struct ua_event ev = {.type = UA_EV_ENDED,
			      .call = c,
			      .call_no = c->no,
			      .code = code,
			      .reason = c->reason[0] ? c->reason
					: code	     ? msg_reason_phrase(code)
						     : "",
			      .text = text,
			      .answered = answered,
			      .uri = c->from_uri,
			      .outgoing = c->uac};
	ua_emit(u, &ev);
	loop_timer_start(u->loop, &c->reap, 0, reap, c);
}

void ua_call_reason(struct ua_call *c, struct msg *resp)
{
	ua_span_copy(resp->buf, resp->reason, c->reason, sizeof(c->reason));
}

void ua_calls_free(struct ua *u)
{
	struct list_node *n, *tmp;

	LIST_FOREACH_SAFE(&u->calls, n, tmp)
	ua_call_free(LIST_ENTRY(n, struct ua_call, node));
}

unsigned ua_calls(const struct ua *u)
{
	const struct list_node *n;
	unsigned k = 0;

	LIST_FOREACH(&u->calls, n)
	{
		const struct ua_call *c = LIST_ENTRY(n, struct ua_call, node);
		k += c->state != UA_CALL_ENDED;
	}
	return k;
}

struct ua_call *ua_call_of_fork(struct ua *u, struct dlg_fork *f)
{
	struct list_node *n;

	LIST_FOREACH(&u->calls, n)
	{
		struct ua_call *c = LIST_ENTRY(n, struct ua_call, node);
		if (c->fork == f)
			return c;
	}
	return NULL;
}

void ua_sdp_codec(const struct msg_sdp *s, char *out, size_t cap)
{
	snprintf(out, cap, "?");
	for (unsigned i = 0; i < s->nmedia; i++) {
		const struct msg_sdp_media *m = &s->media[i];
		if (m->port == 0 || !span_eq(s->buf, m->type, "audio"))
			continue;
		for (unsigned k = 0; k < m->nfmts; k++) {
			struct msg_sdp_rtpmap r;
			if (msg_sdp_fmt_codec(s, m, k, &r) == 0 &&
			    ((r.name.len == 4 && !strncasecmp(r.name.p, "PCMU", 4)) ||
			     (r.name.len == 4 && !strncasecmp(r.name.p, "PCMA", 4)))) {
				snprintf(out, cap, "%.4s/%u", r.name.p, r.rate);
				return;
			}
		}
		return;
	}
}

void ua_call_media_up(struct ua_call *c)
{
	struct ua *u = c->ua;

	if (c->play && media_play_wav(c->media, c->play, MEDIA_EOF_SILENCE))
		log_warn("event=play-failed file=\"%s\"", c->play);
	if (c->record && media_record_wav(c->media, c->record))
		log_warn("event=record-failed file=\"%s\"", c->record);
	int err = media_start(c->media);
	c->media_on = err == 0 || err == EALREADY;
	struct ua_event ev = {.type = UA_EV_ANSWERED,
			      .call = c,
			      .call_no = c->no,
			      .text = c->codec,
			      .uri = c->from_uri,
			      .answered = true};
	ua_emit(u, &ev);
}

int ua_call_sdp(struct ua_call *c, const struct msg_sdp *offer, enum msg_sdp_dir dir, char *out,
		size_t cap)
{
	struct msg_sdp_desc *d = calloc(1, sizeof(*d));
	size_t len = 0;
	int rc = -1;

	if (!d)
		return -1;
	if (offer) {
		if (media_sdp_answer(c->media, offer, d) == ENOENT) {
			free(d);
			return -2;
		}
	} else {
		media_sdp_offer(c->media, d, false);
		if (dir != MSG_SDP_DIR_NONE && d->nmedia)
			d->media[0].dir = dir;
	}
	d->sess_ver = ++c->sdp_ver;
	if (msg_sdp_desc_print(d, out, cap, &len) == 0)
		rc = (int)len;
	free(d);
	return rc;
}

void ua_call_hold_event(struct ua_call *c, enum msg_sdp_dir dir, bool remote)
{
	static const char *const names[] = {"sendrecv", "sendrecv", "sendonly", "recvonly",
					    "inactive"};
	struct ua_event ev = {.type = UA_EV_HOLD,
			      .call = c,
			      .call_no = c->no,
			      .text = names[dir <= MSG_SDP_INACTIVE ? dir : 0],
			      .code = remote};

	ua_emit(c->ua, &ev);
}

static void bye_response(struct tsx *t, struct msg *resp, const struct tp_rx *rx, void *arg);

/* Build and send a BYE with credentials for the cached challenges. */
static int send_bye(struct ua_call *c)
{
	char cred[UA_AUTH_MAX];
	struct dlg_extra x = {.hdrs = cred};
	struct dlg_msg m;

	ua_credentials(c->ua, "BYE", dlg_remote_target(c->dlg), cred, sizeof(cred));
	m.cap = dlg_msg_size(c->dlg, &x);
	m.buf = malloc(m.cap);
	if (!m.buf)
		return ENOMEM;
	int err = dlg_request(c->dlg, "BYE", &x, &m);
	if (!err)
		err = ua_call_send(c, &m, &c->bye, bye_response);
	free(m.buf);
	return err;
}

static void bye_response(struct tsx *t, struct msg *resp, const struct tp_rx *rx, void *arg)
{
	struct ua_call *c = arg;
	unsigned n = 0;

	(void)rx;
	if (t != c->bye || resp->status < 200)
		return;
	if ((resp->status == 401 || resp->status == 407) &&
	    ua_auth_retry(c->ua, resp, "BYE", dlg_remote_target(c->dlg), &n) && send_bye(c) == 0)
		return;
	dlg_response(c->dlg, resp);
	ua_call_reason(c, resp);
	ua_call_end(c, resp->status, "BYE sent");
}

int ua_call_bye(struct ua_call *c)
{
	int err = send_bye(c);

	if (err)
		ua_call_end(c, 0, "BYE could not be sent");
	return err;
}

int ua_hangup(struct ua_call *c, unsigned code)
{
	if (c->state == UA_CALL_ENDED)
		return ESRCH;
	if (c->hanging)
		return EALREADY;
	c->hanging = true;
	if (c->state == UA_CALL_UP)
		return ua_call_bye(c);
	return c->uac ? ua_uac_hangup(c) : ua_uas_hangup(c, code);
}

int ua_hold(struct ua_call *c, bool hold)
{
	if (c->state != UA_CALL_UP || c->hanging)
		return EINVAL;
	if (c->reinv || c->ok_tsx)
		return EBUSY;
	return ua_reinvite(c, hold);
}

/* A request in a dialog of ours (§12.2.2). */
static void in_dialog(struct ua *u, struct tsx *t, struct tp_rx *rx)
{
	struct msg *m = &rx->msg;
	struct dlg *d = NULL;
	unsigned st = dlg_table_request(u->dlgs, m, &d);
	struct ua_call *c = d ? dlg_user(d) : NULL;

	if (st || !d || !c || c->state == UA_CALL_ENDED) {
		ua_respond(t, st ? st : 481, NULL, NULL);
		return;
	}
	switch (m->method) {
	case MSG_METHOD_BYE:
		ua_respond(t, 200, NULL, NULL);
		ua_call_end(c, 200, "BYE from remote");
		return;
	case MSG_METHOD_INVITE:
		ua_uas_reinvite(c, t, rx);
		return;
	case MSG_METHOD_MESSAGE:
		ua_req_message_in(u, t, rx);
		return;
	case MSG_METHOD_OPTIONS:
		ua_req_options_in(u, t, rx);
		return;
	case MSG_METHOD_INFO:
		ua_respond(t, 200, NULL, NULL);
		return;
	default:
		ua_respond(t, m->method == MSG_METHOD_OTHER ? 501 : 405, NULL, ua_allow_hdr);
	}
}

void ua_call_request(struct ua *u, struct tsx *t, struct tp_rx *rx)
{
	struct msg *m = &rx->msg;
	const struct msg_nameaddr *to = msg_to(m);

	if (m->method == MSG_METHOD_CANCEL) {
		ua_uas_cancel(u, t);
		return;
	}
	if (to && to->has_tag) {
		in_dialog(u, t, rx);
		return;
	}
	if (m->method == MSG_METHOD_INVITE)
		ua_uas_invite(u, t, rx);
	else
		ua_respond(t, 481, NULL, NULL); /* a BYE outside any dialog */
}

void ua_call_stray_request(struct ua *u, struct tp_rx *rx)
{
	struct msg *m = &rx->msg;
	struct dlg *d = NULL;

	if (m->method != MSG_METHOD_ACK)
		return;
	dlg_table_request(u->dlgs, m, &d);
	struct ua_call *c = d ? dlg_user(d) : NULL;
	if (c)
		ua_uas_ack(c, rx);
}

void ua_call_stray_response(struct ua *u, struct tp_rx *rx)
{
	struct msg *m = &rx->msg;
	struct dlg_fork *f = dlg_table_fork(u->dlgs, m);
	struct ua_call *c = f ? ua_call_of_fork(u, f) : NULL;

	if (c) {
		ua_uac_response(c, m, true);
		return;
	}
	/* a 2xx to one of our re-INVITEs again: its ACK was lost (§13.2.2.4) */
	const struct msg_cseq *cs = msg_cseq(m);
	struct dlg *d = dlg_table_match(u->dlgs, m);
	c = d ? dlg_user(d) : NULL;
	if (c && cs && cs->method_id == MSG_METHOD_INVITE && m->status >= 200 && m->status < 300)
		ua_uac_reack(c, d, m);
}

void ua_call_server_fail(struct ua *u, struct tsx *t, int err)
{
	(void)u;
	log_debug("event=server-tsx-failed err=%d", err);
	(void)t;
}

int ua_set_answer(struct ua *u, const struct ua_answer_conf *ac)
{
	char *play = ac->media.play ? strdup(ac->media.play) : NULL;
	char *rec = ac->media.record ? strdup(ac->media.record) : NULL;

	if ((ac->media.play && !play) || (ac->media.record && !rec)) {
		free(play);
		free(rec);
		return ENOMEM;
	}
	free(u->play_in);
	free(u->record_in);
	u->play_in = play;
	u->record_in = rec;
	u->answer = *ac;
	u->answer.media.play = play;
	u->answer.media.record = rec;
	if (!u->answer.max_calls)
		u->answer.max_calls = 1;
	return 0;
}

struct msg_sdp *ua_sdp_of(struct msg *m)
{
	const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_CONTENT_TYPE);
	struct msg_ctype ct;
	struct msg_sdp *s;

	if (!m->body.len || !h || msg_ctype_parse(m->buf, h->value, &ct) ||
	    !span_ieq(m->buf, ct.type, "application") || !span_ieq(m->buf, ct.subtype, "sdp"))
		return NULL;
	s = malloc(sizeof(*s));
	if (s && msg_sdp_parse(s, m->buf, m->body)) {
		free(s);
		s = NULL;
	}
	return s;
}
