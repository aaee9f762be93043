/*
 * test_tsx.c - the four transaction state machines against the timers of
 * RFC 3261 §17 (Table 4), on the simulated network with a virtual clock:
 * retransmission counts and instants, wait timers, 100 Trying, ACK
 * absorption, 2xx ACKs passed up, retransmitted requests answered from the
 * transaction (the rest of the API: test_tsx_api.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fix.c"

#define A_IP "127.0.0.1"
#define B_IP "127.0.0.2"
#define C_IP "127.0.0.3"

static void assert_times(const loop_ms *got, unsigned n, const loop_ms *want, unsigned nwant)
{
	assert_int_equal(n, nwant);
	for (unsigned i = 0; i < nwant; i++)
		assert_int_equal(got[i], want[i]);
}

/* §17.1.1.2: INVITE over UDP, no answer: Timer A doubles from T1, Timer B = 64*T1 -> 408. */
static void test_cinv_udp_no_answer(void **state)
{
	static const loop_ms want[] = {0, 500, 1500, 3500, 7500, 15500, 31500};
	struct fix f;
	struct call c = {0};
	loop_ms at[16];
	char req[512];

	(void)state;
	fix_init(&f, 1);
	struct ep *a = fix_ep(&f, A_IP, TP_UDP, true, NULL, 0, NULL);
	struct ep *b = fix_ep(&f, B_IP, TP_UDP, false, NULL, 0, NULL);
	fix_req(req, sizeof(req), "INVITE", A_IP, B_IP, "UDP", "c1", 1, NULL);
	struct tsx *t = fix_start(a, b->node, req, &c);
	assert_int_equal(tsx_state(t), TSX_STATE_CALLING);
	assert_int_equal(tsx_kind(t), TSX_CLIENT_INVITE);
	sim_run(f.sim, 31999);
	assert_int_equal(c.nfinal, 0);
	sim_run(f.sim, 20000);
	assert_times(at, sim_times(f.sim, a->node->id, "INVITE", at, 16), want, 7);
	assert_int_equal(c.nfinal, 1);
	assert_int_equal(c.final, 408);
	assert_true(c.synth);
	assert_int_equal(c.final_at, 32000);
	assert_int_equal(tsx_state(t), TSX_STATE_TERMINATED);
	assert_int_equal(tsx_layer_count(a->l), 0);
	/* The Via the layer added carries a branch naming worker 0. */
	assert_true(fix_last_has(&f, a->node->id, "INVITE", ";branch=z9hG4bKR00"));
	mem_deref(t);
	fix_done(&f);
}

/* §17.1.2.2: non-INVITE over UDP, no answer: Timer E doubles up to T2, Timer F -> 408. */
static void test_cnon_udp_no_answer(void **state)
{
	static const loop_ms want[] = {0,     500,   1500,  3500,  7500, 11500,
				       15500, 19500, 23500, 27500, 31500};
	struct fix f;
	struct call c = {0};
	loop_ms at[16];
	char req[512];

	(void)state;
	fix_init(&f, 1);
	struct ep *a = fix_ep(&f, A_IP, TP_UDP, true, NULL, 0, NULL);
	struct ep *b = fix_ep(&f, B_IP, TP_UDP, false, NULL, 0, NULL);
	fix_req(req, sizeof(req), "OPTIONS", A_IP, B_IP, "UDP", "c1", 1, NULL);
	struct tsx *t = fix_start(a, b->node, req, &c);
	assert_int_equal(tsx_state(t), TSX_STATE_TRYING);
	sim_run(f.sim, 40000);
	assert_times(at, sim_times(f.sim, a->node->id, "OPTIONS", at, 16), want, 11);
	assert_int_equal(c.nfinal, 1);
	assert_int_equal(c.final, 408);
	assert_int_equal(c.final_at, 32000);
	mem_deref(t);
	fix_done(&f);
}

