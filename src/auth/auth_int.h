/*
 * auth_int.h - the inside of digest authentication (auth.h): the verifier
 * object, stateless nonces, the nonce-count cache, hashing, and the hooks the
 * unit tests use (clock, cache size).
 */
#ifndef RINGLET_AUTH_INT_H
#define RINGLET_AUTH_INT_H

#include <pthread.h>

#include "ringlet/auth.h"

/*
 * A nonce is the lower-case hex of 32 bytes (RFC 7616 §3.3 leaves its form
 * to the server):
 *   [0..8)   creation time, seconds since the epoch, big-endian (wall clock:
 *            every node of a deployment must read the same time)
 *   [8..16)  random bytes, so every challenge has a nonce of its own
 *   [16..32) HMAC-SHA-256(secret, label | time | random | realm), first 16 bytes
 * The MAC binds the nonce to its realm, and is the nonce's key in the
 * nonce-count cache.
 */
#define AUTH_NONCE_RAW 32
#define AUTH_NONCE_HEX (2 * AUTH_NONCE_RAW)
#define AUTH_MAC_LEN 16
#define AUTH_REALM_MAX 255 /* longer realms are refused */
/* A nonce dated this many seconds in the future still counts (clock skew between nodes). */
#define AUTH_SKEW 30

/* Default size of the nonce-count cache, in entries. */
#define AUTH_NC_DEFAULT 32768u
#define AUTH_NC_WAYS 4u	  /* entries per set; a new nonce evicts the oldest of its set */
#define AUTH_NC_LOCKS 64u /* sets share these mutexes round-robin */

typedef int64_t auth_clock_fn(void *arg);

struct auth_nc_entry {
	uint8_t key[AUTH_MAC_LEN]; /* the nonce's MAC */
	int64_t ts;		   /* the nonce's creation time; 0: free */
	uint32_t nc;		   /* highest nonce-count accepted */
};

struct auth {
	uint8_t secret[AUTH_SECRET_LEN];
	unsigned ttl;
	auth_clock_fn *clock; /* NULL: the wall clock */
	void *clock_arg;
	char dummy_md5[33]; /* HA1s of no user, for unknown users (same work) */
	char dummy_sha256[65];
	uint32_t nsets; /* power of two */
	struct auth_nc_entry *nc;
	pthread_mutex_t locks[AUTH_NC_LOCKS];
};

/* auth_alloc with a nonce-count cache of about `entries` entries (rounded up). */
int auth_alloc_cache(struct auth **out, const uint8_t *secret, unsigned nonce_ttl,
		     unsigned entries);

/* Replace the clock (seconds since the epoch) before the verifier is shared. */
void auth_set_clock(struct auth *a, auth_clock_fn *fn, void *arg);

/* The verifier's idea of now. */
int64_t auth_now(const struct auth *a);

/*
 * Write a fresh nonce for realm (NUL-terminated, AUTH_NONCE_HEX chars) into
 * out.  Returns 0, EINVAL (realm too long) or EIO (no random bytes).
 */
int auth_nonce_make(struct auth *a, const char *realm, size_t realmlen, int64_t now,
		    char out[AUTH_NONCE_HEX + 1]);

/*
 * Check that nonce[0..len) was made by a verifier with our secret for realm.
 * Returns true and writes its creation time and MAC (the cache key).
 */
bool auth_nonce_verify(const struct auth *a, const char *realm, size_t realmlen, const char *nonce,
		       size_t len, int64_t *ts, uint8_t mac[AUTH_MAC_LEN]);

/*
 * Record nonce-count nc for the nonce with this MAC and time: AUTH_OK when nc
 * is above every count seen for it (or it is new to this process),
 * AUTH_REPLAY otherwise.  Thread-safe.
 */
enum auth_result auth_nc_check(struct auth *a, const uint8_t mac[AUTH_MAC_LEN], int64_t ts,
			       uint32_t nc, int64_t now);

/* One piece of a hashed string. */
struct auth_part {
	const char *p;
	size_t len;
};

/* Lower-case hex digest of the concatenated parts into out (33 or 65 bytes). */
void auth_hash_hex(enum auth_alg alg, const struct auth_part *parts, unsigned n, char *out);

/* Inputs of a qop=auth response (RFC 7616 §3.4.1). */
struct auth_resp {
	struct auth_part ha1, nonce, nc, cnonce, qop, method, uri;
};

/* response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" H(method ":" uri)), hex. */
void auth_response(enum auth_alg alg, const struct auth_resp *r, char *out);

#endif
