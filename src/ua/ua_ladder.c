/*
 * ua_ladder.c - one line of the live message ladder (`ringlet -v`), as SIP
 * tutorials draw call flows: an arrow between "ringlet" and the peer with
 * the method or status on it.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ringlet/msg.h"
#include "ringlet/ua.h"

#define ARROW_COLS 40 /* width of the arrow, label included */
#define LABEL_MAX (ARROW_COLS - 6)

static const char dash[] = "\xe2\x94\x80";  /* U+2500 ─ */
static const char right[] = "\xe2\x96\xb6"; /* U+25B6 ▶ */
static const char left[] = "\xe2\x97\x80";  /* U+25C0 ◀ */

/* A bounded appender: stops at cap - 1, always NUL-terminated. */
struct line {
	char *p;
	size_t len, cap;
};

static void put(struct line *l, const char *s, size_t n)
{
	if (l->len + 1 >= l->cap)
		return;
	if (n > l->cap - 1 - l->len)
		n = l->cap - 1 - l->len;
	memcpy(l->p + l->len, s, n);
	l->len += n;
	l->p[l->len] = 0;
}

static void puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

static void dashes(struct line *l, int n)
{
	for (int i = 0; i < n; i++)
		put(l, dash, 3);
}

/* Append span s, printable ASCII only (anything else as '?'), at most max bytes. */
static size_t put_span(char *out, size_t n, size_t max, const char *buf, struct span s)
{
	for (uint32_t i = 0; i < s.len && n < max; i++) {
		unsigned char c = (unsigned char)buf[s.off + i];
		out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	return n;
}

/* True if m's body is SDP. */
static bool has_sdp(struct msg *m)
{
	const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_CONTENT_TYPE);

	return m->body.len && h && h->value.len >= 15 &&
	       !strncasecmp(m->buf + h->value.off, "application/sdp", 15);
}

/* "INVITE", "180 Ringing (INVITE)", plus " [sdp]": at most LABEL_MAX characters. */
static size_t label(const char *data, size_t len, char *out)
{
	struct msg m;
	size_t used, n = 0;

	if (msg_parse(&m, data, len, MSG_PARSE_DGRAM, &used) && !(m.is_request && m.method_s.len) &&
	    !(!m.is_request && m.status))
		return (size_t)snprintf(out, LABEL_MAX + 1, "(not SIP)");
	if (m.is_request) {
		n = put_span(out, 0, LABEL_MAX, m.buf, m.method_s);
	} else {
		char code[8];
		int w = snprintf(code, sizeof(code), "%u ", m.status);
		memcpy(out, code, (size_t)w);
		n = put_span(out, (size_t)w, LABEL_MAX, m.buf, m.reason);
		const struct msg_cseq *cs = msg_cseq(&m);
		if (cs && n + cs->method.len + 3 <= LABEL_MAX) {
			out[n++] = ' ';
			out[n++] = '(';
			n = put_span(out, n, LABEL_MAX, m.buf, cs->method);
			out[n++] = ')';
		}
	}
	if (has_sdp(&m) && n + 6 <= LABEL_MAX) {
		memcpy(out + n, " [sdp]", 6);
		n += 6;
	}
	out[n] = 0;
	return n;
}

size_t ua_ladder_line(char *out, size_t cap, bool sent, const char *data, size_t len,
		      const char *peer, uint64_t ms)
{
	struct line l = {out, 0, cap};
	char lab[LABEL_MAX + 1], t[32];

	if (cap == 0)
		return 0;
	out[0] = 0;
	int lablen = (int)label(data, len, lab);
	snprintf(t, sizeof(t), "%4llu.%03u ringlet ", (unsigned long long)(ms / 1000),
		 (unsigned)(ms % 1000));
	puts_(&l, t);
	/* ARROW_COLS = head + left dashes + ' ' + label + ' ' + right dashes */
	int fill = ARROW_COLS - 1 - 2 - lablen;
	int a = fill / 2, b = fill - a;
	if (sent) {
		dashes(&l, a);
		put(&l, " ", 1);
		puts_(&l, lab);
		put(&l, " ", 1);
		dashes(&l, b);
		puts_(&l, right);
	} else {
		puts_(&l, left);
		dashes(&l, a);
		put(&l, " ", 1);
		puts_(&l, lab);
		put(&l, " ", 1);
		dashes(&l, b);
	}
	put(&l, " ", 1);
	puts_(&l, peer ? peer : "");
	return l.len;
}
