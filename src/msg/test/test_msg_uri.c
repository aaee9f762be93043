/*
 * test_msg_uri.c - URI parsing and comparison (RFC 3261 §19.1, RFC 3966,
 * RFC 4475, RFC 5118), parameter iteration and %HH decoding.
 *
 * Every input is copied into a heap buffer of its exact length, so an
 * over-read by the parser is caught by AddressSanitizer.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ringlet/msg_uri.h"

/* A heap copy of s without the NUL, so that reading past the end is a fault. */
static char *dup_exact(const char *s, size_t n)
{
	char *b = malloc(n ? n : 1);
	assert_non_null(b);
	memcpy(b, s, n);
	return b;
}

static int parse_n(const char *s, size_t n, char **buf, struct msg_uri *u)
{
	*buf = dup_exact(s, n);
	return msg_uri_parse(*buf, (struct span){0, (uint32_t)n}, u);
}

static void assert_span(const char *buf, struct span sp, const char *want, const char *uri)
{
	if (sp.len != strlen(want) || memcmp(buf + sp.off, want, sp.len) != 0)
		fail_msg("%s: got \"%.*s\", want \"%s\"", uri, (int)sp.len, buf + sp.off, want);
}

static void expect_int(const char *uri, const char *what, long got, long want)
{
	if (got != want)
		fail_msg("%s: %s is %ld, want %ld", uri, what, got, want);
}

struct good {
	const char *in;
	int scheme, host_type;
	const char *user;     /* NULL: no userinfo */
	const char *password; /* NULL: no password */
	const char *host;
	int port; /* -1: absent */
	const char *params, *headers, *opaque;
};

#define SIP MSG_URI_SIP
#define SIPS MSG_URI_SIPS
#define TEL MSG_URI_TEL
#define OTHER MSG_URI_OTHER
#define NAME MSG_HOST_NAME
#define V4 MSG_HOST_IPV4
#define V6 MSG_HOST_IPV6
#define NOHOST MSG_HOST_NONE

