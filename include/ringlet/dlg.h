/*
 * dlg.h - SIP dialogs (RFC 3261 §12, §13.2.2.4, §14, §15): dialog state and
 * the messages a dialog builds.  No I/O: the caller sends what is built here
 * (tsx_request for requests, tp_send for the ACK of a 2xx) and feeds what it
 * receives back in.  Used by the user agent and the B2BUA.
 *
 * A dialog (struct dlg) keeps its own copy of everything it needs: Call-ID,
 * local and remote tag and URI, local and remote CSeq, remote target, route
 * set, secure flag, our Contact, and its state early / confirmed /
 * terminated.  It is a mem object (mem.h): the creator gets one reference.
 *
 * UAC, typical use (one dialog-creating INVITE or SUBSCRIBE):
 *  1. build the request with a Call-ID from dlg_callid_new and a From tag
 *     from dlg_tag_new, send it with tsx_request(..., TSX_ADD_VIA, ...);
 *  2. dlg_fork_alloc(&f, table, tsx_request_buf(t)) - the request as sent;
 *  3. every response to it (from the transaction and, for later 2xx, from
 *     the stray-response callback: dlg_table_fork finds f) goes to
 *     dlg_fork_response, which says what happened (enum dlg_event): a new
 *     early dialog per To tag (forking), confirmed by its 2xx, a 2xx to ACK
 *     again, a second 2xx from another fork (ACK it, then keep it or end it
 *     with dlg_ack_bye), or a failure that ends every early dialog;
 *  4. ACK each 2xx: dlg_via + dlg_ack, sent with tp_send to the hop.
 * UAS: for a dialog-creating request without a To tag, dlg_uas_create with
 * our tag (also given to tsx_set_tag) and Contact, dlg_table_add; answer with
 * the headers of dlg_response_hdrs; dlg_uas_answered with each final status.
 * Both: dlg_table_request for every request with a To tag (481, 500, 400 are
 * answered by the caller), dlg_request to build BYE, re-INVITE, UPDATE, INFO,
 * MESSAGE, NOTIFY, PRACK, REFER; dlg_response with each response to those;
 * dlg_table_remove (or dlg_table_purge) once a dialog is terminated.
 *
 * Bounds: every string a dialog keeps comes from a message that msg_parse
 * accepted and is bounded again here (DLG_*_MAX); route sets have at most
 * DLG_MAX_ROUTES entries.  Folded values are kept unfolded (CR and LF
 * dropped); a value with any other control character but HTAB (even inside
 * a quoted display name) is refused with EBADMSG.  Hostile responses and requests (no To tag on a
 * 2xx, no or several or a bad Contact, a bad Record-Route) give EBADMSG or a
 * status for the caller to answer, never a crash.  Everything built here
 * parses back with msg_parse and passes msg_validate.
 *
 * Threads: a dialog, a fork and a table belong to one thread (one worker's
 * loop); nothing here locks.
 *
 * Errors: 0 or a positive errno, out-params written only on success.
 * EINVAL: a caller mistake (a message that is not for this dialog, a bad
 * argument); EBADMSG: the peer's message cannot be used; EMSGSIZE: a bound
 * was hit (or the caller's buffer is too small); ENOMEM; EIO (no randomness).
 */
#ifndef RINGLET_DLG_H
#define RINGLET_DLG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringlet/msg.h"
#include "ringlet/tp.h"
#include "ringlet/tsx.h"

/* Bounds. */
#define DLG_MAX_ROUTES 16  /* route set entries (Record-Route elements) */
#define DLG_CALLID_MAX 256 /* Call-ID bytes */
#define DLG_TAG_MAX 128	   /* tag bytes (tsx_set_tag takes 64 at most) */
#define DLG_STATE_MAX 8192 /* all text one dialog keeps: URIs, routes, target, Contact */
#define DLG_FORK_MAX 16	   /* dialogs one dialog-creating request may create */

/* Length of what dlg_tag_new (64 random bits) and dlg_callid_new (128) write. */
#define DLG_TAG_LEN 16
#define DLG_CALLID_LEN 32

struct dlg;
struct dlg_fork;
struct dlg_table;

