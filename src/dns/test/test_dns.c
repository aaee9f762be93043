/*
 * test_dns.c - the pure RFC 3263 / RFC 2782 steps of src/dns, table by
 * table, without DNS: host classification, transports and default ports,
 * the resolver string, NAPTR filtering and ordering, the SRV fallback
 * names, SRV ordering with scripted random values (and its distribution),
 * host lists and the bounded destination list.  test_dns_live.c resolves
 * against a dnsmasq of its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dns/dns_int.h"

/* --- host classification, transports, ports --- */

static void t_classify(void **state)
{
	static const struct {
		const char *host;
		int kind;
		int family;
	} tab[] = {
	    {"127.0.0.1", DNS_HOST_NUMERIC, AF_INET},
	    {"[::1]", DNS_HOST_NUMERIC, AF_INET6},
	    {"::1", DNS_HOST_NUMERIC, AF_INET6},
	    {"[2001:db8::5]", DNS_HOST_NUMERIC, AF_INET6},
	    {"localhost", DNS_HOST_LOCALHOST, 0},
	    {"LocalHost.", DNS_HOST_LOCALHOST, 0},
	    {"localhost.example", DNS_HOST_NAME, 0},
	    {"biloxi.example", DNS_HOST_NAME, 0},
	    {"1.2.3.4.example", DNS_HOST_NAME, 0},
	    {"", -1, 0},
	    {"a:b", -1, 0},
	    {"[x]", -1, 0},
	    {"[127.0.0.1]", -1, 0}, /* brackets are for IPv6 only */
	    {"[::1", -1, 0},
	};
	char long_name[DNS_MAX_NAME + 2];
	struct tp_addr a;

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(tab); i++) {
		memset(&a, 0, sizeof(a));
		assert_int_equal(dns_host_classify(tab[i].host, &a), tab[i].kind);
		if (tab[i].family)
			assert_int_equal(a.u.sa.sa_family, tab[i].family);
	}
	memset(long_name, 'a', sizeof(long_name));
	long_name[DNS_MAX_NAME] = '\0'; /* 255: the longest accepted */
	assert_int_equal(dns_host_classify(long_name, &a), DNS_HOST_NAME);
	long_name[DNS_MAX_NAME] = 'a';
	long_name[DNS_MAX_NAME + 1] = '\0'; /* 256 */
	assert_int_equal(dns_host_classify(long_name, &a), -1);
}

static void t_proto_port(void **state)
{
	static const struct {
		int proto;
		bool sips;
		int want;
	} tab[] = {
	    {-1, false, TP_UDP},     {-1, true, TP_TLS},     {TP_UDP, false, TP_UDP},
	    {TP_TCP, false, TP_TCP}, {TP_TCP, true, TP_TLS}, {TP_UDP, true, TP_TLS},
	    {TP_TLS, false, TP_TLS}, {TP_WS, false, TP_WS},  {TP_WS, true, TP_WSS},
	    {99, false, TP_UDP},
	};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(tab); i++) {
		struct dns_req r = {.host = "x", .proto = tab[i].proto, .sips = tab[i].sips};

		assert_int_equal(dns_req_proto(&r), tab[i].want);
	}
	assert_int_equal(dns_default_port(TP_UDP), 5060);
	assert_int_equal(dns_default_port(TP_TCP), 5060);
	assert_int_equal(dns_default_port(TP_TLS), 5061);
	assert_int_equal(dns_default_port(TP_WSS), 443);
}

/* --- the resolver string --- */

