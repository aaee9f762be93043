/*
 * opts.c - ringletd's settings (DESIGN.md "ringletd flags"): the defaults,
 * the checks every setting goes through (shared with the config file,
 * config.c), and the command line.  Order: defaults, then the file named by
 * -c, then the flags, so flags win.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "opts.h"
#include "ringlet/tp.h"

#define DEFAULT_STORE "sqlite:ringlet.db"
#define DEFAULT_MIN_EXPIRES 60
#define DEFAULT_MAX_EXPIRES 7200

static void usage(FILE *f)
{
	fputs("usage: ringletd [OPTIONS]\n"
	      "       ringletd [--store URL | -c FILE] user add USER@DOMAIN PASSWORD | user del "
	      "USER@DOMAIN | user list\n"
	      "\n"
	      "  -c, --config FILE        read settings from FILE first (flags win; a repeated\n"
	      "                           flag replaces the file's list)\n"
	      "      --check-config       validate the settings and exit (2 on error)\n"
	      "  -l, --listen P:HOST:PORT listen on udp|tcp|tls|ws|wss (repeatable;\n"
	      "                           default udp:127.0.0.1:5060 and tcp:127.0.0.1:5060)\n"
	      "  -d, --domain NAME        a domain we are registrar and home proxy for (repeatable)\n"
	      "      --store URL          memory: | sqlite:PATH | redis://HOST:PORT[/DB]\n"
	      "                           (default sqlite:ringlet.db)\n"
	      "      --route DOMAIN=URI   static next hop for a foreign domain (repeatable)\n"
	      "      --dns HOST:PORT|off  DNS resolver (default: the system's)\n"
	      "      --trust CIDR         sources allowed to relay to foreign domains (repeatable)\n"
	      "      --mode MODE          proxy | redirect | b2bua (default proxy)\n"
	      "      --auth on|off        digest authentication (default on)\n"
	      "      --realm NAME         digest realm (default: the request's domain)\n"
	      "      --auth-algorithms L  digest algorithms offered: sha-256,md5 (default) or\n"
	      "                           one of them (md5 for UAs that answer only the first)\n"
	      "      --auth-nonce-ttl S   seconds a nonce stays fresh (default 300)\n"
	      "      --min-expires S      shortest registration accepted (default 60)\n"
	      "      --max-expires S      longest registration granted (default 7200)\n"
	      "      --default-expires S  registration granted when REGISTER names none\n"
	      "                           (default 3600)\n"
	      "      --http HOST:PORT     management API, metrics and dashboard\n"
	      "      --workers N          worker threads (default: number of cores)\n"
	      "      --t1 MS --t2 MS --t4 MS  SIP timers (default 500, 4000, 5000)\n"
	      "      --timer-c MS         the proxy's INVITE Timer C (default 180000)\n"
	      "  -v, --verbose            more log output (repeat for debug)\n"
	      "  -q, --quiet              errors only\n"
	      "  -h, --help               this text\n",
	      f);
}

/* ---- the checks shared by flags and file ---- */

/* Limits of the integer settings, indexed by key - RD_K_MINEXP. */
static const struct {
	uint32_t lo, hi;
} ranges[] = {
	{0, UINT32_MAX}, /* min_expires */
	{1, UINT32_MAX}, /* max_expires */
	{1, UINT32_MAX}, /* default_expires */
	{1, 256},        /* workers */
	{1, 60000},      /* t1 */
	{1, 600000},     /* t2 */
	{1, 600000},     /* t4 */
	{100, 86400000}, /* timer_c */
	{1, 86400},      /* auth_nonce_ttl */
};

bool rd_key_is_num(enum rd_key k)
{
	return k >= RD_K_MINEXP && k <= RD_K_NONCE_TTL;
}

static int want(char *why, size_t cap, const char *what)
{
	snprintf(why, cap, "%s", what);
	return EINVAL;
}

#define W_SPACE 1u   /* spaces allowed */
#define W_NOQUOTE 2u /* no '"' or '\\' (the value is quoted on the wire) */

