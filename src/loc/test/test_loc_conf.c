/*
 * test_loc_conf.c - the location store's conformance suite: one table of
 * cases run against every backend (memory; SQLite on a temp file; Redis on
 * a redis-server this test starts on a free 127.0.0.1 port and stops at the
 * end: if it cannot start, the Redis cases FAIL).  Each case gets a fresh
 * store and a real loop (LOOP_CLOCK_MONOTONIC), and every wait is bounded.
 * RFC 3261 §10.3 step 7 is what the binding cases check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <errno.h>

#include "conf_fix.c"

static void c_add_lookup(struct fx *f)
{
	struct loc_change c = ch("sip:alice@192.0.2.10:5062;transport=tcp", "cid-1", 7, 3600);
	const struct loc_binding *b;

	strcpy(c.b.path, "<sip:edge.example;lr>");
	strcpy(c.b.instance, "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>");
	c.b.reg_id = 1;
	c.b.q = 500;
	strcpy(c.b.received, "tcp:192.0.2.10:40001");
	strcpy(c.b.user_agent, "test-ua/1.0");
	assert_int_equal(look(f, "alice@example.com"), 0);
	assert_int_equal(f->n, 0);
	assert_int_equal(upd(f, "alice@example.com", &c, 1, false, 7, "cid-1"), 0);
	assert_int_equal(f->n, 1);
	assert_int_equal(look(f, "alice@example.com"), 0);
	assert_int_equal(f->n, 1);
	b = got(f, c.b.contact);
	assert_non_null(b);
	assert_memory_equal(b, &c.b, sizeof(*b));	 /* every field comes back as stored */
	assert_int_equal(look(f, "bob@example.com"), 0); /* another AOR: nothing */
	assert_int_equal(f->n, 0);
}

static void c_refresh(struct fx *f)
{
	struct loc_change c = ch("sip:a@h", "cid", 1, 60);

	assert_int_equal(upd(f, "a@h", &c, 1, false, 1, "cid"), 0);
	c = ch("sip:a@h", "cid", 2, 600);
	assert_int_equal(upd(f, "a@h", &c, 1, false, 2, "cid"), 0);
	assert_int_equal(look(f, "a@h"), 0);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->b[0].cseq, 2);
	assert_int_equal(f->b[0].expires, c.b.expires);
}

/* §10.3 step 7: same Call-ID and a CSeq not higher: the update is aborted. */
static void c_out_of_order(struct fx *f)
{
	struct loc_change c[2] = {ch("sip:a@h", "cid", 5, 60), ch("sip:b@h", "cid", 5, 60)};

	assert_int_equal(upd(f, "a@h", c, 1, false, 5, "cid"), 0);
	c[0] = ch("sip:a@h", "cid", 5, 600);
	assert_int_equal(upd(f, "a@h", c, 1, false, 5, "cid"), EALREADY);
	assert_int_equal(f->n, 0);
	c[0] = ch("sip:a@h", "cid", 4, 600);
	c[1] = ch("sip:b@h", "cid", 4, 600);
	assert_int_equal(upd(f, "a@h", c, 2, false, 4, "cid"), EALREADY); /* all or nothing */
	assert_int_equal(look(f, "a@h"), 0);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->b[0].cseq, 5);
	/* another Call-ID may have any CSeq (a UA that rebooted) */
	c[0] = ch("sip:a@h", "other", 1, 600);
	assert_int_equal(upd(f, "a@h", c, 1, false, 1, "other"), 0);
	assert_int_equal(f->n, 1);
	assert_string_equal(f->b[0].call_id, "other");
}

static void c_remove(struct fx *f)
{
	struct loc_change c[2] = {ch("sip:a@h", "cid", 1, 60), ch("sip:b@h", "cid", 1, 60)};

	assert_int_equal(upd(f, "a@h", c, 2, false, 1, "cid"), 0);
	assert_int_equal(f->n, 2);
	c[0] = ch("sip:a@h", "cid", 2, 0);
	assert_int_equal(upd(f, "a@h", c, 1, false, 2, "cid"), 0);
	assert_int_equal(f->n, 1);
	assert_non_null(got(f, "sip:b@h"));
	c[0] = ch("sip:b@h", "cid", 3, 0);
	assert_int_equal(upd(f, "a@h", c, 1, false, 3, "cid"), 0);
	assert_int_equal(f->n, 0);
	assert_int_equal(look(f, "a@h"), 0);
	assert_int_equal(f->n, 0);
}

