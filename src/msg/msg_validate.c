/*
 * msg_validate.c - what a parsed message deserves (RFC 3261 §8.2, §16.3,
 * §18.3; RFC 4475 for the hard cases).
 *
 * Order of the checks: framing and start line (513, 505, 400), the
 * Request-URI, mandatory headers present, single-value headers given once,
 * header syntax (mandatory set always, every known header with MSG_V_ALL),
 * CSeq against the request; then the role verdicts, which do not make the
 * message malformed: 416 (scheme), 483 (Max-Forwards 0, proxy), 420
 * (Require / Proxy-Require).  A response with anything malformed is dropped.
 */
#include "msg_core.h"
#include "msg_lex.h"

const char *const msg_supported_default[] = {"path", NULL};

static const char *const missing_reason[MSG_HDR__COUNT] = {
#define X(id, name, compact, list) [MSG_HDR_##id] = "Missing " name,
    MSG_HDR_TABLE(X)
#undef X
};

static const char *const bad_reason[MSG_HDR__COUNT] = {
#define X(id, name, compact, list) [MSG_HDR_##id] = "Bad " name,
    MSG_HDR_TABLE(X)
#undef X
};

static const char *const multi_reason[MSG_HDR__COUNT] = {
#define X(id, name, compact, list) [MSG_HDR_##id] = "Multiple " name,
    MSG_HDR_TABLE(X)
#undef X
};

/* RFC 3261 §8.1.1: every request and response carries these. */
static const uint8_t mandatory_present[] = {
    MSG_HDR_VIA, MSG_HDR_FROM, MSG_HDR_TO, MSG_HDR_CALL_ID, MSG_HDR_CSEQ,
};

/* Headers whose grammar allows exactly one value. */
static const uint8_t single_value[] = {
    MSG_HDR_FROM,	  MSG_HDR_TO,		MSG_HDR_CALL_ID,
    MSG_HDR_CSEQ,	  MSG_HDR_MAX_FORWARDS, MSG_HDR_CONTENT_LENGTH,
    MSG_HDR_CONTENT_TYPE, MSG_HDR_EXPIRES,	MSG_HDR_MIN_EXPIRES,
};

/* Fill *v for a malformed message: a request gets `status`, a response is dropped. */
static bool bad(const struct msg *m, struct msg_verdict *v, uint16_t status, uint8_t hdr,
		const char *reason)
{
	v->malformed = true;
	v->drop = !m->is_request;
	v->status = m->is_request ? status : 0;
	v->hdr = hdr;
	v->reason = reason;
	return true;
}

static bool role(struct msg_verdict *v, uint16_t status, uint8_t hdr)
{
	v->status = status;
	v->hdr = hdr;
	v->reason = msg_reason_phrase(status);
	return true;
}

/* Anomalies recorded by msg_parse, then the version and the status code. */
static bool check_framing(const struct msg *m, struct msg_verdict *v)
{
	uint32_t a = m->anomalies;
	const uint8_t cl = MSG_HDR_CONTENT_LENGTH;
	bool v20 = m->version.len == 7 && lex_ieq(m->buf + m->version.off, "sip/2.0", 7);

	if (a & MSG_A_NOT_SIP)
		return bad(m, v, 400, MSG_HDR_OTHER, "Bad Request");
	if (a & MSG_A_TOO_BIG)
		return bad(m, v, 513, MSG_HDR_OTHER, "Message Too Large");
	if (!(a & MSG_A_NO_VERSION) && !v20)
		return bad(m, v, 505, MSG_HDR_OTHER, "Version Not Supported");
	if (a & MSG_A_NO_VERSION)
		return bad(m, v, 400, MSG_HDR_OTHER, "Missing SIP-Version");
	if (!m->is_request && (m->status < 100 || m->status > 699))
		return bad(m, v, 400, MSG_HDR_OTHER, "Bad Status Code");
	if (a & MSG_A_BAD_METHOD)
		return bad(m, v, 400, MSG_HDR_OTHER, "Bad Method");
	if (a & MSG_A_LWS_START)
		return bad(m, v, 400, MSG_HDR_OTHER, "Extra Whitespace in Request-Line");
	if (a & MSG_A_TRAILING_WS)
		return bad(m, v, 400, MSG_HDR_OTHER, "Trailing Whitespace in Request-Line");
	if (a & MSG_A_BAD_LINE)
		return bad(m, v, 400, MSG_HDR_OTHER, "Bad Header Line");
	if (a & MSG_A_NO_EOH)
		return bad(m, v, 400, MSG_HDR_OTHER, "Missing Empty Line");
	if (a & MSG_A_BAD_CLEN)
		return bad(m, v, 400, cl, "Bad Content-Length");
	if (a & MSG_A_MULTI_CLEN)
		return bad(m, v, 400, cl, "Multiple Content-Length");
	if (a & MSG_A_NO_CLEN)
		return bad(m, v, 400, cl, "Missing Content-Length");
	if (a & MSG_A_SHORT_BODY)
		return bad(m, v, 400, cl, "Content-Length Exceeds Message");
	return false;
}