/* True if s[0..n) has 1..max bytes, all printable ASCII (space only with W_SPACE). */
static bool printable(const char *s, size_t n, size_t max, unsigned flags)
{
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < ' ' || c >= 0x7f || (c == ' ' && !(flags & W_SPACE)) ||
		    ((flags & W_NOQUOTE) && (c == '"' || c == '\\')))
			return false;
	}
	return true;
}

/* As printable, for a NUL-terminated s (read no further than max + 1 bytes). */
static bool word(const char *s, size_t max, unsigned flags)
{
	return printable(s, strnlen(s, max + 1), max, flags);
}

int rd_opts_set_num(struct rd_opts *o, enum rd_key k, long long v, char *why, size_t cap)
{
	if (!rd_key_is_num(k))
		return want(why, cap, "a string");
	unsigned long lo = ranges[k - RD_K_MINEXP].lo, hi = ranges[k - RD_K_MINEXP].hi;
	if (v < (long long)lo || v > (long long)hi) {
		snprintf(why, cap, "an integer from %lu to %lu", lo, hi);
		return EINVAL;
	}
	uint32_t u = (uint32_t)v;
	switch (k) {
	case RD_K_MINEXP:
		o->min_expires = u;
		break;
	case RD_K_MAXEXP:
		o->max_expires = u;
		break;
	case RD_K_DEFEXP:
		o->default_expires = u;
		break;
	case RD_K_WORKERS:
		o->workers = u;
		break;
	case RD_K_T1:
		o->t1 = u;
		break;
	case RD_K_T2:
		o->t2 = u;
		break;
	case RD_K_NONCE_TTL:
		o->auth_nonce_ttl = u;
		break;
	case RD_K_TIMER_C:
		o->timer_c = u;
		break;
	default:
		o->t4 = u;
		break;
	}
	return 0;
}

int rd_opts_set_domain_mode(struct rd_opts *o, const char *mode, char *why, size_t cap)
{
	if (!o->ndomain)
		return want(why, cap, "a domain first");
	if (strcmp(mode, "proxy") && strcmp(mode, "redirect"))
		return want(why, cap, "proxy or redirect");
	o->domain_mode[o->ndomain - 1] = (int8_t)(strcmp(mode, "proxy") ? RD_MODE_REDIRECT
									 : RD_MODE_PROXY);
	return 0;
}

int rd_opts_set_route(struct rd_opts *o, const char *domain, size_t dlen, const char *uri,
		      char *why, size_t cap)
{
	if (o->nroute == RD_MAX_ROUTE)
		return want(why, cap, "at most 64 routes");
	struct rd_route *r = &o->route[o->nroute];
	if (!printable(domain, dlen, sizeof(r->domain) - 1, 0))
		return want(why, cap, "a domain of 1 to 127 characters, no spaces");
	if (!word(uri, sizeof(r->uri) - 1, 0) ||
	    (strncasecmp(uri, "sip:", 4) && strncasecmp(uri, "sips:", 5)))
		return want(why, cap, "a sip: or sips: URI of at most 255 characters, e.g. "
				      "sip:127.0.0.1:5070");
	memcpy(r->domain, domain, dlen);
	r->domain[dlen] = 0;
	strcpy(r->uri, uri);
	o->nroute++;
	return 0;
}

/* "HOST:PORT" with a numeric host (IPv6 in brackets) and an explicit port. */
static bool host_port(const char *s, size_t max)
{
	char spec[RD_LEN_HTTP + 8];
	enum tp_proto proto;
	struct tp_addr a;
	const char *colon = strrchr(s, ':');
	const char *rb = strchr(s, ']');
	if (max > RD_LEN_HTTP || !word(s, max, 0) || !colon || (rb && rb > colon))
		return false;
	snprintf(spec, sizeof(spec), "udp:%s", s);
	return tp_listen_parse(spec, &proto, &a) == 0;
}

