/*
 * msg_core.h - internals shared by the message core files (msg_parse.c,
 * msg_hdrtab.c, msg_validate.c, msg_vhdr.c, msg_print.c).  Private to src/msg/.
 */
#ifndef RINGLET_MSG_CORE_H
#define RINGLET_MSG_CORE_H

#include "ringlet/msg.h"

/*
 * Every known header: X(ID, "Canonical-Name", compact letter or 0, list).
 * "list" marks the headers whose values are comma-separated lists that
 * msg_parse splits into elements (RFC 3261 §7.3.1: only headers whose grammar
 * is a comma-separated list may be combined that way).
 */
#define MSG_HDR_TABLE(X)                                                                           \
	X(ACCEPT, "Accept", 0, 1)                                                                  \
	X(ACCEPT_ENCODING, "Accept-Encoding", 0, 1)                                                \
	X(ACCEPT_LANGUAGE, "Accept-Language", 0, 1)                                                \
	X(ALERT_INFO, "Alert-Info", 0, 1)                                                          \
	X(ALLOW, "Allow", 0, 1)                                                                    \
	X(ALLOW_EVENTS, "Allow-Events", 'u', 1)                                                    \
	X(AUTHENTICATION_INFO, "Authentication-Info", 0, 0)                                        \
	X(AUTHORIZATION, "Authorization", 0, 0)                                                    \
	X(CALL_ID, "Call-ID", 'i', 0)                                                              \
	X(CALL_INFO, "Call-Info", 0, 1)                                                            \
	X(CONTACT, "Contact", 'm', 1)                                                              \
	X(CONTENT_DISPOSITION, "Content-Disposition", 0, 0)                                        \
	X(CONTENT_ENCODING, "Content-Encoding", 'e', 1)                                            \
	X(CONTENT_LANGUAGE, "Content-Language", 0, 1)                                              \
	X(CONTENT_LENGTH, "Content-Length", 'l', 0)                                                \
	X(CONTENT_TYPE, "Content-Type", 'c', 0)                                                    \
	X(CSEQ, "CSeq", 0, 0)                                                                      \
	X(DATE, "Date", 0, 0)                                                                      \
	X(ERROR_INFO, "Error-Info", 0, 1)                                                          \
	X(EVENT, "Event", 'o', 0)                                                                  \
	X(EXPIRES, "Expires", 0, 0)                                                                \
	X(FROM, "From", 'f', 0)                                                                    \
	X(IN_REPLY_TO, "In-Reply-To", 0, 1)                                                        \
	X(MAX_FORWARDS, "Max-Forwards", 0, 0)                                                      \
	X(MIME_VERSION, "MIME-Version", 0, 0)                                                      \
	X(MIN_EXPIRES, "Min-Expires", 0, 0)                                                        \
	X(ORGANIZATION, "Organization", 0, 0)                                                      \
	X(PATH, "Path", 0, 1)                                                                      \
	X(PRIORITY, "Priority", 0, 0)                                                              \
	X(PROXY_AUTHENTICATE, "Proxy-Authenticate", 0, 0)                                          \
	X(PROXY_AUTHORIZATION, "Proxy-Authorization", 0, 0)                                        \
	X(PROXY_REQUIRE, "Proxy-Require", 0, 1)                                                    \
	X(RACK, "RAck", 0, 0)                                                                      \
	X(RECORD_ROUTE, "Record-Route", 0, 1)                                                      \
	X(REFER_TO, "Refer-To", 'r', 0)                                                            \
	X(REFERRED_BY, "Referred-By", 'b', 0)                                                      \
	X(REPLY_TO, "Reply-To", 0, 0)                                                              \
	X(REQUIRE, "Require", 0, 1)                                                                \
	X(RETRY_AFTER, "Retry-After", 0, 0)                                                        \
	X(ROUTE, "Route", 0, 1)                                                                    \
	X(RSEQ, "RSeq", 0, 0)                                                                      \
	X(SERVER, "Server", 0, 0)                                                                  \
	X(SERVICE_ROUTE, "Service-Route", 0, 1)                                                    \
	X(SESSION_EXPIRES, "Session-Expires", 'x', 0)                                              \
	X(SUBJECT, "Subject", 's', 0)                                                              \
	X(SUBSCRIPTION_STATE, "Subscription-State", 0, 0)                                          \
	X(SUPPORTED, "Supported", 'k', 1)                                                          \
	X(TIMESTAMP, "Timestamp", 0, 0)                                                            \
	X(TO, "To", 't', 0)                                                                        \
	X(UNSUPPORTED, "Unsupported", 0, 1)                                                        \
	X(USER_AGENT, "User-Agent", 0, 0)                                                          \
	X(VIA, "Via", 'v', 1)                                                                      \
	X(WARNING, "Warning", 0, 1)                                                                \
	X(WWW_AUTHENTICATE, "WWW-Authenticate", 0, 0)                                              \
	X(ACCEPT_CONTACT, "Accept-Contact", 'a', 1)                                                \
	X(REJECT_CONTACT, "Reject-Contact", 'j', 1)                                                \
	X(REQUEST_DISPOSITION, "Request-Disposition", 'd', 1)                                      \
	X(IDENTITY, "Identity", 'y', 0)                                                            \
	X(IDENTITY_INFO, "Identity-Info", 'n', 0)

