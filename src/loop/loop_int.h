/*
 * loop_int.h - private to src/loop: the loop and timer wheel structs.
 */
#ifndef RINGLET_LOOP_INT_H
#define RINGLET_LOOP_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "ringlet/loop.h"

#define WHEEL_LEVELS 4
#define WHEEL_SLOT_BITS 8
#define WHEEL_SLOTS (1u << WHEEL_SLOT_BITS)

/* No time: "no pending timer". */
#define LOOP_MS_NONE UINT64_MAX
/* Expiries and the virtual clock saturate here, far from overflow (2^62 ms). */
#define LOOP_MS_MAX ((loop_ms)1 << 62)

/*
 * Hierarchical timer wheel: level L has 256 slots of 256^L ms each and
 * reaches 256^(L+1) ms ahead; the four levels reach 2^32 ms (49.7 days).
 * Later timers wait in the last slot of level 3 and are placed again when it
 * cascades.  Each slot is a circular doubly linked list around a sentinel
 * struct loop_timer (fn == NULL, arg = the level's bitmap, expires = the slot
 * index), so loop_timer_cancel() needs no loop pointer and clears the slot's
 * bit when it empties it.  The bitmaps let the wheel find the next event, and
 * jump over empty time, without visiting empty slots one by one.
 */
struct loop_wheel {
	struct loop_timer slot[WHEEL_LEVELS][WHEEL_SLOTS];
	uint64_t bits[WHEEL_LEVELS][WHEEL_SLOTS / 64];
	struct loop_timer due; /* started with delay 0 (or already expired): next iteration */
	loop_ms cur;	       /* first ms not processed yet; every wheel timer expires >= cur */
};

struct loop_fd {
	loop_fd_fn *fn;
	void *arg;
	unsigned events; /* LOOP_IN | LOOP_OUT */
	uint32_t gen;	 /* 0: fd not registered */
};

struct loop_post {
	struct loop_post *next;
	loop_post_fn *fn;
	void *arg;
};

struct loop {
	struct loop_wheel wheel;
	loop_ms now;
	int clock_mode;
	int epfd;
	int wakefd;	     /* eventfd: loop_post and loop_stop wake epoll_wait */
	struct loop_fd *fds; /* indexed by fd */
	size_t nfds;
	uint32_t gen; /* last registration generation handed out */

	pthread_mutex_t post_lock;
	struct loop_post *post_head, *post_tail;
	atomic_bool stop;
	struct loop_hook *hooks; /* around posts and timers (loop_hook_add) */
};

/* Milliseconds of CLOCK_MONOTONIC. */
loop_ms loop_clock_ms(void);

/* Empty wheel whose first unprocessed ms is cur. */
void loop_wheel_init(struct loop_wheel *w, loop_ms cur);
/* True if timers wait on the due list (they fire on the next iteration). */
bool loop_wheel_due(const struct loop_wheel *w);
/* Earliest ms >= w->cur at which the wheel has work (a slot or a cascade), or LOOP_MS_NONE. */
loop_ms loop_wheel_next_event(const struct loop_wheel *w);
/*
 * One iteration's timers: the due list as it stands, then (monotonic clock)
 * every ms up to l->now.  Returns the number of timers fired.
 */
unsigned loop_wheel_expire(struct loop *l);

#endif
