/*
 * media.c - the media session's life cycle: the RTP/RTCP socket pair,
 * the peer and codec, start and stop, statistics.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define LOG_MODULE "media"
#include "ringlet/log.h"
#include "ringlet/mem.h"
#include "ua/media_int.h"

#define EPHEMERAL_TRIES 64u
#define DSCP_EF 0xb8 /* Expedited Forwarding, RFC 3246: the usual class for voice */

uint64_t media_rand(struct media *m)
{
	/* xorshift64*: RTCP interval dither and port choice, not security */
	uint64_t x = m->rnd;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	m->rnd = x;
	return x * 0x2545f4914f6cdd1dull;
}

void media_addr_set_port(struct tp_addr *a, uint16_t port)
{
	if (a->u.sa.sa_family == AF_INET)
		a->u.in.sin_port = htons(port);
	else if (a->u.sa.sa_family == AF_INET6)
		a->u.in6.sin6_port = htons(port);
}

static void destroy(void *p)
{
	struct media *m = p;
	loop_timer_cancel(&m->tick);
	loop_timer_cancel(&m->rtcp_timer);
	if (m->watching) {
		loop_fd_del(m->loop, m->fd_rtp);
		loop_fd_del(m->loop, m->fd_rtcp);
	}
	if (m->fd_rtp >= 0)
		close(m->fd_rtp);
	if (m->fd_rtcp >= 0)
		close(m->fd_rtcp);
	media_src_release(&m->src);
	media_sink_release(&m->sink);
}

