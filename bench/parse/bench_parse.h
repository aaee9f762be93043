/*
 * bench_parse.h - the contract between the bench-parse harness and its
 * parser drivers (Ringlet, libosip2, sofia-sip).
 *
 * A driver does a FULL parse of one message per call: the framing, every
 * header into its typed form where the library has one, and the request URI,
 * then releases whatever it allocated.  It must check that the library really
 * accepted the message, so a library that silently gives up early cannot look
 * fast.
 */
#ifndef BENCH_PARSE_H
#define BENCH_PARSE_H

#include <stddef.h>
#include <stdint.h>

struct bench_driver {
	const char *name; /* as printed: "ringlet", "osip2", "sofia-sip" */
	/* Once before anything else; *ctx is handed to parse and fini. 0 or errno. */
	int (*init)(void **ctx);
	/*
	 * Parse buf[0..len) (not NUL-terminated) fully.  Returns 0 when the
	 * library accepted every part of it, else a non-zero code; when why is
	 * not NULL it is set to a static string naming what failed.  *sink gets
	 * a value derived from the result so the work cannot be optimised away.
	 */
	int (*parse)(void *ctx, const char *buf, size_t len, uint64_t *sink, const char **why);
	void (*fini)(void *ctx);
};

extern const struct bench_driver bench_ringlet;
extern const struct bench_driver bench_osip;
extern const struct bench_driver bench_sofia;

/* Number of malloc-family allocations made by this process so far
 * (bench_alloc.c interposes malloc, calloc, realloc and the aligned ones). */
uint64_t bench_alloc_count(void);

#endif
