/*
 * test_tp_addr.c - transport names, addresses, listen specs, where a response
 * goes (RFC 3261 §18.2.2) and the Via received/rport parameters (§18.2.1,
 * RFC 3581 §4), table-driven.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ringlet/tp.h"

static struct tp_rx *RX;
static char TEXT[2048];
static char DUMMY_CONN; /* stands for a connection: only its address is used */

/* A request whose top Via is via (NULL: none), received from ip:port over proto. */
static void mkrx(const char *via, enum tp_proto proto, const char *ip, uint16_t port)
{
	size_t used;
	int n = snprintf(TEXT, sizeof(TEXT),
			 "OPTIONS sip:b@example.com SIP/2.0\r\n%s%s%s"
			 "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK2\r\n"
			 "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
			 "Call-ID: 1@h\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
			 via ? "Via: " : "", via ? via : "", via ? "\r\n" : "");
	assert_true(n > 0 && (size_t)n < sizeof(TEXT));
	if (via == NULL) /* no Via at all */
		memcpy(strstr(TEXT, "Via: SIP/2.0/UDP proxy"), "Xia", 3);
	memset(RX, 0, sizeof(*RX));
	assert_int_equal(msg_parse(&RX->msg, TEXT, (size_t)n, MSG_PARSE_DGRAM, &used), 0);
	RX->buf = RX->msg.buf;
	RX->len = RX->msg.len;
	RX->proto = (uint8_t)proto;
	assert_int_equal(tp_addr_set(&RX->src, ip, strlen(ip), port), 0);
	assert_int_equal(tp_addr_set(&RX->local, "127.0.0.1", 9, 5060), 0);
	RX->conn = proto == TP_UDP ? NULL : (struct tp_conn *)(void *)&DUMMY_CONN;
}

static void test_proto_names(void **state)
{
	static const struct {
		const char *tok;
		enum tp_proto p;
	} cases[] = {
		{"UDP", TP_UDP}, {"udp", TP_UDP}, {"Tcp", TP_TCP}, {"TLS", TP_TLS},
		{"ws", TP_WS},   {"WSS", TP_WSS}, {"SCTP", 0},     {"", 0},
		{"UD", 0},       {"UDPX", 0},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		assert_int_equal(tp_proto_from_token(cases[i].tok, strlen(cases[i].tok)),
				 cases[i].p);
	assert_string_equal(tp_proto_name(TP_UDP), "UDP");
	assert_string_equal(tp_proto_name(TP_WSS), "WSS");
	assert_string_equal(tp_proto_name((enum tp_proto)0), "");
	assert_string_equal(tp_proto_name((enum tp_proto)99), "");
	assert_false(tp_proto_reliable(TP_UDP));
	assert_true(tp_proto_reliable(TP_TCP));
	assert_true(tp_proto_reliable(TP_TLS));
	assert_true(tp_proto_reliable(TP_WS));
}

static void test_addr_set_str(void **state)
{
	static const struct {
		const char *host;
		uint16_t port;
		const char *str; /* NULL: EINVAL */
	} cases[] = {
		{"127.0.0.1", 5060, "127.0.0.1:5060"},
		{"[::1]", 5061, "[::1]:5061"},
		{"::1", 0, "[::1]:0"},
		{"[2001:DB8:0::1]", 65535, "[2001:db8::1]:65535"},
		{"[::ffff:192.0.2.1]", 1, "[::ffff:192.0.2.1]:1"},
		{"1.2.3", 1, NULL},
		{"1.2.3.4.5", 1, NULL},
		{"256.1.1.1", 1, NULL},
		{"[1.2.3.4]", 1, NULL},
		{"[::1", 1, NULL},
		{"::1]", 1, NULL},
		{"", 1, NULL},
		{"[]", 1, NULL},
		{"example.com", 1, NULL},
		{"1111:2222:3333:4444:5555:6666:7777:8888:9999", 1, NULL},
		{"[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0001]", 1, NULL},
	};
	struct tp_addr a;
	char s[64];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int err = tp_addr_set(&a, cases[i].host, strlen(cases[i].host), cases[i].port);
		if (cases[i].str == NULL) {
			assert_int_equal(err, EINVAL);
			continue;
		}
		assert_int_equal(err, 0);
		tp_addr_str(&a, s, sizeof(s));
		assert_string_equal(s, cases[i].str);
		assert_int_equal(tp_addr_port(&a), cases[i].port);
		assert_true(tp_addr_len(&a) == sizeof(struct sockaddr_in) ||
			    tp_addr_len(&a) == sizeof(struct sockaddr_in6));
	}
	/* hostlen bounds the read: the rest of the string is not looked at */
	assert_int_equal(tp_addr_set(&a, "10.0.0.1garbage", 8, 7), 0);
	tp_addr_str(&a, s, sizeof(s));
	assert_string_equal(s, "10.0.0.1:7");
	/* truncation keeps a terminated string */
	tp_addr_str(&a, s, 4);
	assert_string_equal(s, "10.");
}

