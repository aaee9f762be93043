/*
 * fuzz_nameaddr.c - libFuzzer target for msg_nameaddr_parse and
 * msg_contact_parse, plus the small scalar parsers of msg_hdr.h (CSeq,
 * numbers, Call-ID, token, Content-Type, Retry-After, Event,
 * Subscription-State), all fed the same element value.
 *
 * The buffer is exactly `size` bytes (ASan catches over-reads); on success
 * every span must lie inside it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "ringlet/msg_hdr.h"

static void in_range(struct span s, size_t size)
{
	if (s.len > 0 && (uint64_t)s.off + s.len > size)
		abort();
}

static void check_rc(int rc)
{
	if (rc != 0 && rc != EBADMSG)
		abort();
}

static void scalars(const char *buf, struct span v, size_t size)
{
	struct msg_cseq cs;
	struct msg_ctype ct;
	struct msg_retry_after ra;
	struct msg_event ev;
	struct msg_substate ss;
	struct span s;
	uint32_t u;
	int rc;

	if ((rc = msg_cseq_parse(buf, v, &cs)) == 0) {
		in_range(cs.method, size);
		if (cs.num > 2147483647u || cs.method.len == 0)
			abort();
	}
	check_rc(rc);
	if ((rc = msg_uint_parse(buf, v, 255, &u)) == 0 && u > 255)
		abort();
	check_rc(rc);
	if ((rc = msg_callid_parse(buf, v, &s)) == 0)
		in_range(s, size);
	check_rc(rc);
	if ((rc = msg_token_parse(buf, v, &s)) == 0)
		in_range(s, size);
	check_rc(rc);
	if ((rc = msg_ctype_parse(buf, v, &ct)) == 0) {
		in_range(ct.type, size);
		in_range(ct.subtype, size);
		in_range(ct.params, size);
	}
	check_rc(rc);
	if ((rc = msg_retry_after_parse(buf, v, &ra)) == 0) {
		in_range(ra.comment, size);
		in_range(ra.params, size);
	}
	check_rc(rc);
	if ((rc = msg_event_parse(buf, v, &ev)) == 0) {
		in_range(ev.package, size);
		in_range(ev.id, size);
		in_range(ev.params, size);
	}
	check_rc(rc);
	if ((rc = msg_substate_parse(buf, v, &ss)) == 0) {
		in_range(ss.state, size);
		in_range(ss.reason, size);
		in_range(ss.params, size);
	}
	check_rc(rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct span v = {0, (uint32_t)size};
	struct msg_nameaddr na;
	struct msg_contact c;
	int rc;

	if (size > 65535)
		return 0;
	if ((rc = msg_nameaddr_parse(buf, v, &na)) == 0) {
		in_range(na.display, size);
		in_range(na.uri_s, size);
		in_range(na.params, size);
		in_range(na.tag, size);
		if (na.uri_s.len == 0 || (na.has_tag && na.tag.len == 0))
			abort();
	}
	check_rc(rc);
	if ((rc = msg_contact_parse(buf, v, &c)) == 0) {
		if (c.q < -1 || c.q > 1000 || c.expires < -1 || c.expires > 4294967295LL)
			abort();
		if (!c.star)
			in_range(c.na.uri_s, size);
	}
	check_rc(rc);
	scalars(buf, v, size);
	return 0;
}
