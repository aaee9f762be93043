/*
 * msg_method.c - SIP method names <-> ids (RFC 3261 §7.1, §27.4).
 *
 * Method names are case-sensitive (§7.1) and never unescaped: the method
 * "RE%47IST%45R" is an unknown method, not REGISTER (RFC 4475 §3.1.1.5).
 */
#include "ringlet/msg_hdr.h"

/* Indexed by enum msg_method. */
static const char *const method_names[MSG_METHOD__COUNT] = {
	[MSG_METHOD_OTHER] = NULL,
	[MSG_METHOD_INVITE] = "INVITE",
	[MSG_METHOD_ACK] = "ACK",
	[MSG_METHOD_BYE] = "BYE",
	[MSG_METHOD_CANCEL] = "CANCEL",
	[MSG_METHOD_OPTIONS] = "OPTIONS",
	[MSG_METHOD_REGISTER] = "REGISTER",
	[MSG_METHOD_PRACK] = "PRACK",
	[MSG_METHOD_SUBSCRIBE] = "SUBSCRIBE",
	[MSG_METHOD_NOTIFY] = "NOTIFY",
	[MSG_METHOD_PUBLISH] = "PUBLISH",
	[MSG_METHOD_INFO] = "INFO",
	[MSG_METHOD_REFER] = "REFER",
	[MSG_METHOD_MESSAGE] = "MESSAGE",
	[MSG_METHOD_UPDATE] = "UPDATE",
};

/*
 * Exact, case-sensitive lookup.  The first byte and the length rule out
 * almost every candidate before a memcmp.
 */
enum msg_method msg_method_id(const char *p, size_t len)
{
	if (p == NULL || len < 3 || len > 9)
		return MSG_METHOD_OTHER;
	for (int m = MSG_METHOD_OTHER + 1; m < MSG_METHOD__COUNT; m++) {
		const char *name = method_names[m];
		if (name[0] == p[0] && strlen(name) == len && memcmp(name, p, len) == 0)
			return (enum msg_method)m;
	}
	return MSG_METHOD_OTHER;
}

/* The canonical upper-case name; NULL for MSG_METHOD_OTHER or out of range. */
const char *msg_method_name(enum msg_method m)
{
	if ((int)m <= MSG_METHOD_OTHER || m >= MSG_METHOD__COUNT)
		return NULL;
	return method_names[m];
}