/* "Contact: *" with "Expires: 0" (§10.3 step 6/7). */
static void c_remove_all(struct fx *f)
{
	struct loc_change c[3] = {ch("sip:a@h", "c1", 10, 60), ch("sip:b@h", "c1", 10, 60),
				  ch("sip:c@h", "c1", 10, 60)};

	assert_int_equal(upd(f, "a@h", c, 3, false, 10, "c1"), 0);
	assert_int_equal(upd(f, "a@h", NULL, 0, true, 10, "c1"), EALREADY);
	assert_int_equal(look(f, "a@h"), 0);
	assert_int_equal(f->n, 3);
	assert_int_equal(upd(f, "a@h", NULL, 0, true, 11, "c1"), 0);
	assert_int_equal(f->n, 0);
	assert_int_equal(look(f, "a@h"), 0);
	assert_int_equal(f->n, 0);
	assert_int_equal(upd(f, "a@h", c, 1, false, 10, "c1"), 0);
	assert_int_equal(upd(f, "a@h", NULL, 0, true, 1, "new-call"), 0);
	assert_int_equal(f->n, 0);
}

static void c_multi_q(struct fx *f)
{
	struct loc_change c[3] = {ch("sip:desk@h", "cid", 1, 60), ch("sip:cell@h", "cid", 1, 60),
				  ch("sip:home@h", "cid", 1, 60)};

	c[0].b.q = 1000;
	c[1].b.q = 500;
	assert_int_equal(upd(f, "a@h", c, 3, false, 1, "cid"), 0);
	assert_int_equal(look(f, "a@h"), 0);
	assert_int_equal(f->n, 3);
	assert_int_equal(got(f, "sip:desk@h")->q, 1000);
	assert_int_equal(got(f, "sip:cell@h")->q, 500);
	assert_int_equal(got(f, "sip:home@h")->q, -1);
}

static void c_cap(struct fx *f)
{
	struct loc_change *c = calloc(LOC_MAX_BINDINGS + 1, sizeof(*c));
	char contact[32];
	unsigned i;

	assert_non_null(c);
	for (i = 0; i <= LOC_MAX_BINDINGS; i++) {
		snprintf(contact, sizeof(contact), "sip:u%u@h", i);
		c[i] = ch(contact, "cid", 1, 60);
	}
	assert_int_equal(upd(f, "a@h", c, LOC_MAX_BINDINGS + 1, false, 1, "cid"), ENOSPC);
	assert_int_equal(look(f, "a@h"), 0);
	assert_int_equal(f->n, 0);
	assert_int_equal(upd(f, "a@h", c, LOC_MAX_BINDINGS, false, 1, "cid"), 0);
	assert_int_equal(f->n, LOC_MAX_BINDINGS);
	c[LOC_MAX_BINDINGS].b.cseq = 2;
	assert_int_equal(upd(f, "a@h", &c[LOC_MAX_BINDINGS], 1, false, 2, "cid"), ENOSPC);
	assert_int_equal(look(f, "a@h"), 0);
	assert_int_equal(f->n, LOC_MAX_BINDINGS);
	c[0] = ch("sip:u0@h", "cid", 3, 600); /* a refresh at the cap is fine */
	assert_int_equal(upd(f, "a@h", c, 1, false, 3, "cid"), 0);
	assert_int_equal(f->n, LOC_MAX_BINDINGS);
	free(c);
}

/* Contacts are compared as URIs (§19.1.4): the host is case-insensitive, a port is not "none". */
static void c_uri_equal(struct fx *f)
{
	struct loc_change c = ch("sip:a@Host:5060", "cid", 1, 60);

	assert_int_equal(upd(f, "a@h", &c, 1, false, 1, "cid"), 0);
	c = ch("sip:a@host:5060", "cid", 2, 120);
	assert_int_equal(upd(f, "a@h", &c, 1, false, 2, "cid"), 0);
	assert_int_equal(f->n, 1);
	assert_string_equal(f->b[0].contact, "sip:a@host:5060");
	c = ch("sip:a@host", "cid", 3, 120);
	assert_int_equal(upd(f, "a@h", &c, 1, false, 3, "cid"), 0);
	assert_int_equal(f->n, 2);
	c = ch("sip:a@HOST:5060", "cid", 2, 0); /* a replay, found through URI equality */
	assert_int_equal(upd(f, "a@h", &c, 1, false, 2, "cid"), EALREADY);
	c = ch("sip:a@HOST:5060", "cid", 4, 0);
	assert_int_equal(upd(f, "a@h", &c, 1, false, 4, "cid"), 0);
	assert_int_equal(f->n, 1);
	assert_non_null(got(f, "sip:a@host"));
}

