/*
 * ua.h - the user agent core (RFC 3261 §8, §10.2, §13, §15; RFC 3428):
 * what `ringlet` does on the command line, as a library.
 *
 * One struct ua runs on one loop with one transport set (its own socket
 * transport, or any struct tp a test gives it) and one transaction layer of
 * a private group.  It is a registration client (REGISTER with digest retry,
 * refresh before expiry, un-REGISTER), sends OPTIONS and MESSAGE, answers
 * MESSAGE and OPTIONS, places calls (INVITE with an SDP offer, 3xx, digest,
 * CANCEL, ACK, BYE, re-INVITE hold) and answers them (180, 200 with an SDP
 * answer, or a rejection), with RTP audio played from and recorded to WAV
 * files.  Dialog state is dlg.h's, media is media.h's.
 *
 * Everything the UA does is reported through one event callback: every SIP
 * message sent or received (for a ladder diagram) and the semantic events
 * (registered, call progress, answered, ended, message received, media
 * statistics).  Event fields are borrowed for the call.
 *
 * Threads: every function runs on the loop's thread.
 */
#ifndef RINGLET_UA_H
#define RINGLET_UA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringlet/loop.h"
#include "ringlet/tp.h"
#include "ringlet/tsx.h"

struct ua;
struct ua_call;

enum ua_ev_type {
	UA_EV_SENT = 1,	    /* a SIP message went out: data/len, peer, proto */
	UA_EV_RECEIVED,	    /* a SIP message came in: data/len, peer, proto */
	UA_EV_REGISTERED,   /* 2xx to REGISTER: uri = AOR, expires = granted */
	UA_EV_BINDING,	    /* one Contact the 2xx lists: uri, expires */
	UA_EV_UNREGISTERED, /* 2xx to the REGISTER with Expires: 0 (code 0: gave up) */
	UA_EV_REG_FAILED,   /* REGISTER failed: code, reason */
	UA_EV_RESPONSE,	    /* final response to OPTIONS / MESSAGE: code, reason,
			       allow / accept / supported (OPTIONS) */
	UA_EV_MESSAGE,	    /* MESSAGE received: uri = From URI, text = body */
	UA_EV_INCOMING,	    /* INVITE received: uri = From URI, call */
	UA_EV_PROGRESS,	    /* provisional response to our INVITE: code, reason */
	UA_EV_REDIRECT,	    /* 3xx followed: code, uri = the new target */
	UA_EV_ANSWERED,	    /* call up (2xx sent or received): text = codec name */
	UA_EV_HOLD,	    /* the media direction changed: text = "sendonly",
			       "recvonly", "inactive" or "sendrecv"; code = 1 when
			       the peer asked (re-INVITE received) */
	UA_EV_ENDED,	    /* call over: code = final status (0 when none), reason,
			       text = what ended it ("BYE from remote", ...),
			       answered = it was up */
	UA_EV_MEDIA,	    /* statistics of a call's audio, just before ENDED */
};

/* Audio statistics of one call (RFC 3550 Appendix A). */
struct ua_media_stats {
	uint64_t sent;	   /* RTP packets sent */
	uint64_t received; /* RTP packets received (valid) */
	int64_t lost;	   /* cumulative lost as RTCP counts it */
	double jitter_ms;  /* interarrival jitter estimate */
	uint64_t recorded; /* samples written to the recording */
};

struct ua_event {
	enum ua_ev_type type;
	loop_ms at;	      /* loop time of the event */
	struct ua_call *call; /* the call it is about, or NULL */
	unsigned call_no;     /* 1, 2, ... per call of this ua; 0: none */
	unsigned code;
	const char *reason; /* NUL-terminated or NULL (every string below too) */
	const char *uri;
	const char *text;
	uint32_t expires;
	bool answered;
	bool outgoing; /* the call is ours (UAC) */
	/* UA_EV_SENT / UA_EV_RECEIVED */
	const char *data;
	size_t len;
	uint8_t proto; /* enum tp_proto */
	struct tp_addr peer;
	/* UA_EV_RESPONSE to OPTIONS */
	const char *allow, *accept, *supported;
	/* UA_EV_MEDIA */
	struct ua_media_stats stats;
};

typedef void ua_event_fn(const struct ua_event *ev, void *arg);

/* ua_alloc settings.  Strings are copied. */
struct ua_conf {
	/* Transport: tp when not NULL (a test's in-memory one; the UA sets
	 * its recv), else a socket transport of its own listening on
	 * proto/listen (port 0: ephemeral; family 0: udp:127.0.0.1:0). */
	struct tp *tp;
	uint8_t proto; /* enum tp_proto */
	struct tp_addr listen;
	const char *aor;       /* "sip:alice@example.com" (NULL: sip:ringlet@<local address>) */
	const char *auth_user; /* digest user name (NULL: the AOR's user part) */
	const char *password;  /* NULL: 401/407 end the request */
	const char *proxy;     /* outbound proxy URI: every request goes there (NULL: none) */
	unsigned expires;      /* REGISTER expires asked for (0: 3600) */
	const char *dns;       /* RFC 3263 resolver for host names (dns.h conf.server: "" the
				  system's, "off", "HOST:PORT"); NULL: only numeric hosts */
	struct tsx_conf tsx;
	ua_event_fn *event;
	void *arg;
};

