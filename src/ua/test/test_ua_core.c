/*
 * test_ua_core.c - the user agent core on an in-memory transport and a virtual
 * clock: every message the UA sends is captured, every answer is built by
 * the test from the request the UA sent (RFC 3261 §8.2.6), so each flow is
 * checked message by message and timer by timer:
 *  - the ladder line formatter;
 *  - registration: 401 with a real digest challenge (verified with
 *    auth_check), refresh at half the granted expiry and not before,
 *    credentials carried by the refresh, un-REGISTER; wrong password stops
 *    after the second challenge; stale=true is answered again; 423;
 *  - MESSAGE in (200 + event), OPTIONS out (Allow), 408 on timeout, 481
 *    for a request in an unknown dialog;
 *  - calls: UAC INVITE/180/200/ACK, a 2xx retransmission ACKed again, BYE;
 *    CANCEL then 487; 302 followed; 407 answered; UAS 180/200, 2xx
 *    retransmitted until the ACK, BYE from the peer; CANCEL of a ringing
 *    call (200 + 487); a forked second 2xx (ACK + BYE); an offerless
 *    INVITE (offer in the 2xx, answer in the ACK);
 *  - a re-INVITE's 2xx never ACKed: BYE at 64*T1 sharp (§13.3.1.4), and
 *    none when the ACK came;
 *  - a hop with ;transport=tcp: ACK (Via SIP/2.0/TCP), re-INVITE and BYE
 *    all go over TCP;
 *  - a hop that is a host name waits for DNS (nothing sent meanwhile), and
 *    without a resolver the BYE cannot go and the call ends.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ringlet/auth.h"
#include "ringlet/mem.h"
#include "ringlet/ua.h"

#define MAXS 128
#define MAXE 64

struct ev {
	enum ua_ev_type type;
	unsigned code;
	uint32_t expires;
	bool answered;
	char text[256], uri[256], allow[256];
};

struct fx {
	struct loop *loop;
	struct tp tp;
	struct tp_ops ops;
	struct tp_addr local;
	char *sent[MAXS];
	size_t sentlen[MAXS];
	uint8_t sentproto[MAXS]; /* enum tp_proto of each send */
	uint16_t sentport[MAXS]; /* its destination port */
	unsigned nsent;
	struct ua *ua;
	struct ev ev[MAXE];
	unsigned nev;
	size_t live0;
};

static struct fx *fx_of(struct tp *tp)
{
	return (struct fx *)(void *)((char *)tp - offsetof(struct fx, tp));
}

static int fake_send(struct tp *tp, const struct tp_dest *d, const char *data, size_t len)
{
	struct fx *f = fx_of(tp);

	assert_true(f->nsent < MAXS);
	f->sentproto[f->nsent] = d->proto;
	f->sentport[f->nsent] = tp_addr_port(&d->addr);
	f->sent[f->nsent] = malloc(len + 1);
	memcpy(f->sent[f->nsent], data, len);
	f->sent[f->nsent][len] = 0;
	f->sentlen[f->nsent++] = len;
	return 0;
}

static const struct tp_addr *fake_local(struct tp *tp, enum tp_proto p)
{
	(void)p;
	return &fx_of(tp)->local;
}

static void on_ev(const struct ua_event *e, void *arg)
{
	struct fx *f = arg;

	if (e->type == UA_EV_SENT || e->type == UA_EV_RECEIVED)
		return;
	assert_true(f->nev < MAXE);
	struct ev *x = &f->ev[f->nev++];
	memset(x, 0, sizeof(*x));
	x->type = e->type;
	x->code = e->code;
	x->expires = e->expires;
	x->answered = e->answered;
	snprintf(x->text, sizeof(x->text), "%s", e->text ? e->text : "");
	snprintf(x->uri, sizeof(x->uri), "%s", e->uri ? e->uri : "");
	snprintf(x->allow, sizeof(x->allow), "%s", e->allow ? e->allow : "");
}

static struct fx *fx_new_dns(const char *aor, const char *password, const char *proxy,
			     const char *dns)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->live0 = mem_live();
	assert_int_equal(loop_alloc(&f->loop, LOOP_CLOCK_VIRTUAL), 0);
	f->ops.send = fake_send;
	f->ops.local = fake_local;
	f->tp.ops = &f->ops;
	tp_addr_set(&f->local, "127.0.0.1", 9, 5099);
	struct ua_conf c = {.tp = &f->tp,
			    .proto = TP_UDP,
			    .aor = aor,
			    .password = password,
			    .proxy = proxy,
			    .event = on_ev,
			    .arg = f,
			    .dns = dns,
			    .tsx = {.seed = 7}};
	assert_int_equal(ua_alloc(&f->ua, f->loop, &c), 0);
	return f;
}

static struct fx *fx_new_proxy(const char *aor, const char *password, const char *proxy)
{
	return fx_new_dns(aor, password, proxy, NULL);
}

static struct fx *fx_new(const char *aor, const char *password)
{
	return fx_new_proxy(aor, password, NULL);
}

static void fx_free(struct fx *f)
{
	ua_free(f->ua);
	loop_free(f->loop);
	for (unsigned i = 0; i < f->nsent; i++)
		free(f->sent[i]);
	assert_int_equal(mem_live(), f->live0);
	free(f);
}

