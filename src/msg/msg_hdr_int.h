/*
 * msg_hdr_int.h - helpers shared by the typed header parsers (msg_via.c,
 * msg_nameaddr.c, msg_scalar.c, msg_auth.c).  Private to src/msg/.
 */
#ifndef RINGLET_MSG_HDR_INT_H
#define RINGLET_MSG_HDR_INT_H

#include "ringlet/msg_hdr.h"

#include "msg_lex.h"

/* 2^32-1: the largest delta-seconds value we represent (RFC 3261 §20.19). */
#define MSG_DELTA_MAX 4294967295u

/*
 * Bounds of the value span v of buf in *pp and *endp, with surrounding
 * whitespace removed (msg_parse already trims, this only makes the parsers
 * independent of it).  Returns false if nothing is left.
 */
bool msg_hdr_bounds(const char *buf, struct span v, const char **pp, const char **endp);

/*
 * p points at the ';' that opens the header parameters of a value ending at
 * end.  Writes the parameter span (after the ';' and any LWS, up to end) to
 * *params.  Returns 0, or EBADMSG when nothing follows the ';'.
 */
int msg_hparams_open(const char *buf, const char *p, const char *end, struct span *params);

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
	uint8_t kind;      /* HPV_* */
};

/*
 * Next header parameter (RFC 3261 §25.1 generic-param = token [EQUAL
 * gen-value], gen-value = token / host / quoted-string) of a params span, in
 * one pass that scans and validates.  *pos starts at 0.  Returns 0 with *hp,
 * ENOENT after the last parameter (at once for an empty or all-whitespace
 * span), or EBADMSG for an empty parameter (";;", a trailing ';'), a name
 * that is not a token, a '=' without a value, a malformed value or anything
 * else before the next ';'.  LWS (folds included) may surround the name, the
 * '=' and the value.  A value may also be an IPv6 address without brackets,
 * the form of Via received (RFC 5118 §4.5).
 */
int msg_hparam_next(const char *buf, struct span params, uint32_t *pos, struct hparam *hp);

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

/* True if the n bytes at p are an IPv6address (RFC 4291 §2.2 text form). */
bool msg_ipv6_valid(const char *p, size_t n);

/* True if span s (a whole value) is a token (RFC 3261 §25.1), non-empty. */
bool msg_is_token(const char *buf, struct span s);

#endif
