/*
 * fix.h - the fixture of the transaction tests (test-only; the runners
 * #include "fix.c"): endpoints made of simulator nodes and transaction
 * layers on one virtual clock, and a scriptable TU that records what it
 * saw.
 */
#ifndef RINGLET_TSX_FIX_H
#define RINGLET_TSX_FIX_H

#include "ringlet/loop.h"
#include "ringlet/tsx.h"
#include "sim.h"

#define FIX_MAX_EP SIM_MAX_NODES

/* A client call: what the TU of a client transaction received. */
struct call {
	struct loop *loop;
	unsigned n1xx;
	unsigned nfinal;
	unsigned final;    /* last final status */
	loop_ms final_at;
	bool synth;        /* the final was synthesised by the layer (rx NULL) */
	bool ack_2xx;      /* act as UAC core: ACK every 2xx end to end (§13.2.2.4) */
	struct sim_node *from, *to;
	char ack[1024];    /* the ACK for the 2xx, built once, resent for retransmissions */
	unsigned nack;     /* ACKs for 2xx sent */
};

/* A TU: its behaviour and its record.  Shared by the workers of one endpoint. */
struct rec {
	struct loop *loop;
	unsigned prov;    /* provisional answered at once to new requests (0: none) */
	unsigned answer;  /* final answered at once (0: none) */
	unsigned late;    /* final answered late_ms after the request (0: none) */
	loop_ms late_ms;
	bool hold;        /* keep a reference on the last server transaction */
	bool retx_2xx;    /* retransmit a 2xx until its ACK (§13.3.1.4) */
	unsigned t1, t2;
	/* what it saw */
	unsigned nreq;
	unsigned nreq_m[MSG_METHOD__COUNT];
	unsigned nstray_req, nack, nstray_resp;
	unsigned nfail;
	int fail_err;
	loop_ms fail_at;
	unsigned ncancel_found, ncancel_missed;
	struct tsx *held;
	struct call *call; /* UAC side: 2xx strays are re-ACKed for this call */
	struct loop_timer late_tmr, retx_tmr;
	loop_ms ival;
	bool acked;
};

struct ep {
	struct sim_node *node;
	struct tsx_layer *l; /* NULL: a raw node without a stack */
	struct rec *r;
};

struct fix {
	struct loop *loop;
	struct sim *sim;
	size_t live0;
	struct tsx_group *group[FIX_MAX_EP];
	unsigned ngroups;
	struct ep ep[FIX_MAX_EP];
	unsigned nep;
	struct rec rec[FIX_MAX_EP];
};

void fix_init(struct fix *f, uint64_t seed);
/* Free everything and check no mem object is left. */
void fix_done(struct fix *f);
/*
 * Add an endpoint at ip over proto: with a layer when layer is true, in
 * group g as worker w (g NULL: its own), with TU record r (NULL: a new one).
 */
struct ep *fix_ep(struct fix *f, const char *ip, enum tp_proto proto, bool layer,
		  struct tsx_group *g, unsigned w, struct rec *r);
struct tsx_group *fix_group(struct fix *f, unsigned nworkers);
/* A request from ip `from` to `to`; branch NULL: no Via (use TSX_ADD_VIA). */
void fix_req(char *out, size_t cap, const char *method, const char *from, const char *to,
	     const char *proto, const char *callid, unsigned cseq, const char *branch);
/* The response callback that fills a struct call. */
void fix_on_resp(struct tsx *t, struct msg *m, const struct tp_rx *rx, void *arg);
/* Start a client transaction for req (no Via) from e to node `to`. */
struct tsx *fix_start(struct ep *e, const struct sim_node *to, const char *req, struct call *c);
/* The first occurrence of `what` in the data of the last logged send matching prefix. */
bool fix_last_has(struct fix *f, int from, const char *prefix, const char *what);

#endif