/* "ADDRESS[/BITS]", IPv4 or IPv6. */
static bool cidr(const char *s)
{
	char addr[RD_LEN_TRUST + 1];
	unsigned char bin[16];
	if (!word(s, RD_LEN_TRUST, 0))
		return false;
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	memcpy(addr, s, n);
	addr[n] = 0;
	unsigned max = strchr(addr, ':') ? 128 : 32;
	if (inet_pton(max == 128 ? AF_INET6 : AF_INET, addr, bin) != 1)
		return false;
	if (!slash)
		return true;
	char *end;
	errno = 0;
	unsigned long bits = strtoul(slash + 1, &end, 10);
	return slash[1] >= '0' && slash[1] <= '9' && !*end && !errno && bits <= max;
}

static int set_listen(struct rd_opts *o, const char *s, char *why, size_t cap)
{
	enum tp_proto proto;
	struct tp_addr addr;
	if (o->nlisten == RD_MAX_LISTEN)
		return want(why, cap, "at most 16 listeners");
	if (!word(s, RD_LEN_LISTEN, 0) || tp_listen_parse(s, &proto, &addr))
		return want(why, cap,
			    "PROTO:HOST[:PORT] with PROTO udp|tcp|tls|ws|wss and a numeric HOST, "
			    "e.g. udp:127.0.0.1:5060 or tcp:[::1]:5060");
	struct rd_listen *l = &o->listen[o->nlisten++];
	l->proto = (uint8_t)proto;
	l->addr = addr;
	l->spec = s;
	return 0;
}

static int set_store(struct rd_opts *o, const char *s, char *why, size_t cap)
{
	bool ok = word(s, RD_LEN_STORE, W_SPACE);
	if (ok && strcmp(s, "memory:"))
		ok = (!strncmp(s, "sqlite:", 7) && s[7]) || (!strncmp(s, "redis://", 8) && s[8]);
	if (!ok)
		return want(why, cap, "memory:, sqlite:PATH or redis://HOST:PORT[/DB]");
	o->store = s;
	return 0;
}

static int set_enum(struct rd_opts *o, enum rd_key k, const char *s, char *why, size_t cap)
{
	static const char *const modes[] = {"proxy", "redirect", "b2bua"};
	static const char *const levels[] = {"err", "warn", "info", "debug"};
	const char *const *names = k == RD_K_MODE ? modes : levels;
	unsigned n = k == RD_K_MODE ? 3 : 4;
	for (unsigned i = 0; i < n; i++) {
		if (strcmp(s, names[i]))
			continue;
		if (k == RD_K_MODE)
			o->mode = (enum rd_mode)i;
		else
			o->log_level = (int)i;
		return 0;
	}
	return want(why, cap, k == RD_K_MODE ? "proxy, redirect or b2bua"
					     : "err, warn, info or debug");
}

/* "sha-256,md5": the digest algorithms offered, any case, each once at most. */
static int set_algs(struct rd_opts *o, const char *s, char *why, size_t cap)
{
	unsigned algs = 0;
	for (const char *p = s;;) {
		size_t n = strcspn(p, ",");
		unsigned bit = n == 3 && !strncasecmp(p, "md5", 3)       ? RD_ALG_MD5
			       : n == 7 && !strncasecmp(p, "sha-256", 7) ? RD_ALG_SHA256
									 : 0;
		if (!bit || (algs & bit))
			return want(why, cap, "sha-256,md5, sha-256 or md5");
		algs |= bit;
		if (!p[n])
			break;
		p += n + 1;
	}
	o->auth_algs = algs;
	return 0;
}

/* Decimal digits only (no sign, no spaces); saturates at LLONG_MAX. */
static long long decimal(const char *s)
{
	unsigned long long v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v > (unsigned long long)LLONG_MAX / 10 ? (unsigned long long)LLONG_MAX
							   : v * 10 + (unsigned)(*s - '0');
	}
	return v > (unsigned long long)LLONG_MAX ? LLONG_MAX : (long long)v;
}

