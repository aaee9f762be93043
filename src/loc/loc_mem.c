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
 * Each AOR is one allocation sized by its strings: the table and wheel
 * links, the AOR, then its bindings as packed records (a fixed header with
 * the numbers and the string lengths, then the strings without their NULs),
 * a few hundred bytes for a typical binding where a struct loc_binding
 * takes over 2 KB.  Bindings become struct loc_binding only on their way
 * to loc_apply() and to the caller.  A refresh that does not grow the
 * record (the common REGISTER) rewrites it in place.
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
#define SLACK 64u  /* unused record bytes an AOR may keep rather than be reallocated */

/* The strings of a binding, in the order a record holds them. */
enum { F_CONTACT, F_PATH, F_INSTANCE, F_CALLID, F_RECEIVED, F_UA, NFIELDS };

static const struct {
	size_t off, cap;
} fields[NFIELDS] = {
    {offsetof(struct loc_binding, contact), LOC_CONTACT_MAX},
    {offsetof(struct loc_binding, path), LOC_PATH_MAX},
    {offsetof(struct loc_binding, instance), LOC_INSTANCE_MAX},
    {offsetof(struct loc_binding, call_id), LOC_CALLID_MAX},
    {offsetof(struct loc_binding, received), LOC_ADDR_MAX},
    {offsetof(struct loc_binding, user_agent), LOC_UA_MAX},
};

/* One packed binding: this header, then the strings; size is a multiple of 8. */
struct rec {
	int64_t expires;
	uint32_t reg_id;
	uint32_t cseq;
	int16_t q;
	uint16_t size; /* of the whole record (at most ~2.2 KB) */
	uint16_t len[NFIELDS];
};

struct mem_aor {
	struct hash_node hn;
	struct list_node wle;	 /* in the wheel slot of next_exp */
	int64_t next_exp;	 /* earliest expiry among the records */
	uint32_t len, cap;	 /* bytes of records in use / room for them */
	uint16_t aoff;		 /* the records start at data + aoff */
	uint8_t n;		 /* records */
	_Alignas(8) char data[]; /* the AOR with its NUL, padding to 8, the records */
};

struct mem_user {
	struct hash_node hn;
	struct loc_user u;
};

/* One part of the AOR table, with its lock (~150 KB, so locks never share a line). */
struct shard {
	pthread_mutex_t mu;
	struct hash *aors;
	int64_t done; /* last second the expiry thread has processed */
	struct list wheel[WHEEL_SLOTS];
	struct loc_binding cur[LOC_MAX_BINDINGS];     /* an AOR's bindings unpacked, under mu */
	struct loc_binding scratch[LOC_MAX_BINDINGS]; /* loc_apply's output, under mu */
};

struct mem_store {
	struct loc_store base;
	pthread_mutex_t mu; /* users and stop */
	pthread_cond_t cv;  /* wakes the expiry thread to stop */
	pthread_t thread;
	bool stop;
	uint64_t seed;			/* of the hashes: AORs and user names are chosen by peers */
	uint8_t secret[LOC_SECRET_LEN]; /* nonce secret: this process only */
	struct hash *users;
	struct shard sh[SHARDS];
};

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* The bytes of b's record. */
static size_t rec_size(const struct loc_binding *b)
{
	const char *p = (const char *)b;
	size_t i, n = sizeof(struct rec);

	for (i = 0; i < NFIELDS; i++)
		n += strnlen(p + fields[i].off, fields[i].cap - 1);
	return round8(n);
}

/* Write b's record at r (room for rec_size(b)); returns its size. */
static size_t rec_pack(struct rec *r, const struct loc_binding *b)
{
	const char *p = (const char *)b;
	char *s = (char *)(r + 1);
	size_t i, len;

	r->expires = b->expires;
	r->reg_id = b->reg_id;
	r->cseq = b->cseq;
	r->q = b->q;
	for (i = 0; i < NFIELDS; i++) {
		len = strnlen(p + fields[i].off, fields[i].cap - 1);
		memcpy(s, p + fields[i].off, len);
		r->len[i] = (uint16_t)len;
		s += len;
	}
	len = round8((size_t)(s - (char *)r));
	memset(s, 0, len - (size_t)(s - (char *)r));
	r->size = (uint16_t)len;
	return len;
}

