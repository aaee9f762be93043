/*
 * msg_uri.c - parsing of SIP/SIPS (RFC 3261 §19.1, §25.1), tel (RFC 3966)
 * and other absolute URIs (RFC 2396 §3).
 *
 * The parser is a single forward pass over the span with no allocation and no
 * recursion; every byte it looks at lies inside the span.  Escapes are checked
 * (malformed "%" -> EBADMSG) but kept as written.
 */
#include <arpa/inet.h>
#include <errno.h>

#include "ringlet/msg_uri.h"

#include "msg_hdr_int.h"

/* Character classes of the URI grammar (RFC 3261 §25.1, RFC 2396 §2). */
enum {
	C_UNRES = 0x01,	 /* unreserved: alphanum / mark */
	C_USER = 0x02,	 /* user-unreserved: "&" / "=" / "+" / "$" / "," / ";" / "?" / "/" */
	C_PASS = 0x04,	 /* password extras: "&" / "=" / "+" / "$" / "," */
	C_PARAM = 0x08,	 /* param-unreserved: "[" / "]" / "/" / ":" / "&" / "+" / "$" */
	C_HNV = 0x10,	 /* hnv-unreserved: "[" / "]" / "/" / "?" / ":" / "+" / "$" */
	C_RES = 0x20,	 /* reserved: ";" / "/" / "?" / ":" / "@" / "&" / "=" / "+" / "$" / "," */
	C_HOST = 0x40,	 /* hostname / IPv4address characters: alphanum / "-" / "." */
	C_SCHEME = 0x80, /* scheme characters after the first: alphanum / "+" / "-" / "." */
};

#define AN (C_UNRES | C_HOST | C_SCHEME)

/* clang-format off */
static const uint8_t uri_class[256] = {
	['-'] = C_UNRES | C_HOST | C_SCHEME, ['.'] = C_UNRES | C_HOST | C_SCHEME,
	['_'] = C_UNRES, ['!'] = C_UNRES, ['~'] = C_UNRES, ['*'] = C_UNRES,
	['\''] = C_UNRES, ['('] = C_UNRES, [')'] = C_UNRES,
	['&'] = C_USER | C_PASS | C_PARAM | C_RES,
	['='] = C_USER | C_PASS | C_RES,
	['+'] = C_USER | C_PASS | C_PARAM | C_HNV | C_RES | C_SCHEME,
	['$'] = C_USER | C_PASS | C_PARAM | C_HNV | C_RES,
	[','] = C_USER | C_PASS | C_RES,
	[';'] = C_USER | C_RES,
	['?'] = C_USER | C_HNV | C_RES,
	['/'] = C_USER | C_PARAM | C_HNV | C_RES,
	[':'] = C_PARAM | C_HNV | C_RES,
	['@'] = C_RES,
	['['] = C_PARAM | C_HNV, [']'] = C_PARAM | C_HNV,
	['0'] = AN, ['1'] = AN, ['2'] = AN, ['3'] = AN, ['4'] = AN,
	['5'] = AN, ['6'] = AN, ['7'] = AN, ['8'] = AN, ['9'] = AN,
	['A'] = AN, ['B'] = AN, ['C'] = AN, ['D'] = AN, ['E'] = AN, ['F'] = AN, ['G'] = AN,
	['H'] = AN, ['I'] = AN, ['J'] = AN, ['K'] = AN, ['L'] = AN, ['M'] = AN, ['N'] = AN,
	['O'] = AN, ['P'] = AN, ['Q'] = AN, ['R'] = AN, ['S'] = AN, ['T'] = AN, ['U'] = AN,
	['V'] = AN, ['W'] = AN, ['X'] = AN, ['Y'] = AN, ['Z'] = AN,
	['a'] = AN, ['b'] = AN, ['c'] = AN, ['d'] = AN, ['e'] = AN, ['f'] = AN, ['g'] = AN,
	['h'] = AN, ['i'] = AN, ['j'] = AN, ['k'] = AN, ['l'] = AN, ['m'] = AN, ['n'] = AN,
	['o'] = AN, ['p'] = AN, ['q'] = AN, ['r'] = AN, ['s'] = AN, ['t'] = AN, ['u'] = AN,
	['v'] = AN, ['w'] = AN, ['x'] = AN, ['y'] = AN, ['z'] = AN,
};
/* clang-format on */

