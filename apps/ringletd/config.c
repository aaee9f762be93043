/*
 * config.c - ringletd's config file, read with libconfig (DESIGN.md: "a
 * config parser library rather than a hand-written one").  libconfig does
 * the syntax; this file knows the settings (the schema below), rejects
 * unknown ones and hands every value to the checks the flags use (opts.c),
 * so a file and a command line can say the same things the same way.
 */
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define MAX_FILE (1u << 20) /* bytes: a config file is small */

enum type {
	T_STR,    /* a string */
	T_STRS,   /* an array or list of strings */
	T_NUM,    /* an integer */
	T_BOOL,   /* true/false (or "on"/"off"): auth, the only one */
	T_GROUP,  /* { ... } of the items in sub */
	T_ROUTES, /* ( { domain = "..."; uri = "..."; }, ... ) */
	T_DOMAINS, /* [ "a.example", ... ] or ( "a.example", { name = "..."; mode = "..."; } ) */
};

struct item {
	const char *name;
	enum type type;
	enum rd_key key;
	const char *what; /* what a value of the wrong type should have been */
	const struct item *sub;
	size_t nsub;
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct item registrar_items[] = {
	{"min_expires", T_NUM, RD_K_MINEXP, NULL, NULL, 0},
	{"max_expires", T_NUM, RD_K_MAXEXP, NULL, NULL, 0},
	{"default_expires", T_NUM, RD_K_DEFEXP, NULL, NULL, 0},
};

static const struct item timer_items[] = {
	{"t1", T_NUM, RD_K_T1, NULL, NULL, 0},
	{"t2", T_NUM, RD_K_T2, NULL, NULL, 0},
	{"t4", T_NUM, RD_K_T4, NULL, NULL, 0},
};

static const struct item proxy_items[] = {
	{"timer_c", T_NUM, RD_K_TIMER_C, NULL, NULL, 0},
};

static const struct item log_items[] = {
	{"level", T_STR, RD_K_LOG, "a string: err, warn, info or debug", NULL, 0},
};

static const struct item root_items[] = {
	{"listen", T_STRS, RD_K_LISTEN,
	 "a list of strings, e.g. [\"udp:127.0.0.1:5060\", \"tcp:127.0.0.1:5060\"]", NULL, 0},
	{"domains", T_DOMAINS, RD_K_DOMAIN,
	 "a list of strings or groups, e.g. ( \"atlanta.example\", { name = \"biloxi.example\"; "
	 "mode = \"redirect\"; } )",
	 NULL, 0},
	{"store", T_STR, RD_K_STORE, "a string: memory:, sqlite:PATH or redis://HOST:PORT[/DB]",
	 NULL, 0},
	{"auth", T_BOOL, RD_K_AUTH, "true or false", NULL, 0},
	{"realm", T_STR, RD_K_REALM, "a string", NULL, 0},
	{"auth_algorithms", T_STR, RD_K_AUTH_ALGS,
	 "a string: \"sha-256,md5\", \"sha-256\" or \"md5\"", NULL, 0},
	{"auth_nonce_ttl", T_NUM, RD_K_NONCE_TTL, NULL, NULL, 0},
	{"registrar", T_GROUP, RD_K_COUNT,
	 "a group { min_expires = 60; max_expires = 7200; default_expires = 3600; }",
	 registrar_items, N(registrar_items)},
	{"workers", T_NUM, RD_K_WORKERS, NULL, NULL, 0},
	{"timers", T_GROUP, RD_K_COUNT, "a group { t1 = 500; t2 = 4000; t4 = 5000; }",
	 timer_items, N(timer_items)},
	{"log", T_GROUP, RD_K_COUNT, "a group { level = \"warn\"; }", log_items, N(log_items)},
	{"proxy", T_GROUP, RD_K_COUNT, "a group { timer_c = 180000; }", proxy_items,
	 N(proxy_items)},
	{"routes", T_ROUTES, RD_K_ROUTE,
	 "a list of groups, e.g. ( { domain = \"biloxi.example\"; uri = "
	 "\"sip:127.0.0.1:5070\"; } )",
	 NULL, 0},
	{"trust", T_STRS, RD_K_TRUST, "a list of strings, e.g. [\"192.0.2.0/24\"]", NULL, 0},
	{"dns", T_STR, RD_K_DNS, "a string: HOST:PORT or off", NULL, 0},
	{"mode", T_STR, RD_K_MODE, "a string: proxy, redirect or b2bua", NULL, 0},
	{"http", T_STR, RD_K_HTTP, "a string: HOST:PORT", NULL, 0},
};

/*
 * libconfig 1.5 loses the text of a string token that a syntax error
 * discards (its grammar frees no token on error; 1.7 does), e.g. in
 * `name "value";` or `name "";`: the scanner's string buffer, or the empty
 * string the scanner allocates.  We exit 2 right after, so tell
 * LeakSanitizer about this one known leak in a library (the sanitizer build
 * must still exit 2 with one line).  Unused without ASan.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

/* ... quietly: no "Suppressions used" table after the one line. */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}

