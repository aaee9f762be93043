/*
 * tp_tcp.c - SIP over TCP (RFC 3261 §18): listeners, outgoing non-blocking
 * connects, a connection table by peer address, framing (tp_frame.c), CRLF
 * keep-alives (RFC 5626 §3.5.1), write queues, idle timeout and a cap on
 * connections.
 *
 * A connection is found by the address of its peer whoever opened it, so a
 * response goes back over the connection its request came on (§18.2.2) and
 * later requests to the same peer reuse it.  Outgoing connections start from
 * our listening address (see tp_sock_alloc in tp.h), which lets the peer do
 * the same.
 *
 * Ownership (mem.h): the table holds one reference on every connection that
 * is not closed; tp_conn_ref/unref let the layers above keep one across a
 * transaction.  Closing removes it from the table and closes the socket; the
 * memory goes with the last reference.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOG_MODULE "tp"
#include "ringlet/log.h"
#include "ringlet/mem.h"
#include "tp/tp_int.h"

#define READS_PER_EVENT 4    /* reads per readiness event: fairness between peers */
#define ACCEPTS_PER_EVENT 32
#define EVICT_SCAN 8         /* LRU entries looked at for an idle victim */
#define LISTEN_BACKLOG 1024

static void conn_event(int fd, unsigned events, void *arg);

/* ---- table by peer address and LRU list ---- */

static uint32_t addr_hash(const struct tp_addr *a, uint8_t proto)
{
	const uint8_t *p;
	size_t n;
	uint32_t h = 2166136261u ^ proto;

	if (a->u.sa.sa_family == AF_INET) {
		p = (const uint8_t *)&a->u.in.sin_addr;
		n = 4;
	} else {
		p = (const uint8_t *)&a->u.in6.sin6_addr;
		n = 16;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	h = (h ^ (tp_addr_port(a) & 0xff)) * 16777619u;
	h = (h ^ (tp_addr_port(a) >> 8)) * 16777619u;
	return h;
}

static struct tp_conn **bucket(struct tp_sock *ts, const struct tp_addr *a, uint8_t proto)
{
	return &ts->htab[addr_hash(a, proto) & ts->hmask];
}

static void table_del(struct tp_sock *ts, struct tp_conn *c)
{
	for (struct tp_conn **pp = bucket(ts, &c->peer, c->proto); *pp; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			c->hnext = NULL;
			return;
		}
	}
}

static struct tp_conn *table_find(struct tp_sock *ts, const struct tp_addr *a, uint8_t proto)
{
	for (struct tp_conn *c = *bucket(ts, a, proto); c; c = c->hnext)
		if (c->proto == proto && tp_addr_equal(&c->peer, a))
			return c;
	return NULL;
}

static void lru_unlink(struct tp_sock *ts, struct tp_conn *c)
{
	if (c->lru_prev)
		c->lru_prev->lru_next = c->lru_next;
	else
		ts->lru_head = c->lru_next;
	if (c->lru_next)
		c->lru_next->lru_prev = c->lru_prev;
	else
		ts->lru_tail = c->lru_prev;
	c->lru_prev = c->lru_next = NULL;
}

static void lru_push(struct tp_sock *ts, struct tp_conn *c)
{
	c->lru_prev = NULL;
	c->lru_next = ts->lru_head;
	if (ts->lru_head)
		ts->lru_head->lru_prev = c;
	else
		ts->lru_tail = c;
	ts->lru_head = c;
}

static void conn_timeout(void *arg);

/* Traffic on c: most recently used, and the idle timer starts again. */
static void touch(struct tp_conn *c)
{
	struct tp_sock *ts = c->ts;

	if (ts->lru_head != c) {
		lru_unlink(ts, c);
		lru_push(ts, c);
	}
	if (c->state == TP_CONN_OPEN)
		loop_timer_start(ts->loop, &c->timer, ts->cfg.tcp_idle_ms, conn_timeout, c);
}

/* ---- life cycle ---- */

