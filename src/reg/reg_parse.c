/*
 * reg_parse.c - read a REGISTER into what the location store needs
 * (RFC 3261 §10.3 steps 5 to 7): the canonical address-of-record, the
 * fields shared by its bindings, and one change per Contact with the
 * expiry the registrar grants.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "reg/reg_int.h"

static bool fail(struct reg_verdict *v, uint16_t status, const char *reason)
{
	v->status = status;
	v->reason = reason;
	return false;
}

/* user-unreserved and unreserved characters (RFC 3261 §25.1): never escaped in a key. */
static bool user_plain(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("-_.!~*'()&=+$,;?/", c) != NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = ascii_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int reg_aor(const char *buf, const struct msg_uri *u, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 4;

	if ((u->scheme != MSG_URI_SIP && u->scheme != MSG_URI_SIPS) || !u->has_user ||
	    u->user.len == 0 || cap < 5)
		return -1;
	memcpy(out, "sip:", 4);
	const char *p = buf + u->user.off, *end = p + u->user.len;
	while (p < end) {
		unsigned char c = (unsigned char)*p++;
		if (c == '%' && end - p >= 2 && hexval(p[0]) >= 0 && hexval(p[1]) >= 0) {
			c = (unsigned char)(hexval(p[0]) * 16 + hexval(p[1]));
			p += 2;
		}
		if (user_plain(c)) {
			if (n + 1 >= cap)
				return -1;
			out[n++] = (char)c;
		} else {
			if (n + 3 >= cap)
				return -1;
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	if (n + 1 + u->host.len >= cap)
		return -1;
	out[n++] = '@';
	for (uint32_t i = 0; i < u->host.len; i++)
		out[n++] = ascii_lower(buf[u->host.off + i]);
	out[n] = 0;
	return (int)n;
}

bool reg_parse_aor(struct msg *m, reg_own_fn *own, void *arg, struct reg_aor *out,
		   struct reg_verdict *v)
{
	const struct msg_nameaddr *to = msg_to(m);

	if (!to)
		return fail(v, 400, "Bad To");
	const struct msg_uri *u = &to->uri;
	/* RFC 4475 §3.3.4: an AOR that is not a SIP or SIPS URI is a bad request. */
	if (u->scheme != MSG_URI_SIP && u->scheme != MSG_URI_SIPS)
		return fail(v, 400, "To Is Not a SIP URI");
	if (!u->has_user || u->user.len == 0)
		return fail(v, 404, "No User in Address-of-Record");
	if (!own(arg, m->buf, u))
		return fail(v, 404, "Not Our Domain");
	if (reg_aor(m->buf, u, out->aor, sizeof(out->aor)) < 0 ||
	    u->host.len >= sizeof(out->domain))
		return fail(v, 400, "Address-of-Record Too Long");
	int ul = msg_unescape(m->buf, u->user, out->user, sizeof(out->user) - 1);
	if (ul < 0)
		return fail(v, 400, "Address-of-Record Too Long");
	out->user[ul] = 0;
	out->userlen = (size_t)ul;
	for (uint32_t i = 0; i < u->host.len; i++)
		out->domain[i] = ascii_lower(m->buf[u->host.off + i]);
	out->domain[u->host.len] = 0;
	return true;
}

/* Copy span s of buf into a NUL-terminated field; false when it does not fit. */
static bool put(char *dst, size_t cap, const char *buf, struct span s)
{
	if (s.len >= cap)
		return false;
	memcpy(dst, buf + s.off, s.len);
	dst[s.len] = 0;
	return true;
}

/* The Path elements of m joined with "," (RFC 3327 §5.3 stores them in order). */
static bool join_path(struct msg *m, char *out, size_t cap, struct reg_verdict *v)
{
	size_t n = 0;

	out[0] = 0;
	for (const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_PATH); h; h = msg_hdr_next(m, h)) {
		struct msg_nameaddr na;
		if (msg_nameaddr_parse(m->buf, h->value, &na))
			return fail(v, 400, "Bad Path");
		if (n + (n ? 1 : 0) + h->value.len >= cap)
			return fail(v, 400, "Path Too Long");
		if (n)
			out[n++] = ',';
		memcpy(out + n, m->buf + h->value.off, h->value.len);
		n += h->value.len;
		out[n] = 0;
	}
	/* a folded Path value must not carry its line break into a response header */
	for (size_t i = 0; i < n; i++)
		if (out[i] == '\r' || out[i] == '\n' || out[i] == '\t')
			out[i] = ' ';
	return true;
}

bool reg_parse_common(struct msg *m, const char *received, struct loc_binding *tmpl,
		      struct reg_verdict *v)
{
	memset(tmpl, 0, sizeof(*tmpl));
	tmpl->q = -1;
	const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_CALL_ID);
	struct span cid;
	if (!h || msg_callid_parse(m->buf, h->value, &cid))
		return fail(v, 400, "Bad Call-ID");
	if (!put(tmpl->call_id, sizeof(tmpl->call_id), m->buf, cid))
		return fail(v, 400, "Call-ID Too Long");
	const struct msg_cseq *cs = msg_cseq(m);
	if (!cs)
		return fail(v, 400, "Bad CSeq");
	tmpl->cseq = cs->num;
	if (!join_path(m, tmpl->path, sizeof(tmpl->path), v))
		return false;
	h = msg_hdr_find(m, MSG_HDR_USER_AGENT);
	if (h) {
		/* informational only: truncate rather than refuse, and keep it printable */
		size_t len = h->value.len < LOC_UA_MAX - 1 ? h->value.len : LOC_UA_MAX - 1;
		for (size_t i = 0; i < len; i++) {
			char c = m->buf[h->value.off + i];
			tmpl->user_agent[i] = (unsigned char)c < 0x20 || c == 0x7f ? ' ' : c;
		}
	}
	snprintf(tmpl->received, sizeof(tmpl->received), "%s", received ? received : "");
	return true;
}

bool reg_supported(const struct msg *m, const char *tag)
{
	for (const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_SUPPORTED); h;
	     h = msg_hdr_next(m, h)) {
		struct span t;
		if (msg_token_parse(m->buf, h->value, &t) == 0 && span_ieq(m->buf, t, tag))
			return true;
	}
	return false;
}

