/*
 * test_msg_validate.c - msg_validate: every rule on hand-made messages, and
 * the RFC 4475 / RFC 5118 torture corpus as its manifest says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <strings.h>

#include "core_util.h"

static const char *const defaults[] = {
    "Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds",
    "Max-Forwards: 70",
    "To: Bob <sip:bob@example.com>",
    "From: Alice <sip:alice@example.com>;tag=1928301774",
    "Call-ID: a84b4c76e66710@pc33.example.com",
    "CSeq: 1 %s", /* the request's method (INVITE for responses) */
    "Content-Length: 0",
};

/* Does spec (lines separated by '\n') hold "-Name" for the default line d? */
static bool removed(const char *spec, const char *d)
{
	size_t n = (size_t)(strchr(d, ':') - d);
	for (const char *p = spec; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (p[0] == '-' && strncmp(p + 1, d, n) == 0 && (p[1 + n] == '\n' || !p[1 + n]))
			return true;
	return false;
}

/*
 * A message: start line, the default headers minus those spec removes, the
 * other spec lines, the empty line.
 */
static size_t build(char *out, size_t cap, const char *start, const char *spec)
{
	char method[64] = "INVITE";
	size_t k = (size_t)snprintf(out, cap, "%s\r\n", start);

	if (strncasecmp(start, "SIP/", 4) != 0)
		sscanf(start, "%63s", method);
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++) {
		if (removed(spec, defaults[i]))
			continue;
		if (strstr(defaults[i], "%s"))
			k += (size_t)snprintf(out + k, cap - k, "CSeq: 1 %s\r\n", method);
		else
			k += (size_t)snprintf(out + k, cap - k, "%s\r\n", defaults[i]);
	}
	for (const char *p = spec; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (p[0] != '-')
			k += (size_t)snprintf(out + k, cap - k, "%.*s\r\n", (int)n, p);
		p = nl ? nl + 1 : NULL;
	}
	k += (size_t)snprintf(out + k, cap - k, "\r\n");
	return k;
}

#define ANY (-1)
#define V_AP (MSG_V_ALL | MSG_V_PROXY)

struct vcase {
	const char *start;
	const char *spec;
	unsigned flags;
	int status;
	bool drop;
	int hdr;	    /* ANY: not checked */
	const char *reason; /* NULL: not checked */
};

