/*
 * fuzz_dlg.c - libFuzzer target for the dialog layer (src/dlg): one datagram
 * against a fixed INVITE.  As a response it may create a UAC dialog
 * (dlg_uac_create, a fork of dialogs) or update / end Alice's confirmed one
 * (dlg_uac_update, dlg_response); as a request it may create a UAS dialog
 * (dlg_uas_create) or be routed to Alice's dialog (dlg_table_request).  The
 * input is only framed by msg_parse, never validated, as a careless caller
 * would pass it.
 *
 * Invariants: nothing reads or writes past its buffer (ASan, UBSan); every
 * dialog that exists builds requests, an ACK and response lines that parse
 * back as one message and pass msg_validate, with the hop inside the message
 * and a valid URI; a dialog's strings hold no CR or LF; no leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ringlet/dlg.h"
#include "ringlet/mem.h"

#define CAP (MSG_MAX_SIZE + 4096)

static const char invite[] =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
    "Proxy-Authorization: Digest username=\"alice\", realm=\"a\", nonce=\"n\", "
    "uri=\"sip:bob@biloxi.example.com\", response=\"00\"\r\n"
    "Content-Length: 0\r\n\r\n";

static const char ok200[] =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8\r\n"
    "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Record-Route: <sip:ss2.biloxi.example.com;lr>, <sip:ss1.atlanta.example.com>\r\n"
    "Contact: <sip:bob@192.0.2.4>\r\n"
    "Content-Length: 0\r\n\r\n";

static const char via[] = "SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bKfuzz";

/* Scratch memory of one run (heap, not stack: a struct msg is large). */
struct scratch {
	struct msg m, chk;
	char out[CAP], inv[CAP];
};

static void valid(struct scratch *s, const char *buf, uint32_t len, struct span hop)
{
	struct msg_verdict v;
	struct msg_uri u;
	size_t used;

	if (msg_parse(&s->chk, buf, len, MSG_PARSE_DGRAM, &used) != 0 || used != len)
		abort();
	if (!msg_validate(&s->chk, MSG_V_ALL, NULL, &v))
		abort();
	if (hop.len && (hop.off + hop.len > len || msg_uri_parse(buf, hop, &u) != 0))
		abort();
}

static void no_crlf(const char *s)
{
	if (strpbrk(s, "\r\n"))
		abort();
}

/* Everything a dialog builds must be a valid message. */
static void exercise(struct scratch *s, struct dlg *d)
{
	struct dlg_extra x = {
	    .via = via, .hdrs = "Content-Type: text/plain\r\n", .body = "hi", .bodylen = 2};
	struct dlg_msg dm = {.buf = s->out, .cap = CAP};
	struct dlg_msg im = {.buf = s->inv, .cap = CAP};
	struct msg_out o;
	size_t len;
	char h[DLG_STATE_MAX + 1024];

	no_crlf(dlg_remote_target(d));
	no_crlf(dlg_local_uri(d));
	no_crlf(dlg_remote_uri(d));
	for (unsigned i = 0; i < dlg_route_count(d); i++)
		no_crlf(dlg_route(d, i));
	if (dlg_msg_size(d, &x) > CAP)
		abort();
	if (dlg_request(d, "INFO", &x, &dm) == 0) {
		if (dm.hop.len == 0)
			abort();
		valid(s, dm.buf, dm.len, dm.hop);
	}
	if (dlg_request(d, "INVITE", &x, &im) == 0) {
		valid(s, im.buf, im.len, im.hop);
		if (dlg_ack(d, im.buf, im.len, &x, &dm) != 0)
			abort();
		valid(s, dm.buf, dm.len, dm.hop);
	}
	if (dlg_ack(d, invite, sizeof(invite) - 1, &x, &dm) == 0)
		valid(s, dm.buf, dm.len, dm.hop);
	if (dlg_response_hdrs(d, !dlg_is_uac(d), h, sizeof(h), &len) != 0)
		abort();
	if (msg_parse(&s->chk, invite, sizeof(invite) - 1, MSG_PARSE_DGRAM, &len) != 0)
		abort();
	msg_out_init(&o, s->inv, CAP);
	msg_out_response(&o, &s->chk, 200, NULL, dlg_local_tag(d));
	msg_out_raw(&o, h, strlen(h));
	if (msg_out_end(&o, NULL, 0) != 0)
		abort();
	valid(s, s->inv, o.len, SPAN_NULL);
}

static void as_response(struct scratch *s, struct dlg *alice, struct dlg_table *t)
{
	struct dlg_fork *f = NULL;
	struct dlg *d = NULL;
	enum dlg_event ev;

	if (dlg_uac_create(&d, invite, sizeof(invite) - 1, &s->m) == 0) {
		exercise(s, d);
		mem_deref(d);
	}
	if (dlg_fork_alloc(&f, t, invite, sizeof(invite) - 1) != 0)
		abort();
	for (int i = 0; i < 2; i++)
		if (dlg_fork_response(f, &s->m, &d, &ev) == 0 && d)
			exercise(s, d);
	if (dlg_table_fork(t, &s->m) != f && dlg_table_fork(t, &s->m) != NULL)
		abort();
	dlg_fork_end(f);
	mem_deref(f);
	dlg_uac_update(alice, &s->m);
	dlg_response(alice, &s->m);
}

static void as_request(struct scratch *s, struct dlg_table *t)
{
	struct dlg_uas_opts o = {.contact = "<sip:bob@192.0.2.4>", .local_tag = "b1", .tls = true};
	struct dlg *d = NULL;

	if (dlg_uas_create(&d, &s->m, &o) == 0) {
		exercise(s, d);
		dlg_uas_answered(d, 200);
		exercise(s, d);
		mem_deref(d);
	}
	if (dlg_table_request(t, &s->m, &d) == 0 && d)
		exercise(s, d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scratch *s;
	struct dlg_table *t = NULL;
	struct dlg *alice = NULL;
	size_t used;

	if (size > MSG_MAX_SIZE)
		return 0;
	s = malloc(sizeof(*s));
	if (!s)
		return 0;
	if (msg_parse(&s->m, ok200, sizeof(ok200) - 1, MSG_PARSE_DGRAM, &used) ||
	    dlg_uac_create(&alice, invite, sizeof(invite) - 1, &s->m) || dlg_table_alloc(&t, 0) ||
	    dlg_table_add(t, alice))
		abort();
	if (msg_parse(&s->m, (const char *)data, size, MSG_PARSE_DGRAM, &used) == 0) {
		if (s->m.is_request)
			as_request(s, t);
		else
			as_response(s, alice, t);
		exercise(s, alice);
	}
	mem_deref(alice);
	mem_deref(t);
	free(s);
	return 0;
}