void tp_conn_ref(struct tp_conn *c)
{
	mem_ref(c);
}

void tp_conn_unref(struct tp_conn *c)
{
	mem_deref(c);
}

/* The last reference went: the connection is closed (or was never opened). */
static void conn_destroy(void *p)
{
	struct tp_conn *c = p;

	tp_frame_free(&c->rx);
}

static void wq_free(struct tp_conn *c)
{
	while (c->wq_head) {
		struct tp_wbuf *w = c->wq_head;
		c->wq_head = w->next;
		free(w);
	}
	c->wq_tail = NULL;
	c->wq_bytes = 0;
}

/* Close the socket and drop the table's reference (c may be freed). */
static void conn_close(struct tp_conn *c)
{
	struct tp_sock *ts = c->ts;

	if (ts == NULL)
		return;
	loop_timer_cancel(&c->timer);
	loop_fd_del(ts->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	table_del(ts, c);
	lru_unlink(ts, c);
	ts->st.conns--;
	wq_free(c);
	if (!c->busy)
		tp_frame_free(&c->rx);
	c->state = TP_CONN_CLOSED;
	c->ts = NULL;
	tp_conn_unref(c);
}

static void conn_timeout(void *arg)
{
	struct tp_conn *c = arg;
	char who[64];

	if (c->state == TP_CONN_CONNECTING) {
		tp_addr_str(&c->peer, who, sizeof(who));
		log_warn_rl("event=connect-timeout proto=tcp dst=%s", who);
	} else {
		c->ts->st.conns_idle++;
	}
	conn_close(c);
}

/* Stop reading; close once what is queued has been written. */
static void conn_drain(struct tp_conn *c)
{
	if (c->wq_head == NULL) {
		conn_close(c);
		return;
	}
	c->state = TP_CONN_DRAINING;
	table_del(c->ts, c); /* no new messages for it */
	loop_fd_mod(c->ts->loop, c->fd, LOOP_OUT);
}

static struct tp_conn *conn_new(struct tp_sock *ts, int fd, uint8_t proto,
				const struct tp_addr *peer, uint8_t state)
{
	struct tp_conn *c = mem_alloc(sizeof(*c), conn_destroy);
	socklen_t alen = sizeof(c->local.u);

	if (c == NULL)
		return NULL;
	c->ts = ts;
	c->fd = fd;
	c->proto = proto;
	c->state = state;
	c->peer = *peer;
	tp_frame_init(&c->rx, 0);
	loop_timer_init(&c->timer);
	if (loop_fd_add(ts->loop, fd, state == TP_CONN_CONNECTING ? LOOP_OUT : LOOP_IN, conn_event,
			c) != 0) {
		mem_deref(c);
		return NULL;
	}
	if (state == TP_CONN_OPEN)
		(void)getsockname(fd, &c->local.u.sa, &alen);
	struct tp_conn **b = bucket(ts, peer, proto);
	c->hnext = *b;
	*b = c;
	lru_push(ts, c);
	ts->st.conns++;
	if (state == TP_CONN_CONNECTING)
		loop_timer_start(ts->loop, &c->timer, ts->cfg.tcp_connect_ms, conn_timeout, c);
	else
		touch(c);
	return c;
}

/* Below the connection cap, or made so by closing the least recently used idle connection. */
static bool make_room(struct tp_sock *ts)
{
	struct tp_conn *c = ts->lru_tail;

	if (ts->st.conns < ts->cfg.tcp_max_conns)
		return true;
	for (int i = 0; i < EVICT_SCAN && c != NULL; i++, c = c->lru_prev) {
		if (c->state == TP_CONN_OPEN && c->wq_head == NULL && !c->busy) {
			ts->st.conns_evicted++;
			conn_close(c);
			return true;
		}
	}
	return false;
}

/* ---- writing ---- */

static void write_more(struct tp_conn *c)
{
	while (c->wq_head) {
		struct tp_wbuf *w = c->wq_head;
		ssize_t n = send(c->fd, w->data + w->off, w->len - w->off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_close(c);
			return;
		}
		w->off += (uint32_t)n;
		c->wq_bytes -= (uint32_t)n;
		if (w->off == w->len) {
			c->wq_head = w->next;
			if (c->wq_head == NULL)
				c->wq_tail = NULL;
			free(w);
		}
	}
	if (c->state == TP_CONN_DRAINING) {
		conn_close(c);
		return;
	}
	loop_fd_mod(c->ts->loop, c->fd, LOOP_IN);
	touch(c);
}

/* Append the bytes of iov past the first `skip` to the write queue. */
static int enqueue(struct tp_conn *c, const struct iovec *iov, int iovcnt, size_t skip,
		   size_t total)
{
	size_t n = total - skip, at = 0;

	if (c->wq_bytes + n > c->ts->cfg.tcp_wq_max)
		return ENOBUFS;
	struct tp_wbuf *w = malloc(sizeof(*w) + n);
	if (w == NULL)
		return ENOMEM;
	for (int i = 0; i < iovcnt; i++) {
		size_t l = iov[i].iov_len;
		const char *b = iov[i].iov_base;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		memcpy(w->data + at, b + skip, l - skip);
		at += l - skip;
		skip = 0;
	}
	w->next = NULL;
	w->len = (uint32_t)n;
	w->off = 0;
	if (c->wq_tail)
		c->wq_tail->next = w;
	else
		c->wq_head = w;
	c->wq_tail = w;
	c->wq_bytes += (uint32_t)n;
	return 0;
}

/*
 * Write a message: at once as far as the socket takes it, the rest queued
 * (bounded by tcp_wq_max: a peer that does not read is disconnected).
 * Returns 0 or an errno; on error c is closed and may be freed.
 */
static int conn_write(struct tp_conn *c, const struct iovec *iov, int iovcnt)
{
	size_t total = 0, done = 0;
	int err;

	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (c->state == TP_CONN_OPEN && c->wq_head == NULL) {
		struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
		for (;;) {
			ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n >= 0) {
				done = (size_t)n;
				break;
			}
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			err = errno;
			conn_close(c);
			return err;
		}
	}
	if (done < total) {
		err = enqueue(c, iov, iovcnt, done, total);
		if (err) {
			char who[64];
			tp_addr_str(&c->peer, who, sizeof(who));
			log_warn_rl("event=close proto=tcp peer=%s reason=write-queue-full", who);
			conn_close(c);
			return err;
		}
		if (c->state == TP_CONN_OPEN)
			loop_fd_mod(c->ts->loop, c->fd, LOOP_IN | LOOP_OUT);
	}
	touch(c);
	return 0;
}

