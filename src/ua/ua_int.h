/*
 * ua_int.h - what the ua*.c files share: the UA object, the out-of-dialog
 * client request with digest retry (ua_req.c), registration state
 * (ua_reg.c), and the call hooks (ua_call.c, ua_uas.c).
 */
#ifndef RINGLET_UA_INT_H
#define RINGLET_UA_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "ringlet/dlg.h"
#include "ringlet/dns.h"
#include "ringlet/list.h"
#include "ringlet/media.h"
#include "ringlet/msg.h"
#include "ringlet/tp.h"
#include "ringlet/tsx.h"
#include "ringlet/ua.h"

#define UA_URI_MAX 256
#define UA_TAG_LEN 16
#define UA_CALLID_MAX 64
#define UA_AUTH_MAX 2048    /* credentials lines of one request */
#define UA_NAME_MAX 128	    /* user names, passwords */
#define UA_MAX_CHALLENGES 2 /* a second challenge that is not stale ends the request */

struct ua_creq;
struct ua_lookup;

/* Where a request goes, once resolved (ua_lookup): err 0 and dest, or an errno. */
typedef void ua_dest_fn(int err, const struct tp_dest *dest, void *arg);

/* Final response of an out-of-dialog client request (after digest retries). */
typedef void ua_creq_fn(struct ua_creq *r, struct msg *resp, void *arg);

/*
 * One out-of-dialog client request (REGISTER, OPTIONS, MESSAGE; INVITE is
 * built by ua_call.c on the same helpers): the parts it is built from, so
 * that a 401/407 can be answered by building it again with credentials and
 * the next CSeq (§22.2, §8.1.3.5).  A mem object.
 */
struct ua_creq {
	struct ua *ua;
	char method[16];
	char ruri[UA_URI_MAX];
	char to[UA_URI_MAX + 32]; /* To header value */
	char from_tag[UA_TAG_LEN + 1];
	char callid[UA_CALLID_MAX];
	uint32_t cseq;
	char *extra; /* header lines (CRLF-terminated), malloc'ed; may be NULL */
	char *ctype; /* Content-Type value or NULL */
	char *body;
	size_t bodylen;
	unsigned challenges; /* 401/407 answered so far (not counting stale ones) */
	struct tsx *t;
	ua_creq_fn *done;
	void *arg;
	struct tp_dest dest;
	struct ua_lookup *lk;  /* host name being resolved */
	struct list_node node; /* on ua->reqs (no reference) */
};

/* Registration client state (ua_reg.c). */
struct ua_reg {
	bool active;	 /* ua_register called, not unregistered */
	bool registered; /* a 2xx came and has not expired */
	bool unreg;	 /* an un-REGISTER is in flight */
	struct ua_creq *r;
	char callid[UA_CALLID_MAX]; /* one Call-ID for every REGISTER of this UA (§10.2.4) */
	char from_tag[UA_TAG_LEN + 1];
	uint32_t cseq;
	uint32_t asked; /* expires asked for (423 raises it) */
	uint32_t granted;
	struct loop_timer refresh;
};

/* The most recent challenge of each kind (401, 407), for credentials without a round trip. */
struct ua_chal {
	char *data; /* malloc'ed response bytes */
	size_t len;
	uint32_t nc;
};

enum ua_call_state {
	UA_CALL_CALLING = 1, /* UAC: INVITE sent; UAS: ringing */
	UA_CALL_UP,	     /* 2xx sent or received */
	UA_CALL_ENDED,
};

