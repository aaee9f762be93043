/*
 * rtp_rtcp.c - RTCP compound packets (RFC 3550 §6): build SR or RR + SDES
 * CNAME (+ BYE), parse compounds with the A.2 validity checks.
 *
 * Every packet starts with
 *   |V=2|P|  RC/SC  |      PT       |  length (32-bit words - 1)   |
 * and a compound is packets back to back, padding only in the last one.
 */
#include <errno.h>
#include <string.h>

#include "ringlet/rtp.h"
#include "ua/rtp_int.h"

#define RB_LEN 24u	/* one report block */
#define SI_LEN 20u	/* SR sender info */
#define SDES_CNAME 1u

/* ---- building ---- */

static void put_hdr(uint8_t *p, unsigned count, unsigned pt, size_t bytes)
{
	p[0] = (uint8_t)(RTP_VERSION << 6 | count);
	p[1] = (uint8_t)pt;
	put16(p + 2, (uint16_t)(bytes / 4 - 1));
}

static void put_rb(uint8_t *p, const struct rtcp_rb *rb)
{
	int32_t lost = rb->lost;
	if (lost > 0x7fffff)
		lost = 0x7fffff;
	if (lost < -0x800000)
		lost = -0x800000;
	put32(p, rb->ssrc);
	p[4] = rb->fraction;
	put24(p + 5, (uint32_t)lost & 0xffffffu);
	put32(p + 8, rb->ext_max);
	put32(p + 12, rb->jitter);
	put32(p + 16, rb->lsr);
	put32(p + 20, rb->dlsr);
}

/* SR or RR at p (room checked by the caller); returns its length. */
static size_t put_report(uint8_t *p, const struct rtcp_report *r)
{
	size_t n = 8;
	put32(p + 4, r->ssrc);
	if (r->sender) {
		put32(p + 8, (uint32_t)(r->si.ntp >> 32));
		put32(p + 12, (uint32_t)r->si.ntp);
		put32(p + 16, r->si.rtp_ts);
		put32(p + 20, r->si.packets);
		put32(p + 24, r->si.octets);
		n += SI_LEN;
	}
	for (unsigned i = 0; i < r->nrb; i++, n += RB_LEN)
		put_rb(p + n, &r->rb[i]);
	put_hdr(p, r->nrb, r->sender ? RTCP_SR : RTCP_RR, n);
	return n;
}

/* Bytes of an SDES packet with one chunk holding one CNAME of clen bytes (§6.5). */
static size_t sdes_len(size_t clen)
{
	/* header, SSRC, type + length + text, at least one zero octet, to a word boundary */
	return 8 + ((2 + clen + 1 + 3) & ~(size_t)3);
}

static size_t put_sdes(uint8_t *p, uint32_t ssrc, const char *cname, size_t clen)
{
	size_t n = sdes_len(clen);
	memset(p, 0, n);
	put32(p + 4, ssrc);
	p[8] = SDES_CNAME;
	p[9] = (uint8_t)clen;
	memcpy(p + 10, cname, clen);
	put_hdr(p, 1, RTCP_SDES, n);
	return n;
}

static size_t bye_len(const char *reason, size_t rlen)
{
	return 8 + (reason ? (1 + rlen + 3) & ~(size_t)3 : 0);
}

static size_t put_bye(uint8_t *p, uint32_t ssrc, const char *reason, size_t rlen)
{
	size_t n = bye_len(reason, rlen);
	memset(p, 0, n);
	put32(p + 4, ssrc);
	if (reason) {
		p[8] = (uint8_t)rlen;
		memcpy(p + 9, reason, rlen);
	}
	put_hdr(p, 1, RTCP_BYE, n);
	return n;
}

int rtcp_build(const struct rtcp_report *r, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t clen = r->cname ? strlen(r->cname) : 0;
	size_t rlen = r->reason ? strlen(r->reason) : 0;
	if (r->nrb > RTCP_MAX_RB || clen > RTCP_MAX_CNAME || rlen > 255)
		return EINVAL;
	size_t need = 8 + (r->sender ? SI_LEN : 0) + RB_LEN * r->nrb;
	if (r->cname)
		need += sdes_len(clen);
	if (r->bye)
		need += bye_len(r->reason, rlen);
	if (cap < need)
		return EMSGSIZE;
	size_t n = put_report(out, r);
	if (r->cname)
		n += put_sdes(out + n, r->ssrc, r->cname, clen);
	if (r->bye)
		n += put_bye(out + n, r->ssrc, r->reason, rlen);
	*outlen = n;
	return 0;
}

/* ---- parsing ---- */

static void get_rb(const uint8_t *p, struct rtcp_rb *rb)
{
	rb->ssrc = be32(p);
	rb->fraction = p[4];
	uint32_t l = be24(p + 5);
	rb->lost = (l & 0x800000u) ? (int32_t)l - 0x1000000 : (int32_t)l;
	rb->ext_max = be32(p + 8);
	rb->jitter = be32(p + 12);
	rb->lsr = be32(p + 16);
	rb->dlsr = be32(p + 20);
}

