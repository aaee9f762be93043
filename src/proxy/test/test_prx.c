/*
 * test_prx.c - the proxy (prx.h) on the simulated network of the
 * transaction tests: caller A and callee B are raw peers, P runs a
 * transaction layer with the proxy as its user and a memory store.  The
 * virtual clock lets Timer C (3 min, RFC 3261 §16.8) run in microseconds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../tsx/test/sim.c"
#include "ringlet/loc.h"
#include "ringlet/mem.h"
#include "ringlet/prx.h"

struct fx {
	struct loop *loop;
	struct sim *sim;
	struct sim_node *a, *p, *b, *b2, *b3;
	struct tsx_layer *l;
	struct loc_store *store;
	struct prx *prx;
	struct tsx_tu tu;
	bool updated;
	unsigned nbound; /* bindings after the last update */
	unsigned flags;	 /* of prx_request; 0: PRX_LOOKUP */
	const char *hop; /* prx_request_hop's static route, NULL: prx_request */
	struct auth *auth;
};

/* Let the store's thread answer (a real millisecond). */
static void nap(void)
{
	struct timespec ts = {0, 1000000};
	nanosleep(&ts, NULL);
}

static void on_req(struct tsx *t, struct tp_rx *rx, void *arg)
{
	struct fx *f = arg;
	if (rx->msg.method == MSG_METHOD_CANCEL) {
		struct tsx *inv = tsx_cancel_target(t);
		tsx_respond(t, inv ? 200 : 481, NULL, NULL, NULL, 0);
		if (inv && prx_cancel(inv) != 0)
			tsx_respond(inv, 487, NULL, NULL, NULL, 0);
		return;
	}
	if (f->hop)
		prx_request_hop(f->prx, t, rx, f->flags, f->hop);
	else
		prx_request(f->prx, t, rx, f->flags ? f->flags : PRX_LOOKUP);
}

static void on_stray_resp(struct tsx_layer *l, struct tp_rx *rx, void *arg)
{
	(void)arg;
	prx_response(l, rx);
}

static void on_update(int err, const struct loc_binding *b, unsigned n, void *arg)
{
	struct fx *f = arg;
	(void)b;
	assert_int_equal(err, 0);
	f->nbound = n;
	f->updated = true;
}

static int setup(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	assert_int_equal(loop_alloc(&f.loop, LOOP_CLOCK_VIRTUAL), 0);
	assert_int_equal(sim_alloc(&f.sim, f.loop, 7), 0);
	f.a = sim_node_add(f.sim, "10.0.0.2", 5060, TP_UDP);
	f.p = sim_node_add(f.sim, "10.0.0.1", 5060, TP_UDP);
	f.b = sim_node_add(f.sim, "10.0.0.3", 5060, TP_UDP);
	f.b2 = sim_node_add(f.sim, "10.0.0.4", 5060, TP_UDP);
	f.b3 = sim_node_add(f.sim, "10.0.0.5", 5060, TP_UDP);
	assert_int_equal(loc_open(&f.store, "memory:", NULL, 0), 0);
	assert_int_equal(auth_alloc(&f.auth, NULL, 300), 0);
	struct prx_conf pc = {.store = f.store, .auth = f.auth}; /* used with PRX_AUTH only */
	assert_int_equal(prx_alloc(&f.prx, &pc), 0);
	f.tu = (struct tsx_tu){.request = on_req, .stray_response = on_stray_resp, .arg = &f};
	assert_int_equal(tsx_layer_alloc(&f.l, NULL, 0, f.loop, &f.p->tp, NULL, &f.tu), 0);
	struct loc_change ch;
	memset(&ch, 0, sizeof(ch));
	strcpy(ch.b.contact, "sip:bob@10.0.0.3:5060");
	ch.b.q = -1;
	ch.b.expires = (int64_t)time(NULL) + 3600;
	assert_int_equal(
	    loc_update(f.store, f.loop, "sip:bob@10.0.0.1", &ch, 1, false, 1, "c1", on_update, &f),
	    0);
	for (int i = 0; i < 200 && !f.updated; i++) {
		sim_run(f.sim, 1);
		if (!f.updated)
			nap();
	}
	assert_true(f.updated);
	assert_int_equal(f.nbound, 1);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	/* ringletd's order: layers and loops first, then the proxy (calls in flight go) */
	tsx_layer_free(f->l);
	sim_free(f->sim);
	loop_free(f->loop);
	prx_free(f->prx);
	auth_free(f->auth);
	loc_close(f->store);
	return 0;
}

