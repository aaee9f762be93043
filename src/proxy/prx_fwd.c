/*
 * prx_fwd.c - the forwarded request (RFC 3261 §16.6): its destination and
 * the edits that make it out of the received bytes; and what the proxy
 * forwards without a transaction: the ACK for a 2xx (§16.11) and responses
 * no client transaction matched (§16.7 step 5).  See prx_int.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "prx"
#include "proxy/prx_int.h"
#include "ringlet/log.h"

static struct span first_elem(const char *s, size_t len)
{
	bool angle = false, quote = false;
	size_t i = 0;
	for (; i < len; i++) {
		char c = s[i];
		if (quote) {
			if (c == '\\' && i + 1 < len)
				i++;
			else if (c == '"')
				quote = false;
		} else if (c == '"') {
			quote = true;
		} else if (c == '<') {
			angle = true;
		} else if (c == '>') {
			angle = false;
		} else if (c == ',' && !angle) {
			break;
		}
	}
	while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
		i--;
	size_t b = 0;
	while (b < i && (s[b] == ' ' || s[b] == '\t'))
		b++;
	return (struct span){(uint32_t)b, (uint32_t)(i - b)};
}

/*
 * The next hop of URI u (§16.6 item 7): its host and port, transport from
 * ;transport= (default UDP).  Returns 0, EHOSTUNREACH for a host name (with
 * *dr filled for RFC 3263 when dr is not NULL) or EINVAL.
 */
static int uri_dest(const char *buf, const struct msg_uri *u, struct tp_dest *d,
		    struct prx_dns_req *dr)
{
	memset(d, 0, sizeof(*d));
	if (u->scheme != MSG_URI_SIP && u->scheme != MSG_URI_SIPS)
		return EINVAL;
	d->proto = u->scheme == MSG_URI_SIPS ? TP_TLS : TP_UDP;
	struct span tr;
	bool given = msg_param_get(buf, u->params, "transport", &tr);
	if (given) {
		d->proto = tp_proto_from_token(buf + tr.off, tr.len);
		if (!d->proto)
			return EINVAL;
	}
	if (u->host_type != MSG_HOST_IPV4 && u->host_type != MSG_HOST_IPV6) {
		if (!dr)
			return EHOSTUNREACH;
		if (!u->host.len || u->host.len > DNS_MAX_NAME)
			return EINVAL;
		memcpy(dr->host, buf + u->host.off, u->host.len);
		dr->host[u->host.len] = 0;
		dr->req = (struct dns_req){.host = dr->host,
					   .port = u->port,
					   .proto = given ? d->proto : -1,
					   .sips = u->scheme == MSG_URI_SIPS};
		return EHOSTUNREACH;
	}
	uint16_t port = u->port ? u->port : (d->proto == TP_TLS ? 5061 : 5060);
	return tp_addr_set(&d->addr, buf + u->host.off, u->host.len, port);
}

int prx_request_dest(struct msg *m, bool skip, const char *path, const char *contact,
		     const char *hop, struct tp_dest *d, struct prx_dns_req *dr)
{
	struct msg_nameaddr na;
	struct msg_uri u;
	if (path && path[0]) {
		struct span s = first_elem(path, strlen(path));
		if (msg_nameaddr_parse(path, s, &na))
			return EINVAL;
		return uri_dest(path, &na.uri, d, dr);
	}
	const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_ROUTE);
	if (h && skip)
		h = msg_hdr_next(m, h);
	if (h) {
		if (msg_nameaddr_parse(m->buf, h->value, &na))
			return EINVAL;
		return uri_dest(m->buf, &na.uri, d, dr);
	}
	if (contact) {
		if (msg_uri_parse(contact, (struct span){0, (uint32_t)strlen(contact)}, &u))
			return EINVAL;
		return uri_dest(contact, &u, d, dr);
	}
	if (hop) {
		if (msg_uri_parse(hop, (struct span){0, (uint32_t)strlen(hop)}, &u))
			return EINVAL;
		return uri_dest(hop, &u, d, dr);
	}
	const struct msg_uri *ru = msg_ruri(m);
	return ru ? uri_dest(m->buf, ru, d, dr) : EINVAL;
}

/*
 * Max-Forwards of the forwarded request (§16.6 item 3): decremented in
 * place, or "Max-Forwards: 70" added.  num holds the digits (>= 4 bytes).
 */
