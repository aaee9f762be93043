/*
 * media.h - one audio stream of a call: G.711 over RTP/RTCP on UDP, driven
 * by the loop.
 *
 * A media session owns two non-blocking UDP sockets (RTP on an even port,
 * RTCP on the next one) registered with the loop, a 20 ms timer that sends
 * one packet (160 samples) per tick and plays one frame out of the jitter
 * buffer into the sink, and an RTCP timer (SR/RR about every 5 s,
 * randomised as RFC 3550 §6.2 says, BYE at the end).
 *
 * Life cycle: media_alloc() binds the sockets; the SDP helpers build our
 * offer or answer and take the peer's address, port and codec from its
 * description (or media_set_remote/media_set_codec do it by hand);
 * media_start() starts the clocks; media_stop() sends the RTCP BYE, stops
 * the clocks and closes the recording; mem_deref() frees.  Sources (what we
 * send) and sinks (where received audio goes) can be swapped at any time.
 *
 * Receive path: only packets of the negotiated payload type, from the
 * peer's address (symmetric RTP, RFC 4961: with latching on, the first
 * valid packet from anywhere fixes the peer's address when none was
 * learnt yet, and we send there), of one SSRC (a new SSRC is taken when the
 * old one has been silent for a second) are played; everything else is
 * counted and dropped.  The recording gets one frame per tick from start to
 * stop, silence where packets were lost, so its length is the call's.
 */
#ifndef RINGLET_MEDIA_H
#define RINGLET_MEDIA_H

#include <stdbool.h>
#include <stdint.h>

#include "ringlet/g711.h"
#include "ringlet/loop.h"
#include "ringlet/msg_sdp.h"
#include "ringlet/rtp.h"
#include "ringlet/tp.h"

struct media;

#define MEDIA_PTIME 20u	      /* ms per packet */
#define MEDIA_DTMF_PT 101u    /* telephone-event payload type we offer */

/* Options of media_alloc; zero-initialised means the defaults. */
struct media_cfg {
	uint16_t port_min, port_max; /* RTP port range (even ports used); 0, 0: ephemeral */
	uint32_t jb_delay_ms;	     /* playout delay; 0: 60 */
	enum rtp_jb_plc plc;	     /* loss concealment; default silence */
	uint32_t rtcp_interval_ms;   /* mean RTCP interval; 0: 5000 */
	bool no_latch;		     /* do not learn the peer's address from its packets */
	const char *cname;	     /* RTCP CNAME (copied); NULL: "ringlet@<local address>" */
};

/*
 * Create a session bound to local (a concrete address, not a wildcard: it
 * goes into our SDP's c= line; the port is ignored):
 * an even RTP port from cfg's range (random start, every even port tried)
 * or, without a range, an ephemeral even port whose successor is free too;
 * RTCP on port + 1.  Random SSRC, initial sequence number and timestamp.
 * cfg may be NULL.  Returns 0 and one reference in *out, EADDRINUSE (no
 * port pair free), EINVAL (no usable address) or ENOMEM / a socket errno.
 */
int media_alloc(struct media **out, struct loop *l, const struct tp_addr *local,
		const struct media_cfg *cfg);

/* The local RTP address (with its port); RTCP is on the port after it. */
const struct tp_addr *media_local(const struct media *m);
/* The local RTP port. */
uint16_t media_port(const struct media *m);

/*
 * Where to send RTP and RTCP (rtcp NULL: the RTP address with port + 1).
 * Changing the address re-learns the peer (latching starts again).
 * Returns 0 or EINVAL (family differs from the local address').
 */
int media_set_remote(struct media *m, const struct tp_addr *rtp, const struct tp_addr *rtcp);

/*
 * The codec to send with and expect: G.711 law and its payload type (0 or
 * 8 normally; a peer may map it to another number in its SDP).  dtmf_pt:
 * the telephone-event payload type, accepted and ignored, -1 for none.
 * Returns 0 or EINVAL (pt > 127).
 */
int media_set_codec(struct media *m, enum g711_law law, uint8_t pt, int dtmf_pt);

/* Whether we send and/or play what arrives (RFC 3264 §6.1 directions). */
void media_set_dir(struct media *m, bool send, bool recv);

/* Start sending, receiving and RTCP.  Returns 0, EALREADY or an errno from the loop. */
int media_start(struct media *m);

/*
 * Stop: send an RTCP BYE (when started and a peer is known), cancel the
 * timers, stop watching the sockets, close the sink (the WAV file is
 * complete after this).  The stats stay readable.  Safe to call twice.
 */
void media_stop(struct media *m);

/* ---- sources (what we send) ---- */

/* What the sender does when a file or tone source ends. */
enum media_eof {
	MEDIA_EOF_SILENCE = 0, /* keep sending silence packets */
	MEDIA_EOF_STOP = 1,    /* stop sending (the next source starts a talkspurt, marker bit) */
	MEDIA_EOF_LOOP = 2,    /* start the source again */
};

/* One step of a tone sequence. */
struct media_tone {
	uint16_t freq_hz;     /* 0: silence */
	uint16_t ms;	      /* duration */
};

#define MEDIA_TONE_MAX 16u

