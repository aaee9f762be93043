/*
 * test_media.c - media sessions on a real loop with real UDP sockets on
 * 127.0.0.1: two sessions exchanging tone sequences both ways (virtual and
 * real clock) and recording each other, a lossy/reordering/duplicating
 * relay between them, what goes on the wire (sequence, timestamp, marker,
 * SSRC, payload type, RTCP SR/SDES/BYE), sources, hostile input.
 * (SDP, ports and OOM: test_media_sdp.c.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ringlet/media.h"
#include "ringlet/mem.h"
#include "ringlet/wav.h"
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

/* Point a and b at each other. */
static void pair(struct media *a, struct media *b)
{
	assert_int_equal(media_set_remote(a, media_local(b), NULL), 0);
	assert_int_equal(media_set_remote(b, media_local(a), NULL), 0);
}

/* Advance virtual time by ms in 5 ms steps, letting datagrams arrive after each. */
static void run_virtual(struct loop *l, unsigned ms)
{
	for (unsigned t = 0; t < ms; t += 5) {
		loop_advance(l, 5);
		for (int i = 0; i < 3; i++)
			loop_once(l, 0);
	}
}

/* Amplitude of frequency f in x[0 .. n) at 8 kHz (Goertzel). */
static double amp_at(const int16_t *x, size_t n, double f)
{
	double w = 2 * M_PI * f / 8000, c = 2 * cos(w), s1 = 0, s2 = 0;
	for (size_t i = 0; i < n; i++) {
		double s = x[i] + c * s1 - s2;
		s2 = s1;
		s1 = s;
	}
	return 2 * sqrt(s1 * s1 + s2 * s2 - c * s1 * s2) / (double)n;
}

static const uint16_t all_freqs[] = {400, 600, 800, 1000, 1200, 1400};

/* The tone of each 20 ms frame of pcm: its frequency, or 0 for none. */
static unsigned classify(const int16_t *pcm, size_t n, uint16_t *tone, unsigned cap)
{
	unsigned nf = 0;
	for (size_t off = 0; off + 160 <= n && nf < cap; off += 160) {
		uint16_t best = 0;
		double ba = 3000; /* tones are sent at 8000 */
		for (unsigned k = 0; k < sizeof(all_freqs) / sizeof(all_freqs[0]); k++) {
			double a = amp_at(pcm + off, 160, all_freqs[k]);
			if (a > ba) {
				ba = a;
				best = all_freqs[k];
			}
		}
		tone[nf++] = best;
	}
	return nf;
}

/*
 * Check that the frames hold the repeating sequence seq[0..3) of 200 ms
 * tones, starting within [first_lo, first_hi] frames: each run of one tone
 * lasts 10 frames (the first and last may be cut, and one frame at each
 * change may be mixed).
 */
static void check_sequence(const uint16_t *tone, unsigned nf, const uint16_t *seq,
			   unsigned first_lo, unsigned first_hi)
{
	unsigned i = 0;
	while (i < nf && tone[i] == 0)
		i++;
	if (i < first_lo || i > first_hi)
		fail_msg("first tone at frame %u, want %u..%u", i, first_lo, first_hi);
	unsigned step = 0, runs = 0;
	while (i < nf) {
		uint16_t want = seq[step % 3];
		unsigned run = 0;
		while (i < nf && tone[i] == want) {
			run++;
			i++;
		}
		if (i < nf && run < 9)
			fail_msg("run %u of %u Hz: %u frames (at frame %u, then %u Hz)", runs, want,
				 run, i, tone[i]);
		if (run > 10)
			fail_msg("run %u of %u Hz: %u frames", runs, want, run);
		runs++;
		step++;
		if (i < nf && tone[i] != seq[step % 3]) {
			/* one mixed frame at the change is fine */
			i++;
		}
	}
	assert_true(runs >= 6);
}

static size_t read_wav(const char *path, int16_t *out, size_t cap)
{
	struct wav_reader *r = NULL;
	assert_int_equal(wav_open(&r, path), 0);
	struct wav_info info;
	wav_info(r, &info);
	assert_int_equal(info.rate, 8000);
	assert_int_equal(info.channels, 1);
	size_t n = wav_read(r, out, cap);
	mem_deref(r);
	return n;
}

