/*
 * prx.c - the stateful proxy core (RFC 3261 §16): forking by q-value,
 * see prx.h.  A forwarded request is the received bytes with a short list
 * of edits applied (Request-URI, Max-Forwards, Route, Record-Route, the
 * upstream Via's received/rport), so nothing the proxy does not own is
 * re-printed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "prx"
#include "proxy/prx_edit.h"
#include "ringlet/list.h"
#include "ringlet/log.h"
#include "ringlet/mem.h"
#include "ringlet/prx.h"
#include "ringlet/reg.h"

#define TIMER_C_MS 180000u
#define EXTRA_CAP (LOC_CONTACT_MAX + LOC_PATH_MAX + 1024u)

struct prx {
	struct loc_store *store;
	unsigned timer_c_ms;
	struct auth *auth;  /* PRX_AUTH: NULL lets every request pass */
	const char *realm;  /* NULL: the From host */
	pthread_mutex_t mu; /* guards calls */
	struct list calls;  /* in flight, for prx_free after the layers are gone */
};

/* One branch (§16.6): a client transaction towards one target. */
struct branch {
	struct call *c;
	struct tsx *ct;		   /* referenced; NULL once the branch is done */
	struct loop_timer timer_c; /* §16.8, INVITE only */
	unsigned code;		   /* final response (or 408 of Timer C), 0: pending */
};

/* A target of the request: a binding, or the Request-URI/Route (contact NULL). */
struct target {
	int q; /* thousandths */
	const char *contact, *path;
};

/*
 * One forwarded request, its response context (§16.7): the server
 * transaction, the targets in q order and the branches started so far.
 */
struct call {
	struct list_node node; /* in p->calls */
	struct prx *p;
	struct tsx *st; /* server transaction (referenced) */
	struct loop *loop;
	unsigned flags;
	uint8_t proto;	      /* transport the request came on */
	struct tp_addr local; /* our address it came to: the Record-Route */
	bool cancelled;	      /* CANCEL came: no new branches */
	bool answered;	      /* a 2xx was forwarded */
	bool six;	      /* a 6xx came: no new branches (§16.7 item 6, 10) */
	struct target *tg;    /* sorted by q, highest first (malloc, strings inside) */
	unsigned ntg, next;   /* targets, the first one not tried yet */
	unsigned nbr;	      /* branches started */
	struct branch br[LOC_MAX_BINDINGS];
	unsigned best;	/* best final response so far (§16.7 item 6), 0: none */
	char *best_buf; /* its bytes with our Via removed (malloc), NULL: synthesised */
	size_t best_len;
	struct msg m;  /* the request, spans into buf */
	char via[512]; /* its top Via value with received/rport (§18.2.1), or "" */
	char aor[LOC_AOR_MAX];
	char realm[LOC_AOR_MAX]; /* PRX_AUTH: the realm of the challenge */
	char hop[256];		 /* a static route's URI (prx_request_hop), or "" */
	char buf[];
};

static struct span first_elem(const char *s, size_t len)
{
	bool angle = false, quote = false;
	size_t i = 0;
	for (; i < len; i++) {
		char c = s[i];
		if (quote) {
			if (c == '\\' && i + 1 < len)
				i++;
			else if (c == '"')
				quote = false;
		} else if (c == '"') {
			quote = true;
		} else if (c == '<') {
			angle = true;
		} else if (c == '>') {
			angle = false;
		} else if (c == ',' && !angle) {
			break;
		}
	}
	while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
		i--;
	size_t b = 0;
	while (b < i && (s[b] == ' ' || s[b] == '\t'))
		b++;
	return (struct span){(uint32_t)b, (uint32_t)(i - b)};
}

/*
 * The next hop of URI u (§16.6 item 7, without RFC 3263: numeric hosts
 * only): its host and port, transport from ;transport= (default UDP).
 * Returns 0, EHOSTUNREACH (a host name: no DNS yet) or EINVAL.
 */
