/*
 * prx.c - the stateful proxy core (RFC 3261 §16): calls, their branches,
 * forking by q-value and the choice of the response, see prx.h.  A
 * forwarded request is the received bytes with a short list of edits
 * applied (prx_fwd.c), so nothing the proxy does not own is re-printed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "prx"
#include "proxy/prx_int.h"
#include "ringlet/log.h"
#include "ringlet/mem.h"
#include "ringlet/reg.h"

#define TIMER_C_MS 180000u
#define EXTRA_CAP (LOC_CONTACT_MAX + LOC_PATH_MAX + 1024u)

int prx_alloc(struct prx **out, const struct prx_conf *conf)
{
	if (!conf || !conf->store)
		return EINVAL;
	struct prx *p = mem_alloc(sizeof(*p), NULL);
	if (!p)
		return ENOMEM;
	if (pthread_mutex_init(&p->mu, NULL)) {
		mem_deref(p);
		return ENOMEM;
	}
	p->store = conf->store;
	p->timer_c_ms = conf->timer_c_ms ? conf->timer_c_ms : TIMER_C_MS;
	p->auth = conf->auth;
	p->realm = conf->realm;
	p->algs = conf->algs;
	p->dns = conf->dns;
	p->dns_arg = conf->dns_arg;
	list_init(&p->calls);
	list_init(&p->acks);
	*out = p;
	return 0;
}

/* Stop branch b: its timer, its transaction (the callback is not called any more). */
static void branch_drop(struct prx_branch *b)
{
	loop_timer_cancel(&b->timer_c);
	if (b->ct) {
		tsx_detach(b->ct);
		mem_deref(b->ct);
		b->ct = NULL;
	}
}

/* What a call holds; live: its loop and layer still run (else only references go). */
static void call_free(struct prx_call *c, bool live)
{
	for (unsigned i = 0; i < c->nbr; i++) {
		struct prx_branch *b = c->br[i];
		if (live) {
			branch_drop(b);
			dns_cancel(b->q);
		} else {
			mem_deref(b->ct); /* the resolvers are gone with their queries */
		}
		free(b->chal);
		free(b->alt);
	}
	for (unsigned i = c->nbr; i-- > 0;) /* a block's first branch goes after the others */
		if (c->br[i]->block)
			free(c->br[i]);
	if (c->br != &c->br_inl)
		free(c->br);
	mem_deref(c->st);
	free(c->tg);
	free(c->best_buf);
	free(c->realm);
	mem_deref(c);
}

void prx_free(struct prx *p)
{
	if (!p)
		return;
	/* calls still in flight: their layers and loops are gone, drop what they hold */
	struct list_node *n;
	while ((n = list_pop_front(&p->calls)))
		call_free(LIST_ENTRY(n, struct prx_call, node), false);
	prx_ack_waits_free(p);
	pthread_mutex_destroy(&p->mu);
	mem_deref(p);
}

void prx_respond(struct tsx *t, unsigned code, const char *reason, const char *hdrs)
{
	int err = tsx_respond(t, code, reason, hdrs, NULL, 0);
	if (err)
		log_debug("event=respond-failed code=%u err=%d", code, err);
}

/* The call is over: the server transaction got its final response, every branch is done. */
void prx_call_end(struct prx_call *c)
{
	if (tsx_user(c->st) == c)
		tsx_set_user(c->st, NULL);
	pthread_mutex_lock(&c->p->mu);
	list_remove(&c->node);
	pthread_mutex_unlock(&c->p->mu);
	call_free(c, true);
}

/* Response m with its top Via (ours) removed, into malloc'd *out.  Returns the length or -1. */
static long strip_via(struct msg *m, char **out)
{
	struct prx_edits es = {.n = 0};
	const struct msg_hdr *via = msg_hdr_find(m, MSG_HDR_VIA);
	*out = malloc(m->len);
	long n = -1;
	if (*out && via && prx_edit_remove(&es, m, via, via) == 0)
		n = prx_edit_apply(m->buf, m->len, &es, *out, m->len);
	if (n <= 0) {
		free(*out);
		*out = NULL;
	}
	return n;
}

/* §16.7 item 6: 6xx first, then the lowest class (3xx before 4xx before 5xx). */
static unsigned rank(unsigned code)
{
	return code >= 600 ? 0 : code / 100;
}

