/*
 * msg_sdp.c - SDP parser (RFC 4566 §5, §9) and lookups on a parsed description.
 *
 * One pass over the lines: each is recorded in s->lines[] and, by its type
 * letter, typed into the session or the current media section.  No
 * allocation, no copy, no recursion; every scan is bounded by the body span.
 */
#include <errno.h>
#include <stddef.h>

#include "ringlet/msg_sdp.h"

struct pstate {
	struct msg_sdp *s;
	const char *buf;
	struct msg_sdp_media *m; /* current media section, NULL at session level */
	bool has_o;
};

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 4566 §9 token-char: %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A / %x5E-7E */
static bool is_token(char c)
{
	unsigned char u = (unsigned char)c;
	if (u < 0x21 || u > 0x7e)
		return false;
	return u != '"' && u != '(' && u != ')' && u != ',' && u != '/' &&
	       !(u >= 0x3a && u <= 0x40) && !(u >= 0x5b && u <= 0x5d);
}

/*
 * Split v into fields separated by runs of SP/HTAB (leading and trailing
 * whitespace ignored).  Fills at most max fields; returns the field count,
 * or max + 1 when there are more.
 */
static unsigned split(const char *buf, struct span v, struct span *f, unsigned max)
{
	const char *p = buf + v.off, *end = p + v.len;
	unsigned n = 0;
	for (;;) {
		while (p < end && is_ws(*p))
			p++;
		if (p == end)
			return n;
		if (n == max)
			return max + 1;
		const char *a = p;
		while (p < end && !is_ws(*p))
			p++;
		f[n++] = span_from(buf, a, p);
	}
}

/* Span v without trailing SP/HTAB. */
static struct span rtrim(const char *buf, struct span v)
{
	while (v.len > 0 && is_ws(buf[v.off + v.len - 1]))
		v.len--;
	return v;
}

