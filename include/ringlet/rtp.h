/*
 * rtp.h - RTP and RTCP (RFC 3550) without I/O: packet parse and build,
 * the receiver statistics of Appendix A (sequence validity A.1, loss A.3,
 * interarrival jitter A.8), RTCP compound packets (§6.4 SR/RR, §6.5 SDES,
 * §6.6 BYE) and a playout (jitter) buffer.
 *
 * Parsers never allocate and never read outside the buffer they are given;
 * results are offsets into it.  Every input is hostile: bad packets give
 * EBADMSG.  The media session (media.h) ties these to sockets and a loop.
 */
#ifndef RINGLET_RTP_H
#define RINGLET_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- RTP data packets (RFC 3550 §5.1) ---- */

#define RTP_VERSION 2u
#define RTP_HDR_LEN 12u   /* fixed header */
#define RTP_MAX_CSRC 15u  /* the CC field has 4 bits */

/* A parsed (or to-be-built) RTP header.  Offsets are relative to the packet. */
struct rtp_hdr {
	bool marker;
	uint8_t pt;    /* payload type, 0..127 */
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint8_t cc;    /* number of CSRCs */
	uint32_t csrc[RTP_MAX_CSRC];
	bool ext;      /* header extension present (§5.3.1) */
	uint16_t ext_profile;  /* "defined by profile" field */
	uint16_t ext_words;    /* extension length in 32-bit words, excluding its 4-byte header */
	uint32_t ext_off;      /* offset of the extension data (after its header) */
	uint8_t pad;   /* padding octets at the end (count included); 0: none */
	uint32_t payload_off;
	uint32_t payload_len;
};

/*
 * Parse the RTP packet buf[0 .. len) into *h (RFC 3550 §5.1, A.1 header
 * checks): version 2, the CSRC list and the extension inside the packet, a
 * padding count of at least 1 that leaves the header intact, and a payload
 * type that is not 72..76 (those are RTCP SR/RR/SDES/BYE/APP with the marker
 * bit, RFC 5761 §4).  An empty payload is allowed.
 * Returns 0, or EBADMSG (*h is then unspecified).  Never reads past len.
 */
int rtp_parse(const uint8_t *buf, size_t len, struct rtp_hdr *h);

/*
 * Build an RTP packet into out[0 .. cap): the header from h (marker, pt, seq,
 * ts, ssrc, cc + csrc; ext/ext_profile/ext_words with ext_data of
 * 4 * ext_words bytes when h->ext), then payload[0 .. plen), then h->pad
 * padding octets (0: no padding bit; else the last octet holds the count).
 * Offsets in h are ignored.  Sets *outlen.  Returns 0, EINVAL (pt > 127,
 * cc > 15) or EMSGSIZE (cap too small).
 */
int rtp_build(const struct rtp_hdr *h, const uint8_t *ext_data, const uint8_t *payload,
	      size_t plen, uint8_t *out, size_t cap, size_t *outlen);

/* ---- receiver statistics (RFC 3550 Appendix A.1, A.3, A.8) ---- */

#define RTP_MAX_DROPOUT 3000u /* A.1: largest forward jump kept in sequence */
#define RTP_MAX_MISORDER 100u /* A.1: largest backward jump taken as reordering */
#define RTP_SEQ_MOD (1u << 16)

/* The state kept per source (A.1 struct source, plus A.8's transit and jitter). */
struct rtp_src {
	uint16_t max_seq;	/* highest seq number seen */
	uint32_t cycles;	/* shifted count of seq number cycles */
	uint32_t base_seq;	/* base seq number */
	uint32_t bad_seq;	/* last 'bad' seq number + 1 */
	uint32_t probation;	/* sequential packets till source is valid */
	uint32_t received;	/* packets received (duplicates included, as in A.1) */
	uint32_t expected_prior; /* packets expected at last interval */
	uint32_t received_prior; /* packets received at last interval */
	uint32_t min_sequential; /* probation length of a new source */
	bool have_transit;
	uint32_t transit;	/* relative transit time for previous packet (A.8) */
	uint32_t jitter;	/* estimated jitter, scaled by 16 (A.8) */
};

/*
 * Start tracking a source whose first packet has sequence number seq (A.1
 * init_seq after the probation set-up).  min_sequential is the number of
 * packets in sequence needed before the source counts as valid: A.1
 * suggests 2; 1 accepts the first packet (fine when the source is already
 * authenticated by address, SSRC and payload type).  0 is taken as 1.
 */
