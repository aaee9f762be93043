/*
 * media_rtcp.c - the session's RTCP (RFC 3550 §6): a report about every
 * 5 s, SR while we send and RR otherwise, each with a report block about
 * the peer's stream and our CNAME; BYE at the end; the peer's reports give
 * its view of our stream and the round-trip time (§6.4.1 LSR/DLSR).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#define LOG_MODULE "media"
#include "ringlet/log.h"
#include "ua/media_int.h"

#define RTCP_DEFAULT_MS 5000u
#define COMPENSATION 1.21828 /* e - 3/2 (§6.3.1): makes up for the randomisation's bias */

uint64_t media_ntp_now(const struct media *m)
{
	loop_ms ms = loop_now(m->loop) - m->t0;
	return m->ntp0 + ((ms / 1000) << 32) + (((ms % 1000) << 32) / 1000);
}

/* The middle 32 bits of a 64-bit NTP timestamp (the "compact" form of §6.4.1). */
static uint32_t ntp_mid(uint64_t ntp)
{
	return (uint32_t)(ntp >> 16);
}

static void on_rtcp_timer(void *arg);

/*
 * §6.2 for two participants: the bandwidth share of one G.711 call never
 * needs more than the minimum interval, so T is that interval, randomised
 * to [0.5, 1.5] T and divided by e - 3/2; the first report comes after
 * half of it (§6.2 "initial ... half the minimum").
 */
void media_rtcp_schedule(struct media *m, bool first)
{
	double t = m->cfg.rtcp_interval_ms ? m->cfg.rtcp_interval_ms : RTCP_DEFAULT_MS;
	if (first)
		t /= 2;
	double r = 0.5 + (double)(media_rand(m) >> 11) / (double)(1ull << 53);
	loop_ms delay = (loop_ms)(t * r / COMPENSATION);
	loop_timer_start(m->loop, &m->rtcp_timer, delay ? delay : 1, on_rtcp_timer, m);
}

static void fill_rb(struct media *m, struct rtcp_rb *rb)
{
	rb->ssrc = m->peer_ssrc;
	rb->fraction = rtp_src_fraction(&m->rs);
	rb->lost = rtp_src_lost(&m->rs);
	rb->ext_max = rtp_src_ext_max(&m->rs);
	rb->jitter = rtp_src_jitter_ts(&m->rs);
	if (m->have_sr) {
		rb->lsr = m->sr_lsr;
		loop_ms d = loop_now(m->loop) - m->sr_at;
		rb->dlsr = (uint32_t)((d * 65536) / 1000); /* units of 1/65536 s */
	}
}

void media_rtcp_send(struct media *m, bool bye)
{
	if (!m->have_remote)
		return;
	struct rtcp_report r;
	memset(&r, 0, sizeof(r));
	r.ssrc = m->ssrc;
	r.cname = m->cname;
	r.bye = bye;
	if (m->sent_since_report) {
		r.sender = true;
		r.si.ntp = media_ntp_now(m);
		r.si.rtp_ts = m->ts0 + (uint32_t)((loop_now(m->loop) - m->start_ms) * 8);
		r.si.packets = (uint32_t)m->sent_packets;
		r.si.octets = (uint32_t)m->sent_octets;
		m->sent_since_report = false;
	}
	if (m->have_peer) {
		r.nrb = 1;
		fill_rb(m, &r.rb[0]);
	}
	uint8_t out[512];
	size_t len;
	if (rtcp_build(&r, out, sizeof(out), &len) != 0)
		return;
	if (sendto(m->fd_rtcp, out, len, 0, &m->remote_rtcp.u.sa, tp_addr_len(&m->remote_rtcp)) <
	    0)
		log_debug_rl("event=rtcp-send-failed errno=%d", errno);
	m->rtcp_sent++;
}

static void on_rtcp_timer(void *arg)
{
	struct media *m = arg;
	media_rtcp_send(m, false);
	media_rtcp_schedule(m, false);
}

/* What the peer's report block says about our stream. */
static void take_rb(struct media *m, const struct rtcp_rb *rb)
{
	m->peer_report = true;
	m->peer_fraction = rb->fraction;
	m->peer_lost = rb->lost;
	m->peer_jitter = rb->jitter;
	if (rb->lsr == 0)
		return;
	/* RTT = A - LSR - DLSR, in 1/65536 s (§6.4.1) */
	uint32_t a = ntp_mid(media_ntp_now(m));
	int32_t rtt = (int32_t)(a - rb->lsr - rb->dlsr);
	if (rtt < 0 && rtt > -655)
		rtt = 0; /* DLSR's and our clock's rounding on a near-zero RTT */
	if (rtt >= 0)
		m->rtt_ms = rtt * 1000.0 / 65536.0;
}

void media_rtcp_input(struct media *m, const uint8_t *buf, size_t len)
{
	struct rtcp_info ri;
	if (rtcp_parse(buf, len, &ri) != 0) {
		m->dropped++;
		return;
	}
	m->rtcp_recv++;
	bool from_peer = m->have_peer && ri.ssrc == m->peer_ssrc;
	if (ri.has_sr && from_peer) {
		m->have_sr = true;
		m->sr_lsr = ntp_mid(ri.si.ntp);
		m->sr_at = loop_now(m->loop);
	}
	for (unsigned i = 0; i < ri.nrb; i++)
		if (ri.rb[i].ssrc == m->ssrc)
			take_rb(m, &ri.rb[i]);
	for (unsigned i = 0; i < ri.nbye; i++)
		if (m->have_peer && ri.bye_ssrc[i] == m->peer_ssrc)
			m->peer_bye = true;
}

/* RTCP from the peer's host (any port: symmetric RTCP latches it once). */
static bool rtcp_source_ok(struct media *m, const struct tp_addr *src)
{
	if (!m->have_remote)
		return false;
	struct tp_addr a = *src, b = m->remote;
	media_addr_set_port(&a, 0);
	media_addr_set_port(&b, 0);
	if (!tp_addr_equal(&a, &b))
		return false;
	if (!m->rtcp_latched && !m->cfg.no_latch && !tp_addr_equal(src, &m->remote_rtcp)) {
		m->remote_rtcp = *src;
		m->rtcp_latched = true;
	}
	return true;
}

void media_rtcp_readable(int fd, unsigned events, void *arg)
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
			continue;
		}
		if ((mh.msg_flags & MSG_TRUNC) || !rtcp_source_ok(m, &src)) {
			m->dropped++;
			continue;
		}
		media_rtcp_input(m, m->buf, (size_t)n);
	}
}
