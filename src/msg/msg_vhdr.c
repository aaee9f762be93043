/*
 * msg_vhdr.c - syntax check of the header elements for msg_validate, one
 * pass over them (RFC 3261 §20, §25.1 and the RFCs that define the other
 * headers).
 *
 * The typed parsers of msg_hdr.h / msg_uri.h do the real work; this file adds
 * the rules that depend on the header (name-addr form required, "*" alone,
 * CSeq range) and small checks for headers that have no typed view (Date,
 * Warning, Timestamp, RAck, ...).  Free-text headers (Subject, Server, ...)
 * and unknown headers always pass.
 */
#include <errno.h>

#include "msg_core.h"
#include "msg_hdr_int.h"

static const char *vptr(const struct msg *m, struct span v)
{
	return m->buf + v.off;
}

/* An empty element that is the whole header line ("Allow:" is legal). */
static bool lone_empty(const struct msg *m, const struct msg_hdr *h)
{
	if (h->value.len != 0 || !(h->flags & MSG_HDRF_FIRST))
		return false;
	return h->next == MSG_NO_HDR || (m->hdrs[h->next].flags & MSG_HDRF_FIRST);
}

/*
 * name-addr / addr-spec (RFC 3261 §20.10): in the addr-spec form a URI with
 * headers (or a comma, '?', ';') must be enclosed in <> (RFC 4475 §3.1.2.13).
 */
static int check_na(const struct msg *m, struct span v, bool need_angle)
{
	struct msg_nameaddr na;

	if (msg_nameaddr_parse(m->buf, v, &na) != 0)
		return EBADMSG;
	if (need_angle && !na.angle)
		return EBADMSG;
	if (!na.angle && na.uri.headers.len > 0)
		return EBADMSG;
	return 0;
}

static int check_contact(const struct msg *m, const struct msg_hdr *h)
{
	struct msg_contact c;

	if (msg_contact_parse(m->buf, h->value, &c) != 0)
		return EBADMSG;
	if (c.star) /* "*" only as the one and only Contact (RFC 3261 §10.2.2) */
		return &m->hdrs[m->first[MSG_HDR_CONTACT]] == h && h->next == MSG_NO_HDR ? 0
											 : EBADMSG;
	if (!c.na.angle && c.na.uri.headers.len > 0)
		return EBADMSG;
	return 0;
}

/* token *(SEMI generic-param), e.g. Content-Disposition, Accept-Encoding. */
static int check_token_params(const struct msg *m, struct span v)
{
	const char *p = vptr(m, v), *e = p + v.len;
	const char *t = lex_token(p, e);
	struct span name, val;
	uint32_t pos = 0;

	if (t == p)
		return EBADMSG;
	t = lex_lws(t, e);
	if (t == e)
		return 0;
	if (*t != ';')
		return EBADMSG;
	struct span params = {(uint32_t)(t + 1 - m->buf), (uint32_t)(e - t - 1)};
	while (msg_param_next(m->buf, params, &pos, &name, &val))
		if (name.len == 0 ||
		    lex_token(vptr(m, name), vptr(m, name) + name.len) != vptr(m, name) + name.len)
			return EBADMSG;
	return 0;
}

/* msg_token_parse without its result. */
static int check_token(const struct msg *m, struct span v)
{
	const char *p, *end;

	return msg_hdr_bounds(m->buf, v, &p, &end) && lex_token(p, end) == end ? 0 : EBADMSG;
}

/* 1*DIGIT, returns the end of the digits (p when none). */
static const char *digits(const char *p, const char *e)
{
	while (p < e && *p >= '0' && *p <= '9')
		p++;
	return p;
}

static bool match3(const char *p, const char *list)
{
	for (; *list; list += 3)
		if (memcmp(p, list, 3) == 0)
			return true;
	return false;
}