/* A non-blocking UDP socket bound to a with port; returns the fd or -errno. */
static int bind_one(const struct tp_addr *a, uint16_t port)
{
	struct tp_addr b = *a;
	media_addr_set_port(&b, port);
	int fd = socket(b.u.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (b.u.sa.sa_family == AF_INET) {
		int tos = DSCP_EF;
		(void)setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	}
	if (bind(fd, &b.u.sa, tp_addr_len(&b)) != 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* Bind RTP at port (0: ephemeral) and RTCP at the RTP port + 1; 0 or an errno. */
static int bind_pair(struct media *m, uint16_t port)
{
	int a = bind_one(&m->local, port);
	if (a < 0)
		return -a;
	struct tp_addr got;
	socklen_t len = sizeof(got.u);
	if (getsockname(a, &got.u.sa, &len) != 0 || (tp_addr_port(&got) & 1) ||
	    tp_addr_port(&got) == 65535) {
		close(a);
		return EADDRINUSE;
	}
	int b = bind_one(&m->local, (uint16_t)(tp_addr_port(&got) + 1));
	if (b < 0) {
		close(a);
		return -b;
	}
	m->fd_rtp = a;
	m->fd_rtcp = b;
	m->local = got;
	m->local_rtcp = got;
	media_addr_set_port(&m->local_rtcp, (uint16_t)(tp_addr_port(&got) + 1));
	return 0;
}

static int bind_sockets(struct media *m)
{
	const struct media_cfg *c = &m->cfg;
	int rc = EADDRINUSE;
	if (c->port_min == 0 && c->port_max == 0) {
		for (unsigned i = 0; i < EPHEMERAL_TRIES && rc == EADDRINUSE; i++)
			rc = bind_pair(m, 0);
		return rc;
	}
	uint32_t lo = (c->port_min + 1u) & ~1u, hi = c->port_max;
	if (lo == 0 || hi < lo + 1 || hi > 65535)
		return EINVAL;
	uint32_t n = (hi - 1 - lo) / 2 + 1; /* even ports p with p + 1 <= hi */
	uint32_t start = (uint32_t)(media_rand(m) % n);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t port = lo + 2 * ((start + i) % n);
		rc = bind_pair(m, (uint16_t)port);
		if (rc != EADDRINUSE && rc != EACCES)
			return rc;
	}
	return EADDRINUSE;
}

static void init_ids(struct media *m)
{
	uint64_t r[3] = {0, 0, 0};
	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		r[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
		r[1] = r[0] * 0xbf58476d1ce4e5b9ull + (uintptr_t)m;
		r[2] = r[1] ^ (uint64_t)ts.tv_sec;
	}
	m->rnd = r[0] | 1;
	m->ssrc = (uint32_t)r[1];
	m->seq = (uint16_t)(r[1] >> 32); /* RFC 3550 §5.1: random initial values */
	m->ts = (uint32_t)r[2];
	m->sess_id = (r[2] >> 32) & 0x7fffffffffffull;
}

static void init_clock(struct media *m)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	/* NTP counts from 1900 (RFC 3550 §4), 32.32 fixed point */
	uint64_t sec = (uint64_t)ts.tv_sec + 2208988800ull;
	uint64_t frac = ((uint64_t)ts.tv_nsec << 32) / 1000000000ull;
	m->ntp0 = sec << 32 | frac;
	m->t0 = loop_now(m->loop);
}

int media_alloc(struct media **out, struct loop *l, const struct tp_addr *local,
		const struct media_cfg *cfg)
{
	if (!l || !local || (local->u.sa.sa_family != AF_INET &&
			     local->u.sa.sa_family != AF_INET6))
		return EINVAL;
	struct media *m = mem_alloc(sizeof(*m), destroy);
	if (!m)
		return ENOMEM;
	m->loop = l;
	m->fd_rtp = m->fd_rtcp = -1;
	if (cfg)
		m->cfg = *cfg;
	m->cfg.cname = NULL;
	m->local = *local;
	m->law = G711_ULAW;
	m->pt = G711_PT_PCMU;
	m->dtmf_pt = -1;
	m->send = m->recv = true;
	m->rtt_ms = -1;
	m->src.kind = SRC_SILENCE;
	m->talkspurt = true;
	loop_timer_init(&m->tick);
	loop_timer_init(&m->rtcp_timer);
	init_ids(m);
	init_clock(m);
	int rc = bind_sockets(m);
	if (rc) {
		mem_deref(m);
		return rc;
	}
	const void *ip = m->local.u.sa.sa_family == AF_INET ? (const void *)&m->local.u.in.sin_addr
							     : (const void *)&m->local.u.in6.sin6_addr;
	inet_ntop(m->local.u.sa.sa_family, ip, m->addr_str, sizeof(m->addr_str));
	if (cfg && cfg->cname)
		snprintf(m->cname, sizeof(m->cname), "%s", cfg->cname);
	else
		snprintf(m->cname, sizeof(m->cname), "ringlet@%s", m->addr_str);
	*out = m;
	return 0;
}

const struct tp_addr *media_local(const struct media *m)
{
	return &m->local;
}

uint16_t media_port(const struct media *m)
{
	return tp_addr_port(&m->local);
}

int media_set_remote(struct media *m, const struct tp_addr *rtp, const struct tp_addr *rtcp)
{
	if (!rtp || rtp->u.sa.sa_family != m->local.u.sa.sa_family ||
	    (rtcp && rtcp->u.sa.sa_family != m->local.u.sa.sa_family))
		return EINVAL;
	if (!m->have_remote || !tp_addr_equal(&m->remote, rtp))
		m->latched = m->rtcp_latched = false;
	m->remote = *rtp;
	if (rtcp) {
		m->remote_rtcp = *rtcp;
	} else {
		m->remote_rtcp = *rtp;
		media_addr_set_port(&m->remote_rtcp, (uint16_t)(tp_addr_port(rtp) + 1));
	}
	m->have_remote = true;
	return 0;
}

int media_set_codec(struct media *m, enum g711_law law, uint8_t pt, int dtmf_pt)
{
	if (pt > 127 || dtmf_pt > 127 || (law != G711_ULAW && law != G711_ALAW))
		return EINVAL;
	m->law = law;
	m->pt = pt;
	m->dtmf_pt = dtmf_pt < 0 ? -1 : dtmf_pt;
	return 0;
}

void media_set_dir(struct media *m, bool send, bool recv)
{
	if (send && !m->send)
		m->talkspurt = true;
	m->send = send;
	m->recv = recv;
}

int media_start(struct media *m)
{
	if (m->started || m->stopped)
		return EALREADY;
	int rc = loop_fd_add(m->loop, m->fd_rtp, LOOP_IN, media_rtp_readable, m);
	if (rc)
		return rc;
	rc = loop_fd_add(m->loop, m->fd_rtcp, LOOP_IN, media_rtcp_readable, m);
	if (rc) {
		loop_fd_del(m->loop, m->fd_rtp);
		return rc;
	}
	m->watching = true;
	m->started = true;
	rtp_jb_init(&m->jb, (m->cfg.jb_delay_ms ? m->cfg.jb_delay_ms : 60) * 8, m->cfg.plc);
	m->start_ms = m->next_tick = loop_now(m->loop);
	m->ts0 = m->ts;
	loop_timer_start(m->loop, &m->tick, 0, media_tick, m);
	media_rtcp_schedule(m, true);
	log_debug("event=start port=%u ssrc=%08x", media_port(m), m->ssrc);
	return 0;
}

void media_stop(struct media *m)
{
	if (m->started && !m->stopped && m->have_remote)
		media_rtcp_send(m, true);
	loop_timer_cancel(&m->tick);
	loop_timer_cancel(&m->rtcp_timer);
	if (m->watching) {
		loop_fd_del(m->loop, m->fd_rtp);
		loop_fd_del(m->loop, m->fd_rtcp);
		m->watching = false;
	}
	if (m->started)
		m->stopped = true;
	media_src_release(&m->src);
	media_sink_release(&m->sink);
}

void media_stats(const struct media *m, struct media_stats *o)
{
	memset(o, 0, sizeof(*o));
	o->sent_packets = m->sent_packets;
	o->sent_octets = m->sent_octets;
	o->recv_packets = m->recv_packets;
	o->recv_octets = m->recv_octets;
	if (m->have_peer) {
		o->expected = rtp_src_expected(&m->rs);
		/* A.3 counts duplicates as received; we do not */
		o->lost = (int64_t)o->expected - (int64_t)m->rs.received + (int64_t)m->duplicates;
		o->jitter_ms = m->rs.jitter / 16.0 / 8.0; /* 8 timestamp units per ms */
	}
	o->duplicates = m->duplicates;
	o->late = m->jb.st.late;
	o->concealed = m->jb.st.concealed;
	o->dropped = m->dropped;
	o->frames_played = m->frames_played;
	o->rtcp_sent = m->rtcp_sent;
	o->rtcp_recv = m->rtcp_recv;
	o->peer_report = m->peer_report;
	o->peer_fraction = m->peer_fraction;
	o->peer_lost = m->peer_lost;
	o->peer_jitter_ms = m->peer_jitter / 8.0;
	o->rtt_ms = m->rtt_ms;
	o->peer_bye = m->peer_bye;
}