/*
 * A final non-2xx response of branch b joins the response context (§16.7
 * item 4): it replaces the best one when it ranks better, or ranks the same
 * and the best one was synthesised.  buf (malloc'd, NULL: synthesised) is
 * taken over.
 */
static void keep_best(struct prx_call *c, const struct prx_branch *b, unsigned code, char *buf,
		      size_t len)
{
	if (c->best && (rank(code) > rank(c->best) ||
			(rank(code) == rank(c->best) && (c->best_buf || !buf)))) {
		free(buf);
		return;
	}
	free(c->best_buf);
	c->best = code;
	c->best_buf = buf;
	c->best_len = len;
	c->best_br = buf ? (int)b->i : -1;
}

/*
 * Send the best response upstream (§16.7 item 6): 503 becomes 500, none at
 * all 408; a 401 or 407 with the challenges of every other branch's 401 and
 * 407 (item 7).
 */
static void send_best(struct prx_call *c)
{
	unsigned code = c->best ? c->best : 408;
	if (code == 503 || !c->best_buf) {
		prx_respond(c->st, code == 503 ? 500 : code, NULL, NULL);
		return;
	}
	char *merged = NULL;
	long n =
	    code == 401 || code == 407 ? prx_chal_merge(c, c->best_buf, c->best_len, &merged) : -1;
	int err = n > 0 ? tsx_send_response(c->st, merged, (size_t)n)
			: tsx_send_response(c->st, c->best_buf, c->best_len);
	free(merged);
	if (err)
		log_debug("event=forward-response-failed code=%u err=%d", code, err);
}

static void branch_done(struct prx_branch *b, unsigned code, char *buf, size_t len);

/*
 * Cancel every pending branch but skip (§16.7 item 10, §16.10); a branch
 * still resolving its next hop ends at once as a 487.  The caller settles.
 */
static void cancel_others(struct prx_call *c, const struct prx_branch *skip)
{
	for (unsigned i = 0; i < c->nbr; i++) {
		struct prx_branch *b = c->br[i];
		if (b != skip && !b->code && b->q) {
			dns_cancel(b->q);
			b->q = NULL;
			branch_done(b, 487, NULL, 0);
			continue;
		}
		if (b == skip || b->code || !b->ct)
			continue;
		int err = tsx_cancel(b->ct, NULL, NULL);
		if (err && err != EALREADY && err != EINVAL)
			log_debug("event=cancel-failed err=%d", err);
	}
}

static void start_group(struct prx_call *c);

/*
 * A branch ended: when none is pending, try the next q-group (§16.6:
 * sequential search, unless cancelled, answered or a 6xx came), or answer
 * with the best response and end the call.
 */
static void settle(struct prx_call *c)
{
	for (;;) {
		for (unsigned i = 0; i < c->nbr; i++)
			if (!c->br[i]->code)
				return;
		if (c->answered || c->cancelled || c->six || c->next >= c->ntg ||
		    c->nbr == LOC_MAX_BINDINGS)
			break;
		start_group(c);
	}
	if (!c->answered)
		send_best(c);
	prx_call_end(c);
}

/* Branch b is done with final code (buf: the response to pass on, taken over). */
static void branch_done(struct prx_branch *b, unsigned code, char *buf, size_t len)
{
	struct prx_call *c = b->c;
	b->code = code;
	branch_drop(b);
	if (code >= 200 && code < 300) {
		free(buf);
		return;
	}
	keep_best(c, b, code, buf, len);
	if (code >= 600 && !c->six) {
		c->six = true;
		cancel_others(c, b);
	}
}

/* Timer C (§16.8): the branch rang too long: CANCEL it, it counts as a 408. */
static void on_timer_c(void *arg)
{
	struct prx_branch *b = arg;
	log_info("event=timer-c");
	if (b->ct) {
		int err = tsx_cancel(b->ct, NULL, NULL);
		if (err && err != EALREADY)
			log_debug("event=cancel-failed err=%d", err);
	}
	branch_done(b, 408, NULL, 0);
	settle(b->c);
}

