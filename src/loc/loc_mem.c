/*
 * loc_mem.c - the "memory:" store: a hash table of AORs under one lock,
 * shared by every worker of the process.
 *
 * A call posts its request to the caller's own loop; the posted function
 * runs it under the lock (a few microseconds: RFC 3261 §10.3 step 7 on at
 * most LOC_MAX_BINDINGS bindings) and calls fn right there, so fn comes on
 * the caller's loop and never inside the call.  The table is split in
 * SHARDS by the hash of the AOR, each under a lock of its own, so workers
 * rarely wait for each other.
 *
 * Expiry (§10.3: a binding lasts until its expiry): per shard, a hashed
 * timing wheel of one-second slots.  Each AOR sits in the slot of its earliest binding
 * expiry, modulo WHEEL_SLOTS; an expiry thread wakes every second, walks
 * only that second's slot (entries due a full turn later are skipped in
 * O(1)), prunes what expired and re-files the AOR by its next expiry.  No
 * walk of the whole table, no allocation.  Lookups filter by expiry anyway,
 * so a binding is never returned after its time even between ticks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "loc/loc_int.h"
#include "ringlet/hash.h"
#include "ringlet/mem.h"

#define WHEEL_SLOTS 1024u
#define SHARDS 16u /* a power of two */

struct mem_aor {
	struct hash_node hn;
	struct list_node wle;  /* in the wheel slot of next_exp */
	struct loc_binding *b; /* n bindings (mem object, owned) */
	unsigned n;
	int64_t next_exp; /* earliest expiry among b */
	char aor[LOC_AOR_MAX];
};

struct mem_user {
	struct hash_node hn;
	struct loc_user u;
};

/* One part of the AOR table, with its lock; a shard is ~80 KB, so locks never share a line. */
struct shard {
	pthread_mutex_t mu;
	struct hash *aors;
	int64_t done; /* last second the expiry thread has processed */
	struct list wheel[WHEEL_SLOTS];
	struct loc_binding scratch[LOC_MAX_BINDINGS]; /* loc_apply's output, under mu */
};

struct mem_store {
	struct loc_store base;
	pthread_mutex_t mu; /* users and stop */
	pthread_cond_t cv;  /* wakes the expiry thread to stop */
	pthread_t thread;
	bool stop;
	uint64_t seed; /* of the hashes: AORs and user names are chosen by peers */
	uint8_t secret[LOC_SECRET_LEN]; /* nonce secret: this process only */
	struct hash *users;
	struct shard sh[SHARDS];
};

static uint64_t key_hash(const struct mem_store *m, const char *k)
{
	return hash_bytes(k, strlen(k), m->seed);
}

static bool aor_eq(const struct hash_node *n, const void *key)
{
	return strcmp(((const struct mem_aor *)(const void *)n)->aor, key) == 0;
}

static bool user_eq(const struct hash_node *n, const void *key)
{
	return strcmp(((const struct mem_user *)(const void *)n)->u.user, key) == 0;
}

/* The shard of aor and the hash of aor (its top bits pick the shard). */
static struct shard *shard_of(struct mem_store *m, const char *aor, uint64_t *h)
{
	*h = key_hash(m, aor);
	return &m->sh[*h >> 60 & (SHARDS - 1)];
}

static struct mem_aor *aor_find(struct shard *sh, const char *aor, uint64_t h)
{
	return (struct mem_aor *)(void *)hash_find(sh->aors, h, aor_eq, aor);
}

static struct mem_user *user_find(struct mem_store *m, const char *user)
{
	return (struct mem_user *)(void *)hash_find(m->users, key_hash(m, user), user_eq, user);
}

static void aor_destroy(void *p)
{
	struct mem_aor *e = p;

	mem_deref(e->b);
}

static void aor_drop(struct shard *sh, struct mem_aor *e)
{
	hash_remove(sh->aors, &e->hn);
	list_remove(&e->wle);
	mem_deref(e);
}

