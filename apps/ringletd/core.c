/*
 * core.c - ringletd's transaction user for this version: validation, OPTIONS
 * to the server itself, REGISTER to the registrar, requests for our users
 * and requests routed through us to the proxy (prx.h), or in redirect mode
 * requests for our users to the redirect server (rdr.h), 403 for the rest.
 */
#include <errno.h>
#include <stdio.h>
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

/* The registrar's AOR check: a domain of ours, whatever the port (§10.3 step 5). */
static bool own_domain(void *arg, const char *buf, const struct msg_uri *u)
{
	return host_is_self(arg, buf, u, true);
}

int rd_core_init(struct rd_core *c, const struct rd_opts *o, const struct rd_listen *bound,
		 unsigned nbound, struct loc_store *store)
{
	memset(c, 0, sizeof(*c));
	c->opts = o;
	for (unsigned i = 0; i < nbound && i < RD_MAX_LISTEN; i++)
		c->self[c->nself++] = bound[i];
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
		struct prx_conf pc = {.store = store};
		err = prx_alloc(&c->prx, &pc);
		if (!err && o->mode == RD_MODE_REDIRECT) {
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

/* Option tags of Require the server does not support, for 420's Unsupported (§20.40). */
static void unsupported_hdr(struct msg *m, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = 0;
	for (const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_REQUIRE); h;
	     h = msg_hdr_next(m, h)) {
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

static void on_request(struct tsx *t, struct tp_rx *rx, void *arg)
{
	const struct rd_core *c = arg;
	struct msg *m = &rx->msg;
	struct msg_verdict v;
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

	/*
	 * Malformed requests never get here (rd_core_input answers them
	 * statelessly); what is left are the role verdicts 416, 420 and 483.
	 * A request to the server itself is not forwarded: no 483 (§16.3 item 3).
	 */
	if (!msg_validate(m, to_self ? 0 : MSG_V_PROXY, NULL, &v)) {
		char hdrs[512] = "";
		if (v.status == 420)
			unsupported_hdr(m, hdrs, sizeof(hdrs));
		respond(t, v.status, v.reason, hdrs[0] ? hdrs : NULL);
		return;
	}
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
	 * A user of ours goes to the proxy (location lookup), or gets a 302
	 * with its bindings in redirect mode; anything for elsewhere is
	 * refused, never relayed (static routes come later).
	 */
	bool ours = ru && (ru->scheme == MSG_URI_SIP || ru->scheme == MSG_URI_SIPS) &&
		    host_is_self(c, m->buf, ru, false);
	if (ours && ru->has_user && c->rdr)
		rdr_request(c->rdr, t, rx); /* --mode redirect: 302 to the bindings (§8.3) */
	else if (ours && ru->has_user)
		prx_request(c->prx, t, rx, PRX_LOOKUP | (via_us ? PRX_POP_ROUTE : 0));
	else if (ours)
		respond(t, 404, NULL, NULL);
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
		prx_ack(l, rx, PRX_POP_ROUTE);
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
