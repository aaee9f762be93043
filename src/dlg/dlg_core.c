/*
 * dlg_core.c - creating dialogs (RFC 3261 §12.1.1 UAS, §12.1.2 UAC), their
 * early -> confirmed -> terminated life (§12.3, §13.2.2.4), tags and
 * Call-IDs (§19.3, §8.1.1.4), and the accessors.
 */
#include <errno.h>

#include "dlg/dlg_int.h"
#include "ringlet/mem.h"

static void dlg_destroy(void *p)
{
	struct dlg *d = p;

	mem_deref(d->blob);
}

static int random_hex(char *out, size_t cap, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t r[DLG_CALLID_LEN / 2];

	if (cap <= n)
		return EMSGSIZE;
	if (dlg_random(r, n / 2))
		return EIO;
	for (size_t i = 0; i < n / 2; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 0xf];
	}
	out[n] = '\0';
	return 0;
}

int dlg_tag_new(char *out, size_t cap)
{
	return random_hex(out, cap, DLG_TAG_LEN);
}

int dlg_callid_new(char *out, size_t cap)
{
	return random_hex(out, cap, DLG_CALLID_LEN);
}

int dlg_read_req(struct dlg_uac_req *r, const char *req, size_t len)
{
	struct msg_contact c;
	size_t used;

	if (msg_parse(&r->m, req, len, MSG_PARSE_DGRAM, &used) != 0 || !r->m.is_request)
		return EINVAL;
	r->from = msg_from(&r->m);
	r->to = msg_to(&r->m);
	r->cs = msg_cseq(&r->m);
	r->ruri = msg_ruri(&r->m);
	r->contact = msg_hdr_find(&r->m, MSG_HDR_CONTACT);
	if (!r->from || !r->to || !r->cs || !r->ruri || !dlg_msg_callid(&r->m, &r->callid))
		return EINVAL;
	if (!r->from->has_tag || r->from->tag.len == 0 || r->from->tag.len > DLG_TAG_MAX)
		return EINVAL;
	if (r->to->has_tag || dlg_msg_contact(&r->m, &c) != 0)
		return EINVAL;
	return 0;
}

static bool same(const char *a, struct span as, const char *b, struct span bs)
{
	return as.len == bs.len && memcmp(a + as.off, b + bs.off, as.len) == 0;
}

/* True if resp answers request r: Call-ID, From tag, CSeq number and method. */
static bool resp_of_req(struct dlg_uac_req *r, struct msg *resp)
{
	const struct msg_nameaddr *from;
	const struct msg_cseq *cs;
	struct span cid;

	if (resp->is_request || !dlg_msg_callid(resp, &cid))
		return false;
	from = msg_from(resp);
	cs = msg_cseq(resp);
	if (!from || !cs || !from->has_tag || cs->num != r->cs->num)
		return false;
	return same(r->m.buf, r->callid, resp->buf, cid) &&
	       same(r->m.buf, r->from->tag, resp->buf, from->tag) &&
	       same(r->m.buf, r->cs->method, resp->buf, cs->method);
}

static struct dlg *dlg_new(void)
{
	return mem_alloc(sizeof(struct dlg), dlg_destroy);
}

int dlg_uac_create(struct dlg **out, const char *req, size_t reqlen, struct msg *resp)
{
	struct dlg_uac_req r;
	struct dlg_text t;
	struct msg_contact c;
	const struct msg_nameaddr *to;
	struct dlg *d;
	int err;

	if (dlg_read_req(&r, req, reqlen) != 0)
		return EINVAL;
	if (!resp_of_req(&r, resp) || resp->status < 101 || resp->status > 299)
		return EINVAL;
	to = msg_to(resp);
	if (!to || !to->has_tag || to->tag.len == 0 || to->tag.len > DLG_TAG_MAX)
		return EBADMSG;
	if (dlg_msg_contact(resp, &c) != 0)
		return EBADMSG;
	dlg_text_init(&t);
	err = dlg_text_routes(&t, resp, true);
	if (err)
		return err;
	dlg_text_target(&t, resp->buf, &c);
	dlg_text_put(&t, DLG_F_CALLID, r.m.buf + r.callid.off, r.callid.len);
	dlg_text_put(&t, DLG_F_LTAG, r.m.buf + r.from->tag.off, r.from->tag.len);
	dlg_text_put(&t, DLG_F_RTAG, resp->buf + to->tag.off, to->tag.len);
	dlg_text_begin(&t);
	dlg_text_nameaddr(&t, r.m.buf, r.from);
	t.f[DLG_F_LURI] = dlg_text_end(&t);
	dlg_text_begin(&t);
	dlg_text_nameaddr(&t, r.m.buf, r.to);
	t.f[DLG_F_RURI] = dlg_text_end(&t);
	dlg_text_put(&t, DLG_F_CONTACT, r.m.buf + r.contact->value.off, r.contact->value.len);
	d = dlg_new();
	if (!d)
		return ENOMEM;
	err = dlg_text_commit(d, &t);
	if (err) {
		mem_deref(d);
		return err;
	}
	d->uac = true;
	d->secure = r.ruri->scheme == MSG_URI_SIPS;
	d->lcseq = d->create_cseq = r.cs->num;
	d->lcseq_set = true;
	d->state = resp->status >= 200 ? DLG_CONFIRMED : DLG_EARLY;
	d->confirmed_once = d->state == DLG_CONFIRMED;
	*out = d;
	return 0;
}

