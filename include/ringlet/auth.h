/*
 * auth.h - HTTP digest authentication for SIP (RFC 3261 §22, RFC 7616,
 * RFC 8760): challenges, stateless nonces, response verification.
 *
 * Nonces carry their creation time and an HMAC-SHA-256 over it with a
 * server secret, so any node that shares the secret verifies them without
 * shared state.  Nonce-count replay is caught by a small per-process cache
 * of (nonce, highest nc) entries; a node that never saw a nonce accepts its
 * first nc and remembers it.
 */
#ifndef RINGLET_AUTH_H
#define RINGLET_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringlet/msg.h"

#define AUTH_SECRET_LEN 32
#define AUTH_NONCE_MAX 96

enum auth_alg {
	AUTH_MD5 = 1,
	AUTH_SHA256,
};

struct auth;

/*
 * Create a verifier.  secret: AUTH_SECRET_LEN bytes shared by every node of a
 * deployment (NULL: random, good for one node).  nonce_ttl: seconds a nonce
 * stays valid (then stale=true).  Returns 0, ENOMEM, or EIO (no random bytes).
 * Thread-safe.  Nonces are dated by the wall clock, which the nodes sharing a
 * secret must agree on (within 30 s); the replay cache is per struct auth
 * (bounded: a fixed table, the oldest nonce of a full slot is forgotten).
 */
int auth_alloc(struct auth **out, const uint8_t *secret, unsigned nonce_ttl);
void auth_free(struct auth *a);

/* HA1 = H(user ":" realm ":" password) as lower-case hex into out (33 or 65 bytes). */
void auth_ha1(enum auth_alg alg, const char *user, const char *realm, const char *password,
	      char *out);

/*
 * Header lines of a challenge (401 with WWW-Authenticate, 407 with
 * Proxy-Authenticate): both algorithms, SHA-256 first (RFC 8760 §2.4),
 * qop="auth", a fresh nonce, stale=true when asked.  Written into out with
 * CRLFs, NUL-terminated.  Returns the length, or -1 if cap is too small (or
 * the realm is longer than 255 bytes or holds control characters; '"' and
 * '\' are escaped).
 */
int auth_challenge(struct auth *a, const char *realm, bool proxy, bool stale, char *out,
		   size_t cap);

/* A set of algorithms: AUTH_ALG(AUTH_MD5) | AUTH_ALG(AUTH_SHA256); 0 means all. */
#define AUTH_ALG(alg) (1u << (alg))

/* As auth_challenge, offering only the algorithms in algs (0: all), in the same order. */
int auth_challenge_algs(struct auth *a, const char *realm, bool proxy, bool stale, unsigned algs,
			char *out, size_t cap);

/*
 * Do m's Digest credentials for realm (Authorization, or Proxy-Authorization
 * when proxy) use an algorithm of algs (0: all)?  An answer by an algorithm
 * a server withdrew must be challenged again, or withdrawing it protects
 * nothing.  False when no credentials for realm use one.
 */
bool auth_alg_allowed(const struct msg *m, const char *realm, bool proxy, unsigned algs);

/* What auth_check decided. */
enum auth_result {
	AUTH_OK = 0,
	AUTH_NONE,     /* no credentials for this realm: challenge */
	AUTH_BAD,      /* wrong response, unknown user, bad syntax: challenge again */
	AUTH_STALE,    /* right response, expired nonce: challenge with stale=true */
	AUTH_REPLAY,   /* nonce-count not above the last one seen: challenge */
};

/*
 * The credentials of request m for realm (Authorization, or
 * Proxy-Authorization when proxy): the username in *user (NUL-terminated,
 * cap usercap) so the caller can fetch its HA1, or AUTH_NONE / AUTH_BAD.
 * The credentials are the first element of that header whose scheme is
 * Digest and whose realm equals realm byte for byte.  A username that does
 * not fit, is empty or holds control characters is AUTH_BAD.
 */
enum auth_result auth_credentials(const struct msg *m, const char *realm, bool proxy, char *user,
				  size_t usercap);

/*
 * Verify request m's credentials for realm against the user's HA1 digests
 * (ha1_md5 / ha1_sha256, hex; NULL when the user is unknown: the answer is
 * AUTH_BAD after the same work, so timing does not tell unknown users from
 * wrong passwords).  Checks the nonce HMAC and age, the digest uri against
 * the Request-URI, qop=auth, nc against replay, and the response.
 * Accepted: algorithm MD5 (also when absent) or SHA-256, qop=auth only (qop
 * is mandatory in RFC 7616; the RFC 2069 form without it is AUTH_BAD), the
 * digest uri equal to the Request-URI byte for byte or as a URI (RFC 3261
 * §19.1.4).  AUTH_STALE only for a right response; the nonce-count is
 * recorded only for a right response on a live nonce.
 */
enum auth_result auth_check(struct auth *a, const struct msg *m, const char *realm, bool proxy,
			    const char *ha1_md5, const char *ha1_sha256);

/*
 * Client side (RFC 3261 §22.2 / §22.3, RFC 7616 §3.4, RFC 8760): answer the
 * Digest challenges of a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate)
 * response resp for a request with method and Request-URI uri.
 *
 * One credentials line per realm ("Authorization: Digest ..." or
 * "Proxy-Authorization: Digest ...", each ending in CRLF) is written into
 * out, NUL-terminated: for each realm the strongest algorithm offered that we
 * support (SHA-256, then MD5; other algorithms are skipped), qop=auth when the
 * challenge offers it (with a fresh random cnonce and nonce-count nc), the
 * RFC 2069 form when it offers no qop, skipped when it offers only other
 * qops.  opaque is echoed.  user and password are ours; the user is quoted
 * (a '"' or '\' in it is escaped, control characters refuse).
 * *stale is set when an answered challenge says stale=true (so a retry with
 * the same password makes sense).
 * Returns the length written, 0 when no challenge could be answered, or -1
 * when out is too small or an input is unusable.
 */
int auth_client_answer(const struct msg *resp, const char *method, const char *uri,
		       const char *user, const char *password, uint32_t nc, bool *stale,
		       char *out, size_t cap);

#endif
