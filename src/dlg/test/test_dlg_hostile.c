/*
 * test_dlg_hostile.c - what a dialog refuses (RFC 3261 §12.1): responses
 * and requests without To tag, without or with several or bad Contacts,
 * with bad or too many Record-Routes, oversized or with control characters;
 * bad arguments; and an OOM pass over creation and change.  Whatever is
 * accepted still builds messages that parse and validate.
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

/* Dialog-creating responses a UAC must refuse, and a few it must take. */
struct hcase {
	const char *name;
	const char *status;
	const char *totag;
	const char *hdrs;
	int want;
};

#define RR17                                                                                       \
	"Record-Route: <sip:a;lr>, <sip:b;lr>, <sip:c;lr>, <sip:d;lr>, <sip:e;lr>, <sip:f;lr>\r\n" \
	"Record-Route: <sip:g;lr>, <sip:h;lr>, <sip:i;lr>, <sip:j;lr>, <sip:k;lr>, <sip:l;lr>\r\n" \
	"Record-Route: <sip:m;lr>, <sip:n;lr>, <sip:o;lr>, <sip:p;lr>, <sip:q;lr>\r\n"

static const struct hcase hcases[] = {
    {"2xx without To tag", "200 OK", "", "Contact: " B_CONTACT "\r\n", EBADMSG},
    {"1xx without To tag", "180 Ringing", "", "Contact: " B_CONTACT "\r\n", EBADMSG},
    {"no Contact", "200 OK", ";tag=t", "", EBADMSG},
    {"two Contacts", "200 OK", ";tag=t", "Contact: <sip:a@h>, <sip:b@h>\r\n", EBADMSG},
    {"two Contact lines", "200 OK", ";tag=t", "Contact: <sip:a@h>\r\nContact: <sip:b@h>\r\n",
     EBADMSG},
    {"Contact *", "200 OK", ";tag=t", "Contact: *\r\n", EBADMSG},
    {"tel Contact", "200 OK", ";tag=t", "Contact: <tel:+15551234567>\r\n", EBADMSG},
    {"http Contact", "183 Progress", ";tag=t", "Contact: <http://example.com/>\r\n", EBADMSG},
    {"bad Contact", "200 OK", ";tag=t", "Contact: <sip:bob@>\r\n", EBADMSG},
    {"Contact junk", "200 OK", ";tag=t", "Contact: <<sip:bob@h>>\r\n", EBADMSG},
    {"Record-Route without <>", "200 OK", ";tag=t",
     "Record-Route: sip:p1.example.com\r\nContact: " B_CONTACT "\r\n", EBADMSG},
    {"tel Record-Route", "200 OK", ";tag=t",
     "Record-Route: <tel:+1555>\r\nContact: " B_CONTACT "\r\n", EBADMSG},
    {"empty Record-Route", "200 OK", ";tag=t", "Record-Route: \r\nContact: " B_CONTACT "\r\n",
     EBADMSG},
    {"17 Record-Routes", "200 OK", ";tag=t", RR17 "Contact: " B_CONTACT "\r\n", EMSGSIZE},
    {"control character in a Record-Route", "200 OK", ";tag=t",
     "Record-Route: \"a\x01b\" <sip:p;lr>\r\nContact: " B_CONTACT "\r\n", EBADMSG},
    {"100 Trying", "100 Trying", ";tag=t", "Contact: " B_CONTACT "\r\n", EINVAL},
    {"486", "486 Busy Here", ";tag=t", "Contact: " B_CONTACT "\r\n", EINVAL},
    {"folded Record-Route is fine", "200 OK", ";tag=t",
     "Record-Route: <sip:ss1.atlanta.example.com;lr>\r\n\t;x=1\r\nContact: " B_CONTACT "\r\n", 0},
    {"sips Contact, 16 routes", "200 OK", ";tag=t",
     "Record-Route: <sip:a;lr>, <sip:b;lr>, <sip:c;lr>, <sip:d;lr>, <sip:e;lr>, <sip:f;lr>\r\n"
     "Record-Route: <sip:g;lr>, <sip:h;lr>, <sip:i;lr>, <sip:j;lr>, <sip:k;lr>, <sip:l;lr>\r\n"
     "Record-Route: <sip:m;lr>, <sip:n;lr>, <sip:o;lr>, <sip:p;lr>\r\n"
     "Contact: <sips:bob@192.0.2.4>\r\n",
     0},
};

