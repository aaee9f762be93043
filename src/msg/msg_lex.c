/*
 * msg_lex.c - the character class table and the quoted-string scanner.
 */
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

const char *lex_quoted(const char *p, const char *end)
{
	p++; /* opening quote */
	while (p < end) {
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
		if (c == '\r' || c == '\n') {
			const char *q = lex_lws(p, end);
			if (q == p)
				return NULL; /* a line break that is not folding */
			p = q;
			continue;
		}
		p++;
	}
	return NULL;
}
