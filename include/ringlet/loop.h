/*
 * loop.h - one event loop per worker: epoll file descriptors, a hierarchical
 * timer wheel with O(1) start and cancel, a monotonic clock that tests replace
 * with a virtual one, and a queue other threads use to hand work to the loop.
 *
 * A loop belongs to one thread.  Every function here must be called from that
 * thread, except loop_post() and loop_stop(), which any thread may call.
 */
#ifndef RINGLET_LOOP_H
#define RINGLET_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;

/* Milliseconds on the loop's clock (CLOCK_MONOTONIC, or the virtual clock). */
typedef uint64_t loop_ms;

/* fd event bits (map to EPOLLIN/EPOLLOUT; ERR/HUP are reported as both IN and OUT). */
#define LOOP_IN 0x1u
#define LOOP_OUT 0x2u

typedef void loop_fd_fn(int fd, unsigned events, void *arg);
typedef void loop_timer_fn(void *arg);
typedef void loop_post_fn(void *arg);

/*
 * A timer lives inside its owner's struct (intrusive): starting and
 * cancelling never allocate.  Zero-initialise it or call loop_timer_init
 * before first use.  Fields are private to the loop.
 */
struct loop_timer {
	struct loop_timer *next, *prev; /* wheel slot list; NULL when idle */
	loop_ms expires;
	loop_timer_fn *fn;
	void *arg;
};

/* Clock modes of loop_alloc. */
#define LOOP_CLOCK_MONOTONIC 0
#define LOOP_CLOCK_VIRTUAL 1 /* time moves only by loop_advance(); starts at 0 */

/* Create a loop.  Returns 0 or an errno (ENOMEM, or epoll/eventfd failure). */
int loop_alloc(struct loop **out, int clock_mode);
/*
 * Destroy a loop; its timers and fds must have been removed by their owners.
 * Posts not run yet are dropped (their args are not touched).  NULL-safe.
 */
void loop_free(struct loop *l);

/*
 * Watch fd for events (LOOP_IN|LOOP_OUT; 0 pauses), level-triggered.  Returns
 * 0 or an errno (EEXIST if fd is already watched).  Any callback may add, mod
 * or del any fd; an event already fetched for a deleted fd is dropped.  Call
 * loop_fd_del before closing fd.
 */
int loop_fd_add(struct loop *l, int fd, unsigned events, loop_fd_fn *fn, void *arg);
int loop_fd_mod(struct loop *l, int fd, unsigned events);
void loop_fd_del(struct loop *l, int fd);

/* Current time of the loop's clock, in ms (cached per iteration for the monotonic clock). */
loop_ms loop_now(const struct loop *l);

void loop_timer_init(struct loop_timer *t);
/*
 * (Re)start t to fire fn(arg) once, delay ms from now.  O(1).  Delay 0 never
 * fires inside this call: started from an fd or post callback it fires at the
 * end of the current loop_once; started elsewhere (a timer callback, outside
 * the loop) on the next iteration (the next loop_once, or right after the
 * current batch inside loop_advance).
 */
void loop_timer_start(struct loop *l, struct loop_timer *t, loop_ms delay, loop_timer_fn *fn,
		      void *arg);
/* Stop t if pending.  O(1); safe on an idle timer and from inside any callback. */
void loop_timer_cancel(struct loop_timer *t);
static inline bool loop_timer_pending(const struct loop_timer *t)
{
	return t->prev != 0;
}

/*
 * Run fn(arg) on the loop's thread soon.  Thread-safe (lock-free or a short
 * lock, and an eventfd wake-up).  Returns 0 or ENOMEM.
 */
int loop_post(struct loop *l, loop_post_fn *fn, void *arg);

/*
 * A hook around the loop's own work in loop_once: fn(arg, true) before the
 * callbacks posted since the last wake-up and the due timers run, and
 * fn(arg, false) after them, so a layer that batches output (the UDP
 * transport's sendmmsg) can queue what they send and flush it once.  The
 * hook lives in its owner's struct (intrusive, like struct loop_timer) from
 * loop_hook_add until loop_hook_del.  Posted, timer and fd callbacks may add
 * or remove hooks; a hook's own callback may remove only itself.
 * loop_advance does not call hooks.
 */
typedef void loop_hook_fn(void *arg, bool begin);
struct loop_hook {
	struct loop_hook *next; /* private to the loop */
	loop_hook_fn *fn;
	void *arg;
};
void loop_hook_add(struct loop *l, struct loop_hook *h, loop_hook_fn *fn, void *arg);
/* Remove h if it was added (a no-op otherwise). */
void loop_hook_del(struct loop *l, struct loop_hook *h);

/* Run until loop_stop().  Returns 0, or an errno if epoll_wait fails. */
int loop_run(struct loop *l);
/* Make loop_run return after the current iteration.  Thread-safe. */
void loop_stop(struct loop *l);
/*
 * One iteration: wait at most timeout_ms (-1: until the next timer) for fds,
 * run them and due timers.  On the virtual clock time does not move here: it
 * runs fds, posts and delay-0 timers, and -1 waits for fds (or a post, or
 * loop_stop) only.
 */
int loop_once(struct loop *l, int timeout_ms);

/*
 * Virtual clock only: advance the clock by ms, firing every timer that falls
 * due, in order of expiry, with loop_now() equal to each timer's expiry while
 * it runs.  Returns the number of timers fired.  (Exception: a delay-0 timer
 * started by a delay-0 timer may run 1 ms late, so a timer that restarts
 * itself with delay 0 cannot stall the clock.)
 */
unsigned loop_advance(struct loop *l, loop_ms ms);
/*
 * Virtual clock only: ms until the next pending timer (exact; 0 if a delay-0
 * timer waits), or -1 if none.  Costs a scan of the first non-empty slot of
 * each wheel level, not of all timers.
 */
int64_t loop_next_timer(const struct loop *l);

#endif
