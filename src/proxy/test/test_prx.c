/*
 * test_prx.c - the proxy (prx.h) on the simulated network of the
 * transaction tests (prx_fx.h): forwarding, Timer C, CANCEL, routing,
 * forking and the choice of the response.  The virtual clock lets Timer C
 * (3 min, RFC 3261 §16.8) run in microseconds.
 */
#include "prx_fx.c"

static void test_forward_answer(void **state)
{
	struct fx *f = *state;
	fx_invite(f, "bob");
	fx_run(f, 100);
	const struct sim_rec *r = sim_last(f->sim, f->p->id, "INVITE sip:bob@10.0.0.3:5060 ");
	assert_non_null(r);
	assert_int_equal(r->to, f->b->id);
	assert_non_null(strstr(r->data, "\r\nMax-Forwards: 9\r\n"));
	assert_non_null(strstr(r->data, "\r\nRecord-Route: <sip:10.0.0.1:5060;lr>\r\n"));
	assert_non_null(strstr(r->data, "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK"));
	char req[2048];
	snprintf(req, sizeof(req), "%s", r->data);
	fx_reply(f, req, 180, "1 INVITE");
	fx_run(f, 100);
	r = sim_last(f->sim, f->p->id, "SIP/2.0 180");
	assert_non_null(r);
	assert_int_equal(r->to, f->a->id);
	assert_null(strstr(r->data, "10.0.0.1:5060;branch")); /* our Via is gone */
	fx_reply(f, req, 200, "1 INVITE");
	fx_run(f, 100);
	fx_reply(f, req, 200, "1 INVITE"); /* a retransmission: stray, forwarded statelessly */
	fx_run(f, 100);
	assert_int_equal(sim_count(f->sim, f->p->id, "SIP/2.0 200", false), 2);
	assert_int_equal(sim_count(f->sim, f->p->id, "SIP/2.0 100", false), 1);
}

static void test_timer_c(void **state)
{
	struct fx *f = *state;
	fx_invite(f, "bob");
	fx_run(f, 100);
	const struct sim_rec *r = sim_last(f->sim, f->p->id, "INVITE sip:bob@");
	assert_non_null(r);
	char req[2048];
	snprintf(req, sizeof(req), "%s", r->data);
	fx_reply(f, req, 180, "1 INVITE");
	fx_run(f, 1000);
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
	fx_invite(f, "bob");
	fx_run(f, 100);
	const struct sim_rec *r = sim_last(f->sim, f->p->id, "INVITE sip:bob@");
	assert_non_null(r);
	char req[2048];
	snprintf(req, sizeof(req), "%s", r->data);
	fx_reply(f, req, 180, "1 INVITE");
	fx_run(f, 100);
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
	fx_run(f, 100);
	r = sim_last(f->sim, f->p->id, "CANCEL sip:bob@10.0.0.3:5060 ");
	assert_non_null(r);
	assert_null(sim_last(f->sim, f->p->id, "SIP/2.0 487")); /* the callee's 487, not ours */
	fx_reply(f, req, 487, "1 INVITE");
	fx_run(f, 100);
	r = sim_last(f->sim, f->p->id, "SIP/2.0 487");
	assert_non_null(r);
	assert_int_equal(r->to, f->a->id);
	assert_non_null(sim_last(f->sim, f->p->id, "ACK sip:bob@10.0.0.3:5060 "));
	sim_run(f->sim, 64000);
}

static void test_unknown_user(void **state)
{
	struct fx *f = *state;
	fx_invite(f, "nobody");
	fx_run(f, 100);
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
	fx_run(f, 100);
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
	fx_invite(f, "bob");
	fx_run(f, 100);
	const struct sim_rec *r = sim_last(f->sim, f->p->id, "INVITE sip:bob@");
	assert_non_null(r);
	char req[2048];
	snprintf(req, sizeof(req), "%s", r->data);
	fx_reply(f, req, 180, "1 INVITE");
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
	fx_run(f, 100);
	assert_non_null(sim_last(f->sim, f->p->id, "SIP/2.0 180"));
	assert_non_null(sim_last(f->sim, f->p->id, "BYE sip:bob@10.0.0.3:5060 "));
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
	fx_bind(f, "sip:par@10.0.0.1", ct, q, 3);
	unsigned i0 = f->sim->nlog;
	fx_invite(f, "par");
	fx_run(f, 100);
	char r1[2048], r2[2048];
	fx_got_req(f, i0, f->b, "INVITE sip:x@10.0.0.3:5060 ", r1, sizeof(r1));
	fx_got_req(f, i0, f->b2, "INVITE sip:y@10.0.0.4:5060 ", r2, sizeof(r2));
	assert_true(r1[0] && r2[0]);
	assert_int_equal(fx_count_to(f, i0, f->b3, "INVITE"), 0);
	fx_reply_from(f, f->b, r1, 180, "1 INVITE");
	fx_reply_from(f, f->b2, r2, 180, "1 INVITE");
	fx_run(f, 100);
	assert_int_equal(fx_count_to(f, i0, f->a, "SIP/2.0 180"), 2);
	fx_reply_from(f, f->b2, r2, 200, "1 INVITE");
	fx_run(f, 100);
	assert_int_equal(fx_count_to(f, i0, f->a, "SIP/2.0 200"), 1);
	const struct sim_rec *cr = fx_sent_to(f, i0, f->b, "CANCEL sip:x@10.0.0.3:5060 ");
	assert_non_null(cr);
	assert_int_equal(fx_count_to(f, i0, f->b2, "CANCEL"), 0);
	char cancel[2048];
	snprintf(cancel, sizeof(cancel), "%s", cr->data);
	fx_reply_from(f, f->b, cancel, 200, "1 CANCEL");
	fx_reply_from(f, f->b, r1, 487, "1 INVITE");
	fx_run(f, 100);
	assert_int_equal(fx_count_to(f, i0, f->a, "SIP/2.0 487"), 0);
	assert_non_null(fx_sent_to(f, i0, f->b, "ACK sip:x@10.0.0.3:5060 "));
	assert_int_equal(fx_count_to(f, i0, f->b3, "INVITE"), 0); /* answered: no next q-group */
	sim_run(f->sim, 64000);
}

