/*
 * loc_redis.c - the "redis://HOST:PORT[/DB]" store: one location table
 * shared by several ringletd nodes.
 *
 * Threads: the store has one thread running a loop of its own (loop_alloc);
 * the hiredis asynchronous context lives there, driven by a small adapter
 * (the ev hooks below call loop_fd_add/mod/del).  A worker's call posts its
 * request to that loop; the reply callback posts the result back to the
 * worker's loop.  Nothing ever blocks a worker, and hiredis is only ever
 * touched by one thread.  (The synchronous calls, for the command line, use
 * short-lived blocking connections of their own: loc_redis_sync.c.)
 *
 * Data model: one string key per AOR, "ringlet:loc:<aor>", holding a 16-byte
 * version token and the AOR's bindings (loc_codec.c), with EXPIREAT at the
 * latest binding expiry: Redis drops the key, for every node, when the last
 * binding expires.  Readers filter out bindings already expired; writers
 * prune them (loc_apply drops them).
 *
 * Atomic update per AOR (RFC 3261 §10.3 step 7 under concurrent REGISTERs
 * on several nodes): optimistic.  GET the value, apply step 7 here with a
 * new random token, then a Lua script (EVAL) sets the new value only if the
 * stored token is still the one read, else the update starts over after a
 * short random pause (at most MAX_TRIES times, within the deadline).  No
 * WATCH, so requests of many workers pipeline freely on the one connection;
 * and one node runs the requests of one AOR one at a time, so its own
 * updates never conflict with each other (struct busy).
 *
 * Failure: every request has a deadline (REQ_TIMEOUT_MS); a request past it
 * tears the connection down (hiredis then fails every pending request).  A
 * lost connection is re-established with backoff; while there is none, calls
 * fail at once with ENOTCONN.  Expiry times are wall-clock seconds, so the
 * nodes and the Redis server need synchronised clocks (NTP).  Durability is
 * whatever the Redis server is configured for (appendfsync).
 */
#include <errno.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define LOG_MODULE "loc"
#include "loc/loc_int.h"
#include "ringlet/hash.h"
#include "ringlet/log.h"
#include "ringlet/mem.h"

#define REQ_TIMEOUT_MS 2000
#define CONNECT_TIMEOUT_MS 1000
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 1000
#define MAX_TRIES 32
#define RETRY_MAX_MS 8 /* a lost compare-and-set retries after 0..min(tries, this) ms */

/* Where a request is (loc_req.phase). */
enum { PH_QUEUED, PH_SENT, PH_BACKOFF };

/* Set the AOR's new value only if nobody wrote it since we read it (token compare). */
static const char cas_script[] = "local v = redis.call('GETRANGE', KEYS[1], 0, 15) "
				 "if v ~= ARGV[1] then return 0 end "
				 "if ARGV[3] == '0' then redis.call('DEL', KEYS[1]) return 1 end "
				 "redis.call('SET', KEYS[1], ARGV[2]) "
				 "redis.call('EXPIREAT', KEYS[1], ARGV[3]) "
				 "return 1";

struct redis_store {
	struct loc_store base;
	struct loc_redis_addr addr;
	pthread_t thread;
	struct loop *loop;     /* the store's own; everything below is its thread's */
	redisAsyncContext *ac; /* NULL while disconnected */
	int fd;
	unsigned fd_events;
	bool fd_watched, stopping;
	struct loop_timer reconnect, connect_to;
	loop_ms backoff;
	uint64_t rnd;	   /* token generator */
	struct hash *busy; /* struct busy by AOR */
	uint64_t seed;	   /* of busy's hash: AORs are chosen by peers */
	struct loc_binding cur[LOC_MAX_BINDINGS], out[LOC_MAX_BINDINGS];
	char enc[LOC_ENC_MAX];
};

static void start_connect(struct redis_store *rs);

static void reconnect(void *arg)
{
	start_connect(arg);
}

/* --- hiredis event adapter: the hooks map to our loop's fd watch --- */

