/*
 * msg_sdp.h - SDP (RFC 4566): parse a session description without copying,
 * print it back, build new ones, and the RFC 3264 offer/answer rules for the
 * audio streams Ringlet can carry.
 *
 * Parsing works like the SIP parser: the caller owns the buffer (which need
 * not be NUL-terminated) and a struct msg_sdp with fixed capacities; every
 * result is a struct span relative to that buffer.  Every line is kept, in
 * order, in lines[], so printing reproduces the description line by line;
 * the typed fields (origin, connection, times, media, attributes) are views
 * on those lines.
 *
 * Building goes the other way: the caller fills a struct msg_sdp_desc with
 * values that live anywhere (struct msg_sdp_str: pointer + length, no NUL
 * needed) and prints it.  The offer/answer helper fills such a description
 * from a parsed offer.
 */
#ifndef RINGLET_MSG_SDP_H
#define RINGLET_MSG_SDP_H

#include "ringlet/base.h"

/* Hard limits: more gives EMSGSIZE, never a crash or a truncated result. */
#define MSG_SDP_MAX_LINES 256u /* lines in one description */
#define MSG_SDP_MAX_MEDIA 16u  /* m= sections */
#define MSG_SDP_MAX_ATTRS 64u  /* a= lines per section (session or one media) */
#define MSG_SDP_MAX_FMTS 32u   /* formats on one m= line */
#define MSG_SDP_MAX_BW 8u      /* b= lines per section */
#define MSG_SDP_MAX_TIMES 8u   /* t= lines */
#define MSG_SDP_NO_PT 0xffu    /* format that is not an RTP payload type (0..127) */

/* Text that lives anywhere: a buffer, a string literal, a parsed offer. */
struct msg_sdp_str {
	const char *p;
	size_t len;
};

/* Initializer for a string literal, usable in static tables. */
#define MSG_SDP_LIT(s) {(s), sizeof(s) - 1}

/* A msg_sdp_str for a NUL-terminated string (NULL gives the empty string). */
static inline struct msg_sdp_str msg_sdp_str(const char *s)
{
	struct msg_sdp_str r = {s, s ? strlen(s) : 0};
	return r;
}

/* Media direction (RFC 3264 §5.1).  NONE only appears in a msg_sdp_desc. */
enum msg_sdp_dir {
	MSG_SDP_DIR_NONE = 0, /* builder: print no direction attribute */
	MSG_SDP_SENDRECV,
	MSG_SDP_SENDONLY,
	MSG_SDP_RECVONLY,
	MSG_SDP_INACTIVE,
};

/* ---- parsed description ---- */

/* One line "x=value": type is the letter, value excludes "x=" and the line end. */
struct msg_sdp_line {
	char type;
	struct span value;
};

/* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> (§5.2) */
struct msg_sdp_origin {
	struct span user;
	uint64_t sess_id;
	uint64_t sess_ver;
	struct span nettype;  /* "IN" */
	struct span addrtype; /* "IP4", "IP6" */
	struct span addr;
};

/* c=<nettype> <addrtype> <connection-address> (§5.7) */
struct msg_sdp_conn {
	bool present;
	struct span nettype;
	struct span addrtype;
	struct span addr;  /* without the "/ttl/number" suffix */
	uint16_t ttl;      /* IP4 multicast "/ttl"; 0 when absent */
	uint16_t naddr;    /* "/number of addresses"; 1 when absent */
};

/* t=<start-time> <stop-time> (§5.9) */
struct msg_sdp_time {
	uint64_t start;
	uint64_t stop;
};

/* b=<bwtype>:<bandwidth> (§5.8) */
struct msg_sdp_bw {
	struct span type;
	uint32_t value;
};

/* a=<attribute> or a=<attribute>:<value> (§5.13) */
struct msg_sdp_attr {
	struct span name;
	struct span value; /* empty when has_value is false */
	bool has_value;    /* a ':' followed the name */
};

