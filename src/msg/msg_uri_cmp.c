/*
 * msg_uri_cmp.c - URI equivalence: RFC 3261 §19.1.4 (sip, sips), RFC 3966 §4
 * (tel), octet equality with a case-insensitive scheme (anything else).
 *
 * Nothing is copied: escapes are decoded on the fly while two spans are
 * walked side by side.  Parameter and header sets are matched pairwise, so
 * the work is quadratic in their number; past MSG_URI_CMP_MAX_ITEMS items a
 * component only matches its byte-identical twin (a hostile peer cannot make
 * a comparison expensive).
 */
#include <arpa/inet.h>

#include "ringlet/msg_uri.h"

#include "msg_lex.h"

/* A decoded unit: the octet, plus ESC_RES if it was a %HH escape of a reserved character. */
#define ESC_RES 0x100

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = ascii_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* RFC 2396 §2.2: reserved = ";" / "/" / "?" / ":" / "@" / "&" / "=" / "+" / "$" / "," */
static bool is_reserved(int c)
{
	return c == ';' || c == '/' || c == '?' || c == ':' || c == '@' || c == '&' || c == '=' ||
	       c == '+' || c == '$' || c == ',';
}

/*
 * Read one unit at *p (< end).  §19.1.4: "Characters other than those in the
 * reserved set are equivalent to their %HH encoding", so an escaped
 * unreserved character decodes to itself while an escaped reserved one stays
 * distinct from its literal form.
 */
static int next_unit(const char **p, const char *end, bool icase)
{
	const char *s = *p;
	int c = (uint8_t)s[0];

	if (c == '%' && end - s >= 3 && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
		c = hexval(s[1]) << 4 | hexval(s[2]);
		*p = s + 3;
		if (is_reserved(c))
			return c | ESC_RES;
	} else {
		*p = s + 1;
	}
	return icase ? (uint8_t)ascii_lower((char)c) : c;
}

/* Equality of two spans after decoding unreserved escapes. */
static bool esc_eq(const char *abuf, struct span a, const char *bbuf, struct span b, bool icase)
{
	const char *p = abuf + a.off, *pe = p + a.len;
	const char *q = bbuf + b.off, *qe = q + b.len;

	while (p < pe && q < qe)
		if (next_unit(&p, pe, icase) != next_unit(&q, qe, icase))
			return false;
	return p == pe && q == qe;
}

/* Case-insensitive equality of a span (escapes decoded) with a lower-case literal. */
static bool esc_eq_lit(const char *buf, struct span a, const char *lit)
{
	struct span l = {0, (uint32_t)strlen(lit)};

	return esc_eq(buf, a, lit, l, true);
}

/* Iterate "&"-separated hname "=" hvalue pairs of a headers span. */
static bool next_header(const char *buf, struct span h, uint32_t *pos, struct span *name,
			struct span *value)
{
	const char *start = buf + h.off, *end = start + h.len;

	if (*pos >= h.len)
		return false;
	const char *p = start + *pos, *e = p, *eq;
	while (e < end && *e != '&')
		e++;
	for (eq = p; eq < e && *eq != '='; eq++)
		;
	*name = span_from(buf, p, eq);
	*value = eq < e ? span_from(buf, eq + 1, e) : span_from(buf, e, e);
	*pos = (uint32_t)(e - start) + (e < end ? 1 : 0);
	return true;
}

typedef bool (*iter_fn)(const char *buf, struct span s, uint32_t *pos, struct span *name,
			struct span *value);

static uint32_t count_items(const char *buf, struct span s, iter_fn next)
{
	uint32_t pos = 0, n = 0;
	struct span a, b;

	while (n <= MSG_URI_CMP_MAX_ITEMS && next(buf, s, &pos, &a, &b))
		n++;
	return n;
}

/*
 * Look a's parameter up in b's list (names and values case-insensitive):
 * 0 absent, 1 present with other values only, 2 present with an equal value.
 */
static int lookup(const char *abuf, struct span name, struct span value, const char *bbuf,
		  struct span b)
{
	uint32_t pos = 0;
	struct span n, v;
	int r = 0;

	while (msg_param_next(bbuf, b, &pos, &n, &v)) {
		if (!esc_eq(abuf, name, bbuf, n, true))
			continue;
		if (esc_eq(abuf, value, bbuf, v, true))
			return 2;
		r = 1;
	}
	return r;
}