/* One call, ours (UAC) or the peer's (UAS).  Freed by a delay-0 timer once ended. */
struct ua_call {
	struct list_node node; /* on ua->calls */
	struct ua *ua;
	unsigned no;
	bool uac;
	enum ua_call_state state;
	bool hanging;	   /* ua_hangup called: CANCEL or BYE sent */
	struct dlg *dlg;   /* our reference: the call's dialog */
	struct tsx *inv;   /* the INVITE transaction (UAC client / UAS server), a reference */
	struct tsx *bye;   /* our BYE in flight */
	struct tsx *reinv; /* our re-INVITE in flight */
	bool hold_wanted;  /* what our re-INVITE in flight asks for */
	char *reinv_req;   /* the last re-INVITE of ours that got a 2xx (ACKed again) */
	size_t reinv_len;
	struct list pend; /* struct ua_pend: in-dialog requests waiting for DNS (ua_send.c) */
	/* the last in-dialog hop resolved by DNS, for the call's later requests */
	char hop_uri[UA_URI_MAX + 1];
	struct tp_dest hop_dest;
	bool hop_known;
	struct media *media;
	bool media_on;
	char *play, *record;
	uint64_t sdp_ver;
	char codec[16];		   /* "PCMU/8000" once the SDP exchange is done */
	char reason[64];	   /* the final response's reason phrase, for UA_EV_ENDED */
	char from_uri[UA_URI_MAX]; /* the peer (UAS: From; UAC: the target) */
	/* UAC */
	struct ua_lookup *lk;  /* the target's host being resolved */
	struct dlg_fork *fork; /* the current INVITE's */
	char target[UA_URI_MAX];
	char to[UA_URI_MAX + 2];
	char callid[DLG_CALLID_LEN + 1];
	char from_tag[DLG_TAG_LEN + 1];
	uint32_t cseq;
	unsigned redirects, challenges;
	/* UAS */
	char tag[DLG_TAG_LEN + 1];
	char *offer; /* SDP of the INVITE (NULL: offerless, the answer comes in the ACK) */
	size_t offerlen;
	struct loop_timer ring;
	/* a 2xx we retransmit until its ACK (§13.3.1.4): initial or re-INVITE */
	struct tsx *ok_tsx;
	char *ok_hdrs, *ok_body;
	size_t ok_bodylen;
	uint32_t ok_cseq;
	bool ok_initial;
	bool await_ack_sdp;
	loop_ms ok_iv, ok_spent;
	struct loop_timer rexmit;
	struct loop_timer reap;
};

struct ua {
	struct loop *loop;
	struct tp *tp; /* the real transport */
	bool own_tp;
	struct tp wrap; /* what the transaction layer sends through: reports every send */
	struct tp_ops wrap_ops;
	struct tsx_layer *layer;
	ua_event_fn *event;
	void *arg;
	uint8_t proto;
	struct tp_addr local;
	char aor[UA_URI_MAX];
	char aor_user[UA_NAME_MAX];
	char aor_domain[UA_URI_MAX]; /* "sip:" host[:port] of the AOR: the registrar's URI */
	char auth_user[UA_NAME_MAX];
	char password[UA_NAME_MAX];
	bool has_password;
	bool has_proxy;
	bool proxy_named; /* the proxy's host is a name: resolved on first use (RFC 3263) */
	bool proxy_known; /* proxy_dest is set */
	char proxy_uri[UA_URI_MAX];
	struct tp_dest proxy_dest;
	struct dns *dns;	     /* NULL: host names are not resolved */
	char route[UA_URI_MAX + 32]; /* "Route: <proxy;lr>\r\n" or "" */
	char contact[UA_URI_MAX];    /* "<sip:user@addr;transport=..>" */
	unsigned expires;
	uint64_t rng;
	loop_ms start;
	struct ua_reg reg;
	struct ua_chal chal[2]; /* [0]: 401, [1]: 407 */
	struct list reqs;	/* struct ua_creq in flight */
	struct list calls;	/* struct ua_call, by node */
	struct dlg_table *dlgs;
	unsigned t1, t2; /* ms, as the transaction layer's */
	unsigned ncalls; /* calls ever made or received (numbering) */
	struct ua_answer_conf answer;
	char *play_in, *record_in; /* answer.media strings, owned */
	bool freeing;
};

/* ---- ua.c ---- */

/* Emit an event with type, at and call fields filled. */
void ua_emit(struct ua *u, struct ua_event *ev);
/* n random lower-case hex characters into out, NUL-terminated (cap > n). */
void ua_random_hex(struct ua *u, char *out, size_t n);
/*
 * Where a request for uri goes: the outbound proxy, else the URI's host
 * (numeric, or "localhost"), port (default 5060) and transport parameter
 * (default the UA's).  Returns 0 or EINVAL / EHOSTUNREACH.
 */
int ua_dest(struct ua *u, const char *uri, struct tp_dest *out);
/*
 * Resolve the host of uri (or of the outbound proxy, when there is one) with
 * RFC 3263 (dns.h) and call fn once, later, with the first destination.
 * Returns a handle for ua_lookup_cancel, or NULL (then fn is never called):
 * no resolver, a bad URI or ENOMEM.
 */
