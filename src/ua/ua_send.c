/*
 * ua_send.c - requests in a call's dialogs go to their next hop (RFC 3261
 * §12.2.1.1, §8.1.2): the first Route's URI, else the remote target.  A
 * numeric host (or "localhost") is used at once; a host name is located with
 * RFC 3263 (dns.h) as an initial request's is, the request waiting meanwhile,
 * and the answer is kept for the call's later requests to the same hop.  An
 * ACK of a 2xx (§13.2.2.4, no transaction) is built once the hop's transport
 * is known, so its Via names the transport it goes over (§18.1.1, §8.1.1.7).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "ua"
#include "ringlet/log.h"
#include "ringlet/mem.h"
#include "ua/ua_int.h"

/* One in-dialog request waiting for its hop's host name to resolve. */
struct ua_pend {
	struct list_node node; /* on c->pend */
	struct ua_call *c;
	struct ua_lookup *lk;
	char hop[UA_URI_MAX + 1];
	/* a request for a transaction: its bytes and where the transaction goes */
	char *buf;
	size_t len;
	struct tsx **slot; /* NULL: nobody waits for the response */
	tsx_response_fn *fn;
	/* an ACK: built when the transport is known, from its dialog and INVITE */
	struct dlg *dlg; /* a reference */
	char *inv;
	size_t invlen;
};

static void pend_free(struct ua_pend *p)
{
	list_remove(&p->node);
	ua_lookup_cancel(p->lk);
	free(p->buf);
	free(p->inv);
	mem_deref(p->dlg);
	free(p);
}

void ua_call_pend_free(struct ua_call *c)
{
	struct list_node *n, *tmp;

	LIST_FOREACH_SAFE(&c->pend, n, tmp)
	pend_free(LIST_ENTRY(n, struct ua_pend, node));
}

/* The destination of hop uri[0..len): at once, or from the call's cache; EHOSTUNREACH: ask DNS. */
static int hop_dest(struct ua_call *c, const char *uri, size_t len, struct tp_dest *out)
{
	int err = ua_hop(c->ua, uri, len, out);

	if (err != EHOSTUNREACH)
		return err;
	if (c->hop_known && strlen(c->hop_uri) == len && !memcmp(c->hop_uri, uri, len)) {
		*out = c->hop_dest;
		return 0;
	}
	return EHOSTUNREACH;
}

/* The ACK with a Via for transport proto into m (m->buf malloc'ed on 0). */
static int ack_build(struct ua_call *c, struct dlg *d, const char *inv, size_t invlen,
		     enum tp_proto proto, struct dlg_msg *m)
{
	char via[256];
	struct dlg_extra x = {.via = via};
	int err = dlg_via(c->ua->layer, proto, via, sizeof(via));

	if (err)
		return err;
	m->cap = dlg_msg_size(d, &x) + invlen; /* dlg.h: the ACK copies the INVITE's credentials */
	m->buf = malloc(m->cap);
	if (!m->buf)
		return ENOMEM;
	err = dlg_ack(d, inv, invlen, &x, m);
	if (err) {
		free(m->buf);
		m->buf = NULL;
	}
	return err;
}

static int ack_to(struct ua_call *c, struct dlg *d, const char *inv, size_t invlen,
		  const struct tp_dest *dest)
{
	struct dlg_msg m;
	int err = ack_build(c, d, inv, invlen, (enum tp_proto)dest->proto, &m);

	if (err)
		return err;
	err = tp_send(&c->ua->wrap, dest, m.buf, m.len);
	free(m.buf);
	return err;
}

static int req_to(struct ua_call *c, const char *buf, size_t len, struct tsx **t,
		  tsx_response_fn *fn, const struct tp_dest *dest)
{
	struct tsx_layer *l = c->ua->layer;

	if (!t)
		return tsx_request(NULL, l, dest, buf, len, TSX_ADD_VIA, NULL, NULL);
	ua_tsx_drop(t);
	return tsx_request(t, l, dest, buf, len, TSX_ADD_VIA, fn, c);
}

static void pend_resolved(int err, const struct tp_dest *d, void *arg)
{
	struct ua_pend *p = arg;
	struct ua_call *c = p->c;
	bool bye = p->slot == &c->bye;

	p->lk = NULL;
	if (!err) {
		snprintf(c->hop_uri, sizeof(c->hop_uri), "%s", p->hop);
		c->hop_dest = *d;
		c->hop_known = true;
		err = p->dlg ? ack_to(c, p->dlg, p->inv, p->invlen, d)
			     : req_to(c, p->buf, p->len, p->slot, p->fn, d);
	}
	if (err)
		log_warn("event=in-dialog-send-failed call=%u hop=\"%s\" err=%d", c->no, p->hop,
			 err);
	pend_free(p);
	if (err && bye)
		ua_call_end(c, 0, "BYE could not be sent");
}

/* A waiting request for the hop of m; NULL on ENOMEM. */
static struct ua_pend *pend_new(struct ua_call *c, const struct dlg_msg *m)
{
	struct ua_pend *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->c = c;
	snprintf(p->hop, sizeof(p->hop), "%.*s", (int)m->hop.len, m->buf + m->hop.off);
	return p;
}

/* Start resolving p's hop; p is freed on failure. */
static int pend_start(struct ua_call *c, struct ua_pend *p)
{
	p->lk = ua_lookup_uri(c->ua, p->hop, pend_resolved, p);
	if (!p->lk) {
		pend_free(p);
		return EHOSTUNREACH;
	}
	list_push_back(&c->pend, &p->node);
	return 0;
}

int ua_call_send(struct ua_call *c, const struct dlg_msg *m, struct tsx **t, tsx_response_fn *fn)
{
	struct tp_dest dest;
	int err = hop_dest(c, m->buf + m->hop.off, m->hop.len, &dest);

	if (err != EHOSTUNREACH || !c->ua->dns)
		return err ? err : req_to(c, m->buf, m->len, t, fn, &dest);
	struct ua_pend *p = pend_new(c, m);
	if (!p || !(p->buf = malloc(m->len))) {
		free(p);
		return ENOMEM;
	}
	memcpy(p->buf, m->buf, m->len);
	p->len = m->len;
	p->slot = t;
	p->fn = fn;
	return pend_start(c, p);
}

int ua_call_ack(struct ua_call *c, struct dlg *d, const char *inv, size_t invlen)
{
	struct ua *u = c->ua;
	struct tp_dest dest;
	struct dlg_msg m;
	/* built once with our own transport to learn the hop, again if the hop's differs */
	int err = ack_build(c, d, inv, invlen, (enum tp_proto)u->proto, &m);

	if (err)
		return err;
	err = hop_dest(c, m.buf + m.hop.off, m.hop.len, &dest);
	if (!err && dest.proto == u->proto) {
		err = tp_send(&u->wrap, &dest, m.buf, m.len);
	} else if (!err) {
		err = ack_to(c, d, inv, invlen, &dest);
	} else if (err == EHOSTUNREACH && u->dns) {
		struct ua_pend *p = pend_new(c, &m);
		if (p && (p->inv = malloc(invlen ? invlen : 1))) {
			memcpy(p->inv, inv, invlen);
			p->invlen = invlen;
			p->dlg = mem_ref(d);
			err = pend_start(c, p);
		} else {
			free(p);
			err = ENOMEM;
		}
	}
	free(m.buf);
	return err;
}