/* True if resp is a response in d's dialog to its dialog-creating request. */
static bool resp_of_dlg(const struct dlg *d, struct msg *resp)
{
	const struct msg_nameaddr *from, *to;
	const struct msg_cseq *cs;
	struct span cid;

	if (resp->is_request || !dlg_msg_callid(resp, &cid))
		return false;
	from = msg_from(resp);
	to = msg_to(resp);
	cs = msg_cseq(resp);
	if (!from || !to || !cs || !from->has_tag || !to->has_tag || cs->num != d->create_cseq)
		return false;
	return dlg_field_eq(d, DLG_F_CALLID, resp->buf, cid) &&
	       dlg_field_eq(d, DLG_F_LTAG, resp->buf, from->tag) &&
	       dlg_field_eq(d, DLG_F_RTAG, resp->buf, to->tag);
}

int dlg_uac_confirm(struct dlg *d, struct msg *resp, bool revive)
{
	struct dlg_text t;
	struct msg_contact c;
	int err;

	if (d->state != DLG_EARLY && !(revive && d->state == DLG_TERMINATED))
		return 0;
	if (dlg_msg_contact(resp, &c) != 0)
		return EBADMSG;
	dlg_text_init(&t);
	err = dlg_text_routes(&t, resp, true);
	if (err)
		return err;
	dlg_text_target(&t, resp->buf, &c);
	dlg_text_copy(&t, d, 1u << DLG_F_TARGET, false);
	err = dlg_text_commit(d, &t);
	if (err)
		return err;
	d->state = DLG_CONFIRMED;
	d->confirmed_once = true;
	return 0;
}

/* Replace the remote target with the URI of Contact c (in buf). */
static int set_target(struct dlg *d, const char *buf, const struct msg_contact *c)
{
	struct dlg_text t;

	dlg_text_init(&t);
	dlg_text_target(&t, buf, c);
	dlg_text_copy(&t, d, 1u << DLG_F_TARGET, true);
	return dlg_text_commit(d, &t);
}

/* See dlg_int.h. */
int dlg_refresh_target(struct dlg *d, struct msg *m)
{
	struct msg_contact c;
	int err = dlg_msg_contact(m, &c);

	if (err == ENOENT)
		return 0;
	if (err)
		return EBADMSG;
	return set_target(d, m->buf, &c);
}

int dlg_uac_update(struct dlg *d, struct msg *resp)
{
	if (!d->uac || !resp_of_dlg(d, resp))
		return EINVAL;
	if (resp->status < 200)
		return d->state == DLG_EARLY ? dlg_refresh_target(d, resp) : 0;
	if (resp->status < 300)
		return dlg_uac_confirm(d, resp, false);
	if (d->state == DLG_EARLY)
		d->state = DLG_TERMINATED;
	return 0;
}

/* A Contact value we give (UAS opts, dlg_set_contact): one sip/sips name-addr or URI. */
static bool contact_ok(const char *s)
{
	struct msg_contact c;
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > DLG_STATE_MAX / 4 || dlg_has_ctl(s, n))
		return false;
	if (msg_contact_parse(s, (struct span){0, (uint32_t)n}, &c) != 0 || c.star)
		return false;
	return c.na.uri.scheme == MSG_URI_SIP || c.na.uri.scheme == MSG_URI_SIPS;
}

static bool tag_ok(const char *s)
{
	size_t n = strlen(s);
	struct span tok;

	return n > 0 && n <= DLG_TAG_MAX &&
	       msg_token_parse(s, (struct span){0, (uint32_t)n}, &tok) == 0 && tok.len == n;
}

/* Check a UAS request; 0, EINVAL or EBADMSG. */
static int read_uas_req(struct msg *req, struct span *cid, struct msg_contact *c)
{
	const struct msg_nameaddr *from, *to;

	if (!req->is_request)
		return EINVAL;
	from = msg_from(req);
	to = msg_to(req);
	if (!from || !to || !msg_cseq(req) || !msg_ruri(req) || !dlg_msg_callid(req, cid))
		return EBADMSG;
	if (to->has_tag)
		return EINVAL;
	if (from->tag.len > DLG_TAG_MAX || dlg_msg_contact(req, c) != 0)
		return EBADMSG;
	return 0;
}