/* A 2xx of a branch (§16.7 item 9): forwarded at once, every one; the first cancels the rest. */
static void on_2xx(struct prx_branch *b, struct msg *resp, const struct tp_rx *rx)
{
	struct prx_call *c = b->c;
	char *out;
	long n = strip_via(resp, &out);
	int err = n > 0 ? tsx_send_response(c->st, out, (size_t)n) : EBADMSG;
	free(out);
	if (err && c->answered && c->method == MSG_METHOD_INVITE) {
		struct tsx_layer *l = tsx_layer_of(b->ct);
		/* the server transaction is gone: statelessly (§16.7 step 5) */
		struct tp_rx r = *rx;
		if (l)
			prx_response(l, &r);
	} else if (err) {
		log_debug("event=forward-response-failed code=%u err=%d", resp->status, err);
	}
	if (!c->answered) {
		c->answered = true;
		cancel_others(c, b);
	}
}

static bool next_dest(struct prx_branch *b, unsigned code, bool synthesised);

/* A response of a branch (§16.7). */
static void on_response(struct tsx *t, struct msg *resp, const struct tp_rx *rx, void *arg)
{
	struct prx_branch *b = arg;
	struct prx_call *c = b->c;
	unsigned code = resp ? resp->status : tsx_last_code(t);
	if (code == 100)
		return;
	if (!rx || !resp) {
		/* synthesised by the layer: 408 on timeout, 503 on a transport error */
		if (code >= 200 && next_dest(b, code == 408 ? 408 : 503, true))
			return;
		if (code >= 200) {
			branch_done(b, code == 408 ? 408 : 503, NULL, 0);
			settle(c);
		}
		return;
	}
	if (code < 200) {
		char *out = NULL;
		long n = c->answered ? -1 : strip_via(resp, &out);
		if (n > 0 && tsx_send_response(c->st, out, (size_t)n))
			log_debug("event=forward-response-failed code=%u", code);
		if (n > 0)
			free(out);
		if (loop_timer_pending(&b->timer_c)) /* §16.7 step 2: reset Timer C */
			loop_timer_start(c->loop, &b->timer_c, c->p->timer_c_ms, on_timer_c, b);
		return;
	}
	if (code == 503 && next_dest(b, code, false))
		return;
	if (code < 300) {
		on_2xx(b, resp, rx);
		branch_done(b, code, NULL, 0);
	} else {
		char *out;
		long n = strip_via(resp, &out);
		if (code == 401 || code == 407) /* for the merge of §16.7 item 7 */
			prx_chal_collect(resp, &b->chal, &b->chal_len);
		branch_done(b, n > 0 ? code : 500, out, n > 0 ? (size_t)n : 0);
	}
	settle(c);
}

/*
 * Build and send the forwarded request (§16.6) for branch b to d.  A
 * failure ends the branch at once (500); the caller settles.
 */
static void send_branch(struct prx_branch *b, const struct tp_dest *d)
{
	struct prx_call *c = b->c;
	struct msg msg;
	struct msg *m = prx_call_msg(c, &msg);
	struct tsx_layer *l = tsx_layer_of(c->st);
	struct prx_edits es = {.n = 0};
	struct prx_fwd_text tx;
	int err = l ? prx_request_edits(c, m, l, d, b->contact, b->path, &es, &tx) : ESRCH;
	size_t cap = m->len + EXTRA_CAP;
	char *out = err ? NULL : malloc(cap);
	long n = out ? prx_edit_apply(m->buf, m->len, &es, out, cap) : -1;
	if (n > 0) /* our Via is in: its branch carries the loop-detection hash */
		err = tsx_request(&b->ct, l, d, out, (size_t)n, 0, on_response, b);
	free(out);
	if (n <= 0 || err) {
		log_info("event=forward-failed err=%d", err);
		branch_done(b, 500, NULL, 0);
		return;
	}
	if (c->method == MSG_METHOD_INVITE)
		loop_timer_start(c->loop, &b->timer_c, c->p->timer_c_ms, on_timer_c, b);
}

/* RFC 3263 answered for branch b: try its first destination, or end it (502, 504). */
static void on_resolved(int err, const struct dns_target *t, unsigned n, void *arg)
{
	struct prx_branch *b = arg;
	struct prx_call *c = b->c;
	b->q = NULL;
	if (!err && n && !(b->alt = malloc(n * sizeof(*b->alt))))
		err = ENOMEM;
	if (!err && n) {
		for (unsigned i = 0; i < n; i++)
			b->alt[i] = t[i].dest;
		b->nalt = n;
		b->ialt = 0;
		send_branch(b, &b->alt[0]);
	} else {
		log_info("event=next-hop-unresolved err=%d", err);
		/* §21.5.3 / §21.5.5: no server found, or the DNS did not answer in time */
		branch_done(b, err == ETIMEDOUT ? 504 : err == ENOMEM ? 500 : 502, NULL, 0);
	}
	settle(c);
}