static int uri_dest(const char *buf, const struct msg_uri *u, struct tp_dest *d)
{
	memset(d, 0, sizeof(*d));
	if (u->scheme != MSG_URI_SIP && u->scheme != MSG_URI_SIPS)
		return EINVAL;
	d->proto = u->scheme == MSG_URI_SIPS ? TP_TLS : TP_UDP;
	struct span tr;
	if (msg_param_get(buf, u->params, "transport", &tr)) {
		d->proto = tp_proto_from_token(buf + tr.off, tr.len);
		if (!d->proto)
			return EINVAL;
	}
	if (u->host_type != MSG_HOST_IPV4 && u->host_type != MSG_HOST_IPV6)
		return EHOSTUNREACH;
	uint16_t port = u->port ? u->port : (d->proto == TP_TLS ? 5061 : 5060);
	return tp_addr_set(&d->addr, buf + u->host.off, u->host.len, port);
}

/* The first Route element of m, skipping ours when skip; NULL if none. */
static const struct msg_hdr *next_route(const struct msg *m, bool skip)
{
	const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_ROUTE);
	if (h && skip)
		h = msg_hdr_next(m, h);
	return h;
}

/*
 * The destination of request m (§16.6 items 6-7): the first of path, the
 * next Route (after ours when skip), contact, hop (a static route), the
 * Request-URI.
 */
static int request_dest(struct msg *m, bool skip, const char *path, const char *contact,
			const char *hop, struct tp_dest *d)
{
	struct msg_nameaddr na;
	struct msg_uri u;
	if (path && path[0]) {
		struct span s = first_elem(path, strlen(path));
		if (msg_nameaddr_parse(path, s, &na))
			return EINVAL;
		return uri_dest(path, &na.uri, d);
	}
	const struct msg_hdr *h = next_route(m, skip);
	if (h) {
		if (msg_nameaddr_parse(m->buf, h->value, &na))
			return EINVAL;
		return uri_dest(m->buf, &na.uri, d);
	}
	if (contact) {
		if (msg_uri_parse(contact, (struct span){0, (uint32_t)strlen(contact)}, &u))
			return EINVAL;
		return uri_dest(contact, &u, d);
	}
	if (hop) {
		if (msg_uri_parse(hop, (struct span){0, (uint32_t)strlen(hop)}, &u))
			return EINVAL;
		return uri_dest(hop, &u, d);
	}
	const struct msg_uri *ru = msg_ruri(m);
	return ru ? uri_dest(m->buf, ru, d) : EINVAL;
}

/*
 * Max-Forwards of the forwarded request (§16.6 item 3): decremented in
 * place, or "Max-Forwards: 70" added.  num holds the digits (>= 4 bytes).
 */
static int edit_max_forwards(struct prx_edits *es, const struct msg *m, char *num, size_t cap)
{
	static const char add[] = "Max-Forwards: 70\r\n";
	const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_MAX_FORWARDS);
	uint32_t mf;
	if (!h)
		return prx_edit_add(es, prx_headers_start(m), 0, add, sizeof(add) - 1);
	if (msg_uint_parse(m->buf, h->value, 255, &mf) || mf == 0)
		return EINVAL; /* rd_core answered these: 400 at arrival, 483 from msg_role_verdict */
	int w = snprintf(num, cap, "%u", mf - 1);
	return prx_edit_add(es, h->value.off, h->value.len, num, (size_t)w);
}

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
	list_init(&p->calls);
	*out = p;
	return 0;
}

/* Stop branch b: its timer, its transaction (the callback is not called any more). */
static void branch_drop(struct branch *b)
{
	loop_timer_cancel(&b->timer_c);
	if (b->ct) {
		tsx_detach(b->ct);
		mem_deref(b->ct);
		b->ct = NULL;
	}
}