/* Hand text to the UA as if it came from 127.0.0.1:5060 over UDP. */
static void feed(struct fx *f, const char *text, size_t len)
{
	struct tp_rx rx;
	size_t used;
	char *copy = malloc(len);

	memcpy(copy, text, len);
	memset(&rx, 0, sizeof(rx));
	assert_int_equal(msg_parse(&rx.msg, copy, len, MSG_PARSE_DGRAM, &used), 0);
	rx.buf = copy;
	rx.len = (uint32_t)len;
	rx.proto = TP_UDP;
	tp_addr_set(&rx.src, "127.0.0.1", 9, 5060);
	rx.local = f->local;
	f->tp.recv(&f->tp, &rx, f->tp.recv_arg);
	free(copy);
}

/* Answer sent message i with code (To tag totag), extra header lines and body. */
static void reply(struct fx *f, unsigned i, unsigned code, const char *totag, const char *extra,
		  const char *body)
{
	struct msg req;
	struct msg_out o;
	size_t used;
	char buf[8192];

	assert_true(i < f->nsent);
	assert_int_equal(msg_parse(&req, f->sent[i], f->sentlen[i], MSG_PARSE_DGRAM, &used), 0);
	assert_true(req.is_request);
	msg_out_init(&o, buf, sizeof(buf));
	msg_out_response(&o, &req, code, NULL, totag);
	if (extra)
		msg_out_raw(&o, extra, strlen(extra));
	assert_int_equal(msg_out_end(&o, body, body ? strlen(body) : 0), 0);
	feed(f, buf, o.len);
}

/* The value of the first header `name` of sent message i ("" when absent). */
static const char *hdr(struct fx *f, unsigned i, const char *name)
{
	static char v[1024];
	char pat[64];

	snprintf(pat, sizeof(pat), "\r\n%s: ", name);
	const char *p = strstr(f->sent[i], pat);
	v[0] = 0;
	if (p) {
		p += strlen(pat);
		size_t n = strcspn(p, "\r");
		snprintf(v, sizeof(v), "%.*s", (int)(n < sizeof(v) - 1 ? n : sizeof(v) - 1), p);
	}
	return v;
}

static bool starts(struct fx *f, unsigned i, const char *s)
{
	return i < f->nsent && !strncmp(f->sent[i], s, strlen(s));
}

static const struct ev *last_ev(struct fx *f, enum ua_ev_type t)
{
	for (unsigned i = f->nev; i-- > 0;)
		if (f->ev[i].type == t)
			return &f->ev[i];
	return NULL;
}

/* ---- ladder ----------------------------------------------------------- */

static void test_ladder(void **state)
{
	char out[512];
	const char inv[] = "INVITE sip:bob@b SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n"
			   "Content-Type: application/sdp\r\nContent-Length: 3\r\n\r\nv=0";
	const char ring[] = "SIP/2.0 180 Ringing\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

	(void)state;
	size_t n =
	    ua_ladder_line(out, sizeof(out), true, inv, sizeof(inv) - 1, "127.0.0.1:5060", 1234);
	assert_int_equal(n, strlen(out));
	assert_non_null(strstr(out, "   1.234 ringlet "));
	assert_non_null(strstr(out, " INVITE [sdp] "));
	assert_non_null(strstr(out, "\xe2\x96\xb6 127.0.0.1:5060"));
	assert_null(strstr(out, "\xe2\x97\x80"));
	ua_ladder_line(out, sizeof(out), false, ring, sizeof(ring) - 1, "peer", 0);
	assert_non_null(strstr(out, "ringlet \xe2\x97\x80"));
	assert_non_null(strstr(out, " 180 Ringing (INVITE) "));
	assert_null(strstr(out, "\xe2\x96\xb6"));
	ua_ladder_line(out, sizeof(out), true, "garbage", 7, "p", 0);
	assert_non_null(strstr(out, "(not SIP)"));
	/* truncation keeps a NUL inside cap */
	n = ua_ladder_line(out, 12, true, inv, sizeof(inv) - 1, "p", 0);
	assert_true(n <= 11);
	assert_int_equal(strlen(out), n);
}

/* ---- registration ------------------------------------------------------ */

static char chal[1024];

/* A 401's WWW-Authenticate lines from a real verifier. */
static const char *challenge_as(struct auth *a, bool proxy, bool stale)
{
	assert_true(auth_challenge(a, "example.com", proxy, stale, chal, sizeof(chal)) > 0);
	return chal;
}

static const char *challenge(struct auth *a, bool stale)
{
	assert_true(auth_challenge(a, "example.com", false, stale, chal, sizeof(chal)) > 0);
	return chal;
}

/* Does sent message i carry right credentials for alice / pw? */
static enum auth_result check_auth(struct fx *f, struct auth *a, unsigned i, const char *pw)
{
	char md5[33], sha[65];
	struct msg m;
	size_t used;

	auth_ha1(AUTH_MD5, "alice", "example.com", pw, md5);
	auth_ha1(AUTH_SHA256, "alice", "example.com", pw, sha);
	assert_int_equal(msg_parse(&m, f->sent[i], f->sentlen[i], MSG_PARSE_DGRAM, &used), 0);
	return auth_check(a, &m, "example.com", false, md5, sha);
}