/* Request-URIs and header URIs of RFC 4475 / RFC 5118, RFC 3261/3966 examples, edge cases. */
/* clang-format off */
static const struct good goods[] = {
	{"sip:user@example.com", SIP, NAME, "user", NULL, "example.com", -1, "", "", ""},
	{"SIP:ALICE@AtLanTa.CoM;Transport=udp", SIP, NAME, "ALICE", NULL, "AtLanTa.CoM", -1,
	 "Transport=udp", "", ""},
	{"sips:alice:secretword@atlanta.com;transport=tcp", SIPS, NAME, "alice", "secretword",
	 "atlanta.com", -1, "transport=tcp", "", ""},
	{"sip:user;par=u%40example.net@example.com", SIP, NAME, "user;par=u%40example.net", NULL,
	 "example.com", -1, "", "", ""},
	{"sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too."
	 "(doesn't-it)@example.com",
	 SIP, NAME, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*",
	 "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)", "example.com", -1, "", "", ""},
	{"sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com", SIP, NAME,
	 "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*", NULL, "example.com", -1, "", "", ""},
	{"sip:sips%3Auser%40example.com@example.net", SIP, NAME, "sips%3Auser%40example.com", NULL,
	 "example.net", -1, "", "", ""},
	{"sip:user@example.com?Route=%3Csip:example.com%3E", SIP, NAME, "user", NULL,
	 "example.com", -1, "", "Route=%3Csip:example.com%3E", ""},
	{"sip:vivekg@chair-dnrc.example.com;unknownparam", SIP, NAME, "vivekg", NULL,
	 "chair-dnrc.example.com", -1, "unknownparam", "", ""},
	{"sip:services.example.com;lr;unknownwith=value;unknown-no-value", SIP, NAME, NULL, NULL,
	 "services.example.com", -1, "lr;unknownwith=value;unknown-no-value", "", ""},
	{"sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31", SIP, NAME, "cal%6Cer",
	 NULL, "host5.example.net", -1, "%6C%72;n%61me=v%61lue%25%34%31", "", ""},
	{"sip:%00%00@host5.example.com", SIP, NAME, "%00%00", NULL, "host5.example.com", -1, "",
	 "", ""},
	{"sip:I%20have%20spaces@example.net", SIP, NAME, "I%20have%20spaces", NULL,
	 "example.net", -1, "", "", ""},
	{"sip:+19725552222@gw1.example.net;unknownparam", SIP, NAME, "+19725552222", NULL,
	 "gw1.example.net", -1, "unknownparam", "", ""},
	{"sip:+13035551111@ift.client.example.net;user=phone", SIP, NAME, "+13035551111", NULL,
	 "ift.client.example.net", -1, "user=phone", "", ""},
	{"sip:UserB@example.com;maddr=ss1.example.com", SIP, NAME, "UserB", NULL, "example.com",
	 -1, "maddr=ss1.example.com", "", ""},
	{"sip:127.0.0.1:5080", SIP, V4, NULL, NULL, "127.0.0.1", 5080, "", "", ""},
	{"sip:fluffy@127.0.0.1:5070", SIP, V4, "fluffy", NULL, "127.0.0.1", 5070, "", "", ""},
	{"sip:user@example.com:6000;unknownparam1=verylonglongvalue;longparamname=shortvalue;"
	 "very-long-param-no-value",
	 SIP, NAME, "user", NULL, "example.com", 6000,
	 "unknownparam1=verylonglongvalue;longparamname=shortvalue;very-long-param-no-value", "",
	 ""},
	{"sip:[2001:db8::10]", SIP, V6, NULL, NULL, "[2001:db8::10]", -1, "", "", ""},
	{"sip:[2001:db8::10]:5070", SIP, V6, NULL, NULL, "[2001:db8::10]", 5070, "", "", ""},
	{"sip:[2001:db8::10:5070]", SIP, V6, NULL, NULL, "[2001:db8::10:5070]", -1, "", "", ""},
	{"sip:user@[2001:db8::192.0.2.1]", SIP, V6, "user", NULL, "[2001:db8::192.0.2.1]", -1, "",
	 "", ""},
	{"sip:ted@[::ffff:192.0.2.2]", SIP, V6, "ted", NULL, "[::ffff:192.0.2.2]", -1, "", "",
	 ""},
	{"sip:caller@[2001:db8::9:1]", SIP, V6, "caller", NULL, "[2001:db8::9:1]", -1, "", "", ""},
	{"sip:[::1]", SIP, V6, NULL, NULL, "[::1]", -1, "", "", ""},
	{"sip:[::]:1", SIP, V6, NULL, NULL, "[::]", 1, "", "", ""},
	{"sip:[1:2:3:4:5:6:7:8]", SIP, V6, NULL, NULL, "[1:2:3:4:5:6:7:8]", -1, "", "", ""},
	{"sips:[FFFF:ffff:0:0:0:0:1.2.3.4]:5061", SIPS, V6, NULL, NULL,
	 "[FFFF:ffff:0:0:0:0:1.2.3.4]", 5061, "", "", ""},
	{"sip:user:@host", SIP, NAME, "user", "", "host", -1, "", "", ""},
	{"sip:example.com.", SIP, NAME, NULL, NULL, "example.com.", -1, "", "", ""},
	{"sip:a-b.c-d.e9x", SIP, NAME, NULL, NULL, "a-b.c-d.e9x", -1, "", "", ""},
	{"sip:1.2.3.4.example", SIP, NAME, NULL, NULL, "1.2.3.4.example", -1, "", "", ""},
	{"sip:x@h:65535", SIP, NAME, "x", NULL, "h", 65535, "", "", ""},
	{"sip:x@h:0", SIP, NAME, "x", NULL, "h", 0, "", "", ""},
	{"sip:x@h:00005060", SIP, NAME, "x", NULL, "h", 5060, "", "", ""},
	{"sip:x@255.255.255.255:1", SIP, V4, "x", NULL, "255.255.255.255", 1, "", "", ""},
	{"sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com", SIP, NAME, NULL,
	 NULL, "biloxi.com", -1, "transport=tcp;method=REGISTER", "to=sip:bob%40biloxi.com", ""},
	{"sip:alice@atlanta.com?subject=project%20x&priority=urgent", SIP, NAME, "alice", NULL,
	 "atlanta.com", -1, "", "subject=project%20x&priority=urgent", ""},
	{"sip:h?a=", SIP, NAME, NULL, NULL, "h", -1, "", "a=", ""},
	{"sip:h?a=[x]/?:+$&b=c", SIP, NAME, NULL, NULL, "h", -1, "", "a=[x]/?:+$&b=c", ""},
	{"sip:*21#@h;x=[::1]/:&+$", SIP, NAME, "*21#", NULL, "h", -1, "x=[::1]/:&+$", "", ""},
	{"sip:h;maddr=[2001:db8::1];lr", SIP, NAME, NULL, NULL, "h", -1, "maddr=[2001:db8::1];lr",
	 "", ""},
	{"tel:+1-201-555-0123", TEL, NOHOST, "+1-201-555-0123", NULL, "", -1, "", "", ""},
	{"TEL:+1(234)5.6", TEL, NOHOST, "+1(234)5.6", NULL, "", -1, "", "", ""},
	{"tel:7042;phone-context=example.com", TEL, NOHOST, "7042", NULL, "", -1,
	 "phone-context=example.com", "", ""},
	{"tel:863-1234;phone-context=+1-914-555", TEL, NOHOST, "863-1234", NULL, "", -1,
	 "phone-context=+1-914-555", "", ""},
	{"tel:+358-555-1234567;postd=pp22", TEL, NOHOST, "+358-555-1234567", NULL, "", -1,
	 "postd=pp22", "", ""},
	{"tel:+1234;ext=22;isub=a/b?c:@&=+$,%20;foo", TEL, NOHOST, "+1234", NULL, "", -1,
	 "ext=22;isub=a/b?c:@&=+$,%20;foo", "", ""},
	{"tel:*21#;phone-context=+1", TEL, NOHOST, "*21#", NULL, "", -1, "phone-context=+1", "",
	 ""},
	{"tel:aBc;PHONE-CONTEXT=example.com.", TEL, NOHOST, "aBc", NULL, "", -1,
	 "PHONE-CONTEXT=example.com.", "", ""},
	{"nobodyKnowsThisScheme:totallyopaquecontent", OTHER, NOHOST, NULL, NULL, "", -1, "", "",
	 "totallyopaquecontent"},
	{"soap.beep://192.0.2.103:3002", OTHER, NOHOST, NULL, NULL, "", -1, "", "",
	 "//192.0.2.103:3002"},
	{"http://www.example.com", OTHER, NOHOST, NULL, NULL, "", -1, "", "", "//www.example.com"},
	{"name:John_Smith", OTHER, NOHOST, NULL, NULL, "", -1, "", "", "John_Smith"},
	{"urn:service:sos", OTHER, NOHOST, NULL, NULL, "", -1, "", "", "service:sos"},
	{"mailto:a@b.c?subject=x%20y", OTHER, NOHOST, NULL, NULL, "", -1, "", "",
	 "a@b.c?subject=x%20y"},
	{"x+-.9:;", OTHER, NOHOST, NULL, NULL, "", -1, "", "", ";"},
};
/* clang-format on */

