/*
 * tp.h - transports (RFC 3261 §18): what the transaction layer sees of them.
 *
 * struct tp is a transport endpoint set owned by one worker's loop: the real
 * one (tp_sock.c: UDP, TCP; later TLS, WS) and the in-memory one of the test
 * network simulator implement the same ops, so the transaction and the layers
 * above never know which one they talk to.
 */
#ifndef RINGLET_TP_H
#define RINGLET_TP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ringlet/msg.h"

enum tp_proto {
	TP_UDP = 1,
	TP_TCP,
	TP_TLS,
	TP_WS,
	TP_WSS,
};

/* "UDP", "TCP", ... as in a Via sent-protocol. */
const char *tp_proto_name(enum tp_proto p);
/* Parse a Via transport token (case-insensitive); 0 if unknown. */
enum tp_proto tp_proto_from_token(const char *p, size_t len);
/* Reliable (stream) transports: no retransmission timers A/E/G (RFC 3261 §17). */
bool tp_proto_reliable(enum tp_proto p);

/* An IPv4 or IPv6 socket address. */
struct tp_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
};

socklen_t tp_addr_len(const struct tp_addr *a);
uint16_t tp_addr_port(const struct tp_addr *a);
bool tp_addr_equal(const struct tp_addr *a, const struct tp_addr *b);
/* Numeric host to address (IPv4 or IPv6, brackets allowed).  Returns 0 or EINVAL. */
int tp_addr_set(struct tp_addr *a, const char *host, size_t hostlen, uint16_t port);
/* "1.2.3.4:5060" or "[::1]:5060" into out (NUL-terminated, truncated to cap). */
void tp_addr_str(const struct tp_addr *a, char *out, size_t cap);

/* A connection of a stream transport (opaque, reference counted by the transport). */
struct tp_conn;
void tp_conn_ref(struct tp_conn *c);
void tp_conn_unref(struct tp_conn *c);

/* Where a message goes: transport, address, and (streams) a connection to reuse if open. */
struct tp_dest {
	uint8_t proto; /* enum tp_proto */
	struct tp_addr addr;
	struct tp_conn *conn; /* borrowed; NULL: find or open one to addr */
	/* UDP: send from the socket bound to this address when there is one
	 * (tp_response_dest sets it to where the request arrived); family 0: any. */
	struct tp_addr local;
};

/*
 * A received message, as handed up by a transport.  buf holds the bytes and
 * msg is parsed from them (msg.buf == buf).  Borrowed for the duration of the
 * receive callback: keep what you need (copy buf + msg with one memcpy each,
 * spans are offsets).
 */
struct tp_rx {
	struct msg msg;
	const char *buf;
	uint32_t len;
	uint8_t proto;        /* enum tp_proto */
	struct tp_addr src;   /* the peer */
	struct tp_addr local; /* our address it arrived on */
	struct tp_conn *conn; /* streams: the connection it came on (borrowed) */
};

struct tp;

/* Operations a transport endpoint set implements. */
struct tp_ops {
	/*
	 * Send data to d.  For UDP, messages larger than the path allows go over
	 * TCP (RFC 3261 §18.1.1) when that is possible.  Returns 0, or an errno for
	 * a transport error the caller reports as RFC 3261 §8.1.3 says (503).
	 */
	int (*send)(struct tp *tp, const struct tp_dest *d, const char *data, size_t len);
	/* The local address to put in a Via for proto (sent-by). */
	const struct tp_addr *(*local)(struct tp *tp, enum tp_proto proto);
};

typedef void tp_recv_fn(struct tp *tp, struct tp_rx *rx, void *arg);

struct tp {
	const struct tp_ops *ops;
	tp_recv_fn *recv; /* called for every message received and parsed */
	void *recv_arg;
};

static inline int tp_send(struct tp *tp, const struct tp_dest *d, const char *data, size_t len)
{
	return tp->ops->send(tp, d, data, len);
}

/*
 * Where a response to request rx goes (RFC 3261 §18.2.2, RFC 3581): over the
 * connection it came on for streams (or, if it has closed, a new one to the
 * source IP address and the sent-by port, default 5060, 5061 for TLS/WSS,
 * as §18.2.2 says: the source port of a connection is ephemeral); for UDP
 * always to the source address and port, which is where sent-by plus
 * received/rport point once the transport has added them; a Via maddr is
 * never followed (reflection risk).
 * Returns 0 or EINVAL (no usable Via).
 */
int tp_response_dest(const struct tp_rx *rx, struct tp_dest *out);

