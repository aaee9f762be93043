/*
 * msg_param.c - iteration over ";"-separated parameters and %HH decoding.
 *
 * The same iterator serves URI parameters (RFC 3261 §19.1.1, no whitespace)
 * and header parameters (§7.3.1, §25.1: "SEMI" and "EQUAL" allow LWS on both
 * sides), so it skips linear whitespace, folded line breaks included, and
 * leaves the validation of names and values to the caller.
 */
#include "ringlet/msg_uri.h"

#include "msg_lex.h"

/* Marks a cursor whose iteration is over (the last element had no ';'). */
#define PARAM_DONE UINT32_MAX

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* True if c ends a bare name or value: separator, '=' or whitespace. */
static bool name_stop(char c)
{
	return c == ';' || c == '=' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool value_stop(char c)
{
	return c == ';' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *find_semi(const char *p, const char *end)
{
	while (p < end && *p != ';')
		p++;
	return p;
}

/*
 * Scan a value starting at v (already past LWS).  A value that opens with a
 * quote runs to the closing quote (lex_quoted), so it may hold ';'; an
 * unterminated quoted value runs to the end of the span.
 */
static const char *scan_value(const char *v, const char *end)
{
	if (v < end && *v == '"') {
		const char *q = lex_quoted(v, end);
		return q ? q : end;
	}
	while (v < end && !value_stop(*v))
		v++;
	return v;
}

/*
 * One element: [LWS] name [LWS] ["=" [LWS] value [LWS]] followed by ';' or the
 * end.  Anything else is malformed: the offending element is then returned
 * raw (up to the next ';') in the name or the value so the caller, which
 * validates both, rejects it.
 */
bool msg_param_next(const char *buf, struct span params, uint32_t *pos, struct span *name,
		    struct span *value)
{
	const char *start = buf + params.off;
	const char *end = start + params.len;

	if (*pos > params.len)
		return false;
	if (*pos == 0 && lex_lws(start, end) == end) {
		*pos = PARAM_DONE;
		return false; /* an empty (or all-whitespace) params span has no element */
	}
	const char *p = lex_lws(start + *pos, end);
	const char *n = p;
	while (p < end && !name_stop(*p))
		p++;
	*name = span_from(buf, n, p);
	*value = span_from(buf, p, p);
	p = lex_lws(p, end);
	if (p < end && *p == '=') {
		const char *v = lex_lws(p + 1, end);
		p = scan_value(v, end);
		*value = span_from(buf, v, p);
		p = lex_lws(p, end);
		if (p < end && *p != ';') {
			p = find_semi(p, end);
			*value = span_from(buf, v, p);
		}
	} else if (p < end && *p != ';') {
		p = find_semi(p, end);
		*name = span_from(buf, n, p);
	}
	if (p < end)
		*pos = (uint32_t)(p + 1 - start); /* past ';': another element follows */
	else
		*pos = PARAM_DONE;
	return true;
}

/* Linear scan; the first parameter whose name matches wins. */
bool msg_param_get(const char *buf, struct span params, const char *name, struct span *value)
{
	uint32_t pos = 0;
	struct span n, v;

	while (msg_param_next(buf, params, &pos, &n, &v)) {
		if (span_ieq(buf, n, name)) {
			*value = v;
			return true;
		}
	}
	return false;
}

/* RFC 3261 §25.1: escaped = "%" HEXDIG HEXDIG. */
int msg_unescape(const char *buf, struct span s, char *out, size_t cap)
{
	const char *p = buf + s.off;
	const char *end = p + s.len;
	size_t n = 0;

	while (p < end) {
		char c = *p++;
		if (c == '%') {
			if (end - p < 2)
				return -1;
			int hi = hexval(p[0]), lo = hexval(p[1]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			p += 2;
		}
		if (n >= cap)
			return -1;
		out[n++] = c;
	}
	if (n > INT32_MAX)
		return -1;
	return (int)n;
}