int rd_opts_set(struct rd_opts *o, enum rd_key k, const char *s, char *why, size_t cap)
{
	if (rd_key_is_num(k))
		return rd_opts_set_num(o, k, decimal(s), why, cap);
	switch (k) {
	case RD_K_LISTEN:
		return set_listen(o, s, why, cap);
	case RD_K_DOMAIN:
		if (o->ndomain == RD_MAX_DOMAIN)
			return want(why, cap, "at most 64 domains");
		if (!word(s, RD_LEN_DOMAIN, 0))
			return want(why, cap, "a domain name of 1 to 253 characters, no spaces");
		o->domain_mode[o->ndomain] = -1;
		o->domain[o->ndomain++] = s;
		return 0;
	case RD_K_STORE:
		return set_store(o, s, why, cap);
	case RD_K_ROUTE: {
		const char *eq = strchr(s, '=');
		if (!eq)
			return want(why, cap, "DOMAIN=URI, e.g. biloxi.example=sip:127.0.0.1:5070");
		return rd_opts_set_route(o, s, (size_t)(eq - s), eq + 1, why, cap);
	}
	case RD_K_DNS:
		if (strcmp(s, "off") && !host_port(s, RD_LEN_DNS))
			return want(why, cap, "HOST:PORT (numeric HOST) or off");
		o->dns = s;
		return 0;
	case RD_K_TRUST:
		if (o->ntrust == RD_MAX_TRUST)
			return want(why, cap, "at most 64 trusted networks");
		if (!cidr(s))
			return want(why, cap,
				    "an address or a CIDR, e.g. 192.0.2.0/24 or 2001:db8::/32");
		o->trust[o->ntrust++] = s;
		return 0;
	case RD_K_MODE:
	case RD_K_LOG:
		return set_enum(o, k, s, why, cap);
	case RD_K_AUTH:
		if (strcmp(s, "on") && strcmp(s, "off"))
			return want(why, cap, "on or off");
		o->auth = !strcmp(s, "on");
		return 0;
	case RD_K_REALM:
		/* RFC 3261 §25.1 quoted-string: it goes between quotes in WWW-Authenticate */
		if (!word(s, RD_LEN_REALM, W_SPACE | W_NOQUOTE))
			return want(why, cap, "a name of 1 to 255 characters without quotes or "
					      "backslashes");
		o->realm = s;
		return 0;
	case RD_K_AUTH_ALGS:
		return set_algs(o, s, why, cap);
	case RD_K_HTTP:
		if (!host_port(s, RD_LEN_HTTP))
			return want(why, cap, "HOST:PORT with a numeric HOST, e.g. 127.0.0.1:8080");
		o->http = s;
		return 0;
	default:
		return want(why, cap, "a known setting");
	}
}

/* ---- the command line ---- */

enum {
	O_CHECK = 256,
	O_KEY = 512, /* O_KEY + enum rd_key: a flag that sets that setting */
};

