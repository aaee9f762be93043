/*
 * test_dns_live.c - dns_resolve for real (RFC 3263 §4) against a dnsmasq
 * this test starts on 127.0.0.1 and a free port with the records below,
 * and against a UDP socket that never answers.  Nothing else is ever asked:
 * every resolver here is "off" or one of those two addresses.  dnsmasq is
 * stopped by the group teardown, and gets SIGTERM from the kernel should
 * this process die first (PR_SET_PDEATHSIG).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ringlet/dns.h"
#include "ringlet/log.h"
#include "ringlet/mem.h"

#define DNSMASQ "/usr/sbin/dnsmasq"

/* The zone (RFC 3263 §4 paths); dnsmasq answers NXDOMAIN for other *.example names. */
static const char *const records[] = {
    "--local=/example/",
    /* NAPTR -> SRV -> A: RFC 3263 §4.1's biloxi.example */
    "--naptr-record=biloxi.example,10,10,S,SIP+D2U,,_sip._udp.biloxi.example",
    "--srv-host=_sip._udp.biloxi.example,server.biloxi.example,5070,0,0",
    "--host-record=server.biloxi.example,127.0.0.2",
    /* NAPTR order across transports, with records we cannot use */
    "--naptr-record=atlanta.example,5,10,S,SIP+D2S,,_sip._sctp.atlanta.example",
    "--naptr-record=atlanta.example,20,10,S,SIP+D2U,,_sip._udp.atlanta.example",
    "--naptr-record=atlanta.example,10,10,S,SIP+D2T,,_sip._tcp.atlanta.example",
    "--naptr-record=atlanta.example,30,10,S,SIPS+D2T,,_sips._tcp.atlanta.example",
    "--naptr-record=atlanta.example,1,10,U,E2U+sip,!^.*$!sip:x@y!",
    "--srv-host=_sip._sctp.atlanta.example,sctp.atlanta.example,5060,0,0",
    "--srv-host=_sip._tcp.atlanta.example,tcp.atlanta.example,5080,0,0",
    "--srv-host=_sip._udp.atlanta.example,udp.atlanta.example,5090,0,0",
    "--srv-host=_sips._tcp.atlanta.example,tls.atlanta.example,5061,0,0",
    "--host-record=tcp.atlanta.example,127.0.0.3,::3",
    "--host-record=udp.atlanta.example,127.0.0.4",
    "--host-record=tls.atlanta.example,127.0.0.5",
    "--host-record=sctp.atlanta.example,127.0.0.99",
    /* SRV only, two priorities */
    "--srv-host=_sip._udp.srvonly.example,b.srvonly.example,5063,20,0",
    "--srv-host=_sip._udp.srvonly.example,a.srvonly.example,5062,10,0",
    "--host-record=a.srvonly.example,127.0.0.6",
    "--host-record=b.srvonly.example,127.0.0.7",
    /* A only, AAAA only, a CNAME to the A-only name */
    "--host-record=aonly.example,127.0.0.8",
    "--host-record=v6only.example,::1",
    "--cname=alias.example,aonly.example",
    /* SRV "." (RFC 2782: not offered here) beside an A record */
    "--srv-host=_sip._udp.dot.example",
    "--host-record=dot.example,127.0.0.9",
};

/* 20 SRV targets, each with an address: more than DNS_MAX_TARGETS. */
#define BIG_N 20

struct fx {
	pid_t pid;
	uint16_t port;
	char server[32];
	char args[2 * BIG_N][96];
	struct loop *l;
	size_t live0; /* before the test's loop */
	size_t live1; /* with it */
};

static struct fx fx;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A UDP socket on 127.0.0.1 and a free port (it never answers anything). */
static int udp_socket(uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* One A query for aonly.example by hand: true when dnsmasq answers within 100 ms. */
static bool dnsmasq_answers(uint16_t port)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
	unsigned char *buf = NULL, reply[512];
	uint16_t mine;
	int len = 0, fd = udp_socket(&mine);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	bool ok = false;

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 &&
	    ares_create_query("aonly.example", ns_c_in, ns_t_a, 0x1234, 1, &buf, &len, 0) ==
		ARES_SUCCESS &&
	    sendto(fd, buf, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to)) == len &&
	    poll(&p, 1, 100) == 1)
		ok = recv(fd, reply, sizeof(reply), 0) > 12;
	ares_free_string(buf);
	if (fd >= 0)
		close(fd);
	return ok;
}

