/*
 * msg_parse.c - framing of one SIP message from a byte buffer: start line,
 * header elements, body (RFC 3261 §7, §7.3.1, §18.3, §25.1).
 *
 * One pass, no copy, no allocation.  memchr (vectorised in the C library)
 * finds each line end; a header name is looked up by its first letter and
 * length; only list headers whose value really contains a ',' take the
 * splitting path.  The parser never writes into the buffer and never reads
 * past buf[len).  Anything odd but still framable is recorded in
 * m->anomalies instead of failing, so that the caller can answer 400 rather
 * than drop (RFC 3261 §8.2); EBADMSG is kept for bytes that are not SIP.
 */
#include <errno.h>

#include "msg_core.h"
#include "msg_lex.h"

struct pstate {
	struct msg *m;
	const char *b;	 /* the start line; spans are relative to it (m->buf) */
	const char *lim; /* scan limit: the buffer end, at most MSG_MAX_SIZE past b */
	bool lim_cut;	 /* lim < buffer end: reaching lim means "too big" */
	bool stream;
	bool clen_ok;		       /* the first Content-Length is a number */
	uint64_t clen;		       /* its value, saturated at 2^32 */
	uint16_t last[MSG_HDR__COUNT]; /* last element of an id; valid where first[] is set */
};

static inline bool is_lws(char c)
{
	return (lex_class[(uint8_t)c] & (LEX_WS | LEX_CRLF)) != 0;
}

static inline struct span mkspan(const struct pstate *ps, const char *a, const char *e)
{
	return (struct span){(uint32_t)(a - ps->b), (uint32_t)(e - a)};
}

/* "SIP/" in any case: the start of a SIP-Version (RFC 3261 §7.1). */
static bool sip_prefix(const char *p, const char *e)
{
	return e - p >= 4 && (p[0] | 0x20) == 's' && (p[1] | 0x20) == 'i' && (p[2] | 0x20) == 'p' &&
	       p[3] == '/';
}

static bool all_token(const char *p, const char *e)
{
	return lex_token(p, e) == e;
}

/*
 * Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (RFC 3261 §7.2).
 * Extra SP before the code is tolerated; a code that is not 3 digits leaves
 * status 0 and MSG_A_BAD_STATUS (the response is dropped by msg_validate).
 */
static int parse_status_line(struct pstate *ps, const char *p, const char *eol)
{
	struct msg *m = ps->m;
	const char *v = p;

	while (p < eol && *p != ' ')
		p++;
	if (p == eol)
		return EBADMSG;
	m->version = mkspan(ps, v, p);
	while (p < eol && *p == ' ')
		p++;
	const char *c = p;
	unsigned code = 0;
	while (p < eol && p - c < 4 && *p >= '0' && *p <= '9')
		code = code * 10 + (unsigned)(*p++ - '0');
	if (p - c != 3 || (p < eol && *p != ' ')) {
		m->anomalies |= MSG_A_BAD_STATUS;
		code = 0;
		while (p < eol && *p != ' ')
			p++;
	}
	m->status = (uint16_t)code;
	if (p < eol)
		p++;
	m->reason = mkspan(ps, p, eol);
	return 0;
}

/*
 * Request-Line = Method SP Request-URI SP SIP-Version (RFC 3261 §7.1).  The
 * method is the first word and the version the last one, so a Request-URI
 * with embedded spaces stays whole (msg_validate rejects it).  Extra or
 * trailing whitespace and a missing version are anomalies; a line that has
 * neither a SIP version nor a URI-looking second word is not SIP.
 */
