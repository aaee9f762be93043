/*
 * test_msg_sdp.c - SDP parse/print/build (RFC 4566) and offer/answer (RFC 3264).
 *
 * Inputs are written with bare LF for readability; most are run both as
 * written and with CRLF line ends (which must parse to equal structures).
 * Every input is copied into a heap buffer of its exact length, so an
 * over-read by the parser is caught by AddressSanitizer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ringlet/msg_sdp.h"

/* A heap copy of s[0..n) without a NUL, so that reading past the end is a fault. */
static char *dup_exact(const char *s, size_t n)
{
	char *b = malloc(n ? n : 1);
	assert_non_null(b);
	memcpy(b, s, n);
	return b;
}

/* s with every bare LF turned into CRLF, NUL-terminated, heap-allocated. */
static char *crlf(const char *s)
{
	size_t n = strlen(s), k = 0;
	char *b = malloc(2 * n + 1);
	assert_non_null(b);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			b[k++] = '\r';
		b[k++] = s[i];
	}
	b[k] = '\0';
	return b;
}

static int parse_n(struct msg_sdp *s, const char *text, size_t n, char **buf)
{
	*buf = dup_exact(text, n);
	return msg_sdp_parse(s, *buf, (struct span){0, (uint32_t)n});
}

static void assert_span(const char *buf, struct span sp, const char *want)
{
	if (sp.len != strlen(want) || memcmp(buf + sp.off, want, sp.len) != 0)
		fail_msg("got \"%.*s\", want \"%s\"", (int)sp.len, buf + sp.off, want);
}

static void assert_str(struct msg_sdp_str s, const char *want)
{
	if (s.len != strlen(want) || memcmp(s.p, want, s.len) != 0)
		fail_msg("got \"%.*s\", want \"%s\"", (int)s.len, s.p, want);
}

/* Print s, check the output parses back to an equal structure; returns the printed text. */
static char *round_trip(const struct msg_sdp *s, size_t *outlen)
{
	size_t cap = 65536, n = 0;
	char *out = malloc(cap);
	struct msg_sdp *t = malloc(sizeof(*t));
	assert_non_null(out);
	assert_non_null(t);
	assert_int_equal(msg_sdp_print(s, out, cap, &n), 0);
	char *exact = dup_exact(out, n);
	free(out);
	assert_int_equal(msg_sdp_parse(t, exact, (struct span){0, (uint32_t)n}), 0);
	assert_true(msg_sdp_equal(s, t));
	free(t);
	*outlen = n;
	return exact;
}

/* ---- well-formed descriptions ---- */

struct want_media {
	const char *type;
	unsigned port, nports, nfmts;
	const char *proto, *conn; /* conn: effective connection address, NULL for none */
	enum msg_sdp_dir dir;
	unsigned ptime;
};

struct good {
	const char *name, *sdp;
	unsigned nlines;
	const char *user;
	uint64_t id, ver;
	const char *oaddr, *caddr; /* caddr: session c= address or NULL */
	unsigned nmedia;
	struct want_media m[3];
};

#define SR MSG_SDP_SENDRECV
#define SO MSG_SDP_SENDONLY
#define RO MSG_SDP_RECVONLY
#define IA MSG_SDP_INACTIVE

