/*
 * loc_int.h - what the files of the location store share: the request every
 * operation becomes, the backend table, the pure step-7 function (RFC 3261
 * §10.3) and the binding codec.
 *
 * Every asynchronous call of loc.h turns into one struct loc_req (a mem
 * object) handed to the backend's submit().  The backend fills err and the
 * results and calls loc_req_complete(), which posts the caller's fn to the
 * caller's loop (or wakes a synchronous caller).  A request never points
 * back to its store once it is complete, so completions still queued on a
 * loop after loc_close() are harmless.
 */
#ifndef RINGLET_LOC_INT_H
#define RINGLET_LOC_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ringlet/list.h"
#include "ringlet/loc.h"
#include "ringlet/loop.h"

enum loc_op {
	LOC_OP_UPDATE = 1,
	LOC_OP_LOOKUP,
	LOC_OP_REMOVE,
	LOC_OP_USER_GET,
	/* synchronous ones, for a backend whose connection lives on its own thread */
	LOC_OP_USER_PUT,
	LOC_OP_USER_DEL,
	LOC_OP_USER_PAGE,
	LOC_OP_ITER_PAGE,
};

/* The waiter of a synchronous request: the calling thread sleeps on it. */
struct loc_sync {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
};

struct loc_req {
	struct list_node le; /* on the backend's queue */
	enum loc_op op;
	struct loc_store *s;   /* while pending (never used once complete) */
	struct loop *loop;     /* complete on this loop ... */
	struct loc_sync *sync; /* ... or wake this waiter (synchronous request) */
	union {
		loc_result_fn *result;
		loc_done_fn *done;
		loc_user_fn *user;
	} fn;
	void *arg;
	char key[LOC_AOR_MAX]; /* the AOR, or the user name */
	struct loc_change *c;  /* update: n changes (mem object) */
	unsigned n;
	bool remove_all;
	uint32_t cseq;
	char call_id[LOC_CALLID_MAX];
	/* results */
	int err;
	struct loc_binding *b; /* nb bindings (mem object) */
	unsigned nb;
	struct loc_user user; /* user get and put */
	void *page;	      /* a backend's paged synchronous request (mem object) */
	/* backend scratch (Redis: deadline, pause before a retry, tries, where it is) */
	struct loop_timer timer, retry;
	unsigned tries;
	uint8_t phase;
};

typedef void loc_user_list_fn(const struct loc_user *u, void *arg);
typedef void loc_iter_fn(const char *aor, const struct loc_binding *b, void *arg);

struct loc_ops {
	/* Take r (the caller's reference) and complete it later.  0 or an errno: then r is
	 * still the caller's. */
	int (*submit)(struct loc_store *s, struct loc_req *r);
	int (*user_put)(struct loc_store *s, const struct loc_user *u);
	int (*user_del)(struct loc_store *s, const char *user);
	int (*user_list)(struct loc_store *s, loc_user_list_fn *fn, void *arg);
	int (*iterate)(struct loc_store *s, loc_iter_fn *fn, void *arg);
	void (*close)(struct loc_store *s);
	int (*secret)(struct loc_store *s, uint8_t out[LOC_SECRET_LEN]);
};

/* The head of every backend's store struct. */
struct loc_store {
	const struct loc_ops *ops;
	_Atomic uint64_t n_ops, n_commits, n_expired, n_retries;
};

/* Backends (url already split by loc_open). */
int loc_mem_open(struct loc_store **out);
int loc_sqlite_open(struct loc_store **out, const char *path, char *why, size_t whylen);
int loc_redis_open(struct loc_store **out, const char *host, uint16_t port, unsigned db, char *why,
		   size_t whylen);

/* Where the Redis store is; the synchronous calls (loc_redis_sync.c) connect there. */
struct loc_redis_addr {
	char host[256];
	uint16_t port;
	unsigned db;
};

/* The hash of credentials: field user, value "<ha1_md5> <ha1_sha256>". */
#define LOC_REDIS_USERS "ringlet:users"

