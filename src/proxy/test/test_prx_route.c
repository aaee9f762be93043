/*
 * test_prx_route.c - the proxy (prx.h) on the simulated network
 * (prx_fx.h): static routes, proxy authentication, loop detection
 * (RFC 3261 §16.3 item 4) and the merge of 401/407 challenges (§16.7 item 7).
 */
#include "prx_fx.c"

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
	fx_run(f, 100);
	const struct sim_rec *r = sim_last(f->sim, f->p->id, "INVITE sip:x@far.example SIP/2.0");
	assert_non_null(r);
	assert_int_equal(r->to, f->b2->id);
	assert_non_null(strstr(r->data, "\r\nMax-Forwards: 70\r\n"));
	assert_non_null(strstr(r->data, "\r\nRecord-Route: <sip:10.0.0.1:5060;lr>\r\n"));
	fx_reply_from(f, f->b2, r->data, 486, "1 INVITE");
	fx_run(f, 100);
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
	fx_run(f, 100);
	assert_non_null(sim_last(f->sim, f->p->id, "SIP/2.0 502"));
}

/* PRX_AUTH (§22.3): 407 with a Proxy-Authenticate for the From host; another user's: 403. */
static void test_auth(void **state)
{
	struct fx *f = *state;
	f->flags = PRX_LOOKUP | PRX_AUTH;
	fx_invite(f, "bob");
	fx_run(f, 100);
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
	fx_run(f, 100);
	assert_non_null(sim_last(f->sim, f->p->id, "SIP/2.0 403"));
	assert_null(sim_last(f->sim, f->p->id, "OPTIONS sip:bob@10.0.0.3"));
}

/* True if s[0..n) is n lower-case hex digits. */
static bool hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", s[i]) || !s[i])
			return false;
	return true;
}

/*
 * §16.3 item 4: a binding that is the Request-URI itself sends the INVITE
 * back to P unchanged; its branch "z9hG4bKR<ww><16>.<16 hex>" carries the
 * hash, so the second pass answers 482 and that goes to the caller.
 */
static void test_loop(void **state)
{
	struct fx *f = *state;
	const char *ct[] = {"sip:loop@10.0.0.1"};
	const int q[] = {-1};
	fx_bind(f, "sip:loop@10.0.0.1", ct, q, 1);
	f->loop_check = true;
	fx_invite(f, "loop");
	fx_run(f, 100);
	const struct sim_rec *r = fx_sent_to(f, 0, f->p, "INVITE sip:loop@10.0.0.1 ");
	assert_non_null(r);
	const char *b = strstr(r->data, "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKR00");
	assert_non_null(b);
	b += strlen("Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKR00");
	assert_true(hex_run(b, 16) && b[16] == '.' && hex_run(b + 17, 16) && b[33] == ';');
	assert_int_equal(fx_count_to(f, 0, f->p, "INVITE "), 1); /* no second lap */
	assert_non_null(fx_sent_to(f, 0, f->p, "SIP/2.0 482"));
	r = sim_last(f->sim, f->p->id, "SIP/2.0 482");
	assert_non_null(r);
	assert_int_equal(r->to, f->a->id);
	sim_run(f->sim, 64000);
}

/*
 * A spiral is no loop: the INVITE for alias comes back to P for carol (the
 * Request-URI changed), and goes on to carol's binding at B.
 */
static void test_spiral(void **state)
{
	struct fx *f = *state;
	const char *ct[] = {"sip:carol@10.0.0.1"}, *ct2[] = {"sip:carol@10.0.0.3:5060"};
	const int q[] = {-1};
	fx_bind(f, "sip:alias@10.0.0.1", ct, q, 1);
	fx_bind(f, "sip:carol@10.0.0.1", ct2, q, 1);
	f->loop_check = true;
	fx_invite(f, "alias");
	fx_run(f, 100);
	assert_non_null(fx_sent_to(f, 0, f->p, "INVITE sip:carol@10.0.0.1 "));
	const struct sim_rec *r = fx_sent_to(f, 0, f->b, "INVITE sip:carol@10.0.0.3:5060 ");
	assert_non_null(r);
	assert_null(sim_last(f->sim, f->p->id, "SIP/2.0 482"));
	char req[4096];
	snprintf(req, sizeof(req), "%s", r->data);
	assert_non_null(strstr(req, "\r\nMax-Forwards: 8\r\n")); /* two hops through P */
	fx_reply(f, req, 486, "1 INVITE");
	fx_run(f, 100);
	r = sim_last(f->sim, f->p->id, "SIP/2.0 486");
	assert_non_null(r);
	sim_run(f->sim, 64000);
}

/*
 * §16.7 item 7: B answers 407, B2 401, B3 486: the best (the first 4xx,
 * here the 407) goes upstream with B2's WWW-Authenticate added, each
 * challenge once and unchanged.
 */
static void test_challenge_merge(void **state)
{
	struct fx *f = *state;
	const char *ct[] = {"sip:m@10.0.0.3:5060", "sip:m@10.0.0.4:5060", "sip:m@10.0.0.5:5060"};
	const int q[] = {-1, -1, -1};
	fx_bind(f, "sip:merge@10.0.0.1", ct, q, 3);
	fx_invite(f, "merge");
	fx_run(f, 100);
	struct sim_node *n[] = {f->b, f->b2, f->b3};
	char req[3][2048];
	for (unsigned i = 0; i < 3; i++)
		fx_got_req(f, 0, n[i], "INVITE ", req[i], sizeof(req[i]));
	assert_true(req[0][0] && req[1][0] && req[2][0]);
	fx_reply_hdrs(f, f->b, req[0], 407,
		      "Proxy-Authenticate: Digest realm=\"b\", nonce=\"1\"\r\n");
	fx_run(f, 100);
	fx_reply_hdrs(f, f->b2, req[1], 401,
		      "WWW-Authenticate: Digest realm=\"b2\", nonce=\"2\"\r\n"
		      "WWW-Authenticate: Digest realm=\"b2\", nonce=\"3\", algorithm=SHA-256\r\n");
	fx_run(f, 100);
	fx_reply_hdrs(f, f->b3, req[2], 486, "");
	fx_run(f, 100);
	const struct sim_rec *r = sim_last(f->sim, f->p->id, "SIP/2.0 407");
	assert_non_null(r);
	assert_int_equal(r->to, f->a->id);
	const char *want[] = {"\r\nProxy-Authenticate: Digest realm=\"b\", nonce=\"1\"\r\n",
			      "\r\nWWW-Authenticate: Digest realm=\"b2\", nonce=\"2\"\r\n",
			      "\r\nWWW-Authenticate: Digest realm=\"b2\", nonce=\"3\", "
			      "algorithm=SHA-256\r\n"};
	for (unsigned i = 0; i < 3; i++) {
		const char *at = strstr(r->data, want[i]);
		assert_non_null(at);
		assert_null(strstr(at + 2, want[i])); /* once */
	}
	size_t len = strlen(r->data); /* added after the last header line, the body unchanged */
	assert_true(len > 4 && !strcmp(r->data + len - 4, "\r\n\r\n"));
	assert_non_null(strstr(r->data, "\r\nContent-Length: 0\r\n"));
	sim_run(f->sim, 64000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_static_route, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_auth, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_loop, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_spiral, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_challenge_merge, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
