/*
 * dns_resolve.c - one RFC 3263 §4 resolve as a small state machine over
 * c-ares answers: NAPTR (§4.1) -> SRV (§4.2, RFC 2782) -> A/AAAA (§4.2),
 * each step's queries sent together, the step ending when all have
 * answered or its deadline passes.  The selection itself is in
 * dns_select.c.
 *
 * Lifetime: a query holds one reference for its owner (dropped when the
 * callback has returned, or at dns_cancel / dns_free) and one per c-ares
 * query in flight (dropped in on_answer).  c-ares calls on_answer for every
 * query it accepted -- with ARES_EDESTRUCTION from ares_destroy at the
 * latest -- so a cancelled query is freed once c-ares is done with it and
 * an answer can never touch freed memory.  Answers of a step already ended
 * (deadline, cancel) are told apart by the step's generation number.
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <string.h>

#include "ringlet/mem.h"

#include "dns/dns_int.h"

enum { Q_RUN = 0, Q_DONE, Q_CANCEL };
enum { STG_NONE = 0, STG_NAPTR, STG_SRV, STG_ADDR, STG_END };

/* The argument of one c-ares query: which resolve, which step, which slot. */
struct sub {
	struct dns_query *q;
	unsigned gen;
	uint8_t slot;
	uint8_t type; /* ns_t_naptr, ns_t_srv, ns_t_a, ns_t_aaaa */
};

struct dns_query {
	struct dns *d; /* valid while state == Q_RUN */
	struct dns_query *next, **pprev;
	dns_fn *fn;
	void *arg;
	int state, stage, err;
	unsigned gen;	/* bumped when a step ends: later answers of it are ignored */
	unsigned left;	/* answers the step still waits for (+1 while sending) */
	unsigned nsent; /* <= DNS_MAX_QUERIES */
	bool timed_out, bad, nomem, dot;
	char host[DNS_MAX_NAME + 1];
	uint16_t port;
	int proto; /* given by the URI, or -1 */
	bool sips;
	struct dns_srvname names[DNS_MAX_SRVNAMES];
	unsigned nnames;
	struct ares_srv_reply *srv[DNS_MAX_SRVNAMES];
	struct dns_host hosts[DNS_MAX_TARGETS];
	unsigned nhosts;
	struct dns_target t[DNS_MAX_TARGETS];
	unsigned nt;
	struct sub subs[DNS_MAX_QUERIES];
	struct loop_timer deliver_tmr, stage_tmr;
};

static void stage_done(struct dns_query *q);

static void query_destroy(void *p)
{
	struct dns_query *q = p;

	loop_timer_cancel(&q->deliver_tmr);
	loop_timer_cancel(&q->stage_tmr);
	for (unsigned i = 0; i < DNS_MAX_SRVNAMES; i++)
		ares_free_data(q->srv[i]);
}

static void unlink_query(struct dns_query *q)
{
	if (q->next)
		q->next->pprev = q->pprev;
	*q->pprev = q->next;
	q->next = NULL;
	q->pprev = NULL;
}

static void on_deliver(void *arg)
{
	struct dns_query *q = arg;

	unlink_query(q);
	q->state = Q_DONE;
	q->d->stats.delivered++;
	/* the owner's reference keeps q alive through fn, which may cancel or free anything */
	q->fn(q->err, q->err ? NULL : q->t, q->err ? 0 : q->nt, q->arg);
	mem_deref(q);
}

/* End the resolve: the callback comes from a timer, never from the caller's stack. */
static void finish(struct dns_query *q, int err)
{
	q->err = err;
	q->stage = STG_END;
	q->gen++;
	loop_timer_cancel(&q->stage_tmr);
	if (err == ETIMEDOUT)
		q->d->stats.timeouts++;
	loop_timer_start(q->d->lp, &q->deliver_tmr, 0, on_deliver, q);
}

static void on_stage_timeout(void *arg)
{
	struct dns_query *q = arg;

	q->gen++; /* what has not answered by now counts as lost */
	q->timed_out = true;
	q->left = 0;
	stage_done(q);
	dns_kick(q->d);
}

