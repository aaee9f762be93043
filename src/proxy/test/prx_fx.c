/*
 * prx_fx.c - the fixture of the proxy tests, see prx_fx.h.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../tsx/test/sim.c"
#include "prx_fx.h"
#include "ringlet/mem.h"

/* Let the store's thread answer (a real millisecond). */
static void nap(void)
{
	struct timespec ts = {0, 1000000};
	nanosleep(&ts, NULL);
}

static void on_req(struct tsx *t, struct tp_rx *rx, void *arg)
{
	struct fx *f = arg;
	if (rx->msg.method == MSG_METHOD_CANCEL) {
		struct tsx *inv = tsx_cancel_target(t);
		tsx_respond(t, inv ? 200 : 481, NULL, NULL, NULL, 0);
		if (inv && prx_cancel(inv) != 0)
			tsx_respond(inv, 487, NULL, NULL, NULL, 0);
		return;
	}
	if (f->loop_check && prx_looped(t, &rx->msg)) {
		tsx_respond(t, 482, NULL, NULL, NULL, 0);
		return;
	}
	if (f->hop)
		prx_request_hop(f->prx, t, rx, f->flags, f->hop);
	else
		prx_request(f->prx, t, rx, f->flags ? f->flags : PRX_LOOKUP);
}

static void on_stray_resp(struct tsx_layer *l, struct tp_rx *rx, void *arg)
{
	(void)arg;
	prx_response(l, rx);
}

static void on_update(int err, const struct loc_binding *b, unsigned n, void *arg)
{
	struct fx *f = arg;
	(void)b;
	assert_int_equal(err, 0);
	f->nbound = n;
	f->updated = true;
}

int fx_setup(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	assert_int_equal(loop_alloc(&f.loop, LOOP_CLOCK_VIRTUAL), 0);
	assert_int_equal(sim_alloc(&f.sim, f.loop, 7), 0);
	f.a = sim_node_add(f.sim, "10.0.0.2", 5060, TP_UDP);
	f.p = sim_node_add(f.sim, "10.0.0.1", 5060, TP_UDP);
	f.b = sim_node_add(f.sim, "10.0.0.3", 5060, TP_UDP);
	f.b2 = sim_node_add(f.sim, "10.0.0.4", 5060, TP_UDP);
	f.b3 = sim_node_add(f.sim, "10.0.0.5", 5060, TP_UDP);
	assert_int_equal(loc_open(&f.store, "memory:", NULL, 0), 0);
	assert_int_equal(auth_alloc(&f.auth, NULL, 300), 0);
	struct prx_conf pc = {.store = f.store, .auth = f.auth}; /* used with PRX_AUTH only */
	assert_int_equal(prx_alloc(&f.prx, &pc), 0);
	f.tu = (struct tsx_tu){.request = on_req, .stray_response = on_stray_resp, .arg = &f};
	assert_int_equal(tsx_layer_alloc(&f.l, NULL, 0, f.loop, &f.p->tp, NULL, &f.tu), 0);
	struct loc_change ch;
	memset(&ch, 0, sizeof(ch));
	strcpy(ch.b.contact, "sip:bob@10.0.0.3:5060");
	ch.b.q = -1;
	ch.b.expires = (int64_t)time(NULL) + 3600;
	assert_int_equal(
	    loc_update(f.store, f.loop, "sip:bob@10.0.0.1", &ch, 1, false, 1, "c1", on_update, &f),
	    0);
	for (int i = 0; i < 200 && !f.updated; i++) {
		sim_run(f.sim, 1);
		if (!f.updated)
			nap();
	}
	assert_true(f.updated);
	assert_int_equal(f.nbound, 1);
	*state = &f;
	return 0;
}

int fx_teardown(void **state)
{
	struct fx *f = *state;
	/* ringletd's order: layers and loops first, then the proxy (calls in flight go) */
	tsx_layer_free(f->l);
	sim_free(f->sim);
	loop_free(f->loop);
	prx_free(f->prx);
	auth_free(f->auth);
	loc_close(f->store);
	return 0;
}

/* Run until the store answered (it may complete on another thread) and the network is quiet. */
void fx_run(struct fx *f, loop_ms ms)
{
	for (int i = 0; i < 20; i++) {
		sim_run(f->sim, ms / 20 + 1);
		nap();
	}
}

void fx_invite(struct fx *f, const char *user)
{
	char req[512];
	snprintf(req, sizeof(req),
		 "INVITE sip:%s@10.0.0.1 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa1\r\n"
		 "Max-Forwards: 10\r\n"
		 "From: <sip:a@10.0.0.2>;tag=fa\r\n"
		 "To: <sip:%s@10.0.0.1>\r\n"
		 "Call-ID: c-%s\r\n"
		 "CSeq: 1 INVITE\r\n"
		 "Content-Length: 0\r\n\r\n",
		 user, user, user);
	assert_int_equal(sim_send(f->a, f->p, req), 0);
}

