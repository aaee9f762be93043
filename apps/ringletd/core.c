/*
 * core.c - ringletd's transaction user for this version: validation (with
 * the proxy's checks of RFC 3261 §16.3: 483, 482 for a loop, 420), OPTIONS
 * to the server itself, REGISTER to the registrar, requests for our users
 * and requests routed through us to the proxy (prx.h), or, for a domain in
 * redirect mode (--mode, or the domain's own mode in the config file),
 * requests for its users to the redirect server (rdr.h), requests for a
 * foreign domain with a static route to the proxy when the relay rules
 * allow (see core.h), 403 for the rest.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "core"
#include "core.h"
#include "ringlet/log.h"

/* What this version of the server does itself (RFC 3261 §20.5). */
static const char allow_hdr[] = "Allow: OPTIONS, ACK, CANCEL, REGISTER\r\n";

/*
 * True if uri's host names this server: a served domain (--domain; with
 * none, "localhost"), or a listen address with its port (any port when
 * any_port: an address-of-record has none).
 */
static bool host_is_self(const struct rd_core *c, const char *buf, const struct msg_uri *u,
			 bool any_port)
{
	if (u->scheme != MSG_URI_SIP && u->scheme != MSG_URI_SIPS)
		return false;
	uint16_t port = u->port ? u->port : (u->scheme == MSG_URI_SIPS ? 5061 : 5060);
	if (u->host_type == MSG_HOST_IPV4 || u->host_type == MSG_HOST_IPV6) {
		for (unsigned i = 0; i < c->nself; i++) {
			struct tp_addr a;
			uint16_t p = any_port ? tp_addr_port(&c->self[i].addr) : port;
			if (tp_addr_set(&a, buf + u->host.off, u->host.len, p) == 0 &&
			    tp_addr_equal(&a, &c->self[i].addr))
				return true;
		}
	}
	const struct rd_opts *o = c->opts;
	for (unsigned i = 0; i < o->ndomain; i++)
		if (span_ieq(buf, u->host, o->domain[i]))
			return true;
	return o->ndomain == 0 && span_ieq(buf, u->host, "localhost");
}

/*
 * The mode of uri's domain (a sip/sips URI whose host is ours): its own
 * (domains = ( { name = ...; mode = ...; } ) in the config file), else the
 * server's (--mode).
 */
static enum rd_mode domain_mode(const struct rd_core *c, const char *buf, const struct msg_uri *u)
{
	const struct rd_opts *o = c->opts;
	for (unsigned i = 0; i < o->ndomain; i++)
		if (o->domain_mode[i] >= 0 && span_ieq(buf, u->host, o->domain[i]))
			return (enum rd_mode)o->domain_mode[i];
	return o->mode;
}

/* True if some domain of ours answers in redirect mode. */
static bool any_redirect(const struct rd_opts *o)
{
	for (unsigned i = 0; i < o->ndomain; i++)
		if (o->domain_mode[i] == RD_MODE_REDIRECT)
			return true;
	return o->mode == RD_MODE_REDIRECT;
}

/* The registrar's AOR check: a domain of ours, whatever the port (§10.3 step 5). */
static bool own_domain(void *arg, const char *buf, const struct msg_uri *u)
{
	return host_is_self(arg, buf, u, true);
}

/* "ADDR" or "ADDR/BITS" (IPv4 or IPv6, as opts.c checked) into n.  Returns 0 or EINVAL. */
static int net_parse(const char *s, struct rd_net *n)
{
	char a[64];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	if (len >= sizeof(a))
		return EINVAL;
	memcpy(a, s, len);
	a[len] = 0;
	memset(n, 0, sizeof(*n));
	n->family = strchr(a, ':') ? AF_INET6 : AF_INET;
	unsigned max = n->family == AF_INET6 ? 128 : 32;
	if (inet_pton(n->family, a, n->a) != 1)
		return EINVAL;
	char *end = NULL;
	unsigned long bits = slash ? strtoul(slash + 1, &end, 10) : max;
	if ((slash && (end == slash + 1 || *end)) || bits > max)
		return EINVAL;
	n->bits = (unsigned)bits;
	return 0;
}