static bool is(char c, uint8_t cls)
{
	return (uri_class[(uint8_t)c] & cls) != 0;
}

static bool is_alnum(char c)
{
	return lex_is(c, LEX_ALPHA | LEX_DIGIT);
}

static bool is_visual(char c)
{
	return c == '-' || c == '.' || c == '(' || c == ')';
}

/*
 * Scan characters of class cls or escapes ("%" HEXDIG HEXDIG) from p.
 * Returns the first position that is neither, or NULL on a malformed escape.
 */
static const char *scan(const char *p, const char *end, uint8_t cls)
{
	for (;;) {
		p = lex_span(p, end, uri_class, cls);
		if (p >= end || *p != '%')
			return p;
		if (end - p < 3 || !lex_is(p[1], LEX_HEX) || !lex_is(p[2], LEX_HEX))
			return NULL;
		p += 3;
	}
}

/* True if [p, end) is non-empty and made only of class cls or escapes. */
static bool all_of(const char *p, const char *end, uint8_t cls)
{
	return p < end && scan(p, end, cls) == end;
}

static const char *find(const char *p, const char *end, char c)
{
	const char *q = memchr(p, c, (size_t)(end - p));
	return q != NULL ? q : end;
}

/*
 * hostname = *( domainlabel "." ) toplabel [ "." ]
 * domainlabel = alphanum / alphanum *( alphanum / "-" ) alphanum
 * toplabel = ALPHA / ALPHA *( alphanum / "-" ) alphanum
 */
static bool is_hostname(const char *p, const char *end)
{
	uint8_t kind;
	return lex_host(p, end, &kind) == end && kind == MSG_HOST_NAME;
}

/*
 * "[" IPv6address "]" (RFC 3261 §25.1, RFC 5118 §4): checked with inet_pton,
 * after making sure the text holds only hex digits, ':' and '.' (a NUL would
 * end inet_pton's string early and hide what follows it).
 */
static bool is_ipv6ref(const char *p, const char *end)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	unsigned char addr[16];
	size_t n = (size_t)(end - p);

	if (n < 4 || p[0] != '[' || end[-1] != ']' || n - 2 > INET6_ADDRSTRLEN)
		return false;
	for (const char *q = p + 1; q < end - 1; q++)
		if (!lex_is(*q, LEX_HEX) && *q != ':' && *q != '.')
			return false;
	memcpy(tmp, p + 1, n - 2);
	tmp[n - 2] = '\0';
	return inet_pton(AF_INET6, tmp, addr) == 1;
}

/* host and optional ":" port; returns the position after them or NULL. */
static const char *parse_hostport(const char *buf, const char *p, const char *end,
				  struct msg_uri *uri)
{
	const char *h = p;

	if (p < end && *p == '[') {
		p = find(p, end, ']');
		if (p == end || !is_ipv6ref(h, p + 1))
			return NULL;
		p++;
		uri->host_type = MSG_HOST_IPV6;
	} else {
		p = lex_host(p, end, &uri->host_type);
		if (uri->host_type == MSG_HOST_NONE)
			return NULL;
	}
	uri->host = span_from(buf, h, p);
	if (p < end && *p == ':') {
		const char *d = ++p;
		uint32_t port = 0;
		while (p < end && lex_is(*p, LEX_DIGIT)) {
			port = port * 10 + (uint32_t)(*p++ - '0');
			if (port > 65535)
				return NULL;
		}
		if (p == d)
			return NULL;
		uri->port_s = span_from(buf, d, p);
		uri->port = (uint16_t)port;
	}
	return p;
}

/*
 * uri-parameters = *( ";" pname [ "=" pvalue ] ), pname and pvalue
 * 1*paramchar, from p (after the first ';').  Returns the end of the
 * parameters (the '?' of the headers, or end) or NULL.
 */