/* The binding of record r, every unused byte zero. */
static void rec_unpack(const struct rec *r, struct loc_binding *b)
{
	const char *s = (const char *)(r + 1);
	char *p = (char *)b;
	size_t i;

	memset(b, 0, sizeof(*b));
	b->expires = r->expires;
	b->reg_id = r->reg_id;
	b->cseq = r->cseq;
	b->q = r->q;
	for (i = 0; i < NFIELDS; i++) {
		memcpy(p + fields[i].off, s, r->len[i]);
		s += r->len[i];
	}
}

static struct rec *recs(struct mem_aor *e)
{
	return (struct rec *)(void *)(e->data + e->aoff);
}

static struct rec *rec_next(struct rec *r)
{
	return (struct rec *)(void *)((char *)r + r->size);
}

/* A new AOR entry, in no table, with room for len bytes of records. */
static struct mem_aor *aor_new(const char *aor, size_t len)
{
	size_t alen = strlen(aor), aoff = round8(alen + 1);
	struct mem_aor *e = mem_alloc(sizeof(*e) + aoff + len, NULL);

	if (!e)
		return NULL;
	memcpy(e->data, aor, alen + 1);
	e->aoff = (uint16_t)aoff;
	e->cap = (uint32_t)len;
	return e;
}

static uint64_t key_hash(const struct mem_store *m, const char *k)
{
	return hash_bytes(k, strlen(k), m->seed);
}