static void check_good(const struct good *g)
{
	struct msg_uri u;
	char *buf;
	size_t n = strlen(g->in);

	int err = parse_n(g->in, n, &buf, &u);
	if (err != 0)
		fail_msg("%s: rejected (%d)", g->in, err);
	expect_int(g->in, "scheme", u.scheme, g->scheme);
	expect_int(g->in, "host_type", u.host_type, g->host_type);
	expect_int(g->in, "whole.off", u.whole.off, 0);
	expect_int(g->in, "whole.len", u.whole.len, (long)n);
	expect_int(g->in, "has_user", u.has_user, g->user != NULL && g->scheme != MSG_URI_TEL);
	expect_int(g->in, "has_password", u.has_password, g->password != NULL);
	if (g->scheme == MSG_URI_TEL || g->user != NULL)
		assert_span(buf, u.user, g->user, g->in);
	else
		assert_int_equal(u.user.len, 0);
	assert_span(buf, u.password, g->password ? g->password : "", g->in);
	assert_span(buf, u.host, g->host, g->in);
	expect_int(g->in, "port", u.port, g->port < 0 ? 0 : g->port);
	expect_int(g->in, "port_s empty", span_empty(u.port_s), g->port < 0);
	assert_span(buf, u.params, g->params, g->in);
	assert_span(buf, u.headers, g->headers, g->in);
	assert_span(buf, u.opaque, g->opaque, g->in);
	/* the scheme span is everything before the first ':' */
	assert_int_equal(buf[u.scheme_s.len], ':');
	assert_true(msg_uri_equal(buf, &u, buf, &u));
	free(buf);
}

static void test_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(goods); i++)
		check_good(&goods[i]);
}

/* clang-format off */
static const char *const bads[] = {
	"", "s", "sip", "sip:", ":x", "1sip:a", "-x:y", "x;y:z", "ht tp:x", "sip:user@",
	"sip:@host", "sip::pw@host", "sip:a:b:c@h", "sip:user@host:", "sip:user@host:65536",
	"sip:user@host:99999999999", "sip:user@host:5x", "sip:user@host:5060:5060",
	"sip:user@host:-1", "sip:h:+1",
	/* RFC 5118 §4.1, §4.3: IPv6 needs brackets; three colons are invalid */
	"sip:2001:db8::10", "sip:user@[2001:db8:::192.0.2.1]", "sip:[2001:db8::10",
	"sip:2001:db8::10]", "sip:[]", "sip:[:]", "sip:[1:2:3:4:5:6:7:8:9]", "sip:[fe80::1%eth0]",
	"sip:[::1]]", "sip:[[::1]", "sip:[::1]x", "sip:[::g]", "sip:[12345::]",
	"sip:[1.2.3.4]", "sip:[::1.2.3.256]",
	/* RFC 4475 §3.1.2.6, §3.1.2.7: whitespace and angle brackets are not URI characters */
	"sip:user@example.com; lr", "<sip:user@example.com>", "sip:user@example.com>",
	"sip:us er@h", "sip:user@ho st", "sip:user@exa\"mple.com", "sip:\"user\"@h",
	"sip:user@host\r\n", "sip:user@host\t", "sip:user@host;lr ", " sip:user@host",
	"sip:user@host;", "sip:user@host;;lr", "sip:user@host;=x", "sip:user@host;a=",
	"sip:user@host;a=b=c", "sip:user@host;a?=b", "sip:user@host;a\"=b", "sip:h;a=<b>",
	"sip:user@host?", "sip:user@host?a", "sip:user@host?=b", "sip:user@host?a=b&",
	"sip:user@host?a=b&&c=d", "sip:user@host?a=b;c", "sip:h;maddr=[2001:db8::1];lr?",
	/* RFC 3261 §25.1: escaped = "%" HEXDIG HEXDIG */
	"sip:us%2@h", "sip:us%zz@h", "sip:%@h", "sip:u%4", "sip:h;a=%4", "sip:h;a%=b",
	"sip:h?a=%g0", "sip:u:p%@h", "sip:user@host%41",
	"sip:-host.com", "sip:host-.com", "sip:host..com", "sip:.host.com", "sip:host.com..",
	"sip:1.2.3.256", "sip:123", "sip:1.2.3", "sip:1.2.3.4.5", "sip:a.1com", "sip:a@b@c",
	"sip:user@h_st", "sip:user@host/path", "sip:\xc3\xa9@h", "sip:u\x7f@h", "sip:u\x01@h",
	"sip:u^@h", "sip:u|@h", "sip:u{@h", "sip:u\\x@h", "sip:u`@h", "sip:u[@h", "sip:u:p#@h",
	"sip:user@host#frag", "sip://host",
	/* RFC 3966 §3 */
	"tel:", "tel:+", "tel:+-", "tel:+()", "tel:1234", "tel:-", "tel:+12a", "tel:+1*",
	"tel:+1;ext=", "tel:+1;ext=a", "tel:+1;ext", "tel:+1;;", "tel:+1;", "tel:;x",
	"tel:+1;phone-context=", "tel:12;phone-context=-x", "tel:12;phone-context=a..b",
	"tel:12;phone-context=+", "tel:12;phone-context", "tel:12;context=+1", "tel:+1?x=y",
	"tel:+1 2", "tel:+1;isub=", "tel:+1;isub=a\"b", "tel:+1;p_x=1", "tel:+1;a=",
	"tel:+1;a=%", "tel:+1;a=<", "tel:+1;=a", "tel:12g;phone-context=+1", "tel:%31",
	/* RFC 2396 §3: absoluteURI = scheme ":" 1*uric */
	"x:", "http://a b", "urn:<x>", "mailto:\"a\"@b", "im:a#b", "x:%", "x:%2", "x:{}",
	"x:[::1]", "x:a\r\n",
};
/* clang-format on */

