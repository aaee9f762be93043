/*
 * dlg_fix.h - test-only helpers of the dialog runners: the messages of a
 * call between Alice (atlanta.example.com) and Bob (biloxi.example.com)
 * through two record-routing proxies, in the spirit of RFC 3261 §24.2
 * (written for these tests), and checks that what a dialog builds parses
 * and validates.
 */
#ifndef RINGLET_DLG_FIX_H
#define RINGLET_DLG_FIX_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ringlet/dlg.h"
#include "ringlet/mem.h"

#define A_CALLID "a84b4c76e66710@pc33.atlanta.example.com"
#define A_TAG "1928301774"
#define A_CONTACT "<sip:alice@pc33.atlanta.example.com>"
#define B_CONTACT "<sip:bob@192.0.2.4>"
#define VIA_A "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8"
#define RR_BOTH                                                                                    \
	"Record-Route: <sip:ss2.biloxi.example.com;lr>\r\n"                                        \
	"Record-Route: <sip:ss1.atlanta.example.com;lr>\r\n"

/* Alice's INVITE as her UA sent it (cf. §24.2 F1), with extra header lines. */
#define INVITE_HEAD(cseq)                                                                          \
	"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"                                            \
	"Via: " VIA_A "\r\n"                                                                       \
	"Max-Forwards: 70\r\n"                                                                     \
	"To: Bob <sip:bob@biloxi.example.com>\r\n"                                                 \
	"From: Alice <sip:alice@atlanta.example.com>;tag=" A_TAG "\r\n"                            \
	"Call-ID: " A_CALLID "\r\n"                                                                \
	"CSeq: " cseq " INVITE\r\n"                                                                \
	"Contact: " A_CONTACT "\r\n"

static const char invite_a[] = INVITE_HEAD("314159") "Content-Length: 0\r\n\r\n";

/* The INVITE as it reaches Bob: two more Vias, the proxies' Record-Routes. */
static const char invite_b[] =
    "INVITE sip:bob@192.0.2.4 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP ss2.biloxi.example.com;branch=z9hG4bK721e4.1\r\n"
    "Via: SIP/2.0/UDP ss1.atlanta.example.com;branch=z9hG4bK2d4790.1;received=192.0.2.111\r\n"
    "Via: " VIA_A ";received=192.0.2.101\r\n"
    "Max-Forwards: 68\r\n" RR_BOTH "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=" A_TAG "\r\n"
    "Call-ID: " A_CALLID "\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: " A_CONTACT "\r\n"
    "Content-Length: 0\r\n\r\n";

/* Parse text into m; it must be one whole message. */
static inline void parse_ok(struct msg *m, const char *buf, size_t len)
{
	size_t used = 0;

	assert_int_equal(msg_parse(m, buf, len, MSG_PARSE_DGRAM, &used), 0);
	assert_int_equal(used, len);
}

static inline void parse_str(struct msg *m, const char *s)
{
	parse_ok(m, s, strlen(s));
}

/*
 * A response to Alice's INVITE with CSeq number cseq as she receives it:
 * status line, To tag (";tag=..." or ""), header lines.  Written into buf.
 */
static inline const char *resp_ax(char *buf, size_t cap, const char *status, const char *totag,
				  const char *hdrs, unsigned cseq)
{
	int n = snprintf(buf, cap,
			 "SIP/2.0 %s\r\n"
			 "Via: " VIA_A ";received=192.0.2.101\r\n"
			 "To: Bob <sip:bob@biloxi.example.com>%s\r\n"
			 "From: Alice <sip:alice@atlanta.example.com>;tag=" A_TAG "\r\n"
			 "Call-ID: " A_CALLID "\r\n"
			 "CSeq: %u INVITE\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n",
			 status, totag, cseq, hdrs);
	assert_true(n > 0 && (size_t)n < cap);
	return buf;
}

/* A response to invite_a (CSeq 314159). */
static inline const char *resp_a(char *buf, size_t cap, const char *status, const char *totag,
				 const char *hdrs)
{
	return resp_ax(buf, cap, status, totag, hdrs, 314159);
}

