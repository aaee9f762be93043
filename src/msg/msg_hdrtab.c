/*
 * msg_hdrtab.c - header names, compact forms and the name -> id lookup
 * (RFC 3261 §7.3.3, §20; compact forms also from RFC 3265, 3515, 3841, 3892,
 * 4028, 4474, 8224).
 *
 * The lookup follows Kamailio's parse_hname2 idea: the first letter and the
 * length of the name select a short list of candidates, which are compared
 * eight bytes at a time with ASCII case folding.  No hashing, no tolerance for
 * non-token bytes (the caller only passes token characters).
 */
#include "msg_core.h"

static const char *const hdr_names[MSG_HDR__COUNT] = {[MSG_HDR_OTHER] = "",
#define X(id, name, compact, list) [MSG_HDR_##id] = name,
						      MSG_HDR_TABLE(X)
#undef X
};

const bool msg_hdr_list_tab[MSG_HDR__COUNT] = {
#define X(id, name, compact, list) [MSG_HDR_##id] = (list),
    MSG_HDR_TABLE(X)
#undef X
};

/* Compact forms, indexed by letter - 'a'. */
const uint8_t msg_hdr_compact[26] = {
    ['a' - 'a'] = MSG_HDR_ACCEPT_CONTACT,
    ['b' - 'a'] = MSG_HDR_REFERRED_BY,
    ['c' - 'a'] = MSG_HDR_CONTENT_TYPE,
    ['d' - 'a'] = MSG_HDR_REQUEST_DISPOSITION,
    ['e' - 'a'] = MSG_HDR_CONTENT_ENCODING,
    ['f' - 'a'] = MSG_HDR_FROM,
    ['i' - 'a'] = MSG_HDR_CALL_ID,
    ['j' - 'a'] = MSG_HDR_REJECT_CONTACT,
    ['k' - 'a'] = MSG_HDR_SUPPORTED,
    ['l' - 'a'] = MSG_HDR_CONTENT_LENGTH,
    ['m' - 'a'] = MSG_HDR_CONTACT,
    ['n' - 'a'] = MSG_HDR_IDENTITY_INFO,
    ['o' - 'a'] = MSG_HDR_EVENT,
    ['r' - 'a'] = MSG_HDR_REFER_TO,
    ['s' - 'a'] = MSG_HDR_SUBJECT,
    ['t' - 'a'] = MSG_HDR_TO,
    ['u' - 'a'] = MSG_HDR_ALLOW_EVENTS,
    ['v' - 'a'] = MSG_HDR_VIA,
    ['x' - 'a'] = MSG_HDR_SESSION_EXPIRES,
    ['y' - 'a'] = MSG_HDR_IDENTITY,
};

