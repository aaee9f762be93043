/*
 * drv_sofia.c - bench-parse driver for sofia-sip (libsofia-sip-ua, msg/sip).
 *
 * The message is parsed the way sofia's own transport layer does it: a msg_t
 * of the default SIP class, the bytes copied into its buffer
 * (msg_buf_alloc + memcpy + msg_buf_commit with end-of-stream), then
 * msg_extract().  msg_extract parses the start line (the Request-URI into a
 * url_t) and every header the class knows into its typed struct (Via,
 * From/To and their URIs, Contact, Route, CSeq, Max-Forwards, Expires, Event,
 * Subscription-State, the auth headers, the token lists ...); unknown headers
 * (P-Asserted-Identity is not in the default class) stay generic.  A header
 * that fails its parser is not fatal to sofia: it lands in sip_error, so the
 * driver counts that as a failure too.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/msg_buffer.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>

#include "bench_parse.h"

static int drv_init(void **ctx)
{
	*ctx = (void *)sip_default_mclass();
	return *ctx != NULL ? 0 : EIO;
}

/* Did sofia accept the whole message?  Returns a reason or NULL. */
static const char *check(msg_t *msg, const sip_t *sip)
{
	uint32_t clen;
	uint32_t plen;

	if (sip == NULL)
		return "no sip_t";
	if (msg_get_flags(msg, MSG_FLG_ERROR) != 0 || msg_extract_errors(msg) != 0 ||
	    sip->sip_error != NULL)
		return "header in error";
	if (sip->sip_request != NULL) {
		if (sip->sip_request->rq_url->url_host == NULL)
			return "request URI not parsed";
	} else if (sip->sip_status == NULL) {
		return "no start line";
	}
	if (sip->sip_from == NULL || sip->sip_to == NULL || sip->sip_call_id == NULL ||
	    sip->sip_cseq == NULL || sip->sip_via == NULL)
		return "mandatory header missing";
	clen = sip->sip_content_length != NULL ? sip->sip_content_length->l_length : 0;
	plen = sip->sip_payload != NULL ? (uint32_t)sip->sip_payload->pl_len : 0;
	if (clen != plen)
		return "body length differs from Content-Length";
	return NULL;
}

static int drv_parse(void *ctx, const char *buf, size_t len, uint64_t *sink, const char **why)
{
	msg_t *msg;
	sip_t *sip;
	void *b;
	const char *bad = NULL;
	int rc = 0;

	msg = msg_create((msg_mclass_t const *)ctx, 0);
	if (msg == NULL) {
		if (why != NULL)
			*why = "msg_create";
		return ENOMEM;
	}
	b = msg_buf_alloc(msg, len + 1);
	if (b == NULL) {
		bad = "msg_buf_alloc";
		rc = ENOMEM;
		goto out;
	}
	memcpy(b, buf, len);
	msg_buf_commit(msg, len, 1);
	if (msg_extract(msg) <= 0) {
		bad = "msg_extract";
		rc = EBADMSG;
		goto out;
	}
	sip = sip_object(msg);
	bad = check(msg, sip);
	if (bad != NULL) {
		rc = EBADMSG;
		goto out;
	}
	*sink += sip->sip_cseq->cs_seq + (uint64_t)strlen(sip->sip_via->v_host);
out:
	if (rc != 0 && why != NULL)
		*why = bad;
	msg_destroy(msg);
	return rc;
}

static void drv_fini(void *ctx)
{
	(void)ctx;
}

const struct bench_driver bench_sofia = {
	.name = "sofia-sip",
	.init = drv_init,
	.parse = drv_parse,
	.fini = drv_fini,
};
