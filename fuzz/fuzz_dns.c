/*
 * fuzz_dns.c - the parts of src/dns that read outside input: the resolver
 * string (--dns), request hosts, and what a hostile DNS server can send
 * (NAPTR, SRV, A and AAAA answers as c-ares parses them, then RFC 3263
 * §4 / RFC 2782 selection on the records).  Invariants are checked, not
 * only crashes.
 *
 * Input: byte 0 picks the part (low 2 bits) and the flags (sips, a
 * transport); the rest is the string or the DNS message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/dns/dns_int.h" /* fuzz targets see only include/ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Random values for RFC 2782 drawn from the input, so runs replay. */
struct feed {
	const uint8_t *p;
	size_t n, i;
};

static uint32_t feed_rand(void *arg)
{
	struct feed *f = arg;
	uint32_t v = 0;

	for (int k = 0; k < 4; k++, f->i++)
		v = v << 8 | (f->n ? f->p[f->i % f->n] : 0);
	return v;
}

static void check(int ok)
{
	if (!ok)
		abort();
}

static void text(const uint8_t *data, size_t size, uint8_t flags)
{
	char s[512], csv[DNS_CSV_MAX];
	struct dns_srvname names[DNS_MAX_SRVNAMES];
	const char *why;
	struct tp_addr a;
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
	int mode, kind;

	memcpy(s, data, n);
	s[n] = '\0';
	mode = dns_conf_server(s, csv, sizeof(csv), &why);
	check(mode >= -1 && mode <= DNS_MODE_SERVER);
	check(mode != -1 || why != NULL);
	check(mode != DNS_MODE_SERVER || strlen(csv) < sizeof(csv));
	kind = dns_host_classify(s, &a);
	if (kind == DNS_HOST_NAME) {
		unsigned k =
		    dns_srv_fallback(s, flags & 1, (flags >> 1 & 7) - 1, names, DNS_MAX_SRVNAMES);

		check(k <= 3);
		for (unsigned i = 0; i < k; i++)
			check(strlen(names[i].name) <= DNS_MAX_NAME);
	}
}

static void naptr(const uint8_t *data, size_t size, uint8_t flags)
{
	struct ares_naptr_reply *list = NULL;
	struct dns_naptr_rr rr[DNS_MAX_RR];
	struct dns_srvname out[DNS_MAX_SRVNAMES];
	unsigned n, k;

	if (ares_parse_naptr_reply(data, (int)size, &list) != ARES_SUCCESS)
		return;
	n = dns_naptr_rrs(list, rr, DNS_MAX_RR);
	k = dns_naptr_select(rr, n, flags & 1, out, DNS_MAX_SRVNAMES);
	check(k <= n && k <= DNS_MAX_SRVNAMES);
	for (unsigned i = 0; i < k; i++) {
		check(out[i].proto == TP_UDP || out[i].proto == TP_TCP || out[i].proto == TP_TLS);
		check(!(flags & 1) || out[i].proto == TP_TLS);
		check(strlen(out[i].name) <= DNS_MAX_NAME);
	}
	ares_free_data(list);
}

static void srv(const uint8_t *data, size_t size, uint8_t flags)
{
	struct dns_host h[DNS_MAX_TARGETS];
	struct dns_target t[DNS_MAX_TARGETS];
	struct ares_srv_reply *list = NULL;
	struct dns_srv_rr rr[DNS_MAX_RR];
	struct feed f = {data, size, 0};
	unsigned n, k, nh, nt;

	if (ares_parse_srv_reply(data, (int)size, &list) != ARES_SUCCESS)
		return;
	n = dns_srv_rrs(list, rr, DNS_MAX_RR);
	k = dns_srv_order(rr, n, feed_rand, &f);
	check(k <= n);
	for (unsigned i = 1; i < k; i++)
		check(rr[i - 1].prio <= rr[i].prio);
	nh = dns_srv_hosts(rr, k, TP_UDP, h, 0, DNS_MAX_TARGETS);
	check(nh <= k && nh <= DNS_MAX_TARGETS);
	for (unsigned i = 0; i < nh; i++) { /* as if each had addresses */
		h[i].n4 = (uint8_t)(flags % (DNS_MAX_ADDRS + 1));
		h[i].n6 = (uint8_t)((i + flags) % (DNS_MAX_ADDRS + 1));
	}
	nt = dns_targets_build(h, nh, t, DNS_MAX_TARGETS);
	check(nt <= DNS_MAX_TARGETS);
	ares_free_data(list);
}

static void addr(const uint8_t *data, size_t size)
{
	struct ares_addrttl a4[DNS_MAX_ADDRS];
	struct ares_addr6ttl a6[DNS_MAX_ADDRS];
	int n = DNS_MAX_ADDRS;

	if (ares_parse_a_reply(data, (int)size, NULL, a4, &n) == ARES_SUCCESS)
		check(n >= 0 && n <= DNS_MAX_ADDRS);
	n = DNS_MAX_ADDRS;
	if (ares_parse_aaaa_reply(data, (int)size, NULL, a6, &n) == ARES_SUCCESS)
		check(n >= 0 && n <= DNS_MAX_ADDRS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel;

	if (size < 1 || size > 65535)
		return 0;
	sel = data[0];
	data++;
	size--;
	switch (sel & 3) {
	case 0:
		text(data, size, sel >> 2);
		break;
	case 1:
		naptr(data, size, sel >> 2);
		break;
	case 2:
		srv(data, size, sel >> 2);
		break;
	default:
		addr(data, size);
		break;
	}
	return 0;
}
