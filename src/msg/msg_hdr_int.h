/*
 * msg_hdr_int.h - helpers shared by the typed header parsers (msg_via.c,
 * msg_nameaddr.c, msg_scalar.c, msg_auth.c).  Private to src/msg/.
 */
#ifndef RINGLET_MSG_HDR_INT_H
#define RINGLET_MSG_HDR_INT_H

#include <errno.h>

#include "ringlet/msg_hdr.h"

#include "msg_lex.h"

/* 2^32-1: the largest delta-seconds value we represent (RFC 3261 §20.19). */
#define MSG_DELTA_MAX 4294967295u

/*
 * Bounds of the value span v of buf in *pp and *endp, with surrounding
 * whitespace removed (msg_parse already trims, this only makes the parsers
 * independent of it).  Returns false if nothing is left.
 */
static inline bool msg_hdr_bounds(const char *buf, struct span v, const char **pp,
				  const char **endp)
{
	const char *p = buf + v.off;
	const char *end = p + v.len;

	p = lex_lws(p, end);
	while (end > p && (lex_class[(uint8_t)end[-1]] & (LEX_WS | LEX_CRLF)))
		end--;
	*pp = p;
	*endp = end;
	return p < end;
}

/*
 * p points at the ';' that opens the header parameters of a value ending at
 * end.  Writes the parameter span (after the ';' and any LWS, up to end) to
 * *params.  Returns 0, or EBADMSG when nothing follows the ';'.
 */
static inline int msg_hparams_open(const char *buf, const char *p, const char *end,
				   struct span *params)
{
	p = lex_lws(p + 1, end);
	if (p >= end)
		return EBADMSG; /* a ';' with nothing after it */
	*params = span_from(buf, p, end);
	return 0;
}

/* Kinds of header parameter values (struct hparam). */
enum {
	HPV_NONE = 0, /* no '=': a bare name */
	HPV_TOKEN,    /* token (also every hostname and IPv4 address) */
	HPV_QUOTED,   /* quoted-string, quotes kept in the value */
	HPV_IPV6,     /* an IPv6 address, bracketed or not (RFC 5118 §4.5) */
};

/* One header parameter from msg_hparam_next. */
struct hparam {
	struct span name;
	struct span value; /* empty when there was no '=' */
	uint8_t kind;	   /* HPV_* */
};

/* True if the n bytes at p are an IPv6address (RFC 4291 §2.2 text form). */
bool msg_ipv6_valid(const char *p, size_t n);

/* Marks a cursor whose iteration is over (the last parameter had no ';'). */
#define HPARAM_DONE UINT32_MAX

/*
 * gen-value = token / host / quoted-string (RFC 3261 §25.1) at v (v < end,
 * past LWS).  A token ends at LWS, ';' or the end; a value that is no token
 * or quoted-string runs up to one of those and must then be an IPv6 address
 * with or without brackets (RFC 5118 §4.5).  Returns the end of the value
 * and sets *kind, or NULL.
 */
static inline const char *msg_gen_value(const char *v, const char *end, uint8_t *kind)
{
	if (*v == '"') {
		*kind = HPV_QUOTED;
		return lex_quoted(v, end);
	}
	const char *e = lex_span(lex_skip_an(v, end), end, lex_class, LEX_TOKEN);
	if (e == end || (lex_stop[(uint8_t)*e] & LEXS_VSTOP)) {
		*kind = HPV_TOKEN;
		return e > v ? e : NULL;
	}
	e = lex_cspan(e, end, lex_stop, LEXS_VSTOP);
	size_t n = (size_t)(e - v);
	bool ok = *v == '[' ? n > 2 && e[-1] == ']' && msg_ipv6_valid(v + 1, n - 2)
			    : msg_ipv6_valid(v, n);
	*kind = HPV_IPV6;
	return ok ? e : NULL;
}

/*
 * Next header parameter (RFC 3261 §25.1 generic-param = token [EQUAL
 * gen-value], gen-value = token / host / quoted-string) of a params span, in
 * one pass that scans and validates.  *pos starts at 0.  Returns 0 with *hp,
 * ENOENT after the last parameter (at once for an empty or all-whitespace
 * span), or EBADMSG for an empty parameter (";;", a trailing ';'), a name
 * that is not a token, a '=' without a value, a malformed value or anything
 * else before the next ';'.  LWS (folds included) may surround the name, the
 * '=' and the value.  A value may also be an IPv6 address without brackets,
 * the form of Via received (RFC 5118 §4.5).  Inline: it is the inner loop
 * of every parser of header parameters.
 */
static inline __attribute__((always_inline)) int
msg_hparam_next(const char *buf, struct span params, uint32_t *pos, struct hparam *hp)
{
	const char *start = buf + params.off;
	const char *end = start + params.len;

	if (*pos > params.len)
		return ENOENT;
	if (*pos == 0 && lex_lws(start, end) == end) {
		*pos = HPARAM_DONE;
		return ENOENT; /* an empty (or all-whitespace) params span has no element */
	}
	const char *n = lex_lws(start + *pos, end);
	const char *p = lex_token(n, end);
	if (p == n)
		return EBADMSG; /* empty (";;", trailing ';') or not a token */
	hp->name = span_from(buf, n, p);
	hp->value = span_from(buf, p, p);
	hp->kind = HPV_NONE;
	p = lex_lws(p, end);
	if (p < end && *p == '=') {
		const char *v = lex_lws(p + 1, end);
		if (v == end)
			return EBADMSG;
		p = msg_gen_value(v, end, &hp->kind);
		if (p == NULL)
			return EBADMSG;
		hp->value = span_from(buf, v, p);
		p = lex_lws(p, end);
	}
	if (p < end && *p != ';')
		return EBADMSG;
	*pos = p < end ? (uint32_t)(p + 1 - start) : HPARAM_DONE;
	return 0;
}

/*
 * delta-seconds = 1*DIGIT (RFC 3261 §25.1) filling span s.  A value above
 * 2^32-1 gives 2^32-1 when clamp is true, EBADMSG otherwise.  Returns 0 or
 * EBADMSG (empty, not all digits).
 */
int msg_delta_parse(const char *buf, struct span s, bool clamp, int64_t *out);

/*
 * Host syntax (RFC 3261 §25.1, RFC 5118): the n bytes at p form an IPv4
 * address, a hostname or (with brackets) an IPv6 reference.  Returns the
 * enum msg_host_type, or MSG_HOST_NONE if the text is not a valid host.
 * Without brackets this is lex_host over the whole text.
 */
uint8_t msg_host_kind(const char *p, size_t n);

/*
 * msg_uri_parse writing straight into *uri, which is left unspecified on
 * error (the typed parsers parse into their caller's struct the same way).
 */
int msg_uri_parse_in(const char *buf, struct span s, struct msg_uri *uri);

/*
 * 1*DIGIT filling [p, end), leading zeros allowed, at most max: span_u32
 * inlined for the parsers' hot paths.  Returns false when empty, not all
 * digits or above max.
 */
static inline bool msg_digits_u32(const char *p, const char *end, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (p == end)
		return false;
	for (; p < end; p++) {
		unsigned d = (unsigned)(uint8_t)*p - '0';
		if (d > 9)
			return false;
		v = v * 10 + d;
		if (v > max)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

#endif