/* Run until the store answered (it may complete on another thread) and the network is quiet. */
static void run(struct fx *f, loop_ms ms)
{
	for (int i = 0; i < 20; i++) {
		sim_run(f->sim, ms / 20 + 1);
		nap();
	}
}

static void invite(struct fx *f, const char *user)
{
	char req[512];
	snprintf(req, sizeof(req),
		 "INVITE sip:%s@10.0.0.1 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa1\r\n"
		 "Max-Forwards: 10\r\n"
		 "From: <sip:a@10.0.0.2>;tag=fa\r\n"
		 "To: <sip:%s@10.0.0.1>\r\n"
		 "Call-ID: c-%s\r\n"
		 "CSeq: 1 INVITE\r\n"
		 "Content-Length: 0\r\n\r\n",
		 user, user, user);
	assert_int_equal(sim_send(f->a, f->p, req), 0);
}

/* A response of node from to request req (Via lines and dialog headers copied, a To tag added). */
static void reply_from(struct fx *f, struct sim_node *from, const char *req, unsigned code,
		       const char *cseq)
{
	char out[2048];
	size_t n = (size_t)snprintf(out, sizeof(out), "SIP/2.0 %u X\r\n", code);
	for (const char *l = strstr(req, "\r\n") + 2; l && strncmp(l, "\r\n", 2);) {
		const char *e = strstr(l, "\r\n");
		bool keep =
		    !strncmp(l, "Via:", 4) || !strncmp(l, "From:", 5) || !strncmp(l, "Call-ID:", 8);
		if (keep)
			n +=
			    (size_t)snprintf(out + n, sizeof(out) - n, "%.*s\r\n", (int)(e - l), l);
		l = e + 2;
	}
	snprintf(out + n, sizeof(out) - n,
		 "To: <sip:bob@10.0.0.1>;tag=t%d\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n",
		 from->id, cseq);
	assert_int_equal(sim_send(from, f->p, out), 0);
}

static void reply(struct fx *f, const char *req, unsigned code, const char *cseq)
{
	reply_from(f, f->b, req, code, cseq);
}

static void test_forward_answer(void **state)
{
	struct fx *f = *state;
	invite(f, "bob");
	run(f, 100);
	const struct sim_rec *r = sim_last(f->sim, f->p->id, "INVITE sip:bob@10.0.0.3:5060 ");
	assert_non_null(r);
	assert_int_equal(r->to, f->b->id);
	assert_non_null(strstr(r->data, "\r\nMax-Forwards: 9\r\n"));
	assert_non_null(strstr(r->data, "\r\nRecord-Route: <sip:10.0.0.1:5060;lr>\r\n"));
	assert_non_null(strstr(r->data, "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK"));
	char req[2048];
	snprintf(req, sizeof(req), "%s", r->data);
	reply(f, req, 180, "1 INVITE");
	run(f, 100);
	r = sim_last(f->sim, f->p->id, "SIP/2.0 180");
	assert_non_null(r);
	assert_int_equal(r->to, f->a->id);
	assert_null(strstr(r->data, "10.0.0.1:5060;branch")); /* our Via is gone */
	reply(f, req, 200, "1 INVITE");
	run(f, 100);
	reply(f, req, 200, "1 INVITE"); /* a retransmission: stray, forwarded statelessly */
	run(f, 100);
	assert_int_equal(sim_count(f->sim, f->p->id, "SIP/2.0 200", false), 2);
	assert_int_equal(sim_count(f->sim, f->p->id, "SIP/2.0 100", false), 1);
}