static void t_conf_server(void **state)
{
	static const struct {
		const char *s;
		int mode;
		const char *csv;
	} tab[] = {
	    {NULL, DNS_MODE_SYSTEM, NULL},
	    {"", DNS_MODE_SYSTEM, NULL},
	    {"off", DNS_MODE_OFF, NULL},
	    {"OFF", DNS_MODE_OFF, NULL},
	    {"127.0.0.1:5353", DNS_MODE_SERVER, "127.0.0.1:5353"},
	    {"10.1.2.3", DNS_MODE_SERVER, "10.1.2.3:53"},
	    {"[::1]:5300", DNS_MODE_SERVER, "[::1]:5300"},
	    {"[0:0::1]", DNS_MODE_SERVER, "[::1]:53"},
	    {"127.0.0.1:65535", DNS_MODE_SERVER, "127.0.0.1:65535"},
	    {"offf", -1, NULL},
	    {"::1", -1, NULL},
	    {"::1:53", -1, NULL},
	    {"ns.example:53", -1, NULL},
	    {"1.2.3.4:0", -1, NULL},
	    {"1.2.3.4:65536", -1, NULL},
	    {"1.2.3.4:", -1, NULL},
	    {"1.2.3.4:5a", -1, NULL},
	    {"1.2.3.4:000053", -1, NULL},
	    {"1.2.3.256:53", -1, NULL},
	    {"[::1", -1, NULL},
	    {"[::1]x", -1, NULL},
	    {"[::1]:", -1, NULL},
	    {"[]:53", -1, NULL},
	    {"[127.0.0.1]:53", -1, NULL},
	    {":53", -1, NULL},
	    {"1.2.3.4 :53", -1, NULL},
	    {"[::1]:53:53", -1, NULL},
	    {"1111111111111111111111111111111111111111111111111111111111111.1:53", -1, NULL},
	};
	char csv[DNS_CSV_MAX];
	const char *why;

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(tab); i++) {
		int mode = dns_conf_server(tab[i].s, csv, sizeof(csv), &why);

		if (mode != tab[i].mode)
			fail_msg("%s: mode %d, want %d", tab[i].s ? tab[i].s : "(null)", mode,
				 tab[i].mode);
		if (mode < 0)
			assert_non_null(why);
		if (tab[i].csv)
			assert_string_equal(csv, tab[i].csv);
	}
}

/* --- NAPTR (RFC 3263 §4.1, RFC 3403) --- */

#define NAPTR(o, p, f, s, r)                                                                       \
	{                                                                                          \
		o, p, f, s, "", r                                                                  \
	}

struct naptr_case {
	const char *what;
	bool sips;
	unsigned cap;
	unsigned n;
	struct dns_naptr_rr rr[8];
	unsigned nwant;
	const char *want[6];
	uint8_t want_proto[6];
};