static const struct option longopts[] = {
	{"config", required_argument, NULL, 'c'},
	{"check-config", no_argument, NULL, O_CHECK},
	{"listen", required_argument, NULL, O_KEY + RD_K_LISTEN},
	{"domain", required_argument, NULL, O_KEY + RD_K_DOMAIN},
	{"store", required_argument, NULL, O_KEY + RD_K_STORE},
	{"route", required_argument, NULL, O_KEY + RD_K_ROUTE},
	{"dns", required_argument, NULL, O_KEY + RD_K_DNS},
	{"trust", required_argument, NULL, O_KEY + RD_K_TRUST},
	{"mode", required_argument, NULL, O_KEY + RD_K_MODE},
	{"auth", required_argument, NULL, O_KEY + RD_K_AUTH},
	{"realm", required_argument, NULL, O_KEY + RD_K_REALM},
	{"auth-algorithms", required_argument, NULL, O_KEY + RD_K_AUTH_ALGS},
	{"auth-nonce-ttl", required_argument, NULL, O_KEY + RD_K_NONCE_TTL},
	{"min-expires", required_argument, NULL, O_KEY + RD_K_MINEXP},
	{"max-expires", required_argument, NULL, O_KEY + RD_K_MAXEXP},
	{"default-expires", required_argument, NULL, O_KEY + RD_K_DEFEXP},
	{"http", required_argument, NULL, O_KEY + RD_K_HTTP},
	{"workers", required_argument, NULL, O_KEY + RD_K_WORKERS},
	{"t1", required_argument, NULL, O_KEY + RD_K_T1},
	{"t2", required_argument, NULL, O_KEY + RD_K_T2},
	{"t4", required_argument, NULL, O_KEY + RD_K_T4},
	{"timer-c", required_argument, NULL, O_KEY + RD_K_TIMER_C},
	{"verbose", no_argument, NULL, 'v'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* The rd_opts.given bit of each key (0: no "comes later" warning for it). */
static uint32_t given_bit(enum rd_key k)
{
	switch (k) {
	case RD_K_STORE:
		return RD_G_STORE;
	case RD_K_ROUTE:
		return RD_G_ROUTE;
	case RD_K_DNS:
		return RD_G_DNS;
	case RD_K_TRUST:
		return RD_G_TRUST;
	case RD_K_MODE:
		return RD_G_MODE;
	case RD_K_AUTH:
		return RD_G_AUTH;
	case RD_K_REALM:
		return RD_G_REALM;
	case RD_K_MINEXP:
	case RD_K_MAXEXP:
	case RD_K_DEFEXP:
		return RD_G_EXPIRES;
	case RD_K_HTTP:
		return RD_G_HTTP;
	default:
		return 0;
	}
}

/* What the file set away from the defaults, as rd_opts.given bits. */
static uint32_t file_given(const struct rd_opts *o)
{
	uint32_t g = 0;
	g |= strcmp(o->store, DEFAULT_STORE) ? RD_G_STORE : 0;
	g |= o->nroute ? RD_G_ROUTE : 0;
	g |= o->dns ? RD_G_DNS : 0;
	g |= o->ntrust ? RD_G_TRUST : 0;
	g |= o->mode != RD_MODE_PROXY ? RD_G_MODE : 0;
	g |= o->auth ? 0 : RD_G_AUTH;
	g |= o->realm ? RD_G_REALM : 0;
	g |= o->http ? RD_G_HTTP : 0;
	if (o->min_expires != DEFAULT_MIN_EXPIRES || o->max_expires != DEFAULT_MAX_EXPIRES ||
	    (o->default_expires && o->default_expires != RD_DEFAULT_EXPIRES))
		g |= RD_G_EXPIRES;
	return g;
}

/* Empty the list of a repeatable setting (its first flag replaces the file's list). */
static void clear_list(struct rd_opts *o, enum rd_key k)
{
	if (k == RD_K_LISTEN)
		o->nlisten = 0;
	else if (k == RD_K_DOMAIN)
		o->ndomain = 0;
	else if (k == RD_K_ROUTE)
		o->nroute = 0;
	else if (k == RD_K_TRUST)
		o->ntrust = 0;
}

/* Apply one flag (the second pass); *seen collects the repeatable keys met so far. */
static int apply(struct rd_opts *o, int c, const char *arg, uint32_t *seen)
{
	if (c == 'v') {
		if (o->log_level < 3)
			o->log_level++;
		return 0;
	}
	if (c == 'q') {
		o->log_level = 0;
		return 0;
	}
	if (c < O_KEY || c >= O_KEY + RD_K_COUNT)
		return 0; /* -c and --check-config: taken by the first pass */
	enum rd_key k = (enum rd_key)(c - O_KEY);
	if (!(*seen & (1u << k))) {
		*seen |= 1u << k;
		clear_list(o, k);
	}
	char why[160];
	if (rd_opts_set(o, k, arg, why, sizeof(why))) {
		const char *name = "?";
		for (const struct option *lo = longopts; lo->name; lo++)
			if (lo->val == c)
				name = lo->name;
		fprintf(stderr, "ringletd: --%s wants %s, not '%s'\n", name, why, arg);
		return 2;
	}
	o->given |= given_bit(k);
	return 0;
}

/*
 * Walk argv.  The first pass reports unknown flags, takes -c, --check-config
 * and --help, and finds the `user` sub-command; the second applies the rest.
 */
static int scan(struct rd_opts *o, int argc, char **argv, bool second)
{
	static const char shortopts[] = "+:c:l:d:vqh"; /* '+': stop at `user` */
	uint32_t seen = 0;
	int c;
	opterr = 0;
	optind = 0; /* glibc: start afresh */
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'l' || c == 'd')
			c = O_KEY + (c == 'l' ? RD_K_LISTEN : RD_K_DOMAIN);
		if (second) {
			int rc = apply(o, c, optarg, &seen);
			if (rc)
				return rc;
			continue;
		}
		if (c == 'h') {
			usage(stdout);
			return -1;
		}
		if (c == '?' || c == ':') {
			const char *what = c == ':' ? "missing value for" : "unknown option";
			fprintf(stderr, "ringletd: %s '%s'; see ringletd --help\n", what,
				argv[optind - 1]);
			return 2;
		}
		if (c == 'c') {
			o->given |= RD_G_CONFIG;
			o->config = optarg;
		} else if (c == O_CHECK) {
			o->check_config = true;
		}
	}
	if (second || optind >= argc)
		return 0;
	if (strcmp(argv[optind], "user")) {
		fprintf(stderr, "ringletd: unexpected argument '%s'; see ringletd --help\n",
			argv[optind]);
		return 2;
	}
	o->user_cmd = optind;
	return 0;
}