static void test_timer_c(void **state)
{
	struct fx *f = *state;
	invite(f, "bob");
	run(f, 100);
	const struct sim_rec *r = sim_last(f->sim, f->p->id, "INVITE sip:bob@");
	assert_non_null(r);
	char req[2048];
	snprintf(req, sizeof(req), "%s", r->data);
	reply(f, req, 180, "1 INVITE");
	run(f, 1000);
	assert_int_equal(sim_count(f->sim, f->p->id, "SIP/2.0 408", false), 0);
	sim_run(f->sim, 180000);
	r = sim_last(f->sim, f->p->id, "SIP/2.0 408");
	assert_non_null(r);
	assert_int_equal(r->to, f->a->id);
	r = sim_last(f->sim, f->p->id, "CANCEL sip:bob@10.0.0.3:5060 ");
	assert_non_null(r);
	assert_int_equal(r->to, f->b->id);
	sim_run(f->sim, 64000);
}

static void test_cancel(void **state)
{
	struct fx *f = *state;
	invite(f, "bob");
	run(f, 100);
	const struct sim_rec *r = sim_last(f->sim, f->p->id, "INVITE sip:bob@");
	assert_non_null(r);
	char req[2048];
	snprintf(req, sizeof(req), "%s", r->data);
	reply(f, req, 180, "1 INVITE");
	run(f, 100);
	assert_int_equal(sim_send(f->a, f->p,
				  "CANCEL sip:bob@10.0.0.1 SIP/2.0\r\n"
				  "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa1\r\n"
				  "Max-Forwards: 70\r\n"
				  "From: <sip:a@10.0.0.2>;tag=fa\r\n"
				  "To: <sip:bob@10.0.0.1>\r\n"
				  "Call-ID: c-bob\r\n"
				  "CSeq: 1 CANCEL\r\n"
				  "Content-Length: 0\r\n\r\n"),
			 0);
	run(f, 100);
	r = sim_last(f->sim, f->p->id, "CANCEL sip:bob@10.0.0.3:5060 ");
	assert_non_null(r);
	assert_null(sim_last(f->sim, f->p->id, "SIP/2.0 487")); /* the callee's 487, not ours */
	reply(f, req, 487, "1 INVITE");
	run(f, 100);
	r = sim_last(f->sim, f->p->id, "SIP/2.0 487");
	assert_non_null(r);
	assert_int_equal(r->to, f->a->id);
	assert_non_null(sim_last(f->sim, f->p->id, "ACK sip:bob@10.0.0.3:5060 "));
	sim_run(f->sim, 64000);
}

static void test_unknown_user(void **state)
{
	struct fx *f = *state;
	invite(f, "nobody");
	run(f, 100);
	const struct sim_rec *r = sim_last(f->sim, f->p->id, "SIP/2.0 404");
	assert_non_null(r);
	assert_int_equal(r->to, f->a->id);
	assert_int_equal(sim_count(f->sim, f->p->id, "INVITE", false), 0);
	sim_run(f->sim, 64000);
}

/* An in-dialog BYE from A through P; returns what P sent to B ("" if nothing). */
static const char *bye(struct fx *f, unsigned flags, const char *ruri, const char *route)
{
	static char got[2048];
	char req[1024];
	f->flags = flags;
	snprintf(req, sizeof(req),
		 "BYE %s SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKb1\r\n"
		 "Max-Forwards: 70\r\n"
		 "Route: %s\r\n"
		 "From: <sip:a@10.0.0.2>;tag=fa\r\n"
		 "To: <sip:bob@10.0.0.1>;tag=tb\r\n"
		 "Call-ID: c-bye\r\n"
		 "CSeq: 2 BYE\r\n"
		 "Content-Length: 0\r\n\r\n",
		 ruri, route);
	assert_int_equal(sim_send(f->a, f->p, req), 0);
	run(f, 100);
	const struct sim_rec *r = sim_last(f->sim, f->p->id, "BYE ");
	if (r)
		assert_int_equal(r->to, f->b->id);
	snprintf(got, sizeof(got), "%s", r ? r->data : "");
	sim_run(f->sim, 64000); /* Timer F: the proxy answers 408 and lets go */
	assert_non_null(sim_last(f->sim, f->p->id, "SIP/2.0 408"));
	return got;
}