static int parse_request_line(struct pstate *ps, const char *p, const char *eol)
{
	struct msg *m = ps->m;
	const char *e = eol;

	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	const char *sp1 = memchr(p, ' ', (size_t)(e - p));
	if (sp1 == NULL || sp1 == p)
		return EBADMSG;
	const char *lw = e; /* start of the last word */
	while (lw > sp1 + 1 && lw[-1] != ' ')
		lw--;
	const char *us = sp1 + 1, *ue;
	if (sip_prefix(lw, e)) {
		m->version = mkspan(ps, lw, e);
		ue = lw > us ? lw - 1 : us;
	} else {
		if (!all_token(p, sp1) || memchr(us, ':', (size_t)(e - us)) == NULL)
			return EBADMSG;
		m->anomalies |= MSG_A_NO_VERSION;
		m->version = mkspan(ps, e, e);
		ue = e;
	}
	if (e != eol)
		m->anomalies |= MSG_A_TRAILING_WS;
	if (us < ue && (*us == ' ' || ue[-1] == ' ')) {
		m->anomalies |= MSG_A_LWS_START;
		while (us < ue && *us == ' ')
			us++;
		while (ue > us && ue[-1] == ' ')
			ue--;
	}
	if (!all_token(p, sp1))
		m->anomalies |= MSG_A_BAD_METHOD;
	m->is_request = true;
	m->method_s = mkspan(ps, p, sp1);
	m->method = (uint8_t)msg_method_id(p, (size_t)(sp1 - p));
	m->ruri_s = mkspan(ps, us, ue);
	return 0;
}

/* Append one element, trimmed of surrounding LWS, and link it to its id. */
static inline __attribute__((always_inline)) int add_elem(struct pstate *ps, uint8_t id,
							  uint8_t flags, struct span name,
							  const char *s, const char *e, bool folded)
{
	struct msg *m = ps->m;

	if (s < e && *s == ' ')
		s++; /* the usual single space after the colon or comma */
	while (s < e && is_lws(*s))
		s++;
	while (e > s && is_lws(e[-1]))
		e--;
	if (m->nhdrs >= MSG_MAX_HDRS)
		return EMSGSIZE;
	uint16_t i = m->nhdrs++;
	struct msg_hdr *h = &m->hdrs[i];
	if (folded && memchr(s, '\n', (size_t)(e - s)) != NULL)
		flags |= MSG_HDRF_FOLDED;
	h->id = id;
	h->flags = flags;
	h->next = MSG_NO_HDR;
	h->name = name;
	h->value = mkspan(ps, s, e);
	if (m->first[id] == MSG_NO_HDR)
		m->first[id] = i;
	else
		m->hdrs[ps->last[id]].next = i;
	ps->last[id] = i;
	return 0;
}

/*
 * Inside a quoted string (p past the opening '"'): the position after the
 * closing quote, or e.  A backslash escapes the byte after it.
 */
static const char *skip_quoted(const char *p, const char *e)
{
	for (;;) {
		p = lex_find4(p, e, '"', '\\', '\r', '\n');
		if (p >= e)
			return e;
		if (*p == '"')
			return p + 1;
		if (*p == '\\' && p + 1 < e)
			p++;
		p++;
	}
}

/*
 * Split a list value at commas that are outside quoted strings and angle
 * brackets (RFC 3261 §7.3.1).  In-Reply-To holds Call-IDs, whose words may
 * contain '<' and '"' but never ',': it is split at every comma.  The scans
 * jump from one byte that matters to the next (',', '"', '<' outside; '>' in
 * brackets; '"' or '\\' in a quoted string).
 */
static int add_list(struct pstate *ps, uint8_t id, struct span name, const char *s, const char *e,
		    bool folded)
{
	uint8_t flags = MSG_HDRF_FIRST;
	bool raw = id == MSG_HDR_IN_REPLY_TO;
	const char *p = s;
	int err;

	while (p < e) {
		p = raw ? memchr(p, ',', (size_t)(e - p)) : lex_find4(p, e, ',', '"', '<', ',');
		if (p == NULL || p >= e)
			break;
		if (*p == ',') {
			err = add_elem(ps, id, flags, name, s, p, folded);
			if (err)
				return err;
			flags = 0;
			s = ++p;
		} else if (*p == '<') {
			p = memchr(p + 1, '>', (size_t)(e - p - 1));
			if (p == NULL)
				break; /* the rest is inside the brackets */
			p++;
		} else { /* '"' */
			p = skip_quoted(p + 1, e);
		}
	}
	return add_elem(ps, id, flags, name, s, e, folded);
}