struct ctx {
	struct rd_opts *o;
	const char *path;
};

/* Print "ringletd: FILE:LINE: SETTING: ..." for setting s; returns 2. */
__attribute__((format(printf, 4, 5))) static int fail(const struct ctx *x,
						      const config_setting_t *s,
						      const char *name, const char *fmt, ...)
{
	const char *file = config_setting_source_file(s);
	fprintf(stderr, "ringletd: %s:%u: %s: ", file ? file : x->path,
		(unsigned)config_setting_source_line(s), name);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

/* Copy s into o->strings (the flags' strings live in argv; these must outlive cfg). */
static const char *keep(struct rd_opts *o, const char *s)
{
	size_t n = strnlen(s, RD_LEN_STR + 1);
	if (n > RD_LEN_STR || n + 1 > sizeof(o->strings) - o->nstrings)
		return NULL;
	char *d = o->strings + o->nstrings;
	memcpy(d, s, n + 1);
	o->nstrings += n + 1;
	return d;
}

/* Hand the string value of s to the check of key k. */
static int set_str(const struct ctx *x, const config_setting_t *s, enum rd_key k,
		   const char *name)
{
	char why[160];
	const char *v = config_setting_get_string(s);
	if (!v)
		return fail(x, s, name, "expected a string");
	size_t mark = x->o->nstrings;
	const char *copy = keep(x->o, v);
	if (!copy && strnlen(v, RD_LEN_STR + 1) > RD_LEN_STR)
		return fail(x, s, name, "expected at most %d characters", RD_LEN_STR);
	if (!copy)
		return fail(x, s, name, "expected fewer strings: they exceed %zu bytes in all",
			    sizeof(x->o->strings));
	if (rd_opts_set(x->o, k, copy, why, sizeof(why))) {
		x->o->nstrings = mark;
		return fail(x, s, name, "expected %s", why);
	}
	return 0;
}

static int set_num(const struct ctx *x, const config_setting_t *s, enum rd_key k,
		   const char *name)
{
	char why[160];
	int t = config_setting_type(s);
	long long v = t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 ? config_setting_get_int64(s)
								     : LLONG_MIN;
	if (rd_opts_set_num(x->o, k, v, why, sizeof(why)))
		return fail(x, s, name, "expected %s", why);
	return 0;
}

/* One element of routes: a group of exactly domain and uri. */
static int set_route(const struct ctx *x, const config_setting_t *r, const char *name)
{
	char sub[160], why[160];
	const char *dom = NULL, *uri = NULL;
	if (!config_setting_is_group(r))
		return fail(x, r, name, "expected a group { domain = \"biloxi.example\"; uri = "
					"\"sip:127.0.0.1:5070\"; }");
	for (int i = 0; i < config_setting_length(r); i++) {
		const config_setting_t *m = config_setting_get_elem(r, i);
		const char *mn = config_setting_name(m);
		if (snprintf(sub, sizeof(sub), "%s.%s", name, mn) < 0) /* a long name is cut */
			sub[0] = 0;
		const char *v = config_setting_get_string(m);
		if (strcmp(mn, "domain") && strcmp(mn, "uri"))
			return fail(x, m, sub, "unknown setting; expected domain or uri");
		if (!v)
			return fail(x, m, sub, "expected a string");
		*(strcmp(mn, "uri") ? &dom : &uri) = v;
	}
	if (!dom || !uri)
		return fail(x, r, name, "expected both domain and uri");
	if (rd_opts_set_route(x->o, dom, strlen(dom), uri, why, sizeof(why)))
		return fail(x, r, name, "expected %s", why);
	return 0;
}

/* One element of domains given as a group: a name and its mode (proxy or redirect). */
static int set_domain(const struct ctx *x, const config_setting_t *d, const char *name)
{
	char sub[160], why[160];
	const config_setting_t *n = NULL, *mode = NULL;
	for (int i = 0; i < config_setting_length(d); i++) {
		const config_setting_t *m = config_setting_get_elem(d, i);
		const char *mn = config_setting_name(m);
		if (snprintf(sub, sizeof(sub), "%s.%s", name, mn) < 0) /* a long name is cut */
			sub[0] = 0;
		if (strcmp(mn, "name") && strcmp(mn, "mode"))
			return fail(x, m, sub, "unknown setting; expected name or mode");
		if (!config_setting_get_string(m))
			return fail(x, m, sub, "expected a string");
		*(strcmp(mn, "name") ? &mode : &n) = m;
	}
	if (!n)
		return fail(x, d, name, "expected a name, e.g. { name = \"biloxi.example\"; "
					"mode = \"redirect\"; }");
	if (snprintf(sub, sizeof(sub), "%s.name", name) < 0)
		sub[0] = 0;
	int rc = set_str(x, n, RD_K_DOMAIN, sub);
	if (rc || !mode)
		return rc;
	if (rd_opts_set_domain_mode(x->o, config_setting_get_string(mode), why, sizeof(why))) {
		x->o->ndomain--;
		if (snprintf(sub, sizeof(sub), "%s.mode", name) < 0)
			sub[0] = 0;
		return fail(x, mode, sub, "expected %s", why);
	}
	return 0;
}

/*
 * An array or list: each element through one (strings), set_route (routes)
 * or, for domains, set_str or set_domain.
 */
static int set_list(const struct ctx *x, const config_setting_t *s, const struct item *it,
		    const char *name)
{
	char sub[160];
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_LIST && (t != CONFIG_TYPE_ARRAY || it->type == T_ROUTES))
		return fail(x, s, name, "expected %s", it->what);
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		if (snprintf(sub, sizeof(sub), "%s[%d]", name, i) < 0) /* a long name is cut */
			sub[0] = 0;
		int rc;
		if (it->type == T_ROUTES)
			rc = set_route(x, e, sub);
		else if (it->type == T_DOMAINS && config_setting_is_group(e))
			rc = set_domain(x, e, sub);
		else if (it->type == T_DOMAINS && !config_setting_get_string(e))
			rc = fail(x, e, sub, "expected %s", it->what);
		else
			rc = set_str(x, e, it->key, sub);
		if (rc)
			return rc;
	}
	return 0;
}