/* Lower-case names, NUL-padded for the 8-byte loads of msg_hdr_id_of. */
const char msg_hdr_lnames[MSG_HDR__COUNT][MSG_HDR_NAME_LOAD] = {
    [MSG_HDR_ACCEPT] = "accept",
    [MSG_HDR_ACCEPT_ENCODING] = "accept-encoding",
    [MSG_HDR_ACCEPT_LANGUAGE] = "accept-language",
    [MSG_HDR_ALERT_INFO] = "alert-info",
    [MSG_HDR_ALLOW] = "allow",
    [MSG_HDR_ALLOW_EVENTS] = "allow-events",
    [MSG_HDR_AUTHENTICATION_INFO] = "authentication-info",
    [MSG_HDR_AUTHORIZATION] = "authorization",
    [MSG_HDR_CALL_ID] = "call-id",
    [MSG_HDR_CALL_INFO] = "call-info",
    [MSG_HDR_CONTACT] = "contact",
    [MSG_HDR_CONTENT_DISPOSITION] = "content-disposition",
    [MSG_HDR_CONTENT_ENCODING] = "content-encoding",
    [MSG_HDR_CONTENT_LANGUAGE] = "content-language",
    [MSG_HDR_CONTENT_LENGTH] = "content-length",
    [MSG_HDR_CONTENT_TYPE] = "content-type",
    [MSG_HDR_CSEQ] = "cseq",
    [MSG_HDR_DATE] = "date",
    [MSG_HDR_ERROR_INFO] = "error-info",
    [MSG_HDR_EVENT] = "event",
    [MSG_HDR_EXPIRES] = "expires",
    [MSG_HDR_FROM] = "from",
    [MSG_HDR_IN_REPLY_TO] = "in-reply-to",
    [MSG_HDR_MAX_FORWARDS] = "max-forwards",
    [MSG_HDR_MIME_VERSION] = "mime-version",
    [MSG_HDR_MIN_EXPIRES] = "min-expires",
    [MSG_HDR_ORGANIZATION] = "organization",
    [MSG_HDR_PATH] = "path",
    [MSG_HDR_PRIORITY] = "priority",
    [MSG_HDR_PROXY_AUTHENTICATE] = "proxy-authenticate",
    [MSG_HDR_PROXY_AUTHORIZATION] = "proxy-authorization",
    [MSG_HDR_PROXY_REQUIRE] = "proxy-require",
    [MSG_HDR_RACK] = "rack",
    [MSG_HDR_RECORD_ROUTE] = "record-route",
    [MSG_HDR_REFER_TO] = "refer-to",
    [MSG_HDR_REFERRED_BY] = "referred-by",
    [MSG_HDR_REPLY_TO] = "reply-to",
    [MSG_HDR_REQUIRE] = "require",
    [MSG_HDR_RETRY_AFTER] = "retry-after",
    [MSG_HDR_ROUTE] = "route",
    [MSG_HDR_RSEQ] = "rseq",
    [MSG_HDR_SERVER] = "server",
    [MSG_HDR_SERVICE_ROUTE] = "service-route",
    [MSG_HDR_SESSION_EXPIRES] = "session-expires",
    [MSG_HDR_SUBJECT] = "subject",
    [MSG_HDR_SUBSCRIPTION_STATE] = "subscription-state",
    [MSG_HDR_SUPPORTED] = "supported",
    [MSG_HDR_TIMESTAMP] = "timestamp",
    [MSG_HDR_TO] = "to",
    [MSG_HDR_UNSUPPORTED] = "unsupported",
    [MSG_HDR_USER_AGENT] = "user-agent",
    [MSG_HDR_VIA] = "via",
    [MSG_HDR_WARNING] = "warning",
    [MSG_HDR_WWW_AUTHENTICATE] = "www-authenticate",
    [MSG_HDR_ACCEPT_CONTACT] = "accept-contact",
    [MSG_HDR_REJECT_CONTACT] = "reject-contact",
    [MSG_HDR_REQUEST_DISPOSITION] = "request-disposition",
    [MSG_HDR_IDENTITY] = "identity",
    [MSG_HDR_IDENTITY_INFO] = "identity-info",
};

#define L(c) ((c) - 'a')

/*
 * The long names by first letter and length: at most two candidates each
 * (Call-ID/Contact, RAck/RSeq, ...).  0 (MSG_HDR_OTHER) ends a list.
 */