static void test_register_refresh(void **state)
{
	struct fx *f = fx_new_proxy("alice@example.com", "pw", "127.0.0.1");
	struct auth *a;
	char callid[128];

	(void)state;
	assert_int_equal(auth_alloc(&a, NULL, 300), 0);
	assert_int_equal(ua_register(f->ua), 0);
	assert_int_equal(f->nsent, 1);
	assert_true(starts(f, 0, "REGISTER sip:example.com SIP/2.0\r\n"));
	assert_string_equal(hdr(f, 0, "Expires"), "3600");
	assert_string_equal(hdr(f, 0, "To"), "<sip:alice@example.com>");
	assert_string_equal(hdr(f, 0, "Contact"), "<sip:alice@127.0.0.1:5099>");
	assert_string_equal(hdr(f, 0, "CSeq"), "1 REGISTER");
	assert_string_equal(hdr(f, 0, "Route"), "<sip:127.0.0.1;lr>");
	snprintf(callid, sizeof(callid), "%s", hdr(f, 0, "Call-ID"));
	reply(f, 0, 401, "t", challenge(a, false), NULL);
	assert_int_equal(f->nsent, 2); /* non-INVITE: no ACK, only the retry */
	unsigned r = 1;
	assert_true(starts(f, r, "REGISTER "));
	assert_string_equal(hdr(f, r, "CSeq"), "2 REGISTER");
	assert_string_equal(hdr(f, r, "Call-ID"), callid);
	assert_int_equal(check_auth(f, a, r, "pw"), AUTH_OK);
	reply(f, r, 200, "t",
	      "Contact: <sip:alice@127.0.0.1:5099>;expires=60\r\n"
	      "Contact: <sip:alice@192.0.2.9>;expires=100\r\n",
	      NULL);
	const struct ev *e = last_ev(f, UA_EV_REGISTERED);
	assert_non_null(e);
	assert_int_equal(e->expires, 60);
	assert_int_equal(f->ev[0].type, UA_EV_BINDING);
	assert_int_equal(f->ev[1].type, UA_EV_BINDING);
	assert_string_equal(f->ev[1].uri, "sip:alice@192.0.2.9");
	/* refresh at half of 60 s: not at 29.999 s, at 30 s */
	unsigned before = f->nsent;
	loop_advance(f->loop, 29999);
	assert_int_equal(f->nsent, before);
	loop_advance(f->loop, 1);
	assert_int_equal(f->nsent, before + 1);
	r = f->nsent - 1;
	assert_true(starts(f, r, "REGISTER "));
	assert_string_equal(hdr(f, r, "CSeq"), "3 REGISTER");
	assert_string_equal(hdr(f, r, "Call-ID"), callid);
	assert_int_equal(check_auth(f, a, r, "pw"), AUTH_OK); /* credentials without a round trip */
	reply(f, r, 200, "t", "Contact: <sip:alice@127.0.0.1:5099>;expires=60\r\n", NULL);
	assert_int_equal(ua_unregister(f->ua), 0);
	r = f->nsent - 1;
	assert_string_equal(hdr(f, r, "Expires"), "0");
	assert_string_equal(hdr(f, r, "CSeq"), "4 REGISTER");
	reply(f, r, 200, "t", NULL, NULL);
	e = last_ev(f, UA_EV_UNREGISTERED);
	assert_non_null(e);
	assert_int_equal(e->code, 200);
	/* no more refreshes */
	before = f->nsent;
	loop_advance(f->loop, 120000);
	assert_int_equal(f->nsent, before);
	assert_int_equal(ua_unregister(f->ua), ENOENT);
	auth_free(a);
	fx_free(f);
}

static void test_register_wrong_password(void **state)
{
	struct fx *f = fx_new_proxy("alice@example.com", "wrong", "127.0.0.1");
	struct auth *a;

	(void)state;
	assert_int_equal(auth_alloc(&a, NULL, 300), 0);
	assert_int_equal(ua_register(f->ua), 0);
	reply(f, 0, 401, "t", challenge(a, false), NULL);
	assert_int_equal(f->nsent, 2);
	assert_int_equal(check_auth(f, a, 1, "pw"), AUTH_BAD);
	reply(f, 1, 401, "t", challenge(a, false), NULL);
	assert_int_equal(f->nsent, 2); /* the second challenge that is not stale ends it */
	const struct ev *e = last_ev(f, UA_EV_REG_FAILED);
	assert_non_null(e);
	assert_int_equal(e->code, 401);
	assert_null(last_ev(f, UA_EV_REGISTERED));
	auth_free(a);
	fx_free(f);
}

static void test_register_stale_and_423(void **state)
{
	struct fx *f = fx_new_proxy("alice@example.com", "pw", "127.0.0.1");
	struct auth *a;

	(void)state;
	assert_int_equal(auth_alloc(&a, NULL, 300), 0);
	assert_int_equal(ua_register(f->ua), 0);
	reply(f, 0, 401, "t", challenge(a, false), NULL);
	reply(f, 1, 401, "t", challenge(a, true), NULL); /* stale: answered again */
	assert_int_equal(f->nsent, 3);
	assert_int_equal(check_auth(f, a, 2, "pw"), AUTH_OK);
	reply(f, 2, 423, "t", "Min-Expires: 7200\r\n", NULL);
	assert_int_equal(f->nsent, 4);
	assert_string_equal(hdr(f, 3, "Expires"), "7200");
	reply(f, 3, 200, "t", "Contact: <sip:alice@127.0.0.1:5099>;expires=7200\r\n", NULL);
	assert_int_equal(last_ev(f, UA_EV_REGISTERED)->expires, 7200);
	auth_free(a);
	fx_free(f);
}