/*
 * Create a UA on loop l.  Returns 0, EINVAL (a malformed AOR or proxy URI,
 * or a bad conf.dns), EHOSTUNREACH (a proxy host name and no resolver), an
 * errno of the socket transport (listen) or ENOMEM.
 */
int ua_alloc(struct ua **out, struct loop *l, const struct ua_conf *conf);

/* Free the UA: calls, transactions and timers end at once, without events or messages. */
void ua_free(struct ua *u);

/* The address the UA listens on (Contact, Via). */
const struct tp_addr *ua_local(const struct ua *u);
/* The AOR as a NUL-terminated URI. */
const char *ua_aor(const struct ua *u);

/*
 * Register the AOR's binding (RFC 3261 §10.2) and keep it refreshed (at half
 * the granted expiry): UA_EV_REGISTERED (+ UA_EV_BINDING per Contact the 2xx
 * lists) on every success, UA_EV_REG_FAILED on a failure (a refresh that
 * fails is retried after 30 s, or half the expiry when shorter).
 * Returns 0, EALREADY (already registering) or an errno from sending.
 */
int ua_register(struct ua *u);

/*
 * Remove the binding (REGISTER with Expires: 0, §10.2.2) and stop
 * refreshing; UA_EV_UNREGISTERED when the registrar answered (code 0 when
 * there was nothing to remove).  Returns 0 (the event comes later), or
 * ENOENT when no registration is active or under way.
 */
int ua_unregister(struct ua *u);

/* True while a REGISTER or un-REGISTER transaction of u is in flight. */
bool ua_reg_busy(const struct ua *u);

/*
 * Send OPTIONS (RFC 3261 §11) to uri: UA_EV_RESPONSE with the final
 * response's Allow, Accept and Supported.  Returns 0, EINVAL (bad URI) or
 * an errno from sending.
 */
int ua_options(struct ua *u, const char *uri);

/*
 * Send MESSAGE (RFC 3428) with a text/plain body to uri: UA_EV_RESPONSE
 * with the final status (2xx: delivered).  Returns 0, EINVAL or an errno.
 */
int ua_message(struct ua *u, const char *uri, const char *text);

/* Media of a call. */
struct ua_media_conf {
	const char *play;   /* WAV file to send (NULL: silence) */
	const char *record; /* WAV file for what is received (NULL: none) */
};

/*
 * Call uri (RFC 3261 §13.2): INVITE with an SDP offer (PCMU, PCMA),
 * UA_EV_PROGRESS per provisional response, up to UA_MAX_REDIRECTS 3xx
 * followed (the first Contact), 401/407 answered once, on 2xx ACK and the
 * media start (UA_EV_ANSWERED), a final failure UA_EV_ENDED with its code.
 * *out (may be NULL) is borrowed: valid until UA_EV_ENDED returns.
 * Returns 0, EINVAL (bad URI), EBUSY (a call is under way) or an errno.
 */
#define UA_MAX_REDIRECTS 5
int ua_call(struct ua *u, const char *uri, const struct ua_media_conf *mc, struct ua_call **out);

/*
 * End a call: CANCEL before the answer (the INVITE's 487 then ends it),
 * BYE after it, a rejection (486 or code) for an incoming call not yet
 * answered.  UA_EV_ENDED follows.  Returns 0, EALREADY (already ending)
 * or ESRCH (over).
 */
int ua_hangup(struct ua_call *c, unsigned code);

/*
 * Put the call on hold (re-INVITE with a=sendonly, RFC 3264 §8.4) or take
 * it off hold (a=sendrecv).  UA_EV_HOLD when the peer accepted.  Returns
 * 0, EINVAL (call not up), EBUSY (a re-INVITE is in flight) or an errno.
 */
int ua_hold(struct ua_call *c, bool hold);

/* How the UA answers INVITEs (nothing set: 486 Busy Here). */
struct ua_answer_conf {
	bool enabled;
	unsigned ring_ms;   /* 180 Ringing, then 200 after this long */
	unsigned reject;    /* 300..699: answer this instead of 200 (after ring_ms) */
	unsigned max_calls; /* simultaneous calls; more get 486 (0: 1) */
	struct ua_media_conf media;
};
/* Copy the answering settings (strings are copied).  Returns 0 or ENOMEM. */
int ua_set_answer(struct ua *u, const struct ua_answer_conf *ac);

/* Number of calls not yet ended. */
unsigned ua_calls(const struct ua *u);

/*
 * The ladder line of one message (-v): "  0.123 ringlet ─── INVITE ───▶ peer"
 * for a message sent, "  0.130 ringlet ◀── 180 Ringing ── peer" for one
 * received; the label is the method (requests) or status and reason
 * (responses), plus " (SDP)" when the body is SDP, and CSeq method of a
 * response.  ms: time since the start.  Written into out, NUL-terminated,
 * UTF-8 arrows, no newline.  Returns the length (truncated to cap - 1).
 */
size_t ua_ladder_line(char *out, size_t cap, bool sent, const char *data, size_t len,
		      const char *peer, uint64_t ms);

#endif
