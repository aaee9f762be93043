/*
 * prx_int.h - the proxy's internals (private to src/proxy/): the call, one
 * response context of RFC 3261 §16.7 with its targets and branches, and
 * the functions the proxy's files share.
 *
 *   prx.c        calls, branches, forking and the choice of the response
 *   prx_fwd.c    the forwarded request (§16.6) and the stateless parts
 *                (ACK for a 2xx, §16.11; stray responses, §16.7 step 5)
 *   prx_auth.c   proxy authentication (§22.3) and the 401/407 merge (§16.7
 *                item 7)
 *   prx_loop.c   the loop-detection hash of our branches (§16.3 item 4,
 *                §16.6 item 8)
 */
#ifndef RINGLET_PRX_INT_H
#define RINGLET_PRX_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "proxy/prx_edit.h"
#include "ringlet/list.h"
#include "ringlet/prx.h"

/* Hex digits of the loop-detection hash that ends our branches: "z9hG4bKR<ww><16>.<hash>". */
#define PRX_HASH_LEN 16
/* Length of our branches: tsx_branch's 26 characters, '.', the hash. */
#define PRX_BRANCH_LEN (26 + 1 + PRX_HASH_LEN)
/* Bytes the WWW-/Proxy-Authenticate lines of one branch's 401/407 may take (§16.7 item 7). */
#define PRX_CHAL_MAX 4096u

struct prx {
	struct loc_store *store;
	unsigned timer_c_ms;
	struct auth *auth;  /* PRX_AUTH: NULL lets every request pass */
	const char *realm;  /* NULL: the From host */
	unsigned algs;	    /* digest algorithms offered, PRX_ALG bits (0: all) */
	struct dns *(*dns)(struct tsx_layer *l, void *arg); /* RFC 3263; NULL: none */
	void *dns_arg;
	pthread_mutex_t mu; /* guards calls */
	struct list calls;  /* in flight, for prx_free after the layers are gone */
	struct list acks;   /* ACKs waiting for RFC 3263 (prx_fwd.c) */
};

struct prx_call;

/* One branch (§16.6): a client transaction towards one target. */
struct prx_branch {
	struct prx_call *c;
	struct tsx *ct;		   /* referenced; NULL once the branch is done */
	struct loop_timer timer_c; /* §16.8, INVITE only */
	unsigned code;		   /* final response (or 408 of Timer C), 0: pending */
	unsigned i;		   /* its index in c->br */
	bool block;		   /* first of a malloc'd block of branches (one q-group) */
	char *chal;		   /* its 401/407's challenge lines (malloc), or NULL */
	size_t chal_len;
	const char *contact, *path; /* its target (strings of c->tg), or NULL */
	/* RFC 3263: the query in flight, then the destinations in order (malloc) */
	struct dns_query *q;
	struct tp_dest *alt;
	unsigned nalt, ialt; /* destinations, the one tried now */
};

/* A target of the request: a binding, or the Request-URI/Route (contact NULL). */
struct prx_target {
	int q; /* thousandths */
	const char *contact, *path;
};

/*
 * The request's struct msg is kept without its unused header slots (it has
 * room for MSG_MAX_HDRS): the bytes before hdrs, the bytes after them
 * (typed views), and the nhdrs used, after the call (prx_call_msg).
 */
#define PRX_MSG_HEAD offsetof(struct msg, hdrs)
#define PRX_MSG_TAIL_OFF offsetof(struct msg, cached)
#define PRX_MSG_TAIL (sizeof(struct msg) - PRX_MSG_TAIL_OFF)

/*
 * One forwarded request, its response context (§16.7): the server
 * transaction, the targets in q order and the branches started so far.
 * Sized for what it holds: one branch inline (more are allocated a q-group
 * at a time), the request's parse packed, its strings as long as they are.
 */
struct prx_call {
	struct list_node node; /* in p->calls */
	struct prx *p;
	struct tsx *st; /* server transaction (referenced) */
	struct loop *loop;
	unsigned flags;
	uint8_t proto;	       /* transport the request came on */
	uint8_t method;	       /* the request's, enum msg_method */
	bool cancelled;	       /* CANCEL came: no new branches */
	bool answered;	       /* a 2xx was forwarded */
	bool six;	       /* a 6xx came: no new branches (§16.7 item 6, 10) */
	struct tp_addr local;  /* our address it came to: the Record-Route */
	struct prx_target *tg; /* sorted by q, highest first (malloc, strings inside) */
	unsigned ntg, next;    /* targets, the first one not tried yet */
	unsigned nbr;	       /* branches started */
	unsigned nbr_cap;      /* room in br */
	struct prx_branch **br; /* the branches: &b0 first, then malloc'd blocks */
	struct prx_branch *br_inl; /* br's storage while only b0 is used */
	unsigned best;	/* best final response so far (§16.7 item 6), 0: none */
	int best_br;	/* the branch it came from, -1: synthesised */
	char *best_buf; /* its bytes with our Via removed (malloc), NULL: synthesised */
	size_t best_len;
	const char *via;  /* its top Via value with received/rport (§18.2.1), or NULL */
	const char *aor;  /* PRX_LOOKUP: the Request-URI's AOR, NULL: none (404) */
	const char *hop;  /* a static route's URI (prx_request_hop), or NULL */
	char *realm;	  /* PRX_AUTH: the realm of the challenge (malloc), or NULL */
	char hash[PRX_HASH_LEN + 1]; /* the loop-detection hash of our branches (§16.6 item 8) */
	struct prx_branch b0;
	unsigned char mhead[PRX_MSG_HEAD]; /* the request's struct msg, packed */
	unsigned char mtail[PRX_MSG_TAIL];
	uint16_t nhdrs;
	uint32_t len;	/* bytes of the request in buf */
	char *buf;	/* the request (spans of the msg point here), after hdrs */
	struct msg_hdr hdrs[]; /* nhdrs, then buf, via, hop, aor */
};