/* ---- requests ---------------------------------------------------------- */

static void test_message_in_and_481(void **state)
{
	struct fx *f = fx_new("bob@example.com", NULL);
	const char msg[] = "MESSAGE sip:bob@127.0.0.1:5099 SIP/2.0\r\n"
			   "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKm1\r\n"
			   "Max-Forwards: 70\r\nFrom: <sip:carol@example.com>;tag=c1\r\n"
			   "To: <sip:bob@example.com>\r\nCall-ID: m1\r\nCSeq: 1 MESSAGE\r\n"
			   "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
	const char bye[] = "BYE sip:bob@127.0.0.1:5099 SIP/2.0\r\n"
			   "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKb1\r\n"
			   "Max-Forwards: 70\r\nFrom: <sip:carol@example.com>;tag=c1\r\n"
			   "To: <sip:bob@example.com>;tag=nosuch\r\nCall-ID: x1\r\nCSeq: 2 BYE\r\n"
			   "Content-Length: 0\r\n\r\n";

	(void)state;
	feed(f, msg, sizeof(msg) - 1);
	assert_int_equal(f->nsent, 1);
	assert_true(starts(f, 0, "SIP/2.0 200 OK\r\n"));
	const struct ev *e = last_ev(f, UA_EV_MESSAGE);
	assert_non_null(e);
	assert_string_equal(e->text, "hello");
	assert_string_equal(e->uri, "sip:carol@example.com");
	feed(f, bye, sizeof(bye) - 1);
	assert_int_equal(f->nsent, 2);
	assert_true(starts(f, 1, "SIP/2.0 481 "));
	fx_free(f);
}

static void test_options_out(void **state)
{
	struct fx *f = fx_new("bob@example.com", NULL);

	(void)state;
	assert_int_equal(ua_options(f->ua, "sip:127.0.0.1:5060"), 0);
	assert_true(starts(f, 0, "OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\n"));
	reply(f, 0, 200, "o", "Allow: INVITE, ACK\r\nAllow: BYE\r\nSupported: path\r\n", NULL);
	const struct ev *e = last_ev(f, UA_EV_RESPONSE);
	assert_non_null(e);
	assert_int_equal(e->code, 200);
	assert_string_equal(e->allow, "INVITE, ACK, BYE");
	/* nobody answers: 408 after 64*T1 (Timer F), not before */
	assert_int_equal(ua_message(f->ua, "sip:127.0.0.1:5060", "hi"), 0);
	assert_string_equal(hdr(f, f->nsent - 1, "Content-Type"), "text/plain;charset=UTF-8");
	loop_advance(f->loop, 31999);
	assert_int_equal(last_ev(f, UA_EV_RESPONSE)->code, 200);
	loop_advance(f->loop, 1);
	assert_int_equal(last_ev(f, UA_EV_RESPONSE)->code, 408);
	assert_int_equal(ua_options(f->ua, "not a uri"), EINVAL);
	fx_free(f);
}

/* ---- calls -------------------------------------------------------------- */

