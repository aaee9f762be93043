/*
 * msg_hdr.h - typed views of SIP header values (RFC 3261 §20, §25.1).
 *
 * Every parser here takes the buffer and the span of ONE header element value
 * (a comma-separated list has already been split into elements by msg_parse)
 * and fills a caller-owned struct whose fields are spans into the same
 * buffer.  Nothing is copied or allocated.  Values may contain folded line
 * breaks (CRLF followed by SP/HTAB): every parser treats them as LWS.
 *
 * All return 0 on success or EBADMSG when the value does not match the
 * grammar of the header.  On error the output struct is unspecified.
 *
 * Header parameters (";" params) are checked as RFC 3261 §25.1 generic-param:
 * an empty parameter (";;", a trailing ';'), a name that is not a token, a '='
 * without a value or a malformed value is EBADMSG.  A known parameter given
 * twice (branch, tag, expires, q, id, ...) is EBADMSG.
 */
#ifndef RINGLET_MSG_HDR_H
#define RINGLET_MSG_HDR_H

#include "ringlet/base.h"
#include "ringlet/msg_uri.h"

/* SIP methods known by name; anything else is MSG_METHOD_OTHER. */
enum msg_method {
	MSG_METHOD_OTHER = 0,
	MSG_METHOD_INVITE,
	MSG_METHOD_ACK,
	MSG_METHOD_BYE,
	MSG_METHOD_CANCEL,
	MSG_METHOD_OPTIONS,
	MSG_METHOD_REGISTER,
	MSG_METHOD_PRACK,
	MSG_METHOD_SUBSCRIBE,
	MSG_METHOD_NOTIFY,
	MSG_METHOD_PUBLISH,
	MSG_METHOD_INFO,
	MSG_METHOD_REFER,
	MSG_METHOD_MESSAGE,
	MSG_METHOD_UPDATE,
	MSG_METHOD__COUNT,
};

/* Method id of a method token (case-sensitive, RFC 3261 §7.1). */
enum msg_method msg_method_id(const char *p, size_t len);
/* Canonical name of a known method, NULL for MSG_METHOD_OTHER. */
const char *msg_method_name(enum msg_method m);

/* Via (RFC 3261 §20.42, RFC 3581 rport). */
struct msg_via {
	struct span proto_name; /* "SIP" */
	struct span proto_ver;  /* "2.0" */
	struct span transport;  /* "UDP", "TCP", "TLS", "SCTP", "WS", any token */
	struct span host;       /* IPv6 references keep their brackets */
	uint8_t host_type;      /* enum msg_host_type */
	uint16_t port;          /* 0 when absent */
	struct span branch;     /* empty if absent */
	struct span received;   /* empty if absent */
	struct span maddr;      /* empty if absent */
	int32_t rport;          /* -1 absent, 0 present without value, else the port */
	int16_t ttl;            /* -1 absent, else 0..255 */
	struct span params;     /* every parameter, raw, without the leading ';' */
};
/*
 * LWS (folds included) is allowed around '/', ':', ';' and '='.  host is a
 * hostname, IPv4 address or bracketed IPv6 reference; port 0-65535.  branch
 * must be a token, received an IPv4 or IPv6 address (with or without
 * brackets, RFC 5118 §4.5), maddr a host, rport 1-65535 or no value, ttl
 * 0-255.
 */
int msg_via_parse(const char *buf, struct span v, struct msg_via *out);

/* name-addr / addr-spec with header params: From, To, Contact, Route,
 * Record-Route, Path, Reply-To, Refer-To ... (RFC 3261 §20.10, §20.20) */
struct msg_nameaddr {
	struct span display;  /* display name as written (quotes kept), may be empty */
	struct span uri_s;    /* the URI text, without angle brackets */
	struct msg_uri uri;   /* parsed uri_s */
	bool angle;           /* written as name-addr (<...>) */
	struct span params;   /* header parameters after the URI, raw, without the leading ';' */
	struct span tag;      /* "tag" parameter value (From/To), empty if absent */
	bool has_tag;
};
/*
 * display-name is *(token LWS) or a quoted-string.  Inside <> no whitespace
 * is allowed; without <> the URI ends at the first ';' or LWS and may not
 * hold '?' or ','.  The URI (any scheme) must pass msg_uri_parse.  tag is
 * found case-insensitively and must be a token.
 */
int msg_nameaddr_parse(const char *buf, struct span v, struct msg_nameaddr *out);

