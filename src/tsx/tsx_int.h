/*
 * tsx_int.h - what the files of src/tsx/ share: the transaction struct, the
 * matching key, the events that drive the four state machines, and the
 * helpers of tsx_layer.c they use.  Private to src/tsx/.
 */
#ifndef RINGLET_TSX_INT_H
#define RINGLET_TSX_INT_H

#include <pthread.h>

#include "ringlet/list.h"
#include "ringlet/tsx.h"

#define TSX_MAX_WORKERS 256u
#define TSX_TAG_MAX 64u
#define TSX_COOKIE "z9hG4bK" /* RFC 3261 §8.1.1.7 magic cookie */
#define TSX_COOKIE_LEN 7u

/* Internal timer id: a transport error of the first send, reported from the loop. */
#define TSX_TIMER_ERR 100u
/* Internal timer id: a Completed server non-INVITE may become a struct tsx_done. */
#define TSX_TIMER_COMPACT 101u

/*
 * The RFC 2543 part of a key (tsx_2543.c, §17.2.3 last paragraphs): spans
 * relative to the key's buf.  A lookup keeps it on the caller's stack; a
 * stored RFC 2543 transaction has a malloc'ed copy and keeps its request
 * (buf) for its whole life.
 */
struct tsx_k2543 {
	struct span transport;
	struct span callid;
	struct span ftag;
	struct span ttag;
	uint32_t cseq;
	struct msg_uri ruri;
};

/*
 * The key a request or a transaction is found by (tsx_match.c).  Spans are
 * relative to buf: the received message for a lookup; once stored, the
 * transaction's own small copy of the key bytes (struct tsx kb[]), or its
 * request for an RFC 2543 key.
 */
struct tsx_key {
	const char *buf;
	struct tsx_k2543 *x; /* RFC 2543 keys only, else NULL */
	uint32_t hash;
	uint8_t method;  /* enum msg_method of the transaction: INVITE for an ACK */
	uint8_t rmethod; /* method of the request itself */
	bool rfc2543;    /* no magic cookie: the RFC 2543 rules of tsx_2543.c */
	uint16_t port;   /* sent-by port, the transport's default when absent */
	struct span method_s; /* method text (compared for extension methods) */
	struct span branch;
	struct span host; /* sent-by host */
};

/*
 * What the server table chains (tsx_layer.c), and the client tables too: a
 * live transaction (struct tsx) or the record a completed server
 * non-INVITE transaction leaves for the rest of Timer J (struct tsx_done,
 * tsx_done.c).  Other workers read server entries under the stripe lock.
 */
struct tsx_ent {
	struct tsx_ent *hnext; /* hash chain */
	struct tsx_key key;
	uint16_t worker; /* owner */
	bool done;       /* a struct tsx_done, else a struct tsx */
};

/* Tags up to this long live inside the transaction; longer ones are malloc'ed. */
#define TSX_TAG_INLINE 23u

/*
 * A transaction.  What it holds shrinks with its state (tsx_shed): the
 * request copy, the rewritten top Via and (where no longer needed) the last
 * response go once the final response is sent (server) or passed up
 * (client); matching needs only the key, whose bytes kb[] holds.
 */
struct tsx {
	struct tsx_ent e;    /* first: key (buf == kb, or req for RFC 2543), owner */
	struct tsx_layer *l; /* NULL once Terminated */
	struct list_node le; /* the owning layer's list of live transactions */
	uint8_t kind;  /* enum tsx_kind */
	uint8_t state; /* enum tsx_state */
	/* flags only the owner reads and writes (one byte: never beside tag_sent) */
	bool reliable : 1;       /* no retransmissions, zero wait timers */
	bool linked : 1;         /* in a hash table */
	bool detached : 1;       /* tsx_detach: no more response callbacks */
	bool cancel_pending : 1; /* client INVITE: CANCEL waits for a provisional */
	bool cancelled : 1;      /* client INVITE: tsx_cancel was called */
	bool keep_req : 1;       /* server INVITE: its 2xx came from tsx_respond (keep req) */
	bool recipe : 1;         /* server non-INVITE: resp holds a recipe (tsx_recipe_make) */
	bool tag_sent; /* server: a response with our To tag went out (stripe lock) */
	uint8_t taglen;
	uint8_t tr_id, to_id; /* enum tsx_timer of the two timers below */
	uint16_t code;        /* last response sent or received */
	uint32_t tr_ival;     /* ms, current retransmission interval (A, E, G) */
	struct loop_timer tr; /* retransmission: A, E, G; and the 100-Trying timer */
	struct loop_timer to; /* timeout / wait: B, D, F, H, I, J, K, L */
	struct tp_dest dest;
	char *req; /* NULL once shed */
	uint32_t reqlen;
	void *user;
	union {
		struct { /* client transactions */
			tsx_response_fn *fn;
			void *arg;
			tsx_response_fn *cancel_fn; /* pending CANCEL (§9.1) */
			void *cancel_arg;
			char *ack; /* INVITE: ACK for the non-2xx final (§17.1.1.3) */
			uint32_t acklen;
			int err; /* deferred transport error (TSX_TIMER_ERR) */
		};
		struct { /* server transactions */
			char *via1; /* top Via with received/rport (§18.2.1, RFC 3581), or NULL */
			char *resp; /* last response sent, while it may be retransmitted */
			char *tag_long; /* a To tag longer than TSX_TAG_INLINE, or NULL */
			uint32_t via1len;
			uint32_t resplen;
			char tag[TSX_TAG_INLINE + 1]; /* NUL-terminated; "" when none */
		};
	};
	char kb[]; /* the key's bytes: branch, sent-by host, method */
};

