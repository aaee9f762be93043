/*
 * fuzz_tsx.c - libFuzzer target for the transaction layer: hostile
 * messages into a layer on a virtual clock, with a TU that answers, so
 * matching (§17.1.3, §17.2.3, RFC 2543), the four state machines and their
 * timers all see attacker-controlled input.
 *
 * Input: messages separated by NUL bytes.  A message may start with one
 * control byte below 0x20 (not TAB, LF or CR):
 *   bit 0  arrived over TCP (else UDP)      bit 1  from the second peer
 *   bits 2-3  the TU's answer to a new request: none (held), 180, 486, 200
 *   bit 4  send it as a client request (tsx_request) instead of receiving it
 * Between messages the clock moves on; at the end every held transaction is
 * answered and 70 s pass, so every timer fires and everything is freed.
 */
#include <stdint.h>
#include <string.h>

#include "ringlet/loop.h"
#include "ringlet/mem.h"
#include "ringlet/msg.h"
#include "ringlet/tsx.h"

#define HELD_MAX 8

struct ctx {
	struct tp tp;
	struct tp_addr local, peer[2];
	struct tsx_layer *l;
	struct loop *loop;
	struct tsx *held[HELD_MAX];
	unsigned nheld;
	unsigned answer;
	unsigned sends;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fz_send(struct tp *tp, const struct tp_dest *d, const char *p, size_t len)
{
	struct ctx *c = (struct ctx *)tp;

	(void)d;
	(void)p;
	(void)len;
	/* Every 13th send fails: transport errors on every path. */
	return ++c->sends % 13 == 0 ? 111 : 0;
}

static const struct tp_addr *fz_local(struct tp *tp, enum tp_proto proto)
{
	(void)proto;
	return &((struct ctx *)tp)->local;
}

static const struct tp_ops fz_ops = {.send = fz_send, .local = fz_local};

static void on_request(struct tsx *t, struct tp_rx *rx, void *arg)
{
	static const unsigned codes[] = {0, 180, 486, 200};
	struct ctx *c = arg;

	if (rx->msg.method == MSG_METHOD_CANCEL) {
		struct tsx *inv = tsx_cancel_target(t);

		tsx_respond(t, inv ? 200 : 481, NULL, NULL, NULL, 0);
		if (inv)
			tsx_respond(inv, 487, NULL, NULL, NULL, 0);
		return;
	}
	if (codes[c->answer])
		tsx_respond(t, codes[c->answer], NULL, "Contact: <sip:x@h>\r\n", "b", 1);
	if (c->nheld < HELD_MAX)
		c->held[c->nheld++] = mem_ref(t);
}

static void on_response(struct tsx *t, struct msg *m, const struct tp_rx *rx, void *arg)
{
	(void)rx;
	(void)arg;
	if (m->status < 200)
		tsx_cancel(t, NULL, NULL);
}

static void feed(struct ctx *c, const char *p, size_t n)
{
	unsigned ctl = 0;
	struct tp_rx rx;
	size_t used;

	if (n && (uint8_t)p[0] < 0x20 && p[0] != '\t' && p[0] != '\n' && p[0] != '\r') {
		ctl = (uint8_t)p[0];
		p++;
		n--;
	}
	c->answer = (ctl >> 2) & 3;
	if (ctl & 0x10) {
		struct tp_dest d = {.proto = (ctl & 1) ? TP_TCP : TP_UDP, .addr = c->peer[0]};
		struct tsx *t = NULL;

		if (tsx_request(&t, c->l, &d, p, n, 0, on_response, NULL) == 0)
			mem_deref(t);
		return;
	}
	memset(&rx, 0, sizeof(rx));
	if (msg_parse(&rx.msg, p, n, MSG_PARSE_DGRAM, &used))
		return;
	rx.buf = p;
	rx.len = (uint32_t)n;
	rx.proto = (ctl & 1) ? TP_TCP : TP_UDP;
	rx.src = c->peer[(ctl >> 1) & 1];
	rx.local = c->local;
	tsx_layer_input(c->l, &rx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx c;
	struct tsx_conf conf = {.seed = 1};
	struct tsx_tu tu = {.request = on_request, .arg = &c};
	const char *p = (const char *)data, *end = p + size;

	memset(&c, 0, sizeof(c));
	c.tp.ops = &fz_ops;
	tp_addr_set(&c.local, "127.0.0.1", 9, 5060);
	tp_addr_set(&c.peer[0], "127.0.0.2", 9, 5060);
	tp_addr_set(&c.peer[1], "127.0.0.3", 9, 5070);
	if (loop_alloc(&c.loop, LOOP_CLOCK_VIRTUAL))
		return 0;
	if (tsx_layer_alloc(&c.l, NULL, 0, c.loop, &c.tp, &conf, &tu)) {
		loop_free(c.loop);
		return 0;
	}
	while (p < end) {
		const char *z = memchr(p, '\0', (size_t)(end - p));
		size_t n = z ? (size_t)(z - p) : (size_t)(end - p);

		feed(&c, p, n);
		loop_advance(c.loop, (n % 7) * 150);
		p += n + (z != NULL);
	}
	for (unsigned i = 0; i < c.nheld; i++)
		tsx_respond(c.held[i], i % 2 ? 603 : 200, NULL, NULL, NULL, 0);
	for (int i = 0; i < 14; i++)
		loop_advance(c.loop, 5000);
	for (unsigned i = 0; i < c.nheld; i++)
		mem_deref(c.held[i]);
	tsx_layer_free(c.l);
	loop_free(c.loop);
	return 0;
}