static const char sdp_ans[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
			      "t=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
#define SDP_HDRS "Contact: <sip:bob@127.0.0.1:5060>\r\nContent-Type: application/sdp\r\n"

static unsigned find_sent(struct fx *f, unsigned from, const char *start)
{
	for (unsigned i = from; i < f->nsent; i++)
		if (starts(f, i, start))
			return i;
	fail_msg("no sent message starting with %s", start);
	return 0;
}

static void test_uac_call(void **state)
{
	struct fx *f = fx_new("alice@example.com", "pw");
	struct ua_call *c;

	(void)state;
	assert_int_equal(ua_call(f->ua, "sip:bob@127.0.0.1:5060", NULL, &c), 0);
	assert_int_equal(ua_call(f->ua, "sip:bob@127.0.0.1:5060", NULL, NULL), EBUSY);
	assert_true(starts(f, 0, "INVITE sip:bob@127.0.0.1:5060 SIP/2.0\r\n"));
	assert_string_equal(hdr(f, 0, "Content-Type"), "application/sdp");
	assert_non_null(strstr(f->sent[0], "m=audio "));
	reply(f, 0, 180, "b1", "Contact: <sip:bob@127.0.0.1:5060>\r\n", NULL);
	assert_int_equal(last_ev(f, UA_EV_PROGRESS)->code, 180);
	reply(f, 0, 200, "b1", SDP_HDRS, sdp_ans);
	unsigned ack = find_sent(f, 1, "ACK sip:bob@127.0.0.1:5060 SIP/2.0\r\n");
	assert_string_equal(hdr(f, ack, "CSeq"), "1 ACK");
	assert_non_null(strstr(hdr(f, ack, "To"), ";tag=b1"));
	const struct ev *e = last_ev(f, UA_EV_ANSWERED);
	assert_non_null(e);
	assert_string_equal(e->text, "PCMU/8000");
	/* the 2xx again (our ACK was lost): ACKed again */
	unsigned before = f->nsent;
	reply(f, 0, 200, "b1", SDP_HDRS, sdp_ans);
	assert_int_equal(f->nsent, before + 1);
	assert_true(starts(f, before, "ACK "));
	/* a 2xx from another fork (To tag b2): ACKed, then ended with BYE (§13.2.2.4) */
	before = f->nsent;
	reply(f, 0, 200, "b2",
	      "Contact: <sip:bob2@127.0.0.1:5062>\r\n"
	      "Content-Type: application/sdp\r\n",
	      sdp_ans);
	assert_int_equal(f->nsent, before + 2);
	assert_true(starts(f, before, "ACK sip:bob2@127.0.0.1:5062 SIP/2.0\r\n"));
	assert_true(starts(f, before + 1, "BYE sip:bob2@127.0.0.1:5062 SIP/2.0\r\n"));
	assert_non_null(strstr(hdr(f, before + 1, "To"), ";tag=b2"));
	assert_int_equal(last_ev(f, UA_EV_ANSWERED) - f->ev, e - f->ev); /* still one answer */
	before = f->nsent;
	assert_int_equal(ua_hangup(c, 0), 0);
	unsigned bye = find_sent(f, before, "BYE sip:bob@127.0.0.1:5060 SIP/2.0\r\n");
	assert_string_equal(hdr(f, bye, "CSeq"), "2 BYE");
	reply(f, bye, 200, NULL, NULL, NULL);
	e = last_ev(f, UA_EV_ENDED);
	assert_non_null(e);
	assert_int_equal(e->code, 200);
	assert_true(e->answered);
	assert_non_null(last_ev(f, UA_EV_MEDIA));
	loop_advance(f->loop, 1);
	assert_int_equal(ua_calls(f->ua), 0);
	fx_free(f);
}

static void test_uac_cancel_redirect_auth(void **state)
{
	struct fx *f = fx_new("alice@example.com", "pw");
	struct ua_call *c;
	struct auth *a;

	(void)state;
	assert_int_equal(auth_alloc(&a, NULL, 300), 0);
	assert_int_equal(ua_call(f->ua, "sip:bob@127.0.0.1:5060", NULL, &c), 0);
	reply(f, 0, 302, "r", "Contact: <sip:bob@127.0.0.1:5070>\r\n", NULL);
	assert_string_equal(last_ev(f, UA_EV_REDIRECT)->uri, "sip:bob@127.0.0.1:5070");
	unsigned inv = find_sent(f, 1, "INVITE sip:bob@127.0.0.1:5070 SIP/2.0\r\n");
	assert_string_equal(hdr(f, inv, "CSeq"), "2 INVITE");
	assert_string_equal(hdr(f, inv, "To"), "<sip:bob@127.0.0.1:5060>");
	reply(f, inv, 407, "p", challenge_as(a, true, false), NULL);
	unsigned inv2 = find_sent(f, inv + 1, "INVITE sip:bob@127.0.0.1:5070 SIP/2.0\r\n");
	assert_string_equal(hdr(f, inv2, "CSeq"), "3 INVITE");
	assert_non_null(strstr(hdr(f, inv2, "Proxy-Authorization"), "username=\"alice\""));
	reply(f, inv2, 180, "b2", NULL, NULL);
	assert_int_equal(ua_hangup(c, 0), 0);
	assert_int_equal(ua_hangup(c, 0), EALREADY);
	unsigned can = find_sent(f, inv2 + 1, "CANCEL sip:bob@127.0.0.1:5070 SIP/2.0\r\n");
	assert_string_equal(hdr(f, can, "CSeq"), "3 CANCEL");
	reply(f, can, 200, NULL, NULL, NULL);
	assert_null(last_ev(f, UA_EV_ENDED));
	reply(f, inv2, 487, "b2", NULL, NULL);
	const struct ev *e = last_ev(f, UA_EV_ENDED);
	assert_non_null(e);
	assert_int_equal(e->code, 487);
	assert_false(e->answered);
	auth_free(a);
	fx_free(f);
}

static char invite_buf[2048];

static const char *invite(const char *branch, const char *callid)
{
	snprintf(invite_buf, sizeof(invite_buf),
		 "INVITE sip:bob@127.0.0.1:5099 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=%s\r\n"
		 "Max-Forwards: 70\r\nFrom: <sip:carol@example.com>;tag=c1\r\n"
		 "To: <sip:bob@example.com>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n"
		 "Contact: <sip:carol@127.0.0.1:5060>\r\nContent-Type: application/sdp\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 branch, callid, strlen(sdp_ans), sdp_ans);
	return invite_buf;
}

/* The To tag of the response sent as message i. */
static const char *to_tag(struct fx *f, unsigned i)
{
	const char *p = strstr(hdr(f, i, "To"), ";tag=");
	assert_non_null(p);
	return p + 5;
}

static void test_uas_answer(void **state)
{
	struct fx *f = fx_new("bob@example.com", NULL);
	struct ua_answer_conf ac = {.enabled = true, .ring_ms = 1000};
	char buf[2048], tag[64];

	(void)state;
	assert_int_equal(ua_set_answer(f->ua, &ac), 0);
	const char *inv = invite("z9hG4bKi1", "call1");
	feed(f, inv, strlen(inv));
	assert_string_equal(last_ev(f, UA_EV_INCOMING)->uri, "sip:carol@example.com");
	unsigned r = find_sent(f, 0, "SIP/2.0 180 Ringing\r\n");
	snprintf(tag, sizeof(tag), "%s", to_tag(f, r));
	loop_advance(f->loop, 999);
	assert_null(last_ev(f, UA_EV_ANSWERED));
	loop_advance(f->loop, 1);
	unsigned ok = find_sent(f, r + 1, "SIP/2.0 200 OK\r\n");
	assert_string_equal(to_tag(f, ok), tag);
	assert_non_null(strstr(f->sent[ok], "m=audio "));
	assert_string_equal(hdr(f, ok, "Contact"), "<sip:bob@127.0.0.1:5099>");
	assert_non_null(last_ev(f, UA_EV_ANSWERED));
	/* no ACK: the 2xx again after T1, then 2*T1 */
	unsigned n0 = f->nsent;
	loop_advance(f->loop, 500);
	assert_int_equal(f->nsent, n0 + 1);
	assert_true(starts(f, n0, "SIP/2.0 200 OK\r\n"));
	loop_advance(f->loop, 999);
	assert_int_equal(f->nsent, n0 + 1);
	loop_advance(f->loop, 1);
	assert_int_equal(f->nsent, n0 + 2);
	snprintf(buf, sizeof(buf),
		 "ACK sip:bob@127.0.0.1:5099 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;"
		 "branch=z9hG4bKa1\r\nMax-Forwards: 70\r\nFrom: <sip:carol@example.com>;tag=c1\r\n"
		 "To: <sip:bob@example.com>;tag=%s\r\nCall-ID: call1\r\nCSeq: 1 ACK\r\n"
		 "Content-Length: 0\r\n\r\n",
		 tag);
	feed(f, buf, strlen(buf));
	n0 = f->nsent;
	loop_advance(f->loop, 10000);
	assert_int_equal(f->nsent, n0); /* ACKed: no more 2xx */
	snprintf(buf, sizeof(buf),
		 "BYE sip:bob@127.0.0.1:5099 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;"
		 "branch=z9hG4bKb9\r\nMax-Forwards: 70\r\nFrom: <sip:carol@example.com>;tag=c1\r\n"
		 "To: <sip:bob@example.com>;tag=%s\r\nCall-ID: call1\r\nCSeq: 2 BYE\r\n"
		 "Content-Length: 0\r\n\r\n",
		 tag);
	feed(f, buf, strlen(buf));
	assert_true(starts(f, f->nsent - 1, "SIP/2.0 200 OK\r\n"));
	const struct ev *e = last_ev(f, UA_EV_ENDED);
	assert_non_null(e);
	assert_string_equal(e->text, "BYE from remote");
	assert_true(e->answered);
	/* a second INVITE while answering is off: 486 */
	ac.enabled = false;
	assert_int_equal(ua_set_answer(f->ua, &ac), 0);
	inv = invite("z9hG4bKi2", "call2");
	feed(f, inv, strlen(inv));
	assert_true(starts(f, f->nsent - 1, "SIP/2.0 486 "));
	fx_free(f);
}

static void test_uas_cancel(void **state)
{
	struct fx *f = fx_new("bob@example.com", NULL);
	struct ua_answer_conf ac = {.enabled = true, .ring_ms = 5000};
	char buf[2048];

	(void)state;
	assert_int_equal(ua_set_answer(f->ua, &ac), 0);
	const char *inv = invite("z9hG4bKi3", "call3");
	feed(f, inv, strlen(inv));
	snprintf(buf, sizeof(buf),
		 "CANCEL sip:bob@127.0.0.1:5099 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;"
		 "branch=z9hG4bKi3\r\nMax-Forwards: 70\r\nFrom: <sip:carol@example.com>;tag=c1\r\n"
		 "To: <sip:bob@example.com>\r\nCall-ID: call3\r\nCSeq: 1 CANCEL\r\n"
		 "Content-Length: 0\r\n\r\n");
	feed(f, buf, strlen(buf));
	unsigned ok = find_sent(f, 0, "SIP/2.0 200 OK\r\n");
	assert_string_equal(hdr(f, ok, "CSeq"), "1 CANCEL");
	unsigned t = find_sent(f, 0, "SIP/2.0 487 ");
	assert_string_equal(hdr(f, t, "CSeq"), "1 INVITE");
	const struct ev *e = last_ev(f, UA_EV_ENDED);
	assert_non_null(e);
	assert_int_equal(e->code, 487);
	assert_false(e->answered);
	unsigned n0 = f->nsent;
	loop_advance(f->loop, 5000); /* the ring timer is gone with the call */
	for (unsigned i = n0; i < f->nsent; i++)
		assert_false(starts(f, i, "SIP/2.0 200 OK\r\n"));
	fx_free(f);
}

/* An INVITE without SDP (§13.2.1): our offer goes in the 2xx, the answer comes in the ACK. */
static void test_uas_offerless(void **state)
{
	struct fx *f = fx_new("bob@example.com", NULL);
	struct ua_answer_conf ac = {.enabled = true};
	char buf[2048], tag[64];

	(void)state;
	assert_int_equal(ua_set_answer(f->ua, &ac), 0);
	snprintf(buf, sizeof(buf),
		 "INVITE sip:bob@127.0.0.1:5099 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKo1\r\n"
		 "Max-Forwards: 70\r\nFrom: <sip:carol@example.com>;tag=c1\r\n"
		 "To: <sip:bob@example.com>\r\nCall-ID: call4\r\nCSeq: 1 INVITE\r\n"
		 "Contact: <sip:carol@127.0.0.1:5060>\r\nContent-Length: 0\r\n\r\n");
	feed(f, buf, strlen(buf));
	loop_advance(f->loop, 1);
	unsigned ok = find_sent(f, 0, "SIP/2.0 200 OK\r\n");
	assert_non_null(strstr(f->sent[ok], "a=rtpmap:0 PCMU/8000")); /* an offer: both codecs */
	assert_non_null(strstr(f->sent[ok], "a=rtpmap:8 PCMA/8000"));
	assert_null(last_ev(f, UA_EV_ANSWERED)); /* no media before the answer */
	snprintf(tag, sizeof(tag), "%s", to_tag(f, ok));
	snprintf(buf, sizeof(buf),
		 "ACK sip:bob@127.0.0.1:5099 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;"
		 "branch=z9hG4bKo2\r\nMax-Forwards: 70\r\nFrom: <sip:carol@example.com>;tag=c1\r\n"
		 "To: <sip:bob@example.com>;tag=%s\r\nCall-ID: call4\r\nCSeq: 1 ACK\r\n"
		 "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
		 tag, strlen(sdp_ans), sdp_ans);
	feed(f, buf, strlen(buf));
	const struct ev *e = last_ev(f, UA_EV_ANSWERED);
	assert_non_null(e);
	assert_string_equal(e->text, "PCMU/8000");
	unsigned n0 = f->nsent;
	loop_advance(f->loop, 4000);
	assert_int_equal(f->nsent, n0); /* ACKed: the 2xx is not sent again */
	fx_free(f);
}

/* An in-dialog request from carol (the INVITE's From) to bob with our To tag. */
static const char *carol_req(const char *method, unsigned cseq, const char *branch, const char *tag,
			     const char *body)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf),
		 "%s sip:bob@127.0.0.1:5099 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;"
		 "branch=%s\r\nMax-Forwards: 70\r\nFrom: <sip:carol@example.com>;tag=c1\r\n"
		 "To: <sip:bob@example.com>;tag=%s\r\nCall-ID: call5\r\nCSeq: %u %s\r\n"
		 "Contact: <sip:carol@127.0.0.1:5060>\r\n%sContent-Length: %zu\r\n\r\n%s",
		 method, branch, tag, cseq, method, body ? "Content-Type: application/sdp\r\n" : "",
		 body ? strlen(body) : 0, body ? body : "");
	return buf;
}

