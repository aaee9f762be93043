/*
 * msg_auth.c - WWW-Authenticate, Proxy-Authenticate, Authorization and
 * Proxy-Authorization (RFC 3261 §20.7, §20.27, §20.28, §20.44, §25.1; RFC 7616
 * and RFC 8760 for the Digest parameters) and quoted-string decoding.
 *
 *   challenge   = ("Digest" LWS digest-cln *(COMMA digest-cln)) / other-challenge
 *   credentials = ("Digest" LWS digest-response) / other-response
 *   auth-param  = auth-param-name EQUAL ( token / quoted-string )
 *
 * COMMA and EQUAL allow LWS on both sides.  A Digest parameter given twice is
 * rejected: two realms or two responses cannot both be honoured.  For any
 * other scheme the rest of the value is kept raw (RFC 4475 §3.3.7).
 */
#include <errno.h>

#include "msg_hdr_int.h"

/* More Digest parameters than this is not a real client (RFC 7616 defines 14). */
#define AUTH_MAX_PARAMS 32

/*
 * Where the value of a known Digest parameter goes (RFC 7616 §3.3-3.5, RFC
 * 8760), chosen by the length of the name and then one comparison; NULL for
 * an unknown name.  *bit is a bit unique to the name (duplicate detection).
 */
static struct span *auth_slot(const char *buf, struct span name, struct msg_auth *a, uint32_t *bit)
{
	const char *n = buf + name.off;
	struct span *slot = NULL;

#define IS(lit) lex_tieq(n, lit, sizeof(lit) - 1)
	switch (name.len) {
	case 2:
		slot = IS("nc") ? &a->nc : NULL;
		break;
	case 3:
		slot = IS("uri") ? &a->uri : IS("qop") ? &a->qop : NULL;
		break;
	case 5:
		slot = IS("realm")   ? &a->realm
		       : IS("nonce") ? &a->nonce
		       : IS("stale") ? &a->stale
				     : NULL;
		break;
	case 6:
		slot = IS("opaque")   ? &a->opaque
		       : IS("domain") ? &a->domain
		       : IS("cnonce") ? &a->cnonce
				      : NULL;
		break;
	case 8:
		slot = IS("username")	? &a->username
		       : IS("response") ? &a->response
		       : IS("userhash") ? &a->userhash
					: NULL;
		break;
	case 9:
		slot = IS("algorithm") ? &a->algorithm : NULL;
		break;
	default:
		break;
	}
#undef IS
	if (slot != NULL)
		*bit = 1u << (((const char *)slot - (const char *)a) / sizeof(*slot));
	return slot;
}

/*
 * One auth-param at p (after LWS): name EQUAL value.  Writes the name and the
 * value (inside the quotes for a quoted-string) and returns the position after
 * the value, or NULL.
 */
static const char *auth_param(const char *buf, const char *p, const char *end, struct span *name,
			      struct span *value)
{
	const char *s = p;

	p = lex_token(p, end);
	if (p == s)
		return NULL;
	*name = span_from(buf, s, p);
	p = lex_lws(p, end);
	if (p >= end || *p != '=')
		return NULL;
	p = lex_lws(p + 1, end);
	if (p < end && *p == '"') {
		const char *q = lex_quoted(p, end);
		if (q == NULL)
			return NULL;
		*value = span_from(buf, p + 1, q - 1);
		return q;
	}
	s = p;
	p = lex_token(p, end);
	if (p == s)
		return NULL; /* missing value */
	*value = span_from(buf, s, p);
	return p;
}

/*
 * The comma-separated Digest parameters in [p, end).  A name given twice is
 * EBADMSG: known names are tracked in a bit mask, unknown ones compared with
 * the unknown ones before them.
 */
static int digest_params(const char *buf, const char *p, const char *end, struct msg_auth *a)
{
	struct span other[AUTH_MAX_PARAMS];
	struct span name, value;
	uint32_t known = 0, bit = 0;
	size_t n = 0, nother = 0;

	for (;;) {
		p = auth_param(buf, p, end, &name, &value);
		if (p == NULL || n++ == AUTH_MAX_PARAMS)
			return EBADMSG;
		struct span *slot = auth_slot(buf, name, a, &bit);
		if (slot != NULL) {
			if (known & bit)
				return EBADMSG; /* given twice */
			known |= bit;
			*slot = value;
		} else {
			for (size_t i = 0; i < nother; i++)
				if (other[i].len == name.len && span_ieq2(buf, other[i], buf, name))
					return EBADMSG;
			other[nother++] = name;
		}
		p = lex_lws(p, end);
		if (p >= end)
			return 0;
		if (*p != ',')
			return EBADMSG;
		p = lex_lws(p + 1, end);
		if (p >= end)
			return EBADMSG; /* a trailing comma */
	}
}

int msg_auth_parse(const char *buf, struct span v, struct msg_auth *out)
{
	const char *p, *end;
	struct msg_auth a;

	if (!msg_hdr_bounds(buf, v, &p, &end))
		return EBADMSG;
	memset(&a, 0, sizeof(a));
	const char *s = p;
	p = lex_token(p, end);
	if (p == s)
		return EBADMSG;
	a.scheme = span_from(buf, s, p);
	const char *r = lex_lws(p, end);
	if (r == end) {
		/* a bare scheme: Digest needs parameters, others may do without */
		if (LEX_TOKEN_IS(buf, a.scheme, "digest"))
			return EBADMSG;
		a.params = span_from(buf, end, end);
		*out = a;
		return 0;
	}
	if (r == p)
		return EBADMSG; /* LWS is mandatory after the scheme */
	a.params = span_from(buf, r, end);
	if (LEX_TOKEN_IS(buf, a.scheme, "digest") && digest_params(buf, r, end, &a) != 0)
		return EBADMSG;
	*out = a;
	return 0;
}

/*
 * quoted-string content with quoted-pairs resolved (RFC 3261 §25.1); a folded
 * line break (CRLF followed by whitespace) is replaced by its whitespace, as
 * §7.3.1 allows.  The output is not NUL-terminated.
 */
int msg_qstr_copy(const char *buf, struct span s, char *out, size_t cap)
{
	const char *p = buf + s.off;
	const char *end = p + s.len;
	size_t n = 0;

	if (p < end && *p == '"') {
		p++;
		if (end > p && end[-1] == '"')
			end--;
	}
	while (p < end) {
		char c = *p++;
		if (c == '\\' && p < end) {
			c = *p++;
		} else if (c == '\r' || c == '\n') {
			continue; /* part of a fold: keep only the SP/HTAB after it */
		}
		if (n >= cap || n >= INT32_MAX)
			return -1;
		out[n++] = c;
	}
	return (int)n;
}
