/*
 * dlg_int.h - the dialog module's private structures and helpers (src/dlg).
 *
 * A dialog's text (Call-ID, tags, URIs, target, Contact, route set) lives in
 * one blob (a mem object) addressed by spans, NUL-terminated each.  A change
 * (target refresh, route set recomputed on the 2xx) is staged into a struct
 * dlg_text on the stack and committed as a new blob: two allocations per
 * dialog, none per field.
 */
#ifndef RINGLET_DLG_INT_H
#define RINGLET_DLG_INT_H

#include "ringlet/dlg.h"
#include "ringlet/hash.h"

/* The text fields of a dialog. */
enum dlg_field {
	DLG_F_CALLID = 0,
	DLG_F_LTAG,
	DLG_F_RTAG,
	DLG_F_LURI,    /* name-addr without tag */
	DLG_F_RURI,    /* name-addr without tag */
	DLG_F_TARGET,  /* remote target URI, without method param and headers */
	DLG_F_CONTACT, /* our Contact header value */
	DLG_F__N,
};

struct dlg {
	struct hash_node node; /* in tab->dialogs */
	struct dlg_table *tab; /* the table holding a reference, or NULL */
	char *blob;	       /* mem object holding every text field */
	struct span f[DLG_F__N];
	struct span route[DLG_MAX_ROUTES];
	uint8_t nroutes;
	uint8_t state; /* enum dlg_state */
	bool uac;
	bool secure;
	bool confirmed_once;
	bool lcseq_set, rcseq_set;
	uint32_t lcseq, rcseq;
	uint32_t create_cseq; /* UAC: CSeq number of the dialog-creating request */
	void *user;
};

/* Staging area for a dialog's text. */
struct dlg_text {
	uint32_t len;
	bool over;
	bool ctl;	/* a control character other than HTAB, CR, LF was given */
	uint32_t start; /* start of the field being written */
	struct span f[DLG_F__N];
	struct span route[DLG_MAX_ROUTES];
	unsigned nroutes;
	char b[DLG_STATE_MAX];
};

struct dlg_table {
	struct hash *dialogs;
	struct hash *forks;
	uint64_t seed;
};

struct dlg_fork {
	struct hash_node node; /* in tab->forks */
	struct dlg_table *tab; /* reference, may be NULL */
	char *req;	       /* mem object: the request as sent */
	uint32_t reqlen;
	uint32_t cseq;
	char cmethod[32]; /* CSeq method as sent */
	char callid[DLG_CALLID_MAX + 1];
	char ltag[DLG_TAG_MAX + 1];
	struct dlg *d[DLG_FORK_MAX];
	unsigned n;
	bool confirmed; /* one of its dialogs was confirmed */
	bool failed;	/* a 300-699 final came */
	bool ended;	/* dlg_fork_end */
};

/* dlg_text.c: staging */
void dlg_text_init(struct dlg_text *t);
/*
 * Begin a field; add bytes (CR and LF dropped, as msg_out does; any other
 * control character but HTAB marks the text bad); end it (NUL, span).
 */
void dlg_text_begin(struct dlg_text *t);
void dlg_text_add(struct dlg_text *t, const char *p, size_t n);
void dlg_text_addz(struct dlg_text *t, const char *s);
struct span dlg_text_end(struct dlg_text *t);
/* A whole field in one go. */
void dlg_text_put(struct dlg_text *t, enum dlg_field f, const char *p, size_t n);
/* Copy d's fields not in mask (bits 1 << field) and, unless keep_routes is false, its routes. */
void dlg_text_copy(struct dlg_text *t, const struct dlg *d, unsigned mask, bool keep_routes);
/* Make the staged text d's (new blob).  Returns 0, EBADMSG (ctl), EMSGSIZE or ENOMEM. */
int dlg_text_commit(struct dlg *d, struct dlg_text *t);
/* True if s holds a control character other than HTAB (no dialog keeps one). */
bool dlg_has_ctl(const char *s, size_t n);
/* Fill n bytes with randomness.  0 or EIO. */
int dlg_random(void *out, size_t n);
/* Exact comparison of a span of buf with d's field f. */
bool dlg_field_eq(const struct dlg *d, enum dlg_field f, const char *buf, struct span s);
static inline const char *dlg_str(const struct dlg *d, enum dlg_field f)
{
	return d->blob + d->f[f].off;
}

/* dlg_text.c: reading messages */
/* Name-addr without its tag param ([display] <uri> [;params]) into the current field. */
void dlg_text_nameaddr(struct dlg_text *t, const char *buf, const struct msg_nameaddr *na);
/* A URI without "method" param and headers (RFC 3261 §19.1.1, Request-URI column). */
void dlg_text_clean_uri(struct dlg_text *t, const char *buf, const struct msg_uri *u);
/*
 * The one Contact of m (a target): 0 and *c, ENOENT (none), EBADMSG (several,
 * '*', unparsable, not sip/sips).
 */
int dlg_msg_contact(struct msg *m, struct msg_contact *c);
/* Stage m's Record-Route values (reversed for the UAC).  0, EBADMSG or EMSGSIZE. */
int dlg_text_routes(struct dlg_text *t, struct msg *m, bool reverse);
/* Stage the target from Contact c of buf. */
void dlg_text_target(struct dlg_text *t, const char *buf, const struct msg_contact *c);
/* Call-ID value of m (validated) or false. */
bool dlg_msg_callid(const struct msg *m, struct span *out);
/* True for the target-refresh methods (§12.2, RFC 3311, RFC 6665, RFC 3515). */
bool dlg_is_refresh(unsigned method);

/* dlg_core.c */
/* The parts of our dialog-creating request a UAC dialog takes (§12.1.2). */
struct dlg_uac_req {
	struct msg m;
	struct span callid;
	const struct msg_nameaddr *from, *to;
	const struct msg_cseq *cs;
	const struct msg_uri *ruri;
	const struct msg_hdr *contact;
};
/*
 * Parse and check our request: Call-ID, From with tag, To without, CSeq,
 * Request-URI, one sip/sips Contact.  0 or EINVAL.
 */
int dlg_read_req(struct dlg_uac_req *r, const char *req, size_t len);
/* Make a dialog from a response (UAC); revive: also a terminated early dialog. */
int dlg_uac_confirm(struct dlg *d, struct msg *resp, bool revive);
/* A Contact in m replaces d's remote target: 0 (also without one), EBADMSG, ENOMEM. */
int dlg_refresh_target(struct dlg *d, struct msg *m);

#endif