static const char *sip_params(const char *p, const char *end)
{
	const uint8_t pc = C_UNRES | C_PARAM;

	for (;;) {
		const char *n = scan(p, end, pc);
		if (n == NULL || n == p)
			return NULL;
		if (n < end && *n == '=') {
			const char *v = scan(n + 1, end, pc);
			if (v == NULL || v == n + 1)
				return NULL;
			n = v;
		}
		if (n == end || *n == '?')
			return n;
		if (*n != ';')
			return NULL;
		p = n + 1;
	}
}

/* headers: hname "=" hvalue *( "&" hname "=" hvalue ). */
static bool valid_sip_headers(const char *p, const char *end)
{
	const uint8_t hc = C_UNRES | C_HNV;

	for (;;) {
		const char *e = find(p, end, '&');
		const char *eq = find(p, e, '=');
		if (eq == e || !all_of(p, eq, hc) || scan(eq + 1, e, hc) != e)
			return false;
		if (e == end)
			return true;
		p = e + 1;
	}
}

/*
 * userinfo: ( user / telephone-subscriber ) [ ":" password ], before '@'.
 * The user runs up to the first ':' (or the '@'); telephone-subscriber
 * (RFC 3261 §25.1, RFC 2806) adds the dtmf-digit '#' to its characters.
 */
static bool parse_userinfo(const char *buf, const char *p, const char *at, struct msg_uri *uri)
{
	const char *u = p;

	for (;;) {
		u = scan(u, at, C_UNRES | C_USER);
		if (u == NULL)
			return false;
		if (u == at || *u != '#')
			break;
		u++;
	}
	if (u == p || (u < at && *u != ':'))
		return false; /* user = 1*( ... ), then ':' or '@' */
	uri->has_user = true;
	uri->user = span_from(buf, p, u);
	uri->password = span_from(buf, at, at);
	if (u < at) {
		if (scan(u + 1, at, C_UNRES | C_PASS) != at)
			return false;
		uri->has_password = true;
		uri->password = span_from(buf, u + 1, at);
	}
	return true;
}

/* RFC 3261 §19.1.1: sip:user:password@host:port;uri-parameters?headers */
static int parse_sip(const char *buf, const char *p, const char *end, struct msg_uri *uri)
{
	const char *at = find(p, end, '@');

	if (at < end) {
		if (!parse_userinfo(buf, p, at, uri))
			return EBADMSG;
		p = at + 1;
	}
	p = parse_hostport(buf, p, end, uri);
	if (p == NULL)
		return EBADMSG;
	uri->params = span_from(buf, p, p);
	uri->headers = span_from(buf, end, end);
	if (p < end && *p == ';') {
		const char *q = sip_params(p + 1, end);
		if (q == NULL)
			return EBADMSG;
		uri->params = span_from(buf, p + 1, q);
		p = q;
	}
	if (p < end && *p == '?') {
		if (!valid_sip_headers(p + 1, end))
			return EBADMSG;
		uri->headers = span_from(buf, p + 1, end);
		p = end;
	}
	return p == end ? 0 : EBADMSG;
}

/* global-number-digits = "+" *phonedigit DIGIT *phonedigit (RFC 3966 §3). */
static bool is_global_digits(const char *p, const char *end)
{
	bool digit = false;

	if (p >= end || *p != '+')
		return false;
	for (p++; p < end; p++) {
		if (lex_is(*p, LEX_DIGIT))
			digit = true;
		else if (!is_visual(*p))
			return false;
	}
	return digit;
}

/* local-number-digits = *phonedigit-hex (HEXDIG / "*" / "#") *phonedigit-hex */
static bool is_local_digits(const char *p, const char *end)
{
	bool digit = false;

	for (; p < end; p++) {
		if (lex_is(*p, LEX_HEX) || *p == '*' || *p == '#')
			digit = true;
		else if (!is_visual(*p))
			return false;
	}
	return digit;
}

/* extension = ";ext=" 1*phonedigit */
static bool is_phonedigits(const char *p, const char *end)
{
	if (p >= end)
		return false;
	for (; p < end; p++)
		if (!lex_is(*p, LEX_DIGIT) && !is_visual(*p))
			return false;
	return true;
}

static bool name_is(const char *p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - p) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(p[i]) != lit[i])
			return false;
	return true;
}

