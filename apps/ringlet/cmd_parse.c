/*
 * cmd_parse.c - `ringlet parse [FILE|-]`: read one SIP message as one UDP
 * datagram, check it as the server would, and print its structure as JSON or
 * the one-line verdict for a malformed message (DESIGN.md, "ringlet parse").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "ringlet.h"
#include "ringlet/msg.h"
#include "ringlet/msg_sdp.h"

/* Read at most cap bytes of f into buf; *trunc is set when more was there. */
static size_t read_all(FILE *f, char *buf, size_t cap, bool *trunc)
{
	size_t n = 0, r;
	while (n < cap && (r = fread(buf + n, 1, cap - n, f)) > 0)
		n += r;
	*trunc = n == cap && fgetc(f) != EOF;
	return n;
}

static void put_span(struct json *j, const char *key, const char *buf, struct span s)
{
	json_strn(j, key, buf + s.off, s.len);
}

/* Span, or null when empty. */
static void put_opt(struct json *j, const char *key, const char *buf, struct span s)
{
	if (s.len)
		put_span(j, key, buf, s);
	else
		json_null(j, key);
}

static void put_params(struct json *j, const char *key, const char *buf, struct span params)
{
	struct span name, value;
	uint32_t pos = 0;
	json_arr_begin(j, key);
	while (params.len && msg_param_next(buf, params, &pos, &name, &value)) {
		json_obj_begin(j, NULL);
		put_span(j, "name", buf, name);
		put_opt(j, "value", buf, value);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static const char *scheme_name(const struct msg_uri *u)
{
	switch (u->scheme) {
	case MSG_URI_SIP:
		return "sip";
	case MSG_URI_SIPS:
		return "sips";
	case MSG_URI_TEL:
		return "tel";
	default:
		return "other";
	}
}

static const char *host_type_name(uint8_t t)
{
	switch (t) {
	case MSG_HOST_NAME:
		return "name";
	case MSG_HOST_IPV4:
		return "ipv4";
	case MSG_HOST_IPV6:
		return "ipv6";
	default:
		return "none";
	}
}

static void put_uri(struct json *j, const char *key, const char *buf, const struct msg_uri *u)
{
	json_obj_begin(j, key);
	put_span(j, "uri", buf, u->whole);
	json_str(j, "scheme", scheme_name(u));
	if (u->scheme == MSG_URI_OTHER) {
		put_span(j, "scheme_name", buf, u->scheme_s);
		put_span(j, "opaque", buf, u->opaque);
		json_obj_end(j);
		return;
	}
	if (u->scheme == MSG_URI_TEL) {
		put_span(j, "number", buf, u->user);
	} else {
		if (u->has_user)
			put_span(j, "user", buf, u->user);
		else
			json_null(j, "user");
		if (u->has_password)
			put_span(j, "password", buf, u->password);
		put_span(j, "host", buf, u->host);
		json_str(j, "host_type", host_type_name(u->host_type));
		if (u->port)
			json_int(j, "port", u->port);
		else
			json_null(j, "port");
	}
	put_params(j, "params", buf, u->params);
	put_opt(j, "headers", buf, u->headers);
	json_obj_end(j);
}

static void put_nameaddr(struct json *j, const char *buf, const struct msg_nameaddr *na)
{
	put_opt(j, "display", buf, na->display);
	put_uri(j, "uri", buf, &na->uri);
	if (na->has_tag)
		put_span(j, "tag", buf, na->tag);
	put_params(j, "params", buf, na->params);
}

static void put_via(struct json *j, const char *buf, struct span v)
{
	struct msg_via via;
	if (msg_via_parse(buf, v, &via)) {
		json_null(j, "parsed");
		return;
	}
	json_obj_begin(j, "parsed");
	put_span(j, "protocol", buf, via.proto_name);
	put_span(j, "protocol_version", buf, via.proto_ver);
	put_span(j, "transport", buf, via.transport);
	put_span(j, "host", buf, via.host);
	json_str(j, "host_type", host_type_name(via.host_type));
	if (via.port)
		json_int(j, "port", via.port);
	else
		json_null(j, "port");
	put_opt(j, "branch", buf, via.branch);
	put_opt(j, "received", buf, via.received);
	if (via.rport < 0)
		json_null(j, "rport");
	else if (via.rport == 0)
		json_bool(j, "rport", true);
	else
		json_int(j, "rport", via.rport);
	put_opt(j, "maddr", buf, via.maddr);
	if (via.ttl >= 0)
		json_int(j, "ttl", via.ttl);
	put_params(j, "params", buf, via.params);
	json_obj_end(j);
}

static void put_auth(struct json *j, const char *buf, struct span v)
{
	struct msg_auth a;
	if (msg_auth_parse(buf, v, &a)) {
		json_null(j, "parsed");
		return;
	}
	json_obj_begin(j, "parsed");
	put_span(j, "scheme", buf, a.scheme);
	static const struct {
		const char *name;
		size_t off;
	} f[] = {
		{"realm", offsetof(struct msg_auth, realm)},
		{"nonce", offsetof(struct msg_auth, nonce)},
		{"opaque", offsetof(struct msg_auth, opaque)},
		{"algorithm", offsetof(struct msg_auth, algorithm)},
		{"qop", offsetof(struct msg_auth, qop)},
		{"domain", offsetof(struct msg_auth, domain)},
		{"stale", offsetof(struct msg_auth, stale)},
		{"username", offsetof(struct msg_auth, username)},
		{"uri", offsetof(struct msg_auth, uri)},
		{"response", offsetof(struct msg_auth, response)},
		{"cnonce", offsetof(struct msg_auth, cnonce)},
		{"nc", offsetof(struct msg_auth, nc)},
		{"userhash", offsetof(struct msg_auth, userhash)},
	};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		const struct span *s = (const struct span *)((const char *)&a + f[i].off);
		if (s->len)
			put_span(j, f[i].name, buf, *s);
	}
	put_opt(j, "params", buf, a.params);
	json_obj_end(j);
}

static void put_uint(struct json *j, const char *buf, struct span v, uint32_t max)
{
	uint32_t n;
	if (msg_uint_parse(buf, v, max, &n))
		json_null(j, "parsed");
	else
		json_int(j, "parsed", n);
}

/* The typed view of one header element, as "parsed"; omitted for untyped ones. */
static void put_typed(struct json *j, const char *buf, const struct msg_hdr *h)
{
	union {
		struct msg_nameaddr na;
		struct msg_contact c;
		struct msg_cseq cseq;
		struct msg_ctype ct;
		struct msg_retry_after ra;
		struct msg_event ev;
		struct msg_substate ss;
		struct span s;
	} u;
	switch (h->id) {
	case MSG_HDR_VIA:
		put_via(j, buf, h->value);
		break;
	case MSG_HDR_FROM:
	case MSG_HDR_TO:
	case MSG_HDR_ROUTE:
	case MSG_HDR_RECORD_ROUTE:
	case MSG_HDR_PATH:
	case MSG_HDR_SERVICE_ROUTE:
	case MSG_HDR_REPLY_TO:
	case MSG_HDR_REFER_TO:
	case MSG_HDR_REFERRED_BY:
		if (msg_nameaddr_parse(buf, h->value, &u.na)) {
			json_null(j, "parsed");
			break;
		}
		json_obj_begin(j, "parsed");
		put_nameaddr(j, buf, &u.na);
		json_obj_end(j);
		break;
	case MSG_HDR_CONTACT:
		if (msg_contact_parse(buf, h->value, &u.c)) {
			json_null(j, "parsed");
			break;
		}
		json_obj_begin(j, "parsed");
		json_bool(j, "star", u.c.star);
		if (!u.c.star) {
			put_nameaddr(j, buf, &u.c.na);
			if (u.c.expires >= 0)
				json_int(j, "expires", u.c.expires);
			if (u.c.q >= 0)
				json_int(j, "q_milli", u.c.q);
		}
		json_obj_end(j);
		break;
	case MSG_HDR_CSEQ:
		if (msg_cseq_parse(buf, h->value, &u.cseq)) {
			json_null(j, "parsed");
			break;
		}
		json_obj_begin(j, "parsed");
		json_int(j, "number", u.cseq.num);
		put_span(j, "method", buf, u.cseq.method);
		json_obj_end(j);
		break;
	case MSG_HDR_CALL_ID:
		if (msg_callid_parse(buf, h->value, &u.s))
			json_null(j, "parsed");
		else
			put_span(j, "parsed", buf, u.s);
		break;
	case MSG_HDR_MAX_FORWARDS:
		put_uint(j, buf, h->value, 255);
		break;
	case MSG_HDR_CONTENT_LENGTH:
	case MSG_HDR_EXPIRES:
	case MSG_HDR_MIN_EXPIRES:
		put_uint(j, buf, h->value, UINT32_MAX);
		break;
	case MSG_HDR_ALLOW:
	case MSG_HDR_SUPPORTED:
	case MSG_HDR_REQUIRE:
	case MSG_HDR_PROXY_REQUIRE:
	case MSG_HDR_UNSUPPORTED:
	case MSG_HDR_ALLOW_EVENTS:
	case MSG_HDR_CONTENT_ENCODING:
		if (msg_token_parse(buf, h->value, &u.s))
			json_null(j, "parsed");
		else
			put_span(j, "parsed", buf, u.s);
		break;
	case MSG_HDR_CONTENT_TYPE:
		if (msg_ctype_parse(buf, h->value, &u.ct)) {
			json_null(j, "parsed");
			break;
		}
		json_obj_begin(j, "parsed");
		put_span(j, "type", buf, u.ct.type);
		put_span(j, "subtype", buf, u.ct.subtype);
		put_params(j, "params", buf, u.ct.params);
		json_obj_end(j);
		break;
	case MSG_HDR_RETRY_AFTER:
		if (msg_retry_after_parse(buf, h->value, &u.ra)) {
			json_null(j, "parsed");
			break;
		}
		json_obj_begin(j, "parsed");
		json_int(j, "seconds", u.ra.seconds);
		put_opt(j, "comment", buf, u.ra.comment);
		if (u.ra.duration >= 0)
			json_int(j, "duration", u.ra.duration);
		json_obj_end(j);
		break;
	case MSG_HDR_EVENT:
		if (msg_event_parse(buf, h->value, &u.ev)) {
			json_null(j, "parsed");
			break;
		}
		json_obj_begin(j, "parsed");
		put_span(j, "package", buf, u.ev.package);
		put_opt(j, "id", buf, u.ev.id);
		json_obj_end(j);
		break;
	case MSG_HDR_SUBSCRIPTION_STATE:
		if (msg_substate_parse(buf, h->value, &u.ss)) {
			json_null(j, "parsed");
			break;
		}
		json_obj_begin(j, "parsed");
		put_span(j, "state", buf, u.ss.state);
		put_opt(j, "reason", buf, u.ss.reason);
		if (u.ss.expires >= 0)
			json_int(j, "expires", u.ss.expires);
		if (u.ss.retry_after >= 0)
			json_int(j, "retry_after", u.ss.retry_after);
		json_obj_end(j);
		break;
	case MSG_HDR_WWW_AUTHENTICATE:
	case MSG_HDR_PROXY_AUTHENTICATE:
	case MSG_HDR_AUTHORIZATION:
	case MSG_HDR_PROXY_AUTHORIZATION:
		put_auth(j, buf, h->value);
		break;
	default:
		break;
	}
}

static void put_verdict(struct json *j, const char *buf, const struct msg_verdict *v)
{
	json_obj_begin(j, "verdict");
	if (v->status == 0) {
		json_str(j, "action", "process");
	} else {
		json_str(j, "action", "respond");
		json_int(j, "status", v->status);
		json_str(j, "reason", v->reason ? v->reason : msg_reason_phrase(v->status));
		if (v->unsupported.len)
			put_span(j, "unsupported", buf, v->unsupported);
	}
	json_obj_end(j);
}

static const char *dir_name(enum msg_sdp_dir d)
{
	switch (d) {
	case MSG_SDP_SENDONLY:
		return "sendonly";
	case MSG_SDP_RECVONLY:
		return "recvonly";
	case MSG_SDP_INACTIVE:
		return "inactive";
	default:
		return "sendrecv";
	}
}

static void put_conn(struct json *j, const char *key, const char *buf,
		     const struct msg_sdp_conn *c)
{
	if (!c || !c->present) {
		json_null(j, key);
		return;
	}
	json_obj_begin(j, key);
	put_span(j, "addrtype", buf, c->addrtype);
	put_span(j, "address", buf, c->addr);
	if (c->ttl)
		json_int(j, "ttl", c->ttl);
	json_obj_end(j);
}

/* The SDP body (RFC 4566), with the codecs of each m= line resolved. */
static void put_sdp(struct json *j, const char *buf, struct span body)
{
	struct msg_sdp *sdp = malloc(sizeof(*sdp));
	if (!sdp || msg_sdp_parse(sdp, buf, body)) {
		json_null(j, "sdp");
		free(sdp);
		return;
	}
	json_obj_begin(j, "sdp");
	json_obj_begin(j, "origin");
	put_span(j, "user", buf, sdp->origin.user);
	json_int(j, "session_id", (int64_t)sdp->origin.sess_id);
	json_int(j, "session_version", (int64_t)sdp->origin.sess_ver);
	put_span(j, "address", buf, sdp->origin.addr);
	json_obj_end(j);
	put_opt(j, "name", buf, sdp->name);
	put_conn(j, "connection", buf, &sdp->conn);
	json_arr_begin(j, "media");
	for (unsigned i = 0; i < sdp->nmedia; i++) {
		const struct msg_sdp_media *m = &sdp->media[i];
		json_obj_begin(j, NULL);
		put_span(j, "type", buf, m->type);
		json_int(j, "port", m->port);
		put_span(j, "proto", buf, m->proto);
		put_conn(j, "connection", buf, msg_sdp_conn(sdp, m));
		json_str(j, "direction", dir_name(msg_sdp_dir(sdp, m)));
		json_arr_begin(j, "formats");
		for (unsigned k = 0; k < m->nfmts; k++) {
			struct msg_sdp_rtpmap rm;
			json_obj_begin(j, NULL);
			put_span(j, "format", buf, m->fmts[k]);
			if (!msg_sdp_fmt_codec(sdp, m, k, &rm)) {
				json_strn(j, "codec", rm.name.p, rm.name.len);
				json_int(j, "rate", rm.rate);
				if (rm.channels > 1)
					json_int(j, "channels", rm.channels);
			}
			json_obj_end(j);
		}
		json_arr_end(j);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
	free(sdp);
}

static bool is_sdp(struct msg *m)
{
	const struct msg_hdr *h = msg_hdr_find(m, MSG_HDR_CONTENT_TYPE);
	struct msg_ctype ct;
	return h && !msg_ctype_parse(m->buf, h->value, &ct) &&
	       span_ieq(m->buf, ct.type, "application") && span_ieq(m->buf, ct.subtype, "sdp");
}

static void put_message(struct json *j, struct msg *m, size_t total)
{
	const char *buf = m->buf;
	json_obj_begin(j, NULL);
	if (m->is_request) {
		json_str(j, "type", "request");
		put_span(j, "method", buf, m->method_s);
		const struct msg_uri *ru = msg_ruri(m);
		if (ru)
			put_uri(j, "request_uri", buf, ru);
		else
			put_span(j, "request_uri", buf, m->ruri_s);
	} else {
		json_str(j, "type", "response");
		json_int(j, "status", m->status);
		put_span(j, "reason", buf, m->reason);
	}
	put_span(j, "version", buf, m->version);
	json_arr_begin(j, "headers");
	for (uint16_t i = 0; i < m->nhdrs; i++) {
		const struct msg_hdr *h = &m->hdrs[i];
		json_obj_begin(j, NULL);
		put_span(j, "name", buf, h->name);
		if (h->id != MSG_HDR_OTHER)
			json_str(j, "header", msg_hdr_name(h->id));
		else
			json_null(j, "header");
		put_span(j, "value", buf, h->value);
		put_typed(j, buf, h);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_begin(j, "body");
	json_int(j, "length", m->body.len);
	if (m->body.len)
		put_span(j, "text", buf, m->body);
	if (m->body.len && is_sdp(m))
		put_sdp(j, buf, m->body);
	json_obj_end(j);
	json_int(j, "message_bytes", m->len);
	json_int(j, "ignored_bytes", (int64_t)total - (int64_t)m->len);
}

int cmd_parse(int argc, char **argv)
{
	const char *path = "-";
	bool compact = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--compact")) {
			compact = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: ringlet parse [--compact] [FILE|-]\n"
			       "Parse one SIP message as one UDP datagram, as the server would.\n"
			       "Malformed: prints 'invalid: CODE REASON' (or 'invalid: drop'),"
			       " exit 1.\nWell-formed: prints its structure as JSON, exit 0.\n");
			return EXIT_OK;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "ringlet parse: unknown option '%s'; see ringlet parse --help\n",
				argv[i]);
			return EXIT_USAGE;
		} else {
			path = argv[i];
		}
	}
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		fprintf(stderr, "ringlet parse: cannot open %s: %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	/* A datagram is at most 65535 octets; anything longer is too large anyway. */
	size_t cap = MSG_MAX_SIZE + 1;
	char *buf = malloc(cap);
	struct msg *m = malloc(sizeof(*m));
	int rc = EXIT_USAGE;
	if (!buf || !m) {
		fprintf(stderr, "ringlet parse: out of memory\n");
		goto out;
	}
	bool trunc;
	size_t n = read_all(f, buf, cap, &trunc);
	if (ferror(f)) {
		fprintf(stderr, "ringlet parse: cannot read %s: %s\n", path, strerror(errno));
		goto out;
	}
	bool looks_response = n >= 4 && !memcmp(buf, "SIP/", 4);
	size_t used = 0;
	int err = trunc ? EMSGSIZE : msg_parse(m, buf, n, MSG_PARSE_DGRAM, &used);
	rc = EXIT_FAIL;
	if (err == EMSGSIZE) {
		if (looks_response)
			printf("invalid: drop\n");
		else
			printf("invalid: 513 %s\n", msg_reason_phrase(513));
		goto out;
	}
	if (err) {
		if (looks_response)
			printf("invalid: drop\n");
		else
			printf("invalid: 400 %s\n", msg_reason_phrase(400));
		goto out;
	}
	struct msg_verdict v;
	msg_validate(m, MSG_V_ALL | MSG_V_PROXY, NULL, &v);
	if (v.malformed) {
		if (v.drop || !m->is_request)
			printf("invalid: drop\n");
		else
			printf("invalid: %u %s\n", v.status,
			       v.reason ? v.reason : msg_reason_phrase(v.status));
		goto out;
	}
	struct json j;
	json_init(&j, stdout, !compact);
	put_message(&j, m, n);
	put_verdict(&j, buf, &v);
	json_obj_end(&j);
	json_end(&j);
	rc = EXIT_OK;
out:
	if (f && f != stdin)
		fclose(f);
	free(buf);
	free(m);
	return rc;
}