/* File e in the slot of its earliest expiry (never a second already processed). */
static void wheel_place(struct shard *sh, struct mem_aor *e)
{
	int64_t t = e->b[0].expires;
	unsigned i;

	for (i = 1; i < e->n; i++)
		if (e->b[i].expires < t)
			t = e->b[i].expires;
	e->next_exp = t;
	if (t <= sh->done)
		t = sh->done + 1;
	list_remove(&e->wle);
	list_push_back(&sh->wheel[(uint64_t)t % WHEEL_SLOTS], &e->wle);
}

/* Replace e's bindings (e NULL: a new AOR) with scratch[0..k), and copy them to r. */
static int store_result(struct shard *sh, uint64_t h, struct mem_aor *e, struct loc_req *r,
			unsigned k)
{
	struct loc_binding *nb, *res;

	if (k == 0) {
		if (e)
			aor_drop(sh, e);
		return 0;
	}
	nb = mem_alloc(k * sizeof(*nb), NULL);
	res = mem_alloc(k * sizeof(*res), NULL);
	if (!e && nb && res) {
		e = mem_alloc(sizeof(*e), aor_destroy);
		if (e) {
			loc_strcpy(e->aor, sizeof(e->aor), r->key);
			hash_insert(sh->aors, &e->hn, h);
		}
	}
	if (!e || !nb || !res) {
		mem_deref(nb);
		mem_deref(res);
		return ENOMEM;
	}
	memcpy(nb, sh->scratch, k * sizeof(*nb));
	memcpy(res, sh->scratch, k * sizeof(*res));
	mem_deref(e->b);
	e->b = nb;
	e->n = k;
	wheel_place(sh, e);
	r->b = res;
	r->nb = k;
	return 0;
}

/* §10.3 step 7 on the AOR's bindings, all or nothing. */
static int update(struct shard *sh, uint64_t h, struct loc_req *r, int64_t now)
{
	struct mem_aor *e = aor_find(sh, r->key, h);
	unsigned k;
	int err;

	err = loc_apply(e ? e->b : NULL, e ? e->n : 0, r->c, r->n, r->remove_all, r->cseq,
			r->call_id, now, sh->scratch, &k);
	if (err)
		return err;
	if (r->n == 0 && !r->remove_all) /* a query (§10.3 step 8): nothing to write */
		return e ? loc_req_result(r, e->b, e->n, now) : 0;
	return store_result(sh, h, e, r, k);
}

static int user_get(struct mem_store *m, struct loc_req *r)
{
	struct mem_user *u = user_find(m, r->key);

	if (!u)
		return ENOENT;
	r->user = u->u;
	return 0;
}

/* The posted half of every call: on the caller's loop, under the lock, then fn. */
static void run(void *arg)
{
	struct loc_req *r = arg;
	struct mem_store *m = (struct mem_store *)(void *)r->s;
	int64_t now = loc_now();
	struct mem_aor *e;
	struct shard *sh;
	uint64_t h;

	if (r->op == LOC_OP_USER_GET) {
		pthread_mutex_lock(&m->mu);
		r->err = user_get(m, r);
		pthread_mutex_unlock(&m->mu);
		goto out;
	}
	sh = shard_of(m, r->key, &h);
	pthread_mutex_lock(&sh->mu);
	switch (r->op) {
	case LOC_OP_UPDATE:
		r->err = update(sh, h, r, now);
		break;
	case LOC_OP_LOOKUP:
		e = aor_find(sh, r->key, h);
		r->err = e ? loc_req_result(r, e->b, e->n, now) : 0;
		break;
	case LOC_OP_REMOVE:
		e = aor_find(sh, r->key, h);
		if (e)
			aor_drop(sh, e);
		break;
	default:
		r->err = EINVAL;
		break;
	}
	pthread_mutex_unlock(&sh->mu);
out:
	atomic_fetch_add(&m->base.n_ops, 1);
	r->s = NULL;
	loc_req_deliver(r);
}

static int mem_submit(struct loc_store *s, struct loc_req *r)
{
	(void)s;
	if (r->sync)
		return EINVAL; /* the memory store's synchronous calls never queue */
	return loop_post(r->loop, run, r);
}

/* Drop e's expired bindings; drop e when none is left, else re-file it. */
static void prune(struct mem_store *m, struct shard *sh, struct mem_aor *e, int64_t now)
{
	unsigned i, k = 0;

	for (i = 0; i < e->n; i++)
		if (e->b[i].expires > now)
			e->b[k++] = e->b[i];
	atomic_fetch_add(&m->base.n_expired, e->n - k);
	e->n = k;
	if (k == 0)
		aor_drop(sh, e);
	else
		wheel_place(sh, e);
}

