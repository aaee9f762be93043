/*
 * loc_sqlite.c - the "sqlite:PATH" store, the embedded default.
 *
 * One DB thread owns the connection; every call queues a request to it and
 * the result comes back with loop_post.  A 200 OK to a REGISTER (RFC 3261
 * §10.3 step 8) goes out only once its binding is durable, so the file is
 * in WAL mode with synchronous=FULL (the WAL is synced at every commit) and
 * the thread does GROUP COMMIT: it takes every request queued, runs them
 * all in ONE transaction (each under a savepoint, so one failing does not
 * undo the others), commits once, then completes them all.  A burst of N
 * updates costs a few fsyncs, not N.
 *
 * Bindings live in one row each; an update reads the AOR's live rows,
 * applies §10.3 step 7 (loc_apply), and rewrites the AOR's rows.  Expired
 * rows are deleted once a second through the index on the expiry column
 * (a range scan of what expired, never the whole table), a bounded number
 * at a time; lookups filter by expiry, so nothing expired is ever returned.
 * The schema carries a version table; credentials are in loc_user.
 */
#include <errno.h>
#include <sqlite3.h>
#include <string.h>
#include <time.h>

#define LOG_MODULE "loc"
#include "loc/loc_int.h"
#include "ringlet/log.h"
#include "ringlet/mem.h"

#define SCHEMA_VERSION 1
#define PURGE_BATCH 1000 /* expired rows deleted per transaction */
#define PAGE 64		 /* rows per page of the synchronous listings */
#define BUSY_MS 5000	 /* wait for another process's write lock (ringletd user ...) */

enum {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_SELECT,
	ST_DELETE,
	ST_INSERT,
	ST_PURGE,
	ST_USER_GET,
	ST_USER_PUT,
	ST_USER_DEL,
	ST_USER_PAGE,
	ST_ITER_PAGE,
	ST_COUNT
};

#define COLS "contact, path, instance, reg_id, q, call_id, cseq, expires, received, user_agent"

static const char *const sql_text[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT req",
    [ST_RELEASE] = "RELEASE req",
    [ST_ROLLBACK_TO] = "ROLLBACK TO req",
    [ST_SELECT] = "SELECT " COLS " FROM loc_binding WHERE aor = ?1 AND expires > ?2 LIMIT ?3",
    [ST_DELETE] = "DELETE FROM loc_binding WHERE aor = ?1",
    [ST_INSERT] = "INSERT OR REPLACE INTO loc_binding (aor, " COLS ")"
		  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [ST_PURGE] = "DELETE FROM loc_binding WHERE rowid IN (SELECT rowid FROM loc_binding"
		 " WHERE expires <= ?1 LIMIT ?2)",
    [ST_USER_GET] = "SELECT ha1_md5, ha1_sha256 FROM loc_user WHERE user = ?1",
    [ST_USER_PUT] = "INSERT OR REPLACE INTO loc_user (user, ha1_md5, ha1_sha256)"
		    " VALUES (?1, ?2, ?3)",
    [ST_USER_DEL] = "DELETE FROM loc_user WHERE user = ?1",
    [ST_USER_PAGE] = "SELECT user, ha1_md5, ha1_sha256 FROM loc_user WHERE user > ?1"
		     " ORDER BY user LIMIT ?2",
    [ST_ITER_PAGE] = "SELECT aor, " COLS " FROM loc_binding WHERE (aor, contact) > (?1, ?2)"
		     " AND expires > ?3 ORDER BY aor, contact LIMIT ?4",
};

static const char schema[] =
    "CREATE TABLE loc_binding (aor TEXT NOT NULL, contact TEXT NOT NULL,"
    " path TEXT NOT NULL, instance TEXT NOT NULL, reg_id INTEGER NOT NULL,"
    " q INTEGER NOT NULL, call_id TEXT NOT NULL, cseq INTEGER NOT NULL,"
    " expires INTEGER NOT NULL, received TEXT NOT NULL, user_agent TEXT NOT NULL,"
    " UNIQUE (aor, contact));"
    "CREATE INDEX loc_binding_expires ON loc_binding (expires);"
    "CREATE TABLE loc_user (user TEXT PRIMARY KEY NOT NULL, ha1_md5 TEXT NOT NULL,"
    " ha1_sha256 TEXT NOT NULL);"
    "INSERT INTO loc_version (version) VALUES (1);";

