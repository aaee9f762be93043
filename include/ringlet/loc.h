/*
 * loc.h - the location service (RFC 3261 §10) and the credential store: one
 * small interface, three backends that pass one conformance suite.
 *
 *   memory:              hash table in this process (tests, caches)
 *   sqlite:PATH          the embedded default (WAL, group commit: an update
 *                        completes only once it is durable)
 *   redis://HOST:PORT[/DB]  shared by several ringletd nodes (hiredis, async)
 *
 * The store never blocks the caller's event loop.  Every operation takes the
 * caller's loop and completes by calling fn(..., arg) later ON THAT LOOP's
 * thread (never inside the call itself, so callers need no re-entrancy
 * care).  A store is shared by every worker of a process; it is thread-safe.
 *
 * Bindings are plain values with bounded fields: the registrar rejects a
 * REGISTER whose values do not fit (400) before it reaches the store.
 */
#ifndef RINGLET_LOC_H
#define RINGLET_LOC_H

#include <stdbool.h>
#include <stdint.h>

#include "ringlet/loop.h"

#define LOC_AOR_MAX 256
#define LOC_CONTACT_MAX 512
#define LOC_PATH_MAX 1024
#define LOC_INSTANCE_MAX 128
#define LOC_CALLID_MAX 256
#define LOC_ADDR_MAX 64
#define LOC_UA_MAX 128
#define LOC_MAX_BINDINGS 32 /* per address-of-record */
#define LOC_MAX_CHANGES 128 /* contacts of one loc_update (more: EINVAL) */

/* One binding of an address-of-record to a contact (RFC 3261 §10.2.1). */
struct loc_binding {
	char contact[LOC_CONTACT_MAX];   /* the Contact URI as registered (no <>) */
	char path[LOC_PATH_MAX];         /* Path header values, comma-joined (RFC 3327), or "" */
	char instance[LOC_INSTANCE_MAX]; /* +sip.instance value (RFC 5626), or "" */
	uint32_t reg_id;                 /* reg-id (RFC 5626), 0 when absent */
	int16_t q;                       /* q-value in thousandths, -1 when absent */
	char call_id[LOC_CALLID_MAX];    /* of the REGISTER that made or refreshed it */
	uint32_t cseq;
	int64_t expires;                 /* absolute, seconds since the epoch (wall clock:
					    it must survive a restart and be shared by nodes) */
	char received[LOC_ADDR_MAX];     /* "udp:1.2.3.4:5060" where the REGISTER came from */
	char user_agent[LOC_UA_MAX];
};

/*
 * One contact of a REGISTER, to be applied to an AOR's bindings by the rules
 * of RFC 3261 §10.3 step 7: b.contact identifies the binding (compared as
 * URIs, §19.1.4); expires == 0 (b.expires <= now) removes it.
 */
struct loc_change {
	struct loc_binding b;
};

struct loc_store;

/*
 * Open the store named by url.  Returns 0, EINVAL (bad url, written as one
 * line to *why if why is not NULL: what is wrong and what to write), or an
 * errno of the backend (cannot open the file, cannot reach Redis ...).
 */
int loc_open(struct loc_store **out, const char *url, char *why, size_t whylen);

/* Close the store; no operation may be pending (callers stop first). */
void loc_close(struct loc_store *s);

/* Result of an update or lookup: err 0 and the AOR's current bindings. */
typedef void loc_result_fn(int err, const struct loc_binding *b, unsigned n, void *arg);
typedef void loc_done_fn(int err, void *arg);

/*
 * Apply the contacts of one REGISTER to aor atomically (RFC 3261 §10.3 step
 * 7): for each change, an existing binding for the same contact with the same
 * Call-ID and a CSeq not lower than the change's aborts the whole update with
 * err EALREADY (the registrar answers 500, §10.3); otherwise it is replaced
 * (expires > now) or removed.  remove_all (Contact: *, Expires: 0) removes
 * every binding, subject to the same Call-ID/CSeq rule.  More than
 * LOC_MAX_BINDINGS bindings after the update: err ENOSPC, nothing changes.
 * fn gets the bindings after the update (unexpired ones only), in no
 * particular order.  The callback comes only once the update is durable.
 */
int loc_update(struct loc_store *s, struct loop *l, const char *aor, const struct loc_change *c,
	       unsigned n, bool remove_all, uint32_t cseq, const char *call_id, loc_result_fn *fn,
	       void *arg);

