/*
 * tp_int.h - internals of the socket transport shared by tp_sock.c (the
 * endpoint set), tp_udp.c and tp_tcp.c.  Private to src/tp/.
 */
#ifndef RINGLET_TP_INT_H
#define RINGLET_TP_INT_H

#include <stdint.h>
#include <sys/uio.h>

#include "ringlet/loop.h"
#include "ringlet/tp.h"
#include "tp/tp_frame.h"

#define TP_MAX_LISTEN 16 /* listening sockets of one endpoint set */
#define TP_UDP_BATCH 32  /* datagrams per recvmmsg / sendmmsg */

struct tp_sock;

/* A listening socket: a UDP socket or a TCP listener. */
struct tp_lsock {
	struct tp_sock *ts;
	int fd;
	uint8_t proto; /* enum tp_proto */
	struct tp_addr addr; /* bound (the real port when 0 was asked) */
};

enum tp_conn_state {
	TP_CONN_CONNECTING = 1, /* non-blocking connect in progress */
	TP_CONN_OPEN,
	TP_CONN_DRAINING, /* no more reading: close once the write queue is empty */
	TP_CONN_CLOSED,   /* fd closed, out of the table; kept alive by references */
};

/* Bytes a connection could not write yet. */
struct tp_wbuf {
	struct tp_wbuf *next;
	uint32_t len; /* bytes in data */
	uint32_t off; /* bytes already written */
	char data[];
};

/* A connection (mem.h object: tp_conn_ref/unref are mem_ref/mem_deref). */
struct tp_conn {
	struct tp_sock *ts; /* NULL once closed; the table holds a reference until then */
	int fd;
	uint8_t proto;
	uint8_t state; /* enum tp_conn_state */
	bool outgoing; /* we connected */
	unsigned busy; /* handing messages up: keep the receive buffer */
	struct tp_addr peer;
	struct tp_addr local;
	struct tp_conn *hnext;              /* hash chain by peer */
	struct tp_conn *lru_prev, *lru_next; /* most recently active first */
	struct tp_wbuf *wq_head, *wq_tail;
	uint32_t wq_bytes;
	struct loop_timer timer; /* connect timeout, then idle timeout */
	struct tp_frame rx;
};

struct tp_udp_rx;  /* tp_udp.c: recvmmsg buffers */
struct tp_udp_txq; /* tp_udp.c: sends queued during a receive batch */

struct tp_sock {
	struct tp tp; /* first: tp_sock_alloc hands out &ts->tp */
	struct loop *loop;
	struct tp_sock_cfg cfg;
	struct tp_lsock ls[TP_MAX_LISTEN];
	unsigned nls;
	/* UDP */
	struct tp_udp_rx *urx;
	struct tp_udp_txq *utx;
	bool batching; /* inside a receive batch or the loop's posts and timers: queue UDP
			  sends for sendmmsg */
	struct loop_hook hook; /* around the loop's posts and timers (once utx exists) */
	/* TCP */
	struct tp_rx *trx; /* handed up, one message at a time */
	struct tp_conn **htab;
	uint32_t hmask;
	struct tp_conn *lru_head, *lru_tail;
	struct tp_sock_stats st;
};

static inline struct tp_sock *tp_sock_of(struct tp *tp)
{
	return (struct tp_sock *)tp;
}

/* tp_addr.c */
/* Set the port of an IPv4 or IPv6 address (others are left alone). */
void tp_addr_set_port(struct tp_addr *a, uint16_t port);
/* The IP address alone, IPv6 without brackets. */
void tp_addr_ip(const struct tp_addr *a, char *out, size_t cap);
/* The topmost Via of rx, parsed.  Returns 0 or EINVAL. */
int tp_top_via(const struct tp_rx *rx, struct msg_via *v);

/* tp_sock.c */
/* A listening socket of proto and the family of addr, preferring one bound to local. */
struct tp_lsock *tp_sock_find(struct tp_sock *ts, enum tp_proto proto, int family,
			      const struct tp_addr *local);
/* SO_REUSEADDR and SO_REUSEPORT on fd (workers share ports).  0 or an errno. */
int tp_sock_reuse(int fd);

/* tp_udp.c */
/* Open, bind (ls->addr gets the real port) and watch the UDP socket of ls.  0 or an errno. */
int tp_udp_open(struct tp_sock *ts, struct tp_lsock *ls);
/* One datagram to d->addr from the UDP socket of its family (d->local preferred).
 * Returns 0 (also when the kernel dropped it for a full buffer) or an errno. */
int tp_udp_send(struct tp_sock *ts, const struct tp_dest *d, const char *data, size_t len);
/* Send what is queued, drop the loop hook, free the receive and send batches (before
 * tp_sock_free closes the sockets). */
void tp_udp_free(struct tp_sock *ts);

/* tp_tcp.c */
/* The connection table.  0 or ENOMEM. */
int tp_tcp_init(struct tp_sock *ts);
/* Open, bind, listen on and watch the TCP listener of ls.  0 or an errno. */
int tp_tcp_open(struct tp_sock *ts, struct tp_lsock *ls);
/* Write the message in iov over d->conn if open, else over the connection to
 * d->addr, opened if needed.  0, or an errno (the connection is then closed). */
int tp_tcp_send(struct tp_sock *ts, const struct tp_dest *d, const struct iovec *iov, int iovcnt);
/* Close every connection and free the table. */
void tp_tcp_free(struct tp_sock *ts);

#endif
