/*
 * test_rtp_jb.c - receiver statistics (RFC 3550 A.1 sequence validity and
 * wraparound, A.3 loss and fraction lost, A.8 jitter against a hand-computed
 * example) and the playout buffer driven by scripted arrival orders:
 * in order, reordered, duplicated, lost, late, across the 16-bit sequence
 * and 32-bit timestamp wrap, a sender's jump, and a hostile far-future packet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "ringlet/rtp.h"

/* ---- A.1 / A.3 / A.8 ---- */

static void seq_probation(void **state)
{
	(void)state;
	struct rtp_src s;
	rtp_src_init(&s, 100, 2);
	assert_false(rtp_src_update(&s, 100)); /* first of two sequential packets */
	assert_true(rtp_src_update(&s, 101));
	assert_int_equal(s.base_seq, 101);
	assert_int_equal(rtp_src_expected(&s), 1);
	assert_int_equal(s.received, 1);
	/* out of order during probation restarts it */
	rtp_src_init(&s, 500, 2);
	assert_false(rtp_src_update(&s, 500));
	assert_false(rtp_src_update(&s, 510));
	assert_true(rtp_src_update(&s, 511));
	assert_int_equal(s.base_seq, 511);
	/* min_sequential 1: the first packet counts */
	rtp_src_init(&s, 7, 1);
	assert_true(rtp_src_update(&s, 7));
	assert_int_equal(rtp_src_expected(&s), 1);
	assert_int_equal(rtp_src_lost(&s), 0);
}

static void seq_wrap_and_jumps(void **state)
{
	(void)state;
	struct rtp_src s;
	rtp_src_init(&s, 65530, 1);
	for (uint32_t i = 0; i < 20; i++)
		assert_true(rtp_src_update(&s, (uint16_t)(65530 + i)));
	assert_int_equal(s.cycles, 65536);
	assert_int_equal(rtp_src_ext_max(&s), 65536 + 13);
	assert_int_equal(rtp_src_expected(&s), 20);
	assert_int_equal(rtp_src_lost(&s), 0);
	/* a reordered packet from before the wrap does not add a cycle */
	assert_true(rtp_src_update(&s, 65534));
	assert_int_equal(s.cycles, 65536);
	assert_int_equal(rtp_src_lost(&s), -1); /* A.1 counts duplicates as received */
	/* a gap below MAX_DROPOUT is loss */
	assert_true(rtp_src_update(&s, 13 + 100));
	assert_int_equal(rtp_src_expected(&s), 120);
	assert_int_equal(rtp_src_lost(&s), 120 - 22);
	/* a big jump is dropped, unless the next packet confirms it: re-sync */
	assert_false(rtp_src_update(&s, 30000));
	assert_false(rtp_src_update(&s, 40000));
	assert_true(rtp_src_update(&s, 40001));
	assert_int_equal(s.base_seq, 40001);
	assert_int_equal(s.cycles, 0);
	assert_int_equal(rtp_src_expected(&s), 1);
	assert_int_equal(s.received, 1);
}

static void loss_fraction(void **state)
{
	(void)state;
	struct rtp_src s;
	rtp_src_init(&s, 1000, 1);
	unsigned got = 0;
	for (uint16_t q = 1000; q < 1100; q++)
		if (q % 10 != 3 && rtp_src_update(&s, q))
			got++;
	assert_int_equal(got, 90);
	assert_int_equal(rtp_src_expected(&s), 100);
	assert_int_equal(rtp_src_lost(&s), 10);
	assert_int_equal(rtp_src_fraction(&s), (10 << 8) / 100); /* 25 */
	/* next interval: 50 sent, none lost */
	for (uint16_t q = 1100; q < 1150; q++)
		assert_true(rtp_src_update(&s, q));
	assert_int_equal(rtp_src_fraction(&s), 0);
	assert_int_equal(rtp_src_lost(&s), 10);
	/* an interval with duplicates only: fraction never goes negative */
	assert_true(rtp_src_update(&s, 1149));
	assert_int_equal(rtp_src_fraction(&s), 0);
	/* half of the next interval lost */
	for (uint16_t q = 1150; q < 1170; q += 2)
		assert_true(rtp_src_update(&s, q));
	assert_int_equal(rtp_src_expected(&s), 169);
	assert_int_equal(rtp_src_fraction(&s), (9 << 8) / 19);
}

