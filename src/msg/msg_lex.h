/*
 * msg_lex.h - character classes and small scanners shared by the msg parsers
 * (RFC 3261 §25.1).  Private to src/msg/.
 *
 * Header values handed to the typed parsers may contain folded line breaks
 * (CRLF followed by SP or HTAB, §7.3.1); lex_lws() skips those as whitespace,
 * so no parser ever needs a copy of an unfolded value.
 *
 * The scanners are the parsers' inner loops: each looks a byte up in a
 * 256-entry class table and is unrolled four bytes at a time, so a byte costs
 * a load, a table load and a test.  A few also take 16 bytes at a time with
 * SSE2 (lex_find4, lex_skip_an, lex_host) while 16 remain; each has a
 * byte-by-byte twin that test_msg_lex compares it with on random inputs.
 * None reads outside [p, end).
 */
#ifndef RINGLET_MSG_LEX_H
#define RINGLET_MSG_LEX_H

#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "ringlet/base.h"

enum {
	LEX_TOKEN = 0x01,      /* token char: alphanum / "-.!%*_+`'~" */
	LEX_WS = 0x02,	       /* SP / HTAB */
	LEX_DIGIT = 0x04,      /* 0-9 */
	LEX_ALPHA = 0x08,      /* A-Z a-z */
	LEX_HEX = 0x10,	       /* 0-9 A-F a-f */
	LEX_UNRESERVED = 0x20, /* alphanum / mark: "-_.!~*'()" */
	LEX_WORD = 0x40,       /* word (Call-ID): token chars plus "()<>:\\\"/[]?{}" */
	LEX_CRLF = 0x80,       /* CR / LF */
};

extern const uint8_t lex_class[256];

/* More character sets of the scanners, in a second table (lex_stop). */
enum {
	LEXS_HOST = 0x01,  /* hostname / IPv4 characters: alphanum '-' '.' */
	LEXS_LABEL = 0x02, /* characters of a host label: alphanum '-' */
	LEXS_BARE = 0x04, /* ends or breaks a bare addr-spec: ';' '?' ',' '<' '>' '"' SP HT CR LF */
	LEXS_VSTOP = 0x08, /* ends a header parameter value: ';' SP HT CR LF */
};

extern const uint8_t lex_stop[256];

static inline bool lex_is(char c, uint8_t cls)
{
	return (lex_class[(uint8_t)c] & cls) != 0;
}

/* Skip bytes whose entry in tab has a bit of cls set; returns the first other. */
static inline const char *lex_span(const char *p, const char *end, const uint8_t *tab, uint8_t cls)
{
	while (end - p >= 4) {
		if (!(tab[(uint8_t)p[0]] & cls))
			return p;
		if (!(tab[(uint8_t)p[1]] & cls))
			return p + 1;
		if (!(tab[(uint8_t)p[2]] & cls))
			return p + 2;
		if (!(tab[(uint8_t)p[3]] & cls))
			return p + 3;
		p += 4;
	}
	while (p < end && (tab[(uint8_t)*p] & cls))
		p++;
	return p;
}

/* Skip bytes whose entry in tab has no bit of cls set; returns the first other. */
static inline const char *lex_cspan(const char *p, const char *end, const uint8_t *tab, uint8_t cls)
{
	while (end - p >= 4) {
		if (tab[(uint8_t)p[0]] & cls)
			return p;
		if (tab[(uint8_t)p[1]] & cls)
			return p + 1;
		if (tab[(uint8_t)p[2]] & cls)
			return p + 2;
		if (tab[(uint8_t)p[3]] & cls)
			return p + 3;
		p += 4;
	}
	while (p < end && !(tab[(uint8_t)*p] & cls))
		p++;
	return p;
}

/* First byte in [p, end) equal to a, b, c or d, or end: the reference for lex_find4. */
static inline const char *lex_find4_scalar(const char *p, const char *end, char a, char b, char c,
					   char d)
{
	for (; p < end; p++)
		if (*p == a || *p == b || *p == c || *p == d)
			return p;
	return end;
}

/*
 * lex_find4_scalar, 16 bytes at a time with SSE2 (every x86-64) while 16
 * remain, then byte by byte.  Never reads outside [p, end).  test_msg_lex
 * checks that both give the same answer on random inputs.
 */
static inline const char *lex_find4(const char *p, const char *end, char a, char b, char c, char d)
{
#if defined(__SSE2__)
	if (end - p >= 16) {
		const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b);
		const __m128i vc = _mm_set1_epi8(c), vd = _mm_set1_epi8(d);
		do {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
			__m128i m = _mm_or_si128(
			    _mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb)),
			    _mm_or_si128(_mm_cmpeq_epi8(x, vc), _mm_cmpeq_epi8(x, vd)));
			unsigned bits = (unsigned)_mm_movemask_epi8(m);
			if (bits != 0)
				return p + __builtin_ctz(bits);
			p += 16;
		} while (end - p >= 16);
	}
#endif
	return lex_find4_scalar(p, end, a, b, c, d);
}

/* The rare part of lex_lws: p is at SP, HTAB, CR or LF. */
const char *lex_lws_slow(const char *p, const char *end);