static void test_invalid(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bads); i++) {
		struct msg_uri u;
		char *buf;
		int err = parse_n(bads[i], strlen(bads[i]), &buf, &u);
		if (err != EBADMSG)
			fail_msg("\"%s\": accepted (%d)", bads[i], err);
		free(buf);
	}
}

static void test_port_bounds(void **state)
{
	static const struct {
		const char *in;
		int port; /* -2: invalid */
	} t[] = {
		{"sip:h:0", 0},         {"sip:h:1", 1},         {"sip:h:65535", 65535},
		{"sip:h:65536", -2},    {"sip:h:070000", -2},   {"sip:h:4294967296", -2},
		{"sip:h:000065535", 65535}, {"sip:h:", -2},     {"sip:[::1]:5060", 5060},
		{"sip:[::1]:", -2},     {"sip:[::1]:65536", -2}, {"sip:1.1.1.1:99999", -2},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct msg_uri u;
		char *buf;
		int err = parse_n(t[i].in, strlen(t[i].in), &buf, &u);
		if (t[i].port == -2) {
			assert_int_equal(err, EBADMSG);
		} else {
			assert_int_equal(err, 0);
			assert_int_equal(u.port, t[i].port);
			assert_false(span_empty(u.port_s));
		}
		free(buf);
	}
}

struct cmp {
	const char *a, *b;
	bool eq;
};

