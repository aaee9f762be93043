/*
 * test_tsx_api.c - CANCEL (§9), RFC 2543 matching (§17.2.3), transport
 * errors (§8.1.3, §17.2.4), the API's refusals, teardown with live
 * transactions and allocation failures, on the simulated network.
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

static void test_cancel(void **state)
{
	struct fix f;
	struct call c = {0}, cc = {0};
	char req[512];

	(void)state;
	fix_init(&f, 1);
	struct ep *a = fix_ep(&f, A_IP, TP_UDP, true, NULL, 0, NULL);
	struct ep *b = fix_ep(&f, B_IP, TP_UDP, true, NULL, 0, NULL);
	b->r->prov = 180;
	b->r->hold = true;
	fix_req(req, sizeof(req), "INVITE", A_IP, B_IP, "UDP", "c1", 1, NULL);
	struct tsx *t = fix_start(a, b->node, req, &c);
	sim_run(f.sim, 100);
	assert_int_equal(c.n1xx, 1);
	cc.loop = f.loop;
	assert_int_equal(tsx_cancel(t, fix_on_resp, &cc), 0);
	assert_int_equal(tsx_cancel(t, fix_on_resp, &cc), EALREADY);
	sim_run(f.sim, 100);
	/* §9.1: the CANCEL carries the INVITE's branch and CSeq number. */
	assert_true(fix_last_has(&f, a->node->id, "CANCEL", "CSeq: 1 CANCEL"));
	assert_true(fix_last_has(&f, a->node->id, "CANCEL", ";branch=z9hG4bKR00"));
	assert_int_equal(b->r->ncancel_found, 1);
	assert_int_equal(cc.final, 200);
	assert_int_equal(c.final, 487);
	assert_int_equal(sim_count(f.sim, a->node->id, "ACK", true), 1);
	assert_int_equal(tsx_state(b->r->held), TSX_STATE_CONFIRMED);
	assert_int_equal(tsx_cancel(t, fix_on_resp, &cc), EALREADY);
	mem_deref(t);
	fix_done(&f);
}

static void test_cancel_pending(void **state)
{
	struct fix f;
	struct call c = {0}, cc = {0}, o = {0};
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
	sim_run(f.sim, 50);
	cc.loop = f.loop;
	assert_int_equal(tsx_cancel(t, fix_on_resp, &cc), 0);
	sim_run(f.sim, 100);
	assert_int_equal(sim_count(f.sim, a->node->id, "CANCEL", true), 0);
	sim_run(f.sim, 200);
	assert_int_equal(sim_times(f.sim, a->node->id, "CANCEL", at, 4), 1);
	assert_int_equal(at[0], 220); /* the 100 left at 210 and arrived at 220 */
	assert_int_equal(cc.final, 200);
	assert_int_equal(c.final, 487);
	/* A CANCEL of a non-INVITE is refused. */
	fix_req(req, sizeof(req), "OPTIONS", A_IP, B_IP, "UDP", "c2", 1, NULL);
	struct tsx *t2 = fix_start(a, b->node, req, &o);
	assert_int_equal(tsx_cancel(t2, NULL, NULL), EINVAL);
	sim_run(f.sim, 100);
	mem_deref(t2);
	mem_deref(t);
	fix_done(&f);
}

static void test_cancel_unknown(void **state)
{
	struct fix f;
	char req[512];

	(void)state;
	fix_init(&f, 1);
	struct ep *a = fix_ep(&f, A_IP, TP_UDP, false, NULL, 0, NULL);
	struct ep *b = fix_ep(&f, B_IP, TP_UDP, true, NULL, 0, NULL);
	fix_req(req, sizeof(req), "CANCEL", A_IP, B_IP, "UDP", "c9", 1, "z9hG4bKnone");
	sim_send(a->node, b->node, req);
	sim_run(f.sim, 10);
	assert_int_equal(b->r->ncancel_missed, 1);
	assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 481", true), 1);
	fix_done(&f);
}