struct sql_store {
	struct loc_store base;
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct list queue; /* of struct loc_req, under mu */
	bool stop;
	int64_t next_purge; /* DB thread only */
	struct loc_binding cur[LOC_MAX_BINDINGS], out[LOC_MAX_BINDINGS];
	uint8_t secret[LOC_SECRET_LEN]; /* read at open, before the DB thread runs */
};

struct user_page {
	char after[LOC_AOR_MAX];
	unsigned n;
	struct loc_user u[PAGE];
};

struct iter_row {
	char aor[LOC_AOR_MAX];
	struct loc_binding b;
};

struct iter_page {
	char after_aor[LOC_AOR_MAX];
	char after_contact[LOC_CONTACT_MAX];
	unsigned n;
	struct iter_row row[PAGE];
};

static int sql_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_NOMEM:
		return ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return EBUSY;
	default:
		return EIO;
	}
}

/* Step a statement that returns no rows (or whose rows do not matter), and reset it. */
static int exec_st(struct sql_store *q, int i)
{
	int rc = sqlite3_step(q->st[i]);

	sqlite3_reset(q->st[i]);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		log_warn_rl("event=sqlite_error op=%d err=\"%s\"", i, sqlite3_errmsg(q->db));
		return sql_errno(rc) ? sql_errno(rc) : EIO;
	}
	return 0;
}

static void bind_str(sqlite3_stmt *st, int col, const char *s)
{
	sqlite3_bind_text(st, col, s, -1, SQLITE_STATIC);
}

/* Copy text column col of st into dst[cap].  False when it does not fit (a corrupt row). */
static bool col_str(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	int n = sqlite3_column_bytes(st, col);

	return t && n >= 0 && loc_memcpy(dst, cap, t, (size_t)n);
}

/* Read the binding columns of st starting at column c0.  False for a corrupt row. */
static bool col_binding(sqlite3_stmt *st, int c0, struct loc_binding *b)
{
	memset(b, 0, sizeof(*b));
	b->reg_id = (uint32_t)sqlite3_column_int64(st, c0 + 3);
	b->q = (int16_t)sqlite3_column_int(st, c0 + 4);
	b->cseq = (uint32_t)sqlite3_column_int64(st, c0 + 6);
	b->expires = sqlite3_column_int64(st, c0 + 7);
	return col_str(st, c0, b->contact, sizeof(b->contact)) &&
	       col_str(st, c0 + 1, b->path, sizeof(b->path)) &&
	       col_str(st, c0 + 2, b->instance, sizeof(b->instance)) &&
	       col_str(st, c0 + 5, b->call_id, sizeof(b->call_id)) &&
	       col_str(st, c0 + 8, b->received, sizeof(b->received)) &&
	       col_str(st, c0 + 9, b->user_agent, sizeof(b->user_agent));
}

/* The live bindings of aor into q->cur[0..*n).  Returns 0 or an errno. */
static int select_aor(struct sql_store *q, const char *aor, int64_t now, unsigned *n)
{
	sqlite3_stmt *st = q->st[ST_SELECT];
	int rc;

	*n = 0;
	bind_str(st, 1, aor);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int(st, 3, LOC_MAX_BINDINGS);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (col_binding(st, 0, &q->cur[*n]))
			(*n)++;
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sql_errno(rc) ? sql_errno(rc) : EIO;
}

static int insert(struct sql_store *q, const char *aor, const struct loc_binding *b)
{
	sqlite3_stmt *st = q->st[ST_INSERT];

	bind_str(st, 1, aor);
	bind_str(st, 2, b->contact);
	bind_str(st, 3, b->path);
	bind_str(st, 4, b->instance);
	sqlite3_bind_int64(st, 5, b->reg_id);
	sqlite3_bind_int(st, 6, b->q);
	bind_str(st, 7, b->call_id);
	sqlite3_bind_int64(st, 8, b->cseq);
	sqlite3_bind_int64(st, 9, b->expires);
	bind_str(st, 10, b->received);
	bind_str(st, 11, b->user_agent);
	return exec_st(q, ST_INSERT);
}

