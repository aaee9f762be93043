/*
 * dlg_table.c - dialogs by dialog id (RFC 3261 §12: Call-ID, local tag,
 * remote tag) for a UA or B2BUA to route what it receives (§12.2.2), and the
 * lookup of forks (dlg_fork.c) by Call-ID, local tag and CSeq.
 *
 * Peers choose Call-IDs and tags, so keys are hashed with a random seed per
 * table (hash.h).  Call-ID and tags compare byte for byte.
 */
#include <errno.h>
#include <stddef.h>

#include "dlg/dlg_int.h"
#include "ringlet/mem.h"

/* A dialog id taken from a message or a dialog. */
struct dlg_id {
	const char *cid, *lt, *rt;
	size_t cidlen, ltlen, rtlen;
};

static struct dlg *node_dlg(struct hash_node *n)
{
	return (struct dlg *)(void *)((char *)n - offsetof(struct dlg, node));
}

static struct dlg *node_dlg_or_null(struct hash_node *n)
{
	return n ? node_dlg(n) : NULL;
}

static uint64_t id_hash(const struct dlg_table *t, const struct dlg_id *k)
{
	uint64_t h = hash_bytes(k->cid, k->cidlen, t->seed);

	h = hash_bytes(k->lt, k->ltlen, h);
	return hash_bytes(k->rt, k->rtlen, h);
}

static bool str_eq(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && memcmp(a, b, an) == 0;
}

static bool id_eq(const struct hash_node *n, const void *key)
{
	const struct dlg *d = node_dlg((struct hash_node *)(uintptr_t)n);
	const struct dlg_id *k = key;

	return str_eq(dlg_str(d, DLG_F_CALLID), d->f[DLG_F_CALLID].len, k->cid, k->cidlen) &&
	       str_eq(dlg_str(d, DLG_F_LTAG), d->f[DLG_F_LTAG].len, k->lt, k->ltlen) &&
	       str_eq(dlg_str(d, DLG_F_RTAG), d->f[DLG_F_RTAG].len, k->rt, k->rtlen);
}

static void id_of(const struct dlg *d, struct dlg_id *k)
{
	k->cid = dlg_str(d, DLG_F_CALLID);
	k->cidlen = d->f[DLG_F_CALLID].len;
	k->lt = dlg_str(d, DLG_F_LTAG);
	k->ltlen = d->f[DLG_F_LTAG].len;
	k->rt = dlg_str(d, DLG_F_RTAG);
	k->rtlen = d->f[DLG_F_RTAG].len;
}

static bool drop_one(struct hash_node *n, void *arg)
{
	struct dlg_table *t = arg;
	struct dlg *d = node_dlg(n);

	hash_remove(t->dialogs, n);
	d->tab = NULL;
	mem_deref(d);
	return false;
}

static void table_destroy(void *p)
{
	struct dlg_table *t = p;

	if (t->dialogs)
		hash_apply(t->dialogs, drop_one, t);
	mem_deref(t->dialogs);
	mem_deref(t->forks);
}

int dlg_table_alloc(struct dlg_table **out, size_t expected)
{
	struct dlg_table *t = mem_alloc(sizeof(*t), table_destroy);

	if (!t)
		return ENOMEM;
	if (hash_alloc(&t->dialogs, expected) || hash_alloc(&t->forks, 0)) {
		mem_deref(t);
		return ENOMEM;
	}
	if (dlg_random(&t->seed, sizeof(t->seed))) {
		mem_deref(t);
		return EIO;
	}
	*out = t;
	return 0;
}

int dlg_table_add(struct dlg_table *t, struct dlg *d)
{
	struct dlg_id k;
	uint64_t h;

	if (d->tab)
		return EALREADY;
	id_of(d, &k);
	h = id_hash(t, &k);
	if (hash_find(t->dialogs, h, id_eq, &k))
		return EEXIST;
	hash_insert(t->dialogs, &d->node, h);
	d->tab = t;
	mem_ref(d);
	return 0;
}

void dlg_table_remove(struct dlg_table *t, struct dlg *d)
{
	if (!d || d->tab != t)
		return;
	hash_remove(t->dialogs, &d->node);
	d->tab = NULL;
	mem_deref(d);
}

struct purge {
	struct dlg_table *t;
	size_t n;
};

static bool purge_one(struct hash_node *n, void *arg)
{
	struct purge *p = arg;

	if (node_dlg(n)->state == DLG_TERMINATED) {
		drop_one(n, p->t);
		p->n++;
	}
	return false;
}

size_t dlg_table_purge(struct dlg_table *t)
{
	struct purge p = {t, 0};

	hash_apply(t->dialogs, purge_one, &p);
	return p.n;
}

size_t dlg_table_count(const struct dlg_table *t)
{
	return hash_count(t->dialogs);
}

struct dlg *dlg_table_match(struct dlg_table *t, struct msg *m)
{
	const struct msg_nameaddr *from = msg_from(m), *to = msg_to(m), *local, *remote;
	struct dlg_id k;
	struct span cid;

	if (!from || !to || !dlg_msg_callid(m, &cid))
		return NULL;
	local = m->is_request ? to : from;
	remote = m->is_request ? from : to;
	if (!local->has_tag)
		return NULL;
	k.cid = m->buf + cid.off;
	k.cidlen = cid.len;
	k.lt = m->buf + local->tag.off;
	k.ltlen = local->tag.len;
	k.rt = m->buf + remote->tag.off;
	k.rtlen = remote->tag.len;
	return node_dlg_or_null(hash_find(t->dialogs, id_hash(t, &k), id_eq, &k));
}

unsigned dlg_table_request(struct dlg_table *t, struct msg *req, struct dlg **out)
{
	bool ack = req->is_request && req->method == MSG_METHOD_ACK;
	const struct msg_nameaddr *from, *to;
	struct span cid;
	struct dlg *d;
	unsigned status;

	*out = NULL;
	if (!req->is_request)
		return 400;
	from = msg_from(req);
	to = msg_to(req);
	if (!from || !to || !dlg_msg_callid(req, &cid))
		return ack ? 0 : 400;
	if (!to->has_tag)
		return 0;
	d = dlg_table_match(t, req);
	if (!d)
		return ack ? 0 : 481; /* §12.2.2 */
	status = dlg_receive(d, req);
	if (status == 0)
		*out = d;
	return status;
}
