/*
 * test_dlg_fork.c - dialog tables (RFC 3261 §12.2.2: 481 for an unknown
 * dialog, routing by dialog id), forked dialog-creating requests (§12.1.2,
 * §12.3, §13.2.2.4: several early dialogs, a second 2xx ACKed and ended
 * with ACK + BYE), a whole call between a UAC and a UAS dialog, and the fit
 * with the transaction layer (tsx_request adds the Via; the 408 it makes up
 * ends the dialog).  Every message built is parsed back and validated.
 */
#include "dlg_fix.h"
#include "ringlet/loop.h"
#include "ringlet/tsx.h"

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

static void test_table(void **state)
{
	(void)state;
	char b[2048];
	struct dlg_table *t = NULL;
	struct dlg *a = alice_confirmed(), *dup = alice_confirmed(), *out = NULL;
	struct msg m;

	assert_int_equal(dlg_table_alloc(&t, 0), 0);
	assert_int_equal(dlg_table_add(t, a), 0);
	assert_int_equal(dlg_table_add(t, a), EALREADY);
	assert_int_equal(dlg_table_add(t, dup), EEXIST);
	assert_int_equal(dlg_table_count(t), 1);
	dup = mem_deref(dup);
	assert_int_equal(mem_nrefs(a), 2);

	/* a request names the dialog by To tag (local) and From tag (remote) */
	parse_str(&m, req_b(b, sizeof(b), "INFO", 5, ""));
	assert_ptr_equal(dlg_table_match(t, &m), a);
	assert_int_equal(dlg_table_request(t, &m, &out), 0);
	assert_ptr_equal(out, a);
	/* a response the other way round */
	parse_str(&m, resp_b(b, sizeof(b), 200, "INFO", 314160, ""));
	assert_ptr_equal(dlg_table_match(t, &m), a);
	assert_int_equal(dlg_table_request(t, &m, &out), 400);
	assert_null(out);
	/* lower CSeq: 500 (§12.2.2) */
	parse_str(&m, req_b(b, sizeof(b), "INFO", 4, ""));
	assert_int_equal(dlg_table_request(t, &m, &out), 500);
	assert_null(out);
	/* a To tag of no dialog: 481; an ACK of no dialog: dropped */
	req_b(b, sizeof(b), "INFO", 6, "");
	memcpy(strstr(b, "tag=" A_TAG), "tag=0928301774", 14);
	parse_str(&m, b);
	assert_null(dlg_table_match(t, &m));
	assert_int_equal(dlg_table_request(t, &m, &out), 481);
	req_b(b, sizeof(b), "ACK", 6, "");
	memcpy(strstr(b, "tag=" A_TAG), "tag=0928301774", 14);
	parse_str(&m, b);
	assert_int_equal(dlg_table_request(t, &m, &out), 0);
	assert_null(out);
	/* no To tag: outside any dialog */
	parse_str(&m, invite_b);
	assert_null(dlg_table_match(t, &m));
	assert_int_equal(dlg_table_request(t, &m, &out), 0);
	assert_null(out);
	/* unreadable ids: 400, but never for an ACK */
	req_b(b, sizeof(b), "INFO", 7, "");
	memcpy(strstr(b, "Call-ID"), "Call-IX", 7);
	parse_str(&m, b);
	assert_int_equal(dlg_table_request(t, &m, &out), 400);
	req_b(b, sizeof(b), "ACK", 7, "");
	memcpy(strstr(b, "Call-ID"), "Call-IX", 7);
	parse_str(&m, b);
	assert_int_equal(dlg_table_request(t, &m, &out), 0);

	/* BYE ends it; purge takes terminated dialogs out */
	parse_str(&m, req_b(b, sizeof(b), "BYE", 8, ""));
	assert_int_equal(dlg_table_request(t, &m, &out), 0);
	assert_int_equal(dlg_state(out), DLG_TERMINATED);
	assert_int_equal(dlg_table_purge(t), 1);
	assert_int_equal(dlg_table_count(t), 0);
	assert_int_equal(mem_nrefs(a), 1);
	assert_int_equal(dlg_table_request(t, &m, &out), 481);
	dlg_table_remove(t, a); /* not in it: nothing */
	assert_int_equal(mem_nrefs(a), 1);
	mem_deref(a);

	/* many dialogs: each found again; remove; the table drops the rest when freed */
	char cid[64], in[2048];
	struct dlg *keep[300];
	for (unsigned i = 0; i < ARRAY_SIZE(keep); i++) {
		snprintf(cid, sizeof(cid), "%u-%s", i, "c@h");
		snprintf(in, sizeof(in),
			 "INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK%u\r\n"
			 "To: <sip:b@h>\r\nFrom: <sip:a@h>;tag=f%u\r\nCall-ID: %s\r\n"
			 "CSeq: 1 INVITE\r\nContact: <sip:a@h>\r\nContent-Length: 0\r\n\r\n",
			 i, i % 7, cid);
		assert_int_equal(uas_from(&keep[i], in, "l1"), 0);
		assert_int_equal(dlg_table_add(t, keep[i]), 0);
		mem_deref(keep[i]);
	}
	assert_int_equal(dlg_table_count(t), ARRAY_SIZE(keep));
	for (unsigned i = 0; i < ARRAY_SIZE(keep); i++) {
		snprintf(in, sizeof(in),
			 "BYE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n"
			 "From: <sip:a@h>;tag=f%u\r\nTo: <sip:b@h>;tag=l1\r\nCall-ID: %u-c@h\r\n"
			 "CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
			 i % 7, i);
		parse_str(&m, in);
		assert_ptr_equal(dlg_table_match(t, &m), keep[i]);
	}
	dlg_table_remove(t, keep[0]);
	assert_int_equal(dlg_table_count(t), ARRAY_SIZE(keep) - 1);
	mem_deref(t);
}

