/*
 * media_sdp.c - the session's side of SDP offer/answer (RFC 3264): our
 * offer, our answer, and taking the peer's address, codec and direction
 * from its description.  Parsing and printing are msg_sdp's.
 */
#include <errno.h>
#include <string.h>

#include "ua/media_int.h"

/* What we can send and receive, in our order of preference. */
static const struct msg_sdp_codec codecs[] = {
	{G711_PT_PCMU, MSG_SDP_LIT("PCMU"), 8000, 1, {NULL, 0}},
	{G711_PT_PCMA, MSG_SDP_LIT("PCMA"), 8000, 1, {NULL, 0}},
	{MEDIA_DTMF_PT, MSG_SDP_LIT("telephone-event"), 8000, 1, MSG_SDP_LIT("0-16")},
};
#define CODEC_PCMA 1

static void session_fields(struct media *m, struct msg_sdp_desc *d)
{
	d->user = msg_sdp_str("ringlet");
	d->sess_id = m->sess_id;
	d->sess_ver = 1;
	d->addr = msg_sdp_str(m->addr_str);
}

void media_sdp_offer(struct media *m, struct msg_sdp_desc *d, bool dtmf)
{
	memset(d, 0, sizeof(*d));
	session_fields(m, d);
	d->nmedia = 1;
	struct msg_sdp_desc_media *a = &d->media[0];
	a->type = msg_sdp_str("audio");
	a->port = media_port(m);
	a->ncodecs = dtmf ? 3 : 2;
	memcpy(a->codecs, codecs, a->ncodecs * sizeof(codecs[0]));
	a->ptime = MEDIA_PTIME;
	a->dir = MSG_SDP_SENDRECV;
}

/*
 * Take media section sm of s, whose codec choice is c: the peer's address
 * and port, our codec, and our direction as the mirror of its (§6.1).
 */
static int apply(struct media *m, const struct msg_sdp *s, const struct msg_sdp_media *sm,
		 const struct msg_sdp_choice *c)
{
	const struct msg_sdp_conn *conn = msg_sdp_conn(s, sm);
	if (!conn)
		return EINVAL;
	enum g711_law law = c->codec == CODEC_PCMA ? G711_ALAW : G711_ULAW;
	int rc = media_set_codec(m, law, c->pt, c->dtmf_pt);
	if (rc)
		return rc;
	bool held = span_eq(s->buf, conn->addr, "0.0.0.0") || span_eq(s->buf, conn->addr, "::");
	if (!held) {
		struct tp_addr rtp;
		rc = tp_addr_set(&rtp, s->buf + conn->addr.off, conn->addr.len, sm->port);
		if (rc == 0)
			rc = media_set_remote(m, &rtp, NULL);
		if (rc)
			return rc;
	}
	bool send = !held, recv = true;
	switch (c->dir) {
	case MSG_SDP_SENDONLY:
		send = false;
		break;
	case MSG_SDP_RECVONLY:
		recv = false;
		break;
	case MSG_SDP_INACTIVE:
		send = recv = false;
		break;
	default:
		break;
	}
	media_set_dir(m, send, recv);
	return 0;
}

int media_sdp_answered(struct media *m, const struct msg_sdp *answer)
{
	struct msg_sdp_choice ch[MSG_SDP_MAX_MEDIA];
	if (msg_sdp_chosen(answer, codecs, ARRAY_SIZE(codecs), ch, ARRAY_SIZE(ch)) != 0)
		return EINVAL;
	for (unsigned i = 0; i < answer->nmedia; i++) {
		const struct msg_sdp_media *sm = &answer->media[i];
		if (!ch[i].rejected && span_ieq(answer->buf, sm->type, "audio"))
			return apply(m, answer, sm, &ch[i]);
	}
	return ENOENT;
}

/* Turn an accepted stream of the answer into a rejected one (we have one port pair). */
static void reject(const struct msg_sdp *offer, unsigned i, struct msg_sdp_desc_media *am)
{
	const struct msg_sdp_media *om = &offer->media[i];
	am->port = 0;
	am->ncodecs = 0;
	am->fmt.p = offer->buf + om->fmts[0].off;
	am->fmt.len = om->fmts[0].len;
	am->ptime = 0;
	am->dir = MSG_SDP_DIR_NONE;
}

int media_sdp_answer(struct media *m, const struct msg_sdp *offer, struct msg_sdp_desc *d)
{
	struct msg_sdp_choice ch[MSG_SDP_MAX_MEDIA];
	struct msg_sdp_local local = {codecs, ARRAY_SIZE(codecs), media_port(m), MEDIA_PTIME};
	memset(d, 0, sizeof(*d));
	session_fields(m, d);
	if (msg_sdp_answer(offer, &local, d) != 0 ||
	    msg_sdp_chosen(offer, codecs, ARRAY_SIZE(codecs), ch, ARRAY_SIZE(ch)) != 0)
		return EINVAL;
	int rc = ENOENT;
	for (unsigned i = 0; i < d->nmedia; i++) {
		if (d->media[i].port == 0)
			continue;
		if (rc != ENOENT || ch[i].rejected) {
			reject(offer, i, &d->media[i]);
			continue;
		}
		d->media[i].port = media_port(m);
		rc = apply(m, offer, &offer->media[i], &ch[i]);
		if (rc)
			reject(offer, i, &d->media[i]);
	}
	return rc;
}