/* SR (sr) or RR: p[0 .. n) is the packet without padding. */
static int parse_report(const uint8_t *p, size_t n, bool sr, struct rtcp_info *out)
{
	unsigned rc = p[0] & 0x1f;
	size_t need = 8 + (sr ? SI_LEN : 0) + (size_t)RB_LEN * rc;
	if (n < need)
		return EBADMSG;
	if (out->has_sr || out->has_rr)
		return 0; /* only the first report is kept */
	out->ssrc = be32(p + 4);
	size_t off = 8;
	if (sr) {
		out->has_sr = true;
		out->si.ntp = (uint64_t)be32(p + 8) << 32 | be32(p + 12);
		out->si.rtp_ts = be32(p + 16);
		out->si.packets = be32(p + 20);
		out->si.octets = be32(p + 24);
		off += SI_LEN;
	} else {
		out->has_rr = true;
	}
	out->nrb = (uint8_t)rc;
	for (unsigned i = 0; i < rc; i++, off += RB_LEN)
		get_rb(p + off, &out->rb[i]);
	return 0;
}

/*
 * SDES (§6.5): SC chunks, each an SSRC and items up to a zero type octet,
 * then zero octets to the next word boundary.  base is the compound's start.
 */
static int parse_sdes(const uint8_t *base, const uint8_t *p, size_t n, struct rtcp_info *out)
{
	unsigned sc = p[0] & 0x1f;
	size_t off = 4;
	for (unsigned c = 0; c < sc; c++) {
		if (n - off < 4)
			return EBADMSG;
		uint32_t ssrc = be32(p + off);
		off += 4;
		for (;;) {
			if (off >= n)
				return EBADMSG;
			uint8_t type = p[off];
			if (type == 0)
				break;
			if (n - off < 2 || n - off - 2 < p[off + 1])
				return EBADMSG;
			uint8_t ilen = p[off + 1];
			if (type == SDES_CNAME && !out->has_cname) {
				out->has_cname = true;
				out->cname_ssrc = ssrc;
				out->cname_off = (uint32_t)(p + off + 2 - base);
				out->cname_len = ilen;
			}
			off += 2u + ilen;
		}
		/* the zero octet ends the list; pad to the next 32-bit boundary */
		off = (off + 4) & ~(size_t)3;
		if (off > n)
			return EBADMSG;
	}
	return 0;
}

/* BYE (§6.6): SC SSRCs, then optionally a length octet and a reason. */
static int parse_bye(const uint8_t *base, const uint8_t *p, size_t n, struct rtcp_info *out)
{
	unsigned sc = p[0] & 0x1f;
	if (n - 4 < 4u * sc)
		return EBADMSG;
	size_t off = 4 + 4u * sc;
	uint8_t rlen = 0;
	if (off < n) {
		rlen = p[off];
		if (n - off - 1 < rlen)
			return EBADMSG;
	}
	if (out->bye)
		return 0;
	out->bye = true;
	out->nbye = (uint8_t)sc;
	for (unsigned i = 0; i < sc; i++)
		out->bye_ssrc[i] = be32(p + 4 + 4 * i);
	if (rlen) {
		out->reason_off = (uint32_t)(p + off + 1 - base);
		out->reason_len = rlen;
	}
	return 0;
}

static int parse_one(const uint8_t *base, const uint8_t *p, size_t n, struct rtcp_info *out)
{
	switch (p[1]) {
	case RTCP_SR:
		return parse_report(p, n, true, out);
	case RTCP_RR:
		return parse_report(p, n, false, out);
	case RTCP_SDES:
		return parse_sdes(base, p, n, out);
	case RTCP_BYE:
		return parse_bye(base, p, n, out);
	default:
		return 0; /* APP, feedback, XR, ...: skipped */
	}
}

int rtcp_parse(const uint8_t *buf, size_t len, struct rtcp_info *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 4)
		return EBADMSG;
	size_t off = 0;
	unsigned npk = 0;
	while (off < len) {
		const uint8_t *p = buf + off;
		if (len - off < 4 || (p[0] >> 6) != RTP_VERSION)
			return EBADMSG;
		size_t plen = ((size_t)be16(p + 2) + 1) * 4;
		if (plen > len - off)
			return EBADMSG;
		size_t n = plen;
		if (p[0] & 0x20) {
			/* A.2: only the last packet of a compound may be padded */
			if (off + plen != len || p[plen - 1] == 0 || p[plen - 1] > plen - 4)
				return EBADMSG;
			n -= p[plen - 1];
		}
		/* A.2: the first packet is SR or RR (RFC 5506 allows a lone other one) */
		if (npk == 0 && p[1] != RTCP_SR && p[1] != RTCP_RR && plen != len)
			return EBADMSG;
		if (p[1] < 192 || p[1] > 223)
			return EBADMSG;
		int rc = parse_one(buf, p, n, out);
		if (rc)
			return rc;
		npk++;
		off += plen;
	}
	out->npackets = (uint8_t)(npk > 255 ? 255 : npk);
	return 0;
}
