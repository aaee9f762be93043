/*
 * reg.c - the registrar's flow (RFC 3261 §10.3): check the AOR, ask for
 * the user's credentials and verify them, apply the contacts to the
 * location store, answer with the bindings.  Every store call completes on
 * the loop of the server transaction, which the job keeps a reference on
 * meanwhile; nothing here blocks or locks.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOG_MODULE "reg"
#include "reg/reg_int.h"
#include "ringlet/log.h"
#include "ringlet/mem.h"

/* Seconds a client should wait before retrying after a store failure (§21.5.1, §20.33). */
#define RETRY_AFTER "Retry-After: 5\r\n"

struct reg {
	struct reg_conf conf;
	atomic_uint pending; /* jobs alive (each may have a store call in flight) */
	atomic_bool closing;
};

/*
 * What a REGISTER under digest authentication needs until the user's HA1s
 * arrive (the request itself stays in its transaction until we answer).
 */
struct job_auth {
	struct reg_aor aor;
	char realm[LOC_AOR_MAX];
	char user[LOC_AOR_MAX]; /* the username of the credentials */
	char received[LOC_ADDR_MAX];
};

/*
 * One REGISTER being handled: lives on its transaction's loop.  Small and
 * sized to what it holds (a REGISTER without auth keeps ~100 bytes while
 * the store works); the request is re-read from the transaction when the
 * credentials check needs it.
 */
struct job {
	struct reg *r;
	struct tsx *t; /* our reference */
	struct loop *loop;
	struct job_auth *auth; /* auth on: malloc'ed; else NULL */
	char *path;            /* Path to echo in the 200 (RFC 3327 §5.3), or NULL */
	unsigned n;            /* contacts sent to the store */
	bool star;
	bool path_supported;
	char aor[]; /* the canonical AOR, NUL-terminated */
};

int reg_alloc(struct reg **out, const struct reg_conf *conf)
{
	if (!conf || !conf->store || !conf->own)
		return EINVAL;
	struct reg *r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->conf = *conf;
	atomic_init(&r->pending, 0);
	atomic_init(&r->closing, false);
	*out = r;
	return 0;
}

unsigned reg_stop(struct reg *r, unsigned wait_ms)
{
	atomic_store(&r->closing, true);
	for (unsigned waited = 0; atomic_load(&r->pending) && waited < wait_ms; waited += 10) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return atomic_load(&r->pending);
}

void reg_free(struct reg *r)
{
	if (!r)
		return;
	unsigned left = atomic_load(&r->pending);
	if (left)
		log_warn("event=stop pending=%u what=\"REGISTERs still waiting for the store\"", left);
	free(r);
}

static void job_destroy(void *arg)
{
	struct job *j = arg;

	mem_deref(j->t);
	free(j->auth);
	free(j->path);
	atomic_fetch_sub(&j->r->pending, 1);
}

static void respond(struct tsx *t, unsigned code, const char *reason, const char *hdrs)
{
	int err = tsx_respond(t, code, reason, hdrs, NULL, 0);
	if (err)
		log_debug("event=respond-failed code=%u err=%d", code, err);
}

/* Answer the job's transaction and drop the job. */
static void finish(struct job *j, unsigned code, const char *reason, const char *hdrs)
{
	respond(j->t, code, reason, hdrs);
	mem_deref(j);
}

static void store_failed(struct job *j, const char *what, int err)
{
	log_warn_rl("event=store-error op=%s err=%d aor=%s", what, err, j->aor);
	finish(j, 500, "Location Store Unavailable", RETRY_AFTER);
}

/* 401 with a fresh challenge (RFC 3261 §22.1, RFC 8760 §2.4). */
static void challenge(struct job *j, bool stale)
{
	char hdrs[1024];
	unsigned algs = j->r->conf.algs;

	if (auth_challenge_algs(j->r->conf.auth, j->auth->realm, false, stale, algs, hdrs,
				sizeof(hdrs)) < 0) {
		finish(j, 500, NULL, NULL);
		return;
	}
	finish(j, 401, NULL, hdrs);
}

/* The credentials for our realm use an algorithm the registrar offers (auth_alg_allowed). */
static bool alg_allowed(const struct job *j, const struct msg *m)
{
	return auth_alg_allowed(m, j->auth->realm, false, j->r->conf.algs);
}

