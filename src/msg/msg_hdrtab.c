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
static const uint8_t compact_tab[26] = {
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

struct hname {
	uint8_t len;
	uint8_t id;
	char lname[MSG_HDR_NAME_MAX + 5]; /* lower case, NUL padded (8-byte loads) */
};

/* Long names by first letter, most frequent first. */
static const struct hname h_a[] = {
    {6, MSG_HDR_ACCEPT, "accept"},
    {5, MSG_HDR_ALLOW, "allow"},
    {13, MSG_HDR_AUTHORIZATION, "authorization"},
    {15, MSG_HDR_ACCEPT_ENCODING, "accept-encoding"},
    {15, MSG_HDR_ACCEPT_LANGUAGE, "accept-language"},
    {12, MSG_HDR_ALLOW_EVENTS, "allow-events"},
    {10, MSG_HDR_ALERT_INFO, "alert-info"},
    {19, MSG_HDR_AUTHENTICATION_INFO, "authentication-info"},
    {14, MSG_HDR_ACCEPT_CONTACT, "accept-contact"},
};
static const struct hname h_c[] = {
    {4, MSG_HDR_CSEQ, "cseq"},
    {7, MSG_HDR_CALL_ID, "call-id"},
    {7, MSG_HDR_CONTACT, "contact"},
    {14, MSG_HDR_CONTENT_LENGTH, "content-length"},
    {12, MSG_HDR_CONTENT_TYPE, "content-type"},
    {9, MSG_HDR_CALL_INFO, "call-info"},
    {19, MSG_HDR_CONTENT_DISPOSITION, "content-disposition"},
    {16, MSG_HDR_CONTENT_ENCODING, "content-encoding"},
    {16, MSG_HDR_CONTENT_LANGUAGE, "content-language"},
};
static const struct hname h_d[] = {
    {4, MSG_HDR_DATE, "date"},
};
static const struct hname h_e[] = {
    {7, MSG_HDR_EXPIRES, "expires"},
    {5, MSG_HDR_EVENT, "event"},
    {10, MSG_HDR_ERROR_INFO, "error-info"},
};
static const struct hname h_f[] = {
    {4, MSG_HDR_FROM, "from"},
};
static const struct hname h_i[] = {
    {11, MSG_HDR_IN_REPLY_TO, "in-reply-to"},
    {8, MSG_HDR_IDENTITY, "identity"},
    {13, MSG_HDR_IDENTITY_INFO, "identity-info"},
};
static const struct hname h_m[] = {
    {12, MSG_HDR_MAX_FORWARDS, "max-forwards"},
    {11, MSG_HDR_MIN_EXPIRES, "min-expires"},
    {12, MSG_HDR_MIME_VERSION, "mime-version"},
};
static const struct hname h_o[] = {
    {12, MSG_HDR_ORGANIZATION, "organization"},
};
static const struct hname h_p[] = {
    {19, MSG_HDR_PROXY_AUTHORIZATION, "proxy-authorization"},
    {18, MSG_HDR_PROXY_AUTHENTICATE, "proxy-authenticate"},
    {13, MSG_HDR_PROXY_REQUIRE, "proxy-require"},
    {4, MSG_HDR_PATH, "path"},
    {8, MSG_HDR_PRIORITY, "priority"},
};
static const struct hname h_r[] = {
    {5, MSG_HDR_ROUTE, "route"},
    {12, MSG_HDR_RECORD_ROUTE, "record-route"},
    {7, MSG_HDR_REQUIRE, "require"},
    {4, MSG_HDR_RSEQ, "rseq"},
    {4, MSG_HDR_RACK, "rack"},
    {11, MSG_HDR_RETRY_AFTER, "retry-after"},
    {8, MSG_HDR_REFER_TO, "refer-to"},
    {11, MSG_HDR_REFERRED_BY, "referred-by"},
    {8, MSG_HDR_REPLY_TO, "reply-to"},
    {14, MSG_HDR_REJECT_CONTACT, "reject-contact"},
    {19, MSG_HDR_REQUEST_DISPOSITION, "request-disposition"},
};
static const struct hname h_s[] = {
    {9, MSG_HDR_SUPPORTED, "supported"},
    {6, MSG_HDR_SERVER, "server"},
    {7, MSG_HDR_SUBJECT, "subject"},
    {15, MSG_HDR_SESSION_EXPIRES, "session-expires"},
    {18, MSG_HDR_SUBSCRIPTION_STATE, "subscription-state"},
    {13, MSG_HDR_SERVICE_ROUTE, "service-route"},
};
static const struct hname h_t[] = {
    {2, MSG_HDR_TO, "to"},
    {9, MSG_HDR_TIMESTAMP, "timestamp"},
};
static const struct hname h_u[] = {
    {10, MSG_HDR_USER_AGENT, "user-agent"},
    {11, MSG_HDR_UNSUPPORTED, "unsupported"},
};
static const struct hname h_v[] = {
    {3, MSG_HDR_VIA, "via"},
};
static const struct hname h_w[] = {
    {16, MSG_HDR_WWW_AUTHENTICATE, "www-authenticate"},
    {7, MSG_HDR_WARNING, "warning"},
};

static const struct {
	const struct hname *e;
	uint8_t n;
} by_letter[26] = {
    ['a' - 'a'] = {h_a, ARRAY_SIZE(h_a)}, ['c' - 'a'] = {h_c, ARRAY_SIZE(h_c)},
    ['d' - 'a'] = {h_d, ARRAY_SIZE(h_d)}, ['e' - 'a'] = {h_e, ARRAY_SIZE(h_e)},
    ['f' - 'a'] = {h_f, ARRAY_SIZE(h_f)}, ['i' - 'a'] = {h_i, ARRAY_SIZE(h_i)},
    ['m' - 'a'] = {h_m, ARRAY_SIZE(h_m)}, ['o' - 'a'] = {h_o, ARRAY_SIZE(h_o)},
    ['p' - 'a'] = {h_p, ARRAY_SIZE(h_p)}, ['r' - 'a'] = {h_r, ARRAY_SIZE(h_r)},
    ['s' - 'a'] = {h_s, ARRAY_SIZE(h_s)}, ['t' - 'a'] = {h_t, ARRAY_SIZE(h_t)},
    ['u' - 'a'] = {h_u, ARRAY_SIZE(h_u)}, ['v' - 'a'] = {h_v, ARRAY_SIZE(h_v)},
    ['w' - 'a'] = {h_w, ARRAY_SIZE(h_w)},
};

/*
 * Case-insensitive compare of n bytes of a token against a lower-case name.
 * OR-ing 0x20 folds A-Z onto a-z and leaves '-' and digits alone; no other
 * token character folds onto a letter or '-', so the test is exact.
 */
static bool name_eq(const char *p, const char *lname, size_t n)
{
	const uint64_t fold = 0x2020202020202020ull;
	while (n >= 8) {
		uint64_t a, b;
		memcpy(&a, p, 8);
		memcpy(&b, lname, 8);
		if ((a | fold) != b)
			return false;
		p += 8;
		lname += 8;
		n -= 8;
	}
	while (n > 0) {
		if ((char)(*p | 0x20) != *lname)
			return false;
		p++;
		lname++;
		n--;
	}
	return true;
}

uint8_t msg_hdr_id_of(const char *name, size_t len)
{
	if (len == 0)
		return MSG_HDR_OTHER;
	unsigned c = (unsigned)(unsigned char)(name[0] | 0x20) - 'a';
	if (c >= 26)
		return MSG_HDR_OTHER;
	if (len == 1)
		return compact_tab[c];
	if (len > MSG_HDR_NAME_MAX)
		return MSG_HDR_OTHER;
	const struct hname *e = by_letter[c].e;
	for (unsigned i = 0; i < by_letter[c].n; i++)
		if (e[i].len == len && name_eq(name + 1, e[i].lname + 1, len - 1))
			return e[i].id;
	return MSG_HDR_OTHER;
}

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
	return (enum msg_hdr_id)msg_hdr_id_of(name, len);
}

bool msg_hdr_is_list(enum msg_hdr_id id)
{
	return (unsigned)id < MSG_HDR__COUNT && msg_hdr_list_tab[id];
}