/* rfc1123-date "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 3261 §20.17; case-sensitive). */
static int check_date(const struct msg *m, struct span v)
{
	const char *p = vptr(m, v);
	static const char tmpl[] = "Www, DD Mmm YYYY HH:MM:SS GMT";

	if (v.len != sizeof(tmpl) - 1 || !match3(p, "MonTueWedThuFriSatSun") ||
	    !match3(p + 8, "JanFebMarAprMayJunJulAugSepOctNovDec") || memcmp(p + 25, " GMT", 4))
		return EBADMSG;
	for (size_t i = 0; i < 25; i++) { /* " GMT" checked above */
		char t = tmpl[i];
		bool dig = t == 'D' || t == 'Y' || t == 'H' || t == 'M' || t == 'S';
		if (i >= 8 && i < 11)
			continue; /* month, checked above */
		if (dig && (p[i] < '0' || p[i] > '9'))
			return EBADMSG;
		if ((t == ',' || t == ' ' || t == ':') && p[i] != t)
			return EBADMSG;
	}
	return 0;
}

/* MIME-Version = 1*DIGIT "." 1*DIGIT (RFC 3261 §20.24). */
static int check_mime_version(const struct msg *m, struct span v)
{
	const char *p = vptr(m, v), *e = p + v.len;
	const char *d = digits(p, e);

	if (d == p || d == e || *d != '.')
		return EBADMSG;
	return digits(d + 1, e) == e && e > d + 1 ? 0 : EBADMSG;
}

/* Timestamp = 1*DIGIT ["." *DIGIT] [LWS delay], delay = *DIGIT ["." *DIGIT] (§20.38). */
static int check_timestamp(const struct msg *m, struct span v)
{
	const char *p = vptr(m, v), *e = p + v.len;
	const char *d = digits(p, e);

	if (d == p)
		return EBADMSG;
	if (d < e && *d == '.')
		d = digits(d + 1, e);
	if (d == e)
		return 0;
	const char *q = lex_lws(d, e);
	if (q == d)
		return EBADMSG;
	q = digits(q, e);
	if (q < e && *q == '.')
		q = digits(q + 1, e);
	return q == e ? 0 : EBADMSG;
}

/* Warning element: 3DIGIT SP warn-agent SP quoted-string (RFC 3261 §20.43). */
static int check_warning(const struct msg *m, struct span v)
{
	const char *p = vptr(m, v), *e = p + v.len;

	if (digits(p, e) != p + 3 || p + 3 >= e || p[3] != ' ')
		return EBADMSG;
	p += 4;
	const char *a = p;
	while (p < e && *p != ' ')
		p++;
	if (p == a || p + 1 >= e || p[1] != '"')
		return EBADMSG;
	return lex_quoted(p + 1, e) == e ? 0 : EBADMSG;
}

/* RAck = response-num LWS CSeq-num LWS Method (RFC 3262 §7.2). */
static int check_rack(const struct msg *m, struct span v)
{
	const char *p = vptr(m, v), *e = p + v.len;

	for (int i = 0; i < 2; i++) {
		const char *d = digits(p, e);
		if (d == p || d - p > 10)
			return EBADMSG;
		p = lex_lws(d, e);
		if (p == d)
			return EBADMSG;
	}
	return p < e && lex_token(p, e) == e ? 0 : EBADMSG;
}

/* delta-seconds *(SEMI param): Session-Expires (RFC 4028 §4). */
static int check_delta_params(const struct msg *m, struct span v)
{
	const char *p = vptr(m, v), *e = p + v.len;
	const char *d = digits(p, e);

	if (d == p || d - p > 10)
		return EBADMSG;
	d = lex_lws(d, e);
	return d == e || *d == ';' ? 0 : EBADMSG;
}

static int check_uint(const struct msg *m, struct span v, uint32_t min, uint32_t max)
{
	uint32_t n;
	if (msg_uint_parse(m->buf, v, max, &n) != 0 || n < min)
		return EBADMSG;
	return 0;
}

