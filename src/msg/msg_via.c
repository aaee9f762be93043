/*
 * msg_via.c - the Via header (RFC 3261 §20.42, §25.1; RFC 3581 rport;
 * RFC 5118 IPv6) and the host syntax checks shared with the other typed
 * parsers.
 *
 *   via-parm      = sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport
 *   sent-by       = host [ COLON port ]
 *
 * SLASH, COLON and SEMI allow LWS on both sides, folded line breaks included
 * ("SIP  /   2.0\r\n /UDP", RFC 4475 §3.1.1.1).
 */
#include <errno.h>

#include "msg_hdr_int.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each <= 255. */
static bool ipv4_valid(const char *p, size_t n)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		size_t s = i;
		while (i < n && i - s < 4 && is_digit(p[i]))
			v = v * 10 + (unsigned)(p[i++] - '0');
		if (i == s || i - s > 3 || v > 255)
			return false;
		if (part < 3) {
			if (i >= n || p[i] != '.')
				return false;
			i++;
		}
	}
	return i == n;
}

/*
 * RFC 4291 §2.2: up to eight 16-bit hex groups, one "::" standing for one or
 * more zero groups, optionally ending in a dotted IPv4 address (two groups).
 * "[2001:db8:::192.0.2.1]" (RFC 5118 §4.10) is rejected.
 */
bool msg_ipv6_valid(const char *p, size_t n)
{
	size_t i = 0;
	int groups = 0;
	bool dcolon = false;

	if (n >= 2 && p[0] == ':' && p[1] == ':') {
		dcolon = true;
		i = 2;
	} else if (n == 0 || p[0] == ':') {
		return false;
	}
	while (i < n) {
		size_t s = i;
		while (i < n && i - s < 5 && lex_is(p[i], LEX_HEX))
			i++;
		if (i < n && p[i] == '.') {
			if (!ipv4_valid(p + s, n - s))
				return false;
			groups += 2;
			break;
		}
		if (i == s || i - s > 4 || ++groups > 8)
			return false;
		if (i == n)
			break;
		if (p[i] != ':')
			return false;
		i++;
		if (i < n && p[i] == ':') {
			if (dcolon)
				return false;
			dcolon = true;
			i++;
		} else if (i == n) {
			return false; /* a single trailing ':' */
		}
	}
	return dcolon ? groups <= 7 : groups == 8;
}

uint8_t msg_host_kind(const char *p, size_t n)
{
	uint8_t kind;

	if (n >= 2 && p[0] == '[') {
		if (p[n - 1] == ']' && msg_ipv6_valid(p + 1, n - 2))
			return MSG_HOST_IPV6;
		return MSG_HOST_NONE;
	}
	return lex_host(p, p + n, &kind) == p + n ? kind : MSG_HOST_NONE;
}

/*
 * sent-protocol: three tokens separated by SLASH = SWS "/" SWS.  Nearly every
 * Via starts "SIP/2.0/", which gives the same spans as the general path.
 */
static const char *sent_protocol(const char *buf, const char *p, const char *end,
				 struct msg_via *via)
{
	struct span *part[3] = {&via->proto_name, &via->proto_ver, &via->transport};

	if (end - p > 8 && memcmp(p, "SIP/2.0/", 8) == 0) {
		via->proto_name = span_from(buf, p, p + 3);
		via->proto_ver = span_from(buf, p + 4, p + 7);
		p = lex_lws(p + 8, end);
		const char *t = lex_token(p, end);
		if (t == p)
			return NULL;
		via->transport = span_from(buf, p, t);
		return t;
	}
	for (int i = 0; i < 3; i++) {
		const char *s = p;
		p = lex_token(p, end);
		if (p == s)
			return NULL;
		*part[i] = span_from(buf, s, p);
		if (i == 2)
			break;
		p = lex_lws(p, end);
		if (p >= end || *p != '/')
			return NULL;
		p = lex_lws(p + 1, end);
	}
	return p;
}

/* 1*DIGIT up to 65535 at p; returns the end of the digits or NULL. */
static const char *port_digits(const char *p, const char *end, uint16_t *port)
{
	const char *d = p;
	uint32_t v = 0;

	while (p < end && is_digit(*p)) {
		v = v * 10 + (uint32_t)(*p++ - '0');
		if (v > 65535)
			return NULL;
	}
	if (p == d)
		return NULL;
	*port = (uint16_t)v;
	return p;
}

