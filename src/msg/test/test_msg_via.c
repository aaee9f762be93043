/*
 * test_msg_via.c - msg_via_parse (RFC 3261 §20.42, RFC 3581, RFC 5118).
 */
#include <errno.h>

#include "hdr_util.h"

struct via_ok {
	const char *in;
	const char *name, *ver, *transport, *host;
	uint8_t host_type;
	uint16_t port;
	const char *branch, *received, *maddr;
	int32_t rport;
	int16_t ttl;
	const char *params;
};

static const struct via_ok via_ok_cases[] = {
	{"SIP/2.0/UDP 192.0.2.15;branch=z9hG4bK776asdhds", "SIP", "2.0", "UDP", "192.0.2.15",
	 MSG_HOST_IPV4, 0, "z9hG4bK776asdhds", NULL, NULL, -1, -1, "branch=z9hG4bK776asdhds"},
	/* RFC 4475 §3.1.1.1 wsinv.dat: LWS and folds around '/' and before sent-by */
	{"SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw", "SIP", "2.0", "UDP",
	 "192.0.2.2", MSG_HOST_IPV4, 0, "390skdjuw", NULL, NULL, -1, -1, "branch=390skdjuw"},
	{"SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8", "SIP",
	 "2.0", "TCP", "spindle.example.com", MSG_HOST_NAME, 0, "z9hG4bK9ikj8", NULL, NULL, -1,
	 -1, "branch  =   z9hG4bK9ikj8"},
	{"SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239", "SIP", "2.0",
	 "UDP", "192.168.255.111", MSG_HOST_IPV4, 0, "z9hG4bK30239", NULL, NULL, -1, -1,
	 "branch=\r\n z9hG4bK30239"},
	/* RFC 5118 §4.7, §4.4, §4.9: IPv6 references with and without port */
	{"SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111", "SIP", "2.0", "UDP",
	 "[2001:db8::9:1]", MSG_HOST_IPV6, 6050, "z9hG4bKas3-111", NULL, NULL, -1, -1,
	 "branch=z9hG4bKas3-111"},
	{"SIP/2.0/TCP [2001:db8::9:255];branch=z9hG4bK451jj;received=192.0.2.200", "SIP", "2.0",
	 "TCP", "[2001:db8::9:255]", MSG_HOST_IPV6, 0, "z9hG4bK451jj", "192.0.2.200", NULL, -1,
	 -1, "branch=z9hG4bK451jj;received=192.0.2.200"},
	{"SIP/2.0/UDP [::ffff:192.0.2.10]:19823;branch=z9hG4bKbh19", "SIP", "2.0", "UDP",
	 "[::ffff:192.0.2.10]", MSG_HOST_IPV6, 19823, "z9hG4bKbh19", NULL, NULL, -1, -1,
	 "branch=z9hG4bKbh19"},
	/* RFC 5118 §4.5: received IPv6 without and with brackets */
	{"SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3", "SIP", "2.0",
	 "UDP", "[2001:db8::9:1]", MSG_HOST_IPV6, 0, "z9hG4bKas3", "2001:db8::9:255", NULL, -1,
	 -1, "received=2001:db8::9:255;branch=z9hG4bKas3"},
	{"SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKas3-111", "SIP",
	 "2.0", "UDP", "[2001:db8::9:1]", MSG_HOST_IPV6, 0, "z9hG4bKas3-111",
	 "[2001:db8::9:255]", NULL, -1, -1,
	 "received=[2001:db8::9:255];branch=z9hG4bKas3-111"},
	/* RFC 3581: rport with and without a value */
	{"SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bKx", "SIP", "2.0", "UDP", "10.0.0.1",
	 MSG_HOST_IPV4, 5060, "z9hG4bKx", NULL, NULL, 0, -1, "rport;branch=z9hG4bKx"},
	{"SIP/2.0/UDP 10.0.0.1;received=192.0.2.1;rport=5061", "SIP", "2.0", "UDP", "10.0.0.1",
	 MSG_HOST_IPV4, 0, NULL, "192.0.2.1", NULL, 5061, -1, "received=192.0.2.1;rport=5061"},
	{"SIP/2.0/UDP h.example.com;maddr=224.2.0.1;ttl=16", "SIP", "2.0", "UDP",
	 "h.example.com", MSG_HOST_NAME, 0, NULL, NULL, "224.2.0.1", -1, 16,
	 "maddr=224.2.0.1;ttl=16"},
	{"SIP/2.0/UDP h;maddr=[2001:db8::1];ttl=0", "SIP", "2.0", "UDP", "h", MSG_HOST_NAME, 0,
	 NULL, NULL, "[2001:db8::1]", -1, 0, "maddr=[2001:db8::1];ttl=0"},
	{"SIP/2.0/UDP h;maddr=mcast.example.net;TTL=255", "SIP", "2.0", "UDP", "h",
	 MSG_HOST_NAME, 0, NULL, NULL, "mcast.example.net", -1, 255,
	 "maddr=mcast.example.net;TTL=255"},
	/* ports at the limits, LWS around the ':' (COLON = SWS ":" SWS) */
	{"SIP/2.0/UDP host.example.com:0", "SIP", "2.0", "UDP", "host.example.com",
	 MSG_HOST_NAME, 0, NULL, NULL, NULL, -1, -1, NULL},
	{"SIP/2.0/UDP host.example.com : 65535 ;branch=z9hG4bK1", "SIP", "2.0", "UDP",
	 "host.example.com", MSG_HOST_NAME, 65535, "z9hG4bK1", NULL, NULL, -1, -1,
	 "branch=z9hG4bK1"},
	/* RFC 4475 §3.1.1.10: any transport token; other versions are not ours to judge */
	{"SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en", "SIP", "2.0", "UNKNOWN",
	 "t4.example.com", MSG_HOST_NAME, 0, "z9hG4bKasd0f3en", NULL, NULL, -1, -1,
	 "branch=z9hG4bKasd0f3en"},
	{"SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKhjhs8ass877", "SIP", "2.0", "WS",
	 "df7jal23ls0d.invalid", MSG_HOST_NAME, 0, "z9hG4bKhjhs8ass877", NULL, NULL, -1, -1,
	 "branch=z9hG4bKhjhs8ass877"},
	/* RFC 4475 §3.1.1.5 and §3.1.1.2: odd but legal token characters in branch */
	{"SIP/2.0/TCP host.example.com;branch=z9hG4bK209%fzsnel234", "SIP", "2.0", "TCP",
	 "host.example.com", MSG_HOST_NAME, 0, "z9hG4bK209%fzsnel234", NULL, NULL, -1, -1,
	 "branch=z9hG4bK209%fzsnel234"},
	{"SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~", "SIP", "2.0", "TCP",
	 "host1.example.com", MSG_HOST_NAME, 0, "z9hG4bK-.!%66*_+`'~", NULL, NULL, -1, -1,
	 "branch=z9hG4bK-.!%66*_+`'~"},
	/* generic params, quoted values may hold ';', names case-insensitive */
	{"SIP/2.0/UDP a.b;foo;bar=baz;x=\"quoted;value\";BRANCH=abc;RPort=7", "SIP", "2.0", "UDP",
	 "a.b", MSG_HOST_NAME, 0, "abc", NULL, NULL, 7, -1,
	 "foo;bar=baz;x=\"quoted;value\";BRANCH=abc;RPort=7"},
	{"SIP/2.0/TCP sip33.example.com", "SIP", "2.0", "TCP", "sip33.example.com",
	 MSG_HOST_NAME, 0, NULL, NULL, NULL, -1, -1, NULL},
	{"SIP/2.0/UDP example.com.:5060", "SIP", "2.0", "UDP", "example.com.", MSG_HOST_NAME,
	 5060, NULL, NULL, NULL, -1, -1, NULL},
	/* RFC 4475 §3.3.10: a broadcast received is syntactically fine */
	{"SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1;received=255.255.255.255", "SIP", "2.0",
	 "UDP", "192.0.2.198", MSG_HOST_IPV4, 0, "z9hG4bK1", "255.255.255.255", NULL, -1, -1,
	 "branch=z9hG4bK1;received=255.255.255.255"},
	{"SIP/2.0/UDP [::1]", "SIP", "2.0", "UDP", "[::1]", MSG_HOST_IPV6, 0, NULL, NULL, NULL,
	 -1, -1, NULL},
	{"SIP/2.0/UDP [1:2:3:4:5:6:7:8]:1", "SIP", "2.0", "UDP", "[1:2:3:4:5:6:7:8]",
	 MSG_HOST_IPV6, 1, NULL, NULL, NULL, -1, -1, NULL},
	/* RFC 5118 §4.3: parses as an address, not as a port */
	{"SIP/2.0/UDP [2001:db8::10:5070]", "SIP", "2.0", "UDP", "[2001:db8::10:5070]",
	 MSG_HOST_IPV6, 0, NULL, NULL, NULL, -1, -1, NULL},
};