/* True if the source address a is in a --trust network (an IPv4-mapped IPv6 as IPv4). */
static bool trusted(const struct rd_core *c, const struct tp_addr *a)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const uint8_t *b;
	int fam = a->u.sa.sa_family;
	if (fam == AF_INET) {
		b = (const uint8_t *)&a->u.in.sin_addr;
	} else if (fam == AF_INET6) {
		b = (const uint8_t *)&a->u.in6.sin6_addr;
		if (!memcmp(b, mapped, sizeof(mapped))) {
			fam = AF_INET;
			b += 12;
		}
	} else {
		return false;
	}
	for (unsigned i = 0; i < c->ntrust; i++) {
		const struct rd_net *n = &c->trust[i];
		if (n->family != fam)
			continue;
		unsigned full = n->bits / 8, rest = n->bits % 8;
		if (memcmp(b, n->a, full))
			continue;
		uint8_t mask = (uint8_t)(0xff00u >> rest);
		if (rest && ((b[full] ^ n->a[full]) & mask))
			continue;
		return true;
	}
	return false;
}

int rd_core_init(struct rd_core *c, const struct rd_opts *o, const struct rd_listen *bound,
		 unsigned nbound, struct loc_store *store, rd_dns_fn *dns, void *dns_arg)
{
	memset(c, 0, sizeof(*c));
	c->opts = o;
	c->dns = dns && !(o->dns && !strcmp(o->dns, "off"));
	for (unsigned i = 0; i < nbound && i < RD_MAX_LISTEN; i++)
		c->self[c->nself++] = bound[i];
	for (unsigned i = 0; i < o->ntrust && i < RD_MAX_TRUST; i++) {
		if (net_parse(o->trust[i], &c->trust[c->ntrust]) == 0)
			c->ntrust++;
		else
			log_warn("event=bad-trust net=\"%s\"", o->trust[i]);
	}
	/* the store's secret: every node sharing the store verifies every node's nonces */
	uint8_t secret[LOC_SECRET_LEN];
	int err = o->auth ? loc_secret_sync(store, secret) : 0;
	if (err)
		return err;
	if (o->auth && auth_alloc(&c->auth, secret, o->auth_nonce_ttl))
		return ENOMEM;
	struct reg_conf rc = {
		.store = store,
		.auth = c->auth,
		.realm = o->realm,
		.min_expires = o->min_expires,
		.max_expires = o->max_expires,
		.default_expires = o->default_expires,
		.own = own_domain,
		.own_arg = c,
		.algs = ((o->auth_algs & RD_ALG_MD5) ? REG_ALG(AUTH_MD5) : 0) |
			((o->auth_algs & RD_ALG_SHA256) ? REG_ALG(AUTH_SHA256) : 0),
	};
	err = reg_alloc(&c->reg, &rc);
	if (!err) {
		struct prx_conf pc = {
		    .store = store,
		    .auth = c->auth,
		    .realm = o->realm,
		    .timer_c_ms = o->timer_c,
		    .dns = dns,
		    .dns_arg = dns_arg,
		    .algs = ((o->auth_algs & RD_ALG_MD5) ? PRX_ALG(AUTH_MD5) : 0) |
			    ((o->auth_algs & RD_ALG_SHA256) ? PRX_ALG(AUTH_SHA256) : 0),
		};
		err = prx_alloc(&c->prx, &pc);
		if (!err && any_redirect(o)) {
			struct rdr_conf dc = {.store = store};
			err = rdr_alloc(&c->rdr, &dc);
			if (err) {
				prx_free(c->prx);
				c->prx = NULL;
			}
		}
		if (err) {
			reg_free(c->reg);
			c->reg = NULL;
		}
	}
	if (err) {
		if (c->auth)
			auth_free(c->auth);
		c->auth = NULL;
	}
	return err;
}

void rd_core_stop(struct rd_core *c)
{
	if (c->reg && reg_stop(c->reg, 3000))
		log_warn("event=stop what=\"the store did not answer every REGISTER in 3 s\"");
}

void rd_core_free(struct rd_core *c)
{
	reg_free(c->reg);
	c->reg = NULL;
	prx_free(c->prx);
	c->prx = NULL;
	rdr_free(c->rdr);
	c->rdr = NULL;
	if (c->auth)
		auth_free(c->auth);
	c->auth = NULL;
}

