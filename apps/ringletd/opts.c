/*
 * opts.c - ringletd's command line (DESIGN.md "ringletd flags").
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "opts.h"
#include "ringlet/tp.h"

static void usage(FILE *f)
{
	fputs("usage: ringletd [OPTIONS]\n"
	      "       ringletd [--store URL | -c FILE] user add USER@DOMAIN PASSWORD | user del "
	      "USER@DOMAIN | user list\n"
	      "\n"
	      "  -c, --config FILE        read settings from FILE (flags win)\n"
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
	      "      --min-expires S      shortest registration accepted (default 60)\n"
	      "      --max-expires S      longest registration granted (default 7200)\n"
	      "      --http HOST:PORT     management API, metrics and dashboard\n"
	      "      --workers N          worker threads (default: number of cores)\n"
	      "      --t1 MS --t2 MS --t4 MS  SIP timers (default 500, 4000, 5000)\n"
	      "  -v, --verbose            more log output (repeat for debug)\n"
	      "  -q, --quiet              errors only\n"
	      "  -h, --help               this text\n",
	      f);
}

static int listen_parse(const char *s, struct rd_listen *out)
{
	enum tp_proto proto;
	if (tp_listen_parse(s, &proto, &out->addr))
		return EINVAL;
	out->proto = (uint8_t)proto;
	out->spec = s;
	return 0;
}

/* Parse an unsigned decimal flag value in [lo, hi]. */
static int num(const char *flag, const char *s, unsigned long lo, unsigned long hi, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || end == s || *s == '-' || v < lo || v > hi) {
		fprintf(stderr, "ringletd: %s wants a number from %lu to %lu, not '%s'\n", flag, lo,
			hi, s);
		return 2;
	}
	*out = (uint32_t)v;
	return 0;
}

enum {
	O_CHECK = 256,
	O_STORE,
	O_ROUTE,
	O_DNS,
	O_TRUST,
	O_MODE,
	O_AUTH,
	O_REALM,
	O_MINEXP,
	O_MAXEXP,
	O_HTTP,
	O_WORKERS,
	O_T1,
	O_T2,
	O_T4,
};

