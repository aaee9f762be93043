/*
 * test_hash.c - the intrusive hash table under growth (insert, find, remove,
 * walk while buckets move), colliding hashes, OOM, and the byte hashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ringlet/hash.h"
#include "ringlet/mem.h"

static size_t live_before;

static int setup(void **state)
{
	(void)state;
	live_before = mem_live();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mem_fail_after(-1);
	assert_int_equal(mem_live(), live_before); /* leak check */
	return 0;
}

struct item {
	struct hash_node hn;
	char key[24];
	size_t len;
	unsigned visits;
};

struct key {
	const char *s;
	size_t len;
};

static bool item_eq(const struct hash_node *n, const void *arg)
{
	const struct item *it = (const struct item *)(const void *)n;
	const struct key *k = arg;

	return it->len == k->len && memcmp(it->key, k->s, k->len) == 0;
}

static uint64_t seed = 0x1234abcd;

static struct item *find(struct hash *h, const char *s)
{
	struct key k = {s, strlen(s)};

	return (struct item *)(void *)hash_find(h, hash_bytes(s, k.len, seed), item_eq, &k);
}

static struct item *make_items(unsigned n)
{
	struct item *it = calloc(n, sizeof(*it));

	assert_non_null(it);
	for (unsigned i = 0; i < n; i++)
		it[i].len = (size_t)snprintf(it[i].key, sizeof(it[i].key), "call-%u@host", i);
	return it;
}

static void insert(struct hash *h, struct item *it)
{
	hash_insert(h, &it->hn, hash_bytes(it->key, it->len, seed));
}

static bool count_visit(struct hash_node *n, void *arg)
{
	struct item *it = (struct item *)(void *)n;
	unsigned *total = arg;

	it->visits++;
	(*total)++;
	return false;
}

/* Every item visited exactly once by hash_apply. */
static void check_walk(struct hash *h, struct item *it, unsigned n)
{
	unsigned total = 0;

	for (unsigned i = 0; i < n; i++)
		it[i].visits = 0;
	assert_null(hash_apply(h, count_visit, &total));
	assert_int_equal(total, hash_count(h));
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(it[i].visits, hash_linked(&it[i].hn) ? 1 : 0);
}

/* Insert many keys; during growth every earlier key stays findable. */
static void test_grow(void **state)
{
	const unsigned n = 200000;
	struct item *it = make_items(n);
	struct hash *h = NULL;
	uint64_t r = 7;
	(void)state;

	assert_int_equal(hash_alloc(&h, 0), 0);
	for (unsigned i = 0; i < n; i++) {
		insert(h, &it[i]);
		assert_true(hash_linked(&it[i].hn));
		if (i % 997 == 0) {
			for (int k = 0; k < 20; k++) {
				r = r * 6364136223846793005ull + 1442695040888963407ull;
				unsigned j = (unsigned)(r >> 33) % (i + 1);

				assert_ptr_equal(find(h, it[j].key), &it[j]);
			}
		}
		if (i == 5000 || i == 70000) /* walk in the middle of a doubling, likely */
			check_walk(h, it, i + 1);
	}
	assert_int_equal(hash_count(h), n);
	for (unsigned i = 0; i < n; i++)
		assert_ptr_equal(find(h, it[i].key), &it[i]);
	assert_null(find(h, "call-200000@host"));
	assert_null(find(h, "call-1@hos"));
	check_walk(h, it, n);

	/* Remove the odd ones. */
	for (unsigned i = 1; i < n; i += 2) {
		hash_remove(h, &it[i].hn);
		assert_false(hash_linked(&it[i].hn));
	}
	hash_remove(h, &it[1].hn); /* not in a table: no-op */
	assert_int_equal(hash_count(h), n / 2);
	for (unsigned i = 0; i < n; i++)
		assert_ptr_equal(find(h, it[i].key), i % 2 ? NULL : &it[i]);
	check_walk(h, it, n);
	mem_deref(h);
	/* Elements left in a freed table are marked unlinked. */
	assert_false(hash_linked(&it[0].hn));
	free(it);
}

static bool remove_visit(struct hash_node *n, void *arg)
{
	hash_remove(arg, n);
	return false;
}

struct stop_at {
	const struct item *want;
};

static bool stop_visit(struct hash_node *n, void *arg)
{
	struct stop_at *s = arg;

	return n == &s->want->hn;
}

