/*
 * test_rtp.c - RTP packets (RFC 3550 §5.1) and RTCP compounds (§6):
 * build/parse round trips with CSRCs, extension and padding; malformed
 * packets of every kind; each packet placed at the end of a buffer followed
 * by an unreadable page, so any over-read crashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ringlet/rtp.h"

/* A copy of p[0 .. n) that ends right before a PROT_NONE page. */
struct guard {
	uint8_t *map;
	size_t maplen;
	uint8_t *p;
};

static void guard_put(struct guard *g, const uint8_t *p, size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	g->maplen = ((n + pg - 1) / pg + 1) * pg;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->map != MAP_FAILED);
	assert_int_equal(mprotect(g->map + g->maplen - pg, pg, PROT_NONE), 0);
	g->p = g->map + g->maplen - pg - n;
	if (n)
		memcpy(g->p, p, n);
}

static void guard_free(struct guard *g)
{
	munmap(g->map, g->maplen);
}

static int parse_guarded(const uint8_t *p, size_t n, struct rtp_hdr *h)
{
	struct guard g;
	guard_put(&g, p, n);
	int rc = rtp_parse(g.p, n, h);
	guard_free(&g);
	return rc;
}

static void rtp_minimal(void **state)
{
	(void)state;
	static const uint8_t pkt[] = {0x80, 0x00, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef,
				      0x01, 0x02, 0x03, 0x04, 0xff, 0xfe};
	struct rtp_hdr h;
	assert_int_equal(parse_guarded(pkt, sizeof(pkt), &h), 0);
	assert_false(h.marker);
	assert_int_equal(h.pt, 0);
	assert_int_equal(h.seq, 0x1234);
	assert_int_equal(h.ts, 0xdeadbeef);
	assert_int_equal(h.ssrc, 0x01020304);
	assert_int_equal(h.cc, 0);
	assert_false(h.ext);
	assert_int_equal(h.pad, 0);
	assert_int_equal(h.payload_off, 12);
	assert_int_equal(h.payload_len, 2);
	/* header only, marker and PCMA */
	static const uint8_t hdr[] = {0x80, 0x88, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3};
	assert_int_equal(parse_guarded(hdr, sizeof(hdr), &h), 0);
	assert_true(h.marker);
	assert_int_equal(h.pt, 8);
	assert_int_equal(h.payload_len, 0);
}

