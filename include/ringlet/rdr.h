/*
 * rdr.h - the redirect server (RFC 3261 §8.3, §21.3): a request for a user
 * of ours is answered from the location store (loc.h) instead of being
 * forwarded.
 *
 *  - The AOR has unexpired bindings: 302 Moved Temporarily with every one
 *    of them as a Contact header, highest q first (an absent q counts as
 *    1.0; equal q keep the store's order), each with ";q=" when the binding
 *    has one and ";expires=<seconds left>" (§8.3: the Contact values are the
 *    new locations; §20.10 and §20.19 the parameters).
 *  - No binding: 480 Temporarily Unavailable for a provisioned user
 *    (loc_user_get finds "user@domain"), 404 Not Found for an unknown one.
 *  - The location service failed: 500.
 *
 * The ACK for the 3xx is absorbed by the server INVITE transaction
 * (§17.2.1); a CANCEL that arrives during the lookup is answered by the
 * caller (487 on the INVITE), and the lookup's answer is then dropped by
 * the transaction (a final response was already sent).
 *
 * A struct rdr is shared by every worker: a mutex guards its list of
 * lookups in flight (taken when one starts and when it ends), so rdr_free
 * releases what the stopped loops never called back.
 */
#ifndef RINGLET_RDR_H
#define RINGLET_RDR_H

#include <stddef.h>
#include <stdint.h>

#include "ringlet/loc.h"
#include "ringlet/tsx.h"

struct rdr;

struct rdr_conf {
	struct loc_store *store; /* borrowed: must outlive the redirect server */
};

/* Create a redirect server.  Returns 0, EINVAL (no store) or ENOMEM. */
int rdr_alloc(struct rdr **out, const struct rdr_conf *conf);

/*
 * Free a redirect server (NULL-safe) once the workers are stopped and
 * their layers and loops freed: lookups still in flight are released.
 */
void rdr_free(struct rdr *r);

/*
 * Answer request rx of server transaction t (both borrowed; a reference on
 * t is kept until the answer) whose Request-URI is a sip/sips URI with a
 * user part in one of our domains.  The caller has run msg_validate and
 * keeps REGISTER, ACK, CANCEL and requests to the server itself away.
 * Every outcome ends in a final response on t, now or later on t's loop.
 */
void rdr_request(struct rdr *r, struct tsx *t, struct tp_rx *rx);

/*
 * The Contact header lines of a 302 for bindings b[0..n) at wall-clock time
 * now (seconds since the epoch): "Contact: <URI>[;q=Q];expires=S\r\n" per
 * unexpired binding, highest q first, NUL-terminated in out.  A binding
 * with a contact that cannot be printed safely (control characters,
 * spaces, '<', '>', '"') is skipped.  Returns the length (0: no usable
 * binding), or -1 when out (cap bytes) is too small.
 */
int rdr_contacts(const struct loc_binding *b, unsigned n, int64_t now, char *out, size_t cap);

#endif
