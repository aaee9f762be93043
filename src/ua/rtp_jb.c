/*
 * rtp_jb.c - the playout buffer: decoded samples indexed by their RTP
 * timestamp in a ring of RTP_JB_SAMPLES slots, with a fixed playout delay.
 *
 * The playout point starts `delay` samples before the first packet's
 * timestamp and advances by one frame per tick, so a packet is played
 * `delay` after its due time: later packets within that window (reordered,
 * jittered) are simply written into their slots.  Slots are cleared as
 * they are played, so the ring never holds stale audio.  Timing comes from
 * the timestamps, not from arrival order or sequence numbers, so any packet
 * size works and lost packets leave silent holes of the right length.
 *
 * Following the sender: a run of late packets (our clock runs ahead of the
 * sender's, or the sender jumped back) or of packets beyond the ring (the
 * sender jumped forward) moves the playout point to the newest packet less
 * the delay; a buffer that grew 200 ms past the delay (the sender's clock
 * runs fast) is trimmed the same way.
 */
#include <errno.h>
#include <string.h>

#include "ringlet/rtp.h"

#define MASK (RTP_JB_SAMPLES - 1u)
#define FRAME 160u
#define RESYNC_RUN 4u	    /* consecutive late (or far) packets before following the sender */
#define DRIFT_MAX 1600u	    /* samples above the delay before the buffer is trimmed (200 ms) */

_Static_assert((RTP_JB_SAMPLES & MASK) == 0, "ring size is a power of two");

void rtp_jb_init(struct rtp_jb *jb, uint32_t delay, enum rtp_jb_plc plc)
{
	memset(jb, 0, sizeof(*jb));
	if (delay == 0)
		delay = 480;
	if (delay > RTP_JB_SAMPLES / 2)
		delay = RTP_JB_SAMPLES / 2;
	jb->delay = delay;
	jb->plc = plc;
}

/* Start (or restart) playout `delay` before ts, with an empty ring. */
static void resync(struct rtp_jb *jb, uint32_t ts)
{
	if (jb->started)
		jb->st.resyncs++;
	memset(jb->have, 0, sizeof(jb->have));
	jb->started = true;
	jb->play_ts = ts - jb->delay;
	jb->end_ts = ts;
	jb->late_run = 0;
	jb->playing = false;
}

/* Store samples [from, n) of a packet; returns how many slots were new. */
static size_t store(struct rtp_jb *jb, uint32_t ts, const int16_t *pcm, size_t from, size_t n)
{
	size_t fresh = 0;
	for (size_t i = from; i < n; i++) {
		uint32_t k = (ts + (uint32_t)i) & MASK;
		if (jb->have[k])
			continue;
		jb->have[k] = 1;
		jb->pcm[k] = pcm[i];
		fresh++;
	}
	return fresh;
}

int rtp_jb_put(struct rtp_jb *jb, uint32_t ts, const int16_t *pcm, size_t n)
{
	if (n == 0)
		return 0;
	if (n > RTP_JB_SAMPLES / 2)
		n = RTP_JB_SAMPLES / 2; /* a packet longer than half a second: keep its start */
	if (!jb->started)
		resync(jb, ts);
	int64_t rel = (int32_t)(ts - jb->play_ts); /* where the packet starts, from playout */
	if (rel + (int64_t)n <= 0 || rel + (int64_t)n > (int64_t)RTP_JB_SAMPLES) {
		/* all of it already played, or beyond the ring */
		bool late = rel + (int64_t)n <= 0;
		if (++jb->late_run < RESYNC_RUN) {
			if (late)
				jb->st.late++;
			else
				jb->st.overflow++;
			return late ? ETIME : ENOSPC;
		}
		resync(jb, ts);
		rel = jb->delay;
	}
	jb->late_run = 0;
	size_t from = rel < 0 ? (size_t)-rel : 0; /* drop what was already played */
	size_t fresh = store(jb, ts, pcm, from, n);
	uint32_t end = ts + (uint32_t)n;
	if ((int32_t)(end - jb->end_ts) > 0)
		jb->end_ts = end;
	if (fresh == 0) {
		jb->st.duplicates++;
		return EALREADY;
	}
	return 0;
}

/* Skip the playout point forward to `delay` before the newest audio. */
static void trim(struct rtp_jb *jb)
{
	uint32_t target = jb->end_ts - jb->delay;
	while (jb->play_ts != target) {
		jb->have[jb->play_ts & MASK] = 0;
		jb->play_ts++;
	}
	jb->st.resyncs++;
}

size_t rtp_jb_get(struct rtp_jb *jb, int16_t *out, size_t n)
{
	if (n > FRAME)
		n = FRAME;
	if (!jb->started) {
		memset(out, 0, n * sizeof(*out));
		return 0;
	}
	if (rtp_jb_depth(jb) > jb->delay + DRIFT_MAX)
		trim(jb);
	size_t real = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t k = (jb->play_ts + (uint32_t)i) & MASK;
		if (jb->have[k]) {
			out[i] = jb->pcm[k];
			jb->have[k] = 0;
			real++;
		} else {
			out[i] = 0;
		}
	}
	jb->play_ts += (uint32_t)n;
	jb->st.frames++;
	if (real)
		jb->playing = true;
	if (real == n) {
		memcpy(jb->last, out, n * sizeof(*out));
		memset(jb->last + n, 0, (FRAME - n) * sizeof(*out));
		jb->last_ok = true;
		return real;
	}
	/* a hole: count it when audio came before and after it (else the playout
	 * delay is running out, or the sender is just idle) */
	if (jb->playing && (int32_t)(jb->end_ts - jb->play_ts) > 0)
		jb->st.concealed++;
	if (real == 0 && jb->plc == RTP_JB_PLC_REPEAT && jb->last_ok)
		for (size_t i = 0; i < n; i++)
			out[i] = (int16_t)(jb->last[i] / 2);
	jb->last_ok = false;
	return real;
}

uint32_t rtp_jb_depth(const struct rtp_jb *jb)
{
	int32_t d = (int32_t)(jb->end_ts - jb->play_ts);
	return jb->started && d > 0 ? (uint32_t)d : 0;
}