static int walk(const struct ctx *x, const config_setting_t *g, const struct item *items,
		size_t n, const char *prefix);

/* One setting whose item is known. */
static int one(const struct ctx *x, const config_setting_t *s, const struct item *it,
	       const char *name)
{
	int t = config_setting_type(s);
	switch (it->type) {
	case T_STR:
		if (t != CONFIG_TYPE_STRING)
			return fail(x, s, name, "expected %s", it->what);
		return set_str(x, s, it->key, name);
	case T_STRS:
	case T_ROUTES:
	case T_DOMAINS:
		return set_list(x, s, it, name);
	case T_NUM:
		return set_num(x, s, it->key, name);
	case T_BOOL:
		/* true/false, or the flag's "on"/"off" */
		if (t == CONFIG_TYPE_BOOL) {
			x->o->auth = config_setting_get_bool(s);
			return 0;
		}
		const char *v = t == CONFIG_TYPE_STRING ? config_setting_get_string(s) : NULL;
		if (!v || (strcmp(v, "on") && strcmp(v, "off")))
			return fail(x, s, name, "expected %s", it->what);
		x->o->auth = !strcmp(v, "on");
		return 0;
	default:
		if (t != CONFIG_TYPE_GROUP)
			return fail(x, s, name, "expected %s", it->what);
		/* the schema is two levels deep: no recursion the file can deepen */
		return walk(x, s, it->sub, it->nsub, name);
	}
}

