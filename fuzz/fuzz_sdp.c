/*
 * fuzz_sdp.c - libFuzzer target for the SDP parser, printer and offer/answer.
 *
 * The input is parsed as an SDP body, and so is whatever follows its first
 * blank line (so whole SIP messages from the torture corpus are useful seeds).
 * A description that parses must print, re-parse to an equal structure, and
 * give an answer that prints and parses again.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ringlet/msg_sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct msg_sdp_codec local_codecs[] = {
	{0, MSG_SDP_LIT("PCMU"), 8000, 1, {NULL, 0}},
	{8, MSG_SDP_LIT("PCMA"), 8000, 1, {NULL, 0}},
	{9, MSG_SDP_LIT("G722"), 8000, 1, {NULL, 0}},
	{96, MSG_SDP_LIT("opus"), 48000, 2, MSG_SDP_LIT("useinbandfec=1")},
	{101, MSG_SDP_LIT("telephone-event"), 8000, 1, {NULL, 0}},
	{13, MSG_SDP_LIT("CN"), 8000, 1, {NULL, 0}},
};

struct work {
	struct msg_sdp a, b;
	struct msg_sdp_desc ans;
	struct msg_sdp_choice choice[MSG_SDP_MAX_MEDIA];
};

static void check(int ok)
{
	if (!ok)
		abort();
}

/* Answer a (as an offer), print the answer, parse it back. */
static void answer(struct work *w, char *out, size_t cap)
{
	struct msg_sdp_local local = {local_codecs, ARRAY_SIZE(local_codecs), 20000, 20};
	size_t n;
	memset(&w->ans, 0, sizeof(w->ans));
	w->ans.user = msg_sdp_str("fuzz");
	w->ans.addr = msg_sdp_str("2001:db8::1");
	check(msg_sdp_answer(&w->a, &local, &w->ans) == 0);
	check(w->ans.nmedia == w->a.nmedia);
	check(msg_sdp_desc_print(&w->ans, out, cap, &n) == 0);
	int rc = msg_sdp_parse(&w->b, out, (struct span){0, (uint32_t)n});
	/* an answer adds rtpmap lines for static types: it may outgrow the line limit */
	check(rc == 0 || rc == EMSGSIZE);
	if (rc == 0) {
		check(w->b.nmedia == w->a.nmedia);
		for (unsigned i = 0; i < w->b.nmedia; i++)
			check(w->b.media[i].port == 0 || w->b.media[i].port >= 20000);
		check(msg_sdp_chosen(&w->b, local_codecs, ARRAY_SIZE(local_codecs), w->choice,
				     MSG_SDP_MAX_MEDIA) == 0);
	}
}

static void one(struct work *w, const char *buf, struct span body)
{
	int rc = msg_sdp_parse(&w->a, buf, body);
	check(rc == 0 || rc == EBADMSG || rc == EMSGSIZE);
	if (rc != 0)
		return;
	size_t cap = (size_t)body.len * 2 + 2 * MSG_SDP_MAX_LINES + 65536, n;
	char *out = malloc(cap);
	check(out != NULL);
	check(msg_sdp_print(&w->a, out, cap, &n) == 0);
	char *exact = malloc(n ? n : 1);
	check(exact != NULL);
	memcpy(exact, out, n);
	check(msg_sdp_parse(&w->b, exact, (struct span){0, (uint32_t)n}) == 0);
	check(msg_sdp_equal(&w->a, &w->b));
	free(exact);

	for (unsigned i = 0; i < w->a.nmedia; i++) {
		const struct msg_sdp_media *m = &w->a.media[i];
		struct msg_sdp_rtpmap r;
		struct span p;
		for (unsigned k = 0; k < m->nfmts; k++)
			(void)msg_sdp_fmt_codec(&w->a, m, k, &r);
		(void)msg_sdp_fmtp(&w->a, m, m->pts[0], &p);
		(void)msg_sdp_ptime(&w->a, m);
		(void)msg_sdp_held(&w->a, m);
	}
	answer(w, out, cap);
	check(msg_sdp_chosen(&w->a, local_codecs, ARRAY_SIZE(local_codecs), w->choice,
			     MSG_SDP_MAX_MEDIA) == 0);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	if (size > 1u << 20)
		return 0;
	struct work *w = malloc(sizeof(*w));
	check(w != NULL);
	one(w, buf, (struct span){0, (uint32_t)size});
	const char *blank = memmem(buf, size, "\r\n\r\n", 4);
	if (blank) {
		blank += 4;
		one(w, buf, span_from(buf, blank, buf + size));
	}
	free(w);
	return 0;
}