static void on_fd(int fd, unsigned events, void *arg)
{
	struct redis_store *rs = arg;

	(void)fd;
	if ((events & LOOP_IN) && rs->ac)
		redisAsyncHandleRead(rs->ac);
	if ((events & LOOP_OUT) && rs->ac)
		redisAsyncHandleWrite(rs->ac);
}

static void ev_set(struct redis_store *rs, unsigned add, unsigned del)
{
	unsigned ev = (rs->fd_events | add) & ~del;

	if (rs->fd_watched && ev == rs->fd_events)
		return;
	if (!rs->fd_watched) {
		if (loop_fd_add(rs->loop, rs->fd, ev, on_fd, rs))
			return; /* the request deadlines tear the connection down */
		rs->fd_watched = true;
	} else {
		loop_fd_mod(rs->loop, rs->fd, ev);
	}
	rs->fd_events = ev;
}

static void ev_add_read(void *p)
{
	ev_set(p, LOOP_IN, 0);
}

static void ev_del_read(void *p)
{
	ev_set(p, 0, LOOP_IN);
}

static void ev_add_write(void *p)
{
	ev_set(p, LOOP_OUT, 0);
}

static void ev_del_write(void *p)
{
	ev_set(p, 0, LOOP_OUT);
}

/* hiredis frees the context (any path): forget it and plan the next connection. */
static void ev_cleanup(void *p)
{
	struct redis_store *rs = p;

	if (rs->fd_watched)
		loop_fd_del(rs->loop, rs->fd);
	rs->fd_watched = false;
	rs->fd_events = 0;
	rs->ac = NULL;
	loop_timer_cancel(&rs->connect_to);
	if (!rs->stopping)
		loop_timer_start(rs->loop, &rs->reconnect, rs->backoff, reconnect, rs);
	rs->backoff = rs->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : rs->backoff * 2;
}

/* Tear the connection down (not from inside a hiredis callback): pending requests fail. */
static void kill_conn(struct redis_store *rs)
{
	if (rs->ac)
		redisAsyncFree(rs->ac); /* calls every callback with NULL, then ev_cleanup */
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct redis_store *rs = ac->data;

	loop_timer_cancel(&rs->connect_to);
	if (status == REDIS_OK) {
		rs->backoff = BACKOFF_MIN_MS;
		log_info("event=redis_connected host=%s port=%u", rs->addr.host, rs->addr.port);
	} else {
		log_warn_rl("event=redis_connect_failed host=%s port=%u err=\"%s\"", rs->addr.host,
			    rs->addr.port, ac->errstr);
	}
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct redis_store *rs = ac->data;

	if (status != REDIS_OK && !rs->stopping)
		log_warn_rl("event=redis_lost host=%s port=%u err=\"%s\"", rs->addr.host,
			    rs->addr.port, ac->errstr);
}

static void on_select(redisAsyncContext *ac, void *reply, void *priv)
{
	redisReply *rep = reply;

	(void)ac;
	(void)priv;
	if (rep && rep->type == REDIS_REPLY_ERROR)
		log_err_rl("event=redis_select_failed err=\"%s\"", rep->str);
}

static void connect_timeout(void *arg)
{
	struct redis_store *rs = arg;

	log_warn_rl("event=redis_connect_timeout host=%s port=%u", rs->addr.host, rs->addr.port);
	kill_conn(rs);
}

static void start_connect(struct redis_store *rs)
{
	redisAsyncContext *ac = redisAsyncConnect(rs->addr.host, rs->addr.port);

	if (!ac || ac->err) {
		if (ac)
			redisAsyncFree(ac);
		if (!rs->stopping)
			loop_timer_start(rs->loop, &rs->reconnect, rs->backoff, reconnect, rs);
		rs->backoff = rs->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : rs->backoff * 2;
		return;
	}
	rs->ac = ac;
	rs->fd = ac->c.fd;
	ac->data = rs;
	ac->ev.data = rs;
	ac->ev.addRead = ev_add_read;
	ac->ev.delRead = ev_del_read;
	ac->ev.addWrite = ev_add_write;
	ac->ev.delWrite = ev_del_write;
	ac->ev.cleanup = ev_cleanup;
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	ev_set(rs, LOOP_OUT, 0); /* connect(2) in progress: writable when done */
	loop_timer_start(rs->loop, &rs->connect_to, CONNECT_TIMEOUT_MS, connect_timeout, rs);
	if (rs->addr.db)
		redisAsyncCommand(ac, on_select, NULL, "SELECT %u", rs->addr.db);
}

