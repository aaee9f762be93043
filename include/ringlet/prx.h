/*
 * prx.h - the stateful proxy core (RFC 3261 §16), first piece: one target
 * per request.
 *
 *  - A request for a user of ours (PRX_LOOKUP) goes to the highest-q
 *    binding of its address-of-record (loc.h); none: 480 when the user is
 *    provisioned, else 404.
 *  - A request whose top Route names us (PRX_POP_ROUTE) loses that entry
 *    (loose routing, §16.4) and goes to the next Route or the Request-URI;
 *    a strict router next (no lr) gets the request as §16.6 item 6 says.
 *  - Forwarding (§16.6): Max-Forwards decremented (70 when absent), our
 *    Record-Route on top of initial requests, the binding's Path as Route
 *    (RFC 3327), a Via of ours (tsx_request), numeric next hops only (no
 *    DNS yet: a host name gives 502).  Timer C (§16.8) guards INVITEs.
 *  - Responses (§16.7): 100 is absorbed, the rest is forwarded upstream with
 *    our Via removed; 2xx retransmissions and forked 2xx that no
 *    transaction matches are forwarded statelessly (prx_response).
 *  - CANCEL (§16.10): prx_cancel cancels the branch; its 487 comes back.
 *
 * Every function runs on the loop thread of the layer of its transaction.
 * A struct prx is shared by every worker: a mutex guards its list of calls
 * in flight (taken once when a call starts and once when it ends).
 */
#ifndef RINGLET_PRX_H
#define RINGLET_PRX_H

#include "ringlet/loc.h"
#include "ringlet/tsx.h"

struct prx;

struct prx_conf {
	struct loc_store *store; /* borrowed: must outlive the proxy */
	unsigned timer_c_ms;	 /* Timer C, > 3 min per §16.6 item 11; 0: 180000 */
};

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

/*
 * Forward request rx of server transaction t (borrowed; the proxy keeps its
 * own reference) statefully, as the flags say.  The request has passed
 * msg_validate(MSG_V_PROXY).  Every outcome ends in a response on t.
 */
void prx_request(struct prx *p, struct tsx *t, struct tp_rx *rx, unsigned flags);

/*
 * CANCEL for server INVITE transaction inv (tsx_cancel_target): when the
 * proxy forwards inv, cancel its branch (§16.10) and return 0: the caller
 * answers the CANCEL 200, and the branch's 487 is forwarded.  ENOENT when
 * inv is not the proxy's.
 */
int prx_cancel(struct tsx *inv);

/*
 * Forward a request that starts no transaction (an ACK for a 2xx) on layer
 * l statelessly (§16.11): with PRX_POP_ROUTE our Route entry is removed,
 * Max-Forwards decremented, a Via of ours added, sent to the next Route or
 * the Request-URI.  Dropped when that is not possible.
 */
void prx_ack(struct tsx_layer *l, struct tp_rx *rx, unsigned flags);

/*
 * A response no client transaction matched (2xx retransmissions, other
 * forks' 2xx, §16.7 step 5): when its top Via is ours, remove it and send
 * the response to the next Via (received/rport honoured).  Else dropped.
 */
void prx_response(struct tsx_layer *l, struct tp_rx *rx);

#endif