static void dnsmasq_exec(const struct fx *f, const char *port)
{
	const char *argv[64 + 2 * BIG_N];
	int n = 0, fd = open("/dev/null", O_RDWR);

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	argv[n++] = DNSMASQ;
	argv[n++] = "--keep-in-foreground";
	argv[n++] = port;
	argv[n++] = "--listen-address=127.0.0.1";
	argv[n++] = "--bind-interfaces";
	argv[n++] = "--no-resolv";
	argv[n++] = "--no-hosts";
	argv[n++] = "--conf-file=/dev/null";
	argv[n++] = "--pid-file=";
	argv[n++] = "--log-facility=-";
	for (unsigned i = 0; i < sizeof(records) / sizeof(records[0]); i++)
		argv[n++] = records[i];
	for (unsigned i = 0; i < 2 * BIG_N; i++)
		argv[n++] = f->args[i];
	argv[n] = NULL;
	execv(DNSMASQ, (char *const *)argv);
	_exit(127);
}

static int dnsmasq_start(struct fx *f)
{
	char port[32];
	int fd;

	for (unsigned i = 0; i < BIG_N; i++) {
		snprintf(f->args[2 * i], sizeof(f->args[0]),
			 "--srv-host=_sip._udp.big.example,h%u.big.example,%u,0,0", i, 6000 + i);
		snprintf(f->args[2 * i + 1], sizeof(f->args[0]),
			 "--host-record=h%u.big.example,127.0.1.%u", i, i + 1);
	}
	for (int attempt = 0; attempt < 5; attempt++) {
		fd = udp_socket(&f->port);
		if (fd < 0)
			return errno;
		close(fd);
		snprintf(port, sizeof(port), "--port=%u", f->port);
		f->pid = fork();
		if (f->pid < 0)
			return errno;
		if (f->pid == 0)
			dnsmasq_exec(f, port);
		for (uint64_t end = now_ms() + 5000; now_ms() < end;) {
			if (waitpid(f->pid, NULL, WNOHANG) == f->pid) {
				f->pid = 0; /* port taken meanwhile? try another */
				break;
			}
			if (dnsmasq_answers(f->port)) {
				snprintf(f->server, sizeof(f->server), "127.0.0.1:%u", f->port);
				return 0;
			}
		}
		if (f->pid > 0) { /* up but silent: do not leave it behind */
			kill(f->pid, SIGTERM);
			waitpid(f->pid, NULL, 0);
			f->pid = 0;
			return ETIMEDOUT;
		}
	}
	return ENOENT;
}

