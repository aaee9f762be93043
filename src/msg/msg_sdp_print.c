/*
 * msg_sdp_print.c - print a parsed SDP back, and build SDP from values
 * (RFC 4566 §5).  Output goes to caller memory with a size limit; nothing is
 * allocated and every line ends in CRLF.
 */
#include <errno.h>

#include "ringlet/msg_sdp.h"

/* Bounded writer: on overflow it stops and remembers. */
struct wr {
	char *p;
	size_t len;
	size_t cap;
	bool over;
};

static void put(struct wr *w, const char *s, size_t n)
{
	if (w->over)
		return;
	if (n > w->cap - w->len) {
		w->over = true;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

static void puts_(struct wr *w, const char *s)
{
	put(w, s, strlen(s));
}

static void put_str(struct wr *w, struct msg_sdp_str s)
{
	put(w, s.p, s.len);
}

static void put_u64(struct wr *w, uint64_t v)
{
	char d[20];
	size_t n = sizeof(d);
	do {
		d[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(w, d + n, sizeof(d) - n);
}

static int finish(const struct wr *w, size_t *outlen)
{
	*outlen = w->len;
	return w->over ? EMSGSIZE : 0;
}

int msg_sdp_print(const struct msg_sdp *s, char *out, size_t cap, size_t *outlen)
{
	struct wr w = {out, 0, cap, false};
	for (unsigned i = 0; i < s->nlines; i++) {
		char head[2] = {s->lines[i].type, '='};
		put(&w, head, 2);
		put(&w, s->buf + s->lines[i].value.off, s->lines[i].value.len);
		put(&w, "\r\n", 2);
	}
	return finish(&w, outlen);
}

/* ---- builder ---- */

/* Text for a line: no CR, LF or NUL (they would end or corrupt the line). */
static bool ok_text(struct msg_sdp_str s)
{
	if (s.len && !s.p)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] == '\r' || s.p[i] == '\n' || s.p[i] == '\0')
			return false;
	return true;
}

/* One field of a space-separated line: non-empty text without SP/HTAB. */
static bool ok_word(struct msg_sdp_str s)
{
	if (s.len == 0 || !ok_text(s))
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] == ' ' || s.p[i] == '\t')
			return false;
	return true;
}

/* RFC 4566 §9 token-char (what an attribute name is made of). */
static bool is_token(char c)
{
	unsigned char u = (unsigned char)c;
	if (u < 0x21 || u > 0x7e)
		return false;
	return u != '"' && u != '(' && u != ')' && u != ',' && u != '/' &&
	       !(u >= 0x3a && u <= 0x40) && !(u >= 0x5b && u <= 0x5d);
}

/* An extra attribute "name" or "name:value" (§5.13). */
static bool ok_attr(struct msg_sdp_str a)
{
	size_t i = 0;
	if (!ok_text(a))
		return false;
	while (i < a.len && is_token(a.p[i]))
		i++;
	return i > 0 && (i == a.len || a.p[i] == ':');
}

/* A verbatim format list: text with no whitespace at either end. */
static bool ok_fmts(struct msg_sdp_str f)
{
	return f.len && ok_text(f) && f.p[0] != ' ' && f.p[0] != '\t' && f.p[f.len - 1] != ' ' &&
	       f.p[f.len - 1] != '\t';
}

/* A connection address: a word without '/' (which would start a TTL, §5.7). */
static bool ok_addr(struct msg_sdp_str a)
{
	return ok_word(a) && !memchr(a.p, '/', a.len);
}

/* An rtpmap encoding name: a word without '/'. */
static bool ok_codec(const struct msg_sdp_codec *c)
{
	if (!ok_word(c->name) || memchr(c->name.p, '/', c->name.len) || c->pt > 127 ||
	    c->rate == 0)
		return false;
	return ok_text(c->fmtp);
}

static bool ok_media(const struct msg_sdp_desc_media *m)
{
	if (!ok_word(m->type) || (m->proto.len && !ok_word(m->proto)) ||
	    (m->addr.len && !ok_addr(m->addr)) || m->ncodecs > MSG_SDP_MAX_FMTS ||
	    m->nattrs > MSG_SDP_DESC_MAX_ATTRS || m->dir > MSG_SDP_INACTIVE)
		return false;
	if (m->ncodecs == 0 && !ok_fmts(m->fmt))
		return false;
	for (unsigned i = 0; i < m->ncodecs; i++)
		if (!ok_codec(&m->codecs[i]))
			return false;
	for (unsigned i = 0; i < m->nattrs; i++)
		if (!ok_attr(m->attrs[i]))
			return false;
	return true;
}

