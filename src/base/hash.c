/*
 * hash.c - intrusive chained hash table with incremental doubling, and the
 * byte-string hashes.
 *
 * The table has a current bucket array and, while it grows, the old one.
 * Growing allocates the new array (twice the size) and from then on every
 * insert, find and remove moves HASH_STEP old buckets over, so the cost of a
 * resize is spread over the next n/HASH_STEP operations.  The bucket index
 * takes the top bits of the hash times an odd constant ("Fibonacci
 * hashing"), which both spreads weak caller hashes and maps old bucket i to
 * new buckets 2i and 2i+1.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "ringlet/hash.h"
#include "ringlet/mem.h"

#define HASH_STEP 8	/* old buckets moved per operation while growing */
#define HASH_MIN_BITS 3 /* 8 buckets */
#define HASH_MAX_BITS 40

#define K1 0x9e3779b97f4a7c15ull
#define K2 0xc6a4a7935bd1e995ull
#define K3 0xff51afd7ed558ccdull

struct table {
	struct hash_node **b;
	unsigned bits;
};

struct hash {
	struct table cur;
	struct table old; /* old.b != NULL while growing */
	size_t pos;	  /* old buckets below pos are empty (moved) */
	size_t count;
	unsigned walking; /* > 0 inside hash_apply: nothing moves */
};

static size_t bucket(uint64_t hash, unsigned bits)
{
	return (size_t)((hash * K1) >> (64 - bits));
}

static void link_node(struct hash_node **slot, struct hash_node *n)
{
	n->next = *slot;
	if (n->next)
		n->next->pprev = &n->next;
	*slot = n;
	n->pprev = slot;
}

static void unlink_node(struct hash_node *n)
{
	*n->pprev = n->next;
	if (n->next)
		n->next->pprev = n->pprev;
	n->next = NULL;
	n->pprev = NULL;
}

/* Move up to HASH_STEP old buckets to the current array; free it when drained. */
static void rehash_step(struct hash *h)
{
	size_t nb, end;

	if (!h->old.b || h->walking)
		return;
	nb = (size_t)1 << h->old.bits;
	end = h->pos + HASH_STEP < nb ? h->pos + HASH_STEP : nb;
	for (; h->pos < end; h->pos++) {
		struct hash_node *n;

		while ((n = h->old.b[h->pos]) != NULL) {
			unlink_node(n);
			link_node(&h->cur.b[bucket(n->hash, h->cur.bits)], n);
		}
	}
	if (h->pos == nb)
		h->old.b = mem_deref(h->old.b);
}

/* Start doubling when the load factor reaches 1 (and no doubling is under way). */
static void maybe_grow(struct hash *h)
{
	struct hash_node **nb;
	unsigned bits = h->cur.bits + 1;

	if (h->old.b || h->count < ((size_t)1 << h->cur.bits) || bits > HASH_MAX_BITS)
		return;
	nb = mem_alloc(sizeof(*nb) << bits, NULL);
	if (!nb)
		return; /* keep going with longer chains; retried on the next insert */
	h->old = h->cur;
	h->cur.b = nb;
	h->cur.bits = bits;
	h->pos = 0;
}

static void unlink_all(struct table *t, size_t from)
{
	size_t nb = (size_t)1 << t->bits;

	for (size_t i = from; i < nb; i++)
		while (t->b[i])
			unlink_node(t->b[i]);
}

static void hash_destroy(void *p)
{
	struct hash *h = p;

	/* Leave the elements still in the table marked unlinked, not pointing at freed buckets. */
	if (h->old.b) {
		unlink_all(&h->old, h->pos);
		mem_deref(h->old.b);
	}
	if (h->cur.b) /* NULL when hash_alloc failed */
		unlink_all(&h->cur, 0);
	mem_deref(h->cur.b);
}

int hash_alloc(struct hash **out, size_t expected)
{
	struct hash *h = mem_alloc(sizeof(*h), hash_destroy);
	unsigned bits = HASH_MIN_BITS;

	if (!h)
		return ENOMEM;
	while (bits < HASH_MAX_BITS && ((size_t)1 << bits) < expected)
		bits++;
	h->cur.b = mem_alloc(sizeof(*h->cur.b) << bits, NULL);
	if (!h->cur.b) {
		mem_deref(h);
		return ENOMEM;
	}
	h->cur.bits = bits;
	*out = h;
	return 0;
}

void hash_insert(struct hash *h, struct hash_node *n, uint64_t hash)
{
	assert(n->pprev == NULL);
	rehash_step(h);
	maybe_grow(h);
	n->hash = hash;
	link_node(&h->cur.b[bucket(hash, h->cur.bits)], n);
	h->count++;
}

