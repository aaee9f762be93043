/*
 * dns.h - locating SIP servers (RFC 3263) with c-ares, on an event loop.
 *
 * One struct dns per loop (a worker): c-ares' sockets are watched by that
 * loop and its timeouts run on that loop's timer wheel, so every callback
 * runs on the loop thread and nothing is shared between workers.
 *
 * dns_resolve turns the host part of a SIP/SIPS URI into an ordered list of
 * destinations, as RFC 3263 §4 says:
 *  - a numeric host (IPv4, [IPv6]): no query; the port given or 5060/5061,
 *    the transport given or UDP (TLS for sips), at once (still through the
 *    callback, from a zero-delay loop timer -- unlike a loop_post it can be
 *    cancelled -- never from inside dns_resolve);
 *  - a host name with a port: A and AAAA for it (§4.2), transport as above;
 *  - a host name with no port: NAPTR (§4.1: SIP+D2U, SIP+D2T, SIPS+D2T ...
 *    the services we have a transport for, by order then preference; for
 *    sips only SIPS+ services), each "S" replacement resolved by SRV; with
 *    no usable NAPTR, SRV _sip._udp / _sip._tcp / _sips._tcp; with no SRV,
 *    A/AAAA port 5060/5061 (§4.2).  When the URI names a transport, no
 *    NAPTR is asked (§4.1: that transport MUST be used): only its SRV name,
 *    then A/AAAA.  SRV targets ordered by priority, by RFC 2782's weighted
 *    random choice within a priority; each target's addresses (A first,
 *    then AAAA) in turn;
 *  - "localhost" is never asked (RFC 6761 §6.3): 127.0.0.1 then ::1.
 * Every list is bounded (DNS_MAX_TARGETS), so is the number of queries of
 * one resolve (32), and every step in time: conf.timeout_ms per try,
 * conf.tries tries per server (a resolve has at most three steps: NAPTR,
 * SRV, addresses).  A step no server answered ends the resolve with
 * ETIMEDOUT (falling back to SRV and A would triple the wait); a step that
 * answered with an error (SERVFAIL, REFUSED, a bad answer) counts as "no
 * records" and the §4 fallback goes on.  There is no cache (c-ares 1.18 has
 * none): every resolve asks again.  The loop should run on the monotonic
 * clock: c-ares keeps real time.
 *
 * With DNS off (conf.server "off"), a host name is resolved only when it is
 * "localhost" (127.0.0.1, ::1); anything else fails with EHOSTUNREACH and
 * no packet is sent.
 */
#ifndef RINGLET_DNS_H
#define RINGLET_DNS_H

#include <stdint.h>

#include "ringlet/base.h"
#include "ringlet/loop.h"
#include "ringlet/tp.h"

#define DNS_MAX_TARGETS 16
#define DNS_MAX_NAME 255

struct dns;
struct dns_query;

struct dns_conf {
	/* NULL or "": the system's resolvers (/etc/resolv.conf); "off": no
	 * DNS; else "HOST:PORT" or "[V6]:PORT" (numeric; no port: 53), the
	 * only server. */
	const char *server;
	unsigned timeout_ms; /* per try; 0: 2000 */
	unsigned tries;	     /* 0: 2 */
};

/* What to resolve: the parts of a SIP/SIPS URI RFC 3263 looks at. */
struct dns_req {
	const char *host; /* NUL-terminated; "[v6]" or v4 or a name (<= 255) */
	uint16_t port;	  /* 0: none given */
	int proto;	  /* enum tp_proto given by ;transport=, or -1: none */
	bool sips;	  /* sips: URI (TLS only) */
};

/* One destination, in the order to try them. */
struct dns_target {
	struct tp_dest dest;	     /* proto and addr set; conn NULL, local any */
	char name[DNS_MAX_NAME + 1]; /* the host it came from (SRV target or host) */
};

/*
 * Called once per dns_resolve that returned 0, on the loop thread, unless
 * the query was cancelled first.  err 0: n >= 1 targets (valid only during
 * the call); ENOENT: the name does not exist or has no usable record;
 * ETIMEDOUT: no server answered; EHOSTUNREACH: DNS is off; EPROTO: bad
 * answers; ENOMEM.
 */
typedef void dns_fn(int err, const struct dns_target *t, unsigned n, void *arg);

/* Counters of one resolver, for metrics and tests. */
struct dns_stats {
	uint64_t resolves;  /* dns_resolve calls that returned 0 */
	uint64_t queries;   /* DNS queries handed to c-ares (0 forever with DNS off) */
	uint64_t timeouts;  /* resolves that ended in ETIMEDOUT (a step no server answered) */
	uint64_t delivered; /* callbacks made (with any err) */
};

/*
 * Create the resolver for loop lp (conf NULL: all defaults).  Returns 0,
 * EINVAL (a bad conf.server, which is then named in one error log line),
 * or ENOMEM / an initialisation error of c-ares as EIO.  With the system's
 * resolvers, c-ares reads /etc/resolv.conf here (no packet is sent until a
 * dns_resolve needs one).  timeout_ms is capped at 60000, tries at 10.
 */
int dns_alloc(struct dns **out, struct loop *lp, const struct dns_conf *conf);

/*
 * Free (NULL-safe): pending queries are cancelled without callbacks (their
 * handles become invalid).  May be called from inside a dns_fn callback.
 */
void dns_free(struct dns *d);

/*
 * Start resolving req as RFC 3263 §4 says (see the top of this file; SRV
 * order per RFC 2782).  On 0, fn will be called exactly once (later, from a
 * loop timer of d's loop, never from inside this call) unless dns_cancel(*q)
 * or dns_free(d) comes first; q may be NULL when the caller never cancels.
 * EINVAL: a malformed request (no host, empty, longer than DNS_MAX_NAME, a
 * ':' or '[' that is not an IPv6 address); ENOMEM.
 */
int dns_resolve(struct dns *d, const struct dns_req *req, dns_fn *fn, void *arg,
		struct dns_query **q);

/*
 * Cancel a pending query: its callback will not be called.  NULL-safe.  The
 * handle is valid from dns_resolve until the callback returns or until this
 * call; cancelling from inside the query's own callback does nothing.
 */
void dns_cancel(struct dns_query *q);

/* d's counters so far. */
void dns_stats_get(const struct dns *d, struct dns_stats *out);

#endif