static int group_setup(void **state)
{
	(void)state;
	if (dnsmasq_start(&fx) != 0) {
		fprintf(stderr, "test_dns_live: %s did not start\n", DNSMASQ);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (fx.pid > 0) {
		kill(fx.pid, SIGTERM);
		waitpid(fx.pid, NULL, 0);
		fx.pid = 0;
	}
	return 0;
}

static int setup(void **state)
{
	(void)state;
	fx.live0 = mem_live();
	if (loop_alloc(&fx.l, LOOP_CLOCK_MONOTONIC) != 0)
		return -1;
	fx.live1 = mem_live();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	loop_free(fx.l);
	fx.l = NULL;
	assert_int_equal(mem_live(), fx.live0); /* leak check */
	return 0;
}

/* --- resolving --- */

struct res {
	unsigned calls;
	int err;
	unsigned n;
	struct dns_target t[DNS_MAX_TARGETS];
	struct dns *free_me; /* dns_free from inside the callback */
	struct dns_query *cancel_me;
};

static void on_res(int err, const struct dns_target *t, unsigned n, void *arg)
{
	struct res *r = arg;

	r->calls++;
	r->err = err;
	r->n = n;
	if (n > DNS_MAX_TARGETS)
		fail_msg("%u targets", n);
	if (n)
		memcpy(r->t, t, n * sizeof(*t));
	dns_cancel(r->cancel_me); /* its own handle: must be harmless */
	dns_free(r->free_me);
}

static struct dns *mkdns(const char *server, unsigned timeout_ms, unsigned tries)
{
	struct dns_conf c = {.server = server, .timeout_ms = timeout_ms, .tries = tries};
	struct dns *d = NULL;

	assert_int_equal(dns_alloc(&d, fx.l, &c), 0);
	return d;
}

/* Run the loop until r has its callback, at most ms. */
static void run_until(struct res *r, unsigned ms)
{
	for (uint64_t end = now_ms() + ms; r->calls == 0 && now_ms() < end;)
		loop_once(fx.l, 20);
}

static void run_for(unsigned ms)
{
	for (uint64_t end = now_ms() + ms; now_ms() < end;)
		loop_once(fx.l, 20);
}

static void resolve(struct dns *d, const char *host, uint16_t port, int proto, bool sips,
		    struct res *r)
{
	struct dns_req q = {.host = host, .port = port, .proto = proto, .sips = sips};

	memset(r, 0, sizeof(*r));
	assert_int_equal(dns_resolve(d, &q, on_res, r, NULL), 0);
	assert_int_equal(r->calls, 0); /* never from inside dns_resolve */
	run_until(r, 5000);
	assert_int_equal(r->calls, 1);
}

/* Target i is PROTO ADDR:PORT from host name. */
static void expect(const struct res *r, unsigned i, int proto, const char *addr, const char *name)
{
	char s[64];

	assert_true(i < r->n);
	tp_addr_str(&r->t[i].dest.addr, s, sizeof(s));
	if (strcmp(s, addr) != 0 || r->t[i].dest.proto != proto || strcmp(r->t[i].name, name) != 0)
		fail_msg("target %u: %s %s %s, want %s %s %s", i, tp_proto_name(r->t[i].dest.proto),
			 s, r->t[i].name, tp_proto_name(proto), addr, name);
	assert_null(r->t[i].dest.conn);
}

static uint64_t queries(const struct dns *d)
{
	struct dns_stats st;

	dns_stats_get(d, &st);
	return st.queries;
}

static void t_naptr_srv_a(void **state)
{
	struct dns *d = mkdns(fx.server, 1000, 2);
	struct res r;

	(void)state;
	resolve(d, "biloxi.example", 0, -1, false, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 1);
	expect(&r, 0, TP_UDP, "127.0.0.2:5070", "server.biloxi.example");
	assert_int_equal(queries(d), 4); /* NAPTR, SRV, A, AAAA */
	dns_free(d);
}

static void t_naptr_order(void **state)
{
	struct dns *d = mkdns(fx.server, 1000, 2);
	struct res r;

	(void)state;
	resolve(d, "atlanta.example", 0, -1, false, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 4); /* order 10 TCP, 20 UDP, 30 TLS; SCTP and E2U left out */
	expect(&r, 0, TP_TCP, "127.0.0.3:5080", "tcp.atlanta.example");
	expect(&r, 1, TP_TCP, "[::3]:5080", "tcp.atlanta.example");
	expect(&r, 2, TP_UDP, "127.0.0.4:5090", "udp.atlanta.example");
	expect(&r, 3, TP_TLS, "127.0.0.5:5061", "tls.atlanta.example");
	resolve(d, "atlanta.example", 0, -1, true, &r); /* sips: SIPS+D2T only */
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 1);
	expect(&r, 0, TP_TLS, "127.0.0.5:5061", "tls.atlanta.example");
	dns_free(d);
}

static void t_srv_only(void **state)
{
	struct dns *d = mkdns(fx.server, 1000, 2);
	struct res r;

	(void)state;
	resolve(d, "srvonly.example", 0, -1, false, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 2); /* priority 10 before 20 */
	expect(&r, 0, TP_UDP, "127.0.0.6:5062", "a.srvonly.example");
	expect(&r, 1, TP_UDP, "127.0.0.7:5063", "b.srvonly.example");
	assert_int_equal(queries(d), 1 + 3 + 4); /* NAPTR, 3 SRV, A+AAAA of two targets */
	resolve(d, "srvonly.example", 0, TP_UDP, false, &r); /* transport given: no NAPTR */
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(queries(d), 8 + 1 + 4);
	resolve(d, "srvonly.example", 0, TP_TCP, false, &r); /* no TCP SRV, no A: nothing */
	assert_int_equal(r.err, ENOENT);
	dns_free(d);
}