static const struct vcase vcases[] = {
    /* fine */
    {"INVITE sip:bob@example.com SIP/2.0", "", V_AP, 0, false, ANY, NULL},
    {"INVITE sips:bob@example.com SIP/2.0", "", V_AP, 0, false, ANY, NULL},
    {"INVITE tel:+1-201-555-0123 SIP/2.0", "", V_AP, 0, false, ANY, NULL},
    {"SIP/2.0 200 OK", "", V_AP, 0, false, ANY, NULL},
    {"SIP/2.0 699 Whatever", "", V_AP, 0, false, ANY, NULL},
    {"sip/2.0 100 ", "", V_AP, 0, false, ANY, NULL},
    {"FOO sip:a@b SIP/2.0", "", V_AP, 0, false, ANY, NULL},
    {"INVITE sip:a@b SIP/2.0", "-CSeq\nCSeq: 2147483647 INVITE", V_AP, 0, false, ANY, NULL},
    {"INVITE sip:a@b SIP/2.0", "-Max-Forwards\nMax-Forwards: 255", V_AP, 0, false, ANY, NULL},
    {"INVITE sip:a@b SIP/2.0", "-Max-Forwards", V_AP, 0, false, ANY, NULL},
    {"REGISTER sip:b SIP/2.0", "Contact: *\nExpires: 0", V_AP, 0, false, ANY, NULL},
    {"INVITE sip:a@b SIP/2.0", "Allow:\nSupported:\nAccept:", V_AP, 0, false, ANY, NULL},
    {"INVITE sip:a@b SIP/2.0", "Require: PATH\nProxy-Require: path", V_AP, 0, false, ANY, NULL},
    {"INVITE sip:a@b SIP/2.0", "Subject:\nX-Anything: ,,;;\"", V_AP, 0, false, ANY, NULL},
    /* start line */
    {"INVITE sip:a@b SIP/3.0", "", 0, 505, false, MSG_HDR_OTHER, "Version Not Supported"},
    {"INVITE sip:a@b SIP/2.1", "", 0, 505, false, ANY, NULL},
    {"INVITE sip:a@b", "", 0, 400, false, ANY, "Missing SIP-Version"},
    {"INVITE  sip:a@b SIP/2.0", "", 0, 400, false, ANY, "Extra Whitespace in Request-Line"},
    {"INVITE sip:a@b SIP/2.0 ", "", 0, 400, false, ANY, "Trailing Whitespace in Request-Line"},
    {"INV\"ITE sip:a@b SIP/2.0", "", 0, 400, false, ANY, "Bad Method"},
    {"INVITE <sip:a@b> SIP/2.0", "", 0, 400, false, ANY, "Request-URI in Angle Brackets"},
    {"INVITE sip:a@b; lr SIP/2.0", "", 0, 400, false, ANY, "Whitespace in Request-URI"},
    {"INVITE sip:a@b?Route=%3Csip:x%3E SIP/2.0", "", 0, 400, false, ANY,
     "Escaped Headers in Request-URI"},
    {"INVITE sip:2001:db8::10 SIP/2.0", "", 0, 400, false, ANY, "Bad Request-URI"},
    {"INVITE SIP/2.0", "", 0, 400, false, ANY, "Missing Request-URI"},
    /* framing */
    {"INVITE sip:a@b SIP/2.0", "Foobar roobar", 0, 400, false, ANY, "Bad Header Line"},
    {"INVITE sip:a@b SIP/2.0", "-Content-Length\nContent-Length: -1", 0, 400, false,
     MSG_HDR_CONTENT_LENGTH, "Bad Content-Length"},
    {"INVITE sip:a@b SIP/2.0", "-Content-Length\nl: 5", 0, 400, false, MSG_HDR_CONTENT_LENGTH,
     "Content-Length Exceeds Message"},
    {"INVITE sip:a@b SIP/2.0", "l: 0", 0, 400, false, MSG_HDR_CONTENT_LENGTH,
     "Multiple Content-Length"},
    {"INVITE sip:a@b SIP/2.0", "l: 1", 0, 400, false, MSG_HDR_CONTENT_LENGTH,
     "Multiple Content-Length"},
    /* mandatory headers */
    {"INVITE sip:a@b SIP/2.0", "-Via", 0, 400, false, MSG_HDR_VIA, "Missing Via"},
    {"INVITE sip:a@b SIP/2.0", "-From", 0, 400, false, MSG_HDR_FROM, "Missing From"},
    {"INVITE sip:a@b SIP/2.0", "-To", 0, 400, false, MSG_HDR_TO, "Missing To"},
    {"INVITE sip:a@b SIP/2.0", "-Call-ID", 0, 400, false, MSG_HDR_CALL_ID, "Missing Call-ID"},
    {"INVITE sip:a@b SIP/2.0", "-CSeq", 0, 400, false, MSG_HDR_CSEQ, "Missing CSeq"},
    {"INVITE sip:a@b SIP/2.0", "-Via\nVia: garbage", 0, 400, false, MSG_HDR_VIA, "Bad Via"},
    {"INVITE sip:a@b SIP/2.0", "-Via\nVia: SIP/2.0/UDP a;branch=z9hG4bK1, ;", 0, 400, false,
     MSG_HDR_VIA, "Bad Via"},
    {"INVITE sip:a@b SIP/2.0", "Via: what ever", 0, 400, false, MSG_HDR_VIA, "Bad Via"},
    {"INVITE sip:a@b SIP/2.0", "-From\nFrom: <sip:a@b", 0, 400, false, MSG_HDR_FROM, "Bad From"},
    {"INVITE sip:a@b SIP/2.0", "-From\nFrom: sip:a@b?Route=x;tag=1", 0, 400, false, MSG_HDR_FROM,
     "Bad From"},
    {"INVITE sip:a@b SIP/2.0", "-To\nTo: \"unterminated <sip:a@b>", 0, 400, false, MSG_HDR_TO,
     "Bad To"},
    {"INVITE sip:a@b SIP/2.0", "-To\nTo: Bell, Alexander <sip:a@b>", 0, 400, false, MSG_HDR_TO,
     "Bad To"},
    {"INVITE sip:a@b SIP/2.0", "-Call-ID\nCall-ID: a b", 0, 400, false, MSG_HDR_CALL_ID,
     "Bad Call-ID"},
    {"INVITE sip:a@b SIP/2.0", "-CSeq\nCSeq: x INVITE", 0, 400, false, MSG_HDR_CSEQ, "Bad CSeq"},
    {"INVITE sip:a@b SIP/2.0", "-CSeq\nCSeq: 2147483648 INVITE", 0, 400, false, MSG_HDR_CSEQ,
     "Bad CSeq"},
    {"INVITE sip:a@b SIP/2.0", "-CSeq\nCSeq: 36893488147419103232 INVITE", 0, 400, false,
     MSG_HDR_CSEQ, "Bad CSeq"},
    {"INVITE sip:a@b SIP/2.0", "-CSeq\nCSeq: 1 OPTIONS", 0, 400, false, MSG_HDR_CSEQ,
     "CSeq Method Mismatch"},
    {"INVITE sip:a@b SIP/2.0", "-CSeq\nCSeq: 1 invite", 0, 400, false, MSG_HDR_CSEQ,
     "CSeq Method Mismatch"},
    {"RE%47IST%45R sip:a@b SIP/2.0", "-CSeq\nCSeq: 1 REGISTER", 0, 400, false, MSG_HDR_CSEQ,
     "CSeq Method Mismatch"},
    {"INVITE sip:a@b SIP/2.0", "-Max-Forwards\nMax-Forwards: 256", 0, 400, false,
     MSG_HDR_MAX_FORWARDS, "Bad Max-Forwards"},
    {"INVITE sip:a@b SIP/2.0", "-Max-Forwards\nMax-Forwards: -1", 0, 400, false,
     MSG_HDR_MAX_FORWARDS, "Bad Max-Forwards"},
    {"INVITE sip:a@b SIP/2.0", "Contact: <sip:a@b", 0, 400, false, MSG_HDR_CONTACT, "Bad Contact"},
    {"INVITE sip:a@b SIP/2.0", "Contact: <sip:a@b>, <sip:c@d", 0, 400, false, MSG_HDR_CONTACT,
     "Bad Contact"},
    {"REGISTER sip:b SIP/2.0", "Contact: *, <sip:a@b>", 0, 400, false, MSG_HDR_CONTACT,
     "Bad Contact"},
    {"REGISTER sip:b SIP/2.0", "Contact: *\nContact: *", 0, 400, false, MSG_HDR_CONTACT,
     "Bad Contact"},
    {"REGISTER sip:b SIP/2.0", "Contact: sip:u@example.com?Route=%3Csip:x%3E", 0, 400, false,
     MSG_HDR_CONTACT, "Bad Contact"},
    {"INVITE sip:a@b SIP/2.0", "Expires: soon", 0, 400, false, MSG_HDR_EXPIRES, "Bad Expires"},
    {"INVITE sip:a@b SIP/2.0", "Route: sip:p1.example.com;lr", 0, 400, false, MSG_HDR_ROUTE,
     "Bad Route"},
    {"INVITE sip:a@b SIP/2.0", "Record-Route: <sip:p1.example.com;lr", 0, 400, false,
     MSG_HDR_RECORD_ROUTE, "Bad Record-Route"},
    {"INVITE sip:a@b SIP/2.0", "Require: a b", 0, 400, false, MSG_HDR_REQUIRE, "Bad Require"},
    {"INVITE sip:a@b SIP/2.0", "Proxy-Require: a/b", 0, 400, false, MSG_HDR_PROXY_REQUIRE,
     "Bad Proxy-Require"},
    /* single-value headers given twice */
    {"INVITE sip:a@b SIP/2.0", "From: <sip:c@d>;tag=2", 0, 400, false, MSG_HDR_FROM,
     "Multiple From"},
    {"INVITE sip:a@b SIP/2.0", "t: <sip:c@d>", 0, 400, false, MSG_HDR_TO, "Multiple To"},
    {"INVITE sip:a@b SIP/2.0", "i: x@y", 0, 400, false, MSG_HDR_CALL_ID, "Multiple Call-ID"},
    {"INVITE sip:a@b SIP/2.0", "CSeq: 1 INVITE", 0, 400, false, MSG_HDR_CSEQ, "Multiple CSeq"},
    {"INVITE sip:a@b SIP/2.0", "Max-Forwards: 70", 0, 400, false, MSG_HDR_MAX_FORWARDS,
     "Multiple Max-Forwards"},
    {"INVITE sip:a@b SIP/2.0", "c: text/plain\nContent-Type: text/plain", 0, 400, false,
     MSG_HDR_CONTENT_TYPE, "Multiple Content-Type"},
    {"INVITE sip:a@b SIP/2.0", "Expires: 1\nExpires: 1", 0, 400, false, MSG_HDR_EXPIRES,
     "Multiple Expires"},
    {"INVITE sip:a@b SIP/2.0", "Min-Expires: 1\nMin-Expires: 1", 0, 400, false, MSG_HDR_MIN_EXPIRES,
     "Multiple Min-Expires"},
    /* responses: dropped, never answered */
    {"SIP/2.0 099 Low", "", 0, 0, true, ANY, "Bad Status Code"},
    {"SIP/2.0 700 High", "", 0, 0, true, ANY, "Bad Status Code"},
    {"SIP/2.0 2000 Long", "", 0, 0, true, ANY, "Bad Status Code"},
    {"SIP/3.0 200 OK", "", 0, 0, true, ANY, NULL},
    {"SIP/2.0 200 OK", "-Via", 0, 0, true, MSG_HDR_VIA, NULL},
    {"SIP/2.0 200 OK", "-CSeq\nCSeq: 9292394834772304023312 OPTIONS", 0, 0, true, MSG_HDR_CSEQ,
     NULL},
    {"SIP/2.0 200 OK", "Bad line", 0, 0, true, ANY, NULL},
    {"SIP/2.0 200 OK", "Retry-After: 949302838503028349304023988", MSG_V_ALL, 0, true,
     MSG_HDR_RETRY_AFTER, NULL},
    /* role verdicts: not malformed */
    {"OPTIONS http://example.com/x SIP/2.0", "", 0, 416, false, MSG_HDR_OTHER,
     "Unsupported URI Scheme"},
    {"OPTIONS urn:service:sos SIP/2.0", "", 0, 416, false, ANY, NULL},
    {"OPTIONS http://example.com/x SIP/2.0", "-Max-Forwards\nMax-Forwards: 0", V_AP, 416, false,
     ANY, NULL},
    {"OPTIONS sip:a@b SIP/2.0", "-Max-Forwards\nMax-Forwards: 0", MSG_V_ALL, 0, false, ANY, NULL},
    {"OPTIONS sip:a@b SIP/2.0", "-Max-Forwards\nMax-Forwards: 0", MSG_V_PROXY, 483, false,
     MSG_HDR_MAX_FORWARDS, "Too Many Hops"},
    {"OPTIONS sip:a@b SIP/2.0", "Require: foo\n-Max-Forwards\nMax-Forwards: 0", MSG_V_PROXY, 483,
     false, ANY, NULL},
    {"OPTIONS sip:a@b SIP/2.0", "Require: foo", 0, 420, false, MSG_HDR_REQUIRE, "Bad Extension"},
    /* forwarded: Require is the UAS's (§16.3), Proxy-Require still ours */
    {"OPTIONS sip:a@b SIP/2.0", "Require: foo", MSG_V_PROXY | MSG_V_FORWARD, 0, false, ANY, NULL},
    {"OPTIONS sip:a@b SIP/2.0", "Require: foo\nProxy-Require: bar", MSG_V_PROXY | MSG_V_FORWARD,
     420, false, MSG_HDR_PROXY_REQUIRE, NULL},
    {"ACK sip:a@b SIP/2.0", "Require: foo", V_AP, 0, false, ANY, NULL},
    {"CANCEL sip:a@b SIP/2.0", "Require: foo\nProxy-Require: bar", V_AP, 0, false, ANY, NULL},
    {"OPTIONS sip:a@b SIP/2.0", "Proxy-Require: foo", MSG_V_ALL, 0, false, ANY, NULL},
    {"OPTIONS sip:a@b SIP/2.0", "Proxy-Require: foo", MSG_V_PROXY, 420, false,
     MSG_HDR_PROXY_REQUIRE, NULL},
    /* a role verdict never hides a malformed header */
    {"OPTIONS http://x SIP/2.0", "Require: foo\n-CSeq\nCSeq: x OPTIONS", V_AP, 400, false,
     MSG_HDR_CSEQ, "Bad CSeq"},
};

