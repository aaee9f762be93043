/*
 * tp_test.h - helpers of the socket transport tests: a receiver that keeps
 * copies of what it is handed (and can answer requests), raw loopback peers,
 * and pumping the loop until something happened.  Only 127.0.0.1 and ::1.
 */
#ifndef RINGLET_TP_TEST_H
#define RINGLET_TP_TEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringlet/loop.h"
#include "ringlet/mem.h"
#include "ringlet/tp.h"

#define SINK_MAX 256

struct got {
	char *data;
	size_t len;
	uint8_t proto;
	bool is_request;
	uint32_t anomalies;
	struct tp_addr src;
	struct tp_addr local;
	struct tp_conn *conn; /* a reference */
};

struct sink {
	unsigned n;
	struct got m[SINK_MAX];
	bool reply;   /* answer every request with 200 (tp_response_dest) */
	int reply_err; /* what the last reply's tp_send returned */
};

static inline void sink_recv(struct tp *tp, struct tp_rx *rx, void *arg)
{
	struct sink *s = arg;

	assert_ptr_equal(rx->buf, rx->msg.buf);
	assert_int_equal(rx->len, rx->msg.len);
	if (s->n < SINK_MAX) {
		struct got *g = &s->m[s->n];
		g->data = malloc(rx->len + 1);
		memcpy(g->data, rx->buf, rx->len);
		g->data[rx->len] = '\0';
		g->len = rx->len;
		g->proto = rx->proto;
		g->is_request = rx->msg.is_request;
		g->anomalies = rx->msg.anomalies;
		g->src = rx->src;
		g->local = rx->local;
		g->conn = rx->conn;
		tp_conn_ref(rx->conn);
	}
	s->n++;
	if (s->reply && rx->msg.is_request) {
		char out[4096];
		struct msg_out o;
		struct tp_dest d;
		msg_out_init(&o, out, sizeof(out));
		msg_out_response(&o, &rx->msg, 200, NULL, "tt");
		assert_int_equal(msg_out_end(&o, NULL, 0), 0);
		assert_int_equal(tp_response_dest(rx, &d), 0);
		s->reply_err = tp_send(tp, &d, out, o.len);
	}
}

static inline void sink_clear(struct sink *s)
{
	for (unsigned i = 0; i < s->n && i < SINK_MAX; i++) {
		free(s->m[i].data);
		tp_conn_unref(s->m[i].conn);
	}
	memset(s, 0, sizeof(*s));
}

/* Run the loop until *n reaches want (at most ~5 s). */
static inline bool pump_until(struct loop *l, const unsigned *n, unsigned want)
{
	for (int i = 0; i < 500 && *n < want; i++)
		loop_once(l, 10);
	return *n >= want;
}

static inline void pump(struct loop *l, int rounds)
{
	for (int i = 0; i < rounds; i++)
		loop_once(l, 1);
}

/* A request of about `size` bytes (body padding), over transport tpname. */
static inline size_t mkreq(char *out, size_t cap, const char *tpname, int i, size_t size)
{
	int n = snprintf(out, cap,
			 "OPTIONS sip:u%d@example.com SIP/2.0\r\n"
			 "Via: SIP/2.0/%s 127.0.0.1:5060;branch=z9hG4bK-%d\r\n"
			 "Max-Forwards: 70\r\nFrom: <sip:a@example.com>;tag=1\r\n"
			 "To: <sip:b@example.com>\r\nCall-ID: call-%d@h\r\nCSeq: %d OPTIONS\r\n",
			 i, tpname, i, i, i + 1);
	size_t blen = (size_t)n + 40 < size ? size - (size_t)n - 40 : 0;
	n += snprintf(out + n, cap - (size_t)n, "Content-Length: %zu\r\n\r\n", blen);
	assert_true((size_t)n + blen < cap);
	memset(out + n, 'a' + i % 26, blen);
	return (size_t)n + blen;
}

static inline void addr_of(struct tp_addr *a, const char *ip, uint16_t port)
{
	assert_int_equal(tp_addr_set(a, ip, strlen(ip), port), 0);
}

/* A raw UDP socket on ip, port 0; its address in *bound. */
static inline int udp_peer(const char *ip, struct tp_addr *bound)
{
	struct tp_addr a;
	socklen_t len = sizeof(bound->u);

	addr_of(&a, ip, 0);
	int fd = socket(a.u.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, &a.u.sa, tp_addr_len(&a)), 0);
	assert_int_equal(getsockname(fd, &bound->u.sa, &len), 0);
	return fd;
}

/* A raw TCP client connected to `to` (the loop must accept later). */
static inline int tcp_peer(const struct tp_addr *to, struct tp_addr *local)
{
	socklen_t len = sizeof(local->u);
	int fd = socket(to->u.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, &to->u.sa, tp_addr_len(to)), 0);
	assert_int_equal(getsockname(fd, &local->u.sa, &len), 0);
	return fd;
}

/*
 * Read from a raw peer while running the loop: the bytes read (up to cap),
 * 0 on EOF, -1 on a connection reset or if nothing came within ~5 s.
 */
static inline ssize_t peer_recv(struct loop *l, int fd, char *buf, size_t cap)
{
	for (int i = 0; i < 500; i++) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 0) == 1) {
			ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
			if (n >= 0)
				return n;
			if (errno != EAGAIN)
				return -1;
		}
		loop_once(l, 10);
	}
	return -1;
}

/* peer_recv for a datagram, with its source address. */
static inline ssize_t peer_recvfrom(struct loop *l, int fd, char *buf, size_t cap,
				    struct tp_addr *from)
{
	for (int i = 0; i < 500; i++) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 0) == 1) {
			socklen_t len = sizeof(from->u);
			memset(from, 0, sizeof(*from));
			return recvfrom(fd, buf, cap, MSG_DONTWAIT, &from->u.sa, &len);
		}
		loop_once(l, 10);
	}
	return -1;
}

/* Run the loop until the counter *c (of a struct tp_sock_stats) reaches want. */
static inline bool pump_stat(struct loop *l, const struct tp *tp, size_t field, uint64_t want)
{
	struct tp_sock_stats st;

	for (int i = 0; i < 500; i++) {
		tp_sock_stats(tp, &st);
		if (*(const uint64_t *)(const void *)((const char *)&st + field) >= want)
			return true;
		loop_once(l, 10);
	}
	return false;
}

/* Read exactly n bytes from a stream peer while running the loop. */
static inline bool peer_recv_all(struct loop *l, int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = peer_recv(l, fd, buf + got, n - got);
		if (k <= 0)
			return false;
		got += (size_t)k;
	}
	return true;
}

/* True once the raw stream peer sees the connection closed (EOF or reset). */
static inline bool peer_closed(struct loop *l, int fd)
{
	char buf[4096];

	for (int i = 0; i < 100; i++) {
		ssize_t n = peer_recv(l, fd, buf, sizeof(buf));
		if (n <= 0)
			return true;
	}
	return false;
}

#endif