/* ---- reading ---- */

static void bad_stream(struct tp_conn *c, int err)
{
	char who[64];

	tp_addr_str(&c->peer, who, sizeof(who));
	log_warn_rl("event=close proto=tcp peer=%s reason=%s", who,
		    err == EMSGSIZE  ? "too-big"
		    : err == EPROTO  ? "no-content-length"
		    : err == ENOMEM  ? "no-memory"
				     : "not-sip");
	c->ts->st.rx_bad++;
	conn_drain(c);
}

/* Hand up every complete message in the receive buffer. */
static void dispatch(struct tp_conn *c)
{
	struct tp_sock *ts = c->ts;
	struct tp_rx *rx = ts->trx;
	static const struct iovec pong = {(void *)"\r\n", 2};

	c->busy++;
	while (c->state == TP_CONN_OPEN) {
		int ev, err = tp_frame_next(&c->rx, &rx->msg, 0, &ev);
		if (err == EAGAIN)
			break;
		if (err) {
			bad_stream(c, err);
			break;
		}
		if (ev == TP_FRAME_PING) {
			ts->st.rx_keepalive++;
			conn_write(c, &pong, 1);
			continue;
		}
		rx->buf = rx->msg.buf;
		rx->len = rx->msg.len;
		rx->proto = c->proto;
		rx->src = c->peer;
		rx->local = c->local;
		rx->conn = c;
		ts->st.rx_msgs++;
		if (ts->tp.recv != NULL)
			ts->tp.recv(&ts->tp, rx, ts->tp.recv_arg);
	}
	c->busy--;
	if (c->state == TP_CONN_CLOSED && !c->busy)
		tp_frame_free(&c->rx);
}

