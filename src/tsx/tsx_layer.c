/*
 * tsx_layer.c - the transaction tables and the dispatch of received
 * messages (RFC 3261 §17.1.3, §17.2.3), per worker, with the hand-off of
 * messages that landed on a worker that does not own their transaction.
 * tsx.h explains the design.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "ringlet/mem.h"
#include "tsx/tsx_int.h"

#define DEFAULT_BUCKETS 16384u
#define MAX_BUCKETS (1u << 24)
#define CLIENT_BUCKETS 1024u
#define STRIPES 256u

/* A mutex on its own cache line, so stripes do not share one. */
struct stripe {
	_Alignas(64) pthread_mutex_t m;
};

static uint64_t seed_random(void)
{
	uint64_t s = 0;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		s = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&ts;
	}
	return s;
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static int tab_init(struct tsx_tab *tb, uint32_t n)
{
	tb->b = calloc(n, sizeof(*tb->b));
	if (!tb->b)
		return ENOMEM;
	tb->mask = n - 1;
	tb->count = 0;
	return 0;
}

static void tab_add(struct tsx_tab *tb, struct tsx_ent *e)
{
	struct tsx_ent **b = &tb->b[e->key.hash & tb->mask];

	e->hnext = *b;
	*b = e;
}

/* Take e out of its chain; put repl (if not NULL) in its place. */
static void tab_del(struct tsx_tab *tb, struct tsx_ent *e, struct tsx_ent *repl)
{
	for (struct tsx_ent **pp = &tb->b[e->key.hash & tb->mask]; *pp; pp = &(*pp)->hnext) {
		if (*pp == e) {
			if (repl) {
				repl->hnext = e->hnext;
				*pp = repl;
			} else {
				*pp = e->hnext;
			}
			e->hnext = NULL;
			return;
		}
	}
}

/* Double the client table when chains grow long (single thread: no lock). */
static void tab_grow(struct tsx_tab *tb)
{
	uint32_t n = (tb->mask + 1) * 2;
	struct tsx_ent **b = calloc(n, sizeof(*b));

	if (!b)
		return;
	for (uint32_t i = 0; i <= tb->mask; i++) {
		struct tsx_ent *e = tb->b[i], *next;

		for (; e; e = next) {
			next = e->hnext;
			e->hnext = b[e->key.hash & (n - 1)];
			b[e->key.hash & (n - 1)] = e;
		}
	}
	free(tb->b);
	tb->b = b;
	tb->mask = n - 1;
}

int tsx_group_alloc(struct tsx_group **out, unsigned nworkers, unsigned buckets)
{
	struct tsx_group *g;
	uint32_t n;

	if (nworkers == 0 || nworkers > TSX_MAX_WORKERS || buckets > MAX_BUCKETS)
		return EINVAL;
	n = pow2_at_least(buckets ? buckets : DEFAULT_BUCKETS);
	g = calloc(1, sizeof(*g));
	if (!g)
		return ENOMEM;
	g->nworkers = nworkers;
	g->seed = seed_random();
	g->smask = (n < STRIPES ? n : STRIPES) - 1;
	g->locks = aligned_alloc(_Alignof(struct stripe), (g->smask + 1) * sizeof(struct stripe));
	if (!g->locks || tab_init(&g->tab, n)) {
		free(g->locks);
		free(g);
		return ENOMEM;
	}
	for (uint32_t i = 0; i <= g->smask; i++)
		pthread_mutex_init(&((struct stripe *)g->locks)[i].m, NULL);
	*out = g;
	return 0;
}

void tsx_group_free(struct tsx_group *g)
{
	if (!g)
		return;
	for (uint32_t i = 0; i <= g->smask; i++)
		pthread_mutex_destroy(&((struct stripe *)g->locks)[i].m);
	free(g->locks);
	free(g->tab.b);
	free(g);
}