/* Via, From, To, CSeq: the first element goes through the caching accessor. */
static int check_cached(struct msg *m, const struct msg_hdr *h)
{
	bool first = &m->hdrs[m->first[h->id]] == h;
	struct msg_via via;
	struct msg_cseq cs;
	const struct msg_cseq *csp;

	switch (h->id) {
	case MSG_HDR_VIA:
		if (first)
			return msg_top_via(m) != NULL ? 0 : EBADMSG;
		return msg_via_parse(m->buf, h->value, &via);
	case MSG_HDR_FROM:
	case MSG_HDR_TO:
		if (first) {
			const struct msg_nameaddr *na =
			    h->id == MSG_HDR_FROM ? msg_from(m) : msg_to(m);
			return na != NULL && (na->angle || na->uri.headers.len == 0) ? 0 : EBADMSG;
		}
		return check_na(m, h->value, false);
	default: /* CSeq: 32-bit number below 2^31 (RFC 3261 §8.1.1.5) */
		csp = first ? msg_cseq(m) : (msg_cseq_parse(m->buf, h->value, &cs) ? NULL : &cs);
		return csp != NULL && csp->num < 0x80000000u ? 0 : EBADMSG;
	}
}

static int check_other(struct msg *m, const struct msg_hdr *h);

static int check_hdr(struct msg *m, const struct msg_hdr *h)
{
	struct span s;

	switch (h->id) {
	case MSG_HDR_VIA:
	case MSG_HDR_FROM:
	case MSG_HDR_TO:
	case MSG_HDR_CSEQ:
		return check_cached(m, h);
	case MSG_HDR_CALL_ID:
	case MSG_HDR_IN_REPLY_TO:
		return msg_callid_parse(m->buf, h->value, &s);
	case MSG_HDR_MAX_FORWARDS:
		return check_uint(m, h->value, 0, 255);
	case MSG_HDR_CONTENT_LENGTH:
	case MSG_HDR_EXPIRES:
	case MSG_HDR_MIN_EXPIRES:
		return check_uint(m, h->value, 0, UINT32_MAX);
	case MSG_HDR_RSEQ:
		return check_uint(m, h->value, 1, 0x7fffffffu);
	case MSG_HDR_CONTACT:
		return check_contact(m, h);
	case MSG_HDR_ROUTE:
	case MSG_HDR_RECORD_ROUTE:
	case MSG_HDR_PATH:
	case MSG_HDR_SERVICE_ROUTE:
		return check_na(m, h->value, true);
	case MSG_HDR_REPLY_TO:
	case MSG_HDR_REFER_TO:
	case MSG_HDR_REFERRED_BY:
		return check_na(m, h->value, false);
	case MSG_HDR_REQUIRE:
	case MSG_HDR_PROXY_REQUIRE:
	case MSG_HDR_UNSUPPORTED:
	case MSG_HDR_CONTENT_ENCODING:
	case MSG_HDR_CONTENT_LANGUAGE:
	case MSG_HDR_ALLOW_EVENTS:
	case MSG_HDR_PRIORITY:
	case MSG_HDR_REQUEST_DISPOSITION:
		return check_token(m, h->value);
	case MSG_HDR_ALLOW:
	case MSG_HDR_SUPPORTED:
		return lone_empty(m, h) ? 0 : check_token(m, h->value);
	default:
		return check_other(m, h);
	}
}

