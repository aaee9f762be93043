/*
 * tp_frame.c - SIP message framing on a byte stream (RFC 3261 §18.3):
 * Content-Length delimits each message, several may arrive in one read and
 * one may arrive in many; CRLF keep-alives between messages (RFC 5626 §3.5.1).
 * See tp_frame.h for why parsing is deferred after a first EAGAIN.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tp/tp_frame.h"

/* Compact or grow when less than this is free after the data. */
#define MIN_ROOM 1024u

void tp_frame_init(struct tp_frame *f, uint32_t max)
{
	memset(f, 0, sizeof(*f));
	f->max = max ? max : MSG_MAX_SIZE;
}

void tp_frame_free(struct tp_frame *f)
{
	free(f->buf);
	f->buf = NULL;
	f->cap = f->len = f->start = f->used = 0;
}

/* Forget what was learnt about the pending message: a new one starts. */
static void reset_msg(struct tp_frame *f)
{
	f->scan = 0;
	f->hdr_end = 0;
	f->need = 0;
	f->tried = false;
}

static void consume(struct tp_frame *f, uint32_t n)
{
	f->start += n;
	if (f->start == f->len)
		f->start = f->len = 0;
	reset_msg(f);
}

static void consume_last(struct tp_frame *f)
{
	if (f->used) {
		consume(f, f->used);
		f->used = 0;
	}
}

int tp_frame_space(struct tp_frame *f, char **p, size_t *room)
{
	consume_last(f);
	uint32_t pending = f->len - f->start;
	if (pending >= f->max)
		return EMSGSIZE;
	if (pending == 0 && f->cap > TP_FRAME_INIT_CAP) {
		/* an idle connection keeps only a small buffer */
		tp_frame_free(f);
	}
	if (f->cap - f->len < MIN_ROOM && f->start > 0) {
		memmove(f->buf, f->buf + f->start, pending);
		f->start = 0;
		f->len = pending;
	}
	if (f->cap - f->len < MIN_ROOM && f->cap < f->max) {
		uint32_t ncap = f->cap ? f->cap * 2 : TP_FRAME_INIT_CAP;
		if (ncap > f->max)
			ncap = f->max;
		char *nb = realloc(f->buf, ncap);
		if (nb == NULL)
			return ENOMEM;
		f->buf = nb;
		f->cap = ncap;
	}
	size_t r = f->cap - f->len;
	if (r > f->max - pending)
		r = f->max - pending;
	*p = f->buf + f->len;
	*room = r;
	return 0;
}

void tp_frame_commit(struct tp_frame *f, size_t n)
{
	f->len += (uint32_t)n;
}

/* Length of the run of CR and LF that msg_parse skips before a start line. */
static uint32_t lead_len(const char *p, uint32_t n)
{
	uint32_t i = 0;
	while (i < n && (p[i] == '\r' || p[i] == '\n'))
		i++;
	return i;
}

/*
 * Look for the empty line that ends the header block (msg_parse ends lines
 * at LF, with or without CR), resuming where the last search stopped.
 * Sets f->hdr_end when found.
 */
static void find_blank(struct tp_frame *f, const char *p, uint32_t n)
{
	uint32_t s = f->scan;
	uint32_t lead = lead_len(p, n);

	if (s < lead)
		s = lead;
	while (s < n) {
		const char *q = memchr(p + s, '\n', n - s);
		if (q == NULL) {
			s = n;
			break;
		}
		uint32_t i = (uint32_t)(q - p);
		if (i + 1 < n && p[i + 1] == '\n') {
			f->hdr_end = i + 2;
			return;
		}
		if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n') {
			f->hdr_end = i + 3;
			return;
		}
		if (i + 1 >= n || (p[i + 1] == '\r' && i + 2 >= n)) {
			s = i; /* the line after it has not arrived: look again here */
			break;
		}
		s = i + 1;
	}
	f->scan = s;
}

/* Header name [a, e) followed by optional SP/HTAB and ':'?  Returns the ':' or NULL. */
static const char *name_colon(const char *a, const char *e, const char **ne)
{
	const char *p = a;
	while (p < e && *p != ':' && *p != ' ' && *p != '\t')
		p++;
	*ne = p;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	return p < e && *p == ':' ? p : NULL;
}