/*
 * RFC 3263 §4.3: a branch whose destination timed out, failed at the
 * transport or answered 503 goes on to the next destination of its host
 * (unless the call is cancelled or answered).  True when it did.
 */
static bool next_dest(struct prx_branch *b, unsigned code, bool synthesised)
{
	struct prx_call *c = b->c;
	if ((code != 503 && !(code == 408 && synthesised)) || !b->alt ||
	    b->ialt + 1 >= b->nalt || c->cancelled || c->answered || c->six)
		return false;
	log_info("event=next-destination code=%u", code);
	branch_drop(b);
	send_branch(b, &b->alt[++b->ialt]);
	settle(c);
	return true;
}

/*
 * Start a branch towards one target (§16.6): its destination at once for a
 * numeric host, else after RFC 3263.  A failure ends the branch at once (502
 * for a host name without DNS, 500); the caller settles.
 */
static void forward(struct prx_call *c, const char *contact, const char *path)
{
	struct prx_branch *b = c->br[c->nbr];
	*b = (struct prx_branch){.c = c, .i = c->nbr, .block = b->block};
	c->nbr++;
	b->contact = contact;
	b->path = path;
	loop_timer_init(&b->timer_c);
	struct tsx_layer *l = tsx_layer_of(c->st);
	struct tp_dest d;
	struct prx_dns_req dr;
	struct msg m;
	int err = l ? prx_request_dest(prx_call_msg(c, &m), c->flags & PRX_POP_ROUTE, path,
				       contact, c->hop, &d, &dr)
		    : ESRCH;
	if (c->method == MSG_METHOD_INVITE && l && !tsx_last_code(c->st))
		prx_respond(c->st, 100, NULL, NULL); /* §16.2: now, the callee may be slow */
	struct dns *dns = err == EHOSTUNREACH && c->p->dns ? c->p->dns(l, c->p->dns_arg) : NULL;
	if (dns)
		err = dns_resolve(dns, &dr.req, on_resolved, b, &b->q);
	if (dns && !err)
		return;
	if (err) {
		log_info("event=no-next-hop err=%d", err);
		branch_done(b, err == EHOSTUNREACH ? 502 : 500, NULL, 0);
		return;
	}
	send_branch(b, &d);
}

/*
 * Room for k more branches (one q-group): their pointers in c->br, and the
 * branches, b0 first, then one block per group.  Returns 0 or ENOMEM.
 */
static int reserve(struct prx_call *c, unsigned k)
{
	unsigned i = c->nbr, n = c->nbr + k;
	if (n > c->nbr_cap) {
		struct prx_branch **v = malloc(n * sizeof(*v));
		if (!v)
			return ENOMEM;
		memcpy(v, c->br, i * sizeof(*v));
		if (c->br != &c->br_inl)
			free(c->br);
		c->br = v;
		c->nbr_cap = n;
	}
	if (i == 0) {
		c->br[i++] = &c->b0;
		c->b0.block = false;
	}
	if (i == n)
		return 0;
	struct prx_branch *blk = malloc((n - i) * sizeof(*blk));
	if (!blk)
		return ENOMEM;
	for (unsigned j = i; j < n; j++) {
		c->br[j] = &blk[j - i];
		blk[j - i].block = j == i;
	}
	return 0;
}

/* Start a branch for every target of the next q-group (§16.6: parallel within a q). */
static void start_group(struct prx_call *c)
{
	unsigned k = 1;
	if (c->tg) {
		int q = c->tg[c->next].q;
		while (c->next + k < c->ntg && c->tg[c->next + k].q == q &&
		       c->nbr + k < LOC_MAX_BINDINGS)
			k++;
	}
	if (reserve(c, k)) {
		log_warn_rl("event=branch-alloc-failed");
		keep_best(c, NULL, 500, NULL, 0);
		c->next = c->ntg; /* no more branches: settle answers */
		return;
	}
	if (!c->tg) { /* no lookup: the Request-URI or the next Route */
		c->next = c->ntg;
		forward(c, NULL, NULL);
		return;
	}
	for (unsigned j = 0; j < k; j++) {
		const struct prx_target *g = &c->tg[c->next++];
		forward(c, g->contact, g->path);
	}
}