static void test_loose_route(void **state)
{
	struct fx *f = *state;
	const char *r = bye(f, PRX_POP_ROUTE, "sip:bob@10.0.0.3:5060",
			    "<sip:10.0.0.1:5060;lr>, <sip:10.0.0.3:5060;lr;x>");
	assert_true(r[0]);
	assert_non_null(strstr(r, "BYE sip:bob@10.0.0.3:5060 SIP/2.0\r\n"));
	assert_non_null(strstr(r, "\r\nRoute: <sip:10.0.0.3:5060;lr;x>\r\n"));
	assert_null(strstr(r, "10.0.0.1:5060;lr"));
	assert_null(strstr(r, "Record-Route"));
}

static void test_strict_next(void **state)
{
	struct fx *f = *state;
	const char *r = bye(f, PRX_POP_ROUTE, "sip:bob@10.0.0.9:5060",
			    "<sip:10.0.0.1:5060;lr>, <sip:10.0.0.3:5060>, <sip:p@10.0.0.7>");
	assert_true(r[0]);
	/* §16.6 item 6: the strict router's URI is the Request-URI, the old one goes last */
	assert_non_null(strstr(r, "BYE sip:10.0.0.3:5060 SIP/2.0\r\n"));
	assert_non_null(strstr(r, "\r\nRoute: <sip:p@10.0.0.7>\r\n"
				  "Route: <sip:bob@10.0.0.9:5060>\r\n"));
	assert_null(strstr(r, "10.0.0.1:5060;lr"));
}

static void test_from_strict(void **state)
{
	struct fx *f = *state;
	const char *r = bye(f, PRX_FROM_STRICT, "sip:10.0.0.1:5060;lr", "<sip:bob@10.0.0.3:5060>");
	assert_true(r[0]);
	/* §16.4: the last Route entry is the real Request-URI */
	assert_non_null(strstr(r, "BYE sip:bob@10.0.0.3:5060 SIP/2.0\r\n"));
	assert_null(strstr(r, "\r\nRoute:"));
}

/* Stopping with a call ringing and a BYE unanswered leaks nothing (ASan, valgrind). */
static void test_stop_in_flight(void **state)
{
	struct fx *f = *state;
	invite(f, "bob");
	run(f, 100);
	const struct sim_rec *r = sim_last(f->sim, f->p->id, "INVITE sip:bob@");
	assert_non_null(r);
	char req[2048];
	snprintf(req, sizeof(req), "%s", r->data);
	reply(f, req, 180, "1 INVITE");
	f->flags = PRX_POP_ROUTE;
	assert_int_equal(sim_send(f->a, f->p,
				  "BYE sip:bob@10.0.0.3:5060 SIP/2.0\r\n"
				  "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKb9\r\n"
				  "Route: <sip:10.0.0.1:5060;lr>\r\n"
				  "From: <sip:a@10.0.0.2>;tag=fa\r\n"
				  "To: <sip:bob@10.0.0.1>;tag=tb\r\n"
				  "Call-ID: c-other\r\n"
				  "CSeq: 2 BYE\r\n"
				  "Content-Length: 0\r\n\r\n"),
			 0);
	run(f, 100);
	assert_non_null(sim_last(f->sim, f->p->id, "SIP/2.0 180"));
	assert_non_null(sim_last(f->sim, f->p->id, "BYE sip:bob@10.0.0.3:5060 "));
}

/* Bind aor to contacts[i] with q[i] (-1: no q), one REGISTER. */
static void bind_aor(struct fx *f, const char *aor, const char *const *contacts, const int *q,
		     unsigned n)
{
	struct loc_change ch[4];
	assert_true(n <= 4);
	memset(ch, 0, sizeof(ch));
	for (unsigned i = 0; i < n; i++) {
		snprintf(ch[i].b.contact, sizeof(ch[i].b.contact), "%s", contacts[i]);
		ch[i].b.q = (int16_t)q[i];
		ch[i].b.expires = (int64_t)time(NULL) + 3600;
	}
	f->updated = false;
	assert_int_equal(loc_update(f->store, f->loop, aor, ch, n, false, 1, aor, on_update, f), 0);
	for (int i = 0; i < 200 && !f->updated; i++) {
		sim_run(f->sim, 1);
		if (!f->updated)
			nap();
	}
	assert_true(f->updated);
	assert_int_equal(f->nbound, n);
}

