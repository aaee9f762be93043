/*
 * prx.h - the stateful proxy core (RFC 3261 §16) with forking.
 *
 *  - A request for a user of ours (PRX_LOOKUP) forks to the bindings of its
 *    address-of-record (loc.h) by q-value (§16.6; no q counts as 1.0):
 *    every binding of the highest q at once (parallel), the next lower q
 *    once every branch of a group ended without a 2xx (sequential).  No
 *    binding: 480 when the user is provisioned, else 404.  Every method
 *    forks alike (INVITE, MESSAGE, OPTIONS, ...).
 *  - A request whose top Route names us (PRX_POP_ROUTE) loses that entry
 *    (loose routing, §16.4) and goes to the next Route or the Request-URI;
 *    a strict router next (no lr) gets the request as §16.6 item 6 says.
 *  - Forwarding (§16.6): Max-Forwards decremented (70 when absent), our
 *    Record-Route on top of initial requests, the binding's Path as Route
 *    (RFC 3327), a Via of ours whose branch ends in a hash of the request
 *    (item 8, see prx_looped), numeric next hops only (no DNS yet: a host
 *    name gives 502).  Timer C (§16.8) guards each INVITE branch: when it
 *    fires the branch is CANCELled and counts as a 408.
 *  - Responses (§16.7), our Via removed: 100 is absorbed; other 1xx are
 *    forwarded at once from any branch; every 2xx is forwarded at once, and
 *    the first one CANCELs the other pending branches (item 10); a 6xx
 *    CANCELs them too and starts no new q-group.  When no branch is pending
 *    and nothing was answered, the best final response goes upstream (item
 *    6): a 6xx if any, else the lowest class (3xx, 4xx, 5xx; the first
 *    received in a class, a received one before a timeout), 503 sent as
 *    500, 408 when no branch answered.  A 401 or 407 going upstream gets
 *    the WWW-Authenticate and Proxy-Authenticate values of every other
 *    branch's 401 and 407 added (item 7).  2xx retransmissions and
 *    2xx that no transaction matches are forwarded statelessly
 *    (prx_response).
 *  - CANCEL (§16.10): prx_cancel cancels every pending branch and no new
 *    q-group starts; the branches' 487 comes back as the best response.
 *
 * Every function runs on the loop thread of the layer of its transaction.
 * A struct prx is shared by every worker: a mutex guards its list of calls
 * in flight (taken once when a call starts and once when it ends).
 */
#ifndef RINGLET_PRX_H
#define RINGLET_PRX_H

#include "ringlet/auth.h"
#include "ringlet/dns.h"
#include "ringlet/loc.h"
#include "ringlet/tsx.h"

struct prx;

struct prx_conf {
	struct loc_store *store; /* borrowed: must outlive the proxy */
	unsigned timer_c_ms;	 /* Timer C, > 3 min per §16.6 item 11; 0: 180000 */
	struct auth *auth;	 /* borrowed; NULL: PRX_AUTH lets every request pass */
	const char *realm;	 /* borrowed; the 407 realm, NULL: the From URI's host */
	/* digest algorithms offered in a 407 and accepted (PRX_ALG bits); 0: all of auth.h's */
	unsigned algs;
	/*
	 * RFC 3263 for a next hop named by a host name: the resolver of the loop
	 * that layer l runs on (called on that loop).  NULL, or NULL returned:
	 * no DNS, a host name gives 502.
	 */
	struct dns *(*dns)(struct tsx_layer *l, void *arg);
	void *dns_arg;
};

/* The prx_conf.algs bit of an enum auth_alg. */
#define PRX_ALG(alg) AUTH_ALG(alg)

/* Create a proxy.  Returns 0, EINVAL (no store) or ENOMEM. */
int prx_alloc(struct prx **out, const struct prx_conf *conf);

/*
 * Free a proxy (NULL-safe) once the workers are stopped and their layers
 * and loops freed: what calls still in flight hold is released.
 */
void prx_free(struct prx *p);

/* prx_request flags */
#define PRX_LOOKUP 0x1u	   /* the Request-URI is a user of ours: target its binding */
#define PRX_POP_ROUTE 0x2u /* the top Route entry names us: remove it (§16.4) */
/* The Request-URI is ours (our Record-Route, a strict router upstream): the
 * last Route entry becomes the Request-URI (§16.4). */
#define PRX_FROM_STRICT 0x4u
/* Proxy authentication first (§22.3): the request must carry valid
 * Proxy-Authorization of its From user (USER@HOST of the From URI, a user of
 * the store), else 407 with a challenge (stale=true for an expired nonce; the
 * algorithms of prx_conf.algs, and credentials by another one are challenged
 * again); credentials of another user: 403. */
#define PRX_AUTH 0x8u

/*
 * Forward request rx of server transaction t (borrowed; the proxy keeps its
 * own reference) statefully, as the flags say.  The request has passed
 * msg_validate(MSG_V_PROXY).  Every outcome ends in a response on t.
 */
void prx_request(struct prx *p, struct tsx *t, struct tp_rx *rx, unsigned flags);

/*
 * As prx_request without PRX_LOOKUP, the next hop being the numeric
 * host:port;transport of SIP URI hop (a static route, as an outbound proxy
 * is used, §16.6 item 7) when no further Route entry names one; the
 * Request-URI is kept.  hop is copied (at most 255 bytes); a host name gives
 * 502 (no DNS yet).
 */
void prx_request_hop(struct prx *p, struct tsx *t, struct tp_rx *rx, unsigned flags,
		     const char *hop);

/*
 * Loop detection (§16.3 item 4): true when request m, received on server
 * transaction t, carries a Via with our sent-by (the address the layer's
 * transport puts in a Via) and a branch of ours whose hash equals the one
 * this request would get now (§16.6 item 8: Request-URI, To and From tags,
 * Call-ID, CSeq number, the Via below ours, Proxy-Require,
 * Proxy-Authorization and Route): it came back unchanged, answer 482.  A
 * spiral (the request came back changed, e.g. with another Request-URI) is
 * false.  The caller decides which requests it forwards (not CANCEL or ACK).
 */
bool prx_looped(const struct tsx *t, struct msg *m);

/*
 * CANCEL for server INVITE transaction inv (tsx_cancel_target): when the
 * proxy forwards inv, cancel its pending branches (§16.10) and return 0: the
 * caller answers the CANCEL 200, and the best response (the 487) is
 * forwarded.  ENOENT when inv is not the proxy's.
 */
int prx_cancel(struct tsx *inv);

/*
 * Forward a request that starts no transaction (an ACK for a 2xx) on layer
 * l statelessly (§16.11): with PRX_POP_ROUTE our Route entry is removed,
 * Max-Forwards decremented, the upstream Via given received/rport (§18.2.1,
 * RFC 3581), a Via of ours added, sent to the next Route or the
 * Request-URI (a host name: to the first destination RFC 3263 gives, with
 * p's resolver).  Dropped when that is not possible.
 */
void prx_ack(struct prx *p, struct tsx_layer *l, struct tp_rx *rx, unsigned flags);

/*
 * A response no client transaction matched (2xx retransmissions, other
 * forks' 2xx, §16.7 step 5): when its top Via is ours, remove it and send
 * the response to the next Via (received/rport honoured).  Else dropped.
 */
void prx_response(struct tsx_layer *l, struct tp_rx *rx);

#endif