/* hash_apply may remove the node it is given; it can stop early. */
static void test_apply_remove(void **state)
{
	const unsigned n = 5000;
	struct item *it = make_items(n);
	struct hash *h = NULL;
	struct stop_at s = {&it[1234]};
	(void)state;

	assert_int_equal(hash_alloc(&h, 16), 0);
	for (unsigned i = 0; i < n; i++)
		insert(h, &it[i]);
	assert_ptr_equal(hash_apply(h, stop_visit, &s), &it[1234].hn);
	assert_null(hash_apply(h, remove_visit, h));
	assert_int_equal(hash_count(h), 0);
	for (unsigned i = 0; i < n; i++) {
		assert_false(hash_linked(&it[i].hn));
		assert_null(find(h, it[i].key));
	}
	/* Still usable afterwards. */
	insert(h, &it[7]);
	assert_ptr_equal(find(h, it[7].key), &it[7]);
	hash_remove(h, &it[7].hn);
	mem_deref(h);
	free(it);
}

/*
 * While the table is doubling: hash_apply with a callback that itself looks
 * keys up (each lookup would move buckets, were the walk not protected)
 * visits every element exactly once, and every key is found whatever the
 * position of the move.
 */
struct growing {
	struct hash *h;
	struct item *it;
	unsigned n;
	unsigned missing;
	bool all_checked;
};

static bool find_all_visit(struct hash_node *node, void *arg)
{
	struct growing *g = arg;
	struct item *self = (struct item *)(void *)node;

	self->visits++;
	if (find(g->h, self->key) != self)
		g->missing++;
	if (!g->all_checked) {
		g->all_checked = true;
		for (unsigned i = 0; i < g->n; i++)
			if (find(g->h, g->it[i].key) != &g->it[i])
				g->missing++;
	}
	return false;
}

static void test_walk_while_growing(void **state)
{
	const unsigned n = 1025; /* the 1025th insert into 1024 buckets starts a doubling */
	struct growing g = {.it = make_items(n), .n = n};
	(void)state;

	assert_int_equal(hash_alloc(&g.h, 1024), 0);
	for (unsigned i = 0; i < n; i++)
		insert(g.h, &g.it[i]);
	/* 1024 old buckets move 8 per operation: probe at 12 positions of the move. */
	for (int round = 0; round < 12; round++) {
		g.all_checked = false;
		for (unsigned i = 0; i < n; i++)
			g.it[i].visits = 0;
		assert_null(hash_apply(g.h, find_all_visit, &g));
		for (unsigned i = 0; i < n; i++)
			assert_int_equal(g.it[i].visits, 1);
		assert_int_equal(g.missing, 0);
		assert_non_null(find(g.h, g.it[round].key)); /* moves the next buckets */
	}
	mem_deref(g.h);
	free(g.it);
}

static bool eq_key_only(const struct hash_node *n, const void *arg)
{
	return item_eq(n, arg);
}

/* A terrible caller hash (all equal) still works, only slower; duplicates are allowed. */
static void test_collisions(void **state)
{
	const unsigned n = 2000;
	struct item *it = make_items(n);
	struct hash *h = NULL;
	(void)state;

	assert_int_equal(hash_alloc(&h, 0), 0);
	for (unsigned i = 0; i < n; i++)
		hash_insert(h, &it[i].hn, 42);
	for (unsigned i = 0; i < n; i += 37) {
		struct key k = {it[i].key, it[i].len};

		assert_ptr_equal(hash_find(h, 42, eq_key_only, &k), &it[i].hn);
		assert_null(hash_find(h, 43, eq_key_only, &k));
	}
	for (unsigned i = 0; i < n; i++)
		hash_remove(h, &it[i].hn);
	assert_int_equal(hash_count(h), 0);
	/* Duplicate keys: both found until both removed. */
	struct item dup[2] = {0};
	for (int i = 0; i < 2; i++) {
		strcpy(dup[i].key, "same");
		dup[i].len = 4;
		insert(h, &dup[i]);
	}
	struct item *f = find(h, "same");
	assert_true(f == &dup[0] || f == &dup[1]);
	hash_remove(h, &f->hn);
	struct item *g = find(h, "same");
	assert_non_null(g);
	assert_ptr_not_equal(f, g);
	hash_remove(h, &g->hn);
	assert_null(find(h, "same"));
	mem_deref(h);
	free(it);
}

/* OOM: hash_alloc fails cleanly; a table that cannot grow keeps working. */
static void test_oom(void **state)
{
	const unsigned n = 3000;
	struct item *it = make_items(n);
	struct hash *h = NULL;
	long k;
	(void)state;

	for (k = 0; k < 10; k++) {
		mem_fail_after(k);
		if (hash_alloc(&h, 100) == 0)
			break;
		assert_null(h);
	}
	assert_int_equal(k, 2); /* the table and its buckets */
	mem_fail_after(0);	/* no growth possible */
	for (unsigned i = 0; i < n; i++)
		insert(h, &it[i]);
	assert_true(mem_fail_count() > 0);
	mem_fail_after(-1);
	for (unsigned i = 0; i < n; i++)
		assert_ptr_equal(find(h, it[i].key), &it[i]);
	/* Growth resumes once memory is back (the next insert starts it). */
	hash_remove(h, &it[0].hn);
	assert_null(find(h, it[0].key));
	insert(h, &it[0]);
	for (unsigned i = 0; i < n; i++)
		assert_ptr_equal(find(h, it[i].key), &it[i]);
	check_walk(h, it, n);
	mem_deref(h);
	free(it);
}

