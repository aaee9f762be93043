/*
 * fuzz_rtcp.c - libFuzzer target for the RTCP compound parser (RFC 3550 §6,
 * A.2).
 *
 * A compound that parses must have its CNAME and BYE reason inside the
 * input, and what was understood of it (the first SR/RR with its report
 * blocks, the CNAME, the BYE) must build again and parse to the same values.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ringlet/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rtcp_info ri, back;
	int rc = rtcp_parse(data, size, &ri);
	check(rc == 0 || rc == EBADMSG);
	(void)rtcp_is_rtcp(data, size);
	if (rc != 0)
		return 0;
	check(ri.npackets >= 1 && ri.nrb <= RTCP_MAX_RB && ri.nbye <= RTCP_MAX_RB);
	check(!ri.has_cname || (size_t)ri.cname_off + ri.cname_len <= size);
	check(!ri.reason_len || (size_t)ri.reason_off + ri.reason_len <= size);
	if (!ri.has_sr && !ri.has_rr)
		return 0;

	struct rtcp_report r;
	char cname[256], reason[256];
	memset(&r, 0, sizeof(r));
	r.ssrc = ri.ssrc;
	r.sender = ri.has_sr;
	r.si = ri.si;
	r.nrb = ri.nrb;
	memcpy(r.rb, ri.rb, sizeof(r.rb));
	if (ri.has_cname && !memchr(data + ri.cname_off, 0, ri.cname_len)) {
		memcpy(cname, data + ri.cname_off, ri.cname_len);
		cname[ri.cname_len] = '\0';
		r.cname = cname;
	}
	if (ri.bye && !memchr(data + ri.reason_off, 0, ri.reason_len)) {
		r.bye = true;
		memcpy(reason, data + ri.reason_off, ri.reason_len);
		reason[ri.reason_len] = '\0';
		r.reason = ri.reason_len ? reason : NULL;
	}
	uint8_t out[2048];
	size_t len;
	check(rtcp_build(&r, out, sizeof(out), &len) == 0);
	check(rtcp_parse(out, len, &back) == 0);
	check(back.has_sr == ri.has_sr && back.ssrc == ri.ssrc && back.nrb == ri.nrb);
	check(!ri.has_sr || memcmp(&back.si, &ri.si, sizeof(ri.si)) == 0);
	for (unsigned i = 0; i < ri.nrb; i++)
		check(memcmp(&back.rb[i], &ri.rb[i], sizeof(ri.rb[i])) == 0);
	check(back.has_cname == (r.cname != NULL));
	if (r.cname)
		check(back.cname_len == ri.cname_len &&
		      memcmp(out + back.cname_off, cname, ri.cname_len) == 0);
	check(back.bye == r.bye);
	if (r.bye)
		check(back.reason_len == ri.reason_len &&
		      memcmp(out + back.reason_off, reason, ri.reason_len) == 0);
	return 0;
}
