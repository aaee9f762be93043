/*
 * dns_conf.c - the resolver string of --dns / dns_conf.server: "off", the
 * system's resolvers, or one numeric server "IPV4[:PORT]" / "[IPV6][:PORT]".
 * The string comes from a config file or the command line, so it is parsed
 * strictly and within bounds (fuzzed by fuzz/fuzz_dns.c).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dns/dns_int.h"

#define SERVER_MAX 64 /* longer than any "[v6]:port" */

/* "PORT" (1..65535, digits only) over [p, p + len); 0 if malformed. */
static uint16_t parse_port(const char *p, size_t len)
{
	uint32_t v = 0;

	if (len == 0 || len > 5)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (uint32_t)(p[i] - '0');
	}
	return v <= 65535 ? (uint16_t)v : 0;
}

/* Split s into the address text and the port; *why on error. */
static int split(const char *s, size_t len, char *ip, size_t ipcap, uint16_t *port, int *family,
		 const char **why)
{
	const char *end = s + len, *ipend, *colon;

	if (s[0] == '[') {
		ipend = memchr(s, ']', len);
		if (!ipend) {
			*why = "missing ']' after an IPv6 address";
			return -1;
		}
		colon = ipend + 1 < end ? ipend + 1 : NULL;
		if (colon && *colon != ':') {
			*why = "expected ':PORT' after ']'";
			return -1;
		}
		s++;
		*family = AF_INET6;
	} else {
		colon = memchr(s, ':', len);
		if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1))) {
			*why = "an IPv6 server is written [V6]:PORT";
			return -1;
		}
		ipend = colon ? colon : end;
		*family = AF_INET;
	}
	if ((size_t)(ipend - s) == 0 || (size_t)(ipend - s) >= ipcap) {
		*why = "expected a numeric IP address";
		return -1;
	}
	memcpy(ip, s, (size_t)(ipend - s));
	ip[ipend - s] = '\0';
	*port = colon ? parse_port(colon + 1, (size_t)(end - colon - 1)) : 53;
	if (*port == 0) {
		*why = "the port must be a number in 1..65535";
		return -1;
	}
	return 0;
}

int dns_conf_server(const char *s, char *csv, size_t cap, const char **why)
{
	char ip[INET6_ADDRSTRLEN], canon[INET6_ADDRSTRLEN];
	unsigned char bin[sizeof(struct in6_addr)];
	size_t len;
	uint16_t port;
	int family, n;

	*why = NULL;
	if (!s || s[0] == '\0')
		return DNS_MODE_SYSTEM;
	len = strnlen(s, SERVER_MAX + 1);
	if (len == 3 && ascii_lower(s[0]) == 'o' && ascii_lower(s[1]) == 'f' &&
	    ascii_lower(s[2]) == 'f')
		return DNS_MODE_OFF;
	if (len > SERVER_MAX) {
		*why = "too long for an address and a port";
		return -1;
	}
	if (split(s, len, ip, sizeof(ip), &port, &family, why) != 0)
		return -1;
	if (inet_pton(family, ip, bin) != 1 || !inet_ntop(family, bin, canon, sizeof(canon))) {
		*why = family == AF_INET6 ? "not a numeric IPv6 address"
					  : "not a numeric IPv4 address (names are not accepted)";
		return -1;
	}
	n = family == AF_INET6 ? snprintf(csv, cap, "[%s]:%u", canon, port)
			       : snprintf(csv, cap, "%s:%u", canon, port);
	if (n < 0 || (size_t)n >= cap) {
		*why = "too long for an address and a port";
		return -1;
	}
	return DNS_MODE_SERVER;
}