/*
 * Hand-computed (A.8, integer form J += |D| - ((J + 8) >> 4), J scaled by 16):
 * timestamps 0, 160, 320, 480, 640 arrive at 1000, 1260, 1370, 1730, 1890, so
 * transits are 1000, 1100, 1050, 1250, 1250 and |D| 100, 50, 200, 0:
 *   J = 0 + 100 - 0 = 100;  100 + 50 - 6 = 144;  144 + 200 - 9 = 335;
 *   335 + 0 - 21 = 314;  reported 314 >> 4 = 19.
 * The floating form J += (|D| - J) / 16 gives 6.25, 8.98, 20.92, 19.62.
 */
static void jitter_example(void **state)
{
	(void)state;
	static const uint32_t arrival[] = {1000, 1260, 1370, 1730, 1890};
	static const uint32_t scaled[] = {0, 100, 144, 335, 314};
	struct rtp_src s;
	rtp_src_init(&s, 0, 1);
	double jf = 0, prev = 0;
	for (unsigned i = 0; i < 5; i++) {
		uint32_t ts = 0xffffff00u + 160 * i; /* across the timestamp wrap */
		rtp_src_jitter(&s, ts, arrival[i] + 0xffffff00u);
		assert_int_equal(s.jitter, scaled[i]);
		double transit = arrival[i] - 160.0 * i;
		if (i)
			jf += (fabs(transit - prev) - jf) / 16;
		prev = transit;
		assert_true(fabs(s.jitter / 16.0 - jf) < 1.0);
	}
	assert_int_equal(rtp_src_jitter_ts(&s), 19);
	/* constant transit: the estimate decays towards zero */
	for (unsigned i = 5; i < 200; i++)
		rtp_src_jitter(&s, 0xffffff00u + 160 * i, 1890 + 160 * (i - 4) + 0xffffff00u);
	assert_int_equal(rtp_src_jitter_ts(&s), 0);
}

/* ---- playout buffer ---- */

#define F 160u

/* Samples of packet k: a constant that names it. */
static void frame_of(unsigned k, int16_t *pcm)
{
	for (unsigned i = 0; i < F; i++)
		pcm[i] = (int16_t)(1000 + k);
}

struct arrival {
	unsigned k;	/* packet index (seq = seq0 + k, ts = ts0 + 160 k) */
	unsigned t;	/* arrival time, ms */
};

struct sim {
	struct rtp_jb jb;
	struct rtp_src src;
	uint16_t seq0;
	uint32_t ts0;
	int played[64];	/* packet index played at each tick, -1 silence, -2 repeat */
	int rc[64];	/* rtp_jb_put result per arrival */
	unsigned nticks;
};

/*
 * Run ticks every 20 ms from 0 to end: at each tick, first deliver the
 * arrivals due by then (in script order), then take one frame.
 */
static void simulate(struct sim *s, const struct arrival *a, unsigned na, unsigned end,
		     enum rtp_jb_plc plc)
{
	rtp_jb_init(&s->jb, 0, plc);
	unsigned next = 0;
	s->nticks = 0;
	for (unsigned t = 0; t <= end; t += 20) {
		for (; next < na && a[next].t <= t; next++) {
			int16_t pcm[F];
			frame_of(a[next].k, pcm);
			uint16_t seq = (uint16_t)(s->seq0 + a[next].k);
			if (next == 0)
				rtp_src_init(&s->src, seq, 1);
			assert_true(rtp_src_update(&s->src, seq));
			s->rc[next] = rtp_jb_put(&s->jb, s->ts0 + F * a[next].k, pcm, F);
		}
		int16_t out[F];
		size_t real = rtp_jb_get(&s->jb, out, F);
		int who = -1;
		if (real == F) {
			who = out[0] - 1000;
			for (unsigned i = 0; i < F; i++)
				assert_int_equal(out[i], out[0]);
		} else if (out[0] != 0) {
			who = -2;
		}
		s->played[s->nticks++] = who;
	}
}

/* First packet at t = 0: packet k plays at tick 3 + k (60 ms delay). */
static void check_played(const struct sim *s, const int *want, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (s->played[i] != want[i])
			fail_msg("tick %u: played %d, want %d", i, s->played[i], want[i]);
}

static void jb_in_order(void **state)
{
	(void)state;
	struct sim s = {.seq0 = 100, .ts0 = 5000};
	struct arrival a[8];
	for (unsigned k = 0; k < 8; k++)
		a[k] = (struct arrival){k, 20 * k};
	simulate(&s, a, 8, 240, RTP_JB_PLC_SILENCE);
	static const int want[] = {-1, -1, -1, 0, 1, 2, 3, 4, 5, 6, 7, -1, -1};
	check_played(&s, want, 13);
	assert_int_equal(s.jb.st.concealed, 0);
	assert_int_equal(s.jb.st.late, 0);
	assert_int_equal(s.jb.st.duplicates, 0);
	assert_int_equal(rtp_src_lost(&s.src), 0);
}

