/*
 * loc_codec.c - the bindings of one AOR as one value of a key-value store
 * (Redis): a version token the compare-and-set checks, then the bindings.
 *
 *   token[16] version(1) count(1) binding*
 *   binding = str contact, str path, str instance, u32 reg_id, i16 q,
 *             str call_id, u32 cseq, i64 expires, str received, str user_agent
 *   str = u16 length (little endian) + bytes; integers little endian
 *
 * The value comes from the network, so the decoder checks every length
 * against what is left and against the field it fills.
 */
#include <errno.h>
#include <string.h>

#include "loc/loc_int.h"

#define CODEC_VERSION 1

struct wr {
	char *p;
};

static void put_u(struct wr *w, uint64_t v, unsigned bytes)
{
	unsigned i;

	for (i = 0; i < bytes; i++)
		*w->p++ = (char)(uint8_t)(v >> (8 * i));
}

static void put_s(struct wr *w, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap - 1);

	put_u(w, n, 2);
	memcpy(w->p, s, n);
	w->p += n;
}

size_t loc_encode(const char token[LOC_TOKEN_LEN], const struct loc_binding *b, unsigned n,
		  char *buf)
{
	struct wr w = {buf};
	unsigned i;

	if (n > LOC_MAX_BINDINGS)
		n = LOC_MAX_BINDINGS;
	memcpy(w.p, token, LOC_TOKEN_LEN);
	w.p += LOC_TOKEN_LEN;
	put_u(&w, CODEC_VERSION, 1);
	put_u(&w, n, 1);
	for (i = 0; i < n; i++) {
		put_s(&w, b[i].contact, LOC_CONTACT_MAX);
		put_s(&w, b[i].path, LOC_PATH_MAX);
		put_s(&w, b[i].instance, LOC_INSTANCE_MAX);
		put_u(&w, b[i].reg_id, 4);
		put_u(&w, (uint16_t)b[i].q, 2);
		put_s(&w, b[i].call_id, LOC_CALLID_MAX);
		put_u(&w, b[i].cseq, 4);
		put_u(&w, (uint64_t)b[i].expires, 8);
		put_s(&w, b[i].received, LOC_ADDR_MAX);
		put_s(&w, b[i].user_agent, LOC_UA_MAX);
	}
	return (size_t)(w.p - buf);
}

struct rd {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t get_u(struct rd *r, unsigned bytes)
{
	uint64_t v = 0;
	unsigned i;

	if (r->bad || (size_t)(r->end - r->p) < bytes) {
		r->bad = true;
		return 0;
	}
	for (i = 0; i < bytes; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += bytes;
	return v;
}

static void get_s(struct rd *r, char *dst, size_t cap)
{
	size_t n = (size_t)get_u(r, 2);

	if (r->bad || n >= cap || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		dst[0] = '\0';
		return;
	}
	memcpy(dst, r->p, n);
	dst[n] = '\0';
	r->p += n;
}

static void get_binding(struct rd *r, struct loc_binding *b)
{
	get_s(r, b->contact, sizeof(b->contact));
	get_s(r, b->path, sizeof(b->path));
	get_s(r, b->instance, sizeof(b->instance));
	b->reg_id = (uint32_t)get_u(r, 4);
	b->q = (int16_t)(uint16_t)get_u(r, 2);
	get_s(r, b->call_id, sizeof(b->call_id));
	b->cseq = (uint32_t)get_u(r, 4);
	b->expires = (int64_t)get_u(r, 8);
	get_s(r, b->received, sizeof(b->received));
	get_s(r, b->user_agent, sizeof(b->user_agent));
}

int loc_decode(const char *buf, size_t len, char token[LOC_TOKEN_LEN], struct loc_binding *b,
	       unsigned *n)
{
	struct rd r = {(const uint8_t *)buf, (const uint8_t *)buf + len, false};
	unsigned i, cnt;

	if (len < LOC_TOKEN_LEN + 2)
		return EBADMSG;
	memcpy(token, buf, LOC_TOKEN_LEN);
	r.p += LOC_TOKEN_LEN;
	if (get_u(&r, 1) != CODEC_VERSION)
		return EBADMSG;
	cnt = (unsigned)get_u(&r, 1);
	if (cnt > LOC_MAX_BINDINGS)
		return EBADMSG;
	for (i = 0; i < cnt && !r.bad; i++)
		get_binding(&r, &b[i]);
	if (r.bad || r.p != r.end)
		return EBADMSG;
	*n = cnt;
	return 0;
}
