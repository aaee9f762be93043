/*
 * user.c - `ringletd [--store URL | -c FILE] [--realm NAME] user add
 * USER@DOMAIN PASSWORD | user del USER@DOMAIN | user list` (DESIGN.md).
 *
 * A user is stored under the key USER@DOMAIN (DOMAIN lower-cased: host names
 * compare case-insensitively, RFC 3261 §19.1.4) with its two HA1 digests
 * (RFC 7616 §3.4.2), MD5 and SHA-256, over
 *     digest username = USER (as written, case kept)
 *     realm           = --realm NAME when given, else DOMAIN (lower-cased)
 * so the registrar's challenge must use that realm.  The password itself
 * is never stored nor printed; PASSWORD "-" reads it from the first line of
 * standard input, which keeps it out of the process list.  `user add` on an
 * existing user replaces it; `user list` prints one user per line.
 *
 * Exit status: 0 done, 1 the store failed, 2 bad usage; every error is one
 * line on stderr saying what to do.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ringlet/auth.h"
#include "ringlet/loc.h"
#include "user.h"

#define PASSWORD_MAX 1024

static int usage(const char *why)
{
	fprintf(stderr, "ringletd: %s\n", why);
	return 2;
}

/* RFC 3261 §25.1 user: unreserved / escaped / user-unreserved. */
static bool user_ok(const char *u, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = u[i];
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (c == 0 || !strchr("-_.!~*'()&=+$,;?/%", c)))
			return false;
	}
	return true;
}

/* A host name, an IPv4 address or a bracketed IPv6 reference (loosely). */
static bool domain_ok(const char *d)
{
	size_t n = strlen(d);
	bool v6 = n > 2 && d[0] == '[' && d[n - 1] == ']';
	if (n == 0)
		return false;
	for (size_t i = v6 ? 1 : 0; i < (v6 ? n - 1 : n); i++) {
		char c = d[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || (!v6 && c == '-') ||
			  (v6 && c == ':');
		if (!ok)
			return false;
	}
	return true;
}

/*
 * Split USER@DOMAIN into the store key (domain lower-cased) and the user
 * part.  Returns false after printing why.
 */
static bool parse_aor(const char *aor, char *key, size_t keycap, char *user, size_t usercap,
		      const char **domain)
{
	const char *at = strchr(aor, '@');
	size_t ulen = at ? (size_t)(at - aor) : 0;
	if (!at || strchr(at + 1, '@') || !user_ok(aor, ulen) || !domain_ok(at + 1)) {
		fprintf(stderr,
			"ringletd: '%s' is not USER@DOMAIN; write e.g. "
			"alice@atlanta.example\n",
			aor);
		return false;
	}
	if (strlen(aor) >= keycap || ulen >= usercap) {
		fprintf(stderr,
			"ringletd: '%s' is too long; USER@DOMAIN has at most %zu characters\n", aor,
			keycap - 1);
		return false;
	}
	memcpy(user, aor, ulen);
	user[ulen] = 0;
	size_t i;
	for (i = 0; aor[i]; i++)
		key[i] = i > ulen ? ascii_lower(aor[i]) : aor[i];
	key[i] = 0;
	*domain = key + ulen + 1;
	return true;
}

/* PASSWORD, or the first line of stdin for "-".  Returns false after printing why. */
static bool get_password(const char *arg, char *out, size_t cap)
{
	if (strcmp(arg, "-") != 0) {
		if (strlen(arg) >= cap) {
			fprintf(stderr, "ringletd: the password is longer than %zu characters\n",
				cap - 1);
			return false;
		}
		strcpy(out, arg);
	} else if (fgets(out, (int)cap, stdin) == NULL) {
		out[0] = 0;
	}
	out[strcspn(out, "\r\n")] = 0;
	if (out[0] == 0) {
		fprintf(stderr, "ringletd: the password is empty; give one (or '-' and write it "
				"on standard input)\n");
		return false;
	}
	return true;
}

static int open_store(const struct rd_opts *o, struct loc_store **s)
{
	char why[256] = "";
	int err = loc_open(s, o->store, why, sizeof(why));
	if (err == EINVAL) {
		fprintf(stderr, "ringletd: store '%s': %s\n", o->store,
			why[0] ? why : "write memory:, sqlite:PATH or redis://HOST:PORT[/DB]");
		return 2;
	}
	if (err) {
		fprintf(stderr, "ringletd: cannot open store '%s': %s%s%s; check --store\n",
			o->store, strerror(err), why[0] ? ": " : "", why);
		return 1;
	}
	if (strcmp(o->store, "memory:") == 0)
		fprintf(stderr, "ringletd: warning: store memory: forgets everything when this "
				"command exits; use --store sqlite:PATH or redis://HOST:PORT\n");
	return 0;
}

/* What add and del work on, checked before the store is opened. */
struct job {
	struct loc_user u; /* u.user: the store key */
	char user[LOC_AOR_MAX];
	const char *domain; /* inside u.user */
	char password[PASSWORD_MAX];
};

static int user_add(const struct rd_opts *o, struct loc_store *s, struct job *j)
{
	const char *realm = o->realm ? o->realm : j->domain;
	auth_ha1(AUTH_MD5, j->user, realm, j->password, j->u.ha1_md5);
	auth_ha1(AUTH_SHA256, j->user, realm, j->password, j->u.ha1_sha256);
	int err = loc_user_put_sync(s, &j->u);
	if (err) {
		fprintf(stderr, "ringletd: cannot save user %s in '%s': %s; check --store\n",
			j->u.user, o->store, strerror(err));
		return 1;
	}
	printf("ringletd: user %s saved (digest username %s, realm %s)\n", j->u.user, j->user,
	       realm);
	return 0;
}

static int user_del(const struct rd_opts *o, struct loc_store *s, const struct job *j)
{
	int err = loc_user_del_sync(s, j->u.user);
	if (err == ENOENT) {
		fprintf(stderr, "ringletd: no user %s in '%s'; see ringletd user list\n", j->u.user,
			o->store);
		return 1;
	}
	if (err) {
		fprintf(stderr, "ringletd: cannot delete user %s from '%s': %s; check --store\n",
			j->u.user, o->store, strerror(err));
		return 1;
	}
	printf("ringletd: user %s deleted\n", j->u.user);
	return 0;
}

static void print_user(const struct loc_user *u, void *arg)
{
	(void)arg;
	printf("%s\n", u->user); /* the name only: digests stay in the store */
}

static int user_list(const struct rd_opts *o, struct loc_store *s)
{
	int err = loc_user_list_sync(s, print_user, NULL);
	if (err) {
		fprintf(stderr, "ringletd: cannot list users of '%s': %s; check --store\n",
			o->store, strerror(err));
		return 1;
	}
	return 0;
}

/* Realm given with --realm (or -c FILE): printable, quotable, not empty. */
static bool realm_ok(const char *r)
{
	size_t n = strlen(r);
	if (n == 0 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)r[i] < 0x20 || r[i] == 0x7f)
			return false;
	return true;
}