/* Decimal u64 filling the whole span; EBADMSG if empty, not digits or too large. */
static int span_u64(const char *buf, struct span s, uint64_t *out)
{
	uint64_t v = 0;
	if (s.len == 0)
		return EBADMSG;
	for (uint32_t i = 0; i < s.len; i++) {
		char c = buf[s.off + i];
		if (!is_digit(c))
			return EBADMSG;
		uint64_t d = (uint64_t)(c - '0');
		if (v > (UINT64_MAX - d) / 10)
			return EBADMSG;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Decimal in [min, max] filling the whole span. */
static int num(const char *buf, struct span s, uint32_t min, uint32_t max, uint32_t *out)
{
	if (span_u32(buf, s, max, out) != 0 || *out < min)
		return EBADMSG;
	return 0;
}

/* Split s at the first c: *a before, *b after (b.len 0 and false when no c). */
static bool cut(const char *buf, struct span s, char c, struct span *a, struct span *b)
{
	const char *p = buf + s.off;
	const char *q = memchr(p, c, s.len);
	if (!q) {
		*a = s;
		*b = SPAN_NULL;
		return false;
	}
	*a = span_from(buf, p, q);
	*b = span_from(buf, q + 1, p + s.len);
	return true;
}

/* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> (§5.2) */
static int parse_origin(const char *buf, struct span v, struct msg_sdp_origin *o)
{
	struct span f[6];
	if (split(buf, v, f, 6) != 6)
		return EBADMSG;
	if (span_u64(buf, f[1], &o->sess_id) || span_u64(buf, f[2], &o->sess_ver))
		return EBADMSG;
	o->user = f[0];
	o->nettype = f[3];
	o->addrtype = f[4];
	o->addr = f[5];
	return 0;
}

/*
 * c=<nettype> <addrtype> <connection-address> (§5.7).  The address may carry
 * "/ttl[/number]" for IP4 multicast and "/number" for IP6 multicast.
 */
static int parse_conn(const char *buf, struct span v, struct msg_sdp_conn *c)
{
	struct span f[3], n1, n2, rest;
	uint32_t x;
	if (split(buf, v, f, 3) != 3)
		return EBADMSG;
	c->nettype = f[0];
	c->addrtype = f[1];
	c->ttl = 0;
	c->naddr = 1;
	c->present = true;
	if (!cut(buf, f[2], '/', &c->addr, &rest))
		return 0;
	if (c->addr.len == 0)
		return EBADMSG;
	bool two = cut(buf, rest, '/', &n1, &n2);
	if (span_ieq(buf, f[1], "IP6")) {
		if (two || num(buf, n1, 1, 65535, &x))
			return EBADMSG;
		c->naddr = (uint16_t)x;
		return 0;
	}
	if (num(buf, n1, 0, 255, &x))
		return EBADMSG;
	c->ttl = (uint16_t)x;
	if (two) {
		if (num(buf, n2, 1, 65535, &x))
			return EBADMSG;
		c->naddr = (uint16_t)x;
	}
	return 0;
}

/* c= at session level (at most once) or in a media section (first one typed). */
static int add_conn(struct pstate *ps, struct span v)
{
	struct msg_sdp_conn c;
	if (parse_conn(ps->buf, v, &c))
		return EBADMSG;
	if (ps->m) {
		if (!ps->m->conn.present)
			ps->m->conn = c;
		return 0;
	}
	if (ps->s->conn.present)
		return EBADMSG;
	ps->s->conn = c;
	return 0;
}

/* t=<start-time> <stop-time> (§5.9) */
static int add_time(struct pstate *ps, struct span v)
{
	struct msg_sdp *s = ps->s;
	struct span f[2];
	struct msg_sdp_time t;
	if (ps->m)
		return EBADMSG;
	if (split(ps->buf, v, f, 2) != 2 || span_u64(ps->buf, f[0], &t.start) ||
	    span_u64(ps->buf, f[1], &t.stop))
		return EBADMSG;
	if (s->ntimes == MSG_SDP_MAX_TIMES)
		return EMSGSIZE;
	s->times[s->ntimes++] = t;
	return 0;
}

/* b=<bwtype>:<bandwidth> (§5.8) */
static int add_bw(struct pstate *ps, struct span v)
{
	struct msg_sdp *s = ps->s;
	struct span type, val;
	uint32_t x;
	if (!cut(ps->buf, rtrim(ps->buf, v), ':', &type, &val) || type.len == 0)
		return EBADMSG;
	for (uint32_t i = 0; i < type.len; i++)
		if (!is_token(ps->buf[type.off + i]))
			return EBADMSG;
	if (num(ps->buf, val, 0, UINT32_MAX, &x))
		return EBADMSG;
	uint16_t *n = ps->m ? &ps->m->nbw : &s->nbw;
	if (*n == MSG_SDP_MAX_BW)
		return EMSGSIZE;
	s->bws[s->bws_used].type = type;
	s->bws[s->bws_used].value = x;
	s->bws_used++;
	(*n)++;
	return 0;
}

/* a=<attribute>[:<value>] (§5.13); the name is a token. */
static int add_attr(struct pstate *ps, struct span v)
{
	struct msg_sdp *s = ps->s;
	const char *p = ps->buf + v.off, *end = p + v.len, *q = p;
	while (q < end && is_token(*q))
		q++;
	if (q == p || (q < end && *q != ':'))
		return EBADMSG;
	uint16_t *n = ps->m ? &ps->m->nattrs : &s->nattrs;
	if (*n == MSG_SDP_MAX_ATTRS)
		return EMSGSIZE;
	struct msg_sdp_attr *a = &s->attrs[s->attrs_used++];
	a->name = span_from(ps->buf, p, q);
	a->has_value = q < end;
	a->value = a->has_value ? span_from(ps->buf, q + 1, end) : SPAN_NULL;
	(*n)++;
	return 0;
}

/* The payload type a format stands for, or MSG_SDP_NO_PT. */
static uint8_t fmt_pt(const char *buf, struct span f)
{
	uint32_t pt;
	if (f.len > 3 || span_u32(buf, f, 127, &pt) != 0)
		return MSG_SDP_NO_PT;
	return (uint8_t)pt;
}

/* m=<media> <port>[/<number of ports>] <proto> <fmt> ... (§5.14): starts a section. */
static int add_media(struct pstate *ps, struct span v, uint16_t line)
{
	struct msg_sdp *s = ps->s;
	struct span f[3 + MSG_SDP_MAX_FMTS], port, nports;
	uint32_t x;
	if (!ps->has_o)
		return EBADMSG;
	unsigned n = split(ps->buf, v, f, 3 + MSG_SDP_MAX_FMTS);
	if (n > 3 + MSG_SDP_MAX_FMTS)
		return EMSGSIZE;
	if (n < 4)
		return EBADMSG;
	if (s->nmedia == MSG_SDP_MAX_MEDIA)
		return EMSGSIZE;
	struct msg_sdp_media *m = &s->media[s->nmedia];
	memset(m, 0, sizeof(*m));
	m->type = f[0];
	bool slash = cut(ps->buf, f[1], '/', &port, &nports);
	if (num(ps->buf, port, 0, 65535, &x))
		return EBADMSG;
	m->port = (uint16_t)x;
	m->nports = 1;
	if (slash) {
		if (num(ps->buf, nports, 1, 65535, &x))
			return EBADMSG;
		m->nports = (uint16_t)x;
	}
	m->proto = f[2];
	m->nfmts = (uint8_t)(n - 3);
	for (unsigned i = 0; i < m->nfmts; i++) {
		m->fmts[i] = f[3 + i];
		m->pts[i] = fmt_pt(ps->buf, f[3 + i]);
	}
	m->line = line;
	m->nlines = 1;
	m->attr0 = s->attrs_used;
	m->bw0 = s->bws_used;
	s->nmedia++;
	ps->m = m;
	return 0;
}

/* Type one recorded line into the session or the current media section. */
static int type_line(struct pstate *ps, char type, struct span v, uint16_t line)
{
	struct msg_sdp *s = ps->s;
	switch (type) {
	case 'o':
		if (ps->m || ps->has_o)
			return EBADMSG;
		ps->has_o = true;
		return parse_origin(ps->buf, v, &s->origin);
	case 's':
		if (ps->m || s->has_name)
			return EBADMSG;
		s->has_name = true;
		s->name = v;
		return 0;
	case 'c':
		return add_conn(ps, v);
	case 't':
		return add_time(ps, v);
	case 'r':
		/* repeat times belong to the t= before them (§5.10) */
		return (ps->m || s->ntimes == 0) ? EBADMSG : 0;
	case 'v':
		return EBADMSG; /* only as the first line */
	case 'u':
	case 'e':
	case 'p':
	case 'z':
		/* session-only fields (§5): in a media section they would be ambiguous */
		return ps->m ? EBADMSG : 0;
	case 'b':
		return add_bw(ps, v);
	case 'a':
		return add_attr(ps, v);
	case 'm':
		return add_media(ps, v, line);
	default:
		return 0; /* i, k and unknown letters: kept in lines[] only */
	}
}

/* One non-empty line [p, le) without its line end. */
static int one_line(struct pstate *ps, const char *p, const char *le)
{
	struct msg_sdp *s = ps->s;
	size_t n = (size_t)(le - p);
	char t = p[0];
	if (n < 2 || p[1] != '=' || !((t >= 'a' && t <= 'z') || (t >= 'A' && t <= 'Z')))
		return EBADMSG;
	/* text excludes NUL, CR and LF (§9 "byte-string") */
	if (memchr(p, '\r', n) || memchr(p, '\0', n))
		return EBADMSG;
	if (s->nlines == 0 && (t != 'v' || n != 3 || p[2] != '0'))
		return EBADMSG; /* §5.1: v=0 comes first */
	if (s->nlines == MSG_SDP_MAX_LINES)
		return EMSGSIZE;
	uint16_t idx = s->nlines++;
	s->lines[idx].type = t;
	s->lines[idx].value = span_from(ps->buf, p + 2, le);
	if (idx == 0)
		return 0;
	if (ps->m && t != 'm')
		ps->m->nlines++;
	return type_line(ps, t, s->lines[idx].value, idx);
}

int msg_sdp_parse(struct msg_sdp *s, const char *buf, struct span body)
{
	struct pstate ps = {s, buf, NULL, false};
	const char *p = buf + body.off, *end = p + body.len;
	bool blank = false;

	memset(s, 0, offsetof(struct msg_sdp, media));
	s->buf = buf;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *next = nl ? nl + 1 : end;
		/* CRLF, or a CR left alone by a missing final LF */
		if (le > p && le[-1] == '\r')
			le--;
		if (le == p) {
			blank = true;
			p = next;
			continue;
		}
		if (blank)
			return EBADMSG; /* an empty line inside the description */
		int rc = one_line(&ps, p, le);
		if (rc)
			return rc;
		p = next;
	}
	if (s->nlines == 0 || !ps.has_o)
		return EBADMSG;
	return 0;
}

/* ---- equality ---- */

static bool seq(const char *abuf, struct span a, const char *bbuf, struct span b)
{
	return a.len == b.len && memcmp(abuf + a.off, bbuf + b.off, a.len) == 0;
}

static bool conn_eq(const char *ab, const struct msg_sdp_conn *a, const char *bb,
		    const struct msg_sdp_conn *b)
{
	if (a->present != b->present)
		return false;
	return !a->present ||
	       (seq(ab, a->nettype, bb, b->nettype) && seq(ab, a->addrtype, bb, b->addrtype) &&
		seq(ab, a->addr, bb, b->addr) && a->ttl == b->ttl && a->naddr == b->naddr);
}

static bool media_eq(const char *ab, const struct msg_sdp_media *a, const char *bb,
		     const struct msg_sdp_media *b)
{
	if (!seq(ab, a->type, bb, b->type) || a->port != b->port || a->nports != b->nports ||
	    !seq(ab, a->proto, bb, b->proto) || a->nfmts != b->nfmts ||
	    !conn_eq(ab, &a->conn, bb, &b->conn) || a->line != b->line ||
	    a->nlines != b->nlines || a->attr0 != b->attr0 || a->nattrs != b->nattrs ||
	    a->bw0 != b->bw0 || a->nbw != b->nbw)
		return false;
	for (unsigned i = 0; i < a->nfmts; i++)
		if (!seq(ab, a->fmts[i], bb, b->fmts[i]) || a->pts[i] != b->pts[i])
			return false;
	return true;
}

static bool session_eq(const struct msg_sdp *a, const struct msg_sdp *b)
{
	const char *ab = a->buf, *bb = b->buf;
	const struct msg_sdp_origin *x = &a->origin, *y = &b->origin;
	return seq(ab, x->user, bb, y->user) && x->sess_id == y->sess_id &&
	       x->sess_ver == y->sess_ver && seq(ab, x->nettype, bb, y->nettype) &&
	       seq(ab, x->addrtype, bb, y->addrtype) && seq(ab, x->addr, bb, y->addr) &&
	       a->has_name == b->has_name && seq(ab, a->name, bb, b->name) &&
	       conn_eq(ab, &a->conn, bb, &b->conn) && a->ntimes == b->ntimes &&
	       memcmp(a->times, b->times, a->ntimes * sizeof(a->times[0])) == 0 &&
	       a->nattrs == b->nattrs && a->nbw == b->nbw && a->nmedia == b->nmedia &&
	       a->attrs_used == b->attrs_used && a->bws_used == b->bws_used &&
	       a->nlines == b->nlines;
}

bool msg_sdp_equal(const struct msg_sdp *a, const struct msg_sdp *b)
{
	const char *ab = a->buf, *bb = b->buf;
	if (!session_eq(a, b))
		return false;
	for (unsigned i = 0; i < a->nlines; i++)
		if (a->lines[i].type != b->lines[i].type ||
		    !seq(ab, a->lines[i].value, bb, b->lines[i].value))
			return false;
	for (unsigned i = 0; i < a->nmedia; i++)
		if (!media_eq(ab, &a->media[i], bb, &b->media[i]))
			return false;
	for (unsigned i = 0; i < a->attrs_used; i++) {
		const struct msg_sdp_attr *x = &a->attrs[i], *y = &b->attrs[i];
		if (!seq(ab, x->name, bb, y->name) || x->has_value != y->has_value ||
		    !seq(ab, x->value, bb, y->value))
			return false;
	}
	for (unsigned i = 0; i < a->bws_used; i++)
		if (!seq(ab, a->bws[i].type, bb, b->bws[i].type) ||
		    a->bws[i].value != b->bws[i].value)
			return false;
	return true;
}

/* ---- lookups ---- */

const struct msg_sdp_attr *msg_sdp_attr_find(const struct msg_sdp *s,
					     const struct msg_sdp_media *m, const char *name,
					     const struct msg_sdp_attr *after)
{
	unsigned first = m ? m->attr0 : 0;
	unsigned end = first + (m ? m->nattrs : s->nattrs);
	unsigned i = first;
	if (after) {
		ptrdiff_t k = after - s->attrs;
		if (k < (ptrdiff_t)first || k >= (ptrdiff_t)end)
			return NULL;
		i = (unsigned)k + 1;
	}
	for (; i < end; i++)
		if (span_ieq(s->buf, s->attrs[i].name, name))
			return &s->attrs[i];
	return NULL;
}

/* Leading payload type of an rtpmap/fmtp value and the span after it; false if none. */
static bool lead_pt(const char *buf, struct span v, uint32_t *pt, struct span *rest)
{
	uint32_t i = 0, x = 0;
	while (i < v.len && i < 4 && is_digit(buf[v.off + i]))
		x = x * 10 + (uint32_t)(buf[v.off + i++] - '0');
	if (i == 0 || i > 3 || x > 127)
		return false;
	if (i < v.len && !is_ws(buf[v.off + i]))
		return false;
	*pt = x;
	while (i < v.len && is_ws(buf[v.off + i]))
		i++;
	*rest = (struct span){v.off + i, v.len - i};
	return true;
}

/* <encoding name>/<clock rate>[/<encoding parameters>] (RFC 4566 §6 rtpmap) */
static int rtpmap_tail(const char *buf, struct span v, struct msg_sdp_rtpmap *out)
{
	struct span name, rate, rest, ch, extra;
	uint32_t x;
	v = rtrim(buf, v);
	if (!cut(buf, v, '/', &name, &rest) || name.len == 0)
		return EBADMSG;
	for (uint32_t i = 0; i < name.len; i++)
		if (!is_token(buf[name.off + i]))
			return EBADMSG;
	bool has_ch = cut(buf, rest, '/', &rate, &ch);
	if (num(buf, rate, 1, UINT32_MAX, &out->rate))
		return EBADMSG;
	out->channels = 1;
	if (has_ch) {
		if (cut(buf, ch, '/', &ch, &extra) || num(buf, ch, 1, 255, &x))
			return EBADMSG;
		out->channels = (uint8_t)x;
	}
	out->name.p = buf + name.off;
	out->name.len = name.len;
	return 0;
}

int msg_sdp_rtpmap(const struct msg_sdp *s, const struct msg_sdp_media *m, unsigned pt,
		   struct msg_sdp_rtpmap *out)
{
	const struct msg_sdp_attr *a = NULL;
	while ((a = msg_sdp_attr_find(s, m, "rtpmap", a)) != NULL) {
		uint32_t x;
		struct span rest;
		if (!lead_pt(s->buf, a->value, &x, &rest) || x != pt)
			continue;
		out->pt = (uint8_t)pt;
		return rtpmap_tail(s->buf, rest, out);
	}
	return ENOENT;
}

/* RFC 3551 §6 static audio payload types. */
static const struct {
	uint8_t pt;
	struct msg_sdp_str name;
} static_pts[] = {
	{0, MSG_SDP_LIT("PCMU")}, {3, MSG_SDP_LIT("GSM")}, {4, MSG_SDP_LIT("G723")},
	{8, MSG_SDP_LIT("PCMA")}, {9, MSG_SDP_LIT("G722")}, {13, MSG_SDP_LIT("CN")},
	{18, MSG_SDP_LIT("G729")},
};

int msg_sdp_fmt_codec(const struct msg_sdp *s, const struct msg_sdp_media *m, unsigned i,
		      struct msg_sdp_rtpmap *out)
{
	if (i >= m->nfmts || m->pts[i] == MSG_SDP_NO_PT)
		return ENOENT;
	if (msg_sdp_rtpmap(s, m, m->pts[i], out) == 0)
		return 0;
	for (size_t k = 0; k < ARRAY_SIZE(static_pts); k++) {
		if (static_pts[k].pt == m->pts[i]) {
			out->pt = m->pts[i];
			out->name = static_pts[k].name;
			out->rate = 8000; /* every entry of the table, G722 included (§4.5.2) */
			out->channels = 1;
			return 0;
		}
	}
	return ENOENT;
}

bool msg_sdp_fmtp(const struct msg_sdp *s, const struct msg_sdp_media *m, unsigned pt,
		  struct span *params)
{
	const struct msg_sdp_attr *a = NULL;
	while ((a = msg_sdp_attr_find(s, m, "fmtp", a)) != NULL) {
		uint32_t x;
		struct span rest;
		if (lead_pt(s->buf, a->value, &x, &rest) && x == pt) {
			*params = rtrim(s->buf, rest);
			return true;
		}
	}
	return false;
}

/* Leading digits of an a=ptime value ("20", "20.0"); 0 when none or huge. */
static uint32_t ptime_of(const char *buf, const struct msg_sdp_attr *a)
{
	uint32_t v = 0;
	for (uint32_t i = 0; i < a->value.len && is_digit(buf[a->value.off + i]); i++) {
		if (v > 100000)
			return 0;
		v = v * 10 + (uint32_t)(buf[a->value.off + i] - '0');
	}
	return v;
}

uint32_t msg_sdp_ptime(const struct msg_sdp *s, const struct msg_sdp_media *m)
{
	const struct msg_sdp_attr *a = NULL;
	if (m)
		a = msg_sdp_attr_find(s, m, "ptime", NULL);
	if (!a)
		a = msg_sdp_attr_find(s, NULL, "ptime", NULL);
	return a ? ptime_of(s->buf, a) : 0;
}

/* The direction attribute of one section, or MSG_SDP_DIR_NONE. */
static enum msg_sdp_dir section_dir(const struct msg_sdp *s, const struct msg_sdp_media *m)
{
	static const char *const names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
	unsigned first = m ? m->attr0 : 0;
	unsigned end = first + (m ? m->nattrs : s->nattrs);
	for (unsigned i = first; i < end; i++)
		for (unsigned k = 0; k < ARRAY_SIZE(names); k++)
			if (span_ieq(s->buf, s->attrs[i].name, names[k]))
				return (enum msg_sdp_dir)(MSG_SDP_SENDRECV + k);
	return MSG_SDP_DIR_NONE;
}

enum msg_sdp_dir msg_sdp_dir(const struct msg_sdp *s, const struct msg_sdp_media *m)
{
	enum msg_sdp_dir d = m ? section_dir(s, m) : MSG_SDP_DIR_NONE;
	if (d == MSG_SDP_DIR_NONE)
		d = section_dir(s, NULL);
	return d == MSG_SDP_DIR_NONE ? MSG_SDP_SENDRECV : d;
}

const struct msg_sdp_conn *msg_sdp_conn(const struct msg_sdp *s, const struct msg_sdp_media *m)
{
	if (m && m->conn.present)
		return &m->conn;
	return s->conn.present ? &s->conn : NULL;
}
