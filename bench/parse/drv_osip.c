/*
 * drv_osip.c - bench-parse driver for GNU libosip2 (osipparser2).
 *
 * osip_message_parse() is eager: it parses the start line (the Request-URI
 * into an osip_uri_t) and every header it knows (Via, From, To, Contact,
 * Route, Record-Route, Call-ID, CSeq, Content-Type, Content-Length, Allow,
 * Accept*, the auth headers, ...) into its typed struct, URIs and parameter
 * lists included, and keeps the others (Max-Forwards, Expires, Event,
 * Supported, ...) as name/value pairs because it has no typed form for them.
 * Nothing is left for a later lazy parse, so the driver only checks what it
 * got and frees it.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <osipparser2/osip_message.h>
#include <osipparser2/osip_parser.h>

#include "bench_parse.h"

static int drv_init(void **ctx)
{
	*ctx = NULL;
	return parser_init() == 0 ? 0 : EIO;
}

/* Did osip accept the whole message?  Returns a reason or NULL. */
static const char *check(const osip_message_t *m)
{
	if (m->sip_method != NULL) {
		if (m->req_uri == NULL || m->req_uri->host == NULL)
			return "request URI not parsed";
	} else if (m->status_code < 100) {
		return "no status code";
	}
	if (m->from == NULL || m->from->url == NULL)
		return "From not parsed";
	if (m->to == NULL || m->to->url == NULL)
		return "To not parsed";
	if (m->call_id == NULL)
		return "Call-ID not parsed";
	if (m->cseq == NULL || m->cseq->number == NULL)
		return "CSeq not parsed";
	if (osip_list_size(&m->vias) < 1)
		return "no Via parsed";
	return NULL;
}

static int drv_parse(void *ctx, const char *buf, size_t len, uint64_t *sink, const char **why)
{
	osip_message_t *m;
	const char *bad;
	int rc;

	(void)ctx;
	if (osip_message_init(&m) != 0) {
		if (why != NULL)
			*why = "osip_message_init";
		return ENOMEM;
	}
	rc = osip_message_parse(m, buf, len);
	if (rc != 0) {
		bad = "osip_message_parse";
	} else {
		bad = check(m);
		if (bad != NULL)
			rc = EBADMSG;
	}
	if (rc == 0)
		*sink += (uint64_t)osip_list_size(&m->vias) + (uint64_t)osip_list_size(&m->headers) +
			 (uint64_t)osip_list_size(&m->contacts) + strlen(m->call_id->number);
	else if (why != NULL)
		*why = bad;
	osip_message_free(m);
	return rc;
}

static void drv_fini(void *ctx)
{
	(void)ctx;
}

const struct bench_driver bench_osip = {
	.name = "osip2",
	.init = drv_init,
	.parse = drv_parse,
	.fini = drv_fini,
};
