/*
 * main.c - ringletd: flags, workers (one loop, one transport set and one
 * transaction layer each), signals.  Thin by design: the work is in the
 * library (DESIGN.md "Layers").
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOG_MODULE "main"
#include "core.h"
#include "opts.h"
#include "ringlet/dns.h"
#include "ringlet/loc.h"
#include "ringlet/log.h"
#include "ringlet/loop.h"
#include "ringlet/tp.h"
#include "ringlet/tsx.h"
#include "user.h"

struct worker {
	unsigned id;
	struct loop *loop;
	struct tp *tp;
	struct tsx_layer *layer;
	struct dns *dns; /* RFC 3263 for next hops named by host name */
	pthread_t thread;
	bool started;
	int err;
};

struct server {
	struct rd_opts opts;
	struct rd_core core;
	struct tsx_group *group;
	struct tsx_tu tu;
	struct worker *w;
	unsigned nw;
	struct loc_store *store; /* the registrar's bindings and the users */
};

/* Say once, on stderr, which given flags this version accepts but does not act on yet. */
static void warn_later(const struct rd_opts *o)
{
	static const struct {
		uint32_t bit;
		const char *what;
	} later[] = {
		{RD_G_HTTP, "--http: the management API arrives later; ignored"},
	};
	for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++)
		if (o->given & later[i].bit)
			fprintf(stderr, "ringletd: warning: %s\n", later[i].what);
	if (o->mode == RD_MODE_B2BUA)
		fprintf(stderr, "ringletd: warning: --mode b2bua arrives later; running as a proxy\n");
}

/* The resolver of the worker whose layer is l (the proxy asks on that worker's loop). */
static struct dns *worker_dns(struct tsx_layer *l, void *arg)
{
	struct server *s = arg;
	for (unsigned i = 0; i < s->nw; i++)
		if (s->w[i].layer == l)
			return s->w[i].dns;
	return NULL;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	w->err = loop_run(w->loop);
	return NULL;
}

/*
 * Fail early when another process holds addr: the workers' sockets use
 * SO_REUSEPORT, which would otherwise let a second ringletd share the port
 * silently.  A socket without SO_REUSEPORT cannot bind where one with it is.
 */
static int probe_free(uint8_t proto, const struct tp_addr *addr)
{
	if (tp_addr_port(addr) == 0)
		return 0;
	int fd = socket(addr->u.sa.sa_family, proto == TP_UDP ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (fd < 0)
		return errno;
	int one = 1, err = 0;
	if (proto != TP_UDP)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)); /* TIME_WAIT is fine */
	if (bind(fd, &addr->u.sa, tp_addr_len(addr)) != 0)
		err = errno;
	close(fd);
	return err;
}

/* Create worker i: its loop, sockets on every listener, and its transaction layer. */
static int worker_setup(struct server *s, unsigned i, struct rd_listen *bound)
{
	struct worker *w = &s->w[i];
	const struct rd_opts *o = &s->opts;
	w->id = i;
	int err = loop_alloc(&w->loop, LOOP_CLOCK_MONOTONIC);
	if (err)
		return err;
	err = tp_sock_alloc(&w->tp, w->loop, NULL, NULL, NULL);
	if (err)
		return err;
	for (unsigned k = 0; k < o->nlisten; k++) {
		/* worker 0 binds what was asked (port 0: ephemeral); the others join it */
		const struct tp_addr *want = i == 0 ? &o->listen[k].addr : &bound[k].addr;
		err = i == 0 ? probe_free(o->listen[k].proto, want) : 0;
		if (!err)
			err = tp_sock_listen(w->tp, o->listen[k].proto, want,
					     i == 0 ? &bound[k].addr : NULL);
		if (err) {
			fprintf(stderr, "ringletd: cannot listen on %s: %s; pick a free address with "
					"-l PROTO:HOST:PORT\n",
				o->listen[k].spec ? o->listen[k].spec : "the default address",
				strerror(err));
			return -1;
		}
		if (i == 0) {
			bound[k].proto = o->listen[k].proto;
			bound[k].spec = o->listen[k].spec;
		}
	}
	struct dns_conf dc = {.server = o->dns};
	err = dns_alloc(&w->dns, w->loop, &dc);
	if (err) {
		if (err == EINVAL)
			fprintf(stderr, "ringletd: --dns %s: expected HOST:PORT (numeric) or off\n",
				o->dns);
		return err == EINVAL ? -1 : err;
	}
	struct tsx_conf conf = {.t1 = o->t1, .t2 = o->t2, .t4 = o->t4};
	err = tsx_layer_alloc(&w->layer, s->group, i, w->loop, w->tp, &conf, &s->tu);
	if (err)
		return err;
	w->tp->recv = rd_core_input;
	w->tp->recv_arg = w->layer;
	return 0;
}