static const struct good goods[] = {
	{"rfc4566-s5",
	 "v=0\n"
	 "o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\n"
	 "s=SDP Seminar\n"
	 "i=A Seminar on the session description protocol\n"
	 "u=http://www.example.com/seminars/sdp.pdf\n"
	 "e=j.doe@example.com (Jane Doe)\n"
	 "c=IN IP4 224.2.17.12/127\n"
	 "t=2873397496 2873404696\n"
	 "a=recvonly\n"
	 "m=audio 49170 RTP/AVP 0\n"
	 "m=video 51372 RTP/AVP 99\n"
	 "a=rtpmap:99 h263-1998/90000\n",
	 12, "jdoe", 2890844526u, 2890842807u, "10.47.16.5", "224.2.17.12", 2,
	 {{"audio", 49170, 1, 1, "RTP/AVP", "224.2.17.12", RO, 0},
	  {"video", 51372, 1, 1, "RTP/AVP", "224.2.17.12", RO, 0}}},
	{"desk-phone",
	 "v=0\n"
	 "o=- 1187 1187 IN IP4 192.168.1.20\n"
	 "s=Polycom IP Phone\n"
	 "c=IN IP4 192.168.1.20\n"
	 "t=0 0\n"
	 "a=sendrecv\n"
	 "m=audio 2222 RTP/AVP 9 0 8 18 101\n"
	 "a=rtpmap:9 G722/8000\n"
	 "a=rtpmap:0 PCMU/8000\n"
	 "a=rtpmap:8 PCMA/8000\n"
	 "a=rtpmap:18 G729/8000\n"
	 "a=fmtp:18 annexb=no\n"
	 "a=rtpmap:101 telephone-event/8000\n"
	 "a=fmtp:101 0-15\n"
	 "a=ptime:20\n",
	 15, "-", 1187, 1187, "192.168.1.20", "192.168.1.20", 1,
	 {{"audio", 2222, 1, 5, "RTP/AVP", "192.168.1.20", SR, 20}}},
	{"webrtc-opus-video-ice",
	 "v=0\n"
	 "o=- 4611731400430051336 2 IN IP4 127.0.0.1\n"
	 "s=-\n"
	 "t=0 0\n"
	 "a=group:BUNDLE 0 1\n"
	 "a=msid-semantic: WMS\n"
	 "m=audio 54609 UDP/TLS/RTP/SAVPF 111 103 9 0 8 126\n"
	 "c=IN IP4 203.0.113.7\n"
	 "b=AS:64\n"
	 "a=rtcp:9 IN IP4 0.0.0.0\n"
	 "a=candidate:842163049 1 udp 1677729535 203.0.113.7 54609 typ srflx raddr "
	 "10.0.0.5 rport 54609 generation 0\n"
	 "a=candidate:1 1 udp 2122260223 10.0.0.5 54609 typ host\n"
	 "a=ice-ufrag:EsAw\n"
	 "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\n"
	 "a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24\n"
	 "a=setup:actpass\n"
	 "a=mid:0\n"
	 "a=sendrecv\n"
	 "a=rtcp-mux\n"
	 "a=rtpmap:111 opus/48000/2\n"
	 "a=rtcp-fb:111 transport-cc\n"
	 "a=fmtp:111 minptime=10;useinbandfec=1\n"
	 "a=rtpmap:103 ISAC/16000\n"
	 "a=rtpmap:9 G722/8000\n"
	 "a=rtpmap:0 PCMU/8000\n"
	 "a=rtpmap:8 PCMA/8000\n"
	 "a=rtpmap:126 telephone-event/8000\n"
	 "m=video 9 UDP/TLS/RTP/SAVPF 96 97\n"
	 "c=IN IP4 0.0.0.0\n"
	 "a=mid:1\n"
	 "a=recvonly\n"
	 "a=rtpmap:96 VP8/90000\n"
	 "a=rtpmap:97 rtx/90000\n"
	 "a=fmtp:97 apt=96\n",
	 34, "-", 4611731400430051336u, 2, "127.0.0.1", NULL, 2,
	 {{"audio", 54609, 1, 6, "UDP/TLS/RTP/SAVPF", "203.0.113.7", SR, 0},
	  {"video", 9, 1, 2, "UDP/TLS/RTP/SAVPF", "0.0.0.0", RO, 0}}},
	{"ipv6-linphone",
	 "v=0\n"
	 "o=bob 3344 3345 IN IP6 2001:db8::7\n"
	 "s=Talk\n"
	 "c=IN IP6 2001:db8::7\n"
	 "b=AS:380\n"
	 "t=0 0\n"
	 "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics\n"
	 "m=audio 7078 RTP/AVP 96 97 98 0 8 101\n"
	 "a=rtpmap:96 opus/48000/2\n"
	 "a=fmtp:96 useinbandfec=1\n"
	 "a=rtpmap:97 SPEEX/16000\n"
	 "a=fmtp:97 vbr=on\n"
	 "a=rtpmap:98 SPEEX/8000\n"
	 "a=rtpmap:101 telephone-event/48000\n"
	 "a=ptime:20.0\n"
	 "a=sendonly\n",
	 16, "bob", 3344, 3345, "2001:db8::7", "2001:db8::7", 1,
	 {{"audio", 7078, 1, 6, "RTP/AVP", "2001:db8::7", SO, 20}}},
	{"lenient-order-spacing-unknown",
	 "v=0\n"
	 "c=IN IP4 192.0.2.9\n"
	 "t=0 0\n"
	 "o=carol  1 2  IN IP4 192.0.2.9 \n"
	 "s=\n"
	 "x=unknown letter kept\n"
	 "k=prompt\n"
	 "z=2882844526 -1h 2898848070 0\n"
	 "m=audio  4000/2   RTP/AVP  0  8 \n"
	 "i=first stream\n"
	 "c=IN IP4 224.2.1.1/127/3\n"
	 "c=IN IP4 224.2.1.9/127\n"
	 "a=inactive\n"
	 "m=video 4006 RTP/AVP 31\n"
	 "c=IN IP6 ff15::101/3\n"
	 "k=clear:secret\n"
	 "a=ptime:30\n"
	 "m=application 5000 udp wb\n"
	 "a=orient:portrait",
	 19, "carol", 1, 2, "192.0.2.9", "192.0.2.9", 3,
	 {{"audio", 4000, 2, 2, "RTP/AVP", "224.2.1.1", IA, 0},
	  {"video", 4006, 1, 1, "RTP/AVP", "ff15::101", SR, 30},
	  {"application", 5000, 1, 1, "udp", "192.0.2.9", SR, 0}}},
	{"trailing-blank-lines-no-s-no-t",
	 "v=0\n"
	 "o=mhandley 29739 7272939 IN IP4 192.0.2.1\n"
	 "c=IN IP4 192.0.2.1\n"
	 "m=audio 49217 RTP/AVP 0 12\n"
	 "\n\n",
	 4, "mhandley", 29739, 7272939, "192.0.2.1", "192.0.2.1", 1,
	 {{"audio", 49217, 1, 2, "RTP/AVP", "192.0.2.1", SR, 0}}},
	{"hold-rfc2543",
	 "v=0\n"
	 "o=- 5 6 IN IP4 198.51.100.1\n"
	 "s=-\n"
	 "c=IN IP4 0.0.0.0\n"
	 "t=0 0\n"
	 "m=audio 10000 RTP/AVP 8\n",
	 6, "-", 5, 6, "198.51.100.1", "0.0.0.0", 1,
	 {{"audio", 10000, 1, 1, "RTP/AVP", "0.0.0.0", SR, 0}}},
	{"session-only",
	 "v=0\r\no=- 0 0 IN IP4 h\r\ns=-\r\nt=0 0", 4, "-", 0, 0, "h", NULL, 0, {{0}}},
};

static void check_good(const struct good *g, const struct msg_sdp *s, const char *buf)
{
	assert_int_equal(s->nlines, g->nlines);
	assert_span(buf, s->origin.user, g->user);
	assert_true(s->origin.sess_id == g->id);
	assert_true(s->origin.sess_ver == g->ver);
	assert_span(buf, s->origin.nettype, "IN");
	assert_span(buf, s->origin.addr, g->oaddr);
	assert_int_equal(s->conn.present, g->caddr != NULL);
	if (g->caddr)
		assert_span(buf, s->conn.addr, g->caddr);
	assert_int_equal(s->nmedia, g->nmedia);
	for (unsigned i = 0; i < g->nmedia; i++) {
		const struct want_media *w = &g->m[i];
		const struct msg_sdp_media *m = &s->media[i];
		assert_span(buf, m->type, w->type);
		assert_int_equal(m->port, w->port);
		assert_int_equal(m->nports, w->nports);
		assert_int_equal(m->nfmts, w->nfmts);
		assert_span(buf, m->proto, w->proto);
		assert_int_equal(s->lines[m->line].type, 'm');
		const struct msg_sdp_conn *c = msg_sdp_conn(s, m);
		assert_int_equal(c != NULL, w->conn != NULL);
		if (c)
			assert_span(buf, c->addr, w->conn);
		assert_int_equal(msg_sdp_dir(s, m), w->dir);
		assert_int_equal(msg_sdp_ptime(s, m), w->ptime);
	}
}

static void test_good(void **state)
{
	(void)state;
	struct msg_sdp *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	assert_non_null(a);
	assert_non_null(b);
	for (size_t i = 0; i < ARRAY_SIZE(goods); i++) {
		const struct good *g = &goods[i];
		char *cr = crlf(g->sdp), *ba, *bb;
		print_message("good: %s\n", g->name);
		assert_int_equal(parse_n(a, g->sdp, strlen(g->sdp), &ba), 0);
		check_good(g, a, ba);
		assert_int_equal(parse_n(b, cr, strlen(cr), &bb), 0);
		check_good(g, b, bb);
		assert_true(msg_sdp_equal(a, b));
		size_t n;
		char *out = round_trip(a, &n);
		/* the printed form is the CRLF form, minus trailing blank lines */
		size_t crn = strlen(cr);
		while (crn >= 4 && memcmp(cr + crn - 4, "\r\n\r\n", 4) == 0)
			crn -= 2;
		if (crn >= 2 && memcmp(cr + crn - 2, "\r\n", 2) != 0) {
			/* no final line end in the input: the output adds one */
			assert_int_equal(n, crn + 2);
			assert_memory_equal(out, cr, crn);
		} else {
			assert_int_equal(n, crn);
			assert_memory_equal(out, cr, n);
		}
		free(out);
		free(ba);
		free(bb);
		free(cr);
	}
	free(a);
	free(b);
}

