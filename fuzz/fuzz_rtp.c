/*
 * fuzz_rtp.c - libFuzzer target for the RTP receive path without sockets.
 *
 * The input is parsed as one RTP packet: a packet that parses must build
 * again to the same bytes (minus padding contents) and parse to the same
 * header.  Then the input is read as a stream of packets, each preceded by
 * a 2-byte length, and every packet that parses goes through what the media
 * session does with it: sequence validity (RFC 3550 A.1), jitter (A.8),
 * loss and fraction (A.3), G.711 decoding and the playout buffer, with a
 * playout tick after each packet.  Invariants: no out-of-bounds access, no
 * sanitizer report, the buffer's depth stays within its ring.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ringlet/g711.h"
#include "ringlet/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static void round_trip(const uint8_t *p, size_t n)
{
	struct rtp_hdr h, g;
	if (rtp_parse(p, n, &h) != 0)
		return;
	check(h.payload_off + h.payload_len + h.pad == n);
	uint8_t *out = malloc(n ? n : 1);
	check(out != NULL);
	size_t len;
	check(rtp_build(&h, h.ext ? p + h.ext_off : NULL, p + h.payload_off, h.payload_len, out, n,
			&len) == 0);
	check(len == n);
	/* everything but the padding octets before the count is reproduced */
	check(memcmp(out, p, h.payload_off + h.payload_len) == 0);
	check(out[n - 1] == p[n - 1] || h.pad == 0);
	check(rtp_parse(out, len, &g) == 0);
	check(g.seq == h.seq && g.ts == h.ts && g.ssrc == h.ssrc && g.pt == h.pt &&
	      g.marker == h.marker && g.cc == h.cc && g.ext_words == h.ext_words &&
	      g.payload_len == h.payload_len && g.pad == h.pad);
	free(out);
}

struct rx {
	struct rtp_jb jb;
	struct rtp_src src;
	int have;
	uint32_t ssrc;
	uint32_t now;
};

static void receive(struct rx *r, const uint8_t *p, size_t n)
{
	struct rtp_hdr h;
	int16_t pcm[2048], out[160];
	if (rtp_parse(p, n, &h) != 0)
		return;
	if (!r->have || h.ssrc != r->ssrc) {
		r->have = 1;
		r->ssrc = h.ssrc;
		rtp_src_init(&r->src, h.seq, 1 + (h.marker ? 1 : 0));
	}
	r->now += 160 + (h.seq & 0x3f); /* arrival times with some jitter */
	if (rtp_src_update(&r->src, h.seq)) {
		rtp_src_jitter(&r->src, h.ts, r->now);
		size_t k = h.payload_len < 2048 ? h.payload_len : 2048;
		g711_decode(h.pt & 1 ? G711_ALAW : G711_ULAW, p + h.payload_off, pcm, k);
		(void)rtp_jb_put(&r->jb, h.ts, pcm, k);
	}
	(void)rtp_src_lost(&r->src);
	(void)rtp_src_fraction(&r->src);
	(void)rtp_src_ext_max(&r->src);
	size_t got = rtp_jb_get(&r->jb, out, 160);
	check(got <= 160);
	check(rtp_jb_depth(&r->jb) <= RTP_JB_SAMPLES);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	round_trip(data, size);
	struct rx *r = calloc(1, sizeof(*r));
	check(r != NULL);
	uint32_t delay = size ? data[0] * 4u : 0;
	rtp_jb_init(&r->jb, delay, size & 1 ? RTP_JB_PLC_REPEAT : RTP_JB_PLC_SILENCE);
	size_t off = 0;
	while (size - off >= 2) {
		size_t n = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (n > size - off)
			n = size - off;
		receive(r, data + off, n);
		off += n;
	}
	free(r);
	return 0;
}