/* Call fork f with response text s; returns the error, fills ev and d. */
static int feed(struct dlg_fork *f, const char *s, enum dlg_event *ev, struct dlg **d)
{
	struct msg m;

	valid(&m, s, strlen(s));
	*ev = (enum dlg_event)99;
	*d = (struct dlg *)&m; /* must be overwritten on success */
	return dlg_fork_response(f, &m, d, ev);
}

static void test_fork(void **state)
{
	(void)state;
	char b[2048], ab[2048], bb[2048], v[256];
	struct dlg_table *t = NULL;
	struct dlg_fork *f = NULL;
	struct dlg *da, *db, *dc, *d;
	enum dlg_event ev;
	struct msg m;
	size_t len = 0;

	assert_int_equal(dlg_table_alloc(&t, 16), 0);
	assert_int_equal(dlg_fork_alloc(&f, t, invite_a, sizeof(invite_a) - 1), 0);
	assert_ptr_equal(dlg_fork_request(f, &len), dlg_fork_request(f, &len));
	assert_int_equal(len, sizeof(invite_a) - 1);
	assert_memory_equal(dlg_fork_request(f, &len), invite_a, len);

	assert_int_equal(feed(f, resp_a(b, sizeof(b), "100 Trying", "", ""), &ev, &d), 0);
	assert_int_equal(ev, DLG_EV_NONE);
	assert_null(d);
	assert_int_equal(feed(f, resp_a(b, sizeof(b), "180 Ringing", "", ""), &ev, &d), 0);
	assert_int_equal(ev, DLG_EV_NONE);
	/* two forks ring: one early dialog each, keyed by To tag */
	assert_int_equal(feed(f,
			      resp_a(b, sizeof(b), "180 Ringing", ";tag=A",
				     RR_BOTH "Contact: <sip:bob@192.0.2.4>\r\n"),
			      &ev, &da),
			 0);
	assert_int_equal(ev, DLG_EV_EARLY);
	assert_int_equal(
	    feed(f,
		 resp_a(b, sizeof(b), "180 Ringing", ";tag=B", "Contact: <sip:bob@192.0.2.5>\r\n"),
		 &ev, &db),
	    0);
	assert_int_equal(ev, DLG_EV_EARLY);
	assert_ptr_not_equal(da, db);
	assert_int_equal(dlg_fork_count(f), 2);
	assert_int_equal(dlg_table_count(t), 2);
	assert_int_equal(
	    feed(f, resp_a(b, sizeof(b), "183 Session Progress", ";tag=A", ""), &ev, &d), 0);
	assert_int_equal(ev, DLG_EV_NONE);
	assert_ptr_equal(d, da);
	/* the stray-response path finds the fork */
	parse_str(&m, resp_a(b, sizeof(b), "200 OK", ";tag=B", "Contact: <sip:bob@192.0.2.5>\r\n"));
	assert_ptr_equal(dlg_table_fork(t, &m), f);
	/* B answers: confirmed; again: a retransmission to ACK again */
	assert_int_equal(feed(f, b, &ev, &d), 0);
	assert_int_equal(ev, DLG_EV_CONFIRMED);
	assert_ptr_equal(d, db);
	assert_int_equal(dlg_state(db), DLG_CONFIRMED);
	assert_int_equal(feed(f, b, &ev, &d), 0);
	assert_int_equal(ev, DLG_EV_RETRANSMIT);
	assert_ptr_equal(d, db);
	/* C answers too: a second confirmed dialog, which we end with ACK + BYE */
	assert_int_equal(feed(f,
			      resp_a(b, sizeof(b), "200 OK", ";tag=C",
				     "Record-Route: <sip:ss9.example.com;lr>\r\n"
				     "Contact: <sip:bob@192.0.2.6>\r\n"),
			      &ev, &dc),
			 0);
	assert_int_equal(ev, DLG_EV_FORKED);
	assert_int_equal(dlg_state(dc), DLG_CONFIRMED);
	assert_int_equal(dlg_table_count(t), 3);
	struct dlg_msg ack = {.buf = ab, .cap = sizeof(ab)}, bye = {.buf = bb, .cap = sizeof(bb)};
	assert_int_equal(dlg_ack_bye(dc, invite_a, sizeof(invite_a) - 1,
				     "SIP/2.0/UDP 192.0.2.101;branch=z9hG4bKa3", &ack, &bye),
			 0);
	valid(&m, ab, ack.len);
	assert_int_equal(m.method, MSG_METHOD_ACK);
	assert_string_equal(hval(&m, MSG_HDR_CSEQ, 0, v, sizeof(v)), "314159 ACK");
	assert_string_equal(hval(&m, MSG_HDR_TO, 0, v, sizeof(v)),
			    "Bob <sip:bob@biloxi.example.com>;tag=C");
	assert_string_equal(hop(&ack, v, sizeof(v)), "sip:ss9.example.com;lr");
	parse_ok(&m, bb, bye.len); /* no Via yet: tsx_request adds it */
	assert_int_equal(m.method, MSG_METHOD_BYE);
	assert_int_equal(hcount(&m, MSG_HDR_VIA), 0);
	assert_string_equal(hval(&m, MSG_HDR_CSEQ, 0, v, sizeof(v)), "314160 BYE");
	assert_string_equal(ruri(&m, v, sizeof(v)), "sip:bob@192.0.2.6");
	/* resp_b carries Bob's tag a6c85cf, this dialog's is C: not its response */
	parse_str(&m, resp_b(b, sizeof(b), 200, "BYE", 314160, ""));
	assert_int_equal(dlg_response(dc, &m), EINVAL);
	snprintf(b, sizeof(b),
		 "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKb\r\n"
		 "From: Alice <sip:alice@atlanta.example.com>;tag=" A_TAG "\r\n"
		 "To: Bob <sip:bob@biloxi.example.com>;tag=C\r\nCall-ID: " A_CALLID "\r\n"
		 "CSeq: 314160 BYE\r\nContent-Length: 0\r\n\r\n");
	valid(&m, b, strlen(b));
	assert_int_equal(dlg_response(dc, &m), 0);
	assert_int_equal(dlg_state(dc), DLG_TERMINATED);

	/* 64*T1 later the request is over: A never answered */
	dlg_fork_end(f);
	assert_int_equal(dlg_state(da), DLG_TERMINATED);
	assert_int_equal(dlg_state(db), DLG_CONFIRMED);
	assert_int_equal(dlg_table_purge(t), 2);
	assert_int_equal(dlg_table_count(t), 1);
	assert_ptr_equal(dlg_fork_dialog(f, 1), db);
	assert_null(dlg_fork_dialog(f, 3));
	mem_deref(f);
	assert_int_equal(dlg_table_count(t), 1);
	mem_deref(t);
}

