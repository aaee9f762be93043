/*
 * prx_edit.c - the proxy's message editing, see prx_edit.h.
 */
#include <errno.h>
#include <string.h>

#include "proxy/prx_edit.h"

/* Add an edit, kept in offset order (equal offsets: in the order added). */
int prx_edit_add(struct prx_edits *es, uint32_t off, uint32_t len, const char *s, size_t slen)
{
	if (es->n == PRX_MAX_EDITS)
		return ENOSPC;
	unsigned i = es->n;
	while (i > 0 && es->e[i - 1].off > off) {
		es->e[i] = es->e[i - 1];
		i--;
	}
	es->e[i] = (struct prx_edit){off, len, s, slen};
	es->n++;
	return 0;
}

/* buf[0, len) with the edits applied into out.  Returns the length, or -1 (no room, overlap). */
long prx_edit_apply(const char *buf, uint32_t len, const struct prx_edits *es, char *out,
		    size_t cap)
{
	size_t n = 0;
	uint32_t at = 0;
	for (unsigned i = 0; i <= es->n; i++) {
		const struct prx_edit *e = i < es->n ? &es->e[i] : NULL;
		uint32_t to = e ? e->off : len;
		if (to < at || to > len || (e && e->len > len - to))
			return -1;
		size_t need = (to - at) + (e ? e->slen : 0);
		if (need > cap - n)
			return -1;
		memcpy(out + n, buf + at, to - at);
		n += to - at;
		if (e) {
			if (e->slen)
				memcpy(out + n, e->s, e->slen);
			n += e->slen;
			at = to + e->len;
		}
	}
	return (long)n;
}

/* Offset just past the end of the line holding offset off (bounded by m->len). */
uint32_t prx_line_end(const struct msg *m, uint32_t off)
{
	while (off < m->len && m->buf[off] != '\n')
		off++;
	return off < m->len ? off + 1 : off;
}

/*
 * An edit removing header elements h..last (consecutive, on one line) from
 * their line, or the whole line when nothing else is on it.
 */
int prx_edit_remove(struct prx_edits *es, const struct msg *m, const struct msg_hdr *h,
		    const struct msg_hdr *last)
{
	unsigned i = (unsigned)(h - m->hdrs), j = (unsigned)(last - m->hdrs);
	const struct msg_hdr *next = j + 1 < m->nhdrs ? &m->hdrs[j + 1] : NULL;
	uint32_t end = last->value.off + last->value.len;
	if (!(h->flags & MSG_HDRF_FIRST)) {
		const struct msg_hdr *prev = &m->hdrs[i - 1];
		uint32_t from = prev->value.off + prev->value.len;
		return prx_edit_add(es, from, end - from, NULL, 0);
	}
	if (next && !(next->flags & MSG_HDRF_FIRST))
		return prx_edit_add(es, h->value.off, next->value.off - h->value.off, NULL, 0);
	return prx_edit_add(es, h->name.off, prx_line_end(m, end) - h->name.off, NULL, 0);
}

/* Where the request line ends: the first header line (a valid request has one). */
uint32_t prx_headers_start(const struct msg *m)
{
	return m->nhdrs ? m->hdrs[0].name.off : prx_line_end(m, 0);
}
