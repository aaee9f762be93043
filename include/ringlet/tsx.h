/*
 * tsx.h - the SIP transaction layer (RFC 3261 §17, with the RFC 6026
 * "Accepted" state of the server INVITE transaction).
 *
 * Four explicit state machines, one per file in src/tsx/: client INVITE
 * (§17.1.1), client non-INVITE (§17.1.2), server INVITE (§17.2.1), server
 * non-INVITE (§17.2.2).  Timers A-L run on the owning worker's loop; T1, T2
 * and T4 are set per layer.  Over a reliable transport (TCP, TLS, WS) nothing
 * is retransmitted and the wait timers D, I, J, K are zero.
 *
 * Workers.  Every worker has its own loop, its own struct tp and its own
 * struct tsx_layer; the layers of one process form a struct tsx_group.  A
 * transaction is owned by the layer that created it: its timers and its
 * callbacks run on that layer's loop and thread only.
 *  - Client transactions carry their owner in the branch they send,
 *    "z9hG4bK" "R" <2 hex digits: worker> <16 hex digits: random>.  A
 *    response that lands on another worker is handed to the owner with
 *    loop_post; there is no shared lookup.  Client transactions live in a
 *    per-layer hash table without locks.
 *  - Server transactions live in one hash table shared by the group, with
 *    striped mutexes (bucket -> stripe).  A retransmission, ACK or CANCEL
 *    that lands on a non-owner is copied once and posted to the owner.  A
 *    new CANCEL is created on the worker that owns the INVITE it cancels, so
 *    tsx_cancel_target() is always a same-thread lookup.  The table entries
 *    are only read under their stripe lock and only freed by their owner
 *    after it unlinked them, so no reference crosses threads.
 * A lookup never allocates; only a new transaction or a hand-off to another
 * worker does.
 *
 * Matching (tsx_match.c): requests whose top Via branch starts with the
 * magic cookie z9hG4bK match on branch + sent-by + method (ACK matches its
 * INVITE, CANCEL is a transaction of its own), §17.2.3; other requests use
 * the RFC 2543 rules of tsx_2543.c.  Responses match client transactions on
 * branch + CSeq method, §17.1.3.
 *
 * 2xx handling.  A client INVITE transaction ends on the first 2xx (§17.1.1.2);
 * later 2xx (retransmissions, other forks) reach the stray-response
 * callback, and the TU (dialog layer) acknowledges them end to end.  A server
 * INVITE transaction that sent a 2xx stays "Accepted" for Timer L = 64*T1
 * (RFC 6026 §7.1): it absorbs INVITE retransmissions, passes every ACK up to
 * the stray-request callback, and sends the 2xx retransmissions the TU
 * passes down with tsx_respond/tsx_send_response (§13.3.1.4 is the TU's
 * job).
 *
 * Ownership (mem.h): the layer holds one reference on each live
 * transaction and drops it when the transaction terminates.  Callback
 * arguments are borrowed for the call; keep mem_ref(t) to use a transaction
 * later.  Functions on a terminated transaction return ESRCH.
 *
 * Memory.  Over UDP a transaction outlives its final response by 64*T1
 * (Timers J, L) or T4 (K), so what it keeps then decides the server's
 * memory under load.  Once the final response is sent (server) or passed
 * to the response callback (client) the request copy goes (see
 * tsx_request_buf); a server non-INVITE keeps its final response only (a
 * response it built with tsx_respond as the TU's header lines and body,
 * built again from the retransmitted request), an Accepted INVITE nothing.
 * A Completed server non-INVITE (UDP) or Accepted INVITE that the TU no
 * longer references is then replaced by a smaller record for the rest of
 * its timer: it answers retransmissions the same way, passes ACKs up, and
 * counts in tsx_layer_count, but is no struct tsx any more.  A CANCEL for
 * such an INVITE is answered 200 by the layer itself (§9.2, §16.10: the
 * INVITE has its final response, the CANCEL has no effect): the TU does
 * not see it.
 *
 * Threads: every function must be called on the owning layer's loop thread,
 * except tsx_group_alloc/free (before the workers start / after they stop).
 */
#ifndef RINGLET_TSX_H
#define RINGLET_TSX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringlet/loop.h"
#include "ringlet/msg.h"
#include "ringlet/tp.h"

struct tsx;
struct tsx_layer;
struct tsx_group;

enum tsx_kind {
	TSX_CLIENT_INVITE = 1,
	TSX_CLIENT_NON_INVITE,
	TSX_SERVER_INVITE,
	TSX_SERVER_NON_INVITE,
};

enum tsx_state {
	TSX_STATE_CALLING = 1, /* client INVITE, request sent */
	TSX_STATE_TRYING,      /* non-INVITE, no provisional response yet */
	TSX_STATE_PROCEEDING,
	TSX_STATE_COMPLETED,
	TSX_STATE_CONFIRMED, /* server INVITE: ACK for the non-2xx final received */
	TSX_STATE_ACCEPTED,  /* server INVITE: 2xx sent (RFC 6026) */
	TSX_STATE_TERMINATED,
};