static void req2543(char *out, size_t cap, const char *method, const char *callid, unsigned cseq,
		    const char *ftag, const char *ttag)
{
	snprintf(out, cap,
		 "%s sip:bob@" B_IP " SIP/2.0\r\nVia: SIP/2.0/UDP " A_IP ":5060\r\n"
		 "From: <sip:alice@" A_IP ">;tag=%s\r\nTo: <sip:bob@" B_IP ">%s%s\r\n"
		 "Call-ID: %s\r\nCSeq: %u %s\r\nContent-Length: 0\r\n\r\n",
		 method, ftag, ttag ? ";tag=" : "", ttag ? ttag : "", callid, cseq, method);
}

static void test_rfc2543_matching(void **state)
{
	struct fix f;
	char req[512];

	(void)state;
	fix_init(&f, 1);
	struct ep *a = fix_ep(&f, A_IP, TP_UDP, false, NULL, 0, NULL);
	struct ep *b = fix_ep(&f, B_IP, TP_UDP, true, NULL, 0, NULL);
	b->r->answer = 486;
	b->r->hold = true;
	req2543(req, sizeof(req), "INVITE", "old1", 5, "f1", NULL);
	sim_send(a->node, b->node, req);
	sim_run(f.sim, 100);
	sim_send(a->node, b->node, req); /* retransmission: the 486 again */
	sim_run(f.sim, 100);
	assert_int_equal(b->r->nreq, 1);
	assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 486", true), 2);
	struct tsx *t = b->r->held;
	/* An ACK whose To tag is not the one of our response: no match, stray. */
	req2543(req, sizeof(req), "ACK", "old1", 5, "f1", "other");
	sim_send(a->node, b->node, req);
	sim_run(f.sim, 10);
	assert_int_equal(b->r->nstray_req, 1);
	assert_int_equal(tsx_state(t), TSX_STATE_COMPLETED);
	/* The ACK with our To tag matches on Request-URI, tags, Call-ID, CSeq number, Via. */
	req2543(req, sizeof(req), "ACK", "old1", 5, "f1", tsx_tag(t));
	sim_send(a->node, b->node, req);
	sim_run(f.sim, 10);
	assert_int_equal(tsx_state(t), TSX_STATE_CONFIRMED);
	assert_int_equal(b->r->nstray_req, 1);
	/* Another CSeq, another From tag: new transactions. */
	req2543(req, sizeof(req), "INVITE", "old1", 6, "f1", NULL);
	sim_send(a->node, b->node, req);
	req2543(req, sizeof(req), "INVITE", "old1", 5, "f2", NULL);
	sim_send(a->node, b->node, req);
	sim_run(f.sim, 10);
	assert_int_equal(b->r->nreq, 3);
	/* A CANCEL finds its INVITE by the same rules. */
	b->r->answer = 0;
	b->r->prov = 180;
	req2543(req, sizeof(req), "INVITE", "old2", 1, "f3", NULL);
	sim_send(a->node, b->node, req);
	sim_run(f.sim, 10);
	t = b->r->held;
	assert_int_equal(tsx_state(t), TSX_STATE_PROCEEDING);
	req2543(req, sizeof(req), "CANCEL", "old2", 1, "f3", NULL);
	sim_send(a->node, b->node, req);
	sim_run(f.sim, 10);
	assert_int_equal(b->r->ncancel_found, 1);
	assert_int_equal(tsx_state(t), TSX_STATE_COMPLETED);
	assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 487", true), 1);
	/* A CANCEL retransmission matches the CANCEL transaction: answered, not handed up. */
	sim_send(a->node, b->node, req);
	sim_run(f.sim, 10);
	assert_int_equal(b->r->nreq_m[MSG_METHOD_CANCEL], 1);
	assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 200", true), 2);
	fix_done(&f);
}

