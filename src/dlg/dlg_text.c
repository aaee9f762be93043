/*
 * dlg_text.c - a dialog's text: staging and committing the blob, and reading
 * the parts of messages a dialog keeps (RFC 3261 §12.1.1, §12.1.2): Contact
 * as remote target, Record-Route as route set, From/To without their tags.
 *
 * Everything staged is copied with CR and LF dropped (folded values become
 * plain LWS, as msg_out prints them), so what a dialog keeps is exactly what
 * it will print; route values are parsed again from the staged copy.
 */
#include <errno.h>
#include <sys/random.h>

#include "dlg/dlg_int.h"
#include "ringlet/mem.h"

void dlg_text_init(struct dlg_text *t)
{
	memset(t->f, 0, sizeof(t->f));
	t->nroutes = 0;
	t->over = false;
	t->ctl = false;
	/* offset 0 holds "": every field not staged reads as empty */
	t->b[0] = '\0';
	t->len = 1;
	t->start = 1;
}

void dlg_text_begin(struct dlg_text *t)
{
	t->start = t->len;
}

void dlg_text_add(struct dlg_text *t, const char *p, size_t n)
{
	for (size_t i = 0; i < n && !t->over; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\r' || c == '\n')
			continue;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			t->ctl = true;
		if (t->len >= sizeof(t->b)) {
			t->over = true;
			break;
		}
		t->b[t->len++] = p[i];
	}
}

void dlg_text_addz(struct dlg_text *t, const char *s)
{
	dlg_text_add(t, s, strlen(s));
}

struct span dlg_text_end(struct dlg_text *t)
{
	struct span s = {t->start, t->len - t->start};

	if (t->len >= sizeof(t->b))
		t->over = true;
	if (t->over)
		return SPAN_NULL;
	t->b[t->len++] = '\0';
	return s;
}

void dlg_text_put(struct dlg_text *t, enum dlg_field f, const char *p, size_t n)
{
	dlg_text_begin(t);
	dlg_text_add(t, p, n);
	t->f[f] = dlg_text_end(t);
}

void dlg_text_copy(struct dlg_text *t, const struct dlg *d, unsigned mask, bool keep_routes)
{
	for (unsigned f = 0; f < DLG_F__N; f++)
		if (!(mask & (1u << f)))
			dlg_text_put(t, (enum dlg_field)f, dlg_str(d, (enum dlg_field)f),
				     d->f[f].len);
	if (!keep_routes)
		return;
	for (unsigned i = 0; i < d->nroutes; i++) {
		dlg_text_begin(t);
		dlg_text_add(t, d->blob + d->route[i].off, d->route[i].len);
		t->route[i] = dlg_text_end(t);
	}
	t->nroutes = d->nroutes;
}

int dlg_text_commit(struct dlg *d, struct dlg_text *t)
{
	char *blob;

	if (t->ctl)
		return EBADMSG;
	if (t->over)
		return EMSGSIZE;
	blob = mem_alloc(t->len, NULL);
	if (!blob)
		return ENOMEM;
	memcpy(blob, t->b, t->len);
	mem_deref(d->blob);
	d->blob = blob;
	memcpy(d->f, t->f, sizeof(d->f));
	memcpy(d->route, t->route, sizeof(d->route));
	d->nroutes = (uint8_t)t->nroutes;
	return 0;
}

bool dlg_has_ctl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return true;
	}
	return false;
}

int dlg_random(void *out, size_t n)
{
	uint8_t *p = out;
	size_t got = 0;

	/* getrandom blocks only until the pool is first initialised; bounded retries */
	for (int tries = 0; got < n && tries < 16; tries++) {
		ssize_t r = getrandom(p + got, n - got, 0);
		if (r > 0)
			got += (size_t)r;
		else if (r < 0 && errno != EINTR)
			break;
	}
	return got == n ? 0 : EIO;
}

bool dlg_field_eq(const struct dlg *d, enum dlg_field f, const char *buf, struct span s)
{
	return d->f[f].len == s.len && memcmp(dlg_str(d, f), buf + s.off, s.len) == 0;
}