static const struct naptr_case naptr_cases[] = {
    {"RFC 3263 §4.1 example",
     false,
     6,
     3,
     {NAPTR(50, 50, "s", "SIPS+D2T", "_sips._tcp.example.com"),
      NAPTR(90, 50, "s", "SIP+D2T", "_sip._tcp.example.com"),
      NAPTR(100, 50, "s", "SIP+D2U", "_sip._udp.example.com")},
     3,
     {"_sips._tcp.example.com", "_sip._tcp.example.com", "_sip._udp.example.com"},
     {TP_TLS, TP_TCP, TP_UDP}},
    {"sips keeps SIPS+ only",
     true,
     6,
     3,
     {NAPTR(10, 10, "s", "SIP+D2U", "_sip._udp.x"), NAPTR(20, 10, "s", "SIPS+D2T", "_sips._tcp.x"),
      NAPTR(5, 10, "s", "SIP+D2T", "_sip._tcp.x")},
     1,
     {"_sips._tcp.x"},
     {TP_TLS}},
    {"order before preference",
     false,
     6,
     2,
     {NAPTR(20, 1, "s", "SIP+D2U", "u.x"), NAPTR(10, 99, "s", "SIP+D2T", "t.x")},
     2,
     {"t.x", "u.x"},
     {TP_TCP, TP_UDP}},
    {"preference within an order",
     false,
     6,
     3,
     {NAPTR(10, 30, "s", "SIP+D2U", "a.x"), NAPTR(10, 10, "s", "SIP+D2T", "b.x"),
      NAPTR(10, 20, "s", "SIPS+D2T", "c.x")},
     3,
     {"b.x", "c.x", "a.x"},
     {TP_TCP, TP_TLS, TP_UDP}},
    {"ties keep answer order",
     false,
     6,
     2,
     {NAPTR(10, 10, "s", "SIP+D2U", "first.x"), NAPTR(10, 10, "s", "SIP+D2U", "second.x")},
     2,
     {"first.x", "second.x"},
     {TP_UDP, TP_UDP}},
    {"services, flags and fields we cannot use",
     false,
     6,
     8,
     {NAPTR(1, 1, "s", "SIP+D2S", "sctp.x"),
      NAPTR(2, 1, "u", "E2U+sip", "enum.x"),
      NAPTR(3, 1, "a", "SIP+D2U", "aflag.x"),
      NAPTR(4, 1, "", "SIP+D2U", "noflag.x"),
      {5, 1, "s", "SIP+D2U", "!^.*$!sip:x!", "regexp.x"},
      NAPTR(6, 1, "s", "SIP+D2U", "."),
      NAPTR(7, 1, "S", "sip+d2u", "ok.x"),
      NAPTR(8, 1, "s", "SIPS+D2U", "sipsudp.x")},
     1,
     {"ok.x"},
     {TP_UDP}},
    {"duplicates once",
     false,
     6,
     3,
     {NAPTR(1, 1, "s", "SIP+D2U", "d.x"), NAPTR(2, 1, "s", "SIP+D2U", "D.X"),
      NAPTR(3, 1, "s", "SIP+D2T", "d.x")},
     2,
     {"d.x", "d.x"},
     {TP_UDP, TP_TCP}},
    {"bounded by cap",
     false,
     2,
     4,
     {NAPTR(4, 1, "s", "SIP+D2U", "4.x"), NAPTR(3, 1, "s", "SIP+D2U", "3.x"),
      NAPTR(2, 1, "s", "SIP+D2U", "2.x"), NAPTR(1, 1, "s", "SIP+D2U", "1.x")},
     2,
     {"1.x", "2.x"},
     {TP_UDP, TP_UDP}},
    {"missing strings",
     false,
     6,
     2,
     {{1, 1, NULL, "SIP+D2U", "", "n.x"}, {2, 1, "s", "SIP+D2U", NULL, "noregexp.x"}},
     1,
     {"noregexp.x"},
     {TP_UDP}},
};

static void t_naptr(void **state)
{
	(void)state;
	for (unsigned c = 0; c < ARRAY_SIZE(naptr_cases); c++) {
		const struct naptr_case *tc = &naptr_cases[c];
		struct dns_naptr_rr rr[8];
		struct dns_srvname out[6];
		unsigned k;

		memcpy(rr, tc->rr, sizeof(rr));
		k = dns_naptr_select(rr, tc->n, tc->sips, out, tc->cap);
		if (k != tc->nwant)
			fail_msg("%s: %u names, want %u", tc->what, k, tc->nwant);
		for (unsigned i = 0; i < k; i++) {
			if (strcmp(out[i].name, tc->want[i]) != 0 ||
			    out[i].proto != tc->want_proto[i])
				fail_msg("%s: [%u] %s/%u, want %s/%u", tc->what, i, out[i].name,
					 out[i].proto, tc->want[i], tc->want_proto[i]);
		}
	}
}

static void t_naptr_long_replacement(void **state)
{
	char name[DNS_MAX_NAME + 2];
	struct dns_naptr_rr rr[1] = {NAPTR(1, 1, "s", "SIP+D2U", name)};
	struct dns_srvname out[1];

	(void)state;
	memset(name, 'r', sizeof(name));
	name[DNS_MAX_NAME + 1] = '\0';
	assert_int_equal(dns_naptr_select(rr, 1, false, out, 1), 0);
	name[DNS_MAX_NAME] = '\0';
	assert_int_equal(dns_naptr_select(rr, 1, false, out, 1), 1);
	assert_int_equal(strlen(out[0].name), DNS_MAX_NAME);
}

/* --- SRV names without NAPTR (RFC 3263 §4.1 end, §4.2) --- */