static const struct media_tone seq_a[] = {{400, 200}, {800, 200}, {1200, 200}};
static const struct media_tone seq_b[] = {{600, 200}, {1000, 200}, {1400, 200}};
static const uint16_t freqs_a[] = {400, 800, 1200};
static const uint16_t freqs_b[] = {600, 1000, 1400};

/* Both ways at once, 1.5 s of virtual time: each recording holds the other's tones. */
static void loopback_virtual(void **state)
{
	(void)state;
	struct loop *l = vloop();
	struct media_cfg cfg = {.rtcp_interval_ms = 400};
	struct media *a = session(l, &cfg), *b = session(l, &cfg);
	pair(a, b);
	char pa[128], pb[128];
	snprintf(pa, sizeof(pa), "%s/a.wav", dir);
	snprintf(pb, sizeof(pb), "%s/b.wav", dir);
	assert_int_equal(media_play_tone(a, seq_a, 3, 8000, MEDIA_EOF_LOOP), 0);
	assert_int_equal(media_play_tone(b, seq_b, 3, 8000, MEDIA_EOF_LOOP), 0);
	assert_int_equal(media_record_wav(a, pa), 0);
	assert_int_equal(media_record_wav(b, pb), 0);
	loop_ms t0 = loop_now(l);
	assert_int_equal(media_start(a), 0);
	assert_int_equal(media_start(b), 0);
	assert_int_equal(media_start(a), EALREADY);
	run_virtual(l, 1500);
	loop_ms dur = loop_now(l) - t0;
	media_stop(a); /* its BYE reaches b, which still listens */
	loop_once(l, 0);
	media_stop(b);
	media_stop(b);

	struct media_stats sa, sb;
	media_stats(a, &sa);
	media_stats(b, &sb);
	const struct media_stats *st[2] = {&sa, &sb};
	for (int i = 0; i < 2; i++) {
		const struct media_stats *s = st[i];
		assert_int_equal(s->frames_played, dur / 20 + 1); /* ticks at 0, 20, ..., dur */
		assert_int_equal(s->sent_packets, s->frames_played);
		assert_int_equal(s->sent_octets, 160 * s->sent_packets);
		assert_int_equal(s->lost, 0);
		assert_int_equal(s->duplicates, 0);
		assert_int_equal(s->late, 0);
		assert_int_equal(s->concealed, 0);
		assert_int_equal(s->dropped, 0);
		assert_true(s->jitter_ms < 0.5); /* virtual time: every packet arrives on time */
		assert_true(s->rtcp_sent >= 2);
		assert_true(s->peer_report);
		assert_int_equal(s->peer_fraction, 0);
		assert_int_equal(s->peer_lost, 0);
		/* datagrams wait up to one 5 ms step each way */
		assert_true(s->rtt_ms >= 0 && s->rtt_ms <= 11);
	}
	assert_int_equal(sa.recv_packets, sb.sent_packets);
	assert_int_equal(sb.recv_packets, sa.sent_packets);
	assert_true(sb.peer_bye);
	assert_true(sa.rtcp_recv >= 2);

	static int16_t pcm[16000];
	static uint16_t tone[100];
	const char *paths[2] = {pa, pb};
	const uint16_t *want[2] = {freqs_b, freqs_a};
	for (int i = 0; i < 2; i++) {
		size_t n = read_wav(paths[i], pcm, 16000);
		/* one frame per tick: the recording lasts as long as the call (+- 60 ms) */
		assert_true(labs((long)n - (long)dur * 8) <= 480);
		unsigned nf = classify(pcm, n, tone, 100);
		/* the first packet plays after the 60 ms delay, on the next tick */
		check_sequence(tone, nf, want[i], 3, 5);
		unlink(paths[i]);
	}
	mem_deref(a);
	mem_deref(b);
	loop_free(l);
}

struct mem_sink {
	int16_t *pcm;
	size_t cap, n;
};

static void mem_sink_put(void *arg, const int16_t *pcm, size_t n)
{
	struct mem_sink *s = arg;
	if (s->n + n <= s->cap)
		memcpy(s->pcm + s->n, pcm, n * sizeof(*pcm));
	s->n += n;
}

struct stopper {
	struct loop *l;
	struct loop_timer t;
};

static void stop_loop(void *arg)
{
	struct stopper *s = arg;
	loop_stop(s->l);
}