static void server_free(struct server *s)
{
	for (unsigned i = 0; i < s->nw; i++)
		if (s->w[i].started)
			loop_stop(s->w[i].loop);
	for (unsigned i = 0; i < s->nw; i++)
		if (s->w[i].started)
			pthread_join(s->w[i].thread, NULL);
	for (unsigned i = 0; i < s->nw; i++) {
		struct worker *w = &s->w[i];
		if (w->layer)
			tsx_layer_free(w->layer);
		dns_free(w->dns);
		if (w->tp)
			tp_sock_free(w->tp);
		if (w->loop)
			loop_free(w->loop);
	}
	if (s->group)
		tsx_group_free(s->group);
	free(s->w);
	rd_core_free(&s->core);
	if (s->store)
		loc_close(s->store);
}

static void log_listeners(const struct rd_listen *b, unsigned n, unsigned workers)
{
	for (unsigned k = 0; k < n; k++) {
		char a[64];
		tp_addr_str(&b[k].addr, a, sizeof(a));
		log_info("event=listening proto=%s addr=%s workers=%u",
			 tp_proto_name((enum tp_proto)b[k].proto), a, workers);
	}
}

int main(int argc, char **argv)
{
	struct server srv;
	struct server *s = &srv;
	memset(s, 0, sizeof(*s));
	int rc = rd_opts_parse(&s->opts, argc, argv);
	if (rc < 0)
		return 0;
	if (rc)
		return 2;
	const struct rd_opts *o = &s->opts;
	if (o->user_cmd)
		return rd_user_main(o, argc, argv);
	warn_later(o);
	if (o->check_config) {
		printf("ringletd: %s: valid\n", o->config ? o->config : "settings");
		return 0;
	}
	static const enum log_level levels[] = {LOG_LEVEL_ERR, LOG_LEVEL_WARN, LOG_LEVEL_INFO,
						LOG_LEVEL_DEBUG};
	log_set_level(levels[o->log_level < 4 ? o->log_level : 3]);

	/* Signals are taken by sigwait in this thread only; SIGPIPE never kills us. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	char why[256] = "";
	rc = loc_open(&s->store, o->store, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "ringletd: cannot open the store %s: %s\n", o->store,
			why[0] ? why : strerror(rc));
		return rc == EINVAL ? 2 : 1;
	}
	s->nw = o->workers;
	s->w = calloc(s->nw, sizeof(*s->w));
	struct rd_listen bound[RD_MAX_LISTEN];
	memset(bound, 0, sizeof(bound));
	/*
	 * Server transactions stay 32 s after their answer (Timer J), so at tens
	 * of thousands of requests per second hundreds of thousands are alive:
	 * size the shared table (it does not grow) for that, 2 MiB of buckets.
	 */
	rc = s->w ? tsx_group_alloc(&s->group, s->nw, 1u << 18) : ENOMEM;
	if (rc) {
		fprintf(stderr, "ringletd: cannot start: %s\n", strerror(rc));
		free(s->w);
		loc_close(s->store);
		return 1;
	}
	s->tu = rd_core_tu_template;
	s->tu.arg = &s->core;
	/* core's listen addresses must be known before any worker runs */
	for (unsigned i = 0; i < s->nw && rc == 0; i++) {
		rc = worker_setup(s, i, bound);
		if (i == 0 && rc == 0)
			rc = rd_core_init(&s->core, o, bound, o->nlisten, s->store, worker_dns, s);
	}
	if (rc) {
		if (rc > 0)
			fprintf(stderr, "ringletd: cannot start worker: %s\n", strerror(rc));
		server_free(s);
		return rc < 0 ? 2 : 1;
	}
	for (unsigned i = 0; i < s->nw; i++) {
		if (pthread_create(&s->w[i].thread, NULL, worker_main, &s->w[i])) {
			fprintf(stderr, "ringletd: cannot start worker threads\n");
			server_free(s);
			return 1;
		}
		s->w[i].started = true;
	}
	log_listeners(bound, o->nlisten, s->nw);
	int sig = 0;
	sigwait(&set, &sig);
	log_info("event=stopping signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
	rd_core_stop(&s->core);
	server_free(s);
	return 0;
}