static void test_addr_equal(void **state)
{
	struct tp_addr a, b, c, d, e;

	(void)state;
	assert_int_equal(tp_addr_set(&a, "127.0.0.1", 9, 5060), 0);
	assert_int_equal(tp_addr_set(&b, "127.0.0.1", 9, 5060), 0);
	assert_int_equal(tp_addr_set(&c, "127.0.0.1", 9, 5061), 0);
	assert_int_equal(tp_addr_set(&d, "::1", 3, 5060), 0);
	assert_int_equal(tp_addr_set(&e, "[0:0::1]", 8, 5060), 0);
	assert_true(tp_addr_equal(&a, &b));
	assert_false(tp_addr_equal(&a, &c));
	assert_false(tp_addr_equal(&a, &d));
	assert_true(tp_addr_equal(&d, &e));
	memset(&c, 0, sizeof(c));
	assert_false(tp_addr_equal(&c, &c)); /* no family: equal to nothing */
	assert_int_equal(tp_addr_len(&c), 0);
}

static void test_listen_parse(void **state)
{
	static const struct {
		const char *spec;
		enum tp_proto p;
		const char *addr; /* NULL: EINVAL */
	} cases[] = {
		{"udp:127.0.0.1:5060", TP_UDP, "127.0.0.1:5060"},
		{"TCP:127.0.0.1:0", TP_TCP, "127.0.0.1:0"},
		{"tcp:[::1]:5070", TP_TCP, "[::1]:5070"},
		{"udp:[::1]", TP_UDP, "[::1]:5060"},
		{"udp:::1", TP_UDP, "[::1]:5060"},
		{"tls:0.0.0.0", TP_TLS, "0.0.0.0:5061"},
		{"wss:[::]:443", TP_WSS, "[::]:443"},
		{"udp:127.0.0.1:65536", 0, NULL},
		{"udp:127.0.0.1:", 0, NULL},
		{"udp:127.0.0.1:50x", 0, NULL},
		{"udp:127.0.0.1:-1", 0, NULL},
		{"sctp:127.0.0.1:5060", 0, NULL},
		{"127.0.0.1:5060", 0, NULL},
		{"udp", 0, NULL},
		{"udp:", 0, NULL},
		{"udp:localhost:5060", 0, NULL},
		{"tcp:[::1]x", 0, NULL},
		{"tcp:[::1:5060", 0, NULL},
	};
	enum tp_proto p;
	struct tp_addr a;
	char s[64];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int err = tp_listen_parse(cases[i].spec, &p, &a);
		if (cases[i].addr == NULL) {
			assert_int_equal(err, EINVAL);
			continue;
		}
		assert_int_equal(err, 0);
		assert_int_equal(p, cases[i].p);
		tp_addr_str(&a, s, sizeof(s));
		assert_string_equal(s, cases[i].addr);
	}
}

/* §18.2.2: UDP to the source whatever the Via says; streams over the
 * connection, else to the source IP and the sent-by port. */