/* Typed details of the RFC 4566 example and the multicast/IPv6 connections. */
static void test_typed_fields(void **state)
{
	(void)state;
	struct msg_sdp s;
	char *buf;
	assert_int_equal(parse_n(&s, goods[0].sdp, strlen(goods[0].sdp), &buf), 0);
	assert_true(s.has_name);
	assert_span(buf, s.name, "SDP Seminar");
	assert_int_equal(s.conn.ttl, 127);
	assert_int_equal(s.conn.naddr, 1);
	assert_span(buf, s.conn.addrtype, "IP4");
	assert_int_equal(s.ntimes, 1);
	assert_true(s.times[0].start == 2873397496u && s.times[0].stop == 2873404696u);
	assert_int_equal(s.nattrs, 1);
	assert_span(buf, s.attrs[0].name, "recvonly");
	assert_false(s.attrs[0].has_value);
	assert_int_equal(s.lines[3].type, 'i');
	assert_span(buf, s.lines[4].value, "http://www.example.com/seminars/sdp.pdf");
	assert_int_equal(s.media[1].nattrs, 1);
	assert_int_equal(s.media[1].nlines, 2);
	assert_int_equal(s.media[1].pts[0], 99);
	free(buf);

	const struct good *g = &goods[4];
	assert_int_equal(parse_n(&s, g->sdp, strlen(g->sdp), &buf), 0);
	assert_int_equal(s.media[0].conn.ttl, 127);
	assert_int_equal(s.media[0].conn.naddr, 3);
	assert_int_equal(s.media[0].nlines, 5);
	assert_int_equal(s.media[1].conn.ttl, 0);
	assert_int_equal(s.media[1].conn.naddr, 3);
	assert_span(buf, s.media[1].conn.addrtype, "IP6");
	assert_int_equal(s.media[2].pts[0], MSG_SDP_NO_PT);
	assert_span(buf, s.media[2].fmts[0], "wb");
	assert_true(s.has_name);
	assert_int_equal(s.name.len, 0);
	free(buf);

	g = &goods[3];
	assert_int_equal(parse_n(&s, g->sdp, strlen(g->sdp), &buf), 0);
	assert_int_equal(s.nbw, 1);
	assert_span(buf, s.bws[0].type, "AS");
	assert_int_equal(s.bws[0].value, 380);
	free(buf);

	g = &goods[2];
	assert_int_equal(parse_n(&s, g->sdp, strlen(g->sdp), &buf), 0);
	assert_int_equal(s.media[0].nbw, 1);
	assert_int_equal(s.bws[s.media[0].bw0].value, 64);
	assert_int_equal(s.ntimes, 1);
	free(buf);
}

/* rtpmap, fmtp, static codecs, attribute iteration, hold. */
static void test_lookups(void **state)
{
	(void)state;
	struct msg_sdp s;
	struct msg_sdp_rtpmap r;
	struct span p;
	char *buf;
	const struct good *g = &goods[2];
	assert_int_equal(parse_n(&s, g->sdp, strlen(g->sdp), &buf), 0);
	const struct msg_sdp_media *a = &s.media[0], *v = &s.media[1];
	assert_int_equal(msg_sdp_rtpmap(&s, a, 111, &r), 0);
	assert_str(r.name, "opus");
	assert_int_equal(r.rate, 48000);
	assert_int_equal(r.channels, 2);
	assert_int_equal(msg_sdp_rtpmap(&s, a, 103, &r), 0);
	assert_int_equal(r.channels, 1);
	assert_int_equal(msg_sdp_rtpmap(&s, a, 96, &r), ENOENT); /* 96 is video's */
	assert_int_equal(msg_sdp_rtpmap(&s, v, 96, &r), 0);
	assert_str(r.name, "VP8");
	assert_true(msg_sdp_fmtp(&s, a, 111, &p));
	assert_span(buf, p, "minptime=10;useinbandfec=1");
	assert_false(msg_sdp_fmtp(&s, a, 103, &p));
	assert_true(msg_sdp_fmtp(&s, v, 97, &p));
	assert_span(buf, p, "apt=96");
	assert_int_equal(msg_sdp_fmt_codec(&s, a, 5, &r), 0);
	assert_str(r.name, "telephone-event");
	assert_int_equal(msg_sdp_fmt_codec(&s, a, 6, &r), ENOENT);
	const struct msg_sdp_attr *c = msg_sdp_attr_find(&s, a, "candidate", NULL);
	assert_non_null(c);
	assert_true(memcmp(buf + c->value.off, "842163049", 9) == 0);
	c = msg_sdp_attr_find(&s, a, "candidate", c);
	assert_non_null(c);
	assert_true(memcmp(buf + c->value.off, "1 1 udp", 7) == 0);
	assert_null(msg_sdp_attr_find(&s, a, "candidate", c));
	assert_null(msg_sdp_attr_find(&s, v, "candidate", c)); /* not of this section */
	assert_non_null(msg_sdp_attr_find(&s, NULL, "GROUP", NULL));
	assert_null(msg_sdp_attr_find(&s, NULL, "mid", NULL));
	assert_false(msg_sdp_held(&s, a));
	assert_true(msg_sdp_held(&s, v)); /* c=0.0.0.0 */
	free(buf);

	/* static payload types without rtpmap; a malformed rtpmap */
	static const char t[] = "v=0\no=- 1 1 IN IP4 h\nc=IN IP4 192.0.2.5\n"
				"m=audio 1 RTP/AVP 0 9 18 31 96 128 0008 08\na=rtpmap:31 LPC\n"
				"a=rtpmap:96 x/0\na=rtpmap:0 pcmu/8000/1\na=ptime:abc\n"
				"a=fmtp:18x annexb=no\na=fmtp:0 mode=1 \t\n";
	assert_int_equal(parse_n(&s, t, strlen(t), &buf), 0);
	a = &s.media[0];
	assert_int_equal(msg_sdp_fmt_codec(&s, a, 0, &r), 0);
	assert_str(r.name, "pcmu"); /* the rtpmap wins over the table */
	assert_int_equal(msg_sdp_fmt_codec(&s, a, 1, &r), 0);
	assert_str(r.name, "G722");
	assert_int_equal(r.rate, 8000);
	assert_int_equal(msg_sdp_fmt_codec(&s, a, 2, &r), 0);
	assert_str(r.name, "G729");
	assert_int_equal(msg_sdp_rtpmap(&s, a, 31, &r), EBADMSG);
	assert_int_equal(msg_sdp_fmt_codec(&s, a, 3, &r), ENOENT);
	assert_int_equal(msg_sdp_rtpmap(&s, a, 96, &r), EBADMSG);
	assert_int_equal(msg_sdp_ptime(&s, a), 0);
	assert_int_equal(a->pts[5], MSG_SDP_NO_PT); /* 128 */
	assert_int_equal(a->pts[6], MSG_SDP_NO_PT); /* 0008: too long for a PT */
	assert_int_equal(a->pts[7], 8);
	assert_false(msg_sdp_fmtp(&s, a, 18, &p)); /* "18x" is not 18 */
	assert_true(msg_sdp_fmtp(&s, a, 0, &p));
	assert_span(buf, p, "mode=1");
	assert_int_equal(msg_sdp_dir(&s, a), MSG_SDP_SENDRECV);
	assert_false(msg_sdp_held(&s, a));
	free(buf);
}

