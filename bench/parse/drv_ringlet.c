/*
 * drv_ringlet.c - bench-parse driver for Ringlet's own parser (src/msg/).
 *
 * A full parse is msg_parse (one datagram: start line, every header element
 * with its id, name and value, the body) + msg_validate(MSG_V_ALL) + msg_ruri.
 * With MSG_V_ALL, msg_validate typed-parses EVERY element of every header that
 * has a grammar, once, into typed structs (the first Via, From, To and CSeq
 * into the message's cache, the others into structs on its stack that it then
 * drops), and with it every URI inside them (name-addr headers: From, To,
 * Contact, Route, Record-Route, ...); it also parses the Request-URI into the
 * cache, so msg_ruri below only reads it.  Free-text headers (Subject, Server,
 * User-Agent) and unknown ones are kept as the name/value spans msg_parse
 * found, as the peers keep theirs as strings.
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

static int drv_parse(void *ctx, const char *buf, size_t len, uint64_t *sink, const char **why)
{
	struct msg *m = ctx;
	struct msg_verdict v;
	const struct msg_uri *ruri;
	const struct msg_via *via;
	const struct msg_cseq *cseq;
	size_t used;
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
	if (m->is_request) {
		ruri = msg_ruri(m);
		if (ruri == NULL) {
			if (why != NULL)
				*why = "msg_ruri";
			return EBADMSG;
		}
		*sink += ruri->host.len;
	}
	/* validate has cached these: reading them costs nothing more */
	via = msg_top_via(m);
	cseq = msg_cseq(m);
	if (via == NULL || cseq == NULL) {
		if (why != NULL)
			*why = "msg_top_via/msg_cseq";
		return EBADMSG;
	}
	*sink += used + via->branch.len + cseq->num;
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
