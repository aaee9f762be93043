/*
 * test_dlg.c - dialogs from real message text (RFC 3261 §12): UAC and UAS
 * creation, route set order, requests within a dialog with loose and strict
 * routing (§12.2.1.1), CSeq, the ACK of a 2xx (§13.2.2.4), requests and
 * responses received in a dialog (§12.2.2, §12.2.1.2).  Hostile input and
 * OOM: test_dlg_hostile.c; tables, forks and the fit with the transaction
 * layer: test_dlg_fork.c.
 * Every message built here is parsed back and passes msg_validate.
 */
#include "dlg_fix.h"

static size_t live_at_start;

static int leak_setup(void **state)
{
	(void)state;
	live_at_start = mem_live();
	return 0;
}

static int leak_teardown(void **state)
{
	(void)state;
	assert_int_equal(mem_live(), live_at_start);
	return 0;
}

static bool all_hex(const char *s)
{
	return strspn(s, "0123456789abcdef") == strlen(s);
}

static void test_tags(void **state)
{
	(void)state;
	char a[DLG_CALLID_LEN + 1], b[DLG_CALLID_LEN + 1], small[DLG_TAG_LEN];

	assert_int_equal(dlg_tag_new(a, sizeof(a)), 0);
	assert_int_equal(dlg_tag_new(b, sizeof(b)), 0);
	assert_int_equal(strlen(a), DLG_TAG_LEN);
	assert_true(all_hex(a));
	assert_string_not_equal(a, b);
	assert_int_equal(dlg_callid_new(a, sizeof(a)), 0);
	assert_int_equal(dlg_callid_new(b, sizeof(b)), 0);
	assert_int_equal(strlen(a), DLG_CALLID_LEN);
	assert_true(all_hex(a));
	assert_string_not_equal(a, b);
	assert_int_equal(dlg_tag_new(small, sizeof(small)), EMSGSIZE);
	assert_int_equal(dlg_callid_new(a, DLG_CALLID_LEN), EMSGSIZE);
}

static void test_uac_early_then_confirmed(void **state)
{
	(void)state;
	char b[2048];
	struct dlg *d = NULL;
	struct msg m;
	uint32_t n = 0;

	assert_int_equal(uac_from(&d, resp_a(b, sizeof(b), "180 Ringing", ";tag=a6c85cf",
					     RR_BOTH "Contact: " B_CONTACT "\r\n")),
			 0);
	assert_int_equal(dlg_state(d), DLG_EARLY);
	assert_true(dlg_is_uac(d));
	assert_false(dlg_secure(d));
	assert_false(dlg_was_confirmed(d));
	assert_string_equal(dlg_call_id(d), A_CALLID);
	assert_string_equal(dlg_local_tag(d), A_TAG);
	assert_string_equal(dlg_remote_tag(d), "a6c85cf");
	assert_string_equal(dlg_local_uri(d), "Alice <sip:alice@atlanta.example.com>");
	assert_string_equal(dlg_remote_uri(d), "Bob <sip:bob@biloxi.example.com>");
	assert_string_equal(dlg_remote_target(d), "sip:bob@192.0.2.4");
	assert_string_equal(dlg_contact(d), A_CONTACT);
	assert_true(dlg_local_cseq(d, &n));
	assert_int_equal(n, 314159);
	assert_false(dlg_remote_cseq(d, &n));
	/* §12.1.2: the UAC takes the Record-Route of the response in reverse */
	assert_int_equal(dlg_route_count(d), 2);
	assert_string_equal(dlg_route(d, 0), "<sip:ss1.atlanta.example.com;lr>");
	assert_string_equal(dlg_route(d, 1), "<sip:ss2.biloxi.example.com;lr>");
	assert_null(dlg_route(d, 2));

	/* a later 1xx of the same dialog with a Contact moves the early target */
	parse_str(&m, resp_a(b, sizeof(b), "183 Session Progress", ";tag=a6c85cf",
			     "Contact: <sip:bob@192.0.2.5>\r\n"));
	assert_int_equal(dlg_uac_update(d, &m), 0);
	assert_string_equal(dlg_remote_target(d), "sip:bob@192.0.2.5");
	assert_int_equal(dlg_route_count(d), 2);
	assert_int_equal(dlg_state(d), DLG_EARLY);

	/* the 2xx confirms it, and route set and target come from the 2xx (§13.2.2.4) */
	parse_str(&m, resp_a(b, sizeof(b), "200 OK", ";tag=a6c85cf",
			     "Record-Route: <sip:ss3.biloxi.example.com;lr>\r\n" RR_BOTH
			     "Contact: <sip:bob@192.0.2.44;transport=udp>\r\n"));
	assert_int_equal(dlg_uac_update(d, &m), 0);
	assert_int_equal(dlg_state(d), DLG_CONFIRMED);
	assert_true(dlg_was_confirmed(d));
	assert_int_equal(dlg_route_count(d), 3);
	assert_string_equal(dlg_route(d, 0), "<sip:ss1.atlanta.example.com;lr>");
	assert_string_equal(dlg_route(d, 2), "<sip:ss3.biloxi.example.com;lr>");
	assert_string_equal(dlg_remote_target(d), "sip:bob@192.0.2.44;transport=udp");
	assert_string_equal(dlg_call_id(d), A_CALLID);
	assert_string_equal(dlg_remote_uri(d), "Bob <sip:bob@biloxi.example.com>");

	/* a retransmitted 2xx (even with another Contact) changes nothing */
	parse_str(&m, resp_a(b, sizeof(b), "200 OK", ";tag=a6c85cf",
			     "Contact: <sip:bob@192.0.2.45>\r\n"));
	assert_int_equal(dlg_uac_update(d, &m), 0);
	assert_string_equal(dlg_remote_target(d), "sip:bob@192.0.2.44;transport=udp");
	assert_int_equal(dlg_route_count(d), 3);

	/* another To tag, or another request's CSeq, is not this dialog's */
	parse_str(&m, resp_a(b, sizeof(b), "200 OK", ";tag=zzz", "Contact: " B_CONTACT "\r\n"));
	assert_int_equal(dlg_uac_update(d, &m), EINVAL);
	parse_str(&m, resp_ax(b, sizeof(b), "200 OK", ";tag=a6c85cf", "Contact: " B_CONTACT "\r\n",
			      314160));
	assert_int_equal(dlg_uac_update(d, &m), EINVAL);
	mem_deref(d);
}