const uint8_t msg_hdr_cand[26][MSG_HDR_NAME_MAX + 1][2] = {
    [L('a')][5] = {MSG_HDR_ALLOW},
    [L('a')][6] = {MSG_HDR_ACCEPT},
    [L('a')][10] = {MSG_HDR_ALERT_INFO},
    [L('a')][12] = {MSG_HDR_ALLOW_EVENTS},
    [L('a')][13] = {MSG_HDR_AUTHORIZATION},
    [L('a')][14] = {MSG_HDR_ACCEPT_CONTACT},
    [L('a')][15] = {MSG_HDR_ACCEPT_ENCODING, MSG_HDR_ACCEPT_LANGUAGE},
    [L('a')][19] = {MSG_HDR_AUTHENTICATION_INFO},
    [L('c')][4] = {MSG_HDR_CSEQ},
    [L('c')][7] = {MSG_HDR_CALL_ID, MSG_HDR_CONTACT},
    [L('c')][9] = {MSG_HDR_CALL_INFO},
    [L('c')][12] = {MSG_HDR_CONTENT_TYPE},
    [L('c')][14] = {MSG_HDR_CONTENT_LENGTH},
    [L('c')][16] = {MSG_HDR_CONTENT_ENCODING, MSG_HDR_CONTENT_LANGUAGE},
    [L('c')][19] = {MSG_HDR_CONTENT_DISPOSITION},
    [L('d')][4] = {MSG_HDR_DATE},
    [L('e')][5] = {MSG_HDR_EVENT},
    [L('e')][7] = {MSG_HDR_EXPIRES},
    [L('e')][10] = {MSG_HDR_ERROR_INFO},
    [L('f')][4] = {MSG_HDR_FROM},
    [L('i')][8] = {MSG_HDR_IDENTITY},
    [L('i')][11] = {MSG_HDR_IN_REPLY_TO},
    [L('i')][13] = {MSG_HDR_IDENTITY_INFO},
    [L('m')][11] = {MSG_HDR_MIN_EXPIRES},
    [L('m')][12] = {MSG_HDR_MAX_FORWARDS, MSG_HDR_MIME_VERSION},
    [L('o')][12] = {MSG_HDR_ORGANIZATION},
    [L('p')][4] = {MSG_HDR_PATH},
    [L('p')][8] = {MSG_HDR_PRIORITY},
    [L('p')][13] = {MSG_HDR_PROXY_REQUIRE},
    [L('p')][18] = {MSG_HDR_PROXY_AUTHENTICATE},
    [L('p')][19] = {MSG_HDR_PROXY_AUTHORIZATION},
    [L('r')][4] = {MSG_HDR_RACK, MSG_HDR_RSEQ},
    [L('r')][5] = {MSG_HDR_ROUTE},
    [L('r')][7] = {MSG_HDR_REQUIRE},
    [L('r')][8] = {MSG_HDR_REFER_TO, MSG_HDR_REPLY_TO},
    [L('r')][11] = {MSG_HDR_REFERRED_BY, MSG_HDR_RETRY_AFTER},
    [L('r')][12] = {MSG_HDR_RECORD_ROUTE},
    [L('r')][14] = {MSG_HDR_REJECT_CONTACT},
    [L('r')][19] = {MSG_HDR_REQUEST_DISPOSITION},
    [L('s')][6] = {MSG_HDR_SERVER},
    [L('s')][7] = {MSG_HDR_SUBJECT},
    [L('s')][9] = {MSG_HDR_SUPPORTED},
    [L('s')][13] = {MSG_HDR_SERVICE_ROUTE},
    [L('s')][15] = {MSG_HDR_SESSION_EXPIRES},
    [L('s')][18] = {MSG_HDR_SUBSCRIPTION_STATE},
    [L('t')][2] = {MSG_HDR_TO},
    [L('t')][9] = {MSG_HDR_TIMESTAMP},
    [L('u')][10] = {MSG_HDR_USER_AGENT},
    [L('u')][11] = {MSG_HDR_UNSUPPORTED},
    [L('v')][3] = {MSG_HDR_VIA},
    [L('w')][7] = {MSG_HDR_WARNING},
    [L('w')][16] = {MSG_HDR_WWW_AUTHENTICATE},
};

#undef L

const char *msg_hdr_name(enum msg_hdr_id id)
{
	if ((unsigned)id >= MSG_HDR__COUNT)
		return "";
	return hdr_names[id];
}

enum msg_hdr_id msg_hdr_lookup(const char *name, size_t len)
{
	/* msg_hdr_id_of relies on token characters: reject anything else here */
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
			  (c >= '0' && c <= '9');
		if (!ok)
			return MSG_HDR_OTHER;
	}
	return (enum msg_hdr_id)msg_hdr_id_of(name, len, len);
}

bool msg_hdr_is_list(enum msg_hdr_id id)
{
	return (unsigned)id < MSG_HDR__COUNT && msg_hdr_list_tab[id];
}