/* The AOR has no binding: 480 for a provisioned user, 404 for an unknown one. */
static void on_user(int err, const struct loc_user *u, void *arg)
{
	struct prx_call *c = arg;
	(void)u;
	if (!c->cancelled)
		prx_respond(c->st, err == 0 ? 480 : 404, NULL, NULL);
	prx_call_end(c);
}

static int q_of(const struct loc_binding *b)
{
	return b->q < 0 ? 1000 : b->q; /* absent q counts as 1.0 */
}

/* The bindings as targets, highest q first (ties: in store order), into c->tg. */
static int targets(struct prx_call *c, const struct loc_binding *b, unsigned n)
{
	if (n > LOC_MAX_BINDINGS)
		n = LOC_MAX_BINDINGS;
	size_t need = n * sizeof(struct prx_target);
	for (unsigned i = 0; i < n; i++)
		need += strnlen(b[i].contact, LOC_CONTACT_MAX - 1) +
			strnlen(b[i].path, LOC_PATH_MAX - 1) + 2;
	c->tg = malloc(need);
	if (!c->tg)
		return ENOMEM;
	char *s = (char *)(c->tg + n);
	for (unsigned i = 0; i < n; i++) {
		struct prx_target t = {.q = q_of(&b[i])};
		size_t lc = strnlen(b[i].contact, LOC_CONTACT_MAX - 1);
		size_t lp = strnlen(b[i].path, LOC_PATH_MAX - 1);
		memcpy(s, b[i].contact, lc);
		s[lc] = 0;
		t.contact = s;
		s += lc + 1;
		memcpy(s, b[i].path, lp);
		s[lp] = 0;
		t.path = s;
		s += lp + 1;
		unsigned j = i; /* insertion sort, stable: n <= LOC_MAX_BINDINGS */
		while (j > 0 && c->tg[j - 1].q < t.q) {
			c->tg[j] = c->tg[j - 1];
			j--;
		}
		c->tg[j] = t;
	}
	c->ntg = n;
	return 0;
}

static void on_lookup(int err, const struct loc_binding *b, unsigned n, void *arg)
{
	struct prx_call *c = arg;
	if (c->cancelled) {
		prx_call_end(c);
		return;
	}
	if (err || (n && targets(c, b, n))) {
		log_info("event=lookup-failed err=%d", err);
		prx_respond(c->st, 500, "Location Service Failed", NULL);
		prx_call_end(c);
		return;
	}
	if (n == 0) {
		/* users are provisioned as USER@DOMAIN of their AOR, past "sip:" */
		if (loc_user_get(c->p->store, c->loop, c->aor + 4, on_user, c)) {
			prx_respond(c->st, 480, NULL, NULL);
			prx_call_end(c);
		}
		return;
	}
	settle(c);
}

void prx_proceed(struct prx_call *c)
{
	if (!(c->flags & PRX_LOOKUP)) {
		c->ntg = 1;
		settle(c);
		return;
	}
	if (!c->aor) { /* prx_request_hop found no AOR in the Request-URI */
		prx_respond(c->st, 404, NULL, NULL);
		prx_call_end(c);
		return;
	}
	if (loc_lookup(c->p->store, c->loop, c->aor, on_lookup, c)) {
		prx_respond(c->st, 500, NULL, NULL);
		prx_call_end(c);
	}
}

struct msg *prx_call_msg(const struct prx_call *c, struct msg *m)
{
	memcpy(m, c->mhead, PRX_MSG_HEAD);
	memcpy(m->hdrs, c->hdrs, c->nhdrs * sizeof(*c->hdrs));
	memcpy((char *)m + PRX_MSG_TAIL_OFF, c->mtail, PRX_MSG_TAIL);
	m->buf = c->buf;
	return m;
}

/* Copy s[0..n) and a NUL to *at, which moves past them; the copy. */
static const char *put_str(char **at, const char *s, size_t n)
{
	char *d = *at;
	memcpy(d, s, n);
	d[n] = 0;
	*at = d + n + 1;
	return d;
}