static void test_transport_error_503(void **state)
{
	static const char *const methods[] = {"INVITE", "OPTIONS"};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(methods); i++) {
		struct fix f;
		struct call c = {0}, c2 = {0};
		char req[512];

		fix_init(&f, 1);
		struct ep *a = fix_ep(&f, A_IP, TP_UDP, true, NULL, 0, NULL);
		struct ep *b = fix_ep(&f, B_IP, TP_UDP, false, NULL, 0, NULL);
		a->node->fail_send = ENETUNREACH;
		fix_req(req, sizeof(req), methods[i], A_IP, B_IP, "UDP", "c1", 1, NULL);
		struct tsx *t = fix_start(a, b->node, req, &c);
		assert_int_equal(c.nfinal, 0); /* not from inside tsx_request */
		sim_run(f.sim, 1);
		assert_int_equal(c.final, 503);
		assert_true(c.synth);
		assert_int_equal(c.final_at, 0);
		assert_int_equal(tsx_state(t), TSX_STATE_TERMINATED);
		/* An error on a retransmission (Timer A / E at 500 ms). */
		a->node->fail_send = 0;
		fix_req(req, sizeof(req), methods[i], A_IP, B_IP, "UDP", "c2", 1, NULL);
		struct tsx *t2 = fix_start(a, b->node, req, &c2);
		sim_run(f.sim, 100);
		a->node->fail_send = ECONNREFUSED;
		sim_run(f.sim, 1000);
		assert_int_equal(c2.final, 503);
		assert_int_equal(c2.final_at, 501);
		assert_int_equal(c2.nfinal, 1);
		mem_deref(t2);
		mem_deref(t);
		fix_done(&f);
	}
}

static void test_server_transport_error(void **state)
{
	struct fix f;
	char req[512];

	(void)state;
	fix_init(&f, 1);
	struct ep *a = fix_ep(&f, A_IP, TP_UDP, false, NULL, 0, NULL);
	struct ep *b = fix_ep(&f, B_IP, TP_UDP, true, NULL, 0, NULL);
	b->r->hold = true;
	fix_req(req, sizeof(req), "INVITE", A_IP, B_IP, "UDP", "c1", 1, "z9hG4bK1");
	sim_send(a->node, b->node, req);
	sim_run(f.sim, 10);
	b->node->fail_send = EHOSTUNREACH;
	assert_int_equal(tsx_respond(b->r->held, 486, NULL, NULL, NULL, 0), EHOSTUNREACH);
	assert_int_equal(tsx_state(b->r->held), TSX_STATE_TERMINATED);
	assert_int_equal(b->r->nfail, 0);
	/* Timer G's retransmission fails: the TU hears of it through server_fail. */
	b->node->fail_send = 0;
	fix_req(req, sizeof(req), "INVITE", A_IP, B_IP, "UDP", "c2", 1, "z9hG4bK2");
	sim_send(a->node, b->node, req);
	sim_run(f.sim, 10);
	assert_int_equal(tsx_respond(b->r->held, 486, NULL, NULL, NULL, 0), 0);
	b->node->fail_send = EHOSTUNREACH;
	sim_run(f.sim, 1000);
	assert_int_equal(b->r->nfail, 1);
	assert_int_equal(b->r->fail_err, EHOSTUNREACH);
	assert_int_equal(b->r->fail_at, 520); /* answered at 20, Timer G at T1 */
	assert_int_equal(tsx_layer_count(b->l), 0);
	fix_done(&f);
}

