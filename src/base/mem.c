/*
 * mem.c - reference-counted allocation with a destructor.
 *
 * Each object is preceded by a 16-byte header: a magic word (which also says
 * whether the count is atomic), the reference count and the destructor.
 * Plain objects update the count with relaxed load + store (no bus lock);
 * shared ones with atomic read-modify-write.
 */
#include <assert.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ringlet/mem.h"

#define MEM_MAGIC 0x6d656d31u	     /* "mem1": plain count */
#define MEM_MAGIC_SHARED 0x6d656d32u /* "mem2": atomic count */
#define MEM_MAGIC_DEAD 0xdeadbeefu

struct mem_hdr {
	alignas(max_align_t) uint32_t magic;
	_Atomic uint32_t nrefs;
	mem_destroy_fn *d;
};

static_assert(sizeof(struct mem_hdr) % alignof(max_align_t) == 0, "header keeps alignment");

/*
 * The failure countdown and the live-object count are process-wide: malloc
 * itself is, and mem_alloc() takes no context argument (every module calls
 * it).  They are the only mutable state of this file, and atomic, so any
 * thread may allocate.  fail_left < 0 means injection is off.
 */
static _Atomic long fail_left = -1;
static _Atomic unsigned long fail_hits;
static _Atomic size_t live;

static struct mem_hdr *hdr_of(const void *p)
{
	struct mem_hdr *h = (struct mem_hdr *)((uintptr_t)p - sizeof(struct mem_hdr));
	assert(h->magic == MEM_MAGIC || h->magic == MEM_MAGIC_SHARED);
	return h;
}

/* True if this allocation must fail (injected OOM). */
static bool inject_failure(void)
{
	long n = atomic_load_explicit(&fail_left, memory_order_relaxed);

	while (n >= 0) {
		if (n == 0) {
			atomic_fetch_add_explicit(&fail_hits, 1, memory_order_relaxed);
			return true;
		}
		if (atomic_compare_exchange_weak_explicit(
			&fail_left, &n, n - 1, memory_order_relaxed, memory_order_relaxed))
			return false;
	}
	return false;
}

static void *alloc_hdr(size_t size, mem_destroy_fn *d, uint32_t magic)
{
	struct mem_hdr *h;

	if (size > SIZE_MAX - sizeof(*h) || inject_failure())
		return NULL;
	h = calloc(1, sizeof(*h) + size);
	if (!h)
		return NULL;
	h->magic = magic;
	atomic_init(&h->nrefs, 1);
	h->d = d;
	atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
	return h + 1;
}

void *mem_alloc(size_t size, mem_destroy_fn *d)
{
	return alloc_hdr(size, d, MEM_MAGIC);
}

void *mem_alloc_shared(size_t size, mem_destroy_fn *d)
{
	return alloc_hdr(size, d, MEM_MAGIC_SHARED);
}

char *mem_strndup(const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX)
		return NULL;
	p = mem_alloc(n + 1, NULL);
	if (p && n)
		memcpy(p, s, n);
	return p;
}

void *mem_ref(void *p)
{
	struct mem_hdr *h;
	uint32_t n;

	if (!p)
		return NULL;
	h = hdr_of(p);
	if (h->magic == MEM_MAGIC_SHARED) {
		n = atomic_fetch_add_explicit(&h->nrefs, 1, memory_order_relaxed);
	} else {
		n = atomic_load_explicit(&h->nrefs, memory_order_relaxed);
		atomic_store_explicit(&h->nrefs, n + 1, memory_order_relaxed);
	}
	assert(n > 0 && n < UINT32_MAX);
	return p;
}

void *mem_deref(void *p)
{
	struct mem_hdr *h;
	uint32_t n;

	if (!p)
		return NULL;
	h = hdr_of(p);
	if (h->magic == MEM_MAGIC_SHARED) {
		n = atomic_fetch_sub_explicit(&h->nrefs, 1, memory_order_acq_rel);
	} else {
		n = atomic_load_explicit(&h->nrefs, memory_order_relaxed);
		atomic_store_explicit(&h->nrefs, n - 1, memory_order_relaxed);
	}
	assert(n > 0);
	if (n > 1)
		return NULL;
	if (h->d)
		h->d(p);
	/* A destructor must not resurrect its object (STYLE.md §2). */
	assert(atomic_load_explicit(&h->nrefs, memory_order_relaxed) == 0);
	h->magic = MEM_MAGIC_DEAD;
	atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
	free(h);
	return NULL;
}

uint32_t mem_nrefs(const void *p)
{
	if (!p)
		return 0;
	return atomic_load_explicit(&hdr_of(p)->nrefs, memory_order_relaxed);
}

void mem_fail_after(long n)
{
	atomic_store_explicit(&fail_hits, 0, memory_order_relaxed);
	atomic_store_explicit(&fail_left, n < 0 ? -1 : n, memory_order_relaxed);
}

unsigned long mem_fail_count(void)
{
	return atomic_load_explicit(&fail_hits, memory_order_relaxed);
}

size_t mem_live(void)
{
	return atomic_load_explicit(&live, memory_order_relaxed);
}