/* Content-Length value: digits only, saturated at 2^32 (RFC 3261 §20.14). */
static bool clen_value(const char *p, uint32_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(p[i] - '0');
		if (v > 0xffffffffull)
			v = 0x100000000ull;
	}
	*out = v;
	return true;
}

static void note_clen(struct pstate *ps, const struct msg_hdr *h)
{
	struct msg *m = ps->m;
	uint64_t v = 0;
	bool ok = clen_value(ps->b + h->value.off, h->value.len, &v);

	if (!m->has_clen) {
		m->has_clen = true;
		ps->clen_ok = ok;
		ps->clen = v;
		if (!ok)
			m->anomalies |= MSG_A_BAD_CLEN;
	} else if (!ok || !ps->clen_ok || v != ps->clen) {
		m->anomalies |= MSG_A_MULTI_CLEN;
	}
}

/* One header line [ls, eol), continuation lines included. */
static int add_line(struct pstate *ps, const char *ls, const char *eol, bool folded)
{
	const char *ne = lex_span(lex_skip_an(ls, eol), eol, lex_class, LEX_TOKEN), *q = ne;
	int err;

	if (q < eol && *q != ':') /* whitespace before the colon is rare */
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
	if (ne == ls || q == eol || *q != ':') {
		ps->m->anomalies |= MSG_A_BAD_LINE;
		return 0;
	}
	uint8_t id = msg_hdr_id_of(ls, (size_t)(ne - ls), (size_t)(ps->lim - ls));
	struct span name = mkspan(ps, ls, ne);
	const char *vs = q + 1;
	if (msg_hdr_list_tab[id] && memchr(vs, ',', (size_t)(eol - vs)) != NULL)
		return add_list(ps, id, name, vs, eol, folded);
	err = add_elem(ps, id, MSG_HDRF_FIRST, name, vs, eol, folded);
	if (err == 0 && id == MSG_HDR_CONTENT_LENGTH)
		note_clen(ps, &ps->m->hdrs[ps->m->nhdrs - 1]);
	return err;
}

/* The scan reached lim before the empty line. */
static int end_of_scan(struct pstate *ps, const char **body)
{
	if (ps->lim_cut)
		return EMSGSIZE;
	if (ps->stream)
		return EAGAIN;
	ps->m->anomalies |= MSG_A_NO_EOH;
	*body = ps->lim;
	return 0;
}

/*
 * Header lines from p up to and including the empty line; *body is set to the
 * first byte after it.  A line ends at LF (CRLF or bare LF) that is not
 * followed by SP/HTAB; otherwise the next line continues it (folding).
 */
static int parse_headers(struct pstate *ps, const char *p, const char **body)
{
	const char *lim = ps->lim;

	for (;;) {
		if (p >= lim)
			return end_of_scan(ps, body);
		if (lex_class[(uint8_t)*p] & LEX_CRLF) { /* the empty line? */
			if (*p == '\n') {
				*body = p + 1;
				return 0;
			}
			if (p + 1 >= lim)
				return end_of_scan(ps, body);
			if (p[1] == '\n') {
				*body = p + 2;
				return 0;
			}
		}
		const char *ls = p, *lf;
		bool folded = false;
		for (;;) {
			lf = memchr(p, '\n', (size_t)(lim - p));
			if (lf == NULL || lf + 1 >= lim || (lf[1] != ' ' && lf[1] != '\t'))
				break;
			folded = true;
			p = lf + 1;
		}
		bool last = lf == NULL || lf + 1 >= lim;
		const char *le = lf != NULL ? lf : lim;
		if (le - ls > (ptrdiff_t)MSG_MAX_LINE)
			return EMSGSIZE;
		if (last && (ps->stream || ps->lim_cut))
			return end_of_scan(ps, body);
		const char *eol = le;
		if (eol > ls && eol[-1] == '\r')
			eol--;
		int err = add_line(ps, ls, eol, folded);
		if (err)
			return err;
		if (last)
			return end_of_scan(ps, body);
		p = lf + 1;
	}
}

