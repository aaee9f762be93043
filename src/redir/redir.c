/*
 * redir.c - the redirect server (RFC 3261 §8.3, §21.3): 302 with the
 * location store's bindings, see rdr.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOG_MODULE "rdr"
#include "ringlet/list.h"
#include "ringlet/log.h"
#include "ringlet/mem.h"
#include "ringlet/rdr.h"
#include "ringlet/reg.h"

/* Bytes of one Contact line beyond its URI: "Contact: <>;q=0.123;expires=<int64>\r\n". */
#define LINE_EXTRA 64u
#define HDRS_CAP (LOC_MAX_BINDINGS * (LOC_CONTACT_MAX + LINE_EXTRA) + 1u)

struct rdr {
	struct loc_store *store;
	pthread_mutex_t mu; /* guards looks */
	struct list looks;  /* in flight, for rdr_free after the layers are gone */
};

/* One request waiting for the location service. */
struct look {
	struct list_node node; /* in r->looks */
	struct rdr *r;
	struct tsx *st; /* referenced */
	struct loop *loop;
	char aor[LOC_AOR_MAX];
};

int rdr_alloc(struct rdr **out, const struct rdr_conf *conf)
{
	if (!out || !conf || !conf->store)
		return EINVAL;
	struct rdr *r = mem_alloc(sizeof(*r), NULL);
	if (!r)
		return ENOMEM;
	if (pthread_mutex_init(&r->mu, NULL)) {
		mem_deref(r);
		return ENOMEM;
	}
	r->store = conf->store;
	list_init(&r->looks);
	*out = r;
	return 0;
}

void rdr_free(struct rdr *r)
{
	if (!r)
		return;
	struct list_node *n;
	while ((n = list_pop_front(&r->looks))) {
		struct look *k = LIST_ENTRY(n, struct look, node);
		mem_deref(k->st);
		mem_deref(k);
	}
	pthread_mutex_destroy(&r->mu);
	mem_deref(r);
}

static void respond(struct tsx *t, unsigned code, const char *reason, const char *hdrs)
{
	int err = tsx_respond(t, code, reason, hdrs, NULL, 0);
	if (err)
		log_debug("event=respond-failed code=%u err=%d", code, err);
}

static void look_end(struct look *k)
{
	mem_deref(k->st);
	pthread_mutex_lock(&k->r->mu);
	list_remove(&k->node);
	pthread_mutex_unlock(&k->r->mu);
	mem_deref(k);
}

/* A q-value in thousandths as RFC 3261 §25.1 writes it: "1", "0.5", "0.125". */
static void qvalue(int q, char *out, size_t cap)
{
	if (q >= 1000) {
		snprintf(out, cap, "1");
		return;
	}
	int frac = q < 0 ? 0 : q, digits = 3;
	while (digits > 1 && frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(out, cap, "0.%0*d", digits, frac);
}

/* True when s can go between <> of a header line as it is. */
static bool printable(const char *s)
{
	if (!s[0])
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || strchr("<>\"", *s))
			return false;
	return true;
}

/* An absent q ranks as 1.0 (§16.6 takes the same view of the target set). */
static int rank(const struct loc_binding *b)
{
	return b->q < 0 ? 1000 : b->q;
}

int rdr_contacts(const struct loc_binding *b, unsigned n, int64_t now, char *out, size_t cap)
{
	unsigned order[LOC_MAX_BINDINGS], m = 0;
	size_t len = 0;
	if (cap == 0)
		return -1;
	out[0] = 0;
	/* stable insertion sort by q, highest first; at most LOC_MAX_BINDINGS taken */
	for (unsigned i = 0; i < n && m < LOC_MAX_BINDINGS; i++) {
		if (b[i].expires <= now || !printable(b[i].contact))
			continue;
		unsigned j = m++;
		while (j > 0 && rank(&b[order[j - 1]]) < rank(&b[i])) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	for (unsigned i = 0; i < m; i++) {
		const struct loc_binding *x = &b[order[i]];
		char q[8] = "";
		if (x->q >= 0)
			qvalue(x->q, q, sizeof(q));
		int w = snprintf(out + len, cap - len, "Contact: <%s>%s%s;expires=%lld\r\n",
				 x->contact, q[0] ? ";q=" : "", q, (long long)(x->expires - now));
		if (w < 0 || (size_t)w >= cap - len) {
			out[len] = 0;
			return -1;
		}
		len += (size_t)w;
	}
	return (int)len;
}

/* The AOR has no binding: 480 for a provisioned user, 404 for an unknown one. */
static void on_user(int err, const struct loc_user *u, void *arg)
{
	struct look *k = arg;
	(void)u;
	respond(k->st, err == 0 ? 480 : 404, NULL, NULL);
	look_end(k);
}

/* No usable binding: ask whether the user is provisioned (users are USER@DOMAIN). */
static void no_binding(struct look *k)
{
	if (loc_user_get(k->r->store, k->loop, k->aor + 4, on_user, k)) {
		respond(k->st, 480, NULL, NULL);
		look_end(k);
	}
}

static void on_lookup(int err, const struct loc_binding *b, unsigned n, void *arg)
{
	struct look *k = arg;
	if (err) {
		log_info("event=lookup-failed err=%d", err);
		respond(k->st, 500, "Location Service Failed", NULL);
		look_end(k);
		return;
	}
	char *hdrs = n ? malloc(HDRS_CAP) : NULL;
	int len = hdrs ? rdr_contacts(b, n, (int64_t)time(NULL), hdrs, HDRS_CAP) : 0;
	if (n && !hdrs) {
		respond(k->st, 500, NULL, NULL);
	} else if (len > 0) {
		respond(k->st, 302, NULL, hdrs); /* §21.3.3 */
	} else if (len < 0) {
		log_info("event=contacts-too-long n=%u", n);
		respond(k->st, 500, NULL, NULL);
	} else {
		free(hdrs);
		no_binding(k);
		return;
	}
	free(hdrs);
	look_end(k);
}

void rdr_request(struct rdr *r, struct tsx *t, struct tp_rx *rx)
{
	struct msg *m = &rx->msg;
	struct tsx_layer *l = tsx_layer_of(t);
	const struct msg_uri *ru = msg_ruri(m);
	struct look *k = l ? mem_alloc(sizeof(*k), NULL) : NULL;
	if (!k) {
		respond(t, 500, NULL, NULL);
		return;
	}
	if (!ru || reg_aor(m->buf, ru, k->aor, sizeof(k->aor)) < 5) {
		mem_deref(k);
		respond(t, 404, NULL, NULL);
		return;
	}
	k->r = r;
	k->st = mem_ref(t);
	k->loop = tsx_layer_loop(l);
	pthread_mutex_lock(&r->mu);
	list_push_back(&r->looks, &k->node);
	pthread_mutex_unlock(&r->mu);
	if (loc_lookup(r->store, k->loop, k->aor, on_lookup, k)) {
		respond(t, 500, NULL, NULL);
		look_end(k);
	}
}
