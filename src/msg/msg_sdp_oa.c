/*
 * msg_sdp_oa.c - RFC 3264 offer/answer for audio: answer an offer with the
 * codecs both sides support, tell which codec an answer chose, detect hold.
 */
#include <errno.h>

#include "ringlet/msg_sdp.h"

static struct msg_sdp_str str_of(const char *buf, struct span s)
{
	struct msg_sdp_str r = {buf + s.off, s.len};
	return r;
}

static bool str_ieq(struct msg_sdp_str a, const char *b)
{
	size_t n = strlen(b);
	if (a.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(a.p[i]) != ascii_lower(b[i]))
			return false;
	return true;
}

static bool str_ieq2(struct msg_sdp_str a, struct msg_sdp_str b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (ascii_lower(a.p[i]) != ascii_lower(b.p[i]))
			return false;
	return true;
}

/* telephone-event (RFC 4733) and comfort noise (RFC 3389) are not codecs on their own. */
static bool is_aux(struct msg_sdp_str name)
{
	return str_ieq(name, "telephone-event") || str_ieq(name, "CN");
}

/* Same codec: encoding name (case-insensitive), clock rate, channels (absent = 1). */
static bool same_codec(const struct msg_sdp_rtpmap *r, const struct msg_sdp_codec *c)
{
	unsigned ch = c->channels ? c->channels : 1;
	return r->rate == c->rate && r->channels == ch && str_ieq2(r->name, c->name);
}

static int find_codec(const struct msg_sdp_rtpmap *r, const struct msg_sdp_codec *list,
		      size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (same_codec(r, &list[i]))
			return (int)i;
	return -1;
}

/* The RFC 2543 hold address (RFC 3264 §8.4), or the IPv6 unspecified address. */
static bool null_addr(const struct msg_sdp *s, const struct msg_sdp_media *m)
{
	const struct msg_sdp_conn *c = msg_sdp_conn(s, m);
	return c && (span_eq(s->buf, c->addr, "0.0.0.0") || span_eq(s->buf, c->addr, "::"));
}

bool msg_sdp_held(const struct msg_sdp *s, const struct msg_sdp_media *m)
{
	enum msg_sdp_dir d = msg_sdp_dir(s, m);
	return d == MSG_SDP_SENDONLY || d == MSG_SDP_INACTIVE || null_addr(s, m);
}

/*
 * The answer's direction (RFC 3264 §6.1): the mirror of the offer's.  An
 * offer with a 0.0.0.0 connection cannot receive, so it counts as one whose
 * receive half is off.
 */
static enum msg_sdp_dir answer_dir(const struct msg_sdp *o, const struct msg_sdp_media *m)
{
	enum msg_sdp_dir d = msg_sdp_dir(o, m);
	if (null_addr(o, m)) {
		if (d == MSG_SDP_SENDRECV)
			d = MSG_SDP_SENDONLY;
		else if (d == MSG_SDP_RECVONLY)
			d = MSG_SDP_INACTIVE;
	}
	switch (d) {
	case MSG_SDP_SENDONLY:
		return MSG_SDP_RECVONLY;
	case MSG_SDP_RECVONLY:
		return MSG_SDP_SENDONLY;
	default:
		return d;
	}
}

/* A rejected stream (RFC 3264 §6): port 0, same media and proto, the offer's first format. */
static void reject(const struct msg_sdp *o, const struct msg_sdp_media *om,
		   struct msg_sdp_desc_media *am)
{
	memset(am, 0, sizeof(*am));
	am->type = str_of(o->buf, om->type);
	am->proto = str_of(o->buf, om->proto);
	am->fmt = str_of(o->buf, om->fmts[0]);
}

static bool has_pt(const struct msg_sdp_desc_media *am, uint8_t pt)
{
	for (unsigned i = 0; i < am->ncodecs; i++)
		if (am->codecs[i].pt == pt)
			return true;
	return false;
}

/*
 * Keep the offered formats we support, in the offer's order and with the
 * offer's payload types (RFC 3264 §6.1).  Returns true if a real codec is
 * among them.
 */