/* Body: Content-Length bytes, or the rest of a datagram (RFC 3261 §18.3). */
static int frame_body(struct pstate *ps, const char *bs, const char *end)
{
	struct msg *m = ps->m;
	uint64_t avail = (uint64_t)(end - bs), blen;

	if (m->anomalies & MSG_A_NO_EOH) {
		blen = 0;
	} else if (ps->clen_ok) {
		blen = ps->clen;
		if (blen > avail) {
			if (ps->stream && (uint64_t)(bs - ps->b) + blen <= MSG_MAX_SIZE)
				return EAGAIN;
			if (!ps->stream) {
				m->anomalies |= MSG_A_SHORT_BODY;
				blen = avail;
			}
		}
	} else if (ps->stream) {
		blen = 0;
		if (!m->has_clen)
			m->anomalies |= MSG_A_NO_CLEN;
	} else {
		blen = avail;
	}
	if ((uint64_t)(bs - ps->b) + blen > MSG_MAX_SIZE)
		return EMSGSIZE;
	m->body = mkspan(ps, bs, bs + blen);
	m->len = (uint32_t)(bs - ps->b + (ptrdiff_t)blen);
	return 0;
}

static void msg_reset(struct msg *m, const char *b)
{
	m->buf = b;
	m->len = 0;
	m->is_request = false;
	m->method = MSG_METHOD_OTHER;
	m->method_s = SPAN_NULL;
	m->ruri_s = SPAN_NULL;
	m->status = 0;
	m->reason = SPAN_NULL;
	m->version = SPAN_NULL;
	m->body = SPAN_NULL;
	m->has_clen = false;
	m->anomalies = 0;
	m->nhdrs = 0;
	m->cached = 0;
	memset(m->first, 0xff, sizeof(m->first));
}

static int parse_msg(struct pstate *ps, const char *end)
{
	const char *p = ps->b, *lim = ps->lim, *body;
	size_t scan = (size_t)(lim - p);
	int err;

	if (scan > MSG_MAX_LINE + 1)
		scan = MSG_MAX_LINE + 1;
	const char *lf = memchr(p, '\n', scan);
	if (lf == NULL) {
		if (lim - p > (ptrdiff_t)MSG_MAX_LINE)
			return EMSGSIZE;
		if (ps->stream || ps->lim_cut)
			return end_of_scan(ps, &body);
	}
	const char *eol = lf != NULL ? lf : lim;
	if (eol > p && eol[-1] == '\r')
		eol--;
	if (sip_prefix(p, eol))
		err = parse_status_line(ps, p, eol);
	else
		err = parse_request_line(ps, p, eol);
	if (err)
		return err;
	if (lf == NULL)
		err = end_of_scan(ps, &body);
	else
		err = parse_headers(ps, lf + 1, &body);
	if (err)
		return err;
	return frame_body(ps, body, end);
}

int msg_parse(struct msg *m, const char *buf, size_t len, unsigned flags, size_t *used)
{
	const char *p = buf, *end = buf + len;
	struct pstate ps;
	int err;

	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	msg_reset(m, p);
	if ((size_t)(p - buf) > MSG_MAX_SIZE)
		return EMSGSIZE;
	if (p == end)
		return (flags & MSG_PARSE_STREAM) ? EAGAIN : ENODATA;
	ps.m = m;
	ps.b = p;
	ps.lim_cut = (size_t)(end - p) > MSG_MAX_SIZE;
	ps.lim = ps.lim_cut ? p + MSG_MAX_SIZE : end;
	ps.stream = (flags & MSG_PARSE_STREAM) != 0;
	ps.clen_ok = false;
	ps.clen = 0;
	err = parse_msg(&ps, end);
	if (err == EMSGSIZE)
		m->anomalies |= MSG_A_TOO_BIG;
	else if (err == EBADMSG)
		m->anomalies |= MSG_A_NOT_SIP;
	if (err)
		return err;
	*used = (size_t)(p - buf) + m->len;
	return 0;
}