static void test_uac_direct_2xx_and_failure(void **state)
{
	(void)state;
	char b[2048];
	struct dlg *d = NULL;
	struct msg m;

	assert_int_equal(uac_from(&d, resp_a(b, sizeof(b), "200 OK", ";tag=x1",
					     "Contact: <sips:bob@192.0.2.4>\r\n")),
			 0);
	assert_int_equal(dlg_state(d), DLG_CONFIRMED);
	assert_int_equal(dlg_route_count(d), 0);
	assert_string_equal(dlg_remote_target(d), "sips:bob@192.0.2.4");
	d = mem_deref(d);

	/* §12.3: a non-2xx final ends the early dialog; a bad 2xx leaves it as it was */
	assert_int_equal(uac_from(&d, resp_a(b, sizeof(b), "180 Ringing", ";tag=x2",
					     "Contact: " B_CONTACT "\r\n")),
			 0);
	parse_str(&m, resp_a(b, sizeof(b), "200 OK", ";tag=x2", ""));
	assert_int_equal(dlg_uac_update(d, &m), EBADMSG);
	assert_int_equal(dlg_state(d), DLG_EARLY);
	parse_str(&m, resp_a(b, sizeof(b), "486 Busy Here", ";tag=x2", ""));
	assert_int_equal(dlg_uac_update(d, &m), 0);
	assert_int_equal(dlg_state(d), DLG_TERMINATED);
	assert_false(dlg_was_confirmed(d));
	mem_deref(d);
}