/* §19.1.4: user, ttl, method, maddr and transport must appear on both sides. */
static bool sip_param_required(const char *buf, struct span name)
{
	static const char *const req[] = {"user", "ttl", "method", "maddr", "transport"};

	for (size_t i = 0; i < ARRAY_SIZE(req); i++)
		if (esc_eq_lit(buf, name, req[i]))
			return true;
	return false;
}

/* Every uri-parameter of a that b also has must match; see sip_param_required. */
static bool sip_params_sub(const char *abuf, struct span a, const char *bbuf, struct span b)
{
	uint32_t pos = 0;
	struct span n, v;

	while (msg_param_next(abuf, a, &pos, &n, &v)) {
		int r = lookup(abuf, n, v, bbuf, b);
		if (r == 1 || (r == 0 && sip_param_required(abuf, n)))
			return false;
	}
	return true;
}

/* How many headers of h have this name (case-insensitive) and value (case-sensitive). */
static uint32_t header_count(const char *xbuf, struct span name, struct span value, const char *buf,
			     struct span h)
{
	uint32_t pos = 0, k = 0;
	struct span n, v;

	while (next_header(buf, h, &pos, &n, &v))
		k += esc_eq(xbuf, name, buf, n, true) && esc_eq(xbuf, value, buf, v, false);
	return k;
}

/*
 * §19.1.4: "Any present header component MUST be present in both URIs and
 * match."  The two header lists must be equal as multisets: same length, and
 * every header of a occurs as often in a as in b.
 */
static bool sip_headers_match(const char *abuf, struct span a, const char *bbuf, struct span b)
{
	uint32_t pos = 0;
	struct span n, v;

	while (next_header(abuf, a, &pos, &n, &v))
		if (header_count(abuf, n, v, abuf, a) != header_count(abuf, n, v, bbuf, b))
			return false;
	return true;
}

/* Byte equality, the fallback for components with too many items. */
static bool bytes_eq(const char *abuf, struct span a, const char *bbuf, struct span b)
{
	return a.len == b.len && memcmp(abuf + a.off, bbuf + b.off, a.len) == 0;
}

static bool too_many(const char *abuf, struct span a, const char *bbuf, struct span b, iter_fn next)
{
	return count_items(abuf, a, next) > MSG_URI_CMP_MAX_ITEMS ||
	       count_items(bbuf, b, next) > MSG_URI_CMP_MAX_ITEMS;
}

static bool sip_params_eq(const char *abuf, struct span a, const char *bbuf, struct span b)
{
	if (too_many(abuf, a, bbuf, b, msg_param_next))
		return bytes_eq(abuf, a, bbuf, b);
	return sip_params_sub(abuf, a, bbuf, b) && sip_params_sub(bbuf, b, abuf, a);
}

static bool sip_headers_eq(const char *abuf, struct span a, const char *bbuf, struct span b)
{
	if (too_many(abuf, a, bbuf, b, next_header))
		return bytes_eq(abuf, a, bbuf, b);
	return count_items(abuf, a, next_header) == count_items(bbuf, b, next_header) &&
	       sip_headers_match(abuf, a, bbuf, b);
}

/* Binary form of an IPv6reference "[...]" (the parser has validated it). */
static bool ipv6_bin(const char *buf, struct span h, unsigned char out[16])
{
	char tmp[INET6_ADDRSTRLEN + 1];

	if (h.len < 2 || h.len - 2 > INET6_ADDRSTRLEN)
		return false;
	memcpy(tmp, buf + h.off + 1, h.len - 2);
	tmp[h.len - 2] = '\0';
	return inet_pton(AF_INET6, tmp, out) == 1;
}

/* Value of a dotted IPv4address; leading zeros do not matter. */
static uint32_t ipv4_val(const char *buf, struct span h)
{
	uint32_t v = 0, octet = 0;

	for (uint32_t i = 0; i < h.len; i++) {
		char c = buf[h.off + i];
		if (c == '.') {
			v = v << 8 | (octet & 0xff);
			octet = 0;
		} else {
			octet = (octet * 10 + (uint32_t)(c - '0')) & 0xffff;
		}
	}
	return v << 8 | (octet & 0xff);
}

/* §19.1.4: hosts compare case-insensitively; addresses compare as addresses. */
static bool host_eq(const char *abuf, const struct msg_uri *a, const char *bbuf,
		    const struct msg_uri *b)
{
	unsigned char x[16], y[16];

	if (a->host_type != b->host_type)
		return false;
	switch (a->host_type) {
	case MSG_HOST_IPV6:
		if (ipv6_bin(abuf, a->host, x) && ipv6_bin(bbuf, b->host, y))
			return memcmp(x, y, sizeof(x)) == 0;
		return span_ieq2(abuf, a->host, bbuf, b->host);
	case MSG_HOST_IPV4:
		return ipv4_val(abuf, a->host) == ipv4_val(bbuf, b->host);
	default:
		return span_ieq2(abuf, a->host, bbuf, b->host);
	}
}