static void stage_begin(struct dns_query *q, int stage)
{
	q->stage = stage;
	q->gen++;
	q->left = 1; /* held while the step's queries are being sent */
	q->timed_out = q->bad = q->nomem = false;
	loop_timer_start(q->d->lp, &q->stage_tmr, q->d->stage_ms, on_stage_timeout, q);
}

/* All of the step's queries are out (some may have been answered already). */
static void stage_sent(struct dns_query *q)
{
	if (--q->left == 0)
		stage_done(q);
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen);

/* Send one query of the current step, within the resolve's budget. */
static bool issue(struct dns_query *q, const char *name, uint8_t type, unsigned slot)
{
	struct sub *s;

	if (q->nsent >= DNS_MAX_QUERIES)
		return false;
	s = &q->subs[q->nsent++];
	*s = (struct sub){.q = q, .gen = q->gen, .slot = (uint8_t)slot, .type = type};
	q->left++;
	mem_ref(q);
	q->d->stats.queries++;
	ares_query(q->d->ch, name, ns_c_in, type, on_answer, s); /* may answer at once */
	return true;
}

/* --- answers --- */

static void got_naptr(struct dns_query *q, const unsigned char *abuf, int alen)
{
	struct ares_naptr_reply *list = NULL;
	struct dns_naptr_rr rr[DNS_MAX_RR];
	unsigned n;

	if (ares_parse_naptr_reply(abuf, alen, &list) != ARES_SUCCESS) {
		q->bad = true;
		return;
	}
	n = dns_naptr_rrs(list, rr, DNS_MAX_RR);
	q->nnames = dns_naptr_select(rr, n, q->sips, q->names, DNS_MAX_SRVNAMES);
	ares_free_data(list);
}

static void got_srv(struct dns_query *q, unsigned slot, const unsigned char *abuf, int alen)
{
	struct ares_srv_reply *list = NULL;

	if (ares_parse_srv_reply(abuf, alen, &list) != ARES_SUCCESS) {
		q->bad = true;
		return;
	}
	ares_free_data(q->srv[slot]);
	q->srv[slot] = list;
}

/* A or AAAA answer for hosts[slot]: every host of that name gets the addresses. */
static void got_addr(struct dns_query *q, unsigned slot, bool v6, const unsigned char *abuf,
		     int alen)
{
	struct ares_addrttl a4[DNS_MAX_ADDRS];
	struct ares_addr6ttl a6[DNS_MAX_ADDRS];
	int n = DNS_MAX_ADDRS, rc;

	rc = v6 ? ares_parse_aaaa_reply(abuf, alen, NULL, a6, &n)
		: ares_parse_a_reply(abuf, alen, NULL, a4, &n);
	if (rc == ARES_ENODATA)
		return;
	if (rc != ARES_SUCCESS || n < 0 || n > DNS_MAX_ADDRS) {
		q->bad = true;
		return;
	}
	for (unsigned j = slot; j < q->nhosts; j++) {
		struct dns_host *h = &q->hosts[j];

		if (j != slot && !dns_name_eq(h->name, q->hosts[slot].name))
			continue;
		for (int i = 0; i < n; i++) {
			if (v6)
				memcpy(&h->a6[i], &a6[i].ip6addr, sizeof(h->a6[i]));
			else
				h->a4[i] = a4[i].ipaddr;
		}
		if (v6)
			h->n6 = (uint8_t)n;
		else
			h->n4 = (uint8_t)n;
	}
}

static void answer(struct dns_query *q, const struct sub *s, int status, const unsigned char *abuf,
		   int alen)
{
	switch (status) {
	case ARES_SUCCESS:
		break;
	case ARES_ENODATA:
	case ARES_ENOTFOUND:
		return; /* no such records: RFC 3263's fallback goes on */
	case ARES_ETIMEOUT:
	case ARES_ECONNREFUSED:
		q->timed_out = true;
		return;
	case ARES_ENOMEM:
		q->nomem = true;
		return;
	default: /* SERVFAIL, REFUSED, FORMERR, a bad name ... */
		q->bad = true;
		return;
	}
	if (s->type == ns_t_naptr)
		got_naptr(q, abuf, alen);
	else if (s->type == ns_t_srv)
		got_srv(q, s->slot, abuf, alen);
	else
		got_addr(q, s->slot, s->type == ns_t_aaaa, abuf, alen);
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct sub *s = arg;
	struct dns_query *q = s->q;

	(void)timeouts;
	if (q->state == Q_RUN && s->gen == q->gen) {
		answer(q, s, status, abuf, alen);
		if (--q->left == 0)
			stage_done(q);
	}
	mem_deref(q); /* the reference of this c-ares query */
}

