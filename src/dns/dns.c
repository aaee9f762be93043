/*
 * dns.c - the resolver of one loop: a c-ares channel whose sockets the loop
 * watches (ARES_OPT_SOCK_STATE_CB -> loop_fd_add/mod/del, events ->
 * ares_process_fd) and whose timeouts run on one loop timer (ares_timeout).
 * Nothing here blocks; the RFC 3263 state machine is in dns_resolve.c.
 */
#include <errno.h>
#include <pthread.h>
#include <sys/random.h>
#include <sys/time.h>

#define LOG_MODULE "dns"
#include "ringlet/log.h"
#include "ringlet/mem.h"

#include "dns/dns_int.h"

/*
 * c-ares 1.18's ares_library_init/cleanup keep a plain (non-atomic) count;
 * workers create their resolvers on their own threads, so the pair is
 * serialised here.  The only process-wide state of this module, and it
 * guards c-ares' own.
 */
static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;

static int lib_init(void)
{
	int rc;

	pthread_mutex_lock(&lib_lock);
	rc = ares_library_init(ARES_LIB_INIT_ALL);
	pthread_mutex_unlock(&lib_lock);
	return rc;
}

static void lib_cleanup(void)
{
	pthread_mutex_lock(&lib_lock);
	ares_library_cleanup();
	pthread_mutex_unlock(&lib_lock);
}

/* splitmix64: RFC 2782's weighted choice needs spread, not secrecy. */
uint32_t dns_rand(void *arg)
{
	struct dns *d = arg;
	uint64_t z = (d->rnd += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static void on_ares_timer(void *arg)
{
	struct dns *d = arg;

	ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts only */
	dns_kick(d);
}

void dns_kick(struct dns *d)
{
	struct timeval tv, *tvp;
	loop_ms ms;

	if (!d->ch)
		return;
	tvp = ares_timeout(d->ch, NULL, &tv);
	if (!tvp) {
		loop_timer_cancel(&d->tmr);
		return;
	}
	ms = (loop_ms)tv.tv_sec * 1000 + ((loop_ms)tv.tv_usec + 999) / 1000;
	loop_timer_start(d->lp, &d->tmr, ms, on_ares_timer, d);
}

static void on_fd(int fd, unsigned events, void *arg)
{
	struct dns *d = arg;

	ares_process_fd(d->ch, (events & LOOP_IN) ? fd : ARES_SOCKET_BAD,
			(events & LOOP_OUT) ? fd : ARES_SOCKET_BAD);
	dns_kick(d);
}

static int *fd_slot(struct dns *d, int fd)
{
	for (unsigned i = 0; i < DNS_MAX_FDS; i++)
		if (d->fds[i] == fd)
			return &d->fds[i];
	return NULL;
}

/* c-ares opens, re-arms or closes (readable = writable = 0) one of its sockets. */
static void on_sock_state(void *arg, ares_socket_t fd, int readable, int writable)
{
	struct dns *d = arg;
	unsigned ev = (readable ? LOOP_IN : 0) | (writable ? LOOP_OUT : 0);
	int *slot = fd_slot(d, fd), err;

	if (!ev) {
		if (slot) {
			loop_fd_del(d->lp, fd);
			*slot = -1;
		}
		return;
	}
	if (slot) {
		err = loop_fd_mod(d->lp, fd, ev);
	} else {
		slot = fd_slot(d, -1);
		err = slot ? loop_fd_add(d->lp, fd, ev, on_fd, d) : ENOSPC;
		if (!err)
			*slot = fd;
	}
	if (err) /* the query on it then times out: slow, not wrong */
		log_err_rl("event=dns_socket_unwatched fd=%d err=%d", fd, err);
}

static int channel_init(struct dns *d, const struct dns_conf *conf, const char *csv)
{
	struct ares_options o = {0};
	int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
	struct ares_addr_port_node *servers = NULL;
	unsigned nserv = 0;
	int rc;

	o.sock_state_cb = on_sock_state;
	o.sock_state_cb_data = d;
	o.timeout = (int)(conf->timeout_ms ? conf->timeout_ms : 2000);
	if (o.timeout > 60000)
		o.timeout = 60000;
	o.tries = (int)(conf->tries ? conf->tries : 2);
	if (o.tries > 10)
		o.tries = 10;
	o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	rc = ares_init_options(&d->ch, &o, mask);
	if (rc != ARES_SUCCESS) {
		d->ch = NULL;
		log_err("event=dns_init_failed err=\"%s\"", ares_strerror(rc));
		return rc == ARES_ENOMEM ? ENOMEM : EIO;
	}
	if (csv && (rc = ares_set_servers_ports_csv(d->ch, csv)) != ARES_SUCCESS) {
		log_err("event=dns_init_failed server=%s err=\"%s\"", csv, ares_strerror(rc));
		return rc == ARES_ENOMEM ? ENOMEM : EIO;
	}
	if (ares_get_servers_ports(d->ch, &servers) == ARES_SUCCESS)
		for (struct ares_addr_port_node *s = servers; s && nserv < 16; s = s->next)
			nserv++;
	ares_free_data(servers);
	/* a step gets conf.tries tries of timeout_ms per server (c-ares doubles later tries) */
	d->stage_ms = (unsigned)o.timeout * (unsigned)o.tries * (nserv ? nserv : 1);
	return 0;
}

static void dns_destroy(void *p)
{
	struct dns *d = p;

	while (d->live)
		dns_cancel(d->live);
	/* orphaned queries get ARES_EDESTRUCTION from here: they free themselves */
	if (d->ch)
		ares_destroy(d->ch);
	if (d->lib)
		lib_cleanup();
	loop_timer_cancel(&d->tmr);
	for (unsigned i = 0; i < DNS_MAX_FDS; i++)
		if (d->fds[i] >= 0)
			loop_fd_del(d->lp, d->fds[i]);
}

int dns_alloc(struct dns **out, struct loop *lp, const struct dns_conf *conf)
{
	static const struct dns_conf defaults = {0};
	char csv[DNS_CSV_MAX];
	const char *why;
	struct dns *d;
	int mode, err;

	if (!conf)
		conf = &defaults;
	mode = dns_conf_server(conf->server, csv, sizeof(csv), &why);
	if (mode < 0) {
		log_err("event=bad_dns_server value=\"%.64s\" reason=\"%s\" expected=\"off, "
			"IPV4:PORT or [IPV6]:PORT\"",
			conf->server, why);
		return EINVAL;
	}
	d = mem_alloc(sizeof(*d), dns_destroy);
	if (!d)
		return ENOMEM;
	d->lp = lp;
	d->mode = mode;
	loop_timer_init(&d->tmr);
	for (unsigned i = 0; i < DNS_MAX_FDS; i++)
		d->fds[i] = -1;
	if (getrandom(&d->rnd, sizeof(d->rnd), GRND_NONBLOCK) != (ssize_t)sizeof(d->rnd))
		d->rnd = (uint64_t)(uintptr_t)d ^ 0x2545f4914f6cdd1dULL;
	if (mode != DNS_MODE_OFF) {
		if (lib_init() != ARES_SUCCESS) {
			mem_deref(d);
			return EIO;
		}
		d->lib = true;
		err = channel_init(d, conf, mode == DNS_MODE_SERVER ? csv : NULL);
		if (err) {
			mem_deref(d);
			return err;
		}
	}
	*out = d;
	return 0;
}

void dns_free(struct dns *d)
{
	mem_deref(d);
}

void dns_stats_get(const struct dns *d, struct dns_stats *out)
{
	*out = d->stats;
}