/* The same on the monotonic clock, shorter: real timers, real arrival times. */
static void loopback_real(void **state)
{
	(void)state;
	struct loop *l = NULL;
	assert_int_equal(loop_alloc(&l, LOOP_CLOCK_MONOTONIC), 0);
	struct media *a = session(l, NULL), *b = session(l, NULL);
	pair(a, b);
	static int16_t rec[2][16000];
	struct mem_sink sk[2] = {{rec[0], 16000, 0}, {rec[1], 16000, 0}};
	assert_int_equal(media_play_tone(a, seq_a, 3, 8000, MEDIA_EOF_LOOP), 0);
	assert_int_equal(media_play_tone(b, seq_b, 3, 8000, MEDIA_EOF_LOOP), 0);
	media_record_fn(a, mem_sink_put, &sk[0]);
	media_record_fn(b, mem_sink_put, &sk[1]);
	struct stopper st = {.l = l};
	loop_timer_init(&st.t);
	assert_int_equal(media_start(a), 0);
	assert_int_equal(media_start(b), 0);
	loop_ms t0 = loop_now(l);
	loop_timer_start(l, &st.t, 700, stop_loop, &st);
	assert_int_equal(loop_run(l), 0);
	loop_ms dur = loop_now(l) - t0;
	/* stop sending, take in what is on its way, then stop */
	media_set_dir(a, false, true);
	media_set_dir(b, false, true);
	for (int i = 0; i < 3; i++)
		loop_once(l, 0);
	media_stop(a);
	media_stop(b);
	struct media_stats sa, sb;
	media_stats(a, &sa);
	media_stats(b, &sb);
	/* one packet and one frame per 20 ms of real time, give or take a tick */
	assert_true(labs((long)sa.frames_played - (long)dur / 20) <= 3);
	assert_true(labs((long)sb.frames_played - (long)dur / 20) <= 3);
	assert_int_equal(sa.recv_packets, sb.sent_packets);
	assert_int_equal(sb.recv_packets, sa.sent_packets);
	assert_int_equal(sa.lost, 0);
	assert_int_equal(sb.lost, 0);
	assert_int_equal(sa.dropped + sb.dropped, 0);
	/* each heard the other's tones, in order (timing under a loaded machine or
	 * valgrind may smear a change, so only the order is checked) */
	const uint16_t *want[2] = {freqs_b, freqs_a};
	for (int i = 0; i < 2; i++) {
		static uint16_t tone[100];
		assert_int_equal(sk[i].n, 160 * (i ? sb.frames_played : sa.frames_played));
		unsigned nf = classify(sk[i].pcm, sk[i].n, tone, 100), seen = 0;
		for (unsigned k = 0; k < nf; k++)
			if (tone[k] && tone[k] == want[i][seen % 3])
				seen++;
		assert_true(seen >= 3);
	}
	mem_deref(a);
	mem_deref(b);
	loop_free(l);
}

/* ---- a relay that loses, reorders and duplicates ---- */

struct relay {
	struct loop *l;
	int fd;
	struct tp_addr to;
	uint16_t seq0;
	bool have_seq0;
	uint8_t held[400];
	size_t held_len;
	unsigned passed;
};

static void relay_send(struct relay *r, const uint8_t *p, size_t n)
{
	assert_int_equal(sendto(r->fd, p, n, 0, &r->to.u.sa, tp_addr_len(&r->to)), (ssize_t)n);
	r->passed++;
}

static void relay_readable(int fd, unsigned events, void *arg)
{
	struct relay *r = arg;
	(void)events;
	uint8_t p[400];
	ssize_t n;
	while ((n = recv(fd, p, sizeof(p), 0)) > 0) {
		struct rtp_hdr h;
		assert_int_equal(rtp_parse(p, (size_t)n, &h), 0);
		if (!r->have_seq0) {
			r->seq0 = h.seq;
			r->have_seq0 = true;
		}
		unsigned k = (uint16_t)(h.seq - r->seq0);
		if (k == 5 || k == 6 || k == 20)
			continue; /* lost */
		if (k == 10) {
			memcpy(r->held, p, (size_t)n); /* sent after 11 */
			r->held_len = (size_t)n;
			continue;
		}
		relay_send(r, p, (size_t)n);
		if (k == 11)
			relay_send(r, r->held, r->held_len);
		if (k == 30)
			relay_send(r, p, (size_t)n); /* twice */
	}
}