/* m=<media> <port>[/<number of ports>] <proto> <fmt> ... (§5.14) and its section. */
struct msg_sdp_media {
	struct span type;  /* "audio", "video", "application", ... */
	uint16_t port;
	uint16_t nports;   /* 1 when absent */
	struct span proto; /* "RTP/AVP", ... */
	uint8_t nfmts;     /* >= 1 */
	struct span fmts[MSG_SDP_MAX_FMTS];
	uint8_t pts[MSG_SDP_MAX_FMTS]; /* fmts[i] as a payload type, or MSG_SDP_NO_PT */
	struct msg_sdp_conn conn; /* first media-level c= (others are kept in lines[]) */
	uint16_t line;     /* index of the m= line in lines[] */
	uint16_t nlines;   /* lines of the section, the m= line included */
	uint16_t attr0, nattrs; /* attrs[attr0 .. attr0 + nattrs) */
	uint16_t bw0, nbw;      /* bws[bw0 .. bw0 + nbw) */
};

/*
 * The whole description.  Session-level attributes and bandwidths are
 * attrs[0 .. nattrs) and bws[0 .. nbw); each media section has its own
 * range.  About 16 KiB: fine on a thread stack, or embed it.
 */
struct msg_sdp {
	const char *buf; /* borrowed; must outlive the struct */
	struct msg_sdp_origin origin;
	struct span name;   /* s= (may be empty, also when absent) */
	bool has_name;
	struct msg_sdp_conn conn; /* session-level c= */
	uint16_t ntimes;
	struct msg_sdp_time times[MSG_SDP_MAX_TIMES];
	uint16_t nattrs; /* session-level a= lines */
	uint16_t nbw;    /* session-level b= lines */
	uint16_t nmedia;
	uint16_t attrs_used; /* entries used in attrs[] (all sections) */
	uint16_t bws_used;   /* entries used in bws[] (all sections) */
	uint16_t nlines;
	/* the arrays stay last: msg_sdp_parse only clears what precedes them */
	struct msg_sdp_media media[MSG_SDP_MAX_MEDIA];
	struct msg_sdp_line lines[MSG_SDP_MAX_LINES];
	struct msg_sdp_attr attrs[MSG_SDP_MAX_LINES];
	struct msg_sdp_bw bws[MSG_SDP_MAX_BW * (MSG_SDP_MAX_MEDIA + 1)];
};

/*
 * Parse the SDP in buf[body.off .. body.off + body.len) into *s (RFC 4566 §5).
 * Lines end in CRLF or a bare LF; the final line end may be missing; empty
 * lines at the very end are ignored.  Session-level lines may come in any
 * order after v=, but o= is required before the first m=, and lines that
 * belong to the session only (v o s t r z u e p) are rejected after it.
 *
 * Returns 0; EBADMSG for a description that does not parse (first line not
 * "v=0", a line not of the form "x=...", a bad o=/c=/t=/b=/m=/a= line, a
 * duplicate o= or s=, ...); EMSGSIZE when a MSG_SDP_MAX_* limit is exceeded.
 * On error *s is unspecified.  Never reads outside the body span.
 */
int msg_sdp_parse(struct msg_sdp *s, const char *buf, struct span body);

/*
 * Print a parsed description: every line in order as "x=value\r\n".
 * Writes at most cap bytes to out (no NUL) and sets *outlen.  Returns 0 or
 * EMSGSIZE when cap is too small (out then holds a prefix).
 */
int msg_sdp_print(const struct msg_sdp *s, char *out, size_t cap, size_t *outlen);

/*
 * True if a and b describe the same session: the same lines with the same
 * bytes, and the same typed values.  Offsets and buffers may differ.
 */
bool msg_sdp_equal(const struct msg_sdp *a, const struct msg_sdp *b);

/* ---- lookups (m == NULL means the session level) ---- */

/*
 * Next attribute called name (ASCII case-insensitive, to be lenient) in the section,
 * after `after` (NULL: the first).  NULL when there is none.
 */
