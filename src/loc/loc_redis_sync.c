/*
 * loc_redis_sync.c - the blocking calls of the Redis store (credentials for
 * `ringletd user ...`, the listing of every binding).  Each call opens a
 * short-lived connection with a timeout on every read and write, so it never
 * shares hiredis state with the store's thread and never hangs.
 */
#include <sys/random.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loc/loc_int.h"
#include "ringlet/mem.h"

#define SYNC_TIMEOUT_S 2
#define SCAN_COUNT "256"
#define KEY_PREFIX "ringlet:loc:"

static int sync_open(const struct loc_redis_addr *a, redisContext **out, char *why, size_t whylen)
{
	struct timeval tv = {SYNC_TIMEOUT_S, 0};
	redisContext *c = redisConnectWithTimeout(a->host, a->port, tv);
	redisReply *rep;
	bool ok;

	if (!c)
		return ENOMEM;
	if (c->err) {
		loc_why(why, whylen, "cannot reach redis at %s:%u: %s", a->host, a->port,
			c->errstr);
		redisFree(c);
		return ECONNREFUSED;
	}
	redisSetTimeout(c, tv);
	if (a->db) {
		rep = redisCommand(c, "SELECT %u", a->db);
		ok = rep && rep->type != REDIS_REPLY_ERROR;
		if (!ok)
			loc_why(why, whylen, "redis at %s:%u refuses database %u: %s", a->host,
				a->port, a->db, rep ? rep->str : c->errstr);
		freeReplyObject(rep);
		if (!ok) {
			redisFree(c);
			return EINVAL;
		}
	}
	*out = c;
	return 0;
}

/* Run one command.  Returns the reply, or NULL with *err set (EIO for an error reply). */
static redisReply *cmd(redisContext *c, int *err, const char *fmt, ...)
{
	redisReply *rep;
	va_list ap;

	va_start(ap, fmt);
	rep = redisvCommand(c, fmt, ap);
	va_end(ap);
	if (!rep) {
		*err = c->err == REDIS_ERR_EOF	 ? ECONNRESET
		       : c->err == REDIS_ERR_OOM ? ENOMEM
						 : EIO;
		return NULL;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		freeReplyObject(rep);
		*err = EIO;
		return NULL;
	}
	return rep;
}

int loc_redis_ping(const struct loc_redis_addr *a, char *why, size_t whylen)
{
	redisContext *c;
	redisReply *rep;
	int err = sync_open(a, &c, why, whylen);

	if (err)
		return err;
	rep = cmd(c, &err, "PING");
	if (!rep)
		loc_why(why, whylen, "redis at %s:%u does not answer PING: %s", a->host, a->port,
			c->err ? c->errstr : "error reply");
	freeReplyObject(rep);
	redisFree(c);
	return err;
}

static bool hex_n(const char *h, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return true;
}

int loc_redis_user_decode(const char *v, size_t len, const char *user, struct loc_user *u)
{
	if (len != 32 + 1 + 64 || v[32] != ' ' || !hex_n(v, 32) || !hex_n(v + 33, 64))
		return EBADMSG;
	if (!loc_strcpy(u->user, sizeof(u->user), user))
		return EBADMSG;
	memcpy(u->ha1_md5, v, 32);
	u->ha1_md5[32] = '\0';
	memcpy(u->ha1_sha256, v + 33, 64);
	u->ha1_sha256[64] = '\0';
	return 0;
}

int loc_redis_user_put(const struct loc_redis_addr *a, const struct loc_user *u)
{
	char v[32 + 1 + 64 + 1];
	redisContext *c;
	redisReply *rep;
	int err = sync_open(a, &c, NULL, 0);

	if (err)
		return err;
	snprintf(v, sizeof(v), "%.32s %.64s", u->ha1_md5, u->ha1_sha256);
	rep = cmd(c, &err, "HSET " LOC_REDIS_USERS " %s %s", u->user, v);
	freeReplyObject(rep);
	redisFree(c);
	return err;
}

int loc_redis_user_del(const struct loc_redis_addr *a, const char *user)
{
	redisContext *c;
	redisReply *rep;
	int err = sync_open(a, &c, NULL, 0);

	if (err)
		return err;
	rep = cmd(c, &err, "HDEL " LOC_REDIS_USERS " %s", user);
	if (rep)
		err = rep->type == REDIS_REPLY_INTEGER && rep->integer == 0 ? ENOENT : 0;
	freeReplyObject(rep);
	redisFree(c);
	return err;
}

static int user_cmp(const void *a, const void *b)
{
	return strcmp(((const struct loc_user *)a)->user, ((const struct loc_user *)b)->user);
}

/* Fields and values of HGETALL into a sorted array of users (corrupt ones skipped). */
static int users_of(const redisReply *rep, struct loc_user **out, size_t *n)
{
	struct loc_user *u;
	size_t i, k = 0;
	char name[LOC_AOR_MAX];

	*out = NULL;
	*n = 0;
	if (rep->type != REDIS_REPLY_ARRAY)
		return EIO;
	if (rep->elements < 2)
		return 0;
	u = mem_alloc(rep->elements / 2 * sizeof(*u), NULL);
	if (!u)
		return ENOMEM;
	for (i = 0; i + 1 < rep->elements; i += 2) {
		const redisReply *f = rep->element[i], *v = rep->element[i + 1];

		if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
		    memchr(f->str, '\0', f->len) || !loc_memcpy(name, sizeof(name), f->str, f->len))
			continue;
		if (loc_redis_user_decode(v->str, v->len, name, &u[k]) == 0)
			k++;
	}
	qsort(u, k, sizeof(*u), user_cmp);
	*out = u;
	*n = k;
	return 0;
}

