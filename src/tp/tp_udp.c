/*
 * tp_udp.c - SIP over UDP (RFC 3261 §18): batched receive with recvmmsg and
 * batched send with sendmmsg.
 *
 * Receive: up to TP_UDP_BATCH datagrams per system call, each in a 64 KiB
 * slot (RFC 3261 §18.1.1: a UDP message may be as large as the datagram
 * allows); pages of a slot are only touched as far as datagrams fill them.
 * Every datagram is parsed as one message (MSG_PARSE_DGRAM) and handed up
 * unvalidated: the layer above answers a bad request (400 etc.).  A datagram
 * that is not SIP at all is dropped with a rate-limited log line; CRLF
 * keep-alives and STUN packets (RFC 5626 §4.4.2) are dropped silently.
 *
 * Send: while the messages of a receive batch are handed up, sends are
 * copied into a queue and leave in one sendmmsg per socket after the batch.
 * The same holds for the callbacks other threads post to the loop (a
 * location store's answer: the registrar's 200, the proxy's forwarded
 * request) and for timers (retransmissions): a loop hook opens the queue
 * before them and flushes it after.  A full queue (TP_UDP_BATCH datagrams or
 * the arena) is flushed at once, so order is kept and the batch is bounded.
 * Sends at other times (outside the loop) use sendto at once.  Measured on
 * loopback with 600-byte datagrams, 32 per call: sendto 3.2 us per message,
 * sendmmsg 2.4 us, so the copy (a memcpy of the message) pays for itself.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOG_MODULE "tp"
#include "ringlet/log.h"
#include "tp/tp_int.h"

#define SLOT 65536u          /* receive buffer per datagram: the largest UDP payload fits */
#define ARENA (64u * 1024u)  /* bytes of queued sends */
#define ROUNDS 4             /* recvmmsg calls per readiness event, for fairness */

struct tp_udp_rx {
	struct mmsghdr hdr[TP_UDP_BATCH];
	struct iovec iov[TP_UDP_BATCH];
	struct tp_addr src[TP_UDP_BATCH];
	struct tp_rx rx; /* handed up, one datagram at a time */
	char slot[TP_UDP_BATCH][SLOT];
};

struct tp_udp_txq {
	unsigned n;
	uint32_t used; /* bytes of arena taken */
	int fd[TP_UDP_BATCH];
	struct tp_addr to[TP_UDP_BATCH];
	struct mmsghdr hdr[TP_UDP_BATCH];
	struct iovec iov[TP_UDP_BATCH];
	char arena[ARENA];
};

/* A STUN message (RFC 5389 §6: two zero bits, then the magic cookie at 4). */
static bool is_stun(const unsigned char *p, size_t n)
{
	return n >= 20 && (p[0] & 0xc0) == 0 && p[4] == 0x21 && p[5] == 0x12 && p[6] == 0xa4 &&
	       p[7] == 0x42;
}

static void deliver(struct tp_sock *ts, struct tp_lsock *ls, const char *buf, size_t len,
		    const struct tp_addr *src, int flags)
{
	struct tp_rx *rx = &ts->urx->rx;
	char who[64];
	size_t used;
	int err;

	if (flags & MSG_TRUNC) {
		err = EMSGSIZE;
	} else {
		err = msg_parse(&rx->msg, buf, len, MSG_PARSE_DGRAM, &used);
		if (err == ENODATA) {
			ts->st.rx_keepalive++; /* nothing but CRLFs: a NAT keep-alive */
			return;
		}
	}
	if (err) {
		if (!is_stun((const unsigned char *)buf, len)) {
			tp_addr_str(src, who, sizeof(who));
			log_warn_rl("event=drop proto=udp src=%s bytes=%zu reason=%s", who, len,
				    err == EMSGSIZE ? "too-big" : "not-sip");
		}
		ts->st.rx_bad++;
		return;
	}
	rx->buf = rx->msg.buf;
	rx->len = rx->msg.len;
	rx->proto = TP_UDP;
	rx->src = *src;
	rx->local = ls->addr;
	rx->conn = NULL;
	ts->st.rx_msgs++;
	if (ts->tp.recv != NULL)
		ts->tp.recv(&ts->tp, rx, ts->tp.recv_arg);
}