static void test_uas_create(void **state)
{
	(void)state;
	char b[4096], h[512];
	struct dlg *d = NULL, *a = NULL;
	struct msg req, m;
	struct msg_out o;
	size_t len = 0;
	uint32_t n = 0;

	assert_int_equal(uas_from(&d, invite_b, "8321234356"), 0);
	assert_int_equal(dlg_state(d), DLG_EARLY);
	assert_false(dlg_is_uac(d));
	assert_string_equal(dlg_local_tag(d), "8321234356");
	assert_string_equal(dlg_remote_tag(d), A_TAG);
	assert_string_equal(dlg_local_uri(d), "Bob <sip:bob@biloxi.example.com>");
	assert_string_equal(dlg_remote_uri(d), "Alice <sip:alice@atlanta.example.com>");
	assert_string_equal(dlg_remote_target(d), "sip:alice@pc33.atlanta.example.com");
	assert_string_equal(dlg_contact(d), B_CONTACT);
	assert_true(dlg_remote_cseq(d, &n));
	assert_int_equal(n, 314159);
	assert_false(dlg_local_cseq(d, &n));
	/* §12.1.1: the UAS keeps Record-Route in order */
	assert_int_equal(dlg_route_count(d), 2);
	assert_string_equal(dlg_route(d, 0), "<sip:ss2.biloxi.example.com;lr>");
	assert_string_equal(dlg_route(d, 1), "<sip:ss1.atlanta.example.com;lr>");

	assert_int_equal(dlg_response_hdrs(d, true, h, sizeof(h), &len), 0);
	assert_string_equal(h, RR_BOTH "Contact: " B_CONTACT "\r\n");
	assert_int_equal(len, strlen(h));
	assert_int_equal(dlg_response_hdrs(d, false, h, sizeof(h), &len), 0);
	assert_string_equal(h, "Contact: " B_CONTACT "\r\n");
	assert_int_equal(dlg_response_hdrs(d, true, h, 40, &len), EMSGSIZE);

	/* Bob's 200 with those lines gives Alice the same route set, reversed */
	parse_str(&req, invite_b);
	assert_int_equal(dlg_response_hdrs(d, true, h, sizeof(h), &len), 0);
	msg_out_init(&o, b, sizeof(b));
	msg_out_response(&o, &req, 200, NULL, dlg_local_tag(d));
	msg_out_raw(&o, h, len);
	assert_int_equal(msg_out_end(&o, NULL, 0), 0);
	valid(&m, b, o.len);
	assert_int_equal(dlg_uac_create(&a, invite_a, sizeof(invite_a) - 1, &m), 0);
	assert_int_equal(dlg_state(a), DLG_CONFIRMED);
	assert_string_equal(dlg_route(a, 0), dlg_route(d, 1));
	assert_string_equal(dlg_route(a, 1), dlg_route(d, 0));
	assert_string_equal(dlg_remote_target(a), "sip:bob@192.0.2.4");
	assert_string_equal(dlg_remote_tag(a), dlg_local_tag(d));
	assert_int_equal(dlg_response_hdrs(a, true, h, sizeof(h), &len), EINVAL);

	dlg_uas_answered(d, 180);
	assert_int_equal(dlg_state(d), DLG_EARLY);
	dlg_uas_answered(d, 200);
	assert_int_equal(dlg_state(d), DLG_CONFIRMED);
	dlg_uas_answered(d, 486); /* only an early dialog changes */
	assert_int_equal(dlg_state(d), DLG_CONFIRMED);
	mem_deref(a);
	mem_deref(d);

	/* a rejected INVITE ends its early dialog; a NULL tag gets a random one */
	assert_int_equal(uas_from(&d, invite_b, NULL), 0);
	assert_int_equal(strlen(dlg_local_tag(d)), DLG_TAG_LEN);
	dlg_uas_answered(d, 603);
	assert_int_equal(dlg_state(d), DLG_TERMINATED);
	mem_deref(d);
}

/* Requests in Alice's confirmed dialog through loose routers (§12.2.1.1). */
struct rcase {
	const char *method;
	bool contact; /* a target refresh */
	const char *hdrs;
	const char *body;
};

static const struct rcase rcases[] = {
    {"BYE", false, NULL, NULL},
    {"INVITE", true, "Content-Type: application/sdp\r\n",
     "v=0\r\no=alice 2890844526 2890844527 IN IP4 pc33.atlanta.example.com\r\n"},
    {"UPDATE", true, NULL, NULL},
    {"INFO", false, "Content-Type: application/dtmf-relay\r\n", "Signal=5\r\nDuration=160\r\n"},
    {"MESSAGE", false, "Content-Type: text/plain\r\n", "see you at 5"},
    {"NOTIFY", true,
     "Event: refer\r\nSubscription-State: active;expires=60\r\nContent-Type: message/sipfrag\r\n",
     "SIP/2.0 200 OK\r\n"},
    {"REFER", true, "Refer-To: <sip:carol@chicago.example.com>\r\n", NULL},
    {"PRACK", false, "RAck: 1 314159 INVITE\r\n", NULL},
    {"OPTIONS", false, "Accept: application/sdp\r\n", NULL},
    {"FOO", false, NULL, NULL},
};