static bool aor_eq(const struct hash_node *n, const void *key)
{
	return strcmp(((const struct mem_aor *)(const void *)n)->data, key) == 0;
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

static void aor_drop(struct shard *sh, struct mem_aor *e)
{
	hash_remove(sh->aors, &e->hn);
	list_remove(&e->wle);
	mem_deref(e);
}

/* File e in the slot of its earliest expiry (never a second already processed). */
static void wheel_place(struct shard *sh, struct mem_aor *e)
{
	struct rec *r = recs(e);
	int64_t t = r->expires;
	unsigned i;

	for (i = 1; i < e->n; i++) {
		r = rec_next(r);
		if (r->expires < t)
			t = r->expires;
	}
	e->next_exp = t;
	if (t <= sh->done)
		t = sh->done + 1;
	list_remove(&e->wle);
	list_push_back(&sh->wheel[(uint64_t)t % WHEEL_SLOTS], &e->wle);
}

/* Unpack e's unexpired bindings to b (room for LOC_MAX_BINDINGS); returns how many. */
static unsigned aor_unpack(struct mem_aor *e, struct loc_binding *b, int64_t now)
{
	struct rec *r = recs(e);
	unsigned i, k = 0;

	for (i = 0; i < e->n; i++, r = rec_next(r))
		if (r->expires > now)
			rec_unpack(r, &b[k++]);
	return k;
}

/* Set r's results to e's unexpired bindings (e NULL: none).  0 or ENOMEM. */
static int aor_result(struct loc_req *r, struct mem_aor *e, int64_t now)
{
	struct rec *p;
	unsigned i, k = 0;

	r->b = mem_deref(r->b);
	r->nb = 0;
	if (!e)
		return 0;
	for (i = 0, p = recs(e); i < e->n; i++, p = rec_next(p))
		k += p->expires > now;
	if (k == 0)
		return 0;
	r->b = mem_alloc(k * sizeof(*r->b), NULL);
	if (!r->b)
		return ENOMEM;
	r->nb = aor_unpack(e, r->b, now);
	return 0;
}

/*
 * Replace e's bindings (e NULL: a new AOR) with scratch[0..k), and copy them
 * to r.  In place when they fit in e's room; else in a new entry that takes
 * e's place in the table.  On ENOMEM nothing changes.
 */
static int store_result(struct shard *sh, uint64_t h, struct mem_aor *e, struct loc_req *r,
			unsigned k)
{
	struct loc_binding *res;
	struct mem_aor *ne = e;
	struct rec *p;
	size_t len = 0;
	unsigned i;

	if (k == 0) {
		if (e)
			aor_drop(sh, e);
		return 0;
	}
	for (i = 0; i < k; i++)
		len += rec_size(&sh->scratch[i]);
	res = mem_alloc(k * sizeof(*res), NULL);
	if (res && (!e || len > e->cap || e->cap - len > SLACK))
		ne = aor_new(r->key, len);
	if (!res || !ne) {
		mem_deref(res);
		return ENOMEM;
	}
	for (i = 0, p = recs(ne); i < k; i++)
		p = (struct rec *)(void *)((char *)p + rec_pack(p, &sh->scratch[i]));
	ne->len = (uint32_t)len;
	ne->n = (uint8_t)k;
	if (ne != e) {
		if (e)
			aor_drop(sh, e);
		hash_insert(sh->aors, &ne->hn, h);
	}
	wheel_place(sh, ne);
	memcpy(res, sh->scratch, k * sizeof(*res));
	r->b = res;
	r->nb = k;
	return 0;
}

/* §10.3 step 7 on the AOR's bindings, all or nothing. */
static int update(struct shard *sh, uint64_t h, struct loc_req *r, int64_t now)
{
	struct mem_aor *e = aor_find(sh, r->key, h);
	unsigned k, ncur = e ? aor_unpack(e, sh->cur, now) : 0;
	int err;

	err = loc_apply(sh->cur, ncur, r->c, r->n, r->remove_all, r->cseq, r->call_id, now,
			sh->scratch, &k);
	if (err)
		return err;
	if (r->n == 0 && !r->remove_all) /* a query (§10.3 step 8): nothing to write */
		return loc_req_result(r, sh->cur, ncur, now);
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
		r->err = aor_result(r, aor_find(sh, r->key, h), now);
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

/* Drop e's expired records (moving the rest down); drop e when none is left, else re-file it. */
static void prune(struct mem_store *m, struct shard *sh, struct mem_aor *e, int64_t now)
{
	struct rec *r = recs(e), *next;
	char *w = (char *)r;
	unsigned i, k = 0;

	for (i = 0; i < e->n; i++, r = next) {
		next = rec_next(r);
		if (r->expires <= now)
			continue;
		if (w != (char *)r)
			memmove(w, r, r->size);
		w += ((struct rec *)(void *)w)->size;
		k++;
	}
	atomic_fetch_add(&m->base.n_expired, e->n - k);
	e->n = (uint8_t)k;
	e->len = (uint32_t)(w - (char *)recs(e));
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
	struct loc_binding *b; /* the shard's cur[0]: one binding unpacked at a time */
};

static bool iter_aor(struct hash_node *n, void *arg)
{
	struct mem_aor *e = (struct mem_aor *)(void *)n;
	struct iter *it = arg;
	struct rec *r = recs(e);
	unsigned i;

	for (i = 0; i < e->n; i++, r = rec_next(r)) {
		if (r->expires <= it->now)
			continue;
		rec_unpack(r, it->b);
		it->fn(e->data, it->b, it->arg);
	}
	return false;
}

/* fn runs under a shard's lock (the table may be large: no copy): it must not call the store. */
static int mem_iterate(struct loc_store *s, loc_iter_fn *fn, void *arg)
{
	struct mem_store *m = (struct mem_store *)(void *)s;
	struct iter it = {fn, arg, loc_now(), NULL};
	unsigned i;

	for (i = 0; i < SHARDS; i++) {
		pthread_mutex_lock(&m->sh[i].mu);
		it.b = &m->sh[i].cur[0];
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