const struct msg_sdp_attr *msg_sdp_attr_find(const struct msg_sdp *s,
					     const struct msg_sdp_media *m, const char *name,
					     const struct msg_sdp_attr *after);

/* An RTP payload format: from a=rtpmap (name points into s->buf) or the static table. */
struct msg_sdp_rtpmap {
	uint8_t pt;
	struct msg_sdp_str name; /* encoding name, e.g. "PCMU", "opus" */
	uint32_t rate;           /* clock rate */
	uint8_t channels;        /* 1 when absent */
};

/*
 * a=rtpmap:<pt> <name>/<rate>[/<channels>] for payload type pt in media m
 * (RFC 4566 §6).  Returns 0, ENOENT (no rtpmap for pt) or EBADMSG (the
 * first rtpmap for pt is malformed).
 */
int msg_sdp_rtpmap(const struct msg_sdp *s, const struct msg_sdp_media *m, unsigned pt,
		   struct msg_sdp_rtpmap *out);

/*
 * The codec of format i of media m: its rtpmap, else the static payload type
 * table of RFC 3551 §6 (0 PCMU, 3 GSM, 4 G723, 8 PCMA, 9 G722, 13 CN, 18
 * G729).  Returns 0 or ENOENT (not an RTP payload type, or dynamic without a
 * usable rtpmap).
 */
int msg_sdp_fmt_codec(const struct msg_sdp *s, const struct msg_sdp_media *m, unsigned i,
		      struct msg_sdp_rtpmap *out);

/* a=fmtp:<pt> <params> in media m: true and *params (trimmed) if present. */
bool msg_sdp_fmtp(const struct msg_sdp *s, const struct msg_sdp_media *m, unsigned pt,
		  struct span *params);

/* a=ptime in milliseconds (media level, else session level); 0 when absent or bad. */
uint32_t msg_sdp_ptime(const struct msg_sdp *s, const struct msg_sdp_media *m);

/*
 * Direction of media m (RFC 3264 §5.1): its own sendrecv/sendonly/recvonly/
 * inactive attribute, else the session's, else MSG_SDP_SENDRECV.
 */
enum msg_sdp_dir msg_sdp_dir(const struct msg_sdp *s, const struct msg_sdp_media *m);

/* Connection of media m: its own c=, else the session's; NULL when neither. */
const struct msg_sdp_conn *msg_sdp_conn(const struct msg_sdp *s, const struct msg_sdp_media *m);

/*
 * True if the sender of s puts media m on hold (RFC 3264 §8.4): direction
 * sendonly or inactive, or connection address 0.0.0.0 (RFC 2543 style) or ::.
 */
bool msg_sdp_held(const struct msg_sdp *s, const struct msg_sdp_media *m);

/* ---- building ---- */

/* One RTP codec: for the builder, and as a local capability for offer/answer. */
struct msg_sdp_codec {
	uint8_t pt;              /* payload type (ignored in a local list when answering) */
	struct msg_sdp_str name; /* encoding name, e.g. "PCMU" */
	uint32_t rate;           /* clock rate, e.g. 8000 */
	uint8_t channels;        /* 0 or 1: mono (not printed); 2+: printed */
	struct msg_sdp_str fmtp; /* a=fmtp parameters; empty: none */
};

#define MSG_SDP_DESC_MAX_ATTRS 8u

/* One m= section to build. */
struct msg_sdp_desc_media {
	struct msg_sdp_str type;  /* "audio" */
	uint16_t port;            /* 0: stream rejected/disabled */
	struct msg_sdp_str proto; /* empty: "RTP/AVP" */
	uint8_t ncodecs;
	struct msg_sdp_codec codecs[MSG_SDP_MAX_FMTS];
	struct msg_sdp_str fmt;   /* ncodecs == 0: the format list, verbatim ("31", "t38") */
	uint32_t ptime;           /* 0: no a=ptime */
	enum msg_sdp_dir dir;     /* MSG_SDP_DIR_NONE: no direction attribute */
	struct msg_sdp_str addr;  /* empty: no media-level c= */
	uint8_t nattrs;           /* extra "a=" lines, value without "a=" */
	struct msg_sdp_str attrs[MSG_SDP_DESC_MAX_ATTRS];
};