enum dlg_state {
	DLG_EARLY = 1,	/* created by a 1xx with a To tag (UAC) or by dlg_uas_create */
	DLG_CONFIRMED,	/* a 2xx was received (UAC) or sent (UAS) */
	DLG_TERMINATED, /* BYE, a non-2xx final for an early dialog, 481/408, dlg_terminate */
};

/*
 * Write DLG_TAG_LEN lower-case hex digits (64 bits from getrandom, RFC 3261
 * §19.3 asks for at least 32) and a NUL into out.  Returns 0, EMSGSIZE
 * (cap <= DLG_TAG_LEN) or EIO (no randomness).
 */
int dlg_tag_new(char *out, size_t cap);

/*
 * Write a Call-ID of DLG_CALLID_LEN hex digits (128 random bits, §8.1.1.4)
 * and a NUL into out.  Returns 0, EMSGSIZE or EIO.
 */
int dlg_callid_new(char *out, size_t cap);

/*
 * UAC (§12.1.2): a dialog from the dialog-creating request we sent
 * (req[0..reqlen), e.g. tsx_request_buf; INVITE, SUBSCRIBE, REFER) and a
 * response to it with a To tag: 101-199 makes an early dialog, 2xx a
 * confirmed one.  Local URI and tag: the request's From; remote URI: its To;
 * local CSeq: its CSeq; our Contact: its Contact (required); remote tag: the
 * response's To tag; remote target: the response's Contact URI (exactly one,
 * sip or sips); route set: the response's Record-Route, reversed; secure: the
 * Request-URI is sips.  Returns 0 and a new reference in *out; EINVAL (req
 * is not a parsable request with Call-ID, From tag, To, CSeq and one
 * Contact, or resp is not a 101-299 response to it: Call-ID, From tag, CSeq
 * number and method), EBADMSG (no To tag, no / several / a bad Contact, a
 * bad Record-Route), EMSGSIZE or ENOMEM.
 */
int dlg_uac_create(struct dlg **out, const char *req, size_t reqlen, struct msg *resp);

/*
 * UAC: a later response to the dialog-creating request carrying d's remote
 * tag.  1xx: a Contact present replaces the remote target (only while
 * early).  2xx on an early dialog: confirmed, and the route set and remote
 * target are recomputed from it (§12.1.2, §13.2.2.4); on a confirmed one
 * nothing changes (a retransmission).  300-699: an early dialog terminates
 * (§12.3).  Returns 0; EINVAL (not a response of d: Call-ID, tags, or d is
 * not a UAC dialog); EBADMSG (a 2xx that cannot confirm it: bad Contact or
 * Record-Route; d is left as it was), EMSGSIZE or ENOMEM.
 */
int dlg_uac_update(struct dlg *d, struct msg *resp);

/* What dlg_uas_create needs beside the request. */
struct dlg_uas_opts {
	const char *local_tag; /* our To tag (1..DLG_TAG_MAX token chars); NULL: dlg_tag_new */
	const char *contact;   /* our Contact header value, e.g. "<sip:bob@192.0.2.4>" */
	bool tls;	       /* the request came over TLS (with a sips R-URI: secure) */
};

/*
 * UAS (§12.1.1): an early dialog for dialog-creating request req (no To tag
 * yet): remote URI and tag from its From (an absent tag is kept empty,
 * RFC 2543), local URI from its To, remote CSeq from its CSeq, remote target
 * from its Contact (exactly one, sip or sips), route set its Record-Route
 * in order.  Give the same tag to tsx_set_tag, answer with the headers of
 * dlg_response_hdrs, then report the final status with dlg_uas_answered.
 * Returns 0 and a new reference in *out; EINVAL (bad opts, or req already
 * has a To tag); EBADMSG (missing or malformed Call-ID, From, To, CSeq,
 * Contact, Record-Route); EMSGSIZE; ENOMEM; EIO.
 */
int dlg_uas_create(struct dlg **out, struct msg *req, const struct dlg_uas_opts *o);

/*
 * UAS: the final status we sent to the dialog-creating request: 2xx
 * confirms the dialog, 300-699 terminates it (§12.1.1), 1xx changes
 * nothing.  Only an early UAS dialog changes.
 */
void dlg_uas_answered(struct dlg *d, unsigned status);

/* End the dialog now (e.g. a session timer expired, the UA gave up). */
void dlg_terminate(struct dlg *d);

