/*
 * fuzz_auth.c - libFuzzer target for msg_auth_parse and msg_qstr_copy
 * (RFC 3261 §25.1, RFC 7616).
 *
 * The buffer is exactly `size` bytes (ASan catches over-reads).  On success
 * every span must lie inside it, and each field must decode with
 * msg_qstr_copy into a buffer of its own length (unquoting never grows).
 */
#include <stdint.h>
#include <stdlib.h>

#include "ringlet/msg_hdr.h"

static void in_range(struct span s, size_t size)
{
	if (s.len > 0 && (uint64_t)s.off + s.len > size)
		abort();
}

static void field(const char *buf, struct span s, size_t size)
{
	char out[512];

	in_range(s, size);
	if (s.len <= sizeof(out) && msg_qstr_copy(buf, s, out, s.len) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct span v = {0, (uint32_t)size};
	struct msg_auth a;
	char small[16];

	if (size > 65535)
		return 0;
	/* msg_qstr_copy on arbitrary input must respect cap */
	int n = msg_qstr_copy(buf, v, small, sizeof(small));
	if (n > (int)sizeof(small))
		abort();
	if (msg_auth_parse(buf, v, &a) != 0)
		return 0;
	if (a.scheme.len == 0)
		abort();
	struct span fields[] = {a.realm,    a.nonce, a.opaque,   a.algorithm, a.qop,
				a.domain,   a.stale, a.username, a.uri,       a.response,
				a.cnonce,   a.nc,    a.userhash, a.params};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		field(buf, fields[i], size);
	in_range(a.scheme, size);
	return 0;
}