/* ---- malformed ---- */

struct bad {
	const char *name, *sdp;
	int rc;
	bool raw; /* do not also try a CRLF version */
};

#define HDR "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"

static const struct bad bads[] = {
	{"empty", "", EBADMSG, false},
	{"only-blank", "\n\n", EBADMSG, false},
	{"v=1", "v=1\no=- 1 1 IN IP4 h\n", EBADMSG, false},
	{"v=0-trailing-space", "v=0 \no=- 1 1 IN IP4 h\n", EBADMSG, false},
	{"no-v", "o=- 1 1 IN IP4 h\ns=-\n", EBADMSG, false},
	{"v-twice", "v=0\nv=0\no=- 1 1 IN IP4 h\n", EBADMSG, false},
	{"blank-first", "\nv=0\no=- 1 1 IN IP4 h\n", EBADMSG, false},
	{"blank-inside", "v=0\no=- 1 1 IN IP4 h\n\ns=-\n", EBADMSG, false},
	{"not-x=", HDR "testing=123\n", EBADMSG, false},
	{"space-before-=", HDR "m =video 3227 RTP/AVP 31\n", EBADMSG, false},
	{"no-type", HDR "=x\n", EBADMSG, false},
	{"digit-type", HDR "1=x\n", EBADMSG, false},
	{"one-char", HDR "a\n", EBADMSG, false},
	{"nul-in-line", "v=0\no=- 1 1 IN IP4 h\ns=a\0b\n", EBADMSG, true},
	{"bare-cr-in-line", "v=0\r\no=- 1 1 IN IP4 h\r\ns=a\rb\r\n", EBADMSG, true},
	{"cr-cr-lf", "v=0\r\no=- 1 1 IN IP4 h\r\r\n", EBADMSG, true},
	{"no-o", "v=0\ns=-\nc=IN IP4 h\nt=0 0\n", EBADMSG, false},
	{"m-before-o", "v=0\nm=audio 1 RTP/AVP 0\no=- 1 1 IN IP4 h\n", EBADMSG, false},
	{"o-5-fields", "v=0\no=- 1 1 IN IP4\n", EBADMSG, false},
	{"o-7-fields", "v=0\no=- 1 1 IN IP4 h x\n", EBADMSG, false},
	{"o-id-not-number", "v=0\no=- 1a 1 IN IP4 h\n", EBADMSG, false},
	{"o-ver-overflow", "v=0\no=- 1 18446744073709551616 IN IP4 h\n", EBADMSG, false},
	{"o-twice", HDR "o=- 1 1 IN IP4 h\n", EBADMSG, false},
	{"s-twice", HDR "s=again\n", EBADMSG, false},
	{"s-in-media", HDR "m=audio 1 RTP/AVP 0\ns=-\n", EBADMSG, false},
	{"t-in-media", HDR "m=audio 1 RTP/AVP 0\nt=0 0\n", EBADMSG, false},
	{"o-in-media", HDR "m=audio 1 RTP/AVP 0\no=- 1 1 IN IP4 h\n", EBADMSG, false},
	{"u-in-media", HDR "m=audio 1 RTP/AVP 0\nu=http://x\n", EBADMSG, false},
	{"z-in-media", HDR "m=audio 1 RTP/AVP 0\nz=0 0\n", EBADMSG, false},
	{"r-before-t", "v=0\no=- 1 1 IN IP4 h\nr=7d 1h 0 25h\n", EBADMSG, false},
	{"port-not-number", HDR "m=audio abc RTP/AVP 0\n", EBADMSG, false},
	{"port-too-big", HDR "m=audio 65536 RTP/AVP 0\n", EBADMSG, false},
	{"port-negative", HDR "m=audio -1 RTP/AVP 0\n", EBADMSG, false},
	{"nports-zero", HDR "m=audio 1/0 RTP/AVP 0\n", EBADMSG, false},
	{"nports-empty", HDR "m=audio 1/ RTP/AVP 0\n", EBADMSG, false},
	{"m-no-format", HDR "m=audio 1 RTP/AVP\n", EBADMSG, false},
	{"c-2-fields", "v=0\no=- 1 1 IN IP4 h\nc=IN IP4\n", EBADMSG, false},
	{"c-4-fields", "v=0\no=- 1 1 IN IP4 h\nc=IN IP4 a b\n", EBADMSG, false},
	{"c-ttl-256", "v=0\no=- 1 1 IN IP4 h\nc=IN IP4 224.2.1.1/256\n", EBADMSG, false},
	{"c-ttl-empty", "v=0\no=- 1 1 IN IP4 h\nc=IN IP4 224.2.1.1/\n", EBADMSG, false},
	{"c-no-addr", "v=0\no=- 1 1 IN IP4 h\nc=IN IP4 /127\n", EBADMSG, false},
	{"c-ip6-two-slashes", "v=0\no=- 1 1 IN IP4 h\nc=IN IP6 ff15::1/3/2\n", EBADMSG, false},
	{"c-three-slashes", "v=0\no=- 1 1 IN IP4 h\nc=IN IP4 224.2.1.1/1/2/3\n", EBADMSG, false},
	{"c-session-twice", HDR "c=IN IP4 192.0.2.2\n", EBADMSG, false},
	{"t-one-field", "v=0\no=- 1 1 IN IP4 h\nt=0\n", EBADMSG, false},
	{"t-not-number", "v=0\no=- 1 1 IN IP4 h\nt=now 0\n", EBADMSG, false},
	{"b-no-colon", HDR "b=AS\n", EBADMSG, false},
	{"b-no-type", HDR "b=:64\n", EBADMSG, false},
	{"b-not-number", HDR "b=AS:x\n", EBADMSG, false},
	{"a-empty", HDR "a=\n", EBADMSG, false},
	{"a-no-name", HDR "a=:foo\n", EBADMSG, false},
	{"a-space-in-name", HDR "a=send recv\n", EBADMSG, false},
	{"dblreq-second-message", "\r\nINVITE sip:joe@example.com SIP/2.0\r\n", EBADMSG, true},
};

