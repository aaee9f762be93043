/*
 * msg_lex.h - character classes and small scanners shared by the msg parsers
 * (RFC 3261 §25.1).  Private to src/msg/.
 *
 * Header values handed to the typed parsers may contain folded line breaks
 * (CRLF followed by SP or HTAB, §7.3.1); lex_lws() skips those as whitespace,
 * so no parser ever needs a copy of an unfolded value.
 */
#ifndef RINGLET_MSG_LEX_H
#define RINGLET_MSG_LEX_H

#include <stdint.h>

#include "ringlet/base.h"

enum {
	LEX_TOKEN = 0x01,    /* token char: alphanum / "-.!%*_+`'~" */
	LEX_WS = 0x02,       /* SP / HTAB */
	LEX_DIGIT = 0x04,    /* 0-9 */
	LEX_ALPHA = 0x08,    /* A-Z a-z */
	LEX_HEX = 0x10,      /* 0-9 A-F a-f */
	LEX_UNRESERVED = 0x20, /* alphanum / mark: "-_.!~*'()" */
	LEX_WORD = 0x40,     /* word (Call-ID): token chars plus "()<>:\\\"/[]?{}" */
	LEX_CRLF = 0x80,     /* CR / LF */
};

extern const uint8_t lex_class[256];

static inline bool lex_is(char c, uint8_t cls)
{
	return (lex_class[(uint8_t)c] & cls) != 0;
}

/*
 * Skip linear whitespace from p (not past end): SP, HTAB and folded line
 * breaks (CR? LF followed by SP/HTAB).  A CRLF not followed by whitespace is
 * not LWS and stops the scan.
 */
static inline const char *lex_lws(const char *p, const char *end)
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

/* Skip token characters. */
static inline const char *lex_token(const char *p, const char *end)
{
	while (p < end && lex_is(*p, LEX_TOKEN))
		p++;
	return p;
}

/*
 * p points at '"': return the pointer just past the closing quote, or NULL if
 * the quoted string is unterminated or contains a bare CR/LF that is not
 * folding.  Quoted-pairs ("\x") are skipped.
 */
const char *lex_quoted(const char *p, const char *end);

#endif