/*
 * Skip linear whitespace from p (not past end): SP, HTAB and folded line
 * breaks (CR? LF followed by SP/HTAB).  A CRLF not followed by whitespace is
 * not LWS and stops the scan.
 */
static inline const char *lex_lws(const char *p, const char *end)
{
	if (p >= end || !(lex_class[(uint8_t)*p] & (LEX_WS | LEX_CRLF)))
		return p;
	if (*p == ' ' && (p + 1 == end || !(lex_class[(uint8_t)p[1]] & (LEX_WS | LEX_CRLF))))
		return p + 1; /* the common single space */
	return lex_lws_slow(p, end);
}

/*
 * Skip alphanumerics, '-' and '.' 16 bytes at a time with SSE2 while 16
 * remain; returns the first other byte's position, or where fewer than 16
 * remain (p itself without SSE2).  Every class that holds these characters
 * (token, word, URI unreserved) then continues byte by byte from there:
 * lex_span(lex_skip_an(p, end), ...) equals lex_span(p, ...) for such a
 * class, which test_msg_lex checks on random inputs.
 */
static inline const char *lex_skip_an(const char *p, const char *end)
{
#if defined(__SSE2__)
	if (end - p >= 16) {
		/* unsigned ranges by signed compares: x + (0x80 - lo) < -128 + n */
		const __m128i dlo = _mm_set1_epi8((char)(0x80 - '0')),
			      dn = _mm_set1_epi8(-128 + 10);
		const __m128i alo = _mm_set1_epi8((char)(0x80 - 'a')),
			      an = _mm_set1_epi8(-128 + 26);
		const __m128i mlo = _mm_set1_epi8((char)(0x80 - '-')), mn = _mm_set1_epi8(-128 + 2);
		const __m128i fold = _mm_set1_epi8(0x20);
		do {
			const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
			const __m128i dig = _mm_cmplt_epi8(_mm_add_epi8(x, dlo), dn);
			const __m128i alp =
			    _mm_cmplt_epi8(_mm_add_epi8(_mm_or_si128(x, fold), alo), an);
			const __m128i dd = _mm_cmplt_epi8(_mm_add_epi8(x, mlo), mn); /* '-' '.' */
			unsigned bits =
			    ~(unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(dig, alp), dd)) &
			    0xffffu;
			if (bits != 0)
				return p + __builtin_ctz(bits);
			p += 16;
		} while (end - p >= 16);
	}
#else
	(void)end;
#endif
	return p;
}

/* Skip token characters. */
static inline const char *lex_token(const char *p, const char *end)
{
	return lex_span(p, end, lex_class, LEX_TOKEN);
}

/*
 * p points at '"': return the pointer just past the closing quote, or NULL if
 * the quoted string is unterminated or contains a bare CR/LF that is not
 * folding.  Quoted-pairs ("\x") are skipped.
 */
const char *lex_quoted(const char *p, const char *end);

/*
 * Host at p (RFC 3261 §25.1): skip the run of hostname characters (alphanum,
 * '-', '.') and classify it in the same pass.  *kind becomes MSG_HOST_IPV4
 * (IPv4address: four parts of 1-3 digits, each <= 255), MSG_HOST_NAME
 * (hostname = *(domainlabel ".") toplabel ["."], labels of alphanum and
 * inner '-', the top label starting with a letter) or MSG_HOST_NONE (neither;
 * the returned position is then unspecified).  Returns the end of the run.
 */
const char *lex_host(const char *p, const char *end, uint8_t *kind);

/* lex_host byte by byte: its reference (the SSE2 path must agree with it). */
const char *lex_host_scalar(const char *p, const char *end, uint8_t *kind);

/*
 * ASCII case-insensitive equality of the n bytes at p with the literal lit,
 * whose letters are lower case: A-Z at p fold to a-z, every other byte must
 * match exactly.
 */
static inline bool lex_ieq(const char *p, const char *lit, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)p[i];
		if ((uint8_t)(c - 'A') < 26u)
			c |= 0x20;
		if (c != (uint8_t)lit[i])
			return false;
	}
	return true;
}

/* n bytes (n <= 8) at p as an integer, the other bytes zero. */
static inline uint64_t lex_load(const char *p, size_t n)
{
	uint64_t w = 0;
	memcpy(&w, p, n);
	return w;
}

/*
 * lex_ieq for a token p (RFC 3261 §25.1 token characters only): OR-ing 0x20
 * folds A-Z onto a-z and maps no other token character onto a letter, digit,
 * '-' or '.', so the bytes are compared eight at a time.  With a literal
 * length known at compile time this is a few loads and compares.
 */
static inline bool lex_tieq(const char *p, const char *lit, size_t n)
{
	const uint64_t fold = 0x2020202020202020ull;

	for (; n > 8; p += 8, lit += 8, n -= 8)
		if ((lex_load(p, 8) | fold) != (lex_load(lit, 8) | fold))
			return false;
	return (lex_load(p, n) | fold) == (lex_load(lit, n) | fold);
}

/* Token span s of buf equals the lower-case literal (case-insensitively). */
#define LEX_TOKEN_IS(buf, s, lit)                                                                  \
	((s).len == sizeof(lit) - 1 && lex_tieq((buf) + (s).off, lit, sizeof(lit) - 1))

#endif
