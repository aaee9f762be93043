/*
 * rtp_src.c - per-source receiver statistics, as RFC 3550 Appendix A lays
 * them out: sequence number validity and the extended sequence number
 * (A.1), expected and lost packets (A.3), interarrival jitter (A.8).
 */
#include <string.h>

#include "ringlet/rtp.h"

/* A.1 init_seq: (re)start counting at seq. */
static void init_seq(struct rtp_src *s, uint16_t seq)
{
	s->base_seq = seq;
	s->max_seq = seq;
	s->bad_seq = RTP_SEQ_MOD + 1; /* so seq == bad_seq is false */
	s->cycles = 0;
	s->received = 0;
	s->received_prior = 0;
	s->expected_prior = 0;
}

void rtp_src_init(struct rtp_src *s, uint16_t seq, uint32_t min_sequential)
{
	memset(s, 0, sizeof(*s));
	s->min_sequential = min_sequential ? min_sequential : 1;
	init_seq(s, seq);
	s->max_seq = (uint16_t)(seq - 1);
	s->probation = s->min_sequential;
}

bool rtp_src_update(struct rtp_src *s, uint16_t seq)
{
	uint16_t udelta = (uint16_t)(seq - s->max_seq);

	/* the source is not valid until min_sequential packets in sequence came */
	if (s->probation) {
		if (seq == (uint16_t)(s->max_seq + 1)) {
			s->probation--;
			s->max_seq = seq;
			if (s->probation == 0) {
				init_seq(s, seq);
				s->received++;
				return true;
			}
		} else {
			s->probation = s->min_sequential - 1;
			s->max_seq = seq;
		}
		return false;
	}
	if (udelta < RTP_MAX_DROPOUT) {
		/* in order, with a permissible gap */
		if (seq < s->max_seq)
			s->cycles += RTP_SEQ_MOD; /* sequence number wrapped */
		s->max_seq = seq;
	} else if (udelta <= RTP_SEQ_MOD - RTP_MAX_MISORDER) {
		/* a very large jump */
		if (seq == s->bad_seq) {
			/* two sequential packets: the sender restarted; re-sync */
			init_seq(s, seq);
			s->have_transit = false;
		} else {
			s->bad_seq = (seq + 1u) & (RTP_SEQ_MOD - 1);
			return false;
		}
	}
	/* else: a duplicate or reordered packet */
	s->received++;
	return true;
}

void rtp_src_jitter(struct rtp_src *s, uint32_t rtp_ts, uint32_t arrival)
{
	uint32_t transit = arrival - rtp_ts;
	if (!s->have_transit) {
		s->have_transit = true;
		s->transit = transit;
		return;
	}
	int32_t d = (int32_t)(transit - s->transit);
	s->transit = transit;
	uint32_t ad = d < 0 ? (uint32_t)0 - (uint32_t)d : (uint32_t)d;
	/* J += (|D| - J) / 16, with J kept scaled by 16 (A.8); a wild D is capped */
	if (ad > (1u << 24))
		ad = 1u << 24;
	s->jitter += ad - ((s->jitter + 8) >> 4);
}

uint32_t rtp_src_ext_max(const struct rtp_src *s)
{
	return s->cycles + s->max_seq;
}

uint32_t rtp_src_expected(const struct rtp_src *s)
{
	if (s->probation)
		return 0;
	return rtp_src_ext_max(s) - s->base_seq + 1;
}

int32_t rtp_src_lost(const struct rtp_src *s)
{
	int64_t lost = (int64_t)rtp_src_expected(s) - (int64_t)s->received;
	if (lost > 0x7fffff)
		return 0x7fffff;
	if (lost < -0x800000)
		return -0x800000;
	return (int32_t)lost;
}

uint8_t rtp_src_fraction(struct rtp_src *s)
{
	uint32_t expected = rtp_src_expected(s);
	uint32_t expected_interval = expected - s->expected_prior;
	uint32_t received_interval = s->received - s->received_prior;
	s->expected_prior = expected;
	s->received_prior = s->received;
	if (expected_interval == 0 || received_interval >= expected_interval)
		return 0;
	uint64_t lost_interval = expected_interval - received_interval;
	return (uint8_t)((lost_interval << 8) / expected_interval);
}