/* Connect, SELECT and PING once (loc_open's check).  0 or an errno, why set. */
int loc_redis_ping(const struct loc_redis_addr *a, char *why, size_t whylen);
int loc_redis_user_put(const struct loc_redis_addr *a, const struct loc_user *u);
int loc_redis_user_del(const struct loc_redis_addr *a, const char *user);
int loc_redis_user_list(const struct loc_redis_addr *a, loc_user_list_fn *fn, void *arg);
int loc_redis_iterate(const struct loc_redis_addr *a, loc_iter_fn *fn, void *arg);
/* The nonce secret: SET NX of a random one, then GET.  0 or an errno. */
int loc_redis_secret(const struct loc_redis_addr *a, uint8_t out[LOC_SECRET_LEN]);
/* Parse the value of user in LOC_REDIS_USERS into *u.  0 or EBADMSG. */
int loc_redis_user_decode(const char *v, size_t len, const char *user, struct loc_user *u);

/* Seconds since the epoch, the clock of every expiry. */
int64_t loc_now(void);

/* printf into why (if not NULL), one line. */
void loc_why(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Finish r: post its fn to r->loop (retrying while memory is short, so a
 * completion is never lost), or wake its synchronous waiter.  Counts the op.
 */
void loc_req_complete(struct loc_store *s, struct loc_req *r);
/* Call r's fn with its results, then drop r.  On r->loop's thread. */
void loc_req_deliver(void *arg);
/* Submit r synchronously: wait until the backend completes it.  Returns r->err. */
int loc_req_run_sync(struct loc_store *s, struct loc_req *r);
/* A zeroed request (mem object) for op. */
struct loc_req *loc_req_alloc(enum loc_op op);
/* Set r's results to the unexpired bindings of b[0..n) at now.  Returns 0 or ENOMEM. */
int loc_req_result(struct loc_req *r, const struct loc_binding *b, unsigned n, int64_t now);

/* Copy the NUL-terminated src into dst[cap].  False (dst "") if it does not fit. */
bool loc_strcpy(char *dst, size_t cap, const char *src);
/* Copy n bytes at src into dst[cap] with a NUL.  False (dst "") if they do not fit. */
bool loc_memcpy(char *dst, size_t cap, const void *src, size_t n);

/*
 * True when the two contacts are the same URI by RFC 3261 §19.1.4
 * (msg_uri_equal); a contact that is not a valid URI equals only itself.
 */
bool loc_contact_equal(const char *a, const char *b);

/*
 * RFC 3261 §10.3 step 7 as one pure function: apply n changes of one
 * REGISTER (Call-ID call_id, CSeq cseq) to the bindings cur[0..ncur) of an
 * AOR at time now.  Bindings of cur with expires <= now do not exist.
 * Writes the new bindings (all unexpired) to out[0..*nout), room for
 * LOC_MAX_BINDINGS.  Returns 0, EALREADY (a binding of the same Call-ID
 * with a CSeq >= the request's: nothing changes), ENOSPC (more than
 * LOC_MAX_BINDINGS after the update) or EINVAL (ncur > LOC_MAX_BINDINGS or
 * n > LOC_MAX_CHANGES).  *nout is written only on success.
 */
int loc_apply(const struct loc_binding *cur, unsigned ncur, const struct loc_change *c, unsigned n,
	      bool remove_all, uint32_t cseq, const char *call_id, int64_t now,
	      struct loc_binding *out, unsigned *nout);

/* Latest expiry among b[0..n) (0 when n == 0). */
int64_t loc_max_expiry(const struct loc_binding *b, unsigned n);

/*
 * The value of an AOR in a key-value store: a 16-byte version token, then
 * the bindings in a compact binary form.  loc_encode returns the length
 * written to buf (cap at least LOC_ENC_MAX), loc_decode 0 or EBADMSG
 * (it checks every length against the buffer and the field sizes) and
 * writes up to LOC_MAX_BINDINGS bindings to b.
 */
#define LOC_TOKEN_LEN 16
#define LOC_ENC_BINDING_MAX (sizeof(struct loc_binding) + 6 * 2 + 4 + 2 + 4 + 8)
#define LOC_ENC_MAX (LOC_TOKEN_LEN + 2 + LOC_MAX_BINDINGS * LOC_ENC_BINDING_MAX)
size_t loc_encode(const char token[LOC_TOKEN_LEN], const struct loc_binding *b, unsigned n,
		  char *buf);
int loc_decode(const char *buf, size_t len, char token[LOC_TOKEN_LEN], struct loc_binding *b,
	       unsigned *n);

#endif
