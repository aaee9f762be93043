/*
 * test_tp_frame.c - stream framing without sockets (RFC 3261 §18.3,
 * RFC 5626 §3.5.1): partial messages, several per chunk, keep-alives, the
 * size cap, streams that are not SIP, and a differential check against
 * msg_parse of the whole stream.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tp/tp_frame.h"

static struct msg *M; /* large: one for every test */

/* A request with a body of blen bytes; returns its length. */
static size_t mkreq(char *out, size_t cap, int i, size_t blen)
{
	int n = snprintf(out, cap,
			 "OPTIONS sip:u%d@example.com SIP/2.0\r\n"
			 "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK%d\r\n"
			 "Max-Forwards: 70\r\nFrom: <sip:a@example.com>;tag=1\r\n"
			 "To: <sip:b@example.com>\r\nCall-ID: c%d\r\nCSeq: %d OPTIONS\r\n"
			 "Content-Length: %zu\r\n\r\n",
			 i, i, i, i + 1, blen);
	assert_true(n > 0 && (size_t)n + blen < cap);
	memset(out + n, 'a' + i % 26, blen);
	return (size_t)n + blen;
}

/* Append bytes (the framer must have room: callers feed less than max). */
static void feed(struct tp_frame *f, const char *p, size_t n)
{
	while (n > 0) {
		char *d;
		size_t room;
		assert_int_equal(tp_frame_space(f, &d, &room), 0);
		assert_true(room > 0);
		size_t k = n < room ? n : room;
		memcpy(d, p, k);
		tp_frame_commit(f, k);
		p += k;
		n -= k;
	}
}

/* The next event must be a message with exactly the bytes want[0..n). */
static void expect_msg(struct tp_frame *f, const char *want, size_t n)
{
	int ev = 0;
	assert_int_equal(tp_frame_next(f, M, 0, &ev), 0);
	assert_int_equal(ev, TP_FRAME_MSG);
	assert_int_equal(M->len, n);
	assert_memory_equal(M->buf, want, n);
}

static void test_byte_by_byte(void **state)
{
	char m[1024];
	size_t n = mkreq(m, sizeof(m), 1, 40);
	struct tp_frame f;
	int ev;

	(void)state;
	tp_frame_init(&f, 0);
	for (size_t i = 0; i + 1 < n; i++) {
		feed(&f, m + i, 1);
		assert_int_equal(tp_frame_next(&f, M, 0, &ev), EAGAIN);
	}
	/* the header block is complete: the framer waits for the body, no earlier */
	assert_int_equal(f.need, n);
	feed(&f, m + n - 1, 1);
	expect_msg(&f, m, n);
	assert_int_equal(M->body.len, 40);
	assert_int_equal(tp_frame_next(&f, M, 0, &ev), EAGAIN);
	assert_int_equal(tp_frame_pending(&f), 0);
	tp_frame_free(&f);
}

static void test_several_in_one_chunk(void **state)
{
	char all[4096];
	size_t off[4], len[3], n = 0;
	struct tp_frame f;
	int ev;

	(void)state;
	for (int i = 0; i < 3; i++) {
		off[i] = n;
		len[i] = mkreq(all + n, sizeof(all) - n, i, (size_t)i * 7);
		n += len[i];
	}
	tp_frame_init(&f, 0);
	feed(&f, all, n);
	for (int i = 0; i < 3; i++)
		expect_msg(&f, all + off[i], len[i]);
	assert_int_equal(tp_frame_next(&f, M, 0, &ev), EAGAIN);
	tp_frame_free(&f);
}

/* A message split in the middle of the body and in the middle of a header. */
static void test_split_points(void **state)
{
	char m[1024];
	size_t n = mkreq(m, sizeof(m), 5, 100);
	struct tp_frame f;
	int ev;

	(void)state;
	for (size_t cut = 1; cut < n; cut += 13) {
		tp_frame_init(&f, 0);
		feed(&f, m, cut);
		assert_int_equal(tp_frame_next(&f, M, 0, &ev), EAGAIN);
		feed(&f, m + cut, n - cut);
		expect_msg(&f, m, n);
		tp_frame_free(&f);
	}
}

