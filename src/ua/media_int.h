/*
 * media_int.h - the media session's state, shared by media.c (life cycle,
 * sockets), media_io.c (the 20 ms tick, RTP in and out), media_rtcp.c
 * (reports), media_src.c (sources and sinks) and media_sdp.c.
 */
#ifndef RINGLET_UA_MEDIA_INT_H
#define RINGLET_UA_MEDIA_INT_H

#include "ringlet/media.h"
#include "ringlet/wav.h"

#define MEDIA_FRAME 160u     /* samples per tick */
#define MEDIA_RXBUF 2048u    /* largest datagram taken; longer ones are dropped */
#define MEDIA_RX_BURST 64u   /* datagrams read per readiness event */

enum src_kind {
	SRC_NONE = 0, /* not sending */
	SRC_SILENCE,
	SRC_WAV,
	SRC_TONE,
	SRC_FN,
};

enum sink_kind {
	SINK_NONE = 0,
	SINK_WAV,
	SINK_FN,
};

struct media_tonegen {
	struct media_tone steps[MEDIA_TONE_MAX];
	unsigned n;
	unsigned idx;	  /* current step */
	uint32_t pos;	  /* samples into it */
	double phase;	  /* radians */
	int16_t amp;
};

struct media_src {
	enum src_kind kind;
	enum media_eof at_end;
	struct wav_reader *wav;
	struct media_tonegen tone;
	media_src_fn *fn;
	void *arg;
};

struct media_sink {
	enum sink_kind kind;
	struct wav_writer *wav;
	media_sink_fn *fn;
	void *arg;
};

struct media {
	struct loop *loop;
	struct media_cfg cfg;
	char cname[RTCP_MAX_CNAME + 1];
	char addr_str[64];	 /* local address as text (SDP) */
	int fd_rtp, fd_rtcp;
	bool watching;		 /* the fds are registered with the loop */
	struct tp_addr local, local_rtcp;
	struct tp_addr remote, remote_rtcp;
	bool have_remote;
	bool latched;		 /* the peer's RTP address is confirmed by its packets */
	bool rtcp_latched;

	enum g711_law law;
	uint8_t pt;
	int dtmf_pt;
	bool send, recv;
	bool started, stopped;
	uint64_t rnd;		 /* xorshift64* state */
	uint64_t sess_id;

	/* sending */
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;		 /* timestamp of the next frame */
	uint32_t ts0;		 /* timestamp at start_ms */
	bool talkspurt;		 /* next packet starts a talkspurt: marker bit */
	bool sent_since_report;
	uint64_t sent_packets, sent_octets;
	struct loop_timer tick;
	loop_ms start_ms, next_tick;
	struct media_src src;
	bool eof_pending;	 /* the source ended during this tick */
	media_eof_fn *eof_fn;
	void *eof_arg;

	/* receiving */
	struct media_sink sink;
	bool have_peer;		 /* peer_ssrc known */
	uint32_t peer_ssrc;
	struct rtp_src rs;
	loop_ms last_rx;
	uint64_t recv_packets, recv_octets, dropped, frames_played;
	uint32_t seen_top;	 /* extended seq of the newest packet ... */
	uint64_t seen[2];	 /* ... and a bitmap of the 128 before it: duplicates */
	uint64_t duplicates;
	struct rtp_jb jb;

	/* RTCP */
	struct loop_timer rtcp_timer;
	uint32_t rtcp_sent, rtcp_recv;
	loop_ms t0;		 /* loop time at alloc ... */
	uint64_t ntp0;		 /* ... and the wall clock then, NTP format */
	bool have_sr;		 /* LSR/DLSR: the peer's last SR */
	uint32_t sr_lsr;
	loop_ms sr_at;
	bool peer_report, peer_bye;
	uint8_t peer_fraction;
	int32_t peer_lost;
	uint32_t peer_jitter;
	double rtt_ms;

	uint8_t buf[MEDIA_RXBUF]; /* receive and send buffer */
};

/* media.c */
uint64_t media_rand(struct media *m);
void media_addr_set_port(struct tp_addr *a, uint16_t port);

/* media_io.c */
void media_tick(void *arg);
void media_rtp_readable(int fd, unsigned events, void *arg);

/* media_rtcp.c */
uint64_t media_ntp_now(const struct media *m);
void media_rtcp_schedule(struct media *m, bool first);
void media_rtcp_send(struct media *m, bool bye);
void media_rtcp_readable(int fd, unsigned events, void *arg);
void media_rtcp_input(struct media *m, const uint8_t *buf, size_t len);

/* media_src.c */
size_t media_src_read(struct media *m, int16_t *out, size_t n);
void media_src_release(struct media_src *s);
void media_sink_put(struct media *m, const int16_t *pcm, size_t n);
void media_sink_release(struct media_sink *s);

#endif
