/*
 * loop.c - the epoll event loop: fd registrations, one iteration, run/stop,
 * and the queue other threads post work to.
 *
 * Each registered fd has a slot in a table indexed by fd, stamped with a
 * generation number that is also stored in the epoll event (data.u64 =
 * generation << 32 | fd).  An event is delivered only while the slot still
 * carries that generation, so a callback may remove (or close and re-add)
 * any fd, including one whose event is later in the same epoll batch: the
 * stale event is dropped.  Level-triggered.
 *
 * loop_post appends a small node to a mutex-protected FIFO and, when the
 * queue was empty, writes the eventfd; the loop reads the eventfd before it
 * takes the whole queue, so no wake-up is lost.  Posts made while the queue
 * runs wait for the next iteration.
 *
 * Hooks (loop_hook_add) bracket the posts and timers of each iteration, so
 * the sends they make can leave in one batch (the UDP transport's sendmmsg).
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "loop_int.h"
#include "ringlet/mem.h"

#define LOOP_BATCH 64	    /* epoll events per iteration */
#define WAKE_TAG UINT64_MAX /* epoll data of the eventfd */
#define FD_TABLE_MIN 64

static void wake(struct loop *l)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is saturated: the loop is already woken. */
	if (write(l->wakefd, &one, sizeof(one)) < 0)
		return;
}

static void loop_destroy(void *p)
{
	struct loop *l = p;
	struct loop_post *q, *next;

	for (q = l->post_head; q; q = next) {
		next = q->next;
		mem_deref(q);
	}
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->wakefd >= 0)
		close(l->wakefd);
	mem_deref(l->fds);
	pthread_mutex_destroy(&l->post_lock);
}

int loop_alloc(struct loop **out, int clock_mode)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WAKE_TAG};
	struct loop *l;
	int err;

	if (clock_mode != LOOP_CLOCK_MONOTONIC && clock_mode != LOOP_CLOCK_VIRTUAL)
		return EINVAL;
	l = mem_alloc(sizeof(*l), loop_destroy);
	if (!l)
		return ENOMEM;
	/* Set first what the destructor reads. */
	l->epfd = l->wakefd = -1;
	pthread_mutex_init(&l->post_lock, NULL);
	atomic_init(&l->stop, false);
	l->hooks = NULL;
	l->clock_mode = clock_mode;
	l->now = clock_mode == LOOP_CLOCK_MONOTONIC ? loop_clock_ms() : 0;
	loop_wheel_init(&l->wheel, l->now + 1);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		goto fail;
	l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->wakefd < 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) < 0)
		goto fail;
	*out = l;
	return 0;
fail:
	err = errno;
	mem_deref(l);
	return err;
}

void loop_free(struct loop *l)
{
	mem_deref(l);
}

static uint32_t to_epoll(unsigned events)
{
	return ((events & LOOP_IN) ? EPOLLIN : 0u) | ((events & LOOP_OUT) ? EPOLLOUT : 0u);
}

static bool registered(const struct loop *l, int fd)
{
	return fd >= 0 && (size_t)fd < l->nfds && l->fds[fd].gen != 0;
}

/* Make the fd table hold index fd.  Returns 0 or ENOMEM. */
static int fd_table_fit(struct loop *l, int fd)
{
	struct loop_fd *t;
	size_t n = l->nfds ? l->nfds : FD_TABLE_MIN;

	if ((size_t)fd < l->nfds)
		return 0;
	while (n <= (size_t)fd)
		n *= 2;
	t = mem_alloc(n * sizeof(*t), NULL);
	if (!t)
		return ENOMEM;
	if (l->nfds)
		memcpy(t, l->fds, l->nfds * sizeof(*t));
	mem_deref(l->fds);
	l->fds = t;
	l->nfds = n;
	return 0;
}

int loop_fd_add(struct loop *l, int fd, unsigned events, loop_fd_fn *fn, void *arg)
{
	struct epoll_event ev = {.events = to_epoll(events)};
	uint32_t gen;
	int err;

	if (fd < 0)
		return EBADF;
	if (!fn || (events & ~(LOOP_IN | LOOP_OUT)))
		return EINVAL;
	if (registered(l, fd))
		return EEXIST;
	err = fd_table_fit(l, fd);
	if (err)
		return err;
	gen = ++l->gen;
	if (gen == 0 || gen == UINT32_MAX) /* 0 means free; ~0 would collide with WAKE_TAG */
		gen = l->gen = 1;
	ev.data.u64 = (uint64_t)gen << 32 | (uint32_t)fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return errno;
	l->fds[fd] = (struct loop_fd){.fn = fn, .arg = arg, .events = events, .gen = gen};
	return 0;
}

int loop_fd_mod(struct loop *l, int fd, unsigned events)
{
	struct epoll_event ev = {.events = to_epoll(events)};

	if (events & ~(LOOP_IN | LOOP_OUT))
		return EINVAL;
	if (!registered(l, fd))
		return ENOENT;
	ev.data.u64 = (uint64_t)l->fds[fd].gen << 32 | (uint32_t)fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return errno;
	l->fds[fd].events = events;
	return 0;
}