/* Longest canonical header name ("Authentication-Info", "Content-Disposition", ...). */
#define MSG_HDR_NAME_MAX 19

/* Bytes of each msg_hdr_lnames entry: the longest name plus 8-byte load padding. */
#define MSG_HDR_NAME_LOAD 24

/* Lookup tables of msg_hdr_id_of (msg_hdrtab.c). */
extern const uint8_t msg_hdr_compact[26];			     /* by letter - 'a' */
extern const char msg_hdr_lnames[MSG_HDR__COUNT][MSG_HDR_NAME_LOAD]; /* lower case */
extern const uint8_t msg_hdr_cand[26][MSG_HDR_NAME_MAX + 1][2];	     /* by letter, length */

/*
 * Case-insensitive compare of n bytes of a token against a lower-case name.
 * OR-ing 0x20 folds A-Z onto a-z and leaves '-' and digits alone; no other
 * token character folds onto a letter or '-', so the test is exact.  With
 * wide, MSG_HDR_NAME_LOAD bytes may be read at p: whole 8-byte words are
 * compared, the bytes past n masked off (little-endian only).
 */
static inline bool msg_hdr_name_eq(const char *p, const char *lname, size_t n, bool wide)
{
	const uint64_t fold = 0x2020202020202020ull;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (wide) {
		uint64_t a, b;
		size_t i = 0;
		for (; n - i > 8; i += 8) {
			memcpy(&a, p + i, 8);
			memcpy(&b, lname + i, 8);
			if ((a | fold) != b)
				return false;
		}
		memcpy(&a, p + i, 8);
		memcpy(&b, lname + i, 8);
		return (((a | fold) ^ b) << (8 * (8 - (n - i)))) == 0; /* the n - i low bytes */
	}
#else
	(void)wide;
#endif
	for (size_t i = 0; i < n; i++)
		if ((char)(p[i] | 0x20) != lname[i])
			return false;
	return true;
}

/*
 * Header id of a name (token characters only, any case).  The parser's hot
 * path: the first letter and the length pick at most two candidates (the
 * idea of Kamailio's parse_hname2).  avail is how many bytes may be read from
 * name (at least len): with MSG_HDR_NAME_LOAD of them the candidates are
 * compared a word at a time.
 */
static inline uint8_t msg_hdr_id_of(const char *name, size_t len, size_t avail)
{
	if (len == 0)
		return MSG_HDR_OTHER;
	unsigned c = (unsigned)(unsigned char)(name[0] | 0x20) - 'a';
	if (c >= 26)
		return MSG_HDR_OTHER;
	if (len == 1)
		return msg_hdr_compact[c];
	if (len > MSG_HDR_NAME_MAX)
		return MSG_HDR_OTHER;
	const uint8_t *cd = msg_hdr_cand[c][len];
	bool wide = avail >= MSG_HDR_NAME_LOAD;
	if (cd[0] == MSG_HDR_OTHER || msg_hdr_name_eq(name, msg_hdr_lnames[cd[0]], len, wide))
		return cd[0];
	if (cd[1] != MSG_HDR_OTHER && msg_hdr_name_eq(name, msg_hdr_lnames[cd[1]], len, wide))
		return cd[1];
	return MSG_HDR_OTHER;
}

/* Is header id `id` a comma-separated list (indexed by enum msg_hdr_id)? */
extern const bool msg_hdr_list_tab[MSG_HDR__COUNT];

/* Write len bytes of a header value, dropping CR and LF (folding removed). */
void msg_out_value(struct msg_out *o, const char *p, size_t len);

/*
 * Syntax check of the header elements for msg_validate (msg_vhdr.c): every
 * element of the headers a server needs (Via, From, To, Call-ID, CSeq,
 * Max-Forwards, Content-Length, Contact, Expires, Route, Record-Route,
 * Require, Proxy-Require), and with all every element of every known header
 * with a grammar, each parsed once (the first Via, From, To and CSeq into
 * the accessors' cache).  Returns the id of the bad header ranked first
 * (the needed ones in the order above, then by id), or MSG_HDR_OTHER when
 * all are fine.
 */
uint8_t msg_check_hdrs(struct msg *m, bool all);

#endif