static void read_more(struct tp_conn *c)
{
	for (int i = 0; i < READS_PER_EVENT && c->state == TP_CONN_OPEN; i++) {
		char *p;
		size_t room;
		int err = tp_frame_space(&c->rx, &p, &room);
		if (err) {
			bad_stream(c, err);
			return;
		}
		ssize_t n = recv(c->fd, p, room, MSG_DONTWAIT);
		if (n > 0) {
			tp_frame_commit(&c->rx, (size_t)n);
			touch(c);
			dispatch(c);
			if ((size_t)n < room)
				return;
		} else if (n == 0) {
			conn_close(c); /* the peer closed; a partial message is lost */
			return;
		} else if (errno != EINTR) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_close(c);
			return;
		}
	}
}

/* The non-blocking connect finished, one way or the other. */
static void connected(struct tp_conn *c)
{
	struct tp_sock *ts = c->ts;
	socklen_t len = sizeof(int), alen = sizeof(c->local.u);
	int e = 0;
	char who[64];

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
		e = errno;
	if (e != 0) {
		tp_addr_str(&c->peer, who, sizeof(who));
		log_warn_rl("event=connect-failed proto=tcp dst=%s error=%s", who, strerror(e));
		conn_close(c);
		return;
	}
	c->state = TP_CONN_OPEN;
	(void)getsockname(c->fd, &c->local.u.sa, &alen);
	loop_fd_mod(ts->loop, c->fd, c->wq_head ? LOOP_IN | LOOP_OUT : LOOP_IN);
	touch(c);
	if (c->wq_head)
		write_more(c);
}

static void conn_event(int fd, unsigned events, void *arg)
{
	struct tp_conn *c = arg;

	(void)fd;
	tp_conn_ref(c);
	if (c->state == TP_CONN_CONNECTING) {
		connected(c);
	} else {
		if ((events & LOOP_OUT) && c->ts != NULL)
			write_more(c);
		if ((events & LOOP_IN) && c->state == TP_CONN_OPEN)
			read_more(c);
	}
	tp_conn_unref(c);
}

/* ---- accepting and connecting ---- */

static void set_nodelay(int fd)
{
	int on = 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

static void accept_ready(int fd, unsigned events, void *arg)
{
	struct tp_lsock *ls = arg;
	struct tp_sock *ts = ls->ts;
	char who[64];

	(void)events;
	for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
		struct tp_addr peer;
		socklen_t alen = sizeof(peer.u);
		memset(&peer, 0, sizeof(peer));
		int cfd = accept4(fd, &peer.u.sa, &alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) && ts->lru_tail != NULL) {
				log_err_rl("event=accept error=%s", strerror(errno));
				ts->st.conns_evicted++;
				conn_close(ts->lru_tail);
				continue;
			}
			return;
		}
		if (!make_room(ts)) {
			tp_addr_str(&peer, who, sizeof(who));
			log_warn_rl("event=refuse proto=tcp peer=%s reason=connection-cap", who);
			close(cfd);
			continue;
		}
		set_nodelay(cfd);
		if (conn_new(ts, cfd, ls->proto, &peer, TP_CONN_OPEN) == NULL)
			close(cfd);
	}
}

/*
 * socket + optional bind to `from` + non-blocking connect.  A refusal the
 * kernel already knows (loopback, local routes) is returned at once rather
 * than reported later, so that a send to a dead local peer fails
 * synchronously.
 */