/* +sip.instance and reg-id of a contact (RFC 5626 §4.1). */
static bool outbound_params(const char *buf, const struct msg_contact *ct, struct loc_binding *b,
			    struct reg_verdict *v)
{
	struct span val;

	if (msg_param_get(buf, ct->na.params, "+sip.instance", &val)) {
		int len = msg_qstr_copy(buf, val, b->instance, sizeof(b->instance) - 1);
		if (len < 0)
			return fail(v, 400, "+sip.instance Too Long");
		if (len == 0)
			return fail(v, 400, "Bad +sip.instance");
		b->instance[len] = 0;
		/* it goes back in a quoted-string of the 200: no quote, escape or control */
		for (int i = 0; i < len; i++) {
			unsigned char c = (unsigned char)b->instance[i];
			if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
				return fail(v, 400, "Bad +sip.instance");
		}
	}
	if (msg_param_get(buf, ct->na.params, "reg-id", &val)) {
		uint32_t id;
		if (span_u32(buf, val, 0x7fffffffu, &id) || id == 0)
			return fail(v, 400, "Bad reg-id");
		b->reg_id = id;
	}
	return true;
}

/* The expiry granted to one contact, or false with 423/400 (§10.3 step 7). */
static bool grant(const struct reg_conf *conf, int64_t asked, bool has_hdr, uint32_t hdr,
		  uint32_t *out, struct reg_verdict *v)
{
	uint64_t e;

	if (asked >= 0)
		e = (uint64_t)asked;
	else if (has_hdr)
		e = hdr;
	else {
		/* the server's own choice: always inside its limits */
		e = conf->default_expires ? conf->default_expires : REG_DEFAULT_EXPIRES;
		if (conf->max_expires && e > conf->max_expires)
			e = conf->max_expires;
		if (e < conf->min_expires)
			e = conf->min_expires;
	}
	if (e != 0 && e < conf->min_expires)
		return fail(v, 423, NULL);
	if (conf->max_expires && e > conf->max_expires)
		e = conf->max_expires;
	*out = e > UINT32_MAX ? UINT32_MAX : (uint32_t)e;
	return true;
}

/* The Expires header of m: *has false when absent; false with 400 when malformed. */
static bool expires_hdr(struct msg *m, bool *has, uint32_t *val, struct reg_verdict *v)
{
	const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_EXPIRES);

	*has = h != NULL;
	*val = 0;
	if (h && msg_uint_parse(m->buf, h->value, UINT32_MAX, val))
		return fail(v, 400, "Bad Expires");
	return true;
}

/*
 * One Contact element into change c (a copy of tmpl).  Returns true, or
 * false with *v set.
 */
static bool one_contact(struct msg *m, const struct msg_contact *ct, const struct reg_conf *conf,
			int64_t now, bool has_hdr, uint32_t hdr, struct loc_change *c,
			struct reg_verdict *v)
{
	uint32_t secs;

	if (!grant(conf, ct->expires, has_hdr, hdr, &secs, v))
		return false;
	if (!put(c->b.contact, sizeof(c->b.contact), m->buf, ct->na.uri_s))
		return fail(v, 400, "Contact Too Long");
	c->b.q = ct->q;
	if (!outbound_params(m->buf, ct, &c->b, v))
		return false;
	c->b.expires = secs ? now + (int64_t)secs : 0;
	return true;
}

bool reg_parse_contacts(struct msg *m, const struct reg_conf *conf, int64_t now,
			const struct loc_binding *tmpl, struct loc_change *c, unsigned *n,
			bool *star, struct reg_verdict *v)
{
	struct msg_uri seen[LOC_MAX_BINDINGS];
	unsigned count = 0, elems = 0;
	bool has_hdr;
	uint32_t hdr;

	*n = 0;
	*star = false;
	if (!expires_hdr(m, &has_hdr, &hdr, v))
		return false;
	for (const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_CONTACT); h;
	     h = msg_hdr_next(m, h)) {
		struct msg_contact ct;
		elems++;
		if (msg_contact_parse(m->buf, h->value, &ct))
			return fail(v, 400, "Bad Contact");
		if (ct.star) {
			*star = true;
			continue;
		}
		unsigned k = 0;
		while (k < count && !msg_uri_equal(m->buf, &seen[k], m->buf, &ct.na.uri))
			k++;
		if (k == LOC_MAX_BINDINGS)
			return fail(v, 403, "Too Many Bindings");
		c[k].b = *tmpl;
		if (!one_contact(m, &ct, conf, now, has_hdr, hdr, &c[k], v))
			return false;
		if (k == count)
			seen[count++] = ct.na.uri;
	}
	/* §10.3 step 6: "*" only alone and only with an expiration of zero */
	if (*star && elems > 1)
		return fail(v, 400, "Contact * Must Be Alone");
	if (*star && (!has_hdr || hdr != 0))
		return fail(v, 400, "Contact * Needs Expires: 0");
	*n = count;
	return true;
}