static void test_fork_failure(void **state)
{
	(void)state;
	char b[2048];
	struct dlg_fork *f = NULL;
	struct dlg *da, *db, *d;
	enum dlg_event ev;
	struct msg m;

	/* no table: the fork alone keeps its dialogs */
	assert_int_equal(dlg_fork_alloc(&f, NULL, invite_a, sizeof(invite_a) - 1), 0);
	assert_int_equal(
	    feed(f,
		 resp_a(b, sizeof(b), "180 Ringing", ";tag=A", "Contact: <sip:bob@192.0.2.4>\r\n"),
		 &ev, &da),
	    0);
	assert_int_equal(
	    feed(f,
		 resp_a(b, sizeof(b), "180 Ringing", ";tag=B", "Contact: <sip:bob@192.0.2.5>\r\n"),
		 &ev, &db),
	    0);
	/* §12.3: a non-2xx final ends every early dialog of the request */
	assert_int_equal(feed(f, resp_a(b, sizeof(b), "486 Busy Here", ";tag=B", ""), &ev, &d), 0);
	assert_int_equal(ev, DLG_EV_FAILED);
	assert_null(d);
	assert_int_equal(dlg_state(da), DLG_TERMINATED);
	assert_int_equal(dlg_state(db), DLG_TERMINATED);
	/* a 2xx arriving after that still gets a dialog to ACK and end */
	assert_int_equal(
	    feed(f, resp_a(b, sizeof(b), "200 OK", ";tag=A", "Contact: <sip:bob@192.0.2.7>\r\n"),
		 &ev, &d),
	    0);
	assert_int_equal(ev, DLG_EV_FORKED);
	assert_ptr_equal(d, da);
	assert_int_equal(dlg_state(da), DLG_CONFIRMED);
	assert_string_equal(dlg_remote_target(da), "sip:bob@192.0.2.7");

	/* hostile or foreign responses */
	assert_int_equal(
	    feed(f, resp_a(b, sizeof(b), "200 OK", "", "Contact: " B_CONTACT "\r\n"), &ev, &d),
	    EBADMSG);
	assert_int_equal(feed(f, resp_a(b, sizeof(b), "200 OK", ";tag=Z", ""), &ev, &d), EBADMSG);
	assert_int_equal(
	    feed(f,
		 resp_a(b, sizeof(b), "183 Early", ";tag=A", "Contact: <sip:a@h>, <sip:b@h>\r\n"),
		 &ev, &d),
	    0); /* A is confirmed now: a late 1xx changes nothing */
	assert_int_equal(
	    feed(f, resp_ax(b, sizeof(b), "200 OK", ";tag=A", "Contact: " B_CONTACT "\r\n", 314160),
		 &ev, &d),
	    EINVAL);
	parse_str(&m, invite_b);
	assert_int_equal(dlg_fork_response(f, &m, &d, &ev), EINVAL);
	assert_int_equal(dlg_fork_count(f), 2);
	mem_deref(f);

	/* at most DLG_FORK_MAX dialogs per request */
	char tag[16];
	assert_int_equal(dlg_fork_alloc(&f, NULL, invite_a, sizeof(invite_a) - 1), 0);
	for (unsigned i = 0; i < DLG_FORK_MAX; i++) {
		snprintf(tag, sizeof(tag), ";tag=f%u", i);
		assert_int_equal(
		    feed(f, resp_a(b, sizeof(b), "180 Ringing", tag, "Contact: " B_CONTACT "\r\n"),
			 &ev, &d),
		    0);
		assert_int_equal(ev, DLG_EV_EARLY);
	}
	assert_int_equal(
	    feed(f, resp_a(b, sizeof(b), "180 Ringing", ";tag=x", "Contact: " B_CONTACT "\r\n"),
		 &ev, &d),
	    EMSGSIZE);
	assert_int_equal(
	    feed(f, resp_a(b, sizeof(b), "200 OK", ";tag=f3", "Contact: " B_CONTACT "\r\n"), &ev,
		 &d),
	    0);
	assert_int_equal(ev, DLG_EV_CONFIRMED);
	mem_deref(f);

	/* a request that cannot start a dialog */
	assert_int_equal(dlg_fork_alloc(&f, NULL, "junk", 4), EINVAL);
	assert_int_equal(dlg_fork_alloc(&f, NULL, invite_b, 40), EINVAL);
	mem_fail_after(1);
	assert_int_equal(dlg_fork_alloc(&f, NULL, invite_a, sizeof(invite_a) - 1), ENOMEM);
	mem_fail_after(-1);
}