static void lossy_relay(void **state)
{
	(void)state;
	struct loop *l = vloop();
	struct media_cfg cfg = {.rtcp_interval_ms = 300, .no_latch = true};
	struct media_cfg cfg_b = {.rtcp_interval_ms = 300};
	struct media *a = session(l, &cfg), *b = session(l, &cfg_b);
	struct relay r = {.l = l};
	struct tp_addr ra = lo_addr();
	r.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(r.fd >= 0);
	assert_int_equal(bind(r.fd, &ra.u.sa, tp_addr_len(&ra)), 0);
	socklen_t sl = sizeof(ra.u);
	assert_int_equal(getsockname(r.fd, &ra.u.sa, &sl), 0);
	r.to = *media_local(b);
	assert_int_equal(loop_fd_add(l, r.fd, LOOP_IN, relay_readable, &r), 0);

	/* a sends to the relay; b's reports go straight to a's RTCP port */
	assert_int_equal(media_set_remote(a, &ra, NULL), 0);
	assert_int_equal(media_set_remote(b, media_local(a), NULL), 0);
	media_set_dir(a, true, false);
	media_set_dir(b, false, true);
	assert_int_equal(media_play_tone(a, seq_a, 3, 8000, MEDIA_EOF_LOOP), 0);
	char pb[128];
	snprintf(pb, sizeof(pb), "%s/relay.wav", dir);
	assert_int_equal(media_record_wav(b, pb), 0);
	assert_int_equal(media_start(a), 0);
	assert_int_equal(media_start(b), 0);
	run_virtual(l, 1000);
	media_stop(a);
	media_stop(b);

	struct media_stats sa, sb;
	media_stats(a, &sa);
	media_stats(b, &sb);
	assert_int_equal(sa.frames_played, 51);
	assert_int_equal(sa.sent_packets, 51);
	assert_int_equal(sa.recv_packets, 0);
	assert_int_equal(sb.sent_packets, 0);
	assert_int_equal(r.passed, 51 - 3 + 1);
	assert_int_equal(sb.recv_packets, 51 - 3);
	assert_int_equal(sb.expected, 51);
	assert_int_equal(sb.lost, 3);
	assert_int_equal(sb.duplicates, 1);
	assert_int_equal(sb.concealed, 3); /* frames 5, 6 and 20 */
	assert_int_equal(sb.late, 0);
	/* b's receiver reports reached a: A.3 counts the duplicate as received */
	assert_true(sa.peer_report);
	assert_int_equal(sa.peer_lost, 2);
	/* b latched on to the relay's address for RTP, and kept a as RTCP peer */
	assert_true(tp_addr_equal(&b->remote, &ra));

	static int16_t pcm[10000];
	size_t n = read_wav(pb, pcm, 10000);
	assert_int_equal(n, 51 * 160); /* lost packets are silence: the length is kept */
	/* packet k plays at frame 4 + k (it came 5 ms after tick 0, then 60 ms of
	 * delay: on the tick at 80 ms); the lost ones are silent */
	if (getenv("MEDIA_DEBUG"))
		for (unsigned k = 0; k < 51; k++)
			fprintf(stderr, "frame %u: %d %.0f %.0f\n", k, pcm[160 * k + 5],
				amp_at(pcm + 160 * k, 160, 400), amp_at(pcm + 160 * k, 160, 800));
	static const unsigned gone[] = {5, 6, 20};
	for (unsigned i = 0; i < 3; i++) {
		const int16_t *f = pcm + 160 * (4 + gone[i]);
		for (unsigned j = 0; j < 160; j++)
			assert_int_equal(f[j], 0);
	}
	for (unsigned k = 0; k < 4; k++)
		assert_true(amp_at(pcm + 160 * k, 160, 400) < 1);
	assert_true(amp_at(pcm + 160 * 4, 160, 400) > 7500);
	assert_true(amp_at(pcm + 160 * (4 + 10), 160, 800) > 7500); /* reordered, in place */
	assert_true(amp_at(pcm + 160 * (4 + 11), 160, 800) > 7500);
	unlink(pb);
	loop_fd_del(l, r.fd);
	close(r.fd);
	mem_deref(a);
	mem_deref(b);
	loop_free(l);
}

/* ---- what goes on the wire ---- */

struct capture {
	int fd;
	struct tp_addr addr;
};

