/*
 * dns_select.c - the pure steps of RFC 3263 §4: which NAPTR records a
 * client of ours can use and in which order, the SRV names to ask without
 * them, RFC 2782's ordering of SRV records, and the final destination list.
 * No I/O, no allocation; every loop is bounded by its input count.
 */
#include <arpa/inet.h>
#include <string.h>

#include "dns/dns_int.h"

static bool ieq(const char *a, const char *b)
{
	while (*a && ascii_lower(*a) == ascii_lower(*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

bool dns_name_eq(const char *a, const char *b)
{
	return ieq(a, b);
}

int dns_host_classify(const char *host, struct tp_addr *a)
{
	size_t len = strnlen(host, DNS_MAX_NAME + 1);

	if (len == 0 || len > DNS_MAX_NAME)
		return -1;
	if (tp_addr_set(a, host, len, 0) == 0)
		return DNS_HOST_NUMERIC;
	if (memchr(host, ':', len) || memchr(host, '[', len))
		return -1;
	if (ieq(host, "localhost") || ieq(host, "localhost."))
		return DNS_HOST_LOCALHOST;
	return DNS_HOST_NAME;
}

uint16_t dns_default_port(int proto)
{
	switch (proto) {
	case TP_TLS:
		return 5061;
	case TP_WS:
		return 80; /* RFC 7118 §5: a WebSocket URI's ports */
	case TP_WSS:
		return 443;
	default:
		return 5060;
	}
}

int dns_req_proto(const struct dns_req *req)
{
	int p = req->proto;

	if (p != TP_UDP && p != TP_TCP && p != TP_TLS && p != TP_WS && p != TP_WSS)
		p = TP_UDP;
	if (req->sips)
		p = (p == TP_WS || p == TP_WSS) ? TP_WSS : TP_TLS;
	return p;
}

/* RFC 3263 §4.1 services we have a transport for; 0 for anything else. */
static uint8_t naptr_proto(const char *service, bool sips)
{
	if (ieq(service, "SIPS+D2T"))
		return TP_TLS;
	if (sips)
		return 0;
	if (ieq(service, "SIP+D2U"))
		return TP_UDP;
	if (ieq(service, "SIP+D2T"))
		return TP_TCP;
	return 0;
}

unsigned dns_naptr_rrs(const struct ares_naptr_reply *list, struct dns_naptr_rr *rr, unsigned cap)
{
	unsigned n = 0;

	for (const struct ares_naptr_reply *r = list; r && n < cap; r = r->next)
		rr[n++] = (struct dns_naptr_rr){
		    .order = r->order,
		    .pref = r->preference,
		    .flags = (const char *)r->flags,
		    .service = (const char *)r->service,
		    .regexp = (const char *)r->regexp,
		    .replacement = r->replacement,
		};
	return n;
}

static bool naptr_before(const struct dns_naptr_rr *a, const struct dns_naptr_rr *b)
{
	return a->order < b->order || (a->order == b->order && a->pref < b->pref);
}

/* Stable insertion sort by (order, preference): n is bounded by the caller. */
static void naptr_sort(struct dns_naptr_rr *rr, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		struct dns_naptr_rr x = rr[i];
		unsigned j = i;

		while (j > 0 && naptr_before(&x, &rr[j - 1])) {
			rr[j] = rr[j - 1];
			j--;
		}
		rr[j] = x;
	}
}

static bool srvname_seen(const struct dns_srvname *out, unsigned k, const char *name, uint8_t proto)
{
	for (unsigned i = 0; i < k; i++)
		if (out[i].proto == proto && ieq(out[i].name, name))
			return true;
	return false;
}

unsigned dns_naptr_select(struct dns_naptr_rr *rr, unsigned n, bool sips, struct dns_srvname *out,
			  unsigned cap)
{
	unsigned k = 0;

	naptr_sort(rr, n);
	for (unsigned i = 0; i < n && k < cap; i++) {
		const struct dns_naptr_rr *r = &rr[i];
		uint8_t proto;
		size_t len;

		if (!r->flags || !r->service || !r->replacement || !ieq(r->flags, "s"))
			continue;
		if (r->regexp && r->regexp[0] != '\0') /* RFC 3403 §4.1: regexp or replacement */
			continue;
		proto = naptr_proto(r->service, sips);
		len = strnlen(r->replacement, DNS_MAX_NAME + 1);
		if (!proto || len == 0 || len > DNS_MAX_NAME || strcmp(r->replacement, ".") == 0)
			continue;
		if (srvname_seen(out, k, r->replacement, proto))
			continue;
		memcpy(out[k].name, r->replacement, len + 1);
		out[k].proto = proto;
		k++;
	}
	return k;
}

static unsigned add_srvname(struct dns_srvname *out, unsigned k, unsigned cap, const char *prefix,
			    const char *host, uint8_t proto)
{
	size_t pl = strlen(prefix), hl = strnlen(host, DNS_MAX_NAME + 1);

	if (k >= cap || pl + hl > DNS_MAX_NAME)
		return k;
	memcpy(out[k].name, prefix, pl);
	memcpy(out[k].name + pl, host, hl);
	out[k].name[pl + hl] = '\0';
	out[k].proto = proto;
	return k + 1;
}

unsigned dns_srv_fallback(const char *host, bool sips, int proto, struct dns_srvname *out,
			  unsigned cap)
{
	unsigned k = 0;

	if (proto >= 0) {
		struct dns_req r = {.host = host, .proto = proto, .sips = sips};
		int p = dns_req_proto(&r);

		if (p == TP_UDP)
			k = add_srvname(out, k, cap, "_sip._udp.", host, TP_UDP);
		else if (p == TP_TCP)
			k = add_srvname(out, k, cap, "_sip._tcp.", host, TP_TCP);
		else if (p == TP_TLS)
			k = add_srvname(out, k, cap, "_sips._tcp.", host, TP_TLS);
		return k; /* WS/WSS: no SRV name is defined (RFC 7118) */
	}
	if (!sips) {
		k = add_srvname(out, k, cap, "_sip._udp.", host, TP_UDP);
		k = add_srvname(out, k, cap, "_sip._tcp.", host, TP_TCP);
	}
	return add_srvname(out, k, cap, "_sips._tcp.", host, TP_TLS);
}

unsigned dns_srv_rrs(const struct ares_srv_reply *list, struct dns_srv_rr *rr, unsigned cap)
{
	unsigned n = 0;

	for (const struct ares_srv_reply *r = list; r && n < cap; r = r->next)
		rr[n++] = (struct dns_srv_rr){r->host, r->priority, r->weight, r->port};
	return n;
}

/* Sort key of RFC 2782: priority, then weight-0 records before the others. */
static bool srv_before(const struct dns_srv_rr *a, const struct dns_srv_rr *b)
{
	if (a->prio != b->prio)
		return a->prio < b->prio;
	return a->weight == 0 && b->weight != 0;
}

static void srv_sort(struct dns_srv_rr *rr, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		struct dns_srv_rr x = rr[i];
		unsigned j = i;

		while (j > 0 && srv_before(&x, &rr[j - 1])) {
			rr[j] = rr[j - 1];
			j--;
		}
		rr[j] = x;
	}
}

/* Weighted random choice among rr[from, to) (one priority): move the pick to rr[from]. */
static void srv_pick(struct dns_srv_rr *rr, unsigned from, unsigned to, dns_rand_fn *rnd,
		     void *rarg)
{
	uint32_t sum = 0, run = 0, r;
	unsigned i;

	for (i = from; i < to; i++)
		sum += rr[i].weight; /* <= DNS_MAX_RR-ish * 65535: no overflow for n < 65536 */
	r = sum ? rnd(rarg) % (sum + 1) : 0;
	for (i = from; i < to - 1; i++) {
		run += rr[i].weight;
		if (run >= r)
			break;
	}
	if (i != from) { /* keep the rest in order: weight-0 ones stay at the front */
		struct dns_srv_rr x = rr[i];

		memmove(&rr[from + 1], &rr[from], (i - from) * sizeof(rr[0]));
		rr[from] = x;
	}
}

unsigned dns_srv_order(struct dns_srv_rr *rr, unsigned n, dns_rand_fn *rnd, void *rarg)
{
	unsigned k = 0, i, end;

	for (i = 0; i < n; i++) /* drop "." targets (RFC 2782: decidedly not available) */
		if (rr[i].target && rr[i].target[0] && strcmp(rr[i].target, ".") != 0)
			rr[k++] = rr[i];
	srv_sort(rr, k);
	for (i = 0; i < k; i = end) {
		for (end = i + 1; end < k && rr[end].prio == rr[i].prio;)
			end++;
		for (unsigned j = i; j + 1 < end; j++)
			srv_pick(rr, j, end, rnd, rarg);
	}
	return k;
}

unsigned dns_srv_hosts(const struct dns_srv_rr *rr, unsigned n, uint8_t proto, struct dns_host *h,
		       unsigned nh, unsigned cap)
{
	for (unsigned i = 0; i < n && nh < cap; i++) {
		size_t len = strnlen(rr[i].target, DNS_MAX_NAME + 1);
		bool dup = false;

		if (len == 0 || len > DNS_MAX_NAME)
			continue;
		for (unsigned j = 0; j < nh && !dup; j++)
			dup = h[j].port == rr[i].port && h[j].proto == proto &&
			      ieq(h[j].name, rr[i].target);
		if (dup)
			continue;
		memset(&h[nh], 0, sizeof(h[nh]));
		memcpy(h[nh].name, rr[i].target, len + 1);
		h[nh].port = rr[i].port;
		h[nh].proto = proto;
		nh++;
	}
	return nh;
}

static void target_set(struct dns_target *t, const struct dns_host *h, int family, const void *ip)
{
	memset(t, 0, sizeof(*t));
	t->dest.proto = h->proto;
	if (family == AF_INET) {
		t->dest.addr.u.in.sin_family = AF_INET;
		t->dest.addr.u.in.sin_port = htons(h->port);
		memcpy(&t->dest.addr.u.in.sin_addr, ip, sizeof(struct in_addr));
	} else {
		t->dest.addr.u.in6.sin6_family = AF_INET6;
		t->dest.addr.u.in6.sin6_port = htons(h->port);
		memcpy(&t->dest.addr.u.in6.sin6_addr, ip, sizeof(struct in6_addr));
	}
	memcpy(t->name, h->name, sizeof(t->name));
}

unsigned dns_targets_build(const struct dns_host *h, unsigned nh, struct dns_target *out,
			   unsigned cap)
{
	unsigned with = 0, per, k = 0;

	for (unsigned i = 0; i < nh; i++)
		with += (h[i].n4 + h[i].n6) > 0;
	if (with == 0 || cap == 0)
		return 0;
	per = (cap + with - 1) / with;
	if (per < 2)
		per = 2;
	for (unsigned i = 0; i < nh && k < cap; i++) {
		unsigned n4 = h[i].n4 < DNS_MAX_ADDRS ? h[i].n4 : DNS_MAX_ADDRS;
		unsigned n6 = h[i].n6 < DNS_MAX_ADDRS ? h[i].n6 : DNS_MAX_ADDRS;
		unsigned end = k + per < cap ? k + per : cap;

		for (unsigned j = 0; j < n4 && k < end; j++)
			target_set(&out[k++], &h[i], AF_INET, &h[i].a4[j]);
		for (unsigned j = 0; j < n6 && k < end; j++)
			target_set(&out[k++], &h[i], AF_INET6, &h[i].a6[j]);
	}
	return k;
}