/* An INVITE for user with its own branch and Call-ID. */
static void invite_br(struct fx *f, const char *user, const char *branch)
{
	char req[512];
	snprintf(req, sizeof(req),
		 "INVITE sip:%s@10.0.0.1 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=%s\r\n"
		 "Max-Forwards: 10\r\n"
		 "From: <sip:a@10.0.0.2>;tag=fa\r\n"
		 "To: <sip:%s@10.0.0.1>\r\n"
		 "Call-ID: c-%s\r\n"
		 "CSeq: 1 INVITE\r\n"
		 "Content-Length: 0\r\n\r\n",
		 user, branch, user, user);
	assert_int_equal(sim_send(f->a, f->p, req), 0);
}

/* The last message P sent to node `to` since log entry i0 starting with prefix, or NULL. */
static const struct sim_rec *sent_to(struct fx *f, unsigned i0, const struct sim_node *to,
				     const char *prefix)
{
	for (unsigned i = f->sim->nlog; i-- > i0;) {
		const struct sim_rec *r = &f->sim->log[i];
		if (r->from == f->p->id && r->to == to->id &&
		    !strncmp(r->line, prefix, strlen(prefix)))
			return r;
	}
	return NULL;
}

/* How many messages P sent to node `to` since log entry i0 starting with prefix. */
static unsigned count_to(struct fx *f, unsigned i0, const struct sim_node *to, const char *prefix)
{
	unsigned n = 0;
	for (unsigned i = i0; i < f->sim->nlog; i++) {
		const struct sim_rec *r = &f->sim->log[i];
		n += r->from == f->p->id && r->to == to->id &&
		     !strncmp(r->line, prefix, strlen(prefix));
	}
	return n;
}

/* The request P forwarded to node n since i0, copied into out ("" if none). */
static void got_req(struct fx *f, unsigned i0, const struct sim_node *n, const char *prefix,
		    char *out, size_t cap)
{
	const struct sim_rec *r = sent_to(f, i0, n, prefix);
	snprintf(out, cap, "%s", r ? r->data : "");
}

/*
 * Parallel forking (§16.6, §16.7 item 10): two bindings of equal q (one
 * without q: 1.0) both get the INVITE, the q=0.5 one does not; both 180s go
 * upstream; the first 200 goes upstream at once and CANCELs the other
 * branch, whose 487 is not forwarded; a second 2xx would still be.
 */
static void test_parallel_2xx_cancels(void **state)
{
	struct fx *f = *state;
	const char *ct[] = {"sip:x@10.0.0.3:5060", "sip:y@10.0.0.4:5060", "sip:z@10.0.0.5:5060"};
	const int q[] = {-1, 1000, 500};
	bind_aor(f, "sip:par@10.0.0.1", ct, q, 3);
	unsigned i0 = f->sim->nlog;
	invite(f, "par");
	run(f, 100);
	char r1[2048], r2[2048];
	got_req(f, i0, f->b, "INVITE sip:x@10.0.0.3:5060 ", r1, sizeof(r1));
	got_req(f, i0, f->b2, "INVITE sip:y@10.0.0.4:5060 ", r2, sizeof(r2));
	assert_true(r1[0] && r2[0]);
	assert_int_equal(count_to(f, i0, f->b3, "INVITE"), 0);
	reply_from(f, f->b, r1, 180, "1 INVITE");
	reply_from(f, f->b2, r2, 180, "1 INVITE");
	run(f, 100);
	assert_int_equal(count_to(f, i0, f->a, "SIP/2.0 180"), 2);
	reply_from(f, f->b2, r2, 200, "1 INVITE");
	run(f, 100);
	assert_int_equal(count_to(f, i0, f->a, "SIP/2.0 200"), 1);
	const struct sim_rec *cr = sent_to(f, i0, f->b, "CANCEL sip:x@10.0.0.3:5060 ");
	assert_non_null(cr);
	assert_int_equal(count_to(f, i0, f->b2, "CANCEL"), 0);
	char cancel[2048];
	snprintf(cancel, sizeof(cancel), "%s", cr->data);
	reply_from(f, f->b, cancel, 200, "1 CANCEL");
	reply_from(f, f->b, r1, 487, "1 INVITE");
	run(f, 100);
	assert_int_equal(count_to(f, i0, f->a, "SIP/2.0 487"), 0);
	assert_non_null(sent_to(f, i0, f->b, "ACK sip:x@10.0.0.3:5060 "));
	assert_int_equal(count_to(f, i0, f->b3, "INVITE"), 0); /* answered: no next q-group */
	sim_run(f->sim, 64000);
}