static void t_a_only(void **state)
{
	struct dns *d = mkdns(fx.server, 1000, 2);
	struct res r;

	(void)state;
	resolve(d, "aonly.example", 0, -1, false, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 1);
	expect(&r, 0, TP_UDP, "127.0.0.8:5060", "aonly.example");
	assert_int_equal(queries(d), 1 + 3 + 2);
	resolve(d, "aonly.example", 5099, -1, false, &r); /* §4.2: a port: A/AAAA only */
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 1);
	expect(&r, 0, TP_UDP, "127.0.0.8:5099", "aonly.example");
	assert_int_equal(queries(d), 6 + 2);
	resolve(d, "aonly.example", 5099, -1, true, &r); /* sips with a port: TLS */
	expect(&r, 0, TP_TLS, "127.0.0.8:5099", "aonly.example");
	resolve(d, "aonly.example", 0, TP_TCP, false, &r); /* no SRV: transport's default port */
	expect(&r, 0, TP_TCP, "127.0.0.8:5060", "aonly.example");
	resolve(d, "ALIAS.example", 0, -1, true, &r); /* a CNAME; sips default 5061 */
	assert_int_equal(r.err, 0);
	expect(&r, 0, TP_TLS, "127.0.0.8:5061", "ALIAS.example");
	dns_free(d);
}

static void t_aaaa_and_missing(void **state)
{
	struct dns *d = mkdns(fx.server, 1000, 2);
	struct res r;

	(void)state;
	resolve(d, "v6only.example", 0, -1, false, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 1);
	expect(&r, 0, TP_UDP, "[::1]:5060", "v6only.example");
	resolve(d, "nonexistent.example", 0, -1, false, &r);
	assert_int_equal(r.err, ENOENT);
	assert_int_equal(r.n, 0);
	resolve(d, "nonexistent.example", 5060, -1, false, &r);
	assert_int_equal(r.err, ENOENT);
	resolve(d, "dot.example", 0, -1, false, &r); /* SRV "." forbids the A fallback */
	assert_int_equal(r.err, ENOENT);
	dns_free(d);
}

static void t_bounds(void **state)
{
	struct dns *d = mkdns(fx.server, 1000, 2);
	struct res r;

	(void)state;
	/* 20 SRV records: 16 hosts kept, and the budget of 32 queries (1 SRV +
	 * 15 x A/AAAA) leaves the 16th without addresses.  The answer does not
	 * fit in 512 bytes (TC): c-ares asks again over TCP, so its TCP socket
	 * (connect, LOOP_OUT) goes through the loop too. */
	resolve(d, "big.example", 0, TP_UDP, false, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 15);
	assert_int_equal(queries(d), 31);
	for (unsigned i = 0, seen = 0; i < r.n; i++) { /* 15 different hosts, each as set up */
		unsigned idx = BIG_N;
		char want[32], s[32];

		assert_int_equal(sscanf(r.t[i].name, "h%u.big.example", &idx), 1);
		assert_true(idx < BIG_N && !(seen & 1u << idx));
		seen |= 1u << idx;
		assert_int_equal(r.t[i].dest.proto, TP_UDP);
		snprintf(want, sizeof(want), "127.0.1.%u:%u", idx + 1, 6000 + idx);
		tp_addr_str(&r.t[i].dest.addr, s, sizeof(s));
		assert_string_equal(s, want);
	}
	resolve(d, "big.example", 0, -1, false, &r); /* via the fallback: 1 + 3 SRV, 14 hosts */
	assert_int_equal(r.n, 14);
	assert_int_equal(queries(d), 31 + 32);
	dns_free(d);
}

