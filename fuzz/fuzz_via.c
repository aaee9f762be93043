/*
 * fuzz_via.c - libFuzzer target for msg_via_parse (RFC 3261 §20.42).
 *
 * The input is one Via element value.  libFuzzer hands over a buffer of
 * exactly `size` bytes, so ASan flags any read past the span.  On success
 * every span must lie inside the input and the numbers inside their ranges.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ringlet/msg_hdr.h"

static void in_range(struct span s, size_t size)
{
	if (s.len > 0 && (uint64_t)s.off + s.len > size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct span v = {0, (uint32_t)size};
	struct msg_via via;

	if (size > 65535)
		return 0;
	if (msg_via_parse(buf, v, &via) != 0)
		return 0;
	in_range(via.proto_name, size);
	in_range(via.proto_ver, size);
	in_range(via.transport, size);
	in_range(via.host, size);
	in_range(via.branch, size);
	in_range(via.received, size);
	in_range(via.maddr, size);
	in_range(via.params, size);
	if (via.host.len == 0 || via.transport.len == 0 || via.host_type == MSG_HOST_NONE)
		abort();
	if (via.rport < -1 || via.rport > 65535 || via.ttl < -1 || via.ttl > 255)
		abort();
	return 0;
}
