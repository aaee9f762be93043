/*
 * tp_addr.c - transport names (RFC 3261 §18, §20.42 Via transport), socket
 * addresses, listen specs and where a response goes (§18.2.2).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ringlet/tp.h"
#include "tp/tp_int.h"

static const char *const proto_names[] = {
	[TP_UDP] = "UDP", [TP_TCP] = "TCP", [TP_TLS] = "TLS", [TP_WS] = "WS", [TP_WSS] = "WSS",
};

const char *tp_proto_name(enum tp_proto p)
{
	if ((unsigned)p < ARRAY_SIZE(proto_names) && proto_names[p] != NULL)
		return proto_names[p];
	return "";
}

enum tp_proto tp_proto_from_token(const char *p, size_t len)
{
	for (unsigned i = 1; i < ARRAY_SIZE(proto_names); i++) {
		const char *n = proto_names[i];
		size_t k = 0;
		if (strlen(n) != len)
			continue;
		while (k < len && ascii_lower(p[k]) == ascii_lower(n[k]))
			k++;
		if (k == len)
			return (enum tp_proto)i;
	}
	return 0;
}

bool tp_proto_reliable(enum tp_proto p)
{
	return p == TP_TCP || p == TP_TLS || p == TP_WS || p == TP_WSS;
}

socklen_t tp_addr_len(const struct tp_addr *a)
{
	switch (a->u.sa.sa_family) {
	case AF_INET:
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	default:
		return 0;
	}
}

uint16_t tp_addr_port(const struct tp_addr *a)
{
	switch (a->u.sa.sa_family) {
	case AF_INET:
		return ntohs(a->u.in.sin_port);
	case AF_INET6:
		return ntohs(a->u.in6.sin6_port);
	default:
		return 0;
	}
}

/* Set the port of an IPv4 or IPv6 address. */
void tp_addr_set_port(struct tp_addr *a, uint16_t port)
{
	if (a->u.sa.sa_family == AF_INET)
		a->u.in.sin_port = htons(port);
	else if (a->u.sa.sa_family == AF_INET6)
		a->u.in6.sin6_port = htons(port);
}

bool tp_addr_equal(const struct tp_addr *a, const struct tp_addr *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	switch (a->u.sa.sa_family) {
	case AF_INET:
		return a->u.in.sin_port == b->u.in.sin_port &&
		       a->u.in.sin_addr.s_addr == b->u.in.sin_addr.s_addr;
	case AF_INET6:
		return a->u.in6.sin6_port == b->u.in6.sin6_port &&
		       a->u.in6.sin6_scope_id == b->u.in6.sin6_scope_id &&
		       memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, 16) == 0;
	default:
		return false;
	}
}

int tp_addr_set(struct tp_addr *a, const char *host, size_t hostlen, uint16_t port)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	struct tp_addr r;
	bool br = hostlen >= 2 && host[0] == '[' && host[hostlen - 1] == ']';

	if (br) {
		host++;
		hostlen -= 2;
	}
	if (hostlen == 0 || hostlen >= sizeof(tmp) || memchr(host, '\0', hostlen) != NULL)
		return EINVAL;
	memcpy(tmp, host, hostlen);
	tmp[hostlen] = '\0';
	memset(&r, 0, sizeof(r));
	if (!br && inet_pton(AF_INET, tmp, &r.u.in.sin_addr) == 1) {
		r.u.in.sin_family = AF_INET;
		r.u.in.sin_port = htons(port);
	} else if (inet_pton(AF_INET6, tmp, &r.u.in6.sin6_addr) == 1) {
		r.u.in6.sin6_family = AF_INET6;
		r.u.in6.sin6_port = htons(port);
	} else {
		return EINVAL;
	}
	*a = r;
	return 0;
}

