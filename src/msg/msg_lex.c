/*
 * msg_lex.c - the character class tables, the quoted-string scanner and the
 * one-pass host classifier.
 */
#include "ringlet/msg_uri.h"

#include "msg_lex.h"

#define T LEX_TOKEN
#define W LEX_WORD
#define U LEX_UNRESERVED
#define A (LEX_ALPHA | LEX_TOKEN | LEX_WORD | LEX_UNRESERVED)
#define AH (A | LEX_HEX)
#define D (LEX_DIGIT | LEX_HEX | LEX_TOKEN | LEX_WORD | LEX_UNRESERVED)

/* clang-format off */
/* RFC 3261 §25.1: token, word, unreserved (alphanum / mark). */
const uint8_t lex_class[256] = {
	['\t'] = LEX_WS, [' '] = LEX_WS, ['\r'] = LEX_CRLF, ['\n'] = LEX_CRLF,
	['!'] = T | W | U, ['"'] = W, ['%'] = T | W, ['\''] = T | W | U,
	['('] = W | U, [')'] = W | U, ['*'] = T | W | U, ['+'] = T | W,
	['-'] = T | W | U, ['.'] = T | W | U, ['/'] = W, [':'] = W,
	['<'] = W, ['>'] = W, ['?'] = W, ['['] = W, ['\\'] = W, [']'] = W,
	['_'] = T | W | U, ['`'] = T | W, ['{'] = W, ['}'] = W, ['~'] = T | W | U,
	['0'] = D, ['1'] = D, ['2'] = D, ['3'] = D, ['4'] = D,
	['5'] = D, ['6'] = D, ['7'] = D, ['8'] = D, ['9'] = D,
	['A'] = AH, ['B'] = AH, ['C'] = AH, ['D'] = AH, ['E'] = AH, ['F'] = AH,
	['G'] = A, ['H'] = A, ['I'] = A, ['J'] = A, ['K'] = A, ['L'] = A, ['M'] = A,
	['N'] = A, ['O'] = A, ['P'] = A, ['Q'] = A, ['R'] = A, ['S'] = A, ['T'] = A,
	['U'] = A, ['V'] = A, ['W'] = A, ['X'] = A, ['Y'] = A, ['Z'] = A,
	['a'] = AH, ['b'] = AH, ['c'] = AH, ['d'] = AH, ['e'] = AH, ['f'] = AH,
	['g'] = A, ['h'] = A, ['i'] = A, ['j'] = A, ['k'] = A, ['l'] = A, ['m'] = A,
	['n'] = A, ['o'] = A, ['p'] = A, ['q'] = A, ['r'] = A, ['s'] = A, ['t'] = A,
	['u'] = A, ['v'] = A, ['w'] = A, ['x'] = A, ['y'] = A, ['z'] = A,
};

#undef T
#undef W
#undef U
#undef A
#undef AH
#undef D

#define H LEXS_HOST
#define B LEXS_BARE
#define V LEXS_VSTOP
#define N (LEXS_HOST | LEXS_LABEL)

/* The LEXS_* sets (msg_lex.h). */
const uint8_t lex_stop[256] = {
	['"'] = B, ['\r'] = B | V, ['\n'] = B | V, [','] = B, ['<'] = B, ['>'] = B,
	[';'] = B | V, ['?'] = B, [' '] = B | V, ['\t'] = B | V, ['-'] = N, ['.'] = H,
	['0'] = N, ['1'] = N, ['2'] = N, ['3'] = N, ['4'] = N,
	['5'] = N, ['6'] = N, ['7'] = N, ['8'] = N, ['9'] = N,
	['A'] = N, ['B'] = N, ['C'] = N, ['D'] = N, ['E'] = N, ['F'] = N, ['G'] = N,
	['H'] = N, ['I'] = N, ['J'] = N, ['K'] = N, ['L'] = N, ['M'] = N, ['N'] = N,
	['O'] = N, ['P'] = N, ['Q'] = N, ['R'] = N, ['S'] = N, ['T'] = N, ['U'] = N,
	['V'] = N, ['W'] = N, ['X'] = N, ['Y'] = N, ['Z'] = N,
	['a'] = N, ['b'] = N, ['c'] = N, ['d'] = N, ['e'] = N, ['f'] = N, ['g'] = N,
	['h'] = N, ['i'] = N, ['j'] = N, ['k'] = N, ['l'] = N, ['m'] = N, ['n'] = N,
	['o'] = N, ['p'] = N, ['q'] = N, ['r'] = N, ['s'] = N, ['t'] = N, ['u'] = N,
	['v'] = N, ['w'] = N, ['x'] = N, ['y'] = N, ['z'] = N,
};
/* clang-format on */

