/*
 * media_io.c - the 20 ms tick (send one RTP packet, play one frame out of
 * the jitter buffer) and the RTP receive path (RFC 3550 §5.1, A.1, A.8).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#define LOG_MODULE "media"
#include "ringlet/log.h"
#include "ringlet/mem.h"
#include "ua/media_int.h"

#define CATCH_UP 10u	     /* packets sent at once after a stall; the others are skipped */
#define PLAY_UP 500u	     /* frames played at once after a stall (10 s); beyond, time is lost */
#define SSRC_SWITCH_MS 1000u /* a new SSRC is taken after the old one was silent this long */

/* Send one frame of the source, if we send and know where to. */
static void send_frame(struct media *m)
{
	int16_t pcm[MEDIA_FRAME];
	uint8_t pay[MEDIA_FRAME];
	uint32_t ts = m->ts;
	m->ts += MEDIA_FRAME; /* the clock runs whether or not we send (§5.1) */
	if (!m->send || !m->have_remote) {
		m->talkspurt = true;
		return;
	}
	size_t n = media_src_read(m, pcm, MEDIA_FRAME);
	if (m->stopped)
		return; /* a custom source stopped the session */
	if (n == 0) {
		m->talkspurt = true;
		return;
	}
	memset(pcm + n, 0, (MEDIA_FRAME - n) * sizeof(*pcm));
	g711_encode(m->law, pcm, pay, MEDIA_FRAME);
	struct rtp_hdr h = {.marker = m->talkspurt, .pt = m->pt, .seq = m->seq, .ts = ts,
			    .ssrc = m->ssrc};
	size_t len;
	if (rtp_build(&h, NULL, pay, MEDIA_FRAME, m->buf, sizeof(m->buf), &len) != 0)
		return;
	ssize_t k = sendto(m->fd_rtp, m->buf, len, 0, &m->remote.u.sa, tp_addr_len(&m->remote));
	if (k < 0)
		log_debug_rl("event=send-failed errno=%d", errno);
	/* a packet lost to a local error is still a packet of the stream: count it */
	m->seq++;
	m->talkspurt = false;
	m->sent_packets++;
	m->sent_octets += MEDIA_FRAME;
	m->sent_since_report = true;
}

static void play_frame(struct media *m)
{
	int16_t pcm[MEDIA_FRAME];
	if (m->recv)
		rtp_jb_get(&m->jb, pcm, MEDIA_FRAME);
	else
		memset(pcm, 0, sizeof(pcm));
	media_sink_put(m, pcm, MEDIA_FRAME);
	m->frames_played++;
}

void media_tick(void *arg)
{
	struct media *m = arg;
	loop_ms now = loop_now(m->loop);
	unsigned n = 0;
	while (m->next_tick <= now && n < PLAY_UP) {
		/* after a stall, send at most CATCH_UP packets at once (no bursts);
		 * the recording still gets every frame, so its length stays the call's */
		if (n < CATCH_UP) {
			send_frame(m);
		} else {
			m->ts += MEDIA_FRAME;
			m->talkspurt = true;
		}
		play_frame(m);
		if (m->stopped)
			return; /* a custom source or sink stopped the session */
		m->next_tick += MEDIA_PTIME;
		n++;
	}
	if (m->next_tick <= now) {
		/* stalled for longer than PLAY_UP ticks: skip ahead, keep the RTP clock */
		loop_ms skip = (now - m->next_tick) / MEDIA_PTIME + 1;
		m->next_tick += skip * MEDIA_PTIME;
		m->ts += (uint32_t)(skip * MEDIA_FRAME);
		m->talkspurt = true;
	}
	loop_timer_start(m->loop, &m->tick, m->next_tick - now, media_tick, m);
	if (m->eof_pending) {
		/* last: the callback may stop or even free m */
		m->eof_pending = false;
		if (m->eof_fn)
			m->eof_fn(m, m->eof_arg);
	}
}

/*
 * Symmetric RTP (RFC 4961): packets from the peer's address pass; with
 * latching, the first packet from elsewhere while unconfirmed moves the peer.
 */
static bool source_ok(struct media *m, const struct tp_addr *src)
{
	if (m->have_remote && tp_addr_equal(&m->remote, src)) {
		m->latched = true;
		return true;
	}
	if (m->cfg.no_latch || m->latched)
		return false;
	if (!m->have_remote) {
		m->remote_rtcp = *src;
		media_addr_set_port(&m->remote_rtcp, (uint16_t)(tp_addr_port(src) + 1));
	}
	m->remote = *src;
	m->have_remote = true;
	m->latched = true;
	return true;
}