/* Bob's response to request text req with our lines hdrs (msg_out_response, §8.2.6). */
static const char *answer(char *out, size_t cap, const char *req, unsigned code, const char *tag,
			  const char *hdrs, size_t *len)
{
	struct msg m;
	struct msg_out o;

	parse_str(&m, req);
	msg_out_init(&o, out, cap - 1);
	msg_out_response(&o, &m, code, NULL, tag);
	if (hdrs)
		msg_out_raw(&o, hdrs, strlen(hdrs));
	assert_int_equal(msg_out_end(&o, NULL, 0), 0);
	out[o.len] = '\0';
	*len = o.len;
	return out;
}

/* A whole call: Alice (UAC, table ta) and Bob (UAS, table tb). */
static void test_call(void **state)
{
	(void)state;
	char b[4096], r[4096], h[512], v[256];
	struct dlg_table *ta = NULL, *tb = NULL;
	struct dlg_fork *f = NULL;
	struct dlg *da = NULL, *db = NULL, *out = NULL;
	struct dlg_uas_opts o = {.local_tag = "8321234356", .contact = B_CONTACT};
	struct dlg_extra xa = {.via = VIA_A}, xb = {.via = "SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKb"};
	struct dlg_msg dm = {.buf = b, .cap = sizeof(b)};
	enum dlg_event ev;
	struct msg m;
	size_t len = 0;

	assert_int_equal(dlg_table_alloc(&ta, 0), 0);
	assert_int_equal(dlg_table_alloc(&tb, 0), 0);
	assert_int_equal(dlg_fork_alloc(&f, ta, invite_a, sizeof(invite_a) - 1), 0);
	/* Bob: the INVITE is no in-dialog request; it makes his dialog */
	valid(&m, invite_b, sizeof(invite_b) - 1);
	assert_int_equal(dlg_table_request(tb, &m, &out), 0);
	assert_null(out);
	assert_int_equal(dlg_uas_create(&db, &m, &o), 0);
	assert_int_equal(dlg_table_add(tb, db), 0);
	mem_deref(db);
	/* 180 and 200 with Record-Route and Contact */
	assert_int_equal(dlg_response_hdrs(db, true, h, sizeof(h), &len), 0);
	answer(r, sizeof(r), invite_b, 180, o.local_tag, h, &len);
	valid(&m, r, len);
	assert_int_equal(dlg_fork_response(dlg_table_fork(ta, &m), &m, &da, &ev), 0);
	assert_int_equal(ev, DLG_EV_EARLY);
	answer(r, sizeof(r), invite_b, 200, o.local_tag, h, &len);
	dlg_uas_answered(db, 200);
	valid(&m, r, len);
	assert_int_equal(dlg_fork_response(f, &m, &da, &ev), 0);
	assert_int_equal(ev, DLG_EV_CONFIRMED);
	/* Alice ACKs; Bob's table hands the ACK to his dialog */
	assert_int_equal(dlg_ack(da, invite_a, sizeof(invite_a) - 1, &xa, &dm), 0);
	valid(&m, b, dm.len);
	assert_int_equal(dlg_table_request(tb, &m, &out), 0);
	assert_ptr_equal(out, db);
	/* Bob moves: re-INVITE with his new Contact, through his first route ss2 */
	assert_int_equal(dlg_set_contact(db, "<sip:bob@192.0.2.40>"), 0);
	assert_int_equal(dlg_request(db, "INVITE", &xb, &dm), 0);
	assert_string_equal(hop(&dm, v, sizeof(v)), "sip:ss2.biloxi.example.com;lr");
	valid(&m, b, dm.len);
	memcpy(r, b, dm.len);
	r[dm.len] = '\0';
	assert_int_equal(dlg_table_request(ta, &m, &out), 0);
	assert_ptr_equal(out, da);
	assert_string_equal(dlg_remote_target(da), "sip:bob@192.0.2.40");
	/* Alice answers 200 with her Contact; Bob takes it, and ACKs his re-INVITE */
	assert_int_equal(dlg_response_hdrs(da, false, h, sizeof(h), &len), 0);
	answer(b, sizeof(b), r, 200, NULL, h, &len);
	valid(&m, b, len);
	assert_ptr_equal(dlg_table_match(tb, &m), db);
	assert_int_equal(dlg_response(db, &m), 0);
	assert_string_equal(dlg_remote_target(db), "sip:alice@pc33.atlanta.example.com");
	assert_int_equal(dlg_ack(db, r, strlen(r), &xb, &dm), 0);
	valid(&m, b, dm.len);
	assert_int_equal(dlg_table_request(ta, &m, &out), 0);
	/* Alice hangs up */
	assert_int_equal(dlg_request(da, "BYE", &xa, &dm), 0);
	valid(&m, b, dm.len);
	assert_string_equal(ruri(&m, v, sizeof(v)), "sip:bob@192.0.2.40");
	memcpy(r, b, dm.len);
	r[dm.len] = '\0';
	assert_int_equal(dlg_table_request(tb, &m, &out), 0);
	assert_int_equal(dlg_state(db), DLG_TERMINATED);
	answer(b, sizeof(b), r, 200, NULL, NULL, &len);
	valid(&m, b, len);
	assert_int_equal(dlg_response(da, &m), 0);
	assert_int_equal(dlg_state(da), DLG_TERMINATED);
	mem_deref(f);
	assert_int_equal(dlg_table_purge(ta), 1);
	assert_int_equal(dlg_table_purge(tb), 1);
	mem_deref(ta);
	mem_deref(tb);
}