/* The store answered: 200 with every binding (§10.3 step 8). */
static void on_bindings(int err, const struct loc_binding *b, unsigned n, void *arg)
{
	struct job *j = arg;

	if (err == EALREADY) {
		/*
		 * §10.3 step 7: a binding with this Call-ID and a CSeq not lower
		 * than the request's aborts the update and "the request fails".
		 * The RFC names no code; 500 as loc.h says, without Retry-After:
		 * repeating the same request can never succeed.
		 */
		finish(j, 500, "Out of Order", NULL);
		return;
	}
	if (err == ENOSPC) {
		finish(j, 403, "Too Many Bindings", NULL);
		return;
	}
	if (err) {
		store_failed(j, j->n || j->star ? "update" : "lookup", err);
		return;
	}
	size_t cap = reg_reply_cap(n, j->path ? strlen(j->path) : 0);
	char *hdrs = malloc(cap);
	int len = hdrs ? reg_reply_hdrs(b, n, (int64_t)time(NULL), j->path, hdrs, cap) : -1;
	if (len < 0)
		finish(j, 500, NULL, NULL);
	else
		finish(j, 200, NULL, hdrs);
	free(hdrs);
}

/* Changes kept on the stack; more Contact elements than this take the heap. */
#define STACK_CHANGES 2u

/*
 * Authenticated (or auth off): the contacts of m, then the store (§10.3
 * steps 6, 7).  tmpl: the fields every binding of m shares.  The store
 * copies the changes, so they live only for this call.
 */
static void apply(struct job *j, struct msg *m, const struct loc_binding *tmpl)
{
	struct reg_verdict v = {0, NULL};
	const struct reg_conf *conf = &j->r->conf;
	struct loc_change local[STACK_CHANGES], *c = local;

	if (j->path_supported && tmpl->path[0] && !j->path) {
		j->path = strdup(tmpl->path);
		if (!j->path) {
			finish(j, 500, NULL, NULL);
			return;
		}
	}
	/* one change per Contact element at most (a binding is ~2.2 KB: no more) */
	unsigned elems = 0;
	for (const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_CONTACT);
	     h && elems < LOC_MAX_BINDINGS; h = msg_hdr_next(m, h))
		elems++;
	if (elems > STACK_CHANGES && !(c = malloc(elems * sizeof(*c)))) {
		finish(j, 500, NULL, NULL);
		return;
	}
	if (!reg_parse_contacts(m, conf, (int64_t)time(NULL), tmpl, c, &j->n, &j->star, &v)) {
		char hdrs[64] = "";
		if (v.status == 423) /* §10.3 step 7, §20.23 */
			snprintf(hdrs, sizeof(hdrs), "Min-Expires: %u\r\n", conf->min_expires);
		if (c != local)
			free(c);
		finish(j, v.status, v.reason, hdrs[0] ? hdrs : NULL);
		return;
	}
	int err;
	if (j->n == 0 && !j->star)
		err = loc_lookup(conf->store, j->loop, j->aor, on_bindings, j);
	else
		err = loc_update(conf->store, j->loop, j->aor, c, j->n, j->star, tmpl->cseq,
				 tmpl->call_id, on_bindings, j);
	if (c != local)
		free(c);
	if (err)
		store_failed(j, "submit", err);
}

/* The user's HA1 digests arrived (or ENOENT): verify, authorise (§10.3 steps 3, 4). */
static void on_user(int err, const struct loc_user *u, void *arg)
{
	struct job *j = arg;
	struct job_auth *a = j->auth;
	struct loc_binding tmpl;
	struct reg_verdict v = {0, NULL};
	struct msg m;
	size_t len, used;
	const char *req = tsx_request_buf(j->t, &len);

	if (err && err != ENOENT) {
		store_failed(j, "user", err);
		return;
	}
	/* the request as received: kept by the transaction until it is answered */
	if (!req || msg_parse(&m, req, len, MSG_PARSE_DGRAM, &used)) {
		finish(j, 500, NULL, NULL);
		return;
	}
	enum auth_result res = auth_check(j->r->conf.auth, &m, a->realm, false,
					  err ? NULL : u->ha1_md5, err ? NULL : u->ha1_sha256);
	if (res != AUTH_OK) {
		/* the username is the peer's text: only the canonical AOR goes to the log */
		log_debug("event=auth-failed result=%d aor=%s", (int)res, j->aor);
		challenge(j, res == AUTH_STALE);
		return;
	}
	/* §10.3 step 4: the authenticated user may only change its own bindings */
	if (strlen(a->user) != a->aor.userlen || memcmp(a->user, a->aor.user, a->aor.userlen)) {
		log_info_rl("event=forbidden why=other-users-credentials aor=%s", j->aor);
		finish(j, 403, "Not Your Address-of-Record", NULL);
		return;
	}
	if (!reg_parse_common(&m, a->received, &tmpl, &v)) {
		finish(j, v.status, v.reason, NULL);
		return;
	}
	apply(j, &m, &tmpl);
}