/*
 * Option tags of header id (Require, or Proxy-Require) the server does not
 * support, for 420's Unsupported (§20.40).
 */
static void unsupported_hdr(struct msg *m, enum msg_hdr_id id, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = 0;
	for (const struct msg_hdr *h = msg_hdr_find(m, id); h; h = msg_hdr_next(m, h)) {
		struct span tag;
		if (msg_token_parse(m->buf, h->value, &tag))
			continue;
		bool known = false;
		for (const char *const *s = msg_supported_default; *s; s++)
			if (span_ieq(m->buf, tag, *s))
				known = true;
		if (known)
			continue;
		int w = snprintf(out + n, cap - n, "%s%.*s", n ? ", " : "Unsupported: ",
				 (int)tag.len, m->buf + tag.off);
		if (w < 0 || (size_t)w >= cap - n - 3) {
			out[n] = 0;
			break;
		}
		n += (size_t)w;
	}
	if (n)
		memcpy(out + n, "\r\n", 3);
}

static void respond(struct tsx *t, unsigned code, const char *reason, const char *hdrs)
{
	int err = tsx_respond(t, code, reason, hdrs, NULL, 0);
	if (err)
		log_debug("event=respond-failed code=%u err=%d", code, err);
}

/* OPTIONS to the server itself (RFC 3261 §11.2): what it can do. */
static void answer_options(struct tsx *t)
{
	char hdrs[256];
	size_t n = (size_t)snprintf(hdrs, sizeof(hdrs), "%sAccept: application/sdp\r\nSupported: ",
				    allow_hdr);
	for (const char *const *s = msg_supported_default; *s && n < sizeof(hdrs); s++)
		n += (size_t)snprintf(hdrs + n, sizeof(hdrs) - n, "%s%s",
				      s == msg_supported_default ? "" : ", ", *s);
	if (n < sizeof(hdrs))
		snprintf(hdrs + n, sizeof(hdrs) - n, "\r\nServer: Ringlet\r\n");
	respond(t, 200, NULL, hdrs);
}

/*
 * CANCEL (RFC 3261 §9.2, §16.10): 200, then the proxied INVITE's branch is
 * cancelled (its 487 comes back), or the INVITE we answer ourselves gets
 * 487; 481 when nothing matches.
 */
static void answer_cancel(struct tsx *t)
{
	struct tsx *inv = tsx_cancel_target(t);
	if (!inv) {
		respond(t, 481, NULL, NULL);
		return;
	}
	respond(t, 200, NULL, NULL);
	if (prx_cancel(inv) == 0)
		return;
	if (tsx_last_code(inv) < 200)
		tsx_respond(inv, 487, NULL, NULL, NULL, 0);
}

/* True if the top Route entry of m names this server (§16.4). */
static bool route_is_self(const struct rd_core *c, struct msg *m)
{
	const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_ROUTE);
	struct msg_nameaddr na;
	return h && msg_nameaddr_parse(m->buf, h->value, &na) == 0 &&
	       host_is_self(c, m->buf, &na.uri, false);
}

/* True if the From URI's host is one of our domains: the request says it comes from our user. */
static bool from_ours(const struct rd_core *c, struct msg *m)
{
	const struct msg_nameaddr *from = msg_from(m);
	return from && host_is_self(c, m->buf, &from->uri, true);
}

/* The --route URI for the Request-URI's host (case-insensitive), or NULL. */
static const char *static_route(const struct rd_core *c, const char *buf, const struct msg_uri *ru)
{
	const struct rd_opts *o = c->opts;
	for (unsigned i = 0; ru && i < o->nroute; i++)
		if (span_ieq(buf, ru->host, o->route[i].domain))
			return o->route[i].uri;
	return NULL;
}

/*
 * A request for a foreign domain (RFC 3261 §16.5; never an open relay):
 * from a trusted source it goes to the static route as it is; from one of
 * our users (From host ours) too, after a 407 when --auth is on (not for a
 * request in a dialog, §22.3); anyone else gets 403.  The next hop is the
 * domain's static route, else RFC 3263 (prx.c); with --dns off and no
 * static route: 403.
 */