/*
 * Called (on the loop, at the end of the tick) when a file, tone or custom
 * source has ended and the sender went to silence or stopped (not when it
 * loops).  It may start another source, stop or even free the session.
 */
typedef void media_eof_fn(struct media *m, void *arg);

/*
 * Custom source: write n samples (8 kHz, mono) to out; return how many
 * were written (fewer: the source has ended).  Called from the tick: it
 * may stop the session, but must not change the source or free the session
 * (media_on_eof's callback may).
 */
typedef size_t media_src_fn(void *arg, int16_t *out, size_t n);
/* Custom sink: n samples played out at this tick.  Same rules as media_src_fn. */
typedef void media_sink_fn(void *arg, const int16_t *pcm, size_t n);

/* Send silence (the default source). */
void media_play_silence(struct media *m);

/*
 * Send the file at path (any format wav_open reads), then act as at_end
 * says.  Returns 0 or an errno of wav_open (the old source is kept then).
 */
int media_play_wav(struct media *m, const char *path, enum media_eof at_end);

/*
 * Send a tone sequence (up to MEDIA_TONE_MAX steps) at amplitude amp
 * (0..32767), then act as at_end says.  Returns 0 or EINVAL.
 */
int media_play_tone(struct media *m, const struct media_tone *steps, unsigned n, int16_t amp,
		    enum media_eof at_end);

/* Send what fn produces, then act as at_end says.  fn's arg is borrowed. */
void media_play_fn(struct media *m, media_src_fn *fn, void *arg, enum media_eof at_end);

/* Tell fn(m, arg) when a source ends (NULL: nobody). */
void media_on_eof(struct media *m, media_eof_fn *fn, void *arg);

/* ---- sinks (where received audio goes) ---- */

/* Discard received audio (the default sink). */
void media_record_none(struct media *m);

/*
 * Record the received audio to path as 8 kHz mono 16-bit PCM WAV, one
 * frame per tick from now on (silence where nothing arrived).  Returns 0 or
 * an errno of wav_create (the old sink is kept then).
 */
int media_record_wav(struct media *m, const char *path);

/* Give every played-out frame to fn(arg, ...).  arg is borrowed. */
void media_record_fn(struct media *m, media_sink_fn *fn, void *arg);

/* ---- statistics ---- */

struct media_stats {
	/* sending */
	uint64_t sent_packets;
	uint64_t sent_octets;	    /* payload octets */
	/* receiving (RFC 3550 A.1/A.3/A.8) */
	uint64_t recv_packets;	    /* valid packets accepted for playout (no duplicates) */
	uint64_t recv_octets;
	int64_t lost;		    /* expected - received (A.3), duplicates not counted as received */
	uint32_t expected;
	double jitter_ms;	    /* interarrival jitter (A.8) */
	uint64_t duplicates;	    /* packets seen before (sequence numbers, last 128) */
	uint64_t late;		    /* arrived after their playout time */
	uint64_t concealed;	    /* frames played with missing audio (after the first packet) */
	uint64_t dropped;	    /* wrong source, payload type or SSRC; malformed */
	uint64_t frames_played;	    /* frames given to the sink */
	/* RTCP */
	uint32_t rtcp_sent;
	uint32_t rtcp_recv;
	bool peer_report;	    /* the peer sent a report block about our stream */
	uint8_t peer_fraction;	    /* its latest: fraction lost, 1/256 */
	int32_t peer_lost;	    /* cumulative lost */
	double peer_jitter_ms;
	double rtt_ms;		    /* from LSR/DLSR (§6.4.1); < 0: not measured */
	bool peer_bye;		    /* the peer sent an RTCP BYE */
};

/* The session's counters now. */
void media_stats(const struct media *m, struct media_stats *out);

/* ---- SDP (RFC 3264 with msg_sdp) ---- */

/*
 * Fill d with our offer: session fields (user "ringlet", random id, version
 * 1: bump d->sess_ver for a re-offer, addr from the local address) and one
 * audio stream on our RTP port with
 * PCMU (0) and PCMA (8), plus telephone-event (101) when dtmf, a=ptime:20,
 * sendrecv.  Print it with msg_sdp_desc_print; strings point to static text
 * and to buffers inside m, valid while m lives.
 */
void media_sdp_offer(struct media *m, struct msg_sdp_desc *d, bool dtmf);

/*
 * Take the peer's answer to our offer: the first audio stream that is not
 * rejected gives the codec (msg_sdp_chosen), its connection address and port
 * the remote (RTCP on port + 1), its direction ours.  Returns 0, ENOENT (no
 * audio stream accepted with a codec we offered) or EINVAL (bad address).
 */
int media_sdp_answered(struct media *m, const struct msg_sdp *answer);

/*
 * Answer the peer's offer: build our answer into d (msg_sdp_answer with
 * PCMU, PCMA and telephone-event, our port, ptime 20, session fields as in
 * media_sdp_offer) and take the codec, remote address and direction of the
 * first accepted audio stream.  Strings in d point into offer->buf too.
 * Returns 0; ENOENT when no audio stream could be accepted (the caller
 * answers 488; d is still a valid answer with every stream rejected);
 * EINVAL (bad address or offer).
 */
int media_sdp_answer(struct media *m, const struct msg_sdp *offer, struct msg_sdp_desc *d);

#endif
