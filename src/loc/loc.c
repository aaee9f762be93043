/*
 * loc.c - the location store's front: the store URL, argument checks, the
 * request every call becomes, and its completion on the caller's loop.
 * The backends (loc_mem.c, loc_sqlite.c, loc_redis.c) only run requests.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOG_MODULE "loc"
#include "loc/loc_int.h"
#include "ringlet/log.h"
#include "ringlet/mem.h"

#define URL_HELP "write memory:, sqlite:PATH or redis://HOST:PORT[/DB]"

int64_t loc_now(void)
{
	return (int64_t)time(NULL);
}

void loc_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

bool loc_memcpy(char *dst, size_t cap, const void *src, size_t n)
{
	if (n >= cap) {
		dst[0] = '\0';
		return false;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
	return true;
}

bool loc_strcpy(char *dst, size_t cap, const char *src)
{
	return loc_memcpy(dst, cap, src, strnlen(src, cap));
}

/* Parse "HOST:PORT[/DB]" (HOST may be a bracketed IPv6 address). */
static int parse_redis(const char *p, char *host, size_t hostcap, uint16_t *port, unsigned *db)
{
	const char *colon, *hend, *q;
	unsigned long v;
	char *end;

	if (*p == '[') {
		hend = strchr(p, ']');
		if (!hend || hend[1] != ':')
			return EINVAL;
		p++;
		colon = hend + 1;
	} else {
		colon = strrchr(p, ':');
		if (!colon)
			return EINVAL;
		hend = colon;
	}
	if (hend == p || !loc_memcpy(host, hostcap, p, (size_t)(hend - p)))
		return EINVAL;
	q = colon + 1;
	if (*q < '0' || *q > '9')
		return EINVAL;
	v = strtoul(q, &end, 10);
	if (v == 0 || v > 65535 || (*end != '\0' && *end != '/'))
		return EINVAL;
	*port = (uint16_t)v;
	*db = 0;
	if (*end == '/' && end[1] != '\0') {
		q = end + 1;
		if (*q < '0' || *q > '9')
			return EINVAL;
		v = strtoul(q, &end, 10);
		if (*end != '\0' || v > 65535)
			return EINVAL;
		*db = (unsigned)v;
	}
	return 0;
}

int loc_open(struct loc_store **out, const char *url, char *why, size_t whylen)
{
	char host[256];
	uint16_t port;
	unsigned db;

	if (why && whylen)
		why[0] = '\0';
	if (!out || !url) {
		loc_why(why, whylen, "no store url: " URL_HELP);
		return EINVAL;
	}
	if (strcmp(url, "memory:") == 0)
		return loc_mem_open(out);
	if (strncmp(url, "sqlite:", 7) == 0) {
		if (url[7] == '\0') {
			loc_why(why, whylen, "store '%s' names no file: write sqlite:PATH", url);
			return EINVAL;
		}
		return loc_sqlite_open(out, url + 7, why, whylen);
	}
	if (strncmp(url, "redis://", 8) == 0) {
		if (parse_redis(url + 8, host, sizeof(host), &port, &db)) {
			loc_why(why, whylen, "bad redis store '%s': write redis://HOST:PORT[/DB]",
				url);
			return EINVAL;
		}
		return loc_redis_open(out, host, port, db, why, whylen);
	}
	loc_why(why, whylen, "unknown store '%s': " URL_HELP, url);
	return EINVAL;
}

void loc_close(struct loc_store *s)
{
	if (s)
		s->ops->close(s);
}

void loc_stats(struct loc_store *s, struct loc_stats *out)
{
	out->ops = atomic_load(&s->n_ops);
	out->commits = atomic_load(&s->n_commits);
	out->expired = atomic_load(&s->n_expired);
	out->retries = atomic_load(&s->n_retries);
}

static void req_destroy(void *p)
{
	struct loc_req *r = p;

	mem_deref(r->c);
	mem_deref(r->b);
	mem_deref(r->page);
}

