/*
 * test_media_sdp.c - the media session's SDP offer/answer (RFC 3264 via
 * msg_sdp): our offer, answering offers (PCMU/PCMA, hold, directions,
 * several streams, nothing in common), taking an answer; port choice
 * (ranges, ephemeral, IPv6); bad arguments; allocation failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ringlet/media.h"
#include "ringlet/mem.h"
#include "ua/media_int.h"

static char dir[64];
static size_t live_before;

static int setup(void **state)
{
	(void)state;
	live_before = mem_live();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(mem_live(), live_before);
	return 0;
}

static struct tp_addr lo_addr(void)
{
	struct tp_addr a;
	assert_int_equal(tp_addr_set(&a, "127.0.0.1", 9, 0), 0);
	return a;
}

static struct loop *vloop(void)
{
	struct loop *l = NULL;
	assert_int_equal(loop_alloc(&l, LOOP_CLOCK_VIRTUAL), 0);
	return l;
}

static struct media *session(struct loop *l, const struct media_cfg *cfg)
{
	struct tp_addr a = lo_addr();
	struct media *m = NULL;
	assert_int_equal(media_alloc(&m, l, &a, cfg), 0);
	return m;
}

/* ---- SDP ---- */

static void parse_text(struct msg_sdp *s, const char *text)
{
	assert_int_equal(msg_sdp_parse(s, text, (struct span){0, (uint32_t)strlen(text)}), 0);
}