static void foreign(const struct rd_core *c, struct tsx *t, struct tp_rx *rx, bool via_us)
{
	struct msg *m = &rx->msg;
	const struct msg_nameaddr *to = msg_to(m);
	bool trust = trusted(c, &rx->src);
	if (!trust && !from_ours(c, m)) {
		respond(t, 403, "Relaying Denied", NULL);
		return;
	}
	const char *hop = static_route(c, m->buf, msg_ruri(m));
	if (!hop && !c->dns) {
		respond(t, 403, "No Route to Domain", NULL);
		return;
	}
	unsigned flags = via_us ? PRX_POP_ROUTE : 0;
	if (!trust && c->auth && !(to && to->has_tag))
		flags |= PRX_AUTH;
	prx_request_hop(c->prx, t, rx, flags, hop);
}

/*
 * The role checks (RFC 3261 §16.3 items 2-5 when fwd, the request may be
 * forwarded; §8.2.2 for a request to the server itself): 416, 483, 482 (a
 * loop, prx_looped; not for CANCEL, answered here), 420 with Unsupported.
 * Malformed requests never get here (rd_core_input answers them
 * statelessly).  True when the request goes on; else it was answered.
 */
static bool role_ok(struct tsx *t, struct msg *m, bool fwd)
{
	struct msg_verdict v;
	bool ok = msg_role_verdict(m, fwd ? MSG_V_PROXY | MSG_V_FORWARD : 0, NULL, &v);
	if ((ok || v.status == 420) && fwd && m->method != MSG_METHOD_CANCEL &&
	    prx_looped(t, m)) {
		respond(t, 482, NULL, NULL); /* item 4 comes before item 5's 420 */
		return false;
	}
	if (ok)
		return true;
	char hdrs[512] = "";
	if (v.status == 420)
		unsupported_hdr(m, (enum msg_hdr_id)v.hdr, hdrs, sizeof(hdrs));
	respond(t, v.status, v.reason, hdrs[0] ? hdrs : NULL);
	return false;
}

static void on_request(struct tsx *t, struct tp_rx *rx, void *arg)
{
	const struct rd_core *c = arg;
	struct msg *m = &rx->msg;
	const struct msg_uri *ru = msg_ruri(m);
	bool to_self = ru && !ru->has_user && host_is_self(c, m->buf, ru, false);
	const struct msg_nameaddr *to = msg_to(m);
	struct span lr;
	/* §16.4: our Record-Route URI as the Request-URI of an in-dialog request, with
	 * the route set in Route: a strict router sent it */
	bool strict_in = to_self && to && to->has_tag && msg_hdr_find(m, MSG_HDR_ROUTE) &&
			 msg_param_get(m->buf, ru->params, "lr", &lr);
	if (strict_in)
		to_self = false;

	/* a request to the server itself is not forwarded: no 483 (§16.3 item 3), no 482 */
	if (!role_ok(t, m, !to_self))
		return;
	if (m->method == MSG_METHOD_CANCEL) {
		answer_cancel(t);
		return;
	}
	if (m->method == MSG_METHOD_REGISTER) {
		/*
		 * §10.3 step 1: a registrar handles the domains it has bindings
		 * for (a listen address is one whatever the port: the domain
		 * is the host); a proxy would forward the rest, and relaying
		 * comes later.
		 */
		if (ru && host_is_self(c, m->buf, ru, true))
			reg_request(c->reg, t, rx);
		else
			respond(t, 403, "Not Our Domain", NULL);
		return;
	}
	if (strict_in) {
		prx_request(c->prx, t, rx, PRX_FROM_STRICT);
		return;
	}
	bool via_us = route_is_self(c, m);
	if (via_us && to && to->has_tag) {
		/* in a dialog we record-routed: loose routing (§16.4, §16.12) */
		prx_request(c->prx, t, rx, PRX_POP_ROUTE);
		return;
	}
	if (to_self) {
		if (m->method == MSG_METHOD_OPTIONS)
			answer_options(t);
		else if (m->method == MSG_METHOD_OTHER)
			respond(t, 501, NULL, allow_hdr); /* §21.5.2: method not recognised */
		else
			respond(t, 405, NULL, allow_hdr); /* §8.2.1: recognised, not supported */
		return;
	}
	/*
	 * A user of ours goes to the proxy (location lookup; with --auth on
	 * a request from one of our users is authenticated first, 407, §22.3),
	 * or gets a 302 with its bindings when its domain is in redirect
	 * mode; anything for elsewhere follows the relay rules (foreign).
	 */
	/* a user's URI without a port names the domain, as the registrar's AORs do
	 * (§10.3: the host is the domain, whatever port we listen on); with a port
	 * it names one host:port, which must be ours (a contact elsewhere is not) */
	bool ours = ru && (ru->scheme == MSG_URI_SIP || ru->scheme == MSG_URI_SIPS) &&
		    host_is_self(c, m->buf, ru, ru->has_user && !ru->port);
	/* §22.3: our users authenticate (the proxy ignores it with --auth off) */
	unsigned auth = from_ours(c, m) && !trusted(c, &rx->src) && !(to && to->has_tag)
			    ? PRX_AUTH
			    : 0;
	if (ours && ru->has_user && c->rdr && domain_mode(c, m->buf, ru) == RD_MODE_REDIRECT)
		rdr_request(c->rdr, t, rx); /* redirect mode: 302 to the bindings (§8.3) */
	else if (ours && ru->has_user)
		prx_request(c->prx, t, rx, PRX_LOOKUP | (via_us ? PRX_POP_ROUTE : 0) | auth);
	else if (ours)
		respond(t, 404, NULL, NULL);
	else if (ru && (ru->scheme == MSG_URI_SIP || ru->scheme == MSG_URI_SIPS))
		foreign(c, t, rx, via_us);
	else
		respond(t, 403, "Relaying Denied", NULL);
}