/* An update without contacts is a query (§10.3 step 8): no change, current bindings back. */
static void c_query(struct fx *f)
{
	struct loc_change c = ch("sip:a@h", "cid", 5, 60);

	assert_int_equal(upd(f, "a@h", &c, 1, false, 5, "cid"), 0);
	assert_int_equal(upd(f, "a@h", NULL, 0, false, 1, "cid"), 0);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->b[0].cseq, 5);
	assert_int_equal(upd(f, "nobody@h", NULL, 0, false, 1, "cid"), 0);
	assert_int_equal(f->n, 0);
}

static void c_remove_aor(struct fx *f)
{
	struct loc_change c[2] = {ch("sip:a@h", "cid", 1, 60), ch("sip:b@h", "cid", 1, 60)};

	assert_int_equal(upd(f, "a@h", c, 2, false, 1, "cid"), 0);
	assert_int_equal(upd(f, "b@h", c, 1, false, 1, "cid"), 0);
	assert_int_equal(rm(f, "a@h"), 0);
	assert_int_equal(look(f, "a@h"), 0);
	assert_int_equal(f->n, 0);
	assert_int_equal(look(f, "b@h"), 0);
	assert_int_equal(f->n, 1);
	assert_int_equal(rm(f, "unknown@h"), 0);
	/* the same Call-ID and CSeq may register again after a removal */
	assert_int_equal(upd(f, "a@h", c, 1, false, 1, "cid"), 0);
	assert_int_equal(f->n, 1);
}

struct ulist {
	unsigned n;
	char names[4][LOC_AOR_MAX];
	char md5[4][33];
};

static void list_cb(const struct loc_user *u, void *arg)
{
	struct ulist *l = arg;

	assert_true(l->n < 4);
	strcpy(l->names[l->n], u->user);
	strcpy(l->md5[l->n], u->ha1_md5);
	l->n++;
}

static struct loc_user mkuser(const char *name, char hex)
{
	struct loc_user u;

	memset(&u, 0, sizeof(u));
	strcpy(u.user, name);
	memset(u.ha1_md5, hex, 32);
	memset(u.ha1_sha256, hex, 64);
	return u;
}