struct loc_req *loc_req_alloc(enum loc_op op)
{
	struct loc_req *r = mem_alloc(sizeof(*r), req_destroy);

	if (r) {
		r->op = op;
		loop_timer_init(&r->timer);
		loop_timer_init(&r->retry);
	}
	return r;
}

int loc_req_result(struct loc_req *r, const struct loc_binding *b, unsigned n, int64_t now)
{
	unsigned i, k = 0;

	for (i = 0; i < n; i++)
		k += b[i].expires > now;
	r->b = mem_deref(r->b);
	r->nb = 0;
	if (k == 0)
		return 0;
	r->b = mem_alloc(k * sizeof(*r->b), NULL);
	if (!r->b)
		return ENOMEM;
	for (i = 0; i < n; i++)
		if (b[i].expires > now)
			r->b[r->nb++] = b[i];
	return 0;
}

void loc_req_deliver(void *arg)
{
	struct loc_req *r = arg;
	bool ok = r->err == 0;

	switch (r->op) {
	case LOC_OP_UPDATE:
	case LOC_OP_LOOKUP:
		r->fn.result(r->err, ok ? r->b : NULL, ok ? r->nb : 0, r->arg);
		break;
	case LOC_OP_USER_GET:
		r->fn.user(r->err, ok ? &r->user : NULL, r->arg);
		break;
	default:
		r->fn.done(r->err, r->arg);
		break;
	}
	mem_deref(r);
}

void loc_req_complete(struct loc_store *s, struct loc_req *r)
{
	struct timespec ms = {0, 1000000};
	unsigned tries = 0;

	if (r->sync) {
		pthread_mutex_lock(&r->sync->mu);
		r->sync->done = true;
		pthread_cond_signal(&r->sync->cv);
		pthread_mutex_unlock(&r->sync->mu);
		return;
	}
	atomic_fetch_add(&s->n_ops, 1);
	/* A completion must not be lost: the caller holds state for it.  Only ENOMEM can
	 * fail a post, so wait for memory (this thread is the store's, never a worker's). */
	while (loop_post(r->loop, loc_req_deliver, r) != 0) {
		if (tries++ == 0)
			log_err("event=post_failed err=ENOMEM op=%d action=retry", (int)r->op);
		nanosleep(&ms, NULL);
	}
}

int loc_req_run_sync(struct loc_store *s, struct loc_req *r)
{
	struct loc_sync w = {.done = false};
	int err;

	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	r->s = s;
	r->sync = &w;
	err = s->ops->submit(s, r);
	if (!err) {
		pthread_mutex_lock(&w.mu);
		while (!w.done)
			pthread_cond_wait(&w.cv, &w.mu);
		pthread_mutex_unlock(&w.mu);
		err = r->err;
	}
	r->sync = NULL;
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	return err;
}

/* A non-empty NUL-terminated string shorter than cap. */
static bool fits(const char *s, size_t cap)
{
	return s && s[0] && strnlen(s, cap) < cap;
}

static int submit(struct loc_store *s, struct loc_req *r)
{
	int err = s->ops->submit(s, r);

	if (err)
		mem_deref(r);
	return err;
}

/* A request on aor for loop l, or NULL with *err set. */
static struct loc_req *new_req(enum loc_op op, struct loc_store *s, struct loop *l, const char *key,
			       void *fn, int *err)
{
	struct loc_req *r;

	*err = EINVAL;
	if (!s || !l || !fn || !fits(key, LOC_AOR_MAX))
		return NULL;
	*err = ENOMEM;
	r = loc_req_alloc(op);
	if (!r)
		return NULL;
	r->s = s;
	r->loop = l;
	loc_strcpy(r->key, sizeof(r->key), key);
	return r;
}

