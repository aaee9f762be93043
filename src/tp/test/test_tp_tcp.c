/*
 * test_tp_tcp.c - SIP over TCP on loopback (RFC 3261 §18.3): framing across
 * reads, keep-alives (RFC 5626 §3.5.1), what closes a connection, connection
 * reuse for responses and later requests, idle timeout on the loop's virtual
 * clock, the connection cap and the write queue.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "tp/tp_int.h" /* white box: a connection's write queue */
#include "tp_test.h"

struct fx {
	struct loop *l;
	struct tp *tp;
	struct sink s;
	struct tp_addr t4, t6; /* TCP listeners */
};

static struct fx *fx_new(const struct tp_sock_cfg *cfg, int clock)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct tp_addr a;

	assert_int_equal(loop_alloc(&f->l, clock), 0);
	assert_int_equal(tp_sock_alloc(&f->tp, f->l, cfg, sink_recv, &f->s), 0);
	addr_of(&a, "127.0.0.1", 0);
	assert_int_equal(tp_sock_listen(f->tp, TP_TCP, &a, &f->t4), 0);
	addr_of(&a, "::1", 0);
	assert_int_equal(tp_sock_listen(f->tp, TP_TCP, &a, &f->t6), 0);
	return f;
}

static int setup(void **state)
{
	*state = fx_new(NULL, LOOP_CLOCK_MONOTONIC);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tp_sock_free(f->tp);
	sink_clear(&f->s);
	loop_free(f->l);
	free(f);
	assert_int_equal(mem_live(), 0); /* every connection freed */
	return 0;
}

static struct tp_sock_stats stats(const struct tp *tp)
{
	struct tp_sock_stats st;
	tp_sock_stats(tp, &st);
	return st;
}

static int client(struct fx *f, const struct tp_addr *to, struct tp_addr *local)
{
	int on = 1, fd = tcp_peer(to, local);

	assert_int_equal(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)), 0);
	pump(f->l, 2); /* accept */
	return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
	assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* One request, one byte per read; the reply comes back on the connection. */
static void test_tcp_byte_by_byte(void **state)
{
	struct fx *f = *state;
	struct tp_addr pa;
	char req[1024], buf[2048];
	size_t n = mkreq(req, sizeof(req), "TCP", 1, 300);
	int fd = client(f, &f->t4, &pa);

	f->s.reply = true;
	for (size_t i = 0; i < n; i++) {
		send_all(fd, req + i, 1);
		pump(f->l, 2);
		assert_int_equal(f->s.n, i + 1 < n ? 0 : 1);
	}
	const struct got *g = &f->s.m[0];
	assert_int_equal(g->proto, TP_TCP);
	assert_int_equal(g->len, n);
	assert_memory_equal(g->data, req, n);
	assert_true(tp_addr_equal(&g->src, &pa));
	assert_int_equal(tp_addr_port(&g->local), tp_addr_port(&f->t4));
	assert_non_null(g->conn);
	assert_int_equal(f->s.reply_err, 0);
	ssize_t k = peer_recv(f->l, fd, buf, sizeof(buf) - 1);
	assert_true(k > 0);
	buf[k] = '\0';
	assert_memory_equal(buf, "SIP/2.0 200 OK\r\n", 16);
	assert_non_null(strstr(buf, "Call-ID: call-1@h"));
	assert_int_equal(stats(f->tp).conns, 1);
	close(fd);
	assert_true(pump_stat(f->l, f->tp, offsetof(struct tp_sock_stats, rx_msgs), 1));
	for (int i = 0; i < 100 && stats(f->tp).conns > 0; i++)
		loop_once(f->l, 10);
	assert_int_equal(stats(f->tp).conns, 0); /* EOF closed it */
}

/* Three messages and a ping in one segment; over IPv6. */
static void test_tcp_several_per_segment(void **state)
{
	struct fx *f = *state;
	struct tp_addr pa;
	char all[8192], buf[16];
	size_t n = 0, len[3];
	int fd = client(f, &f->t6, &pa);

	for (int i = 0; i < 3; i++) {
		len[i] = mkreq(all + n, sizeof(all) - n, "TCP", i, 200 + 500 * (size_t)i);
		n += len[i];
		if (i == 1) {
			memcpy(all + n, "\r\n\r\n", 4);
			n += 4;
		}
	}
	send_all(fd, all, n);
	assert_true(pump_until(f->l, &f->s.n, 3));
	size_t off = 0;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(f->s.m[i].len, len[i]);
		assert_memory_equal(f->s.m[i].data, all + off, len[i]);
		assert_ptr_equal(f->s.m[i].conn, f->s.m[0].conn);
		off += len[i] + (i == 1 ? 4 : 0);
	}
	assert_int_equal(f->s.m[0].src.u.sa.sa_family, AF_INET6);
	assert_int_equal(peer_recv(f->l, fd, buf, sizeof(buf)), 2); /* the pong */
	assert_memory_equal(buf, "\r\n", 2);
	close(fd);
}

