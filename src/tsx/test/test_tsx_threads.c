/*
 * test_tsx_threads.c - two worker threads, each with its own loop, layer
 * and transport, sharing one transaction group.  Both receive copies of
 * the same requests at the same time (as SO_REUSEPORT sockets would): each
 * request must create exactly one server transaction, every copy must
 * reach that transaction on its owner's thread, and a CANCEL must find its
 * INVITE whichever worker it lands on.  Meant for TSan as well as ASan.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ringlet/mem.h"
#include "ringlet/tsx.h"

#define NCALLS 200
#define COPIES 4 /* copies of each request; worker w gets copies w, w+2 */
#define NW 2

struct shared {
	atomic_uint sent;
	atomic_uint invites, cancels, found, wrong_thread;
	atomic_int phase; /* 0 INVITEs, 1 CANCELs, 2 stop */
	atomic_uint ready;
	struct tsx_group *g;
};

struct worker {
	struct tp tp;
	struct shared *sh;
	struct loop *loop;
	struct tsx_layer *l;
	pthread_t th;
	unsigned id;
	struct tp_addr addr;
};

static int null_send(struct tp *tp, const struct tp_dest *d, const char *data, size_t len)
{
	struct worker *w = (struct worker *)tp;

	(void)d;
	(void)data;
	(void)len;
	atomic_fetch_add(&w->sh->sent, 1);
	return 0;
}

static const struct tp_addr *null_local(struct tp *tp, enum tp_proto proto)
{
	(void)proto;
	return &((struct worker *)tp)->addr;
}

static const struct tp_ops null_ops = {.send = null_send, .local = null_local};

static void tu_request(struct tsx *t, struct tp_rx *rx, void *arg)
{
	struct worker *w = arg;

	if (tsx_layer_of(t) != w->l)
		atomic_fetch_add(&w->sh->wrong_thread, 1);
	if (rx->msg.method == MSG_METHOD_INVITE) {
		atomic_fetch_add(&w->sh->invites, 1);
		tsx_respond(t, 180, NULL, NULL, NULL, 0);
		return;
	}
	atomic_fetch_add(&w->sh->cancels, 1);
	struct tsx *inv = tsx_cancel_target(t);
	tsx_respond(t, inv ? 200 : 481, NULL, NULL, NULL, 0);
	if (inv) {
		atomic_fetch_add(&w->sh->found, 1);
		tsx_respond(inv, 487, NULL, NULL, NULL, 0);
	}
}

static void request(char *out, size_t cap, const char *method, unsigned call)
{
	snprintf(out, cap,
		 "%s sip:bob@127.0.0.2 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKcall%u\r\n"
		 "From: <sip:alice@127.0.0.1>;tag=a%u\r\nTo: <sip:bob@127.0.0.2>\r\n"
		 "Call-ID: call-%u\r\nCSeq: 1 %s\r\nContent-Length: 0\r\n\r\n",
		 method, call, call, call, method);
}

static void inject(struct worker *w, const char *method)
{
	char buf[512];
	struct tp_rx rx;
	size_t used;

	for (unsigned call = 0; call < NCALLS; call++) {
		for (unsigned c = w->id; c < COPIES; c += NW) {
			request(buf, sizeof(buf), method, call);
			memset(&rx, 0, sizeof(rx));
			if (msg_parse(&rx.msg, buf, strlen(buf), MSG_PARSE_DGRAM, &used))
				continue;
			rx.buf = buf;
			rx.len = (uint32_t)strlen(buf);
			rx.proto = TP_UDP;
			tp_addr_set(&rx.src, "127.0.0.1", 9, 5060);
			rx.local = w->addr;
			w->tp.recv(&w->tp, &rx, w->tp.recv_arg);
			loop_once(w->loop, 0);
		}
	}
}

static void *run(void *arg)
{
	struct worker *w = arg;
	int phase = -1;

	while (phase != 2) {
		int p = atomic_load(&w->sh->phase);

		if (p != phase && p < 2) {
			inject(w, p == 0 ? "INVITE" : "CANCEL");
			atomic_fetch_add(&w->sh->ready, 1);
		}
		phase = p;
		loop_once(w->loop, 1); /* hand-offs from the other worker */
	}
	return NULL;
}

/* Wait until the workers sent `want` datagrams (or 10 s passed). */
static void wait_sent(struct shared *sh, unsigned want)
{
	for (int i = 0; i < 10000 && atomic_load(&sh->sent) < want; i++)
		nanosleep(&(struct timespec){0, 1000000}, NULL);
}

static void test_two_threads(void **state)
{
	struct shared sh = {0};
	struct worker w[NW];
	size_t live0 = mem_live();
	struct tsx_tu tu = {.request = tu_request};

	(void)state;
	assert_int_equal(tsx_group_alloc(&sh.g, NW, 256), 0);
	for (unsigned i = 0; i < NW; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].sh = &sh;
		w[i].id = i;
		w[i].tp.ops = &null_ops;
		tp_addr_set(&w[i].addr, "127.0.0.2", 9, 5060);
		assert_int_equal(loop_alloc(&w[i].loop, LOOP_CLOCK_VIRTUAL), 0);
		tu.arg = &w[i];
		assert_int_equal(tsx_layer_alloc(&w[i].l, sh.g, i, w[i].loop, &w[i].tp, NULL, &tu),
				 0);
	}
	for (unsigned i = 0; i < NW; i++)
		assert_int_equal(pthread_create(&w[i].th, NULL, run, &w[i]), 0);
	/* Every INVITE copy is answered once: the first with 180, the others with it again. */
	wait_sent(&sh, NCALLS * COPIES);
	atomic_store(&sh.phase, 1);
	/* CANCEL: 200 and 487 for the first copy, 200 again for each other. */
	wait_sent(&sh, NCALLS * COPIES + NCALLS * (COPIES + 1));
	atomic_store(&sh.phase, 2);
	for (unsigned i = 0; i < NW; i++)
		pthread_join(w[i].th, NULL);

	assert_int_equal(atomic_load(&sh.invites), NCALLS);
	assert_int_equal(atomic_load(&sh.cancels), NCALLS);
	assert_int_equal(atomic_load(&sh.found), NCALLS);
	assert_int_equal(atomic_load(&sh.wrong_thread), 0);
	assert_int_equal(atomic_load(&sh.sent), NCALLS * COPIES + NCALLS * (COPIES + 1));
	assert_int_equal(tsx_layer_count(w[0].l) + tsx_layer_count(w[1].l), 2 * NCALLS);
	for (unsigned i = 0; i < NW; i++) {
		tsx_layer_free(w[i].l);
		loop_free(w[i].loop);
	}
	tsx_group_free(sh.g);
	assert_int_equal(mem_live(), live0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