static bool sip_equal(const char *abuf, const struct msg_uri *a, const char *bbuf,
		      const struct msg_uri *b)
{
	/* userinfo is case-sensitive; a missing user or password never matches a present one */
	if (a->has_user != b->has_user || a->has_password != b->has_password)
		return false;
	if (!esc_eq(abuf, a->user, bbuf, b->user, false) ||
	    !esc_eq(abuf, a->password, bbuf, b->password, false))
		return false;
	if (!host_eq(abuf, a, bbuf, b))
		return false;
	/* an omitted port does not match an explicit 5060 */
	if (span_empty(a->port_s) != span_empty(b->port_s) || a->port != b->port)
		return false;
	return sip_params_eq(abuf, a->params, bbuf, b->params) &&
	       sip_headers_eq(abuf, a->headers, bbuf, b->headers);
}

static bool is_visual(char c)
{
	return c == '-' || c == '.' || c == '(' || c == ')';
}

/* RFC 3966 §4: digits compare case-insensitively once visual separators are removed. */
static bool digits_eq(const char *abuf, struct span a, const char *bbuf, struct span b)
{
	const char *p = abuf + a.off, *pe = p + a.len;
	const char *q = bbuf + b.off, *qe = q + b.len;

	for (;;) {
		while (p < pe && is_visual(*p))
			p++;
		while (q < qe && is_visual(*q))
			q++;
		if (p == pe || q == qe)
			return p == pe && q == qe;
		if (ascii_lower(*p++) != ascii_lower(*q++))
			return false;
	}
}

static bool tel_value_eq(const char *abuf, struct span name, struct span a, const char *bbuf,
			 struct span b)
{
	bool digits = esc_eq_lit(abuf, name, "ext");

	/* phone-context: global-number-digits digit by digit, a domainname as a host */
	if (esc_eq_lit(abuf, name, "phone-context"))
		digits = a.len > 0 && abuf[a.off] == '+';
	if (digits)
		return digits_eq(abuf, a, bbuf, b);
	return esc_eq(abuf, a, bbuf, b, true);
}

/* Every parameter of a must be in b with an equal value. */
static bool tel_params_sub(const char *abuf, struct span a, const char *bbuf, struct span b)
{
	uint32_t pos = 0;
	struct span n, v;

	while (msg_param_next(abuf, a, &pos, &n, &v)) {
		uint32_t bpos = 0;
		struct span bn, bv;
		bool ok = false;
		while (!ok && msg_param_next(bbuf, b, &bpos, &bn, &bv))
			ok = esc_eq(abuf, n, bbuf, bn, true) && tel_value_eq(abuf, n, v, bbuf, bv);
		if (!ok)
			return false;
	}
	return true;
}

static bool tel_equal(const char *abuf, const struct msg_uri *a, const char *bbuf,
		      const struct msg_uri *b)
{
	bool ga = a->user.len > 0 && abuf[a->user.off] == '+';
	bool gb = b->user.len > 0 && bbuf[b->user.off] == '+';

	if (ga != gb || !digits_eq(abuf, a->user, bbuf, b->user))
		return false;
	if (too_many(abuf, a->params, bbuf, b->params, msg_param_next))
		return bytes_eq(abuf, a->params, bbuf, b->params);
	return tel_params_sub(abuf, a->params, bbuf, b->params) &&
	       tel_params_sub(bbuf, b->params, abuf, a->params);
}

bool msg_uri_equal(const char *abuf, const struct msg_uri *a, const char *bbuf,
		   const struct msg_uri *b)
{
	if (a->scheme != b->scheme)
		return false; /* §19.1.4: a SIP and a SIPS URI are never equivalent */
	switch (a->scheme) {
	case MSG_URI_SIP:
	case MSG_URI_SIPS:
		return sip_equal(abuf, a, bbuf, b);
	case MSG_URI_TEL:
		return tel_equal(abuf, a, bbuf, b);
	default:
		return span_ieq2(abuf, a->scheme_s, bbuf, b->scheme_s) &&
		       bytes_eq(abuf, a->opaque, bbuf, b->opaque);
	}
}
