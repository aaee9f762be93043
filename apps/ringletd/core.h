/*
 * core.h - what ringletd does with a request before the registrar and the
 * proxy arrive: check it (msg_validate), answer OPTIONS addressed to the
 * server itself, and give every other request the status it deserves.
 */
#ifndef RINGLETD_CORE_H
#define RINGLETD_CORE_H

#include "opts.h"
#include "ringlet/tsx.h"

/* Read-only after rd_core_init: shared by every worker without locks. */
struct rd_core {
	const struct rd_opts *opts;
	/* the addresses we listen on, with the port actually bound */
	struct rd_listen self[RD_MAX_LISTEN];
	unsigned nself;
};

/* Fill the server's identity from opts and the bound listeners. */
void rd_core_init(struct rd_core *c, const struct rd_opts *o, const struct rd_listen *bound,
		  unsigned nbound);

/*
 * What each worker's transport hands up (install as tp->recv with the
 * worker's layer as arg): malformed requests are answered statelessly,
 * malformed responses dropped, the rest goes to the transaction layer.
 */
void rd_core_input(struct tp *tp, struct tp_rx *rx, void *arg);

/* The transaction user of every worker's layer (arg is the struct rd_core). */
extern const struct tsx_tu rd_core_tu_template;

#endif