static void c_users(struct fx *f)
{
	struct loc_user a = mkuser("alice@atlanta.example", 'a'),
			b = mkuser("bob@biloxi.example", 'b');
	struct ulist l = {0};

	assert_int_equal(uget(f, "alice@atlanta.example"), ENOENT);
	assert_int_equal(loc_user_put_sync(f->s, &b), 0);
	assert_int_equal(loc_user_put_sync(f->s, &a), 0);
	assert_int_equal(uget(f, "alice@atlanta.example"), 0);
	assert_memory_equal(&f->user, &a, sizeof(a));
	assert_int_equal(loc_user_list_sync(f->s, list_cb, &l), 0);
	assert_int_equal(l.n, 2); /* in name order */
	assert_string_equal(l.names[0], "alice@atlanta.example");
	assert_string_equal(l.names[1], "bob@biloxi.example");
	a = mkuser("alice@atlanta.example", 'c'); /* a new password replaces the digests */
	assert_int_equal(loc_user_put_sync(f->s, &a), 0);
	assert_int_equal(uget(f, "alice@atlanta.example"), 0);
	assert_string_equal(f->user.ha1_md5, a.ha1_md5);
	assert_string_equal(f->user.ha1_sha256, a.ha1_sha256);
	assert_int_equal(loc_user_del_sync(f->s, "bob@biloxi.example"), 0);
	assert_int_equal(loc_user_del_sync(f->s, "bob@biloxi.example"), ENOENT);
	assert_int_equal(uget(f, "bob@biloxi.example"), ENOENT);
	memset(&l, 0, sizeof(l));
	assert_int_equal(loc_user_list_sync(f->s, list_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.md5[0], a.ha1_md5);
	/* digests only, lower-case hex */
	a.ha1_md5[3] = 'G';
	assert_int_equal(loc_user_put_sync(f->s, &a), EINVAL);
	a = mkuser("", 'a');
	assert_int_equal(loc_user_put_sync(f->s, &a), EINVAL);
}

struct iter {
	unsigned n, per_aor[3];
};

static void iter_cb(const char *aor, const struct loc_binding *b, void *arg)
{
	struct iter *it = arg;

	assert_true(aor[0] >= 'a' && aor[0] <= 'c' && aor[1] == '@');
	assert_true(b->expires > loc_now());
	assert_int_equal(b->contact[4], aor[0]); /* "sip:<aor letter>..." */
	it->per_aor[aor[0] - 'a']++;
	it->n++;
}

static void c_iterate(struct fx *f)
{
	struct loc_change c[3] = {ch("sip:a1@h", "cid", 1, 60), ch("sip:a2@h", "cid", 1, 60),
				  ch("sip:a3@h", "cid", 1, 60)};
	struct iter it = {0};

	assert_int_equal(loc_iterate_sync(f->s, iter_cb, &it), 0);
	assert_int_equal(it.n, 0);
	assert_int_equal(upd(f, "a@h", c, 1, false, 1, "cid"), 0);
	c[0] = ch("sip:b1@h", "cid", 1, 60);
	c[1] = ch("sip:b2@h", "cid", 1, 60);
	assert_int_equal(upd(f, "b@h", c, 2, false, 1, "cid"), 0);
	c[0] = ch("sip:c1@h", "cid", 1, 60);
	c[1] = ch("sip:c2@h", "cid", 1, 60);
	c[2] = ch("sip:c3@h", "cid", 1, 60);
	assert_int_equal(upd(f, "c@h", c, 3, false, 1, "cid"), 0);
	assert_int_equal(loc_iterate_sync(f->s, iter_cb, &it), 0);
	assert_int_equal(it.n, 6);
	assert_int_equal(it.per_aor[0], 1);
	assert_int_equal(it.per_aor[1], 2);
	assert_int_equal(it.per_aor[2], 3);
}

struct count {
	unsigned n;
	char aor[LOC_AOR_MAX];
	char contact[LOC_CONTACT_MAX];
};

static void count_cb(const char *aor, const struct loc_binding *b, void *arg)
{
	struct count *k = arg;

	assert_true(b->expires > loc_now());
	snprintf(k->aor, sizeof(k->aor), "%s", aor);
	snprintf(k->contact, sizeof(k->contact), "%s", b->contact);
	k->n++;
}

/* True once the store removed the expired bindings on its own. */
static bool expired_gone(struct fx *f, uint64_t expired0)
{
	struct loc_stats st;

	if (f->be->kind == K_REDIS) /* key TTLs: the AOR whose only binding expired is gone */
		return raw_int(f->be->port, "EXISTS", "ringlet:loc:exp1@h") == 0 &&
		       raw_int(f->be->port, "EXISTS", "ringlet:loc:exp2@h") == 1;
	loc_stats(f->s, &st);
	return st.expired >= expired0 + 2;
}

static void c_expiry(struct fx *f)
{
	int64_t t0 = loc_now(), end;
	struct loc_change c[2] = {cha("sip:short@h", "cid", 1, t0 + 1),
				  cha("sip:long@h", "cid", 1, t0 + 60)};
	struct loc_stats st0;
	struct count k = {0};

	loc_stats(f->s, &st0);
	assert_int_equal(upd(f, "exp1@h", c, 1, false, 1, "cid"), 0);
	assert_int_equal(upd(f, "exp2@h", c, 2, false, 1, "cid"), 0);
	assert_int_equal(f->n, 2);
	while (loc_now() < t0 + 1)
		sleep_ms(20);
	/* expired bindings are never returned, even before they are removed */
	assert_int_equal(look(f, "exp1@h"), 0);
	assert_int_equal(f->n, 0);
	assert_int_equal(look(f, "exp2@h"), 0);
	assert_int_equal(f->n, 1);
	assert_non_null(got(f, "sip:long@h"));
	assert_int_equal(loc_iterate_sync(f->s, count_cb, &k), 0);
	assert_int_equal(k.n, 1);
	assert_string_equal(k.aor, "exp2@h");
	assert_string_equal(k.contact, "sip:long@h");
	/* ... and the store removes them on its own, on time */
	for (end = mono_ms() + 4000; !expired_gone(f, st0.expired); sleep_ms(50))
		if (mono_ms() > end)
			fail_msg("expired bindings not removed within 4 s");
	assert_int_equal(look(f, "exp2@h"), 0);
	assert_int_equal(f->n, 1);
}

/* Bad arguments fail at once, and no callback ever comes. */
static void c_bad_args(struct fx *f)
{
	char longaor[LOC_AOR_MAX + 1], longcid[LOC_CALLID_MAX + 1];
	struct loc_change c = ch("sip:a@h", "cid", 1, 60);

	memset(longaor, 'a', LOC_AOR_MAX);
	longaor[LOC_AOR_MAX] = '\0';
	memset(longcid, 'c', LOC_CALLID_MAX);
	longcid[LOC_CALLID_MAX] = '\0';
	f->done = false;
	assert_int_equal(loc_update(f->s, f->l, NULL, &c, 1, false, 1, "cid", on_result, f),
			 EINVAL);
	assert_int_equal(loc_update(f->s, f->l, "", &c, 1, false, 1, "cid", on_result, f), EINVAL);
	assert_int_equal(loc_update(f->s, f->l, longaor, &c, 1, false, 1, "cid", on_result, f),
			 EINVAL);
	assert_int_equal(loc_update(f->s, f->l, "a@h", &c, 1, false, 1, longcid, on_result, f),
			 EINVAL);
	assert_int_equal(loc_update(f->s, f->l, "a@h", NULL, 1, false, 1, "cid", on_result, f),
			 EINVAL);
	assert_int_equal(
	    loc_update(f->s, f->l, "a@h", &c, LOC_MAX_CHANGES + 1, false, 1, "cid", on_result, f),
	    EINVAL);
	assert_int_equal(loc_update(f->s, f->l, "a@h", &c, 1, false, 1, "cid", NULL, f), EINVAL);
	assert_int_equal(loc_update(f->s, NULL, "a@h", &c, 1, false, 1, "cid", on_result, f),
			 EINVAL);
	assert_int_equal(loc_lookup(f->s, f->l, longaor, on_result, f), EINVAL);
	assert_int_equal(loc_remove(f->s, f->l, "", on_done, f), EINVAL);
	assert_int_equal(loc_user_get(f->s, f->l, NULL, on_user, f), EINVAL);
	assert_int_equal(loc_user_del_sync(f->s, ""), EINVAL);
	assert_int_equal(loc_iterate_sync(f->s, NULL, NULL), EINVAL);
	loop_once(f->l, 100);
	assert_false(f->done);
}

/* Two workers on one AOR at once (memory: one store; others: two stores, as two nodes). */
static void c_concurrent(struct fx *f)
{
	struct worker w[2] = {{.aor = "conc@h", .first = 0, .count = 15},
			      {.aor = "conc@h", .first = 100, .count = 15}};
	struct loc_store *s2 = f->s;

	if (f->be->kind != K_MEM)
		assert_int_equal(loc_open(&s2, f->url, NULL, 0), 0);
	run_workers(w, f->s, s2);
	if (s2 != f->s)
		loc_close(s2);
	assert_int_equal(look(f, "conc@h"), 0);
	assert_int_equal(f->n, 30); /* no update lost */
}

/* 1000 updates in flight from 2 threads; SQLite commits them in far fewer transactions. */
static void c_group_commit(struct fx *f)
{
	struct worker w[2] = {{.first = 0, .count = 500}, {.first = 500, .count = 500}};
	struct loc_stats st0, st;

	loc_stats(f->s, &st0);
	run_workers(w, f->s, f->s);
	loc_stats(f->s, &st);
	assert_true(st.ops - st0.ops >= 1000);
	if (f->be->kind == K_SQLITE) {
		print_message("      sqlite: 1000 updates in %llu commits\n",
			      (unsigned long long)(st.commits - st0.commits));
		assert_true(st.commits - st0.commits >= 1);
		assert_true(st.commits - st0.commits < 100);
	}
	assert_int_equal(look(f, "gc999@h"), 0);
	assert_int_equal(f->n, 1);
}

/* Everything is back after close and open. */
static void c_persist(struct fx *f)
{
	struct loc_change c[2] = {ch("sip:a@h", "cid", 4, 600), ch("sip:b@h", "cid", 4, 600)};
	struct loc_user u = mkuser("carol@chicago.example", 'e');
	struct count k = {0};

	assert_int_equal(upd(f, "a@h", c, 2, false, 4, "cid"), 0);
	assert_int_equal(loc_user_put_sync(f->s, &u), 0);
	loc_close(f->s);
	f->s = NULL;
	assert_int_equal(loc_open(&f->s, f->url, NULL, 0), 0);
	assert_int_equal(look(f, "a@h"), 0);
	assert_int_equal(f->n, 2);
	assert_int_equal(got(f, "sip:a@h")->cseq, 4);
	assert_int_equal(uget(f, "carol@chicago.example"), 0);
	assert_string_equal(f->user.ha1_sha256, u.ha1_sha256);
	assert_int_equal(loc_iterate_sync(f->s, count_cb, &k), 0);
	assert_int_equal(k.n, 2);
	assert_string_equal(k.aor, "a@h");
	c[0] = ch("sip:a@h", "cid", 4, 600); /* the stored CSeq is still checked */
	assert_int_equal(upd(f, "a@h", c, 1, false, 4, "cid"), EALREADY);
}

/*
 * Durability: a child process updates, gets the callback (the point where the
 * registrar would send its 200 OK) and is killed at once (SIGKILL from this
 * process), without closing anything.  The binding must be in the file.
 */
static void c_durable_kill(struct fx *f)
{
	struct loc_change c = ch("sip:durable@192.0.2.7", "cid-d", 1, 600);
	struct loc_store *s;
	struct loop *l;
	int status, p[2];
	char ok = 0;
	pid_t pid;

	/* no other thread may hold SQLite's locks across fork(): close ours first */
	loc_close(f->s);
	f->s = NULL;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		if (loop_alloc(&l, LOOP_CLOCK_MONOTONIC) || loc_open(&s, f->url, NULL, 0))
			_exit(2);
		if (loc_update(s, l, "d@h", &c, 1, false, 1, "cid-d", on_result, f))
			_exit(3);
		while (!f->done)
			loop_once(l, 100);
		ok = f->err == 0 ? 'y' : 'n';
		if (write(p[1], &ok, 1) != 1)
			_exit(4);
		for (;;)
			pause(); /* killed from outside: no close, no exit handler runs */
	}
	close(p[1]);
	if (read(p[0], &ok, 1) == 1)
		kill(pid, SIGKILL);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(ok, 'y');
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		fail_msg("child: status %d", status);
	assert_int_equal(loc_open(&f->s, f->url, NULL, 0), 0);
	assert_int_equal(look(f, "d@h"), 0);
	assert_int_equal(f->n, 1);
	assert_string_equal(f->b[0].contact, c.b.contact);
}