static void test_requests_loose(void **state)
{
	(void)state;
	char b[4096], v[512];
	struct dlg *d = alice_confirmed();
	struct msg m;
	uint32_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(rcases); i++) {
		const struct rcase *k = &rcases[i];
		struct dlg_extra x = {.via = "SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bKdlg1",
				      .hdrs = k->hdrs,
				      .body = k->body,
				      .bodylen = k->body ? strlen(k->body) : 0};
		struct dlg_msg dm = {.buf = b, .cap = sizeof(b)};
		print_message("case: %s\n", k->method);
		assert_true(dlg_msg_size(d, &x) <= sizeof(b));
		assert_int_equal(dlg_request(d, k->method, &x, &dm), 0);
		valid(&m, b, dm.len);
		assert_true(m.is_request);
		assert_true(span_eq(b, m.method_s, k->method));
		assert_string_equal(ruri(&m, v, sizeof(v)), "sip:bob@192.0.2.4");
		assert_int_equal(hcount(&m, MSG_HDR_ROUTE), 2);
		assert_string_equal(hval(&m, MSG_HDR_ROUTE, 0, v, sizeof(v)),
				    "<sip:ss1.atlanta.example.com;lr>");
		assert_string_equal(hval(&m, MSG_HDR_ROUTE, 1, v, sizeof(v)),
				    "<sip:ss2.biloxi.example.com;lr>");
		assert_string_equal(hop(&dm, v, sizeof(v)), "sip:ss1.atlanta.example.com;lr");
		assert_string_equal(hval(&m, MSG_HDR_VIA, 0, v, sizeof(v)), x.via);
		assert_string_equal(hval(&m, MSG_HDR_MAX_FORWARDS, 0, v, sizeof(v)), "70");
		assert_string_equal(hval(&m, MSG_HDR_FROM, 0, v, sizeof(v)),
				    "Alice <sip:alice@atlanta.example.com>;tag=" A_TAG);
		assert_string_equal(hval(&m, MSG_HDR_TO, 0, v, sizeof(v)),
				    "Bob <sip:bob@biloxi.example.com>;tag=a6c85cf");
		assert_string_equal(hval(&m, MSG_HDR_CALL_ID, 0, v, sizeof(v)), A_CALLID);
		assert_int_equal(msg_cseq(&m)->num, 314160 + i);
		assert_true(span_eq(b, msg_cseq(&m)->method, k->method));
		assert_int_equal(dm.cseq, 314160 + i);
		assert_int_equal(hcount(&m, MSG_HDR_CONTACT), k->contact ? 1 : 0);
		if (k->contact)
			assert_string_equal(hval(&m, MSG_HDR_CONTACT, 0, v, sizeof(v)), A_CONTACT);
		assert_int_equal(m.body.len, x.bodylen);
		if (k->body)
			assert_memory_equal(b + m.body.off, k->body, x.bodylen);
		assert_true(dlg_local_cseq(d, &n));
		assert_int_equal(n, 314160 + i);
	}
	mem_deref(d);
}

/*
 * Strict and loose route sets at the UAS (the route set is the request's
 * Record-Route in order); the first row is the example of §12.2.1.1.
 */
struct scase {
	const char *rr;	     /* Record-Route lines of the INVITE */
	const char *contact; /* its Contact value */
	const char *ruri;    /* expected Request-URI of the BYE */
	const char *routes[6];
	const char *hop;
};

static const struct scase scases[] = {
    {"Record-Route: <sip:proxy1>\r\nRecord-Route: <sip:proxy2>\r\n"
     "Record-Route: <sip:proxy3;lr>\r\nRecord-Route: <sip:proxy4>\r\n",
     "<sip:user@remoteua>",
     "sip:proxy1",
     {"<sip:proxy2>", "<sip:proxy3;lr>", "<sip:proxy4>", "<sip:user@remoteua>"},
     "sip:proxy1"},
    /* the strict entry loses its method param and headers as a Request-URI (§19.1.1) */
    {"Record-Route: <sip:p1.example.com:5070;method=INVITE;maddr=192.0.2.9?Subject=x>\r\n",
     "<sip:user@remoteua;method=INVITE;transport=tcp?X=y>",
     "sip:p1.example.com:5070;maddr=192.0.2.9",
     {"<sip:user@remoteua;transport=tcp>"},
     "sip:p1.example.com:5070;maddr=192.0.2.9"},
    /* loose: Request-URI is the target, the request goes to the first Route */
    {"Record-Route: <sip:p1.example.com;lr>, <sip:[2001:db8::1]:5080;lr;transport=tcp>\r\n",
     "\"Remote UA\" <sip:user@[2001:db8::9]:5062;transport=tcp>;expires=60",
     "sip:user@[2001:db8::9]:5062;transport=tcp",
     {"<sip:p1.example.com;lr>", "<sip:[2001:db8::1]:5080;lr;transport=tcp>"},
     "sip:p1.example.com;lr"},
    /* no route set: straight to the target */
    {"",
     "sip:user@192.0.2.200:5099",
     "sip:user@192.0.2.200:5099",
     {NULL},
     "sip:user@192.0.2.200:5099"},
};