static void test_response_dest(void **state)
{
	static const struct {
		const char *via;
		enum tp_proto proto;
		const char *ip;
		uint16_t port;
		const char *want; /* NULL: EINVAL */
	} cases[] = {
		{"SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1", TP_UDP, "192.0.2.1", 6000,
		 "192.0.2.1:6000"},
		{"SIP/2.0/UDP pc.example.com;branch=z9hG4bK1", TP_UDP, "192.0.2.7", 5060,
		 "192.0.2.7:5060"},
		{"SIP/2.0/UDP 10.0.0.1;rport;branch=z9hG4bK1", TP_UDP, "192.0.2.7", 32000,
		 "192.0.2.7:32000"},
		/* maddr is never followed */
		{"SIP/2.0/UDP 10.0.0.1;maddr=224.0.1.75;ttl=1;branch=z9hG4bK1", TP_UDP,
		 "192.0.2.7", 5060, "192.0.2.7:5060"},
		{"SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bK1", TP_UDP, "2001:db8::1", 5062,
		 "[2001:db8::1]:5062"},
		{"SIP/2.0/TCP 192.0.2.1:5070;branch=z9hG4bK1", TP_TCP, "192.0.2.1", 40001,
		 "192.0.2.1:5070"},
		{"SIP/2.0/TCP pc.example.com;branch=z9hG4bK1", TP_TCP, "192.0.2.1", 40001,
		 "192.0.2.1:5060"},
		{"SIP/2.0/TLS pc.example.com;branch=z9hG4bK1", TP_TLS, "192.0.2.1", 40001,
		 "192.0.2.1:5061"},
		{"SIP/2.0/TCP [::1];branch=z9hG4bK1", TP_TCP, "::1", 40001, "[::1]:5060"},
		{NULL, TP_UDP, "192.0.2.1", 5060, NULL},
		{"SIP/2.0 192.0.2.1;branch=z9hG4bK1", TP_UDP, "192.0.2.1", 5060, NULL},
	};
	struct tp_dest d;
	char s[64];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		mkrx(cases[i].via, cases[i].proto, cases[i].ip, cases[i].port);
		memset(&d, 0xa5, sizeof(d));
		int err = tp_response_dest(RX, &d);
		if (cases[i].want == NULL) {
			assert_int_equal(err, EINVAL);
			continue;
		}
		assert_int_equal(err, 0);
		assert_int_equal(d.proto, cases[i].proto);
		tp_addr_str(&d.addr, s, sizeof(s));
		assert_string_equal(s, cases[i].want);
		assert_ptr_equal(d.conn, cases[i].proto == TP_UDP ? NULL : RX->conn);
		assert_true(tp_addr_equal(&d.local, &RX->local));
	}
}