void loop_fd_del(struct loop *l, int fd)
{
	if (!registered(l, fd))
		return;
	/* Fails harmlessly (EBADF) if the owner closed fd first: close removed it. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->fds[fd] = (struct loop_fd){0};
}

/* Deliver one epoll event unless its registration is gone (see the top comment). */
static void deliver(struct loop *l, const struct epoll_event *ev)
{
	uint32_t fd = (uint32_t)ev->data.u64, gen = (uint32_t)(ev->data.u64 >> 32);
	const struct loop_fd *f;
	unsigned bits = 0;

	if (fd >= l->nfds || l->fds[fd].gen != gen)
		return;
	f = &l->fds[fd];
	if (ev->events & (EPOLLERR | EPOLLHUP)) {
		bits = LOOP_IN | LOOP_OUT;
	} else {
		if (ev->events & EPOLLIN)
			bits |= LOOP_IN;
		if (ev->events & EPOLLOUT)
			bits |= LOOP_OUT;
		bits &= f->events; /* an earlier callback may have turned one off */
	}
	if (bits)
		f->fn((int)fd, bits, f->arg); /* f may be stale after this call */
}

static void run_posts(struct loop *l)
{
	struct loop_post *q, *next;
	uint64_t cnt;

	/* Read the eventfd before taking the queue, so a later post wakes us again. */
	if (read(l->wakefd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&l->post_lock);
	q = l->post_head;
	l->post_head = l->post_tail = NULL;
	pthread_mutex_unlock(&l->post_lock);
	for (; q; q = next) {
		loop_post_fn *fn = q->fn;
		void *arg = q->arg;

		next = q->next;
		mem_deref(q);
		fn(arg);
	}
}

int loop_post(struct loop *l, loop_post_fn *fn, void *arg)
{
	struct loop_post *q;
	bool was_empty;

	assert(fn != NULL);
	q = mem_alloc(sizeof(*q), NULL);
	if (!q)
		return ENOMEM;
	q->fn = fn;
	q->arg = arg;
	pthread_mutex_lock(&l->post_lock);
	was_empty = l->post_head == NULL;
	if (was_empty)
		l->post_head = q;
	else
		l->post_tail->next = q;
	l->post_tail = q;
	pthread_mutex_unlock(&l->post_lock);
	if (was_empty)
		wake(l);
	return 0;
}

void loop_hook_add(struct loop *l, struct loop_hook *h, loop_hook_fn *fn, void *arg)
{
	assert(fn != NULL);
	h->fn = fn;
	h->arg = arg;
	h->next = l->hooks;
	l->hooks = h;
}

void loop_hook_del(struct loop *l, struct loop_hook *h)
{
	for (struct loop_hook **pp = &l->hooks; *pp; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			h->next = NULL;
			return;
		}
	}
}

/* Every hook, begin or end; a hook's callback may remove itself (next is read first). */
static void run_hooks(struct loop *l, bool begin)
{
	struct loop_hook *h, *next;

	for (h = l->hooks; h; h = next) {
		next = h->next;
		h->fn(h->arg, begin);
	}
}

/* epoll_wait timeout: the caller's, shortened to the wheel's next event (monotonic clock). */
static int wait_ms(const struct loop *l, int timeout_ms)
{
	loop_ms next, now, w;

	if (timeout_ms == 0 || loop_wheel_due(&l->wheel))
		return 0;
	if (timeout_ms < 0)
		timeout_ms = -1;
	if (l->clock_mode != LOOP_CLOCK_MONOTONIC)
		return timeout_ms;
	next = loop_wheel_next_event(&l->wheel);
	if (next == LOOP_MS_NONE)
		return timeout_ms;
	now = loop_clock_ms();
	w = next > now ? next - now : 0;
	if (w > INT_MAX)
		w = INT_MAX;
	if (timeout_ms >= 0 && (loop_ms)timeout_ms < w)
		w = (loop_ms)timeout_ms;
	return (int)w;
}

int loop_once(struct loop *l, int timeout_ms)
{
	struct epoll_event evs[LOOP_BATCH];
	bool woken = false;
	int n;

	n = epoll_wait(l->epfd, evs, LOOP_BATCH, wait_ms(l, timeout_ms));
	if (n < 0) {
		if (errno != EINTR)
			return errno;
		n = 0;
	}
	if (l->clock_mode == LOOP_CLOCK_MONOTONIC)
		l->now = loop_clock_ms();
	for (int i = 0; i < n; i++) {
		if (evs[i].data.u64 == WAKE_TAG)
			woken = true;
		else
			deliver(l, &evs[i]);
	}
	run_hooks(l, true);
	if (woken)
		run_posts(l);
	loop_wheel_expire(l);
	run_hooks(l, false);
	return 0;
}

int loop_run(struct loop *l)
{
	int err = 0;

	while (!err && !atomic_load_explicit(&l->stop, memory_order_acquire))
		err = loop_once(l, -1);
	atomic_store_explicit(&l->stop, false, memory_order_relaxed);
	return err;
}

void loop_stop(struct loop *l)
{
	atomic_store_explicit(&l->stop, true, memory_order_release);
	wake(l);
}