/* §17.1.2.2: in Proceeding, Timer E is reset to T2 each time; provisionals go up. */
static void test_cnon_proceeding_t2(void **state)
{
	static const loop_ms want[] = {0, 500, 4500, 8500, 12500, 16500, 20500, 24500, 28500};
	struct fix f;
	struct call c = {0};
	loop_ms at[16];
	char req[512];

	(void)state;
	fix_init(&f, 1);
	struct ep *a = fix_ep(&f, A_IP, TP_UDP, true, NULL, 0, NULL);
	struct ep *b = fix_ep(&f, B_IP, TP_UDP, true, NULL, 0, NULL);
	b->r->prov = 180; /* a provisional and never a final */
	fix_req(req, sizeof(req), "MESSAGE", A_IP, B_IP, "UDP", "c1", 1, NULL);
	struct tsx *t = fix_start(a, b->node, req, &c);
	sim_run(f.sim, 40000);
	assert_times(at, sim_times(f.sim, a->node->id, "MESSAGE", at, 16), want, 9);
	assert_int_equal(b->r->nreq, 1);
	/* Every retransmission was answered with the provisional, each passed up. */
	assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 180", true), 9);
	assert_int_equal(c.n1xx, 9);
	assert_int_equal(c.final, 408);
	assert_int_equal(c.final_at, 32000);
	mem_deref(t);
	fix_done(&f);
}

/* Reliable transports: sent once, no retransmission, still 408 at 64*T1. */
static void test_reliable_no_retransmission(void **state)
{
	static const char *const methods[] = {"INVITE", "OPTIONS"};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(methods); i++) {
		struct fix f;
		struct call c = {0};
		char req[512];

		fix_init(&f, 1);
		struct ep *a = fix_ep(&f, A_IP, TP_TCP, true, NULL, 0, NULL);
		struct ep *b = fix_ep(&f, B_IP, TP_TCP, false, NULL, 0, NULL);
		fix_req(req, sizeof(req), methods[i], A_IP, B_IP, "TCP", "c1", 1, NULL);
		struct tsx *t = fix_start(a, b->node, req, &c);
		sim_run(f.sim, 40000);
		assert_int_equal(sim_count(f.sim, a->node->id, methods[i], true), 1);
		assert_true(fix_last_has(&f, a->node->id, methods[i], "Via: SIP/2.0/TCP "));
		assert_int_equal(c.final, 408);
		assert_int_equal(c.final_at, 32000);
		mem_deref(t);
		fix_done(&f);
	}
}

/* §17.2.1: a non-2xx final retransmitted by Timer G until Timer H, then the TU is told. */
static void test_sinv_timer_g_h(void **state)
{
	static const loop_ms want[] = {0,     500,   1500,  3500,  7500, 11500,
				       15500, 19500, 23500, 27500, 31500};
	struct fix f;
	loop_ms at[16];
	char req[512];

	(void)state;
	fix_init(&f, 1);
	struct ep *a = fix_ep(&f, A_IP, TP_UDP, false, NULL, 0, NULL);
	struct ep *b = fix_ep(&f, B_IP, TP_UDP, true, NULL, 0, NULL);
	b->r->answer = 486;
	fix_req(req, sizeof(req), "INVITE", A_IP, B_IP, "UDP", "c1", 1, "z9hG4bK1");
	sim_send(a->node, b->node, req);
	sim_run(f.sim, 40000);
	assert_int_equal(b->r->nreq, 1);
	assert_times(at, sim_times(f.sim, b->node->id, "SIP/2.0 486", at, 16), want, 11);
	/* The TU answered within 200 ms: no 100 Trying. */
	assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 100", true), 0);
	assert_int_equal(b->r->nfail, 1);
	assert_int_equal(b->r->fail_err, ETIMEDOUT);
	assert_int_equal(b->r->fail_at, 32000);
	assert_int_equal(tsx_layer_count(b->l), 0);
	fix_done(&f);
}

static void ack_for(char *out, size_t cap, struct tsx *t, const char *branch, const char *proto)
{
	snprintf(out, cap,
		 "ACK sip:bob@" B_IP " SIP/2.0\r\nVia: SIP/2.0/%s " A_IP ":5060;branch=%s\r\n"
		 "Max-Forwards: 70\r\nFrom: <sip:alice@" A_IP ">;tag=a1\r\n"
		 "To: <sip:bob@" B_IP ">;tag=%s\r\nCall-ID: c1\r\nCSeq: 1 ACK\r\n"
		 "Content-Length: 0\r\n\r\n",
		 proto, branch, tsx_tag(t));
}