/* A valid SSRC: the known one, or a new one once the old one went quiet. */
static bool ssrc_ok(struct media *m, const struct rtp_hdr *h, loop_ms now)
{
	if (m->have_peer && h->ssrc == m->peer_ssrc)
		return true;
	if (m->have_peer && now - m->last_rx < SSRC_SWITCH_MS)
		return false;
	if (m->have_peer)
		rtp_jb_init(&m->jb, m->jb.delay, m->jb.plc);
	m->have_peer = true;
	m->have_sr = false;
	m->peer_ssrc = h->ssrc;
	rtp_src_init(&m->rs, h->seq, 1); /* address, pt and SSRC vouch for it: no probation */
	return true;
}

/*
 * A duplicate? (A.1 counts duplicates as received, so A.3's "lost" hides
 * them; we count them apart.)  ext is the packet's extended sequence number.
 */
static bool seen_before(struct media *m, uint32_t ext)
{
	int32_t d = (int32_t)(ext - m->seen_top);
	if (d > 0 || d < -32768) {
		/* newer: slide the window (or restart it after a re-sync) */
		if (d >= 128 || d < 0) {
			m->seen[0] = m->seen[1] = 0;
		} else if (d >= 64) {
			m->seen[1] = m->seen[0] << (d - 64);
			m->seen[0] = 0;
		} else {
			m->seen[1] = m->seen[1] << d | (m->seen[0] >> 1 >> (63 - d));
			m->seen[0] <<= d;
		}
		m->seen_top = ext;
		d = 0;
	}
	uint32_t age = (uint32_t)-d;
	if (age >= 128)
		return false; /* too old to tell */
	uint64_t bit = 1ull << (age & 63);
	uint64_t *w = &m->seen[age >> 6];
	bool dup = *w & bit;
	*w |= bit;
	return dup;
}

static void rtp_input(struct media *m, const uint8_t *buf, size_t len, const struct tp_addr *src)
{
	struct rtp_hdr h;
	loop_ms now = loop_now(m->loop);
	if (rtcp_is_rtcp(buf, len)) {
		/* multiplexed RTCP (RFC 5761), from the peer only */
		if (m->have_remote && tp_addr_equal(src, &m->remote))
			media_rtcp_input(m, buf, len);
		else
			m->dropped++;
		return;
	}
	if (rtp_parse(buf, len, &h) != 0 || !m->recv) {
		m->dropped++;
		return;
	}
	if (m->dtmf_pt >= 0 && h.pt == m->dtmf_pt)
		return; /* telephone-event: not played */
	if (h.pt != m->pt || !source_ok(m, src) || !ssrc_ok(m, &h, now) ||
	    !rtp_src_update(&m->rs, h.seq)) {
		m->dropped++;
		return;
	}
	uint32_t ext = rtp_src_ext_max(&m->rs) + (uint32_t)(int16_t)(h.seq - m->rs.max_seq);
	bool fresh_src = m->rs.received == 1;
	if (fresh_src) {
		m->seen_top = ext;
		m->seen[0] = m->seen[1] = 0;
	}
	if (seen_before(m, ext)) {
		m->duplicates++;
		return;
	}
	rtp_src_jitter(&m->rs, h.ts, (uint32_t)(now * 8)); /* arrival in 8 kHz units */
	m->last_rx = now;
	m->recv_packets++;
	m->recv_octets += h.payload_len;
	int16_t pcm[MEDIA_RXBUF];
	size_t n = h.payload_len;
	g711_decode(m->law, buf + h.payload_off, pcm, n);
	rtp_jb_put(&m->jb, h.ts, pcm, n);
}

void media_rtp_readable(int fd, unsigned events, void *arg)
{
	struct media *m = arg;
	(void)events;
	for (unsigned i = 0; i < MEDIA_RX_BURST; i++) {
		struct tp_addr src;
		struct iovec iov = {m->buf, sizeof(m->buf)};
		struct msghdr mh = {.msg_name = &src.u, .msg_namelen = sizeof(src.u),
				    .msg_iov = &iov, .msg_iovlen = 1};
		memset(&src, 0, sizeof(src));
		ssize_t n = recvmsg(fd, &mh, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			continue; /* ICMP errors (ECONNREFUSED) surface here: skip them */
		}
		if (mh.msg_flags & MSG_TRUNC) {
			m->dropped++;
			continue;
		}
		rtp_input(m, m->buf, (size_t)n, &src);
	}
}