static int edit_max_forwards(struct prx_edits *es, const struct msg *m, char *num, size_t cap)
{
	static const char add[] = "Max-Forwards: 70\r\n";
	const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_MAX_FORWARDS);
	uint32_t mf;
	if (!h)
		return prx_edit_add(es, prx_headers_start(m), 0, add, sizeof(add) - 1);
	if (msg_uint_parse(m->buf, h->value, 255, &mf) || mf == 0)
		return EINVAL; /* rd_core answered these: 400 at arrival, 483 from msg_role_verdict */
	int w = snprintf(num, cap, "%u", mf - 1);
	return prx_edit_add(es, h->value.off, h->value.len, num, (size_t)w);
}

/*
 * Our Via on top (§16.6 item 8) for a request to proto: a branch of layer
 * l's (tsx_branch: responses find their worker), then ".hash" when hash is
 * not NULL (loop detection, prx_loop.c).  line holds the text.
 */
static int via_edit(struct prx_edits *es, const struct msg *m, struct tsx_layer *l, uint8_t proto,
		    const char *hash, char *line, size_t cap)
{
	struct tp *tp = tsx_layer_tp(l);
	const struct tp_addr *self = tp->ops->local(tp, (enum tp_proto)proto);
	char a[64], br[TSX_BRANCH_MAX];
	if (!self)
		return EINVAL;
	tp_addr_str(self, a, sizeof(a));
	tsx_branch(l, br, sizeof(br));
	int w =
	    snprintf(line, cap, "Via: SIP/2.0/%s %s;branch=%s%s%s;rport\r\n",
		     tp_proto_name((enum tp_proto)proto), a, br, hash ? "." : "", hash ? hash : "");
	if (w < 0 || (size_t)w >= cap)
		return EMSGSIZE;
	return prx_edit_add(es, prx_headers_start(m), 0, line, (size_t)w);
}

/* The last element of the list that starts at h. */
static const struct msg_hdr *last_of(const struct msg *m, const struct msg_hdr *h)
{
	const struct msg_hdr *last = h;
	for (; h; h = msg_hdr_next(m, h))
		last = h;
	return last;
}

/*
 * Route processing of the forwarded request: our entry removed (§16.4,
 * PRX_POP_ROUTE); a Request-URI of ours, from a strict router upstream,
 * replaced by the last Route entry, which goes (§16.4, PRX_FROM_STRICT);
 * a strict router next (no lr, §16.6 item 6): its URI becomes the
 * Request-URI and the old one the last Route entry.  Not when retarget
 * (the Request-URI is the binding's contact).  Returns 0 or an errno.
 */
static int route_edits(const struct prx_call *c, struct msg *m, bool retarget,
		       struct prx_edits *es, struct prx_fwd_text *tx)
{
	const struct msg_hdr *top = msg_hdr_find(m, MSG_HDR_ROUTE);
	struct msg_nameaddr na;
	struct span lr;
	if (!top)
		return 0;
	if (c->flags & PRX_FROM_STRICT) {
		const struct msg_hdr *last = last_of(m, top);
		if (msg_nameaddr_parse(m->buf, last->value, &na))
			return EINVAL;
		return prx_edit_add(es, m->ruri_s.off, m->ruri_s.len, m->buf + na.uri_s.off,
				    na.uri_s.len) |
		       prx_edit_remove(es, m, last, last);
	}
	bool pop = c->flags & PRX_POP_ROUTE;
	const struct msg_hdr *next = pop ? msg_hdr_next(m, top) : top;
	if (retarget || !next || msg_nameaddr_parse(m->buf, next->value, &na) ||
	    msg_param_get(m->buf, na.uri.params, "lr", &lr))
		return pop ? prx_edit_remove(es, m, top, top) : 0;
	int w = snprintf(tx->push, sizeof(tx->push), "Route: <%.*s>\r\n", (int)m->ruri_s.len,
			 m->buf + m->ruri_s.off);
	if (w < 0 || (size_t)w >= sizeof(tx->push))
		return EMSGSIZE;
	const struct msg_hdr *last = last_of(m, next);
	int err =
	    prx_edit_add(es, m->ruri_s.off, m->ruri_s.len, m->buf + na.uri_s.off, na.uri_s.len);
	if (pop && !(next->flags & MSG_HDRF_FIRST)) {
		err |= prx_edit_remove(es, m, top, next); /* one line: one edit */
	} else {
		if (pop)
			err |= prx_edit_remove(es, m, top, top);
		err |= prx_edit_remove(es, m, next, next);
	}
	return err | prx_edit_add(es, prx_line_end(m, last->value.off + last->value.len), 0,
				  tx->push, (size_t)w);
}

/*
 * The credentials we checked (Proxy-Authorization for our realm, §22.3) are
 * ours: not passed on, so the next hops never see our users' digests.  At
 * most PRX_CRED_MAX of them are removed; credentials for other realms stay.
 */