/* What a call holds; live: its loop and layer still run (else only references go). */
static void call_free(struct call *c, bool live)
{
	for (unsigned i = 0; i < c->nbr; i++) {
		if (live)
			branch_drop(&c->br[i]);
		else
			mem_deref(c->br[i].ct);
	}
	mem_deref(c->st);
	free(c->tg);
	free(c->best_buf);
	mem_deref(c);
}

void prx_free(struct prx *p)
{
	if (!p)
		return;
	/* calls still in flight: their layers and loops are gone, drop what they hold */
	struct list_node *n;
	while ((n = list_pop_front(&p->calls)))
		call_free(LIST_ENTRY(n, struct call, node), false);
	pthread_mutex_destroy(&p->mu);
	mem_deref(p);
}

static void respond(struct tsx *t, unsigned code, const char *reason)
{
	int err = tsx_respond(t, code, reason, NULL, NULL, 0);
	if (err)
		log_debug("event=respond-failed code=%u err=%d", code, err);
}

/* The call is over: the server transaction got its final response, every branch is done. */
static void call_end(struct call *c)
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
 * A final non-2xx response of a branch joins the response context (§16.7
 * item 4): it replaces the best one when it ranks better, or ranks the same
 * and the best one was synthesised.  buf (malloc'd, NULL: synthesised) is
 * taken over.
 */
static void keep_best(struct call *c, unsigned code, char *buf, size_t len)
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
}

/* Send the best response upstream (§16.7 item 6): 503 becomes 500, none at all 408. */
static void send_best(struct call *c)
{
	unsigned code = c->best ? c->best : 408;
	if (code == 503 || !c->best_buf) {
		respond(c->st, code == 503 ? 500 : code, NULL);
		return;
	}
	int err = tsx_send_response(c->st, c->best_buf, c->best_len);
	if (err)
		log_debug("event=forward-response-failed code=%u err=%d", code, err);
}

/* Cancel every pending branch but skip (§16.7 item 10, §16.10). */
static void cancel_others(struct call *c, const struct branch *skip)
{
	for (unsigned i = 0; i < c->nbr; i++) {
		struct branch *b = &c->br[i];
		if (b == skip || b->code || !b->ct)
			continue;
		int err = tsx_cancel(b->ct, NULL, NULL);
		if (err && err != EALREADY && err != EINVAL)
			log_debug("event=cancel-failed err=%d", err);
	}
}

static void start_group(struct call *c);

/*
 * A branch ended: when none is pending, try the next q-group (§16.6:
 * sequential search, unless cancelled, answered or a 6xx came), or answer
 * with the best response and end the call.
 */
static void settle(struct call *c)
{
	for (;;) {
		for (unsigned i = 0; i < c->nbr; i++)
			if (!c->br[i].code)
				return;
		if (c->answered || c->cancelled || c->six || c->next >= c->ntg ||
		    c->nbr == LOC_MAX_BINDINGS)
			break;
		start_group(c);
	}
	if (!c->answered)
		send_best(c);
	call_end(c);
}

/* Branch b is done with final code (buf: the response to pass on, taken over). */
static void branch_done(struct branch *b, unsigned code, char *buf, size_t len)
{
	struct call *c = b->c;
	b->code = code;
	branch_drop(b);
	if (code >= 200 && code < 300) {
		free(buf);
		return;
	}
	keep_best(c, code, buf, len);
	if (code >= 600 && !c->six) {
		c->six = true;
		cancel_others(c, b);
	}
}

