/*
 * dns_int.h - private to src/dns: the pure selection steps of RFC 3263 §4
 * (dns_select.c), the resolver string parser (dns_conf.c) and what the
 * resolver core (dns.c) and the resolve state machine (dns_resolve.c) share.
 *
 * The selection functions do no I/O and allocate nothing, so the unit test
 * drives them table by table without a DNS server.
 */
#ifndef RINGLET_DNS_INT_H
#define RINGLET_DNS_INT_H

#include <ares.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "ringlet/dns.h"
#include "ringlet/loop.h"

/* Hard bounds: a hostile answer can never make one resolve do more. */
#define DNS_MAX_QUERIES 32 /* DNS queries sent for one dns_resolve */
#define DNS_MAX_SRVNAMES 6 /* SRV owner names looked up (NAPTR replacements or fallback) */
#define DNS_MAX_RR 32	   /* records of one answer looked at; the rest is ignored */
#define DNS_MAX_ADDRS 8	   /* addresses kept per host and family */
#define DNS_MAX_FDS 16	   /* c-ares sockets watched at once */

/* --- pure selection (dns_select.c) --- */

/* One NAPTR record as the answer carried it (RFC 3403 §4.1); strings NUL-terminated. */
struct dns_naptr_rr {
	uint16_t order;
	uint16_t pref;
	const char *flags;
	const char *service;
	const char *regexp;
	const char *replacement;
};

/* An SRV owner name to query and the transport its records mean. */
struct dns_srvname {
	char name[DNS_MAX_NAME + 1];
	uint8_t proto; /* enum tp_proto */
};

/* One SRV record (RFC 2782); target NUL-terminated. */
struct dns_srv_rr {
	const char *target;
	uint16_t prio;
	uint16_t weight;
	uint16_t port;
};

/* A host to contact (an SRV target, or the URI's host) with its addresses once known. */
struct dns_host {
	char name[DNS_MAX_NAME + 1];
	uint16_t port;
	uint8_t proto; /* enum tp_proto */
	uint8_t n4, n6;
	struct in_addr a4[DNS_MAX_ADDRS];
	struct in6_addr a6[DNS_MAX_ADDRS];
};

/* A random 32-bit value (RFC 2782's weighted choice); injectable for tests. */
typedef uint32_t dns_rand_fn(void *arg);

/* ASCII case-insensitive equality of two domain names (RFC 4343). */
bool dns_name_eq(const char *a, const char *b);

/* What a request's host is. */
enum dns_host_kind {
	DNS_HOST_NAME = 0,  /* a domain name: DNS decides */
	DNS_HOST_NUMERIC,   /* an IPv4 or IPv6 address: no query (RFC 3263 §4.1, §4.2) */
	DNS_HOST_LOCALHOST, /* "localhost": loopback, no query (RFC 6761 §6.3) */
};

/*
 * Classify host (NUL-terminated): a numeric address (IPv4, "[v6]" or bare
 * v6) is written to *a with port 0.  Returns DNS_HOST_*, or -1 when host is
 * empty, longer than DNS_MAX_NAME, or holds a ':' or '[' without being an
 * IPv6 address.
 */
int dns_host_classify(const char *host, struct tp_addr *a);

/* The default port of a transport: 5060, 5061 for TLS (RFC 3261 §19.1.2); 80/443 for WS/WSS. */
uint16_t dns_default_port(int proto);

/*
 * The transport of a request when DNS does not choose it (RFC 3263 §4.1):
 * the URI's transport, else UDP for sip and TLS for sips; sips turns UDP or
 * TCP into TLS and WS into WSS (a SIPS URI is reached over TLS only).
 */
int dns_req_proto(const struct dns_req *req);

/* The first cap records of c-ares' NAPTR list as an array (pointing into the list). */
unsigned dns_naptr_rrs(const struct ares_naptr_reply *list, struct dns_naptr_rr *rr, unsigned cap);

/*
 * RFC 3263 §4.1: keep the NAPTR records a client of ours can use -- flags
 * "s", an empty regexp, a replacement, and a service we have a transport
 * for (SIP+D2U UDP, SIP+D2T TCP, SIPS+D2T TLS; for sips only SIPS+D2T) --
 * ordered by order then preference (RFC 3403 §4.1; ties keep answer order),
 * without duplicates, into out (at most cap).  Returns the number written.
 * rr is reordered.
 */