static bool common_codecs(const struct msg_sdp *o, const struct msg_sdp_media *om,
			  const struct msg_sdp_local *local, struct msg_sdp_desc_media *am)
{
	bool real = false;
	for (unsigned i = 0; i < om->nfmts; i++) {
		struct msg_sdp_rtpmap r;
		struct span fmtp;
		if (msg_sdp_fmt_codec(o, om, i, &r) != 0 || has_pt(am, r.pt))
			continue;
		int k = find_codec(&r, local->codecs, local->ncodecs);
		if (k < 0)
			continue;
		struct msg_sdp_codec *c = &am->codecs[am->ncodecs++];
		c->pt = r.pt;
		c->name = r.name;
		c->rate = r.rate;
		c->channels = r.channels;
		c->fmtp = local->codecs[k].fmtp;
		if (c->fmtp.len == 0 && msg_sdp_fmtp(o, om, r.pt, &fmtp))
			c->fmtp = str_of(o->buf, fmtp);
		real = real || !is_aux(r.name);
	}
	return real;
}

int msg_sdp_answer(const struct msg_sdp *offer, const struct msg_sdp_local *local,
		   struct msg_sdp_desc *ans)
{
	if (!offer || !local || !ans || local->port == 0 || (local->ncodecs && !local->codecs) ||
	    offer->nmedia > MSG_SDP_MAX_MEDIA)
		return EINVAL;
	uint32_t port = local->port;
	ans->nmedia = (uint8_t)offer->nmedia;
	for (unsigned i = 0; i < offer->nmedia; i++) {
		const struct msg_sdp_media *om = &offer->media[i];
		struct msg_sdp_desc_media *am = &ans->media[i];
		reject(offer, om, am);
		if (om->port == 0 || port > 65535 || !span_ieq(offer->buf, om->type, "audio") ||
		    !span_ieq(offer->buf, om->proto, "RTP/AVP"))
			continue;
		if (!common_codecs(offer, om, local, am)) {
			reject(offer, om, am);
			continue;
		}
		am->port = (uint16_t)port;
		port += 2;
		am->ptime = local->ptime;
		am->dir = answer_dir(offer, om);
	}
	return 0;
}

/* Index in ours of format i of answer media m, or -1. */
static int match_ours(const struct msg_sdp *a, const struct msg_sdp_media *m, unsigned i,
		      const struct msg_sdp_codec *ours, size_t nours)
{
	struct msg_sdp_rtpmap r;
	if (msg_sdp_fmt_codec(a, m, i, &r) == 0)
		return find_codec(&r, ours, nours);
	if (m->pts[i] == MSG_SDP_NO_PT)
		return -1;
	/* a dynamic type we offered, answered without its rtpmap */
	for (size_t k = 0; k < nours; k++)
		if (ours[k].pt == m->pts[i])
			return (int)k;
	return -1;
}

static void choose(const struct msg_sdp *a, const struct msg_sdp_media *m,
		   const struct msg_sdp_codec *ours, size_t nours, struct msg_sdp_choice *c)
{
	c->rejected = true;
	c->codec = -1;
	c->pt = 0;
	c->dtmf_pt = -1;
	c->dir = msg_sdp_dir(a, m);
	if (m->port == 0)
		return;
	for (unsigned i = 0; i < m->nfmts; i++) {
		int k = match_ours(a, m, i, ours, nours);
		if (k < 0)
			continue;
		if (str_ieq(ours[k].name, "telephone-event")) {
			if (c->dtmf_pt < 0)
				c->dtmf_pt = m->pts[i];
		} else if (!is_aux(ours[k].name) && c->codec < 0) {
			c->codec = (int16_t)k;
			c->pt = m->pts[i];
			c->rejected = false;
		}
	}
}

int msg_sdp_chosen(const struct msg_sdp *answer, const struct msg_sdp_codec *ours,
		   size_t nours, struct msg_sdp_choice *out, size_t nout)
{
	if (nout < answer->nmedia)
		return EMSGSIZE;
	for (unsigned i = 0; i < answer->nmedia; i++)
		choose(answer, &answer->media[i], ours, nours, &out[i]);
	return 0;
}
