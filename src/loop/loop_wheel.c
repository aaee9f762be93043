/*
 * loop_wheel.c - the hierarchical timer wheel (see struct loop_wheel).
 *
 * Placement.  With d = expires - cur: d < 2^8 goes to level 0 slot
 * (expires & 255); d < 2^16 to level 1 slot ((expires >> 8) & 255); and so
 * on.  A level-L slot is processed ("cascaded") when cur reaches the next
 * multiple of 256^L whose index is that slot, which is exactly the start of
 * the timer's 256^L-ms block, because d < 256^(L+1).  Cascading re-places
 * each timer relative to the new cur, so it lands one or more levels lower;
 * level 0 slots fire.  Start and cancel are O(1): one list link and one bit.
 *
 * Time only needs to visit the ms where something happens: the bitmaps give,
 * per level, the next non-empty slot, so the wheel jumps from event to event
 * and a virtual clock can move by days in a handful of steps.
 *
 * Firing.  A slot's timers are first moved onto a list local to the tick and
 * fired from there, so callbacks may start or cancel any timer, including
 * ones of the same tick (cancel unlinks from the local list).  A timer started
 * with delay 0 goes to the due list, which the next iteration fires: never
 * recursively inside start, never twice in one pass.
 */
#include <assert.h>

#include "loop_int.h"

#define SLOT_MASK (WHEEL_SLOTS - 1)
#define WHEEL_REACH ((loop_ms)1 << (WHEEL_LEVELS * WHEEL_SLOT_BITS))

static void sentinel_init(struct loop_timer *s, uint64_t *bits, unsigned idx)
{
	s->next = s->prev = s;
	s->expires = idx;
	s->fn = NULL;
	s->arg = bits;
}

static inline bool slot_empty(const struct loop_timer *s)
{
	return s->next == s;
}

static inline void bit_set(uint64_t *bits, unsigned i)
{
	bits[i >> 6] |= (uint64_t)1 << (i & 63);
}

static inline bool bit_test(const uint64_t *bits, unsigned i)
{
	return (bits[i >> 6] >> (i & 63)) & 1;
}

static inline void bit_clear(uint64_t *bits, unsigned i)
{
	bits[i >> 6] &= ~((uint64_t)1 << (i & 63));
}

static inline void append(struct loop_timer *s, struct loop_timer *t)
{
	t->next = s;
	t->prev = s->prev;
	s->prev->next = t;
	s->prev = t;
}

void loop_wheel_init(struct loop_wheel *w, loop_ms cur)
{
	for (unsigned lv = 0; lv < WHEEL_LEVELS; lv++) {
		for (unsigned i = 0; i < WHEEL_SLOTS; i++)
			sentinel_init(&w->slot[lv][i], w->bits[lv], i);
		for (unsigned i = 0; i < WHEEL_SLOTS / 64; i++)
			w->bits[lv][i] = 0;
	}
	sentinel_init(&w->due, NULL, 0);
	w->cur = cur;
}

bool loop_wheel_due(const struct loop_wheel *w)
{
	return !slot_empty(&w->due);
}

/* Put t (unlinked, t->expires set) where it belongs relative to w->cur. */
static void place(struct loop_wheel *w, struct loop_timer *t)
{
	loop_ms e = t->expires, d;
	unsigned lv, i;

	if (e < w->cur) {
		append(&w->due, t);
		return;
	}
	d = e - w->cur;
	if (d < ((loop_ms)1 << 8)) {
		lv = 0;
	} else if (d < ((loop_ms)1 << 16)) {
		lv = 1;
	} else if (d < ((loop_ms)1 << 24)) {
		lv = 2;
	} else {
		lv = 3;
		if (d >= WHEEL_REACH) /* wait in the farthest slot, re-placed later */
			e = w->cur + WHEEL_REACH - 1;
	}
	i = (unsigned)(e >> (lv * WHEEL_SLOT_BITS)) & SLOT_MASK;
	append(&w->slot[lv][i], t);
	bit_set(w->bits[lv], i);
}

