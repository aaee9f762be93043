/*
 * dlg_fork.c - the dialogs one dialog-creating request makes (RFC 3261
 * §12.1.2, §12.3, §13.2.2.4).  A forking proxy may bring back several 1xx
 * with different To tags (one early dialog each) and several 2xx (one
 * confirmed dialog each, every one of them to be ACKed); a 300-699 final
 * ends every dialog still early.
 *
 * A fork keeps the request (for the dialogs it creates and their ACKs) and
 * up to DLG_FORK_MAX dialogs, looked up by remote tag (a linear search: the
 * bound is small).
 */
#include <errno.h>
#include <stddef.h>

#include "dlg/dlg_int.h"
#include "ringlet/mem.h"

/* What identifies the fork a response belongs to. */
struct fork_key {
	const char *cid, *lt, *method;
	size_t cidlen, ltlen, methodlen;
	uint32_t cseq;
};

static struct dlg_fork *node_fork(const struct hash_node *n)
{
	return (struct dlg_fork *)(void *)((char *)(uintptr_t)n - offsetof(struct dlg_fork, node));
}

static uint64_t fork_hash(const struct dlg_table *t, const char *cid, size_t cidlen, const char *lt,
			  size_t ltlen)
{
	return hash_bytes(lt, ltlen, hash_bytes(cid, cidlen, t->seed ^ 0x666f726bull));
}

static bool str_eq(const char *a, const char *b, size_t bn)
{
	return strlen(a) == bn && memcmp(a, b, bn) == 0;
}

static bool fork_eq(const struct hash_node *n, const void *key)
{
	const struct dlg_fork *f = node_fork(n);
	const struct fork_key *k = key;

	return f->cseq == k->cseq && str_eq(f->callid, k->cid, k->cidlen) &&
	       str_eq(f->ltag, k->lt, k->ltlen) && str_eq(f->cmethod, k->method, k->methodlen);
}

/* The fork key of response resp; false when it has no usable Call-ID, From tag, CSeq. */
static bool key_of(struct msg *resp, struct fork_key *k)
{
	const struct msg_nameaddr *from;
	const struct msg_cseq *cs;
	struct span cid;

	if (resp->is_request || !dlg_msg_callid(resp, &cid))
		return false;
	from = msg_from(resp);
	cs = msg_cseq(resp);
	if (!from || !cs || !from->has_tag)
		return false;
	k->cid = resp->buf + cid.off;
	k->cidlen = cid.len;
	k->lt = resp->buf + from->tag.off;
	k->ltlen = from->tag.len;
	k->method = resp->buf + cs->method.off;
	k->methodlen = cs->method.len;
	k->cseq = cs->num;
	return true;
}

static void fork_destroy(void *p)
{
	struct dlg_fork *f = p;

	if (f->tab && hash_linked(&f->node))
		hash_remove(f->tab->forks, &f->node);
	for (unsigned i = 0; i < f->n; i++)
		mem_deref(f->d[i]);
	mem_deref(f->req);
	mem_deref(f->tab);
}

static void copy_span(char *dst, const char *buf, struct span s)
{
	memcpy(dst, buf + s.off, s.len);
	dst[s.len] = '\0';
}

int dlg_fork_alloc(struct dlg_fork **out, struct dlg_table *t, const char *req, size_t reqlen)
{
	struct dlg_uac_req r;
	struct dlg_fork *f;

	if (dlg_read_req(&r, req, reqlen) != 0 || r.cs->method.len >= sizeof(f->cmethod))
		return EINVAL;
	f = mem_alloc(sizeof(*f), fork_destroy);
	if (!f)
		return ENOMEM;
	f->req = mem_alloc(reqlen, NULL);
	if (!f->req) {
		mem_deref(f);
		return ENOMEM;
	}
	memcpy(f->req, req, reqlen);
	f->reqlen = (uint32_t)reqlen;
	f->cseq = r.cs->num;
	copy_span(f->cmethod, r.m.buf, r.cs->method);
	copy_span(f->callid, r.m.buf, r.callid);
	copy_span(f->ltag, r.m.buf, r.from->tag);
	if (t) {
		f->tab = mem_ref(t);
		hash_insert(t->forks, &f->node,
			    fork_hash(t, f->callid, r.callid.len, f->ltag, r.from->tag.len));
	}
	*out = f;
	return 0;
}