static void expire_slot(struct mem_store *m, struct shard *sh, struct list *slot, int64_t now)
{
	struct list_node *n, *tmp;

	/* prune() may move the entry to the back of this very slot: it is then skipped */
	for (n = slot->head.next; n != &slot->head; n = tmp) {
		struct mem_aor *e = LIST_ENTRY(n, struct mem_aor, wle);

		tmp = n->next;
		if (e->next_exp <= now)
			prune(m, sh, e, now);
	}
}

/* Process every second since the last tick (at most one turn of the wheel). */
static void tick(struct mem_store *m, struct shard *sh, int64_t now)
{
	int64_t t, from = sh->done + 1;

	if (now < from)
		return; /* the wall clock went back: wait for it */
	if (now - from >= (int64_t)WHEEL_SLOTS)
		from = now - WHEEL_SLOTS + 1;
	for (t = from; t <= now; t++)
		expire_slot(m, sh, &sh->wheel[(uint64_t)t % WHEEL_SLOTS], now);
	sh->done = now;
}

static void *expiry_main(void *arg)
{
	struct mem_store *m = arg;
	struct timespec at;
	unsigned i;

	pthread_mutex_lock(&m->mu);
	while (!m->stop) {
		int64_t now = loc_now();

		pthread_mutex_unlock(&m->mu);
		for (i = 0; i < SHARDS; i++) {
			pthread_mutex_lock(&m->sh[i].mu);
			tick(m, &m->sh[i], now);
			pthread_mutex_unlock(&m->sh[i].mu);
		}
		pthread_mutex_lock(&m->mu);
		at.tv_sec = (time_t)(now + 1);
		at.tv_nsec = 0;
		pthread_cond_timedwait(&m->cv, &m->mu, &at);
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

static int mem_user_put(struct loc_store *s, const struct loc_user *u)
{
	struct mem_store *m = (struct mem_store *)(void *)s;
	struct mem_user *e;
	int err = 0;

	pthread_mutex_lock(&m->mu);
	e = user_find(m, u->user);
	if (!e) {
		e = mem_alloc(sizeof(*e), NULL);
		if (e)
			hash_insert(m->users, &e->hn, key_hash(m, u->user));
	}
	if (e)
		e->u = *u;
	else
		err = ENOMEM;
	pthread_mutex_unlock(&m->mu);
	return err;
}

static int mem_user_del(struct loc_store *s, const char *user)
{
	struct mem_store *m = (struct mem_store *)(void *)s;
	struct mem_user *e;

	pthread_mutex_lock(&m->mu);
	e = user_find(m, user);
	if (e)
		hash_remove(m->users, &e->hn);
	pthread_mutex_unlock(&m->mu);
	mem_deref(e);
	return e ? 0 : ENOENT;
}

struct user_copy {
	struct loc_user *u;
	size_t n;
};

static bool copy_user(struct hash_node *n, void *arg)
{
	struct user_copy *c = arg;

	c->u[c->n++] = ((struct mem_user *)(void *)n)->u;
	return false;
}

static int user_cmp(const void *a, const void *b)
{
	return strcmp(((const struct loc_user *)a)->user, ((const struct loc_user *)b)->user);
}

/* A copy sorted by name, so fn runs without the lock and may call the store. */
static int mem_user_list(struct loc_store *s, loc_user_list_fn *fn, void *arg)
{
	struct mem_store *m = (struct mem_store *)(void *)s;
	struct user_copy c = {NULL, 0};
	bool oom = false;
	size_t i;

	pthread_mutex_lock(&m->mu);
	if (hash_count(m->users)) {
		c.u = mem_alloc(hash_count(m->users) * sizeof(*c.u), NULL);
		if (c.u)
			hash_apply(m->users, copy_user, &c);
		else
			oom = true;
	}
	pthread_mutex_unlock(&m->mu);
	if (oom)
		return ENOMEM;
	if (c.n > 0) /* qsort(NULL, 0, ...) is undefined (C11 7.22.5) */
		qsort(c.u, c.n, sizeof(*c.u), user_cmp);
	for (i = 0; i < c.n; i++)
		fn(&c.u[i], arg);
	mem_deref(c.u);
	return 0;
}

struct iter {
	loc_iter_fn *fn;
	void *arg;
	int64_t now;
};

static bool iter_aor(struct hash_node *n, void *arg)
{
	struct mem_aor *e = (struct mem_aor *)(void *)n;
	struct iter *it = arg;
	unsigned i;

	for (i = 0; i < e->n; i++)
		if (e->b[i].expires > it->now)
			it->fn(e->aor, &e->b[i], it->arg);
	return false;
}

/* fn runs under a shard's lock (the table may be large: no copy): it must not call the store. */
static int mem_iterate(struct loc_store *s, loc_iter_fn *fn, void *arg)
{
	struct mem_store *m = (struct mem_store *)(void *)s;
	struct iter it = {fn, arg, loc_now()};
	unsigned i;

	for (i = 0; i < SHARDS; i++) {
		pthread_mutex_lock(&m->sh[i].mu);
		hash_apply(m->sh[i].aors, iter_aor, &it);
		pthread_mutex_unlock(&m->sh[i].mu);
	}
	return 0;
}

static bool free_aor(struct hash_node *n, void *arg)
{
	aor_drop(arg, (struct mem_aor *)(void *)n);
	return false;
}

static bool free_user(struct hash_node *n, void *arg)
{
	hash_remove(arg, n);
	mem_deref(n);
	return false;
}

static void shards_free(struct mem_store *m)
{
	unsigned i;

	for (i = 0; i < SHARDS; i++) {
		if (m->sh[i].aors)
			hash_apply(m->sh[i].aors, free_aor, &m->sh[i]);
		mem_deref(m->sh[i].aors);
		pthread_mutex_destroy(&m->sh[i].mu);
	}
}

static void mem_close(struct loc_store *s)
{
	struct mem_store *m = (struct mem_store *)(void *)s;

	pthread_mutex_lock(&m->mu);
	m->stop = true;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
	pthread_join(m->thread, NULL);
	shards_free(m);
	hash_apply(m->users, free_user, m->users);
	mem_deref(m->users);
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	mem_deref(m);
}

static int mem_secret(struct loc_store *s, uint8_t out[LOC_SECRET_LEN])
{
	memcpy(out, ((struct mem_store *)(void *)s)->secret, LOC_SECRET_LEN);
	return 0;
}

static const struct loc_ops mem_ops = {
    .submit = mem_submit,
    .user_put = mem_user_put,
    .user_del = mem_user_del,
    .user_list = mem_user_list,
    .iterate = mem_iterate,
    .close = mem_close,
    .secret = mem_secret,
};

int loc_mem_open(struct loc_store **out)
{
	struct mem_store *m = mem_alloc(sizeof(*m), NULL);
	int64_t now = loc_now();
	unsigned i, j;
	int err = 0;

	if (!m)
		return ENOMEM;
	if (getrandom(&m->seed, sizeof(m->seed), GRND_NONBLOCK) != sizeof(m->seed))
		m->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)m;
	m->base.ops = &mem_ops;
	if (getrandom(m->secret, sizeof(m->secret), 0) != (ssize_t)sizeof(m->secret))
		err = EIO;
	for (i = 0; i < SHARDS; i++) {
		struct shard *sh = &m->sh[i];

		pthread_mutex_init(&sh->mu, NULL);
		for (j = 0; j < WHEEL_SLOTS; j++)
			list_init(&sh->wheel[j]);
		sh->done = now - 1;
		if (!err && hash_alloc(&sh->aors, 0))
			err = ENOMEM;
	}
	if (!err && hash_alloc(&m->users, 0))
		err = ENOMEM;
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	if (!err && pthread_create(&m->thread, NULL, expiry_main, m))
		err = EAGAIN;
	if (err) {
		pthread_cond_destroy(&m->cv);
		pthread_mutex_destroy(&m->mu);
		shards_free(m);
		mem_deref(m->users);
		mem_deref(m);
		return err;
	}
	*out = &m->base;
	return 0;
}
