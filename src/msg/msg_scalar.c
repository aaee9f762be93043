/*
 * msg_scalar.c - the small typed header parsers: CSeq, unsigned numbers,
 * Call-ID, tokens, Content-Type, Retry-After (RFC 3261 §20, §25.1), Event and
 * Subscription-State (RFC 6665 §8.2), plus the helpers every typed parser
 * shares (value bounds, header parameters, delta-seconds).
 */
#include <errno.h>

#include "msg_hdr_int.h"

/* Largest CSeq number: "MUST be less than 2**31" (RFC 3261 §8.1.1.5). */
#define CSEQ_MAX 2147483647u

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int msg_delta_parse(const char *buf, struct span s, bool clamp, int64_t *out)
{
	const char *p = buf + s.off;
	const char *end = p + s.len;
	uint64_t v = 0;
	bool over = false;

	if (p == end)
		return EBADMSG;
	for (; p < end; p++) {
		if (!is_digit(*p))
			return EBADMSG;
		if (!over) {
			v = v * 10 + (uint64_t)(*p - '0');
			over = v > MSG_DELTA_MAX;
		}
	}
	if (over && !clamp)
		return EBADMSG;
	*out = over ? (int64_t)MSG_DELTA_MAX : (int64_t)v;
	return 0;
}

/* CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16); the LWS may be a fold. */
int msg_cseq_parse(const char *buf, struct span v, struct msg_cseq *out)
{
	const char *p, *end;
	uint32_t num;

	if (!msg_hdr_bounds(buf, v, &p, &end))
		return EBADMSG;
	const char *d = p;
	while (p < end && is_digit(*p))
		p++;
	if (!msg_digits_u32(d, p, CSEQ_MAX, &num))
		return EBADMSG;
	const char *m = lex_lws(p, end);
	if (m == p)
		return EBADMSG; /* LWS is mandatory between number and method */
	p = lex_token(m, end);
	if (p == m || p != end)
		return EBADMSG;
	out->num = num;
	out->method = span_from(buf, m, p);
	out->method_id = (uint8_t)msg_method_id(m, (size_t)(p - m));
	return 0;
}

/* 1*DIGIT with leading zeros allowed ("0068", RFC 4475 §3.1.1.1). */
int msg_uint_parse(const char *buf, struct span v, uint32_t max, uint32_t *out)
{
	const char *p, *end;
	uint32_t n;

	if (!msg_hdr_bounds(buf, v, &p, &end))
		return EBADMSG;
	if (!msg_digits_u32(p, end, max, &n))
		return EBADMSG;
	*out = n;
	return 0;
}

/* callid = word [ "@" word ] (RFC 3261 §25.1). */
int msg_callid_parse(const char *buf, struct span v, struct span *out)
{
	const char *p, *end;

	if (!msg_hdr_bounds(buf, v, &p, &end))
		return EBADMSG;
	const char *s = p;
	p = lex_span(lex_skip_an(p, end), end, lex_class, LEX_WORD);
	if (p == s)
		return EBADMSG;
	if (p < end && *p == '@') {
		const char *w = ++p;
		p = lex_span(lex_skip_an(p, end), end, lex_class, LEX_WORD);
		if (p == w)
			return EBADMSG;
	}
	if (p != end)
		return EBADMSG;
	*out = span_from(buf, s, end);
	return 0;
}

int msg_token_parse(const char *buf, struct span v, struct span *out)
{
	const char *p, *end;

	if (!msg_hdr_bounds(buf, v, &p, &end) || lex_token(p, end) != end)
		return EBADMSG;
	*out = span_from(buf, p, end);
	return 0;
}

/* Content-Type = m-type SLASH m-subtype *(SEMI m-parameter) (RFC 3261 §20.15). */
int msg_ctype_parse(const char *buf, struct span v, struct msg_ctype *out)
{
	const char *p, *end;
	struct span params = SPAN_NULL;
	struct hparam hp;
	uint32_t pos = 0;
	int rc;

	if (!msg_hdr_bounds(buf, v, &p, &end))
		return EBADMSG;
	const char *t = p;
	p = lex_token(p, end);
	if (p == t)
		return EBADMSG;
	struct span type = span_from(buf, t, p);
	p = lex_lws(p, end);
	if (p >= end || *p != '/')
		return EBADMSG;
	const char *s = lex_lws(p + 1, end);
	p = lex_token(s, end);
	if (p == s)
		return EBADMSG;
	struct span sub = span_from(buf, s, p);
	p = lex_lws(p, end);
	if (p < end) {
		if (*p != ';' || msg_hparams_open(buf, p, end, &params) != 0)
			return EBADMSG;
		/* m-parameter = m-attribute EQUAL m-value: the value is required */
		while ((rc = msg_hparam_next(buf, params, &pos, &hp)) == 0)
			if (hp.kind == HPV_NONE)
				return EBADMSG;
		if (rc != ENOENT)
			return EBADMSG;
	}
	out->type = type;
	out->subtype = sub;
	out->params = params;
	return 0;
}

/*
 * comment = LPAREN *(ctext / quoted-pair / comment) RPAREN (RFC 3261 §25.1).
 * p points at '('.  Nesting is counted, not recursed.  Returns the pointer
 * past the matching ')', or NULL.
 */
static const char *comment_end(const char *p, const char *end)
{
	uint32_t depth = 0;

	while (p < end) {
		unsigned char c = (unsigned char)*p;
		if (c == '(') {
			depth++;
		} else if (c == ')') {
			if (--depth == 0)
				return p + 1;
		} else if (c == '\\') {
			if (p + 1 >= end || p[1] == '\r' || p[1] == '\n')
				return NULL;
			p += 2;
			continue;
		} else if (c == '\r' || c == '\n') {
			const char *q = lex_lws(p, end);
			if (q == p)
				return NULL;
			p = q;
			continue;
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return NULL;
		}
		p++;
	}
	return NULL;
}

