/*
 * fuzz_reg.c - libFuzzer target for the registrar's reading of a REGISTER
 * (src/reg/reg_parse.c) and its 200 (reg_reply.c): one datagram in, the
 * AOR, the shared binding fields, the changes and the reply header lines
 * out, with every domain counted as ours.
 *
 * Invariants: nothing reads or writes past its buffer (ASan); the changes
 * fit the room reg.c gives them (one per Contact element, LOC_MAX_BINDINGS
 * at most); every stored string is NUL-terminated inside its field; the
 * reply fits reg_reply_cap and holds no bare CR or LF but its line ends.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/reg/reg_int.h" /* fuzz targets see only include/ */

static bool any_domain(void *arg, const char *buf, const struct msg_uri *u)
{
	(void)arg;
	(void)buf;
	return u->host.len > 0;
}

static void terminated(const char *s, size_t cap)
{
	if (!memchr(s, 0, cap))
		abort();
}

static void check_reply(const struct loc_binding *b, unsigned n, const char *path)
{
	size_t cap = reg_reply_cap(n, strlen(path));
	char *out = malloc(cap);

	if (!out)
		return;
	int len = reg_reply_hdrs(b, n, 1700000000, path, out, cap);
	if (len < 0 || (size_t)len >= cap || strlen(out) != (size_t)len)
		abort();
	/* every CR starts a line end and every LF ends one */
	for (int i = 0; i < len; i++)
		if ((out[i] == '\r' && out[i + 1] != '\n') ||
		    (out[i] == '\n' && (i == 0 || out[i - 1] != '\r')))
			abort();
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct msg m; /* large: not on the stack */
	struct reg_verdict v = {0, NULL};
	struct reg_aor aor;
	struct loc_binding tmpl;
	size_t used;

	if (size > MSG_MAX_SIZE || msg_parse(&m, (const char *)data, size, MSG_PARSE_DGRAM, &used))
		return 0;
	if (!m.is_request)
		return 0;
	const struct msg_uri *ru = msg_ruri(&m);
	char key[LOC_AOR_MAX];
	if (ru && reg_aor(m.buf, ru, key, sizeof(key)) >= 0)
		terminated(key, sizeof(key));
	if (!reg_parse_aor(&m, any_domain, NULL, &aor, &v) ||
	    !reg_parse_common(&m, "udp:192.0.2.1:5060", &tmpl, &v)) {
		if (v.status < 400 || !v.reason)
			abort();
		return 0;
	}
	terminated(aor.aor, sizeof(aor.aor));
	terminated(tmpl.path, sizeof(tmpl.path));
	terminated(tmpl.call_id, sizeof(tmpl.call_id));
	terminated(tmpl.user_agent, sizeof(tmpl.user_agent));

	unsigned elems = 0;
	for (const struct msg_hdr *h = msg_hdr_find(&m, MSG_HDR_CONTACT);
	     h && elems < LOC_MAX_BINDINGS; h = msg_hdr_next(&m, h))
		elems++;
	struct loc_change *c = malloc((elems ? elems : 1) * sizeof(*c));
	if (!c)
		return 0;
	struct reg_conf conf = {.min_expires = 60, .max_expires = 7200, .default_expires = 3600};
	unsigned n = 0;
	bool star = false;
	if (reg_parse_contacts(&m, &conf, 1700000000, &tmpl, c, &n, &star, &v)) {
		struct loc_binding *b = malloc((n ? n : 1) * sizeof(*b));
		if (n > elems || (star && n) || !b)
			abort();
		for (unsigned i = 0; i < n; i++) {
			terminated(c[i].b.contact, sizeof(c[i].b.contact));
			terminated(c[i].b.instance, sizeof(c[i].b.instance));
			b[i] = c[i].b;
		}
		check_reply(b, n, tmpl.path);
		free(b);
	} else if (v.status != 400 && v.status != 403 && v.status != 423) {
		abort();
	}
	free(c);
	return 0;
}