/* Digits of [a, e) trimmed of LWS, saturated above 2^32; false if not a number. */
static bool clen_digits(const char *a, const char *e, uint64_t *out)
{
	while (a < e && (*a == ' ' || *a == '\t' || *a == '\r' || *a == '\n'))
		a++;
	while (e > a && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	if (a == e)
		return false;
	uint64_t v = 0;
	for (; a < e; a++) {
		if (*a < '0' || *a > '9')
			return false;
		v = v * 10 + (uint64_t)(*a - '0');
		if (v > 0xffffffffull)
			v = 0x100000000ull;
	}
	*out = v;
	return true;
}

/*
 * The value of the first Content-Length header of the header block
 * p[0..hdr_end), as msg_parse reads it (RFC 3261 §20.14; folded lines are
 * part of the value).  Only a hint: false when not found or not a number.
 */
static bool first_clen(const char *p, uint32_t hdr_end, uint64_t *out)
{
	const char *e = p + hdr_end;
	const char *q = p + lead_len(p, hdr_end);
	const char *lf = memchr(q, '\n', (size_t)(e - q));

	if (lf == NULL)
		return false;
	q = lf + 1; /* past the start line */
	while (q < e) {
		lf = memchr(q, '\n', (size_t)(e - q));
		const char *le = lf ? lf : e;
		/* a folded value continues on lines that start with SP/HTAB */
		while (lf != NULL && lf + 1 < e && (lf[1] == ' ' || lf[1] == '\t')) {
			lf = memchr(lf + 1, '\n', (size_t)(e - lf - 1));
			le = lf ? lf : e;
		}
		const char *ne, *colon = name_colon(q, le, &ne);
		if (colon != NULL && ne > q &&
		    msg_hdr_lookup(q, (size_t)(ne - q)) == MSG_HDR_CONTENT_LENGTH)
			return clen_digits(colon + 1, le, out);
		q = le + 1;
	}
	return false;
}

/* msg_parse said EAGAIN for the n pending bytes at p: when to try again. */
static void after_eagain(struct tp_frame *f, const char *p, uint32_t n)
{
	uint64_t clen;

	f->tried = true;
	f->need = 0;
	if (f->hdr_end == 0)
		find_blank(f, p, n);
	if (f->hdr_end == 0)
		return; /* tp_frame_next resumes the search as bytes arrive */
	if (first_clen(p, f->hdr_end, &clen) && f->hdr_end + clen > n)
		f->need = (uint32_t)(f->hdr_end + clen > f->max ? f->max : f->hdr_end + clen);
	else
		f->need = n + 1; /* the hint does not explain the EAGAIN: parse on every byte */
}

/* Worth calling msg_parse on the n pending bytes? */
static bool ready(struct tp_frame *f, const char *p, uint32_t n)
{
	if (!f->tried || n >= f->max)
		return true;
	if (f->need)
		return n >= f->need;
	find_blank(f, p, n);
	return f->hdr_end != 0;
}

/*
 * CRLF keep-alives at the start of the pending bytes (RFC 5626 §3.5.1): a
 * double CRLF is a ping, a single CRLF a pong that is dropped, as is any
 * other CR or LF before a start line (msg_parse would skip them too).
 * Returns 1 for a ping, 0 when a message may start, EAGAIN when the bytes so
 * far could still become a ping.
 */
static int keepalive(struct tp_frame *f)
{
	for (;;) {
		uint32_t n = f->len - f->start;
		if (n == 0)
			return 0;
		const char *p = f->buf + f->start;
		if (p[0] != '\r' && p[0] != '\n')
			return 0;
		if (p[0] == '\n' || (n >= 2 && p[1] != '\n')) {
			consume(f, 1); /* a stray LF or CR */
			continue;
		}
		if (n >= 4 && p[2] == '\r' && p[3] == '\n') {
			consume(f, 4);
			return 1;
		}
		if (n < 3 || (n == 3 && p[2] == '\r'))
			return EAGAIN;
		consume(f, 2);
	}
}

int tp_frame_next(struct tp_frame *f, struct msg *m, unsigned flags, int *ev)
{
	size_t used;

	consume_last(f);
	if (f->err)
		return f->err;
	int ka = keepalive(f);
	if (ka == 1) {
		*ev = TP_FRAME_PING;
		return 0;
	}
	if (ka == EAGAIN)
		return EAGAIN;
	uint32_t n = f->len - f->start;
	if (n == 0)
		return EAGAIN;
	const char *p = f->buf + f->start;
	if (!(flags & TP_FRAME_FLUSH) && !ready(f, p, n))
		return EAGAIN;
	int err = msg_parse(m, p, n, MSG_PARSE_STREAM, &used);
	if (err == 0) {
		f->used = (uint32_t)used;
		if (m->anomalies & MSG_A_FRAMING)
			f->err = EPROTO; /* the rest of the stream cannot be framed */
		*ev = TP_FRAME_MSG;
		return 0;
	}
	if (err == EAGAIN) {
		if (n >= f->max) {
			f->err = EMSGSIZE;
			return EMSGSIZE;
		}
		after_eagain(f, p, n);
		return EAGAIN;
	}
	f->err = err == EMSGSIZE ? EMSGSIZE : EBADMSG;
	return f->err;
}