int rd_user_main(const struct rd_opts *o, int argc, char **argv)
{
	int i = o->user_cmd + 1;
	int nargs = argc - i - 1; /* after the verb */

	if (i >= argc)
		return usage("user wants add USER@DOMAIN PASSWORD, del USER@DOMAIN or list");
	const char *verb = argv[i];
	bool add = !strcmp(verb, "add"), del = !strcmp(verb, "del"), list = !strcmp(verb, "list");
	if (!add && !del && !list) {
		fprintf(stderr,
			"ringletd: unknown user verb '%s'; write user add USER@DOMAIN "
			"PASSWORD, user del USER@DOMAIN or user list\n",
			verb);
		return 2;
	}
	if (add && nargs != 2)
		return usage("user add wants USER@DOMAIN PASSWORD (or - to read it from stdin), "
			     "e.g. ringletd user add alice@atlanta.example s3cret");
	if (del && nargs != 1)
		return usage(
		    "user del wants USER@DOMAIN, e.g. ringletd user del alice@atlanta.example");
	if (list && nargs != 0)
		return usage("user list takes no arguments; see ringletd --help");
	if (o->realm && !realm_ok(o->realm)) {
		fprintf(stderr, "ringletd: --realm wants 1 to 255 printable characters\n");
		return 2;
	}
	struct job j;
	memset(&j, 0, sizeof(j));
	if ((add || del) &&
	    !parse_aor(argv[i + 1], j.u.user, sizeof(j.u.user), j.user, sizeof(j.user), &j.domain))
		return 2;
	if (add && !get_password(argv[i + 2], j.password, sizeof(j.password)))
		return 2;
	struct loc_store *s = NULL;
	int rc = open_store(o, &s);
	if (rc == 0) {
		rc = add ? user_add(o, s, &j) : del ? user_del(o, s, &j) : user_list(o, s);
		loc_close(s);
	}
	OPENSSL_cleanse(j.password, sizeof(j.password));
	if (fflush(stdout) != 0 && rc == 0) {
		fprintf(stderr, "ringletd: cannot write the output: %s\n", strerror(errno));
		rc = 1;
	}
	return rc;
}
