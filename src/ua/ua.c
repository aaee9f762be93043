/*
 * ua.c - the user agent core: one loop, one transport set, one transaction
 * layer of a private group; every message in and out is reported (ladder),
 * incoming requests are checked (§8.2) and dispatched, destinations are
 * chosen (outbound proxy, else the Request-URI's host, §8.1.2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#define LOG_MODULE "ua"
#include "ringlet/log.h"
#include "ringlet/mem.h"
#include "ua/ua_int.h"

/* Option tags this UA supports: none, so any Require gets 420 (§8.2.2.3). */
static const char *const ua_supported[] = {NULL};

void ua_emit(struct ua *u, struct ua_event *ev)
{
	if (u->freeing || !u->event)
		return;
	ev->at = loop_now(u->loop);
	u->event(ev, u->arg);
}

/* splitmix64 (tags, Call-IDs: unique, not secret). */
static uint64_t next_rand(struct ua *u)
{
	uint64_t z = (u->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void ua_random_hex(struct ua *u, char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t r = 0;

	for (size_t i = 0; i < n; i++) {
		if (i % 16 == 0)
			r = next_rand(u);
		out[i] = hex[r & 0xf];
		r >>= 4;
	}
	out[n] = 0;
}

void ua_span_copy(const char *buf, struct span s, char *out, size_t cap)
{
	size_t n = 0;

	for (uint32_t i = 0; i < s.len && n + 1 < cap; i++) {
		unsigned char c = (unsigned char)buf[s.off + i];
		if (c >= 0x20 && c != 0x7f)
			out[n++] = (char)c;
	}
	out[n] = 0;
}

void ua_respond(struct tsx *t, unsigned code, const char *reason, const char *hdrs)
{
	int err = tsx_respond(t, code, reason, hdrs, NULL, 0);

	if (err)
		log_debug("event=respond-failed code=%u err=%d", code, err);
}

int ua_uri_parse(const char *s, struct msg_uri *out)
{
	size_t len = strlen(s);

	if (len == 0 || len > UA_URI_MAX)
		return EBADMSG;
	return msg_uri_parse(s, (struct span){0, (uint32_t)len}, out);
}

int ua_hop(struct ua *u, const char *uri, size_t len, struct tp_dest *out)
{
	struct msg_uri mu;
	struct span v;

	if (len == 0 || len > UA_URI_MAX ||
	    msg_uri_parse(uri, (struct span){0, (uint32_t)len}, &mu) ||
	    (mu.scheme != MSG_URI_SIP && mu.scheme != MSG_URI_SIPS))
		return EINVAL;
	memset(out, 0, sizeof(*out));
	out->proto = u->proto;
	if (msg_param_get(uri, mu.params, "transport", &v)) {
		enum tp_proto p = tp_proto_from_token(uri + v.off, v.len);
		if (!p)
			return EINVAL;
		out->proto = (uint8_t)p;
	}
	if (mu.scheme == MSG_URI_SIPS)
		return EPROTONOSUPPORT; /* TLS arrives later */
	uint16_t port = mu.port ? mu.port : 5060;
	if (mu.host_type == MSG_HOST_IPV4 || mu.host_type == MSG_HOST_IPV6)
		return tp_addr_set(&out->addr, uri + mu.host.off, mu.host.len, port);
	if (span_ieq(uri, mu.host, "localhost"))
		return tp_addr_set(&out->addr, "127.0.0.1", 9, port);
	return EHOSTUNREACH; /* host names need the RFC 3263 resolver */
}

int ua_dest(struct ua *u, const char *uri, struct tp_dest *out)
{
	if (u->has_proxy) {
		if (!u->proxy_known)
			return EHOSTUNREACH;
		*out = u->proxy_dest;
		return 0;
	}
	return ua_hop(u, uri, strlen(uri), out);
}

struct ua_lookup {
	struct ua *ua;
	bool proxy; /* the result is the outbound proxy's: keep it */
	ua_dest_fn *fn;
	void *arg;
	struct dns_query *q;
};

static void lookup_done(int err, const struct dns_target *t, unsigned n, void *arg)
{
	struct ua_lookup *lk = arg;
	struct ua *u = lk->ua;
	ua_dest_fn *fn = lk->fn;
	void *fa = lk->arg;
	bool proxy = lk->proxy;

	free(lk);
	if (!err && n == 0)
		err = ENOENT;
	if (!err && proxy) {
		u->proxy_dest = t[0].dest;
		u->proxy_known = true;
	}
	if (err)
		log_info("event=dns-failed err=%d", err);
	fn(err, err ? NULL : &t[0].dest, fa);
}

/* Resolve the host of URI s; proxy: the result is the outbound proxy's (kept). */
static struct ua_lookup *lookup(struct ua *u, const char *s, bool proxy, ua_dest_fn *fn, void *arg)
{
	struct msg_uri mu;
	struct span v;
	char host[DNS_MAX_NAME + 1];
	struct dns_req req = {.host = host, .proto = -1};

	if (!u->dns || ua_uri_parse(s, &mu) || mu.host.len == 0 || mu.host.len > DNS_MAX_NAME ||
	    (mu.scheme != MSG_URI_SIP && mu.scheme != MSG_URI_SIPS))
		return NULL;
	memcpy(host, s + mu.host.off, mu.host.len);
	host[mu.host.len] = 0;
	req.port = mu.port;
	req.sips = mu.scheme == MSG_URI_SIPS;
	if (msg_param_get(s, mu.params, "transport", &v))
		req.proto = tp_proto_from_token(s + v.off, v.len);
	struct ua_lookup *lk = calloc(1, sizeof(*lk));
	if (!lk)
		return NULL;
	*lk = (struct ua_lookup){.ua = u, .proxy = proxy, .fn = fn, .arg = arg};
	if (dns_resolve(u->dns, &req, lookup_done, lk, &lk->q)) {
		free(lk);
		return NULL;
	}
	return lk;
}

struct ua_lookup *ua_lookup(struct ua *u, const char *uri, ua_dest_fn *fn, void *arg)
{
	return lookup(u, u->has_proxy ? u->proxy_uri : uri, u->has_proxy, fn, arg);
}

struct ua_lookup *ua_lookup_uri(struct ua *u, const char *uri, ua_dest_fn *fn, void *arg)
{
	return lookup(u, uri, false, fn, arg);
}

void ua_lookup_cancel(struct ua_lookup *lk)
{
	if (!lk)
		return;
	dns_cancel(lk->q);
	free(lk);
}

/* The transaction layer sends through u->wrap: report, then hand to the real transport. */
static int wrap_send(struct tp *tp, const struct tp_dest *d, const char *data, size_t len)
{
	struct ua *u = (struct ua *)(void *)((char *)tp - offsetof(struct ua, wrap));
	struct ua_event ev = {
	    .type = UA_EV_SENT, .data = data, .len = len, .proto = d->proto, .peer = d->addr};

	ua_emit(u, &ev);
	return tp_send(u->tp, d, data, len);
}

static const struct tp_addr *wrap_local(struct tp *tp, enum tp_proto proto)
{
	struct ua *u = (struct ua *)(void *)((char *)tp - offsetof(struct ua, wrap));

	return u->tp->ops->local(u->tp, proto);
}

/* A malformed request gets its 400/505/513 without a transaction (§8.2, §21.4.1). */
static void reject_stateless(struct ua *u, struct tp_rx *rx, const struct msg_verdict *v)
{
	struct tp_dest d;
	struct msg *m = &rx->msg;
	char via[MSG_MAX_LINE], buf[4096 + MSG_MAX_LINE];
	struct msg_out o;

	if (m->method == MSG_METHOD_ACK || !msg_top_via(m) || tp_response_dest(rx, &d))
		return;
	int vl = tp_via_rewrite(rx, via, sizeof(via));
	msg_out_init(&o, buf, sizeof(buf));
	msg_out_response_via(&o, m, v->status, v->reason, msg_to(m) ? "bad" : NULL,
			     vl > 0 ? via : NULL, vl > 0 ? (size_t)vl : 0);
	if (msg_out_end(&o, NULL, 0) == 0)
		tp_send(&u->wrap, &d, buf, o.len);
}

/* Everything the transport receives: report it, check it, hand it to the transactions. */
static void ua_input(struct tp *tp, struct tp_rx *rx, void *arg)
{
	struct ua *u = arg;
	struct msg_verdict v;
	struct ua_event ev = {.type = UA_EV_RECEIVED,
			      .data = rx->buf,
			      .len = rx->len,
			      .proto = rx->proto,
			      .peer = rx->src};

	(void)tp;
	ua_emit(u, &ev);
	msg_validate(&rx->msg, 0, ua_supported, &v);
	if (v.drop)
		return;
	if (v.malformed) {
		log_info_rl("event=bad-message status=%u reason=\"%s\"", v.status,
			    v.reason ? v.reason : "");
		reject_stateless(u, rx, &v);
		return;
	}
	tsx_layer_input(u->layer, rx);
}

const char ua_allow_hdr[] = "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE\r\n";

/* "Unsupported: a, b\r\n" for the Require tags of m (§8.2.2.3; we support none). */
static void unsupported_hdr(struct msg *m, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = 0;
	for (const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_REQUIRE); h;
	     h = msg_hdr_next(m, h)) {
		int w =
		    snprintf(out + n, cap - n, "%s%.*s",
			     n ? ", " : "Unsupported: ", (int)h->value.len, m->buf + h->value.off);
		if (w < 0 || (size_t)w + 3 >= cap - n) {
			out[n] = 0;
			break;
		}
		n += (size_t)w;
	}
	if (n)
		memcpy(out + n, "\r\n", 3);
}

static void on_request(struct tsx *t, struct tp_rx *rx, void *arg)
{
	struct ua *u = arg;
	struct msg *m = &rx->msg;
	struct msg_verdict v;

	if (m->method != MSG_METHOD_CANCEL && !msg_role_verdict(m, 0, ua_supported, &v)) {
		char hdrs[512] = "";
		if (v.status == 420)
			unsupported_hdr(m, hdrs, sizeof(hdrs));
		ua_respond(t, v.status, v.reason, hdrs[0] ? hdrs : NULL);
		return;
	}
	const struct msg_nameaddr *to = msg_to(m);
	bool in_dialog = to && to->has_tag;
	switch (m->method) {
	case MSG_METHOD_MESSAGE:
		if (!in_dialog) {
			ua_req_message_in(u, t, rx);
			return;
		}
		break;
	case MSG_METHOD_OPTIONS:
		if (!in_dialog) {
			ua_req_options_in(u, t, rx);
			return;
		}
		break;
	case MSG_METHOD_INVITE:
	case MSG_METHOD_BYE:
	case MSG_METHOD_CANCEL:
		break;
	default:
		if (!in_dialog) {
			ua_respond(t, m->method == MSG_METHOD_OTHER ? 501 : 405, NULL,
				   ua_allow_hdr);
			return;
		}
	}
	ua_call_request(u, t, rx);
}

static void on_stray_request(struct tsx_layer *l, struct tp_rx *rx, void *arg)
{
	(void)l;
	ua_call_stray_request(arg, rx);
}

static void on_stray_response(struct tsx_layer *l, struct tp_rx *rx, void *arg)
{
	(void)l;
	ua_call_stray_response(arg, rx);
}

static void on_server_fail(struct tsx *t, int err, void *arg)
{
	ua_call_server_fail(arg, t, err);
}

int ua_with_scheme(const char *s, char *out, size_t cap)
{
	bool has =
	    !strncasecmp(s, "sip:", 4) || !strncasecmp(s, "sips:", 5) || !strncasecmp(s, "tel:", 4);
	int n = snprintf(out, cap, "%s%s", has ? "" : "sip:", s);

	return n > 0 && (size_t)n < cap ? 0 : EINVAL;
}

/* AOR, user, registrar URI ("sip:" host[:port]) and auth user from the settings. */
static int set_identity(struct ua *u, const struct ua_conf *c)
{
	struct msg_uri mu;
	char host[80];

	if (c->aor) {
		if (ua_with_scheme(c->aor, u->aor, sizeof(u->aor)))
			return EINVAL;
	} else {
		tp_addr_str(&u->local, host, sizeof(host));
		snprintf(u->aor, sizeof(u->aor), "sip:ringlet@%s", host);
	}
	if (ua_uri_parse(u->aor, &mu) || (mu.scheme != MSG_URI_SIP && mu.scheme != MSG_URI_SIPS) ||
	    !mu.has_user || mu.host.len == 0)
		return EINVAL;
	ua_span_copy(u->aor, mu.user, u->aor_user, sizeof(u->aor_user));
	snprintf(u->aor_domain, sizeof(u->aor_domain), "%.*s:%.*s%s%.*s", (int)mu.scheme_s.len,
		 u->aor + mu.scheme_s.off, (int)mu.host.len, u->aor + mu.host.off,
		 mu.port_s.len ? ":" : "", (int)mu.port_s.len, u->aor + mu.port_s.off);
	snprintf(u->auth_user, sizeof(u->auth_user), "%s",
		 c->auth_user ? c->auth_user : u->aor_user);
	if (c->password) {
		if (strlen(c->password) >= sizeof(u->password))
			return EINVAL;
		strcpy(u->password, c->password);
		u->has_password = true;
	}
	tp_addr_str(&u->local, host, sizeof(host));
	snprintf(u->contact, sizeof(u->contact), "<sip:%s@%s%s>", u->aor_user, host,
		 u->proto == TP_TCP ? ";transport=tcp" : "");
	return 0;
}

/* The outbound proxy: its address, and the Route every request carries (§8.1.2). */
static int set_proxy(struct ua *u, const char *proxy)
{
	char p[UA_URI_MAX];
	struct msg_uri mu;
	struct span v;

	if (ua_with_scheme(proxy, p, sizeof(p)) || ua_uri_parse(p, &mu))
		return EINVAL;
	int err = ua_hop(u, p, strlen(p), &u->proxy_dest);
	if (err == EHOSTUNREACH && u->dns)
		u->proxy_named = true; /* resolved when the first request goes out */
	else if (err)
		return err;
	u->has_proxy = true;
	u->proxy_known = !u->proxy_named;
	snprintf(u->proxy_uri, sizeof(u->proxy_uri), "%s", p);
	bool lr = msg_param_get(p, mu.params, "lr", &v);
	size_t end = mu.headers.len ? mu.headers.off - 1 : strlen(p);
	snprintf(u->route, sizeof(u->route), "Route: <%.*s%s>\r\n", (int)end, p, lr ? "" : ";lr");
	return 0;
}

/* The transport: the one given, or sockets of our own on the listen address. */
static int set_transport(struct ua *u, const struct ua_conf *c)
{
	struct tp_addr a = c->listen;
	const struct tp_addr *b;
	int err;

	u->proto = c->proto ? c->proto : TP_UDP;
	if (c->tp) {
		u->tp = c->tp;
		u->tp->recv = ua_input;
		u->tp->recv_arg = u;
	} else {
		if (a.u.sa.sa_family == 0)
			tp_addr_set(&a, "127.0.0.1", 9, 0);
		err = tp_sock_alloc(&u->tp, u->loop, NULL, ua_input, u);
		if (err)
			return err;
		u->own_tp = true;
		struct tp_addr bound;
		err = tp_sock_listen(u->tp, (enum tp_proto)u->proto, &a, &bound);
		if (err)
			return err;
		/* the other transport on the same port when it is free, so a
		 * ;transport= of either kind works (RFC 3261 §18: UAs do UDP and TCP) */
		if (tp_sock_listen(u->tp, u->proto == TP_UDP ? TP_TCP : TP_UDP, &bound, NULL))
			log_debug("event=second-transport-busy");
	}
	b = u->tp->ops->local(u->tp, (enum tp_proto)u->proto);
	if (!b)
		return EINVAL;
	u->local = *b;
	return 0;
}

static const struct tsx_tu ua_tu = {
    .request = on_request,
    .stray_request = on_stray_request,
    .stray_response = on_stray_response,
    .server_fail = on_server_fail,
};

int ua_alloc(struct ua **out, struct loop *l, const struct ua_conf *c)
{
	struct ua *u = calloc(1, sizeof(*u));
	struct tsx_tu tu = ua_tu;
	int err;

	if (!u)
		return ENOMEM;
	u->loop = l;
	u->start = loop_now(l);
	u->event = c->event;
	u->arg = c->arg;
	u->expires = c->expires ? c->expires : 3600;
	u->t1 = c->tsx.t1 ? c->tsx.t1 : 500;
	u->t2 = c->tsx.t2 ? c->tsx.t2 : 4000;
	list_init(&u->calls);
	list_init(&u->reqs);
	loop_timer_init(&u->reg.refresh);
	if (c->tsx.seed)
		u->rng = c->tsx.seed ^ 0x5ca1ab1eull;
	else if (getrandom(&u->rng, sizeof(u->rng), 0) != sizeof(u->rng))
		u->rng = (uint64_t)(uintptr_t)u ^ loop_now(l);
	err = dlg_table_alloc(&u->dlgs, 16);
	if (!err && c->dns) {
		struct dns_conf dc = {.server = c->dns};
		err = dns_alloc(&u->dns, l, &dc);
	}
	if (!err)
		err = set_transport(u, c);
	if (!err)
		err = set_identity(u, c);
	if (!err && c->proxy)
		err = set_proxy(u, c->proxy);
	u->wrap_ops.send = wrap_send;
	u->wrap_ops.local = wrap_local;
	u->wrap.ops = &u->wrap_ops;
	tu.arg = u;
	if (!err)
		err = tsx_layer_alloc(&u->layer, NULL, 0, l, &u->wrap, &c->tsx, &tu);
	if (err) {
		ua_free(u);
		return err;
	}
	*out = u;
	return 0;
}

void ua_free(struct ua *u)
{
	if (!u)
		return;
	u->freeing = true;
	ua_calls_free(u);
	ua_reg_free(u);
	ua_reqs_free(u);
	mem_deref(u->dlgs);
	dns_free(u->dns);
	if (u->layer)
		tsx_layer_free(u->layer);
	if (u->own_tp)
		tp_sock_free(u->tp);
	else if (u->tp)
		u->tp->recv = NULL;
	ua_chal_free(u);
	free(u->play_in);
	free(u->record_in);
	free(u);
}

const struct tp_addr *ua_local(const struct ua *u)
{
	return &u->local;
}

const char *ua_aor(const struct ua *u)
{
	return u->aor;
}
