/*
 * tp_sock.c - the socket endpoint set of one worker: its listening sockets,
 * the tp_ops that the transaction layer calls, and the choice between UDP and
 * TCP for a request too large for UDP (RFC 3261 §18.1.1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tp/tp_int.h"

static const struct tp_sock_cfg defaults = {
	.tcp_idle_ms = 120000,
	.tcp_connect_ms = 10000,
	.tcp_max_conns = 4096,
	.tcp_wq_max = 4u << 20,
	.udp_max = 1300,
	.sock_buf = 4u << 20,
};

struct tp_lsock *tp_sock_find(struct tp_sock *ts, enum tp_proto proto, int family,
			      const struct tp_addr *local)
{
	struct tp_lsock *any = NULL;

	for (unsigned i = 0; i < ts->nls; i++) {
		struct tp_lsock *ls = &ts->ls[i];
		if (ls->proto != proto || ls->addr.u.sa.sa_family != family)
			continue;
		if (local == NULL || local->u.sa.sa_family == 0 || tp_addr_equal(&ls->addr, local))
			return ls;
		if (any == NULL)
			any = ls;
	}
	return any;
}

int tp_sock_reuse(int fd)
{
	int on = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0)
		return errno;
	return 0;
}

/* A request (not a response) larger than UDP allows (RFC 3261 §18.1.1)? */
static bool too_big_for_udp(const struct tp_sock *ts, const char *data, size_t len)
{
	return !ts->cfg.no_tcp_fallback && len > ts->cfg.udp_max &&
	       !(len >= 4 && memcmp(data, "SIP/", 4) == 0);
}

/*
 * Send a large UDP request over TCP instead.  §18.1.1: when the transport
 * changes, the top Via must say so: "UDP" becomes "TCP" (same length), sent
 * as three pieces so that the caller's bytes need no copy.  A refused
 * connection is known at once on loopback and local networks; one that fails
 * later is only seen as a transaction timeout.
 */
static int send_big(struct tp_sock *ts, const struct tp_dest *d, const char *data, size_t len)
{
	struct msg *m = malloc(sizeof(*m));
	struct tp_dest td = *d;
	struct iovec iov[3] = {{(void *)data, len}};
	int n = 1;
	size_t used;

	if (m == NULL)
		return ENOMEM;
	td.proto = TP_TCP;
	td.conn = NULL;
	if (msg_parse(m, data, len, MSG_PARSE_DGRAM, &used) == 0) {
		const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_VIA);
		struct msg_via v;
		if (h != NULL && msg_via_parse(m->buf, h->value, &v) == 0 &&
		    span_ieq(m->buf, v.transport, "UDP")) {
			size_t off = (size_t)(m->buf - data) + v.transport.off;
			iov[0].iov_len = off;
			iov[1].iov_base = (void *)"TCP";
			iov[1].iov_len = 3;
			iov[2].iov_base = (void *)(data + off + 3);
			iov[2].iov_len = len - off - 3;
			n = 3;
		}
	}
	free(m);
	int err = tp_tcp_send(ts, &td, iov, n);
	if (err == 0)
		ts->st.tx_udp_to_tcp++;
	return err;
}

static int sock_send(struct tp *tp, const struct tp_dest *d, const char *data, size_t len)
{
	struct tp_sock *ts = tp_sock_of(tp);
	struct iovec iov = {(void *)data, len};
	int err;

	if (len == 0 || len > MSG_MAX_SIZE)
		return EMSGSIZE;
	switch (d->proto) {
	case TP_UDP:
		err = ECONNREFUSED;
		if (too_big_for_udp(ts, data, len))
			err = send_big(ts, d, data, len);
		/* §18.1.1: a TCP reset means a peer without TCP (RFC 2543): UDP after all */
		if (err == ECONNREFUSED)
			err = tp_udp_send(ts, d, data, len);
		break;
	case TP_TCP:
		err = tp_tcp_send(ts, d, &iov, 1);
		break;
	default:
		err = EPROTONOSUPPORT;
		break;
	}
	if (err)
		ts->st.tx_err++;
	else
		ts->st.tx_msgs++;
	return err;
}

static const struct tp_addr *sock_local(struct tp *tp, enum tp_proto proto)
{
	struct tp_sock *ts = tp_sock_of(tp);

	for (unsigned i = 0; i < ts->nls; i++)
		if (ts->ls[i].proto == proto)
			return &ts->ls[i].addr;
	/* no listener of that transport: the UDP address names this host as well */
	for (unsigned i = 0; i < ts->nls; i++)
		if (ts->ls[i].proto == TP_UDP)
			return &ts->ls[i].addr;
	return ts->nls ? &ts->ls[0].addr : NULL;
}

static const struct tp_ops sock_ops = {
	.send = sock_send,
	.local = sock_local,
};

static void dflt(uint32_t *v, uint32_t d)
{
	if (*v == 0)
		*v = d;
}

int tp_sock_alloc(struct tp **out, struct loop *l, const struct tp_sock_cfg *cfg,
		  tp_recv_fn *recv, void *recv_arg)
{
	struct tp_sock *ts = calloc(1, sizeof(*ts));

	if (ts == NULL)
		return ENOMEM;
	ts->tp.ops = &sock_ops;
	ts->tp.recv = recv;
	ts->tp.recv_arg = recv_arg;
	ts->loop = l;
	ts->cfg = cfg ? *cfg : defaults;
	dflt(&ts->cfg.tcp_idle_ms, defaults.tcp_idle_ms);
	dflt(&ts->cfg.tcp_connect_ms, defaults.tcp_connect_ms);
	dflt(&ts->cfg.tcp_max_conns, defaults.tcp_max_conns);
	dflt(&ts->cfg.tcp_wq_max, defaults.tcp_wq_max);
	dflt(&ts->cfg.udp_max, defaults.udp_max);
	dflt(&ts->cfg.sock_buf, defaults.sock_buf);
	int err = tp_tcp_init(ts);
	if (err) {
		free(ts);
		return err;
	}
	*out = &ts->tp;
	return 0;
}

int tp_sock_listen(struct tp *tp, enum tp_proto proto, const struct tp_addr *addr,
		   struct tp_addr *bound)
{
	struct tp_sock *ts = tp_sock_of(tp);
	int err;

	if (proto != TP_UDP && proto != TP_TCP)
		return EPROTONOSUPPORT;
	if (addr->u.sa.sa_family != AF_INET && addr->u.sa.sa_family != AF_INET6)
		return EAFNOSUPPORT;
	if (ts->nls >= TP_MAX_LISTEN)
		return ENOSPC;
	struct tp_lsock *ls = &ts->ls[ts->nls];
	memset(ls, 0, sizeof(*ls));
	ls->ts = ts;
	ls->fd = -1;
	ls->proto = (uint8_t)proto;
	ls->addr = *addr;
	err = proto == TP_UDP ? tp_udp_open(ts, ls) : tp_tcp_open(ts, ls);
	if (err)
		return err;
	ts->nls++;
	if (bound != NULL)
		*bound = ls->addr;
	return 0;
}

void tp_sock_free(struct tp *tp)
{
	if (tp == NULL)
		return;
	struct tp_sock *ts = tp_sock_of(tp);
	tp_tcp_free(ts);
	tp_udp_free(ts); /* first: it sends what is still queued */
	for (unsigned i = 0; i < ts->nls; i++) {
		loop_fd_del(ts->loop, ts->ls[i].fd);
		close(ts->ls[i].fd);
	}
	free(ts);
}

void tp_sock_stats(const struct tp *tp, struct tp_sock_stats *out)
{
	*out = ((const struct tp_sock *)tp)->st;
}
