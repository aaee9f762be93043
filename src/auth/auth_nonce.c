/*
 * auth_nonce.c - the verifier object, stateless nonces (RFC 7616 §3.3, §5.4)
 * and the nonce-count cache (RFC 7616 §3.4, §5.5).
 *
 * Nonces need no shared state: a node that holds the deployment's secret
 * checks a nonce's MAC and reads its age from it.  Replays are caught per
 * process: a set-associative table keyed by the nonce's MAC keeps the
 * highest nonce-count accepted for each nonce.  The table has a fixed size;
 * a new nonce takes a free or expired entry of its set, else evicts the
 * entry of the oldest nonce there.  A live nonce that was evicted and
 * comes back is treated like one this node never saw (auth.h): its next
 * count is accepted and remembered, so one replay of it can pass.  With the
 * default size (32768 entries) that needs tens of thousands of fresh
 * authentications within one nonce lifetime, landing in the same set.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "auth/auth_int.h"

static const char hexdig[] = "0123456789abcdef";

static int64_t wall_clock(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec;
}

int64_t auth_now(const struct auth *a)
{
	return a->clock ? a->clock(a->clock_arg) : wall_clock();
}

void auth_set_clock(struct auth *a, auth_clock_fn *fn, void *arg)
{
	a->clock = fn;
	a->clock_arg = arg;
}

/* HA1-shaped hex that no password produces knowingly: the hash of random bytes. */
static int make_dummies(struct auth *a)
{
	uint8_t r[32];
	if (RAND_bytes(r, sizeof(r)) != 1)
		return EIO;
	struct auth_part p = {(const char *)r, sizeof(r)};
	auth_hash_hex(AUTH_MD5, &p, 1, a->dummy_md5);
	auth_hash_hex(AUTH_SHA256, &p, 1, a->dummy_sha256);
	OPENSSL_cleanse(r, sizeof(r));
	return 0;
}

int auth_alloc_cache(struct auth **out, const uint8_t *secret, unsigned nonce_ttl, unsigned entries)
{
	struct auth *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return ENOMEM;
	uint32_t sets = 1;
	while (sets * AUTH_NC_WAYS < entries && sets < (1u << 24))
		sets <<= 1;
	a->nsets = sets;
	a->nc = calloc((size_t)sets * AUTH_NC_WAYS, sizeof(*a->nc));
	if (a->nc == NULL) {
		free(a);
		return ENOMEM;
	}
	int err = 0;
	if (secret != NULL)
		memcpy(a->secret, secret, AUTH_SECRET_LEN);
	else if (RAND_bytes(a->secret, AUTH_SECRET_LEN) != 1)
		err = EIO;
	if (err == 0)
		err = make_dummies(a);
	if (err) {
		free(a->nc);
		free(a);
		return err;
	}
	a->ttl = nonce_ttl;
	for (unsigned i = 0; i < AUTH_NC_LOCKS; i++)
		pthread_mutex_init(&a->locks[i], NULL);
	*out = a;
	return 0;
}

int auth_alloc(struct auth **out, const uint8_t *secret, unsigned nonce_ttl)
{
	return auth_alloc_cache(out, secret, nonce_ttl, AUTH_NC_DEFAULT);
}

void auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	for (unsigned i = 0; i < AUTH_NC_LOCKS; i++)
		pthread_mutex_destroy(&a->locks[i]);
	OPENSSL_cleanse(a->secret, sizeof(a->secret));
	free(a->nc);
	free(a);
}

/* HMAC-SHA-256 over label | time+random | realm, cut to AUTH_MAC_LEN bytes. */
static bool nonce_mac(const struct auth *a, const uint8_t head[16], const char *realm,
		      size_t realmlen, uint8_t mac[AUTH_MAC_LEN])
{
	static const char label[] = "ringlet-nonce-1";
	uint8_t in[sizeof(label) + 16 + AUTH_REALM_MAX];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (realmlen > AUTH_REALM_MAX)
		return false;
	memcpy(in, label, sizeof(label)); /* with its NUL: a separator */
	memcpy(in + sizeof(label), head, 16);
	memcpy(in + sizeof(label) + 16, realm, realmlen);
	if (HMAC(EVP_sha256(), a->secret, AUTH_SECRET_LEN, in, sizeof(label) + 16 + realmlen, md,
		 &mdlen) == NULL ||
	    mdlen < AUTH_MAC_LEN)
		return false;
	memcpy(mac, md, AUTH_MAC_LEN);
	return true;
}