/* Layer settings; a zero field takes the default. */
struct tsx_conf {
	unsigned t1;        /* ms, RTT estimate; default 500 (§17.1.1.1) */
	unsigned t2;        /* ms, maximum retransmit interval; default 4000 */
	unsigned t4;        /* ms, maximum message lifetime; default 5000 */
	unsigned trying_ms; /* ms before a server INVITE sends 100 itself; default 200 */
	uint64_t seed;      /* branch and tag generator seed; 0: from getrandom() */
};

/* Timer letters (RFC 3261 Table 4; L from RFC 6026), for tracing and tests. */
enum tsx_timer {
	TSX_TIMER_NONE = 0,
	TSX_TIMER_A,
	TSX_TIMER_B,
	TSX_TIMER_D,
	TSX_TIMER_E,
	TSX_TIMER_F,
	TSX_TIMER_G,
	TSX_TIMER_H,
	TSX_TIMER_I,
	TSX_TIMER_J,
	TSX_TIMER_K,
	TSX_TIMER_L,
	TSX_TIMER_TRYING, /* the 200 ms 100-Trying timer of §17.2.1 */
};

/*
 * A new server transaction: rx is the request (borrowed), t the
 * transaction to answer on (borrowed; mem_ref it to answer after returning).
 * ACK and retransmissions never come here.
 */
typedef void tsx_request_fn(struct tsx *t, struct tp_rx *rx, void *arg);

/*
 * A response for a client transaction: every provisional and the final one,
 * each once.  rx is NULL for a response synthesised by the layer (§8.1.3):
 * 408 on Timer B/F, 503 on a transport error.  After a final response there
 * are no more calls for t.
 */
typedef void tsx_response_fn(struct tsx *t, struct msg *resp, const struct tp_rx *rx, void *arg);

/*
 * A message that belongs to no transaction: a request that cannot start one
 * (an ACK for a 2xx, or an ACK nothing matched), or a response no client
 * transaction matched (2xx retransmissions, forked 2xx).
 */
typedef void tsx_stray_fn(struct tsx_layer *l, struct tp_rx *rx, void *arg);

/*
 * A server transaction failed after it was handed up (§17.2.1, §17.2.4):
 * err is ETIMEDOUT when Timer H fired without an ACK, otherwise the
 * transport's errno for a response that could not be sent (not for a
 * record, see "Memory": no TU holds it).  t is Terminated.
 */
typedef void tsx_fail_fn(struct tsx *t, int err, void *arg);

/* The transaction user: every callback may be NULL; arg goes to each. */
struct tsx_tu {
	tsx_request_fn *request;
	tsx_stray_fn *stray_request;
	tsx_stray_fn *stray_response;
	tsx_fail_fn *server_fail;
	void *arg;
};

/*
 * Create the group shared by nworkers layers (1..256): the server
 * transaction table with its striped locks (256 stripes at most).  buckets
 * is rounded up to a power of two (0: 16384); the table does not grow, so
 * size it for the transactions expected at once.  Returns 0, EINVAL or
 * ENOMEM.
 */
int tsx_group_alloc(struct tsx_group **out, unsigned nworkers, unsigned buckets);
/* Free a group; every layer of it must have been freed. */
void tsx_group_free(struct tsx_group *g);

/*
 * Create the layer of worker `worker` of group g (NULL: a private group of
 * one worker) on loop l, sending through tp.  The layer installs itself as
 * tp->recv (see tsx_layer_input to interpose).  conf may be NULL.
 * Returns 0, EINVAL (bad worker id, or the slot is taken) or ENOMEM.
 */
int tsx_layer_alloc(struct tsx_layer **out, struct tsx_group *g, unsigned worker,
		    struct loop *l, struct tp *tp, const struct tsx_conf *conf,
		    const struct tsx_tu *tu);
/*
 * Free a layer: every transaction it owns ends at once without callbacks.
 * The loops of the group must be stopped (no hand-off may be in flight).
 */
void tsx_layer_free(struct tsx_layer *l);

/*
 * Feed one received message (what tp->recv gets) to the layer: to its
 * transaction, wherever it lives, to a new server transaction, or to a
 * stray callback.  A request without a usable top Via and CSeq (and, for
 * RFC 2543 matching, Call-ID, From, To, Request-URI), or a response
 * without Via and CSeq, is dropped: checking messages and answering 400 is
 * the transport's or the TU's business (msg_validate).
 */
void tsx_layer_input(struct tsx_layer *l, struct tp_rx *rx);

/* The loop and transport the layer runs on. */
struct loop *tsx_layer_loop(const struct tsx_layer *l);
struct tp *tsx_layer_tp(const struct tsx_layer *l);
/* Number of live (not yet Terminated) transactions the layer owns, records included. */
unsigned tsx_layer_count(const struct tsx_layer *l);

/* Longest branch tsx_branch writes, with its NUL. */
#define TSX_BRANCH_MAX 32

