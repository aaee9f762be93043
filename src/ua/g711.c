/*
 * g711.c - ITU-T G.711 mu-law and A-law (RFC 3551 §4.5.14), computed
 * rather than looked up: a segment (exponent) search and a 4-bit mantissa.
 *
 * mu-law (G.711 §2, table 2a): a 14-bit magnitude plus a bias of 33 (132 on
 * the 16-bit scale) is split into a 3-bit segment and 4 mantissa bits, with
 * the sign in bit 7, and all bits inverted on the wire.
 * A-law (table 1a): a 13-bit magnitude, segment 0 linear like segment 1,
 * sign bit set for positive values, and the even bits inverted (XOR 0x55).
 */
#include "ringlet/g711.h"

#define ULAW_BIAS 0x84	/* 33 << 2: the bias on the 16-bit scale */
#define ULAW_CLIP 32635 /* largest magnitude that still fits after the bias */

/* Index of the highest set bit of v (v > 0). */
static unsigned top_bit(unsigned v)
{
	unsigned b = 0;
	while (v >>= 1)
		b++;
	return b;
}

uint8_t g711_ulaw_encode(int16_t pcm)
{
	int v = pcm;
	uint8_t mask = 0xff; /* inverts every bit; clears the sign for negatives below */
	if (v < 0) {
		v = -v;
		mask = 0x7f;
	}
	if (v > ULAW_CLIP)
		v = ULAW_CLIP;
	v += ULAW_BIAS;
	/* v is in [132, 32767]: segment = position of the top bit above bit 7 */
	unsigned seg = top_bit((unsigned)v >> 7);
	unsigned mant = ((unsigned)v >> (seg + 3)) & 0x0f;
	return (uint8_t)(((seg << 4) | mant) ^ mask);
}

int16_t g711_ulaw_decode(uint8_t code)
{
	unsigned u = (uint8_t)~code;
	int t = (int)(((u & 0x0f) << 3) + ULAW_BIAS) << ((u & 0x70) >> 4);
	return (int16_t)((u & 0x80) ? ULAW_BIAS - t : t - ULAW_BIAS);
}

uint8_t g711_alaw_encode(int16_t pcm)
{
	int v = pcm;
	uint8_t mask = 0xd5; /* sign bit set for positive, then the even bits inverted */
	if (v < 0) {
		/* -1 - v: the negative half mirrors the positive one around -0.5 */
		v = -v - 1;
		mask = 0x55;
	}
	unsigned seg, mant;
	if (v < 256) {
		seg = 0;
		mant = (unsigned)v >> 4;
	} else {
		seg = top_bit((unsigned)v) - 7; /* 256..511 -> 1, ..., 16384..32767 -> 7 */
		mant = ((unsigned)v >> (seg + 3)) & 0x0f;
	}
	return (uint8_t)(((seg << 4) | mant) ^ mask);
}

int16_t g711_alaw_decode(uint8_t code)
{
	unsigned a = code ^ 0x55u;
	int t = (int)((a & 0x0f) << 4);
	unsigned seg = (a & 0x70) >> 4;
	if (seg == 0)
		t += 8;
	else
		t = (t + 0x108) << (seg - 1);
	return (int16_t)((a & 0x80) ? t : -t);
}

void g711_encode(enum g711_law law, const int16_t *in, uint8_t *out, size_t n)
{
	if (law == G711_ALAW)
		for (size_t i = 0; i < n; i++)
			out[i] = g711_alaw_encode(in[i]);
	else
		for (size_t i = 0; i < n; i++)
			out[i] = g711_ulaw_encode(in[i]);
}

void g711_decode(enum g711_law law, const uint8_t *in, int16_t *out, size_t n)
{
	if (law == G711_ALAW)
		for (size_t i = 0; i < n; i++)
			out[i] = g711_alaw_decode(in[i]);
	else
		for (size_t i = 0; i < n; i++)
			out[i] = g711_ulaw_decode(in[i]);
}

uint8_t g711_silence(enum g711_law law)
{
	return law == G711_ALAW ? 0xd5 : 0xff;
}