/* clang-format off */
static const struct cmp cmps[] = {
	/* RFC 3261 §19.1.4, the equivalent pairs */
	{"sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp", true},
	{"sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5", true},
	{"sip:carol@chicago.com", "sip:carol@chicago.com;security=on", true},
	{"sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on", true},
	{"sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
	 "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com", true},
	{"sip:alice@atlanta.com?subject=project%20x&priority=urgent",
	 "sip:alice@atlanta.com?priority=urgent&subject=project%20x", true},
	/* ... and the non-equivalent ones */
	{"SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP", false},
	{"sip:bob@biloxi.com", "sip:bob@biloxi.com:5060", false},
	{"sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp", false},
	{"sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp", false},
	{"sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting", false},
	{"sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4", false},
	/* equality is not transitive */
	{"sip:carol@chicago.com", "sip:carol@chicago.com;security=off", true},
	{"sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off", false},
	/* scheme, userinfo */
	{"sip:a@h", "sips:a@h", false},
	{"sip:a@h", "SIP:a@H", true},
	{"sip:a@h", "sip:A@h", false},
	{"sip:a@h", "sip:h", false},
	{"sip:a:pw@h", "sip:a@h", false},
	{"sip:a:pw@h", "sip:a:PW@h", false},
	{"sip:a:p%77@h", "sip:a:pw@h", true},
	{"sip:a:@h", "sip:a@h", false},
	{"sip:%7e%41@h", "sip:~A@h", true},
	{"sip:%7e%41@h", "sip:~a@h", false},
	/* escaped reserved characters differ from their literal form */
	{"sip:a%3bb@h", "sip:a;b@h", false},
	{"sip:a%3bb@h", "sip:a%3Bb@h", true},
	{"sip:a;b@h", "sip:a;b@h", true},
	/* host and port */
	{"sip:[2001:db8::1]", "sip:[2001:DB8:0::1]", true},
	{"sip:[2001:db8::1]", "sip:[2001:db8::2]", false},
	{"sip:[::ffff:192.0.2.1]", "sip:[::FFFF:c000:201]", true},
	{"sip:[::1]", "sip:127.0.0.1", false},
	{"sip:a@1.2.3.4", "sip:a@01.002.3.004", true},
	{"sip:a@1.2.3.4", "sip:a@1.2.3.5", false},
	{"sip:a@h:5060", "sip:a@h:05060", true},
	{"sip:a@h:5060", "sip:a@h:5061", false},
	{"sip:a@h:0", "sip:a@h", false},
	{"sip:a@example.com", "sip:a@example.com.", false},
	/* uri-parameters */
	{"sip:h;lr", "sip:h", true},
	{"sip:h;%6C%72", "sip:h;lr", true},
	{"sip:h;lr=on", "sip:h;lr", false},
	{"sip:h;maddr=x", "sip:h", false},
	{"sip:h;maddr=X.com", "sip:h;maddr=x.COM", true},
	{"sip:h;ttl=1", "sip:h", false},
	{"sip:h;user=phone", "sip:h", false},
	{"sip:h;method=INVITE", "sip:h", false},
	{"sip:h;METHOD=invite", "sip:h;method=INVITE", true},
	{"sip:h;transport=udp", "sip:h;transport=tcp", false},
	{"sip:h;n%61me=v%61lue", "sip:h;NAME=VALUE", true},
	{"sip:h;a=1;b=2", "sip:h;b=2;a=1", true},
	{"sip:h;a=1;b=2", "sip:h;b=2;a=2", false},
	{"sip:h;x=%3b", "sip:h;x=%3B", true},
	/* headers: never ignored, names case-insensitive, values case-sensitive */
	{"sip:h?a=b", "sip:h?A=b", true},
	{"sip:h?a=b", "sip:h?a=B", false},
	{"sip:h?a=b&c=d", "sip:h?a=b", false},
	{"sip:h?a=b", "sip:h?a=b&c=d", false},
	{"sip:h?a=%62", "sip:h?a=b", true},
	{"sip:h?a=", "sip:h?a=", true},
	{"sip:h?a=b&a=c", "sip:h?a=c&a=b", true},
	{"sip:h?a=b&a=b", "sip:h?a=b&a=c", false},
	{"sip:h?a=b&a=b&a=c", "sip:h?a=b&a=c&a=c", false},
	{"sip:h?a=b&b=a", "sip:h?b=a&A=b", true},
	/* tel: RFC 3966 §4 */
	{"tel:+1-201-555-0123", "tel:+12015550123", true},
	{"tel:+1-201-555-0123", "tel:+12015550124", false},
	{"tel:+1(201)5550123;ext=1-2", "tel:+12015550123;EXT=12", true},
	{"tel:7042;phone-context=example.com", "tel:7042;phone-context=EXAMPLE.COM", true},
	{"tel:7042;phone-context=example.com", "tel:7042;phone-context=example.net", false},
	{"tel:7042;phone-context=+1", "tel:+7042", false},
	{"tel:863-1234;phone-context=+1-914-555", "tel:8631234;phone-context=+1914555", true},
	{"tel:+1;foo=bar", "tel:+1", false},
	{"tel:+1", "tel:+1;foo=bar", false},
	{"tel:+1;foo=BAR", "tel:+1;FOO=bar", true},
	{"tel:+1;a=1;b=2", "tel:+1;b=2;a=1", true},
	{"tel:abc;phone-context=+1", "tel:ABC;phone-context=+1", true},
	{"tel:+1", "sip:+1@h", false},
	/* other schemes: octets, scheme case-insensitive */
	{"HTTP://x.com", "http://x.com", true},
	{"http://x.com", "http://X.com", false},
	{"urn:a", "urn:b", false},
	{"urn:x", "sip:x", false},
	{"urn:x", "urm:x", false},
};
/* clang-format on */

static void test_compare(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cmps); i++) {
		struct msg_uri a, b;
		char *ab, *bb;
		if (parse_n(cmps[i].a, strlen(cmps[i].a), &ab, &a) != 0)
			fail_msg("%s: rejected", cmps[i].a);
		if (parse_n(cmps[i].b, strlen(cmps[i].b), &bb, &b) != 0)
			fail_msg("%s: rejected", cmps[i].b);
		if (msg_uri_equal(ab, &a, bb, &b) != cmps[i].eq ||
		    msg_uri_equal(bb, &b, ab, &a) != cmps[i].eq)
			fail_msg("%s vs %s: want %s", cmps[i].a, cmps[i].b,
				 cmps[i].eq ? "equal" : "different");
		assert_true(msg_uri_equal(ab, &a, ab, &a));
		free(ab);
		free(bb);
	}
}

