/*
 * loop_clock.c - the monotonic clock in milliseconds.
 */
#include <time.h>

#include "loop_int.h"

loop_ms loop_clock_ms(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer; it never goes back. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (loop_ms)ts.tv_sec * 1000u + (loop_ms)ts.tv_nsec / 1000000u;
}

loop_ms loop_now(const struct loop *l)
{
	return l->now;
}
