/*
 * loc_apply.c - RFC 3261 §10.3 step 7 as one pure function, shared by every
 * backend: the memory store runs it under its lock, SQLite inside the DB
 * thread's transaction, Redis between its read and its compare-and-set.
 *
 * Step 7, as the store applies it (§10.3):
 *  - a contact identifies a binding; contacts are compared as URIs
 *    (§19.1.4), so "sip:a@Host:5060" and "sip:a@host:5060" are one binding;
 *  - for an existing binding of the same contact: same Call-ID and a stored
 *    CSeq not lower than the request's means an out-of-order or replayed
 *    REGISTER, and the whole update is aborted (EALREADY, the registrar
 *    answers 500); otherwise the binding is replaced, or removed when the
 *    new expiry is zero (expires <= now);
 *  - "Contact: *" with "Expires: 0" removes every binding, under the same
 *    Call-ID/CSeq check against each one;
 *  - the bindings are updated all or nothing: a result above
 *    LOC_MAX_BINDINGS changes nothing either (ENOSPC).
 * The checks compare against the bindings as they were before the request,
 * so a contact listed twice in one REGISTER is not taken for a replay of
 * itself: the last occurrence wins.
 */
#include <errno.h>
#include <string.h>

#include "loc/loc_int.h"
#include "ringlet/msg_uri.h"

/* A contact parsed once: ok is false when it is not a URI (it then equals only itself). */
struct pcontact {
	const char *s;
	size_t len;
	struct msg_uri u;
	bool ok;
};

static void pparse(struct pcontact *p, const char *s)
{
	p->s = s;
	p->len = strnlen(s, LOC_CONTACT_MAX);
	p->ok =
	    p->len < UINT32_MAX && msg_uri_parse(s, (struct span){0, (uint32_t)p->len}, &p->u) == 0;
}

static bool pequal(const struct pcontact *a, const struct pcontact *b)
{
	if (a->len == b->len && memcmp(a->s, b->s, a->len) == 0)
		return true;
	if (!a->ok || !b->ok)
		return false;
	return msg_uri_equal(a->s, &a->u, b->s, &b->u);
}

bool loc_contact_equal(const char *a, const char *b)
{
	struct pcontact pa, pb;

	pparse(&pa, a);
	pparse(&pb, b);
	return pequal(&pa, &pb);
}

int64_t loc_max_expiry(const struct loc_binding *b, unsigned n)
{
	int64_t m = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		if (b[i].expires > m)
			m = b[i].expires;
	return m;
}

/* The Call-ID and CSeq a change carries (the request's when the change names none). */
static void change_ids(const struct loc_change *c, uint32_t cseq, const char *call_id,
		       const char **cid, uint32_t *cs)
{
	if (c->b.call_id[0]) {
		*cid = c->b.call_id;
		*cs = c->b.cseq;
	} else {
		*cid = call_id;
		*cs = cseq;
	}
}

/* §10.3 step 7: a stored binding of this Call-ID with a CSeq >= the request's is a replay. */
static bool replay(const struct loc_binding *old, const char *cid, uint32_t cs)
{
	return strncmp(old->call_id, cid, LOC_CALLID_MAX) == 0 && old->cseq >= cs;
}

struct work {
	struct pcontact cur[LOC_MAX_BINDINGS];
	bool live[LOC_MAX_BINDINGS];
	bool hit[LOC_MAX_BINDINGS]; /* replaced or removed by some change */
	struct pcontact chg[LOC_MAX_CHANGES];
};

/* The checks of step 7: EALREADY when any change (or "*") replays a live binding. */
static int check(struct work *w, const struct loc_binding *cur, unsigned ncur,
		 const struct loc_change *c, unsigned n, bool remove_all, uint32_t cseq,
		 const char *call_id)
{
	const char *cid;
	uint32_t cs;
	unsigned i, j;

	for (j = 0; j < ncur; j++) {
		if (!w->live[j])
			continue;
		if (remove_all && replay(&cur[j], call_id, cseq))
			return EALREADY;
		for (i = 0; i < n; i++) {
			if (!pequal(&w->cur[j], &w->chg[i]))
				continue;
			w->hit[j] = true;
			change_ids(&c[i], cseq, call_id, &cid, &cs);
			if (replay(&cur[j], cid, cs))
				return EALREADY;
		}
	}
	return 0;
}

/* True when a later change of the same request names the same contact (the last one wins). */
static bool superseded(const struct work *w, unsigned i, unsigned n)
{
	unsigned k;

	for (k = i + 1; k < n; k++)
		if (pequal(&w->chg[i], &w->chg[k]))
			return true;
	return false;
}

int loc_apply(const struct loc_binding *cur, unsigned ncur, const struct loc_change *c, unsigned n,
	      bool remove_all, uint32_t cseq, const char *call_id, int64_t now,
	      struct loc_binding *out, unsigned *nout)
{
	struct work w;
	const char *cid;
	unsigned i, j, k = 0;
	uint32_t cs;
	int err;

	if (ncur > LOC_MAX_BINDINGS || n > LOC_MAX_CHANGES)
		return EINVAL;
	for (j = 0; j < ncur; j++) {
		w.live[j] = cur[j].expires > now;
		w.hit[j] = false;
		if (w.live[j])
			pparse(&w.cur[j], cur[j].contact);
	}
	for (i = 0; i < n; i++)
		pparse(&w.chg[i], c[i].b.contact);
	err = check(&w, cur, ncur, c, n, remove_all, cseq, call_id);
	if (err)
		return err;
	for (j = 0; j < ncur && !remove_all; j++) {
		if (!w.live[j] || w.hit[j])
			continue;
		if (k == LOC_MAX_BINDINGS)
			return ENOSPC;
		out[k++] = cur[j];
	}
	for (i = 0; i < n; i++) {
		if (c[i].b.expires <= now || superseded(&w, i, n))
			continue;
		if (k == LOC_MAX_BINDINGS)
			return ENOSPC;
		out[k] = c[i].b;
		change_ids(&c[i], cseq, call_id, &cid, &cs);
		if (cid != c[i].b.call_id && !loc_strcpy(out[k].call_id, LOC_CALLID_MAX, cid))
			return EINVAL;
		out[k].cseq = cs;
		k++;
	}
	*nout = k;
	return 0;
}