/* §17.2.1: the ACK stops Timer G; Confirmed absorbs ACKs for Timer I = T4 (0 if reliable). */
static void test_sinv_ack_timer_i(void **state)
{
	static const enum tp_proto protos[] = {TP_UDP, TP_TCP};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(protos); i++) {
		const char *pn = tp_proto_name(protos[i]);
		struct fix f;
		char req[512], ack[512];

		fix_init(&f, 1);
		struct ep *a = fix_ep(&f, A_IP, protos[i], false, NULL, 0, NULL);
		struct ep *b = fix_ep(&f, B_IP, protos[i], true, NULL, 0, NULL);
		b->r->answer = 486;
		b->r->hold = true;
		fix_req(req, sizeof(req), "INVITE", A_IP, B_IP, pn, "c1", 1, "z9hG4bK1");
		sim_send(a->node, b->node, req);
		sim_run(f.sim, 700);
		struct tsx *t = b->r->held;
		assert_int_equal(tsx_kind(t), TSX_SERVER_INVITE);
		assert_int_equal(tsx_state(t), TSX_STATE_COMPLETED);
		ack_for(ack, sizeof(ack), t, "z9hG4bK1", pn);
		sim_send(a->node, b->node, ack);
		sim_run(f.sim, 1);
		if (protos[i] == TP_TCP) {
			assert_int_equal(tsx_state(t), TSX_STATE_TERMINATED);
			assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 486", true), 1);
			fix_done(&f);
			continue;
		}
		assert_int_equal(tsx_state(t), TSX_STATE_CONFIRMED);
		sim_run(f.sim, 1000);
		sim_send(a->node, b->node, ack); /* a retransmitted ACK: absorbed */
		sim_run(f.sim, 3998);            /* now 5699 */
		assert_int_equal(tsx_state(t), TSX_STATE_CONFIRMED);
		assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 486", true), 2);
		assert_int_equal(b->r->nstray_req, 0);
		sim_run(f.sim, 2);
		assert_int_equal(tsx_state(t), TSX_STATE_TERMINATED);
		assert_int_equal(b->r->nfail, 0);
		assert_int_equal(b->r->nreq, 1);
		fix_done(&f);
	}
}

/* §17.2.2: retransmissions get the final again; Timer J = 64*T1 (UDP), 0 (TCP). */
static void test_snon_timer_j(void **state)
{
	static const enum tp_proto protos[] = {TP_UDP, TP_TCP};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(protos); i++) {
		const char *pn = tp_proto_name(protos[i]);
		struct fix f;
		char req[512];

		fix_init(&f, 1);
		struct ep *a = fix_ep(&f, A_IP, protos[i], false, NULL, 0, NULL);
		struct ep *b = fix_ep(&f, B_IP, protos[i], true, NULL, 0, NULL);
		b->r->answer = 200;
		b->r->hold = true;
		fix_req(req, sizeof(req), "REGISTER", A_IP, B_IP, pn, "c1", 1, "z9hG4bKr");
		sim_send(a->node, b->node, req);
		sim_run(f.sim, 1000);
		struct tsx *t = b->r->held;
		if (protos[i] == TP_TCP) {
			assert_int_equal(tsx_state(t), TSX_STATE_TERMINATED);
			assert_int_equal(tsx_layer_count(b->l), 0);
			fix_done(&f);
			continue;
		}
		assert_int_equal(tsx_state(t), TSX_STATE_COMPLETED);
		sim_send(a->node, b->node, req);
		sim_run(f.sim, 30999); /* now 31999 */
		assert_int_equal(b->r->nreq, 1);
		assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 200", true), 2);
		assert_int_equal(tsx_state(t), TSX_STATE_COMPLETED);
		sim_run(f.sim, 2);
		assert_int_equal(tsx_state(t), TSX_STATE_TERMINATED);
		/* After Timer J the same request is new again. */
		sim_send(a->node, b->node, req);
		sim_run(f.sim, 1);
		assert_int_equal(b->r->nreq, 2);
		fix_done(&f);
	}
}

/* §17.1.2.2: Timer K = T4 absorbs retransmitted finals (0 over TCP); the TU sees one. */
static void test_cnon_timer_k(void **state)
{
	static const enum tp_proto protos[] = {TP_UDP, TP_TCP};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(protos); i++) {
		struct fix f;
		struct call c = {0};
		struct sim_link dup = {.dup = 100};
		char req[512];

		fix_init(&f, 1);
		struct ep *a = fix_ep(&f, A_IP, protos[i], true, NULL, 0, NULL);
		struct ep *b = fix_ep(&f, B_IP, protos[i], true, NULL, 0, NULL);
		b->r->answer = 202;
		sim_set_link(f.sim, b->node, a->node, &dup);
		fix_req(req, sizeof(req), "SUBSCRIBE", A_IP, B_IP, "UDP", "c1", 1, NULL);
		struct tsx *t = fix_start(a, b->node, req, &c);
		sim_run(f.sim, 1);
		if (protos[i] == TP_TCP) {
			assert_int_equal(tsx_state(t), TSX_STATE_TERMINATED);
		} else {
			assert_int_equal(b->node->sent, 1);
			assert_int_equal(a->node->recvd, 2); /* the 202 came twice */
			assert_int_equal(tsx_state(t), TSX_STATE_COMPLETED);
			sim_run(f.sim, 4998); /* now 4999 */
			assert_int_equal(tsx_state(t), TSX_STATE_COMPLETED);
			sim_run(f.sim, 2);
			assert_int_equal(tsx_state(t), TSX_STATE_TERMINATED);
		}
		assert_int_equal(c.nfinal, 1);
		assert_int_equal(c.final, 202);
		assert_false(c.synth);
		assert_int_equal(a->r->nstray_resp, 0);
		mem_deref(t);
		fix_done(&f);
	}
}