/* Replace the rows of aor with q->out[0..k). */
static int write_aor(struct sql_store *q, const char *aor, unsigned k)
{
	unsigned i;
	int err;

	bind_str(q->st[ST_DELETE], 1, aor);
	err = exec_st(q, ST_DELETE);
	for (i = 0; i < k && !err; i++)
		err = insert(q, aor, &q->out[i]);
	return err;
}

/* §10.3 step 7 inside the batch's transaction. */
static int update(struct sql_store *q, struct loc_req *r, int64_t now)
{
	unsigned ncur, k;
	int err;

	err = select_aor(q, r->key, now, &ncur);
	if (err)
		return err;
	err = loc_apply(q->cur, ncur, r->c, r->n, r->remove_all, r->cseq, r->call_id, now, q->out,
			&k);
	if (err)
		return err;
	if (r->n == 0 && !r->remove_all) /* a query: nothing to write */
		return loc_req_result(r, q->cur, ncur, now);
	err = write_aor(q, r->key, k);
	return err ? err : loc_req_result(r, q->out, k, now);
}

static int lookup(struct sql_store *q, struct loc_req *r, int64_t now)
{
	unsigned n;
	int err = select_aor(q, r->key, now, &n);

	return err ? err : loc_req_result(r, q->cur, n, now);
}

static int user_get(struct sql_store *q, struct loc_req *r)
{
	sqlite3_stmt *st = q->st[ST_USER_GET];
	int rc, err = ENOENT;

	bind_str(st, 1, r->key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		loc_strcpy(r->user.user, sizeof(r->user.user), r->key);
		err = col_str(st, 0, r->user.ha1_md5, sizeof(r->user.ha1_md5)) &&
			      col_str(st, 1, r->user.ha1_sha256, sizeof(r->user.ha1_sha256))
			  ? 0
			  : EIO;
	} else if (rc != SQLITE_DONE) {
		err = sql_errno(rc) ? sql_errno(rc) : EIO;
	}
	sqlite3_reset(st);
	return err;
}

static int user_put(struct sql_store *q, struct loc_req *r)
{
	sqlite3_stmt *st = q->st[ST_USER_PUT];

	bind_str(st, 1, r->user.user);
	bind_str(st, 2, r->user.ha1_md5);
	bind_str(st, 3, r->user.ha1_sha256);
	return exec_st(q, ST_USER_PUT);
}

static int user_del(struct sql_store *q, struct loc_req *r)
{
	int err;

	bind_str(q->st[ST_USER_DEL], 1, r->key);
	err = exec_st(q, ST_USER_DEL);
	return err ? err : sqlite3_changes(q->db) ? 0 : ENOENT;
}

static int user_page(struct sql_store *q, struct loc_req *r)
{
	struct user_page *p = r->page;
	sqlite3_stmt *st = q->st[ST_USER_PAGE];
	unsigned rows = 0;
	int rc;

	p->n = 0;
	bind_str(st, 1, p->after);
	sqlite3_bind_int(st, 2, PAGE);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct loc_user *u = &p->u[p->n];

		rows++;
		if (col_str(st, 0, u->user, sizeof(u->user)) &&
		    col_str(st, 1, u->ha1_md5, sizeof(u->ha1_md5)) &&
		    col_str(st, 2, u->ha1_sha256, sizeof(u->ha1_sha256)))
			p->n++;
		/* the cursor moves past a corrupt row too; one it cannot hold ends the list */
		if (!col_str(st, 0, p->after, sizeof(p->after)))
			break;
	}
	sqlite3_reset(st);
	r->nb = rows;
	return rc == SQLITE_DONE ? 0 : EIO;
}

static int iter_page(struct sql_store *q, struct loc_req *r, int64_t now)
{
	struct iter_page *p = r->page;
	sqlite3_stmt *st = q->st[ST_ITER_PAGE];
	unsigned rows = 0;
	int rc;

	p->n = 0;
	bind_str(st, 1, p->after_aor);
	bind_str(st, 2, p->after_contact);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int(st, 4, PAGE);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct iter_row *w = &p->row[p->n];

		rows++;
		if (col_str(st, 0, w->aor, sizeof(w->aor)) && col_binding(st, 1, &w->b))
			p->n++;
		if (!col_str(st, 0, p->after_aor, sizeof(p->after_aor)) ||
		    !col_str(st, 1, p->after_contact, sizeof(p->after_contact)))
			break;
	}
	sqlite3_reset(st);
	r->nb = rows; /* rows read, so the caller knows whether a next page may exist */
	return rc == SQLITE_DONE ? 0 : EIO;
}

