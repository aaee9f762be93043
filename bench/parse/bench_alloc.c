/*
 * bench_alloc.c - count heap allocations by interposing the malloc family in
 * the bench executable itself.
 *
 * The definitions below take the place of glibc's for the whole process (the
 * shared libosip2 and sofia-sip libraries included, since the executable's
 * symbols come first in the dynamic lookup order) and forward to glibc's own
 * entry points (__libc_malloc & co).  Every call of malloc, calloc, realloc,
 * posix_memalign, aligned_alloc, memalign or valloc is counted; free is not.
 *
 * The counter is the one mutable global of the bench: interposition leaves no
 * other place to keep it.  The bench is single-threaded, but the counter is
 * atomic (relaxed) so a library thread could not corrupt it.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "bench_parse.h"

/* glibc's real allocator entry points (exported, GLIBC_2.2.5). */
void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);
void __libc_free(void *p);
void *__libc_memalign(size_t align, size_t size);

/* The prototypes glibc declares only with some feature macros. */
void *memalign(size_t align, size_t size);
void *valloc(size_t size);

static _Atomic uint64_t n_alloc;

static inline void count(void)
{
	atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
}

uint64_t bench_alloc_count(void)
{
	return atomic_load_explicit(&n_alloc, memory_order_relaxed);
}

void *malloc(size_t size)
{
	count();
	return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	count();
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	count();
	return __libc_realloc(p, size);
}

void free(void *p)
{
	__libc_free(p);
}

void *memalign(size_t align, size_t size)
{
	count();
	return __libc_memalign(align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
	count();
	return __libc_memalign(align, size);
}

void *valloc(size_t size)
{
	count();
	return __libc_memalign(4096, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	/* POSIX: a power of two that is a multiple of sizeof(void *). */
	if (align < sizeof(void *) || (align & (align - 1)) != 0)
		return EINVAL;
	count();
	p = __libc_memalign(align, size);
	if (p == NULL)
		return ENOMEM;
	*out = p;
	return 0;
}