/*
 * The header lines to add to a response we send in dialog d (for
 * tsx_respond's hdrs): with record_route, every Record-Route value in
 * order as the dialog-creating request had them (a UAS dialog only,
 * §12.1.1), then "Contact: <our Contact>" (dialog-creating and
 * target-refresh responses, §12.1.1, §12.2.2).  NUL-terminated.  Returns
 * 0 and *len; EINVAL (record_route on a UAC dialog) or EMSGSIZE.
 */
int dlg_response_hdrs(const struct dlg *d, bool record_route, char *out, size_t cap, size_t *len);

/* Replace our Contact (a Contact header value) for later target refreshes.  0, EINVAL, ENOMEM. */
int dlg_set_contact(struct dlg *d, const char *contact);

/* What a built request carries beyond the dialog's own headers; all optional. */
struct dlg_extra {
	const char *via;  /* top Via value, e.g. from dlg_via; NULL: no Via (tsx_request
			     with TSX_ADD_VIA adds it).  Required by dlg_ack. */
	const char *hdrs; /* extra header lines, each ending in CRLF (Content-Type,
			     RAck, Event, Authorization ...); never a Contact */
	const char *body;
	size_t bodylen;
};

/* A message built into caller memory. */
struct dlg_msg {
	char *buf;	 /* in: where to write */
	size_t cap;	 /* in: its size (dlg_msg_size gives enough) */
	uint32_t len;	 /* out: bytes written (no NUL) */
	uint32_t cseq;	 /* out: its CSeq number */
	struct span hop; /* out: in buf, the URI to resolve and send to (§8.1.2): the
			    first Route's URI, else the Request-URI (= the first route
			    entry for a strict route set) */
};

/* Enough bytes for any request d builds with extra x (NULL: none); dlg_ack: add invlen. */
size_t dlg_msg_size(const struct dlg *d, const struct dlg_extra *x);

/*
 * Build request `method` in dialog d (§12.2.1.1) into m: Request-URI and
 * Route from the route set and remote target (loose routing: R-URI = remote
 * target, Route = route set; strict routing, the first entry without lr:
 * R-URI = that entry's URI without method param and headers, Route = the
 * rest and then the remote target), optional Via, Max-Forwards 70, From
 * (local URI + tag), To (remote URI + tag), Call-ID, CSeq (local CSeq + 1;
 * a UAS dialog's first request starts at a random number below 2^16),
 * our Contact for target-refresh methods (INVITE, UPDATE, SUBSCRIBE,
 * NOTIFY, REFER), x->hdrs, Content-Length and body.  The local CSeq is
 * advanced only on success.  Not for ACK (dlg_ack) or CANCEL (tsx_cancel);
 * a UAS may not send BYE in an early dialog (§15).  Returns 0; EINVAL (bad
 * method, hdrs not ending in CRLF, ACK/CANCEL, BYE forbidden); ESRCH
 * (terminated); EOVERFLOW (CSeq would reach 2^31); EMSGSIZE (m->cap).
 */
int dlg_request(struct dlg *d, const char *method, const struct dlg_extra *x, struct dlg_msg *m);

/*
 * Build the ACK for a 2xx to INVITE inv[0..invlen) (the request as sent,
 * initial or re-INVITE) in dialog d (§13.2.2.4): like dlg_request, but CSeq
 * is the INVITE's number with method ACK, the INVITE's Authorization and
 * Proxy-Authorization are copied, no Contact, and the local CSeq does not
 * move.  x->via is required: an ACK is no transaction, it goes out with
 * tp_send to m->hop (a new branch each time; dlg_via).  Works on a
 * terminated dialog too (a 2xx retransmission must still be ACKed).
 * Returns 0; EINVAL (no via, inv is not an INVITE of d's Call-ID and From
 * tag); EMSGSIZE.
 */
int dlg_ack(struct dlg *d, const char *inv, size_t invlen, const struct dlg_extra *x,
	    struct dlg_msg *m);

/*
 * A 2xx created dialog d that we do not want (a second fork, §13.2.2.4): build
 * its ACK (via ack_via) into ack and then a BYE (no Via, for tsx_request with
 * TSX_ADD_VIA) into bye.  Send both; dlg_response with the BYE's final
 * response terminates d.  Returns as dlg_ack and dlg_request; nothing changes
 * unless both are built.
 */