/* Headers checked only with MSG_V_ALL: fine without it, "Bad <Name>" with it. */
static const struct {
	const char *line;
	uint8_t id;
} vall_cases[] = {
    {"Content-Type: text", MSG_HDR_CONTENT_TYPE},
    {"Retry-After: soon", MSG_HDR_RETRY_AFTER},
    {"Event: ;id=1", MSG_HDR_EVENT},
    {"Subscription-State: ;expires=5", MSG_HDR_SUBSCRIPTION_STATE},
    {"Authorization: Digest realm=\"unterminated", MSG_HDR_AUTHORIZATION},
    {"Proxy-Authorization: Digest realm=\"unterminated", MSG_HDR_PROXY_AUTHORIZATION},
    {"WWW-Authenticate: Digest realm=\"unterminated", MSG_HDR_WWW_AUTHENTICATE},
    {"Proxy-Authenticate: Digest realm=\"unterminated", MSG_HDR_PROXY_AUTHENTICATE},
    {"Min-Expires: x", MSG_HDR_MIN_EXPIRES},
    {"Supported: a b", MSG_HDR_SUPPORTED},
    {"Unsupported: a b", MSG_HDR_UNSUPPORTED},
    {"Allow: INVITE, ,ACK", MSG_HDR_ALLOW},
    {"Allow-Events: ", MSG_HDR_ALLOW_EVENTS},
    {"Path: sip:p.example.com;lr", MSG_HDR_PATH},
    {"Service-Route: <sip:p.example.com", MSG_HDR_SERVICE_ROUTE},
    {"Reply-To: <sip:a@b", MSG_HDR_REPLY_TO},
    {"Refer-To: <sip:a@b", MSG_HDR_REFER_TO},
    {"Referred-By: <sip:a@b", MSG_HDR_REFERRED_BY},
    {"Date: Fri, 01 Jan 2010 16:00:00 EST", MSG_HDR_DATE},
    {"Date: yesterday", MSG_HDR_DATE},
    {"Warning: 1812 overture \"In Progress\"", MSG_HDR_WARNING},
    {"Timestamp: soon", MSG_HDR_TIMESTAMP},
    {"RAck: 1 x INVITE", MSG_HDR_RACK},
    {"RSeq: 0", MSG_HDR_RSEQ},
    {"MIME-Version: 1", MSG_HDR_MIME_VERSION},
    {"Session-Expires: x", MSG_HDR_SESSION_EXPIRES},
    {"Call-Info: http://example.com/x", MSG_HDR_CALL_INFO},
    {"Alert-Info: \"x\" <http://example.com/x>", MSG_HDR_ALERT_INFO},
    {"Error-Info: <sip:x", MSG_HDR_ERROR_INFO},
    {"Accept: text", MSG_HDR_ACCEPT},
    {"Accept-Encoding: ;q=1", MSG_HDR_ACCEPT_ENCODING},
    {"Accept-Language: ,", MSG_HDR_ACCEPT_LANGUAGE},
    {"Content-Encoding: a b", MSG_HDR_CONTENT_ENCODING},
    {"Content-Language: a b", MSG_HDR_CONTENT_LANGUAGE},
    {"Content-Disposition: ;handling=optional", MSG_HDR_CONTENT_DISPOSITION},
    {"In-Reply-To: a b", MSG_HDR_IN_REPLY_TO},
    {"Priority: a b", MSG_HDR_PRIORITY},
    {"Accept-Contact: audio", MSG_HDR_ACCEPT_CONTACT},
    {"Reject-Contact: video", MSG_HDR_REJECT_CONTACT},
    {"Request-Disposition: a b", MSG_HDR_REQUEST_DISPOSITION},
    {"Identity:", MSG_HDR_IDENTITY},
    {"Authentication-Info:", MSG_HDR_AUTHENTICATION_INFO},
};