unsigned dns_naptr_select(struct dns_naptr_rr *rr, unsigned n, bool sips, struct dns_srvname *out,
			  unsigned cap);

/*
 * RFC 3263 §4.1/§4.2 without usable NAPTR: the SRV names to query for host,
 * in our order of preference -- _sip._udp, _sip._tcp, _sips._tcp; for sips
 * _sips._tcp only; with a transport given (proto >= 0) that transport's name
 * only (_sips._tcp for TLS, none for WS/WSS).  Names longer than
 * DNS_MAX_NAME are left out.  Returns the number written (<= cap).
 */
unsigned dns_srv_fallback(const char *host, bool sips, int proto, struct dns_srvname *out,
			  unsigned cap);

/* The first cap records of c-ares' SRV list as an array (pointing into the list). */
unsigned dns_srv_rrs(const struct ares_srv_reply *list, struct dns_srv_rr *rr, unsigned cap);

/*
 * RFC 2782 "Usage rules": order rr in place by priority (lowest first) and,
 * within a priority, by repeated weighted random choice -- weight 0 records
 * first, a random r in [0, sum of weights], the first record whose running
 * sum reaches r goes next.  Records with target "." (service not available)
 * are dropped.  Returns the number kept (at the front of rr).
 */
unsigned dns_srv_order(struct dns_srv_rr *rr, unsigned n, dns_rand_fn *rnd, void *rarg);

/*
 * Append the SRV records rr (already ordered) as hosts with transport proto
 * to h (nh used, cap total), skipping names longer than DNS_MAX_NAME and
 * exact duplicates.  Returns the new count.
 */
unsigned dns_srv_hosts(const struct dns_srv_rr *rr, unsigned n, uint8_t proto, struct dns_host *h,
		       unsigned nh, unsigned cap);

/*
 * RFC 3263 §4.2/§4.3: the destinations in the order to try them -- host
 * by host, each host's IPv4 addresses then its IPv6 ones.  So that one host
 * with many addresses cannot push the others' out of the bounded list, a
 * host gets at most max(2, ceil(cap / hosts with addresses)) entries.
 * Returns the number written (<= cap).
 */
unsigned dns_targets_build(const struct dns_host *h, unsigned nh, struct dns_target *out,
			   unsigned cap);

/* --- the resolver string (dns_conf.c) --- */

#define DNS_CSV_MAX 80 /* "[v6]:port" and its NUL */

enum dns_mode {
	DNS_MODE_SYSTEM = 0, /* /etc/resolv.conf */
	DNS_MODE_OFF,	     /* no DNS at all */
	DNS_MODE_SERVER,     /* one numeric server */
};

/*
 * Parse conf.server: NULL or "" system, "off" (any case) off, else
 * "IPV4[:PORT]" or "[IPV6][:PORT]" (port 1..65535, default 53) written to
 * csv as c-ares' "ip:port" / "[ip]:port" server list.  Returns the mode, or
 * -1 with a reason in *why (a static string) when the string is malformed.
 */
int dns_conf_server(const char *s, char *csv, size_t cap, const char **why);

/* --- the resolver and its queries (dns.c, dns_resolve.c) --- */

struct dns {
	struct loop *lp;
	ares_channel ch; /* NULL when DNS is off */
	int mode;	 /* enum dns_mode */
	bool lib;	 /* holds an ares_library_init */
	unsigned stage_ms;
	uint64_t rnd;		/* splitmix64 state for RFC 2782 choices */
	struct dns_query *live; /* queries not yet delivered nor cancelled */
	struct loop_timer tmr;	/* c-ares' next timeout */
	int fds[DNS_MAX_FDS];	/* c-ares sockets on the loop; -1 free */
	struct dns_stats stats;
};

/* A random value from d's generator (dns_rand_fn). */
uint32_t dns_rand(void *d);

/* Re-arm d's timer from ares_timeout: call after anything that may have sent a query. */
void dns_kick(struct dns *d);

#endif