static void t_srv_fallback(void **state)
{
	static const struct {
		bool sips;
		int proto;
		unsigned n;
		const char *want[3];
		uint8_t wp[3];
	} tab[] = {
	    {false,
	     -1,
	     3,
	     {"_sip._udp.h.x", "_sip._tcp.h.x", "_sips._tcp.h.x"},
	     {TP_UDP, TP_TCP, TP_TLS}},
	    {true, -1, 1, {"_sips._tcp.h.x"}, {TP_TLS}},
	    {false, TP_UDP, 1, {"_sip._udp.h.x"}, {TP_UDP}},
	    {false, TP_TCP, 1, {"_sip._tcp.h.x"}, {TP_TCP}},
	    {false, TP_TLS, 1, {"_sips._tcp.h.x"}, {TP_TLS}},
	    {true, TP_TCP, 1, {"_sips._tcp.h.x"}, {TP_TLS}},
	    {false, TP_WS, 0, {NULL}, {0}},
	};
	struct dns_srvname out[DNS_MAX_SRVNAMES];
	char host[DNS_MAX_NAME + 1];

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(tab); i++) {
		unsigned k = dns_srv_fallback("h.x", tab[i].sips, tab[i].proto, out, 6);

		assert_int_equal(k, tab[i].n);
		for (unsigned j = 0; j < k; j++) {
			assert_string_equal(out[j].name, tab[i].want[j]);
			assert_int_equal(out[j].proto, tab[i].wp[j]);
		}
	}
	assert_int_equal(dns_srv_fallback("h.x", false, -1, out, 2), 2); /* cap */
	memset(host, 'h', sizeof(host));
	host[DNS_MAX_NAME - 10] = '\0'; /* "_sip._udp." + 245 = 255: fits; "_sips._tcp." not */
	assert_int_equal(dns_srv_fallback(host, false, -1, out, 6), 2);
	assert_int_equal(strlen(out[0].name), DNS_MAX_NAME);
}

/* --- SRV ordering (RFC 2782) --- */

struct script {
	const uint32_t *v;
	unsigned n, i;
};

static uint32_t scripted(void *arg)
{
	struct script *s = arg;

	assert_true(s->i < s->n); /* the ordering asks no more values than expected */
	return s->v[s->i++];
}

struct srv_case {
	const char *what;
	unsigned n;
	struct dns_srv_rr rr[6];
	unsigned nr;
	uint32_t r[6];
	unsigned nwant;
	const char *want[6];
};

static const struct srv_case srv_cases[] = {
    {"priority first, lowest wins",
     3,
     {{"c", 30, 0, 1}, {"a", 10, 0, 1}, {"b", 20, 0, 1}},
     0,
     {0},
     3,
     {"a", "b", "c"}},
    {"weights 10/20/70, r=0 -> first",
     3,
     {{"a", 1, 10, 1}, {"b", 1, 20, 1}, {"c", 1, 70, 1}},
     2,
     {0, 0},
     3,
     {"a", "b", "c"}},
    {"r=10 still the first, r=11 the second",
     3,
     {{"a", 1, 10, 1}, {"b", 1, 20, 1}, {"c", 1, 70, 1}},
     2,
     {11, 10},
     3,
     {"b", "a", "c"}},
    {"r=31 the third, then r=30 the second",
     3,
     {{"a", 1, 10, 1}, {"b", 1, 20, 1}, {"c", 1, 70, 1}},
     2,
     {31, 30},
     3,
     {"c", "b", "a"}},
    {"r modulo sum+1",
     3,
     {{"a", 1, 10, 1}, {"b", 1, 20, 1}, {"c", 1, 70, 1}},
     2,
     {101 + 11, 0},
     3,
     {"b", "a", "c"}},
    {"weight 0 first, chosen only by r=0",
     2,
     {{"w", 1, 10, 1}, {"z", 1, 0, 1}},
     1,
     {0},
     2,
     {"z", "w"}},
    {"weight 0 skipped by r>0", 2, {{"w", 1, 10, 1}, {"z", 1, 0, 1}}, 1, {1}, 2, {"w", "z"}},
    {"all weights 0: answer order, no random",
     3,
     {{"a", 5, 0, 1}, {"b", 5, 0, 1}, {"c", 5, 0, 1}},
     0,
     {0},
     3,
     {"a", "b", "c"}},
    {"'.' and empty targets dropped",
     4,
     {{".", 1, 0, 1}, {"a", 2, 0, 1}, {"", 1, 0, 1}, {"b", 3, 0, 1}},
     0,
     {0},
     2,
     {"a", "b"}},
    {"only '.'", 1, {{".", 0, 0, 0}}, 0, {0}, 0, {NULL}},
    {"two priorities, weighted inside each",
     4,
     {{"p2a", 2, 1, 1}, {"p1a", 1, 1, 1}, {"p2b", 2, 3, 1}, {"p1b", 1, 3, 1}},
     2,
     {4, 2},
     4,
     {"p1b", "p1a", "p2b", "p2a"}},
    {"huge random values",
     2,
     {{"a", 1, 65535, 1}, {"b", 1, 65535, 1}},
     1,
     {UINT32_MAX},
     2,
     {"a", "b"}},
};