static void cap_open(struct capture *c)
{
	c->addr = lo_addr();
	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(c->fd >= 0);
	assert_int_equal(bind(c->fd, &c->addr.u.sa, tp_addr_len(&c->addr)), 0);
	socklen_t sl = sizeof(c->addr.u);
	assert_int_equal(getsockname(c->fd, &c->addr.u.sa, &sl), 0);
}

/* Next captured RTP packet into p; false when none is waiting. */
static bool cap_next(struct capture *c, uint8_t *p, struct rtp_hdr *h)
{
	ssize_t n = recv(c->fd, p, 400, 0);
	if (n <= 0)
		return false;
	assert_int_equal(rtp_parse(p, (size_t)n, h), 0);
	return true;
}

struct eofs {
	unsigned calls;
};

static void on_eof(struct media *m, void *arg)
{
	struct eofs *e = arg;
	(void)m;
	e->calls++;
}

static void wire_format(void **state)
{
	(void)state;
	struct loop *l = vloop();
	struct media *a = session(l, NULL), *b = session(l, NULL);
	struct media_stats sa;
	media_stats(a, &sa);
	assert_true(a->ssrc != b->ssrc);
	struct capture rtp, rtcp;
	cap_open(&rtp);
	cap_open(&rtcp);
	assert_int_equal(media_set_remote(a, &rtp.addr, &rtcp.addr), 0);
	struct eofs e = {0};
	media_on_eof(a, on_eof, &e);
	static const struct media_tone beep[] = {{1000, 100}};
	assert_int_equal(media_play_tone(a, beep, 1, 10000, MEDIA_EOF_STOP), 0);
	assert_int_equal(media_start(a), 0);
	run_virtual(l, 200); /* ticks 0 .. 200: 5 packets of tone, then nothing */
	assert_int_equal(e.calls, 1);
	uint8_t p[400];
	struct rtp_hdr h, first = {0};
	unsigned n = 0;
	while (cap_next(&rtp, p, &h)) {
		if (n == 0)
			first = h;
		assert_int_equal(h.marker, n == 0);
		assert_int_equal(h.pt, 0);
		assert_int_equal(h.ssrc, a->ssrc);
		assert_int_equal(h.seq, (uint16_t)(first.seq + n));
		assert_int_equal(h.ts, first.ts + 160 * n);
		assert_int_equal(h.payload_len, 160);
		int16_t pcm[160];
		g711_decode(G711_ULAW, p + h.payload_off, pcm, 160);
		assert_true(fabs(amp_at(pcm, 160, 1000) - 10000) < 300);
		n++;
	}
	assert_int_equal(n, 5);
	/* a new source after a pause: a talkspurt, with the marker, the timestamp kept running */
	assert_int_equal(media_set_codec(a, G711_ALAW, 8, -1), 0);
	media_play_silence(a);
	run_virtual(l, 40); /* ticks at 220, 240 */
	assert_true(cap_next(&rtp, p, &h));
	assert_true(h.marker);
	assert_int_equal(h.pt, 8);
	assert_int_equal(h.seq, (uint16_t)(first.seq + 5));
	assert_int_equal(h.ts, first.ts + 160 * 11); /* ticks 0..10 elapsed before it */
	for (unsigned i = 0; i < 160; i++)
		assert_int_equal(p[h.payload_off + i], 0xd5);
	assert_true(cap_next(&rtp, p, &h));
	assert_false(h.marker);
	assert_int_equal(h.ts, first.ts + 160 * 12);
	assert_false(cap_next(&rtp, p, &h));
	/* sending off (hold): no packets, the clock still runs */
	media_set_dir(a, false, true);
	run_virtual(l, 100);
	assert_false(cap_next(&rtp, p, &h));
	media_set_dir(a, true, true);
	run_virtual(l, 20);
	assert_true(cap_next(&rtp, p, &h));
	assert_true(h.marker);
	assert_int_equal(h.ts, first.ts + 160 * 18);

	/* stop: the BYE compound is SR (we sent) + SDES CNAME + BYE */
	media_stop(a);
	uint8_t c[600];
	struct rtcp_info ri;
	ssize_t k;
	bool bye = false;
	while ((k = recv(rtcp.fd, c, sizeof(c), 0)) > 0) {
		assert_int_equal(rtcp_parse(c, (size_t)k, &ri), 0);
		assert_int_equal(ri.ssrc, a->ssrc);
		assert_true(ri.has_cname);
		assert_int_equal(ri.cname_len, strlen("ringlet@127.0.0.1"));
		assert_memory_equal(c + ri.cname_off, "ringlet@127.0.0.1", ri.cname_len);
		if (ri.bye) {
			bye = true;
			assert_true(ri.has_sr);
			assert_int_equal(ri.nrb, 0); /* nothing received */
			assert_int_equal(ri.bye_ssrc[0], a->ssrc);
			assert_int_equal(ri.si.packets, 8);
			assert_int_equal(ri.si.octets, 8 * 160);
		}
	}
	assert_true(bye);
	close(rtp.fd);
	close(rtcp.fd);
	mem_deref(a);
	mem_deref(b);
	loop_free(l);
}