/* §17.1.1.3: a non-2xx final is ACKed by the transaction, again for each retransmission. */
static void test_cinv_non2xx_ack_timer_d(void **state)
{
	static const enum tp_proto protos[] = {TP_UDP, TP_TCP};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(protos); i++) {
		struct fix f;
		struct call c = {0};
		struct sim_link dup = {.dup = 100};
		char req[512], want[128];
		size_t blen;

		fix_init(&f, 1);
		struct ep *a = fix_ep(&f, A_IP, protos[i], true, NULL, 0, NULL);
		struct ep *b = fix_ep(&f, B_IP, protos[i], true, NULL, 0, NULL);
		b->r->answer = 486;
		b->r->hold = true;
		sim_set_link(f.sim, b->node, a->node, &dup);
		fix_req(req, sizeof(req), "INVITE", A_IP, B_IP, "UDP", "c1", 7, NULL);
		struct tsx *t = fix_start(a, b->node, req, &c);
		sim_run(f.sim, 10);
		assert_int_equal(c.nfinal, 1);
		assert_int_equal(c.final, 486);
		/* The ACK: same branch, the To tag of the response, CSeq number with ACK. */
		const char *br = tsx_branch_of(t, &blen);
		snprintf(want, sizeof(want), ";branch=%.*s", (int)blen, br);
		assert_true(fix_last_has(&f, a->node->id, "ACK", want));
		snprintf(want, sizeof(want), ";tag=%s", tsx_tag(b->r->held));
		assert_true(fix_last_has(&f, a->node->id, "ACK", want));
		assert_true(fix_last_has(&f, a->node->id, "ACK", "CSeq: 7 ACK"));
		assert_true(fix_last_has(&f, a->node->id, "ACK sip:bob@" B_IP " SIP/2.0", ""));
		assert_int_equal(b->r->nstray_req, 0);
		assert_int_equal(b->r->nfail, 0);
		if (protos[i] == TP_TCP) {
			assert_int_equal(sim_count(f.sim, a->node->id, "ACK", true), 1);
			assert_int_equal(tsx_state(t), TSX_STATE_TERMINATED);
			assert_int_equal(tsx_state(b->r->held), TSX_STATE_TERMINATED);
		} else {
			assert_int_equal(sim_count(f.sim, a->node->id, "ACK", true), 2);
			assert_int_equal(tsx_state(b->r->held), TSX_STATE_CONFIRMED);
			sim_run(f.sim, 31989); /* now 31999 */
			assert_int_equal(tsx_state(t), TSX_STATE_COMPLETED);
			sim_run(f.sim, 2);
			assert_int_equal(tsx_state(t), TSX_STATE_TERMINATED);
		}
		assert_int_equal(c.nfinal, 1);
		mem_deref(t);
		fix_done(&f);
	}
}

/* §17.2.1: 100 Trying after 200 ms of TU silence; it stops Timer A at the client. */
static void test_trying_after_200ms(void **state)
{
	struct fix f;
	struct call c = {0};
	struct sim_link lk = {.delay = 10};
	loop_ms at[4];
	char req[512];

	(void)state;
	fix_init(&f, 1);
	struct ep *a = fix_ep(&f, A_IP, TP_UDP, true, NULL, 0, NULL);
	struct ep *b = fix_ep(&f, B_IP, TP_UDP, true, NULL, 0, NULL);
	sim_set_link(f.sim, NULL, NULL, &lk);
	b->r->hold = true;
	fix_req(req, sizeof(req), "INVITE", A_IP, B_IP, "UDP", "c1", 1, NULL);
	struct tsx *t = fix_start(a, b->node, req, &c);
	sim_run(f.sim, 5000);
	assert_int_equal(sim_times(f.sim, b->node->id, "SIP/2.0 100", at, 4), 1);
	assert_int_equal(at[0], 210);
	/* The 100 has no To tag (§8.2.6.2). */
	assert_true(fix_last_has(&f, b->node->id, "SIP/2.0 100", "To: <sip:bob@" B_IP ">\r\n"));
	assert_int_equal(c.n1xx, 1);
	assert_int_equal(tsx_state(t), TSX_STATE_PROCEEDING);
	assert_int_equal(sim_count(f.sim, a->node->id, "INVITE", true), 1);
	mem_deref(t);
	fix_done(&f);
}