static void t_srv_order(void **state)
{
	(void)state;
	for (unsigned c = 0; c < ARRAY_SIZE(srv_cases); c++) {
		const struct srv_case *tc = &srv_cases[c];
		struct script s = {tc->r, tc->nr, 0};
		struct dns_srv_rr rr[6];
		unsigned k;

		memcpy(rr, tc->rr, sizeof(rr));
		k = dns_srv_order(rr, tc->n, scripted, &s);
		if (k != tc->nwant)
			fail_msg("%s: kept %u, want %u", tc->what, k, tc->nwant);
		for (unsigned i = 0; i < k; i++)
			if (strcmp(rr[i].target, tc->want[i]) != 0)
				fail_msg("%s: [%u] %s, want %s", tc->what, i, rr[i].target,
					 tc->want[i]);
		if (s.i != tc->nr)
			fail_msg("%s: used %u random values, want %u", tc->what, s.i, tc->nr);
	}
}

/* xorshift64*: a fixed seed, so the distribution check replays exactly. */
static uint32_t xrand(void *arg)
{
	uint64_t *x = arg;

	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return (uint32_t)((*x * 0x2545f4914f6cdd1dULL) >> 32);
}

/* RFC 2782: a record's chance to go first is its share of the weight; weight 0 ~never. */
static void t_srv_distribution(void **state)
{
	const unsigned trials = 20000;
	unsigned first[3] = {0};
	uint64_t seed = 42;

	(void)state;
	for (unsigned t = 0; t < trials; t++) {
		struct dns_srv_rr rr[3] = {{"z", 7, 0, 1}, {"a", 7, 100, 1}, {"b", 7, 300, 1}};

		assert_int_equal(dns_srv_order(rr, 3, xrand, &seed), 3);
		first[rr[0].target[0] == 'z' ? 0 : rr[0].target[0] == 'a' ? 1 : 2]++;
	}
	/* expected 0.25% / 24.9% / 74.8%; a wrong ordering misses these bands by far */
	assert_in_range(first[0], 10, 120);
	assert_in_range(first[1], 4600, 5400);
	assert_in_range(first[2], 14500, 15500);
}

/* --- hosts and destinations --- */

static void t_srv_hosts(void **state)
{
	char longname[DNS_MAX_NAME + 2];
	struct dns_srv_rr rr[5] = {{"a.x", 1, 0, 5060},
				   {"A.X", 1, 0, 5060},
				   {"a.x", 1, 0, 5070},
				   {longname, 1, 0, 1},
				   {"b.x", 1, 0, 5060}};
	struct dns_host h[3];
	unsigned n;

	(void)state;
	memset(longname, 'l', sizeof(longname));
	longname[DNS_MAX_NAME + 1] = '\0';
	n = dns_srv_hosts(rr, 5, TP_TCP, h, 0, 3);
	assert_int_equal(n, 3); /* a.x:5060 once, a.x:5070, the long name skipped, b.x */
	assert_string_equal(h[0].name, "a.x");
	assert_int_equal(h[1].port, 5070);
	assert_string_equal(h[2].name, "b.x");
	assert_int_equal(h[2].proto, TP_TCP);
	n = dns_srv_hosts(rr, 5, TP_UDP, h, 3, 3); /* full: nothing added */
	assert_int_equal(n, 3);
	n = dns_srv_hosts(rr, 1, TP_UDP, h, 1, 3); /* same name and port, other transport */
	assert_int_equal(n, 2);
	assert_int_equal(h[1].proto, TP_UDP);
}

