/*
 * msg.h - the SIP message core: parse a request or response from a byte
 * buffer without copying and without an allocation per header, validate it,
 * and print messages (RFC 3261 §7, §8.2, §18.3, §25).
 *
 * The caller owns the buffer and the struct msg; the parser never writes into
 * the buffer.  Every position is a struct span relative to msg->buf, so a
 * parsed message can be moved together with its buffer by memcpy.
 */
#ifndef RINGLET_MSG_H
#define RINGLET_MSG_H

#include "ringlet/base.h"
#include "ringlet/msg_hdr.h"
#include "ringlet/msg_uri.h"

/* Hard limits (RFC 3261 leaves them to the implementation). */
#define MSG_MAX_SIZE 65535u   /* whole message incl. body: larger gets 513 */
#define MSG_MAX_LINE 8192u    /* one header line incl. folded continuations */
#define MSG_MAX_HDRS 256u     /* header elements (after comma splitting) */
#define MSG_NO_HDR 0xffffu

/*
 * Header ids.  Names are matched case-insensitively, compact forms
 * (RFC 3261 §7.3.3 and later RFCs) map to the same id.  MSG_HDR_OTHER is an
 * unknown header, kept verbatim.
 */
enum msg_hdr_id {
	MSG_HDR_OTHER = 0,
	MSG_HDR_ACCEPT,
	MSG_HDR_ACCEPT_ENCODING,
	MSG_HDR_ACCEPT_LANGUAGE,
	MSG_HDR_ALERT_INFO,
	MSG_HDR_ALLOW,
	MSG_HDR_ALLOW_EVENTS,       /* u */
	MSG_HDR_AUTHENTICATION_INFO,
	MSG_HDR_AUTHORIZATION,
	MSG_HDR_CALL_ID,            /* i */
	MSG_HDR_CALL_INFO,
	MSG_HDR_CONTACT,            /* m */
	MSG_HDR_CONTENT_DISPOSITION,
	MSG_HDR_CONTENT_ENCODING,   /* e */
	MSG_HDR_CONTENT_LANGUAGE,
	MSG_HDR_CONTENT_LENGTH,     /* l */
	MSG_HDR_CONTENT_TYPE,       /* c */
	MSG_HDR_CSEQ,
	MSG_HDR_DATE,
	MSG_HDR_ERROR_INFO,
	MSG_HDR_EVENT,              /* o */
	MSG_HDR_EXPIRES,
	MSG_HDR_FROM,               /* f */
	MSG_HDR_IN_REPLY_TO,
	MSG_HDR_MAX_FORWARDS,
	MSG_HDR_MIME_VERSION,
	MSG_HDR_MIN_EXPIRES,
	MSG_HDR_ORGANIZATION,
	MSG_HDR_PATH,
	MSG_HDR_PRIORITY,
	MSG_HDR_PROXY_AUTHENTICATE,
	MSG_HDR_PROXY_AUTHORIZATION,
	MSG_HDR_PROXY_REQUIRE,
	MSG_HDR_RACK,
	MSG_HDR_RECORD_ROUTE,
	MSG_HDR_REFER_TO,           /* r */
	MSG_HDR_REFERRED_BY,        /* b */
	MSG_HDR_REPLY_TO,
	MSG_HDR_REQUIRE,
	MSG_HDR_RETRY_AFTER,
	MSG_HDR_ROUTE,
	MSG_HDR_RSEQ,
	MSG_HDR_SERVER,
	MSG_HDR_SERVICE_ROUTE,
	MSG_HDR_SESSION_EXPIRES,    /* x */
	MSG_HDR_SUBJECT,            /* s */
	MSG_HDR_SUBSCRIPTION_STATE,
	MSG_HDR_SUPPORTED,          /* k */
	MSG_HDR_TIMESTAMP,
	MSG_HDR_TO,                 /* t */
	MSG_HDR_UNSUPPORTED,
	MSG_HDR_USER_AGENT,
	MSG_HDR_VIA,                /* v */
	MSG_HDR_WARNING,
	MSG_HDR_WWW_AUTHENTICATE,
	/* RFC 3841 caller preferences, RFC 8224 / RFC 4474 identity */
	MSG_HDR_ACCEPT_CONTACT,      /* a */
	MSG_HDR_REJECT_CONTACT,      /* j */
	MSG_HDR_REQUEST_DISPOSITION, /* d */
	MSG_HDR_IDENTITY,            /* y */
	MSG_HDR_IDENTITY_INFO,       /* n */
	MSG_HDR__COUNT,
};

