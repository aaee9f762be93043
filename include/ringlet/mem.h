/*
 * mem.h - reference-counted allocation with a destructor (STYLE.md §1, §2
 * "Ownership").
 *
 * Every object is allocated with mem_alloc(size, destructor).  The caller gets
 * one reference; mem_ref() adds one, mem_deref() drops one and, when the last
 * one goes, calls the destructor and frees the memory.  The destructor is the
 * only teardown path: it cancels timers, unlinks the object and derefs what
 * the object holds.  It must not take a new reference on the object.
 *
 * The reference count of a plain object is not atomic: an object belongs to
 * one thread at a time.  Objects handed between threads (loop_post) that are
 * ref'd and deref'd from several threads at once use mem_alloc_shared(), whose
 * count is atomic.
 *
 * Test support (always compiled in; each costs one relaxed atomic per call):
 * mem_fail_after() injects allocation failures for an OOM pass, mem_live()
 * counts live objects for a leak check around each test.
 */
#ifndef RINGLET_MEM_H
#define RINGLET_MEM_H

#include <stddef.h>
#include <stdint.h>

/* Called with the object when its last reference goes, just before it is freed. */
typedef void mem_destroy_fn(void *p);

/*
 * Allocate size bytes, zeroed, with one reference and destructor d (may be
 * NULL).  The memory is aligned for any type.  Returns NULL on ENOMEM
 * (including an injected failure, see mem_fail_after).
 */
void *mem_alloc(size_t size, mem_destroy_fn *d);

/* As mem_alloc, but mem_ref/mem_deref on the object are atomic (thread-safe). */
void *mem_alloc_shared(size_t size, mem_destroy_fn *d);

/*
 * Allocate a NUL-terminated copy of the n bytes at s (no destructor).
 * Returns NULL on ENOMEM.
 */
char *mem_strndup(const char *s, size_t n);

/* Add a reference to p and return p.  NULL-safe (returns NULL). */
void *mem_ref(void *p);

/*
 * Drop a reference to p.  When it was the last, call the destructor, then
 * free p.  NULL-safe.  Always returns NULL, so `x = mem_deref(x);` clears
 * the pointer in the same statement.
 */
void *mem_deref(void *p);

/* Current reference count of p (0 for NULL).  For tests and assertions. */
uint32_t mem_nrefs(const void *p);

/*
 * Allocation-failure injection for OOM tests: after mem_fail_after(n) the
 * next n allocations succeed and every later one fails (returns NULL) until
 * mem_fail_after(-1) turns injection off.  Process-wide, thread-safe.
 */
void mem_fail_after(long n);

/* Number of failures injected since the last mem_fail_after() call. */
unsigned long mem_fail_count(void);

/* Number of mem objects currently allocated in the process (leak checks). */
size_t mem_live(void);

#endif