static void host_fill(struct dns_host *h, const char *name, uint16_t port, unsigned n4, unsigned n6,
		      uint8_t base)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->port = port;
	h->proto = TP_UDP;
	h->n4 = (uint8_t)n4;
	h->n6 = (uint8_t)n6;
	for (unsigned i = 0; i < n4; i++)
		h->a4[i].s_addr = htonl(0x0a000000u | (uint32_t)base << 8 | i);
	for (unsigned i = 0; i < n6; i++) {
		h->a6[i].s6_addr[0] = 0xfd;
		h->a6[i].s6_addr[14] = base;
		h->a6[i].s6_addr[15] = (uint8_t)i;
	}
}

static void t_targets(void **state)
{
	struct dns_host h[16];
	struct dns_target t[DNS_MAX_TARGETS];
	char s[64];
	unsigned k;

	(void)state;
	host_fill(&h[0], "one.x", 5070, 2, 2, 1);
	k = dns_targets_build(h, 1, t, DNS_MAX_TARGETS);
	assert_int_equal(k, 4);
	tp_addr_str(&t[0].dest.addr, s, sizeof(s));
	assert_string_equal(s, "10.0.1.0:5070"); /* IPv4 first */
	tp_addr_str(&t[2].dest.addr, s, sizeof(s));
	assert_string_equal(s, "[fd00::100]:5070");
	assert_int_equal(t[3].dest.proto, TP_UDP);
	assert_null(t[3].dest.conn);
	assert_string_equal(t[3].name, "one.x");

	host_fill(&h[0], "big.x", 1, 8, 8, 1); /* one host alone may fill the list */
	assert_int_equal(dns_targets_build(h, 1, t, DNS_MAX_TARGETS), 16);

	host_fill(&h[0], "big.x", 1, 8, 8, 1); /* shares: ceil(16/2) = 8 each */
	host_fill(&h[1], "none.x", 2, 0, 0, 2);
	host_fill(&h[2], "small.x", 3, 1, 0, 3);
	k = dns_targets_build(h, 3, t, DNS_MAX_TARGETS);
	assert_int_equal(k, 9);
	assert_string_equal(t[7].name, "big.x");
	assert_string_equal(t[8].name, "small.x");

	for (unsigned i = 0; i < 3; i++) /* ceil(16/3) = 6, 6, then the last 4 */
		host_fill(&h[i], "h.x", (uint16_t)(i + 1), 8, 0, (uint8_t)i);
	k = dns_targets_build(h, 3, t, DNS_MAX_TARGETS);
	assert_int_equal(k, 16);
	assert_int_equal(tp_addr_port(&t[5].dest.addr), 1);
	assert_int_equal(tp_addr_port(&t[6].dest.addr), 2);
	assert_int_equal(tp_addr_port(&t[15].dest.addr), 3);

	for (unsigned i = 0; i < 16; i++) /* at least 2 each: 8 hosts fit */
		host_fill(&h[i], "m.x", (uint16_t)(i + 1), 3, 0, (uint8_t)i);
	k = dns_targets_build(h, 16, t, DNS_MAX_TARGETS);
	assert_int_equal(k, 16);
	assert_int_equal(tp_addr_port(&t[15].dest.addr), 8);

	host_fill(&h[0], "none.x", 1, 0, 0, 0);
	assert_int_equal(dns_targets_build(h, 1, t, DNS_MAX_TARGETS), 0);
	host_fill(&h[0], "one.x", 1, 1, 0, 0);
	assert_int_equal(dns_targets_build(h, 1, t, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_classify),
	    cmocka_unit_test(t_proto_port),
	    cmocka_unit_test(t_conf_server),
	    cmocka_unit_test(t_naptr),
	    cmocka_unit_test(t_naptr_long_replacement),
	    cmocka_unit_test(t_srv_fallback),
	    cmocka_unit_test(t_srv_order),
	    cmocka_unit_test(t_srv_distribution),
	    cmocka_unit_test(t_srv_hosts),
	    cmocka_unit_test(t_targets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