/* A transport that keeps what is sent, for the transaction layer. */
struct fake {
	struct tp tp;
	struct tp_addr local;
	char sent[4][4096];
	size_t len[4];
	unsigned n;
};

static int fake_send(struct tp *tp, const struct tp_dest *d, const char *data, size_t len)
{
	struct fake *f = (struct fake *)(void *)tp;

	(void)d;
	if (f->n < 4 && len < sizeof(f->sent[0])) {
		memcpy(f->sent[f->n], data, len);
		f->len[f->n] = len;
	}
	f->n++;
	return 0;
}

static const struct tp_addr *fake_local(struct tp *tp, enum tp_proto proto)
{
	return proto == TP_UDP ? &((struct fake *)(void *)tp)->local : NULL;
}

static const struct tp_ops fake_ops = {.send = fake_send, .local = fake_local};

struct seen {
	struct dlg *d;
	unsigned code;
	int err;
};

static void on_response(struct tsx *t, struct msg *resp, const struct tp_rx *rx, void *arg)
{
	struct seen *s = arg;

	(void)t;
	(void)rx;
	s->code = resp->status;
	s->err = dlg_response(s->d, resp);
}

static void test_tsx_fit(void **state)
{
	(void)state;
	char b[4096], via[128], v[256];
	struct fake f = {.tp = {.ops = &fake_ops}};
	struct tsx_conf conf = {.seed = 7};
	struct tsx_tu tu = {0};
	struct loop *loop = NULL;
	struct tsx_layer *l = NULL;
	struct tp_dest dest = {.proto = TP_UDP};
	struct seen s = {.d = alice_confirmed()};
	struct dlg_msg dm = {.buf = b, .cap = sizeof(b)};
	struct msg m;

	assert_int_equal(tp_addr_set(&f.local, "127.0.0.1", 9, 5062), 0);
	assert_int_equal(tp_addr_set(&dest.addr, "192.0.2.111", 11, 5060), 0);
	assert_int_equal(loop_alloc(&loop, LOOP_CLOCK_VIRTUAL), 0);
	assert_int_equal(tsx_layer_alloc(&l, NULL, 0, loop, &f.tp, &conf, &tu), 0);

	/* a request without Via goes out with the layer's Via on top, and validates */
	assert_int_equal(dlg_request(s.d, "INFO", NULL, &dm), 0);
	assert_int_equal(tsx_request(NULL, l, &dest, b, dm.len, TSX_ADD_VIA, on_response, &s), 0);
	assert_int_equal(f.n, 1);
	valid(&m, f.sent[0], f.len[0]);
	assert_int_equal(hcount(&m, MSG_HDR_VIA), 1);
	assert_non_null(
	    strstr(hval(&m, MSG_HDR_VIA, 0, v, sizeof(v)), "127.0.0.1:5062;branch=z9hG4bK"));
	assert_int_equal(hcount(&m, MSG_HDR_ROUTE), 2);
	assert_int_equal(f.len[0], dm.len + strlen("Via: \r\n") + strlen(v));
	/* no answer: Timer F, the layer's 408 ends the dialog (§12.2.1.2) */
	loop_advance(loop, 64 * 500 + 1000);
	assert_int_equal(s.code, 408);
	assert_int_equal(s.err, 0);
	assert_int_equal(dlg_state(s.d), DLG_TERMINATED);

	/* the ACK of a 2xx goes without a transaction: dlg_via gives its Via */
	assert_int_equal(dlg_via(l, TP_UDP, via, sizeof(via)), 0);
	assert_int_equal(strncmp(via, "SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKR00", 44), 0);
	assert_non_null(strstr(via, ";rport"));
	struct dlg_extra x = {.via = via};
	assert_int_equal(dlg_ack(s.d, invite_a, sizeof(invite_a) - 1, &x, &dm), 0);
	valid(&m, b, dm.len);
	assert_int_equal(tsx_request(NULL, l, &dest, b, dm.len, 0, on_response, &s), EBADMSG);
	assert_int_equal(dlg_via(l, TP_TCP, via, sizeof(via)), EINVAL);
	assert_int_equal(dlg_via(l, TP_UDP, via, 20), EMSGSIZE);

	tsx_layer_free(l);
	loop_free(loop);
	mem_deref(s.d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_table, leak_setup, leak_teardown),
	    cmocka_unit_test_setup_teardown(test_fork, leak_setup, leak_teardown),
	    cmocka_unit_test_setup_teardown(test_fork_failure, leak_setup, leak_teardown),
	    cmocka_unit_test_setup_teardown(test_call, leak_setup, leak_teardown),
	    cmocka_unit_test_setup_teardown(test_tsx_fit, leak_setup, leak_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
