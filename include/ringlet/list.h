/*
 * list.h - intrusive doubly linked list (header-only).
 *
 * An element embeds a struct list_node and is found back with LIST_ENTRY.
 * A list is circular around a head node, so insert and remove are O(1) and
 * never allocate.  A zeroed node is "not linked"; list_remove() makes it so
 * again, and removing an unlinked node is a no-op.  A struct list must be
 * initialised (list_init or LIST_INIT) before use and must not be copied.
 */
#ifndef RINGLET_LIST_H
#define RINGLET_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_node {
	struct list_node *next, *prev;
};

struct list {
	struct list_node head;
};

/* Static initialiser: `struct list l = LIST_INIT(l);` */
#define LIST_INIT(name)                                                                            \
	{                                                                                          \
		{                                                                                  \
			&(name).head, &(name).head                                                 \
		}                                                                                  \
	}

/* The struct of type `type` whose member `member` is the node pointer `node`. */
#define LIST_ENTRY(node, type, member) ((type *)(void *)((char *)(node)-offsetof(type, member)))

/* Visit every node n of list l, front to back.  Do not remove n inside. */
#define LIST_FOREACH(l, n) for ((n) = (l)->head.next; (n) != &(l)->head; (n) = (n)->next)

/* As LIST_FOREACH, but the body may remove (or free) n; tmp is scratch. */
#define LIST_FOREACH_SAFE(l, n, tmp)                                                               \
	for ((n) = (l)->head.next, (tmp) = (n)->next; (n) != &(l)->head;                           \
	     (n) = (tmp), (tmp) = (n)->next)

/* Make l empty (forgets any nodes on it without touching them). */
static inline void list_init(struct list *l)
{
	l->head.next = l->head.prev = &l->head;
}

static inline bool list_empty(const struct list *l)
{
	return l->head.next == &l->head;
}

/* True if n is on some list. */
static inline bool list_linked(const struct list_node *n)
{
	return n->prev != NULL;
}

/* Insert n (not linked) just before pos (a node or a list's head). */
static inline void list_insert_before(struct list_node *pos, struct list_node *n)
{
	n->next = pos;
	n->prev = pos->prev;
	pos->prev->next = n;
	pos->prev = n;
}

/* Insert n (not linked) just after pos (a node or a list's head). */
static inline void list_insert_after(struct list_node *pos, struct list_node *n)
{
	list_insert_before(pos->next, n);
}

static inline void list_push_back(struct list *l, struct list_node *n)
{
	list_insert_before(&l->head, n);
}

static inline void list_push_front(struct list *l, struct list_node *n)
{
	list_insert_after(&l->head, n);
}

/* Unlink n from its list and mark it unlinked.  No-op if n is not linked. */
static inline void list_remove(struct list_node *n)
{
	if (!n->prev)
		return;
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = NULL;
}

/* First node of l, or NULL if l is empty. */
static inline struct list_node *list_front(const struct list *l)
{
	return list_empty(l) ? NULL : l->head.next;
}

/* Last node of l, or NULL if l is empty. */
static inline struct list_node *list_back(const struct list *l)
{
	return list_empty(l) ? NULL : l->head.prev;
}

/* The node after n on l, or NULL if n is the last. */
static inline struct list_node *list_next(const struct list *l, const struct list_node *n)
{
	return n->next == &l->head ? NULL : n->next;
}

/* The node before n on l, or NULL if n is the first. */
static inline struct list_node *list_prev(const struct list *l, const struct list_node *n)
{
	return n->prev == &l->head ? NULL : n->prev;
}

/* Remove and return the first node of l, or NULL if l is empty. */
static inline struct list_node *list_pop_front(struct list *l)
{
	struct list_node *n = list_front(l);

	if (n)
		list_remove(n);
	return n;
}

/* Move every node of src to the back of dst, in order; src becomes empty.  O(1). */
static inline void list_splice_back(struct list *dst, struct list *src)
{
	if (list_empty(src))
		return;
	src->head.next->prev = dst->head.prev;
	dst->head.prev->next = src->head.next;
	src->head.prev->next = &dst->head;
	dst->head.prev = src->head.prev;
	list_init(src);
}

/* Number of nodes on l.  O(n). */
static inline size_t list_count(const struct list *l)
{
	size_t k = 0;
	const struct list_node *n;

	LIST_FOREACH(l, n)
	k++;
	return k;
}

#endif