static int check_other(struct msg *m, const struct msg_hdr *h)
{
	struct msg_ctype ct;
	struct msg_retry_after ra;
	struct msg_event ev;
	struct msg_substate ss;
	struct msg_auth au;
	struct msg_nameaddr na;
	const char *p = vptr(m, h->value);

	switch (h->id) {
	case MSG_HDR_CONTENT_TYPE:
		return msg_ctype_parse(m->buf, h->value, &ct);
	case MSG_HDR_ACCEPT:
		return lone_empty(m, h) ? 0 : msg_ctype_parse(m->buf, h->value, &ct);
	case MSG_HDR_ACCEPT_ENCODING:
	case MSG_HDR_ACCEPT_LANGUAGE:
		return lone_empty(m, h) ? 0 : check_token_params(m, h->value);
	case MSG_HDR_CONTENT_DISPOSITION:
		return check_token_params(m, h->value);
	case MSG_HDR_RETRY_AFTER:
		return msg_retry_after_parse(m->buf, h->value, &ra);
	case MSG_HDR_EVENT:
		return msg_event_parse(m->buf, h->value, &ev);
	case MSG_HDR_SUBSCRIPTION_STATE:
		return msg_substate_parse(m->buf, h->value, &ss);
	case MSG_HDR_AUTHORIZATION:
	case MSG_HDR_PROXY_AUTHORIZATION:
	case MSG_HDR_WWW_AUTHENTICATE:
	case MSG_HDR_PROXY_AUTHENTICATE:
		return msg_auth_parse(m->buf, h->value, &au);
	case MSG_HDR_ALERT_INFO:
	case MSG_HDR_CALL_INFO:
	case MSG_HDR_ERROR_INFO: /* "<" absoluteURI ">" *(SEMI param) */
		memset(&na, 0, sizeof(na));
		if (msg_nameaddr_parse(m->buf, h->value, &na) != 0)
			return EBADMSG;
		return na.angle && na.display.len == 0 ? 0 : EBADMSG;
	case MSG_HDR_DATE:
		return check_date(m, h->value);
	case MSG_HDR_MIME_VERSION:
		return check_mime_version(m, h->value);
	case MSG_HDR_TIMESTAMP:
		return check_timestamp(m, h->value);
	case MSG_HDR_WARNING:
		return check_warning(m, h->value);
	case MSG_HDR_RACK:
		return check_rack(m, h->value);
	case MSG_HDR_SESSION_EXPIRES:
		return check_delta_params(m, h->value);
	case MSG_HDR_ACCEPT_CONTACT: /* "*" *(SEMI feature-param) (RFC 3841 §10) */
	case MSG_HDR_REJECT_CONTACT:
		return h->value.len > 0 && p[0] == '*' ? 0 : EBADMSG;
	case MSG_HDR_AUTHENTICATION_INFO:
	case MSG_HDR_IDENTITY:
	case MSG_HDR_IDENTITY_INFO:
		return h->value.len > 0 ? 0 : EBADMSG;
	default: /* free text (Subject, Server, ...) and unknown headers */
		return 0;
	}
}

/*
 * Headers a server needs to route and answer: always checked.  When several
 * headers are bad, the verdict names the one ranked first here (1 = first);
 * with MSG_V_ALL the other known headers follow in the order of their ids.
 * Free text (Organization, Server, Subject, User-Agent) and unknown headers
 * have no grammar to check.
 */
static const uint8_t mandatory_rank[MSG_HDR__COUNT] = {
    [MSG_HDR_VIA] = 1,
    [MSG_HDR_FROM] = 2,
    [MSG_HDR_TO] = 3,
    [MSG_HDR_CALL_ID] = 4,
    [MSG_HDR_CSEQ] = 5,
    [MSG_HDR_MAX_FORWARDS] = 6,
    [MSG_HDR_CONTENT_LENGTH] = 7,
    [MSG_HDR_CONTACT] = 8,
    [MSG_HDR_EXPIRES] = 9,
    [MSG_HDR_ROUTE] = 10,
    [MSG_HDR_RECORD_ROUTE] = 11,
    [MSG_HDR_REQUIRE] = 12,
    [MSG_HDR_PROXY_REQUIRE] = 13,
};
#define RANK_OTHERS 14 /* rank of a non-mandatory id: RANK_OTHERS + id */

static const bool free_text[MSG_HDR__COUNT] = {
    [MSG_HDR_OTHER] = true,   [MSG_HDR_ORGANIZATION] = true, [MSG_HDR_SERVER] = true,
    [MSG_HDR_SUBJECT] = true, [MSG_HDR_USER_AGENT] = true,
};

/*
 * One pass over the elements.  An element whose id ranks after a failure
 * already found is skipped, so the result names the best-ranked bad header
 * whatever the order of the lines.
 */
uint8_t msg_check_hdrs(struct msg *m, bool all)
{
	unsigned best = UINT32_MAX;
	uint8_t bad_id = MSG_HDR_OTHER;

	for (uint16_t i = 0; i < m->nhdrs; i++) {
		const struct msg_hdr *h = &m->hdrs[i];
		unsigned r = mandatory_rank[h->id];
		if (r == 0) {
			if (!all || free_text[h->id])
				continue;
			r = RANK_OTHERS + h->id;
		}
		if (r < best && check_hdr(m, h) != 0) {
			best = r;
			bad_id = h->id;
		}
	}
	return bad_id;
}