/* A session to build: one origin, one session-level c=, "t=0 0". */
struct msg_sdp_desc {
	struct msg_sdp_str user; /* o= username; empty: "-" */
	uint64_t sess_id;
	uint64_t sess_ver;
	struct msg_sdp_str addr; /* origin and session c= address (IP6 if it has a ':') */
	struct msg_sdp_str name; /* s=; empty: "-" */
	uint8_t nmedia;
	struct msg_sdp_desc_media media[MSG_SDP_MAX_MEDIA];
};

/*
 * Print d as SDP with CRLF line ends:
 *   v=0, o=, s=, c=, t=0 0, then per media: m=, c= (if addr), a=rtpmap for
 *   every codec, a=fmtp for codecs with fmtp, a=ptime, the direction, extra
 *   attributes.
 * Writes at most cap bytes (no NUL) and sets *outlen.  Returns 0; EINVAL if d
 * is not printable (no address, a count over its limit, a media without any
 * format, a CR/LF/NUL in any text, a space in a token); EMSGSIZE if cap is
 * too small.
 */
int msg_sdp_desc_print(const struct msg_sdp_desc *d, char *out, size_t cap, size_t *outlen);

/* ---- offer/answer (RFC 3264) ---- */

/* What we can do, for answering. */
struct msg_sdp_local {
	const struct msg_sdp_codec *codecs; /* supported audio codecs */
	uint8_t ncodecs;
	uint16_t port;  /* RTP port of the first accepted audio stream; the next get +2 */
	uint32_t ptime; /* a=ptime in the answer; 0: none */
};

/*
 * Build the answer to offer (RFC 3264 §6): one media section per offered m=
 * line, in order.  An audio RTP/AVP stream keeps the codecs common to both
 * sides, in the offerer's order, with the offerer's payload type numbers
 * (static types are known without rtpmap; dynamic ones match on encoding
 * name, case-insensitive, clock rate and channels); telephone-event and CN
 * are kept only alongside a real codec.  Its direction mirrors the offer
 * (sendonly <-> recvonly; a 0.0.0.0 connection counts as "offerer does not
 * receive").  Any other stream (port 0 in the offer, no common codec, another
 * media type or protocol) is rejected: port 0 and the offer's first format.
 *
 * Fills ans->nmedia and ans->media[] only; the caller sets the session fields
 * (user, ids, addr, name) before or after.  Strings in the answer point into
 * offer->buf or local->codecs, which must outlive it.  Returns 0 or EINVAL.
 */
int msg_sdp_answer(const struct msg_sdp *offer, const struct msg_sdp_local *local,
		   struct msg_sdp_desc *ans);

/* The outcome of one stream of our offer. */
struct msg_sdp_choice {
	bool rejected;       /* port 0 in the answer, or no codec we offered */
	int16_t codec;       /* index into our codec list, -1 when rejected */
	uint8_t pt;          /* payload type of that codec in the answer (send with it) */
	int16_t dtmf_pt;     /* telephone-event payload type in the answer, -1 if none */
	enum msg_sdp_dir dir; /* the answerer's direction */
};

/*
 * Given the answer to our offer (RFC 3264 §7) and the codecs we offered
 * (matched by rtpmap/static codec, else by our payload type number), tell for
 * each answer stream which codec was chosen: the first format of the answer
 * that is one of ours and a real codec (not telephone-event or CN).
 * Fills out[0 .. answer->nmedia).  Returns 0, or EMSGSIZE if nout is too small.
 */
int msg_sdp_chosen(const struct msg_sdp *answer, const struct msg_sdp_codec *ours,
		   size_t nours, struct msg_sdp_choice *out, size_t nout);

#endif