/* The fields of a new call c for request m (the strings after its bytes come later). */
static void call_init(struct prx_call *c, struct prx *p, struct tsx *t, const struct tp_rx *rx,
		      unsigned flags)
{
	const struct msg *m = &rx->msg;
	c->p = p;
	c->st = mem_ref(t);
	c->loop = tsx_layer_loop(tsx_layer_of(t));
	c->flags = flags;
	c->proto = rx->proto;
	c->method = m->method;
	c->cancelled = c->answered = c->six = false;
	c->local = rx->local;
	c->tg = NULL;
	c->ntg = c->next = c->nbr = 0;
	c->nbr_cap = 1;
	c->br = &c->br_inl;
	c->best = 0;
	c->best_br = -1;
	c->best_buf = NULL;
	c->best_len = 0;
	c->via = c->aor = c->hop = NULL;
	c->realm = NULL;
	c->nhdrs = m->nhdrs;
	c->len = m->len;
	c->buf = (char *)(c->hdrs + m->nhdrs);
	memcpy(c->hdrs, m->hdrs, m->nhdrs * sizeof(*m->hdrs));
	memcpy(c->buf, m->buf, m->len);
}

void prx_request_hop(struct prx *p, struct tsx *t, struct tp_rx *rx, unsigned flags,
		     const char *hop)
{
	struct msg *m = &rx->msg;
	struct tsx_layer *l = tsx_layer_of(t);
	if (!l) {
		prx_respond(t, 500, NULL, NULL);
		return;
	}
	if (hop)
		flags &= ~PRX_LOOKUP;
	/* the strings the call keeps, as long as they are */
	char via[512], aor[LOC_AOR_MAX];
	int vl = tp_via_rewrite(rx, via, sizeof(via)); /* §18.2.1 */
	size_t hl = hop ? strnlen(hop, 255) : 0;
	int al = -1;
	const struct msg_uri *ru = flags & PRX_LOOKUP ? msg_ruri(m) : NULL;
	if (ru)
		al = reg_aor(m->buf, ru, aor, sizeof(aor));
	size_t need = sizeof(struct prx_call) + m->nhdrs * sizeof(struct msg_hdr) + m->len +
		      (vl > 0 ? (size_t)vl + 1 : 0) + (hl ? hl + 1 : 0) +
		      (al >= 5 ? (size_t)al + 1 : 0);
	struct prx_call *c = mem_alloc(need, NULL);
	if (!c) {
		prx_respond(t, 500, NULL, NULL);
		return;
	}
	call_init(c, p, t, rx, flags);
	char *at = c->buf + m->len;
	if (vl > 0)
		c->via = put_str(&at, via, (size_t)vl);
	if (hl)
		c->hop = put_str(&at, hop, hl);
	if (al >= 5)
		c->aor = put_str(&at, aor, (size_t)al);
	pthread_mutex_lock(&p->mu);
	list_push_back(&p->calls, &c->node);
	pthread_mutex_unlock(&p->mu);
	/* §16.6 item 8: what the request is now, with the Via it came with on top */
	prx_loop_hash(m, msg_hdr_find(m, MSG_HDR_VIA), c->hash);
	/* the parse, with the typed views made so far, packed */
	memcpy(c->mhead, m, PRX_MSG_HEAD);
	memcpy(c->mtail, (const char *)m + PRX_MSG_TAIL_OFF, PRX_MSG_TAIL);
	if (m->method == MSG_METHOD_INVITE)
		tsx_set_user(t, c); /* for prx_cancel; 100 within 200 ms: the layer's timer */
	if ((flags & PRX_AUTH) && p->auth && m->method != MSG_METHOD_ACK &&
	    m->method != MSG_METHOD_CANCEL)
		prx_authenticate(c); /* §22.1: ACK and CANCEL cannot be resubmitted */
	else
		prx_proceed(c);
}

void prx_request(struct prx *p, struct tsx *t, struct tp_rx *rx, unsigned flags)
{
	prx_request_hop(p, t, rx, flags, NULL);
}

int prx_cancel(struct tsx *inv)
{
	struct prx_call *c = inv ? tsx_user(inv) : NULL;
	if (!c)
		return ENOENT;
	if (c->nbr) {
		c->cancelled = true; /* §16.10: every pending branch, no new ones */
		cancel_others(c, NULL);
		settle(c); /* branches still resolving ended at once */
	} else if (!c->cancelled) {
		c->cancelled = true; /* the lookup runs: its result is dropped */
		prx_respond(c->st, 487, NULL, NULL);
	}
	return 0;
}