/*
 * The parameters a server adds to the top Via of request rx (RFC 3261
 * §18.2.1, RFC 3581 §4), formatted into out (NUL-terminated):
 * ";received=<source IP>" when sent-by is a host name or an IP address other
 * than the source (IPv6 without brackets), and always when the Via has an
 * rport without a value, which then also gets ";rport=<source port>" (the
 * valueless rport must then be dropped from the Via: tp_via_rewrite does
 * both).  Returns the length written (0: nothing to add), or -1 when the
 * request has no parsable Via or cap is too small.
 */
int tp_via_received(const struct tp_rx *rx, char *out, size_t cap);

/*
 * The top Via value of rx (the first element, without "Via:") rewritten with
 * the parameters of tp_via_received: a received or valueless rport already
 * there is replaced, every other parameter is kept in order.  Returns the
 * length written into out (NUL-terminated), or -1 as tp_via_received.
 */
int tp_via_rewrite(const struct tp_rx *rx, char *out, size_t cap);

/*
 * Parse a listen spec "PROTO:HOST[:PORT]" (--listen): PROTO is udp, tcp, tls,
 * ws or wss (any case), HOST a numeric IPv4 address or a bracketed IPv6 one,
 * PORT 0..65535 (default 5060, 5061 for tls and wss).  Returns 0 or EINVAL.
 */
int tp_listen_parse(const char *spec, enum tp_proto *proto, struct tp_addr *addr);

/*
 * The socket transport (src/tp/tp_sock.c): UDP and TCP over IPv4 and IPv6 on
 * one worker's loop.  Several workers may listen on the same address: every
 * listening socket has SO_REUSEPORT and the kernel spreads datagrams and
 * connections over them.  Zero fields of the config take the defaults.
 * Every function here runs on the loop's thread.
 */
struct loop;

struct tp_sock_cfg {
	uint32_t tcp_idle_ms;    /* close a connection idle this long (120000) */
	uint32_t tcp_connect_ms; /* give up a connect after this long (10000) */
	uint32_t tcp_max_conns;  /* beyond it the least recently used idle one goes (4096) */
	uint32_t tcp_wq_max;     /* bytes queued on one connection before it is closed (4 MiB) */
	uint32_t udp_max;        /* larger requests go over TCP, §18.1.1: MTU - 200 (1300);
				    over UDP after all when the TCP connect is refused */
	uint32_t sock_buf;       /* SO_RCVBUF / SO_SNDBUF of UDP sockets (4 MiB) */
	bool no_tcp_fallback;    /* send large requests over UDP anyway */
	bool no_bind_listen;     /* do not connect from the TCP listening address (see below) */
};

/*
 * Create an endpoint set on loop l (no sockets yet); received messages go to
 * recv(tp, rx, arg).  Returns 0 or ENOMEM.
 *
 * Outgoing TCP connections are bound to the TCP listening address of their
 * family when there is one, so the peer sees our listening port as the source
 * and can reuse the connection for its own requests to us (RFC 5923 idea,
 * without the alias parameter); when that address is busy (another worker
 * has a connection to the same peer) the connection uses an ephemeral port.
 */
int tp_sock_alloc(struct tp **out, struct loop *l, const struct tp_sock_cfg *cfg,
		  tp_recv_fn *recv, void *recv_arg);

/*
 * Listen on addr (port 0: an ephemeral one) for proto.  The bound address is
 * written to *bound when not NULL.  Returns 0, EPROTONOSUPPORT (tls, ws, wss
 * for now), ENOSPC (too many listeners) or the errno of socket/bind/listen.
 */
int tp_sock_listen(struct tp *tp, enum tp_proto proto, const struct tp_addr *addr,
		   struct tp_addr *bound);

/* Close every socket and connection and free the set (tp may be NULL). */
void tp_sock_free(struct tp *tp);

/* Counters of an endpoint set, for metrics and tests. */
struct tp_sock_stats {
	uint64_t rx_msgs;      /* messages handed up */
	uint64_t rx_bad;       /* datagrams or streams dropped as unparsable or too big */
	uint64_t rx_keepalive; /* CRLF keep-alives received */
	uint64_t tx_msgs;      /* messages sent (or queued on a connection) */
	uint64_t tx_err;       /* send errors */
	uint64_t tx_batches;   /* sendmmsg calls */
	uint64_t tx_udp_to_tcp; /* UDP requests sent over TCP for their size (§18.1.1) */
	uint32_t conns;        /* open TCP connections */
	uint64_t conns_evicted; /* closed for the connection cap */
	uint64_t conns_idle;   /* closed for the idle timeout */
};
void tp_sock_stats(const struct tp *tp, struct tp_sock_stats *out);

#endif