static bool writes(enum loc_op op)
{
	return op == LOC_OP_UPDATE || op == LOC_OP_REMOVE || op == LOC_OP_USER_PUT ||
	       op == LOC_OP_USER_DEL;
}

static int run_op(struct sql_store *q, struct loc_req *r, int64_t now)
{
	switch (r->op) {
	case LOC_OP_UPDATE:
		return update(q, r, now);
	case LOC_OP_LOOKUP:
		return lookup(q, r, now);
	case LOC_OP_REMOVE:
		bind_str(q->st[ST_DELETE], 1, r->key);
		return exec_st(q, ST_DELETE);
	case LOC_OP_USER_GET:
		return user_get(q, r);
	case LOC_OP_USER_PUT:
		return user_put(q, r);
	case LOC_OP_USER_DEL:
		return user_del(q, r);
	case LOC_OP_USER_PAGE:
		return user_page(q, r);
	case LOC_OP_ITER_PAGE:
		return iter_page(q, r, now);
	}
	return EINVAL;
}

/* One request inside the open transaction; a failed write is undone alone. */
static void run_one(struct sql_store *q, struct loc_req *r, int64_t now)
{
	if (!writes(r->op)) {
		r->err = run_op(q, r, now);
		return;
	}
	r->err = exec_st(q, ST_SAVEPOINT);
	if (r->err)
		return;
	r->err = run_op(q, r, now);
	if (r->err)
		exec_st(q, ST_ROLLBACK_TO);
	exec_st(q, ST_RELEASE);
}

/* Group commit: every request of batch in one transaction, one commit, then complete all. */
static void run_batch(struct sql_store *q, struct list *batch)
{
	int64_t now = loc_now();
	struct list_node *n;
	int err;

	err = exec_st(q, ST_BEGIN);
	if (!err) {
		for (n = batch->head.next; n != &batch->head; n = n->next)
			run_one(q, LIST_ENTRY(n, struct loc_req, le), now);
		err = exec_st(q, ST_COMMIT);
		if (err)
			exec_st(q, ST_ROLLBACK);
		else
			atomic_fetch_add(&q->base.n_commits, 1);
	}
	while ((n = list_pop_front(batch))) {
		struct loc_req *r = LIST_ENTRY(n, struct loc_req, le);

		if (err)
			r->err = err; /* nothing of the batch is durable */
		if (r->err) {
			r->b = mem_deref(r->b);
			r->nb = 0;
		}
		r->s = NULL;
		loc_req_complete(&q->base, r);
	}
}

/* Delete what expired, through the expiry index, at most PURGE_BATCH rows. */
static void purge(struct sql_store *q, int64_t now)
{
	int changes;

	sqlite3_bind_int64(q->st[ST_PURGE], 1, now);
	sqlite3_bind_int(q->st[ST_PURGE], 2, PURGE_BATCH);
	if (exec_st(q, ST_PURGE))
		return;
	changes = sqlite3_changes(q->db);
	if (changes > 0) {
		atomic_fetch_add(&q->base.n_expired, (uint64_t)changes);
		atomic_fetch_add(&q->base.n_commits, 1);
	}
	q->next_purge = changes == PURGE_BATCH ? now : now + 1;
}