/* Long parameter lists compare only to byte-identical lists. */
static void test_compare_many(void **state)
{
	char a[1024], b[1024];
	size_t na = 0, nb = 0;
	(void)state;
	na += (size_t)snprintf(a + na, sizeof(a) - na, "sip:h");
	nb += (size_t)snprintf(b + nb, sizeof(b) - nb, "sip:h");
	for (int i = 0; i <= MSG_URI_CMP_MAX_ITEMS; i++) {
		na += (size_t)snprintf(a + na, sizeof(a) - na, ";p%d", i);
		nb += (size_t)snprintf(b + nb, sizeof(b) - nb, ";p%d", MSG_URI_CMP_MAX_ITEMS - i);
	}
	struct msg_uri ua, ub;
	assert_int_equal(msg_uri_parse(a, (struct span){0, (uint32_t)na}, &ua), 0);
	assert_int_equal(msg_uri_parse(b, (struct span){0, (uint32_t)nb}, &ub), 0);
	assert_true(msg_uri_equal(a, &ua, a, &ua));
	assert_false(msg_uri_equal(a, &ua, b, &ub));
	/* one fewer parameter: the reordered list is matched pairwise again */
	na = (size_t)snprintf(a, sizeof(a), "sip:h;p1;p0");
	for (int i = 2; i < MSG_URI_CMP_MAX_ITEMS; i++)
		na += (size_t)snprintf(a + na, sizeof(a) - na, ";p%d", i);
	nb = (size_t)snprintf(b, sizeof(b), "sip:h;p0;p1");
	for (int i = 2; i < MSG_URI_CMP_MAX_ITEMS; i++)
		nb += (size_t)snprintf(b + nb, sizeof(b) - nb, ";p%d", i);
	assert_int_equal(msg_uri_parse(a, (struct span){0, (uint32_t)na}, &ua), 0);
	assert_int_equal(msg_uri_parse(b, (struct span){0, (uint32_t)nb}, &ub), 0);
	assert_true(msg_uri_equal(a, &ua, b, &ub));
}

/* A NUL inside the span is just another invalid character. */
static void test_embedded_nul(void **state)
{
	static const char in[] = "sip:u\0@h";
	struct msg_uri u;
	char *buf;
	(void)state;
	assert_int_equal(parse_n(in, sizeof(in) - 1, &buf, &u), EBADMSG);
	free(buf);
	assert_int_equal(parse_n(in, 5, &buf, &u), 0); /* "sip:u" alone is fine */
	assert_span(buf, u.host, "u", "sip:u");
	free(buf);
	/* inside an IPv6 reference a NUL must not end the address early */
	static const char v6[] = "sip:u@[2001:db8::1\0zz]";
	static const char v6tab[] = "sip:u@[2001:db8::\0\t1]:5070";
	assert_int_equal(parse_n(v6, sizeof(v6) - 1, &buf, &u), EBADMSG);
	free(buf);
	assert_int_equal(parse_n(v6tab, sizeof(v6tab) - 1, &buf, &u), EBADMSG);
	free(buf);
	assert_int_equal(parse_n(v6, 18, &buf, &u), EBADMSG); /* "[2001:db8::1" unclosed */
	free(buf);
}

/* The URI may sit inside a larger buffer: spans are relative to buf. */
static void test_offset(void **state)
{
	static const char msg[] = "To: <sips:bob@[::1]:5061;lr?a=b>;tag=x";
	struct msg_uri u;
	char *buf = dup_exact(msg, sizeof(msg) - 1);
	(void)state;
	assert_int_equal(msg_uri_parse(buf, (struct span){5, 26}, &u), 0);
	assert_int_equal(u.scheme, MSG_URI_SIPS);
	assert_int_equal(u.whole.off, 5);
	assert_span(buf, u.scheme_s, "sips", msg);
	assert_span(buf, u.user, "bob", msg);
	assert_span(buf, u.host, "[::1]", msg);
	assert_span(buf, u.port_s, "5061", msg);
	assert_span(buf, u.params, "lr", msg);
	assert_span(buf, u.headers, "a=b", msg);
	/* one byte more takes in the '>' */
	assert_int_equal(msg_uri_parse(buf, (struct span){5, 27}, &u), EBADMSG);
	free(buf);
}

struct pcase {
	const char *in;
	const char *nv[12]; /* expected name, value pairs; NULL ends */
};

/* clang-format off */
static const struct pcase pcases[] = {
	{"", {NULL}},
	{"   ", {NULL}},
	{"lr", {"lr", "", NULL}},
	{"a=1;b", {"a", "1", "b", "", NULL}},
	{" a = 1 ; b ; c = 2 ", {"a", "1", "b", "", "c", "2", NULL}},
	{"a\r\n ;\r\n\tb\r\n =\r\n c", {"a", "", "b", "c", NULL}},
	{"a=\"x;y\";b", {"a", "\"x;y\"", "b", "", NULL}},
	{"a = \"q\\\";\" ;b", {"a", "\"q\\\";\"", "b", "", NULL}},
	{"a;;b", {"a", "", "", "", "b", "", NULL}},
	{"a;", {"a", "", "", "", NULL}},
	{";a", {"", "", "a", "", NULL}},
	{";", {"", "", "", "", NULL}},
	{"=v", {"", "v", NULL}},
	{"a=", {"a", "", NULL}},
	{"a=b=c;d", {"a", "b=c", "d", "", NULL}},
	/* malformed elements come back raw so that the caller rejects them */
	{"a=\"unterminated;b", {"a", "\"unterminated;b", NULL}},
	{"a b;c", {"a b", "", "c", "", NULL}},
	{"a=\"x\"y;c", {"a", "\"x\"y", "c", "", NULL}},
	{"a=b c;d", {"a", "b c", "d", "", NULL}},
	{"a\r\nb;c", {"a\r\nb", "", "c", "", NULL}},
	{"tag=1\r\n", {"tag", "1\r\n", NULL}},
};
/* clang-format on */