/* Two nodes on one store: what A writes B finds, and expiry holds for both. */
static void c_two_nodes(struct fx *f)
{
	int64_t t0 = loc_now();
	struct loc_change c[2] = {cha("sip:a@192.0.2.1", "cid", 1, t0 + 600),
				  cha("sip:brief@192.0.2.1", "cid", 1, t0 + 1)};
	struct loc_store *a = f->s, *b;
	int64_t end;

	assert_int_equal(loc_open(&b, f->url, NULL, 0), 0);
	assert_int_equal(upd(f, "x@h", c, 2, false, 1, "cid"), 0);
	f->s = b;
	assert_int_equal(look(f, "x@h"), 0);
	assert_int_equal(f->n, 2);
	/* the Call-ID/CSeq rule holds across nodes */
	c[0].b.expires = t0 + 900;
	assert_int_equal(upd(f, "x@h", c, 1, false, 1, "cid"), EALREADY);
	c[0].b.cseq = 2;
	assert_int_equal(upd(f, "x@h", c, 1, false, 2, "cid"), 0);
	f->s = a;
	assert_int_equal(look(f, "x@h"), 0);
	assert_int_equal(f->n, 2);
	assert_int_equal(got(f, "sip:a@192.0.2.1")->cseq, 2);
	/* the brief one expires for both */
	for (end = mono_ms() + 3000; loc_now() < t0 + 1 && mono_ms() < end;)
		sleep_ms(20);
	assert_int_equal(look(f, "x@h"), 0);
	assert_int_equal(f->n, 1);
	f->s = b;
	assert_int_equal(look(f, "x@h"), 0);
	assert_int_equal(f->n, 1);
	/* a removal by B is seen by A */
	assert_int_equal(rm(f, "x@h"), 0);
	f->s = a;
	assert_int_equal(look(f, "x@h"), 0);
	assert_int_equal(f->n, 0);
	loc_close(b);
}