static struct hash_node *chain_find(struct hash_node *n, uint64_t hash, hash_eq_fn *eq,
				    const void *key)
{
	for (; n; n = n->next)
		if (n->hash == hash && eq(n, key))
			return n;
	return NULL;
}

struct hash_node *hash_find(struct hash *h, uint64_t hash, hash_eq_fn *eq, const void *key)
{
	struct hash_node *n;

	rehash_step(h);
	n = chain_find(h->cur.b[bucket(hash, h->cur.bits)], hash, eq, key);
	if (!n && h->old.b) {
		size_t i = bucket(hash, h->old.bits);

		if (i >= h->pos)
			n = chain_find(h->old.b[i], hash, eq, key);
	}
	return n;
}

void hash_remove(struct hash *h, struct hash_node *n)
{
	if (!n->pprev)
		return;
	unlink_node(n);
	h->count--;
	rehash_step(h);
}

size_t hash_count(const struct hash *h)
{
	return h->count;
}

static struct hash_node *walk(struct table *t, size_t from, hash_apply_fn *fn, void *arg)
{
	size_t nb = (size_t)1 << t->bits;

	for (size_t i = from; i < nb; i++) {
		struct hash_node *n = t->b[i], *next;

		for (; n; n = next) {
			next = n->next;
			if (fn(n, arg))
				return n;
		}
	}
	return NULL;
}

struct hash_node *hash_apply(struct hash *h, hash_apply_fn *fn, void *arg)
{
	struct hash_node *n = NULL;

	h->walking++;
	if (h->old.b)
		n = walk(&h->old, h->pos, fn, arg);
	if (!n)
		n = walk(&h->cur, 0, fn, arg);
	h->walking--;
	return n;
}

/*
 * The byte hashes.  Two lanes take 8 bytes each per round; a round is
 * h' = rotl(h ^ w * K1, 31) * K2, a bijection of h for fixed w and of w for
 * fixed h, so no input word can cancel the state.  The 0-7 byte tail is read
 * as one zero-padded word and the length is mixed in first, so a shorter
 * input never equals a zero-extended longer one.  A final xor-shift-multiply
 * avalanche spreads every input bit over the whole value.
 */
static inline uint64_t rotl(uint64_t x, unsigned r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t round64(uint64_t h, uint64_t w)
{
	return rotl(h ^ (w * K1), 31) * K2;
}

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

static inline uint64_t load_tail(const unsigned char *p, size_t n)
{
	uint64_t w = 0;

	memcpy(&w, p, n);
	return w;
}

/* ASCII lower-case of 8 bytes at once: sets bit 5 of each byte in 'A'..'Z'. */
static inline uint64_t lower64(uint64_t w)
{
	const uint64_t hi = 0x8080808080808080ull, lo7 = 0x7f7f7f7f7f7f7f7full;
	const uint64_t ones = 0x0101010101010101ull;
	uint64_t x = w & lo7;
	uint64_t ge_a = x + ones * (0x80 - 'A');     /* byte top bit: x >= 'A' */
	uint64_t gt_z = x + ones * (0x80 - 'Z' - 1); /* byte top bit: x > 'Z' */
	uint64_t upper = ge_a & ~gt_z & ~w & hi;     /* and w's byte is ASCII */

	return w | (upper >> 2);
}

static inline uint64_t avalanche(uint64_t h)
{
	h ^= h >> 33;
	h *= K3;
	h ^= h >> 29;
	h *= K1;
	h ^= h >> 32;
	return h;
}

static inline uint64_t hash_impl(const unsigned char *p, size_t n, uint64_t seed, bool ci)
{
	uint64_t a = seed ^ K3, b = (seed + n) * K1 + K2;

	for (; n >= 16; p += 16, n -= 16) {
		uint64_t w0 = load64(p), w1 = load64(p + 8);

		a = round64(a, ci ? lower64(w0) : w0);
		b = round64(b, ci ? lower64(w1) : w1);
	}
	if (n >= 8) {
		uint64_t w = load64(p);

		a = round64(a, ci ? lower64(w) : w);
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t w = load_tail(p, n);

		b = round64(b, ci ? lower64(w) : w);
	}
	return avalanche(a ^ rotl(b, 23));
}

uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
	return hash_impl(p, n, seed, false);
}

uint64_t hash_bytes_ci(const void *p, size_t n, uint64_t seed)
{
	return hash_impl(p, n, seed, true);
}