/* The byte hashes. */
static void test_hash_ci(void **state)
{
	static const char *const pairs[][2] = {
	    {"Call-ID", "call-id"},
	    {"VIA", "via"},
	    {"Max-Forwards: 70 ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	     "max-forwards: 70 abcdefghijklmnopqrstuvwxyz"},
	    {"@[\\]^_`{|}~AZaz", "@[\\]^_`{|}~azaz"},
	    {"\xc3\x84\xc3\x96 Ab", "\xc3\x84\xc3\x96 ab"}, /* non-ASCII bytes unchanged */
	    {"", ""},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const char *a = pairs[i][0], *b = pairs[i][1];
		size_t n = strlen(a);

		assert_int_equal(n, strlen(b));
		assert_int_equal(hash_bytes_ci(a, n, 5), hash_bytes(b, n, 5));
		assert_int_equal(hash_bytes_ci(b, n, 5), hash_bytes(b, n, 5));
		if (strcmp(a, b) != 0)
			assert_int_not_equal(hash_bytes(a, n, 5), hash_bytes(b, n, 5));
	}
	/* Every byte value: ci equals hashing the ASCII-lowered copy. */
	unsigned char all[256], low[256];
	for (int c = 0; c < 256; c++) {
		all[c] = (unsigned char)c;
		low[c] = (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	for (size_t off = 0; off < 64; off += 5)
		assert_int_equal(hash_bytes_ci(all + off, 256 - off, 9),
				 hash_bytes(low + off, 256 - off, 9));
}

static unsigned popcount64(uint64_t x)
{
	return (unsigned)__builtin_popcountll(x);
}

static void test_hash_quality(void **state)
{
	unsigned char buf[80], copy[81];
	uint64_t r = 0x9e3779b97f4a7c15ull, prev[80];
	double sum = 0;
	unsigned samples = 0;
	(void)state;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 31 + 7);
	/* Prefixes of every length differ, also from zero-extended versions. */
	for (size_t n = 0; n < sizeof(buf); n++) {
		prev[n] = hash_bytes(buf, n, 0);
		for (size_t m = 0; m < n; m++)
			assert_int_not_equal(prev[m], prev[n]);
	}
	unsigned char z[16] = {0};
	for (size_t n = 1; n < 16; n++)
		assert_int_not_equal(hash_bytes(z, n, 0), hash_bytes(z, n - 1, 0));
	/* The seed matters. */
	assert_int_not_equal(hash_bytes(buf, 20, 1), hash_bytes(buf, 20, 2));
	/* Alignment does not. */
	memcpy(copy + 1, buf, 40);
	assert_int_equal(hash_bytes(copy + 1, 40, 3), hash_bytes(buf, 40, 3));
	/* Avalanche: one flipped input bit flips about half the output bits. */
	for (size_t n = 1; n <= 40; n++) {
		for (int trial = 0; trial < 8; trial++) {
			for (size_t i = 0; i < n; i++) {
				r ^= r << 13;
				r ^= r >> 7;
				r ^= r << 17;
				buf[i] = (unsigned char)r;
			}
			uint64_t h0 = hash_bytes(buf, n, 0);
			for (size_t bit = 0; bit < n * 8; bit++) {
				buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
				unsigned d = popcount64(h0 ^ hash_bytes(buf, n, 0));
				buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
				assert_true(d >= 8); /* never a near-collision */
				sum += d;
				samples++;
			}
		}
	}
	assert_true(sum / samples > 31.0 && sum / samples < 33.0);
}

/* Sequential keys spread evenly: the fullest of 4096 buckets holds few. */
static void test_hash_spread(void **state)
{
	static unsigned counts[4096];
	char key[32];
	unsigned max = 0;
	(void)state;

	memset(counts, 0, sizeof(counts));
	for (unsigned i = 0; i < 4096 * 4; i++) {
		size_t n = (size_t)snprintf(key, sizeof(key), "z9hG4bK%08x", i);
		unsigned b = (unsigned)(hash_bytes(key, n, 0) & 4095); /* the low bits alone */

		if (++counts[b] > max)
			max = counts[b];
	}
	assert_true(max <= 16); /* mean 4; a poor hash piles dozens into one bucket */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_grow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_apply_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_walk_while_growing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_collisions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oom, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hash_ci, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hash_quality, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hash_spread, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