/* The IP address alone, IPv6 without brackets (as in a Via received, RFC 3261 §25.1). */
void tp_addr_ip(const struct tp_addr *a, char *out, size_t cap)
{
	const void *src = a->u.sa.sa_family == AF_INET ? (const void *)&a->u.in.sin_addr
						       : (const void *)&a->u.in6.sin6_addr;
	char tmp[INET6_ADDRSTRLEN];

	if ((a->u.sa.sa_family != AF_INET && a->u.sa.sa_family != AF_INET6) ||
	    inet_ntop(a->u.sa.sa_family, src, tmp, sizeof(tmp)) == NULL)
		snprintf(tmp, sizeof(tmp), "?");
	snprintf(out, cap, "%s", tmp);
}

void tp_addr_str(const struct tp_addr *a, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	tp_addr_ip(a, ip, sizeof(ip));
	if (a->u.sa.sa_family == AF_INET6)
		snprintf(out, cap, "[%s]:%u", ip, tp_addr_port(a));
	else
		snprintf(out, cap, "%s:%u", ip, tp_addr_port(a));
}

/* Default port of a transport (RFC 3261 §19.1.2, RFC 7118 for WS). */
static uint16_t default_port(enum tp_proto p)
{
	return p == TP_TLS || p == TP_WSS ? 5061 : 5060;
}

/* "0".."65535" exactly. */
static int port_parse(const char *p, size_t n, uint16_t *out)
{
	uint32_t v = 0;

	if (n == 0 || n > 5)
		return EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return EINVAL;
		v = v * 10 + (uint32_t)(p[i] - '0');
	}
	if (v > 65535)
		return EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int tp_listen_parse(const char *spec, enum tp_proto *proto, struct tp_addr *addr)
{
	const char *c = strchr(spec, ':');
	const char *host, *pe = NULL, *end;
	size_t hlen;

	if (c == NULL)
		return EINVAL;
	enum tp_proto p = tp_proto_from_token(spec, (size_t)(c - spec));
	if (p == 0)
		return EINVAL;
	host = c + 1;
	end = host + strlen(host);
	if (*host == '[') {
		const char *rb = strchr(host, ']');
		if (rb == NULL)
			return EINVAL;
		hlen = (size_t)(rb + 1 - host);
		if (rb[1] == ':')
			pe = rb + 2;
		else if (rb[1] != '\0')
			return EINVAL;
	} else {
		const char *colon = strchr(host, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			hlen = (size_t)(colon - host);
			pe = colon + 1;
		} else {
			hlen = (size_t)(end - host); /* no port, or a bare IPv6 address */
		}
	}
	uint16_t port = default_port(p);
	if (pe != NULL && port_parse(pe, (size_t)(end - pe), &port) != 0)
		return EINVAL;
	struct tp_addr a;
	if (tp_addr_set(&a, host, hlen, port) != 0)
		return EINVAL;
	*proto = p;
	*addr = a;
	return 0;
}

/* The topmost Via of a received message, parsed. */
int tp_top_via(const struct tp_rx *rx, struct msg_via *v)
{
	const struct msg_hdr *h = msg_hdr_find(&rx->msg, MSG_HDR_VIA);

	if (h == NULL || msg_via_parse(rx->msg.buf, h->value, v) != 0)
		return EINVAL;
	return 0;
}

/*
 * RFC 3261 §18.2.2.  Streams: the connection the request came on; should it
 * close, a new connection to the source IP (the "received" address) and the
 * sent-by port.  UDP: the source address and port whatever the Via says
 * (RFC 3581 symmetric response, and the Via's received/rport say the same
 * once the transport added them); maddr is never honoured.
 */
int tp_response_dest(const struct tp_rx *rx, struct tp_dest *out)
{
	struct msg_via v;

	if (tp_top_via(rx, &v) != 0)
		return EINVAL;
	memset(out, 0, sizeof(*out));
	out->proto = rx->proto;
	out->addr = rx->src;
	out->local = rx->local;
	if (tp_proto_reliable(rx->proto)) {
		out->conn = rx->conn;
		tp_addr_set_port(&out->addr, v.port ? v.port : default_port(rx->proto));
	}
	return 0;
}