int dlg_uas_create(struct dlg **out, struct msg *req, const struct dlg_uas_opts *o)
{
	char tag[DLG_TAG_LEN + 1];
	const char *ltag;
	struct dlg_text t;
	struct msg_contact c;
	struct span cid;
	struct dlg *d;
	int err;

	if (!o || !contact_ok(o->contact) || (o->local_tag && !tag_ok(o->local_tag)))
		return EINVAL;
	err = read_uas_req(req, &cid, &c);
	if (err)
		return err;
	ltag = o->local_tag;
	if (!ltag) {
		if (dlg_tag_new(tag, sizeof(tag)))
			return EIO;
		ltag = tag;
	}
	dlg_text_init(&t);
	err = dlg_text_routes(&t, req, false);
	if (err)
		return err;
	dlg_text_target(&t, req->buf, &c);
	dlg_text_put(&t, DLG_F_CALLID, req->buf + cid.off, cid.len);
	dlg_text_put(&t, DLG_F_LTAG, ltag, strlen(ltag));
	dlg_text_put(&t, DLG_F_RTAG, req->buf + req->from.tag.off, req->from.tag.len);
	dlg_text_begin(&t);
	dlg_text_nameaddr(&t, req->buf, &req->to);
	t.f[DLG_F_LURI] = dlg_text_end(&t);
	dlg_text_begin(&t);
	dlg_text_nameaddr(&t, req->buf, &req->from);
	t.f[DLG_F_RURI] = dlg_text_end(&t);
	dlg_text_put(&t, DLG_F_CONTACT, o->contact, strlen(o->contact));
	d = dlg_new();
	if (!d)
		return ENOMEM;
	err = dlg_text_commit(d, &t);
	if (err) {
		mem_deref(d);
		return err;
	}
	d->secure = o->tls && req->ruri.scheme == MSG_URI_SIPS;
	d->rcseq = req->cseq.num;
	d->rcseq_set = true;
	d->state = DLG_EARLY;
	*out = d;
	return 0;
}

void dlg_uas_answered(struct dlg *d, unsigned status)
{
	if (d->uac || d->state != DLG_EARLY || status < 200)
		return;
	if (status < 300) {
		d->state = DLG_CONFIRMED;
		d->confirmed_once = true;
	} else {
		d->state = DLG_TERMINATED;
	}
}

void dlg_terminate(struct dlg *d)
{
	d->state = DLG_TERMINATED;
}

int dlg_set_contact(struct dlg *d, const char *contact)
{
	struct dlg_text t;

	if (!contact_ok(contact))
		return EINVAL;
	dlg_text_init(&t);
	dlg_text_put(&t, DLG_F_CONTACT, contact, strlen(contact));
	dlg_text_copy(&t, d, 1u << DLG_F_CONTACT, true);
	return dlg_text_commit(d, &t);
}

enum dlg_state dlg_state(const struct dlg *d)
{
	return (enum dlg_state)d->state;
}

bool dlg_is_uac(const struct dlg *d)
{
	return d->uac;
}

bool dlg_secure(const struct dlg *d)
{
	return d->secure;
}

bool dlg_was_confirmed(const struct dlg *d)
{
	return d->confirmed_once;
}

const char *dlg_call_id(const struct dlg *d)
{
	return dlg_str(d, DLG_F_CALLID);
}

const char *dlg_local_tag(const struct dlg *d)
{
	return dlg_str(d, DLG_F_LTAG);
}

const char *dlg_remote_tag(const struct dlg *d)
{
	return dlg_str(d, DLG_F_RTAG);
}

const char *dlg_local_uri(const struct dlg *d)
{
	return dlg_str(d, DLG_F_LURI);
}

const char *dlg_remote_uri(const struct dlg *d)
{
	return dlg_str(d, DLG_F_RURI);
}

const char *dlg_remote_target(const struct dlg *d)
{
	return dlg_str(d, DLG_F_TARGET);
}

const char *dlg_contact(const struct dlg *d)
{
	return dlg_str(d, DLG_F_CONTACT);
}

bool dlg_local_cseq(const struct dlg *d, uint32_t *num)
{
	if (d->lcseq_set)
		*num = d->lcseq;
	return d->lcseq_set;
}

bool dlg_remote_cseq(const struct dlg *d, uint32_t *num)
{
	if (d->rcseq_set)
		*num = d->rcseq;
	return d->rcseq_set;
}

unsigned dlg_route_count(const struct dlg *d)
{
	return d->nroutes;
}

const char *dlg_route(const struct dlg *d, unsigned i)
{
	return i < d->nroutes ? d->blob + d->route[i].off : NULL;
}

void dlg_set_user(struct dlg *d, void *user)
{
	d->user = user;
}

void *dlg_user(const struct dlg *d)
{
	return d->user;
}