struct dlg_fork *dlg_table_fork(struct dlg_table *t, struct msg *resp)
{
	struct fork_key k;
	struct hash_node *n;

	if (!key_of(resp, &k))
		return NULL;
	n = hash_find(t->forks, fork_hash(t, k.cid, k.cidlen, k.lt, k.ltlen), fork_eq, &k);
	return n ? node_fork(n) : NULL;
}

static struct dlg *find_tag(const struct dlg_fork *f, const char *buf, struct span tag)
{
	for (unsigned i = 0; i < f->n; i++)
		if (dlg_field_eq(f->d[i], DLG_F_RTAG, buf, tag))
			return f->d[i];
	return NULL;
}

/* A new dialog of f from resp, in f's table too. */
static int add(struct dlg_fork *f, struct msg *resp, struct dlg **out)
{
	struct dlg *d;
	int err;

	if (f->n == DLG_FORK_MAX)
		return EMSGSIZE;
	err = dlg_uac_create(&d, f->req, f->reqlen, resp);
	if (err)
		return err;
	if (f->tab) {
		err = dlg_table_add(f->tab, d);
		if (err) {
			mem_deref(d);
			return err;
		}
	}
	f->d[f->n++] = d;
	*out = d;
	return 0;
}

/* A 2xx for dialog d of f (NULL: none yet with its tag). */
static int on_2xx(struct dlg_fork *f, struct msg *resp, struct dlg *d, struct dlg **out,
		  enum dlg_event *ev)
{
	int err;

	if (d && d->confirmed_once) {
		*out = d;
		*ev = DLG_EV_RETRANSMIT;
		return 0;
	}
	if (d) {
		/* early, or ended while early: the peer holds a confirmed dialog now */
		err = dlg_uac_confirm(d, resp, true);
		if (err)
			return err;
		/* purged from the table meanwhile: back in (EEXIST: the id is taken, keep out) */
		if (f->tab && !d->tab)
			(void)dlg_table_add(f->tab, d);
	} else {
		err = add(f, resp, &d);
		if (err)
			return err;
	}
	*ev = f->confirmed || f->failed || f->ended ? DLG_EV_FORKED : DLG_EV_CONFIRMED;
	f->confirmed = true;
	*out = d;
	return 0;
}

static void end_early(struct dlg_fork *f)
{
	for (unsigned i = 0; i < f->n; i++)
		if (f->d[i]->state == DLG_EARLY)
			f->d[i]->state = DLG_TERMINATED;
}

int dlg_fork_response(struct dlg_fork *f, struct msg *resp, struct dlg **out, enum dlg_event *ev)
{
	const struct msg_nameaddr *to;
	struct fork_key k;
	enum dlg_event e;
	struct dlg *d;
	int err;

	if (!key_of(resp, &k) || !fork_eq(&f->node, &k) || resp->status < 100 || resp->status > 699)
		return EINVAL;
	if (resp->status >= 300) { /* §12.3 */
		end_early(f);
		f->failed = true;
		*out = NULL;
		*ev = DLG_EV_FAILED;
		return 0;
	}
	to = msg_to(resp);
	if (!to)
		return EBADMSG;
	if (!to->has_tag || to->tag.len == 0 || resp->status == 100) {
		if (resp->status >= 200)
			return EBADMSG;
		*out = NULL;
		*ev = DLG_EV_NONE;
		return 0;
	}
	d = find_tag(f, resp->buf, to->tag);
	if (resp->status >= 200)
		return on_2xx(f, resp, d, out, ev);
	if (d) {
		err = dlg_uac_update(d, resp);
		e = DLG_EV_NONE;
	} else {
		err = add(f, resp, &d);
		e = DLG_EV_EARLY;
	}
	if (err)
		return err;
	*ev = e;
	*out = d;
	return 0;
}

void dlg_fork_end(struct dlg_fork *f)
{
	end_early(f);
	f->ended = true;
}

const char *dlg_fork_request(const struct dlg_fork *f, size_t *len)
{
	*len = f->reqlen;
	return f->req;
}

unsigned dlg_fork_count(const struct dlg_fork *f)
{
	return f->n;
}

struct dlg *dlg_fork_dialog(const struct dlg_fork *f, unsigned i)
{
	return i < f->n ? f->d[i] : NULL;
}
