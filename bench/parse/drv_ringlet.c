/*
 * drv_ringlet.c - bench-parse driver for Ringlet's own parser (src/msg/).
 *
 * A full parse is: msg_parse (one datagram) + msg_validate(MSG_V_ALL) + the
 * typed parse of EVERY header element whose id has a typed parser, into
 * structs on the stack, + msg_ruri.  The name-addr parsers (From, To, Contact,
 * Route, Record-Route, ...) parse the URI inside them too.  Headers without a
 * typed parser (Date, Session-Expires, Server, unknown ones) are kept as the
 * name/value spans msg_parse found, as the peers keep theirs as strings.
 *
 * The one struct msg is allocated once in init and reused: msg_parse needs no
 * other memory, so the timed loop allocates nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "ringlet/msg.h"

#include "bench_parse.h"

static int drv_init(void **ctx)
{
	*ctx = calloc(1, sizeof(struct msg));
	return *ctx != NULL ? 0 : ENOMEM;
}

/* Results of the typed parsers; only one is live at a time. */
union typed {
	struct msg_via via;
	struct msg_nameaddr na;
	struct msg_contact contact;
	struct msg_cseq cseq;
	struct msg_ctype ctype;
	struct msg_auth auth;
	struct msg_event event;
	struct msg_substate substate;
	struct msg_retry_after retry;
	struct span s;
	uint32_t u;
};

/*
 * Typed parse of one header element.  Returns 0 (also for ids without a typed
 * parser) or the parser's error; adds a value of the result to *sink.
 */
static int parse_typed(const char *buf, const struct msg_hdr *h, uint64_t *sink)
{
	union typed t;
	int rc;

	switch ((enum msg_hdr_id)h->id) {
	case MSG_HDR_VIA:
		rc = msg_via_parse(buf, h->value, &t.via);
		*sink += t.via.port + t.via.branch.len;
		return rc;
	case MSG_HDR_FROM:
	case MSG_HDR_TO:
	case MSG_HDR_ROUTE:
	case MSG_HDR_RECORD_ROUTE:
	case MSG_HDR_PATH:
	case MSG_HDR_SERVICE_ROUTE:
	case MSG_HDR_REPLY_TO:
	case MSG_HDR_REFER_TO:
	case MSG_HDR_REFERRED_BY:
		rc = msg_nameaddr_parse(buf, h->value, &t.na);
		*sink += t.na.uri.host.len + t.na.tag.len;
		return rc;
	case MSG_HDR_CONTACT:
		rc = msg_contact_parse(buf, h->value, &t.contact);
		*sink += (uint64_t)t.contact.expires + t.contact.na.uri.host.len;
		return rc;
	case MSG_HDR_CSEQ:
		rc = msg_cseq_parse(buf, h->value, &t.cseq);
		*sink += t.cseq.num;
		return rc;
	case MSG_HDR_CALL_ID:
		rc = msg_callid_parse(buf, h->value, &t.s);
		*sink += t.s.len;
		return rc;
	case MSG_HDR_MAX_FORWARDS:
		rc = msg_uint_parse(buf, h->value, 255, &t.u);
		*sink += t.u;
		return rc;
	case MSG_HDR_CONTENT_LENGTH:
	case MSG_HDR_EXPIRES:
	case MSG_HDR_MIN_EXPIRES:
	case MSG_HDR_RSEQ:
		rc = msg_uint_parse(buf, h->value, UINT32_MAX, &t.u);
		*sink += t.u;
		return rc;
	case MSG_HDR_CONTENT_TYPE:
	case MSG_HDR_ACCEPT: /* media-range: the Content-Type grammar, '*' is a token */
		rc = msg_ctype_parse(buf, h->value, &t.ctype);
		*sink += t.ctype.subtype.len;
		return rc;
	case MSG_HDR_ALLOW:
	case MSG_HDR_SUPPORTED:
	case MSG_HDR_REQUIRE:
	case MSG_HDR_PROXY_REQUIRE:
	case MSG_HDR_UNSUPPORTED:
	case MSG_HDR_ALLOW_EVENTS:
	case MSG_HDR_CONTENT_ENCODING:
		rc = msg_token_parse(buf, h->value, &t.s);
		*sink += t.s.len;
		return rc;
	case MSG_HDR_EVENT:
		rc = msg_event_parse(buf, h->value, &t.event);
		*sink += t.event.package.len;
		return rc;
	case MSG_HDR_SUBSCRIPTION_STATE:
		rc = msg_substate_parse(buf, h->value, &t.substate);
		*sink += (uint64_t)t.substate.expires;
		return rc;
	case MSG_HDR_RETRY_AFTER:
		rc = msg_retry_after_parse(buf, h->value, &t.retry);
		*sink += t.retry.seconds;
		return rc;
	case MSG_HDR_AUTHORIZATION:
	case MSG_HDR_PROXY_AUTHORIZATION:
	case MSG_HDR_WWW_AUTHENTICATE:
	case MSG_HDR_PROXY_AUTHENTICATE:
		rc = msg_auth_parse(buf, h->value, &t.auth);
		*sink += t.auth.nonce.len;
		return rc;
	default:
		return 0;
	}
}

static int drv_parse(void *ctx, const char *buf, size_t len, uint64_t *sink, const char **why)
{
	struct msg *m = ctx;
	struct msg_verdict v;
	const struct msg_uri *ruri;
	size_t used;
	uint16_t i;
	int rc;

	rc = msg_parse(m, buf, len, MSG_PARSE_DGRAM, &used);
	if (rc != 0) {
		if (why != NULL)
			*why = "msg_parse";
		return rc;
	}
	if (!msg_validate(m, MSG_V_ALL, NULL, &v)) {
		if (why != NULL)
			*why = v.reason != NULL ? v.reason : "msg_validate";
		return EBADMSG;
	}
	for (i = 0; i < m->nhdrs; i++) {
		rc = parse_typed(m->buf, &m->hdrs[i], sink);
		if (rc != 0) {
			if (why != NULL)
				*why = msg_hdr_name((enum msg_hdr_id)m->hdrs[i].id);
			return rc;
		}
	}
	if (m->is_request) {
		ruri = msg_ruri(m);
		if (ruri == NULL) {
			if (why != NULL)
				*why = "msg_ruri";
			return EBADMSG;
		}
		*sink += ruri->host.len;
	}
	*sink += used;
	return 0;
}

static void drv_fini(void *ctx)
{
	free(ctx);
}

const struct bench_driver bench_ringlet = {
	.name = "ringlet",
	.init = drv_init,
	.parse = drv_parse,
	.fini = drv_fini,
};
