/*
 * prx_fx.h - the fixture of the proxy tests (test-only; the runners
 * #include "prx_fx.c"): caller A and callees B, B2, B3 are raw peers of the
 * transaction tests' simulated network, P runs a transaction layer with the
 * proxy as its user and a memory store, on a virtual clock.
 */
#ifndef RINGLET_PRX_FX_H
#define RINGLET_PRX_FX_H

#include "../../tsx/test/sim.h"
#include "ringlet/auth.h"
#include "ringlet/loc.h"
#include "ringlet/prx.h"

struct fx {
	struct loop *loop;
	struct sim *sim;
	struct sim_node *a, *p, *b, *b2, *b3;
	struct tsx_layer *l;
	struct loc_store *store;
	struct prx *prx;
	struct tsx_tu tu;
	bool updated;
	unsigned nbound; /* bindings after the last update */
	unsigned flags;	 /* of prx_request; 0: PRX_LOOKUP */
	const char *hop; /* prx_request_hop's static route, NULL: prx_request */
	struct auth *auth;
	bool loop_check; /* answer 482 when prx_looped, as rd_core does */
};

/*
 * cmocka setup: the network, P's layer and proxy, a memory store with
 * sip:bob@10.0.0.1 bound to B; teardown in ringletd's order.
 */
int fx_setup(void **state);
int fx_teardown(void **state);
/* Run until the store answered (it may complete on another thread) and the network is quiet. */
void fx_run(struct fx *f, loop_ms ms);
/* An INVITE from A for sip:user@10.0.0.1 (Max-Forwards 10). */
void fx_invite(struct fx *f, const char *user);
/* A response of node from to request req (Via lines and dialog headers copied, a To tag added). */
void fx_reply_from(struct fx *f, struct sim_node *from, const char *req, unsigned code,
		   const char *cseq);
/* fx_reply_from B. */
void fx_reply(struct fx *f, const char *req, unsigned code, const char *cseq);
/* Bind aor to contacts[i] with q[i] (-1: no q), one REGISTER. */
void fx_bind(struct fx *f, const char *aor, const char *const *contacts, const int *q, unsigned n);
/* An INVITE for user with its own branch and Call-ID. */
void fx_invite_br(struct fx *f, const char *user, const char *branch);
/* The last message P sent to node `to` since log entry i0 starting with prefix, or NULL. */
const struct sim_rec *fx_sent_to(struct fx *f, unsigned i0, const struct sim_node *to,
				 const char *prefix);
/* How many messages P sent to node `to` since log entry i0 starting with prefix. */
unsigned fx_count_to(struct fx *f, unsigned i0, const struct sim_node *to, const char *prefix);
/* The request P forwarded to node n since i0, copied into out ("" if none). */
void fx_got_req(struct fx *f, unsigned i0, const struct sim_node *n, const char *prefix, char *out,
		size_t cap);
/* A response of node from to request req with extra header lines hdrs. */
void fx_reply_hdrs(struct fx *f, struct sim_node *from, const char *req, unsigned code,
		   const char *hdrs);

#endif