int auth_nonce_make(struct auth *a, const char *realm, size_t realmlen, int64_t now,
		    char out[AUTH_NONCE_HEX + 1])
{
	uint8_t raw[AUTH_NONCE_RAW];
	uint64_t t = (uint64_t)now;

	if (realmlen > AUTH_REALM_MAX)
		return EINVAL;
	for (int i = 0; i < 8; i++)
		raw[i] = (uint8_t)(t >> (56 - 8 * i));
	if (RAND_bytes(raw + 8, 8) != 1)
		return EIO;
	if (!nonce_mac(a, raw, realm, realmlen, raw + 16))
		return EIO;
	for (int i = 0; i < AUTH_NONCE_RAW; i++) {
		out[2 * i] = hexdig[raw[i] >> 4];
		out[2 * i + 1] = hexdig[raw[i] & 15];
	}
	out[AUTH_NONCE_HEX] = 0;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* we write lower case only */
}

bool auth_nonce_verify(const struct auth *a, const char *realm, size_t realmlen, const char *nonce,
		       size_t len, int64_t *ts, uint8_t mac[AUTH_MAC_LEN])
{
	uint8_t raw[AUTH_NONCE_RAW];
	uint8_t want[AUTH_MAC_LEN];

	if (len != AUTH_NONCE_HEX)
		return false;
	for (int i = 0; i < AUTH_NONCE_RAW; i++) {
		int hi = hexval(nonce[2 * i]), lo = hexval(nonce[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		raw[i] = (uint8_t)(hi << 4 | lo);
	}
	if (!nonce_mac(a, raw, realm, realmlen, want) ||
	    CRYPTO_memcmp(want, raw + 16, AUTH_MAC_LEN) != 0)
		return false;
	uint64_t t = 0;
	for (int i = 0; i < 8; i++)
		t = t << 8 | raw[i];
	if (t > INT64_MAX)
		return false;
	*ts = (int64_t)t;
	memcpy(mac, raw + 16, AUTH_MAC_LEN);
	return true;
}

/* Where a nonce new to the cache goes: a free or expired entry, else the oldest nonce's. */
static struct auth_nc_entry *victim_of(struct auth_nc_entry *e, int64_t ttl, int64_t now)
{
	struct auth_nc_entry *v = &e[0];
	for (unsigned i = 0; i < AUTH_NC_WAYS; i++) {
		if (e[i].ts == 0 || e[i].ts + ttl < now)
			return &e[i];
		if (e[i].ts < v->ts)
			v = &e[i];
	}
	return v;
}

/*
 * An expired entry may be reused: its nonce can no longer pass auth_check
 * (expiry is checked before the count), so forgetting its count is safe.
 */
enum auth_result auth_nc_check(struct auth *a, const uint8_t mac[AUTH_MAC_LEN], int64_t ts,
			       uint32_t nc, int64_t now)
{
	uint64_t h;
	memcpy(&h, mac, sizeof(h)); /* the MAC is uniform and unforgeable: no flooding */
	uint32_t set = (uint32_t)(h & (a->nsets - 1));
	struct auth_nc_entry *e = &a->nc[(size_t)set * AUTH_NC_WAYS];
	pthread_mutex_t *lock = &a->locks[set % AUTH_NC_LOCKS];
	enum auth_result r = AUTH_OK;

	pthread_mutex_lock(lock);
	unsigned i;
	for (i = 0; i < AUTH_NC_WAYS; i++)
		if (e[i].ts != 0 && memcmp(e[i].key, mac, AUTH_MAC_LEN) == 0)
			break;
	if (i < AUTH_NC_WAYS) {
		if (nc <= e[i].nc)
			r = AUTH_REPLAY; /* RFC 7616 §3.4: the count must increase */
		else
			e[i].nc = nc;
	} else {
		struct auth_nc_entry *v = victim_of(e, (int64_t)a->ttl, now);
		memcpy(v->key, mac, AUTH_MAC_LEN);
		v->ts = ts > 0 ? ts : 1;
		v->nc = nc;
	}
	pthread_mutex_unlock(lock);
	return r;
}