static void test_requests_strict(void **state)
{
	(void)state;
	char in[2048], b[4096], v[512];
	struct msg m;

	for (size_t i = 0; i < ARRAY_SIZE(scases); i++) {
		const struct scase *k = &scases[i];
		struct dlg_extra x = {.via = "SIP/2.0/UDP u2.domain.com;branch=z9hG4bKs1"};
		struct dlg_msg dm = {.buf = b, .cap = sizeof(b)};
		struct dlg *d = NULL;
		unsigned nr = 0;

		print_message("case: %zu\n", i);
		snprintf(in, sizeof(in),
			 "INVITE sip:callee@u2.domain.com SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP remoteua;branch=z9hG4bK0\r\n"
			 "Max-Forwards: 69\r\n%s"
			 "To: <sip:callee@u2.domain.com>\r\n"
			 "From: <sip:user@remoteua>;tag=r1\r\n"
			 "Call-ID: strict-%zu@remoteua\r\n"
			 "CSeq: 7 INVITE\r\n"
			 "Contact: %s\r\n"
			 "Content-Length: 0\r\n\r\n",
			 k->rr, i, k->contact);
		valid(&m, in, strlen(in));
		assert_int_equal(uas_from(&d, in, "u2tag"), 0);
		dlg_uas_answered(d, 200);
		assert_int_equal(dlg_request(d, "BYE", &x, &dm), 0);
		valid(&m, b, dm.len);
		assert_string_equal(ruri(&m, v, sizeof(v)), k->ruri);
		while (k->routes[nr])
			nr++;
		assert_int_equal(hcount(&m, MSG_HDR_ROUTE), nr);
		for (unsigned r = 0; r < nr; r++)
			assert_string_equal(hval(&m, MSG_HDR_ROUTE, r, v, sizeof(v)), k->routes[r]);
		assert_string_equal(hop(&dm, v, sizeof(v)), k->hop);
		assert_string_equal(hval(&m, MSG_HDR_TO, 0, v, sizeof(v)),
				    "<sip:user@remoteua>;tag=r1");
		assert_string_equal(hval(&m, MSG_HDR_FROM, 0, v, sizeof(v)),
				    "<sip:callee@u2.domain.com>;tag=u2tag");
		mem_deref(d);
	}
}

static void test_cseq(void **state)
{
	(void)state;
	char b[4096], small[64], in[2048];
	struct dlg_msg dm = {.buf = b, .cap = sizeof(b)};
	struct dlg_msg tiny = {.buf = small, .cap = sizeof(small)};
	struct dlg_extra bad = {.hdrs = "X-A: 1"};
	struct dlg *d = NULL;
	struct msg m;
	uint32_t first, n = 0;

	/* a UAS starts its own CSeq space at random (below 2^16 here) and counts up */
	assert_int_equal(uas_from(&d, invite_b, "bobtag"), 0);
	assert_int_equal(dlg_request(d, "BYE", NULL, &dm), EINVAL); /* §15: not while early */
	assert_int_equal(dlg_request(d, "INFO", NULL, &dm), 0);
	first = dm.cseq;
	assert_true(first >= 1 && first <= 65535);
	assert_true(dlg_local_cseq(d, &n));
	assert_int_equal(n, first);
	assert_int_equal(dlg_request(d, "INFO", NULL, &tiny), EMSGSIZE);
	assert_int_equal(dlg_request(d, "INFO", &bad, &dm), EINVAL);
	bad.hdrs = "X-A: 1\r\n\r\nINVITE x\r\n";
	assert_int_equal(dlg_request(d, "INFO", &bad, &dm), EINVAL);
	bad.hdrs = NULL;
	bad.bodylen = 3;
	assert_int_equal(dlg_request(d, "INFO", &bad, &dm), EINVAL);
	assert_int_equal(dlg_request(d, "ACK", NULL, &dm), EINVAL);
	assert_int_equal(dlg_request(d, "CANCEL", NULL, &dm), EINVAL);
	assert_int_equal(dlg_request(d, "BY E", NULL, &dm), EINVAL);
	assert_int_equal(dlg_request(d, "", NULL, &dm), EINVAL);
	assert_int_equal(dlg_request(d, "UPDATE", NULL, &dm), 0);
	assert_int_equal(dm.cseq, first + 1); /* failures did not use a number */
	dlg_terminate(d);
	assert_int_equal(dlg_request(d, "INFO", NULL, &dm), ESRCH);
	mem_deref(d);

	/* §8.1.1.5: CSeq stays below 2^31 */
	snprintf(in, sizeof(in), INVITE_HEAD("2147483646") "Content-Length: 0\r\n\r\n");
	parse_str(&m, resp_ax(b, sizeof(b), "200 OK", ";tag=t", "Contact: " B_CONTACT "\r\n",
			      2147483646u));
	assert_int_equal(dlg_uac_create(&d, in, strlen(in), &m), 0);
	assert_int_equal(dlg_request(d, "BYE", NULL, &dm), 0);
	assert_int_equal(dm.cseq, 2147483647u);
	assert_int_equal(dlg_request(d, "BYE", NULL, &dm), EOVERFLOW);
	mem_deref(d);
}