/* Move every timer of sentinel s onto the local sentinel l (initialised here). */
static void take(struct loop_timer *s, struct loop_timer *l)
{
	sentinel_init(l, NULL, 0);
	/* Invariant: a slot's bit is set exactly when the slot holds a timer. */
	assert(!s->arg || bit_test(s->arg, (unsigned)s->expires) == !slot_empty(s));
	if (slot_empty(s))
		return;
	l->next = s->next;
	l->prev = s->prev;
	l->next->prev = l;
	l->prev->next = l;
	s->next = s->prev = s;
	if (s->arg)
		bit_clear(s->arg, (unsigned)s->expires);
}

static struct loop_timer *pop(struct loop_timer *l)
{
	struct loop_timer *t = l->next;

	l->next = t->next;
	t->next->prev = l;
	t->next = t->prev = NULL;
	return t;
}

/* Fire every timer on local list l in order; callbacks may change the list. */
static unsigned fire(struct loop_timer *l)
{
	unsigned n = 0;

	while (!slot_empty(l)) {
		struct loop_timer *t = pop(l);

		t->fn(t->arg);
		n++;
	}
	return n;
}

static unsigned fire_due(struct loop_wheel *w)
{
	struct loop_timer l;

	if (slot_empty(&w->due))
		return 0;
	take(&w->due, &l);
	return fire(&l);
}

static void cascade(struct loop_wheel *w, unsigned lv, unsigned i)
{
	struct loop_timer l;

	take(&w->slot[lv][i], &l);
	while (!slot_empty(&l))
		place(w, pop(&l));
}

/*
 * Process ms x (>= w->cur; nothing may be due in [w->cur, x)): cascade the
 * levels whose block starts at x, then fire level-0 slot x.
 */
static unsigned tick(struct loop_wheel *w, loop_ms x)
{
	struct loop_timer l;

	assert(x >= w->cur);
	w->cur = x;
	for (unsigned lv = 1; lv < WHEEL_LEVELS; lv++) {
		unsigned sh = lv * WHEEL_SLOT_BITS;

		if (x & (((loop_ms)1 << sh) - 1))
			break;
		cascade(w, lv, (unsigned)(x >> sh) & SLOT_MASK);
	}
	take(&w->slot[0][x & SLOT_MASK], &l);
	w->cur = x + 1; /* timers started now for x go to the due list */
	return fire(&l);
}

/* First set bit in [lo, hi) of a 256-bit map (0 <= lo <= hi <= 256), or -1. */
static int find_in(const uint64_t *bits, unsigned lo, unsigned hi)
{
	for (unsigned wi = lo >> 6; wi < WHEEL_SLOTS / 64 && wi * 64 < hi; wi++) {
		uint64_t m = bits[wi];

		if (wi == lo >> 6)
			m &= ~(uint64_t)0 << (lo & 63);
		if (hi < wi * 64 + 64)
			m &= ((uint64_t)1 << (hi & 63)) - 1;
		if (m)
			return (int)(wi * 64 + (unsigned)__builtin_ctzll(m));
	}
	return -1;
}

/* Smallest d in [from, 256) with bit (base + d) mod 256 set, or -1. */
static int find_from(const uint64_t *bits, unsigned base, unsigned from)
{
	unsigned start = base + from, end = base + WHEEL_SLOTS;
	int r;

	if (from >= WHEEL_SLOTS)
		return -1;
	if (start < WHEEL_SLOTS) {
		r = find_in(bits, start, WHEEL_SLOTS);
		if (r >= 0)
			return r - (int)base;
		start = WHEEL_SLOTS;
	}
	r = find_in(bits, start - WHEEL_SLOTS, end - WHEEL_SLOTS);
	return r >= 0 ? r + (int)(WHEEL_SLOTS - base) : -1;
}

/* First block boundary of level lv at or after cur, and its slot index. */
static loop_ms level_start(loop_ms cur, unsigned lv, unsigned *base)
{
	unsigned sh = lv * WHEEL_SLOT_BITS;
	loop_ms g = (loop_ms)1 << sh;
	loop_ms b0 = (cur + g - 1) & ~(g - 1);

	*base = (unsigned)(b0 >> sh) & SLOT_MASK;
	return b0;
}