static unsigned count_from(struct fx *f, unsigned from, const char *start)
{
	unsigned n = 0;

	for (unsigned i = from; i < f->nsent; i++)
		n += starts(f, i, start);
	return n;
}

/* §13.3.1.4: a re-INVITE's 2xx is retransmitted until its ACK; none for 64*T1: BYE. */
static void test_uas_reinvite_no_ack(void **state)
{
	struct fx *f = fx_new("bob@example.com", NULL);
	struct ua_answer_conf ac = {.enabled = true};
	char tag[64];
	const char *m;

	(void)state;
	assert_int_equal(ua_set_answer(f->ua, &ac), 0);
	m = invite("z9hG4bKr1", "call5");
	feed(f, m, strlen(m));
	loop_advance(f->loop, 1);
	unsigned ok = find_sent(f, 0, "SIP/2.0 200 OK\r\n");
	snprintf(tag, sizeof(tag), "%s", to_tag(f, ok));
	m = carol_req("ACK", 1, "z9hG4bKr2", tag, NULL);
	feed(f, m, strlen(m));
	/* a re-INVITE that is ACKed: no BYE, ever */
	m = carol_req("INVITE", 2, "z9hG4bKr3", tag, sdp_ans);
	feed(f, m, strlen(m));
	unsigned r = find_sent(f, ok + 1, "SIP/2.0 200 OK\r\n");
	assert_string_equal(hdr(f, r, "CSeq"), "2 INVITE");
	loop_advance(f->loop, 700); /* one retransmission, then the ACK */
	assert_int_equal(count_from(f, r, "SIP/2.0 200 OK\r\n"), 2);
	m = carol_req("ACK", 2, "z9hG4bKr4", tag, NULL);
	feed(f, m, strlen(m));
	unsigned n0 = f->nsent;
	loop_advance(f->loop, 40000);
	assert_int_equal(f->nsent, n0);
	/* a re-INVITE never ACKed: its 2xx again and again, then BYE at 64*T1 = 32 s sharp */
	m = carol_req("INVITE", 3, "z9hG4bKr5", tag, sdp_ans);
	feed(f, m, strlen(m));
	r = find_sent(f, n0, "SIP/2.0 200 OK\r\n");
	assert_string_equal(hdr(f, r, "CSeq"), "3 INVITE");
	loop_advance(f->loop, 31999);
	assert_int_equal(count_from(f, r, "BYE "), 0);
	assert_int_equal(count_from(f, r, "SIP/2.0 200 OK\r\n"), 11); /* 500 ms .. T2 apart */
	assert_null(last_ev(f, UA_EV_ENDED));
	loop_advance(f->loop, 1);
	unsigned bye = find_sent(f, r, "BYE sip:carol@127.0.0.1:5060 SIP/2.0\r\n");
	assert_non_null(strstr(hdr(f, bye, "From"), tag));
	n0 = f->nsent;
	loop_advance(f->loop, 5000);
	assert_int_equal(count_from(f, n0, "SIP/2.0 200 OK\r\n"), 0); /* the 2xx stopped */
	reply(f, bye, 200, NULL, NULL, NULL);
	const struct ev *e = last_ev(f, UA_EV_ENDED);
	assert_non_null(e);
	assert_true(e->answered);
	assert_string_equal(e->text, "BYE sent");
	fx_free(f);
}

