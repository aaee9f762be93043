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
 * Exact, case-sensitive lookup: the length picks at most four candidates,
 * each compared by a memcmp of constant size (a few integer compares).
 */
enum msg_method msg_method_id(const char *p, size_t len)
{
#define IS(lit) (memcmp(p, lit, sizeof(lit) - 1) == 0)
	if (p == NULL)
		return MSG_METHOD_OTHER;
	switch (len) {
	case 3:
		return IS("ACK") ? MSG_METHOD_ACK : IS("BYE") ? MSG_METHOD_BYE : MSG_METHOD_OTHER;
	case 4:
		return IS("INFO") ? MSG_METHOD_INFO : MSG_METHOD_OTHER;
	case 5:
		return IS("PRACK")   ? MSG_METHOD_PRACK
		       : IS("REFER") ? MSG_METHOD_REFER
				     : MSG_METHOD_OTHER;
	case 6:
		return IS("INVITE")   ? MSG_METHOD_INVITE
		       : IS("CANCEL") ? MSG_METHOD_CANCEL
		       : IS("NOTIFY") ? MSG_METHOD_NOTIFY
		       : IS("UPDATE") ? MSG_METHOD_UPDATE
				      : MSG_METHOD_OTHER;
	case 7:
		return IS("OPTIONS")   ? MSG_METHOD_OPTIONS
		       : IS("PUBLISH") ? MSG_METHOD_PUBLISH
		       : IS("MESSAGE") ? MSG_METHOD_MESSAGE
				       : MSG_METHOD_OTHER;
	case 8:
		return IS("REGISTER") ? MSG_METHOD_REGISTER : MSG_METHOD_OTHER;
	case 9:
		return IS("SUBSCRIBE") ? MSG_METHOD_SUBSCRIBE : MSG_METHOD_OTHER;
	default:
		return MSG_METHOD_OTHER;
	}
#undef IS
}

/* The canonical upper-case name; NULL for MSG_METHOD_OTHER or out of range. */
const char *msg_method_name(enum msg_method m)
{
	if ((int)m <= MSG_METHOD_OTHER || m >= MSG_METHOD__COUNT)
		return NULL;
	return method_names[m];
}