static void test_via_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(via_ok_cases); i++) {
		const struct via_ok *c = &via_ok_cases[i];
		struct hbuf h = hbuf_new(c->in);
		struct msg_via via;
		int rc = msg_via_parse(h.buf, h.v, &via);
		if (rc != 0)
			print_error("case %zu: %s\n", i, c->in);
		assert_int_equal(rc, 0);
		assert_span(h.buf, via.proto_name, c->name);
		assert_span(h.buf, via.proto_ver, c->ver);
		assert_span(h.buf, via.transport, c->transport);
		assert_span(h.buf, via.host, c->host);
		assert_int_equal(via.host_type, c->host_type);
		assert_int_equal(via.port, c->port);
		assert_span(h.buf, via.branch, c->branch);
		assert_span(h.buf, via.received, c->received);
		assert_span(h.buf, via.maddr, c->maddr);
		assert_int_equal(via.rport, c->rport);
		assert_int_equal(via.ttl, c->ttl);
		assert_span(h.buf, via.params, c->params);
		hbuf_free(&h);
	}
}

static const char *const via_bad_cases[] = {
	"",
	"   ",
	/* RFC 4475 §3.1.2.1 badinv01.dat, the first element of "...;;,;,," */
	"SIP/2.0/UDP 192.0.2.15;;",
	"SIP/2.0/UDP 192.0.2.15;",
	"SIP/2.0/UDP 192.0.2.15 ; ",
	"SIP/2.0/UDP 192.0.2.15;branch=z9hG4bK1;",
	"SIP/2.0/UDP 192.0.2.15;;branch=z9hG4bK1",
	"SIP/2.0/UDP 192.0.2.15;branch=",
	"SIP/2.0/UDP 192.0.2.15;branch = ",
	"SIP/2.0/UDP 192.0.2.15;=x",
	"SIP/2.0/UDP 192.0.2.15;branch=a b",
	"SIP/2.0/UDP 192.0.2.15;a b",
	"SIP/2.0/UDP 192.0.2.15;a=\"unterminated",
	"SIP/2.0/UDP 192.0.2.15;a=\"x\"y",
	"SIP/2.0/UDP 192.0.2.15;branch=\"z9hG4bK1\"",
	"SIP/2.0/UDP 192.0.2.15;branch=z9hG4bK1;branch=z9hG4bK2",
	"SIP/2.0/UDP 192.0.2.15,",
	"SIP/2.0/UDP 192.0.2.15 garbage",
	"SIP/2.0/UDP 192.0.2.15\r\n;branch=z9hG4bK1", /* a CRLF that is not a fold */
	/* sent-protocol */
	"SIP/2.0 192.0.2.15",
	"SIP/2.0/ 192.0.2.15",
	"SIP//UDP 192.0.2.15",
	"/2.0/UDP 192.0.2.15",
	"SIP/2.0/UDP",
	"SIP/2.0/UDP192.0.2.15",
	"SIP /",
	"SIP/2.0/UDP/x 192.0.2.15",
	/* sent-by */
	"SIP/2.0/UDP host:70000",
	"SIP/2.0/UDP host:65536",
	"SIP/2.0/UDP host:",
	"SIP/2.0/UDP host: ;branch=1",
	"SIP/2.0/UDP host:abc",
	"SIP/2.0/UDP host:50:60",
	"SIP/2.0/UDP [2001:db8::1",
	"SIP/2.0/UDP [2001:db8::1]:",
	"SIP/2.0/UDP [2001:db8:::192.0.2.1]", /* RFC 5118 §4.10 */
	"SIP/2.0/UDP [zz::1]",
	"SIP/2.0/UDP []",
	"SIP/2.0/UDP [1:2:3:4:5:6:7:8:9]",
	"SIP/2.0/UDP [1:2:3:4::5:6:7:8]",
	"SIP/2.0/UDP [1::2::3]",
	"SIP/2.0/UDP [12345::1]",
	"SIP/2.0/UDP [::1.2.3]",
	"SIP/2.0/UDP 2001:db8::1",
	"SIP/2.0/UDP -bad.example.com",
	"SIP/2.0/UDP bad-.example.com",
	"SIP/2.0/UDP host.123",
	"SIP/2.0/UDP 256.1.1.1",
	"SIP/2.0/UDP a..b",
	"SIP/2.0/UDP host_name.example.com",
	"SIP/2.0/UDP ;branch=z9hG4bK1",
	/* known params with bad values */
	"SIP/2.0/UDP h;ttl=256",
	"SIP/2.0/UDP h;ttl=",
	"SIP/2.0/UDP h;ttl",
	"SIP/2.0/UDP h;ttl=1x",
	"SIP/2.0/UDP h;ttl=1;ttl=2",
	"SIP/2.0/UDP h;rport=0",
	"SIP/2.0/UDP h;rport=65536",
	"SIP/2.0/UDP h;rport=x",
	"SIP/2.0/UDP h;rport;rport=5",
	"SIP/2.0/UDP h;received=host.example.com",
	"SIP/2.0/UDP h;received=[1.2.3.4]",
	"SIP/2.0/UDP h;received=1.2.3.4.5",
	"SIP/2.0/UDP h;received",
	"SIP/2.0/UDP h;received=1.2.3.4;received=1.2.3.5",
	"SIP/2.0/UDP h;maddr=-x",
	"SIP/2.0/UDP h;maddr",
	"SIP/2.0/UDP h;maddr=\"1.2.3.4\"",
};