static void defaults(struct rd_opts *o)
{
	memset(o, 0, offsetof(struct rd_opts, strings));
	o->strings[0] = 0;
	o->nstrings = 0;
	o->store = DEFAULT_STORE;
	o->auth = true;
	o->auth_nonce_ttl = RD_DEFAULT_NONCE_TTL;
	o->auth_algs = RD_ALG_MD5 | RD_ALG_SHA256;
	o->min_expires = DEFAULT_MIN_EXPIRES;
	o->max_expires = DEFAULT_MAX_EXPIRES;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	o->workers = n > 0 ? (n > 256 ? 256 : (unsigned)n) : 1;
	o->t1 = 500;
	o->t2 = 4000;
	o->t4 = 5000;
	o->timer_c = RD_DEFAULT_TIMER_C;
	o->log_level = 1;
}

/* The checks across settings, once file and flags are in. */
static int finish(struct rd_opts *o)
{
	if (o->min_expires > o->max_expires) {
		fprintf(stderr, "ringletd: min_expires (%u) is above max_expires (%u)\n",
			o->min_expires, o->max_expires);
		return 2;
	}
	if (o->default_expires == 0) {
		/* not set: 3600, within the limits */
		uint32_t d = RD_DEFAULT_EXPIRES;
		d = d < o->min_expires ? o->min_expires : d;
		d = d > o->max_expires ? o->max_expires : d;
		o->default_expires = d; /* >= 1: max_expires is */
	} else if (o->default_expires < o->min_expires || o->default_expires > o->max_expires) {
		fprintf(stderr,
			"ringletd: default_expires (%u) is outside min_expires..max_expires "
			"(%u..%u)\n",
			o->default_expires, o->min_expires, o->max_expires);
		return 2;
	}
	if (o->nlisten == 0) {
		char why[8];
		rd_opts_set(o, RD_K_LISTEN, "udp:127.0.0.1:5060", why, sizeof(why));
		rd_opts_set(o, RD_K_LISTEN, "tcp:127.0.0.1:5060", why, sizeof(why));
	}
	return 0;
}

int rd_opts_parse(struct rd_opts *o, int argc, char **argv)
{
	defaults(o);
	int rc = scan(o, argc, argv, false);
	if (rc)
		return rc;
	if (o->config) {
		rc = rd_config_load(o, o->config);
		if (rc)
			return rc;
		o->given |= file_given(o);
	}
	rc = scan(o, argc, argv, true);
	return rc ? rc : finish(o);
}