static void test_bad(void **state)
{
	(void)state;
	struct msg_sdp s;
	for (size_t i = 0; i < ARRAY_SIZE(bads); i++) {
		const struct bad *b = &bads[i];
		char *buf;
		/* inputs with a NUL carry their length in the literal: use strlen up to
		 * the last "\n" for them */
		size_t n = strlen(b->sdp);
		if (strcmp(b->name, "nul-in-line") == 0)
			n = sizeof("v=0\no=- 1 1 IN IP4 h\ns=a\0b\n") - 1;
		print_message("bad: %s\n", b->name);
		assert_int_equal(parse_n(&s, b->sdp, n, &buf), b->rc);
		free(buf);
		if (b->raw)
			continue;
		char *cr = crlf(b->sdp);
		assert_int_equal(parse_n(&s, cr, strlen(cr), &buf), b->rc);
		free(buf);
		free(cr);
	}
}

/* ---- limits ---- */

/* head, then `count` lines "<pre><index><post>", then tail. */
static char *repeat(const char *head, const char *pre, const char *post, unsigned count,
		    const char *tail)
{
	size_t cap = 200000, n = 0;
	char *b = malloc(cap);
	assert_non_null(b);
	n += (size_t)snprintf(b + n, cap - n, "%s", head);
	for (unsigned i = 0; i < count; i++)
		n += (size_t)snprintf(b + n, cap - n, "%s%u%s", pre, i, post);
	snprintf(b + n, cap - n, "%s", tail);
	return b;
}

struct limit {
	const char *name, *head, *pre, *post, *tail;
	unsigned max; /* max copies accepted; max + 1 gives EMSGSIZE */
};

#define LHDR "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"

static const struct limit limits[] = {
	{"media", LHDR, "m=audio ", " RTP/AVP 0\r\n", "", MSG_SDP_MAX_MEDIA},
	{"session-attrs", LHDR, "a=x", "\r\n", "", MSG_SDP_MAX_ATTRS},
	{"media-attrs", LHDR "m=audio 1 RTP/AVP 0\r\n", "a=rtcp-fb:", " nack\r\n",
	 "m=audio 3 RTP/AVP 0\r\na=y\r\n", MSG_SDP_MAX_ATTRS},
	{"formats", LHDR "m=audio 1 RTP/AVP", " ", "", "\r\n", MSG_SDP_MAX_FMTS},
	{"lines", LHDR, "x=", "\r\n", "", MSG_SDP_MAX_LINES - 5},
	{"session-bw", LHDR, "b=X", ":1\r\n", "", MSG_SDP_MAX_BW},
	{"media-bw", LHDR "m=audio 1 RTP/AVP 0\r\n", "b=X", ":1\r\n", "", MSG_SDP_MAX_BW},
	{"times", "v=0\r\no=- 1 1 IN IP4 h\r\n", "t=", " 0\r\n", "", MSG_SDP_MAX_TIMES},
};

static void test_limits(void **state)
{
	(void)state;
	struct msg_sdp *s = malloc(sizeof(*s));
	assert_non_null(s);
	for (size_t i = 0; i < ARRAY_SIZE(limits); i++) {
		const struct limit *l = &limits[i];
		char *buf;
		print_message("limit: %s\n", l->name);
		char *ok = repeat(l->head, l->pre, l->post, l->max, l->tail);
		assert_int_equal(parse_n(s, ok, strlen(ok), &buf), 0);
		size_t n;
		free(round_trip(s, &n));
		free(buf);
		char *over = repeat(l->head, l->pre, l->post, l->max + 1, l->tail);
		assert_int_equal(parse_n(s, over, strlen(over), &buf), EMSGSIZE);
		free(buf);
		free(ok);
		free(over);
	}
	free(s);
}

/* Every prefix of every good input: 0 or EBADMSG, never an over-read; a
 * prefix that parses round-trips. */
static void test_truncation(void **state)
{
	(void)state;
	struct msg_sdp *s = malloc(sizeof(*s));
	assert_non_null(s);
	for (size_t i = 0; i < ARRAY_SIZE(goods); i++) {
		char *cr = crlf(goods[i].sdp);
		size_t len = strlen(cr);
		unsigned ok = 0;
		for (size_t n = 0; n <= len; n++) {
			char *buf;
			int rc = parse_n(s, cr, n, &buf);
			if (rc != 0 && rc != EBADMSG)
				fail_msg("%s: prefix %zu gave %d", goods[i].name, n, rc);
			if (rc == 0) {
				size_t m;
				free(round_trip(s, &m));
				ok++;
			}
			free(buf);
		}
		assert_true(ok > 0);
		free(cr);
	}
	free(s);
}

/* Printing into too small a buffer is EMSGSIZE at every size; equal() can say no. */
static void test_print_limits(void **state)
{
	(void)state;
	struct msg_sdp a, b;
	char *ba, *bb, out[2048];
	size_t need, n;
	char *cr = crlf(goods[1].sdp);
	assert_int_equal(parse_n(&a, cr, strlen(cr), &ba), 0);
	assert_int_equal(msg_sdp_print(&a, out, sizeof(out), &need), 0);
	assert_int_equal(need, strlen(cr));
	for (size_t cap = 0; cap < need; cap++)
		assert_int_equal(msg_sdp_print(&a, out, cap, &n), EMSGSIZE);
	/* one byte changed in an attribute value */
	cr[strlen(cr) - 3] = '1';
	assert_int_equal(parse_n(&b, cr, strlen(cr), &bb), 0);
	assert_false(msg_sdp_equal(&a, &b));
	assert_true(msg_sdp_equal(&a, &a));
	free(ba);
	free(bb);
	free(cr);
}

/* ---- torture corpus ---- */

static char *read_file(const char *dir, const char *name, size_t *len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	char *b = malloc(65536);
	assert_non_null(b);
	*len = fread(b, 1, 65536, f);
	fclose(f);
	return b;
}

struct torture {
	const char *file;
	int rc;
	unsigned nmedia;
	const char *addr0; /* effective connection address of media 0 */
};

static const struct torture tortures[] = {
	{"rfc4475/sdp01.dat", 0, 2, "192.0.2.5"},
	{"rfc4475/multi01.dat", 0, 2, "192.0.2.25"}, /* trailing blank line */
	{"rfc4475/inv2543.dat", 0, 1, "192.0.2.5"},
	{"rfc4475/mismatch02.dat", 0, 2, "192.0.2.1"}, /* no s= nor t= */
	{"rfc4475/wsinv.dat", 0, 2, "192.0.2.4"},
	{"rfc4475/test.dat", EBADMSG, 0, NULL},    /* "testing=123" */
	{"rfc4475/dblreq.dat", EBADMSG, 0, NULL},  /* a second message, not SDP */
	{"rfc5118/ipv6-in-sdp.dat", 0, 2, "2001:db8::20"},
	{"rfc5118/mult-ip-in-sdp.dat", 0, 2, "192.0.2.1"},
	{"rfc5118/ipv4-mapped-ipv6.dat", 0, 2, "::ffff:192.0.2.2"},
};