/* Sources that end: silence after, looping, a custom one, a WAV file. */
static size_t count_src(void *arg, int16_t *out, size_t n)
{
	unsigned *left = arg;
	size_t k = *left < n ? *left : n;
	for (size_t i = 0; i < k; i++)
		out[i] = 1000;
	*left -= (unsigned)k;
	return k;
}

static void sources(void **state)
{
	(void)state;
	struct loop *l = vloop();
	struct media *a = session(l, NULL);
	struct capture rtp;
	cap_open(&rtp);
	assert_int_equal(media_set_remote(a, &rtp.addr, NULL), 0);
	unsigned left = 250; /* 1.56 frames */
	media_play_fn(a, count_src, &left, MEDIA_EOF_SILENCE);
	assert_int_equal(media_play_tone(a, seq_a, 0, 100, MEDIA_EOF_STOP), EINVAL);
	assert_int_equal(media_play_wav(a, "/nonexistent/x.wav", MEDIA_EOF_STOP), ENOENT);
	assert_int_equal(media_start(a), 0);
	run_virtual(l, 60);
	uint8_t p[400];
	struct rtp_hdr h;
	int16_t pcm[160];
	for (unsigned i = 0; i < 4; i++) {
		assert_true(cap_next(&rtp, p, &h));
		g711_decode(G711_ULAW, p + h.payload_off, pcm, 160);
		/* 250 samples of the source, then silence padding and silence packets */
		for (unsigned j = 0; j < 160; j++)
			assert_int_equal(pcm[j] != 0, 160 * i + j < 250);
	}
	assert_false(cap_next(&rtp, p, &h));
	/* a WAV file, looped */
	char path[128];
	snprintf(path, sizeof(path), "%s/src.wav", dir);
	struct wav_writer *w = NULL;
	assert_int_equal(wav_create(&w, path), 0);
	int16_t ramp[200];
	for (unsigned i = 0; i < 200; i++)
		ramp[i] = (int16_t)(i * 100 + 100);
	assert_int_equal(wav_write(w, ramp, 200), 0);
	mem_deref(w);
	assert_int_equal(media_play_wav(a, path, MEDIA_EOF_LOOP), 0);
	run_virtual(l, 60);
	for (unsigned i = 0; i < 3; i++) {
		assert_true(cap_next(&rtp, p, &h));
		g711_decode(G711_ULAW, p + h.payload_off, pcm, 160);
		for (unsigned j = 0; j < 160; j++) {
			int want = ramp[(160 * i + j) % 200];
			assert_true(abs(pcm[j] - want) <= want / 16 + 8);
		}
	}
	unlink(path);
	media_stop(a);
	close(rtp.fd);
	mem_deref(a);
	loop_free(l);
}

/* A sink that stops the session from inside the tick: nothing runs after that. */
struct stop_sink {
	struct media *m;
	unsigned frames;
};

static void stop_after_3(void *arg, const int16_t *pcm, size_t n)
{
	struct stop_sink *s = arg;
	(void)pcm;
	assert_int_equal(n, 160);
	if (++s->frames == 3)
		media_stop(s->m);
}

