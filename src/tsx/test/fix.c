/*
 * fix.c - the fixture of fix.h.  Test-only: the runners #include "fix.c"
 * (after their cmocka includes).
 */
#include <stdio.h>
#include <string.h>

#include "ringlet/mem.h"
#include "fix.h"
#include "sim.c"

static void tu_late(void *arg)
{
	struct rec *r = arg;

	if (r->held)
		tsx_respond(r->held, r->late, NULL, NULL, NULL, 0);
}

/* UAS core 2xx retransmission (§13.3.1.4): T1 doubling up to T2, until the ACK. */
static void tu_retx(void *arg)
{
	struct rec *r = arg;

	if (r->acked || !r->held || tsx_respond(r->held, 200, NULL, NULL, NULL, 0) != 0)
		return;
	r->ival = 2 * r->ival < r->t2 ? 2 * r->ival : r->t2;
	loop_timer_start(r->loop, &r->retx_tmr, r->ival, tu_retx, r);
}

/* §9.2: answer the CANCEL, and the INVITE it cancels with 487. */
static void tu_cancel(struct rec *r, struct tsx *t)
{
	struct tsx *inv = tsx_cancel_target(t);

	if (!inv) {
		r->ncancel_missed++;
		tsx_respond(t, 481, NULL, NULL, NULL, 0);
		return;
	}
	r->ncancel_found++;
	tsx_respond(t, 200, NULL, NULL, NULL, 0);
	tsx_respond(inv, 487, NULL, NULL, NULL, 0);
}

static void tu_request(struct tsx *t, struct tp_rx *rx, void *arg)
{
	struct rec *r = arg;
	unsigned m = rx->msg.method;

	r->nreq++;
	r->nreq_m[m]++;
	if (m == MSG_METHOD_CANCEL) {
		tu_cancel(r, t);
		return;
	}
	if (r->hold || r->late || r->retx_2xx) {
		mem_deref(r->held);
		r->held = mem_ref(t);
	}
	if (r->prov)
		tsx_respond(t, r->prov, NULL, NULL, NULL, 0);
	if (r->answer)
		tsx_respond(t, r->answer, NULL, NULL, NULL, 0);
	if (r->late)
		loop_timer_start(r->loop, &r->late_tmr, r->late_ms, tu_late, r);
	if (r->retx_2xx && r->answer >= 200 && r->answer < 300 && m == MSG_METHOD_INVITE) {
		r->ival = r->t1;
		loop_timer_start(r->loop, &r->retx_tmr, r->ival, tu_retx, r);
	}
}

static void tu_stray_req(struct tsx_layer *l, struct tp_rx *rx, void *arg)
{
	struct rec *r = arg;

	(void)l;
	r->nstray_req++;
	if (rx->msg.method == MSG_METHOD_ACK) {
		r->nack++;
		r->acked = true;
		loop_timer_cancel(&r->retx_tmr);
	}
}

static const char *hval(struct msg *m, enum msg_hdr_id id, unsigned *len)
{
	const struct msg_hdr *h = msg_hdr_find(m, id);

	*len = h ? h->value.len : 0;
	return h ? span_ptr(m->buf, h->value) : "";
}

/* UAC core: the ACK for a 2xx (§13.2.2.4), a request of its own, built once. */
static void send_ack_2xx(struct call *c, struct msg *m)
{
	const struct msg_cseq *cs = msg_cseq(m);
	char from[64], to[64];
	unsigned fl, tl, cl;
	const char *f = hval(m, MSG_HDR_FROM, &fl), *t = hval(m, MSG_HDR_TO, &tl);
	const char *cid = hval(m, MSG_HDR_CALL_ID, &cl);

	if (!c->ack[0] && cs) {
		tp_addr_str(&c->from->addr, from, sizeof(from));
		tp_addr_str(&c->to->addr, to, sizeof(to));
		snprintf(c->ack, sizeof(c->ack),
			 "ACK sip:bob@%s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=z9hG4bKack%u\r\n"
			 "Max-Forwards: 70\r\nFrom: %.*s\r\nTo: %.*s\r\nCall-ID: %.*s\r\n"
			 "CSeq: %u ACK\r\nContent-Length: 0\r\n\r\n",
			 to, tp_proto_name((enum tp_proto)c->from->proto), from, (unsigned)cs->num,
			 (int)fl, f, (int)tl, t, (int)cl, cid, (unsigned)cs->num);
	}
	if (c->ack[0]) {
		c->nack++;
		sim_send(c->from, c->to, c->ack);
	}
}

static bool is_invite_2xx(struct msg *m)
{
	const struct msg_cseq *cs = msg_cseq(m);

	return m->status >= 200 && m->status < 300 && cs && cs->method_id == MSG_METHOD_INVITE;
}