#define PRX_CRED_MAX 2
static int consume_credentials(const struct prx_call *c, const struct msg *m,
			       struct prx_edits *es)
{
	unsigned n = 0;
	int err = 0;
	if (!(c->flags & PRX_AUTH) || !c->realm || !c->realm[0])
		return 0;
	for (const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_PROXY_AUTHORIZATION);
	     h && n < PRX_CRED_MAX; h = msg_hdr_next(m, h)) {
		struct msg_auth a;
		char realm[LOC_AOR_MAX];
		if (msg_auth_parse(m->buf, h->value, &a))
			continue;
		int k = msg_qstr_copy(m->buf, a.realm, realm, sizeof(realm) - 1);
		if (k < 0 || (size_t)k != strlen(c->realm) || memcmp(realm, c->realm, (size_t)k))
			continue;
		err |= prx_edit_remove(es, m, h, h);
		n++;
	}
	return err;
}

int prx_request_edits(struct prx_call *c, struct msg *m, struct tsx_layer *l,
		      const struct tp_dest *d, const char *contact, const char *path,
		      struct prx_edits *es, struct prx_fwd_text *tx)
{
	uint32_t hs = prx_headers_start(m);
	int err = via_edit(es, m, l, d->proto, c->hash, tx->via, sizeof(tx->via));
	if (contact)
		err |= prx_edit_add(es, m->ruri_s.off, m->ruri_s.len, contact, strlen(contact));
	const struct msg_hdr *via = msg_hdr_find(m, MSG_HDR_VIA);
	if (c->via && via)
		err |= prx_edit_add(es, via->value.off, via->value.len, c->via, strlen(c->via));
	const struct msg_nameaddr *to = msg_to(m);
	if (m->method != MSG_METHOD_ACK && to && !to->has_tag) {
		/* §16.6 item 4: stay on the path of the dialog */
		char a[64];
		tp_addr_str(&c->local, a, sizeof(a));
		int w = snprintf(tx->rr, sizeof(tx->rr), "Record-Route: <sip:%s;lr%s>\r\n", a,
				 c->proto == TP_TCP ? ";transport=tcp" : "");
		if (w > 0 && (size_t)w < sizeof(tx->rr))
			err |= prx_edit_add(es, hs, 0, tx->rr, (size_t)w);
	}
	if (path && path[0]) {
		int w = snprintf(tx->route, sizeof(tx->route), "Route: %s\r\n", path);
		if (w > 0 && (size_t)w < sizeof(tx->route))
			err |= prx_edit_add(es, hs, 0, tx->route, (size_t)w);
	}
	err |= edit_max_forwards(es, m, tx->mf, sizeof(tx->mf));
	err |= route_edits(c, m, contact || (path && path[0]), es, tx);
	err |= consume_credentials(c, m, es);
	return err ? EINVAL : 0;
}

/*
 * Send ACK m (stateless, §16.11) to d: our Via, the upstream Via as up[0..ul)
 * (received/rport, RFC 3581; ul <= 0: as it is), Max-Forwards decremented,
 * our Route entry removed when pop.
 */
static void ack_send(struct tsx_layer *l, struct msg *m, const char *up, int ul, bool pop,
		     const struct tp_dest *d)
{
	char via[160], mf[8];
	struct prx_edits es = {.n = 0};
	int err = via_edit(&es, m, l, d->proto, NULL, via, sizeof(via));
	const struct msg_hdr *uv = msg_hdr_find(m, MSG_HDR_VIA);
	if (uv && ul > 0)
		err |= prx_edit_add(&es, uv->value.off, uv->value.len, up, (size_t)ul);
	err |= edit_max_forwards(&es, m, mf, sizeof(mf));
	const struct msg_hdr *top = msg_hdr_find(m, MSG_HDR_ROUTE);
	if (pop && top)
		err |= prx_edit_remove(&es, m, top, top);
	size_t cap = m->len + sizeof(via) + (ul > 0 ? (size_t)ul : 0);
	char *out = err ? NULL : malloc(cap);
	long n = out ? prx_edit_apply(m->buf, m->len, &es, out, cap) : -1;
	struct tp *tp = tsx_layer_tp(l);
	if (n > 0 && tp_send(tp, d, out, (size_t)n))
		log_debug("event=ack-send-failed");
	free(out);
}

/* An ACK whose next hop is a host name, waiting for RFC 3263 (in p->acks). */
struct prx_ack_wait {
	struct list_node node;
	struct prx *p;
	struct tsx_layer *l;
	bool pop;
	int ul;
	char up[512];
	uint32_t len;
	char buf[];
};