/* §18.2.1 and RFC 3581 §4: the parameters added, and the rewritten Via. */
static void test_via_received(void **state)
{
	static const struct {
		const char *via;
		const char *ip;
		uint16_t port;
		const char *params;  /* tp_via_received; NULL: -1 */
		const char *rewrite; /* tp_via_rewrite */
	} cases[] = {
		/* sent-by equals the source: nothing */
		{"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1", "192.0.2.1", 5060, "",
		 "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1"},
		/* ... even from another port (without rport, received is about the IP) */
		{"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1", "192.0.2.1", 7000, "",
		 "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1"},
		{"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1", "192.0.2.9", 5060,
		 ";received=192.0.2.9",
		 "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;received=192.0.2.9"},
		/* a host name always gets received */
		{"SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK1", "192.0.2.1", 5060,
		 ";received=192.0.2.1",
		 "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK1;received=192.0.2.1"},
		/* RFC 3581 §4 example: rport without value is filled, received added */
		{"SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff", "192.0.2.1", 9988,
		 ";received=192.0.2.1;rport=9988",
		 "SIP/2.0/UDP 10.1.1.1:4540;rport=9988;branch=z9hG4bKkjshdyff;received=192.0.2.1"},
		/* rport: received even when sent-by is the source */
		{"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport", "192.0.2.1", 5060,
		 ";received=192.0.2.1;rport=5060",
		 "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport=5060;received=192.0.2.1"},
		/* rport with a value is left alone */
		{"SIP/2.0/UDP 10.0.0.1;rport=1234;branch=z9hG4bK1", "192.0.2.1", 9988,
		 ";received=192.0.2.1",
		 "SIP/2.0/UDP 10.0.0.1;rport=1234;branch=z9hG4bK1;received=192.0.2.1"},
		/* IPv6: compared as addresses, received without brackets (RFC 5118 §4.5) */
		{"SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bK1", "2001:db8::9:1", 5060, "",
		 "SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bK1"},
		{"SIP/2.0/UDP [2001:DB8:0::9:1]:5060;branch=z9hG4bK1", "2001:db8::9:1", 5060, "",
		 "SIP/2.0/UDP [2001:DB8:0::9:1]:5060;branch=z9hG4bK1"},
		{"SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bK1", "2001:db8::9:255", 5060,
		 ";received=2001:db8::9:255",
		 "SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bK1;received=2001:db8::9:255"},
		{"SIP/2.0/TCP [::1];rport;branch=z9hG4bK1", "::1", 40000,
		 ";received=::1;rport=40000", "SIP/2.0/TCP [::1];rport=40000;branch=z9hG4bK1;received=::1"},
		/* an IPv4 sent-by from an IPv6 source */
		{"SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1", "::ffff:192.0.2.1", 5060,
		 ";received=::ffff:192.0.2.1",
		 "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;received=::ffff:192.0.2.1"},
		/* a received the client put there is replaced or dropped */
		{"SIP/2.0/UDP 192.0.2.1;received=10.9.9.9;branch=z9hG4bK1", "192.0.2.1", 5060, "",
		 "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1"},
		{"SIP/2.0/UDP 192.0.2.1;received=10.9.9.9;branch=z9hG4bK1", "192.0.2.2", 5060,
		 ";received=192.0.2.2", "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;received=192.0.2.2"},
		/* LWS around ';' and '=' (RFC 3261 §25.1 SEMI, EQUAL) */
		{"SIP/2.0/UDP 192.0.2.1 ; rport ;\r\n branch = z9hG4bKx", "192.0.2.5", 7000,
		 ";received=192.0.2.5;rport=7000",
		 "SIP/2.0/UDP 192.0.2.1;rport=7000;branch=z9hG4bKx;received=192.0.2.5"},
		/* no parameters at all */
		{"SIP/2.0/UDP 192.0.2.1", "192.0.2.5", 7000, ";received=192.0.2.5",
		 "SIP/2.0/UDP 192.0.2.1;received=192.0.2.5"},
		/* no Via, a malformed one */
		{NULL, "192.0.2.5", 7000, NULL, NULL},
		{"SIP/2.0/UDP", "192.0.2.5", 7000, NULL, NULL},
	};
	char out[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		mkrx(cases[i].via, TP_UDP, cases[i].ip, cases[i].port);
		int n = tp_via_received(RX, out, sizeof(out));
		if (cases[i].params == NULL) {
			assert_int_equal(n, -1);
			assert_int_equal(tp_via_rewrite(RX, out, sizeof(out)), -1);
			continue;
		}
		assert_int_equal(n, (int)strlen(cases[i].params));
		assert_string_equal(out, cases[i].params);
		n = tp_via_rewrite(RX, out, sizeof(out));
		assert_int_equal(n, (int)strlen(cases[i].rewrite));
		assert_string_equal(out, cases[i].rewrite);
		/* one byte short: -1, never an overflow */
		size_t need = strlen(cases[i].rewrite) + 1;
		assert_int_equal(tp_via_rewrite(RX, out, need - 1), -1);
		assert_int_equal(tp_via_rewrite(RX, out, need), (int)need - 1);
		need = strlen(cases[i].params) + 1;
		if (need > 1)
			assert_int_equal(tp_via_received(RX, out, need - 1), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proto_names),  cmocka_unit_test(test_addr_set_str),
		cmocka_unit_test(test_addr_equal),   cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_response_dest), cmocka_unit_test(test_via_received),
	};
	RX = malloc(sizeof(*RX));
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(RX);
	return rc;
}