/*
 * Write a new branch "z9hG4bKR<ww><16 hex>" (owner worker ww) into out
 * (cap >= TSX_BRANCH_MAX).  Requests the caller builds itself must use it
 * so their responses find the owning worker; the caller may append token
 * characters to it (a proxy's loop-detection hash, RFC 3261 §16.6 item 8):
 * the owner is read from the first 26.  Returns the length.
 */
size_t tsx_branch(struct tsx_layer *l, char *out, size_t cap);

/*
 * tsx_request flag: insert "Via: SIP/2.0/<proto> <local>;branch=<new>;rport"
 * as the top Via, right after the request line.
 */
#define TSX_ADD_VIA 0x1u

/*
 * Start a client transaction: send request req[0..len) to dest and run the
 * client INVITE or non-INVITE machine (by request method).  Without
 * TSX_ADD_VIA the request must carry a top Via with a branch (see
 * tsx_branch).  The bytes are copied; dest->conn is referenced.  fn gets
 * every response (see tsx_response_fn); an immediate transport error is
 * reported through fn as a 503 too, after tsx_request returned.
 * Stores a new reference in *out when out is not NULL.
 * Returns 0, EBADMSG (not a parsable request, no branch, or ACK: an ACK is
 * sent with tp_send, it is no transaction), EINVAL (TSX_ADD_VIA and the
 * transport has no local address for dest->proto) or ENOMEM.
 */
int tsx_request(struct tsx **out, struct tsx_layer *l, const struct tp_dest *dest,
		const char *req, size_t len, unsigned flags, tsx_response_fn *fn, void *arg);

/*
 * Cancel a client INVITE transaction (§9.1): build a CANCEL from its request
 * and send it on a client non-INVITE transaction of its own, at once if a
 * provisional response was received, else on the first one.  fn (may be
 * NULL) gets the CANCEL's responses.  Returns 0, EINVAL (not a client
 * INVITE), EALREADY (a final response came, or already cancelled), ESRCH or
 * ENOMEM.
 */
int tsx_cancel(struct tsx *inv, tsx_response_fn *fn, void *arg);

/*
 * Answer server transaction t: the status line, the request's Vias, From,
 * To (with the transaction's To tag, except on 100), Call-ID, CSeq, then the
 * caller's header lines hdrs (each ending in CRLF, may be NULL) and body.
 * reason NULL: the default phrase.  Returns 0, EINVAL (code outside
 * 100..699, or a client transaction), EALREADY (a final response was
 * already sent, and this is not a 2xx retransmission in Accepted after a
 * 2xx from tsx_respond: after tsx_send_response send them that way), ESRCH,
 * EMSGSIZE, ENOMEM, or the transport's errno (then t is Terminated and
 * server_fail is not called).
 */
int tsx_respond(struct tsx *t, unsigned code, const char *reason, const char *hdrs,
		const char *body, size_t bodylen);

/*
 * Send a response the caller built (e.g. a proxy forwarding one) on server
 * transaction t; the bytes are copied.  Same rules and results as
 * tsx_respond, plus EBADMSG when data is not a parsable response.
 */
int tsx_send_response(struct tsx *t, const char *data, size_t len);

/*
 * The To tag of server transaction t's responses: set it before the first
 * response that carries one (dialog layers), or read the one the layer
 * chose.  tsx_set_tag copies tag (1..64 token chars); returns 0, EINVAL or
 * EALREADY (a response with a tag was already sent).
 */
int tsx_set_tag(struct tsx *t, const char *tag, size_t len);
const char *tsx_tag(struct tsx *t);

/*
 * The server INVITE transaction that CANCEL transaction t cancels (same
 * branch and sent-by, §9.2; or the RFC 2543 rules), or NULL.  Borrowed.
 */
struct tsx *tsx_cancel_target(struct tsx *t);

/* Stop calling t's response callback (the TU went away); t runs on. */
void tsx_detach(struct tsx *t);

/* Accessors. */
enum tsx_kind tsx_kind(const struct tsx *t);
enum tsx_state tsx_state(const struct tsx *t);
/*
 * The request (client: as sent; server: as received); re-parse it with
 * msg_parse.  Kept until the final response: a client's until its response
 * callback for the final response returned (a 2xx one: for as long as t
 * lives), a server's until the final response is sent (a server INVITE
 * whose 2xx came from tsx_respond: for as long as t lives, for the TU's
 * 2xx retransmissions).  Afterwards NULL with *len 0: copy what you need
 * before.
 */
const char *tsx_request_buf(const struct tsx *t, size_t *len);
/* The branch of the transaction's top Via (NOT NUL-terminated). */
const char *tsx_branch_of(const struct tsx *t, size_t *len);
/* Status code of the last response sent (server) or received (client); 0: none. */
unsigned tsx_last_code(const struct tsx *t);
/* The owning layer; NULL once t is Terminated. */
struct tsx_layer *tsx_layer_of(const struct tsx *t);
/* A pointer the TU keeps with the transaction. */
void tsx_set_user(struct tsx *t, void *user);
void *tsx_user(const struct tsx *t);

#endif
