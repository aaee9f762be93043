/*
 * msg_nameaddr.c - name-addr / addr-spec headers (From, To, Contact, Route,
 * Record-Route, Path, Reply-To, ...) and Contact (RFC 3261 §20.10, §20.20,
 * §25.1).
 *
 *   ( name-addr / addr-spec ) *( SEMI generic-param )
 *   name-addr    = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *( token LWS ) / quoted-string
 *
 * Without angle brackets the URI ends at the first ';' (what follows is
 * header parameters, §20) and may not hold '?' or ',' (RFC 4475 §3.1.2.13).
 * Inside the brackets no whitespace is allowed (RFC 4475 §3.1.2.14).  The URI
 * itself is checked by msg_uri_parse, which accepts any scheme.
 */
#include <errno.h>
#include <stddef.h>

#include "msg_hdr_int.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Display name at p (value not starting with '<').  Returns the position of
 * the '<' after it and writes *display, returns p itself when the value is an
 * addr-spec (no display name), or NULL when a quoted display name is
 * malformed or not followed by '<'.
 */
static const char *display_name(const char *buf, const char *p, const char *end,
				struct span *display)
{
	const char *q, *last = p;

	if (*p == '"') {
		q = lex_quoted(p, end);
		if (q == NULL)
			return NULL; /* unterminated (RFC 4475 §3.1.2.6) */
		*display = span_from(buf, p, q);
		q = lex_lws(q, end);
		return q < end && *q == '<' ? q : NULL;
	}
	/* *(token LWS): no LWS is needed before '<' (RFC 4475 §3.1.1.6) */
	q = p;
	for (;;) {
		const char *t = lex_token(q, end);
		if (t == q)
			break;
		last = t;
		q = lex_lws(t, end);
	}
	if (q < end && *q == '<') {
		*display = span_from(buf, p, last);
		return q;
	}
	return p;
}

/*
 * <addr-spec>: p at '<'.  Returns the position after '>' or NULL.  Whitespace
 * or '<' inside the brackets is not rejected here: msg_uri_parse, which the
 * caller runs on the span, refuses both in every scheme.
 */
static const char *angle_uri(const char *buf, const char *p, const char *end, struct span *uri)
{
	const char *u = ++p;

	p = memchr(p, '>', (size_t)(end - p));
	if (p == NULL)
		return NULL;
	*uri = span_from(buf, u, p);
	return p + 1;
}

/* addr-spec without brackets: up to ';', LWS or the end. */
static const char *bare_uri(const char *buf, const char *p, const char *end, struct span *uri)
{
	const char *u = p;

	p = lex_cspan(p, end, lex_stop, LEXS_BARE);
	if (p < end && *p != ';' && !is_space(*p))
		return NULL; /* '?', ',', '<', '>' or '"' */
	*uri = span_from(buf, u, p);
	return p;
}

static int contact_param(const char *buf, const struct hparam *hp, struct msg_contact *c);

/*
 * The name-addr or addr-spec of v into *na, and its header parameters: tag
 * for every header, and with c (Contact) also expires and q, in the same pass.
 */
static int nameaddr(const char *buf, struct span v, struct msg_nameaddr *na, struct msg_contact *c)
{
	const char *p, *end;
	struct hparam hp;
	uint32_t pos = 0;
	int rc;

	if (!msg_hdr_bounds(buf, v, &p, &end))
		return EBADMSG;
	memset(na, 0, offsetof(struct msg_nameaddr, uri));
	memset(&na->angle, 0, sizeof(*na) - offsetof(struct msg_nameaddr, angle));
	na->display = span_from(buf, p, p);
	if (*p != '<') {
		p = display_name(buf, p, end, &na->display);
		if (p == NULL)
			return EBADMSG;
	}
	if (*p == '<') {
		na->angle = true;
		p = angle_uri(buf, p, end, &na->uri_s);
	} else {
		p = bare_uri(buf, p, end, &na->uri_s);
	}
	if (p == NULL || na->uri_s.len == 0)
		return EBADMSG;
	if (msg_uri_parse_in(buf, na->uri_s, &na->uri) != 0)
		return EBADMSG;
	p = lex_lws(p, end);
	if (p == end)
		return 0;
	if (*p != ';' || msg_hparams_open(buf, p, end, &na->params) != 0)
		return EBADMSG;
	while ((rc = msg_hparam_next(buf, na->params, &pos, &hp)) == 0) {
		if (LEX_TOKEN_IS(buf, hp.name, "tag")) {
			/* tag-param = "tag" EQUAL token (§25.1), once */
			if (na->has_tag || hp.kind != HPV_TOKEN)
				return EBADMSG;
			na->tag = hp.value;
			na->has_tag = true;
		} else if (c != NULL && contact_param(buf, &hp, c) != 0) {
			return EBADMSG;
		}
	}
	return rc == ENOENT ? 0 : EBADMSG;
}

int msg_nameaddr_parse(const char *buf, struct span v, struct msg_nameaddr *out)
{
	return nameaddr(buf, v, out, NULL);
}

/*
 * qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (§25.1), in
 * thousandths.
 */
static int qvalue(const char *buf, struct span s, int16_t *out)
{
	const char *p = buf + s.off;
	int q, scale = 100;

	if (s.len == 0 || s.len > 5 || (p[0] != '0' && p[0] != '1'))
		return EBADMSG;
	q = (p[0] - '0') * 1000;
	if (s.len > 1 && p[1] != '.')
		return EBADMSG;
	for (uint32_t i = 2; i < s.len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return EBADMSG;
		q += (p[i] - '0') * scale;
		scale /= 10;
	}
	if (q > 1000)
		return EBADMSG;
	*out = (int16_t)q;
	return 0;
}

/*
 * Contact = STAR / contact-param, contact-params = c-p-q / c-p-expires /
 * contact-extension (RFC 3261 §20.10, §25.1).  expires above 2^32-1 reads as
 * 2^32-1; a malformed q or expires, or either given twice, is EBADMSG.
 */
/* c-p-q and c-p-expires, each at most once; other parameters pass. */
static int contact_param(const char *buf, const struct hparam *hp, struct msg_contact *c)
{
	if (LEX_TOKEN_IS(buf, hp->name, "expires")) {
		if (c->expires >= 0 || msg_delta_parse(buf, hp->value, true, &c->expires) != 0)
			return EBADMSG;
	} else if (LEX_TOKEN_IS(buf, hp->name, "q")) {
		if (c->q >= 0 || qvalue(buf, hp->value, &c->q) != 0)
			return EBADMSG;
	}
	return 0;
}

int msg_contact_parse(const char *buf, struct span v, struct msg_contact *out)
{
	const char *p, *end;

	if (!msg_hdr_bounds(buf, v, &p, &end))
		return EBADMSG;
	out->star = false;
	out->expires = -1;
	out->q = -1;
	if (end - p == 1 && *p == '*') {
		memset(&out->na, 0, sizeof(out->na));
		out->star = true;
		return 0;
	}
	return nameaddr(buf, v, &out->na, out);
}