/* Canonical (long form) name of a header id; "" for MSG_HDR_OTHER. */
const char *msg_hdr_name(enum msg_hdr_id id);
/* Header id of a name (long or compact form, any case). */
enum msg_hdr_id msg_hdr_lookup(const char *name, size_t len);
/* True if values of this header are comma-separated lists split by msg_parse. */
bool msg_hdr_is_list(enum msg_hdr_id id);

/* Header element flags. */
#define MSG_HDRF_FIRST 0x01  /* first (or only) element of its header line */
#define MSG_HDRF_FOLDED 0x02 /* the value contains a folded line break */

/*
 * One header element.  A header line "Via: a, b" yields two elements with the
 * same name span; each element's value is trimmed of surrounding LWS.
 */
struct msg_hdr {
	uint8_t id;    /* enum msg_hdr_id */
	uint8_t flags; /* MSG_HDRF_* */
	uint16_t next; /* index of the next element with the same id, or MSG_NO_HDR */
	struct span name;
	struct span value;
};

/* Bits of msg->cached: which typed views below are valid. */
#define MSG_C_VIA 0x01u
#define MSG_C_FROM 0x02u
#define MSG_C_TO 0x04u
#define MSG_C_CSEQ 0x08u
#define MSG_C_RURI 0x10u
#define MSG_C_BAD_VIA 0x100u /* tried, and the value was malformed */
#define MSG_C_BAD_FROM 0x200u
#define MSG_C_BAD_TO 0x400u
#define MSG_C_BAD_CSEQ 0x800u
#define MSG_C_BAD_RURI 0x1000u

/*
 * Bits of msg->anomalies: what msg_parse tolerated so that the message can
 * still be answered (RFC 3261 §8.2 prefers a 400 over a silent drop).
 * msg_validate turns each of them into a verdict.
 */
#define MSG_A_TOO_BIG 0x0001u     /* a hard limit was hit (EMSGSIZE): 513 */
#define MSG_A_NO_VERSION 0x0002u  /* request line without SIP-Version */
#define MSG_A_LWS_START 0x0004u   /* more than one SP between request-line elements */
#define MSG_A_TRAILING_WS 0x0008u /* SP/HTAB after the SIP-Version */
#define MSG_A_BAD_METHOD 0x0010u  /* the method is not a token */
#define MSG_A_BAD_STATUS 0x0020u  /* status code is not 3 digits (m->status is 0) */
#define MSG_A_BAD_LINE 0x0040u    /* a header line without ':' or with a bad name (skipped) */
#define MSG_A_BAD_CLEN 0x0080u    /* Content-Length is not a number */
#define MSG_A_SHORT_BODY 0x0100u  /* datagram shorter than its Content-Length */
#define MSG_A_NO_CLEN 0x0200u     /* stream without Content-Length (RFC 3261 §18.3) */
#define MSG_A_MULTI_CLEN 0x0400u  /* Content-Length given twice with different values */
#define MSG_A_NO_EOH 0x0800u      /* datagram without the empty line after the headers */
#define MSG_A_NOT_SIP 0x1000u     /* msg_parse gave EBADMSG */
/* With MSG_PARSE_STREAM: the body length is unknown, so after answering the
 * caller must close the connection (*used stops at the empty line). */
#define MSG_A_FRAMING (MSG_A_BAD_CLEN | MSG_A_NO_CLEN | MSG_A_MULTI_CLEN)

struct msg {
	const char *buf; /* borrowed; must outlive the msg */
	uint32_t len;    /* bytes of this message (start line .. end of body) */

	bool is_request;
	/* request line */
	uint8_t method;      /* enum msg_method */
	struct span method_s;
	struct span ruri_s;
	/* status line */
	uint16_t status;
	struct span reason;
	/* both */
	struct span version; /* "SIP/2.0" as written */
	struct span body;    /* Content-Length bytes after the blank line */
	bool has_clen;       /* a Content-Length header was present */
	uint32_t anomalies;  /* MSG_A_* */