static void test_keepalive(void **state)
{
	char m[1024];
	size_t n = mkreq(m, sizeof(m), 2, 0);
	struct tp_frame f;
	int ev = 0;

	(void)state;
	tp_frame_init(&f, 0);
	/* a ping arriving in two halves */
	feed(&f, "\r\n", 2);
	assert_int_equal(tp_frame_next(&f, M, 0, &ev), EAGAIN);
	feed(&f, "\r\n", 2);
	assert_int_equal(tp_frame_next(&f, M, 0, &ev), 0);
	assert_int_equal(ev, TP_FRAME_PING);
	assert_int_equal(tp_frame_next(&f, M, 0, &ev), EAGAIN);
	/* a pong (single CRLF) before a message is dropped */
	feed(&f, "\r\n", 2);
	feed(&f, m, n);
	expect_msg(&f, m, n);
	/* a message, a ping, a message in one chunk */
	feed(&f, m, n);
	feed(&f, "\r\n\r\n", 4);
	feed(&f, m, n);
	expect_msg(&f, m, n);
	assert_int_equal(tp_frame_next(&f, M, 0, &ev), 0);
	assert_int_equal(ev, TP_FRAME_PING);
	expect_msg(&f, m, n);
	assert_int_equal(tp_frame_next(&f, M, 0, &ev), EAGAIN);
	/* two pings back to back */
	feed(&f, "\r\n\r\n\r\n\r\n", 8);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(tp_frame_next(&f, M, 0, &ev), 0);
		assert_int_equal(ev, TP_FRAME_PING);
	}
	assert_int_equal(tp_frame_next(&f, M, 0, &ev), EAGAIN);
	assert_int_equal(tp_frame_pending(&f), 0);
	tp_frame_free(&f);
}

/* Over the framer's cap, and over MSG_MAX_SIZE by Content-Length. */
static void test_too_big(void **state)
{
	char m[2048];
	size_t n = mkreq(m, sizeof(m), 3, 600);
	struct tp_frame f;
	int ev;

	(void)state;
	tp_frame_init(&f, 500);
	int err = 0;
	for (size_t i = 0; i < n && err != EMSGSIZE; i += 100) {
		char *d;
		size_t room;
		err = tp_frame_space(&f, &d, &room);
		if (err)
			break;
		size_t k = n - i < 100 ? n - i : 100;
		if (k > room)
			k = room;
		memcpy(d, m + i, k);
		tp_frame_commit(&f, k);
		err = tp_frame_next(&f, M, 0, &ev);
		assert_true(err == EAGAIN || err == EMSGSIZE);
	}
	assert_int_equal(err, EMSGSIZE);
	assert_int_equal(tp_frame_next(&f, M, 0, &ev), EMSGSIZE); /* sticky */
	tp_frame_free(&f);

	const char *huge = "INVITE sip:a@b SIP/2.0\r\nContent-Length: 70000\r\n\r\n";
	tp_frame_init(&f, 0);
	feed(&f, huge, strlen(huge));
	assert_int_equal(tp_frame_next(&f, M, 0, &ev), EMSGSIZE);
	tp_frame_free(&f);
}

/* Growing to a 60 KB message and shrinking back once it is consumed. */
static void test_large_message(void **state)
{
	size_t cap = 70000;
	char *m = malloc(cap);
	size_t n = mkreq(m, cap, 4, 60000);
	struct tp_frame f;
	int ev;

	(void)state;
	tp_frame_init(&f, 0);
	for (size_t i = 0; i < n; i += 1400) {
		feed(&f, m + i, n - i < 1400 ? n - i : 1400);
		if (i + 1400 < n)
			assert_int_equal(tp_frame_next(&f, M, 0, &ev), EAGAIN);
	}
	assert_true(f.cap > TP_FRAME_INIT_CAP);
	expect_msg(&f, m, n);
	char *d;
	size_t room;
	assert_int_equal(tp_frame_space(&f, &d, &room), 0);
	assert_int_equal(f.cap, TP_FRAME_INIT_CAP);
	tp_frame_free(&f);
	free(m);
}