static void jb_reorder_duplicate(void **state)
{
	(void)state;
	struct sim s = {.seq0 = 7, .ts0 = 0};
	/* 1 before 0, 3 two ticks late (still inside the 60 ms), 2 and 4 twice */
	static const struct arrival a[] = {{1, 0}, {0, 5}, {2, 40}, {4, 60}, {2, 61},
					   {3, 79}, {4, 80}, {5, 100}, {6, 120}};
	simulate(&s, a, 9, 260, RTP_JB_PLC_SILENCE);
	/* the first packet to arrive (k = 1) sets the playout point: k plays at tick 2 + k */
	static const int want[] = {-1, -1, 0, 1, 2, 3, 4, 5, 6, -1};
	check_played(&s, want, 10);
	assert_int_equal(s.rc[1], 0);
	assert_int_equal(s.rc[4], EALREADY);
	assert_int_equal(s.rc[6], EALREADY);
	assert_int_equal(s.jb.st.duplicates, 2);
	assert_int_equal(s.jb.st.late, 0);
	assert_int_equal(s.jb.st.concealed, 0);
	/* A.1: duplicates count as received, and packet 0 (below the first one's
	 * sequence number, the base) was never expected: "lost" goes negative */
	assert_int_equal(rtp_src_expected(&s.src), 6);
	assert_int_equal(s.src.received, 9);
	assert_int_equal(rtp_src_lost(&s.src), -3);
}

static void jb_loss_and_late(void **state)
{
	(void)state;
	struct sim s = {.seq0 = 40000, .ts0 = 123};
	/* 2 is lost; 4 comes after its playout tick (3 + 4 = tick 7, 140 ms) */
	static const struct arrival a[] = {{0, 0}, {1, 20}, {3, 60}, {5, 100}, {4, 150}};
	simulate(&s, a, 5, 200, RTP_JB_PLC_SILENCE);
	static const int want[] = {-1, -1, -1, 0, 1, -1, 3, -1, 5, -1};
	check_played(&s, want, 10);
	assert_int_equal(s.rc[4], ETIME);
	assert_int_equal(s.jb.st.late, 1);
	assert_int_equal(s.jb.st.concealed, 2);
	assert_int_equal(rtp_src_lost(&s.src), 1); /* 2 never came; 4 came, late */

	/* the same with PLC_REPEAT: the first missing frame repeats the last at half level */
	simulate(&s, a, 5, 200, RTP_JB_PLC_REPEAT);
	static const int want2[] = {-1, -1, -1, 0, 1, -2, 3, -2, 5, -2};
	check_played(&s, want2, 10);
}

static void jb_wraparound(void **state)
{
	(void)state;
	/* seq 65533 .. 65535, 0 .. 4; ts crosses 2^32 in the middle; 65535 arrives after 0 */
	struct sim s = {.seq0 = 65533, .ts0 = 0xfffffe00u};
	static const struct arrival a[] = {{0, 0}, {1, 20}, {3, 40}, {2, 41}, {4, 60},
					   {5, 80}, {6, 100}, {7, 120}};
	simulate(&s, a, 8, 240, RTP_JB_PLC_SILENCE);
	static const int want[] = {-1, -1, -1, 0, 1, 2, 3, 4, 5, 6, 7, -1};
	check_played(&s, want, 12);
	assert_int_equal(s.src.cycles, 65536);
	assert_int_equal(rtp_src_ext_max(&s.src), 65536 + 4);
	assert_int_equal(rtp_src_expected(&s.src), 8);
	assert_int_equal(rtp_src_lost(&s.src), 0);
	assert_int_equal(s.jb.st.late + s.jb.st.duplicates + s.jb.st.concealed, 0);
}

