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
 * source address); for UDP always to the source address and port, which is
 * where sent-by plus received/rport point once the transport has added them;
 * a Via maddr is never followed (reflection risk).
 * Returns 0 or EINVAL (no usable Via).
 */
int tp_response_dest(const struct tp_rx *rx, struct tp_dest *out);

#endif