/* sendmmsg a run of queued datagrams of one socket; a failing one is skipped. */
static void send_run(struct tp_sock *ts, int fd, struct mmsghdr *h, unsigned cnt)
{
	unsigned done = 0;

	while (done < cnt) {
		int r = sendmmsg(fd, h + done, cnt - done, MSG_DONTWAIT);
		ts->st.tx_batches++;
		if (r > 0) {
			done += (unsigned)r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else {
			done++; /* lost as on the wire (buffer full, unreachable) */
			ts->st.tx_err++;
		}
	}
}

static void flush(struct tp_sock *ts)
{
	struct tp_udp_txq *q = ts->utx;
	unsigned i = 0;

	while (i < q->n) {
		unsigned j = i + 1;
		while (j < q->n && q->fd[j] == q->fd[i])
			j++;
		send_run(ts, q->fd[i], q->hdr + i, j - i);
		i = j;
	}
	q->n = 0;
	q->used = 0;
}

/* Queue a send for the end of the receive batch; false if it must go now. */
static bool enqueue(struct tp_sock *ts, int fd, const struct tp_addr *to, const char *data,
		    size_t len)
{
	struct tp_udp_txq *q = ts->utx;

	if (len > ARENA)
		return false;
	if (q->n == TP_UDP_BATCH || len > ARENA - q->used)
		flush(ts);
	unsigned i = q->n++;
	memcpy(q->arena + q->used, data, len);
	q->fd[i] = fd;
	q->to[i] = *to;
	q->iov[i].iov_base = q->arena + q->used;
	q->iov[i].iov_len = len;
	memset(&q->hdr[i], 0, sizeof(q->hdr[i]));
	q->hdr[i].msg_hdr.msg_name = &q->to[i].u.sa;
	q->hdr[i].msg_hdr.msg_namelen = tp_addr_len(to);
	q->hdr[i].msg_hdr.msg_iov = &q->iov[i];
	q->hdr[i].msg_hdr.msg_iovlen = 1;
	q->used += (uint32_t)len;
	return true;
}

/* The loop's posts and timers run between begin and end: their sends leave together. */
static void around_posts(void *arg, bool begin)
{
	struct tp_sock *ts = arg;

	ts->batching = begin;
	if (!begin && ts->utx->n)
		flush(ts);
}

static void readable(int fd, unsigned events, void *arg)
{
	struct tp_lsock *ls = arg;
	struct tp_sock *ts = ls->ts;
	struct tp_udp_rx *r = ts->urx;

	(void)events;
	for (int round = 0; round < ROUNDS; round++) {
		for (unsigned i = 0; i < TP_UDP_BATCH; i++) {
			r->iov[i].iov_base = r->slot[i];
			r->iov[i].iov_len = SLOT;
			memset(&r->hdr[i], 0, sizeof(r->hdr[i]));
			r->hdr[i].msg_hdr.msg_name = &r->src[i].u.sa;
			r->hdr[i].msg_hdr.msg_namelen = sizeof(r->src[i].u);
			r->hdr[i].msg_hdr.msg_iov = &r->iov[i];
			r->hdr[i].msg_hdr.msg_iovlen = 1;
		}
		int n = recvmmsg(fd, r->hdr, TP_UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_err_rl("event=recvmmsg error=%s", strerror(errno));
			return;
		}
		ts->batching = true;
		for (int i = 0; i < n; i++)
			deliver(ts, ls, r->slot[i], r->hdr[i].msg_len, &r->src[i],
				r->hdr[i].msg_hdr.msg_flags);
		ts->batching = false;
		flush(ts);
		if (n < (int)TP_UDP_BATCH)
			return;
	}
}

int tp_udp_send(struct tp_sock *ts, const struct tp_dest *d, const char *data, size_t len)
{
	int fam = d->addr.u.sa.sa_family;

	if (fam != AF_INET && fam != AF_INET6)
		return EAFNOSUPPORT;
	struct tp_lsock *ls = tp_sock_find(ts, TP_UDP, fam, &d->local);
	if (ls == NULL)
		return EAFNOSUPPORT; /* no UDP socket of that family */
	if (ts->batching && enqueue(ts, ls->fd, &d->addr, data, len))
		return 0;
	for (;;) {
		ssize_t n = sendto(ls->fd, data, len, MSG_DONTWAIT, &d->addr.u.sa,
				   tp_addr_len(&d->addr));
		if (n >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		/* a full socket buffer loses the datagram as the network would:
		 * retransmissions (RFC 3261 §17) cover it */
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			return 0;
		return errno;
	}
}

/* Large buffers: a burst of requests must not be lost before the loop reads it. */
static void set_bufs(int fd, int size)
{
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

static int alloc_bufs(struct tp_sock *ts)
{
	if (ts->urx == NULL) {
		ts->urx = malloc(sizeof(*ts->urx)); /* slots are touched only as used */
		if (ts->urx == NULL)
			return ENOMEM;
	}
	if (ts->utx == NULL) {
		ts->utx = malloc(sizeof(*ts->utx));
		if (ts->utx == NULL)
			return ENOMEM;
		ts->utx->n = 0;
		ts->utx->used = 0;
		loop_hook_add(ts->loop, &ts->hook, around_posts, ts);
	}
	return 0;
}

int tp_udp_open(struct tp_sock *ts, struct tp_lsock *ls)
{
	int fam = ls->addr.u.sa.sa_family, on = 1, err;
	socklen_t alen = sizeof(ls->addr.u);

	err = alloc_bufs(ts);
	if (err)
		return err;
	int fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	err = tp_sock_reuse(fd);
	if (err == 0 && fam == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0)
		err = errno;
	if (err == 0) {
		set_bufs(fd, (int)ts->cfg.sock_buf);
		if (bind(fd, &ls->addr.u.sa, tp_addr_len(&ls->addr)) != 0 ||
		    getsockname(fd, &ls->addr.u.sa, &alen) != 0)
			err = errno;
	}
	if (err == 0)
		err = loop_fd_add(ts->loop, fd, LOOP_IN, readable, ls);
	if (err) {
		close(fd);
		return err;
	}
	ls->fd = fd;
	return 0;
}

void tp_udp_free(struct tp_sock *ts)
{
	if (ts->utx) {
		if (ts->utx->n) /* freed from a posted callback: what it queued still goes */
			flush(ts);
		loop_hook_del(ts->loop, &ts->hook);
	}
	ts->batching = false;
	free(ts->urx);
	free(ts->utx);
	ts->urx = NULL;
	ts->utx = NULL;
}