/* --- steps --- */

static void naptr_stage(struct dns_query *q)
{
	stage_begin(q, STG_NAPTR);
	issue(q, q->host, ns_t_naptr, 0);
	stage_sent(q);
}

static void addr_stage(struct dns_query *q);

/* RFC 3263 §4.2: no SRV records -- the host itself, at the transport's default port. */
static void host_fallback(struct dns_query *q)
{
	struct dns_req r = {.host = q->host, .proto = q->proto, .sips = q->sips};
	struct dns_host *h = &q->hosts[0];

	memset(h, 0, sizeof(*h));
	memcpy(h->name, q->host, sizeof(h->name));
	h->proto = (uint8_t)dns_req_proto(&r);
	h->port = q->port ? q->port : dns_default_port(h->proto);
	q->nhosts = 1;
	addr_stage(q);
}

static void srv_stage(struct dns_query *q)
{
	if (q->nnames == 0) {
		host_fallback(q);
		return;
	}
	stage_begin(q, STG_SRV);
	for (unsigned i = 0; i < q->nnames; i++)
		issue(q, q->names[i].name, ns_t_srv, i);
	stage_sent(q);
}

/* An SRV target that needs no query: an IP literal or "localhost" (RFC 6761 §6.3). */
static bool addr_known(struct dns_host *h)
{
	struct tp_addr a;
	int kind = dns_host_classify(h->name, &a);

	if (kind == DNS_HOST_LOCALHOST) {
		h->a4[0].s_addr = htonl(INADDR_LOOPBACK);
		h->a6[0] = in6addr_loopback;
		h->n4 = h->n6 = 1;
	} else if (kind == DNS_HOST_NUMERIC && a.u.sa.sa_family == AF_INET) {
		h->a4[0] = a.u.in.sin_addr;
		h->n4 = 1;
	} else if (kind == DNS_HOST_NUMERIC) {
		h->a6[0] = a.u.in6.sin6_addr;
		h->n6 = 1;
	}
	return kind != DNS_HOST_NAME;
}

static void addr_stage(struct dns_query *q)
{
	stage_begin(q, STG_ADDR);
	for (unsigned i = 0; i < q->nhosts; i++) {
		bool earlier = false;

		if (addr_known(&q->hosts[i]))
			continue;
		for (unsigned j = 0; j < i && !earlier; j++)
			earlier = dns_name_eq(q->hosts[j].name, q->hosts[i].name);
		if (earlier || q->nsent + 2 > DNS_MAX_QUERIES)
			continue; /* answered for the earlier one; or over budget */
		issue(q, q->hosts[i].name, ns_t_a, i);
		issue(q, q->hosts[i].name, ns_t_aaaa, i);
	}
	stage_sent(q);
}

/* The SRV answers, slot by slot (NAPTR or our order), as hosts in RFC 2782 order. */
static void srv_collect(struct dns_query *q)
{
	struct dns_srv_rr rr[DNS_MAX_RR];

	q->nhosts = 0;
	for (unsigned i = 0; i < q->nnames; i++) {
		unsigned n = dns_srv_rrs(q->srv[i], rr, DNS_MAX_RR), k;

		k = dns_srv_order(rr, n, dns_rand, q->d);
		if (n > 0 && k == 0)
			q->dot = true;
		q->nhosts =
		    dns_srv_hosts(rr, k, q->names[i].proto, q->hosts, q->nhosts, DNS_MAX_TARGETS);
		ares_free_data(q->srv[i]);
		q->srv[i] = NULL;
	}
}

static void addr_done(struct dns_query *q)
{
	q->nt = dns_targets_build(q->hosts, q->nhosts, q->t, DNS_MAX_TARGETS);
	if (q->nt > 0)
		finish(q, 0);
	else if (q->timed_out)
		finish(q, ETIMEDOUT);
	else if (q->nomem)
		finish(q, ENOMEM);
	else
		finish(q, q->bad ? EPROTO : ENOENT);
}