#define PAUTH                                                                                      \
	"Proxy-Authorization: Digest username=\"alice\", realm=\"atlanta.example.com\", "          \
	"nonce=\"wf84f1ceczx41ae6cbe5aea9c8e88d359\", uri=\"sip:bob@biloxi.example.com\", "        \
	"response=\"42ce3cef44b22f50c6a6071bc8\"\r\n"

static void test_ack(void **state)
{
	(void)state;
	char b[4096], inv[4096], v[512], other[2048];
	struct dlg *d = alice_confirmed();
	struct dlg_extra x = {.via = "SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bKack1"};
	struct dlg_msg dm = {.buf = b, .cap = sizeof(b)};
	struct dlg_msg im = {.buf = inv, .cap = sizeof(inv)};
	struct msg m;
	uint32_t n = 0;

	/* §13.2.2.4: the INVITE's CSeq number, method ACK, the route set, no Contact */
	assert_int_equal(dlg_ack(d, invite_a, sizeof(invite_a) - 1, &x, &dm), 0);
	valid(&m, b, dm.len);
	assert_int_equal(m.method, MSG_METHOD_ACK);
	assert_string_equal(ruri(&m, v, sizeof(v)), "sip:bob@192.0.2.4");
	assert_string_equal(hval(&m, MSG_HDR_CSEQ, 0, v, sizeof(v)), "314159 ACK");
	assert_int_equal(hcount(&m, MSG_HDR_ROUTE), 2);
	assert_int_equal(hcount(&m, MSG_HDR_CONTACT), 0);
	assert_int_equal(hcount(&m, MSG_HDR_PROXY_AUTHORIZATION), 0);
	assert_string_equal(hval(&m, MSG_HDR_VIA, 0, v, sizeof(v)), x.via);
	assert_string_equal(hop(&dm, v, sizeof(v)), "sip:ss1.atlanta.example.com;lr");
	assert_true(dlg_local_cseq(d, &n));
	assert_int_equal(n, 314159);

	/* a re-INVITE with credentials: its ACK has its number and the same credentials */
	struct dlg_extra rx = {.hdrs = PAUTH "Authorization: Digest username=\"alice\", "
					     "realm=\"b\", nonce=\"n\", uri=\"sip:bob@b\", "
					     "response=\"0123\"\r\n"};
	assert_int_equal(dlg_request(d, "INVITE", &rx, &im), 0);
	x.body = "v=0\r\n";
	x.bodylen = 5;
	x.hdrs = "Content-Type: application/sdp\r\n";
	assert_int_equal(dlg_ack(d, inv, im.len, &x, &dm), 0);
	valid(&m, b, dm.len);
	assert_string_equal(hval(&m, MSG_HDR_CSEQ, 0, v, sizeof(v)), "314160 ACK");
	assert_int_equal(hcount(&m, MSG_HDR_PROXY_AUTHORIZATION), 1);
	assert_int_equal(hcount(&m, MSG_HDR_AUTHORIZATION), 1);
	assert_true(strstr(hval(&m, MSG_HDR_PROXY_AUTHORIZATION, 0, v, sizeof(v)),
			   "response=\"42ce3cef44b22f50c6a6071bc8\"") != NULL);
	assert_int_equal(m.body.len, 5);
	assert_true(dlg_local_cseq(d, &n));
	assert_int_equal(n, 314160);

	/* errors: no Via, not an INVITE, another dialog's INVITE */
	x.via = NULL;
	assert_int_equal(dlg_ack(d, invite_a, sizeof(invite_a) - 1, &x, &dm), EINVAL);
	assert_int_equal(dlg_ack(d, invite_a, sizeof(invite_a) - 1, NULL, &dm), EINVAL);
	x.via = "SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bKack2";
	assert_int_equal(dlg_request(d, "INFO", NULL, &im), 0);
	assert_int_equal(dlg_ack(d, inv, im.len, &x, &dm), EINVAL);
	snprintf(other, sizeof(other), "%s", invite_a);
	memcpy(strstr(other, "a84b4c76"), "b84b4c76", 8);
	assert_int_equal(dlg_ack(d, other, strlen(other), &x, &dm), EINVAL);
	assert_int_equal(dlg_ack(d, "garbage", 7, &x, &dm), EINVAL);
	/* a terminated dialog still ACKs a retransmitted 2xx */
	dlg_terminate(d);
	assert_int_equal(dlg_ack(d, invite_a, sizeof(invite_a) - 1, &x, &dm), 0);
	valid(&m, b, dm.len);
	mem_deref(d);
}