void rtp_src_init(struct rtp_src *s, uint16_t seq, uint32_t min_sequential);

/*
 * Account for a packet with sequence number seq (A.1 update_seq).  Returns
 * true if the packet is valid (in probation order, in sequence, a small jump,
 * reordered or duplicate: A.1 counts all of those as received), false if it
 * is dropped (still in probation, or a large jump that has not been
 * confirmed by the next packet; two sequential such packets re-sync).
 */
bool rtp_src_update(struct rtp_src *s, uint16_t seq);

/*
 * Update the interarrival jitter with a valid packet's RTP timestamp and
 * its arrival time in the same units (A.8).  The first call only records
 * the transit time.
 */
void rtp_src_jitter(struct rtp_src *s, uint32_t rtp_ts, uint32_t arrival);

/* Extended highest sequence number received (A.3: cycles + max_seq). */
uint32_t rtp_src_ext_max(const struct rtp_src *s);
/* Packets expected so far (A.3). */
uint32_t rtp_src_expected(const struct rtp_src *s);
/* Cumulative number of packets lost (A.3), clamped to 24-bit signed. */
int32_t rtp_src_lost(const struct rtp_src *s);
/*
 * Fraction lost since the previous call, in 1/256 (A.3); advances the
 * interval (the "prior" counters), so call it once per report.
 */
uint8_t rtp_src_fraction(struct rtp_src *s);
/* The jitter as carried in a report block: A.8's estimate in timestamp units. */
static inline uint32_t rtp_src_jitter_ts(const struct rtp_src *s)
{
	return s->jitter >> 4;
}

/* ---- RTCP (RFC 3550 §6) ---- */

#define RTCP_SR 200u
#define RTCP_RR 201u
#define RTCP_SDES 202u
#define RTCP_BYE 203u
#define RTCP_APP 204u
#define RTCP_MAX_RB 31u   /* report blocks in one SR/RR (5-bit count) */
#define RTCP_MAX_CNAME 255u

/* One report block (§6.4.1). */
struct rtcp_rb {
	uint32_t ssrc;	   /* source this block is about */
	uint8_t fraction;  /* fraction lost, 1/256 */
	int32_t lost;	   /* cumulative packets lost, 24-bit signed */
	uint32_t ext_max;  /* extended highest sequence number received */
	uint32_t jitter;   /* interarrival jitter, timestamp units */
	uint32_t lsr;	   /* middle 32 bits of the last SR's NTP time; 0: none */
	uint32_t dlsr;	   /* delay since that SR, 1/65536 s */
};

/* The sender info of an SR (§6.4.1). */
struct rtcp_sender {
	uint64_t ntp;	   /* NTP timestamp, 32.32 fixed point */
	uint32_t rtp_ts;   /* the same instant in RTP timestamp units */
	uint32_t packets;  /* packets sent */
	uint32_t octets;   /* payload octets sent */
};

/*
 * A compound packet to build: SR (sender) or RR, then SDES with CNAME
 * (§6.1: every compound packet carries one), then BYE if bye.
 */
struct rtcp_report {
	uint32_t ssrc;
	bool sender;		/* SR with sender info; else RR */
	struct rtcp_sender si;
	uint8_t nrb;
	struct rtcp_rb rb[RTCP_MAX_RB];
	const char *cname;	/* NUL-terminated, at most RTCP_MAX_CNAME bytes; NULL: none */
	bool bye;
	const char *reason;	/* BYE reason (NULL: none), at most 255 bytes */
};

/*
 * Build the compound packet r into out[0 .. cap), sets *outlen.  Returns 0,
 * EINVAL (nrb > 31, cname or reason too long) or EMSGSIZE.
 */
int rtcp_build(const struct rtcp_report *r, uint8_t *out, size_t cap, size_t *outlen);

/* What rtcp_parse found in a compound packet; offsets are into the packet. */
struct rtcp_info {
	uint8_t npackets;	/* RTCP packets in the compound */
	bool has_sr, has_rr;	/* the first SR or RR found */
	uint32_t ssrc;		/* its sender */
	struct rtcp_sender si;	/* valid if has_sr */
	uint8_t nrb;
	struct rtcp_rb rb[RTCP_MAX_RB];
	bool has_cname;
	uint32_t cname_ssrc;
	uint32_t cname_off;	/* first CNAME item of the first SDES chunk that has one */
	uint8_t cname_len;
	bool bye;
	uint8_t nbye;		/* SSRCs in the first BYE (at most 31) */
	uint32_t bye_ssrc[RTCP_MAX_RB];
	uint32_t reason_off;	/* BYE reason; reason_len 0: none */
	uint8_t reason_len;
};