/* Bob's request in the dialog (From Bob with tag a6c85cf, To Alice with hers). */
static inline const char *req_b(char *buf, size_t cap, const char *method, unsigned cseq,
				const char *hdrs)
{
	int n = snprintf(buf, cap,
			 "%s sip:alice@pc33.atlanta.example.com SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds10\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
			 "To: Alice <sip:alice@atlanta.example.com>;tag=" A_TAG "\r\n"
			 "Call-ID: " A_CALLID "\r\n"
			 "CSeq: %u %s\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n",
			 method, cseq, method, hdrs);
	assert_true(n > 0 && (size_t)n < cap);
	return buf;
}

/* Bob's response to Alice's in-dialog request `method` with CSeq cseq. */
static inline const char *resp_b(char *buf, size_t cap, unsigned status, const char *method,
				 unsigned cseq, const char *hdrs)
{
	int n = snprintf(buf, cap,
			 "SIP/2.0 %u %s\r\n"
			 "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds9\r\n"
			 "From: Alice <sip:alice@atlanta.example.com>;tag=" A_TAG "\r\n"
			 "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
			 "Call-ID: " A_CALLID "\r\n"
			 "CSeq: %u %s\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n",
			 status, msg_reason_phrase(status), cseq, method, hdrs);
	assert_true(n > 0 && (size_t)n < cap);
	return buf;
}

/* Alice's confirmed dialog with Bob through ss1 and ss2 (route set ss1, ss2). */
static inline struct dlg *alice_confirmed(void)
{
	char b[2048];
	struct dlg *d = NULL;
	struct msg m;

	parse_str(&m, resp_a(b, sizeof(b), "200 OK", ";tag=a6c85cf",
			     RR_BOTH "Contact: " B_CONTACT "\r\n"));
	assert_int_equal(dlg_uac_create(&d, invite_a, sizeof(invite_a) - 1, &m), 0);
	return d;
}

/* buf[0..len) parses as one message and passes msg_validate with every header checked. */
static inline void valid(struct msg *m, const char *buf, size_t len)
{
	struct msg_verdict v;

	parse_ok(m, buf, len);
	if (!msg_validate(m, MSG_V_ALL, NULL, &v))
		fail_msg("invalid (%u %s): %.*s", v.status, v.reason ? v.reason : "drop", (int)len,
			 buf);
}

/* The value of header `name` number i (0: first) of m as a NUL-terminated string. */
static inline const char *hval(const struct msg *m, enum msg_hdr_id id, unsigned i, char *out,
			       size_t cap)
{
	const struct msg_hdr *h = msg_hdr_find(m, id);

	while (h && i--)
		h = msg_hdr_next(m, h);
	if (!h)
		return NULL;
	assert_true(h->value.len < cap);
	memcpy(out, m->buf + h->value.off, h->value.len);
	out[h->value.len] = '\0';
	return out;
}

/* Number of header elements of id in m. */
static inline unsigned hcount(const struct msg *m, enum msg_hdr_id id)
{
	unsigned n = 0;

	for (const struct msg_hdr *h = msg_hdr_find(m, id); h; h = msg_hdr_next(m, h))
		n++;
	return n;
}

/* Request-URI of m as a string. */
static inline const char *ruri(const struct msg *m, char *out, size_t cap)
{
	assert_true(m->ruri_s.len < cap);
	memcpy(out, m->buf + m->ruri_s.off, m->ruri_s.len);
	out[m->ruri_s.len] = '\0';
	return out;
}

/* The hop span of a built message as a string. */
static inline const char *hop(const struct dlg_msg *dm, char *out, size_t cap)
{
	assert_true(dm->hop.len < cap && dm->hop.off + dm->hop.len <= dm->len);
	memcpy(out, dm->buf + dm->hop.off, dm->hop.len);
	out[dm->hop.len] = '\0';
	return out;
}

/* A UAC dialog from invite_a and the response text s. */
static inline int uac_from(struct dlg **d, const char *s)
{
	struct msg m;

	parse_str(&m, s);
	return dlg_uac_create(d, invite_a, sizeof(invite_a) - 1, &m);
}

/* A UAS dialog from request text s, with our tag and Contact. */
static inline int uas_from(struct dlg **d, const char *s, const char *tag)
{
	struct msg m;
	struct dlg_uas_opts o = {.local_tag = tag, .contact = B_CONTACT};

	parse_str(&m, s);
	return dlg_uas_create(d, &m, &o);
}

#endif