/* The members of group g, each one of items[0..n). */
static int walk(const struct ctx *x, const config_setting_t *g, const struct item *items,
		size_t n, const char *prefix)
{
	char name[160];
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		const char *sn = config_setting_name(s);
		snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "", sn ? sn : "?");
		const struct item *it = NULL;
		for (size_t k = 0; k < n && !it; k++)
			if (sn && !strcmp(sn, items[k].name))
				it = &items[k];
		if (!it) {
			char known[400];
			size_t len = 0;
			known[0] = 0;
			for (size_t k = 0; k < n && len < sizeof(known); k++)
				len += (size_t)snprintf(known + len, sizeof(known) - len, "%s%s",
							k ? ", " : "", items[k].name);
			return fail(x, s, name, "unknown setting; expected one of %s", known);
		}
		int rc = one(x, s, it, name);
		if (rc)
			return rc;
	}
	return 0;
}

/* The registrar limits must agree within the file (the flags are checked again later). */
static int expires_check(const struct ctx *x, const config_t *cfg)
{
	const struct rd_opts *o = x->o;
	const config_setting_t *min = config_lookup(cfg, "registrar.min_expires");
	const config_setting_t *max = config_lookup(cfg, "registrar.max_expires");
	const config_setting_t *def = config_lookup(cfg, "registrar.default_expires");
	if (o->min_expires > o->max_expires) {
		if (min)
			return fail(x, min, "registrar.min_expires",
				    "expected at most max_expires (%u)", o->max_expires);
		return fail(x, max, "registrar.max_expires", "expected at least min_expires (%u)",
			    o->min_expires);
	}
	if (def && (o->default_expires < o->min_expires || o->default_expires > o->max_expires))
		return fail(x, def, "registrar.default_expires",
			    "expected from min_expires to max_expires (%u to %u)", o->min_expires,
			    o->max_expires);
	return 0;
}

/* The file, whole, NUL-terminated; NULL after printing why not. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "ringletd: %s: cannot open: %s\n", path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(MAX_FILE + 2);
	size_t n = buf ? fread(buf, 1, MAX_FILE + 1, f) : 0;
	int err = !buf ? ENOMEM : ferror(f) ? (errno ? errno : EIO) : 0;
	fclose(f);
	if (err || n > MAX_FILE) {
		if (err)
			fprintf(stderr, "ringletd: %s: cannot read: %s\n", path, strerror(err));
		else
			fprintf(stderr, "ringletd: %s: larger than %u bytes\n", path, MAX_FILE);
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_xdigit(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_name(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
	       c == '_' || c == '*';
}

/* End of the float whose fraction or exponent starts at in[i] ('.', 'e' or 'E'). */
static size_t float_end(const char *in, size_t len, size_t i)
{
	if (i < len && in[i] == '.')
		for (i++; i < len && is_digit(in[i]); i++)
			;
	if (i < len && (in[i] == 'e' || in[i] == 'E')) {
		size_t j = i + 1 + (i + 1 < len && (in[i + 1] == '+' || in[i + 1] == '-'));
		if (j < len && is_digit(in[j]))
			for (i = j; i < len && is_digit(in[i]); i++)
				;
	}
	return i;
}

/*
 * The integer literal at in[i] (a digit that does not continue a name):
 * returns its end, and sets *wide when libconfig 1.5 would truncate it to 32
 * bits without a word (it reads "4294967356" as 60): it lies outside int32
 * and has no L suffix.  Floats are skipped whole.
 */