/* No 100 Trying when the TU answers before 200 ms, at once or a little later. */
static void test_no_trying_when_tu_answers(void **state)
{
	static const loop_ms delays[] = {0, 150};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(delays); i++) {
		struct fix f;
		struct call c = {0};
		char req[512];

		fix_init(&f, 1);
		struct ep *a = fix_ep(&f, A_IP, TP_UDP, true, NULL, 0, NULL);
		struct ep *b = fix_ep(&f, B_IP, TP_UDP, true, NULL, 0, NULL);
		if (delays[i] == 0) {
			b->r->answer = 180;
		} else {
			b->r->late = 180;
			b->r->late_ms = delays[i];
		}
		b->r->hold = true;
		fix_req(req, sizeof(req), "INVITE", A_IP, B_IP, "UDP", "c1", 1, NULL);
		struct tsx *t = fix_start(a, b->node, req, &c);
		sim_run(f.sim, 1000);
		assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 100", true), 0);
		assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 180", true), 1);
		assert_true(fix_last_has(&f, b->node->id, "SIP/2.0 180", ";tag="));
		assert_int_equal(c.n1xx, 1);
		mem_deref(t);
		fix_done(&f);
	}
}

/* Retransmitted requests: answered from the transaction, never handed up twice. */
static void test_retransmission_answered(void **state)
{
	struct fix f;
	char inv[512], opt[512];

	(void)state;
	fix_init(&f, 1);
	struct ep *a = fix_ep(&f, A_IP, TP_UDP, false, NULL, 0, NULL);
	struct ep *b = fix_ep(&f, B_IP, TP_UDP, true, NULL, 0, NULL);
	b->r->prov = 180;
	fix_req(inv, sizeof(inv), "INVITE", A_IP, B_IP, "UDP", "c1", 1, "z9hG4bKi");
	sim_send(a->node, b->node, inv);
	sim_run(f.sim, 100);
	sim_send(a->node, b->node, inv);
	sim_run(f.sim, 100);
	assert_int_equal(b->r->nreq, 1);
	assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 180", true), 2);

	/* Non-INVITE in Trying: nothing to send yet, the retransmission is dropped. */
	b->r->prov = 0;
	fix_req(opt, sizeof(opt), "OPTIONS", A_IP, B_IP, "UDP", "c2", 1, "z9hG4bKo");
	sim_send(a->node, b->node, opt);
	sim_run(f.sim, 100);
	sim_send(a->node, b->node, opt);
	sim_run(f.sim, 100);
	assert_int_equal(b->r->nreq, 2);
	assert_int_equal(b->r->nreq_m[MSG_METHOD_OPTIONS], 1);
	assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0", true), 2);

	/* Same branch, other sent-by: another transaction (§17.2.3). */
	fix_req(opt, sizeof(opt), "OPTIONS", C_IP, B_IP, "UDP", "c2", 1, "z9hG4bKo");
	sim_send(a->node, b->node, opt);
	sim_run(f.sim, 100);
	assert_int_equal(b->r->nreq_m[MSG_METHOD_OPTIONS], 2);
	fix_done(&f);
}