/* A remote target with ;transport=tcp: the ACK (Via TCP), the re-INVITE and the BYE use TCP. */
static void test_uac_tcp_hop(void **state)
{
	struct fx *f = fx_new("alice@example.com", NULL);
	struct ua_call *c;

	(void)state;
	assert_int_equal(ua_call(f->ua, "sip:bob@127.0.0.1:5060", NULL, &c), 0);
	assert_int_equal(f->sentproto[0], TP_UDP);
	reply(f, 0, 200, "b1",
	      "Contact: <sip:bob@127.0.0.1:5070;transport=tcp>\r\n"
	      "Content-Type: application/sdp\r\n",
	      sdp_ans);
	unsigned ack = find_sent(f, 1, "ACK sip:bob@127.0.0.1:5070;transport=tcp SIP/2.0\r\n");
	assert_int_equal(f->sentproto[ack], TP_TCP);
	assert_int_equal(f->sentport[ack], 5070);
	assert_true(!strncmp(hdr(f, ack, "Via"), "SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK", 41));
	assert_int_equal(ua_hold(c, true), 0);
	unsigned re = find_sent(f, ack + 1, "INVITE sip:bob@127.0.0.1:5070;transport=tcp ");
	assert_int_equal(f->sentproto[re], TP_TCP);
	assert_true(!strncmp(hdr(f, re, "Via"), "SIP/2.0/TCP ", 12));
	reply(f, re, 200, "b1", SDP_HDRS, sdp_ans);
	unsigned ack2 = find_sent(f, re + 1, "ACK ");
	assert_string_equal(hdr(f, ack2, "CSeq"), "2 ACK");
	/* the 2xx named a new target (UDP, port 5060): the ACK follows it (§12.2.1.2) */
	assert_int_equal(f->sentproto[ack2], TP_UDP);
	assert_true(!strncmp(hdr(f, ack2, "Via"), "SIP/2.0/UDP ", 12));
	assert_int_equal(ua_hangup(c, 0), 0);
	unsigned bye = find_sent(f, ack2 + 1, "BYE sip:bob@127.0.0.1:5060 SIP/2.0\r\n");
	assert_int_equal(f->sentproto[bye], TP_UDP);
	reply(f, bye, 200, NULL, NULL, NULL);
	assert_non_null(last_ev(f, UA_EV_ENDED));
	fx_free(f);
}