	/* headers, in order of appearance */
	uint16_t nhdrs;
	uint16_t first[MSG_HDR__COUNT]; /* first element of each id, or MSG_NO_HDR */
	struct msg_hdr hdrs[MSG_MAX_HDRS];

	/* typed views, parsed on demand by the accessors below (bits in cached) */
	uint32_t cached;
	struct msg_via via1;      /* topmost Via */
	struct msg_nameaddr from;
	struct msg_nameaddr to;
	struct msg_cseq cseq;
	struct msg_uri ruri;
};

/* msg_parse flags */
#define MSG_PARSE_DGRAM 0x01 /* one UDP datagram: bytes after the body are ignored,
				and a missing Content-Length means "to the end" */
#define MSG_PARSE_STREAM 0x02 /* a stream (TCP/TLS): Content-Length is required
				 and a short buffer gives EAGAIN */

/*
 * Frame and split one message from buf[0..len): start line, header elements
 * (name, value, id), body.  Leading CRLFs (keep-alives) are skipped and counted
 * in *used; m->buf then points at the start line, so every span is relative
 * to m->buf, not to buf.  Typed header values are NOT checked here (see
 * msg_validate).  The buffer need not be NUL-terminated; nothing past
 * buf[len) is read.
 *
 * Datagram (MSG_PARSE_DGRAM, also the default when neither flag is given):
 * the body is Content-Length bytes and extra bytes are ignored; without
 * Content-Length the body is the rest of the datagram (RFC 3261 §18.3).
 * Stream (MSG_PARSE_STREAM): the body is Content-Length bytes and *used is the
 * exact length of the message, so messages in one buffer parse one by one.
 *
 * Whenever the start line and the end of the header block are found, the
 * result is 0 and what is wrong is recorded in m->anomalies (MSG_A_*) for
 * msg_validate: a header line without ':', a Content-Length that is not a
 * number or runs past the datagram, a stream message without Content-Length
 * (see MSG_A_FRAMING), extra whitespace in the request line, ...
 *
 * Returns 0 and sets *used to the bytes consumed; EAGAIN if the buffer holds
 * only part of a message (stream); EMSGSIZE if a hard limit (size, header
 * count, line length) is exceeded; EBADMSG if the bytes are not a SIP message
 * (no start line); ENODATA for a datagram of nothing but CRLFs (a keep-alive).
 * On EMSGSIZE/EBADMSG of a request whose start line was read, m->is_request
 * and the start line fields are valid, so a server can still decide whether
 * to answer; on EMSGSIZE the headers before the limit are recorded and
 * m->anomalies has MSG_A_TOO_BIG (msg_validate answers 513).
 */
int msg_parse(struct msg *m, const char *buf, size_t len, unsigned flags, size_t *used);

/* Typed accessors: parse on first use, cache in *m; NULL if absent or malformed. */
const struct msg_via *msg_top_via(struct msg *m);
const struct msg_nameaddr *msg_from(struct msg *m);
const struct msg_nameaddr *msg_to(struct msg *m);
const struct msg_cseq *msg_cseq(struct msg *m);
const struct msg_uri *msg_ruri(struct msg *m);

/* First header element with this id, or NULL.  Next one: msg_hdr_next. */
const struct msg_hdr *msg_hdr_find(const struct msg *m, enum msg_hdr_id id);
const struct msg_hdr *msg_hdr_next(const struct msg *m, const struct msg_hdr *h);
/* First header with this name (case-insensitive), for unknown headers. */
const struct msg_hdr *msg_hdr_find_name(const struct msg *m, const char *name);

/*
 * What a message deserves.  status 0 means "well-formed, nothing to say".
 * For a request, status is the response to send (400 naming the bad header in
 * reason, 505, 513, or a role verdict 416/420/483); for a response, drop is set
 * (and status stays 0) when it must be discarded.
 */
struct msg_verdict {
	uint16_t status;
	bool malformed;     /* 400/505/513 or a dropped response: the bytes are bad */
	bool drop;          /* a response that must be silently discarded */
	uint8_t hdr;        /* enum msg_hdr_id at fault (MSG_HDR_OTHER if none/unknown) */
	const char *reason; /* static reason phrase, e.g. "Bad Via" or "Version Not Supported" */
	struct span unsupported; /* 420: the first unsupported option tag */
};

