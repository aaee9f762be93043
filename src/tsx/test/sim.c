/*
 * sim.c - the deterministic network simulator of sim.h.  Test-only: the
 * runners compile it with #include "sim.c".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringlet/msg.h"
#include "sim.h"

/* A datagram in flight. */
struct sim_pkt {
	struct loop_timer tmr;
	struct list_node le;
	struct sim_node *from;
	struct sim_node *to;
	uint8_t proto;
	uint32_t len;
	char data[];
};

/* splitmix64: one stream for every random choice, so a seed replays exactly. */
static uint64_t rnd(struct sim *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static bool chance(struct sim *s, unsigned percent)
{
	return percent && rnd(s) % 100 < percent;
}

static struct sim_rec *log_send(struct sim *s, const struct sim_node *from, const char *data,
				size_t len)
{
	struct sim_rec *r;
	size_t n = 0;

	if (s->nlog == s->caplog) {
		unsigned cap = s->caplog ? 2 * s->caplog : 256;
		struct sim_rec *p = realloc(s->log, cap * sizeof(*p));

		if (!p)
			return NULL;
		s->log = p;
		s->caplog = cap;
	}
	r = &s->log[s->nlog];
	memset(r, 0, sizeof(*r));
	r->data = malloc(len + 1);
	if (!r->data)
		return NULL;
	s->nlog++;
	memcpy(r->data, data, len);
	r->data[len] = '\0';
	r->len = (uint32_t)len;
	r->at = loop_now(s->loop);
	r->from = from->id;
	r->to = -1;
	while (n < len && n < SIM_LINE_MAX - 1 && data[n] != '\r' && data[n] != '\n')
		n++;
	memcpy(r->line, data, n);
	r->request = strncmp(r->line, "SIP/2.0 ", 8) != 0;
	if (!r->request)
		r->code = (uint16_t)atoi(r->line + 8);
	return r;
}

static void deliver(void *arg)
{
	struct sim_pkt *p = arg;
	struct sim_node *to = p->to;
	struct tp_rx rx;
	size_t used;

	list_remove(&p->le);
	memset(&rx, 0, sizeof(rx));
	if (to->tp.recv && msg_parse(&rx.msg, p->data, p->len, MSG_PARSE_DGRAM, &used) == 0) {
		rx.buf = p->data;
		rx.len = p->len;
		rx.proto = p->proto;
		rx.src = p->from->addr;
		rx.local = to->addr;
		to->recvd++;
		to->tp.recv(&to->tp, &rx, to->tp.recv_arg);
	}
	free(p);
}

/* A node with this address, chosen at random among the workers sharing it. */
static struct sim_node *pick(struct sim *s, const struct tp_addr *a)
{
	struct sim_node *c[SIM_MAX_NODES];
	int n = 0;

	for (int i = 0; i < s->nnodes; i++)
		if (tp_addr_equal(&s->nodes[i]->addr, a))
			c[n++] = s->nodes[i];
	return n ? c[rnd(s) % (uint64_t)n] : NULL;
}

static void schedule(struct sim *s, struct sim_node *from, struct sim_node *to,
		     const struct tp_dest *d, const char *data, size_t len)
{
	const struct sim_link *lk = &s->link[from->id][to->id];
	bool reliable = tp_proto_reliable((enum tp_proto)d->proto);
	loop_ms delay = lk->delay, now = loop_now(s->loop);
	struct sim_pkt *p = malloc(sizeof(*p) + len);

	if (!p)
		return;
	if (!reliable && lk->jitter)
		delay += rnd(s) % (lk->jitter + 1);
	if (reliable) {
		/* A byte stream: never overtakes what went before on the same path. */
		if (now + delay < s->last[from->id][to->id])
			delay = s->last[from->id][to->id] - now;
		s->last[from->id][to->id] = now + delay;
	}
	memset(p, 0, sizeof(*p));
	p->from = from;
	p->to = to;
	p->proto = d->proto;
	p->len = (uint32_t)len;
	memcpy(p->data, data, len);
	list_push_back(&s->pending, &p->le);
	loop_timer_start(s->loop, &p->tmr, delay, deliver, p);
}

static int node_send(struct tp *tp, const struct tp_dest *d, const char *data, size_t len)
{
	struct sim_node *n = (struct sim_node *)tp;
	struct sim *s = n->sim;
	struct sim_rec *r;
	struct sim_node *to;
	bool reliable = tp_proto_reliable((enum tp_proto)d->proto);

	n->sent++;
	if (n->fail_send)
		return n->fail_send;
	r = log_send(s, n, data, len);
	to = pick(s, &d->addr);
	if (!to)
		return 0; /* nobody there: the datagram vanishes */
	if (r)
		r->to = to->id;
	if (!reliable && chance(s, s->link[n->id][to->id].loss)) {
		if (r)
			r->lost = true;
		return 0;
	}
	schedule(s, n, to, d, data, len);
	if (!reliable && chance(s, s->link[n->id][to->id].dup))
		schedule(s, n, pick(s, &d->addr), d, data, len);
	return 0;
}

static const struct tp_addr *node_local(struct tp *tp, enum tp_proto proto)
{
	(void)proto;
	return &((struct sim_node *)tp)->addr;
}

static const struct tp_ops sim_ops = {
	.send = node_send,
	.local = node_local,
};

int sim_alloc(struct sim **out, struct loop *l, uint64_t seed)
{
	struct sim *s = calloc(1, sizeof(*s));

	if (!s)
		return ENOMEM;
	s->loop = l;
	s->rng = seed;
	list_init(&s->pending);
	*out = s;
	return 0;
}

void sim_free(struct sim *s)
{
	struct list_node *n;

	if (!s)
		return;
	while ((n = list_pop_front(&s->pending)) != NULL) {
		struct sim_pkt *p = LIST_ENTRY(n, struct sim_pkt, le);

		loop_timer_cancel(&p->tmr);
		free(p);
	}
	for (int i = 0; i < s->nnodes; i++)
		free(s->nodes[i]);
	for (unsigned i = 0; i < s->nlog; i++)
		free(s->log[i].data);
	free(s->log);
	free(s);
}

struct sim_node *sim_node_add(struct sim *s, const char *ip, uint16_t port, enum tp_proto proto)
{
	struct sim_node *n;

	if (s->nnodes == SIM_MAX_NODES)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	if (tp_addr_set(&n->addr, ip, strlen(ip), port)) {
		free(n);
		return NULL;
	}
	n->tp.ops = &sim_ops;
	n->sim = s;
	n->id = s->nnodes;
	n->proto = (uint8_t)proto;
	s->nodes[s->nnodes++] = n;
	return n;
}

void sim_set_link(struct sim *s, const struct sim_node *a, const struct sim_node *b,
		  const struct sim_link *c)
{
	if (a && b) {
		s->link[a->id][b->id] = *c;
		return;
	}
	for (int i = 0; i < SIM_MAX_NODES; i++)
		for (int j = 0; j < SIM_MAX_NODES; j++)
			s->link[i][j] = *c;
}

struct tp_dest sim_dest(const struct sim_node *n)
{
	struct tp_dest d;

	memset(&d, 0, sizeof(d));
	d.proto = n->proto;
	d.addr = n->addr;
	return d;
}

int sim_send(struct sim_node *from, const struct sim_node *to, const char *data)
{
	struct tp_dest d = sim_dest(to);

	return node_send(&from->tp, &d, data, strlen(data));
}

void sim_run(struct sim *s, loop_ms ms)
{
	loop_ms end = loop_now(s->loop) + ms;

	for (;;) {
		loop_ms now;
		int64_t next;

		loop_once(s->loop, 0); /* posted hand-offs, and timers due now */
		now = loop_now(s->loop);
		next = loop_next_timer(s->loop);
		if (next < 0 || now + (loop_ms)next > end) {
			loop_advance(s->loop, end - now);
			loop_once(s->loop, 0);
			return;
		}
		loop_advance(s->loop, (loop_ms)next);
	}
}

static bool rec_match(const struct sim_rec *r, int from, const char *prefix, bool with_lost)
{
	return (from < 0 || r->from == from) && (with_lost || !r->lost) &&
	       strncmp(r->line, prefix, strlen(prefix)) == 0;
}

unsigned sim_count(const struct sim *s, int from, const char *prefix, bool with_lost)
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->nlog; i++)
		n += rec_match(&s->log[i], from, prefix, with_lost);
	return n;
}

unsigned sim_times(const struct sim *s, int from, const char *prefix, loop_ms *at, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->nlog; i++) {
		if (!rec_match(&s->log[i], from, prefix, true))
			continue;
		if (n < max)
			at[n] = s->log[i].at;
		n++;
	}
	return n;
}

const struct sim_rec *sim_last(const struct sim *s, int from, const char *prefix)
{
	for (unsigned i = s->nlog; i-- > 0;)
		if (rec_match(&s->log[i], from, prefix, true))
			return &s->log[i];
	return NULL;
}