/* One tel parameter [p, e) (without ';'); sets *ctx for phone-context. */
static bool valid_tel_param(const char *p, const char *e, bool *ctx)
{
	const char *eq = find(p, e, '=');
	const char *v = eq < e ? eq + 1 : e;

	if (p == eq)
		return false;
	for (const char *q = p; q < eq; q++)
		if (!is_alnum(*q) && *q != '-')
			return false; /* pname = 1*( alphanum / "-" ) */
	if (name_is(p, eq, "phone-context")) {
		*ctx = true;
		return eq < e && (is_global_digits(v, e) || is_hostname(v, e));
	}
	if (name_is(p, eq, "ext"))
		return eq < e && is_phonedigits(v, e);
	if (name_is(p, eq, "isub"))
		return eq < e && all_of(v, e, C_UNRES | C_RES); /* 1*uric, ';' excluded */
	return eq == e || all_of(v, e, C_UNRES | C_PARAM);
}

/* RFC 3966 §3: telephone-subscriber = global-number / local-number. */
static int parse_tel(const char *buf, const char *p, const char *end, struct msg_uri *uri)
{
	const char *semi = find(p, end, ';');
	bool global = p < end && *p == '+';
	bool ctx = false;

	if (global ? !is_global_digits(p, semi) : !is_local_digits(p, semi))
		return EBADMSG;
	uri->user = span_from(buf, p, semi);
	uri->params = span_from(buf, semi, semi);
	if (semi < end) {
		const char *q = semi + 1;
		for (;;) {
			const char *e = find(q, end, ';');
			if (!valid_tel_param(q, e, &ctx))
				return EBADMSG;
			if (e == end)
				break;
			q = e + 1;
		}
		uri->params = span_from(buf, semi + 1, end);
	}
	if (!global && !ctx)
		return EBADMSG; /* a local number needs its phone-context */
	return 0;
}

/* RFC 2396 §3: absoluteURI, after "scheme:" -> 1*uric. */
static int parse_other(const char *buf, const char *p, const char *end, struct msg_uri *uri)
{
	if (!all_of(p, end, C_UNRES | C_RES))
		return EBADMSG;
	uri->opaque = span_from(buf, p, end);
	return 0;
}

/* "sip:" or "sips:" in any case at p: the position of the ':', else NULL. */
static const char *sip_scheme(const char *p, const char *end)
{
	if (end - p < 4 || (p[0] | 0x20) != 's' || (p[1] | 0x20) != 'i' || (p[2] | 0x20) != 'p')
		return NULL;
	if (p[3] == ':')
		return p + 3;
	if (end - p >= 5 && (p[3] | 0x20) == 's' && p[4] == ':')
		return p + 4;
	return NULL;
}

int msg_uri_parse_in(const char *buf, struct span s, struct msg_uri *uri)
{
	const char *p = buf + s.off;
	const char *end = p + s.len;

	memset(uri, 0, sizeof(*uri));
	uri->whole = s;
	if (p >= end || !lex_is(*p, LEX_ALPHA))
		return EBADMSG;
	const char *c = sip_scheme(p, end);
	bool sip = c != NULL; /* otherwise the scheme is neither "sip" nor "sips" */
	if (!sip) {
		c = p + 1;
		while (c < end && is(*c, C_SCHEME))
			c++;
		if (c == end || *c != ':')
			return EBADMSG;
	}
	uri->scheme_s = span_from(buf, p, c);
	uri->user = uri->password = uri->host = uri->port_s = uri->params = uri->headers =
	    uri->opaque = span_from(buf, end, end);
	if (sip) {
		uri->scheme = c - p == 3 ? MSG_URI_SIP : MSG_URI_SIPS;
		return parse_sip(buf, c + 1, end, uri);
	}
	if (name_is(p, c, "tel")) {
		uri->scheme = MSG_URI_TEL;
		return parse_tel(buf, c + 1, end, uri);
	}
	uri->scheme = MSG_URI_OTHER;
	return parse_other(buf, c + 1, end, uri);
}

int msg_uri_parse(const char *buf, struct span s, struct msg_uri *uri)
{
	struct msg_uri u;
	int err = msg_uri_parse_in(buf, s, &u);

	if (err == 0)
		*uri = u;
	return err;
}