/* The transaction of a table entry that is not done. */
#define TSX_OF(ent) ((struct tsx *)(void *)((char *)(ent) - offsetof(struct tsx, e)))

/*
 * A completed server non-INVITE transaction over an unreliable transport
 * that nobody but the layer holds any more, reduced to what the rest of
 * Timer J needs (§17.2.2): its key, where its response went, and the
 * response (bytes, or a recipe: tsx_recipe_make).  Found like a
 * transaction; a retransmitted request gets the response again.  Owned by
 * its worker's layer, on a FIFO in Timer J order (sofia-sip's idea: a fixed
 * timeout keeps a FIFO sorted).
 */
struct tsx_done {
	struct tsx_ent e;      /* first; e.done */
	struct tsx_done *next; /* the layer's FIFO */
	loop_ms expires;       /* Timer J */
	struct tp_dest dest;
	uint16_t code;
	bool recipe;
	uint8_t taglen;
	uint32_t resplen;
	char data[]; /* key bytes, tag and NUL, response (or recipe) */
};

#define TSX_DONE_OF(ent) ((struct tsx_done *)(void *)((char *)(ent) - offsetof(struct tsx_done, e)))

/* Timers and settings of a layer, resolved from struct tsx_conf. */
struct tsx_times {
	loop_ms t1, t2, t4, trying;
};

/* A bucket array (power of two) of entries chained by hnext. */
struct tsx_tab {
	struct tsx_ent **b;
	uint32_t mask;
	uint32_t count; /* client tables only (the shared one has no global counter) */
};

struct tsx_group {
	uint64_t seed; /* hash seed */
	unsigned nworkers;
	struct tsx_layer *layers[TSX_MAX_WORKERS];
	struct tsx_tab tab; /* server transactions */
	uint32_t smask;     /* stripes - 1 */
	pthread_mutex_t *locks;
};

struct tsx_layer {
	struct tsx_group *g;
	bool own_group;
	uint16_t worker;
	struct loop *loop;
	struct tp *tp;
	struct tsx_times tm;
	struct tsx_tu tu;
	uint64_t rng;
	struct tsx_tab ctab; /* client transactions, this worker only */
	struct list all;     /* every live transaction owned here */
	unsigned count;
	char *scratch; /* TSX_SCRATCH bytes: messages are built here, then kept at their size */
	struct tsx_done *done_head, *done_tail; /* records, in Timer J order */
	struct loop_timer done_tmr;              /* the head's Timer J */
};

/* The scratch buffer of a layer: the largest message (msg.h MSG_MAX_SIZE). */
#define TSX_SCRATCH MSG_MAX_SIZE

/* Events of the state machines. */
enum tsx_ev_type {
	TSX_EV_RX = 1, /* a matching message: retransmitted request, ACK, response */
	TSX_EV_SEND,   /* the TU (or the layer) sends a response: server only */
	TSX_EV_TIMER,
	TSX_EV_TPERR, /* deferred transport error of the first send */
};

struct tsx_ev {
	uint8_t type;
	uint8_t timer;   /* TSX_EV_TIMER: enum tsx_timer */
	uint16_t code;   /* TSX_EV_RX (response) and TSX_EV_SEND: status code */
	struct tp_rx *rx; /* TSX_EV_RX */
	bool built;       /* TSX_EV_SEND: from tsx_respond (not tsx_send_response) */
	uint32_t headlen; /* built: bytes of status line, Vias, From, To, Call-ID, CSeq */
	char *data;       /* TSX_EV_SEND: malloc'ed response, owned by the handler */
	uint32_t len;
	int err; /* TSX_EV_TPERR */
};

/* One handler per state: returns 0 or an errno (TSX_EV_SEND reports it). */
typedef int tsx_state_fn(struct tsx *t, const struct tsx_ev *ev);

