/*
 * fuzz_auth_check.c - libFuzzer target for auth_credentials, auth_check and
 * auth_challenge (RFC 3261 §22, RFC 7616).
 *
 * Input starting with 'R': the rest is a realm; a challenge made for it must
 * parse back with msg_auth_parse and give the realm back through
 * msg_qstr_copy.  Any other input is a SIP message in which every "@N@" is
 * replaced by a valid fresh nonce for realm atlanta.example, so the checks
 * past the nonce's MAC are reached; it is verified as registrar and as proxy,
 * for a known user and for an unknown one.  The message buffer is exactly as
 * long as the message (ASan catches over-reads).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ringlet/auth.h"
#include "ringlet/msg.h"

#define REALM "atlanta.example"

static struct auth *verifier(void)
{
	static struct auth *a; /* one per process, like a server's */
	static const uint8_t secret[AUTH_SECRET_LEN] = "fuzz-fuzz-fuzz-fuzz-fuzz-fuzz-f";
	if (a == NULL && auth_alloc(&a, secret, 3600) != 0)
		abort();
	return a;
}

static void challenge(const uint8_t *data, size_t size)
{
	char realm[300], out[2048], got[300];
	if (size > sizeof(realm) - 1)
		size = sizeof(realm) - 1;
	memcpy(realm, data, size);
	realm[size] = 0;
	int n = auth_challenge(verifier(), realm, size & 1, size & 2, out, sizeof(out));
	if (n < 0)
		return;
	if ((size_t)n != strlen(out))
		abort();
	/* the first line: "WWW-Authenticate: " or "Proxy-Authenticate: " then the value */
	const char *v = strstr(out, ": ");
	const char *eol = strstr(out, "\r\n");
	if (v == NULL || eol == NULL || v > eol)
		abort();
	struct msg_auth pa;
	struct span s = {(uint32_t)(v + 2 - out), (uint32_t)(eol - v - 2)};
	if (msg_auth_parse(out, s, &pa) != 0)
		abort();
	int k = msg_qstr_copy(out, pa.realm, got, sizeof(got));
	if (k < 0 || strlen(realm) != (size_t)k || memcmp(got, realm, (size_t)k) != 0)
		abort();
}

/* data with every "@N@" replaced by a fresh nonce, in a buffer of exactly that size. */
static char *with_nonces(const uint8_t *data, size_t size, size_t *outlen)
{
	char ch[1024], nonce[AUTH_NONCE_MAX];
	if (auth_challenge(verifier(), REALM, false, false, ch, sizeof(ch)) < 0)
		abort();
	const char *p = strstr(ch, "nonce=\"");
	const char *q = p ? strchr(p + 7, '"') : NULL;
	if (q == NULL || (size_t)(q - p - 7) >= sizeof(nonce))
		abort();
	size_t nlen = (size_t)(q - p - 7);
	memcpy(nonce, p + 7, nlen);

	size_t hits = 0;
	for (size_t i = 0; i + 3 <= size; i++)
		if (memcmp(data + i, "@N@", 3) == 0)
			hits++;
	char *buf = malloc(size + hits * nlen + 1);
	if (buf == NULL)
		abort();
	size_t o = 0;
	for (size_t i = 0; i < size;) {
		if (i + 3 <= size && memcmp(data + i, "@N@", 3) == 0) {
			memcpy(buf + o, nonce, nlen);
			o += nlen;
			i += 3;
		} else {
			buf[o++] = (char)data[i++];
		}
	}
	*outlen = o;
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char md5[] = "0123456789abcdef0123456789abcdef";
	static const char sha[] = "0123456789abcdef0123456789abcdef"
				  "0123456789abcdef0123456789abcdef";
	if (size > 16384)
		return 0;
	if (size > 0 && data[0] == 'R') {
		challenge(data + 1, size - 1);
		return 0;
	}
	size_t len, used;
	char *buf = with_nonces(data, size, &len);
	char *exact = malloc(len ? len : 1);
	struct msg *m = malloc(sizeof(*m));
	if (exact == NULL || m == NULL)
		abort();
	memcpy(exact, buf, len);
	free(buf);
	if (msg_parse(m, exact, len, MSG_PARSE_DGRAM, &used) == 0) {
		for (int proxy = 0; proxy < 2; proxy++) {
			char user[64];
			memset(user, 'X', sizeof(user));
			enum auth_result r = auth_credentials(m, REALM, proxy, user, sizeof(user));
			if (r == AUTH_OK && memchr(user, 0, sizeof(user)) == NULL)
				abort();
			if (r != AUTH_OK && r != AUTH_NONE && r != AUTH_BAD)
				abort();
			r = auth_check(verifier(), m, REALM, proxy, md5, sha);
			if (r > AUTH_REPLAY)
				abort();
			/* an unknown user is never let in */
			if (auth_check(verifier(), m, REALM, proxy, NULL, NULL) == AUTH_OK)
				abort();
		}
	}
	free(m);
	free(exact);
	return 0;
}
