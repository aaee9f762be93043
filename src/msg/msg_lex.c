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

#define Q LEXS_QSTR
#define L LEXS_LIST
#define H LEXS_HOST
#define B LEXS_BARE
#define V LEXS_VSTOP

/* Stop sets: see the LEXS_* comments in msg_lex.h. */
const uint8_t lex_stop[256] = {
	['"'] = Q | L | B, ['\\'] = Q, ['\r'] = Q | B | V, ['\n'] = Q | B | V,
	[','] = L | B, ['<'] = L | B, ['>'] = B, [';'] = B | V, ['?'] = B,
	[' '] = B | V, ['\t'] = B | V, ['-'] = H, ['.'] = H,
	['0'] = H, ['1'] = H, ['2'] = H, ['3'] = H, ['4'] = H,
	['5'] = H, ['6'] = H, ['7'] = H, ['8'] = H, ['9'] = H,
	['A'] = H, ['B'] = H, ['C'] = H, ['D'] = H, ['E'] = H, ['F'] = H, ['G'] = H,
	['H'] = H, ['I'] = H, ['J'] = H, ['K'] = H, ['L'] = H, ['M'] = H, ['N'] = H,
	['O'] = H, ['P'] = H, ['Q'] = H, ['R'] = H, ['S'] = H, ['T'] = H, ['U'] = H,
	['V'] = H, ['W'] = H, ['X'] = H, ['Y'] = H, ['Z'] = H,
	['a'] = H, ['b'] = H, ['c'] = H, ['d'] = H, ['e'] = H, ['f'] = H, ['g'] = H,
	['h'] = H, ['i'] = H, ['j'] = H, ['k'] = H, ['l'] = H, ['m'] = H, ['n'] = H,
	['o'] = H, ['p'] = H, ['q'] = H, ['r'] = H, ['s'] = H, ['t'] = H, ['u'] = H,
	['v'] = H, ['w'] = H, ['x'] = H, ['y'] = H, ['z'] = H,
};

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
		p = lex_cspan(p, end, lex_stop, LEXS_QSTR);
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
 * Check the label [l, e) of a host (non-empty, alphanum or '-' only) at its
 * end: a domainlabel may not start or end with '-'; an IPv4 part is 1-3
 * digits up to 255 (*v4 is cleared otherwise).  Returns false when the label
 * fits neither.
 */
static bool host_label(const char *l, const char *e, bool *v4)
{
	if (*l == '-' || e[-1] == '-')
		return false;
	if (*v4) {
		size_t n = (size_t)(e - l);
		unsigned v = 0;
		for (size_t i = 0; i < n && i < 3; i++)
			v = v * 10 + (unsigned)(l[i] - '0');
		*v4 = n <= 3 && v <= 255;
	}
	return true;
}

/*
 * One pass: the run of host characters, label by label.  v4 stays true while
 * everything seen is digits and dots with IPv4-sized parts; a label that
 * breaks the hostname rules can be neither, so the scan stops there.
 */
const char *lex_host(const char *p, const char *end, uint8_t *kind)
{
	const char *s = p, *label = p, *top = p;
	unsigned parts = 0;
	bool v4 = true;

	*kind = MSG_HOST_NONE;
	for (; p < end; p++) {
		uint8_t c = lex_class[(uint8_t)*p];
		if (c & LEX_DIGIT)
			continue;
		if ((c & LEX_ALPHA) || *p == '-') {
			v4 = false;
			continue;
		}
		if (*p != '.')
			break;
		if (p == label || !host_label(label, p, &v4))
			return p; /* empty label or '-' at its edge */
		top = label;
		parts++;
		label = p + 1;
	}
	if (p == label) {
		/* nothing, or a final '.': only a hostname may end with one */
		if (p == s)
			return p;
		v4 = false;
	} else {
		if (!host_label(label, p, &v4))
			return p;
		top = label;
		parts++;
	}
	if (v4 && parts == 4)
		*kind = MSG_HOST_IPV4;
	else if (lex_class[(uint8_t)*top] & LEX_ALPHA)
		*kind = MSG_HOST_NAME;
	return p;
}