/* msg_validate flags */
#define MSG_V_ALL 0x01   /* typed-check every known header, not only the ones a
			    server needs to route and answer */
#define MSG_V_PROXY 0x02 /* also give role verdicts: 483 for Max-Forwards 0 and
			    420 for Proxy-Require */
#define MSG_V_FORWARD 0x04 /* the request is forwarded, not consumed here: Require
			      is for the UAS, a proxy does not check it (§16.3) */

/*
 * Check a parsed message (RFC 3261 §8.2, §16.3, §18.3): version (505),
 * mandatory headers and their syntax (400 naming the header), CSeq method vs
 * request method, single-value headers given more than once, Content-Length
 * vs body; then role verdicts: Request-URI scheme (416) and Require /
 * Proxy-Require option tags not in `supported` (420; NULL-terminated list,
 * NULL = msg_supported_default).  Returns true when the message is fine
 * (v->status == 0 and !v->drop), else fills *v.  *v is always written.
 */
bool msg_validate(struct msg *m, unsigned flags, const char *const *supported,
		  struct msg_verdict *v);

/*
 * Only the role verdicts of msg_validate (416, 420, and with MSG_V_PROXY 483
 * and Proxy-Require's 420), for a request that already passed msg_validate
 * with other flags: a server checks the bytes once when they arrive and the
 * role later, when it knows whether it forwards.  Same result convention.
 */
bool msg_role_verdict(struct msg *m, unsigned flags, const char *const *supported,
		      struct msg_verdict *v);

/* Option tags Ringlet implements (NULL-terminated). */
extern const char *const msg_supported_default[];

/* Default reason phrase of a status code ("Unknown" when none). */
const char *msg_reason_phrase(unsigned status);

/*
 * Printer.  A struct msg_out writes into caller memory; on overflow it stops
 * writing, sets overflow, and msg_out_end reports EMSGSIZE.  Nothing is
 * allocated.  CR and LF bytes are dropped from every value, method, URI and
 * reason given to these functions (no folding, no header injection).
 */
struct msg_out {
	char *p;
	uint32_t len;
	uint32_t cap;
	bool overflow;
	uint32_t clen_at; /* internal: where Content-Length digits go */
};

void msg_out_init(struct msg_out *o, char *mem, size_t cap);
/* "METHOD uri SIP/2.0\r\n" */
void msg_out_request_line(struct msg_out *o, const char *method, const char *uri, size_t urilen);
/* "SIP/2.0 code reason\r\n" (reason NULL: msg_reason_phrase(code)) */
void msg_out_status_line(struct msg_out *o, unsigned code, const char *reason);
/* "Name: value\r\n" */
void msg_out_header(struct msg_out *o, const char *name, const char *value, size_t len);
/* "Name: " printf-formatted value "\r\n" */
void msg_out_headerf(struct msg_out *o, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Raw bytes (caller supplies CRLFs). */
void msg_out_raw(struct msg_out *o, const char *p, size_t len);
/* "Content-Length: N\r\n\r\n" and the body.  Returns 0 or EMSGSIZE. */
int msg_out_end(struct msg_out *o, const char *body, size_t bodylen);

/*
 * Print a parsed message back: start line, every header (elements of one line
 * joined again with ", "), Content-Length, body.  Folding is removed, names are
 * kept as written.  parse(print(parse(x))) equals parse(x) field by field.
 * Returns 0 or EMSGSIZE.
 */
int msg_print(const struct msg *m, struct msg_out *o);

/*
 * Start a response to request req (RFC 3261 §8.2.6): status line, every Via in
 * order, From, To (with ";tag=to_tag" added when the request's To has no tag
 * and to_tag is not NULL), Call-ID, CSeq.  The caller adds more headers and
 * calls msg_out_end.
 */
void msg_out_response(struct msg_out *o, struct msg *req, unsigned code, const char *reason,
		      const char *to_tag);

/*
 * msg_out_response with the top Via value replaced by via1[0..via1len) (no
 * "Via:", no CRLF): the request's top Via with the received and rport
 * parameters the server transport adds (RFC 3261 §18.2.1, RFC 3581 §4, see
 * tp_via_rewrite).  via1 NULL: copied as it is.
 */
void msg_out_response_via(struct msg_out *o, struct msg *req, unsigned code, const char *reason,
			  const char *to_tag, const char *via1, size_t via1len);

#endif