/* §10.3 step 3: ask for the HA1 of the credentials' user, or challenge. */
static void authenticate(struct job *j, struct msg *m)
{
	const struct reg_conf *conf = &j->r->conf;
	struct job_auth *a = j->auth;
	char key[LOC_AOR_MAX];

	snprintf(a->realm, sizeof(a->realm), "%s", conf->realm ? conf->realm : a->aor.domain);
	enum auth_result res = auth_credentials(m, a->realm, false, a->user, sizeof(a->user));
	if (res != AUTH_OK) {
		challenge(j, false);
		return;
	}
	if (!alg_allowed(j, m)) {
		challenge(j, false);
		return;
	}
	/* users are provisioned as USER@DOMAIN of their AOR (ringletd user add) */
	int w = snprintf(key, sizeof(key), "%s@%s", a->user, a->aor.domain);
	if (w < 0 || (size_t)w >= sizeof(key)) {
		challenge(j, false);
		return;
	}
	int err = loc_user_get(conf->store, j->loop, key, on_user, j);
	if (err)
		store_failed(j, "user-submit", err);
}

/* Where the REGISTER came from, as a binding records it: "udp:1.2.3.4:5060". */
static void received_str(const struct tp_rx *rx, char *out, size_t cap)
{
	char a[LOC_ADDR_MAX];
	const char *p = tp_proto_name((enum tp_proto)rx->proto);
	size_t n = 0;

	tp_addr_str(&rx->src, a, sizeof(a));
	for (; p && *p && n + 1 < cap; p++)
		out[n++] = ascii_lower(*p);
	size_t al = strlen(a);
	if (n + 1 + al < cap) {
		out[n++] = ':';
		memcpy(out + n, a, al);
		n += al;
	}
	out[n] = 0;
}

/* A job for REGISTER of aor on t; with what auth needs when auth is on. */
static struct job *job_new(struct reg *r, struct tsx *t, const struct reg_aor *aor,
			   const char *received)
{
	size_t alen = strlen(aor->aor) + 1;
	struct job *j = mem_alloc(sizeof(*j) + alen, job_destroy);

	if (!j)
		return NULL;
	j->r = r;
	atomic_fetch_add(&r->pending, 1);
	memcpy(j->aor, aor->aor, alen);
	if (r->conf.auth) {
		j->auth = malloc(sizeof(*j->auth));
		if (!j->auth)
			return mem_deref(j);
		j->auth->aor = *aor;
		snprintf(j->auth->received, sizeof(j->auth->received), "%s", received);
	}
	j->t = mem_ref(t);
	j->loop = tsx_layer_loop(tsx_layer_of(t));
	return j;
}

void reg_request(struct reg *r, struct tsx *t, struct tp_rx *rx)
{
	struct reg_verdict v = {0, NULL};
	struct reg_aor aor;
	struct loc_binding tmpl;
	char received[LOC_ADDR_MAX];

	if (atomic_load(&r->closing)) {
		respond(t, 503, "Shutting Down", RETRY_AFTER);
		return;
	}
	received_str(rx, received, sizeof(received));
	/* §10.3 step 5 comes first: the default realm is the AOR's domain */
	if (!reg_parse_aor(&rx->msg, r->conf.own, r->conf.own_arg, &aor, &v) ||
	    !reg_parse_common(&rx->msg, received, &tmpl, &v)) {
		respond(t, v.status, v.reason, NULL);
		return;
	}
	struct job *j = job_new(r, t, &aor, received);
	if (!j) {
		respond(t, 500, NULL, NULL);
		return;
	}
	j->path_supported = reg_supported(&rx->msg, "path");
	if (r->conf.auth)
		authenticate(j, &rx->msg);
	else
		apply(j, &rx->msg, &tmpl);
}