struct ua_lookup *ua_lookup(struct ua *u, const char *uri, ua_dest_fn *fn, void *arg);
/* As ua_lookup for uri itself, never the outbound proxy: an in-dialog hop (ua_send.c). */
struct ua_lookup *ua_lookup_uri(struct ua *u, const char *uri, ua_dest_fn *fn, void *arg);
/* Cancel a pending lookup: fn will not be called (NULL-safe). */
void ua_lookup_cancel(struct ua_lookup *lk);
/* As ua_dest, without the outbound proxy: the next hop of an in-dialog request (§12.2.1.1). */
int ua_hop(struct ua *u, const char *uri, size_t len, struct tp_dest *out);
/* s with "sip:" prepended when it has no sip/sips/tel scheme, into out; 0 or EINVAL. */
int ua_with_scheme(const char *s, char *out, size_t cap);
/* Parse a NUL-terminated URI (name-addr or addr-spec accepted); 0 or EBADMSG. */
int ua_uri_parse(const char *s, struct msg_uri *out);
/* Copy span s of buf into out (cap), NUL-terminated, control characters dropped. */
void ua_span_copy(const char *buf, struct span s, char *out, size_t cap);
/* Answer request t statelessly-simple (no body); logs a failure. */
void ua_respond(struct tsx *t, unsigned code, const char *reason, const char *hdrs);

/* ---- ua_req.c ---- */

/*
 * A new client request for method to ruri with To value `to` (NULL: <ruri>),
 * a fresh Call-ID, From tag and CSeq 1 (callid/from_tag/cseq may be
 * overwritten before ua_creq_send).  extra/ctype/body are copied.  Returns
 * NULL on ENOMEM.
 */
struct ua_creq *ua_creq_new(struct ua *u, const char *method, const char *ruri, const char *to,
			    const char *extra, const char *ctype, const char *body, size_t bodylen,
			    ua_creq_fn *done, void *arg);
/* Build and send the request (resolving its destination); 0 or an errno. */
int ua_creq_send(struct ua_creq *r);
/* Stop: no more callbacks; the transaction runs on.  Drops the caller's reference. */
void ua_creq_drop(struct ua_creq *r);
/*
 * Build request text into out: request line, Max-Forwards, From (AOR;tag),
 * To, Call-ID, CSeq, Route (outbound proxy), credentials for the cached
 * challenges, User-Agent, extra lines, Content-Type, the body.  No Via (the
 * transaction layer adds it).  Returns the length or -1 (too big).
 */
int ua_creq_build(struct ua_creq *r, char *out, size_t cap);
/* Credentials lines (CRLF each) for every cached challenge into out; returns the length. */
size_t ua_credentials(struct ua *u, const char *method, const char *ruri, char *out, size_t cap);
/*
 * A 401/407 to method/ruri: true if the request should be sent again with
 * credentials (the challenge is then cached for ua_credentials): we have a
 * password, the challenge can be answered, and it is stale or *challenges
 * (counted here) stays below UA_MAX_CHALLENGES.
 */
bool ua_auth_retry(struct ua *u, struct msg *resp, const char *method, const char *ruri,
		   unsigned *challenges);
/* Remember resp (401/407) as the latest challenge of its kind; 0 or ENOMEM. */
int ua_chal_keep(struct ua *u, const struct msg *resp);
/* Free the cached challenges. */
void ua_chal_free(struct ua *u);
/* Drop every request still in flight (ua_free). */
void ua_reqs_free(struct ua *u);
/* Incoming MESSAGE (RFC 3428 §7): 200 and UA_EV_MESSAGE. */
void ua_req_message_in(struct ua *u, struct tsx *t, struct tp_rx *rx);
/* Incoming OPTIONS (§11.2): 200 with Allow, Accept, Supported. */
void ua_req_options_in(struct ua *u, struct tsx *t, struct tp_rx *rx);
/* The Allow header line the UA sends (with CRLF). */
extern const char ua_allow_hdr[];

/* ---- ua_reg.c ---- */
void ua_reg_free(struct ua *u);

/* ---- calls: ua_call.c (shared), ua_uac.c (ours), ua_uas.c (the peer's) ---- */

/* A new request outside any transaction the UA knows: INVITE, BYE, CANCEL ... */
void ua_call_request(struct ua *u, struct tsx *t, struct tp_rx *rx);
/* ACK for a 2xx, or an ACK nothing matched. */
void ua_call_stray_request(struct ua *u, struct tp_rx *rx);
/* A response no client transaction matched (2xx retransmissions, forked 2xx). */
void ua_call_stray_response(struct ua *u, struct tp_rx *rx);
/* A server transaction of a call failed (Timer H: no ACK for our non-2xx). */
void ua_call_server_fail(struct ua *u, struct tsx *t, int err);
/* Free every call without events. */
void ua_calls_free(struct ua *u);