/* RFC 6026: after a 2xx the INVITE transaction absorbs retransmissions, ACKs go up. */
static void test_accepted_ack_2xx_passed_up(void **state)
{
	struct fix f;
	char inv[512], ack[512];

	(void)state;
	fix_init(&f, 1);
	struct ep *a = fix_ep(&f, A_IP, TP_UDP, false, NULL, 0, NULL);
	struct ep *b = fix_ep(&f, B_IP, TP_UDP, true, NULL, 0, NULL);
	b->r->answer = 200;
	b->r->hold = true;
	fix_req(inv, sizeof(inv), "INVITE", A_IP, B_IP, "UDP", "c1", 1, "z9hG4bKx");
	sim_send(a->node, b->node, inv);
	sim_run(f.sim, 100);
	struct tsx *t = b->r->held;
	assert_int_equal(tsx_state(t), TSX_STATE_ACCEPTED);
	sim_send(a->node, b->node, inv);
	sim_run(f.sim, 100);
	assert_int_equal(b->r->nreq, 1);
	assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 200", true), 1);
	/* The ACK for a 2xx has a branch of its own: it matches nothing and goes up. */
	ack_for(ack, sizeof(ack), t, "z9hG4bKack", "UDP");
	sim_send(a->node, b->node, ack);
	sim_run(f.sim, 100);
	assert_int_equal(b->r->nack, 1);
	/* Some UAs reuse the INVITE branch: it matches the Accepted transaction, and goes up. */
	ack_for(ack, sizeof(ack), t, "z9hG4bKx", "UDP");
	sim_send(a->node, b->node, ack);
	sim_run(f.sim, 100);
	assert_int_equal(b->r->nack, 2);
	assert_int_equal(tsx_state(t), TSX_STATE_ACCEPTED);
	/* The TU's 2xx retransmissions go out through the transaction; others are refused. */
	assert_int_equal(tsx_respond(t, 200, NULL, NULL, NULL, 0), 0);
	assert_int_equal(tsx_respond(t, 486, NULL, NULL, NULL, 0), EALREADY);
	assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 200", true), 2);
	sim_run(f.sim, 31600); /* Timer L = 64*T1 after the 2xx */
	assert_int_equal(tsx_state(t), TSX_STATE_TERMINATED);
	assert_int_equal(tsx_respond(t, 200, NULL, NULL, NULL, 0), ESRCH);
	assert_int_equal(b->r->nfail, 0);
	fix_done(&f);
}

/* §17.1.1.2: a client INVITE ends on its 2xx; later 2xx are stray, for the TU. */
static void test_cinv_2xx_then_stray(void **state)
{
	struct fix f;
	struct call c = {.ack_2xx = true};
	char req[512];

	(void)state;
	fix_init(&f, 1);
	struct ep *a = fix_ep(&f, A_IP, TP_UDP, true, NULL, 0, NULL);
	struct ep *b = fix_ep(&f, B_IP, TP_UDP, true, NULL, 0, NULL);
	b->r->answer = 200;
	b->r->hold = true;
	fix_req(req, sizeof(req), "INVITE", A_IP, B_IP, "UDP", "c1", 1, NULL);
	struct tsx *t = fix_start(a, b->node, req, &c);
	sim_run(f.sim, 10);
	assert_int_equal(tsx_state(t), TSX_STATE_TERMINATED);
	assert_int_equal(c.final, 200);
	assert_int_equal(b->r->nack, 1);
	assert_int_equal(tsx_respond(b->r->held, 200, NULL, NULL, NULL, 0), 0);
	sim_run(f.sim, 10);
	assert_int_equal(c.nfinal, 1);
	assert_int_equal(a->r->nstray_resp, 1);
	assert_int_equal(c.nack, 2);
	assert_int_equal(b->r->nack, 2);
	mem_deref(t);
	fix_done(&f);
}

/* §9.1: a CANCEL waits for the first provisional (here the automatic 100). */
/* A CANCEL nothing matches is still a transaction: the TU answers 481 (§9.2). */
/* RFC 3261 §17.2.3, last paragraphs: requests without the magic cookie. */
/* §8.1.3: a transport error is a 503 for the TU, delivered from the loop. */
/* §17.2.4: a server's transport errors: returned to a TU send, reported from timers. */
/* The API refuses what makes no sense. */
/* Layer teardown with live transactions and TU references left: no leak, no callback. */
/* Allocation failures (mem_fail_after) anywhere in a call: no crash, no leak. */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cinv_udp_no_answer),
		cmocka_unit_test(test_cnon_udp_no_answer),
		cmocka_unit_test(test_cnon_proceeding_t2),
		cmocka_unit_test(test_reliable_no_retransmission),
		cmocka_unit_test(test_sinv_timer_g_h),
		cmocka_unit_test(test_sinv_ack_timer_i),
		cmocka_unit_test(test_snon_timer_j),
		cmocka_unit_test(test_cnon_timer_k),
		cmocka_unit_test(test_cinv_non2xx_ack_timer_d),
		cmocka_unit_test(test_trying_after_200ms),
		cmocka_unit_test(test_no_trying_when_tu_answers),
		cmocka_unit_test(test_retransmission_answered),
		cmocka_unit_test(test_accepted_ack_2xx_passed_up),
		cmocka_unit_test(test_cinv_2xx_then_stray),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