static void test_torture(void **state)
{
	(void)state;
	const char *dir = getenv("RINGLET_TORTURE");
	if (!dir)
		skip();
	struct msg_sdp s;
	for (size_t i = 0; i < ARRAY_SIZE(tortures); i++) {
		const struct torture *t = &tortures[i];
		size_t len;
		char *file = read_file(dir, t->file, &len);
		char *body = memmem(file, len, "\r\n\r\n", 4);
		assert_non_null(body);
		body += 4;
		size_t n = len - (size_t)(body - file);
		char *buf;
		print_message("torture: %s\n", t->file);
		assert_int_equal(parse_n(&s, body, n, &buf), t->rc);
		if (t->rc == 0) {
			assert_int_equal(s.nmedia, t->nmedia);
			const struct msg_sdp_conn *c = msg_sdp_conn(&s, &s.media[0]);
			assert_non_null(c);
			assert_span(buf, c->addr, t->addr0);
			free(round_trip(&s, &n));
		}
		free(buf);
		free(file);
	}
	/* RFC 5118 §4.5: one IPv4 and one IPv6 stream */
	size_t len;
	char *file = read_file(dir, "rfc5118/mult-ip-in-sdp.dat", &len);
	char *body = (char *)memmem(file, len, "\r\n\r\n", 4) + 4;
	assert_int_equal(msg_sdp_parse(&s, file, span_from(file, body, file + len)), 0);
	assert_false(s.conn.present);
	assert_span(file, s.media[1].conn.addrtype, "IP6");
	assert_span(file, s.media[1].conn.addr, "2001:db8::1");
	assert_int_equal(s.name.len, 0);
	free(file);
}

/* ---- builder ---- */

static const struct msg_sdp_codec pcmu = {0, MSG_SDP_LIT("PCMU"), 8000, 1, {NULL, 0}};
static const struct msg_sdp_codec pcma = {8, MSG_SDP_LIT("PCMA"), 8000, 0, {NULL, 0}};
static const struct msg_sdp_codec te = {101, MSG_SDP_LIT("telephone-event"), 8000, 1,
					MSG_SDP_LIT("0-16")};
static const struct msg_sdp_codec opus = {111, MSG_SDP_LIT("opus"), 48000, 2,
					  MSG_SDP_LIT("useinbandfec=1")};

static void build_basic(struct msg_sdp_desc *d)
{
	memset(d, 0, sizeof(*d));
	d->user = msg_sdp_str("ringlet");
	d->sess_id = 42;
	d->sess_ver = 18446744073709551615u;
	d->addr = msg_sdp_str("192.0.2.10");
	d->nmedia = 1;
	struct msg_sdp_desc_media *m = &d->media[0];
	m->type = msg_sdp_str("audio");
	m->port = 40000;
	m->ncodecs = 3;
	m->codecs[0] = pcmu;
	m->codecs[1] = pcma;
	m->codecs[2] = te;
	m->ptime = 20;
	m->dir = MSG_SDP_SENDRECV;
}

static void test_build(void **state)
{
	(void)state;
	struct msg_sdp_desc d;
	char out[4096];
	size_t n;
	build_basic(&d);
	assert_int_equal(msg_sdp_desc_print(&d, out, sizeof(out), &n), 0);
	static const char want1[] = "v=0\r\n"
				    "o=ringlet 42 18446744073709551615 IN IP4 192.0.2.10\r\n"
				    "s=-\r\n"
				    "c=IN IP4 192.0.2.10\r\n"
				    "t=0 0\r\n"
				    "m=audio 40000 RTP/AVP 0 8 101\r\n"
				    "a=rtpmap:0 PCMU/8000\r\n"
				    "a=rtpmap:8 PCMA/8000\r\n"
				    "a=rtpmap:101 telephone-event/8000\r\n"
				    "a=fmtp:101 0-16\r\n"
				    "a=ptime:20\r\n"
				    "a=sendrecv\r\n";
	assert_int_equal(n, sizeof(want1) - 1);
	assert_memory_equal(out, want1, n);
	for (size_t cap = 0; cap < n; cap++) {
		size_t k;
		assert_int_equal(msg_sdp_desc_print(&d, out, cap, &k), EMSGSIZE);
	}

	/* IPv6, default user and proto, per-media connection, a rejected stream */
	d.user = msg_sdp_str(NULL);
	d.sess_ver = 0;
	d.addr = msg_sdp_str("2001:db8::10");
	d.name = msg_sdp_str("call");
	d.nmedia = 2;
	struct msg_sdp_desc_media *m = &d.media[0];
	m->ncodecs = 2;
	m->codecs[0] = opus;
	m->codecs[1] = pcma;
	m->ptime = 0;
	m->dir = MSG_SDP_SENDONLY;
	m->addr = msg_sdp_str("192.0.2.11");
	m->nattrs = 2;
	m->attrs[0] = msg_sdp_str("rtcp-mux");
	m->attrs[1] = msg_sdp_str("label:1");
	m = &d.media[1];
	memset(m, 0, sizeof(*m));
	m->type = msg_sdp_str("video");
	m->proto = msg_sdp_str("RTP/AVPF");
	m->fmt = msg_sdp_str("31 34");
	assert_int_equal(msg_sdp_desc_print(&d, out, sizeof(out), &n), 0);
	static const char want2[] = "v=0\r\n"
				    "o=- 42 0 IN IP6 2001:db8::10\r\n"
				    "s=call\r\n"
				    "c=IN IP6 2001:db8::10\r\n"
				    "t=0 0\r\n"
				    "m=audio 40000 RTP/AVP 111 8\r\n"
				    "c=IN IP4 192.0.2.11\r\n"
				    "a=rtpmap:111 opus/48000/2\r\n"
				    "a=fmtp:111 useinbandfec=1\r\n"
				    "a=rtpmap:8 PCMA/8000\r\n"
				    "a=sendonly\r\n"
				    "a=rtcp-mux\r\n"
				    "a=label:1\r\n"
				    "m=video 0 RTP/AVPF 31 34\r\n";
	assert_int_equal(n, sizeof(want2) - 1);
	assert_memory_equal(out, want2, n);

	/* the output parses and reads back */
	struct msg_sdp s;
	char *buf;
	struct msg_sdp_rtpmap r;
	assert_int_equal(parse_n(&s, out, n, &buf), 0);
	assert_int_equal(s.nmedia, 2);
	assert_int_equal(msg_sdp_rtpmap(&s, &s.media[0], 111, &r), 0);
	assert_int_equal(r.channels, 2);
	assert_int_equal(msg_sdp_dir(&s, &s.media[0]), MSG_SDP_SENDONLY);
	assert_int_equal(s.media[1].port, 0);
	free(buf);
}

