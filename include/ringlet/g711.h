/*
 * g711.h - ITU-T G.711 companding: mu-law (PCMU, RTP payload type 0) and
 * A-law (PCMA, payload type 8), RFC 3551 §4.5.14.
 *
 * Samples are 16-bit linear PCM.  G.711 itself works on 14-bit (mu-law) and
 * 13-bit (A-law) magnitudes; the encoders take the top bits of the 16-bit
 * sample and the decoders return the middle of the quantisation interval
 * scaled back to 16 bits, so decode(encode(x)) is within half a step of x and
 * encode(decode(c)) == c for every code c (except mu-law 0x7f, "negative
 * zero", which decodes to 0 and encodes back to 0xff).  Pure functions, no
 * tables in memory, no state.
 */
#ifndef RINGLET_G711_H
#define RINGLET_G711_H

#include <stddef.h>
#include <stdint.h>

/* RTP static payload types (RFC 3551 §6). */
#define G711_PT_PCMU 0u
#define G711_PT_PCMA 8u

/* Samples per 20 ms packet at 8 kHz, one byte each on the wire. */
#define G711_FRAME 160u

enum g711_law {
	G711_ULAW = 0, /* PCMU */
	G711_ALAW = 1, /* PCMA */
};

/* One 16-bit linear sample to its mu-law code (sign-magnitude, bits inverted). */
uint8_t g711_ulaw_encode(int16_t pcm);
/* One mu-law code to the 16-bit linear value at the centre of its interval. */
int16_t g711_ulaw_decode(uint8_t code);
/* One 16-bit linear sample to its A-law code (even bits inverted, XOR 0x55). */
uint8_t g711_alaw_encode(int16_t pcm);
/* One A-law code to the 16-bit linear value at the centre of its interval. */
int16_t g711_alaw_decode(uint8_t code);

/* Encode n samples from in to n codes in out with the given law. */
void g711_encode(enum g711_law law, const int16_t *in, uint8_t *out, size_t n);
/* Decode n codes from in to n samples in out with the given law. */
void g711_decode(enum g711_law law, const uint8_t *in, int16_t *out, size_t n);

/* The code for digital silence (linear 0): 0xff for mu-law, 0xd5 for A-law. */
uint8_t g711_silence(enum g711_law law);

#endif