static void test_params(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(pcases); i++) {
		const struct pcase *c = &pcases[i];
		size_t n = strlen(c->in);
		char *buf = dup_exact(c->in, n);
		struct span sp = {0, (uint32_t)n}, name, value;
		uint32_t pos = 0;
		size_t k = 0;
		while (msg_param_next(buf, sp, &pos, &name, &value)) {
			if (c->nv[k] == NULL)
				fail_msg("\"%s\": extra parameter %zu", c->in, k / 2);
			assert_span(buf, name, c->nv[k], c->in);
			assert_span(buf, value, c->nv[k + 1], c->in);
			assert_true(name.off + name.len <= n && value.off + value.len <= n);
			k += 2;
		}
		if (c->nv[k] != NULL)
			fail_msg("\"%s\": missing parameter %zu", c->in, k / 2);
		/* finished iterators stay finished */
		assert_false(msg_param_next(buf, sp, &pos, &name, &value));
		free(buf);
	}
}

/* The iterator only ever sees the span, even inside a larger buffer. */
static void test_params_subspan(void **state)
{
	static const char s[] = "xx;a=\"b;c\";d=e;f";
	struct span name, value;
	uint32_t pos = 0;
	(void)state;
	/* the span "a=\"b;c" cuts the quoted string: the value runs to the span end */
	assert_true(msg_param_next(s, (struct span){3, 6}, &pos, &name, &value));
	assert_span(s, name, "a", s);
	assert_span(s, value, "\"b;c", s);
	assert_false(msg_param_next(s, (struct span){3, 6}, &pos, &name, &value));
	pos = 0;
	assert_true(msg_param_next(s, (struct span){11, 3}, &pos, &name, &value));
	assert_span(s, name, "d", s);
	assert_span(s, value, "e", s);
	assert_false(msg_param_next(s, (struct span){11, 3}, &pos, &name, &value));
}

static void test_param_get(void **state)
{
	static const char s[] = "transport=tcp; LR ;username=x;user=\"a;b\";ttl=1;ttl=2";
	struct span sp = {0, sizeof(s) - 1}, v;
	(void)state;
	assert_true(msg_param_get(s, sp, "Transport", &v));
	assert_span(s, v, "tcp", s);
	assert_true(msg_param_get(s, sp, "lr", &v));
	assert_int_equal(v.len, 0);
	assert_true(msg_param_get(s, sp, "user", &v));
	assert_span(s, v, "\"a;b\"", s);
	assert_true(msg_param_get(s, sp, "ttl", &v)); /* the first one wins */
	assert_span(s, v, "1", s);
	assert_false(msg_param_get(s, sp, "b\"", &v));
	assert_false(msg_param_get(s, sp, "x", &v));
	assert_false(msg_param_get(s, sp, "use", &v));
	assert_false(msg_param_get(s, (struct span){0, 0}, "transport", &v));
	/* in a span cut after "transport=tc", only the visible part is returned */
	assert_true(msg_param_get(s, (struct span){0, 12}, "transport", &v));
	assert_span(s, v, "tc", s);
}

static void test_unescape(void **state)
{
	static const struct {
		const char *in;
		int len; /* -1: error */
		const char *out;
	} t[] = {
		{"", 0, ""},          {"abc", 3, "abc"},  {"%41b%2f", 3, "Ab/"},
		{"%00", 1, "\0"},     {"%ff%FF", 2, "\xff\xff"}, {"%", -1, NULL},
		{"%4", -1, NULL},     {"a%zz", -1, NULL}, {"%4g", -1, NULL},
		{"%%41", -1, NULL},   {"%2541", 3, "%41"},
	};
	char out[16];
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		size_t n = strlen(t[i].in);
		char *buf = dup_exact(t[i].in, n);
		int r = msg_unescape(buf, (struct span){0, (uint32_t)n}, out, sizeof(out));
		assert_int_equal(r, t[i].len);
		if (r >= 0)
			assert_memory_equal(out, t[i].out, (size_t)r);
		free(buf);
	}
	/* the output capacity is respected exactly */
	assert_int_equal(msg_unescape("a%42c", (struct span){0, 5}, out, 3), 3);
	assert_int_equal(msg_unescape("a%42c", (struct span){0, 5}, out, 2), -1);
	assert_int_equal(msg_unescape("a%42c", (struct span){0, 5}, out, 0), -1);
	assert_int_equal(msg_unescape("", (struct span){0, 0}, NULL, 0), 0);
}

static void check_spans_inside(const struct msg_uri *u, size_t n)
{
	const struct span *s[] = {&u->whole, &u->scheme_s, &u->user, &u->password, &u->host,
				  &u->port_s, &u->params, &u->headers, &u->opaque};
	for (size_t i = 0; i < ARRAY_SIZE(s); i++)
		assert_true((size_t)s[i]->off + s[i]->len <= n);
}