/* --- requests --- */

/*
 * Requests on one AOR run one at a time per node (in arrival order): the
 * first is sent, later ones wait on its struct busy.  So the updates of one
 * node never race each other's compare-and-set; only another node's can.
 */
struct busy {
	struct hash_node hn;
	struct list waiting; /* of struct loc_req, not sent yet */
	char aor[LOC_AOR_MAX];
};

static bool busy_eq(const struct hash_node *n, const void *key)
{
	return strcmp(((const struct busy *)(const void *)n)->aor, key) == 0;
}

static struct busy *busy_find(struct redis_store *rs, const char *aor)
{
	return (struct busy *)(void *)hash_find(rs->busy, hash_bytes(aor, strlen(aor), rs->seed),
						busy_eq, aor);
}

static bool per_aor(const struct loc_req *r)
{
	return r->op == LOC_OP_UPDATE || r->op == LOC_OP_LOOKUP || r->op == LOC_OP_REMOVE;
}

/* Complete r (it must not be on a waiting list or in hiredis any more). */
static void finish(struct redis_store *rs, struct loc_req *r, int err)
{
	loop_timer_cancel(&r->timer);
	loop_timer_cancel(&r->retry);
	if (!r->err)
		r->err = err;
	if (r->err) {
		r->b = mem_deref(r->b);
		r->nb = 0;
	}
	r->s = NULL;
	loc_req_complete(&rs->base, r);
}

/* The error of a request whose reply is missing (the connection went down). */
static int lost(const struct loc_req *r)
{
	return r->err ? r->err : ENOTCONN;
}

/* xorshift64*, seeded from getrandom: tokens that never collide with another writer's */
static uint64_t rand_next(struct redis_store *rs)
{
	rs->rnd ^= rs->rnd >> 12;
	rs->rnd ^= rs->rnd << 25;
	rs->rnd ^= rs->rnd >> 27;
	return (uint64_t)(rs->rnd * 0x2545F4914F6CDD1DULL);
}

static void new_token(struct redis_store *rs, char tok[LOC_TOKEN_LEN + 1])
{
	snprintf(tok, LOC_TOKEN_LEN + 1, "%016" PRIx64, rand_next(rs));
}

static void on_get(redisAsyncContext *ac, void *reply, void *priv);
static void on_del(redisAsyncContext *ac, void *reply, void *priv);
static void on_user(redisAsyncContext *ac, void *reply, void *priv);

/* Send r's first command.  0, or an errno (r not sent). */
static int send_req(struct redis_store *rs, struct loc_req *r)
{
	redisAsyncContext *ac = rs->ac;
	int rc = REDIS_ERR;

	if (!ac || rs->stopping)
		return ENOTCONN;
	r->phase = PH_SENT;
	switch (r->op) {
	case LOC_OP_UPDATE:
	case LOC_OP_LOOKUP:
		rc = redisAsyncCommand(ac, on_get, r, "GET ringlet:loc:%s", r->key);
		break;
	case LOC_OP_REMOVE:
		rc = redisAsyncCommand(ac, on_del, r, "DEL ringlet:loc:%s", r->key);
		break;
	case LOC_OP_USER_GET:
		rc = redisAsyncCommand(ac, on_user, r, "HGET " LOC_REDIS_USERS " %s", r->key);
		break;
	default:
		break;
	}
	return rc == REDIS_OK ? 0 : ENOTCONN;
}

/* The AOR's request in flight is over: send the next waiting one, or free the entry. */
static void release(struct redis_store *rs, struct busy *b)
{
	struct list_node *n;
	int err;

	while ((n = list_pop_front(&b->waiting))) {
		struct loc_req *r = LIST_ENTRY(n, struct loc_req, le);

		err = send_req(rs, r);
		if (!err)
			return;
		finish(rs, r, err);
	}
	hash_remove(rs->busy, &b->hn);
	mem_deref(b);
}