/* RFC 5626 §3.5.1: CRLFCRLF is answered with CRLF; a lone CRLF is not. */
static void test_tcp_keepalive(void **state)
{
	struct fx *f = *state;
	struct tp_addr pa;
	char buf[64], req[1024];
	int fd = client(f, &f->t4, &pa);

	send_all(fd, "\r\n\r\n", 4);
	assert_int_equal(peer_recv(f->l, fd, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "\r\n", 2);
	send_all(fd, "\r\n", 2);
	pump(f->l, 20);
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1); /* nothing back */
	assert_int_equal(errno, EAGAIN);
	size_t n = mkreq(req, sizeof(req), "TCP", 2, 100);
	send_all(fd, req, n);
	assert_true(pump_until(f->l, &f->s.n, 1));
	assert_memory_equal(f->s.m[0].data, req, n);
	assert_int_equal(stats(f->tp).rx_keepalive, 1);
	close(fd);
}

/* A message over MSG_MAX_SIZE, by Content-Length or by headers: closed. */
static void test_tcp_over_cap(void **state)
{
	struct fx *f = *state;
	struct tp_addr pa;
	const char *big = "INVITE sip:a@b SIP/2.0\r\nContent-Length: 70000\r\n\r\n";
	int fd = client(f, &f->t4, &pa);

	send_all(fd, big, strlen(big));
	assert_true(peer_closed(f->l, fd));
	close(fd);

	fd = client(f, &f->t4, &pa);
	send_all(fd, "INVITE sip:a@b SIP/2.0\r\n", 24);
	char line[1000];
	memset(line, 'a', sizeof(line));
	memcpy(line, "X-Pad: ", 7);
	memcpy(line + sizeof(line) - 2, "\r\n", 2);
	for (int i = 0; i < 70; i++)
		(void)send(fd, line, sizeof(line), MSG_NOSIGNAL | MSG_DONTWAIT);
	assert_true(peer_closed(f->l, fd));
	close(fd);
	assert_int_equal(f->s.n, 0);
	assert_int_equal(stats(f->tp).rx_bad, 2);
	assert_int_equal(stats(f->tp).conns, 0);
}

/* Bytes that are not SIP close the connection, after any good message. */
static void test_tcp_bad_stream(void **state)
{
	struct fx *f = *state;
	struct tp_addr pa;
	char all[2048];
	int fd = client(f, &f->t4, &pa);

	send_all(fd, "hello world\r\n\r\n", 15);
	assert_true(peer_closed(f->l, fd));
	close(fd);

	fd = client(f, &f->t4, &pa);
	size_t n = mkreq(all, sizeof(all), "TCP", 1, 200);
	memcpy(all + n, "hello world\r\n\r\n", 15);
	send_all(fd, all, n + 15);
	assert_true(peer_closed(f->l, fd));
	assert_int_equal(f->s.n, 1);
	close(fd);
	assert_int_equal(stats(f->tp).conns, 0);
}

/* §18.3: without Content-Length the request is handed up (to be answered
 * 400); the answer is written, then the connection closes. */
static void test_tcp_no_content_length(void **state)
{
	struct fx *f = *state;
	struct tp_addr pa;
	char buf[2048];
	const char *req = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK5\r\n"
			  "From: <sip:a@b>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: nc@h\r\n"
			  "CSeq: 1 OPTIONS\r\n\r\nmore bytes";
	int fd = client(f, &f->t4, &pa);

	f->s.reply = true;
	send_all(fd, req, strlen(req));
	assert_true(pump_until(f->l, &f->s.n, 1));
	assert_true(f->s.m[0].anomalies & MSG_A_NO_CLEN);
	ssize_t k = peer_recv(f->l, fd, buf, sizeof(buf) - 1);
	assert_true(k > 0);
	buf[k] = '\0';
	assert_non_null(strstr(buf, "Call-ID: nc@h"));
	assert_true(peer_closed(f->l, fd));
	close(fd);
}

/*
 * Connection reuse, whoever opened it: A's request opens a connection to B,
 * B's response comes back over it, A's next request and B's own request to
 * A's listening address use it too.
 */