static void sdp_offer_answer(void **state)
{
	(void)state;
	struct loop *l = vloop();
	struct media *a = session(l, NULL), *b = session(l, NULL);
	static struct msg_sdp_desc d;
	static struct msg_sdp po, pa;
	static char ob[2048], ab[2048];
	size_t n;
	media_sdp_offer(a, &d, true);
	assert_int_equal(msg_sdp_desc_print(&d, ob, sizeof(ob), &n), 0);
	assert_int_equal(msg_sdp_parse(&po, ob, (struct span){0, (uint32_t)n}), 0);
	assert_int_equal(po.nmedia, 1);
	assert_int_equal(po.media[0].port, media_port(a));
	assert_int_equal(po.media[0].nfmts, 3);
	assert_int_equal(po.media[0].pts[0], 0);
	assert_int_equal(po.media[0].pts[1], 8);
	assert_int_equal(po.media[0].pts[2], 101);
	assert_int_equal(msg_sdp_ptime(&po, &po.media[0]), 20);
	assert_true(span_eq(ob, msg_sdp_conn(&po, &po.media[0])->addr, "127.0.0.1"));

	assert_int_equal(media_sdp_answer(b, &po, &d), 0);
	assert_int_equal(msg_sdp_desc_print(&d, ab, sizeof(ab), &n), 0);
	assert_int_equal(msg_sdp_parse(&pa, ab, (struct span){0, (uint32_t)n}), 0);
	assert_int_equal(pa.media[0].port, media_port(b));
	assert_int_equal(pa.media[0].pts[0], 0);
	assert_true(tp_addr_equal(&b->remote, media_local(a)));
	assert_int_equal(b->law, G711_ULAW);
	assert_int_equal(b->dtmf_pt, 101);

	assert_int_equal(media_sdp_answered(a, &pa), 0);
	assert_true(tp_addr_equal(&a->remote, media_local(b)));
	assert_int_equal(tp_addr_port(&a->remote_rtcp), media_port(b) + 1);
	assert_int_equal(a->pt, 0);
	assert_true(a->send && a->recv);

	/* a PCMA-only offer on hold (sendonly), with a second audio stream */
	static char text[512];
	snprintf(text, sizeof(text),
		 "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		 "m=audio 40000 RTP/AVP 18 8\r\na=sendonly\r\n"
		 "m=audio 40002 RTP/AVP 0\r\n");
	parse_text(&po, text);
	assert_int_equal(media_sdp_answer(b, &po, &d), 0);
	assert_int_equal(d.nmedia, 2);
	assert_int_equal(d.media[0].port, media_port(b));
	assert_int_equal(d.media[0].ncodecs, 1);
	assert_int_equal(d.media[0].codecs[0].pt, 8);
	assert_int_equal(d.media[0].dir, MSG_SDP_RECVONLY);
	assert_int_equal(d.media[1].port, 0); /* one stream per session */
	assert_int_equal(msg_sdp_desc_print(&d, ab, sizeof(ab), &n), 0);
	assert_int_equal(b->law, G711_ALAW);
	assert_int_equal(b->pt, 8);
	assert_int_equal(tp_addr_port(&b->remote), 40000);
	assert_false(b->send);
	assert_true(b->recv);

	/* RFC 2543 hold: no address to send to */
	snprintf(text, sizeof(text),
		 "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
		 "m=audio 40000 RTP/AVP 0\r\n");
	parse_text(&po, text);
	struct media *c = session(l, NULL);
	assert_int_equal(media_sdp_answer(c, &po, &d), 0);
	assert_false(c->have_remote);
	assert_false(c->send);

	/* nothing in common, or no audio at all: ENOENT and a valid all-rejected answer */
	snprintf(text, sizeof(text),
		 "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		 "m=audio 40000 RTP/AVP 18\r\nm=video 40002 RTP/AVP 31\r\n");
	parse_text(&po, text);
	assert_int_equal(media_sdp_answer(c, &po, &d), ENOENT);
	assert_int_equal(d.media[0].port, 0);
	assert_int_equal(d.media[1].port, 0);
	assert_int_equal(msg_sdp_desc_print(&d, ab, sizeof(ab), &n), 0);

	/* an answer that rejects our stream */
	snprintf(text, sizeof(text),
		 "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		 "m=audio 0 RTP/AVP 0\r\n");
	parse_text(&pa, text);
	assert_int_equal(media_sdp_answered(a, &pa), ENOENT);
	/* an answer choosing PCMA with an IPv6 address: wrong family for our socket */
	snprintf(text, sizeof(text),
		 "v=0\r\no=x 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\n"
		 "m=audio 30000 RTP/AVP 8\r\n");
	parse_text(&pa, text);
	assert_int_equal(media_sdp_answered(a, &pa), EINVAL);
	mem_deref(a);
	mem_deref(b);
	mem_deref(c);
	loop_free(l);
}

/* ---- ports, errors, OOM ---- */

static void ports(void **state)
{
	(void)state;
	struct loop *l = vloop();
	struct media *m[8] = {0};
	struct media_cfg cfg = {.port_min = 47311, .port_max = 47321};
	unsigned n = 0;
	int rc = 0;
	struct tp_addr a = lo_addr();
	while (n < 8 && (rc = media_alloc(&m[n], l, &a, &cfg)) == 0)
		n++;
	/* even ports 47312 .. 47320 with the next port in range: 5 at most */
	assert_int_equal(rc, EADDRINUSE);
	assert_true(n >= 1 && n <= 5);
	for (unsigned i = 0; i < n; i++) {
		uint16_t p = media_port(m[i]);
		assert_int_equal(p % 2, 0);
		assert_true(p >= 47312 && p <= 47320);
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(p, media_port(m[j]));
	}
	for (unsigned i = 0; i < n; i++)
		mem_deref(m[i]);
	/* ephemeral: even, RTCP next to it */
	struct media *e = session(l, NULL);
	assert_int_equal(media_port(e) % 2, 0);
	assert_int_equal(tp_addr_port(&e->local_rtcp), media_port(e) + 1);
	/* IPv6 loopback works too, and the family must match the peer's */
	struct tp_addr v6;
	assert_int_equal(tp_addr_set(&v6, "::1", 3, 0), 0);
	struct media *s6 = NULL;
	if (media_alloc(&s6, l, &v6, NULL) == 0) {
		assert_int_equal(media_set_remote(s6, media_local(e), NULL), EINVAL);
		mem_deref(s6);
	}
	cfg.port_min = 100;
	cfg.port_max = 100;
	assert_int_equal(media_alloc(&s6, l, &a, &cfg), EINVAL);
	assert_int_equal(media_alloc(&s6, NULL, &a, NULL), EINVAL);
	assert_int_equal(media_set_codec(e, G711_ULAW, 128, -1), EINVAL);
	mem_deref(e);
	loop_free(l);
}

static void oom(void **state)
{
	(void)state;
	struct loop *l = vloop();
	struct tp_addr a = lo_addr();
	struct media *m = NULL;
	mem_fail_after(0);
	assert_int_equal(media_alloc(&m, l, &a, NULL), ENOMEM);
	mem_fail_after(-1);
	m = session(l, NULL);
	char path[128];
	snprintf(path, sizeof(path), "%s/oom.wav", dir);
	mem_fail_after(0);
	assert_int_equal(media_record_wav(m, path), ENOMEM);
	mem_fail_after(-1);
	assert_int_equal(media_record_wav(m, path), 0);
	mem_deref(m); /* never started: the destructor closes the file */
	unlink(path);
	loop_free(l);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ringlet-msdp-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(sdp_offer_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(ports, setup, teardown),
		cmocka_unit_test_setup_teardown(oom, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