void dlg_text_nameaddr(struct dlg_text *t, const char *buf, const struct msg_nameaddr *na)
{
	struct span name, value;
	uint32_t pos = 0;

	if (na->display.len) {
		dlg_text_add(t, buf + na->display.off, na->display.len);
		dlg_text_add(t, " ", 1);
	}
	dlg_text_add(t, "<", 1);
	dlg_text_add(t, buf + na->uri_s.off, na->uri_s.len);
	dlg_text_add(t, ">", 1);
	while (msg_param_next(buf, na->params, &pos, &name, &value)) {
		if (span_ieq(buf, name, "tag"))
			continue;
		dlg_text_add(t, ";", 1);
		dlg_text_add(t, buf + name.off, name.len);
		if (value.len) {
			dlg_text_add(t, "=", 1);
			dlg_text_add(t, buf + value.off, value.len);
		}
	}
}

void dlg_text_clean_uri(struct dlg_text *t, const char *buf, const struct msg_uri *u)
{
	struct span name, value;
	uint32_t pos = 0, end;

	if (u->port_s.len)
		end = u->port_s.off + u->port_s.len;
	else
		end = u->host.off + u->host.len;
	dlg_text_add(t, buf + u->whole.off, end - u->whole.off);
	while (msg_param_next(buf, u->params, &pos, &name, &value)) {
		if (span_ieq(buf, name, "method"))
			continue;
		dlg_text_add(t, ";", 1);
		dlg_text_add(t, buf + name.off, name.len);
		if (value.len) {
			dlg_text_add(t, "=", 1);
			dlg_text_add(t, buf + value.off, value.len);
		}
	}
}

static bool sip_scheme(const struct msg_uri *u)
{
	return u->scheme == MSG_URI_SIP || u->scheme == MSG_URI_SIPS;
}

int dlg_msg_contact(struct msg *m, struct msg_contact *c)
{
	const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_CONTACT);

	if (!h)
		return ENOENT;
	if (msg_hdr_next(m, h) != NULL)
		return EBADMSG;
	if (msg_contact_parse(m->buf, h->value, c) != 0 || c->star)
		return EBADMSG;
	if (!sip_scheme(&c->na.uri) || (!c->na.angle && c->na.uri.headers.len))
		return EBADMSG;
	return 0;
}

/* A route value: a name-addr in angle brackets with a sip or sips URI (§20.30). */
static bool route_ok(const char *buf, struct span v, struct msg_nameaddr *na)
{
	return msg_nameaddr_parse(buf, v, na) == 0 && na->angle && sip_scheme(&na->uri);
}

int dlg_text_routes(struct dlg_text *t, struct msg *m, bool reverse)
{
	const struct msg_hdr *rr[DLG_MAX_ROUTES];
	struct msg_nameaddr na;
	unsigned n = 0;

	for (const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_RECORD_ROUTE); h;
	     h = msg_hdr_next(m, h)) {
		if (n == DLG_MAX_ROUTES)
			return EMSGSIZE;
		if (!route_ok(m->buf, h->value, &na))
			return EBADMSG;
		rr[n++] = h;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct msg_hdr *h = rr[reverse ? n - 1 - i : i];
		dlg_text_begin(t);
		dlg_text_add(t, m->buf + h->value.off, h->value.len);
		t->route[i] = dlg_text_end(t);
		if (t->over)
			return EMSGSIZE;
		if (!route_ok(t->b, t->route[i], &na))
			return EBADMSG;
	}
	t->nroutes = n;
	return 0;
}

void dlg_text_target(struct dlg_text *t, const char *buf, const struct msg_contact *c)
{
	dlg_text_begin(t);
	dlg_text_clean_uri(t, buf, &c->na.uri);
	t->f[DLG_F_TARGET] = dlg_text_end(t);
}

bool dlg_msg_callid(const struct msg *m, struct span *out)
{
	const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_CALL_ID);
	struct span s;

	if (!h || msg_callid_parse(m->buf, h->value, &s) != 0 || s.len == 0 ||
	    s.len > DLG_CALLID_MAX)
		return false;
	*out = s;
	return true;
}

bool dlg_is_refresh(unsigned method)
{
	switch (method) {
	case MSG_METHOD_INVITE:
	case MSG_METHOD_UPDATE:
	case MSG_METHOD_SUBSCRIBE:
	case MSG_METHOD_NOTIFY:
	case MSG_METHOD_REFER:
		return true;
	default:
		return false;
	}
}
