/*
 * msg_uri.h - SIP, SIPS, TEL and absolute URIs (RFC 3261 §19.1, §25.1; RFC 3966).
 *
 * Parsing never copies and never allocates: every field is a span relative to
 * the caller's buffer.  Escapes (%HH) are kept as written; the comparison
 * functions decode them where RFC 3261 §19.1.4 says so.
 */
#ifndef RINGLET_MSG_URI_H
#define RINGLET_MSG_URI_H

#include "ringlet/base.h"

enum msg_uri_scheme {
	MSG_URI_SIP = 1,
	MSG_URI_SIPS,
	MSG_URI_TEL,
	MSG_URI_OTHER, /* any other scheme, kept as an absoluteURI */
};

enum msg_host_type {
	MSG_HOST_NONE = 0,
	MSG_HOST_NAME,
	MSG_HOST_IPV4,
	MSG_HOST_IPV6, /* host span includes the brackets: "[2001:db8::1]" */
};

struct msg_uri {
	uint8_t scheme;    /* enum msg_uri_scheme */
	uint8_t host_type; /* enum msg_host_type */
	uint16_t port;     /* 0 when absent */
	struct span whole; /* the whole URI as written */
	struct span scheme_s;
	struct span user;     /* sip/sips: userinfo user part; tel: the number */
	struct span password; /* sip/sips only; empty if absent */
	struct span host;
	struct span port_s;  /* digits of the port, empty if absent */
	struct span params;  /* after the first ';' up to '?' or end, without the ';' */
	struct span headers; /* after '?', without the '?' */
	struct span opaque;  /* MSG_URI_OTHER: everything after "scheme:" */
	bool has_user;       /* userinfo present ("@" seen; sip/sips only) */
	bool has_password;
};

/*
 * Parse the URI in span s of buf.  Returns 0 and fills *uri (spans are
 * relative to buf), or EBADMSG when s is not a valid URI of its scheme.
 * A URI of an unknown scheme that is a valid absoluteURI yields MSG_URI_OTHER.
 * Reads only inside s (buf need not be NUL-terminated); *uri is written only
 * on success.  The grammar is applied strictly: whitespace, '<', '>', '"',
 * control or non-ASCII octets, a malformed %HH, an empty parameter name or
 * value (";;", ";a="), a port above 65535, an IPv6 address without brackets,
 * and a tel local-number without phone-context are all EBADMSG.  Absent
 * fields are empty spans; for tel, has_user is false and user is the number.
 */
int msg_uri_parse(const char *buf, struct span s, struct msg_uri *uri);

/*
 * Compare two URIs by the rules of RFC 3261 §19.1.4 (sip/sips), RFC 3966 §4
 * (tel) or octet equality (others).  Returns true when they are equivalent.
 * Both must come from a successful msg_uri_parse.  Parameters and headers
 * are matched pairwise (order does not matter); a parameter or header list
 * longer than MSG_URI_CMP_MAX_ITEMS only equals a byte-identical list, which
 * bounds the cost of comparing hostile URIs.
 */
#define MSG_URI_CMP_MAX_ITEMS 64

bool msg_uri_equal(const char *abuf, const struct msg_uri *a, const char *bbuf,
		   const struct msg_uri *b);

/*
 * Iterate ';'-separated parameters of a params span (URI params, header
 * params).  *pos is an offset cursor, start it at 0.  Returns true and writes
 * name and value (empty value if the parameter has no '=') for each param,
 * false at the end.  Leading/trailing whitespace around names, '=' and values
 * is skipped (header params allow LWS); a quoted value keeps its quotes.
 *
 * Details: an empty or all-whitespace span has no parameter; every ';' starts
 * one more, so ";;" or a trailing ';' yields an empty name (callers reject
 * it).  A value that opens with '"' runs to its closing quote (lex_quoted)
 * and may hold ';'.  The iterator does not validate: a malformed element
 * ("a b", a="x"y, an unterminated quote) comes back raw, up to the next ';',
 * in the name or the value, so validating those catches it.  At most (number
 * of ';' + 1) parameters are returned; reads stay inside params.
 */
bool msg_param_next(const char *buf, struct span params, uint32_t *pos, struct span *name,
		    struct span *value);

/*
 * Find parameter `name` (case-insensitive) in a params span.  Returns true
 * and writes *value (may be empty: parameter present without a value) when
 * found.
 */
bool msg_param_get(const char *buf, struct span params, const char *name, struct span *value);

/*
 * Decode %HH escapes of span s into out (at most cap bytes).  Returns the
 * decoded length, or -1 if out is too small or an escape is malformed.
 */
int msg_unescape(const char *buf, struct span s, char *out, size_t cap);

#endif