/* §16.7 item 9: a 2xx of another branch after the first one (it raced the CANCEL) goes up too. */
static void test_two_2xx(void **state)
{
	struct fx *f = *state;
	const char *ct[] = {"sip:x@10.0.0.3:5060", "sip:y@10.0.0.4:5060"};
	const int q[] = {800, 800};
	bind_aor(f, "sip:two@10.0.0.1", ct, q, 2);
	unsigned i0 = f->sim->nlog;
	invite(f, "two");
	run(f, 100);
	char r1[2048], r2[2048];
	got_req(f, i0, f->b, "INVITE sip:x@10.0.0.3:5060 ", r1, sizeof(r1));
	got_req(f, i0, f->b2, "INVITE sip:y@10.0.0.4:5060 ", r2, sizeof(r2));
	assert_true(r1[0] && r2[0]);
	reply_from(f, f->b, r1, 180, "1 INVITE");
	run(f, 100);
	reply_from(f, f->b2, r2, 200, "1 INVITE");
	reply_from(f, f->b, r1, 200, "1 INVITE");
	run(f, 100);
	const struct sim_rec *r = sent_to(f, i0, f->a, "SIP/2.0 200");
	assert_non_null(r);
	assert_int_equal(count_to(f, i0, f->a, "SIP/2.0 200"), 2);
	unsigned tags = 0;
	for (unsigned i = i0; i < f->sim->nlog; i++) {
		const struct sim_rec *x = &f->sim->log[i];
		const char *tag =
		    x->to == f->a->id && x->code == 200 ? strstr(x->data, ";tag=t") : NULL;
		if (tag)
			tags |= 1u << (tag[6] - '0');
	}
	assert_int_equal(tags, (1u << f->b->id) | (1u << f->b2->id));
	sim_run(f->sim, 64000);
}

/* Sequential forking (§16.6): the q=0.5 binding is tried once the q=1.0 one said 486. */
static void test_sequential(void **state)
{
	struct fx *f = *state;
	const char *ct[] = {"sip:lo@10.0.0.4:5060", "sip:hi@10.0.0.3:5060"};
	const int q[] = {500, 1000};
	bind_aor(f, "sip:seq@10.0.0.1", ct, q, 2);
	unsigned i0 = f->sim->nlog;
	invite(f, "seq");
	run(f, 100);
	char r1[2048], r2[2048];
	got_req(f, i0, f->b, "INVITE sip:hi@10.0.0.3:5060 ", r1, sizeof(r1));
	assert_true(r1[0]);
	assert_int_equal(count_to(f, i0, f->b2, "INVITE"), 0);
	reply_from(f, f->b, r1, 486, "1 INVITE");
	run(f, 100);
	assert_non_null(sent_to(f, i0, f->b, "ACK sip:hi@10.0.0.3:5060 "));
	got_req(f, i0, f->b2, "INVITE sip:lo@10.0.0.4:5060 ", r2, sizeof(r2));
	assert_true(r2[0]);
	assert_int_equal(count_to(f, i0, f->a, "SIP/2.0 486"), 0);
	reply_from(f, f->b2, r2, 200, "1 INVITE");
	run(f, 100);
	assert_int_equal(count_to(f, i0, f->a, "SIP/2.0 200"), 1);
	assert_int_equal(count_to(f, i0, f->a, "SIP/2.0 4"), 0);
	sim_run(f->sim, 64000);
}