/* One well-formed value for every known header: fine even with MSG_V_ALL. */
static const char every_header[] =
    "Accept: application/sdp;level=1, text/*\n"
    "Accept-Encoding: gzip;q=1.0, identity\n"
    "Accept-Language: da, en-gb;q=0.8\n"
    "Alert-Info: <http://www.example.com/sounds/moo.wav>\n"
    "Allow: INVITE, ACK, OPTIONS\n"
    "Allow-Events: presence, dialog\n"
    "Authentication-Info: nextnonce=\"47364c23432d2e131a5fb210812c\"\n"
    "Authorization: Digest username=\"Alice\", realm=\"atlanta.com\", "
    "nonce=\"84a4cc6f3082121f32b42a2187831a9e\", uri=\"sip:bob@biloxi.com\", "
    "response=\"7587245234b3434cc3412213e5f113a5432\"\n"
    "Call-Info: <http://wwww.example.com/alice/photo.jpg> ;purpose=icon\n"
    "Contact: <sip:alice@pc33.atlanta.com>;expires=3600;q=0.7, sip:a@b\n"
    "Content-Disposition: session;handling=optional\n"
    "Content-Encoding: gzip\n"
    "Content-Language: fr\n"
    "Content-Type: application/sdp\n"
    "Date: Sat, 13 Nov 2010 23:29:00 GMT\n"
    "Error-Info: <sip:not-in-service-recording@atlanta.com>\n"
    "Event: presence;id=1\n"
    "Expires: 5\n"
    "In-Reply-To: 70710@saturn.bell-tel.com, 17320@saturn.bell-tel.com\n"
    "MIME-Version: 1.0\n"
    "Min-Expires: 60\n"
    "Organization: Boxes by Bob\n"
    "Path: <sip:P3.EXAMPLEHOME.COM;lr>\n"
    "Priority: emergency\n"
    "Proxy-Authenticate: Digest realm=\"atlanta.com\", domain=\"sip:ss1.carrier.com\", "
    "qop=\"auth\", nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE, "
    "algorithm=MD5\n"
    "Proxy-Authorization: Digest username=\"Alice\", realm=\"atlanta.com\", "
    "nonce=\"c60f3082ee1212b402a21831ae\", response=\"245f23415f11432b3434341c022\"\n"
    "Proxy-Require: path\n"
    "RAck: 776656 1 INVITE\n"
    "Record-Route: <sip:server10.biloxi.com;lr>, <sip:bigbox3.site3.atlanta.com;lr>\n"
    "Refer-To: <sip:carol@example.com>\n"
    "Referred-By: <sip:alice@example.com>\n"
    "Reply-To: Bob <sip:bob@biloxi.com>\n"
    "Require: path\n"
    "Retry-After: 18000;duration=3600\n"
    "Route: <sip:p1.example.com;lr>\n"
    "RSeq: 988789\n"
    "Server: HomeServer v2\n"
    "Service-Route: <sip:P2.HOME.EXAMPLE.COM;lr>\n"
    "Session-Expires: 4000;refresher=uac\n"
    "Subject: Need more boxes\n"
    "Subscription-State: active;expires=60\n"
    "Supported: 100rel, path\n"
    "Timestamp: 54.2 0.5\n"
    "Unsupported: foo\n"
    "User-Agent: Softphone Beta1.5\n"
    "Warning: 307 isi.edu \"Session parameter 'foo' not understood\", 399 a \"b\"\n"
    "WWW-Authenticate: Digest realm=\"atlanta.com\", "
    "nonce=\"84a4cc6f3082121f32b42a2187831a9e\", qop=\"auth\"\n"
    "Accept-Contact: *;audio\n"
    "Reject-Contact: *;video\n"
    "Request-Disposition: proxy, recurse\n"
    "Identity: \"ZYNBbHC00VMZr2kZt6VmCvPonWJMGvQTBDqghoWeLxJfzB2a1pxAr3VgrB0SsSAa\"\n"
    "Identity-Info: <https://atlanta.example.com/atlanta.cer>;alg=rsa-sha1";