const char *lex_lws_slow(const char *p, const char *end)
{
	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		const char *q = p;
		if (q < end && *q == '\r')
			q++;
		if (q < end && *q == '\n')
			q++;
		else
			return p;
		if (q < end && (*q == ' ' || *q == '\t'))
			p = q;
		else
			return p;
	}
}

const char *lex_quoted(const char *p, const char *end)
{
	p++; /* opening quote */
	for (;;) {
		p = lex_find4(p, end, '"', '\\', '\r', '\n');
		if (p >= end)
			return NULL;
		char c = *p;
		if (c == '"')
			return p + 1;
		if (c == '\\') {
			/* quoted-pair: any octet but CR/LF (%x00-09 / %x0B-0C / %x0E-7F) */
			if (p + 1 >= end || p[1] == '\r' || p[1] == '\n')
				return NULL;
			p += 2;
			continue;
		}
		const char *q = lex_lws(p, end); /* CR or LF */
		if (q == p)
			return NULL; /* a line break that is not folding */
		p = q;
	}
}

/*
 * Is the label [l, e) (non-empty, alphanum and '-' only) an IPv4 part: 1-3
 * digits, at most 255?
 */
static bool v4_part(const char *l, const char *e)
{
	unsigned v = 0;

	if (e - l > 3)
		return false;
	for (; l < e; l++) {
		if (!(lex_class[(uint8_t)*l] & LEX_DIGIT))
			return false;
		v = v * 10 + (unsigned)(*l - '0');
	}
	return v <= 255;
}

/*
 * One IPv4 part at p: 1-3 digits, at most 255, not followed by a fourth
 * digit.  Returns its end or NULL.  With wide, 4 bytes may be read at p
 * whatever end says (the bounds tests fold away).
 */
static inline __attribute__((always_inline)) const char *ipv4_part(const char *p, const char *end,
								   bool wide)
{
	unsigned d0, d1, d2;

	if ((!wide && p >= end) || (d0 = (unsigned)(uint8_t)p[0] - '0') > 9)
		return NULL;
	if ((!wide && p + 1 == end) || (d1 = (unsigned)(uint8_t)p[1] - '0') > 9)
		return p + 1;
	if ((!wide && p + 2 == end) || (d2 = (unsigned)(uint8_t)p[2] - '0') > 9)
		return p + 2;
	if (d0 * 100 + d1 * 10 + d2 > 255 ||
	    ((wide || p + 3 < end) && (unsigned)(uint8_t)p[3] - '0' <= 9))
		return NULL;
	return p + 3;
}

/*
 * An IPv4address at p: four parts joined by '.', and no host character
 * after them.  An IPv4address and the byte after it fit in 16 bytes, so with
 * wide (16 readable at p) no bound needs testing.
 */
static inline __attribute__((always_inline)) const char *ipv4_at(const char *p, const char *end,
								 bool wide)
{
	for (int part = 0; part < 4; part++) {
		p = ipv4_part(p, end, wide);
		if (p == NULL)
			return NULL;
		if (part == 3)
			break;
		if ((!wide && p >= end) || *p != '.')
			return NULL;
		p++;
	}
	if ((wide || p < end) && (lex_stop[(uint8_t)*p] & LEXS_HOST))
		return NULL; /* more host text follows: "1.2.3.4.5", "1.2.3.4a" */
	return p;
}

/*
 * The common case of an IPv4address at p: four parts of 1-3 digits up to 255
 * joined by '.', and no host character after them.  Returns the end, or NULL
 * when the text is not exactly that (lex_host then takes the general path).
 */
static const char *ipv4_fast(const char *p, const char *end)
{
	return end - p >= 16 ? ipv4_at(p, end, true) : ipv4_at(p, end, false);
}

/*
 * Label by label: each is a run of alphanum and '-' (one table scan), checked
 * at its end: non-empty, no '-' at either edge (domainlabel), and whether it
 * can be an IPv4 part.  A '.' not followed by a label ends the host (the
 * optional final dot of a hostname) unless another '.' follows (an empty
 * label).
 */
