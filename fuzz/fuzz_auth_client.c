/*
 * fuzz_auth_client.c - libFuzzer target for auth_client_answer (the UA side
 * of digest, RFC 3261 §22.2-22.3, RFC 7616): the input is a response; its
 * 401/407 challenges are answered into buffers of every size up to the
 * answer's, and each answer must be NUL-terminated, as long as returned, made
 * of complete CRLF-ended credentials lines that parse back with
 * msg_auth_parse.  The message buffer is exactly as long as the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ringlet/auth.h"
#include "ringlet/msg.h"
#include "ringlet/msg_hdr.h"

static void check_lines(const char *out, size_t n)
{
	const char *p = out, *end = out + n;
	while (p < end) {
		const char *eol = strstr(p, "\r\n");
		const char *v = strstr(p, ": ");
		if (!eol || !v || v > eol)
			abort();
		struct msg_auth a;
		struct span s = {(uint32_t)(v + 2 - out), (uint32_t)(eol - v - 2)};
		if (msg_auth_parse(out, s, &a) != 0 || !a.response.len || !a.username.len)
			abort();
		p = eol + 2;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct msg *m = malloc(sizeof(*m));
	char out[4096];
	size_t used;
	bool stale;
	if (!buf || !m)
		abort();
	memcpy(buf, data, size);
	if (msg_parse(m, buf, size, MSG_PARSE_DGRAM, &used) == 0 && !m->is_request &&
	    (m->status == 401 || m->status == 407)) {
		int n = auth_client_answer(m, "INVITE", "sip:bob@biloxi.example", "alice", "pw", 1,
					   &stale, out, sizeof(out));
		if (n > 0) {
			if ((size_t)n != strlen(out))
				abort();
			check_lines(out, (size_t)n);
			for (size_t cap = 1; cap <= (size_t)n; cap += 1 + cap / 4)
				if (auth_client_answer(m, "INVITE", "sip:bob@biloxi.example", "alice",
						       "pw", 1, &stale, out, cap) != -1)
					abort();
		}
	}
	free(m);
	free(buf);
	return 0;
}
