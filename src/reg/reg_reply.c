/*
 * reg_reply.c - the header lines of a registrar's 200 (RFC 3261 §10.3
 * step 8): every current binding with the seconds it has left, the Path the
 * UA registered with (RFC 3327 §5.3), and the date.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "reg/reg_int.h"

/* Room for one Contact line beyond its URI and instance: name, <>, params, CRLF. */
#define LINE_EXTRA 112

size_t reg_reply_cap(unsigned n, size_t pathlen)
{
	return (size_t)n * (LOC_CONTACT_MAX + LOC_INSTANCE_MAX + LINE_EXTRA) + pathlen + 96;
}

/* A stored value is printed inside <> or "": it must not end them or break the line. */
static bool printable(const char *s, const char *bad)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || strchr(bad, *s))
			return false;
	return true;
}

/* q-value in thousandths as RFC 3261 §25.1 qvalue: "1", "0.5", "0.125". */
static void qvalue(int q, char *out, size_t cap)
{
	if (q >= 1000) {
		snprintf(out, cap, "1");
		return;
	}
	int frac = q < 0 ? 0 : q, digits = 3;
	while (digits > 1 && frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(out, cap, "0.%0*d", digits, frac);
}

/* "Date: Thu, 26 Nov 2026 02:51:44 GMT" (RFC 3261 §20.17), locale-free. */
static int date_line(int64_t now, char *out, size_t cap)
{
	static const char wd[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char mo[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)now;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
	    tm.tm_mon > 11)
		return 0;
	return snprintf(out, cap, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n", wd[tm.tm_wday],
			tm.tm_mday, mo[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
			tm.tm_sec);
}

/* Append printf output to out[*n..cap); false when it does not fit. */
static bool add(size_t cap, size_t *n, int w)
{
	if (w < 0 || (size_t)w >= cap - *n)
		return false;
	*n += (size_t)w;
	return true;
}

static bool contact_line(const struct loc_binding *b, int64_t now, char *out, size_t cap,
			 size_t *n)
{
	char q[8] = "";

	if (b->expires <= now || !printable(b->contact, "<>\"") ||
	    !printable(b->instance, "\"\\"))
		return true; /* expired meanwhile, or not ours to print */
	if (b->q >= 0)
		qvalue(b->q, q, sizeof(q));
	long long left = (long long)(b->expires - now);
	if (!add(cap, n,
		 snprintf(out + *n, cap - *n, "Contact: <%s>;expires=%lld%s%s", b->contact, left,
			  q[0] ? ";q=" : "", q)))
		return false;
	if (b->instance[0] &&
	    !add(cap, n, snprintf(out + *n, cap - *n, ";+sip.instance=\"%s\"", b->instance)))
		return false;
	if (b->reg_id && !add(cap, n, snprintf(out + *n, cap - *n, ";reg-id=%u", b->reg_id)))
		return false;
	return add(cap, n, snprintf(out + *n, cap - *n, "\r\n"));
}

int reg_reply_hdrs(const struct loc_binding *b, unsigned n, int64_t now, const char *path,
		   char *out, size_t cap)
{
	size_t len = 0;
	char date[64];

	if (cap == 0)
		return -1;
	out[0] = 0;
	for (unsigned i = 0; i < n; i++)
		if (!contact_line(&b[i], now, out, cap, &len))
			return -1;
	if (path && path[0] && printable(path, "") &&
	    !add(cap, &len, snprintf(out + len, cap - len, "Path: %s\r\n", path)))
		return -1;
	int dl = date_line(now, date, sizeof(date));
	if (dl > 0 && !add(cap, &len, snprintf(out + len, cap - len, "%s", date)))
		return -1;
	return (int)len;
}