static void test_hostile_uac(void **state)
{
	(void)state;
	char b[4096], big[12000];
	struct dlg *d = NULL;
	struct msg m;

	for (size_t i = 0; i < ARRAY_SIZE(hcases); i++) {
		const struct hcase *k = &hcases[i];
		print_message("case: %s\n", k->name);
		d = NULL;
		assert_int_equal(uac_from(&d, resp_a(b, sizeof(b), k->status, k->totag, k->hdrs)),
				 k->want);
		if (k->want) {
			assert_null(d);
			continue;
		}
		assert_non_null(d);
		for (unsigned r = 0; r < dlg_route_count(d); r++)
			assert_null(strpbrk(dlg_route(d, r), "\r\n"));
		struct dlg_msg dm = {.buf = b, .cap = sizeof(b)};
		struct dlg_extra x = {.via = "SIP/2.0/UDP h;branch=z9hG4bKh"};
		assert_int_equal(dlg_request(d, "BYE", &x, &dm), 0);
		valid(&m, b, dm.len);
		d = mem_deref(d);
	}

	/* To tag too long for a dialog; a route set bigger than DLG_STATE_MAX */
	char tag[DLG_TAG_MAX + 8];
	memset(tag, 'a', sizeof(tag));
	memcpy(tag, ";tag=", 5);
	tag[sizeof(tag) - 1] = '\0';
	assert_int_equal(
	    uac_from(&d, resp_a(big, sizeof(big), "200 OK", tag, "Contact: " B_CONTACT "\r\n")),
	    EBADMSG);
	char rr[11000], host[700];
	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	size_t n = 0;
	for (int i = 0; i < 14; i++)
		n +=
		    (size_t)snprintf(rr + n, sizeof(rr) - n, "Record-Route: <sip:%s;lr>\r\n", host);
	snprintf(rr + n, sizeof(rr) - n, "Contact: " B_CONTACT "\r\n");
	assert_int_equal(uac_from(&d, resp_a(big, sizeof(big), "200 OK", ";tag=t", rr)), EMSGSIZE);

	/* responses to something else, and requests, are not dialog-creating responses */
	parse_str(&m, resp_ax(b, sizeof(b), "200 OK", ";tag=t", "Contact: " B_CONTACT "\r\n", 1));
	assert_int_equal(dlg_uac_create(&d, invite_a, sizeof(invite_a) - 1, &m), EINVAL);
	parse_str(&m, invite_b);
	assert_int_equal(dlg_uac_create(&d, invite_a, sizeof(invite_a) - 1, &m), EINVAL);
	parse_str(&m, resp_a(b, sizeof(b), "200 OK", ";tag=t", "Contact: " B_CONTACT "\r\n"));
	assert_int_equal(dlg_uac_create(&d, "INVITE", 6, &m), EINVAL);
	/* our request must be outside a dialog (no To tag) with exactly one Contact */
	req_b(big, sizeof(big), "INVITE", 314159, "Contact: " A_CONTACT "\r\n");
	assert_int_equal(dlg_uac_create(&d, big, strlen(big), &m), EINVAL);
	snprintf(big, sizeof(big), "%s", invite_a);
	memcpy(strstr(big, "Contact: "), "Kontakt: ", 9);
	assert_int_equal(dlg_uac_create(&d, big, strlen(big), &m), EINVAL);
	assert_null(d);
}