static void test_tcp_reuse(void **state)
{
	struct fx *f = *state; /* A */
	struct sink sb = {0};
	struct tp *b;
	struct tp_addr a0, bl;
	char req[2048];

	assert_int_equal(tp_sock_alloc(&b, f->l, NULL, sink_recv, &sb), 0);
	addr_of(&a0, "127.0.0.1", 0);
	assert_int_equal(tp_sock_listen(b, TP_TCP, &a0, &bl), 0);
	sb.reply = true;

	size_t n = mkreq(req, sizeof(req), "TCP", 1, 500);
	struct tp_dest d = {.proto = TP_TCP, .addr = bl};
	assert_int_equal(tp_send(f->tp, &d, req, n), 0);
	assert_true(pump_until(f->l, &sb.n, 1));
	/* the connection starts from A's listening address */
	assert_true(tp_addr_equal(&sb.m[0].src, &f->t4));
	assert_true(pump_until(f->l, &f->s.n, 1)); /* the response */
	assert_false(f->s.m[0].is_request);
	struct tp_conn *ca = f->s.m[0].conn;
	assert_non_null(ca);

	n = mkreq(req, sizeof(req), "TCP", 2, 500);
	assert_int_equal(tp_send(f->tp, &d, req, n), 0);
	assert_true(pump_until(f->l, &sb.n, 2));
	assert_ptr_equal(sb.m[1].conn, sb.m[0].conn);

	/* B's own request to A's listening address: the same connection */
	n = mkreq(req, sizeof(req), "TCP", 3, 500);
	struct tp_dest da = {.proto = TP_TCP, .addr = f->t4};
	assert_int_equal(tp_send(b, &da, req, n), 0);
	assert_true(pump_until(f->l, &f->s.n, 3));
	assert_true(f->s.m[2].is_request);
	assert_ptr_equal(f->s.m[2].conn, ca);
	assert_int_equal(stats(f->tp).conns, 1);
	assert_int_equal(stats(b).conns, 1);

	tp_sock_free(b);
	sink_clear(&sb);
}

/* A dest naming a connection that has closed: a new one to its address. */
static void test_tcp_closed_conn_in_dest(void **state)
{
	struct fx *f = *state;
	struct tp_addr pa, la;
	char req[1024], buf[1024];
	socklen_t len = sizeof(la.u);

	int fd = client(f, &f->t4, &pa);
	size_t n = mkreq(req, sizeof(req), "TCP", 1, 200);
	send_all(fd, req, n);
	assert_true(pump_until(f->l, &f->s.n, 1));
	struct tp_conn *c = f->s.m[0].conn; /* the sink holds a reference */
	close(fd);
	for (int i = 0; i < 100 && stats(f->tp).conns > 0; i++)
		loop_once(f->l, 10);
	assert_int_equal(stats(f->tp).conns, 0);

	/* a raw listener stands for the peer's listening address */
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	addr_of(&la, "127.0.0.1", 0);
	assert_int_equal(bind(lfd, &la.u.sa, tp_addr_len(&la)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, &la.u.sa, &len), 0);
	struct tp_dest d = {.proto = TP_TCP, .addr = la, .conn = c};
	assert_int_equal(tp_send(f->tp, &d, req, n), 0);
	int afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	assert_true(peer_recv_all(f->l, afd, buf, n));
	assert_memory_equal(buf, req, n);
	assert_int_equal(stats(f->tp).conns, 1);
	close(afd);
	close(lfd);
}

/* Workers share the TCP port with SO_REUSEPORT; the kernel spreads clients. */
static void test_tcp_reuseport(void **state)
{
	struct fx *f = *state;
	struct sink s2 = {0};
	struct tp *t2;
	struct tp_addr same, pa;
	char req[1024];
	const unsigned N = 40;
	int fd[40];

	assert_int_equal(tp_sock_alloc(&t2, f->l, NULL, sink_recv, &s2), 0);
	assert_int_equal(tp_sock_listen(t2, TP_TCP, &f->t4, &same), 0);
	assert_true(tp_addr_equal(&same, &f->t4));
	for (unsigned i = 0; i < N; i++) {
		fd[i] = tcp_peer(&same, &pa);
		size_t n = mkreq(req, sizeof(req), "TCP", (int)i, 200);
		send_all(fd[i], req, n);
	}
	for (int i = 0; i < 300 && f->s.n + s2.n < N; i++)
		loop_once(f->l, 10);
	assert_int_equal(f->s.n + s2.n, N);
	assert_true(f->s.n > 0 && s2.n > 0); /* 2^-39 to fail by chance */
	for (unsigned i = 0; i < N; i++)
		close(fd[i]);
	tp_sock_free(t2);
	sink_clear(&s2);
}