/*
 * The best final response (§16.7 item 6) of three parallel branches.  A
 * branch's answer: a final code, 0 (silence: Timer B, 408), or 180 (rings;
 * when CANCELled it answers 487).
 */
static void test_best_response(void **state)
{
	static const struct {
		unsigned ans[3];
		unsigned want;
		bool cancel; /* the ringing branch gets a CANCEL */
	} cases[] = {
	    {{486, 503, 302}, 302, false}, /* the lowest class */
	    {{486, 503, 404}, 486, false}, /* 4xx before 5xx; the first of a class */
	    {{503, 503, 503}, 500, false}, /* 503 becomes 500 (§16.7 item 6) */
	    {{503, 0, 503}, 408, false},   /* the timeout (4xx) before 5xx */
	    {{0, 0, 0}, 408, false},	   /* nobody answered */
	    {{486, 0, 404}, 486, false},   /* a real 4xx beats the timeout's 408 */
	    {{486, 180, 603}, 603, true},  /* 6xx cancels the others and wins */
	    {{603, 180, 302}, 603, true},  /* 6xx beats a lower class */
	    {{180, 180, 180}, 487, true},  /* upstream CANCEL: the 487 (§16.10) */
	};
	struct fx *f = *state;
	struct sim_node *nodes[3] = {f->b, f->b2, f->b3};
	const char *ct[] = {"sip:u@10.0.0.3:5060", "sip:u@10.0.0.4:5060", "sip:u@10.0.0.5:5060"};
	const int q[] = {-1, -1, -1};
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char user[16], branch[32], req[3][2048];
		snprintf(user, sizeof(user), "best%u", k);
		snprintf(branch, sizeof(branch), "z9hG4bKbest%u", k);
		char aor[64];
		snprintf(aor, sizeof(aor), "sip:%s@10.0.0.1", user);
		bind_aor(f, aor, ct, q, 3);
		unsigned i0 = f->sim->nlog;
		invite_br(f, user, branch);
		run(f, 100);
		for (unsigned i = 0; i < 3; i++) {
			got_req(f, i0, nodes[i], "INVITE sip:u@", req[i], sizeof(req[i]));
			assert_true(req[i][0]);
			if (cases[k].ans[i])
				reply_from(f, nodes[i], req[i], cases[k].ans[i], "1 INVITE");
			run(f, 10);
		}
		if (cases[k].want == 487) {
			char c[512];
			snprintf(c, sizeof(c),
				 "CANCEL sip:%s@10.0.0.1 SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=%s\r\n"
				 "Max-Forwards: 70\r\n"
				 "From: <sip:a@10.0.0.2>;tag=fa\r\n"
				 "To: <sip:%s@10.0.0.1>\r\n"
				 "Call-ID: c-%s\r\n"
				 "CSeq: 1 CANCEL\r\n"
				 "Content-Length: 0\r\n\r\n",
				 user, branch, user, user);
			assert_int_equal(sim_send(f->a, f->p, c), 0);
			run(f, 100);
		}
		unsigned ncancel = 0;
		for (unsigned i = 0; i < 3; i++) {
			if (!count_to(f, i0, nodes[i], "CANCEL"))
				continue;
			ncancel++;
			assert_int_equal(cases[k].ans[i], 180); /* only pending branches */
			reply_from(f, nodes[i], req[i], 487, "1 INVITE");
		}
		assert_int_equal(ncancel > 0, cases[k].cancel);
		run(f, 100);
		sim_run(f->sim, 40000); /* Timer B of the silent ones */
		char want[16];
		snprintf(want, sizeof(want), "SIP/2.0 %u", cases[k].want);
		/* one final response, retransmitted by Timer G (A sends no ACK here) */
		unsigned nfinal = 0, nwant = 0;
		for (unsigned i = i0; i < f->sim->nlog; i++) {
			const struct sim_rec *r = &f->sim->log[i];
			if (r->from != f->p->id || r->to != f->a->id || r->request ||
			    r->code < 200 || strstr(r->data, "CSeq: 1 CANCEL"))
				continue;
			nfinal++;
			nwant += r->code == cases[k].want;
		}
		assert_int_equal(nwant, nfinal);
		assert_true(nwant >= 1);
		sim_run(f->sim, 64000);
	}
}