static pthread_mutex_t *stripe_of(struct tsx_group *g, uint32_t hash)
{
	return &((struct stripe *)g->locks)[hash & g->tab.mask & g->smask].m;
}

/* Server table lookup; the stripe lock of k->hash is held. */
static struct tsx_ent *gfind(struct tsx_group *g, const struct tsx_key *k)
{
	for (struct tsx_ent *e = g->tab.b[k->hash & g->tab.mask]; e; e = e->hnext)
		if (tsx_key_equal(e, k))
			return e;
	return NULL;
}

/* The live server transaction of key k (a done record is none), or NULL. */
struct tsx *tsx_group_find(struct tsx_layer *l, const struct tsx_key *k)
{
	pthread_mutex_t *m = stripe_of(l->g, k->hash);
	struct tsx_ent *e;

	pthread_mutex_lock(m);
	e = gfind(l->g, k);
	pthread_mutex_unlock(m);
	return e && !e->done ? TSX_OF(e) : NULL;
}

/*
 * Replace server table entry old by repl (same key) or, repl NULL, take it
 * out, under its stripe lock.
 */
void tsx_group_swap(struct tsx_layer *l, struct tsx_ent *old, struct tsx_ent *repl)
{
	pthread_mutex_t *m = stripe_of(l->g, old->key.hash);

	pthread_mutex_lock(m);
	tab_del(&l->g->tab, old, repl);
	pthread_mutex_unlock(m);
}

/*
 * Change the To tag state of server transaction t.  Other workers read it
 * under the stripe lock when they match an RFC 2543 ACK (tsx_2543.c), so
 * the owner writes it under that lock too.  len 0 keeps the tag and only
 * sets `sent`.
 */
int tsx_tag_set(struct tsx *t, const char *tag, size_t len, bool sent)
{
	pthread_mutex_t *m = t->linked && t->l ? stripe_of(t->l->g, t->e.key.hash) : NULL;
	char *nl = NULL, *old = NULL;

	if (len > TSX_TAG_INLINE) {
		nl = malloc(len + 1);
		if (!nl)
			return ENOMEM;
		memcpy(nl, tag, len);
		nl[len] = '\0';
	}
	if (m)
		pthread_mutex_lock(m);
	if (len) {
		old = t->tag_long;
		t->tag_long = nl;
		if (!nl) {
			memcpy(t->tag, tag, len);
			t->tag[len] = '\0';
		}
		t->taglen = (uint8_t)len;
	}
	t->tag_sent |= sent;
	if (m)
		pthread_mutex_unlock(m);
	free(old);
	return 0;
}

/* Give server transaction t a random To tag if it has none yet (§19.3). */
void tsx_tag_ensure(struct tsx *t)
{
	char tag[16];

	if (t->taglen || !t->l)
		return;
	tsx_random_hex(t->l, tag, sizeof(tag));
	(void)tsx_tag_set(t, tag, sizeof(tag), false);
}

/* Put t on its layer's list, and clients in the layer's table. */
void tsx_link(struct tsx *t)
{
	struct tsx_layer *l = t->l;

	list_push_back(&l->all, &t->le);
	l->count++;
	if (t->kind == TSX_CLIENT_INVITE || t->kind == TSX_CLIENT_NON_INVITE) {
		tab_add(&l->ctab, &t->e);
		t->linked = true;
		if (++l->ctab.count > 2 * (l->ctab.mask + 1))
			tab_grow(&l->ctab);
	}
}

void tsx_unlink(struct tsx *t)
{
	struct tsx_layer *l = t->l;

	list_remove(&t->le);
	l->count--;
	if (!t->linked)
		return;
	t->linked = false;
	if (t->kind == TSX_CLIENT_INVITE || t->kind == TSX_CLIENT_NON_INVITE) {
		tab_del(&l->ctab, &t->e, NULL);
		l->ctab.count--;
	} else {
		tsx_group_swap(l, &t->e, NULL);
	}
}

static void layer_recv(struct tp *tp, struct tp_rx *rx, void *arg)
{
	(void)tp;
	tsx_layer_input(arg, rx);
}