/* An outgoing IPv6 connection; the peer's answer comes back over it. */
static void test_tcp_v6_out(void **state)
{
	struct fx *f = *state;
	struct tp_addr la;
	char req[1024], buf[1024];
	socklen_t len = sizeof(la.u);
	int lfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	addr_of(&la, "::1", 0);
	assert_int_equal(bind(lfd, &la.u.sa, tp_addr_len(&la)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, &la.u.sa, &len), 0);
	size_t n = mkreq(req, sizeof(req), "TCP", 1, 300);
	struct tp_dest d = {.proto = TP_TCP, .addr = la};
	assert_int_equal(tp_send(f->tp, &d, req, n), 0);
	struct tp_addr from;
	socklen_t fl = sizeof(from.u);
	memset(&from, 0, sizeof(from));
	int afd = accept(lfd, &from.u.sa, &fl);
	assert_true(afd >= 0);
	assert_true(tp_addr_equal(&from, &f->t6)); /* from our listening address */
	assert_true(peer_recv_all(f->l, afd, buf, n));
	assert_memory_equal(buf, req, n);
	n = mkreq(req, sizeof(req), "TCP", 2, 300);
	send_all(afd, req, n);
	assert_true(pump_until(f->l, &f->s.n, 1));
	assert_true(tp_addr_equal(&f->s.m[0].src, &la));
	assert_int_equal(stats(f->tp).conns, 1);
	close(afd);
	close(lfd);
}

/* Idle connections close after tcp_idle_ms of the loop's clock; traffic
 * (a keep-alive here) starts the period again. */
static void test_tcp_idle_timeout(void **state)
{
	struct tp_sock_cfg cfg = {.tcp_idle_ms = 500};
	struct fx *f = fx_new(&cfg, LOOP_CLOCK_VIRTUAL);
	struct tp_addr pa;
	char req[1024], buf[16];
	int fd = client(f, &f->t4, &pa);

	*state = f;
	size_t n = mkreq(req, sizeof(req), "TCP", 1, 100);
	send_all(fd, req, n);
	assert_true(pump_until(f->l, &f->s.n, 1));
	loop_advance(f->l, 400);
	assert_int_equal(stats(f->tp).conns, 1);
	send_all(fd, "\r\n\r\n", 4);
	assert_int_equal(peer_recv(f->l, fd, buf, sizeof(buf)), 2);
	loop_advance(f->l, 400);
	assert_int_equal(stats(f->tp).conns, 1);
	loop_advance(f->l, 101);
	assert_int_equal(stats(f->tp).conns, 0);
	assert_int_equal(stats(f->tp).conns_idle, 1);
	assert_true(peer_closed(f->l, fd));
	close(fd);
}

/* Beyond tcp_max_conns the least recently active connection is closed. */
static void test_tcp_conn_cap(void **state)
{
	struct tp_sock_cfg cfg = {.tcp_max_conns = 2};
	struct fx *f = fx_new(&cfg, LOOP_CLOCK_MONOTONIC);
	struct tp_addr pa;
	char req[1024];
	int fd[3];

	*state = f;
	for (int i = 0; i < 3; i++) {
		fd[i] = client(f, &f->t4, &pa);
		size_t n = mkreq(req, sizeof(req), "TCP", i, 100);
		send_all(fd[i], req, n);
		assert_true(pump_until(f->l, &f->s.n, (unsigned)i + 1));
		assert_true(stats(f->tp).conns <= 2);
	}
	assert_true(peer_closed(f->l, fd[0]));
	assert_int_equal(stats(f->tp).conns_evicted, 1);
	assert_int_equal(stats(f->tp).conns, 2);
	/* the two newest still work */
	for (int i = 1; i < 3; i++) {
		size_t n = mkreq(req, sizeof(req), "TCP", 10 + i, 100);
		send_all(fd[i], req, n);
	}
	assert_true(pump_until(f->l, &f->s.n, 5));
	for (int i = 0; i < 3; i++)
		close(fd[i]);
}

