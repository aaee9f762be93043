/*
 * opts.h - ringletd's settings: defaults, then the config file, then flags
 * (flags win).  The interface is DESIGN.md's flag list; config.c reads the
 * same settings from a libconfig file (etc/ringlet.conf explains each).
 */
#ifndef RINGLETD_OPTS_H
#define RINGLETD_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringlet/tp.h"

#define RD_MAX_LISTEN 16
#define RD_MAX_DOMAIN 64
#define RD_MAX_ROUTE 64
#define RD_MAX_TRUST 64

/* Longest value of each string setting (bytes, without the NUL). */
#define RD_LEN_LISTEN 100
#define RD_LEN_DOMAIN 253 /* a DNS name (RFC 1035 §2.3.4) */
#define RD_LEN_STORE 1024
#define RD_LEN_DNS 100
#define RD_LEN_TRUST 64
#define RD_LEN_REALM 255
#define RD_LEN_HTTP 100
#define RD_LEN_STR 1024 /* any string the config file may hold */

/* Room for every string a config file can set at once, plus one being checked. */
#define RD_STRINGS_MAX                                                                             \
	(RD_MAX_LISTEN * (RD_LEN_LISTEN + 1) + RD_MAX_DOMAIN * (RD_LEN_DOMAIN + 1) +               \
	 RD_MAX_TRUST * (RD_LEN_TRUST + 1) + (RD_LEN_STORE + 1) + (RD_LEN_DNS + 1) +               \
	 (RD_LEN_REALM + 1) + (RD_LEN_HTTP + 1) + (RD_LEN_STR + 1))

/* The registrar's expiry when a REGISTER names none (RFC 3261 §10.3 step 7). */
#define RD_DEFAULT_EXPIRES 3600

/* The proxy's Timer C in ms (RFC 3261 §16.6 item 11: more than 3 minutes). */
#define RD_DEFAULT_TIMER_C 180000

/* Seconds a digest nonce stays fresh before it is answered with stale=true. */
#define RD_DEFAULT_NONCE_TTL 300

/* Digest algorithms the registrar offers (rd_opts.auth_algs bits, RFC 8760). */
#define RD_ALG_MD5 0x1u
#define RD_ALG_SHA256 0x2u

enum rd_mode {
	RD_MODE_PROXY = 0,
	RD_MODE_REDIRECT,
	RD_MODE_B2BUA,
};

struct rd_listen {
	uint8_t proto; /* enum tp_proto */
	struct tp_addr addr;
	const char *spec; /* as given, for messages */
};

struct rd_route {
	char domain[128];
	char uri[256];
};

struct rd_opts {
	const char *config; /* -c FILE, or NULL */
	bool check_config;
	struct rd_listen listen[RD_MAX_LISTEN];
	unsigned nlisten;
	const char *domain[RD_MAX_DOMAIN];
	int8_t domain_mode[RD_MAX_DOMAIN]; /* enum rd_mode of each domain; -1: as mode */
	unsigned ndomain;
	const char *store;
	struct rd_route route[RD_MAX_ROUTE];
	unsigned nroute;
	const char *dns; /* "off", "HOST:PORT", or NULL: the system's */
	const char *trust[RD_MAX_TRUST];
	unsigned ntrust;
	enum rd_mode mode;
	bool auth;
	const char *realm; /* NULL: the request's domain */
	uint32_t min_expires;
	uint32_t max_expires;
	uint32_t default_expires; /* within [min_expires, max_expires] */
	uint32_t auth_nonce_ttl;  /* seconds (RD_DEFAULT_NONCE_TTL) */
	unsigned auth_algs;       /* RD_ALG_* offered in challenges (default both) */
	const char *http;         /* NULL: no management API */
	unsigned workers;
	uint32_t t1, t2, t4; /* ms */
	uint32_t timer_c;    /* ms, the proxy's Timer C (RFC 3261 §16.8) */
	int log_level;       /* 0 err .. 3 debug */
	/* `ringletd user add|del|list ...`: index of "user" in argv, or 0 */
	int user_cmd;
	uint32_t given; /* RD_G_*: set by a flag, or by the file to a non-default value */
	/* the config file's strings (the pointers above point here or into argv) */
	char strings[RD_STRINGS_MAX];
	size_t nstrings;
};

/* Bits of rd_opts.given, for "comes later" warnings. */
#define RD_G_CONFIG 0x001u
#define RD_G_STORE 0x002u
#define RD_G_ROUTE 0x004u
#define RD_G_DNS 0x008u
#define RD_G_TRUST 0x010u
#define RD_G_MODE 0x020u
#define RD_G_AUTH 0x040u
#define RD_G_REALM 0x080u
#define RD_G_EXPIRES 0x100u
#define RD_G_HTTP 0x200u

/*
 * Parse argv into *o: defaults, then the file named by -c (if any), then the
 * flags; a repeatable flag (--listen, --domain, --route, --trust) replaces
 * the file's list.  Returns 0; or 2 after printing a one-line reason on
 * stderr (bad usage or a bad file, naming FILE:LINE); or -1 when
 * --help/--version printed and the program should exit 0.
 */
int rd_opts_parse(struct rd_opts *o, int argc, char **argv);

/* One setting, as the flags and the config file both name it. */
enum rd_key {
	RD_K_LISTEN,
	RD_K_DOMAIN,
	RD_K_STORE,
	RD_K_ROUTE, /* "DOMAIN=URI" (the flag's form; the file uses rd_opts_set_route) */
	RD_K_DNS,
	RD_K_TRUST,
	RD_K_MODE,
	RD_K_AUTH, /* "on" or "off" */
	RD_K_REALM,
	RD_K_HTTP,
	RD_K_LOG, /* "err", "warn", "info" or "debug" (the file's log.level) */
	RD_K_MINEXP,
	RD_K_MAXEXP,
	RD_K_DEFEXP,
	RD_K_WORKERS,
	RD_K_T1,
	RD_K_T2,
	RD_K_T4,
	RD_K_TIMER_C,
	RD_K_NONCE_TTL, /* the last integer setting */
	RD_K_AUTH_ALGS, /* "sha-256,md5", "md5", ... */
	RD_K_COUNT,
};

/* True for the keys that take an integer (rd_opts_set_num). */
bool rd_key_is_num(enum rd_key k);

/*
 * Check the value s of setting k and store it in *o (a list setting
 * appends; numbers are decimal).  s is kept by pointer and must outlive o.
 * Returns 0, or EINVAL with `why` (cap bytes) set to what was expected, a
 * phrase such as "an integer from 1 to 256", and *o unchanged.
 */
int rd_opts_set(struct rd_opts *o, enum rd_key k, const char *s, char *why, size_t cap);

/* As rd_opts_set for an integer setting (RD_K_MINEXP .. RD_K_T4). */
int rd_opts_set_num(struct rd_opts *o, enum rd_key k, long long v, char *why, size_t cap);

/*
 * The mode of the domain added last (RD_K_DOMAIN): "proxy" or "redirect"
 * (a domain without one follows RD_K_MODE).  Returns 0, or EINVAL with why.
 */
int rd_opts_set_domain_mode(struct rd_opts *o, const char *mode, char *why, size_t cap);

/* As rd_opts_set for one route: the domain and the URI (copied). */
int rd_opts_set_route(struct rd_opts *o, const char *domain, size_t dlen, const char *uri,
		      char *why, size_t cap);

#endif
