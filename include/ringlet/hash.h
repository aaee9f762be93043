/*
 * hash.h - intrusive chained hash table and fast 64-bit string hashes.
 *
 * An element embeds a struct hash_node; the caller computes the 64-bit hash
 * of its key (hash_bytes, hash_bytes_ci or its own) and passes it in.  The
 * table never allocates per element: insert cannot fail.  Buckets are a power
 * of two; when the table holds as many elements as buckets it doubles, and
 * moves the old buckets over a few at a time on later insert, find and
 * remove calls (never one long stall).  Until then lookups search both
 * tables.  If the bigger bucket array cannot be allocated, the table keeps
 * working with longer chains and tries again later.
 *
 * Keys chosen by peers (Call-ID, branch, tags) must be hashed with a secret
 * per-process seed (e.g. from getrandom), so that a peer cannot make every
 * key fall in one bucket.
 */
#ifndef RINGLET_HASH_H
#define RINGLET_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hash_node {
	struct hash_node *next;
	struct hash_node **pprev; /* NULL when not in a table */
	uint64_t hash;
};

struct hash;

/* True if n is the element sought by key (called only for nodes of equal hash). */
typedef bool hash_eq_fn(const struct hash_node *n, const void *key);
/* Visit callback of hash_apply; return true to stop the walk. */
typedef bool hash_apply_fn(struct hash_node *n, void *arg);

/*
 * Create an empty table sized for about `expected` elements (0: small).
 * Returns 0 and *out (a mem object: free with mem_deref, which frees the
 * buckets but not the elements still in it), or ENOMEM.
 */
int hash_alloc(struct hash **out, size_t expected);

/* Add n (not in a table) with hash value `hash`.  Duplicates are allowed.  O(1). */
void hash_insert(struct hash *h, struct hash_node *n, uint64_t hash);

/*
 * The element with hash value `hash` for which eq(node, key) is true, or
 * NULL.  Among duplicates, which one is returned is unspecified.
 */
struct hash_node *hash_find(struct hash *h, uint64_t hash, hash_eq_fn *eq, const void *key);

/* Remove n from h.  O(1).  No-op if n is in no table. */
void hash_remove(struct hash *h, struct hash_node *n);

/* True if n is in a table. */
static inline bool hash_linked(const struct hash_node *n)
{
	return n->pprev != NULL;
}

/* Number of elements in h. */
size_t hash_count(const struct hash *h);

/*
 * Call fn(n, arg) for every element until fn returns true; returns that
 * element, or NULL if the walk ended.  fn may hash_remove() the node it was
 * given (and free it), but no other node; nodes it inserts may or may not be
 * visited.  Elements do not move between buckets during the walk.
 */
struct hash_node *hash_apply(struct hash *h, hash_apply_fn *fn, void *arg);

/* 64-bit hash of the n bytes at p.  Same input and seed, same value, in this process. */
uint64_t hash_bytes(const void *p, size_t n, uint64_t seed);

/*
 * As hash_bytes, ignoring ASCII case: equal to hash_bytes of the input with
 * 'A'-'Z' lowered.  For case-insensitive keys (header names, hosts).
 */
uint64_t hash_bytes_ci(const void *p, size_t n, uint64_t seed);

#endif
