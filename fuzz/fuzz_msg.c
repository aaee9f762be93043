/*
 * fuzz_msg.c - libFuzzer target for the message core: msg_parse (datagram
 * and stream), msg_validate, every accessor and lookup, msg_print and a
 * re-parse of its output, msg_out_response.
 *
 * Invariants checked beyond "no crash": every span lies inside the message,
 * a message judged well-formed prints to the same message (RFC 3261 §7,
 * folding undone), and a printed message always parses again.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "ringlet/msg.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool in_msg(const struct msg *m, struct span s)
{
	return (uint64_t)s.off + s.len <= m->len;
}

static void check_spans(const struct msg *m)
{
	CHECK(m->len <= MSG_MAX_SIZE && m->nhdrs <= MSG_MAX_HDRS);
	CHECK(in_msg(m, m->method_s) && in_msg(m, m->ruri_s) && in_msg(m, m->reason));
	CHECK(in_msg(m, m->version) && in_msg(m, m->body));
	CHECK(m->body.off + m->body.len == m->len);
	for (unsigned i = 0; i < m->nhdrs; i++) {
		const struct msg_hdr *h = &m->hdrs[i];
		CHECK(h->id < MSG_HDR__COUNT && in_msg(m, h->name) && in_msg(m, h->value));
		CHECK(h->next == MSG_NO_HDR || (h->next > i && h->next < m->nhdrs));
	}
}

/* Equal with CR/LF removed from a (the printer drops them from values). */
static bool eq_unfolded(const char *a, struct span sa, const char *b, struct span sb)
{
	uint32_t j = 0;
	for (uint32_t i = 0; i < sa.len; i++) {
		char c = a[sa.off + i];
		if (c == '\r' || c == '\n')
			continue;
		if (j >= sb.len || b[sb.off + j] != c)
			return false;
		j++;
	}
	return j == sb.len;
}

static bool eq(const char *a, struct span sa, const char *b, struct span sb)
{
	return sa.len == sb.len && memcmp(a + sa.off, b + sb.off, sa.len) == 0;
}

static void check_same(const struct msg *x, const struct msg *y)
{
	const char *a = x->buf, *b = y->buf;
	unsigned i = 0, j = 0;

	CHECK(x->is_request == y->is_request && x->status == y->status);
	CHECK(eq(a, x->method_s, b, y->method_s) && eq(a, x->ruri_s, b, y->ruri_s));
	CHECK(eq(a, x->reason, b, y->reason) && eq(a, x->version, b, y->version));
	CHECK(eq(a, x->body, b, y->body));
	for (;;) {
		while (i < x->nhdrs && x->hdrs[i].id == MSG_HDR_CONTENT_LENGTH)
			i++;
		while (j < y->nhdrs && y->hdrs[j].id == MSG_HDR_CONTENT_LENGTH)
			j++;
		if (i == x->nhdrs || j == y->nhdrs)
			break;
		const struct msg_hdr *h = &x->hdrs[i++], *k = &y->hdrs[j++];
		CHECK(h->id == k->id && eq(a, h->name, b, k->name));
		CHECK(eq_unfolded(a, h->value, b, k->value));
	}
	CHECK(i == x->nhdrs && j == y->nhdrs);
}

static void use_accessors(struct msg *m)
{
	msg_top_via(m);
	msg_from(m);
	msg_to(m);
	msg_cseq(m);
	msg_ruri(m);
	CHECK(msg_top_via(m) == NULL || (m->cached & MSG_C_VIA));
	for (unsigned id = 0; id <= MSG_HDR__COUNT; id++)
		for (const struct msg_hdr *h = msg_hdr_find(m, id); h; h = msg_hdr_next(m, h))
			CHECK(h->id == id);
	msg_hdr_find_name(m, "X-Unknown");
	msg_hdr_find_name(m, "via");
}

static void exercise(struct msg *m, int err, char *out, size_t cap)
{
	struct msg_verdict v;
	struct msg_out o;
	struct msg *m2 = malloc(sizeof(*m2));
	size_t used;

	if (err == 0)
		check_spans(m);
	bool ok = msg_validate(m, MSG_V_ALL | MSG_V_PROXY, NULL, &v);
	CHECK(ok == (v.status == 0 && !v.drop));
	CHECK(ok || v.reason != NULL);
	CHECK(err == 0 || !ok);
	use_accessors(m);
	if (err == 0) {
		msg_out_init(&o, out, cap);
		if (msg_print(m, &o) == 0) {
			int e2 = msg_parse(m2, out, o.len, MSG_PARSE_STREAM, &used);
			CHECK(e2 == 0 || e2 == EMSGSIZE);
			if (e2 == 0) {
				CHECK(used == o.len);
				if (!v.malformed)
					check_same(m, m2);
			}
		}
	}
	if (m->is_request) {
		msg_out_init(&o, out, cap);
		msg_out_response(&o, m, v.status ? v.status : 200, v.reason, "fuzz");
		if (msg_out_end(&o, NULL, 0) == 0)
			CHECK(msg_parse(m2, out, o.len, MSG_PARSE_STREAM, &used) != EAGAIN);
	}
	free(m2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct msg *m = malloc(sizeof(*m));
	size_t cap = 2 * (size_t)MSG_MAX_SIZE, used = 0;
	char *out = malloc(cap);

	exercise(m, msg_parse(m, buf, size, MSG_PARSE_DGRAM, &used), out, cap);
	/* a stream: messages one after the other */
	size_t off = 0;
	for (int n = 0; n < 8 && off < size; n++) {
		int err = msg_parse(m, buf + off, size - off, MSG_PARSE_STREAM, &used);
		if (err != 0 && err != EMSGSIZE && err != EBADMSG)
			break;
		exercise(m, err, out, cap);
		if (err != 0)
			break;
		CHECK(used > 0 && used <= size - off);
		off += used;
	}
	free(out);
	free(m);
	return 0;
}
