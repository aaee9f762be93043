/*
 * tp_via.c - what the receiving server adds to the top Via of a request
 * (RFC 3261 §18.2.1 received, RFC 3581 §4 rport), so that responses and
 * forwarded requests carry the address the request really came from.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ringlet/tp.h"
#include "tp/tp_int.h"

/* Is the sent-by host of v an IP address equal to the source of rx?  Compared
 * as addresses, so "[2001:DB8::1]" equals 2001:db8:0::1. */
static bool sent_by_is_source(const char *buf, const struct msg_via *v, const struct tp_addr *src)
{
	struct tp_addr h;

	if (v->host_type != MSG_HOST_IPV4 && v->host_type != MSG_HOST_IPV6)
		return false; /* a domain name always gets received */
	if (tp_addr_set(&h, buf + v->host.off, v->host.len, 0) != 0 ||
	    h.u.sa.sa_family != src->u.sa.sa_family)
		return false;
	if (h.u.sa.sa_family == AF_INET)
		return h.u.in.sin_addr.s_addr == src->u.in.sin_addr.s_addr;
	return memcmp(&h.u.in6.sin6_addr, &src->u.in6.sin6_addr, 16) == 0;
}

/* A bounded writer: stops at cap - 1 and remembers the overflow. */
struct wr {
	char *p;
	size_t cap;
	size_t len;
	bool over;
};

static void put(struct wr *w, const char *s, size_t n)
{
	if (w->over || w->cap == 0 || n >= w->cap - w->len) {
		w->over = true;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
	w->p[w->len] = '\0';
}

static void put_str(struct wr *w, const char *s)
{
	put(w, s, strlen(s));
}

/* ";received=IP" and/or ";rport=PORT" as §18.2.1 and RFC 3581 §4 ask. */
static void put_params(struct wr *w, const struct tp_rx *rx, const struct msg_via *v,
		       bool with_rport)
{
	char tmp[INET6_ADDRSTRLEN + 16];
	bool fill = v->rport == 0; /* rport present without a value */

	/* RFC 3581 §4: with rport the server MUST add received even if it equals sent-by */
	if (fill || !sent_by_is_source(rx->msg.buf, v, &rx->src)) {
		put_str(w, ";received=");
		tp_addr_ip(&rx->src, tmp, sizeof(tmp));
		put_str(w, tmp);
	}
	if (fill && with_rport) {
		snprintf(tmp, sizeof(tmp), ";rport=%u", tp_addr_port(&rx->src));
		put_str(w, tmp);
	}
}

int tp_via_received(const struct tp_rx *rx, char *out, size_t cap)
{
	struct msg_via v;
	struct wr w = {out, cap, 0, false};

	if (cap > 0)
		out[0] = '\0';
	if (tp_top_via(rx, &v) != 0)
		return -1;
	put_params(&w, rx, &v, true);
	return w.over ? -1 : (int)w.len;
}

static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int tp_via_rewrite(const struct tp_rx *rx, char *out, size_t cap)
{
	const char *buf = rx->msg.buf;
	const struct msg_hdr *h = msg_hdr_find(&rx->msg, MSG_HDR_VIA);
	struct wr w = {out, cap, 0, false};
	struct msg_via v;
	struct span n, val;
	uint32_t pos = 0;
	char tmp[24];

	if (cap > 0)
		out[0] = '\0';
	if (h == NULL || tp_top_via(rx, &v) != 0)
		return -1;
	/* sent-protocol and sent-by, as written */
	uint32_t hs = h->value.off, he = h->value.off + h->value.len;
	if (v.params.len > 0)
		he = v.params.off;
	while (he > hs && (is_lws(buf[he - 1]) || buf[he - 1] == ';'))
		he--;
	put(&w, buf + hs, he - hs);
	while (msg_param_next(buf, v.params, &pos, &n, &val)) {
		if (span_ieq(buf, n, "received"))
			continue; /* ours replaces it */
		put_str(&w, ";");
		if (span_ieq(buf, n, "rport") && val.len == 0) {
			snprintf(tmp, sizeof(tmp), "rport=%u", tp_addr_port(&rx->src));
			put_str(&w, tmp);
			continue;
		}
		put(&w, buf + n.off, n.len);
		if (val.len > 0) {
			put_str(&w, "=");
			put(&w, buf + val.off, val.len);
		}
	}
	put_params(&w, rx, &v, false);
	return w.over ? -1 : (int)w.len;
}
