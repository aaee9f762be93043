/*
 * test_g711.c - G.711 mu-law and A-law: known code/sample pairs (the ITU
 * tables as the reference implementations print them), the decode->encode
 * round trip of all 256 codes, A-law's even-bit inversion, quantisation
 * error bounds, monotonicity, and the block functions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ringlet/g711.h"

struct enc_case {
	int16_t pcm;
	uint8_t ulaw, alaw;
};

/* sample -> (mu-law, A-law) codes, as the classic Sun reference code gives them */
static const struct enc_case enc_cases[] = {
	{0, 0xff, 0xd5},	 {1, 0xff, 0xd5},	 {8, 0xfe, 0xd5},
	{-8, 0x7e, 0x55},	 {100, 0xf2, 0xd3},	 {-100, 0x72, 0x53},
	{1000, 0xce, 0xfa},	 {-1000, 0x4e, 0x7a},	 {5000, 0xab, 0x86},
	{-5000, 0x2b, 0x06},	 {12345, 0x97, 0xbd},	 {-12345, 0x17, 0x3d},
	{32767, 0x80, 0xaa},	 {-32768, 0x00, 0x2a},
};

struct dec_case {
	uint8_t code;
	int16_t ulaw, alaw;
};

static const struct dec_case dec_cases[] = {
	{0x00, -32124, -5504}, {0x01, -31100, -5248}, {0x0f, -16764, -6784},
	{0x10, -15996, -2752}, {0x7e, -8, -880},      {0x7f, 0, -848},
	{0x80, 32124, 5504},   {0xff, 0, 848},	      {0x55, -716, -8},
	{0xd5, 716, 8},	       {0x2a, -5372, -32256}, {0xaa, 5372, 32256},
	{0x33, -3516, -11520}, {0xc4, 1628, 280},
};

static void known_encode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(enc_cases) / sizeof(enc_cases[0]); i++) {
		const struct enc_case *c = &enc_cases[i];
		assert_int_equal(g711_ulaw_encode(c->pcm), c->ulaw);
		assert_int_equal(g711_alaw_encode(c->pcm), c->alaw);
	}
}

static void known_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(dec_cases) / sizeof(dec_cases[0]); i++) {
		const struct dec_case *c = &dec_cases[i];
		assert_int_equal(g711_ulaw_decode(c->code), c->ulaw);
		assert_int_equal(g711_alaw_decode(c->code), c->alaw);
	}
}

static void round_trip_all_codes(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		uint8_t u = g711_ulaw_encode(g711_ulaw_decode((uint8_t)c));
		/* 0x7f is mu-law's "negative zero": it decodes to 0, which encodes as 0xff */
		assert_int_equal(u, c == 0x7f ? 0xff : c);
		assert_int_equal(g711_alaw_encode(g711_alaw_decode((uint8_t)c)), c);
	}
}

/* A-law: the wire code is sign|segment|mantissa with the even bits inverted (XOR 0x55). */
static void alaw_even_bits(void **state)
{
	(void)state;
	/* +8 is sign 1, segment 0, mantissa 0: 1000 0000 -> 1101 0101 */
	assert_int_equal(g711_alaw_encode(8), 0x80 ^ 0x55);
	/* the largest positive value: 1111 1111 -> 1010 1010 */
	assert_int_equal(g711_alaw_encode(32767), 0xff ^ 0x55);
	/* the largest negative value: 0111 1111 -> 0010 1010 */
	assert_int_equal(g711_alaw_encode(-32768), 0x7f ^ 0x55);
	for (unsigned seg = 0; seg < 8; seg++) {
		for (unsigned mant = 0; mant < 16; mant++) {
			uint8_t raw = (uint8_t)(0x80 | seg << 4 | mant);
			int16_t v = g711_alaw_decode(raw ^ 0x55);
			/* the magnitude grows with segment and mantissa as in G.711 table 1a */
			unsigned step = seg < 2 ? 16 : 16u << (seg - 1);
			unsigned lo = seg == 0 ? 0 : 128u << seg;
			assert_true(v > 0);
			assert_int_equal((unsigned)v, lo + mant * step + step / 2);
			assert_int_equal(g711_alaw_decode((raw & 0x7f) ^ 0x55), -v);
		}
	}
}

/* Every 16-bit sample encodes to the code whose value is nearest (within one step). */
static void quantisation_error(void **state)
{
	(void)state;
	for (int x = -32768; x <= 32767; x++) {
		int u = g711_ulaw_decode(g711_ulaw_encode((int16_t)x));
		int a = g711_alaw_decode(g711_alaw_encode((int16_t)x));
		int mag = x < 0 ? -x : x;
		/* steps are 1/16 of a segment; decoding gives the middle of the step */
		int ustep = mag < 256 ? 16 : 1 << (31 - __builtin_clz((unsigned)mag + 132) - 4);
		int astep = mag < 512 ? 16 : 1 << (31 - __builtin_clz((unsigned)mag) - 4);
		if (mag <= 32635)
			assert_true(abs(u - x) <= ustep / 2);
		assert_true(abs(a - x) <= astep / 2 + 1); /* negatives are mirrored around -0.5 */
		/* the sign survives (small values may become zero) */
		assert_true(u == 0 || (u < 0) == (x < 0));
		assert_true((a < 0) == (x < 0));
	}
}

static void monotonic(void **state)
{
	(void)state;
	/* positive mu-law codes 0xff..0x80 rise; positive A-law segments rise */
	for (unsigned c = 0xff; c > 0x80; c--)
		assert_true(g711_ulaw_decode((uint8_t)(c - 1)) > g711_ulaw_decode((uint8_t)c));
	for (unsigned r = 0x80; r < 0xff; r++)
		assert_true(g711_alaw_decode((uint8_t)((r + 1) ^ 0x55)) >
			    g711_alaw_decode((uint8_t)(r ^ 0x55)));
}

static void blocks_and_silence(void **state)
{
	(void)state;
	int16_t in[G711_FRAME], out[G711_FRAME];
	uint8_t codes[G711_FRAME];
	for (unsigned i = 0; i < G711_FRAME; i++)
		in[i] = (int16_t)((int)i * 409 - 32768);
	for (int law = G711_ULAW; law <= G711_ALAW; law++) {
		g711_encode((enum g711_law)law, in, codes, G711_FRAME);
		g711_decode((enum g711_law)law, codes, out, G711_FRAME);
		for (unsigned i = 0; i < G711_FRAME; i++) {
			uint8_t one = law == G711_ULAW ? g711_ulaw_encode(in[i])
						       : g711_alaw_encode(in[i]);
			assert_int_equal(codes[i], one);
			int16_t back = law == G711_ULAW ? g711_ulaw_decode(one)
						       : g711_alaw_decode(one);
			assert_int_equal(out[i], back);
		}
	}
	assert_int_equal(g711_silence(G711_ULAW), 0xff);
	assert_int_equal(g711_silence(G711_ALAW), 0xd5);
	assert_int_equal(g711_ulaw_decode(g711_silence(G711_ULAW)), 0);
	assert_int_equal(g711_alaw_decode(g711_silence(G711_ALAW)), 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_encode),
		cmocka_unit_test(known_decode),
		cmocka_unit_test(round_trip_all_codes),
		cmocka_unit_test(alaw_even_bits),
		cmocka_unit_test(quantisation_error),
		cmocka_unit_test(monotonic),
		cmocka_unit_test(blocks_and_silence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