/* Timer C (§16.8): the branch rang too long: CANCEL it, it counts as a 408. */
static void on_timer_c(void *arg)
{
	struct branch *b = arg;
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
static void on_2xx(struct branch *b, struct msg *resp, const struct tp_rx *rx)
{
	struct call *c = b->c;
	char *out;
	long n = strip_via(resp, &out);
	int err = n > 0 ? tsx_send_response(c->st, out, (size_t)n) : EBADMSG;
	free(out);
	if (err && c->answered && c->m.method == MSG_METHOD_INVITE) {
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

/* A response of a branch (§16.7). */
static void on_response(struct tsx *t, struct msg *resp, const struct tp_rx *rx, void *arg)
{
	struct branch *b = arg;
	struct call *c = b->c;
	unsigned code = resp ? resp->status : tsx_last_code(t);
	if (code == 100)
		return;
	if (!rx || !resp) {
		/* synthesised by the layer: 408 on timeout, 503 on a transport error */
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
	if (code < 300) {
		on_2xx(b, resp, rx);
		branch_done(b, code, NULL, 0);
	} else {
		char *out;
		long n = strip_via(resp, &out);
		branch_done(b, n > 0 ? code : 500, out, n > 0 ? (size_t)n : 0);
	}
	settle(c);
}

/* Text the edits of a forwarded request point at. */
struct fwd_text {
	char mf[8];
	char rr[128];
	char route[LOC_PATH_MAX + 16];
	char push[MSG_MAX_LINE]; /* the Request-URI pushed behind a strict router's route */
};

/* The last element of the list that starts at h. */
static const struct msg_hdr *last_of(const struct msg *m, const struct msg_hdr *h)
{
	const struct msg_hdr *last = h;
	for (; h; h = msg_hdr_next(m, h))
		last = h;
	return last;
}

/*
 * Route processing of the forwarded request: our entry removed (§16.4,
 * PRX_POP_ROUTE); a Request-URI of ours, from a strict router upstream,
 * replaced by the last Route entry, which goes (§16.4, PRX_FROM_STRICT);
 * a strict router next (no lr, §16.6 item 6): its URI becomes the
 * Request-URI and the old one the last Route entry.  Not when retarget
 * (the Request-URI is the binding's contact).  Returns 0 or an errno.
 */
static int route_edits(struct call *c, bool retarget, struct prx_edits *es, struct fwd_text *tx)
{
	struct msg *m = &c->m;
	const struct msg_hdr *top = msg_hdr_find(m, MSG_HDR_ROUTE);
	struct msg_nameaddr na;
	struct span lr;
	if (!top)
		return 0;
	if (c->flags & PRX_FROM_STRICT) {
		const struct msg_hdr *last = last_of(m, top);
		if (msg_nameaddr_parse(m->buf, last->value, &na))
			return EINVAL;
		return prx_edit_add(es, m->ruri_s.off, m->ruri_s.len, m->buf + na.uri_s.off,
				    na.uri_s.len) |
		       prx_edit_remove(es, m, last, last);
	}
	bool pop = c->flags & PRX_POP_ROUTE;
	const struct msg_hdr *next = pop ? msg_hdr_next(m, top) : top;
	if (retarget || !next || msg_nameaddr_parse(m->buf, next->value, &na) ||
	    msg_param_get(m->buf, na.uri.params, "lr", &lr))
		return pop ? prx_edit_remove(es, m, top, top) : 0;
	int w = snprintf(tx->push, sizeof(tx->push), "Route: <%.*s>\r\n", (int)m->ruri_s.len,
			 m->buf + m->ruri_s.off);
	if (w < 0 || (size_t)w >= sizeof(tx->push))
		return EMSGSIZE;
	const struct msg_hdr *last = last_of(m, next);
	int err =
	    prx_edit_add(es, m->ruri_s.off, m->ruri_s.len, m->buf + na.uri_s.off, na.uri_s.len);
	if (pop && !(next->flags & MSG_HDRF_FIRST)) {
		err |= prx_edit_remove(es, m, top, next); /* one line: one edit */
	} else {
		if (pop)
			err |= prx_edit_remove(es, m, top, top);
		err |= prx_edit_remove(es, m, next, next);
	}
	return err | prx_edit_add(es, prx_line_end(m, last->value.off + last->value.len), 0,
				  tx->push, (size_t)w);
}

/*
 * The edits that make the forwarded request out of c's (§16.6 items 1-5):
 * Request-URI (contact, when not NULL), the upstream Via's received/rport,
 * our Record-Route on an initial request, path as Route, Max-Forwards, and
 * our Route entry removed (PRX_POP_ROUTE).  Returns 0 or an errno.
 */
static int request_edits(struct call *c, const char *contact, const char *path,
			 struct prx_edits *es, struct fwd_text *tx)
{
	struct msg *m = &c->m;
	uint32_t hs = prx_headers_start(m);
	int err = 0;
	if (contact)
		err |= prx_edit_add(es, m->ruri_s.off, m->ruri_s.len, contact, strlen(contact));
	const struct msg_hdr *via = msg_hdr_find(m, MSG_HDR_VIA);
	if (c->via[0] && via)
		err |= prx_edit_add(es, via->value.off, via->value.len, c->via, strlen(c->via));
	const struct msg_nameaddr *to = msg_to(m);
	if (m->method != MSG_METHOD_ACK && to && !to->has_tag) {
		/* §16.6 item 4: stay on the path of the dialog */
		char a[64];
		tp_addr_str(&c->local, a, sizeof(a));
		int w = snprintf(tx->rr, sizeof(tx->rr), "Record-Route: <sip:%s;lr%s>\r\n", a,
				 c->proto == TP_TCP ? ";transport=tcp" : "");
		if (w > 0 && (size_t)w < sizeof(tx->rr))
			err |= prx_edit_add(es, hs, 0, tx->rr, (size_t)w);
	}
	if (path && path[0]) {
		int w = snprintf(tx->route, sizeof(tx->route), "Route: %s\r\n", path);
		if (w > 0 && (size_t)w < sizeof(tx->route))
			err |= prx_edit_add(es, hs, 0, tx->route, (size_t)w);
	}
	err |= edit_max_forwards(es, m, tx->mf, sizeof(tx->mf));
	err |= route_edits(c, contact || (path && path[0]), es, tx);
	return err ? EINVAL : 0;
}

/*
 * Build and send the forwarded request (§16.6) to one target on a new
 * branch.  A failure ends the branch at once (502 for a host name, 500).
 */
static void forward(struct call *c, const char *contact, const char *path)
{
	struct msg *m = &c->m;
	struct branch *b = &c->br[c->nbr++];
	b->c = c;
	loop_timer_init(&b->timer_c);
	struct tp_dest d;
	int err =
	    request_dest(m, c->flags & PRX_POP_ROUTE, path, contact, c->hop[0] ? c->hop : NULL, &d);
	if (err) {
		log_info("event=no-next-hop err=%d", err);
		branch_done(b, err == EHOSTUNREACH ? 502 : 500, NULL, 0);
		return;
	}
	struct prx_edits es = {.n = 0};
	struct fwd_text tx;
	err = request_edits(c, contact, path, &es, &tx);
	if (m->method == MSG_METHOD_INVITE && !tsx_last_code(c->st))
		respond(c->st, 100, NULL); /* §16.2: now, the callee may be slow */
	size_t cap = m->len + EXTRA_CAP;
	char *out = err ? NULL : malloc(cap);
	long n = out ? prx_edit_apply(m->buf, m->len, &es, out, cap) : -1;
	if (n > 0) {
		struct tsx_layer *l = tsx_layer_of(c->st);
		err = l ? tsx_request(&b->ct, l, &d, out, (size_t)n, TSX_ADD_VIA, on_response, b)
			: ESRCH;
	}
	free(out);
	if (n <= 0 || err) {
		log_info("event=forward-failed err=%d", err);
		branch_done(b, 500, NULL, 0);
		return;
	}
	if (m->method == MSG_METHOD_INVITE)
		loop_timer_start(c->loop, &b->timer_c, c->p->timer_c_ms, on_timer_c, b);
}

/* Start a branch for every target of the next q-group (§16.6: parallel within a q). */
static void start_group(struct call *c)
{
	if (!c->tg) { /* no lookup: the Request-URI or the next Route */
		c->next = c->ntg;
		forward(c, NULL, NULL);
		return;
	}
	int q = c->tg[c->next].q;
	while (c->next < c->ntg && c->tg[c->next].q == q && c->nbr < LOC_MAX_BINDINGS) {
		const struct target *g = &c->tg[c->next++];
		forward(c, g->contact, g->path);
	}
}

/* The AOR has no binding: 480 for a provisioned user, 404 for an unknown one. */
static void on_user(int err, const struct loc_user *u, void *arg)
{
	struct call *c = arg;
	(void)u;
	if (!c->cancelled)
		respond(c->st, err == 0 ? 480 : 404, NULL);
	call_end(c);
}

static int q_of(const struct loc_binding *b)
{
	return b->q < 0 ? 1000 : b->q; /* absent q counts as 1.0 */
}

/* The bindings as targets, highest q first (ties: in store order), into c->tg. */
static int targets(struct call *c, const struct loc_binding *b, unsigned n)
{
	if (n > LOC_MAX_BINDINGS)
		n = LOC_MAX_BINDINGS;
	size_t need = n * sizeof(struct target);
	for (unsigned i = 0; i < n; i++)
		need += strnlen(b[i].contact, LOC_CONTACT_MAX - 1) +
			strnlen(b[i].path, LOC_PATH_MAX - 1) + 2;
	c->tg = malloc(need);
	if (!c->tg)
		return ENOMEM;
	char *s = (char *)(c->tg + n);
	for (unsigned i = 0; i < n; i++) {
		struct target t = {.q = q_of(&b[i])};
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
	struct call *c = arg;
	if (c->cancelled) {
		call_end(c);
		return;
	}
	if (err || (n && targets(c, b, n))) {
		log_info("event=lookup-failed err=%d", err);
		respond(c->st, 500, "Location Service Failed");
		call_end(c);
		return;
	}
	if (n == 0) {
		/* users are provisioned as USER@DOMAIN of their AOR, past "sip:" */
		if (loc_user_get(c->p->store, c->loop, c->aor + 4, on_user, c)) {
			respond(c->st, 480, NULL);
			call_end(c);
		}
		return;
	}
	settle(c);
}

/* Forward c as its flags say: to the Request-URI or the next Route, or to its user's bindings. */
static void proceed(struct call *c)
{
	if (!(c->flags & PRX_LOOKUP)) {
		c->ntg = 1;
		settle(c);
		return;
	}
	const struct msg_uri *ru = msg_ruri(&c->m);
	if (!ru || reg_aor(c->buf, ru, c->aor, sizeof(c->aor)) < 5) {
		respond(c->st, 404, NULL);
		call_end(c);
		return;
	}
	if (loc_lookup(c->p->store, c->loop, c->aor, on_lookup, c)) {
		respond(c->st, 500, NULL);
		call_end(c);
	}
}

/* 407 with a fresh challenge (§22.3), stale=true for an expired nonce; the call ends. */
static void challenge(struct call *c, bool stale)
{
	char hdrs[1024];
	if (auth_challenge(c->p->auth, c->realm, true, stale, hdrs, sizeof(hdrs)) < 0)
		respond(c->st, 500, NULL);
	else if (tsx_respond(c->st, 407, NULL, hdrs, NULL, 0))
		log_debug("event=respond-failed code=407");
	call_end(c);
}

/* The From user's HA1 digests arrived (or ENOENT): verify, then forward or challenge. */
static void on_auth_user(int err, const struct loc_user *u, void *arg)
{
	struct call *c = arg;
	if (c->cancelled) {
		call_end(c);
		return;
	}
	if (err && err != ENOENT) {
		log_warn_rl("event=store-error op=user err=%d", err);
		respond(c->st, 500, "User Store Failed");
		call_end(c);
		return;
	}
	enum auth_result r = auth_check(c->p->auth, &c->m, c->realm, true, u ? u->ha1_md5 : NULL,
					u ? u->ha1_sha256 : NULL);
	if (r != AUTH_OK) {
		challenge(c, r == AUTH_STALE);
		return;
	}
	proceed(c);
}

/*
 * §22.3: the credentials of the From user (USER@HOST), checked against the
 * store before anything is forwarded.  Answers and ends the call itself.
 */
static void authenticate(struct call *c)
{
	const struct msg_nameaddr *from = msg_from(&c->m);
	const struct msg_uri *fu = from ? &from->uri : NULL;
	char user[LOC_AOR_MAX], key[LOC_AOR_MAX];
	if (!fu || !fu->has_user || !fu->host.len ||
	    fu->user.len + fu->host.len + 2 > sizeof(key)) {
		respond(c->st, 403, NULL);
		call_end(c);
		return;
	}
	const char *host = c->buf + fu->host.off;
	if (c->p->realm)
		snprintf(c->realm, sizeof(c->realm), "%s", c->p->realm);
	else
		snprintf(c->realm, sizeof(c->realm), "%.*s", (int)fu->host.len, host);
	if (auth_credentials(&c->m, c->realm, true, user, sizeof(user)) != AUTH_OK) {
		challenge(c, false);
		return;
	}
	if (strlen(user) != fu->user.len || memcmp(user, c->buf + fu->user.off, fu->user.len)) {
		respond(c->st, 403, "Credentials Of Another User");
		call_end(c);
		return;
	}
	/* users are provisioned as USER@DOMAIN (ringletd user add), the domain in lower case */
	int w = snprintf(key, sizeof(key), "%s@", user);
	for (uint32_t i = 0; i < fu->host.len; i++) {
		char ch = host[i];
		key[w++] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
	}
	key[w] = 0;
	if (loc_user_get(c->p->store, c->loop, key, on_auth_user, c)) {
		respond(c->st, 500, NULL);
		call_end(c);
	}
}

void prx_request_hop(struct prx *p, struct tsx *t, struct tp_rx *rx, unsigned flags,
		     const char *hop)
{
	struct msg *m = &rx->msg;
	struct tsx_layer *l = tsx_layer_of(t);
	struct call *c = l ? mem_alloc(sizeof(*c) + m->len, NULL) : NULL;
	if (!c) {
		respond(t, 500, NULL);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->p = p;
	pthread_mutex_lock(&p->mu);
	list_push_back(&p->calls, &c->node);
	pthread_mutex_unlock(&p->mu);
	c->st = mem_ref(t);
	c->loop = tsx_layer_loop(l);
	c->flags = hop ? flags & ~PRX_LOOKUP : flags;
	c->proto = rx->proto;
	c->local = rx->local;
	memcpy(c->buf, m->buf, m->len);
	c->m = *m;
	c->m.buf = c->buf;
	if (hop)
		snprintf(c->hop, sizeof(c->hop), "%s", hop);
	if (tp_via_rewrite(rx, c->via, sizeof(c->via)) < 0)
		c->via[0] = 0;
	if (m->method == MSG_METHOD_INVITE)
		tsx_set_user(t, c); /* for prx_cancel; 100 within 200 ms: the layer's timer */
	if ((flags & PRX_AUTH) && p->auth && m->method != MSG_METHOD_ACK &&
	    m->method != MSG_METHOD_CANCEL)
		authenticate(c); /* §22.1: ACK and CANCEL cannot be resubmitted */
	else
		proceed(c);
}

void prx_request(struct prx *p, struct tsx *t, struct tp_rx *rx, unsigned flags)
{
	prx_request_hop(p, t, rx, flags, NULL);
}

int prx_cancel(struct tsx *inv)
{
	struct call *c = inv ? tsx_user(inv) : NULL;
	if (!c)
		return ENOENT;
	if (c->nbr) {
		c->cancelled = true; /* §16.10: every pending branch, no new ones */
		cancel_others(c, NULL);
	} else if (!c->cancelled) {
		c->cancelled = true; /* the lookup runs: its result is dropped */
		respond(c->st, 487, NULL);
	}
	return 0;
}

void prx_ack(struct tsx_layer *l, struct tp_rx *rx, unsigned flags)
{
	struct msg *m = &rx->msg;
	struct tp *tp = tsx_layer_tp(l);
	bool pop = flags & PRX_POP_ROUTE;
	struct tp_dest d;
	if (request_dest(m, pop, NULL, NULL, NULL, &d))
		return;
	const struct tp_addr *self = tp->ops->local(tp, (enum tp_proto)d.proto);
	if (!self)
		return;
	char a[64], br[TSX_BRANCH_MAX], via[160], mf[8];
	tp_addr_str(self, a, sizeof(a));
	tsx_branch(l, br, sizeof(br));
	int w = snprintf(via, sizeof(via), "Via: SIP/2.0/%s %s;branch=%s;rport\r\n",
			 tp_proto_name((enum tp_proto)d.proto), a, br);
	struct prx_edits es = {.n = 0};
	int err = w > 0 && (size_t)w < sizeof(via) ? 0 : EMSGSIZE;
	err |= prx_edit_add(&es, prx_headers_start(m), 0, via, (size_t)w);
	err |= edit_max_forwards(&es, m, mf, sizeof(mf));
	const struct msg_hdr *top = msg_hdr_find(m, MSG_HDR_ROUTE);
	if (pop && top)
		err |= prx_edit_remove(&es, m, top, top);
	size_t cap = m->len + 256;
	char *out = err ? NULL : malloc(cap);
	long n = out ? prx_edit_apply(m->buf, m->len, &es, out, cap) : -1;
	if (n > 0 && tp_send(tp, &d, out, (size_t)n))
		log_debug("event=ack-send-failed");
	free(out);
}

/* Where a response goes after our Via: the next Via's received/rport or sent-by (§18.2.2). */
static int via_dest(const char *buf, const struct msg_via *v, struct tp_dest *d)
{
	memset(d, 0, sizeof(*d));
	d->proto = tp_proto_from_token(buf + v->transport.off, v->transport.len);
	if (!d->proto)
		return EINVAL;
	uint16_t port = v->rport > 0 ? (uint16_t)v->rport : v->port;
	if (!port)
		port = d->proto == TP_TLS ? 5061 : 5060;
	struct span host = v->received.len ? v->received : v->host;
	return tp_addr_set(&d->addr, buf + host.off, host.len, port);
}

void prx_response(struct tsx_layer *l, struct tp_rx *rx)
{
	struct msg *m = &rx->msg;
	struct tp *tp = tsx_layer_tp(l);
	const struct msg_via *v = msg_top_via(m);
	const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_VIA);
	if (!v || !h)
		return;
	enum tp_proto proto = tp_proto_from_token(m->buf + v->transport.off, v->transport.len);
	const struct tp_addr *self = proto ? tp->ops->local(tp, proto) : NULL;
	struct tp_addr a;
	if (!self || tp_addr_set(&a, m->buf + v->host.off, v->host.len, v->port ? v->port : 5060) ||
	    !tp_addr_equal(&a, self))
		return; /* not our Via: never reflect a response elsewhere */
	const struct msg_hdr *h2 = msg_hdr_next(m, h);
	struct msg_via v2;
	struct tp_dest d;
	if (!h2 || msg_via_parse(m->buf, h2->value, &v2) || via_dest(m->buf, &v2, &d))
		return;
	struct prx_edits es = {.n = 0};
	char *out = malloc(m->len);
	long n = out && prx_edit_remove(&es, m, h, h) == 0
		     ? prx_edit_apply(m->buf, m->len, &es, out, m->len)
		     : -1;
	if (n > 0 && tp_send(tp, &d, out, (size_t)n))
		log_debug("event=response-send-failed");
	free(out);
}
