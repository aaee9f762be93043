/*
 * msg_print.c - writing SIP messages into caller memory (RFC 3261 §7,
 * §8.2.6).  Nothing is allocated; on overflow the writer stops, remembers it,
 * and msg_out_end reports EMSGSIZE.
 *
 * Header values never carry a line break out of this file: CR and LF bytes
 * are dropped from every value, which removes folding (RFC 3261 §7.3.1) from
 * parsed values and makes header injection through a value impossible.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "msg_core.h"

static void put(struct msg_out *o, const char *s, size_t n)
{
	if (o->overflow || n == 0)
		return;
	if (n > (size_t)(o->cap - o->len)) {
		o->overflow = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += (uint32_t)n;
}

static void put_str(struct msg_out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_span(struct msg_out *o, const char *buf, struct span s)
{
	put(o, buf + s.off, s.len);
}

static void put_uint(struct msg_out *o, uint64_t v, unsigned min_digits)
{
	char d[24];
	unsigned n = 0;

	do {
		d[sizeof(d) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 || n < min_digits);
	put(o, d + sizeof(d) - n, n);
}

void msg_out_value(struct msg_out *o, const char *p, size_t len)
{
	const char *e = p + len;

	while (p < e) {
		const char *q = p;
		while (q < e && *q != '\r' && *q != '\n')
			q++;
		put(o, p, (size_t)(q - p));
		while (q < e && (*q == '\r' || *q == '\n'))
			q++;
		p = q;
	}
}

void msg_out_init(struct msg_out *o, char *mem, size_t cap)
{
	o->p = mem;
	o->len = 0;
	o->cap = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
	o->overflow = false;
	o->clen_at = 0;
}

void msg_out_request_line(struct msg_out *o, const char *method, const char *uri, size_t urilen)
{
	msg_out_value(o, method, strlen(method));
	put(o, " ", 1);
	msg_out_value(o, uri, urilen);
	put(o, " SIP/2.0\r\n", 10);
}

void msg_out_status_line(struct msg_out *o, unsigned code, const char *reason)
{
	if (reason == NULL)
		reason = msg_reason_phrase(code);
	put(o, "SIP/2.0 ", 8);
	put_uint(o, code, 3);
	put(o, " ", 1);
	msg_out_value(o, reason, strlen(reason));
	put(o, "\r\n", 2);
}

void msg_out_header(struct msg_out *o, const char *name, const char *value, size_t len)
{
	put_str(o, name);
	put(o, ": ", 2);
	msg_out_value(o, value, len);
	put(o, "\r\n", 2);
}

void msg_out_headerf(struct msg_out *o, const char *name, const char *fmt, ...)
{
	va_list ap;

	put_str(o, name);
	put(o, ": ", 2);
	if (o->overflow)
		return;
	size_t room = o->cap - o->len;
	va_start(ap, fmt);
	int n = vsnprintf(o->p + o->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		o->overflow = true;
		return;
	}
	/* drop CR/LF in place, as msg_out_value does */
	char *s = o->p + o->len;
	size_t k = 0;
	for (size_t i = 0; i < (size_t)n; i++)
		if (s[i] != '\r' && s[i] != '\n')
			s[k++] = s[i];
	o->len += (uint32_t)k;
	put(o, "\r\n", 2);
}

void msg_out_raw(struct msg_out *o, const char *p, size_t len)
{
	put(o, p, len);
}

int msg_out_end(struct msg_out *o, const char *body, size_t bodylen)
{
	put(o, "Content-Length: ", 16);
	o->clen_at = o->len;
	put_uint(o, bodylen, 1);
	put(o, "\r\n\r\n", 4);
	put(o, body, bodylen);
	return o->overflow ? EMSGSIZE : 0;
}

int msg_print(const struct msg *m, struct msg_out *o)
{
	const char *b = m->buf;
	bool open = false;

	if (m->is_request) {
		put_span(o, b, m->method_s);
		put(o, " ", 1);
		put_span(o, b, m->ruri_s);
		put(o, " ", 1);
	}
	if (m->version.len > 0)
		put_span(o, b, m->version);
	else
		put(o, "SIP/2.0", 7);
	if (!m->is_request) {
		put(o, " ", 1);
		put_uint(o, m->status, 3);
		put(o, " ", 1);
		put_span(o, b, m->reason);
	}
	put(o, "\r\n", 2);
	for (uint16_t i = 0; i < m->nhdrs; i++) {
		const struct msg_hdr *h = &m->hdrs[i];
		if (h->id == MSG_HDR_CONTENT_LENGTH)
			continue; /* written by msg_out_end with the real body length */
		if (h->flags & MSG_HDRF_FIRST) {
			if (open)
				put(o, "\r\n", 2);
			put_span(o, b, h->name);
			put(o, ": ", 2);
			open = true;
		} else {
			put(o, ", ", 2);
		}
		msg_out_value(o, b + h->value.off, h->value.len);
	}
	if (open)
		put(o, "\r\n", 2);
	return msg_out_end(o, b + m->body.off, m->body.len);
}

static void copy_hdr(struct msg_out *o, const struct msg *req, const struct msg_hdr *h,
		     const char *name)
{
	put_str(o, name);
	put(o, ": ", 2);
	msg_out_value(o, req->buf + h->value.off, h->value.len);
}

void msg_out_response(struct msg_out *o, struct msg *req, unsigned code, const char *reason,
		      const char *to_tag)
{
	msg_out_response_via(o, req, code, reason, to_tag, NULL, 0);
}

void msg_out_response_via(struct msg_out *o, struct msg *req, unsigned code, const char *reason,
			  const char *to_tag, const char *via1, size_t via1len)
{
	const struct msg_hdr *h;

	msg_out_status_line(o, code, reason);
	for (h = msg_hdr_find(req, MSG_HDR_VIA); h; h = msg_hdr_next(req, h)) {
		if (via1 != NULL && h == msg_hdr_find(req, MSG_HDR_VIA)) {
			msg_out_header(o, "Via", via1, via1len);
			continue;
		}
		copy_hdr(o, req, h, "Via");
		put(o, "\r\n", 2);
	}
	if ((h = msg_hdr_find(req, MSG_HDR_FROM)) != NULL) {
		copy_hdr(o, req, h, "From");
		put(o, "\r\n", 2);
	}
	if ((h = msg_hdr_find(req, MSG_HDR_TO)) != NULL) {
		copy_hdr(o, req, h, "To");
		const struct msg_nameaddr *to = msg_to(req);
		if (to_tag != NULL && (to == NULL || !to->has_tag)) {
			put(o, ";tag=", 5);
			msg_out_value(o, to_tag, strlen(to_tag));
		}
		put(o, "\r\n", 2);
	}
	if ((h = msg_hdr_find(req, MSG_HDR_CALL_ID)) != NULL) {
		copy_hdr(o, req, h, "Call-ID");
		put(o, "\r\n", 2);
	}
	if ((h = msg_hdr_find(req, MSG_HDR_CSEQ)) != NULL) {
		copy_hdr(o, req, h, "CSeq");
		put(o, "\r\n", 2);
	}
}