/* sent-by = host [ COLON port ]; returns the position after it or NULL. */
static const char *sent_by(const char *buf, const char *p, const char *end, struct msg_via *via)
{
	const char *s = p;

	if (p < end && *p == '[') {
		while (p < end && *p != ']')
			p++;
		if (p >= end)
			return NULL;
		p++;
		via->host_type = msg_host_kind(s, (size_t)(p - s));
	} else {
		p = lex_host(p, end, &via->host_type);
	}
	if (via->host_type == MSG_HOST_NONE)
		return NULL;
	via->host = span_from(buf, s, p);
	p = lex_lws(p, end);
	if (p < end && *p == ':') {
		p = port_digits(lex_lws(p + 1, end), end, &via->port);
		if (p == NULL)
			return NULL;
		p = lex_lws(p, end);
	}
	return p;
}

/* received = IPv4address / IPv6address, with or without brackets (RFC 5118 §4.5). */
static bool received_ok(const char *buf, struct span val)
{
	const char *p = buf + val.off;
	uint8_t kind = msg_host_kind(p, val.len);

	return kind == MSG_HOST_IPV4 || kind == MSG_HOST_IPV6 || msg_ipv6_valid(p, val.len);
}

/* The known via-params; each may appear once.  Others are kept in params only. */
static int via_param(const char *buf, const struct hparam *hp, struct msg_via *via)
{
	struct span n = hp->name, val = hp->value;
	const char *np = buf + n.off;
	uint32_t num;

	switch (n.len) {
	case 6: /* branch = token */
		if (!lex_tieq(np, "branch", 6))
			return 0;
		if (via->branch.len > 0 || hp->kind != HPV_TOKEN)
			return EBADMSG;
		via->branch = val;
		return 0;
	case 8:
		if (!lex_tieq(np, "received", 8))
			return 0;
		if (via->received.len > 0 || val.len == 0 || !received_ok(buf, val))
			return EBADMSG;
		via->received = val;
		return 0;
	case 5:
		if (lex_tieq(np, "rport", 5)) {
			if (via->rport >= 0)
				return EBADMSG;
			if (val.len == 0) {
				via->rport = 0;
				return 0;
			}
			if (!msg_digits_u32(buf + val.off, buf + val.off + val.len, 65535, &num) ||
			    num == 0)
				return EBADMSG;
			via->rport = (int32_t)num;
		} else if (lex_tieq(np, "maddr", 5)) {
			if (via->maddr.len > 0 || val.len == 0 ||
			    msg_host_kind(buf + val.off, val.len) == MSG_HOST_NONE)
				return EBADMSG;
			via->maddr = val;
		}
		return 0;
	case 3:
		if (!lex_tieq(np, "ttl", 3))
			return 0;
		if (via->ttl >= 0 ||
		    !msg_digits_u32(buf + val.off, buf + val.off + val.len, 255, &num))
			return EBADMSG;
		via->ttl = (int16_t)num;
		return 0;
	default:
		return 0;
	}
}

int msg_via_parse(const char *buf, struct span v, struct msg_via *via)
{
	const char *p, *end;
	struct hparam hp;
	uint32_t pos = 0;
	int rc;

	if (!msg_hdr_bounds(buf, v, &p, &end))
		return EBADMSG;
	memset(via, 0, sizeof(*via));
	via->rport = -1;
	via->ttl = -1;
	p = sent_protocol(buf, p, end, via);
	if (p == NULL)
		return EBADMSG;
	const char *h = lex_lws(p, end);
	if (h == p)
		return EBADMSG; /* LWS is mandatory before sent-by */
	p = sent_by(buf, h, end, via);
	if (p == NULL)
		return EBADMSG;
	if (p == end)
		return 0;
	if (*p != ';' || msg_hparams_open(buf, p, end, &via->params) != 0)
		return EBADMSG;
	while ((rc = msg_hparam_next(buf, via->params, &pos, &hp)) == 0)
		if (via_param(buf, &hp, via) != 0)
			return EBADMSG;
	return rc == ENOENT ? 0 : EBADMSG;
}