static void t_localhost_and_numeric(void **state)
{
	uint16_t port;
	int silent = udp_socket(&port);
	char server[32], buf[64];
	struct dns *d;
	struct res r;

	(void)state;
	assert_true(silent >= 0);
	snprintf(server, sizeof(server), "127.0.0.1:%u", port);
	d = mkdns(server, 1000, 2);
	resolve(d, "192.0.2.1", 0, -1, false, &r);
	expect(&r, 0, TP_UDP, "192.0.2.1:5060", "192.0.2.1");
	resolve(d, "[2001:db8::1]", 0, -1, true, &r);
	expect(&r, 0, TP_TLS, "[2001:db8::1]:5061", "[2001:db8::1]");
	resolve(d, "10.0.0.1", 5080, TP_TCP, false, &r);
	expect(&r, 0, TP_TCP, "10.0.0.1:5080", "10.0.0.1");
	resolve(d, "localhost", 0, -1, false, &r); /* RFC 6761: never asked */
	assert_int_equal(r.n, 2);
	expect(&r, 0, TP_UDP, "127.0.0.1:5060", "localhost");
	expect(&r, 1, TP_UDP, "[::1]:5060", "localhost");
	assert_int_equal(queries(d), 0);
	assert_int_equal(recv(silent, buf, sizeof(buf), MSG_DONTWAIT), -1); /* nothing sent */
	dns_free(d);
	close(silent);
}

static void t_off(void **state)
{
	struct dns *d = mkdns("off", 0, 0);
	struct dns_req bad = {.host = "", .proto = -1};
	struct res r;

	(void)state;
	resolve(d, "localhost", 5070, TP_TCP, false, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 2);
	expect(&r, 0, TP_TCP, "127.0.0.1:5070", "localhost");
	expect(&r, 1, TP_TCP, "[::1]:5070", "localhost");
	resolve(d, "biloxi.example", 0, -1, false, &r);
	assert_int_equal(r.err, EHOSTUNREACH);
	assert_int_equal(r.n, 0);
	resolve(d, "127.0.0.2", 0, -1, false, &r);
	expect(&r, 0, TP_UDP, "127.0.0.2:5060", "127.0.0.2");
	assert_int_equal(queries(d), 0); /* no channel, no packet */
	assert_int_equal(dns_resolve(d, &bad, on_res, &r, NULL), EINVAL);
	bad.host = "a:b.example";
	assert_int_equal(dns_resolve(d, &bad, on_res, &r, NULL), EINVAL);
	dns_free(d);
}

static void t_timeout(void **state)
{
	uint16_t port;
	int silent = udp_socket(&port);
	char server[32], buf[512];
	struct dns_stats st;
	struct dns *d;
	struct res r;
	uint64_t t0, took;

	(void)state;
	assert_true(silent >= 0);
	snprintf(server, sizeof(server), "127.0.0.1:%u", port);
	d = mkdns(server, 150, 2);
	t0 = now_ms();
	resolve(d, "biloxi.example", 0, -1, false, &r);
	took = now_ms() - t0;
	assert_int_equal(r.err, ETIMEDOUT);
	/* one step, 2 tries of 150 ms; the upper bound only guards against a hang */
	assert_in_range(took, 295, 300 + 1500);
	dns_stats_get(d, &st);
	assert_int_equal(st.queries, 1); /* no SRV/A fallback after silence */
	assert_int_equal(st.timeouts, 1);
	assert_true(recv(silent, buf, sizeof(buf), MSG_DONTWAIT) > 12); /* asked only it */
	dns_free(d);
	close(silent);
}

static void t_cancel(void **state)
{
	uint16_t port;
	int silent = udp_socket(&port);
	char server[32];
	struct dns_query *q = NULL;
	struct dns_req req = {.host = "biloxi.example", .proto = -1};
	struct dns *d = mkdns(fx.server, 1000, 2), *ds;
	struct res r = {0};
	size_t with_q;

	(void)state;
	assert_int_equal(dns_resolve(d, &req, on_res, &r, &q), 0);
	with_q = mem_live(); /* the query, d, and the loop's fd table, grown for c-ares' socket */
	dns_cancel(q);	     /* the answers still come: they must free, not call */
	assert_int_equal(mem_live(), with_q); /* held by c-ares' query until it answers */
	run_for(300);
	assert_int_equal(r.calls, 0);
	assert_int_equal(queries(d), 1); /* nothing after the NAPTR */
	assert_int_equal(mem_live(), with_q - 1);
	dns_free(d);

	snprintf(server, sizeof(server), "127.0.0.1:%u", port);
	ds = mkdns(server, 50, 1);
	assert_int_equal(dns_resolve(ds, &req, on_res, &r, &q), 0);
	with_q = mem_live();
	run_for(20);
	dns_cancel(q); /* c-ares times its query out later: freed then */
	dns_cancel(NULL);
	run_for(300);
	assert_int_equal(r.calls, 0);
	assert_int_equal(mem_live(), with_q - 1);
	dns_free(ds);
	close(silent);
}