/* Bob's requests reaching Alice's dialog, in order (§12.2.2). */
struct step {
	const char *method;
	unsigned cseq;
	const char *hdrs;
	unsigned want;	    /* status, 0: accepted */
	const char *target; /* remote target afterwards */
	enum dlg_state state;
	uint32_t rcseq; /* remote CSeq afterwards */
};

static const struct step steps[] = {
    {"INFO", 231, "", 0, "sip:bob@192.0.2.4", DLG_CONFIRMED, 231},
    {"INFO", 230, "", 500, "sip:bob@192.0.2.4", DLG_CONFIRMED, 231},
    {"INFO", 231, "", 0, "sip:bob@192.0.2.4", DLG_CONFIRMED, 231},
    {"INVITE", 232, "Contact: <sip:bob@192.0.2.99>\r\n", 0, "sip:bob@192.0.2.99", DLG_CONFIRMED,
     232},
    {"ACK", 232, "", 0, "sip:bob@192.0.2.99", DLG_CONFIRMED, 232},
    {"UPDATE", 233, "Contact: <sip:bob@192.0.2.98>, <sip:bob@192.0.2.97>\r\n", 400,
     "sip:bob@192.0.2.99", DLG_CONFIRMED, 232},
    {"UPDATE", 233, "Contact: *\r\n", 400, "sip:bob@192.0.2.99", DLG_CONFIRMED, 232},
    {"UPDATE", 233, "Contact: <tel:+15551234567>\r\n", 400, "sip:bob@192.0.2.99", DLG_CONFIRMED,
     232},
    {"UPDATE", 233, "Contact: <sips:bob@bob.example.com>\r\n", 0, "sips:bob@bob.example.com",
     DLG_CONFIRMED, 233},
    {"INFO", 234, "Contact: <sip:bob@10.0.0.1>\r\n", 0, "sips:bob@bob.example.com", DLG_CONFIRMED,
     234},
    {"ACK", 100, "", 0, "sips:bob@bob.example.com", DLG_CONFIRMED, 234},
    {"BYE", 235, "", 0, "sips:bob@bob.example.com", DLG_TERMINATED, 235},
    {"INFO", 236, "", 481, "sips:bob@bob.example.com", DLG_TERMINATED, 235},
    {"ACK", 237, "", 0, "sips:bob@bob.example.com", DLG_TERMINATED, 235},
};

static void test_receive(void **state)
{
	(void)state;
	char b[2048];
	struct dlg *d = alice_confirmed();
	struct msg m;
	uint32_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		const struct step *k = &steps[i];
		print_message("step %zu: %s %u\n", i, k->method, k->cseq);
		req_b(b, sizeof(b), k->method, k->cseq, k->hdrs);
		valid(&m, b, strlen(b));
		assert_int_equal(dlg_receive(d, &m), k->want);
		assert_string_equal(dlg_remote_target(d), k->target);
		assert_int_equal(dlg_state(d), k->state);
		assert_true(dlg_remote_cseq(d, &n));
		assert_int_equal(n, k->rcseq);
	}
	mem_deref(d);

	/* another dialog's request gets 481; a response is no request */
	d = alice_confirmed();
	req_b(b, sizeof(b), "INFO", 5, "");
	memcpy(strstr(b, "tag=a6c85cf"), "tag=a6c85cX", 11);
	parse_str(&m, b);
	assert_int_equal(dlg_receive(d, &m), 481);
	parse_str(&m, resp_b(b, sizeof(b), 200, "INFO", 5, ""));
	assert_int_equal(dlg_receive(d, &m), 400);
	assert_false(dlg_remote_cseq(d, &n));
	mem_deref(d);
}

/* Bob's responses to Alice's in-dialog requests (§12.2.1.2, §15.1.1). */
struct pcase {
	const char *method;
	unsigned status;
	const char *hdrs;
	int want;
	enum dlg_state state;
	const char *target;
};