/* §16.7 item 9: a 2xx of another branch after the first one (it raced the CANCEL) goes up too. */
static void test_two_2xx(void **state)
{
	struct fx *f = *state;
	const char *ct[] = {"sip:x@10.0.0.3:5060", "sip:y@10.0.0.4:5060"};
	const int q[] = {800, 800};
	fx_bind(f, "sip:two@10.0.0.1", ct, q, 2);
	unsigned i0 = f->sim->nlog;
	fx_invite(f, "two");
	fx_run(f, 100);
	char r1[2048], r2[2048];
	fx_got_req(f, i0, f->b, "INVITE sip:x@10.0.0.3:5060 ", r1, sizeof(r1));
	fx_got_req(f, i0, f->b2, "INVITE sip:y@10.0.0.4:5060 ", r2, sizeof(r2));
	assert_true(r1[0] && r2[0]);
	fx_reply_from(f, f->b, r1, 180, "1 INVITE");
	fx_run(f, 100);
	fx_reply_from(f, f->b2, r2, 200, "1 INVITE");
	fx_reply_from(f, f->b, r1, 200, "1 INVITE");
	fx_run(f, 100);
	const struct sim_rec *r = fx_sent_to(f, i0, f->a, "SIP/2.0 200");
	assert_non_null(r);
	assert_int_equal(fx_count_to(f, i0, f->a, "SIP/2.0 200"), 2);
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
	fx_bind(f, "sip:seq@10.0.0.1", ct, q, 2);
	unsigned i0 = f->sim->nlog;
	fx_invite(f, "seq");
	fx_run(f, 100);
	char r1[2048], r2[2048];
	fx_got_req(f, i0, f->b, "INVITE sip:hi@10.0.0.3:5060 ", r1, sizeof(r1));
	assert_true(r1[0]);
	assert_int_equal(fx_count_to(f, i0, f->b2, "INVITE"), 0);
	fx_reply_from(f, f->b, r1, 486, "1 INVITE");
	fx_run(f, 100);
	assert_non_null(fx_sent_to(f, i0, f->b, "ACK sip:hi@10.0.0.3:5060 "));
	fx_got_req(f, i0, f->b2, "INVITE sip:lo@10.0.0.4:5060 ", r2, sizeof(r2));
	assert_true(r2[0]);
	assert_int_equal(fx_count_to(f, i0, f->a, "SIP/2.0 486"), 0);
	fx_reply_from(f, f->b2, r2, 200, "1 INVITE");
	fx_run(f, 100);
	assert_int_equal(fx_count_to(f, i0, f->a, "SIP/2.0 200"), 1);
	assert_int_equal(fx_count_to(f, i0, f->a, "SIP/2.0 4"), 0);
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
		fx_bind(f, aor, ct, q, 3);
		unsigned i0 = f->sim->nlog;
		fx_invite_br(f, user, branch);
		fx_run(f, 100);
		for (unsigned i = 0; i < 3; i++) {
			fx_got_req(f, i0, nodes[i], "INVITE sip:u@", req[i], sizeof(req[i]));
			assert_true(req[i][0]);
			if (cases[k].ans[i])
				fx_reply_from(f, nodes[i], req[i], cases[k].ans[i], "1 INVITE");
			fx_run(f, 10);
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
			fx_run(f, 100);
		}
		unsigned ncancel = 0;
		for (unsigned i = 0; i < 3; i++) {
			if (!fx_count_to(f, i0, nodes[i], "CANCEL"))
				continue;
			ncancel++;
			assert_int_equal(cases[k].ans[i], 180); /* only pending branches */
			fx_reply_from(f, nodes[i], req[i], 487, "1 INVITE");
		}
		assert_int_equal(ncancel > 0, cases[k].cancel);
		fx_run(f, 100);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_forward_answer, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_timer_c, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_cancel, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_user, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_loose_route, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_strict_next, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_from_strict, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_stop_in_flight, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_parallel_2xx_cancels, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_two_2xx, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_sequential, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_best_response, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