int tsx_layer_alloc(struct tsx_layer **out, struct tsx_group *g, unsigned worker,
		    struct loop *loop, struct tp *tp, const struct tsx_conf *conf,
		    const struct tsx_tu *tu)
{
	struct tsx_layer *l;
	bool own = false;
	int err;

	if (!g) {
		if (worker != 0)
			return EINVAL;
		err = tsx_group_alloc(&g, 1, 0);
		if (err)
			return err;
		own = true;
	}
	if (worker >= g->nworkers || g->layers[worker]) {
		err = EINVAL;
		goto fail;
	}
	l = calloc(1, sizeof(*l));
	if (!l || !(l->scratch = malloc(TSX_SCRATCH)) || tab_init(&l->ctab, CLIENT_BUCKETS)) {
		if (l)
			free(l->scratch);
		free(l);
		err = ENOMEM;
		goto fail;
	}
	l->g = g;
	l->own_group = own;
	l->worker = (uint16_t)worker;
	l->loop = loop;
	l->tp = tp;
	l->tm.t1 = conf && conf->t1 ? conf->t1 : 500;
	l->tm.t2 = conf && conf->t2 ? conf->t2 : 4000;
	l->tm.t4 = conf && conf->t4 ? conf->t4 : 5000;
	l->tm.trying = conf && conf->trying_ms ? conf->trying_ms : 200;
	l->rng = conf && conf->seed ? conf->seed + worker * 0x9e3779b97f4a7c15ull : seed_random();
	if (tu)
		l->tu = *tu;
	list_init(&l->all);
	loop_timer_init(&l->done_tmr);
	g->layers[worker] = l;
	tp->recv = layer_recv;
	tp->recv_arg = l;
	*out = l;
	return 0;
fail:
	if (own)
		tsx_group_free(g);
	return err;
}

void tsx_layer_free(struct tsx_layer *l)
{
	struct list_node *n;

	if (!l)
		return;
	while ((n = list_front(&l->all)) != NULL)
		tsx_terminate(LIST_ENTRY(n, struct tsx, le));
	tsx_done_free_all(l);
	if (l->tp->recv == layer_recv && l->tp->recv_arg == l) {
		l->tp->recv = NULL;
		l->tp->recv_arg = NULL;
	}
	l->g->layers[l->worker] = NULL;
	if (l->own_group)
		tsx_group_free(l->g);
	free(l->ctab.b);
	free(l->scratch);
	free(l);
}

struct loop *tsx_layer_loop(const struct tsx_layer *l)
{
	return l->loop;
}

struct tp *tsx_layer_tp(const struct tsx_layer *l)
{
	return l->tp;
}

unsigned tsx_layer_count(const struct tsx_layer *l)
{
	return l->count;
}

/* A message copied for another worker's loop. */
struct handoff {
	struct tsx_layer *to;
	struct tp_rx rx;
	char buf[];
};

static void input(struct tsx_layer *l, struct tp_rx *rx, bool handed);

static void on_handoff(void *arg)
{
	struct handoff *h = arg;

	input(h->to, &h->rx, true);
	if (h->rx.conn)
		tp_conn_unref(h->rx.conn);
	free(h);
}

/*
 * Copy rx (bytes and parsed message: spans are offsets) and post it to the
 * owning layer's loop.  Without memory the message is dropped, as the
 * network could have dropped it.
 */