static void test_not_sip(void **state)
{
	static const struct {
		const char *p;
		size_t n;
	} bad[] = {
		{"hello world\r\n\r\n", 15},
		{"GARBAGE\r\n\r\n", 11},
		{"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\r\n", 14}, /* TLS-ish bytes */
	};
	struct tp_frame f;
	int ev;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		tp_frame_init(&f, 0);
		feed(&f, bad[i].p, bad[i].n);
		assert_int_equal(tp_frame_next(&f, M, 0, &ev), EBADMSG);
		assert_int_equal(tp_frame_next(&f, M, 0, &ev), EBADMSG);
		tp_frame_free(&f);
	}
}

/* RFC 3261 §18.3: a stream message without Content-Length is handed up
 * (to be answered 400), then the stream cannot be framed any more. */
static void test_no_content_length(void **state)
{
	const char *m = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\n"
			"OPTIONS sip:a@b SIP/2.0\r\n";
	struct tp_frame f;
	int ev;

	(void)state;
	tp_frame_init(&f, 0);
	feed(&f, m, strlen(m));
	assert_int_equal(tp_frame_next(&f, M, 0, &ev), 0);
	assert_int_equal(ev, TP_FRAME_MSG);
	assert_true(M->anomalies & MSG_A_NO_CLEN);
	assert_int_equal(tp_frame_next(&f, M, 0, &ev), EPROTO);
	assert_int_equal(tp_frame_next(&f, M, 0, &ev), EPROTO);
	tp_frame_free(&f);
}

/* A small PRNG so that the splits are reproducible. */
static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Many messages and keep-alives, split at random points: the framed
 * messages are those msg_parse finds in the whole stream. */
static void test_random_splits(void **state)
{
	size_t cap = 200000, n = 0, nref = 0;
	char *all = malloc(cap);
	size_t ref_off[64], ref_len[64];
	uint32_t seed = 12345;
	struct tp_frame f;
	int ev;

	(void)state;
	for (int i = 0; i < 60; i++) {
		if (rnd(&seed) % 4 == 0) {
			memcpy(all + n, "\r\n\r\n", 4);
			n += 4;
		}
		n += mkreq(all + n, cap - n, i, rnd(&seed) % 3000);
	}
	for (size_t at = 0, used; at < n; at += used) {
		assert_int_equal(msg_parse(M, all + at, n - at, MSG_PARSE_STREAM, &used), 0);
		ref_off[nref] = (size_t)(M->buf - all);
		ref_len[nref++] = M->len;
	}
	assert_int_equal(nref, 60);
	for (int round = 0; round < 20; round++) {
		size_t k = 0, at = 0;
		tp_frame_init(&f, 0);
		while (at < n) {
			size_t chunk = 1 + rnd(&seed) % (round < 10 ? 8 : 4000);
			if (chunk > n - at)
				chunk = n - at;
			feed(&f, all + at, chunk);
			at += chunk;
			int err;
			while ((err = tp_frame_next(&f, M, 0, &ev)) == 0) {
				if (ev != TP_FRAME_MSG)
					continue;
				assert_true(k < nref);
				assert_int_equal(M->len, ref_len[k]);
				assert_memory_equal(M->buf, all + ref_off[k], ref_len[k]);
				k++;
			}
			assert_int_equal(err, EAGAIN);
		}
		assert_int_equal(k, nref);
		tp_frame_free(&f);
	}
	free(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_several_in_one_chunk),
		cmocka_unit_test(test_split_points),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_large_message),
		cmocka_unit_test(test_not_sip),
		cmocka_unit_test(test_no_content_length),
		cmocka_unit_test(test_random_splits),
	};
	M = malloc(sizeof(*M));
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(M);
	return rc;
}
