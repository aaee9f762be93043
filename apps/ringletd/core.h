/*
 * core.h - what ringletd does with a request: check it (msg_validate),
 * answer OPTIONS addressed to the server itself, hand REGISTERs for our
 * domains to the registrar (reg.h), requests for our users and requests
 * routed through us to the proxy (prx.h; a loop gets 482) or, for a domain
 * in redirect mode, to the redirect server (rdr.h), requests for a foreign
 * domain with a static route (--route) from a trusted source (--trust) or
 * from one of our users (with --auth on, authenticated by a 407, RFC 3261
 * §22.3) to the proxy towards the route, and refuse the rest (never an open
 * relay).
 */
#ifndef RINGLETD_CORE_H
#define RINGLETD_CORE_H

#include "opts.h"
#include "ringlet/auth.h"
#include "ringlet/loc.h"
#include "ringlet/prx.h"
#include "ringlet/rdr.h"
#include "ringlet/reg.h"
#include "ringlet/tsx.h"

/* A trusted network (--trust): address family, prefix bits, address bytes. */
struct rd_net {
	int family;
	unsigned bits;
	uint8_t a[16];
};

/* Read-only after rd_core_init: shared by every worker without locks. */
struct rd_core {
	const struct rd_opts *opts;
	/* the addresses we listen on, with the port actually bound */
	struct rd_listen self[RD_MAX_LISTEN];
	unsigned nself;
	struct auth *auth; /* NULL with --auth off */
	struct reg *reg;
	struct prx *prx; /* requests for our users and loose routes through us */
	struct rdr *rdr; /* --mode redirect: requests for our users get 302 (§8.3) */
	struct rd_net trust[RD_MAX_TRUST]; /* sources that may relay to foreign domains */
	unsigned ntrust;
	bool dns; /* RFC 3263 is on (--dns is not off): foreign domains without a route */
};

/* The RFC 3263 resolver of the worker whose layer is l (main.c; see prx_conf.dns). */
typedef struct dns *rd_dns_fn(struct tsx_layer *l, void *arg);

/*
 * Fill the server's identity from opts and the bound listeners, and create
 * the registrar on store (borrowed: open before, closed after
 * rd_core_free) and the proxy, which resolves host names with dns(l,
 * dns_arg).  Call before any worker runs.  Returns 0 or ENOMEM.
 */
int rd_core_init(struct rd_core *c, const struct rd_opts *o, const struct rd_listen *bound,
		 unsigned nbound, struct loc_store *store, rd_dns_fn *dns, void *dns_arg);

/*
 * Stop taking REGISTERs and wait (bounded) for the store operations in
 * flight, while the workers still run: call on SIGTERM before stopping them.
 */
void rd_core_stop(struct rd_core *c);

/* Free what rd_core_init made, once the workers are gone. */
void rd_core_free(struct rd_core *c);

/*
 * What each worker's transport hands up (install as tp->recv with the
 * worker's layer as arg): malformed requests are answered statelessly,
 * malformed responses dropped, the rest goes to the transaction layer.
 */
void rd_core_input(struct tp *tp, struct tp_rx *rx, void *arg);

/* The transaction user of every worker's layer (arg is the struct rd_core). */
extern const struct tsx_tu rd_core_tu_template;

#endif