static const struct option longopts[] = {
	{"config", required_argument, NULL, 'c'},
	{"check-config", no_argument, NULL, O_CHECK},
	{"listen", required_argument, NULL, 'l'},
	{"domain", required_argument, NULL, 'd'},
	{"store", required_argument, NULL, O_STORE},
	{"route", required_argument, NULL, O_ROUTE},
	{"dns", required_argument, NULL, O_DNS},
	{"trust", required_argument, NULL, O_TRUST},
	{"mode", required_argument, NULL, O_MODE},
	{"auth", required_argument, NULL, O_AUTH},
	{"realm", required_argument, NULL, O_REALM},
	{"min-expires", required_argument, NULL, O_MINEXP},
	{"max-expires", required_argument, NULL, O_MAXEXP},
	{"http", required_argument, NULL, O_HTTP},
	{"workers", required_argument, NULL, O_WORKERS},
	{"t1", required_argument, NULL, O_T1},
	{"t2", required_argument, NULL, O_T2},
	{"t4", required_argument, NULL, O_T4},
	{"verbose", no_argument, NULL, 'v'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int one(struct rd_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'c':
		o->given |= RD_G_CONFIG;
		o->config = arg;
		return 0;
	case O_CHECK:
		o->check_config = true;
		return 0;
	case 'l':
		if (o->nlisten == RD_MAX_LISTEN) {
			fprintf(stderr, "ringletd: at most %d --listen\n", RD_MAX_LISTEN);
			return 2;
		}
		if (listen_parse(arg, &o->listen[o->nlisten])) {
			fprintf(stderr,
				"ringletd: --listen wants PROTO:HOST[:PORT] with PROTO udp|tcp|tls|ws|wss "
				"and a numeric HOST, e.g. udp:127.0.0.1:5060 or tcp:[::1]:5060, not "
				"'%s'\n",
				arg);
			return 2;
		}
		o->nlisten++;
		return 0;
	case 'd':
		if (o->ndomain == RD_MAX_DOMAIN || !*arg) {
			fprintf(stderr, "ringletd: --domain wants a name (at most %d)\n",
				RD_MAX_DOMAIN);
			return 2;
		}
		o->domain[o->ndomain++] = arg;
		return 0;
	case O_STORE:
		if (strcmp(arg, "memory:") && strncmp(arg, "sqlite:", 7) &&
		    strncmp(arg, "redis://", 8)) {
			fprintf(stderr, "ringletd: --store wants memory:, sqlite:PATH or "
					"redis://HOST:PORT[/DB], not '%s'\n",
				arg);
			return 2;
		}
		o->given |= RD_G_STORE;
		o->store = arg;
		return 0;
	case O_ROUTE: {
		const char *eq = strchr(arg, '=');
		if (o->nroute == RD_MAX_ROUTE || !eq || eq == arg ||
		    (size_t)(eq - arg) >= sizeof(o->route[0].domain) || !eq[1] ||
		    strlen(eq + 1) >= sizeof(o->route[0].uri)) {
			fprintf(stderr, "ringletd: --route wants DOMAIN=URI, e.g. "
					"biloxi.example=sip:127.0.0.1:5070, not '%s'\n",
				arg);
			return 2;
		}
		o->given |= RD_G_ROUTE;
		struct rd_route *r = &o->route[o->nroute++];
		memcpy(r->domain, arg, (size_t)(eq - arg));
		r->domain[eq - arg] = 0;
		strcpy(r->uri, eq + 1);
		return 0;
	}
	case O_DNS:
		o->given |= RD_G_DNS;
		if (strcmp(arg, "off")) {
			enum tp_proto proto;
			struct tp_addr a;
			char spec[128];
			snprintf(spec, sizeof(spec), "udp:%s", arg);
			if (strlen(arg) > 100 || tp_listen_parse(spec, &proto, &a)) {
				fprintf(stderr, "ringletd: --dns wants HOST:PORT (numeric) or off, not "
						"'%s'\n",
					arg);
				return 2;
			}
		}
		o->dns = arg;
		return 0;
	case O_TRUST:
		if (o->ntrust == RD_MAX_TRUST) {
			fprintf(stderr, "ringletd: at most %d --trust\n", RD_MAX_TRUST);
			return 2;
		}
		o->given |= RD_G_TRUST;
		o->trust[o->ntrust++] = arg;
		return 0;
	case O_MODE:
		o->given |= RD_G_MODE;
		if (!strcmp(arg, "proxy"))
			o->mode = RD_MODE_PROXY;
		else if (!strcmp(arg, "redirect"))
			o->mode = RD_MODE_REDIRECT;
		else if (!strcmp(arg, "b2bua"))
			o->mode = RD_MODE_B2BUA;
		else {
			fprintf(stderr, "ringletd: --mode wants proxy, redirect or b2bua, not '%s'\n",
				arg);
			return 2;
		}
		return 0;
	case O_AUTH:
		if (strcmp(arg, "on") && strcmp(arg, "off")) {
			fprintf(stderr, "ringletd: --auth wants on or off, not '%s'\n", arg);
			return 2;
		}
		o->given |= RD_G_AUTH;
		o->auth = !strcmp(arg, "on");
		return 0;
	case O_REALM:
		o->given |= RD_G_REALM;
		o->realm = arg;
		return 0;
	case O_MINEXP:
		o->given |= RD_G_EXPIRES;
		return num("--min-expires", arg, 0, UINT32_MAX, &o->min_expires);
	case O_MAXEXP:
		o->given |= RD_G_EXPIRES;
		return num("--max-expires", arg, 1, UINT32_MAX, &o->max_expires);
	case O_HTTP:
		o->given |= RD_G_HTTP;
		o->http = arg;
		return 0;
	case O_WORKERS: {
		uint32_t w;
		int rc = num("--workers", arg, 1, 256, &w);
		o->workers = w;
		return rc;
	}
	case O_T1:
		return num("--t1", arg, 1, 60000, &o->t1);
	case O_T2:
		return num("--t2", arg, 1, 600000, &o->t2);
	case O_T4:
		return num("--t4", arg, 1, 600000, &o->t4);
	case 'v':
		if (o->log_level < 3)
			o->log_level++;
		return 0;
	case 'q':
		o->log_level = 0;
		return 0;
	default:
		return 2;
	}
}

int rd_opts_parse(struct rd_opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	o->store = "sqlite:ringlet.db";
	o->auth = true;
	o->min_expires = 60;
	o->max_expires = 7200;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	o->workers = n > 0 ? (unsigned)n : 1;
	o->t1 = 500;
	o->t2 = 4000;
	o->t4 = 5000;
	o->log_level = 1;

	int c;
	opterr = 0;
	optind = 1;
	/* '+': stop at the first non-option (the `user` sub-command) */
	while ((c = getopt_long(argc, argv, "+:c:l:d:vqh", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return -1;
		}
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];
			fprintf(stderr, "ringletd: %s '%s'; see ringletd --help\n",
				c == ':' ? "missing value for" : "unknown option", bad);
			return 2;
		}
		int rc = one(o, c, optarg);
		if (rc)
			return rc;
	}
	if (optind < argc) {
		if (!strcmp(argv[optind], "user")) {
			o->user_cmd = optind;
		} else {
			fprintf(stderr, "ringletd: unexpected argument '%s'; see ringletd --help\n",
				argv[optind]);
			return 2;
		}
	}
	if (o->min_expires > o->max_expires) {
		fprintf(stderr, "ringletd: --min-expires (%u) is above --max-expires (%u)\n",
			o->min_expires, o->max_expires);
		return 2;
	}
	if (o->nlisten == 0) {
		listen_parse("udp:127.0.0.1:5060", &o->listen[0]);
		listen_parse("tcp:127.0.0.1:5060", &o->listen[1]);
		o->nlisten = 2;
	}
	return 0;
}
