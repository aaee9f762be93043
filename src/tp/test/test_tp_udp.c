/*
 * test_tp_udp.c - SIP over UDP on loopback (RFC 3261 §18): both families,
 * recvmmsg batches and sendmmsg replies, what is dropped and what is handed
 * up, requests too large for UDP going over TCP (§18.1.1), SO_REUSEPORT.
 */
#include "tp_test.h"

struct fx {
	struct loop *l;
	struct tp *tp;
	struct sink s;
	struct tp_addr u4, u6; /* the endpoint set's UDP sockets */
};

static struct tp_sock_stats stats_of(const struct tp *tp)
{
	struct tp_sock_stats st;
	tp_sock_stats(tp, &st);
	return st;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct tp_addr a;

	assert_int_equal(loop_alloc(&f->l, LOOP_CLOCK_MONOTONIC), 0);
	assert_int_equal(tp_sock_alloc(&f->tp, f->l, NULL, sink_recv, &f->s), 0);
	addr_of(&a, "127.0.0.1", 0);
	assert_int_equal(tp_sock_listen(f->tp, TP_UDP, &a, &f->u4), 0);
	assert_int_not_equal(tp_addr_port(&f->u4), 0);
	addr_of(&a, "::1", 0);
	assert_int_equal(tp_sock_listen(f->tp, TP_UDP, &a, &f->u6), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tp_sock_free(f->tp);
	sink_clear(&f->s);
	loop_free(f->l);
	free(f);
	return 0;
}

/* A request in, handed up as sent; the reply goes back to the source port
 * from our socket; a request out reaches the peer. */
static void one_family(struct fx *f, const char *ip, const struct tp_addr *server)
{
	struct tp_addr pa, from;
	char req[2048], buf[4096];
	size_t n = mkreq(req, sizeof(req), "UDP", 7, 400);
	int fd = udp_peer(ip, &pa);
	unsigned before = f->s.n;

	f->s.reply = true;
	assert_int_equal(sendto(fd, req, n, 0, &server->u.sa, tp_addr_len(server)), (ssize_t)n);
	assert_true(pump_until(f->l, &f->s.n, before + 1));
	const struct got *g = &f->s.m[before];
	assert_int_equal(g->proto, TP_UDP);
	assert_int_equal(g->len, n);
	assert_memory_equal(g->data, req, n);
	assert_true(tp_addr_equal(&g->src, &pa));
	assert_true(tp_addr_equal(&g->local, server));
	assert_null(g->conn);
	assert_int_equal(f->s.reply_err, 0);

	ssize_t k = peer_recvfrom(f->l, fd, buf, sizeof(buf) - 1, &from);
	assert_true(k > 0);
	buf[k] = '\0';
	assert_memory_equal(buf, "SIP/2.0 200 OK\r\n", 16);
	assert_non_null(strstr(buf, "Call-ID: call-7@h"));
	assert_true(tp_addr_equal(&from, server));

	struct tp_dest d = {.proto = TP_UDP, .addr = pa};
	assert_int_equal(tp_send(f->tp, &d, req, n), 0);
	k = peer_recvfrom(f->l, fd, buf, sizeof(buf), &from);
	assert_int_equal(k, (ssize_t)n);
	assert_memory_equal(buf, req, n);
	assert_true(tp_addr_equal(&from, server));
	close(fd);
}

static void test_udp_v4_v6(void **state)
{
	struct fx *f = *state;

	one_family(f, "127.0.0.1", &f->u4);
	one_family(f, "::1", &f->u6);
	assert_int_equal(f->s.n, 2);
	/* the local address for a Via */
	assert_true(tp_addr_equal(f->tp->ops->local(f->tp, TP_UDP), &f->u4));
}

/* 100 datagrams queued before the loop runs: read 32 per recvmmsg, in
 * order; the replies made while a batch is handed up leave by sendmmsg. */
static void test_udp_batch(void **state)
{
	struct fx *f = *state;
	struct tp_addr pa, from;
	struct tp_sock_stats st;
	char req[1024], buf[2048];
	int fd = udp_peer("127.0.0.1", &pa);
	const int N = 100;

	f->s.reply = true;
	for (int i = 0; i < N; i++) {
		size_t n = mkreq(req, sizeof(req), "UDP", i, 300);
		assert_int_equal(sendto(fd, req, n, 0, &f->u4.u.sa, tp_addr_len(&f->u4)),
				 (ssize_t)n);
	}
	assert_true(pump_until(f->l, &f->s.n, (unsigned)N));
	for (int i = 0; i < N; i++) {
		char cseq[32];
		snprintf(cseq, sizeof(cseq), "CSeq: %d OPTIONS", i + 1);
		assert_non_null(strstr(f->s.m[i].data, cseq));
	}
	for (int i = 0; i < N; i++) {
		ssize_t k = peer_recvfrom(f->l, fd, buf, sizeof(buf), &from);
		assert_true(k > 0);
		assert_memory_equal(buf, "SIP/2.0 200 OK", 14);
	}
	tp_sock_stats(f->tp, &st);
	assert_int_equal(st.rx_msgs, N);
	assert_int_equal(st.tx_msgs, N);
	assert_int_equal(st.tx_err, 0);
	assert_true(st.tx_batches >= 1 && st.tx_batches <= (uint64_t)N / 4);
	close(fd);
}


/* A send made from a posted callback or a timer (what a location store's answer makes). */
struct later {
	struct tp *tp;
	struct tp_dest d;
	int i;
	int err;
	bool free_tp; /* then free tp: what it queued must still leave */
	struct loop_timer t;
};

static void send_later(void *arg)
{
	struct later *w = arg;
	char req[1024];
	size_t n = mkreq(req, sizeof(req), "UDP", w->i, 300);

	w->err = tp_send(w->tp, &w->d, req, n);
	if (w->free_tp)
		tp_sock_free(w->tp);
}

/* The peer gets datagrams first..first+n-1, in order; none more. */
static void expect_in_order(struct loop *l, int fd, int first, int n)
{
	char buf[2048], cseq[32];

	for (int i = first; i < first + n; i++) {
		ssize_t k = peer_recv(l, fd, buf, sizeof(buf) - 1);
		assert_true(k > 0);
		buf[k] = '\0';
		snprintf(cseq, sizeof(cseq), "CSeq: %d OPTIONS", i + 1);
		assert_non_null(strstr(buf, cseq));
	}
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
}

/*
 * Sends from the callbacks posted to the loop and from its timers leave in
 * one sendmmsg per iteration, in order, at most TP_UDP_BATCH (32) per call;
 * an iteration that sends nothing makes no call; a tp freed by a posted
 * callback still sends what it queued.
 */
static void test_udp_posted_sends_batched(void **state)
{
	struct fx *f = *state;
	struct tp_addr pa, a, b2;
	struct later w[40];
	struct tp *t2;
	int fd = udp_peer("127.0.0.1", &pa);
	uint64_t b0 = stats_of(f->tp).tx_batches;

	memset(w, 0, sizeof(w));
	for (int i = 0; i < 40; i++) {
		w[i].tp = f->tp;
		w[i].d = (struct tp_dest){.proto = TP_UDP, .addr = pa};
		w[i].i = i;
		w[i].err = -1;
		loop_timer_init(&w[i].t);
	}
	/* 5 posts in one iteration: one sendmmsg */
	for (int i = 0; i < 5; i++)
		assert_int_equal(loop_post(f->l, send_later, &w[i]), 0);
	assert_int_equal(loop_once(f->l, 1000), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(w[i].err, 0);
	assert_int_equal(stats_of(f->tp).tx_batches, b0 + 1);
	expect_in_order(f->l, fd, 0, 5);
	/* nothing sent: no call */
	pump(f->l, 3);
	assert_int_equal(stats_of(f->tp).tx_batches, b0 + 1);
	/* 35 posts and 2 delay-0 timers: 32 in the first call, the other 5 after, in order */
	for (int i = 5; i < 38; i++)
		assert_int_equal(loop_post(f->l, send_later, &w[i]), 0);
	loop_timer_start(f->l, &w[38].t, 0, send_later, &w[38]);
	loop_timer_start(f->l, &w[39].t, 0, send_later, &w[39]);
	assert_int_equal(loop_once(f->l, 1000), 0);
	assert_int_equal(w[39].err, 0);
	assert_int_equal(stats_of(f->tp).tx_batches, b0 + 3);
	expect_in_order(f->l, fd, 5, 35);
	/* a tp freed by the posted callback that sent on it */
	assert_int_equal(tp_sock_alloc(&t2, f->l, NULL, NULL, NULL), 0);
	addr_of(&a, "127.0.0.1", 0);
	assert_int_equal(tp_sock_listen(t2, TP_UDP, &a, &b2), 0);
	w[0].tp = t2;
	w[0].i = 0;
	w[0].free_tp = true;
	assert_int_equal(loop_post(f->l, send_later, &w[0]), 0);
	assert_int_equal(loop_once(f->l, 1000), 0);
	assert_int_equal(w[0].err, 0);
	expect_in_order(f->l, fd, 0, 1);
	close(fd);
}

/* Not SIP: dropped.  CRLF keep-alive and STUN: dropped silently.  Parsable
 * but invalid (no CSeq, bad Via): handed up, the layer above answers 400. */
static void test_udp_drop_and_hand_up(void **state)
{
	struct fx *f = *state;
	struct tp_addr pa;
	int fd = udp_peer("127.0.0.1", &pa);
	static const unsigned char stun[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2};
	const char *bad = "hello world\r\n\r\n";
	const char *invalid = "OPTIONS sip:a@b SIP/2.0\r\nVia: garbage\r\nCall-ID: x\r\n\r\n";
	struct sockaddr *to = &f->u4.u.sa;
	socklen_t tl = tp_addr_len(&f->u4);

	assert_true(sendto(fd, bad, strlen(bad), 0, to, tl) > 0);
	assert_true(pump_stat(f->l, f->tp, offsetof(struct tp_sock_stats, rx_bad), 1));
	assert_true(sendto(fd, "\r\n\r\n", 4, 0, to, tl) > 0);
	assert_true(pump_stat(f->l, f->tp, offsetof(struct tp_sock_stats, rx_keepalive), 1));
	assert_true(sendto(fd, stun, sizeof(stun), 0, to, tl) > 0);
	assert_true(pump_stat(f->l, f->tp, offsetof(struct tp_sock_stats, rx_bad), 2));
	assert_int_equal(f->s.n, 0);

	assert_true(sendto(fd, invalid, strlen(invalid), 0, to, tl) > 0);
	assert_true(pump_until(f->l, &f->s.n, 1));
	assert_string_equal(f->s.m[0].data, invalid);

	/* the largest datagram loopback carries is one message */
	size_t cap = 65507;
	char *big = malloc(cap);
	size_t n = mkreq(big, cap, "UDP", 3, 65000);
	assert_int_equal(sendto(fd, big, n, 0, to, tl), (ssize_t)n);
	assert_true(pump_until(f->l, &f->s.n, 2));
	assert_int_equal(f->s.m[1].len, n);
	assert_memory_equal(f->s.m[1].data, big, n);
	free(big);
	close(fd);
}

/* §18.1.1: a request over 1300 bytes goes over TCP to the same address, with
 * its top Via saying TCP; responses and small requests stay on UDP; a
 * refused connection sends it over UDP after all. */
static void test_udp_large_request_goes_tcp(void **state)
{
	struct fx *f = *state;
	struct sink sb = {0};
	struct tp *b;
	struct tp_addr a, bt, bu;
	struct tp_sock_stats st;
	char req[4096];

	assert_int_equal(tp_sock_alloc(&b, f->l, NULL, sink_recv, &sb), 0);
	addr_of(&a, "127.0.0.1", 0);
	assert_int_equal(tp_sock_listen(b, TP_TCP, &a, &bt), 0);
	assert_int_equal(tp_sock_listen(b, TP_UDP, &bt, &bu), 0);
	assert_true(tp_addr_equal(&bt, &bu));

	size_t n = mkreq(req, sizeof(req), "UDP", 1, 3000);
	struct tp_dest d = {.proto = TP_UDP, .addr = bu};
	assert_int_equal(tp_send(f->tp, &d, req, n), 0);
	assert_true(pump_until(f->l, &sb.n, 1));
	assert_int_equal(sb.m[0].proto, TP_TCP);
	assert_int_equal(sb.m[0].len, n);
	char *v = strstr(req, "SIP/2.0/UDP");
	memcpy(v + 8, "TCP", 3); /* what should have arrived */
	assert_memory_equal(sb.m[0].data, req, n);
	tp_sock_stats(f->tp, &st);
	assert_int_equal(st.tx_udp_to_tcp, 1);

	/* a large response and a small request stay on UDP */
	char resp[4096];
	int rn = snprintf(resp, sizeof(resp), "SIP/2.0 200 OK\r\nContent-Length: 2000\r\n\r\n");
	memset(resp + rn, 'x', 2000);
	assert_int_equal(tp_send(f->tp, &d, resp, (size_t)rn + 2000), 0);
	n = mkreq(req, sizeof(req), "UDP", 2, 1000);
	assert_int_equal(tp_send(f->tp, &d, req, n), 0);
	assert_true(pump_until(f->l, &sb.n, 3));
	assert_int_equal(sb.m[1].proto, TP_UDP);
	assert_false(sb.m[1].is_request);
	assert_int_equal(sb.m[2].proto, TP_UDP);
	assert_int_equal(sb.m[2].len, n);
	tp_sock_free(b);
	sink_clear(&sb);

	/* nobody listens on TCP there: a TCP reset means an RFC 2543 peer, so
	 * §18.1.1 retries over UDP, with the Via as it was */
	struct tp_addr pa, from;
	char buf[4096];
	int fd = udp_peer("127.0.0.1", &pa);
	d.addr = pa;
	n = mkreq(req, sizeof(req), "UDP", 3, 3000);
	assert_int_equal(tp_send(f->tp, &d, req, n), 0);
	assert_int_equal(peer_recvfrom(f->l, fd, buf, sizeof(buf), &from), (ssize_t)n);
	assert_memory_equal(buf, req, n);
	assert_int_equal(stats_of(f->tp).tx_udp_to_tcp, 1);
	/* ... and when UDP cannot carry it either, send fails */
	size_t cap = MSG_MAX_SIZE;
	char *huge = malloc(cap);
	n = mkreq(huge, cap, "UDP", 4, 65545); /* over 65507, the IPv4 UDP limit */
	assert_true(n > 65507 && n <= MSG_MAX_SIZE);
	assert_int_equal(tp_send(f->tp, &d, huge, n), EMSGSIZE);
	assert_int_equal(stats_of(f->tp).tx_err, 1);
	free(huge);
	close(fd);
}

/* With the fallback off, a large request goes over UDP anyway. */
static void test_udp_no_fallback(void **state)
{
	struct fx *f = *state;
	struct tp_sock_cfg cfg = {.no_tcp_fallback = true};
	struct sink sa = {0};
	struct tp *a;
	struct tp_addr x, pa, from;
	char req[4096], buf[4096];

	(void)state;
	assert_int_equal(tp_sock_alloc(&a, f->l, &cfg, sink_recv, &sa), 0);
	addr_of(&x, "127.0.0.1", 0);
	assert_int_equal(tp_sock_listen(a, TP_UDP, &x, NULL), 0);
	int fd = udp_peer("127.0.0.1", &pa);
	size_t n = mkreq(req, sizeof(req), "UDP", 4, 3000);
	struct tp_dest d = {.proto = TP_UDP, .addr = pa};
	assert_int_equal(tp_send(a, &d, req, n), 0);
	assert_int_equal(peer_recvfrom(f->l, fd, buf, sizeof(buf), &from), (ssize_t)n);
	assert_memory_equal(buf, req, n);
	close(fd);
	tp_sock_free(a);
}

/* Workers share a port with SO_REUSEPORT, each with its own socket. */
static void test_udp_reuseport(void **state)
{
	struct fx *f = *state;
	struct sink s2 = {0};
	struct tp *t2;
	struct tp_addr same, pa;
	char req[1024];

	assert_int_equal(tp_sock_alloc(&t2, f->l, NULL, sink_recv, &s2), 0);
	assert_int_equal(tp_sock_listen(t2, TP_UDP, &f->u4, &same), 0);
	assert_true(tp_addr_equal(&same, &f->u4));
	/* the kernel spreads peers over both sockets; every datagram arrives once */
	const unsigned N = 40;
	for (unsigned i = 0; i < N; i++) {
		int fd = udp_peer("127.0.0.1", &pa);
		size_t n = mkreq(req, sizeof(req), "UDP", (int)i, 200);
		assert_int_equal(sendto(fd, req, n, 0, &same.u.sa, tp_addr_len(&same)), (ssize_t)n);
		close(fd);
	}
	for (int i = 0; i < 300 && f->s.n + s2.n < N; i++)
		loop_once(f->l, 10);
	assert_int_equal(f->s.n + s2.n, N);
	assert_true(f->s.n > 0 && s2.n > 0); /* 2^-39 to fail by chance */
	tp_sock_free(t2);
	sink_clear(&s2);
}

static void test_udp_errors(void **state)
{
	struct fx *f = *state;
	struct sink s2 = {0};
	struct tp *t2;
	struct tp_addr a, any;
	char req[1024];
	size_t n = mkreq(req, sizeof(req), "UDP", 1, 200);

	assert_int_equal(tp_sock_alloc(&t2, f->l, NULL, sink_recv, &s2), 0);
	addr_of(&a, "127.0.0.1", 0);
	assert_int_equal(tp_sock_listen(t2, TP_TLS, &a, NULL), EPROTONOSUPPORT);
	memset(&any, 0, sizeof(any));
	assert_int_equal(tp_sock_listen(t2, TP_UDP, &any, NULL), EAFNOSUPPORT);
	assert_int_equal(tp_sock_listen(t2, TP_UDP, &a, NULL), 0);
	/* no IPv6 socket: cannot send there */
	struct tp_dest d = {.proto = TP_UDP};
	addr_of(&d.addr, "::1", 5060);
	assert_int_equal(tp_send(t2, &d, req, n), EAFNOSUPPORT);
	d.proto = TP_WS;
	assert_int_equal(tp_send(t2, &d, req, n), EPROTONOSUPPORT);
	d.proto = TP_UDP;
	assert_int_equal(tp_send(t2, &d, req, 0), EMSGSIZE);
	/* no TLS listener: the UDP address stands for this host in a Via */
	assert_true(tp_addr_equal(f->tp->ops->local(f->tp, TP_TLS), &f->u4));
	tp_sock_free(t2);
	sink_clear(&s2);
	tp_sock_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_udp_v4_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_posted_sends_batched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_drop_and_hand_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_large_request_goes_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_no_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_reuseport, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
