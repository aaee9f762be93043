/*
 * bench_wheel.c - timer wheel cost per operation.
 *
 * One million intrusive timers are started and cancelled ten times (ten
 * million starts, ten million cancels) with delays spread the way a SIP
 * server's are: mostly retransmission and transaction timers (0.5-64 s),
 * some short ones, some registrations and sessions (minutes to hours).
 * The clock moves between rounds so the wheel's position varies.  Then one
 * million timers are fired by moving the virtual clock.  Delays come from a
 * table made before timing starts.
 *
 * Output: one line per phase, last line `wheel: N.NN ns/op` (start and
 * cancel averaged).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ringlet/loop.h"

#define TIMERS 1000000u
#define ROUNDS 10u

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static loop_ms sip_delay(uint64_t *s)
{
	uint64_t r = rnd(s);

	switch (r % 10) {
	case 0:
		return 1 + (r >> 8) % 200; /* short */
	case 1:
	case 2:
	case 3:
		return 500u << ((r >> 8) % 4); /* Timer A/E/G: 0.5, 1, 2, 4 s */
	case 4:
	case 5:
	case 6:
		return 32000; /* Timer B/F/H: 64*T1 */
	case 7:
		return 5000 + (r >> 8) % 60000;
	case 8:
		return 60000 + (r >> 8) % 3600000; /* registrations */
	default:
		return 3600000 + (r >> 8) % 86400000ull; /* sessions, up to a day */
	}
}

static void on_fire(void *arg)
{
	(*(uint64_t *)arg)++;
}

int main(void)
{
	struct loop_timer *t = calloc(TIMERS, sizeof(*t));
	loop_ms *delay = malloc(TIMERS * sizeof(*delay));
	struct loop *l = NULL;
	uint64_t seed = 42, fired = 0, t_start = 0, t_cancel = 0, t0;
	double ns_start, ns_cancel, ns_fire;

	if (!t || !delay || loop_alloc(&l, LOOP_CLOCK_VIRTUAL) != 0) {
		fprintf(stderr, "bench_wheel: out of memory\n");
		return 1;
	}
	for (unsigned i = 0; i < TIMERS; i++)
		delay[i] = sip_delay(&seed);

	for (unsigned r = 0; r < ROUNDS; r++) {
		t0 = now_ns();
		for (unsigned i = 0; i < TIMERS; i++)
			loop_timer_start(l, &t[i], delay[i], on_fire, &fired);
		t_start += now_ns() - t0;
		t0 = now_ns();
		for (unsigned i = 0; i < TIMERS; i++)
			loop_timer_cancel(&t[i]);
		t_cancel += now_ns() - t0;
		loop_advance(l, 1 + rnd(&seed) % 5000);
	}
	ns_start = (double)t_start / (TIMERS * (double)ROUNDS);
	ns_cancel = (double)t_cancel / (TIMERS * (double)ROUNDS);

	for (unsigned i = 0; i < TIMERS; i++)
		loop_timer_start(l, &t[i], delay[i], on_fire, &fired);
	t0 = now_ns();
	loop_advance(l, 2 * 86400000u); /* longer than the longest delay */
	ns_fire = (double)(now_ns() - t0) / TIMERS;

	printf("timers: %u x %u rounds\n", TIMERS, ROUNDS);
	printf("start: %.2f ns/op\n", ns_start);
	printf("cancel: %.2f ns/op\n", ns_cancel);
	printf("fire: %.2f ns/timer (%llu fired, cascades included)\n", ns_fire,
	       (unsigned long long)fired);
	printf("wheel: %.2f ns/op\n", (ns_start + ns_cancel) / 2);
	loop_free(l);
	free(t);
	free(delay);
	return fired == TIMERS ? 0 : 1;
}