static void jb_partial_and_sizes(void **state)
{
	(void)state;
	struct rtp_jb jb;
	int16_t in[400], out[F];
	for (unsigned i = 0; i < 400; i++)
		in[i] = (int16_t)(i + 1);
	rtp_jb_init(&jb, 160, RTP_JB_PLC_SILENCE);
	/* a 30 ms packet (240 samples) then a 10 ms one: timing from timestamps only */
	assert_int_equal(rtp_jb_put(&jb, 1000, in, 240), 0);
	assert_int_equal(rtp_jb_put(&jb, 1240, in + 240, 80), 0);
	assert_int_equal(rtp_jb_depth(&jb), 320 + 160);
	assert_int_equal(rtp_jb_get(&jb, out, F), 0); /* the delay */
	assert_int_equal(rtp_jb_get(&jb, out, F), F);
	assert_int_equal(out[0], 1);
	assert_int_equal(rtp_jb_get(&jb, out, F), F);
	assert_int_equal(out[0], 161);
	assert_int_equal(out[159], 320);
	/* a packet half before the playout point keeps its second half */
	assert_int_equal(rtp_jb_put(&jb, 1320 - 80, in, 160), 0);
	assert_int_equal(rtp_jb_get(&jb, out, F), 80);
	assert_int_equal(out[0], 81);
	assert_int_equal(out[80], 0);
	assert_int_equal(jb.st.concealed, 0); /* no later audio: the sender is idle */
}

static void jb_sender_jumps(void **state)
{
	(void)state;
	struct rtp_jb jb;
	int16_t pcm[F], out[F];
	frame_of(1, pcm);
	rtp_jb_init(&jb, 0, RTP_JB_PLC_SILENCE);
	assert_int_equal(rtp_jb_put(&jb, 0, pcm, F), 0);
	/* one hostile far-future packet is dropped, the buffer keeps its place */
	assert_int_equal(rtp_jb_put(&jb, 0x40000000u, pcm, F), ENOSPC);
	assert_int_equal(jb.st.overflow, 1);
	assert_int_equal(jb.play_ts, (uint32_t)-480);
	/* a sender that really jumped keeps sending there: after a short run we follow */
	unsigned k;
	for (k = 1; k < 10 && jb.st.resyncs == 0; k++)
		(void)rtp_jb_put(&jb, 0x40000000u + F * k, pcm, F);
	assert_true(k <= 5);
	assert_int_equal(jb.st.resyncs, 1);
	assert_int_equal(jb.play_ts, 0x40000000u + F * (k - 1) - 480);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(rtp_jb_get(&jb, out, F), 0);
	assert_int_equal(rtp_jb_get(&jb, out, F), F);
	/* packets from the distant past are late, and do not disturb playout */
	assert_int_equal(rtp_jb_put(&jb, 160, pcm, F), ETIME);
	/* a clock that runs fast: depth beyond delay + 200 ms is trimmed back */
	uint32_t ts = jb.play_ts;
	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(rtp_jb_put(&jb, ts + F * i, pcm, F), 0);
	assert_int_equal(rtp_jb_depth(&jb), 20 * F);
	assert_int_equal(rtp_jb_get(&jb, out, F), F);
	assert_int_equal(rtp_jb_depth(&jb), 480 - F);
	assert_int_equal(jb.st.resyncs, 2);
}

static void jb_bounds(void **state)
{
	(void)state;
	static int16_t big[RTP_JB_SAMPLES];
	struct rtp_jb jb;
	int16_t out[F];
	rtp_jb_init(&jb, 100000, RTP_JB_PLC_SILENCE);
	assert_int_equal(jb.delay, RTP_JB_SAMPLES / 2);
	/* an over-long packet is cut to half the ring */
	assert_int_equal(rtp_jb_put(&jb, 0, big, RTP_JB_SAMPLES), 0);
	assert_int_equal(rtp_jb_depth(&jb), RTP_JB_SAMPLES / 2 + RTP_JB_SAMPLES / 2);
	assert_int_equal(rtp_jb_put(&jb, 0, big, 0), 0);
	/* that is more than delay + 200 ms: get trims to the delay, and never
	 * returns more than a frame */
	assert_int_equal(rtp_jb_get(&jb, out, 1000), F);
	assert_int_equal(jb.st.resyncs, 1);
	assert_int_equal(jb.play_ts, F);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seq_probation),
		cmocka_unit_test(seq_wrap_and_jumps),
		cmocka_unit_test(loss_fraction),
		cmocka_unit_test(jitter_example),
		cmocka_unit_test(jb_in_order),
		cmocka_unit_test(jb_reorder_duplicate),
		cmocka_unit_test(jb_loss_and_late),
		cmocka_unit_test(jb_wraparound),
		cmocka_unit_test(jb_partial_and_sizes),
		cmocka_unit_test(jb_sender_jumps),
		cmocka_unit_test(jb_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
