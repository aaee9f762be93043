/*
 * reg_int.h - the registrar's pure parts (no I/O, no store): reading a
 * REGISTER into store changes (reg_parse.c) and printing the 200's header
 * lines (reg_reply.c).  Separate from the flow in reg.c so the unit tests
 * drive them table by table.
 */
#ifndef RINGLET_REG_INT_H
#define RINGLET_REG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringlet/loc.h"
#include "ringlet/msg.h"
#include "ringlet/reg.h"

/* A response the registrar decided on while reading the request (status 0: none). */
struct reg_verdict {
	uint16_t status;
	const char *reason; /* static; NULL: the default phrase */
};

/* The address-of-record of a REGISTER (its To URI, §10.3 step 5). */
struct reg_aor {
	char aor[LOC_AOR_MAX];    /* canonical key, see reg_aor() */
	char user[LOC_AOR_MAX];   /* the user part unescaped (may hold any byte) */
	size_t userlen;
	char domain[LOC_AOR_MAX]; /* the host in lower case: the default realm */
};

/*
 * Read the To URI of REGISTER m into *out.  Returns true, or false with
 * *v set: 400 for a To that is not a sip/sips URI (RFC 4475 §3.3.4) or an
 * AOR longer than LOC_AOR_MAX, 404 when it has no user or its host fails
 * own(arg, ...).
 */
bool reg_parse_aor(struct msg *m, reg_own_fn *own, void *arg, struct reg_aor *out,
		   struct reg_verdict *v);

/*
 * Fill the fields every binding of REGISTER m shares into *tmpl (zeroed
 * first): Call-ID, CSeq, Path (elements joined with ","), User-Agent
 * (truncated), and received (copied from the caller, "udp:1.2.3.4:5060").
 * Returns true, or false with *v set (400 for a Call-ID or Path too long for
 * the store, or a Path element that is not a name-addr).
 */
bool reg_parse_common(struct msg *m, const char *received, struct loc_binding *tmpl,
		      struct reg_verdict *v);

/*
 * Turn the Contacts of REGISTER m into changes c[0..*n) (room for one per
 * Contact element, LOC_MAX_BINDINGS at most: more distinct contacts fail
 * before one is written past that), each a copy of tmpl plus its contact,
 * q, +sip.instance, reg-id and absolute expiry (now + granted seconds; 0 to remove).  The
 * expiry is the contact's expires param, else the Expires header, else
 * conf->default_expires (3600 when 0) clamped into [min, max]; a non-zero
 * one below conf->min_expires fails with 423, one above conf->max_expires
 * is capped (§10.3 step 7).  A contact given twice keeps its last
 * occurrence.  *star is set for "Contact: *" (which yields no change).
 * *n == 0 and !*star: a query.  Returns true, or false with *v set (400,
 * 403 "Too Many Bindings", 423).
 */
bool reg_parse_contacts(struct msg *m, const struct reg_conf *conf, int64_t now,
			const struct loc_binding *tmpl, struct loc_change *c, unsigned *n,
			bool *star, struct reg_verdict *v);

/* True when REGISTER m lists option tag `tag` in Supported (any case). */
bool reg_supported(const struct msg *m, const char *tag);

/*
 * Upper bound of the bytes reg_reply_hdrs writes for n bindings and a Path
 * of pathlen bytes, with the NUL.
 */
size_t reg_reply_cap(unsigned n, size_t pathlen);

/*
 * The header lines of a 200 to a REGISTER (§10.3 step 8), each ending in
 * CRLF, NUL-terminated: one Contact per binding still alive at now, with
 * ";expires=<seconds left>" and, when set, q, +sip.instance and reg-id;
 * then "Path: <path>" when path is not NULL; then Date.  A binding whose
 * stored contact or instance could break the header (CR, LF, '<', '>' or '"')
 * is left out.  Returns the length, or -1 when cap is too small.
 */
int reg_reply_hdrs(const struct loc_binding *b, unsigned n, int64_t now, const char *path,
		   char *out, size_t cap);

#endif