/* Redis goes away: calls fail with an errno (bounded), and work again once it is back. */
static void c_outage(struct fx *f)
{
	struct loc_change c = ch("sip:a@h", "cid", 1, 600);
	int64_t end;
	uint32_t cseq = 1;
	int err;

	assert_int_equal(upd(f, "a@h", &c, 1, false, cseq, "cid"), 0);
	/* a server that hangs: the request's deadline fails it, and the link is renewed */
	kill(f->be->pid, SIGSTOP);
	assert_int_equal(look(f, "a@h"), ETIMEDOUT);
	kill(f->be->pid, SIGCONT);
	for (end = mono_ms() + 5000; look(f, "a@h") != 0; sleep_ms(50))
		if (mono_ms() > end)
			fail_msg("no reconnection within 5 s");
	assert_int_equal(f->n, 1);
	/* a server that is gone */
	redis_stop(f->be);
	c.b.cseq = ++cseq;
	err = upd(f, "a@h", &c, 1, false, cseq, "cid");
	assert_true(err == ENOTCONN || err == ETIMEDOUT || err == ECONNRESET);
	assert_int_equal(look(f, "a@h"), ENOTCONN);
	assert_int_equal(redis_start(f->be), 0);
	for (end = mono_ms() + 5000;; sleep_ms(50)) {
		c.b.cseq = ++cseq;
		err = upd(f, "a@h", &c, 1, false, cseq, "cid");
		if (err == 0)
			break;
		if (mono_ms() > end)
			fail_msg("no reconnection within 5 s (err %d)", err);
	}
	assert_int_equal(f->n, 1);
}