static bool ok_desc(const struct msg_sdp_desc *d)
{
	if (!ok_addr(d->addr) || (d->user.len && !ok_word(d->user)) || !ok_text(d->name) ||
	    d->nmedia > MSG_SDP_MAX_MEDIA)
		return false;
	for (unsigned i = 0; i < d->nmedia; i++)
		if (!ok_media(&d->media[i]))
			return false;
	return true;
}

/* "IN IP4 addr" or "IN IP6 addr" (an IPv6 address is the only one with ':'). */
static void put_netaddr(struct wr *w, struct msg_sdp_str addr)
{
	puts_(w, memchr(addr.p, ':', addr.len) ? "IN IP6 " : "IN IP4 ");
	put_str(w, addr);
}

static void put_codec(struct wr *w, const struct msg_sdp_codec *c)
{
	puts_(w, "a=rtpmap:");
	put_u64(w, c->pt);
	put(w, " ", 1);
	put_str(w, c->name);
	put(w, "/", 1);
	put_u64(w, c->rate);
	if (c->channels > 1) {
		put(w, "/", 1);
		put_u64(w, c->channels);
	}
	put(w, "\r\n", 2);
	if (c->fmtp.len) {
		puts_(w, "a=fmtp:");
		put_u64(w, c->pt);
		put(w, " ", 1);
		put_str(w, c->fmtp);
		put(w, "\r\n", 2);
	}
}

static void put_media(struct wr *w, const struct msg_sdp_desc_media *m)
{
	static const char *const dirs[] = {"", "sendrecv", "sendonly", "recvonly", "inactive"};
	puts_(w, "m=");
	put_str(w, m->type);
	put(w, " ", 1);
	put_u64(w, m->port);
	put(w, " ", 1);
	if (m->proto.len)
		put_str(w, m->proto);
	else
		puts_(w, "RTP/AVP");
	for (unsigned i = 0; i < m->ncodecs; i++) {
		put(w, " ", 1);
		put_u64(w, m->codecs[i].pt);
	}
	if (m->ncodecs == 0) {
		put(w, " ", 1);
		put_str(w, m->fmt);
	}
	put(w, "\r\n", 2);
	if (m->addr.len) {
		puts_(w, "c=");
		put_netaddr(w, m->addr);
		put(w, "\r\n", 2);
	}
	for (unsigned i = 0; i < m->ncodecs; i++)
		put_codec(w, &m->codecs[i]);
	if (m->ptime) {
		puts_(w, "a=ptime:");
		put_u64(w, m->ptime);
		put(w, "\r\n", 2);
	}
	if (m->dir != MSG_SDP_DIR_NONE) {
		puts_(w, "a=");
		puts_(w, dirs[m->dir]);
		put(w, "\r\n", 2);
	}
	for (unsigned i = 0; i < m->nattrs; i++) {
		puts_(w, "a=");
		put_str(w, m->attrs[i]);
		put(w, "\r\n", 2);
	}
}

int msg_sdp_desc_print(const struct msg_sdp_desc *d, char *out, size_t cap, size_t *outlen)
{
	struct wr w = {out, 0, cap, false};
	if (!ok_desc(d)) {
		*outlen = 0;
		return EINVAL;
	}
	puts_(&w, "v=0\r\no=");
	if (d->user.len)
		put_str(&w, d->user);
	else
		put(&w, "-", 1);
	put(&w, " ", 1);
	put_u64(&w, d->sess_id);
	put(&w, " ", 1);
	put_u64(&w, d->sess_ver);
	put(&w, " ", 1);
	put_netaddr(&w, d->addr);
	puts_(&w, "\r\ns=");
	if (d->name.len)
		put_str(&w, d->name);
	else
		put(&w, "-", 1);
	puts_(&w, "\r\nc=");
	put_netaddr(&w, d->addr);
	puts_(&w, "\r\nt=0 0\r\n");
	for (unsigned i = 0; i < d->nmedia; i++)
		put_media(&w, &d->media[i]);
	return finish(&w, outlen);
}