int dlg_ack_bye(struct dlg *d, const char *inv, size_t invlen, const char *ack_via,
		struct dlg_msg *ack, struct dlg_msg *bye);

/*
 * A top Via value for a request sent without a transaction (the ACK of a
 * 2xx): "SIP/2.0/<proto> <local address>;branch=<tsx_branch>;rport", the
 * local address being layer l's transport's for proto.  NUL-terminated.
 * Returns 0, EINVAL (no local address for proto) or EMSGSIZE.
 */
int dlg_via(struct tsx_layer *l, enum tp_proto proto, char *out, size_t cap);

/*
 * A request received in dialog d (§12.2.2), usually found by
 * dlg_table_request.  Returns the status the caller must answer with, or 0
 * to go on: 481 when d is terminated or the request's Call-ID/tags are not
 * d's; 400 for a missing CSeq or a bad Contact in a target refresh; 500
 * when the CSeq number is lower than the remote CSeq (out of order).  On 0:
 * the remote CSeq is now the request's; a target refresh (INVITE, UPDATE,
 * SUBSCRIBE, NOTIFY, REFER) with a Contact replaced the remote target; a
 * BYE terminated d (answer it 200).  An ACK always gives 0 and changes
 * nothing (an ACK is never answered; its CSeq is the INVITE's).
 */
unsigned dlg_receive(struct dlg *d, struct msg *req);

/*
 * A response to a request we sent in dialog d (§12.2.1.2, §15.1.1): 481 or
 * 408 (also the 408 the transaction layer makes up) terminates d; a final
 * response to a BYE other than 401/407 terminates it; a 2xx to a target
 * refresh with a Contact replaces the remote target.  Not for responses to
 * the dialog-creating request (dlg_uac_update, dlg_fork_response).
 * Returns 0; EINVAL (Call-ID or tags are not d's); EBADMSG (a 2xx to a
 * target refresh with a bad or several Contacts: target kept); ENOMEM.
 */
int dlg_response(struct dlg *d, struct msg *resp);

/*
 * Accessors.  Strings are NUL-terminated and stay valid until d changes
 * them (a target refresh, dlg_set_contact, the 2xx that confirms it) or is
 * freed.
 */
enum dlg_state dlg_state(const struct dlg *d);
/* True for a dialog we created as UAC (dlg_uac_create, forks). */
bool dlg_is_uac(const struct dlg *d);
/* The secure flag of §12.1.1 / §12.1.2 (sips Request-URI; UAS: over TLS too). */
bool dlg_secure(const struct dlg *d);
/* True once the dialog was confirmed, even if it has terminated since. */
bool dlg_was_confirmed(const struct dlg *d);
/* The dialog id (§12): Call-ID, local tag, remote tag. */
const char *dlg_call_id(const struct dlg *d);
const char *dlg_local_tag(const struct dlg *d);
const char *dlg_remote_tag(const struct dlg *d); /* "" when the peer sent none */
/* Local and remote URI as name-addr: [display] "<" URI ">" [;params], no tag. */
const char *dlg_local_uri(const struct dlg *d);
const char *dlg_remote_uri(const struct dlg *d);
const char *dlg_remote_target(const struct dlg *d); /* the URI, no brackets */
const char *dlg_contact(const struct dlg *d);	    /* our Contact header value */
/* Local CSeq: the last number we used; false when none yet. */
bool dlg_local_cseq(const struct dlg *d, uint32_t *num);
/* Remote CSeq: the last number received; false while "empty". */
bool dlg_remote_cseq(const struct dlg *d, uint32_t *num);
/* Number of route set entries. */
unsigned dlg_route_count(const struct dlg *d);
/* Route set entry i (0 = first hop), as a Route value, or NULL. */
const char *dlg_route(const struct dlg *d, unsigned i);
/* A pointer the caller keeps with the dialog. */
void dlg_set_user(struct dlg *d, void *user);
void *dlg_user(const struct dlg *d);

/*
 * A dialog table: dialogs by dialog id (Call-ID, local tag, remote tag,
 * §12), forks by Call-ID + local tag + CSeq.  Keys are hashed with a
 * per-table random seed.  The table holds a reference on every dialog in it
 * (not on forks: a fork unlinks itself when freed).  A mem object: when the
 * last reference goes (each fork holds one), it drops its dialogs.
 * Returns 0, ENOMEM or EIO.
 */