/*
 * Allocation failures: a call fails with ENOMEM, or its callback does, and
 * then nothing changed (all or nothing).  The memory store runs the whole
 * update under injection; the others only the call (their threads would
 * wait for memory to post the result).
 */
static void c_oom(struct fx *f)
{
	struct loc_change c[2] = {ch("sip:a@h", "cid", 1, 600), ch("sip:b@h", "cid", 1, 600)};
	unsigned i, k, ok = 0, nomem = 0;
	uint32_t cseq = 0, last = 0;
	int err;

	for (k = 0; k < 12; k++) {
		c[0].b.cseq = c[1].b.cseq = ++cseq;
		c[0].b.expires = c[1].b.expires = loc_now() + 600 + k;
		f->done = false;
		mem_fail_after(k);
		err = loc_update(f->s, f->l, "oom@h", c, 2, false, cseq, "cid", on_result, f);
		if (f->be->kind != K_MEM || err)
			mem_fail_after(-1);
		if (err) {
			assert_int_equal(err, ENOMEM);
			nomem++;
			continue;
		}
		wait_flag(f->l, &f->done);
		mem_fail_after(-1);
		if (f->err) {
			assert_int_equal(f->err, ENOMEM);
			nomem++;
		} else {
			ok++;
			last = cseq;
		}
		/* all or nothing: both contacts of the last successful update */
		assert_int_equal(look(f, "oom@h"), 0);
		assert_int_equal(f->n, ok ? 2 : 0);
		for (i = 0; i < f->n; i++)
			assert_int_equal(f->b[i].cseq, last);
	}
	assert_true(nomem > 0);
	assert_true(ok > 0);
}

/* --- the table --- */

struct conf_case {
	const char *name;
	void (*fn)(struct fx *f);
	unsigned kinds;
};

static const struct conf_case conf_cases[] = {
    {"add_lookup", c_add_lookup, K_ALL},
    {"refresh", c_refresh, K_ALL},
    {"out_of_order", c_out_of_order, K_ALL},
    {"remove", c_remove, K_ALL},
    {"remove_all", c_remove_all, K_ALL},
    {"multi_q", c_multi_q, K_ALL},
    {"cap", c_cap, K_ALL},
    {"uri_equal", c_uri_equal, K_ALL},
    {"query", c_query, K_ALL},
    {"remove_aor", c_remove_aor, K_ALL},
    {"users", c_users, K_ALL},
    {"iterate", c_iterate, K_ALL},
    {"expiry", c_expiry, K_ALL},
    {"bad_args", c_bad_args, K_ALL},
    {"concurrent", c_concurrent, K_ALL},
    {"group_commit", c_group_commit, K_ALL},
    {"persist", c_persist, K_PERSIST},
    {"durable_kill", c_durable_kill, K_SQLITE},
    {"two_nodes", c_two_nodes, K_PERSIST},
    {"outage", c_outage, K_REDIS},
    {"oom", c_oom, K_ALL},
};

