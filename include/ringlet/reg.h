/*
 * reg.h - the registrar (RFC 3261 §10.3): REGISTER requests for the
 * server's own domains, answered from and applied to the location store
 * (loc.h), with digest authentication (auth.h).
 *
 * One struct reg serves every worker of a process: it is read-only after
 * reg_alloc except for two atomics, and every request it handles runs on the
 * loop of the server transaction it came on.  The store calls back on that
 * same loop, so the loop never blocks and nothing is locked.
 *
 * What a REGISTER gets (RFC 3261 §10.3 steps, in order):
 *  - To (the address-of-record) not a sip/sips URI: 400; its host not one
 *    of ours or no user part: 404 (step 5; the AOR is canonicalised first
 *    because the default realm is its domain).
 *  - auth on: no or wrong credentials (or a replayed nonce-count) 401 with
 *    a fresh challenge, stale=true for a right response to an expired
 *    nonce; the HA1 is the one of user "<username>@<AOR domain>" in the
 *    store (ringletd user add); credentials of another user than the AOR's
 *    403 (steps 3, 4; third-party registration is allowed to the AOR's own
 *    user, or to anyone when auth is off).
 *  - Contact: "*" with other contacts or without "Expires: 0" 400 (step 6);
 *    an expiry below the minimum 423 with Min-Expires; above the maximum it
 *    is capped; values longer than loc.h's bounds 400 naming the field;
 *    more than LOC_MAX_BINDINGS contacts 403 "Too Many Bindings".
 *  - store: a Call-ID/CSeq replay of a binding (step 7) 500 "Out of Order"
 *    (the RFC names no code; no Retry-After: the same request can never
 *    succeed); more than LOC_MAX_BINDINGS bindings 403; other store errors
 *    500 with Retry-After.
 *  - 200 with every current binding, ";expires=<seconds left>" and its q,
 *    +sip.instance and reg-id; Path echoed when the UA said Supported: path
 *    (RFC 3327 §5.3); a Date header (step 8).  No Contact: a query, the same
 *    200 without changing anything.
 */
#ifndef RINGLET_REG_H
#define RINGLET_REG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringlet/auth.h"
#include "ringlet/loc.h"
#include "ringlet/msg.h"
#include "ringlet/tsx.h"

/* Default registration interval when the REGISTER names none (RFC 3261 §10.2.1.1 example). */
#define REG_DEFAULT_EXPIRES 3600u

/*
 * True when the host of URI u (sip or sips, spans in buf) is one of the
 * domains this registrar serves; the port is not part of an AOR and must be
 * ignored.  Called on any worker's thread.
 */
typedef bool reg_own_fn(void *arg, const char *buf, const struct msg_uri *u);

struct reg_conf {
	struct loc_store *store;  /* required; borrowed, outlives the registrar */
	struct auth *auth;        /* NULL: no authentication (--auth off) */
	const char *realm;        /* digest realm; NULL: the AOR's domain */
	uint32_t min_expires;     /* shortest non-zero expiry accepted (423 below); 0: any */
	uint32_t max_expires;     /* longest expiry granted (capped above); 0: no cap */
	uint32_t default_expires; /* when neither Expires nor expires= says; 0: 3600 */
	reg_own_fn *own;          /* required: the domain check of the AOR */
	void *own_arg;
	/*
	 * Digest algorithms offered and accepted, REG_ALG bits; 0: all of
	 * auth.h's.  An MD5-only setting serves user agents that answer the
	 * topmost challenge even when it is SHA-256 (against RFC 8760 §2.4).
	 */
	unsigned algs;
};

/* The reg_conf.algs bit of an enum auth_alg. */
#define REG_ALG(alg) AUTH_ALG(alg)

struct reg;

/*
 * Create a registrar; conf is copied (the strings it points to are
 * borrowed and must outlive it).  Returns 0, EINVAL (no store or no own
 * function) or ENOMEM.
 */
int reg_alloc(struct reg **out, const struct reg_conf *conf);

/*
 * Handle REGISTER rx on server transaction t (both borrowed, as a
 * tsx_request_fn gets them).  The caller has checked that the Request-URI
 * names one of our domains (§10.3 step 1) and that the request is well
 * formed (msg_validate).  t is answered now or, after the store and
 * credential look-ups, later on the same loop; the registrar keeps its own
 * reference meanwhile.
 */
void reg_request(struct reg *r, struct tsx *t, struct tp_rx *rx);

/*
 * Stop taking new work (later REGISTERs get 503 with Retry-After) and wait
 * up to wait_ms for the store operations in flight to call back, with the
 * workers' loops still running.  Returns the number still pending (0: the
 * store may be closed).  Any thread but a worker's.
 */
unsigned reg_stop(struct reg *r, unsigned wait_ms);

/* Free the registrar (NULL-safe); call reg_stop first and stop the loops. */
void reg_free(struct reg *r);

/*
 * The canonical address-of-record of sip/sips URI u (spans in buf), the key
 * of the location store (§10.3 step 5): "sip:" user "@" host with the
 * host in lower case, the scheme always sip, no port, password or
 * parameters, and the user's %HH escapes normalised (an unreserved or
 * user-unreserved character is unescaped, any other byte becomes %HH in
 * upper case), so equal URIs (§19.1.4) give equal keys.  NUL-terminated in
 * out.  Returns the length, or -1 when u is not sip/sips, has no user, or
 * does not fit in cap.
 */
int reg_aor(const char *buf, const struct msg_uri *u, char *out, size_t cap);

#endif