/* The end of a request that was sent: complete it and let its AOR's next one go. */
static void end_req(struct redis_store *rs, struct loc_req *r, int err)
{
	struct busy *b = per_aor(r) ? busy_find(rs, r->key) : NULL;

	finish(rs, r, err);
	if (b)
		release(rs, b);
}

static void end_req(struct redis_store *rs, struct loc_req *r, int err);

/* The pause after a lost compare-and-set is over: read the AOR again. */
static void retry_get(void *arg)
{
	struct loc_req *r = arg;
	struct redis_store *rs = (struct redis_store *)(void *)r->s;

	r->phase = PH_SENT;
	if (!rs->ac ||
	    redisAsyncCommand(rs->ac, on_get, r, "GET ringlet:loc:%s", r->key) != REDIS_OK)
		end_req(rs, r, ENOTCONN);
}

static void on_cas(redisAsyncContext *ac, void *reply, void *priv)
{
	struct loc_req *r = priv;
	struct redis_store *rs = ac->data;
	redisReply *rep = reply;

	if (!rep) {
		end_req(rs, r, lost(r));
		return;
	}
	if (rep->type != REDIS_REPLY_INTEGER) {
		log_warn_rl("event=redis_error op=update err=\"%s\"",
			    rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
		end_req(rs, r, EIO);
		return;
	}
	if (rep->integer == 1) {
		end_req(rs, r, 0);
		return;
	}
	/*
	 * Another node wrote the AOR in between: read again and redo step 7, after a
	 * random pause so that two nodes hammering one AOR do not stay in lockstep.
	 */
	atomic_fetch_add(&rs->base.n_retries, 1);
	r->b = mem_deref(r->b);
	r->nb = 0;
	if (++r->tries >= MAX_TRIES) {
		end_req(rs, r, EAGAIN);
		return;
	}
	r->phase = PH_BACKOFF;
	loop_timer_start(rs->loop, &r->retry,
			 rand_next(rs) % (1 + (r->tries < RETRY_MAX_MS ? r->tries : RETRY_MAX_MS)),
			 retry_get, r);
}

/* Decode a GET reply into rs->cur.  A corrupt value reads as no binding (logged). */
static int decode(struct redis_store *rs, const redisReply *rep, char tok[LOC_TOKEN_LEN],
		  size_t *toklen, unsigned *n)
{
	*n = 0;
	*toklen = 0;
	if (rep->type == REDIS_REPLY_NIL)
		return 0;
	if (rep->type != REDIS_REPLY_STRING)
		return EIO;
	if (loc_decode(rep->str, rep->len, tok, rs->cur, n) == 0) {
		*toklen = LOC_TOKEN_LEN;
		return 0;
	}
	log_warn_rl("event=redis_corrupt_value len=%zu", rep->len);
	*toklen = rep->len < LOC_TOKEN_LEN ? rep->len : LOC_TOKEN_LEN;
	memcpy(tok, rep->str, *toklen);
	return EBADMSG;
}

/* §10.3 step 7 on what was read, then the compare-and-set.  0: sent. */
static int update_cas(struct redis_store *rs, redisAsyncContext *ac, struct loc_req *r,
		      const char *tok, size_t toklen, unsigned ncur)
{
	char ntok[LOC_TOKEN_LEN + 1], exp[24];
	int64_t now = loc_now();
	unsigned k;
	size_t len;
	int err;

	err = loc_apply(rs->cur, ncur, r->c, r->n, r->remove_all, r->cseq, r->call_id, now, rs->out,
			&k);
	if (err)
		return err;
	err = loc_req_result(r, rs->out, k, now);
	if (err)
		return err;
	new_token(rs, ntok);
	len = loc_encode(ntok, rs->out, k, rs->enc);
	snprintf(exp, sizeof(exp), "%" PRId64, k ? loc_max_expiry(rs->out, k) : 0);
	if (redisAsyncCommand(ac, on_cas, r, "EVAL %s 1 ringlet:loc:%s %b %b %s", cas_script,
			      r->key, tok, toklen, rs->enc, len, exp) != REDIS_OK)
		return ENOTCONN;
	return 0;
}

static void on_get(redisAsyncContext *ac, void *reply, void *priv)
{
	char tok[LOC_TOKEN_LEN];
	struct loc_req *r = priv;
	struct redis_store *rs = ac->data;
	redisReply *rep = reply;
	size_t toklen;
	unsigned n;
	int err;

	if (!rep) {
		end_req(rs, r, lost(r));
		return;
	}
	err = decode(rs, rep, tok, &toklen, &n);
	if (r->op == LOC_OP_LOOKUP || (r->n == 0 && !r->remove_all)) {
		/* a lookup, or an update that changes nothing (a query, §10.3 step 8) */
		if (!err)
			err = loc_req_result(r, rs->cur, n, loc_now());
		end_req(rs, r, err == EBADMSG ? EIO : err);
		return;
	}
	if (err && err != EBADMSG) { /* a corrupt value is overwritten by the update */
		end_req(rs, r, err);
		return;
	}
	err = update_cas(rs, ac, r, tok, toklen, n);
	if (err)
		end_req(rs, r, err);
}

static void on_del(redisAsyncContext *ac, void *reply, void *priv)
{
	redisReply *rep = reply;
	struct loc_req *r = priv;

	if (!rep)
		end_req(ac->data, r, lost(r));
	else
		end_req(ac->data, r, rep->type == REDIS_REPLY_ERROR ? EIO : 0);
}

static void on_user(redisAsyncContext *ac, void *reply, void *priv)
{
	redisReply *rep = reply;
	struct loc_req *r = priv;
	int err = 0;

	if (!rep)
		err = lost(r);
	else if (rep->type == REDIS_REPLY_NIL)
		err = ENOENT;
	else if (rep->type != REDIS_REPLY_STRING ||
		 loc_redis_user_decode(rep->str, rep->len, r->key, &r->user))
		err = EIO;
	end_req(ac->data, r, err);
}

/*
 * A request past its deadline.  Still waiting behind its AOR's: it just
 * fails.  Pausing before a retry: it fails.  Sent: the connection is not
 * answering, so take it down (hiredis then fails every request sent on it;
 * the store reconnects).
 */
static void req_timeout(void *arg)
{
	struct loc_req *r = arg;
	struct redis_store *rs = (struct redis_store *)(void *)r->s;

	log_warn_rl("event=redis_timeout op=%d phase=%d", (int)r->op, (int)r->phase);
	switch (r->phase) {
	case PH_QUEUED:
		list_remove(&r->le);
		finish(rs, r, ETIMEDOUT);
		break;
	case PH_BACKOFF:
		loop_timer_cancel(&r->retry);
		end_req(rs, r, ETIMEDOUT);
		break;
	default:
		r->err = ETIMEDOUT;
		kill_conn(rs);
		break;
	}
}

/* On the store's thread: send the request, or queue it behind its AOR's. */
static void start_req(void *arg)
{
	struct loc_req *r = arg;
	struct redis_store *rs = (struct redis_store *)(void *)r->s;
	struct busy *b;

	if (!rs->ac || rs->stopping) {
		finish(rs, r, ENOTCONN);
		return;
	}
	loop_timer_start(rs->loop, &r->timer, REQ_TIMEOUT_MS, req_timeout, r);
	if (per_aor(r)) {
		b = busy_find(rs, r->key);
		if (b) {
			list_push_back(&b->waiting, &r->le);
			return;
		}
		b = mem_alloc(sizeof(*b), NULL);
		if (!b) {
			finish(rs, r, ENOMEM);
			return;
		}
		list_init(&b->waiting);
		loc_strcpy(b->aor, sizeof(b->aor), r->key);
		hash_insert(rs->busy, &b->hn, hash_bytes(b->aor, strlen(b->aor), rs->seed));
	}
	if (send_req(rs, r))
		end_req(rs, r, ENOTCONN);
}

static int redis_submit(struct loc_store *s, struct loc_req *r)
{
	struct redis_store *rs = (struct redis_store *)(void *)s;

	if (r->sync)
		return EINVAL; /* synchronous calls use connections of their own */
	return loop_post(rs->loop, start_req, r);
}

static void *store_main(void *arg)
{
	struct redis_store *rs = arg;

	loop_run(rs->loop);
	return NULL;
}

static void shutdown_conn(void *arg)
{
	struct redis_store *rs = arg;

	rs->stopping = true;
	loop_timer_cancel(&rs->reconnect);
	loop_timer_cancel(&rs->connect_to);
	kill_conn(rs);
	loop_stop(rs->loop);
}

static void redis_free(struct redis_store *rs)
{
	mem_deref(rs->busy);
	loop_free(rs->loop);
	mem_deref(rs);
}

static void redis_close(struct loc_store *s)
{
	struct redis_store *rs = (struct redis_store *)(void *)s;
	struct timespec ms = {0, 1000000};

	while (loop_post(rs->loop, shutdown_conn, rs) != 0)
		nanosleep(&ms, NULL);
	pthread_join(rs->thread, NULL);
	redis_free(rs);
}

static int redis_user_put(struct loc_store *s, const struct loc_user *u)
{
	return loc_redis_user_put(&((struct redis_store *)(void *)s)->addr, u);
}

static int redis_user_del(struct loc_store *s, const char *user)
{
	return loc_redis_user_del(&((struct redis_store *)(void *)s)->addr, user);
}

static int redis_user_list(struct loc_store *s, loc_user_list_fn *fn, void *arg)
{
	return loc_redis_user_list(&((struct redis_store *)(void *)s)->addr, fn, arg);
}

static int redis_iterate(struct loc_store *s, loc_iter_fn *fn, void *arg)
{
	return loc_redis_iterate(&((struct redis_store *)(void *)s)->addr, fn, arg);
}

static int redis_secret(struct loc_store *s, uint8_t out[LOC_SECRET_LEN])
{
	return loc_redis_secret(&((struct redis_store *)(void *)s)->addr, out);
}

static const struct loc_ops redis_ops = {
    .submit = redis_submit,
    .user_put = redis_user_put,
    .user_del = redis_user_del,
    .user_list = redis_user_list,
    .iterate = redis_iterate,
    .close = redis_close,
    .secret = redis_secret,
};

int loc_redis_open(struct loc_store **out, const char *host, uint16_t port, unsigned db, char *why,
		   size_t whylen)
{
	struct redis_store *rs = mem_alloc(sizeof(*rs), NULL);
	int err;

	if (!rs)
		return ENOMEM;
	rs->base.ops = &redis_ops;
	loc_strcpy(rs->addr.host, sizeof(rs->addr.host), host);
	rs->addr.port = port;
	rs->addr.db = db;
	rs->backoff = BACKOFF_MIN_MS;
	loop_timer_init(&rs->reconnect);
	loop_timer_init(&rs->connect_to);
	if (getrandom(&rs->rnd, sizeof(rs->rnd), GRND_NONBLOCK) != sizeof(rs->rnd) || !rs->rnd)
		rs->rnd = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)rs ^ 0x9E3779B97F4A7C15ULL;
	rs->seed = rs->rnd * 0x9E3779B97F4A7C15ULL;
	/* Reachable now?  (The store's own connection then reconnects on its own.) */
	err = loc_redis_ping(&rs->addr, why, whylen);
	if (!err)
		err = hash_alloc(&rs->busy, 0);
	if (!err)
		err = loop_alloc(&rs->loop, LOOP_CLOCK_MONOTONIC);
	if (err) {
		mem_deref(rs->busy);
		mem_deref(rs);
		return err;
	}
	/* Connect before the thread runs, so the first request finds the connection under
	 * way; the loop is not running yet, so touching it from here is safe. */
	start_connect(rs);
	if (pthread_create(&rs->thread, NULL, store_main, rs)) {
		shutdown_conn(rs);
		redis_free(rs);
		return EAGAIN;
	}
	*out = &rs->base;
	return 0;
}