/* Make every string field of the changes NUL-terminated inside its array. */
static void terminate(struct loc_change *c, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		struct loc_binding *b = &c[i].b;

		b->contact[sizeof(b->contact) - 1] = '\0';
		b->path[sizeof(b->path) - 1] = '\0';
		b->instance[sizeof(b->instance) - 1] = '\0';
		b->call_id[sizeof(b->call_id) - 1] = '\0';
		b->received[sizeof(b->received) - 1] = '\0';
		b->user_agent[sizeof(b->user_agent) - 1] = '\0';
	}
}

int loc_update(struct loc_store *s, struct loop *l, const char *aor, const struct loc_change *c,
	       unsigned n, bool remove_all, uint32_t cseq, const char *call_id, loc_result_fn *fn,
	       void *arg)
{
	struct loc_req *r;
	int err;

	if (n > LOC_MAX_CHANGES || (n && !c))
		return EINVAL;
	if (call_id && strnlen(call_id, LOC_CALLID_MAX) == LOC_CALLID_MAX)
		return EINVAL;
	r = new_req(LOC_OP_UPDATE, s, l, aor, (void *)fn, &err);
	if (!r)
		return err;
	r->fn.result = fn;
	r->arg = arg;
	r->remove_all = remove_all;
	r->cseq = cseq;
	loc_strcpy(r->call_id, sizeof(r->call_id), call_id ? call_id : "");
	if (n) {
		r->c = mem_alloc(n * sizeof(*c), NULL);
		if (!r->c) {
			mem_deref(r);
			return ENOMEM;
		}
		memcpy(r->c, c, n * sizeof(*c));
		r->n = n;
		terminate(r->c, n);
	}
	return submit(s, r);
}

int loc_lookup(struct loc_store *s, struct loop *l, const char *aor, loc_result_fn *fn, void *arg)
{
	struct loc_req *r;
	int err;

	r = new_req(LOC_OP_LOOKUP, s, l, aor, (void *)fn, &err);
	if (!r)
		return err;
	r->fn.result = fn;
	r->arg = arg;
	return submit(s, r);
}

int loc_remove(struct loc_store *s, struct loop *l, const char *aor, loc_done_fn *fn, void *arg)
{
	struct loc_req *r;
	int err;

	r = new_req(LOC_OP_REMOVE, s, l, aor, (void *)fn, &err);
	if (!r)
		return err;
	r->fn.done = fn;
	r->arg = arg;
	return submit(s, r);
}

int loc_user_get(struct loc_store *s, struct loop *l, const char *user, loc_user_fn *fn, void *arg)
{
	struct loc_req *r;
	int err;

	r = new_req(LOC_OP_USER_GET, s, l, user, (void *)fn, &err);
	if (!r)
		return err;
	r->fn.user = fn;
	r->arg = arg;
	return submit(s, r);
}

/* n lower-case hex digits and a NUL. */
static bool is_hex(const char *h, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return h[n] == '\0';
}

int loc_user_put_sync(struct loc_store *s, const struct loc_user *u)
{
	if (!s || !u || !fits(u->user, sizeof(u->user)) || !is_hex(u->ha1_md5, 32) ||
	    !is_hex(u->ha1_sha256, 64))
		return EINVAL;
	return s->ops->user_put(s, u);
}

int loc_user_del_sync(struct loc_store *s, const char *user)
{
	if (!s || !fits(user, LOC_AOR_MAX))
		return EINVAL;
	return s->ops->user_del(s, user);
}

int loc_secret_sync(struct loc_store *s, uint8_t out[LOC_SECRET_LEN])
{
	return s->ops->secret(s, out);
}

int loc_user_list_sync(struct loc_store *s, void (*fn)(const struct loc_user *u, void *arg),
		       void *arg)
{
	if (!s || !fn)
		return EINVAL;
	return s->ops->user_list(s, fn, arg);
}

int loc_iterate_sync(struct loc_store *s,
		     void (*fn)(const char *aor, const struct loc_binding *b, void *arg), void *arg)
{
	if (!s || !fn)
		return EINVAL;
	return s->ops->iterate(s, fn, arg);
}
