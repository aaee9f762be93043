/*
 * fuzz_uri.c - libFuzzer target for msg_uri_parse, msg_uri_equal and the
 * parameter helpers.
 *
 * The input is split at its first '\n' (or, without one, in two halves); each
 * part goes into a heap buffer of its exact size so that any over-read trips
 * AddressSanitizer.  Checked properties: every span of a parsed URI lies in
 * its input, a URI equals itself, equality is symmetric, the parameter
 * iterator terminates within the number of ';' plus one.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ringlet/msg_uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_inside(struct span s, size_t n)
{
	if ((size_t)s.off + s.len > n)
		abort();
}

static void check_params(const char *buf, struct span s)
{
	uint32_t pos = 0, semis = 0, seen = 0;
	struct span name, value;
	char out[64];

	for (uint32_t i = 0; i < s.len; i++)
		semis += buf[s.off + i] == ';';
	while (msg_param_next(buf, s, &pos, &name, &value)) {
		check_inside(name, (size_t)s.off + s.len);
		check_inside(value, (size_t)s.off + s.len);
		if (name.off < s.off || value.off < s.off || ++seen > semis + 1)
			abort();
		(void)msg_unescape(buf, value, out, sizeof(out));
	}
	(void)msg_param_get(buf, s, "transport", &value);
}

/* Parse buf[0..n); returns true and fills *u on success. */
static bool parse(const char *buf, size_t n, struct msg_uri *u)
{
	if (msg_uri_parse(buf, (struct span){0, (uint32_t)n}, u) != 0)
		return false;
	const struct span all[] = {u->whole,  u->scheme_s, u->user,    u->password, u->host,
				   u->port_s, u->params,   u->headers, u->opaque};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		check_inside(all[i], n);
	if (!msg_uri_equal(buf, u, buf, u))
		abort();
	check_params(buf, u->params);
	return true;
}

static char *copy(const uint8_t *p, size_t n)
{
	char *b = malloc(n ? n : 1);
	if (b == NULL)
		abort();
	memcpy(b, p, n);
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_uri a, b;
	size_t cut = size / 2, rest;

	if (size > 65536)
		return 0;
	check_params((const char *)data, (struct span){0, (uint32_t)size});
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\n') {
			cut = i;
			break;
		}
	}
	rest = cut < size && data[cut] == '\n' ? cut + 1 : cut;
	char *x = copy(data, cut);
	char *y = copy(data + rest, size - rest);
	bool ok_a = parse(x, cut, &a);
	bool ok_b = parse(y, size - rest, &b);
	if (ok_a && ok_b && msg_uri_equal(x, &a, y, &b) != msg_uri_equal(y, &b, x, &a))
		abort();
	free(x);
	free(y);
	return 0;
}
