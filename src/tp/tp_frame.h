/*
 * tp_frame.h - framing of SIP messages on a byte stream (RFC 3261 §18.3,
 * RFC 5626 §3.5.1 keep-alives).  Private to src/tp/ (and fuzz/).
 *
 * A struct tp_frame is the receive buffer of one connection.  The reader asks
 * for free space, reads into it, commits, then calls tp_frame_next() until
 * EAGAIN.  The buffer grows up to `max` pending bytes; a message that does not
 * fit is an error, as is a stream that is not SIP.  No sockets here, so the
 * fuzz target drives it with arbitrary splits.
 *
 * Re-parsing a growing message from its start on every read would let a peer
 * that sends one byte at a time cost O(n^2): after a first EAGAIN the framer
 * only parses again once the header block is complete (a blank line seen, a
 * scan that resumes where it stopped), and then once the body announced by
 * the first Content-Length can be there.
 */
#ifndef RINGLET_TP_FRAME_H
#define RINGLET_TP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "ringlet/msg.h"

struct tp_frame {
	char *buf;
	uint32_t start;   /* first byte not yet consumed */
	uint32_t len;     /* end of the bytes received */
	uint32_t cap;     /* bytes allocated */
	uint32_t max;     /* most pending bytes: one message and what precedes it */
	uint32_t used;    /* the message last returned; consumed by the next call */
	uint32_t scan;    /* blank-line search resumes here (relative to start) */
	uint32_t hdr_end; /* relative to start: just past the blank line; 0: not seen */
	uint32_t need;    /* parse again once this many bytes are pending; 0: unknown */
	bool tried;       /* msg_parse said EAGAIN for the pending message */
	int err;          /* sticky: EBADMSG, EPROTO or EMSGSIZE */
};

/* Events of tp_frame_next. */
enum tp_frame_ev {
	TP_FRAME_MSG = 1, /* a message was parsed into *m */
	TP_FRAME_PING,    /* CRLFCRLF: answer with CRLF (RFC 5626 §3.5.1) */
};

/* tp_frame_next flags */
#define TP_FRAME_FLUSH 0x1u /* the stream has ended: parse whatever is pending */

/* Initial buffer size; a buffer that grew is given back once it is empty. */
#define TP_FRAME_INIT_CAP 2048u

/* An empty framer that holds at most max pending bytes (0: MSG_MAX_SIZE). */
void tp_frame_init(struct tp_frame *f, uint32_t max);
/* Free the buffer; f may be reused after tp_frame_init. */
void tp_frame_free(struct tp_frame *f);

/*
 * Free space to read into: *p and *room (at least 1 byte).  Consumes the
 * message last returned.  Returns 0, EMSGSIZE (max bytes are pending without
 * a message: the peer must be disconnected) or ENOMEM.
 */
int tp_frame_space(struct tp_frame *f, char **p, size_t *room);
/* n bytes were written at the space given by tp_frame_space. */
void tp_frame_commit(struct tp_frame *f, size_t n);

/*
 * The next event of the stream.  Consumes the message last returned first.
 * Returns 0 with *ev set: TP_FRAME_MSG with the message parsed into *m
 * (m->buf points into the framer's buffer and stays valid until the next call
 * of tp_frame_next, tp_frame_space or tp_frame_free), or TP_FRAME_PING.
 * Returns EAGAIN when more bytes are needed, EBADMSG when the stream is not
 * SIP, EPROTO after a message whose length was unknown (MSG_A_FRAMING: the
 * caller may still answer it, then must close), EMSGSIZE when a message is
 * larger than max.  Errors are sticky.
 */
int tp_frame_next(struct tp_frame *f, struct msg *m, unsigned flags, int *ev);

/* Bytes received and not yet consumed (the last message returned included). */
static inline uint32_t tp_frame_pending(const struct tp_frame *f)
{
	return f->len - f->start;
}

#endif