/* Parse (datagram) and validate; the message must parse. */
static bool run(const char *msg, size_t len, unsigned pflags, unsigned vflags,
		const char *const *sup, struct msg_verdict *v)
{
	struct msg *m = malloc(sizeof(*m));
	struct gbuf g;
	size_t used;
	int err = msg_parse(m, gbuf_put(&g, msg, len), len, pflags, &used);
	bool ok = msg_validate(m, vflags, sup, v);
	assert_int_equal(ok, v->status == 0 && !v->drop);
	gbuf_free(&g);
	free(m);
	if (err != 0 && err != EMSGSIZE)
		fail_msg("parse %d: %.*s", err, (int)len, msg);
	return ok;
}

static void check_case(const struct vcase *c, const char *msg, size_t len)
{
	struct msg_verdict v;

	run(msg, len, MSG_PARSE_DGRAM, c->flags, NULL, &v);
	bool malformed = c->drop || c->status == 400 || c->status == 505 || c->status == 513;
	if (v.status != c->status || v.drop != c->drop || v.malformed != malformed ||
	    (c->hdr != ANY && v.hdr != c->hdr) ||
	    (c->reason != NULL && (v.reason == NULL || strcmp(v.reason, c->reason) != 0)))
		fail_msg("%s: got %u drop=%d malformed=%d hdr=%d '%s'\n%.*s", c->start, v.status,
			 v.drop, v.malformed, v.hdr, v.reason ? v.reason : "", (int)len, msg);
	if (v.status != 0 || v.drop)
		assert_non_null(v.reason);
}