static void test_hostile_uas(void **state)
{
	(void)state;
	char in[2048], b[2048], v[256];
	struct dlg_uas_opts o = {.contact = B_CONTACT};
	struct dlg_msg dm = {.buf = b, .cap = sizeof(b)};
	struct dlg_extra x = {.via = "SIP/2.0/UDP h;branch=z9hG4bKh"};
	struct dlg *d = NULL;
	struct msg m;

	parse_str(&m, invite_b);
	o.contact = NULL;
	assert_int_equal(dlg_uas_create(&d, &m, &o), EINVAL);
	o.contact = "*";
	assert_int_equal(dlg_uas_create(&d, &m, &o), EINVAL);
	o.contact = "<tel:+1555>";
	assert_int_equal(dlg_uas_create(&d, &m, &o), EINVAL);
	o.contact = B_CONTACT;
	o.local_tag = "a b";
	assert_int_equal(dlg_uas_create(&d, &m, &o), EINVAL);
	o.local_tag = "";
	assert_int_equal(dlg_uas_create(&d, &m, &o), EINVAL);
	assert_int_equal(dlg_uas_create(&d, &m, NULL), EINVAL);
	o.local_tag = NULL;
	/* a request inside a dialog already, a response */
	parse_str(&m, req_b(in, sizeof(in), "INVITE", 3, "Contact: <sip:bob@h>\r\n"));
	assert_int_equal(dlg_uas_create(&d, &m, &o), EINVAL);
	parse_str(&m, resp_a(in, sizeof(in), "200 OK", ";tag=t", "Contact: " B_CONTACT "\r\n"));
	assert_int_equal(dlg_uas_create(&d, &m, &o), EINVAL);

	const char *bad[] = {
	    "", /* no Contact */
	    "Contact: <sip:a@h>, <sip:b@h>\r\n",
	    "Contact: <sip:a@h>\r\nRecord-Route: sip:p\r\n",
	    "Contact: <sip:a@h>\r\nRecord-Route: <tel:+1>\r\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(in, sizeof(in),
			 "INVITE sip:bob@192.0.2.4 SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			 "To: <sip:bob@b>\r\nFrom: <sip:a@a>;tag=1\r\nCall-ID: c1\r\n"
			 "CSeq: 1 INVITE\r\n%sContent-Length: 0\r\n\r\n",
			 bad[i]);
		parse_str(&m, in);
		assert_int_equal(dlg_uas_create(&d, &m, &o), EBADMSG);
	}
	assert_null(d);

	/* a NUL inside a quoted display name would cut the name when printed */
	static const char nul[] =
	    "INVITE sip:bob@192.0.2.4 SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
	    "To: <sip:bob@b>\r\nFrom: \"a\0b\" <sip:a@a>;tag=1\r\nCall-ID: c1\r\n"
	    "CSeq: 1 INVITE\r\nContact: <sip:a@h>\r\nContent-Length: 0\r\n\r\n";
	parse_ok(&m, nul, sizeof(nul) - 1);
	assert_int_equal(dlg_uas_create(&d, &m, &o), EBADMSG);
	assert_null(d);

	/* an RFC 2543 caller without From tag: the remote tag stays empty */
	snprintf(in, sizeof(in),
		 "INVITE sip:bob@192.0.2.4 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		 "To: <sip:bob@b>\r\nFrom: \"Old\" <sip:a@a>\r\nCall-ID: c1@h\r\n"
		 "CSeq: 1 INVITE\r\nContact: <sip:a@192.0.2.7>\r\nContent-Length: 0\r\n\r\n");
	parse_str(&m, in);
	o.tls = true; /* not secure: the Request-URI is not sips */
	assert_int_equal(dlg_uas_create(&d, &m, &o), 0);
	assert_false(dlg_secure(d));
	assert_string_equal(dlg_remote_tag(d), "");
	assert_string_equal(dlg_remote_uri(d), "\"Old\" <sip:a@a>");
	dlg_uas_answered(d, 200);
	assert_int_equal(dlg_request(d, "BYE", &x, &dm), 0);
	valid(&m, b, dm.len);
	assert_string_equal(hval(&m, MSG_HDR_TO, 0, v, sizeof(v)), "\"Old\" <sip:a@a>");
	/* our new Contact goes into later target refreshes */
	assert_int_equal(dlg_set_contact(d, "<sip:bob@192.0.2.40:5070>"), 0);
	assert_int_equal(dlg_set_contact(d, "<bad"), EINVAL);
	assert_int_equal(dlg_set_contact(d, "\"\x01\" <sip:a@h>"), EINVAL);
	assert_int_equal(dlg_request(d, "UPDATE", &x, &dm), 0);
	valid(&m, b, dm.len);
	assert_string_equal(hval(&m, MSG_HDR_CONTACT, 0, v, sizeof(v)),
			    "<sip:bob@192.0.2.40:5070>");
	mem_deref(d);

	/* sips Request-URI over TLS: secure (§12.1.1) */
	snprintf(in, sizeof(in),
		 "INVITE sips:bob@biloxi.example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/TLS h;branch=z9hG4bK1\r\n"
		 "To: <sips:bob@biloxi.example.com>\r\nFrom: <sips:a@a>;tag=9\r\nCall-ID: c2@h\r\n"
		 "CSeq: 1 INVITE\r\nContact: <sips:a@192.0.2.7>\r\nContent-Length: 0\r\n\r\n");
	parse_str(&m, in);
	assert_int_equal(dlg_uas_create(&d, &m, &o), 0);
	assert_true(dlg_secure(d));
	mem_deref(d);
}

