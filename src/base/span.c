/*
 * span.c - comparisons and number parsing on spans.
 */
#include <errno.h>

#include "ringlet/base.h"

bool span_eq(const char *buf, struct span s, const char *str)
{
	size_t n = strlen(str);
	return n == s.len && memcmp(buf + s.off, str, n) == 0;
}

bool span_ieq(const char *buf, struct span s, const char *str)
{
	size_t n = strlen(str);
	if (n != s.len)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(buf[s.off + i]) != ascii_lower(str[i]))
			return false;
	return true;
}

bool span_ieq2(const char *abuf, struct span a, const char *bbuf, struct span b)
{
	if (a.len != b.len)
		return false;
	for (uint32_t i = 0; i < a.len; i++)
		if (ascii_lower(abuf[a.off + i]) != ascii_lower(bbuf[b.off + i]))
			return false;
	return true;
}

int span_u32(const char *buf, struct span s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	if (s.len == 0)
		return EINVAL;
	for (uint32_t i = 0; i < s.len; i++) {
		char c = buf[s.off + i];
		if (c < '0' || c > '9')
			return EINVAL;
		v = v * 10 + (uint64_t)(c - '0');
		if (v > max)
			return ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}