/* What makes a description unprintable: EINVAL, nothing written. */
static void test_build_invalid(void **state)
{
	(void)state;
	struct msg_sdp_desc d;
	char out[4096];
	size_t n;
	for (int i = 0; i < 16; i++) {
		build_basic(&d);
		struct msg_sdp_desc_media *m = &d.media[0];
		switch (i) {
		case 0:
			d.addr = msg_sdp_str(NULL);
			break;
		case 1:
			d.addr = msg_sdp_str("192.0.2.1 x");
			break;
		case 2:
			d.name = msg_sdp_str("a\r\nm=video 1 RTP/AVP 0");
			break;
		case 3:
			d.user = msg_sdp_str("us er");
			break;
		case 4:
			d.nmedia = MSG_SDP_MAX_MEDIA + 1;
			break;
		case 5:
			m->ncodecs = MSG_SDP_MAX_FMTS + 1;
			break;
		case 6:
			m->ncodecs = 0; /* and no fmt */
			break;
		case 7:
			m->codecs[0].name = msg_sdp_str("PC/MU");
			break;
		case 8:
			m->codecs[0].pt = 128;
			break;
		case 9:
			m->codecs[0].rate = 0;
			break;
		case 10:
			m->codecs[2].fmtp = msg_sdp_str("0-16\n");
			break;
		case 11:
			m->nattrs = 1;
			m->attrs[0] = msg_sdp_str("send recv");
			break;
		case 12:
			m->type = msg_sdp_str("");
			break;
		case 13:
			m->addr = msg_sdp_str("224.2.1.1/127");
			break;
		case 14:
			m->ncodecs = 0;
			m->fmt = msg_sdp_str(" 0");
			break;
		case 15:
			m->dir = (enum msg_sdp_dir)7;
			break;
		}
		print_message("invalid desc %d\n", i);
		assert_int_equal(msg_sdp_desc_print(&d, out, sizeof(out), &n), EINVAL);
		assert_int_equal(n, 0);
	}
}

/* ---- offer/answer ---- */

static const struct msg_sdp_codec local_codecs[] = {
	{0, MSG_SDP_LIT("PCMU"), 8000, 1, {NULL, 0}},
	{8, MSG_SDP_LIT("PCMA"), 8000, 1, {NULL, 0}},
	{9, MSG_SDP_LIT("G722"), 8000, 1, {NULL, 0}},
	{96, MSG_SDP_LIT("opus"), 48000, 2, {NULL, 0}},
	{101, MSG_SDP_LIT("telephone-event"), 8000, 1, MSG_SDP_LIT("0-15")},
	{13, MSG_SDP_LIT("CN"), 8000, 1, {NULL, 0}},
};

#define OHDR "v=0\no=alice 2890844526 2890844526 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
#define AHDR "v=0\no=ringlet 7 8 IN IP4 192.0.2.99\ns=-\nc=IN IP4 192.0.2.99\nt=0 0\n"
#define AUDIO_A "a=ptime:20\n"

struct oa {
	const char *name, *offer, *answer;
	bool held; /* msg_sdp_held on the offer's first stream */
};

static const struct oa oas[] = {
	{"basic", OHDR "m=audio 49170 RTP/AVP 0 8 101\na=rtpmap:0 PCMU/8000\n"
		       "a=rtpmap:8 PCMA/8000\na=rtpmap:101 telephone-event/8000\n"
		       "a=fmtp:101 0-16\na=ptime:20\na=sendrecv\n",
	 AHDR "m=audio 30000 RTP/AVP 0 8 101\na=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000\n"
	      "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\n" AUDIO_A "a=sendrecv\n",
	 false},
	{"offerer-order-static-no-rtpmap", OHDR "m=audio 49170 RTP/AVP 18 8 3 9 0\n",
	 AHDR "m=audio 30000 RTP/AVP 8 9 0\na=rtpmap:8 PCMA/8000\na=rtpmap:9 G722/8000\n"
	      "a=rtpmap:0 PCMU/8000\n" AUDIO_A "a=sendrecv\n",
	 false},
	{"dynamic-pt-preserved-case-insensitive",
	 OHDR "m=audio 49170 RTP/AVP 120 121 122 8\na=rtpmap:120 OPUS/48000/2\n"
	      "a=fmtp:120 maxplaybackrate=16000\na=rtpmap:121 telephone-event/48000\n"
	      "a=rtpmap:122 Telephone-Event/8000\n",
	 AHDR "m=audio 30000 RTP/AVP 120 122 8\na=rtpmap:120 OPUS/48000/2\n"
	      "a=fmtp:120 maxplaybackrate=16000\na=rtpmap:122 Telephone-Event/8000\n"
	      "a=fmtp:122 0-15\na=rtpmap:8 PCMA/8000\n" AUDIO_A "a=sendrecv\n",
	 false},
	{"opus-mono-not-matched", OHDR "m=audio 1 RTP/AVP 96 0\na=rtpmap:96 opus/48000\n",
	 AHDR "m=audio 30000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n" AUDIO_A "a=sendrecv\n", false},
	{"dtmf-and-cn-alone-rejected",
	 OHDR "m=audio 49170 RTP/AVP 18 101 13\na=rtpmap:101 telephone-event/8000\n",
	 AHDR "m=audio 0 RTP/AVP 18\n", false},
	{"video-rejected-audio-kept",
	 OHDR "m=video 51372 RTP/AVP 31 99\na=rtpmap:99 H264/90000\nm=audio 49170 RTP/AVP 0\n",
	 AHDR "m=video 0 RTP/AVP 31\nm=audio 30000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n" AUDIO_A
	      "a=sendrecv\n",
	 false},
	{"port-zero-stays-rejected", OHDR "m=audio 0 RTP/AVP 0\nm=audio 5000 RTP/AVP 8\n",
	 AHDR "m=audio 0 RTP/AVP 0\nm=audio 30000 RTP/AVP 8\na=rtpmap:8 PCMA/8000\n" AUDIO_A
	      "a=sendrecv\n",
	 false},
	{"two-audio-streams", OHDR "m=audio 5000 RTP/AVP 0\nm=audio 5002 RTP/AVP 8\n",
	 AHDR "m=audio 30000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n" AUDIO_A "a=sendrecv\n"
	      "m=audio 30002 RTP/AVP 8\na=rtpmap:8 PCMA/8000\n" AUDIO_A "a=sendrecv\n",
	 false},
	{"sendonly-hold", OHDR "m=audio 5000 RTP/AVP 0\na=sendonly\n",
	 AHDR "m=audio 30000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n" AUDIO_A "a=recvonly\n", true},
	{"recvonly", OHDR "m=audio 5000 RTP/AVP 0\na=recvonly\n",
	 AHDR "m=audio 30000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n" AUDIO_A "a=sendonly\n", false},
	{"inactive", OHDR "a=inactive\nm=audio 5000 RTP/AVP 0\n",
	 AHDR "m=audio 30000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n" AUDIO_A "a=inactive\n", true},
	{"session-sendonly-media-overrides",
	 OHDR "a=sendonly\nm=audio 5000 RTP/AVP 0\na=sendrecv\n",
	 AHDR "m=audio 30000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n" AUDIO_A "a=sendrecv\n", false},
	{"rfc2543-hold", "v=0\no=- 1 2 IN IP4 192.0.2.1\ns=-\nc=IN IP4 0.0.0.0\nt=0 0\n"
			 "m=audio 5000 RTP/AVP 0\n",
	 AHDR "m=audio 30000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n" AUDIO_A "a=recvonly\n", true},
	{"srtp-rejected", OHDR "m=audio 5000 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 x\n",
	 AHDR "m=audio 0 RTP/SAVP 0\n", false},
	{"t38-rejected", OHDR "m=image 9 udptl t38\n", AHDR "m=image 0 udptl t38\n", false},
	{"duplicate-format-once", OHDR "m=audio 5000 RTP/AVP 0 0 8\n",
	 AHDR "m=audio 30000 RTP/AVP 0 8\na=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000\n" AUDIO_A
	      "a=sendrecv\n",
	 false},
	{"ipv6-offer", "v=0\no=- 1 1 IN IP6 2001:db8::20\ns=-\nc=IN IP6 2001:db8::20\nt=0 0\n"
		       "m=audio 6000 RTP/AVP 2 0\na=rtpmap:2 G726-32/8000\n",
	 AHDR "m=audio 30000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n" AUDIO_A "a=sendrecv\n", false},
	{"no-streams", OHDR, AHDR, false},
};