loop_ms loop_wheel_next_event(const struct loop_wheel *w)
{
	loop_ms best = LOOP_MS_NONE;

	for (unsigned lv = 0; lv < WHEEL_LEVELS; lv++) {
		unsigned base;
		loop_ms b0 = level_start(w->cur, lv, &base);
		int d = find_from(w->bits[lv], base, 0);

		if (d >= 0) {
			loop_ms at = b0 + ((loop_ms)d << (lv * WHEEL_SLOT_BITS));

			if (at < best)
				best = at;
		}
	}
	return best;
}

/*
 * Exact earliest expiry.  Level 0 slots hold a single expiry each; a higher
 * slot holds a range, so the first non-empty slots are scanned until one
 * starts after the best found (the far level-3 slot may hold later timers).
 */
static loop_ms next_expiry(const struct loop_wheel *w)
{
	loop_ms best = LOOP_MS_NONE;

	for (unsigned lv = 0; lv < WHEEL_LEVELS; lv++) {
		unsigned base, sh = lv * WHEEL_SLOT_BITS;
		loop_ms b0 = level_start(w->cur, lv, &base);
		int d;

		for (unsigned from = 0; (d = find_from(w->bits[lv], base, from)) >= 0;
		     from = (unsigned)d + 1) {
			const struct loop_timer *s = &w->slot[lv][(base + (unsigned)d) & SLOT_MASK];

			if (b0 + ((loop_ms)d << sh) >= best)
				break;
			for (const struct loop_timer *t = s->next; t != s; t = t->next)
				if (t->expires < best)
					best = t->expires;
		}
	}
	return best;
}

unsigned loop_wheel_expire(struct loop *l)
{
	struct loop_wheel *w = &l->wheel;
	unsigned n = fire_due(w);
	loop_ms x;

	if (l->clock_mode != LOOP_CLOCK_MONOTONIC)
		return n;
	while ((x = loop_wheel_next_event(w)) <= l->now)
		n += tick(w, x);
	if (w->cur <= l->now)
		w->cur = l->now + 1;
	return n;
}

void loop_timer_init(struct loop_timer *t)
{
	t->next = t->prev = NULL;
	t->expires = 0;
	t->fn = NULL;
	t->arg = NULL;
}

void loop_timer_start(struct loop *l, struct loop_timer *t, loop_ms delay, loop_timer_fn *fn,
		      void *arg)
{
	assert(fn != NULL);
	loop_timer_cancel(t);
	t->fn = fn;
	t->arg = arg;
	if (delay > LOOP_MS_MAX - l->now)
		delay = LOOP_MS_MAX - l->now;
	t->expires = l->now + delay;
	if (delay == 0)
		append(&l->wheel.due, t);
	else
		place(&l->wheel, t);
}

void loop_timer_cancel(struct loop_timer *t)
{
	struct loop_timer *p = t->prev, *n = t->next;

	if (!p)
		return;
	p->next = n;
	n->prev = p;
	t->next = t->prev = NULL;
	/* p == n: t was alone with its slot's sentinel, the slot is now empty. */
	if (p == n && p->arg)
		bit_clear(p->arg, (unsigned)p->expires);
}

unsigned loop_advance(struct loop *l, loop_ms ms)
{
	struct loop_wheel *w = &l->wheel;
	loop_ms target, x;
	unsigned n;

	if (l->clock_mode != LOOP_CLOCK_VIRTUAL)
		return 0;
	target = ms > LOOP_MS_MAX - l->now ? LOOP_MS_MAX : l->now + ms;
	n = fire_due(w);
	for (;;) {
		/* Timers restarted with delay 0 by the last pass hold time at the next ms. */
		x = loop_wheel_due(w) ? w->cur : loop_wheel_next_event(w);
		if (x > target)
			break;
		l->now = x;
		n += fire_due(w); /* due before x: earlier than slot x */
		n += tick(w, x);
		n += fire_due(w); /* started with delay 0 by slot x: due at x */
	}
	l->now = target;
	if (w->cur <= target)
		w->cur = target + 1;
	return n;
}

int64_t loop_next_timer(const struct loop *l)
{
	loop_ms e;

	if (loop_wheel_due(&l->wheel))
		return 0;
	e = next_expiry(&l->wheel);
	if (e == LOOP_MS_NONE)
		return -1;
	return e > l->now ? (int64_t)(e - l->now) : 0;
}