int loc_redis_user_list(const struct loc_redis_addr *a, loc_user_list_fn *fn, void *arg)
{
	struct loc_user *u = NULL;
	redisContext *c;
	redisReply *rep;
	size_t i, n = 0;
	int err = sync_open(a, &c, NULL, 0);

	if (err)
		return err;
	rep = cmd(c, &err, "HGETALL " LOC_REDIS_USERS);
	if (rep)
		err = users_of(rep, &u, &n);
	freeReplyObject(rep);
	redisFree(c);
	for (i = 0; !err && i < n; i++)
		fn(&u[i], arg);
	mem_deref(u);
	return err;
}

/* GET every key of one SCAN page (pipelined) and hand out their live bindings. */
static int iter_keys(redisContext *c, const redisReply *keys, struct loc_binding *b,
		     loc_iter_fn *fn, void *arg)
{
	const size_t plen = strlen(KEY_PREFIX);
	char tok[LOC_TOKEN_LEN], aor[LOC_AOR_MAX];
	int64_t now = loc_now();
	redisReply *rep;
	unsigned j, n;
	size_t i;

	for (i = 0; i < keys->elements; i++)
		if (keys->element[i]->type == REDIS_REPLY_STRING &&
		    redisAppendCommand(c, "GET %b", keys->element[i]->str, keys->element[i]->len) !=
			REDIS_OK)
			return ENOMEM;
	for (i = 0; i < keys->elements; i++) {
		const redisReply *k = keys->element[i];

		if (k->type != REDIS_REPLY_STRING)
			continue;
		if (redisGetReply(c, (void **)&rep) != REDIS_OK)
			return c->err == REDIS_ERR_EOF ? ECONNRESET : EIO;
		if (rep->type == REDIS_REPLY_STRING && k->len > plen &&
		    !memchr(k->str, '\0', k->len) &&
		    loc_memcpy(aor, sizeof(aor), k->str + plen, k->len - plen) &&
		    loc_decode(rep->str, rep->len, tok, b, &n) == 0) {
			for (j = 0; j < n; j++)
				if (b[j].expires > now)
					fn(aor, &b[j], arg);
		}
		freeReplyObject(rep);
	}
	return 0;
}

/* SCAN the AOR keys page by page; a key may come twice if Redis rehashes meanwhile. */
int loc_redis_iterate(const struct loc_redis_addr *a, loc_iter_fn *fn, void *arg)
{
	char cursor[32] = "0";
	struct loc_binding *b;
	redisContext *c;
	redisReply *rep;
	int err = sync_open(a, &c, NULL, 0);

	if (err)
		return err;
	b = mem_alloc(LOC_MAX_BINDINGS * sizeof(*b), NULL);
	if (!b) {
		redisFree(c);
		return ENOMEM;
	}
	do {
		rep = cmd(c, &err, "SCAN %s MATCH " KEY_PREFIX "* COUNT " SCAN_COUNT, cursor);
		if (!rep)
			break;
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
		    rep->element[0]->type != REDIS_REPLY_STRING ||
		    rep->element[1]->type != REDIS_REPLY_ARRAY ||
		    !loc_memcpy(cursor, sizeof(cursor), rep->element[0]->str, rep->element[0]->len))
			err = EIO;
		else
			err = iter_keys(c, rep->element[1], b, fn, arg);
		freeReplyObject(rep);
	} while (!err && strcmp(cursor, "0") != 0);
	mem_deref(b);
	redisFree(c);
	return err;
}

#define SECRET_KEY "ringlet:nonce-secret"

static int unhex(const char *h, size_t len, uint8_t *out, size_t n)
{
	if (len != 2 * n)
		return EBADMSG;
	for (size_t i = 0; i < 2 * n; i++) {
		char c = h[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (v < 0)
			return EBADMSG;
		out[i / 2] = (uint8_t)(i % 2 ? (out[i / 2] | v) : (v << 4));
	}
	return 0;
}

/* SET NX keeps the first node's secret; every node then reads the same one. */
int loc_redis_secret(const struct loc_redis_addr *a, uint8_t out[LOC_SECRET_LEN])
{
	uint8_t mine[LOC_SECRET_LEN];
	char hex[2 * LOC_SECRET_LEN + 1];
	redisContext *c;
	redisReply *rep;
	int err;

	if (getrandom(mine, sizeof(mine), 0) != (ssize_t)sizeof(mine))
		return EIO;
	for (size_t i = 0; i < sizeof(mine); i++)
		snprintf(hex + 2 * i, 3, "%02x", mine[i]);
	err = sync_open(a, &c, NULL, 0);
	if (err)
		return err;
	rep = cmd(c, &err, "SET " SECRET_KEY " %s NX", hex);
	freeReplyObject(rep);
	rep = err ? NULL : cmd(c, &err, "GET " SECRET_KEY);
	if (rep && (rep->type != REDIS_REPLY_STRING ||
		    unhex(rep->str, rep->len, out, LOC_SECRET_LEN) != 0))
		err = EIO;
	freeReplyObject(rep);
	redisFree(c);
	return err;
}