const char *lex_host_scalar(const char *p, const char *end, uint8_t *kind)
{
	const char *top = p;
	unsigned parts = 0;
	bool v4 = true;

	if (p < end && (lex_class[(uint8_t)*p] & LEX_DIGIT)) {
		const char *e = ipv4_fast(p, end);
		if (e != NULL) {
			*kind = MSG_HOST_IPV4;
			return e;
		}
	} else {
		v4 = false;
	}
	*kind = MSG_HOST_NONE;
	for (;;) {
		const char *l = p;
		p = lex_span(p, end, lex_stop, LEXS_LABEL);
		if (p == l || *l == '-' || p[-1] == '-')
			return p; /* empty label or '-' at its edge */
		if (v4)
			v4 = v4_part(l, p);
		top = l;
		parts++;
		if (p == end || *p != '.')
			break;
		p++;
		if (p == end || !(lex_stop[(uint8_t)*p] & LEXS_LABEL)) {
			if (p < end && *p == '.')
				return p; /* ".." */
			v4 = false;	  /* a final dot */
			break;
		}
	}
	if (v4 && parts == 4)
		*kind = MSG_HOST_IPV4;
	else if (lex_class[(uint8_t)*top] & LEX_ALPHA)
		*kind = MSG_HOST_NAME;
	return p;
}

#if defined(__SSE2__)
/* Bit i set where byte i of the 16 at p is: a host character, '.', '-', a letter. */
struct host_bits {
	uint32_t host, dot, dash, alpha;
};

static inline void host_bits16(const char *p, struct host_bits *b, unsigned shift)
{
	const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	/* unsigned ranges by signed compares: x + (0x80 - lo) < -128 + n */
	const __m128i dig = _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8((char)(0x80 - '0'))),
					   _mm_set1_epi8(-128 + 10));
	const __m128i lc = _mm_or_si128(x, _mm_set1_epi8(0x20));
	const __m128i alp = _mm_cmplt_epi8(_mm_add_epi8(lc, _mm_set1_epi8((char)(0x80 - 'a'))),
					   _mm_set1_epi8(-128 + 26));
	const __m128i dash = _mm_cmpeq_epi8(x, _mm_set1_epi8('-'));
	const __m128i dot = _mm_cmpeq_epi8(x, _mm_set1_epi8('.'));
	const __m128i host = _mm_or_si128(_mm_or_si128(dig, alp), _mm_or_si128(dash, dot));

	b->host |= (uint32_t)_mm_movemask_epi8(host) << shift;
	b->dot |= (uint32_t)_mm_movemask_epi8(dot) << shift;
	b->dash |= (uint32_t)_mm_movemask_epi8(dash) << shift;
	b->alpha |= (uint32_t)_mm_movemask_epi8(alp) << shift;
}

/*
 * lex_host_scalar's answer for a host that is not an IPv4address, from bit
 * masks of up to 32 bytes: NULL when the run is 32 bytes or longer (the
 * caller falls back), else the end of the run with *kind NAME or NONE.
 * The rules, on the run: not empty; no '.' or '-' first; no "..", ".-" or
 * "-."; no '-' last; the label after the last '.' that is not a final dot
 * starts with a letter.
 */
static const char *host_name16(const char *p, const char *end, uint8_t *kind)
{
	struct host_bits b = {0, 0, 0, 0};
	size_t avail = (size_t)(end - p);

	host_bits16(p, &b, 0);
	if (avail >= 32)
		host_bits16(p + 16, &b, 16);
	else if (avail > 16)
		host_bits16(end - 16, &b, (unsigned)(avail - 16)); /* overlaps, inside [p, end) */
	if (b.host == UINT32_MAX)
		return NULL;
	unsigned run = (unsigned)__builtin_ctz(~b.host);
	uint32_t lm = (1u << run) - 1, last = run ? 1u << (run - 1) : 0;
	uint32_t dot = b.dot & lm, dash = b.dash & lm;
	uint32_t bad = ((dot | dash) & 1u) | (dot & (dot >> 1)) | (dot & (dash >> 1)) |
		       (dash & (dot >> 1)) | (dash & last);
	uint32_t inner = dot & ~last; /* dots before the top label */
	unsigned top = inner ? 32 - (unsigned)__builtin_clz(inner) : 0;

	*kind = run == 0 || bad || !((b.alpha >> top) & 1u) ? MSG_HOST_NONE : MSG_HOST_NAME;
	return p + run;
}
#endif

/*
 * An IPv4address by ipv4_fast; any other host, with SSE2 and 16 bytes to
 * read, from bit masks of the next 32 bytes (host_name16), else (or for a
 * longer run) as lex_host_scalar does.  test_msg_lex checks that lex_host and
 * lex_host_scalar agree on random inputs.
 */
const char *lex_host(const char *p, const char *end, uint8_t *kind)
{
	if (p < end && (lex_class[(uint8_t)*p] & LEX_DIGIT)) {
		const char *e = ipv4_fast(p, end);
		if (e != NULL) {
			*kind = MSG_HOST_IPV4;
			return e;
		}
	}
#if defined(__SSE2__)
	if (end - p >= 16) {
		const char *e = host_name16(p, end, kind);
		if (e != NULL)
			return e;
	}
#endif
	return lex_host_scalar(p, end, kind);
}