/* A response of node from to request req (Via lines and dialog headers copied, a To tag added). */
void fx_reply_from(struct fx *f, struct sim_node *from, const char *req, unsigned code,
		   const char *cseq)
{
	char out[2048];
	size_t n = (size_t)snprintf(out, sizeof(out), "SIP/2.0 %u X\r\n", code);
	for (const char *l = strstr(req, "\r\n") + 2; l && strncmp(l, "\r\n", 2);) {
		const char *e = strstr(l, "\r\n");
		bool keep =
		    !strncmp(l, "Via:", 4) || !strncmp(l, "From:", 5) || !strncmp(l, "Call-ID:", 8);
		if (keep)
			n +=
			    (size_t)snprintf(out + n, sizeof(out) - n, "%.*s\r\n", (int)(e - l), l);
		l = e + 2;
	}
	snprintf(out + n, sizeof(out) - n,
		 "To: <sip:bob@10.0.0.1>;tag=t%d\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n",
		 from->id, cseq);
	assert_int_equal(sim_send(from, f->p, out), 0);
}

void fx_reply(struct fx *f, const char *req, unsigned code, const char *cseq)
{
	fx_reply_from(f, f->b, req, code, cseq);
}

/* Bind aor to contacts[i] with q[i] (-1: no q), one REGISTER. */
void fx_bind(struct fx *f, const char *aor, const char *const *contacts, const int *q, unsigned n)
{
	struct loc_change ch[4];
	assert_true(n <= 4);
	memset(ch, 0, sizeof(ch));
	for (unsigned i = 0; i < n; i++) {
		snprintf(ch[i].b.contact, sizeof(ch[i].b.contact), "%s", contacts[i]);
		ch[i].b.q = (int16_t)q[i];
		ch[i].b.expires = (int64_t)time(NULL) + 3600;
	}
	f->updated = false;
	assert_int_equal(loc_update(f->store, f->loop, aor, ch, n, false, 1, aor, on_update, f), 0);
	for (int i = 0; i < 200 && !f->updated; i++) {
		sim_run(f->sim, 1);
		if (!f->updated)
			nap();
	}
	assert_true(f->updated);
	assert_int_equal(f->nbound, n);
}

/* An INVITE for user with its own branch and Call-ID. */
void fx_invite_br(struct fx *f, const char *user, const char *branch)
{
	char req[512];
	snprintf(req, sizeof(req),
		 "INVITE sip:%s@10.0.0.1 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=%s\r\n"
		 "Max-Forwards: 10\r\n"
		 "From: <sip:a@10.0.0.2>;tag=fa\r\n"
		 "To: <sip:%s@10.0.0.1>\r\n"
		 "Call-ID: c-%s\r\n"
		 "CSeq: 1 INVITE\r\n"
		 "Content-Length: 0\r\n\r\n",
		 user, branch, user, user);
	assert_int_equal(sim_send(f->a, f->p, req), 0);
}

/* The last message P sent to node `to` since log entry i0 starting with prefix, or NULL. */
const struct sim_rec *fx_sent_to(struct fx *f, unsigned i0, const struct sim_node *to,
				 const char *prefix)
{
	for (unsigned i = f->sim->nlog; i-- > i0;) {
		const struct sim_rec *r = &f->sim->log[i];
		if (r->from == f->p->id && r->to == to->id &&
		    !strncmp(r->line, prefix, strlen(prefix)))
			return r;
	}
	return NULL;
}

/* How many messages P sent to node `to` since log entry i0 starting with prefix. */
unsigned fx_count_to(struct fx *f, unsigned i0, const struct sim_node *to, const char *prefix)
{
	unsigned n = 0;
	for (unsigned i = i0; i < f->sim->nlog; i++) {
		const struct sim_rec *r = &f->sim->log[i];
		n += r->from == f->p->id && r->to == to->id &&
		     !strncmp(r->line, prefix, strlen(prefix));
	}
	return n;
}

/* The request P forwarded to node n since i0, copied into out ("" if none). */
void fx_got_req(struct fx *f, unsigned i0, const struct sim_node *n, const char *prefix, char *out,
		size_t cap)
{
	const struct sim_rec *r = fx_sent_to(f, i0, n, prefix);
	snprintf(out, cap, "%s", r ? r->data : "");
}

/* A response of node from to request req with extra header lines hdrs. */
void fx_reply_hdrs(struct fx *f, struct sim_node *from, const char *req, unsigned code,
		   const char *hdrs)
{
	char out[4096];
	size_t n = (size_t)snprintf(out, sizeof(out), "SIP/2.0 %u X\r\n", code);
	for (const char *l = strstr(req, "\r\n") + 2; l && strncmp(l, "\r\n", 2);) {
		const char *e = strstr(l, "\r\n");
		if (!strncmp(l, "Via:", 4) || !strncmp(l, "From:", 5) || !strncmp(l, "Call-ID:", 8))
			n +=
			    (size_t)snprintf(out + n, sizeof(out) - n, "%.*s\r\n", (int)(e - l), l);
		l = e + 2;
	}
	snprintf(out + n, sizeof(out) - n,
		 "To: <sip:bob@10.0.0.1>;tag=t%d\r\nCSeq: 1 INVITE\r\n%sContent-Length: 0\r\n\r\n",
		 from->id, hdrs);
	assert_int_equal(sim_send(from, f->p, out), 0);
}
