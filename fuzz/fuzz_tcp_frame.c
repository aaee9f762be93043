/*
 * fuzz_tcp_frame.c - the TCP stream framer (src/tp/tp_frame.c) against
 * msg_parse of the whole stream.
 *
 * Input: 4 bytes of PRNG seed, 1 byte choosing the framer's size cap, then
 * the stream.  The stream is fed to the framer in chunks of random size
 * (1..N bytes, N chosen by the seed), calling tp_frame_next after each
 * chunk as the TCP reader does.  Every message it frames must be the message
 * msg_parse(MSG_PARSE_STREAM) finds at the same offset of the concatenation
 * (same bytes, length, header count and anomalies), and it must stop where
 * and how the reference stops: EAGAIN at the end, the same error, or
 * EMSGSIZE because a message is larger than the cap.  No sockets.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/tp/tp_frame.h"

struct ref {
	size_t off; /* start line, in the stream */
	size_t used; /* bytes from the end of the previous message */
	uint32_t len;
	uint32_t anomalies;
	uint16_t nhdrs;
};

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* The reference: msg_parse over the whole stream, message after message. */
static size_t reference(struct msg *m, const char *p, size_t n, struct ref *r, size_t rcap,
			int *end_err)
{
	size_t k = 0, at = 0, used;

	while (k < rcap) {
		int err = msg_parse(m, p + at, n - at, MSG_PARSE_STREAM, &used);
		if (err) {
			*end_err = err;
			return k;
		}
		r[k].off = (size_t)(m->buf - p);
		r[k].used = used;
		r[k].len = m->len;
		r[k].anomalies = m->anomalies;
		r[k].nhdrs = m->nhdrs;
		k++;
		at += used;
		if (m->anomalies & MSG_A_FRAMING) {
			*end_err = EPROTO; /* the framer stops after such a message */
			return k;
		}
	}
	*end_err = EAGAIN;
	return k;
}

struct run {
	struct tp_frame f;
	struct msg *m;
	const char *p;
	size_t fed;
	const struct ref *r;
	size_t nref, k;
	int end_err;
};

/* Drain the framer's events; returns its last result (EAGAIN or an error). */
static int drain(struct run *x, unsigned flags)
{
	int ev, err;

	while ((err = tp_frame_next(&x->f, x->m, flags, &ev)) == 0) {
		if (ev != TP_FRAME_MSG)
			continue;
		CHECK(x->k < x->nref);
		const struct ref *r = &x->r[x->k];
		size_t pend_at = x->fed - tp_frame_pending(&x->f);
		size_t at = pend_at + (size_t)(x->m->buf - (x->f.buf + x->f.start));
		CHECK(at == r->off);
		CHECK(x->m->len == r->len);
		CHECK(x->m->nhdrs == r->nhdrs);
		CHECK(x->m->anomalies == r->anomalies);
		CHECK(memcmp(x->m->buf, x->p + r->off, r->len) == 0);
		x->k++;
	}
	return err;
}

/* The framer stopped with err after x->k messages: is that what the reference says? */
static void check_end(const struct run *x, int err)
{
	if (err == EMSGSIZE && x->f.max < MSG_MAX_SIZE &&
	    (x->k == x->nref || x->r[x->k].used > x->f.max))
		return; /* over the framer's own cap */
	CHECK(x->k == x->nref);
	CHECK(err == x->end_err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run x;
	uint32_t seed = 1;

	if (size < 5)
		return 0;
	memcpy(&seed, data, 4);
	seed |= 1;
	uint32_t max = data[4] < 128 ? 0 : 64u + (uint32_t)data[4] * 16u;
	const char *p = (const char *)data + 5;
	size_t n = size - 5;
	size_t rcap = n / 4 + 1;
	struct ref *r = malloc(rcap * sizeof(*r));

	memset(&x, 0, sizeof(x));
	x.m = malloc(sizeof(*x.m));
	if (r == NULL || x.m == NULL)
		abort();
	x.p = p;
	x.r = r;
	x.nref = reference(x.m, p, n, r, rcap, &x.end_err);
	tp_frame_init(&x.f, max);

	uint32_t span = 1 + rnd(&seed) % 512;
	int err = EAGAIN;
	while (x.fed < n && err == EAGAIN) {
		char *d;
		size_t room, chunk = 1 + rnd(&seed) % span;
		err = tp_frame_space(&x.f, &d, &room);
		if (err)
			break;
		if (chunk > room)
			chunk = room;
		if (chunk > n - x.fed)
			chunk = n - x.fed;
		memcpy(d, p + x.fed, chunk);
		tp_frame_commit(&x.f, chunk);
		x.fed += chunk;
		err = drain(&x, 0);
	}
	if (err == EAGAIN)
		err = drain(&x, TP_FRAME_FLUSH); /* end of stream: parse what is left */
	check_end(&x, err);
	tp_frame_free(&x.f);
	free(x.m);
	free(r);
	return 0;
}