static void *db_main(void *arg)
{
	struct sql_store *q = arg;
	struct list batch = LIST_INIT(batch);
	struct timespec at;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (list_empty(&q->queue) && !q->stop && loc_now() < q->next_purge) {
			at.tv_sec = (time_t)q->next_purge;
			at.tv_nsec = 0;
			pthread_cond_timedwait(&q->cv, &q->mu, &at);
		}
		if (list_empty(&q->queue) && q->stop)
			break;
		list_splice_back(&batch, &q->queue);
		pthread_mutex_unlock(&q->mu);
		if (!list_empty(&batch))
			run_batch(q, &batch);
		if (loc_now() >= q->next_purge)
			purge(q, loc_now());
		pthread_mutex_lock(&q->mu);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

static int sql_submit(struct loc_store *s, struct loc_req *r)
{
	struct sql_store *q = (struct sql_store *)(void *)s;
	bool was_empty;

	pthread_mutex_lock(&q->mu);
	was_empty = list_empty(&q->queue);
	list_push_back(&q->queue, &r->le);
	if (was_empty)
		pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

/* A synchronous request through the DB thread (its connection is the only one). */
static int run_sync(struct sql_store *q, enum loc_op op, const char *key, const struct loc_user *u,
		    void *page)
{
	struct loc_req *r = loc_req_alloc(op);
	int err;

	if (!r) {
		mem_deref(page);
		return ENOMEM;
	}
	if (key)
		loc_strcpy(r->key, sizeof(r->key), key);
	if (u)
		r->user = *u;
	r->page = page;
	err = loc_req_run_sync(&q->base, r);
	mem_deref(r);
	return err;
}

static int sql_user_put(struct loc_store *s, const struct loc_user *u)
{
	return run_sync((struct sql_store *)(void *)s, LOC_OP_USER_PUT, NULL, u, NULL);
}

static int sql_user_del(struct loc_store *s, const char *user)
{
	return run_sync((struct sql_store *)(void *)s, LOC_OP_USER_DEL, user, NULL, NULL);
}

/* Page by page (PAGE users each), so fn runs on the caller's thread, outside the DB thread. */
static int sql_user_list(struct loc_store *s, loc_user_list_fn *fn, void *arg)
{
	struct sql_store *q = (struct sql_store *)(void *)s;
	struct user_page *p = mem_alloc(sizeof(*p), NULL);
	struct loc_req *r;
	unsigned i, rows = 0;
	int err = 0;

	if (!p)
		return ENOMEM;
	do {
		r = loc_req_alloc(LOC_OP_USER_PAGE);
		if (!r) {
			err = ENOMEM;
			break;
		}
		r->page = mem_ref(p);
		err = loc_req_run_sync(&q->base, r);
		rows = r->nb;
		mem_deref(r);
		for (i = 0; !err && i < p->n; i++)
			fn(&p->u[i], arg);
	} while (!err && rows == PAGE);
	mem_deref(p);
	return err;
}

static int sql_iterate(struct loc_store *s, loc_iter_fn *fn, void *arg)
{
	struct sql_store *q = (struct sql_store *)(void *)s;
	struct iter_page *p = mem_alloc(sizeof(*p), NULL);
	struct loc_req *r;
	unsigned i, rows = 0;
	int err = 0;

	if (!p)
		return ENOMEM;
	do {
		r = loc_req_alloc(LOC_OP_ITER_PAGE);
		if (!r) {
			err = ENOMEM;
			break;
		}
		r->page = mem_ref(p);
		err = loc_req_run_sync(&q->base, r);
		rows = r->nb;
		mem_deref(r);
		for (i = 0; !err && i < p->n; i++)
			fn(p->row[i].aor, &p->row[i].b, arg);
	} while (!err && rows == PAGE);
	mem_deref(p);
	return err;
}

static void sql_free(struct sql_store *q)
{
	unsigned i;

	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(q->st[i]);
	sqlite3_close(q->db);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	mem_deref(q);
}

/* Requests still queued are run first: the thread drains the queue before it stops. */
static void sql_close(struct loc_store *s)
{
	struct sql_store *q = (struct sql_store *)(void *)s;

	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	sql_free(q);
}

static int sql_secret(struct loc_store *s, uint8_t out[LOC_SECRET_LEN])
{
	memcpy(out, ((struct sql_store *)(void *)s)->secret, LOC_SECRET_LEN);
	return 0;
}

/*
 * The nonce secret of this file: created at random by the first process to
 * open it (INSERT OR IGNORE keeps a concurrent opener's), then read back.
 * Runs on the opening thread, before the DB thread exists.
 */
static int secret_init(struct sql_store *q, const char *path, char *why, size_t whylen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_exec(q->db,
			      "CREATE TABLE IF NOT EXISTS loc_meta (key TEXT PRIMARY KEY NOT NULL,"
			      " value BLOB NOT NULL);"
			      "INSERT OR IGNORE INTO loc_meta VALUES ('nonce_secret', randomblob(32));",
			      NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(q->db, "SELECT value FROM loc_meta WHERE key = 'nonce_secret'",
					-1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_bytes(st, 0) == LOC_SECRET_LEN) {
		memcpy(q->secret, sqlite3_column_blob(st, 0), LOC_SECRET_LEN);
		sqlite3_finalize(st);
		return 0;
	}
	loc_why(why, whylen, "cannot read the nonce secret of %s: %s", path, sqlite3_errmsg(q->db));
	sqlite3_finalize(st);
	return EIO;
}

static const struct loc_ops sql_ops = {
    .submit = sql_submit,
    .user_put = sql_user_put,
    .user_del = sql_user_del,
    .user_list = sql_user_list,
    .iterate = sql_iterate,
    .close = sql_close,
    .secret = sql_secret,
};

/* The schema version, creating the schema in a new file.  0 or an errno (why set). */
static int schema_init(sqlite3 *db, const char *path, char *why, size_t whylen)
{
	sqlite3_stmt *st = NULL;
	int rc, v = 0;

	rc = sqlite3_exec(db,
			  "BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS loc_version"
			  " (version INTEGER NOT NULL)",
			  NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "SELECT max(version) FROM loc_version", -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc == SQLITE_OK && v == 0)
		rc = sqlite3_exec(db, schema, NULL, NULL, NULL);
	if (rc == SQLITE_OK && v > SCHEMA_VERSION) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		loc_why(why, whylen, "store %s has schema version %d, newer than this program's %d",
			path, v, SCHEMA_VERSION);
		return ENOTSUP;
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		loc_why(why, whylen, "store %s: %s", path, sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return sql_errno(rc) ? sql_errno(rc) : EIO;
	}
	return 0;
}

/* WAL with synchronous=FULL: a commit returns once the WAL is on disk. */
static int db_setup(sqlite3 *db, const char *path, char *why, size_t whylen)
{
	sqlite3_stmt *st = NULL;
	bool wal = false;
	int rc;

	sqlite3_busy_timeout(db, BUSY_MS);
	rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(st, 0);

		wal = m && (strcmp(m, "wal") == 0 || strcmp(m, "memory") == 0);
	}
	sqlite3_finalize(st);
	if (!wal) {
		loc_why(why, whylen, "store %s: cannot use WAL mode: %s", path, sqlite3_errmsg(db));
		return EIO;
	}
	rc = sqlite3_exec(db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		loc_why(why, whylen, "store %s: %s", path, sqlite3_errmsg(db));
		return EIO;
	}
	return schema_init(db, path, why, whylen);
}

static int prepare_all(struct sql_store *q, const char *path, char *why, size_t whylen)
{
	unsigned i;

	for (i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(q->db, sql_text[i], -1, SQLITE_PREPARE_PERSISTENT, &q->st[i],
				       NULL) != SQLITE_OK) {
			loc_why(why, whylen, "store %s: %s", path, sqlite3_errmsg(q->db));
			return EIO;
		}
	}
	return 0;
}

int loc_sqlite_open(struct loc_store **out, const char *path, char *why, size_t whylen)
{
	struct sql_store *q = mem_alloc(sizeof(*q), NULL);
	int rc, err;

	if (!q)
		return ENOMEM;
	q->base.ops = &sql_ops;
	list_init(&q->queue);
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	rc = sqlite3_open_v2(
	    path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		err = q->db && sqlite3_system_errno(q->db) ? sqlite3_system_errno(q->db) : EIO;
		loc_why(why, whylen, "cannot open store %s: %s", path,
			q->db ? sqlite3_errmsg(q->db) : "out of memory");
		sql_free(q);
		return err;
	}
	err = db_setup(q->db, path, why, whylen);
	if (!err)
		err = secret_init(q, path, why, whylen);
	if (!err)
		err = prepare_all(q, path, why, whylen);
	if (!err && pthread_create(&q->thread, NULL, db_main, q))
		err = EAGAIN;
	if (err) {
		sql_free(q);
		return err;
	}
	*out = &q->base;
	return 0;
}