static void tu_stray_resp(struct tsx_layer *l, struct tp_rx *rx, void *arg)
{
	struct rec *r = arg;

	(void)l;
	r->nstray_resp++;
	if (r->call && r->call->ack_2xx && is_invite_2xx(&rx->msg))
		send_ack_2xx(r->call, &rx->msg);
}

static void tu_fail(struct tsx *t, int err, void *arg)
{
	struct rec *r = arg;

	(void)t;
	r->nfail++;
	r->fail_err = err;
	r->fail_at = loop_now(r->loop);
}

void fix_on_resp(struct tsx *t, struct msg *m, const struct tp_rx *rx, void *arg)
{
	struct call *c = arg;

	(void)t;
	if (m->status < 200) {
		c->n1xx++;
		return;
	}
	c->nfinal++;
	c->final = m->status;
	c->final_at = loop_now(c->loop);
	c->synth = rx == NULL;
	if (c->ack_2xx && rx && is_invite_2xx(m))
		send_ack_2xx(c, m);
}

void fix_init(struct fix *f, uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	f->live0 = mem_live();
	assert_int_equal(loop_alloc(&f->loop, LOOP_CLOCK_VIRTUAL), 0);
	assert_int_equal(sim_alloc(&f->sim, f->loop, seed), 0);
}

struct tsx_group *fix_group(struct fix *f, unsigned nworkers)
{
	assert_true(f->ngroups < FIX_MAX_EP);
	assert_int_equal(tsx_group_alloc(&f->group[f->ngroups], nworkers, 64), 0);
	return f->group[f->ngroups++];
}

struct ep *fix_ep(struct fix *f, const char *ip, enum tp_proto proto, bool layer,
		  struct tsx_group *g, unsigned w, struct rec *r)
{
	struct ep *e = &f->ep[f->nep];
	struct tsx_conf conf = {.seed = 1000 + f->nep};
	struct tsx_tu tu = {
		.request = tu_request,
		.stray_request = tu_stray_req,
		.stray_response = tu_stray_resp,
		.server_fail = tu_fail,
	};

	assert_true(f->nep < FIX_MAX_EP);
	if (!r) {
		r = &f->rec[f->nep];
		r->loop = f->loop;
		r->t1 = 500;
		r->t2 = 4000;
	}
	e->r = r;
	e->node = sim_node_add(f->sim, ip, 5060, proto);
	assert_non_null(e->node);
	tu.arg = r;
	if (layer)
		assert_int_equal(tsx_layer_alloc(&e->l, g, w, f->loop, &e->node->tp, &conf, &tu),
				 0);
	f->nep++;
	return e;
}

void fix_done(struct fix *f)
{
	for (unsigned i = 0; i < FIX_MAX_EP; i++) {
		loop_timer_cancel(&f->rec[i].late_tmr);
		loop_timer_cancel(&f->rec[i].retx_tmr);
		f->rec[i].held = mem_deref(f->rec[i].held);
	}
	for (unsigned i = 0; i < f->nep; i++)
		tsx_layer_free(f->ep[i].l);
	for (unsigned i = 0; i < f->ngroups; i++)
		tsx_group_free(f->group[i]);
	sim_free(f->sim);
	loop_free(f->loop);
	assert_int_equal(mem_live(), f->live0);
}

void fix_req(char *out, size_t cap, const char *method, const char *from, const char *to,
	     const char *proto, const char *callid, unsigned cseq, const char *branch)
{
	char via[128] = "";

	if (branch && *branch)
		snprintf(via, sizeof(via), "Via: SIP/2.0/%s %s:5060;branch=%s\r\n", proto, from,
			 branch);
	else if (branch)
		snprintf(via, sizeof(via), "Via: SIP/2.0/%s %s:5060\r\n", proto, from);
	snprintf(out, cap,
		 "%s sip:bob@%s SIP/2.0\r\n%sMax-Forwards: 70\r\n"
		 "From: <sip:alice@%s>;tag=a1\r\nTo: <sip:bob@%s>\r\nCall-ID: %s\r\n"
		 "CSeq: %u %s\r\nContent-Length: 0\r\n\r\n",
		 method, to, via, from, to, callid, cseq, method);
}

struct tsx *fix_start(struct ep *e, const struct sim_node *to, const char *req, struct call *c)
{
	struct tp_dest d = sim_dest(to);
	struct tsx *t = NULL;

	c->loop = e->node->sim->loop;
	c->from = e->node;
	c->to = (struct sim_node *)to;
	e->r->call = c;
	assert_int_equal(tsx_request(&t, e->l, &d, req, strlen(req), TSX_ADD_VIA, fix_on_resp, c),
			 0);
	return t;
}

bool fix_last_has(struct fix *f, int from, const char *prefix, const char *what)
{
	const struct sim_rec *r = sim_last(f->sim, from, prefix);

	return r && strstr(r->data, what) != NULL;
}
