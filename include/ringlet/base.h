/*
 * base.h - spans and small helpers shared by every module.
 *
 * A span is an (offset, length) pair relative to the start of a buffer that
 * the span does not own.  Offsets rather than pointers let a parsed message be
 * copied or moved with a single memcpy (STYLE.md §2, "Parser").
 */
#ifndef RINGLET_BASE_H
#define RINGLET_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct span {
	uint32_t off;
	uint32_t len;
};

#define SPAN_NULL ((struct span){0, 0})

/* Pointer to the first byte of span s inside buf. */
static inline const char *span_ptr(const char *buf, struct span s)
{
	return buf + s.off;
}

/* True if the span is empty. */
static inline bool span_empty(struct span s)
{
	return s.len == 0;
}

/* Span covering [a, b) where a and b point into buf. */
static inline struct span span_from(const char *buf, const char *a, const char *b)
{
	struct span s = {(uint32_t)(a - buf), (uint32_t)(b - a)};
	return s;
}

/* Exact (case-sensitive) comparison of a span with a NUL-terminated string. */
bool span_eq(const char *buf, struct span s, const char *str);

/* ASCII case-insensitive comparison of a span with a NUL-terminated string. */
bool span_ieq(const char *buf, struct span s, const char *str);

/* ASCII case-insensitive comparison of two spans in (possibly) two buffers. */
bool span_ieq2(const char *abuf, struct span a, const char *bbuf, struct span b);

/*
 * Parse a decimal unsigned integer that fills the whole span.
 * Returns 0 and writes *out, or ERANGE (value > max) or EINVAL (empty, non-digit).
 * Leading zeros are allowed.
 */
int span_u32(const char *buf, struct span s, uint32_t max, uint32_t *out);

/* ASCII lower-case of c. */
static inline char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
