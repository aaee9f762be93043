/*
 * msg_access.c - header lookup through the first[]/next links, and the
 * typed accessors that parse a header on first use and cache the result in
 * struct msg (bits in m->cached).
 */
#include "msg_core.h"

const struct msg_hdr *msg_hdr_find(const struct msg *m, enum msg_hdr_id id)
{
	if ((unsigned)id >= MSG_HDR__COUNT || m->first[id] == MSG_NO_HDR)
		return NULL;
	return &m->hdrs[m->first[id]];
}

const struct msg_hdr *msg_hdr_next(const struct msg *m, const struct msg_hdr *h)
{
	if (h == NULL || h->next == MSG_NO_HDR)
		return NULL;
	return &m->hdrs[h->next];
}

const struct msg_hdr *msg_hdr_find_name(const struct msg *m, const char *name)
{
	size_t n = strlen(name);
	enum msg_hdr_id id = msg_hdr_lookup(name, n);

	if (id != MSG_HDR_OTHER)
		return msg_hdr_find(m, id);
	for (const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_OTHER); h; h = msg_hdr_next(m, h))
		if (h->name.len == n && span_ieq(m->buf, h->name, name))
			return h;
	return NULL;
}

/*
 * Common shape of the accessors: cached -> the view; tried and bad -> NULL;
 * absent -> NULL (nothing cached: finding it again is O(1)).
 */
static bool need_parse(const struct msg *m, uint32_t ok, uint32_t bad, enum msg_hdr_id id,
		       const struct msg_hdr **h)
{
	if (m->cached & (ok | bad))
		return false;
	*h = msg_hdr_find(m, id);
	return *h != NULL;
}

const struct msg_via *msg_top_via(struct msg *m)
{
	const struct msg_hdr *h;

	if (need_parse(m, MSG_C_VIA, MSG_C_BAD_VIA, MSG_HDR_VIA, &h))
		m->cached |= msg_via_parse(m->buf, h->value, &m->via1) ? MSG_C_BAD_VIA : MSG_C_VIA;
	return (m->cached & MSG_C_VIA) ? &m->via1 : NULL;
}

const struct msg_nameaddr *msg_from(struct msg *m)
{
	const struct msg_hdr *h;

	if (need_parse(m, MSG_C_FROM, MSG_C_BAD_FROM, MSG_HDR_FROM, &h))
		m->cached |=
		    msg_nameaddr_parse(m->buf, h->value, &m->from) ? MSG_C_BAD_FROM : MSG_C_FROM;
	return (m->cached & MSG_C_FROM) ? &m->from : NULL;
}

const struct msg_nameaddr *msg_to(struct msg *m)
{
	const struct msg_hdr *h;

	if (need_parse(m, MSG_C_TO, MSG_C_BAD_TO, MSG_HDR_TO, &h))
		m->cached |= msg_nameaddr_parse(m->buf, h->value, &m->to) ? MSG_C_BAD_TO : MSG_C_TO;
	return (m->cached & MSG_C_TO) ? &m->to : NULL;
}

const struct msg_cseq *msg_cseq(struct msg *m)
{
	const struct msg_hdr *h;

	if (need_parse(m, MSG_C_CSEQ, MSG_C_BAD_CSEQ, MSG_HDR_CSEQ, &h))
		m->cached |=
		    msg_cseq_parse(m->buf, h->value, &m->cseq) ? MSG_C_BAD_CSEQ : MSG_C_CSEQ;
	return (m->cached & MSG_C_CSEQ) ? &m->cseq : NULL;
}

const struct msg_uri *msg_ruri(struct msg *m)
{
	if (!m->is_request)
		return NULL;
	if (!(m->cached & (MSG_C_RURI | MSG_C_BAD_RURI)))
		m->cached |=
		    msg_uri_parse(m->buf, m->ruri_s, &m->ruri) ? MSG_C_BAD_RURI : MSG_C_RURI;
	return (m->cached & MSG_C_RURI) ? &m->ruri : NULL;
}