int dlg_table_alloc(struct dlg_table **out, size_t expected);

/* Add d (takes a reference).  Returns 0, EALREADY (d is in a table) or EEXIST (same id). */
int dlg_table_add(struct dlg_table *t, struct dlg *d);

/* Remove d from t and drop the table's reference (d may be freed).  No-op if absent. */
void dlg_table_remove(struct dlg_table *t, struct dlg *d);

/* Remove every terminated dialog; returns how many. */
size_t dlg_table_purge(struct dlg_table *t);

/* Number of dialogs in t. */
size_t dlg_table_count(const struct dlg_table *t);

/*
 * The dialog of message m (borrowed), or NULL: for a request the To tag is
 * the local tag and the From tag the remote one; for a response the other
 * way round.
 */
struct dlg *dlg_table_match(struct dlg_table *t, struct msg *m);

/*
 * Route received request req (§12.2.2): without a To tag it is outside any
 * dialog (0, *out NULL: a new request, possibly dialog-creating).  With one,
 * the dialog it names gets it (dlg_receive: 0 with *out set, or its
 * status); no such dialog: 481 (§12.2.2).  400 when Call-ID, From or To
 * cannot be read.  An ACK is never answered: it gives 0, with *out NULL
 * when it matches nothing (drop it).  *out is borrowed and written always.
 */
unsigned dlg_table_request(struct dlg_table *t, struct msg *req, struct dlg **out);

/* What a response to the dialog-creating request did (dlg_fork_response). */
enum dlg_event {
	DLG_EV_NONE = 0,   /* nothing new: 100, a 1xx without tag or of a known dialog */
	DLG_EV_EARLY,	   /* a new early dialog */
	DLG_EV_CONFIRMED,  /* the first 2xx of the fork confirmed this dialog: ACK it */
	DLG_EV_FORKED,	   /* a 2xx confirmed this dialog while another dialog of the
			      fork was already confirmed (or after it failed or ended):
			      ACK it, then keep it or end it with dlg_ack_bye */
	DLG_EV_RETRANSMIT, /* a 2xx again for a dialog confirmed before: ACK it again */
	DLG_EV_FAILED,	   /* a 300-699 final: every early dialog of the fork terminated */
};

/*
 * Start tracking the dialogs of dialog-creating request req[0..reqlen) (as
 * sent, with its Via).  t (may be NULL) gets every dialog created, and finds
 * the fork for stray responses (dlg_table_fork).  The fork keeps a copy of
 * the request and a reference on t and on each of its dialogs.  Free it with
 * mem_deref when the request is over (64*T1 after the first 2xx, §13.2.2.4,
 * or after a failure), after dlg_fork_end.  Returns 0, EINVAL (as
 * dlg_uac_create's request checks), ENOMEM.
 */
int dlg_fork_alloc(struct dlg_fork **out, struct dlg_table *t, const char *req, size_t reqlen);

/*
 * A response to the fork's request: creates, updates, confirms or ends its
 * dialogs by To tag (§12.1.2, §12.3, §13.2.2.4) and says what happened.
 * *out (borrowed) is the dialog concerned, NULL for DLG_EV_FAILED and for
 * responses without a To tag.  Returns 0; EINVAL (not a response to this
 * request); EBADMSG (a dialog-creating response with a bad Contact or
 * Record-Route, or a 2xx without a To tag: no dialog, ignore it); EMSGSIZE
 * (DLG_FORK_MAX dialogs already); ENOMEM.  *ev and *out are written on 0.
 */
int dlg_fork_response(struct dlg_fork *f, struct msg *resp, struct dlg **out, enum dlg_event *ev);

/* The request is over: every dialog of the fork still early terminates. */
void dlg_fork_end(struct dlg_fork *f);

/* The request as given to dlg_fork_alloc (for dlg_ack). */
const char *dlg_fork_request(const struct dlg_fork *f, size_t *len);
/* Number of dialogs of the fork, and dialog i (borrowed) or NULL. */
unsigned dlg_fork_count(const struct dlg_fork *f);
struct dlg *dlg_fork_dialog(const struct dlg_fork *f, unsigned i);

/* The fork whose request response resp answers (Call-ID, From tag, CSeq), or NULL. */
struct dlg_fork *dlg_table_fork(struct dlg_table *t, struct msg *resp);

#endif