static size_t number(const char *in, size_t len, size_t i, bool *wide)
{
	unsigned long long v = 0;
	bool neg = i > 0 && in[i - 1] == '-';
	bool hex = in[i] == '0' && i + 2 < len && (in[i + 1] == 'x' || in[i + 1] == 'X') &&
		   is_xdigit(in[i + 2]);
	size_t j = hex ? i + 2 : i;
	for (; j < len && (hex ? is_xdigit(in[j]) : is_digit(in[j])); j++) {
		unsigned d = is_digit(in[j]) ? (unsigned)(in[j] - '0')
					     : (unsigned)((in[j] | 0x20) - 'a' + 10);
		v = v > (ULLONG_MAX >> 4) / 10 ? ULLONG_MAX : v * (hex ? 16 : 10) + d;
	}
	*wide = false;
	if (!hex && j < len && (in[j] == '.' || in[j] == 'e' || in[j] == 'E')) {
		size_t end = float_end(in, len, j);
		if (end > j + 1 || in[j] == '.')
			return end;
	}
	*wide = (j >= len || in[j] != 'L') && v > (hex || !neg ? 0x7fffffffull : 0x80000000ull);
	return j;
}

/* Fail at a line of the file before libconfig has read it. */
static char *fail_at(const char *path, unsigned line, const char *what, char *out)
{
	fprintf(stderr, "ringletd: %s:%u: %s\n", path, line, what);
	free(out);
	return NULL;
}

/*
 * A copy of the file's text for libconfig with an L appended to each integer
 * literal libconfig 1.5 would truncate (so 4294967295 means 4294967295 and
 * out-of-range values are seen as such).  Strings and comments are copied
 * as they are; @include and NUL bytes are refused.  NULL after printing why.
 */
static char *widen(const char *path, const char *in, size_t len)
{
	char *out = malloc(2 * len + 1);
	size_t o = 0, i = 0;
	unsigned line = 1;
	const char *nul = memchr(in, 0, len);
	if (nul) {
		for (const char *p = in; p < nul; p++)
			line += *p == '\n';
		return fail_at(path, line, "a NUL byte; expected text", out);
	}
	while (out && i < len) {
		size_t end = i + 1;
		char c = in[i];
		bool wide = false;
		if (c == '@') {
			return fail_at(path, line, "@include is not supported; expected settings",
				       out);
		} else if (c == '#' || (c == '/' && i + 1 < len && in[i + 1] == '/')) {
			while (end < len && in[end] != '\n')
				end++;
		} else if (c == '/' && i + 1 < len && in[i + 1] == '*') {
			const char *close = strstr(in + i + 2, "*/");
			end = close ? (size_t)(close - in) + 2 : len;
		} else if (c == '"') {
			while (end < len && in[end] != '"')
				end += in[end] == '\\' && end + 1 < len ? 2 : 1;
			end += end < len;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*') {
			while (end < len && is_name(in[end]))
				end++;
		} else if (is_digit(c)) {
			end = number(in, len, i, &wide);
		} else if (c == '.' && end < len && is_digit(in[end])) {
			end = float_end(in, len, i);
		}
		for (size_t k = i; k < end; k++)
			line += in[k] == '\n';
		memcpy(out + o, in + i, end - i);
		o += end - i;
		if (wide)
			out[o++] = 'L';
		i = end;
	}
	if (!out) {
		fprintf(stderr, "ringletd: %s: cannot read: %s\n", path, strerror(ENOMEM));
		return NULL;
	}
	out[o] = 0;
	return out;
}

int rd_config_load(struct rd_opts *o, const char *path)
{
	size_t len;
	char *text = slurp(path, &len);
	char *wide = text ? widen(path, text, len) : NULL;
	free(text);
	if (!wide)
		return 2;
	config_t cfg;
	config_init(&cfg);
	int rc = 0;
	if (!config_read_string(&cfg, wide)) {
		const char *file = config_error_file(&cfg);
		const char *what = config_error_text(&cfg);
		bool syntax = !what || !strcmp(what, "syntax error");
		fprintf(stderr, "ringletd: %s:%d: %s%s\n", file ? file : path,
			config_error_line(&cfg), what ? what : "syntax error",
			syntax ? "; expected settings such as name = value; (see etc/ringlet.conf)"
			       : "");
		rc = 2;
	} else {
		struct ctx x = {.o = o, .path = path};
		rc = walk(&x, config_root_setting(&cfg), root_items, N(root_items), "");
		rc = rc ? rc : expires_check(&x, &cfg);
	}
	config_destroy(&cfg);
	free(wide);
	return rc;
}
