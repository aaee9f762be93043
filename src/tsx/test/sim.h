/*
 * sim.h - a deterministic network simulator for the transaction tests
 * (test-only code: the runners #include "sim.c").
 *
 * Every endpoint is a struct sim_node that implements struct tp_ops in
 * memory: send() puts the bytes into the simulated network, which loses,
 * duplicates, delays and reorders them per direction from one seeded PRNG,
 * then parses them at delivery time and calls the receiving node's
 * tp->recv.  All nodes share one loop with the virtual clock
 * (LOOP_CLOCK_VIRTUAL), so 64*T1 of protocol time runs in microseconds.
 *
 * Several nodes may share one address: they are the workers of one server,
 * and each datagram to that address lands on one of them chosen by the PRNG
 * (as SO_REUSEPORT would), which exercises the hand-off between workers.
 *
 * Every send is logged (time, from, to, first line, lost or not) so tests
 * can check retransmission counts and intervals against the RFC timers.
 */
#ifndef RINGLET_TSX_SIM_H
#define RINGLET_TSX_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "ringlet/list.h"
#include "ringlet/loop.h"
#include "ringlet/tp.h"

#define SIM_MAX_NODES 8
#define SIM_LINE_MAX 40

/* Behaviour of one direction between two nodes. */
struct sim_link {
	unsigned loss;   /* percent of datagrams lost (unreliable transports only) */
	unsigned dup;    /* percent of datagrams delivered twice (unreliable only) */
	unsigned delay;  /* ms, one-way delay */
	unsigned jitter; /* ms, extra random delay 0..jitter: reorders (unreliable only) */
};

struct sim;

struct sim_node {
	struct tp tp; /* ops are the simulator's; recv is the layer's (or a test's) */
	struct sim *sim;
	int id;
	struct tp_addr addr;
	uint8_t proto;  /* enum tp_proto: TP_UDP, or TP_TCP for a reliable path */
	int fail_send;  /* when not 0: send() fails with this errno (transport error) */
	unsigned sent;  /* datagrams handed to send() */
	unsigned recvd; /* datagrams delivered */
};

/* One logged send. */
struct sim_rec {
	loop_ms at;
	int from, to;   /* node ids; to is -1 when no node has the address */
	bool lost;
	bool request;
	uint16_t code;  /* responses */
	char line[SIM_LINE_MAX]; /* start line, truncated */
	char *data;              /* the whole datagram (NUL-terminated copy) */
	uint32_t len;
};

struct sim {
	struct loop *loop;
	uint64_t rng;
	int nnodes;
	struct sim_node *nodes[SIM_MAX_NODES];
	struct sim_link link[SIM_MAX_NODES][SIM_MAX_NODES];
	struct list pending; /* datagrams in flight */
	struct sim_rec *log;
	unsigned nlog, caplog;
	loop_ms last[SIM_MAX_NODES][SIM_MAX_NODES]; /* reliable paths stay in order */
};

/* A simulator on virtual-clock loop l; seed drives every random choice. */
int sim_alloc(struct sim **out, struct loop *l, uint64_t seed);
/* Free the simulator, its nodes, and every datagram still in flight. */
void sim_free(struct sim *s);
/* Add a node at ip:port using proto (TP_UDP or TP_TCP).  NULL when full. */
struct sim_node *sim_node_add(struct sim *s, const char *ip, uint16_t port, enum tp_proto proto);
/* Set the link from a to b (one direction), or between all nodes (a, b NULL). */
void sim_set_link(struct sim *s, const struct sim_node *a, const struct sim_node *b,
		  const struct sim_link *c);
/* A destination for node n's address over its transport. */
struct tp_dest sim_dest(const struct sim_node *n);
/* Send raw bytes from node `from` to node `to`, as a peer without a stack would. */
int sim_send(struct sim_node *from, const struct sim_node *to, const char *data);
/* Run the network and the loop for ms of virtual time (hand-offs included). */
void sim_run(struct sim *s, loop_ms ms);
/*
 * Count logged sends from node `from` (-1: any) whose start line begins
 * with prefix; lost ones too when with_lost.
 */
unsigned sim_count(const struct sim *s, int from, const char *prefix, bool with_lost);
/* Times of the matching sends, lost ones included, into at[] (at most max); returns the count. */
unsigned sim_times(const struct sim *s, int from, const char *prefix, loop_ms *at, unsigned max);
/* The last logged send matching (as sim_count), or NULL. */
const struct sim_rec *sim_last(const struct sim *s, int from, const char *prefix);

#endif