/* Request-URI (RFC 3261 §7.1, §19.1.1; RFC 4475 §3.1.2.7, 3.1.2.8, 3.1.2.11). */
static bool check_ruri(struct msg *m, struct msg_verdict *v)
{
	const char *u = span_ptr(m->buf, m->ruri_s);
	uint32_t n = m->ruri_s.len;

	if (n == 0)
		return bad(m, v, 400, MSG_HDR_OTHER, "Missing Request-URI");
	if (u[0] == '<')
		return bad(m, v, 400, MSG_HDR_OTHER, "Request-URI in Angle Brackets");
	if (memchr(u, ' ', n) != NULL || memchr(u, '\t', n) != NULL)
		return bad(m, v, 400, MSG_HDR_OTHER, "Whitespace in Request-URI");
	const struct msg_uri *ru = msg_ruri(m);
	if (ru == NULL)
		return bad(m, v, 400, MSG_HDR_OTHER, "Bad Request-URI");
	if ((ru->scheme == MSG_URI_SIP || ru->scheme == MSG_URI_SIPS) && ru->headers.len > 0)
		return bad(m, v, 400, MSG_HDR_OTHER, "Escaped Headers in Request-URI");
	return false;
}

static bool check_presence(const struct msg *m, struct msg_verdict *v)
{
	for (size_t i = 0; i < ARRAY_SIZE(mandatory_present); i++) {
		uint8_t id = mandatory_present[i];
		if (m->first[id] == MSG_NO_HDR)
			return bad(m, v, 400, id, missing_reason[id]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(single_value); i++) {
		uint8_t id = single_value[i];
		if (m->first[id] != MSG_NO_HDR && m->hdrs[m->first[id]].next != MSG_NO_HDR)
			return bad(m, v, 400, id, multi_reason[id]);
	}
	return false;
}

/*
 * Every element typed-checked once (msg_check_hdrs), then the CSeq method
 * against the request method.
 */
static bool check_syntax(struct msg *m, unsigned flags, struct msg_verdict *v)
{
	uint8_t bad_id = msg_check_hdrs(m, (flags & MSG_V_ALL) != 0);

	if (bad_id != MSG_HDR_OTHER)
		return bad(m, v, 400, bad_id, bad_reason[bad_id]);
	/* RFC 3261 §8.1.1.5, RFC 4475 §3.1.2.17: methods compare case-sensitively */
	const struct msg_cseq *cs = msg_cseq(m);
	if (m->is_request && cs != NULL &&
	    (cs->method.len != m->method_s.len ||
	     memcmp(span_ptr(m->buf, cs->method), span_ptr(m->buf, m->method_s), cs->method.len)))
		return bad(m, v, 400, MSG_HDR_CSEQ, "CSeq Method Mismatch");
	return false;
}

static bool is_supported(const char *buf, struct span tag, const char *const *supported)
{
	for (; *supported != NULL; supported++)
		if (span_ieq(buf, tag, *supported))
			return true;
	return false;
}

/* 420 for the first option tag of header id not in `supported` (RFC 3261 §8.2.2.3). */
static bool check_tags(struct msg *m, uint8_t id, const char *const *supported,
		       struct msg_verdict *v)
{
	struct span tag;

	for (const struct msg_hdr *h = msg_hdr_find(m, id); h; h = msg_hdr_next(m, h)) {
		if (msg_token_parse(m->buf, h->value, &tag) != 0 ||
		    is_supported(m->buf, tag, supported))
			continue;
		v->unsupported = tag;
		return role(v, 420, id);
	}
	return false;
}

/* Role verdicts in the order of RFC 3261 §16.3 (proxy) and §8.2.2 (UAS). */
static bool check_role(struct msg *m, unsigned flags, const char *const *supported,
		       struct msg_verdict *v)
{
	const struct msg_uri *ru = msg_ruri(m);
	const struct msg_hdr *mf = msg_hdr_find(m, MSG_HDR_MAX_FORWARDS);
	uint32_t hops;

	if (ru != NULL && ru->scheme != MSG_URI_SIP && ru->scheme != MSG_URI_SIPS &&
	    ru->scheme != MSG_URI_TEL)
		return role(v, 416, MSG_HDR_OTHER);
	if ((flags & MSG_V_PROXY) && mf != NULL &&
	    msg_uint_parse(m->buf, mf->value, 255, &hops) == 0 && hops == 0)
		return role(v, 483, MSG_HDR_MAX_FORWARDS);
	if (m->method == MSG_METHOD_ACK || m->method == MSG_METHOD_CANCEL)
		return false;
	if (supported == NULL)
		supported = msg_supported_default;
	if (!(flags & MSG_V_FORWARD) && check_tags(m, MSG_HDR_REQUIRE, supported, v))
		return true;
	if ((flags & MSG_V_PROXY) && check_tags(m, MSG_HDR_PROXY_REQUIRE, supported, v))
		return true;
	return false;
}

bool msg_validate(struct msg *m, unsigned flags, const char *const *supported,
		  struct msg_verdict *v)
{
	memset(v, 0, sizeof(*v));
	if (check_framing(m, v))
		return false;
	if (m->is_request && check_ruri(m, v))
		return false;
	if (check_presence(m, v) || check_syntax(m, flags, v))
		return false;
	if (m->is_request && check_role(m, flags, supported, v))
		return false;
	return true;
}

bool msg_role_verdict(struct msg *m, unsigned flags, const char *const *supported,
		      struct msg_verdict *v)
{
	memset(v, 0, sizeof(*v));
	return !m->is_request || !check_role(m, flags, supported, v);
}