/* In-dialog requests to a host name: they wait for RFC 3263 (the resolver here is a loopback
 * port nobody answers), nothing is sent meanwhile, and freeing the UA drops them; without a
 * resolver the BYE cannot go out and the call ends at once. */
static void test_dialog_hop_name(void **state)
{
	const char *dns[] = {"127.0.0.1:9", NULL};

	(void)state;
	for (unsigned k = 0; k < 2; k++) {
		struct fx *f = fx_new_dns("alice@example.com", NULL, NULL, dns[k]);
		struct ua_call *c;
		assert_int_equal(ua_call(f->ua, "sip:bob@127.0.0.1:5060", NULL, &c), 0);
		reply(f, 0, 200, "b1",
		      "Contact: <sip:bob@peer.ringlet.test:5070>\r\n"
		      "Content-Type: application/sdp\r\n",
		      sdp_ans);
		assert_non_null(last_ev(f, UA_EV_ANSWERED));
		assert_int_equal(f->nsent, 1); /* no ACK yet (k 0) or ever (k 1) */
		if (k == 0) {
			assert_int_equal(ua_hold(c, true), 0);
			assert_int_equal(ua_hangup(c, 0), 0);
			assert_int_equal(f->nsent, 1);
			assert_null(last_ev(f, UA_EV_ENDED));
		} else {
			assert_int_equal(ua_hangup(c, 0), EHOSTUNREACH);
			const struct ev *e = last_ev(f, UA_EV_ENDED);
			assert_non_null(e);
			assert_string_equal(e->text, "BYE could not be sent");
		}
		fx_free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ladder),
	    cmocka_unit_test(test_register_refresh),
	    cmocka_unit_test(test_register_wrong_password),
	    cmocka_unit_test(test_register_stale_and_423),
	    cmocka_unit_test(test_message_in_and_481),
	    cmocka_unit_test(test_options_out),
	    cmocka_unit_test(test_uac_call),
	    cmocka_unit_test(test_uac_cancel_redirect_auth),
	    cmocka_unit_test(test_uas_answer),
	    cmocka_unit_test(test_uas_cancel),
	    cmocka_unit_test(test_uas_offerless),
	    cmocka_unit_test(test_uas_reinvite_no_ack),
	    cmocka_unit_test(test_uac_tcp_hop),
	    cmocka_unit_test(test_dialog_hop_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