/* A new call on u->calls with its media session (NULL: ENOMEM or no RTP port). */
struct ua_call *ua_call_new(struct ua *u, bool uac, const struct ua_media_conf *mc);
/*
 * The call is over: media stopped (UA_EV_MEDIA if it ran), UA_EV_ENDED with
 * code, its reason phrase and text, everything in flight detached; the
 * memory goes on a delay-0 timer, so c stays readable until the caller returns.
 */
void ua_call_end(struct ua_call *c, unsigned code, const char *text);
/* Keep resp's reason phrase for the UA_EV_ENDED that follows. */
void ua_call_reason(struct ua_call *c, struct msg *resp);
/* Free a call at once, without events. */
void ua_call_free(struct ua_call *c);
/* "PCMU/8000" or "PCMA/8000": the first G.711 format of the first audio stream of s. */
void ua_sdp_codec(const struct msg_sdp *s, char *out, size_t cap);
/* A parsed copy of the SDP body of m (malloc'ed, free it), or NULL. */
struct msg_sdp *ua_sdp_of(struct msg *m);
/* Start the media (the SDP exchange is done): play, record, UA_EV_ANSWERED. */
void ua_call_media_up(struct ua_call *c);
/* Our SDP (offer: offer NULL; else the answer to offer) into out; returns the length or -1. */
int ua_call_sdp(struct ua_call *c, const struct msg_sdp *offer, enum msg_sdp_dir dir, char *out,
		size_t cap);
/* UA_EV_HOLD for the media direction now. */
void ua_call_hold_event(struct ua_call *c, enum msg_sdp_dir dir, bool remote);
/* Let go of *t (no more callbacks, no user pointer) and set it to NULL (NULL-safe). */
void ua_tsx_drop(struct tsx **t);

/* ---- ua_send.c: requests in a call's dialogs, to their hop (§12.2.1.1, RFC 3263) ---- */

/*
 * Send request m (built by dlg_request, not an ACK) to m->hop through a new
 * client transaction: into *t with callback fn (arg c; the previous *t is
 * dropped), or with nobody waiting for the response when t is NULL.  A host
 * name is resolved first (RFC 3263; the request waits, and if it cannot go
 * out then and t is &c->bye, the call ends).  Returns 0 (sent or waiting),
 * EHOSTUNREACH (a name and no resolver), EINVAL or an errno from sending.
 */
int ua_call_send(struct ua_call *c, const struct dlg_msg *m, struct tsx **t, tsx_response_fn *fn);
/*
 * ACK a 2xx to INVITE inv[0..invlen) (as sent) in dialog d of call c
 * (§13.2.2.4): built by dlg_ack, with a Via of the hop's transport
 * (§18.1.1), sent without a transaction; a host name is resolved first.
 * Returns 0 (sent or waiting) or an errno.
 */
int ua_call_ack(struct ua_call *c, struct dlg *d, const char *inv, size_t invlen);
/* Cancel every request of c waiting for DNS (ua_call_free). */
void ua_call_pend_free(struct ua_call *c);
/* BYE in the call's dialog (UAC or confirmed UAS). */
int ua_call_bye(struct ua_call *c);
/* The call a fork belongs to, or NULL. */
struct ua_call *ua_call_of_fork(struct ua *u, struct dlg_fork *f);

/* ua_uac.c */
void ua_uac_response(struct ua_call *c, struct msg *resp, bool stray);
int ua_uac_hangup(struct ua_call *c);
int ua_reinvite(struct ua_call *c, bool hold);
void ua_uac_reack(struct ua_call *c, struct dlg *d, struct msg *resp);

/* ua_uas.c */
void ua_uas_invite(struct ua *u, struct tsx *t, struct tp_rx *rx);
void ua_uas_reinvite(struct ua_call *c, struct tsx *t, struct tp_rx *rx);
void ua_uas_cancel(struct ua *u, struct tsx *t);
void ua_uas_ack(struct ua_call *c, struct tp_rx *rx);
int ua_uas_hangup(struct ua_call *c, unsigned code);
/* Stop retransmitting the 2xx (ACK came, or the call ended). */
void ua_uas_ok_stop(struct ua_call *c);

#endif