/* A static route (prx_request_hop): sent to the route's address, the Request-URI kept. */
static void test_static_route(void **state)
{
	struct fx *f = *state;
	f->hop = "sip:10.0.0.4:5060;transport=udp";
	f->flags = PRX_LOOKUP; /* ignored with a hop: no location lookup */
	const char req[] = "INVITE sip:x@far.example SIP/2.0\r\n"
			   "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKh1\r\n"
			   "From: <sip:a@10.0.0.2>;tag=fa\r\n"
			   "To: <sip:x@far.example>\r\n"
			   "Call-ID: c-hop\r\n"
			   "CSeq: 1 INVITE\r\n"
			   "Content-Length: 0\r\n\r\n";
	assert_int_equal(sim_send(f->a, f->p, req), 0);
	run(f, 100);
	const struct sim_rec *r = sim_last(f->sim, f->p->id, "INVITE sip:x@far.example SIP/2.0");
	assert_non_null(r);
	assert_int_equal(r->to, f->b2->id);
	assert_non_null(strstr(r->data, "\r\nMax-Forwards: 70\r\n"));
	assert_non_null(strstr(r->data, "\r\nRecord-Route: <sip:10.0.0.1:5060;lr>\r\n"));
	reply_from(f, f->b2, r->data, 486, "1 INVITE");
	run(f, 100);
	r = sim_last(f->sim, f->p->id, "SIP/2.0 486");
	assert_non_null(r);
	assert_int_equal(r->to, f->a->id);
	/* a host name as the route: no DNS yet, 502 */
	f->hop = "sip:proxy.far.example";
	assert_int_equal(
	    sim_send(f->a, f->p,
		     "OPTIONS sip:x@far.example SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKh2\r\n"
		     "From: <sip:a@10.0.0.2>;tag=fa\r\nTo: <sip:x@far.example>\r\n"
		     "Call-ID: c-hop2\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"),
	    0);
	run(f, 100);
	assert_non_null(sim_last(f->sim, f->p->id, "SIP/2.0 502"));
}

/* PRX_AUTH (§22.3): 407 with a Proxy-Authenticate for the From host; another user's: 403. */
static void test_auth(void **state)
{
	struct fx *f = *state;
	f->flags = PRX_LOOKUP | PRX_AUTH;
	invite(f, "bob");
	run(f, 100);
	const struct sim_rec *r = sim_last(f->sim, f->p->id, "SIP/2.0 407");
	assert_non_null(r);
	assert_int_equal(r->to, f->a->id);
	assert_non_null(strstr(r->data, "\r\nProxy-Authenticate: Digest realm=\"10.0.0.2\""));
	assert_null(sim_last(f->sim, f->p->id, "INVITE sip:bob@10.0.0.3"));
	const char req[] =
	    "OPTIONS sip:bob@10.0.0.1 SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa9\r\n"
	    "From: <sip:a@10.0.0.2>;tag=fa\r\nTo: <sip:bob@10.0.0.1>\r\n"
	    "Call-ID: c-auth2\r\nCSeq: 1 OPTIONS\r\n"
	    "Proxy-Authorization: Digest username=\"zed\", realm=\"10.0.0.2\", nonce=\"n\", "
	    "uri=\"sip:bob@10.0.0.1\", response=\"00\", qop=auth, nc=00000001, cnonce=\"c\"\r\n"
	    "Content-Length: 0\r\n\r\n";
	assert_int_equal(sim_send(f->a, f->p, req), 0);
	run(f, 100);
	assert_non_null(sim_last(f->sim, f->p->id, "SIP/2.0 403"));
	assert_null(sim_last(f->sim, f->p->id, "OPTIONS sip:bob@10.0.0.3"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_forward_answer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timer_c, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_user, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_loose_route, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_strict_next, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_from_strict, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_in_flight, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parallel_2xx_cancels, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_2xx, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sequential, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_best_response, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_static_route, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