static void test_api_errors(void **state)
{
	struct fix f;
	struct call c = {0};
	struct tsx *t = NULL;
	char req[512], resp[512];

	(void)state;
	fix_init(&f, 1);
	struct ep *a = fix_ep(&f, A_IP, TP_UDP, true, NULL, 0, NULL);
	struct ep *b = fix_ep(&f, B_IP, TP_UDP, true, NULL, 0, NULL);
	struct tp_dest d = sim_dest(b->node);
	c.loop = f.loop;
	/* No Via and no TSX_ADD_VIA: no branch to match on. */
	fix_req(req, sizeof(req), "OPTIONS", A_IP, B_IP, "UDP", "c1", 1, NULL);
	assert_int_equal(tsx_request(&t, a->l, &d, req, strlen(req), 0, fix_on_resp, &c), EBADMSG);
	assert_int_equal(tsx_request(&t, a->l, &d, "garbage", 7, 0, fix_on_resp, &c), EBADMSG);
	/* An ACK is no transaction. */
	fix_req(req, sizeof(req), "ACK", A_IP, B_IP, "UDP", "c1", 1, "z9hG4bKa");
	assert_int_equal(tsx_request(&t, a->l, &d, req, strlen(req), 0, fix_on_resp, &c), EBADMSG);
	assert_null(t);
	/* A caller-built request with its own branch from tsx_branch. */
	char br[TSX_BRANCH_MAX];
	assert_int_equal(tsx_branch(a->l, br, sizeof(br)), 26);
	fix_req(req, sizeof(req), "OPTIONS", A_IP, B_IP, "UDP", "c1", 1, br);
	b->r->hold = true;
	assert_int_equal(tsx_request(&t, a->l, &d, req, strlen(req), 0, fix_on_resp, &c), 0);
	assert_int_equal(tsx_respond(t, 200, NULL, NULL, NULL, 0), EINVAL); /* client side */
	sim_run(f.sim, 10);
	struct tsx *s = b->r->held;
	assert_int_equal(tsx_respond(s, 99, NULL, NULL, NULL, 0), EINVAL);
	assert_int_equal(tsx_set_tag(s, "bad tag", 7), EINVAL);
	assert_int_equal(tsx_set_tag(s, "mytag", 5), 0);
	assert_int_equal(tsx_send_response(s, "nonsense", 8), EBADMSG);
	assert_int_equal(tsx_respond(s, 200, "Fine", "X-Test: 1\r\n", "hi", 2), 0);
	assert_int_equal(tsx_set_tag(s, "late", 4), EALREADY);
	assert_int_equal(tsx_respond(s, 200, NULL, NULL, NULL, 0), EALREADY);
	assert_true(fix_last_has(&f, b->node->id, "SIP/2.0 200 Fine", "X-Test: 1\r\n"));
	assert_true(fix_last_has(&f, b->node->id, "SIP/2.0 200 Fine", ";tag=mytag"));
	assert_true(fix_last_has(&f, b->node->id, "SIP/2.0 200 Fine", "\r\n\r\nhi"));
	sim_run(f.sim, 10);
	assert_int_equal(c.final, 200);
	/* A pre-built response on a server transaction. */
	fix_req(req, sizeof(req), "MESSAGE", A_IP, B_IP, "UDP", "c2", 1, "z9hG4bKm");
	sim_send(a->node, b->node, req);
	sim_run(f.sim, 10);
	snprintf(resp, sizeof(resp),
		 "SIP/2.0 202 Accepted\r\nVia: SIP/2.0/UDP " A_IP ":5060;branch=z9hG4bKm\r\n"
		 "From: <sip:alice@" A_IP ">;tag=a1\r\nTo: <sip:bob@" B_IP ">;tag=pre\r\n"
		 "Call-ID: c2\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(tsx_send_response(b->r->held, resp, strlen(resp)), 0);
	assert_string_equal(tsx_tag(b->r->held), "pre");
	assert_int_equal(tsx_last_code(b->r->held), 202);
	assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 202", true), 1);
	mem_deref(t);
	fix_done(&f);
}

/* A client TU that checks the request is still readable when the final response comes. */
struct reqseen {
	struct call c;
	bool req_at_final;
};

static void on_resp_req(struct tsx *t, struct msg *m, const struct tp_rx *rx, void *arg)
{
	struct reqseen *s = arg;
	size_t len;

	if (m->status >= 200)
		s->req_at_final = tsx_request_buf(t, &len) != NULL && len > 0;
	fix_on_resp(t, m, rx, &s->c);
}

/*
 * What a transaction keeps once its final response is out (tsx.h,
 * tsx_request_buf): the request goes, matching and retransmission go on
 * with the key and the last response; a long To tag lives apart.
 */
static void test_shed(void **state)
{
	static const char long_tag[] = "0123456789abcdef0123456789abcdef-long-tag";
	struct fix f;
	struct reqseen rs = {0};
	char req[512], inv[512], resp[640];
	size_t len;

	(void)state;
	fix_init(&f, 1);
	struct ep *a = fix_ep(&f, A_IP, TP_UDP, true, NULL, 0, NULL);
	struct ep *b = fix_ep(&f, B_IP, TP_UDP, true, NULL, 0, NULL);
	b->r->hold = true;
	/*
	 * Server non-INVITE: Completed keeps the key and a recipe of the 200
	 * (reason, header lines, body); a retransmission gets the same bytes,
	 * the top Via rewritten again (rport, RFC 3581).
	 */
	fix_req(req, sizeof(req), "REGISTER", A_IP, B_IP, "UDP", "s1", 1, "z9hG4bKshed;rport");
	sim_send(a->node, b->node, req);
	sim_run(f.sim, 10);
	struct tsx *s = mem_ref(b->r->held);
	const char *rb = tsx_request_buf(s, &len);
	assert_non_null(rb);
	assert_int_equal(len, strlen(req));
	assert_memory_equal(rb, req, len);
	assert_int_equal(tsx_set_tag(s, long_tag, strlen(long_tag)), 0);
	assert_int_equal(tsx_respond(s, 200, "Fine", "X-Test: 1\r\n", "body", 4), 0);
	const struct sim_rec *first = sim_last(f.sim, b->node->id, "SIP/2.0 200");
	assert_non_null(first);
	char sent[640];
	assert_true(first->len < sizeof(sent));
	memcpy(sent, first->data, first->len + 1);
	assert_non_null(strstr(sent, ";rport=5060"));
	assert_string_equal(tsx_tag(s), long_tag);
	assert_null(tsx_request_buf(s, &len));
	assert_int_equal(len, 0);
	const char *br = tsx_branch_of(s, &len);
	assert_int_equal(len, strlen("z9hG4bKshed"));
	assert_memory_equal(br, "z9hG4bKshed", len);
	assert_int_equal(tsx_respond(s, 200, NULL, NULL, NULL, 0), EALREADY);
	sim_send(a->node, b->node, req); /* a retransmission: the same 200 again */
	sim_run(f.sim, 10);
	assert_int_equal(b->r->nreq, 1);
	assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 200", true), 2);
	const struct sim_rec *again = sim_last(f.sim, b->node->id, "SIP/2.0 200");
	assert_ptr_not_equal(again, first);
	assert_string_equal(again->data, sent);
	assert_non_null(strstr(sent, ";tag=" "0123456789abcdef0123456789abcdef-long-tag\r\n"));
	assert_non_null(strstr(sent, "SIP/2.0 200 Fine\r\n"));
	assert_non_null(strstr(sent, "X-Test: 1\r\nContent-Length: 4\r\n\r\nbody"));
	mem_deref(s);
	/* Server INVITE, 2xx from tsx_send_response: Accepted keeps the key only. */
	fix_req(inv, sizeof(inv), "INVITE", A_IP, B_IP, "UDP", "s2", 1, "z9hG4bKinv");
	sim_send(a->node, b->node, inv);
	sim_run(f.sim, 10);
	s = b->r->held;
	snprintf(resp, sizeof(resp),
		 "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP " A_IP ":5060;branch=z9hG4bKinv\r\n"
		 "From: <sip:alice@" A_IP ">;tag=a1\r\nTo: <sip:bob@" B_IP ">;tag=b2\r\n"
		 "Call-ID: s2\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@" B_IP ">\r\n"
		 "Content-Length: 0\r\n\r\n");
	assert_int_equal(tsx_send_response(s, resp, strlen(resp)), 0);
	assert_int_equal(tsx_state(s), TSX_STATE_ACCEPTED);
	assert_null(tsx_request_buf(s, &len));
	assert_int_equal(tsx_respond(s, 200, NULL, NULL, NULL, 0), EALREADY);
	assert_int_equal(tsx_send_response(s, resp, strlen(resp)), 0); /* TU retransmission */
	sim_send(a->node, b->node, inv); /* absorbed (RFC 6026 §7.1) */
	sim_run(f.sim, 10);
	assert_int_equal(b->r->nreq, 2);
	assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 200 OK", true), 2);
	/* Server INVITE, 2xx from tsx_respond: the request stays for the TU's retransmissions. */
	fix_req(inv, sizeof(inv), "INVITE", A_IP, B_IP, "UDP", "s3", 1, "z9hG4bKinv3");
	sim_send(a->node, b->node, inv);
	sim_run(f.sim, 10);
	s = b->r->held;
	assert_int_equal(tsx_respond(s, 200, NULL, NULL, NULL, 0), 0);
	assert_non_null(tsx_request_buf(s, &len));
	assert_int_equal(tsx_respond(s, 200, NULL, NULL, NULL, 0), 0);
	assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 200", true), 6);
	/* Client non-INVITE: the request is there for the final's callback, gone after. */
	b->r->answer = 202;
	b->r->hold = false;
	fix_req(req, sizeof(req), "SUBSCRIBE", A_IP, B_IP, "UDP", "s4", 1, NULL);
	struct tp_dest d = sim_dest(b->node);
	struct tsx *t;
	rs.c.loop = f.loop;
	assert_int_equal(tsx_request(&t, a->l, &d, req, strlen(req), TSX_ADD_VIA, on_resp_req,
				     &rs), 0);
	assert_non_null(tsx_request_buf(t, &len));
	sim_run(f.sim, 10);
	assert_int_equal(rs.c.final, 202);
	assert_true(rs.req_at_final);
	assert_int_equal(tsx_state(t), TSX_STATE_COMPLETED);
	assert_null(tsx_request_buf(t, &len));
	assert_int_equal(tsx_branch_of(t, &len)[0], 'z');
	assert_int_equal(len, 26);
	mem_deref(t);
	fix_done(&f);
}

/*
 * A Completed server non-INVITE transaction that the TU let go becomes a
 * smaller record (tsx_done.c): still counted, still answering
 * retransmissions with the same bytes (a built response from its recipe,
 * a pre-built one as sent), gone after Timer J; a transaction the TU still
 * holds stays whole.
 */
static void test_done_records(void **state)
{
	struct fix f;
	char req[512], resp[640], first[640];

	(void)state;
	fix_init(&f, 1);
	struct ep *a = fix_ep(&f, A_IP, TP_UDP, false, NULL, 0, NULL);
	struct ep *b = fix_ep(&f, B_IP, TP_UDP, true, NULL, 0, NULL);
	b->r->answer = 200;
	fix_req(req, sizeof(req), "OPTIONS", A_IP, B_IP, "UDP", "d1", 1, "z9hG4bKdone1;rport");
	size_t live = mem_live();
	sim_send(a->node, b->node, req);
	sim_run(f.sim, 10);
	assert_int_equal(tsx_layer_count(b->l), 1);
	assert_int_equal(mem_live(), live); /* the transaction object is gone: a record is left */
	const struct sim_rec *r = sim_last(f.sim, b->node->id, "SIP/2.0 200");
	assert_non_null(r);
	assert_true(r->len < sizeof(first));
	memcpy(first, r->data, r->len + 1);
	sim_send(a->node, b->node, req);
	sim_run(f.sim, 10);
	assert_int_equal(b->r->nreq, 1);
	r = sim_last(f.sim, b->node->id, "SIP/2.0 200");
	assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 200", true), 2);
	assert_string_equal(r->data, first);
	/* Timer J (64*T1 from the record, at most a loop turn late), then a new transaction. */
	sim_run(f.sim, 31975); /* now 31995 */
	assert_int_equal(tsx_layer_count(b->l), 1);
	sim_run(f.sim, 10);
	assert_int_equal(tsx_layer_count(b->l), 0);
	sim_send(a->node, b->node, req);
	sim_run(f.sim, 10);
	assert_int_equal(b->r->nreq, 2);
	/* A pre-built response, the transaction let go after sending it. */
	b->r->answer = 0;
	b->r->hold = true;
	fix_req(req, sizeof(req), "MESSAGE", A_IP, B_IP, "UDP", "d2", 1, "z9hG4bKdone2");
	sim_send(a->node, b->node, req);
	sim_run(f.sim, 10);
	snprintf(resp, sizeof(resp),
		 "SIP/2.0 202 Accepted\r\nVia: SIP/2.0/UDP " A_IP ":5060;branch=z9hG4bKdone2\r\n"
		 "From: <sip:alice@" A_IP ">;tag=a1\r\nTo: <sip:bob@" B_IP ">;tag=pre\r\n"
		 "Call-ID: d2\r\nCSeq: 1 MESSAGE\r\nX-Kept: yes\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(tsx_send_response(b->r->held, resp, strlen(resp)), 0);
	b->r->held = mem_deref(b->r->held);
	live = mem_live();
	sim_run(f.sim, 10);
	assert_int_equal(mem_live(), live - 1);
	sim_send(a->node, b->node, req);
	sim_run(f.sim, 10);
	assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 202", true), 2);
	assert_string_equal(sim_last(f.sim, b->node->id, "SIP/2.0 202")->data, resp);
	/* Held by the TU: the whole transaction stays, and goes at its own Timer J. */
	fix_req(req, sizeof(req), "MESSAGE", A_IP, B_IP, "UDP", "d3", 1, "z9hG4bKdone3");
	sim_send(a->node, b->node, req);
	sim_run(f.sim, 10);
	assert_int_equal(tsx_respond(b->r->held, 200, NULL, NULL, NULL, 0), 0);
	sim_run(f.sim, 10);
	assert_int_equal(tsx_state(b->r->held), TSX_STATE_COMPLETED);
	assert_int_equal(tsx_layer_count(b->l), 3); /* with the records of d1 (again) and d2 */
	/* The layer goes with a record and a held transaction in it: nothing leaks. */
	fix_done(&f);
}

/*
 * An INVITE whose 2xx is out and that the TU let go becomes a record for
 * Timer L (RFC 6026 §7.1): retransmissions absorbed, an ACK passed up, a
 * CANCEL answered 200 by the layer (§9.2) without the TU.
 */
static void test_done_invite(void **state)
{
	struct fix f;
	char inv[512], ack[512], cancel[512];

	(void)state;
	fix_init(&f, 1);
	struct ep *a = fix_ep(&f, A_IP, TP_UDP, false, NULL, 0, NULL);
	struct ep *b = fix_ep(&f, B_IP, TP_UDP, true, NULL, 0, NULL);
	b->r->answer = 200;
	fix_req(inv, sizeof(inv), "INVITE", A_IP, B_IP, "UDP", "i1", 1, "z9hG4bKinvd");
	fix_req(ack, sizeof(ack), "ACK", A_IP, B_IP, "UDP", "i1", 1, "z9hG4bKinvd");
	fix_req(cancel, sizeof(cancel), "CANCEL", A_IP, B_IP, "UDP", "i1", 1, "z9hG4bKinvd");
	size_t live = mem_live();
	sim_send(a->node, b->node, inv);
	sim_run(f.sim, 10);
	assert_int_equal(mem_live(), live); /* a record, not a transaction */
	assert_int_equal(tsx_layer_count(b->l), 1);
	sim_send(a->node, b->node, inv);
	sim_run(f.sim, 10);
	assert_int_equal(b->r->nreq, 1);
	assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 200", true), 1);
	sim_send(a->node, b->node, ack);
	sim_run(f.sim, 10);
	assert_int_equal(b->r->nack, 1);
	sim_send(a->node, b->node, cancel);
	sim_run(f.sim, 10);
	sim_send(a->node, b->node, cancel);
	sim_run(f.sim, 10);
	assert_int_equal(b->r->nreq, 1); /* the TU saw neither CANCEL */
	assert_int_equal(b->r->ncancel_found + b->r->ncancel_missed, 0);
	assert_int_equal(sim_count(f.sim, b->node->id, "SIP/2.0 200", true), 3);
	assert_true(fix_last_has(&f, b->node->id, "SIP/2.0 200", "CSeq: 1 CANCEL"));
	assert_int_equal(tsx_layer_count(b->l), 2);
	sim_run(f.sim, 32000);
	assert_int_equal(tsx_layer_count(b->l), 0);
	fix_done(&f);
}

static void test_teardown_live(void **state)
{
	struct fix f;
	struct call c = {0};
	char req[512];

	(void)state;
	fix_init(&f, 1);
	struct ep *a = fix_ep(&f, A_IP, TP_UDP, true, NULL, 0, NULL);
	struct ep *b = fix_ep(&f, B_IP, TP_UDP, true, NULL, 0, NULL);
	b->r->hold = true;
	fix_req(req, sizeof(req), "INVITE", A_IP, B_IP, "UDP", "c1", 1, NULL);
	struct tsx *t = fix_start(a, b->node, req, &c);
	sim_run(f.sim, 100);
	assert_int_equal(tsx_layer_count(a->l), 1);
	assert_int_equal(tsx_layer_count(b->l), 1);
	tsx_layer_free(a->l);
	a->l = NULL;
	assert_int_equal(tsx_state(t), TSX_STATE_TERMINATED);
	assert_null(tsx_layer_of(t));
	assert_int_equal(tsx_cancel(t, NULL, NULL), ESRCH);
	mem_deref(t);
	assert_int_equal(c.nfinal, 0);
	fix_done(&f);
}

static void test_oom(void **state)
{
	(void)state;
	for (long n = 0; n < 12; n++) {
		struct fix f;
		struct call c = {0};
		struct tsx *t = NULL;
		char req[512];

		fix_init(&f, 1);
		struct ep *a = fix_ep(&f, A_IP, TP_UDP, true, NULL, 0, NULL);
		struct ep *b = fix_ep(&f, B_IP, TP_UDP, true, NULL, 0, NULL);
		struct tp_dest d = sim_dest(b->node);
		c.loop = f.loop;
		b->r->answer = 486;
		fix_req(req, sizeof(req), "INVITE", A_IP, B_IP, "UDP", "c1", 1, NULL);
		mem_fail_after(n);
		int err = tsx_request(&t, a->l, &d, req, strlen(req), TSX_ADD_VIA, fix_on_resp, &c);
		sim_run(f.sim, 40000);
		mem_fail_after(-1);
		assert_true(err == 0 || err == ENOMEM);
		assert_true(c.nfinal <= 1);
		mem_deref(t);
		fix_done(&f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_cancel_pending),
		cmocka_unit_test(test_cancel_unknown),
		cmocka_unit_test(test_rfc2543_matching),
		cmocka_unit_test(test_transport_error_503),
		cmocka_unit_test(test_server_transport_error),
		cmocka_unit_test(test_api_errors),
		cmocka_unit_test(test_shed),
		cmocka_unit_test(test_done_records),
		cmocka_unit_test(test_done_invite),
		cmocka_unit_test(test_teardown_live),
		cmocka_unit_test(test_oom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
