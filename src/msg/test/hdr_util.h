/*
 * hdr_util.h - shared helpers of the typed-header tests (test_msg_hdr.c,
 * test_msg_via.c, test_msg_addr.c, test_msg_auth.c).
 *
 * Each input is copied into a heap block of exactly its size behind a short
 * prefix, so the span never starts at offset 0 and AddressSanitizer reports
 * any read past the end of the value (the parsers get no NUL terminator).
 */
#ifndef RINGLET_TEST_HDR_UTIL_H
#define RINGLET_TEST_HDR_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ringlet/msg_hdr.h"

/* Characters a parser that reads before the span would stumble on. */
#define HDR_PREFIX "\"<;,"
#define HDR_PREFIX_LEN 4u

struct hbuf {
	char *buf;
	struct span v;
};

/* A fresh exact-size copy of the n bytes at s behind HDR_PREFIX; free with hbuf_free. */
static inline struct hbuf hbuf_newn(const char *s, size_t n)
{
	struct hbuf h;

	h.buf = malloc(HDR_PREFIX_LEN + n); /* exact: no byte after the value */
	assert_non_null(h.buf);
	memcpy(h.buf, HDR_PREFIX, HDR_PREFIX_LEN);
	memcpy(h.buf + HDR_PREFIX_LEN, s, n);
	h.v.off = HDR_PREFIX_LEN;
	h.v.len = (uint32_t)n;
	return h;
}

/* hbuf_newn of a NUL-terminated string. */
static inline struct hbuf hbuf_new(const char *s)
{
	return hbuf_newn(s, strlen(s));
}

static inline void hbuf_free(struct hbuf *h)
{
	free(h->buf);
	h->buf = NULL;
}

/* Span s of buf equals want (NULL: s is empty). */
static inline void assert_span(const char *buf, struct span s, const char *want)
{
	if (want == NULL) {
		assert_int_equal(s.len, 0);
		return;
	}
	size_t n = strlen(want);
	if (s.len != n || memcmp(buf + s.off, want, n) != 0) {
		print_error("span \"%.*s\" != \"%s\"\n", (int)s.len, buf + s.off, want);
		fail();
	}
}

/* The span lies inside the value [v.off, v.off + v.len). */
static inline void assert_in_value(struct span v, struct span s)
{
	if (s.len == 0)
		return;
	assert_true(s.off >= v.off);
	assert_true((uint64_t)s.off + s.len <= (uint64_t)v.off + v.len);
}

#endif