static int open_connect(const struct tp_addr *to, const struct tp_addr *from, int *fdp,
			bool *inprogress)
{
	int fd = socket(to->u.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = 0;
	socklen_t len = sizeof(err);

	if (fd < 0)
		return errno;
	if (from != NULL) {
		err = tp_sock_reuse(fd);
		if (err == 0 && bind(fd, &from->u.sa, tp_addr_len(from)) != 0)
			err = errno;
	}
	set_nodelay(fd);
	*inprogress = false;
	if (err == 0 && connect(fd, &to->u.sa, tp_addr_len(to)) != 0) {
		err = errno;
		if (err == EINPROGRESS) {
			*inprogress = true;
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
				err = errno;
		}
	}
	if (err) {
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

static int conn_connect(struct tp_sock *ts, const struct tp_addr *to, uint8_t proto,
			struct tp_conn **out)
{
	int fam = to->u.sa.sa_family, fd = -1, err;
	bool inprogress;

	if (fam != AF_INET && fam != AF_INET6)
		return EAFNOSUPPORT;
	if (!make_room(ts))
		return ENOBUFS;
	struct tp_lsock *ls = ts->cfg.no_bind_listen ? NULL : tp_sock_find(ts, proto, fam, NULL);
	err = open_connect(to, ls ? &ls->addr : NULL, &fd, &inprogress);
	if (ls != NULL && (err == EADDRINUSE || err == EADDRNOTAVAIL))
		err = open_connect(to, NULL, &fd, &inprogress); /* that 4-tuple is taken */
	if (err)
		return err;
	struct tp_conn *c = conn_new(ts, fd, proto, to,
				     inprogress ? TP_CONN_CONNECTING : TP_CONN_OPEN);
	if (c == NULL) {
		close(fd);
		return ENOMEM;
	}
	c->outgoing = true;
	*out = c;
	return 0;
}

int tp_tcp_send(struct tp_sock *ts, const struct tp_dest *d, const struct iovec *iov, int iovcnt)
{
	struct tp_conn *c = d->conn;
	int err;

	if (c != NULL && (c->ts != ts || c->proto != d->proto ||
			  (c->state != TP_CONN_OPEN && c->state != TP_CONN_CONNECTING)))
		c = NULL; /* closed: find or open another one to the address */
	if (c == NULL)
		c = table_find(ts, &d->addr, d->proto);
	if (c == NULL) {
		err = conn_connect(ts, &d->addr, d->proto, &c);
		if (err)
			return err;
	}
	return conn_write(c, iov, iovcnt);
}

int tp_tcp_open(struct tp_sock *ts, struct tp_lsock *ls)
{
	int fam = ls->addr.u.sa.sa_family, on = 1, err;
	socklen_t alen = sizeof(ls->addr.u);
	int fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return errno;
	err = tp_sock_reuse(fd);
	if (err == 0 && fam == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0)
		err = errno;
	if (err == 0 && (bind(fd, &ls->addr.u.sa, tp_addr_len(&ls->addr)) != 0 ||
			 listen(fd, LISTEN_BACKLOG) != 0 ||
			 getsockname(fd, &ls->addr.u.sa, &alen) != 0))
		err = errno;
	if (err == 0)
		err = loop_fd_add(ts->loop, fd, LOOP_IN, accept_ready, ls);
	if (err) {
		close(fd);
		return err;
	}
	ls->fd = fd;
	return 0;
}

int tp_tcp_init(struct tp_sock *ts)
{
	uint32_t n = 64;

	while (n < ts->cfg.tcp_max_conns && n < (1u << 16))
		n <<= 1;
	ts->htab = calloc(n, sizeof(*ts->htab));
	ts->trx = malloc(sizeof(*ts->trx));
	if (ts->htab == NULL || ts->trx == NULL) {
		free(ts->htab);
		free(ts->trx);
		return ENOMEM;
	}
	ts->hmask = n - 1;
	return 0;
}

void tp_tcp_free(struct tp_sock *ts)
{
	while (ts->lru_head != NULL)
		conn_close(ts->lru_head);
	free(ts->htab);
	free(ts->trx);
	ts->htab = NULL;
	ts->trx = NULL;
}
