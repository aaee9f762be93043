/*
 * rtp.c - RTP data packets (RFC 3550 §5.1, §5.3.1): parse and build.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * |                           timestamp                           |
 * |           synchronization source (SSRC) identifier            |
 * |            contributing source (CSRC) identifiers             | (CC of them)
 * | defined by profile            |           length              | (if X)
 */
#include <errno.h>
#include <string.h>

#include "ringlet/rtp.h"
#include "ua/rtp_int.h"

int rtp_parse(const uint8_t *buf, size_t len, struct rtp_hdr *h)
{
	if (len < RTP_HDR_LEN || (buf[0] >> 6) != RTP_VERSION)
		return EBADMSG;
	memset(h, 0, sizeof(*h));
	bool padded = buf[0] & 0x20;
	h->ext = buf[0] & 0x10;
	h->cc = buf[0] & 0x0f;
	h->marker = buf[1] & 0x80;
	h->pt = buf[1] & 0x7f;
	/* RFC 5761 §4: with the marker bit these are RTCP packet types 200..204 */
	if (h->pt >= 72 && h->pt <= 76)
		return EBADMSG;
	h->seq = be16(buf + 2);
	h->ts = be32(buf + 4);
	h->ssrc = be32(buf + 8);

	size_t off = RTP_HDR_LEN;
	if (len - off < 4u * h->cc)
		return EBADMSG;
	for (unsigned i = 0; i < h->cc; i++, off += 4)
		h->csrc[i] = be32(buf + off);
	if (h->ext) {
		if (len - off < 4)
			return EBADMSG;
		h->ext_profile = be16(buf + off);
		h->ext_words = be16(buf + off + 2);
		off += 4;
		if ((len - off) / 4 < h->ext_words)
			return EBADMSG;
		h->ext_off = (uint32_t)off;
		off += 4u * h->ext_words;
	}
	size_t end = len;
	if (padded) {
		/* A.1: the padding count is at least 1 and must leave the header intact */
		uint8_t pad = buf[len - 1];
		if (pad == 0 || pad > end - off)
			return EBADMSG;
		h->pad = pad;
		end -= pad;
	}
	h->payload_off = (uint32_t)off;
	h->payload_len = (uint32_t)(end - off);
	return 0;
}

int rtp_build(const struct rtp_hdr *h, const uint8_t *ext_data, const uint8_t *payload,
	      size_t plen, uint8_t *out, size_t cap, size_t *outlen)
{
	if (h->pt > 127 || h->cc > RTP_MAX_CSRC)
		return EINVAL;
	size_t need = RTP_HDR_LEN + 4u * h->cc;
	if (h->ext)
		need += 4 + 4u * h->ext_words;
	if (cap < need || cap - need < plen || cap - need - plen < h->pad)
		return EMSGSIZE;
	out[0] = (uint8_t)(RTP_VERSION << 6 | (h->pad ? 0x20 : 0) | (h->ext ? 0x10 : 0) | h->cc);
	out[1] = (uint8_t)((h->marker ? 0x80 : 0) | h->pt);
	put16(out + 2, h->seq);
	put32(out + 4, h->ts);
	put32(out + 8, h->ssrc);
	size_t off = RTP_HDR_LEN;
	for (unsigned i = 0; i < h->cc; i++, off += 4)
		put32(out + off, h->csrc[i]);
	if (h->ext) {
		put16(out + off, h->ext_profile);
		put16(out + off + 2, h->ext_words);
		off += 4;
		if (h->ext_words) {
			if (ext_data)
				memcpy(out + off, ext_data, 4u * h->ext_words);
			else
				memset(out + off, 0, 4u * h->ext_words);
		}
		off += 4u * h->ext_words;
	}
	if (plen)
		memcpy(out + off, payload, plen);
	off += plen;
	if (h->pad) {
		memset(out + off, 0, h->pad - 1u);
		out[off + h->pad - 1u] = h->pad;
		off += h->pad;
	}
	*outlen = off;
	return 0;
}

bool rtcp_is_rtcp(const uint8_t *buf, size_t len)
{
	return len >= 2 && buf[1] >= 192 && buf[1] <= 223;
}