static void ack_resolved(int err, const struct dns_target *t, unsigned n, void *arg)
{
	struct prx_ack_wait *w = arg;
	struct msg *m = malloc(sizeof(*m));
	size_t used;
	pthread_mutex_lock(&w->p->mu);
	list_remove(&w->node);
	pthread_mutex_unlock(&w->p->mu);
	if (!err && n && m && msg_parse(m, w->buf, w->len, MSG_PARSE_DGRAM, &used) == 0)
		ack_send(w->l, m, w->up, w->ul, w->pop, &t[0].dest);
	else
		log_info("event=ack-next-hop-unresolved err=%d", err);
	free(m);
	free(w);
}

void prx_ack_waits_free(struct prx *p)
{
	struct list_node *n;
	while ((n = list_pop_front(&p->acks)))
		free(LIST_ENTRY(n, struct prx_ack_wait, node));
}

void prx_ack(struct prx *p, struct tsx_layer *l, struct tp_rx *rx, unsigned flags)
{
	struct msg *m = &rx->msg;
	bool pop = flags & PRX_POP_ROUTE;
	struct tp_dest d;
	struct prx_dns_req dr;
	char up[512];
	/* the upstream Via gets received/rport as in a stateful forward (§18.2.1, RFC 3581) */
	int ul = msg_hdr_find(m, MSG_HDR_VIA) ? tp_via_rewrite(rx, up, sizeof(up)) : -1;
	int err = prx_request_dest(m, pop, NULL, NULL, NULL, &d, &dr);
	if (!err) {
		ack_send(l, m, up, ul, pop, &d);
		return;
	}
	struct dns *dns = err == EHOSTUNREACH && p->dns ? p->dns(l, p->dns_arg) : NULL;
	struct prx_ack_wait *w = dns ? malloc(sizeof(*w) + m->len) : NULL;
	if (!w)
		return; /* no next hop: dropped (§16.11 leaves nothing to answer) */
	*w = (struct prx_ack_wait){.p = p, .l = l, .pop = pop, .ul = ul, .len = m->len};
	if (ul > 0)
		memcpy(w->up, up, (size_t)ul);
	memcpy(w->buf, m->buf, m->len);
	pthread_mutex_lock(&p->mu);
	list_push_back(&p->acks, &w->node);
	pthread_mutex_unlock(&p->mu);
	if (dns_resolve(dns, &dr.req, ack_resolved, w, NULL)) {
		pthread_mutex_lock(&p->mu);
		list_remove(&w->node);
		pthread_mutex_unlock(&p->mu);
		free(w);
	}
}

/* Where a response goes after our Via: the next Via's received/rport or sent-by (§18.2.2). */
static int via_dest(const char *buf, const struct msg_via *v, struct tp_dest *d)
{
	memset(d, 0, sizeof(*d));
	d->proto = tp_proto_from_token(buf + v->transport.off, v->transport.len);
	if (!d->proto)
		return EINVAL;
	uint16_t port = v->rport > 0 ? (uint16_t)v->rport : v->port;
	if (!port)
		port = d->proto == TP_TLS ? 5061 : 5060;
	struct span host = v->received.len ? v->received : v->host;
	return tp_addr_set(&d->addr, buf + host.off, host.len, port);
}

void prx_response(struct tsx_layer *l, struct tp_rx *rx)
{
	struct msg *m = &rx->msg;
	struct tp *tp = tsx_layer_tp(l);
	const struct msg_via *v = msg_top_via(m);
	const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_VIA);
	if (!v || !h)
		return;
	enum tp_proto proto = tp_proto_from_token(m->buf + v->transport.off, v->transport.len);
	const struct tp_addr *self = proto ? tp->ops->local(tp, proto) : NULL;
	struct tp_addr a;
	if (!self || tp_addr_set(&a, m->buf + v->host.off, v->host.len, v->port ? v->port : 5060) ||
	    !tp_addr_equal(&a, self))
		return; /* not our Via: never reflect a response elsewhere */
	const struct msg_hdr *h2 = msg_hdr_next(m, h);
	struct msg_via v2;
	struct tp_dest d;
	if (!h2 || msg_via_parse(m->buf, h2->value, &v2) || via_dest(m->buf, &v2, &d))
		return;
	struct prx_edits es = {.n = 0};
	char *out = malloc(m->len);
	long n = out && prx_edit_remove(&es, m, h, h) == 0
		     ? prx_edit_apply(m->buf, m->len, &es, out, m->len)
		     : -1;
	if (n > 0 && tp_send(tp, &d, out, (size_t)n))
		log_debug("event=response-send-failed");
	free(out);
}