/* What one cmocka test runs: a case on a backend. */
struct run {
	struct backend *be;
	const struct conf_case *cc;
	struct fx *f;
	char name[64];
};

/* Setup and teardown run even when the case fails, so nothing leaks. */
static int case_setup(void **state)
{
	struct run *r = *state;

	r->f = calloc(1, sizeof(*r->f));
	assert_non_null(r->f);
	return fx_setup(r->f, r->be);
}

static void run_case(void **state)
{
	struct run *r = *state;

	r->cc->fn(r->f);
}

static int case_teardown(void **state)
{
	struct run *r = *state;

	fx_teardown(r->f);
	free(r->f);
	r->f = NULL;
	return 0;
}

/* loc_open's url: what is wrong is said in one line. */
static void test_urls(void **state)
{
	static const char *const bad[] = {
	    "",
	    "memory",
	    "memory:x",
	    "sqlite:",
	    "redis://",
	    "redis://host",
	    "redis://host:",
	    "redis://:6379",
	    "redis://h:0",
	    "redis://h:65536",
	    "redis://h:12x",
	    "redis://h:1/x",
	    "redis://[::1:6379",
	    "mysql://h",
	    "file:/tmp/x",
	};
	struct loc_store *s = NULL;
	char why[256];
	size_t i, live = mem_live();

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		why[0] = '\0';
		if (loc_open(&s, bad[i], why, sizeof(why)) != EINVAL)
			fail_msg("%s accepted", bad[i]);
		assert_true(strlen(why) > 10 && !strchr(why, '\n'));
	}
	assert_int_equal(loc_open(&s, NULL, NULL, 0), EINVAL);
	why[0] = '\0';
	assert_int_not_equal(loc_open(&s, "sqlite:/nonexistent-dir/x/y.db", why, sizeof(why)), 0);
	assert_true(why[0] != '\0');
	why[0] = '\0';
	assert_int_not_equal(loc_open(&s, "redis://127.0.0.1:1", why, sizeof(why)), 0);
	assert_true(why[0] != '\0');
	assert_int_equal(mem_live(), live);
}

static int rm_cb(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

int main(void)
{
	struct backend be[3] = {{.name = "memory", .kind = K_MEM},
				{.name = "sqlite", .kind = K_SQLITE},
				{.name = "redis", .kind = K_REDIS}};
	const struct CMUnitTest front[] = {cmocka_unit_test(test_urls)};
	struct CMUnitTest tests[3][ARRAY_SIZE(conf_cases)];
	struct run runs[3][ARRAY_SIZE(conf_cases)];
	size_t b, i, n[3] = {0};
	int fails = 0;

	for (b = 0; b < 3; b++) {
		snprintf(be[b].dir, sizeof(be[b].dir), "/tmp/ringlet-loc-XXXXXX");
		if (!mkdtemp(be[b].dir))
			return 1;
		for (i = 0; i < ARRAY_SIZE(conf_cases); i++) {
			struct run *r = &runs[b][n[b]];

			if (!(conf_cases[i].kinds & be[b].kind))
				continue;
			r->be = &be[b];
			r->cc = &conf_cases[i];
			snprintf(r->name, sizeof(r->name), "%s/%s", be[b].name, conf_cases[i].name);
			tests[b][n[b]] =
			    (struct CMUnitTest){r->name, run_case, case_setup, case_teardown, r};
			n[b]++;
		}
	}
	be[2].port = free_port();
	if (!be[2].port || redis_start(&be[2]))
		fprintf(stderr, "redis-server could not start on 127.0.0.1:%u\n", be[2].port);
	fails += cmocka_run_group_tests_name("loc_front", front, NULL, NULL);
	for (b = 0; b < 3; b++)
		fails += _cmocka_run_group_tests(be[b].name, tests[b], n[b], NULL, NULL);
	redis_stop(&be[2]);
	for (b = 0; b < 3; b++)
		rm_cb(be[b].dir);
	return fails;
}