/* Contact (RFC 3261 §20.10): "*" or a name-addr with expires/q. */
struct msg_contact {
	bool star;
	struct msg_nameaddr na;  /* unset when star */
	int64_t expires;         /* -1 when absent */
	int16_t q;               /* q-value times 1000 (0..1000), -1 when absent */
};
/*
 * "*" alone is a star.  expires above 2^32-1 reads as 2^32-1; a malformed q or
 * expires is EBADMSG.
 */
int msg_contact_parse(const char *buf, struct span v, struct msg_contact *out);

/* CSeq (RFC 3261 §20.16): 32-bit sequence number and method. */
/* num must be below 2^31 (RFC 3261 §8.1.1.5); method_id by msg_method_id. */
struct msg_cseq {
	uint32_t num;
	struct span method;
	uint8_t method_id; /* enum msg_method */
};
int msg_cseq_parse(const char *buf, struct span v, struct msg_cseq *out);

/* Unsigned decimal headers: Max-Forwards (max 255), Content-Length,
 * Expires, Min-Expires (max 2^32-1). */
int msg_uint_parse(const char *buf, struct span v, uint32_t max, uint32_t *out);

/* Call-ID (RFC 3261 §25.1: word [ "@" word ]). */
int msg_callid_parse(const char *buf, struct span v, struct span *out);

/* A single token (Allow, Supported, Require, Proxy-Require, Unsupported elements). */
int msg_token_parse(const char *buf, struct span v, struct span *out);

/* Content-Type (RFC 3261 §20.15): type "/" subtype *(";" param). */
struct msg_ctype {
	struct span type;
	struct span subtype;
	struct span params;
};
int msg_ctype_parse(const char *buf, struct span v, struct msg_ctype *out);

/* Retry-After (RFC 3261 §20.33): delta-seconds [comment] *(";" param). */
struct msg_retry_after {
	uint32_t seconds;
	struct span comment; /* with parentheses, empty if absent */
	int64_t duration;    /* -1 when absent */
	struct span params;
};
/* seconds and duration above 2^32-1 are EBADMSG (RFC 4475 §3.1.2.5). */
int msg_retry_after_parse(const char *buf, struct span v, struct msg_retry_after *out);

/* Event (RFC 6665 §8.2.1): event-type *(";" param), id param. */
struct msg_event {
	struct span package; /* full event-type incl. template, e.g. "presence.winfo" */
	struct span id;      /* empty if absent */
	struct span params;
};
int msg_event_parse(const char *buf, struct span v, struct msg_event *out);

/* Subscription-State (RFC 6665 §8.2.3). */
struct msg_substate {
	struct span state;  /* "active", "pending", "terminated" or extension */
	struct span reason; /* empty if absent */
	int64_t expires;    /* -1 when absent; above 2^32-1 reads as 2^32-1 */
	int64_t retry_after; /* -1 when absent; above 2^32-1 reads as 2^32-1 */
	struct span params;
};
int msg_substate_parse(const char *buf, struct span v, struct msg_substate *out);

/*
 * WWW-Authenticate / Proxy-Authenticate (challenge) and Authorization /
 * Proxy-Authorization (credentials), RFC 3261 §25.1, RFC 7616 / RFC 8760.
 * One struct for both: fields that do not occur stay empty.  Quoted values are
 * given without their quotes (escapes kept as written; see msg_qstr_copy).
 * Digest needs at least one parameter; a parameter given twice (names compare
 * case-insensitively), an unterminated quote, a missing value, an empty list
 * element or more than 32 parameters is EBADMSG.  Any other scheme may stand
 * alone or be followed by LWS and anything (kept raw in params).
 */
struct msg_auth {
	struct span scheme; /* "Digest", or any other auth-scheme token */
	struct span realm;
	struct span nonce;
	struct span opaque;
	struct span algorithm; /* "MD5", "SHA-256", "MD5-sess" ... */
	struct span qop;       /* challenge: qop-options list as written; credentials: the qop value */
	struct span domain;
	struct span stale;
	struct span username;
	struct span uri;
	struct span response;
	struct span cnonce;
	struct span nc;
	struct span userhash;
	struct span params; /* all auth-params raw (for other schemes: the whole rest) */
};
int msg_auth_parse(const char *buf, struct span v, struct msg_auth *out);

/*
 * Copy a quoted-string's content (without quotes) into out, resolving
 * quoted-pairs.  s may include or exclude the surrounding quotes.  Returns the
 * length written or -1 if it does not fit in cap.  A folded line break keeps
 * only its SP/HTAB.  The output is not NUL-terminated.
 */
int msg_qstr_copy(const char *buf, struct span s, char *out, size_t cap);

#endif