/* Every prefix of long URIs: no over-read (ASan), sane spans, reflexive equality. */
static void test_truncation(void **state)
{
	static const char *const longs[] = {
		("sips:1_unusual.URI~(x)&y%41:pa$s,word@[2001:db8::192.0.2.1]:5061;transport=tls;"
		 "maddr=[::1];lr;n%61me=v%61lue?Route=%3Csip:example.com%3E&h=v"),
		"sip:user@host.example.com:65535;a;b=c?d=e",
		"sip:1.2.3.4:5;x",
		"tel:+1-201-(555)-0123;ext=1-2;isub=a/b%20;phone-context=+1.914;foo=bar",
		"tel:a*#1;phone-context=ex-ample.com.",
		"soap.beep://192.0.2.103:3002/path?q=%20",
	};
	int valid = 0;
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(longs); i++) {
		size_t len = strlen(longs[i]);
		for (size_t n = 0; n <= len; n++) {
			struct msg_uri u;
			char *buf;
			int err = parse_n(longs[i], n, &buf, &u);
			assert_true(err == 0 || err == EBADMSG);
			if (err == 0) {
				valid++;
				check_spans_inside(&u, n);
				assert_true(msg_uri_equal(buf, &u, buf, &u));
			}
			free(buf);
		}
		struct msg_uri u;
		char *buf;
		int err = parse_n(longs[i], len, &buf, &u);
		free(buf);
		if (err != 0)
			fail_msg("%s: rejected", longs[i]);
	}
	assert_true(valid > 40);
}

/* Read a whole file; NULL if unreadable. */
static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	*n = 0;
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0) {
		long sz = ftell(f);
		if (sz >= 0 && fseek(f, 0, SEEK_SET) == 0) {
			b = malloc((size_t)sz + 1);
			if (b != NULL && fread(b, 1, (size_t)sz, f) != (size_t)sz) {
				free(b);
				b = NULL;
			}
			*n = (size_t)sz;
		}
	}
	fclose(f);
	return b;
}

static bool in_list(const char *const *l, size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(l[i]) == len && memcmp(l[i], s, len) == 0)
			return true;
	return false;
}

/* Request-URIs (first token after the method) and <...> URIs of one torture file. */
static int check_torture_file(const char *path, const char *fname)
{
	/* files whose Request-URI must be rejected (RFC 4475 §3.1.2.6/7, RFC 5118 §4.1, §4.3) */
	static const char *const bad_ruri[] = {"ltgtruri.dat", "lwsruri.dat", "ipv6-bad.dat",
					       "ipv6-bug-abnf-3-colons.dat"};
	/* bracketed text that is not a URI: XML in invut.dat, LWS in badaspec.dat */
	static const char *const not_uri[] = {"audio", "/audio", "pcmu port=\"443\"/",
					      " sip:t.watson@example.org "};
	size_t n = 0, checked = 0;
	char *b = slurp(path, &n);
	assert_non_null(b);
	size_t eol = 0;
	while (eol < n && b[eol] != '\r' && b[eol] != '\n')
		eol++;
	size_t s = 0;
	while (s < eol && b[s] != ' ')
		s++;
	while (s < eol && b[s] == ' ')
		s++;
	size_t e = s;
	while (e < eol && b[e] != ' ')
		e++;
	if (strncmp(b, "SIP/", 4) != 0) {
		struct msg_uri u;
		char *ub;
		bool want = !in_list(bad_ruri, ARRAY_SIZE(bad_ruri), fname, strlen(fname));
		int err = parse_n(b + s, e - s, &ub, &u);
		if ((err == 0) != want)
			fail_msg("%s: Request-URI \"%.*s\" %s", fname, (int)(e - s), b + s,
				 want ? "rejected" : "accepted");
		free(ub);
		checked++;
	}
	for (size_t i = 0; i < n; i++) {
		if (b[i] != '<')
			continue;
		size_t j = i + 1;
		while (j < n && b[j] != '>' && b[j] != '\r' && b[j] != '\n')
			j++;
		if (j == n || b[j] != '>')
			continue;
		struct msg_uri u;
		char *ub;
		bool want = !in_list(not_uri, ARRAY_SIZE(not_uri), b + i + 1, j - i - 1);
		int err = parse_n(b + i + 1, j - i - 1, &ub, &u);
		if ((err == 0) != want)
			fail_msg("%s: <%.*s> %s", fname, (int)(j - i - 1), b + i + 1,
				 want ? "rejected" : "accepted");
		free(ub);
		checked++;
		i = j;
	}
	free(b);
	return (int)checked;
}

static void test_torture(void **state)
{
	static const char *const dirs[] = {"rfc4475", "rfc5118"};
	const char *root = getenv("RINGLET_TORTURE");
	int checked = 0;
	(void)state;
	if (root == NULL)
		skip();
	for (size_t d = 0; d < ARRAY_SIZE(dirs); d++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", root, dirs[d]);
		DIR *dir = opendir(path);
		assert_non_null(dir);
		struct dirent *de;
		while ((de = readdir(dir)) != NULL) {
			size_t l = strlen(de->d_name);
			if (l < 4 || strcmp(de->d_name + l - 4, ".dat") != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s/%s", root, dirs[d], de->d_name);
			checked += check_torture_file(path, de->d_name);
		}
		closedir(dir);
	}
	if (checked < 120)
		fail_msg("only %d URIs found under %s", checked, root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_port_bounds),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_compare_many),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_offset),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_params_subspan),
		cmocka_unit_test(test_param_get),
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_torture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