static void test_rules(void **state)
{
	(void)state;
	char buf[4096];
	for (size_t i = 0; i < ARRAY_SIZE(vcases); i++) {
		size_t n = build(buf, sizeof(buf), vcases[i].start, vcases[i].spec);
		check_case(&vcases[i], buf, n);
	}
}

static void test_v_all(void **state)
{
	(void)state;
	char buf[4096];
	struct msg_verdict v;

	for (size_t i = 0; i < ARRAY_SIZE(vall_cases); i++) {
		size_t n = build(buf, sizeof(buf), "OPTIONS sip:a@b SIP/2.0", vall_cases[i].line);
		if (!run(buf, n, 0, 0, NULL, &v))
			fail_msg("%s: without MSG_V_ALL: %s", vall_cases[i].line, v.reason);
		const char *name = msg_hdr_name(vall_cases[i].id);
		char want[64];
		snprintf(want, sizeof(want), "Bad %s", name);
		run(buf, n, 0, MSG_V_ALL, NULL, &v);
		if (v.status != 400 || !v.malformed || v.hdr != vall_cases[i].id ||
		    strcmp(v.reason, want) != 0)
			fail_msg("%s: got %u '%s'", vall_cases[i].line, v.status,
				 v.reason ? v.reason : "");
	}
	size_t n = build(buf, sizeof(buf), "INVITE sip:a@b SIP/2.0", every_header);
	if (!run(buf, n, 0, MSG_V_ALL | MSG_V_PROXY, NULL, &v))
		fail_msg("every header: %u %s", v.status, v.reason);
	/* and it really holds every known header */
	struct msg *m = malloc(sizeof(*m));
	size_t used;
	assert_int_equal(msg_parse(m, buf, n, 0, &used), 0);
	bool present[MSG_HDR__COUNT] = {false};
	for (unsigned i = 0; i < m->nhdrs; i++)
		present[m->hdrs[i].id] = true;
	free(m);
	for (unsigned id = 1; id < MSG_HDR__COUNT; id++)
		if (!present[id])
			fail_msg("every_header lacks %s", msg_hdr_name((enum msg_hdr_id)id));
}

