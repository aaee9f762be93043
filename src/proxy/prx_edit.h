/*
 * prx_edit.h - the proxy's message editing (internal to src/proxy): a
 * forwarded message is the received bytes with a short, offset-ordered
 * list of replacements applied, so nothing the proxy does not own is
 * re-printed (RFC 3261 §16.6, §16.7 step 9).
 */
#ifndef RINGLET_PRX_EDIT_H
#define RINGLET_PRX_EDIT_H

#include <stddef.h>
#include <stdint.h>

#include "ringlet/msg.h"

#define PRX_MAX_EDITS 16

/* A replacement of buf[off, off+len) by s[0, slen) (len 0: an insertion). */
struct prx_edit {
	uint32_t off, len;
	const char *s;
	size_t slen;
};

struct prx_edits {
	struct prx_edit e[PRX_MAX_EDITS];
	unsigned n;
};

/* Add an edit, kept in offset order (equal offsets: in the order added). */
int prx_edit_add(struct prx_edits *es, uint32_t off, uint32_t len, const char *s, size_t slen);

/* buf[0, len) with the edits applied into out.  Returns the length, or -1 (no room, overlap). */
long prx_edit_apply(const char *buf, uint32_t len, const struct prx_edits *es, char *out,
		    size_t cap);

/* Offset just past the end of the line holding offset off (bounded by m->len). */
uint32_t prx_line_end(const struct msg *m, uint32_t off);

/*
 * An edit removing header elements h..last (consecutive, on one line) from
 * their line, or the whole line when nothing else is on it.
 */
int prx_edit_remove(struct prx_edits *es, const struct msg *m, const struct msg_hdr *h,
		    const struct msg_hdr *last);

/* Where the request line ends: the first header line (a valid request has one). */
uint32_t prx_headers_start(const struct msg *m);

#endif