/* Every allocation of creation and change fails in turn: an error, never a leak. */
static void test_oom(void **state)
{
	(void)state;
	char b[2048];
	struct msg m;
	int err = ENOMEM;

	for (long n = 0; err == ENOMEM && n < 20; n++) {
		struct dlg *d = NULL;
		mem_fail_after(n);
		err = uac_from(&d, resp_a(b, sizeof(b), "180 Ringing", ";tag=o1",
					  RR_BOTH "Contact: " B_CONTACT "\r\n"));
		if (!err) {
			parse_str(&m, resp_a(b, sizeof(b), "200 OK", ";tag=o1",
					     "Contact: <sip:bob@192.0.2.5>\r\n"));
			err = dlg_uac_update(d, &m);
			if (err)
				assert_int_equal(dlg_state(d), DLG_EARLY);
			mem_deref(d);
		}
		mem_fail_after(-1);
	}
	assert_int_equal(err, 0);
	/* a target refresh without memory: 500, and the dialog as it was */
	static const char reinvite[] =
	    "INVITE sip:bob@192.0.2.4 SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKo\r\n"
	    "Max-Forwards: 70\r\n"
	    "To: Bob <sip:bob@biloxi.example.com>;tag=t\r\n"
	    "From: Alice <sip:alice@atlanta.example.com>;tag=" A_TAG "\r\n"
	    "Call-ID: " A_CALLID "\r\n"
	    "CSeq: 314160 INVITE\r\n"
	    "Contact: <sip:alice@192.0.2.9>\r\n"
	    "Content-Length: 0\r\n\r\n";
	uint32_t rc = 0;
	err = ENOMEM;
	for (long n = 0; err == ENOMEM && n < 20; n++) {
		struct dlg *d = NULL;
		mem_fail_after(n);
		err = uas_from(&d, invite_b, "t");
		if (!err) {
			dlg_uas_answered(d, 200);
			valid(&m, reinvite, sizeof(reinvite) - 1);
			unsigned st = dlg_receive(d, &m);
			assert_true(dlg_remote_cseq(d, &rc));
			if (st == 500) {
				err = ENOMEM;
				assert_int_equal(rc, 314159);
				assert_string_equal(dlg_remote_target(d),
						    "sip:alice@pc33.atlanta.example.com");
			} else {
				assert_int_equal(st, 0);
				assert_int_equal(rc, 314160);
				assert_string_equal(dlg_remote_target(d), "sip:alice@192.0.2.9");
			}
			mem_deref(d);
		}
		mem_fail_after(-1);
	}
	assert_int_equal(err, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hostile_uac, leak_setup, leak_teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_uas, leak_setup, leak_teardown),
	    cmocka_unit_test_setup_teardown(test_oom, leak_setup, leak_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