static void test_supported(void **state)
{
	(void)state;
	char buf[1024];
	struct msg_verdict v;
	static const char *const mine[] = {"foo", "100rel", NULL};

	assert_string_equal(msg_supported_default[0], "path");
	assert_null(msg_supported_default[1]);

	size_t n = build(buf, sizeof(buf), "OPTIONS sip:a@b SIP/2.0", "Require: path, foo, bar");
	assert_false(run(buf, n, 0, 0, NULL, &v));
	assert_int_equal(v.status, 420);
	assert_false(v.malformed);
	assert_int_equal(v.hdr, MSG_HDR_REQUIRE);
	assert_int_equal(v.unsupported.len, 3);
	assert_true(span_eq(buf, v.unsupported, "foo")); /* no leading CRLF: same offsets */
	assert_true(run(buf, n, 0, 0, (const char *const[]){"foo", "bar", "path", NULL}, &v));

	n = build(buf, sizeof(buf), "OPTIONS sip:a@b SIP/2.0", "Require: foo\nk: x");
	assert_true(run(buf, n, 0, MSG_V_ALL, mine, &v));
	n = build(buf, sizeof(buf), "OPTIONS sip:a@b SIP/2.0", "Require: 100rel, path");
	assert_false(run(buf, n, 0, 0, mine, &v));
	assert_int_equal(v.status, 420);
	assert_int_equal(v.unsupported.len, 4);
}

/* Anomalies that need their own framing. */
static void test_framing_verdicts(void **state)
{
	(void)state;
	struct msg_verdict v;
	const char *s;
	char *big;
	size_t n;

	/* stream without Content-Length */
	s = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
	    "To: <sip:a@b>\r\nFrom: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n";
	assert_true(run(s, strlen(s), MSG_PARSE_DGRAM, MSG_V_ALL, NULL, &v));
	assert_false(run(s, strlen(s), MSG_PARSE_STREAM, MSG_V_ALL, NULL, &v));
	assert_int_equal(v.status, 400);
	assert_string_equal(v.reason, "Missing Content-Length");

	/* no empty line */
	n = strlen(s) - 2;
	assert_false(run(s, n, MSG_PARSE_DGRAM, 0, NULL, &v));
	assert_string_equal(v.reason, "Missing Empty Line");

	/* too many headers: 513, and a response is dropped */
	big = malloc(16384);
	n = (size_t)sprintf(big, "INVITE sip:a@b SIP/2.0\r\n");
	for (unsigned i = 0; i <= MSG_MAX_HDRS; i++)
		n += (size_t)sprintf(big + n, "Via: SIP/2.0/UDP h%u\r\n", i);
	n += (size_t)sprintf(big + n, "\r\n");
	assert_false(run(big, n, 0, 0, NULL, &v));
	assert_int_equal(v.status, 513);
	assert_true(v.malformed);
	assert_string_equal(v.reason, "Message Too Large");
	memcpy(big, "SIP/2.0 200 OK        ", 22);
	assert_false(run(big, n, 0, 0, NULL, &v));
	assert_int_equal(v.status, 0);
	assert_true(v.drop);
	free(big);

	/* after EBADMSG the message is never "fine" */
	struct msg *m = malloc(sizeof(*m));
	size_t used;
	assert_int_equal(msg_parse(m, "GET / HTTP/1.1\r\n\r\n", 18, 0, &used), EBADMSG);
	assert_false(msg_validate(m, 0, NULL, &v));
	assert_true(v.malformed);
	free(m);
}