static void test_via_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(via_bad_cases); i++) {
		struct hbuf h = hbuf_new(via_bad_cases[i]);
		struct msg_via via;
		int rc = msg_via_parse(h.buf, h.v, &via);
		if (rc != EBADMSG)
			print_error("case %zu accepted: %s\n", i, via_bad_cases[i]);
		assert_int_equal(rc, EBADMSG);
		hbuf_free(&h);
	}
}

/*
 * Every prefix of every valid value either parses or is EBADMSG (ASan checks
 * that no prefix makes the parser read past its end).  Cuts inside the
 * sent-protocol, inside a bracketed host or right after '=' must fail.
 */
static void test_via_truncated(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(via_ok_cases); i++) {
		const char *in = via_ok_cases[i].in;
		for (size_t n = 0; n < strlen(in); n++) {
			char tmp[256];
			assert_true(n < sizeof(tmp));
			memcpy(tmp, in, n);
			tmp[n] = '\0';
			struct hbuf h = hbuf_new(tmp);
			struct msg_via via;
			int rc = msg_via_parse(h.buf, h.v, &via);
			assert_true(rc == 0 || rc == EBADMSG);
			const char *slash2 = strchr(strchr(in, '/') + 1, '/');
			const char *lb = strchr(in, '[');
			const char *rb = strchr(in, ']');
			if (n <= (size_t)(slash2 - in) + 1)
				assert_int_equal(rc, EBADMSG);
			if (lb != NULL && n > (size_t)(lb - in) && n <= (size_t)(rb - in))
				assert_int_equal(rc, EBADMSG);
			if (n > 0 && in[n - 1] == '=')
				assert_int_equal(rc, EBADMSG);
			if (rc == 0) {
				assert_in_value(h.v, via.host);
				assert_in_value(h.v, via.branch);
				assert_in_value(h.v, via.params);
			}
			hbuf_free(&h);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_via_valid),
		cmocka_unit_test(test_via_malformed),
		cmocka_unit_test(test_via_truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