static void stop_from_callback(void **state)
{
	(void)state;
	struct loop *l = vloop();
	struct media *a = session(l, NULL);
	struct capture rtp;
	cap_open(&rtp);
	assert_int_equal(media_set_remote(a, &rtp.addr, NULL), 0);
	struct stop_sink sk = {a, 0};
	media_record_fn(a, stop_after_3, &sk);
	assert_int_equal(media_start(a), 0);
	run_virtual(l, 200);
	assert_int_equal(sk.frames, 3);
	assert_false(loop_timer_pending(&a->tick));
	assert_false(loop_timer_pending(&a->rtcp_timer));
	struct media_stats st;
	media_stats(a, &st);
	assert_int_equal(st.sent_packets, 3);
	assert_int_equal(st.frames_played, 3);
	uint8_t p[400];
	struct rtp_hdr h;
	unsigned n = 0;
	while (cap_next(&rtp, p, &h))
		n++;
	assert_int_equal(n, 3);
	assert_int_equal(media_start(a), EALREADY); /* a stopped session stays stopped */
	close(rtp.fd);
	mem_deref(a);
	loop_free(l);
}

/* ---- hostile input ---- */

static void hostile(void **state)
{
	(void)state;
	struct loop *l = vloop();
	struct media *a = session(l, NULL), *b = session(l, NULL);
	pair(a, b);
	assert_int_equal(media_start(a), 0);
	assert_int_equal(media_start(b), 0);
	run_virtual(l, 100);
	struct media_stats s0;
	media_stats(b, &s0);
	assert_true(s0.recv_packets >= 5);

	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct tp_addr me = lo_addr();
	assert_int_equal(bind(fd, &me.u.sa, tp_addr_len(&me)), 0);
	const struct tp_addr *to = media_local(b);
	struct tp_addr to_rtcp = b->local_rtcp;
	static uint8_t junk[3000];
	uint32_t x = 12345;
	unsigned sent = 0;
	for (unsigned i = 0; i < 200; i++) {
		size_t n = 1 + i * 13 % 1500;
		for (size_t j = 0; j < n; j++) {
			x = x * 1103515245 + 12345;
			junk[j] = (uint8_t)(x >> 16);
		}
		if (i % 3 == 0)
			junk[0] = 0x80; /* looks like RTP: wrong source anyway */
		sendto(fd, junk, n, 0, &to->u.sa, tp_addr_len(to));
		sendto(fd, junk, n, 0, &to_rtcp.u.sa, tp_addr_len(&to_rtcp));
		sent += 2;
		loop_once(l, 0); /* drain: the socket buffers are finite */
	}
	/* too long for the receive buffer */
	sendto(fd, junk, sizeof(junk), 0, &to->u.sa, tp_addr_len(to));
	sent++;
	run_virtual(l, 200);
	close(fd);
	/* a peer's own address sending a different payload type, a bad version, a wild SSRC */
	uint8_t pkt[172];
	struct rtp_hdr h = {.pt = 96, .seq = 1, .ts = 1, .ssrc = a->ssrc};
	size_t len;
	assert_int_equal(rtp_build(&h, NULL, junk, 160, pkt, sizeof(pkt), &len), 0);
	sendto(a->fd_rtp, pkt, len, 0, &to->u.sa, tp_addr_len(to));
	h.pt = 0;
	h.ssrc = 0xdeadbeef;
	assert_int_equal(rtp_build(&h, NULL, junk, 160, pkt, sizeof(pkt), &len), 0);
	sendto(a->fd_rtp, pkt, len, 0, &to->u.sa, tp_addr_len(to));
	sent += 2;
	run_virtual(l, 100);
	media_stop(a);
	media_stop(b);
	struct media_stats sa, sb;
	media_stats(a, &sa);
	media_stats(b, &sb);
	/* every hostile datagram was dropped, a's stream was never disturbed */
	assert_int_equal(sb.dropped, sent);
	assert_int_equal(sb.recv_packets, sa.sent_packets);
	assert_int_equal(sb.lost, 0);
	assert_int_equal(sb.concealed, 0);
	assert_int_equal(sb.frames_played, sa.frames_played);
	mem_deref(a);
	mem_deref(b);
	loop_free(l);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ringlet-media-XXXXXX");
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
		cmocka_unit_test_setup_teardown(loopback_virtual, setup, teardown),
		cmocka_unit_test_setup_teardown(loopback_real, setup, teardown),
		cmocka_unit_test_setup_teardown(lossy_relay, setup, teardown),
		cmocka_unit_test_setup_teardown(wire_format, setup, teardown),
		cmocka_unit_test_setup_teardown(sources, setup, teardown),
		cmocka_unit_test_setup_teardown(stop_from_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(hostile, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