/* Does the manifest's `ideal` column name this code ("no400" does not name 400)? */
static bool has_code(const char *ideal, const char *code)
{
	for (const char *p = strstr(ideal, code); p; p = strstr(p + 1, code))
		if (p < ideal + 2 || strncmp(p - 2, "no", 2) != 0)
			return true;
	return false;
}

/* The torture corpus, as MANIFEST.tsv says (see the brief in msg.h's tests). */
static void test_torture(void **state)
{
	(void)state;
	struct trow rows[128];
	int n = torture_rows(rows, 128);
	int checked = 0;
	assert_true(n >= 60);

	for (int i = 0; i < n; i++) {
		const struct trow *r = &rows[i];
		size_t len;
		char *b = torture_read(r->file, &len);
		struct msg_verdict v;
		bool ok = run(b, len, MSG_PARSE_DGRAM, MSG_V_ALL, NULL, &v);
		const char *why = NULL;

		if (strcmp(r->validity, "valid") == 0) {
			if (v.malformed)
				why = "valid message judged malformed";
		} else if (strcmp(r->validity, "response") == 0) {
			bool bad = strstr(r->file, "bigcode") || strstr(r->file, "scalarlg");
			if (bad != v.drop || (!bad && !ok))
				why = "response verdict";
		} else if (has_code(r->ideal, "505")) {
			if (v.status != 505 || !v.malformed)
				why = "want 505";
		} else if (has_code(r->ideal, "400")) {
			if (v.status != 400 || !v.malformed)
				why = "want 400";
		} else if (strstr(r->ideal, "no400")) {
			if (v.malformed)
				why = "want no 400";
		}
		if (why != NULL)
			fail_msg("%s: %s (status %u, %s)", r->file, why, v.status,
				 v.reason ? v.reason : "-");
		free(b);
		checked++;
	}
	assert_int_equal(checked, n);
}

/* The role verdicts the corpus expects (RFC 4475 §3.3). */
static void test_torture_roles(void **state)
{
	(void)state;
	static const struct {
		const char *file;
		unsigned flags;
		unsigned status;
		const char *unsupported;
	} roles[] = {
	    {"rfc4475/unkscm.dat", 0, 416, NULL},
	    {"rfc4475/novelsc.dat", 0, 416, NULL},
	    {"rfc4475/bext01.dat", 0, 420, "nothingSupportsThis"},
	    {"rfc4475/bext01.dat", MSG_V_PROXY, 420, "nothingSupportsThis"},
	    {"rfc4475/zeromf.dat", 0, 0, NULL},
	    {"rfc4475/zeromf.dat", MSG_V_PROXY, 483, NULL},
	    {"rfc4475/esc02.dat", MSG_V_ALL, 0, NULL},
	    {"rfc4475/dblreq.dat", MSG_V_ALL, 0, NULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(roles); i++) {
		size_t len, used;
		char *b = torture_read(roles[i].file, &len);
		struct msg *m = malloc(sizeof(*m));
		struct msg_verdict v;
		assert_int_equal(msg_parse(m, b, len, MSG_PARSE_DGRAM, &used), 0);
		msg_validate(m, roles[i].flags, NULL, &v);
		if (v.status != roles[i].status || v.malformed)
			fail_msg("%s: %u", roles[i].file, v.status);
		if (roles[i].unsupported)
			assert_true(span_eq(m->buf, v.unsupported, roles[i].unsupported));
		free(m);
		free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rules),     cmocka_unit_test(test_v_all),
	    cmocka_unit_test(test_supported), cmocka_unit_test(test_framing_verdicts),
	    cmocka_unit_test(test_torture),   cmocka_unit_test(test_torture_roles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
