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
	struct sim_node *a, *p, *b;
	struct tsx_layer *l;
	struct loc_store *store;
	struct prx *prx;
	struct tsx_tu tu;
	bool updated;
	unsigned flags; /* of prx_request; 0: PRX_LOOKUP */
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
	assert_int_equal(n, 1);
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
	assert_int_equal(loc_open(&f.store, "memory:", NULL, 0), 0);
	struct prx_conf pc = {.store = f.store};
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

/* A response of B to request req (the Via lines and dialog headers copied, a To tag added). */
static void reply(struct fx *f, const char *req, unsigned code, const char *cseq)
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
		 "To: <sip:bob@10.0.0.1>;tag=tb\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n", cseq);
	assert_int_equal(sim_send(f->b, f->p, out), 0);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