static void stage_done(struct dns_query *q)
{
	loop_timer_cancel(&q->stage_tmr);
	switch (q->stage) {
	case STG_NAPTR:
		if (q->timed_out) {
			finish(q, ETIMEDOUT);
			return;
		}
		if (q->nnames == 0) /* §4.1: no usable NAPTR */
			q->nnames =
			    dns_srv_fallback(q->host, q->sips, -1, q->names, DNS_MAX_SRVNAMES);
		srv_stage(q);
		return;
	case STG_SRV:
		srv_collect(q);
		if (q->nhosts > 0)
			addr_stage(q);
		else if (q->timed_out)
			finish(q, ETIMEDOUT);
		else if (q->dot)
			finish(q, ENOENT); /* RFC 2782: target "." -- not offered here */
		else
			host_fallback(q);
		return;
	case STG_ADDR:
		addr_done(q);
		return;
	default:
		return;
	}
}

/* --- the API --- */

/* A numeric host or localhost: the answer is known (RFC 3263 §4.1, §4.2; RFC 6761 §6.3). */
static void known(struct dns_query *q, int kind, const struct tp_addr *a)
{
	struct dns_req r = {.host = q->host, .proto = q->proto, .sips = q->sips};
	struct dns_host *h = &q->hosts[0];

	memset(h, 0, sizeof(*h));
	memcpy(h->name, q->host, sizeof(h->name));
	h->proto = (uint8_t)dns_req_proto(&r);
	h->port = q->port ? q->port : dns_default_port(h->proto);
	q->nhosts = 1;
	if (kind == DNS_HOST_NUMERIC) {
		if (a->u.sa.sa_family == AF_INET)
			h->a4[h->n4++] = a->u.in.sin_addr;
		else
			h->a6[h->n6++] = a->u.in6.sin6_addr;
	} else {
		addr_known(h);
	}
	q->nt = dns_targets_build(q->hosts, 1, q->t, DNS_MAX_TARGETS);
	finish(q, 0);
}

static void start(struct dns_query *q, int kind, const struct tp_addr *a)
{
	if (kind != DNS_HOST_NAME)
		known(q, kind, a);
	else if (q->d->mode == DNS_MODE_OFF)
		finish(q, EHOSTUNREACH);
	else if (q->port) /* §4.2: A/AAAA, at that port */
		host_fallback(q);
	else if (q->proto >= 0) { /* §4.1: that transport MUST be used; §4.2 its SRV */
		q->nnames =
		    dns_srv_fallback(q->host, q->sips, q->proto, q->names, DNS_MAX_SRVNAMES);
		srv_stage(q);
	} else {
		naptr_stage(q);
	}
}

int dns_resolve(struct dns *d, const struct dns_req *req, dns_fn *fn, void *arg,
		struct dns_query **qp)
{
	struct dns_query *q;
	struct tp_addr a;
	int kind;

	if (!d || !req || !req->host || !fn)
		return EINVAL;
	kind = dns_host_classify(req->host, &a);
	if (kind < 0)
		return EINVAL;
	q = mem_alloc(sizeof(*q), query_destroy);
	if (!q)
		return ENOMEM;
	q->d = d;
	q->fn = fn;
	q->arg = arg;
	memcpy(q->host, req->host, strlen(req->host) + 1);
	q->port = req->port;
	q->proto = (req->proto >= TP_UDP && req->proto <= TP_WSS) ? req->proto : -1;
	q->sips = req->sips;
	q->next = d->live;
	if (q->next)
		q->next->pprev = &q->next;
	q->pprev = &d->live;
	d->live = q;
	d->stats.resolves++;
	start(q, kind, &a);
	dns_kick(d);
	if (qp)
		*qp = q;
	return 0;
}

void dns_cancel(struct dns_query *q)
{
	if (!q || q->state != Q_RUN)
		return;
	unlink_query(q);
	q->state = Q_CANCEL;
	loop_timer_cancel(&q->deliver_tmr);
	loop_timer_cancel(&q->stage_tmr);
	mem_deref(q); /* the owner's reference; c-ares' answers hold theirs */
}