static const struct pcase pcases[] = {
    {"INVITE", 200, "Contact: <sip:bob@192.0.2.77>\r\n", 0, DLG_CONFIRMED, "sip:bob@192.0.2.77"},
    {"INVITE", 200, "", 0, DLG_CONFIRMED, "sip:bob@192.0.2.4"},
    {"INVITE", 200, "Contact: <sip:a@h1>, <sip:b@h2>\r\n", EBADMSG, DLG_CONFIRMED,
     "sip:bob@192.0.2.4"},
    {"INVITE", 491, "Contact: <sip:bob@192.0.2.77>\r\n", 0, DLG_CONFIRMED, "sip:bob@192.0.2.4"},
    {"INVITE", 180, "Contact: <sip:bob@192.0.2.77>\r\n", 0, DLG_CONFIRMED, "sip:bob@192.0.2.4"},
    {"UPDATE", 200, "Contact: <sip:bob@192.0.2.78>\r\n", 0, DLG_CONFIRMED, "sip:bob@192.0.2.78"},
    {"INFO", 200, "Contact: <sip:bob@192.0.2.79>\r\n", 0, DLG_CONFIRMED, "sip:bob@192.0.2.4"},
    {"INFO", 481, "", 0, DLG_TERMINATED, "sip:bob@192.0.2.4"},
    {"OPTIONS", 408, "", 0, DLG_TERMINATED, "sip:bob@192.0.2.4"},
    {"INFO", 500, "", 0, DLG_CONFIRMED, "sip:bob@192.0.2.4"},
    {"BYE", 200, "", 0, DLG_TERMINATED, "sip:bob@192.0.2.4"},
    {"BYE", 401, "", 0, DLG_CONFIRMED, "sip:bob@192.0.2.4"},
    {"BYE", 407, "", 0, DLG_CONFIRMED, "sip:bob@192.0.2.4"},
    {"BYE", 500, "", 0, DLG_TERMINATED, "sip:bob@192.0.2.4"},
    {"BYE", 100, "", 0, DLG_CONFIRMED, "sip:bob@192.0.2.4"},
};

static void test_response(void **state)
{
	(void)state;
	char b[2048];
	struct msg m;

	for (size_t i = 0; i < ARRAY_SIZE(pcases); i++) {
		const struct pcase *k = &pcases[i];
		struct dlg *d = alice_confirmed();
		print_message("case: %s %u\n", k->method, k->status);
		resp_b(b, sizeof(b), k->status, k->method, 314160, k->hdrs);
		valid(&m, b, strlen(b));
		assert_int_equal(dlg_response(d, &m), k->want);
		assert_int_equal(dlg_state(d), k->state);
		assert_string_equal(dlg_remote_target(d), k->target);
		mem_deref(d);
	}

	/* not this dialog's: another From tag, another Call-ID, a request */
	struct dlg *d = alice_confirmed();
	resp_b(b, sizeof(b), 481, "INFO", 314160, "");
	memcpy(strstr(b, "tag=" A_TAG), "tag=2928301774", 14);
	parse_str(&m, b);
	assert_int_equal(dlg_response(d, &m), EINVAL);
	resp_b(b, sizeof(b), 481, "INFO", 314160, "");
	memcpy(strstr(b, "a84b4c76"), "a84b4c77", 8);
	parse_str(&m, b);
	assert_int_equal(dlg_response(d, &m), EINVAL);
	parse_str(&m, req_b(b, sizeof(b), "BYE", 9, ""));
	assert_int_equal(dlg_response(d, &m), EINVAL);
	assert_int_equal(dlg_state(d), DLG_CONFIRMED);
	mem_deref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_tags, leak_setup, leak_teardown),
	    cmocka_unit_test_setup_teardown(test_uac_early_then_confirmed, leak_setup,
					    leak_teardown),
	    cmocka_unit_test_setup_teardown(test_uac_direct_2xx_and_failure, leak_setup,
					    leak_teardown),
	    cmocka_unit_test_setup_teardown(test_uas_create, leak_setup, leak_teardown),
	    cmocka_unit_test_setup_teardown(test_requests_loose, leak_setup, leak_teardown),
	    cmocka_unit_test_setup_teardown(test_requests_strict, leak_setup, leak_teardown),
	    cmocka_unit_test_setup_teardown(test_cseq, leak_setup, leak_teardown),
	    cmocka_unit_test_setup_teardown(test_ack, leak_setup, leak_teardown),
	    cmocka_unit_test_setup_teardown(test_receive, leak_setup, leak_teardown),
	    cmocka_unit_test_setup_teardown(test_response, leak_setup, leak_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