/*
 * Answer a malformed request statelessly (RFC 3261 §8.2, as a proxy's
 * sanity check does): no transaction is kept for bytes that are broken, so
 * garbage cannot hold memory for Timer J, and a later well-formed request
 * that reuses the branch is not mistaken for a retransmission.
 */
static void reject_stateless(struct tp *tp, struct tp_rx *rx, const struct msg_verdict *v)
{
	struct tp_dest d;
	struct msg *m = &rx->msg;
	if (m->method == MSG_METHOD_ACK || !msg_top_via(m) || tp_response_dest(rx, &d))
		return; /* §17.2.1: never answer an ACK; without a Via nowhere to answer */
	char via[MSG_MAX_LINE], buf[4096 + MSG_MAX_LINE];
	int vl = tp_via_rewrite(rx, via, sizeof(via));
	struct msg_out o;
	msg_out_init(&o, buf, sizeof(buf));
	msg_out_response_via(&o, m, v->status, v->reason, msg_to(m) ? "rl-sl" : NULL,
			     vl > 0 ? via : NULL, vl > 0 ? (size_t)vl : 0);
	msg_out_header(&o, "Server", "Ringlet", 7);
	if (msg_out_end(&o, NULL, 0) == 0)
		tp_send(tp, &d, buf, o.len);
}

void rd_core_input(struct tp *tp, struct tp_rx *rx, void *arg)
{
	struct tsx_layer *layer = arg;
	struct msg_verdict v;
	msg_validate(&rx->msg, 0, NULL, &v);
	if (v.drop)
		return;
	if (v.malformed) {
		log_info_rl("event=bad-request status=%u reason=\"%s\"", v.status,
			    v.reason ? v.reason : "");
		reject_stateless(tp, rx, &v);
		return;
	}
	tsx_layer_input(layer, rx);
}

/* An ACK for a 2xx (§13.2.2.4) routed through us: forward it statelessly (§16.11). */
static void on_stray_request(struct tsx_layer *l, struct tp_rx *rx, void *arg)
{
	const struct rd_core *c = arg;
	struct msg *m = &rx->msg;
	if (m->method == MSG_METHOD_ACK && route_is_self(c, m))
		prx_ack(c->prx, l, rx, PRX_POP_ROUTE);
}

/* 2xx retransmissions and other forks' 2xx (§16.7 step 5). */
static void on_stray_response(struct tsx_layer *l, struct tp_rx *rx, void *arg)
{
	(void)arg;
	prx_response(l, rx);
}

const struct tsx_tu rd_core_tu_template = {
	.request = on_request,
	.stray_request = on_stray_request,
	.stray_response = on_stray_response,
};