/* State machines (one file each).  *_start runs once after creation. */
int tsx_cinv_start(struct tsx *t);
int tsx_cinv_event(struct tsx *t, const struct tsx_ev *ev);
int tsx_cnon_start(struct tsx *t);
int tsx_cnon_event(struct tsx *t, const struct tsx_ev *ev);
void tsx_sinv_start(struct tsx *t);
int tsx_sinv_event(struct tsx *t, const struct tsx_ev *ev);
void tsx_snon_start(struct tsx *t);
int tsx_snon_event(struct tsx *t, const struct tsx_ev *ev);

/* tsx_match.c: keys (§17.1.3, §17.2.3) and the hash. */
uint64_t tsx_hash_add(uint64_t h, const char *p, size_t n);
uint32_t tsx_hash_end(uint64_t h);
int tsx_key_request(struct tsx_key *k, struct tsx_k2543 *x, struct msg *m, uint64_t seed);
bool tsx_key_equal(const struct tsx_ent *e, const struct tsx_key *k);
bool tsx_branch_is_3261(const char *p, size_t n);
bool tsx_client_match(const struct tsx *t, const char *branch, size_t blen, uint8_t method,
		      const char *mbuf, struct span method_s);
/* tsx_2543.c: the RFC 2543 key and its comparison. */
int tsx_2543_key(struct tsx_key *k, struct tsx_k2543 *x, struct msg *m, uint64_t seed);
bool tsx_2543_equal(const struct tsx *t, const struct tsx_key *k);

/* tsx_build.c: messages the layer writes. */
int tsx_reparse(const char *buf, size_t len, struct msg *m);
int tsx_build_ack(struct tsx *t, struct msg *resp);
int tsx_build_cancel(const struct tsx *inv, char **out, uint32_t *outlen);
int tsx_build_response(struct tsx *t, unsigned code, const char *reason, const char *hdrs,
		       const char *body, size_t bodylen, char **out, uint32_t *outlen,
		       uint32_t *headlen);
void tsx_recipe_make(struct tsx *t, uint32_t headlen);
int tsx_recipe_send(struct tsx_layer *l, const struct tp_dest *d, unsigned code, const char *tag,
		    const char *recipe, uint32_t len, struct tp_rx *rx);
int tsx_via1(const struct tp_rx *rx, char *out, size_t cap);
int tsx_build_via(struct tsx_layer *l, const struct tp_dest *d, const char *req, size_t len,
		  char **out, uint32_t *outlen);
void tsx_random_hex(struct tsx_layer *l, char *out, size_t n);

/* tsx_layer.c: what the machines use. */
int tsx_dispatch(struct tsx *t, const struct tsx_ev *ev);
void tsx_timer_tr(struct tsx *t, unsigned id, loop_ms ms);
void tsx_timer_to(struct tsx *t, unsigned id, loop_ms ms);
int tsx_xmit(struct tsx *t, const char *data, size_t len);
void tsx_terminate(struct tsx *t);
void tsx_to_tu(struct tsx *t, struct msg *resp, const struct tp_rx *rx);
void tsx_synth(struct tsx *t, unsigned code);
void tsx_fail(struct tsx *t, int err);
void tsx_stray_request(struct tsx_layer *l, struct tp_rx *rx);
void tsx_keep_response(struct tsx *t, char *data, uint32_t len, unsigned code);
struct tsx *tsx_new(struct tsx_layer *l, uint8_t kind, char *req, uint32_t len,
		    const struct tsx_key *k);
void tsx_shed(struct tsx *t, bool keep_resp);
size_t tsx_key_bytes(const struct tsx_key *k);
void tsx_key_copy(struct tsx_key *dst, const struct tsx_key *src, char *kb);
const char *tsx_tag_str(const struct tsx *t);
void tsx_link(struct tsx *t);
void tsx_unlink(struct tsx *t);
struct tsx *tsx_group_find(struct tsx_layer *l, const struct tsx_key *k);
void tsx_group_swap(struct tsx_layer *l, struct tsx_ent *old, struct tsx_ent *repl);
/* tsx_done.c: records of completed server non-INVITE transactions. */
bool tsx_done_make(struct tsx *t);
void tsx_done_rx(struct tsx_layer *l, struct tsx_done *d, struct tp_rx *rx);
void tsx_done_free_all(struct tsx_layer *l);
int tsx_tag_set(struct tsx *t, const char *tag, size_t len, bool sent);
void tsx_tag_ensure(struct tsx *t);
int tsx_client_new(struct tsx **out, struct tsx_layer *l, const struct tp_dest *dest, char *req,
		   uint32_t len, tsx_response_fn *fn, void *arg);

#endif