/*
 * The request of c as a struct msg in *m (spans into c->buf), for the
 * caller's use until c ends.  Returns m.
 */
struct msg *prx_call_msg(const struct prx_call *c, struct msg *m);

/* ---- prx.c ---- */

/* Answer t (a failure is only logged). */
void prx_respond(struct tsx *t, unsigned code, const char *reason, const char *hdrs);
/* The call is over: the server transaction got its final response, every branch is done. */
void prx_call_end(struct prx_call *c);
/* Forward c as its flags say: to the Request-URI or the next Route, or to its user's bindings. */
void prx_proceed(struct prx_call *c);

/* ---- prx_fwd.c ---- */

/* Text the edits of a forwarded request point at. */
struct prx_fwd_text {
	char via[MSG_MAX_LINE / 16]; /* our Via */
	char mf[8];
	char rr[128];
	char route[LOC_PATH_MAX + 16];
	char push[MSG_MAX_LINE]; /* the Request-URI pushed behind a strict router's route */
};

/* What RFC 3263 is asked for a next hop named by a host name. */
struct prx_dns_req {
	struct dns_req req;
	char host[DNS_MAX_NAME + 1];
};

/*
 * The destination of request m (§16.6 items 6-7): the first of path, the
 * next Route (after ours when skip), contact, hop (a static route), the
 * Request-URI.  Returns 0 with *d for a numeric host, EHOSTUNREACH for a
 * host name (then *dr, when not NULL, says what to resolve, RFC 3263 §4),
 * or EINVAL.
 */
int prx_request_dest(struct msg *m, bool skip, const char *path, const char *contact,
		     const char *hop, struct tp_dest *d, struct prx_dns_req *dr);

/*
 * The edits that make the forwarded request out of c's (m, prx_call_msg) (§16.6 items 1-8)
 * towards d: our Via on top (branch: tsx_branch of layer l, then '.' and
 * c->hash), the Request-URI (contact, when not NULL), the upstream Via's
 * received/rport, our Record-Route on an initial request, path as Route,
 * Max-Forwards, and the Route processing of §16.4/§16.6 item 6.  Returns 0
 * or an errno.
 */
int prx_request_edits(struct prx_call *c, struct msg *m, struct tsx_layer *l,
		      const struct tp_dest *d, const char *contact, const char *path,
		      struct prx_edits *es, struct prx_fwd_text *tx);

/* Free the ACKs still waiting for RFC 3263 (prx_free: their resolvers are gone). */
void prx_ack_waits_free(struct prx *p);

/* ---- prx_auth.c ---- */

/*
 * §22.3: the credentials of c's From user (USER@HOST), checked against the
 * store before anything is forwarded: then prx_proceed, else a 407 (or 403,
 * 500) and the call ends.
 */
void prx_authenticate(struct prx_call *c);

/*
 * The WWW-Authenticate and Proxy-Authenticate header lines of response
 * resp, as "Name: value\r\n" each, into *out (malloc; NULL and 0 when it has
 * none, or they exceed PRX_CHAL_MAX).
 */
void prx_chal_collect(const struct msg *resp, char **out, size_t *len);

/*
 * §16.7 item 7: response buf[0..len) (ours to forward) with the challenge
 * lines of every branch of c but the one it came from added after its
 * headers, into *out (malloc).  Returns the new length, or -1 (then *out is
 * NULL and buf goes as it is).
 */
long prx_chal_merge(const struct prx_call *c, const char *buf, size_t len, char **out);

/* ---- prx_loop.c ---- */

/*
 * The loop-detection hash of request m (§16.6 item 8) as PRX_HASH_LEN hex
 * digits and a NUL into out: Request-URI, To and From tags, Call-ID, CSeq
 * number, the Via element via (the top Via as the request arrived),
 * Proxy-Require, Proxy-Authorization and Route values.  Not the method
 * (CANCEL and ACK share the branch of their INVITE).
 */
void prx_loop_hash(struct msg *m, const struct msg_hdr *via, char *out);

#endif