/*
 * Parse the compound RTCP packet buf[0 .. len) (§6.1, A.2 validity): every
 * packet has version 2 and a length inside the compound, the lengths add up
 * to the whole, only the last packet may be padded, report/SDES/BYE
 * contents fit their packet; unknown packet types (APP, RTPFB, ...) are
 * skipped.  The first packet must be SR or RR, except that a compound of a
 * single packet of another type is accepted (RFC 5506 reduced size).
 * Returns 0 or EBADMSG.  Never reads past len, bounded work (at most len / 4
 * packets).
 */
int rtcp_parse(const uint8_t *buf, size_t len, struct rtcp_info *out);

/* True if the packet looks like RTCP rather than RTP (RFC 5761 §4: type 192..223). */
bool rtcp_is_rtcp(const uint8_t *buf, size_t len);

/* ---- playout buffer ---- */

#define RTP_JB_SAMPLES 8192u /* capacity: 1.024 s at 8 kHz (power of two) */

/* Loss concealment at playout. */
enum rtp_jb_plc {
	RTP_JB_PLC_SILENCE = 0, /* missing audio plays as silence */
	RTP_JB_PLC_REPEAT = 1,	/* repeat the last frame once, at half level; then silence */
};

struct rtp_jb_stats {
	uint64_t frames;      /* frames played out */
	uint64_t concealed;   /* frames with missing samples */
	uint64_t late;	      /* packets that came after their playout time */
	uint64_t duplicates;  /* packets whose samples were already buffered */
	uint64_t overflow;    /* packets too far ahead of playout (dropped) */
	uint64_t resyncs;     /* playout point moved to follow the sender */
};

/*
 * A timestamp-indexed playout buffer: a packet's samples go to the slots of
 * their RTP timestamps, the playout point trails the first packet by a fixed
 * delay and advances one frame per get.  Reordering within the delay is
 * absorbed, duplicates and late packets are counted and dropped, gaps play
 * as silence (or a repeat), a large timestamp jump resynchronises.  Fixed
 * size (about 25 KiB), no allocation: embed it.
 */
struct rtp_jb {
	uint32_t delay;	    /* playout delay, samples */
	enum rtp_jb_plc plc;
	bool started;
	uint32_t play_ts;   /* RTP timestamp of the next sample to play */
	uint32_t end_ts;    /* end of the newest packet seen */
	uint32_t late_run;  /* consecutive late or too-early packets */
	bool last_ok;	    /* the previous frame was real audio (for PLC_REPEAT) */
	bool playing;	    /* real audio has been played since the last (re)start */
	struct rtp_jb_stats st;
	int16_t last[160];
	int16_t pcm[RTP_JB_SAMPLES];
	uint8_t have[RTP_JB_SAMPLES];
};

/* Reset jb with a playout delay in samples (0: 480, 60 ms at 8 kHz; capped to half the buffer). */
void rtp_jb_init(struct rtp_jb *jb, uint32_t delay, enum rtp_jb_plc plc);

/*
 * Put n decoded samples whose first sample has RTP timestamp ts (a packet
 * of more than half the ring keeps its start only; samples before the
 * playout point are dropped).  Returns 0 (buffered), EALREADY (duplicate:
 * every sample was already there), ETIME (late: entirely before the playout
 * point), or ENOSPC (beyond the ring: dropped).  The first packet starts
 * playout; RESYNC_RUN (4) late or too-early packets in a row move the
 * playout point to the newest one (the sender jumped).  The counters in
 * jb->st are updated.
 */
int rtp_jb_put(struct rtp_jb *jb, uint32_t ts, const int16_t *pcm, size_t n);

/*
 * Take the next n samples (n is capped at 160: one frame) at the playout
 * point into out and advance it; before the first packet, and for samples
 * that never came, out gets silence (or the repeat of RTP_JB_PLC_REPEAT).
 * If more than delay + 200 ms is buffered (the sender's clock runs fast),
 * the playout point first skips ahead to the delay.  Returns the number of
 * samples that were real audio (n: a complete frame).
 */
size_t rtp_jb_get(struct rtp_jb *jb, int16_t *out, size_t n);

/* Samples buffered ahead of the playout point (end of the newest packet minus it). */
uint32_t rtp_jb_depth(const struct rtp_jb *jb);

#endif