static void test_offer_answer(void **state)
{
	(void)state;
	struct msg_sdp_local local = {local_codecs, ARRAY_SIZE(local_codecs), 30000, 20};
	struct msg_sdp *o = malloc(sizeof(*o)), *a = malloc(sizeof(*a));
	struct msg_sdp_desc *d = malloc(sizeof(*d));
	char out[4096];
	size_t n;
	assert_non_null(o);
	assert_non_null(a);
	assert_non_null(d);
	for (size_t i = 0; i < ARRAY_SIZE(oas); i++) {
		const struct oa *t = &oas[i];
		char *buf, *want = crlf(t->answer);
		print_message("offer/answer: %s\n", t->name);
		assert_int_equal(parse_n(o, t->offer, strlen(t->offer), &buf), 0);
		if (o->nmedia)
			assert_int_equal(msg_sdp_held(o, &o->media[0]), t->held);
		memset(d, 0xa5, sizeof(*d)); /* answer must not depend on prior contents */
		d->user = msg_sdp_str("ringlet");
		d->sess_id = 7;
		d->sess_ver = 8;
		d->addr = msg_sdp_str("192.0.2.99");
		d->name = msg_sdp_str(NULL);
		assert_int_equal(msg_sdp_answer(o, &local, d), 0);
		assert_int_equal(d->nmedia, o->nmedia);
		assert_int_equal(msg_sdp_desc_print(d, out, sizeof(out), &n), 0);
		if (n != strlen(want) || memcmp(out, want, n) != 0)
			fail_msg("answer:\n%.*s\nwant:\n%s", (int)n, out, want);
		char *abuf;
		assert_int_equal(parse_n(a, out, n, &abuf), 0);
		assert_int_equal(a->nmedia, o->nmedia);
		free(abuf);
		free(buf);
		free(want);
	}
	/* bad arguments */
	char *buf;
	assert_int_equal(parse_n(o, oas[0].offer, strlen(oas[0].offer), &buf), 0);
	local.port = 0;
	assert_int_equal(msg_sdp_answer(o, &local, d), EINVAL);
	free(buf);
	free(o);
	free(a);
	free(d);
}

/* Which codec the answer to our offer chose. */
struct chosen {
	const char *name, *answer;
	bool rejected;
	int codec, pt, dtmf;
	enum msg_sdp_dir dir;
};

static const struct msg_sdp_codec ours[] = {
	{0, MSG_SDP_LIT("PCMU"), 8000, 1, {NULL, 0}},
	{8, MSG_SDP_LIT("PCMA"), 8000, 1, {NULL, 0}},
	{96, MSG_SDP_LIT("opus"), 48000, 2, {NULL, 0}},
	{101, MSG_SDP_LIT("telephone-event"), 8000, 1, {NULL, 0}},
};

static const struct chosen chosens[] = {
	{"static", OHDR "m=audio 5000 RTP/AVP 8 101\na=rtpmap:101 telephone-event/8000\n", false,
	 1, 8, 101, SR},
	{"dtmf-listed-first", OHDR "m=audio 5000 RTP/AVP 101 0 8\n", false, 0, 0, 101, SR},
	{"opus-renumbered", OHDR "m=audio 5000 RTP/AVP 111 0\na=rtpmap:111 opus/48000/2\n"
				 "a=recvonly\n",
	 false, 2, 111, -1, RO},
	{"dynamic-without-rtpmap", OHDR "m=audio 5000 RTP/AVP 96\n", false, 2, 96, -1, SR},
	{"port-zero", OHDR "m=audio 0 RTP/AVP 0\n", true, -1, 0, -1, SR},
	{"nothing-of-ours", OHDR "m=audio 5000 RTP/AVP 18 97\na=rtpmap:97 iLBC/8000\n", true, -1,
	 0, -1, SR},
	{"only-dtmf", OHDR "m=audio 5000 RTP/AVP 101\na=inactive\n", true, -1, 0, 101, IA},
};

static void test_chosen(void **state)
{
	(void)state;
	struct msg_sdp s;
	struct msg_sdp_choice c[2];
	for (size_t i = 0; i < ARRAY_SIZE(chosens); i++) {
		const struct chosen *t = &chosens[i];
		char *buf;
		print_message("chosen: %s\n", t->name);
		assert_int_equal(parse_n(&s, t->answer, strlen(t->answer), &buf), 0);
		assert_int_equal(msg_sdp_chosen(&s, ours, ARRAY_SIZE(ours), c, 2), 0);
		assert_int_equal(c[0].rejected, t->rejected);
		assert_int_equal(c[0].codec, t->codec);
		assert_int_equal(c[0].pt, t->pt);
		assert_int_equal(c[0].dtmf_pt, t->dtmf);
		assert_int_equal(c[0].dir, t->dir);
		assert_int_equal(msg_sdp_chosen(&s, ours, ARRAY_SIZE(ours), c, 0), EMSGSIZE);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_typed_fields),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_print_limits),
		cmocka_unit_test(test_torture),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_build_invalid),
		cmocka_unit_test(test_offer_answer),
		cmocka_unit_test(test_chosen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