/* At the cap with no idle connection to close: new ones are refused. */
static void test_tcp_conn_cap_refuse(void **state)
{
	struct tp_sock_cfg cfg = {.tcp_max_conns = 1, .tcp_wq_max = 64u << 20};
	struct fx *f = fx_new(&cfg, LOOP_CLOCK_MONOTONIC);
	struct tp_addr pa, pb;
	int small = 4096;
	const size_t M = 60000;
	char *msg = calloc(1, M);

	*state = f;
	int fa = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(setsockopt(fa, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	assert_int_equal(connect(fa, &f->t4.u.sa, tp_addr_len(&f->t4)), 0);
	socklen_t len = sizeof(pa.u);
	assert_int_equal(getsockname(fa, &pa.u.sa, &len), 0);
	pump(f->l, 2);
	assert_int_equal(stats(f->tp).conns, 1);
	/* A does not read: data waits in its connection's write queue */
	struct tp_dest d = {.proto = TP_TCP, .addr = pa};
	struct tp_conn *c = NULL;
	for (int i = 0; i < 1000 && (c == NULL || c->wq_head == NULL); i++) {
		assert_int_equal(tp_send(f->tp, &d, msg, M), 0);
		c = ((struct tp_sock *)f->tp)->lru_head;
	}
	assert_non_null(c);
	assert_non_null(c->wq_head);

	int fb = tcp_peer(&f->t4, &pb);
	assert_true(peer_closed(f->l, fb)); /* refused */
	close(fb);
	assert_int_equal(stats(f->tp).conns, 1);
	assert_int_equal(stats(f->tp).conns_evicted, 0);
	/* and no outgoing one either */
	addr_of(&d.addr, "127.0.0.1", tp_addr_port(&f->t6));
	assert_int_equal(tp_send(f->tp, &d, msg, 100), ENOBUFS);
	close(fa);
	free(msg);
}

/* A peer that reads slowly gets every byte in order; one that never reads
 * is disconnected once tcp_wq_max bytes wait. */
static void test_tcp_write_queue(void **state)
{
	struct tp_sock_cfg cfg = {.tcp_wq_max = 1u << 20};
	struct fx *f = fx_new(&cfg, LOOP_CLOCK_MONOTONIC);
	struct tp_addr pa;
	int small = 4096;
	const size_t M = 60000, K = 30;
	char *msg = malloc(M), *got = malloc(M);

	*state = f;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	assert_int_equal(connect(fd, &f->t4.u.sa, tp_addr_len(&f->t4)), 0);
	socklen_t len = sizeof(pa.u);
	assert_int_equal(getsockname(fd, &pa.u.sa, &len), 0);
	pump(f->l, 2);
	assert_int_equal(stats(f->tp).conns, 1);

	/* K messages of 60 KB (well over what the kernel buffers), each marked */
	struct tp_dest d = {.proto = TP_TCP, .addr = pa};
	for (size_t i = 0; i < K; i++) {
		memset(msg, (int)('A' + i), M);
		assert_int_equal(tp_send(f->tp, &d, msg, M), 0);
	}
	for (size_t i = 0; i < K; i++) {
		assert_true(peer_recv_all(f->l, fd, got, M));
		for (size_t j = 0; j < M; j += 997)
			assert_int_equal(got[j], (char)('A' + i));
	}
	/* now nobody reads: the queue fills and the connection is dropped */
	int err = 0;
	for (int i = 0; i < 2000 && err == 0; i++)
		err = tp_send(f->tp, &d, msg, M);
	assert_int_equal(err, ENOBUFS);
	assert_int_equal(stats(f->tp).conns, 0);
	close(fd);
	free(msg);
	free(got);
}

/* Connecting to nothing fails at once on loopback. */
static void test_tcp_connect_refused(void **state)
{
	struct fx *f = *state;
	struct tp_addr pa;
	char req[512];
	int fd = udp_peer("127.0.0.1", &pa); /* a port where nothing listens on TCP */
	size_t n = mkreq(req, sizeof(req), "TCP", 1, 100);
	struct tp_dest d = {.proto = TP_TCP, .addr = pa};

	assert_int_equal(tp_send(f->tp, &d, req, n), ECONNREFUSED);
	addr_of(&d.addr, "::1", tp_addr_port(&pa));
	assert_int_equal(tp_send(f->tp, &d, req, n), ECONNREFUSED);
	assert_int_equal(stats(f->tp).conns, 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tcp_byte_by_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_several_per_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_keepalive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_over_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_bad_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_no_content_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_closed_conn_in_dest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_reuseport, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_v6_out, setup, teardown),
		cmocka_unit_test_teardown(test_tcp_idle_timeout, teardown),
		cmocka_unit_test_teardown(test_tcp_conn_cap, teardown),
		cmocka_unit_test_teardown(test_tcp_conn_cap_refuse, teardown),
		cmocka_unit_test_teardown(test_tcp_write_queue, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_connect_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