/* Retry-After = delta-seconds [comment] *(SEMI retry-param) (RFC 3261 §20.33). */
int msg_retry_after_parse(const char *buf, struct span v, struct msg_retry_after *out)
{
	const char *p, *end;
	struct span params = SPAN_NULL, comment = SPAN_NULL;
	struct hparam hp;
	int64_t secs, duration = -1;
	uint32_t pos = 0;
	int rc;

	if (!msg_hdr_bounds(buf, v, &p, &end))
		return EBADMSG;
	const char *d = p;
	while (p < end && is_digit(*p))
		p++;
	if (msg_delta_parse(buf, span_from(buf, d, p), false, &secs) != 0)
		return EBADMSG;
	p = lex_lws(p, end);
	if (p < end && *p == '(') {
		const char *c = p;
		p = comment_end(p, end);
		if (p == NULL)
			return EBADMSG;
		comment = span_from(buf, c, p);
		p = lex_lws(p, end);
	}
	if (p < end) {
		if (*p != ';' || msg_hparams_open(buf, p, end, &params) != 0)
			return EBADMSG;
		while ((rc = msg_hparam_next(buf, params, &pos, &hp)) == 0) {
			if (!LEX_TOKEN_IS(buf, hp.name, "duration"))
				continue;
			if (duration >= 0 || msg_delta_parse(buf, hp.value, false, &duration) != 0)
				return EBADMSG;
		}
		if (rc != ENOENT)
			return EBADMSG;
	}
	out->seconds = (uint32_t)secs;
	out->comment = comment;
	out->duration = duration;
	out->params = params;
	return 0;
}

/* token-nodot *("." token-nodot) (RFC 6665 §8.4 event-type). */
static const char *event_type_end(const char *p, const char *end)
{
	for (;;) {
		const char *s = p;
		while (p < end && *p != '.' && lex_is(*p, LEX_TOKEN))
			p++;
		if (p == s)
			return NULL; /* empty part: leading, trailing or doubled '.' */
		if (p >= end || *p != '.')
			return p;
		p++;
	}
}

/* Event = event-type *(SEMI event-param), event-param = "id" EQUAL token / generic-param. */
int msg_event_parse(const char *buf, struct span v, struct msg_event *out)
{
	const char *p, *end;
	struct span params = SPAN_NULL, id = SPAN_NULL;
	struct hparam hp;
	bool has_id = false;
	uint32_t pos = 0;
	int rc;

	if (!msg_hdr_bounds(buf, v, &p, &end))
		return EBADMSG;
	const char *t = p;
	p = event_type_end(p, end);
	if (p == NULL)
		return EBADMSG;
	struct span package = span_from(buf, t, p);
	p = lex_lws(p, end);
	if (p < end) {
		if (*p != ';' || msg_hparams_open(buf, p, end, &params) != 0)
			return EBADMSG;
		while ((rc = msg_hparam_next(buf, params, &pos, &hp)) == 0) {
			if (!LEX_TOKEN_IS(buf, hp.name, "id"))
				continue;
			if (has_id || hp.kind != HPV_TOKEN)
				return EBADMSG;
			has_id = true;
			id = hp.value;
		}
		if (rc != ENOENT)
			return EBADMSG;
	}
	out->package = package;
	out->id = id;
	out->params = params;
	return 0;
}

/* One substate parameter with a delta-seconds value (clamped at 2^32-1). */
static int substate_delta(const char *buf, struct span val, int64_t *dst)
{
	if (*dst >= 0)
		return EBADMSG; /* given twice */
	return msg_delta_parse(buf, val, true, dst);
}

/*
 * Subscription-State = substate-value *(SEMI subexp-params) (RFC 6665 §8.4):
 * reason = token, expires and retry-after = delta-seconds.
 */
int msg_substate_parse(const char *buf, struct span v, struct msg_substate *out)
{
	const char *p, *end;
	struct span params = SPAN_NULL, reason = SPAN_NULL;
	struct hparam hp;
	int64_t expires = -1, retry = -1;
	uint32_t pos = 0;
	int rc = 0;

	if (!msg_hdr_bounds(buf, v, &p, &end))
		return EBADMSG;
	const char *s = p;
	p = lex_token(p, end);
	if (p == s)
		return EBADMSG;
	struct span state = span_from(buf, s, p);
	p = lex_lws(p, end);
	if (p < end) {
		if (*p != ';' || msg_hparams_open(buf, p, end, &params) != 0)
			return EBADMSG;
		while (rc == 0 && (rc = msg_hparam_next(buf, params, &pos, &hp)) == 0) {
			if (LEX_TOKEN_IS(buf, hp.name, "expires")) {
				rc = substate_delta(buf, hp.value, &expires);
			} else if (LEX_TOKEN_IS(buf, hp.name, "retry-after")) {
				rc = substate_delta(buf, hp.value, &retry);
			} else if (LEX_TOKEN_IS(buf, hp.name, "reason")) {
				if (reason.len > 0 || hp.kind != HPV_TOKEN)
					rc = EBADMSG;
				reason = hp.value;
			}
		}
		if (rc != ENOENT)
			return EBADMSG;
	}
	out->state = state;
	out->reason = reason;
	out->expires = expires;
	out->retry_after = retry;
	out->params = params;
	return 0;
}