static void handoff(struct tsx_layer *to, const struct tp_rx *rx)
{
	struct handoff *h;

	if (!to)
		return;
	h = malloc(sizeof(*h) + rx->msg.len);
	if (!h)
		return;
	h->to = to;
	h->rx = *rx;
	memcpy(h->buf, rx->msg.buf, rx->msg.len);
	h->rx.msg.buf = h->buf;
	h->rx.buf = h->buf;
	h->rx.len = rx->msg.len;
	if (h->rx.conn)
		tp_conn_ref(h->rx.conn);
	if (loop_post(to->loop, on_handoff, h)) {
		if (h->rx.conn)
			tp_conn_unref(h->rx.conn);
		free(h);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The worker a branch of ours names (see tsx_branch; a suffix may follow), or -1. */
static int branch_owner(const struct tsx_group *g, const char *b, size_t n)
{
	int hi, lo;

	if (n < 26 || memcmp(b, TSX_COOKIE "R", TSX_COOKIE_LEN + 1) != 0)
		return -1;
	hi = hexval(b[8]);
	lo = hexval(b[9]);
	if (hi < 0 || lo < 0 || (unsigned)(hi * 16 + lo) >= g->nworkers)
		return -1;
	return hi * 16 + lo;
}

static struct tsx *cfind(struct tsx_layer *l, const char *b, size_t n, struct msg *m,
			 const struct msg_cseq *cs)
{
	uint32_t h = tsx_hash_end(tsx_hash_add(0, b, n));

	for (struct tsx_ent *e = l->ctab.b[h & l->ctab.mask]; e; e = e->hnext)
		if (e->key.hash == h &&
		    tsx_client_match(TSX_OF(e), b, n, cs->method_id, m->buf, cs->method))
			return TSX_OF(e);
	return NULL;
}

/* §17.1.3: a response goes to the client transaction of its branch + CSeq method. */
static void response_in(struct tsx_layer *l, struct tp_rx *rx, bool handed)
{
	struct msg *m = &rx->msg;
	const struct msg_via *via = msg_top_via(m);
	const struct msg_cseq *cs = msg_cseq(m);
	const char *b;
	struct tsx *t;
	int w;

	if (!via || !cs || m->status < 100 || m->status > 699)
		return;
	b = span_ptr(m->buf, via->branch);
	w = branch_owner(l->g, b, via->branch.len);
	if (!handed && w >= 0 && (unsigned)w != l->worker && l->g->layers[w]) {
		handoff(l->g->layers[w], rx);
		return;
	}
	t = cfind(l, b, via->branch.len, m, cs);
	if (t) {
		struct tsx_ev ev = {.type = TSX_EV_RX, .code = m->status, .rx = rx};

		tsx_dispatch(t, &ev);
	} else if (l->tu.stray_response) {
		l->tu.stray_response(l, rx, l->tu.arg);
	}
}

/*
 * The top Via the server transport would have written for rx (RFC 3261
 * §18.2.1 received, RFC 3581 rport) into out: its length, or 0 when the
 * Via stays as received (or cannot be rewritten).
 */
int tsx_via1(const struct tp_rx *rx, char *out, size_t cap)
{
	char add[128];

	if (tp_via_received(rx, add, sizeof(add)) <= 0)
		return 0;
	int n = tp_via_rewrite(rx, out, cap);
	return n > 0 ? n : 0;
}

/*
 * Keep that Via for every response of t.  Without memory the responses
 * carry the Via as received, which still routes them.
 */
static void via1_fixup(struct tsx *t, const struct tp_rx *rx)
{
	char via[MSG_MAX_LINE];
	int n = tsx_via1(rx, via, sizeof(via));

	if (n <= 0)
		return;
	t->via1 = malloc((size_t)n);
	if (!t->via1)
		return;
	memcpy(t->via1, via, (size_t)n);
	t->via1len = (uint32_t)n;
}

/* A new server transaction for rx, linked in the group table (stripe lock held). */
static struct tsx *server_new(struct tsx_layer *l, struct tp_rx *rx, const struct tsx_key *k)
{
	struct tp_dest d;
	struct tsx *t;
	char *req;

	if (tp_response_dest(rx, &d))
		return NULL;
	req = malloc(rx->msg.len);
	if (!req)
		return NULL;
	memcpy(req, rx->msg.buf, rx->msg.len);
	t = tsx_new(l, k->rmethod == MSG_METHOD_INVITE ? TSX_SERVER_INVITE
						       : TSX_SERVER_NON_INVITE,
		    req, rx->msg.len, k);
	if (!t)
		return NULL;
	t->dest = d;
	via1_fixup(t, rx);
	if (d.conn)
		tp_conn_ref(d.conn);
	t->reliable = tp_proto_reliable((enum tp_proto)rx->proto);
	tab_add(&l->g->tab, &t->e);
	t->linked = true;
	tsx_link(t);
	return t;
}

/* Start the machine of new server transaction t and hand the request up. */
static void server_start(struct tsx_layer *l, struct tsx *t, struct tp_rx *rx)
{
	if (t->kind == TSX_SERVER_INVITE)
		tsx_sinv_start(t);
	else
		tsx_snon_start(t);
	mem_ref(t);
	if (l->tu.request)
		l->tu.request(t, rx, l->tu.arg);
	else
		tsx_respond(t, 501, NULL, NULL, NULL, 0);
	mem_deref(t);
}

/*
 * A CANCEL whose INVITE has sent its 2xx and is now a record (tsx_done.c):
 * it has no effect, and is answered 200 (RFC 3261 §9.2, §16.10) here, as
 * the TU would: no TU holds that INVITE any more.
 */
static void cancel_answered(struct tsx *t)
{
	tsx_snon_start(t);
	mem_ref(t);
	tsx_respond(t, 200, NULL, NULL, NULL, 0);
	mem_deref(t);
}

/*
 * §17.2.3: a request goes to its server transaction (ACK: the INVITE's),
 * wherever that lives; otherwise it starts one, on the worker that owns the
 * INVITE for a CANCEL.  An ACK nothing matches is stray (an ACK for a 2xx).
 */
static void request_in(struct tsx_layer *l, struct tp_rx *rx, bool handed)
{
	struct tsx_group *g = l->g;
	struct tsx_key k, ik;
	struct tsx_k2543 x;
	struct tsx_ent *e, *inv = NULL;
	struct tsx *t;
	pthread_mutex_t *m;
	unsigned owner;

	if (tsx_key_request(&k, &x, &rx->msg, g->seed))
		return;
	m = stripe_of(g, k.hash);
	pthread_mutex_lock(m);
	e = gfind(g, &k);
	if (!e && k.rmethod == MSG_METHOD_CANCEL) {
		ik = k;
		ik.method = MSG_METHOD_INVITE;
		ik.rmethod = MSG_METHOD_INVITE;
		inv = gfind(g, &ik);
	}
	if (e) {
		/* only its owner frees an entry, so it outlives the lock on its thread */
		owner = e->worker;
		pthread_mutex_unlock(m);
		if (owner != l->worker) {
			if (!handed)
				handoff(g->layers[owner], rx);
		} else if (e->done) {
			tsx_done_rx(l, TSX_DONE_OF(e), rx);
		} else {
			struct tsx_ev ev = {.type = TSX_EV_RX, .rx = rx};

			tsx_dispatch(TSX_OF(e), &ev);
		}
		return;
	}
	if (k.rmethod == MSG_METHOD_ACK) {
		pthread_mutex_unlock(m);
		tsx_stray_request(l, rx);
		return;
	}
	if (inv && inv->worker != l->worker && !handed) {
		owner = inv->worker;
		pthread_mutex_unlock(m);
		handoff(g->layers[owner], rx);
		return;
	}
	t = server_new(l, rx, &k);
	pthread_mutex_unlock(m);
	if (t && inv && inv->done && inv->worker == l->worker)
		cancel_answered(t);
	else if (t)
		server_start(l, t, rx);
}

static void input(struct tsx_layer *l, struct tp_rx *rx, bool handed)
{
	if (rx->msg.is_request)
		request_in(l, rx, handed);
	else
		response_in(l, rx, handed);
}

void tsx_layer_input(struct tsx_layer *l, struct tp_rx *rx)
{
	input(l, rx, false);
}