/* The unexpired bindings of aor (n == 0: none). */
int loc_lookup(struct loc_store *s, struct loop *l, const char *aor, loc_result_fn *fn,
	       void *arg);

/* Remove every binding of aor. */
int loc_remove(struct loc_store *s, struct loop *l, const char *aor, loc_done_fn *fn, void *arg);

/*
 * Credentials (RFC 7616): one user "user@realm" with its HA1 digests,
 * H(user:realm:password) for MD5 and for SHA-256, as lower-case hex.  Never
 * the password itself.
 */
struct loc_user {
	char user[LOC_AOR_MAX]; /* "alice@atlanta.example" */
	char ha1_md5[33];
	char ha1_sha256[65];
};

typedef void loc_user_fn(int err, const struct loc_user *u, void *arg);

/* Find a user (err ENOENT when unknown). */
int loc_user_get(struct loc_store *s, struct loop *l, const char *user, loc_user_fn *fn,
		 void *arg);

/*
 * Synchronous calls for the command line (`ringletd user add|del|list`) and
 * for tests: they block, so never call them on a worker's loop.
 */
int loc_user_put_sync(struct loc_store *s, const struct loc_user *u);
int loc_user_del_sync(struct loc_store *s, const char *user); /* ENOENT if unknown */
/* Calls fn for every user in name order; returns 0 or an errno. */
int loc_user_list_sync(struct loc_store *s, void (*fn)(const struct loc_user *u, void *arg),
		       void *arg);

/* Bytes of the deployment's nonce secret (auth.h AUTH_SECRET_LEN). */
#define LOC_SECRET_LEN 32

/*
 * The secret that digest nonces are signed with (auth_alloc): made at random
 * the first time a store is used, then the same for every process that opens
 * the same store (SQLite file, Redis database), so every node verifies every
 * other node's nonces, and nonces survive a restart.  memory: per process.
 * Synchronous, blocking: call it at start-up, never on a worker's loop.
 * Returns 0 or an errno of the backend.
 */
int loc_secret_sync(struct loc_store *s, uint8_t out[LOC_SECRET_LEN]);

/*
 * Every unexpired binding of every AOR (for the management API and the
 * durability test), synchronous, blocking: never on a worker's loop.
 */
int loc_iterate_sync(struct loc_store *s,
		     void (*fn)(const char *aor, const struct loc_binding *b, void *arg), void *arg);

/*
 * Counters of a store since loc_open (monotonic, read without a lock).
 * commits counts transactions made durable: with SQLite's group commit it
 * stays far below the number of updates when many are queued at once.
 */
struct loc_stats {
	uint64_t ops;     /* asynchronous operations completed (any result) */
	uint64_t commits; /* SQLite: transactions committed; others: 0 */
	uint64_t expired; /* bindings removed by expiry (memory, SQLite; Redis: key TTLs) */
	uint64_t retries; /* Redis: optimistic updates retried after a concurrent write */
};

/* Copy the counters of s into *out.  Thread-safe. */
void loc_stats(struct loc_store *s, struct loc_stats *out);

/*
 * Return values and ordering, for every asynchronous call above: 0 means fn
 * will be called exactly once, later, on l's thread; an errno (EINVAL: bad
 * argument, e.g. an empty or too long aor, n > LOC_MAX_CHANGES; ENOMEM)
 * means it will not be called.  On err != 0 a loc_result_fn gets b NULL and
 * n 0, a loc_user_fn gets u NULL.  Operations not completed yet are
 * concurrent: they may take effect in any order (each one is atomic).
 * Errors of the backend: EIO (SQLite or Redis said no), EBUSY (SQLite:
 * another process held the write lock for seconds), ENOMEM, ENOTCONN (Redis
 * unreachable; the store reconnects on its own), ETIMEDOUT (Redis: no answer
 * in time), EAGAIN (Redis: the update lost a race too often).
 * In a loc_change, b.call_id and b.cseq are those of the REGISTER (when
 * b.call_id is "" the call's call_id and cseq are used and stored).  With
 * remove_all, the changes (normally none) are applied after the removal.
 * The fn of loc_iterate_sync must not call the store.
 */

/*
 * The store removes expired bindings on its own, on time, without scanning
 * the whole table (memory: a timer wheel or expiry buckets; SQLite: an
 * index on the expiry; Redis: key TTLs).  Expired bindings are never
 * returned even before they are removed.
 */

#endif