static void t_free_pending(void **state)
{
	uint16_t port;
	int silent = udp_socket(&port);
	char server[32];
	struct dns_req req = {.host = "biloxi.example", .proto = -1};
	struct dns_req num = {.host = "192.0.2.7", .proto = -1};
	struct dns *d;
	struct res r = {0}, r2 = {0};

	(void)state;
	snprintf(server, sizeof(server), "127.0.0.1:%u", port);
	d = mkdns(server, 1000, 2);
	for (int i = 0; i < 3; i++)
		assert_int_equal(dns_resolve(d, &req, on_res, &r, NULL), 0);
	assert_int_equal(dns_resolve(d, &num, on_res, &r, NULL), 0); /* delivery pending */
	run_for(20);
	assert_int_equal(r.calls, 1); /* the numeric one */
	assert_int_equal(dns_resolve(d, &num, on_res, &r, NULL), 0);
	dns_free(d); /* three in c-ares, one waiting for its turn */
	run_for(50);
	assert_int_equal(r.calls, 1);

	d = mkdns(server, 1000, 2); /* dns_free from inside a callback, with one pending */
	memset(&r, 0, sizeof(r));
	r2.free_me = d;
	assert_int_equal(dns_resolve(d, &req, on_res, &r, NULL), 0);
	assert_int_equal(dns_resolve(d, &num, on_res, &r2, &r2.cancel_me), 0);
	run_for(100);
	assert_int_equal(r2.calls, 1);
	assert_int_equal(r.calls, 0); /* cancelled by dns_free */
	close(silent);
}

/* --- configuration --- */

struct lines {
	unsigned n;
	char last[LOG_LINE_MAX];
};

static void sink(void *arg, enum log_level level, const char *line, size_t len)
{
	struct lines *l = arg;

	(void)level;
	l->n++;
	snprintf(l->last, sizeof(l->last), "%.*s", (int)len, line);
}

static void t_conf(void **state)
{
	static const char *const bad[] = {"dns.example:53", "1.2.3.4:99999", "::1", "[::1"};
	struct lines lines;
	struct dns *d = NULL;

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dns_conf c = {.server = bad[i]};

		memset(&lines, 0, sizeof(lines));
		log_set_sink(sink, &lines);
		assert_int_equal(dns_alloc(&d, fx.l, &c), EINVAL);
		log_set_sink(NULL, NULL);
		assert_int_equal(lines.n, 1); /* one clear line naming the value */
		assert_non_null(strstr(lines.last, "bad_dns_server"));
		assert_non_null(strstr(lines.last, bad[i]));
	}
	d = mkdns(NULL, 0, 0); /* the system's resolvers: created, never asked here */
	assert_int_equal(queries(d), 0);
	dns_free(d);
	dns_free(NULL);
	d = mkdns("[::1]:53", 0, 0);
	dns_free(d);
}

static void t_oom(void **state)
{
	struct dns_req req = {.host = "192.0.2.1", .proto = -1};
	struct dns_conf c = {.server = "off"};
	struct dns *d = NULL;
	struct res r = {0};

	(void)state;
	mem_fail_after(0);
	assert_int_equal(dns_alloc(&d, fx.l, &c), ENOMEM);
	mem_fail_after(-1);
	d = mkdns("off", 0, 0);
	mem_fail_after(0);
	assert_int_equal(dns_resolve(d, &req, on_res, &r, NULL), ENOMEM);
	mem_fail_after(-1);
	run_for(20);
	assert_int_equal(r.calls, 0);
	dns_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_naptr_srv_a, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_naptr_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_srv_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_a_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_aaaa_and_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_bounds, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_localhost_and_numeric, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_off, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_free_pending, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_conf, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_oom, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