static void rtp_round_trip(void **state)
{
	(void)state;
	uint8_t pay[160], ext[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[400];
	for (unsigned i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)(i * 7);
	for (unsigned cc = 0; cc <= RTP_MAX_CSRC; cc += 5) {
		for (int x = 0; x < 2; x++) {
			for (unsigned pad = 0; pad <= 4; pad += 3) {
				struct rtp_hdr h = {.marker = cc & 1, .pt = 96, .seq = 65535,
						    .ts = 0xfffffff0u, .ssrc = 0xcafe, .cc = (uint8_t)cc,
						    .ext = x, .ext_profile = 0xbede, .ext_words = 2,
						    .pad = (uint8_t)pad};
				for (unsigned i = 0; i < cc; i++)
					h.csrc[i] = 1000 + i;
				size_t len;
				assert_int_equal(rtp_build(&h, ext, pay, sizeof(pay), out, sizeof(out),
							   &len), 0);
				assert_int_equal(len, 12 + 4 * cc + (x ? 12 : 0) + 160 + pad);
				struct rtp_hdr g;
				assert_int_equal(parse_guarded(out, len, &g), 0);
				assert_int_equal(g.marker, h.marker);
				assert_int_equal(g.pt, 96);
				assert_int_equal(g.seq, 65535);
				assert_int_equal(g.ts, 0xfffffff0u);
				assert_int_equal(g.ssrc, 0xcafe);
				assert_int_equal(g.cc, cc);
				for (unsigned i = 0; i < cc; i++)
					assert_int_equal(g.csrc[i], 1000 + i);
				assert_int_equal(g.ext, x);
				if (x) {
					assert_int_equal(g.ext_profile, 0xbede);
					assert_int_equal(g.ext_words, 2);
					assert_memory_equal(out + g.ext_off, ext, 8);
				}
				assert_int_equal(g.pad, pad);
				assert_int_equal(g.payload_len, 160);
				assert_memory_equal(out + g.payload_off, pay, 160);
			}
		}
	}
}

static void rtp_build_errors(void **state)
{
	(void)state;
	uint8_t out[200], pay[160] = {0};
	size_t len;
	struct rtp_hdr h = {.pt = 128};
	assert_int_equal(rtp_build(&h, NULL, pay, 160, out, sizeof(out), &len), EINVAL);
	h.pt = 0;
	h.cc = 16;
	assert_int_equal(rtp_build(&h, NULL, pay, 160, out, sizeof(out), &len), EINVAL);
	h.cc = 0;
	assert_int_equal(rtp_build(&h, NULL, pay, 160, out, 171, &len), EMSGSIZE);
	assert_int_equal(rtp_build(&h, NULL, pay, 160, out, 172, &len), 0);
	h.pad = 1;
	assert_int_equal(rtp_build(&h, NULL, pay, 160, out, 172, &len), EMSGSIZE);
	h.pad = 0;
	h.ext = true;
	h.ext_words = 1;
	assert_int_equal(rtp_build(&h, NULL, pay, 160, out, 179, &len), EMSGSIZE);
	assert_int_equal(rtp_build(&h, NULL, pay, 160, out, 180, &len), 0);
	assert_int_equal(len, 180);
}

struct bad {
	const char *why;
	uint8_t b[24];
	size_t n;
};

static const struct bad bad_rtp[] = {
	{"empty", {0}, 0},
	{"short header", {0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, 11},
	{"version 0", {0x00, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, 12},
	{"version 1", {0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, 12},
	{"version 3", {0xc0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, 12},
	{"csrc past end", {0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3}, 15},
	{"15 csrc, short", {0x8f, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, 16},
	{"ext header past end", {0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde}, 14},
	{"ext data past end",
	 {0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0, 2, 1, 2, 3, 4, 5, 6, 7}, 23},
	{"ext length huge", {0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0xff, 0xff}, 16},
	{"padding zero", {0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 14},
	{"padding into header", {0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3}, 14},
	{"padding of header only", {0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 12}, 12},
	{"padding eats ext", {0xb0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}, 17},
	{"rtcp SR with marker", {0x80, 200, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0}, 12},
	{"rtcp RR", {0x80, 201, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, 12},
	{"pt 72..76", {0x80, 76, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, 12},
};

static void rtp_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_rtp) / sizeof(bad_rtp[0]); i++) {
		struct rtp_hdr h;
		if (parse_guarded(bad_rtp[i].b, bad_rtp[i].n, &h) != EBADMSG)
			fail_msg("accepted: %s", bad_rtp[i].why);
	}
	/* every truncation of a valid packet with CSRC, extension and padding is rejected */
	struct rtp_hdr h = {.pt = 0, .cc = 2, .ext = true, .ext_words = 1, .pad = 4};
	uint8_t out[100], pay[4] = {1, 2, 3, 4};
	size_t len;
	assert_int_equal(rtp_build(&h, NULL, pay, 4, out, sizeof(out), &len), 0);
	assert_int_equal(parse_guarded(out, len, &h), 0);
	assert_int_equal(len, 36);
	for (size_t n = 0; n < len; n++) {
		int rc = parse_guarded(out, n, &h);
		/* header, CSRCs and extension take 28 octets; after them, a truncated
		 * packet passes only if its last octet is a plausible padding count */
		bool ok = n >= 28 && out[n - 1] >= 1 && out[n - 1] <= n - 28;
		assert_int_equal(rc, ok ? 0 : EBADMSG);
		if (ok)
			assert_int_equal(h.payload_len, n - 28 - out[n - 1]);
	}
}

/* ---- RTCP ---- */

static void check_rb(const struct rtcp_rb *a, const struct rtcp_rb *b)
{
	assert_int_equal(a->ssrc, b->ssrc);
	assert_int_equal(a->fraction, b->fraction);
	assert_int_equal(a->lost, b->lost);
	assert_int_equal(a->ext_max, b->ext_max);
	assert_int_equal(a->jitter, b->jitter);
	assert_int_equal(a->lsr, b->lsr);
	assert_int_equal(a->dlsr, b->dlsr);
}

static int rtcp_parse_guarded(const uint8_t *p, size_t n, struct rtcp_info *ri)
{
	struct guard g;
	guard_put(&g, p, n);
	int rc = rtcp_parse(g.p, n, ri);
	guard_free(&g);
	return rc;
}

static void rtcp_sr_round_trip(void **state)
{
	(void)state;
	struct rtcp_report r = {
		.ssrc = 0x11223344, .sender = true,
		.si = {.ntp = 0xe1234567890abcdeull, .rtp_ts = 123456, .packets = 500,
		       .octets = 80000},
		.nrb = 2,
		.rb = {{0x55667788, 25, 1234, 0x0001fffe, 17, 0x45678901, 0x00018000},
		       {0x99, 255, -3, 70000, 0, 0, 0}},
		.cname = "alice@192.0.2.1", .bye = true, .reason = "done",
	};
	uint8_t out[300];
	size_t len;
	assert_int_equal(rtcp_build(&r, out, sizeof(out), &len), 0);
	assert_int_equal(len % 4, 0);
	/* SR 28 + 2 * 24, SDES 8 + (2 + 15 + 1 -> 20), BYE 8 + (1 + 4 -> 8) */
	assert_int_equal(len, 76 + 28 + 16);
	assert_int_equal(out[1], RTCP_SR);
	struct rtcp_info ri;
	assert_int_equal(rtcp_parse_guarded(out, len, &ri), 0);
	assert_int_equal(ri.npackets, 3);
	assert_true(ri.has_sr);
	assert_false(ri.has_rr);
	assert_int_equal(ri.ssrc, 0x11223344);
	assert_int_equal(ri.si.ntp, 0xe1234567890abcdeull);
	assert_int_equal(ri.si.rtp_ts, 123456);
	assert_int_equal(ri.si.packets, 500);
	assert_int_equal(ri.si.octets, 80000);
	assert_int_equal(ri.nrb, 2);
	check_rb(&ri.rb[0], &r.rb[0]);
	check_rb(&ri.rb[1], &r.rb[1]);
	assert_true(ri.has_cname);
	assert_int_equal(ri.cname_ssrc, 0x11223344);
	assert_int_equal(ri.cname_len, 15);
	assert_memory_equal(out + ri.cname_off, "alice@192.0.2.1", 15);
	assert_true(ri.bye);
	assert_int_equal(ri.nbye, 1);
	assert_int_equal(ri.bye_ssrc[0], 0x11223344);
	assert_int_equal(ri.reason_len, 4);
	assert_memory_equal(out + ri.reason_off, "done", 4);
}

static void rtcp_rr_round_trip(void **state)
{
	(void)state;
	/* CNAME lengths around the word boundary: the SDES chunk must end on one */
	for (unsigned cl = 0; cl < 9; cl++) {
		char cname[16] = "abcdefghijklmno";
		cname[cl] = '\0';
		struct rtcp_report r = {.ssrc = 7, .nrb = 1,
					.rb = {{8, 0, 0x7fffff, 1, 2, 3, 4}}, .cname = cname};
		uint8_t out[200];
		size_t len;
		assert_int_equal(rtcp_build(&r, out, sizeof(out), &len), 0);
		assert_int_equal(len % 4, 0);
		struct rtcp_info ri;
		assert_int_equal(rtcp_parse_guarded(out, len, &ri), 0);
		assert_true(ri.has_rr);
		assert_false(ri.has_sr);
		assert_false(ri.bye);
		assert_int_equal(ri.npackets, 2);
		assert_int_equal(ri.nrb, 1);
		check_rb(&ri.rb[0], &r.rb[0]);
		assert_true(ri.has_cname);
		assert_int_equal(ri.cname_len, cl);
	}
	/* lost is clamped to 24 bits, both ways */
	struct rtcp_report r = {.ssrc = 1, .nrb = 2, .rb = {{.lost = 1 << 30}, {.lost = -(1 << 30)}}};
	uint8_t out[100];
	size_t len;
	struct rtcp_info ri;
	assert_int_equal(rtcp_build(&r, out, sizeof(out), &len), 0);
	assert_int_equal(len, 8 + 48);
	assert_int_equal(rtcp_parse_guarded(out, len, &ri), 0);
	assert_int_equal(ri.rb[0].lost, 0x7fffff);
	assert_int_equal(ri.rb[1].lost, -0x800000);
	assert_false(ri.has_cname);
}

static void rtcp_build_errors(void **state)
{
	(void)state;
	uint8_t out[2000];
	size_t len;
	char big[300];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct rtcp_report r = {.ssrc = 1, .nrb = 32};
	assert_int_equal(rtcp_build(&r, out, sizeof(out), &len), EINVAL);
	r.nrb = 31;
	assert_int_equal(rtcp_build(&r, out, sizeof(out), &len), 0);
	assert_int_equal(len, 8 + 31 * 24);
	assert_int_equal(rtcp_build(&r, out, len - 1, &len), EMSGSIZE);
	r.nrb = 0;
	r.cname = big;
	assert_int_equal(rtcp_build(&r, out, sizeof(out), &len), EINVAL);
	r.cname = NULL;
	r.bye = true;
	r.reason = big;
	assert_int_equal(rtcp_build(&r, out, sizeof(out), &len), EINVAL);
}

static const struct bad bad_rtcp[] = {
	{"empty", {0}, 0},
	{"short", {0x80, 201, 0}, 3},
	{"version 1", {0x40, 201, 0, 1, 0, 0, 0, 1}, 8},
	{"length past end", {0x80, 201, 0, 2, 0, 0, 0, 1}, 8},
	{"trailing bytes", {0x80, 201, 0, 1, 0, 0, 0, 1, 0x80}, 9},
	{"RR count past length", {0x81, 201, 0, 1, 0, 0, 0, 1}, 8},
	{"SR without sender info", {0x80, 200, 0, 1, 0, 0, 0, 1}, 8},
	{"first is SDES", {0x81, 202, 0, 1, 0, 0, 0, 1, 0x80, 201, 0, 1, 0, 0, 0, 1}, 16},
	{"not RTCP type", {0x80, 201, 0, 1, 0, 0, 0, 1, 0x80, 100, 0, 0}, 12},
	{"padding not last", {0xa0, 201, 0, 1, 0, 0, 0, 4, 0x80, 201, 0, 1, 0, 0, 0, 1}, 16},
	{"padding zero", {0xa0, 201, 0, 1, 0, 0, 0, 0}, 8},
	{"padding too big", {0xa0, 201, 0, 1, 0, 0, 0, 5}, 8},
	{"SDES item past end",
	 {0x80, 201, 0, 1, 0, 0, 0, 1, 0x81, 202, 0, 2, 0, 0, 0, 1, 1, 9, 'a', 'b'}, 20},
	{"SDES no terminator",
	 {0x80, 201, 0, 1, 0, 0, 0, 1, 0x81, 202, 0, 2, 0, 0, 0, 1, 1, 2, 'a', 'b'}, 20},
	{"SDES chunk missing",
	 {0x80, 201, 0, 1, 0, 0, 0, 1, 0x82, 202, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0}, 20},
	{"BYE ssrc past end", {0x80, 201, 0, 1, 0, 0, 0, 1, 0x82, 203, 0, 1, 0, 0, 0, 1}, 16},
	{"BYE reason past end",
	 {0x80, 201, 0, 1, 0, 0, 0, 1, 0x81, 203, 0, 2, 0, 0, 0, 1, 9, 'x', 'y', 'z'}, 20},
};

static void rtcp_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_rtcp) / sizeof(bad_rtcp[0]); i++) {
		struct rtcp_info ri;
		if (rtcp_parse_guarded(bad_rtcp[i].b, bad_rtcp[i].n, &ri) != EBADMSG)
			fail_msg("accepted: %s", bad_rtcp[i].why);
	}
}

static void rtcp_lenient(void **state)
{
	(void)state;
	struct rtcp_info ri;
	/* RFC 5506: a lone non-report packet (here a BYE) */
	static const uint8_t bye[] = {0x81, 203, 0, 1, 0, 0, 0, 9};
	assert_int_equal(rtcp_parse_guarded(bye, sizeof(bye), &ri), 0);
	assert_true(ri.bye);
	assert_int_equal(ri.bye_ssrc[0], 9);
	assert_int_equal(ri.reason_len, 0);
	/* unknown types (APP) are skipped; a padded last packet; an empty RR */
	static const uint8_t c[] = {0x80, 201, 0, 1, 0, 0, 0, 1, 0x80, 204, 0, 2, 0, 0, 0, 1,
				    'n', 'a', 'm', 'e', 0xa0, 203, 0, 2, 0, 0, 0, 0, 0, 0, 0, 4};
	assert_int_equal(rtcp_parse_guarded(c, sizeof(c), &ri), 0);
	assert_int_equal(ri.npackets, 3);
	assert_true(ri.has_rr);
	assert_int_equal(ri.nrb, 0);
	assert_true(ri.bye);
	assert_int_equal(ri.nbye, 0);
	assert_true(rtcp_is_rtcp(c, sizeof(c)));
	static const uint8_t rtp[] = {0x80, 0, 0, 1};
	assert_false(rtcp_is_rtcp(rtp, sizeof(rtp)));
	/* every truncation of a valid compound fails cleanly */
	struct rtcp_report r = {.ssrc = 1, .sender = true, .nrb = 1, .cname = "x@y",
				.bye = true, .reason = "bye"};
	uint8_t out[200];
	size_t len;
	assert_int_equal(rtcp_build(&r, out, sizeof(out), &len), 0);
	assert_int_equal(len, 52 + 16 + 8 + 4);
	for (size_t n = 0; n < len; n++) {
		/* cut at a packet boundary, it is a shorter valid compound */
		bool whole = n == 52 || n == 52 + 16;
		assert_int_equal(rtcp_parse_guarded(out, n, &ri), whole ? 0 : EBADMSG);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rtp_minimal),
		cmocka_unit_test(rtp_round_trip),
		cmocka_unit_test(rtp_build_errors),
		cmocka_unit_test(rtp_malformed),
		cmocka_unit_test(rtcp_sr_round_trip),
		cmocka_unit_test(rtcp_rr_round_trip),
		cmocka_unit_test(rtcp_build_errors),
		cmocka_unit_test(rtcp_malformed),
		cmocka_unit_test(rtcp_lenient),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
