/*
 * ua_cli.c - the UA verbs' shared half: options (DESIGN.md "ringlet"),
 * the loop with SIGINT/SIGTERM through a signalfd, the UA, and the output:
 * one line per event on stdout (or one JSON object with --json), and with
 * -v the message ladder on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "json.h"
#include "ringlet.h"
#include "ringlet/tp.h"
#include "ua_cli.h"

enum {
	O_USER = 256,
	O_PASSWORD,
	O_PROXY,
	O_JSON,
	O_EXPIRES,
	O_PLAY,
	O_RECORD,
	O_DURATION,
	O_RING,
	O_REJECT,
	O_COUNT,
	O_HOLD_AFTER,
	O_HOLD_FOR,
	O_T1,
	O_DNS,
	O_HELP,
};

static const struct option long_opts[] = {
    {"listen", required_argument, NULL, 'l'},
    {"user", required_argument, NULL, O_USER},
    {"password", required_argument, NULL, O_PASSWORD},
    {"proxy", required_argument, NULL, O_PROXY},
    {"verbose", no_argument, NULL, 'v'},
    {"json", no_argument, NULL, O_JSON},
    {"expires", required_argument, NULL, O_EXPIRES},
    {"play", required_argument, NULL, O_PLAY},
    {"record", required_argument, NULL, O_RECORD},
    {"duration", required_argument, NULL, O_DURATION},
    {"ring", required_argument, NULL, O_RING},
    {"reject", required_argument, NULL, O_REJECT},
    {"count", required_argument, NULL, O_COUNT},
    {"hold-after", required_argument, NULL, O_HOLD_AFTER},
    {"hold-for", required_argument, NULL, O_HOLD_FOR},
    {"t1", required_argument, NULL, O_T1},
    {"dns", required_argument, NULL, O_DNS},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

/* Which verbs take which verb-specific option (the common ones go everywhere). */
struct verb_opt {
	int opt;
	unsigned verbs; /* 1 << enum cli_verb */
};
#define V(x) (1u << (x))
static const struct verb_opt verb_opts[] = {
    {O_EXPIRES, V(CLI_REGISTER) | V(CLI_ANSWER)},
    {O_PLAY, V(CLI_CALL) | V(CLI_ANSWER)},
    {O_RECORD, V(CLI_CALL) | V(CLI_ANSWER)},
    {O_DURATION, V(CLI_CALL) | V(CLI_ANSWER)},
    {O_HOLD_AFTER, V(CLI_CALL) | V(CLI_ANSWER)},
    {O_HOLD_FOR, V(CLI_CALL) | V(CLI_ANSWER)},
    {O_RING, V(CLI_ANSWER)},
    {O_REJECT, V(CLI_ANSWER)},
    {O_COUNT, V(CLI_ANSWER)},
};

static const char *const verb_names[] = {"", "register", "call", "answer", "message", "options"};

static const char *const verb_usage[] = {
    "",
    "register [--expires S]\n"
    "  --expires S: the registration asked for, 1..2147483647 s (default 3600); it is\n"
    "  refreshed until ringlet stops, which removes it (there is no --expires 0)",
    "call URI [--play WAV] [--record WAV] [--duration S] [--hold-after S [--hold-for S]]",
    "answer [--play WAV] [--record WAV] [--ring S] [--reject CODE] [--count N]\n"
    "                      [--duration S] [--hold-after S [--hold-for S]] [--expires S]\n"
    "  --expires S (with --user): as for register, 1..2147483647 s, default 3600",
    "message URI TEXT",
    "options URI",
};

static void usage(FILE *f, enum cli_verb v)
{
	fprintf(f,
		"usage: ringlet %s\n"
		"common options: -l, --listen PROTO:HOST:PORT (default udp:127.0.0.1:0)\n"
		"  --user AOR  --password PW (or RINGLET_PASSWORD)  --proxy URI\n"
		"  -v (message ladder on stderr)  --json (one JSON object per event)\n"
		"  --dns HOST:PORT|off (RFC 3263 resolver for host names; default the system's)\n"
		"  --t1 MS (RFC 3261 T1, default 500)\n",
		verb_usage[v]);
}

/* Seconds (decimals allowed) to ms; false when not a number in 0..86400. */
static bool parse_secs(const char *s, uint64_t *ms)
{
	char *end;
	double d = strtod(s, &end);

	if (end == s || *end || !(d >= 0 && d <= 86400))
		return false;
	*ms = (uint64_t)llround(d * 1000);
	return true;
}

static bool parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *end || v < lo || v > hi)
		return false;
	*out = (unsigned)v;
	return true;
}

static bool allowed(enum cli_verb v, int opt)
{
	for (size_t i = 0; i < sizeof(verb_opts) / sizeof(verb_opts[0]); i++)
		if (verb_opts[i].opt == opt)
			return verb_opts[i].verbs & V(v);
	return true;
}

/* One option's value into c; false (message printed) when it is bad. */
static bool take(struct cli *c, int o, const char *a)
{
	bool ok = true;

	switch (o) {
	case 'l':
		c->listen = a;
		break;
	case O_USER:
		c->user = a;
		break;
	case O_PASSWORD:
		c->password = a;
		break;
	case O_PROXY:
		c->proxy = a;
		break;
	case 'v':
		c->verbose = true;
		break;
	case O_JSON:
		c->json = true;
		break;
	case O_EXPIRES:
		/* 0 would mean "remove the binding at once" (§10.2.2), not "the default":
		 * a registration of 0 s is refused rather than silently made 3600 s */
		ok = parse_uint(a, 1, 0x7fffffff, &c->expires);
		if (!ok && parse_uint(a, 0, 0, &c->expires)) {
			fprintf(stderr,
				"ringlet %s: --expires 0 is not a registration: give 1 or more "
				"seconds (ringlet removes its binding when it stops)\n",
				verb_names[c->verb]);
			return false;
		}
		break;
	case O_PLAY:
		c->play = a;
		break;
	case O_RECORD:
		c->record = a;
		break;
	case O_DURATION:
		ok = parse_secs(a, &c->duration_ms);
		break;
	case O_RING:
		ok = parse_secs(a, &c->ring_ms);
		break;
	case O_REJECT:
		ok = parse_uint(a, 300, 699, &c->reject);
		break;
	case O_COUNT:
		ok = parse_uint(a, 1, 1000000, &c->count);
		break;
	case O_HOLD_AFTER:
		ok = parse_secs(a, &c->hold_after_ms);
		break;
	case O_HOLD_FOR:
		ok = parse_secs(a, &c->hold_for_ms);
		break;
	case O_T1:
		ok = parse_uint(a, 10, 10000, &c->t1);
		break;
	case O_DNS:
		c->dns = a;
		break;
	}
	if (!ok) {
		const char *name = "?";
		for (size_t i = 0; long_opts[i].name; i++)
			if (long_opts[i].val == o)
				name = long_opts[i].name;
		fprintf(stderr, "ringlet %s: bad value '%s' for --%s\n", verb_names[c->verb], a,
			name);
	}
	return ok;
}

int cli_parse(struct cli *c, enum cli_verb verb, int argc, char **argv)
{
	int o;

	memset(c, 0, sizeof(*c));
	c->verb = verb;
	c->sigfd = -1;
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "l:v", long_opts, NULL)) != -1) {
		if (o == O_HELP) {
			usage(stdout, verb);
			return -1;
		}
		if (o == '?' || o == ':') {
			fprintf(stderr, "ringlet %s: unknown option or missing value '%s'\n",
				verb_names[verb], argv[optind - 1]);
			usage(stderr, verb);
			return 2;
		}
		if (!allowed(verb, o)) {
			fprintf(stderr, "ringlet %s: option '%s' is not for this verb\n",
				verb_names[verb], argv[optind - 1]);
			usage(stderr, verb);
			return 2;
		}
		if (!take(c, o, optarg))
			return 2;
	}
	int want = verb == CLI_MESSAGE ? 2 : (verb == CLI_CALL || verb == CLI_OPTIONS) ? 1 : 0;
	if (argc - optind != want) {
		fprintf(stderr, "ringlet %s: expected %d argument%s\n", verb_names[verb], want,
			want == 1 ? "" : "s");
		usage(stderr, verb);
		return 2;
	}
	c->target = want ? argv[optind] : NULL;
	c->text = want == 2 ? argv[optind + 1] : NULL;
	if (!c->password)
		c->password = getenv("RINGLET_PASSWORD");
	if (verb == CLI_REGISTER && !c->user) {
		fprintf(stderr, "ringlet register: --user AOR is required\n");
		return 2;
	}
	return 0;
}

static void on_signal(int fd, unsigned events, void *arg)
{
	struct cli *c = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		cli_on_signal(c);
}

int cli_setup(struct cli *c)
{
	struct ua_conf conf = {.aor = c->user,
			       .password = c->password,
			       .proxy = c->proxy,
			       .expires = c->expires,
			       .event = cli_event,
			       .arg = c,
			       .dns = c->dns ? c->dns : ""};
	sigset_t set;
	int err;

	conf.tsx.t1 = c->t1;
	if (c->listen) {
		enum tp_proto p;
		if (tp_listen_parse(c->listen, &p, &conf.listen) || (p != TP_UDP && p != TP_TCP)) {
			fprintf(stderr, "ringlet %s: bad --listen '%s' (udp|tcp:HOST[:PORT])\n",
				verb_names[c->verb], c->listen);
			return EXIT_USAGE;
		}
		conf.proto = (uint8_t)p;
		/* a listen spec without a port means "any port" here, not 5060 */
		if (!strchr(strchr(c->listen, ':') + 1, ':') ||
		    (strchr(c->listen, ']') && !strstr(c->listen, "]:")))
			conf.listen.u.in.sin_port = 0;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	err = loop_alloc(&c->loop, LOOP_CLOCK_MONOTONIC);
	if (!err) {
		c->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
		err = c->sigfd < 0 ? errno : loop_fd_add(c->loop, c->sigfd, LOOP_IN, on_signal, c);
	}
	if (err) {
		fprintf(stderr, "ringlet %s: cannot start: %s\n", verb_names[c->verb],
			strerror(err));
		return EXIT_FAIL;
	}
	c->start = loop_now(c->loop);
	loop_timer_init(&c->t_duration);
	loop_timer_init(&c->t_hold);
	loop_timer_init(&c->t_guard);
	err = ua_alloc(&c->ua, c->loop, &conf);
	if (err) {
		fprintf(stderr, "ringlet %s: cannot start the user agent: %s%s\n",
			verb_names[c->verb], strerror(err),
			err == EINVAL ? " (check --user, --proxy, --password, --dns)" : "");
		return err == EINVAL ? EXIT_USAGE : EXIT_FAIL;
	}
	return 0;
}

void cli_teardown(struct cli *c)
{
	loop_timer_cancel(&c->t_duration);
	loop_timer_cancel(&c->t_hold);
	loop_timer_cancel(&c->t_guard);
	ua_free(c->ua);
	if (c->sigfd >= 0) {
		loop_fd_del(c->loop, c->sigfd);
		close(c->sigfd);
	}
	loop_free(c->loop);
}

void cli_finish(struct cli *c, int st)
{
	c->exit_code = st;
	loop_stop(c->loop);
}

/* ---- output ---- */

static const char *const ev_names[] = {
    "",
    "sent",
    "received",
    "registered",
    "binding",
    "unregistered",
    "registration-failed",
    "response",
    "message",
    "incoming",
    "progress",
    "redirect",
    "answered",
    "media-direction",
    "ended",
    "media",
};

static const char *s_(const char *s)
{
	return s ? s : "";
}

static void ladder(struct cli *c, const struct ua_event *ev)
{
	char peer[96], addr[64], line[512];

	tp_addr_str(&ev->peer, addr, sizeof(addr));
	snprintf(peer, sizeof(peer), "%s/%s", addr, tp_proto_name((enum tp_proto)ev->proto));
	ua_ladder_line(line, sizeof(line), ev->type == UA_EV_SENT, ev->data, ev->len, peer,
		       ev->at - c->start);
	fprintf(stderr, "%s\n", line);
}

static void json_event(struct cli *c, const struct ua_event *ev)
{
	struct json j;

	json_init(&j, stdout, false);
	json_obj_begin(&j, NULL);
	json_str(&j, "event", ev_names[ev->type]);
	json_int(&j, "t_ms", (int64_t)(ev->at - c->start));
	if (ev->call_no)
		json_int(&j, "call", ev->call_no);
	if (ev->code || ev->type == UA_EV_ENDED)
		json_int(&j, "code", ev->code);
	if (ev->reason)
		json_str(&j, "reason", ev->reason);
	if (ev->uri)
		json_str(&j, "uri", ev->uri);
	if (ev->text)
		json_str(&j, ev->type == UA_EV_RESPONSE ? "method" : "text", ev->text);
	if (ev->type == UA_EV_REGISTERED || ev->type == UA_EV_BINDING)
		json_int(&j, "expires", ev->expires);
	if (ev->type == UA_EV_ENDED)
		json_bool(&j, "answered", ev->answered);
	if (ev->allow) {
		json_str(&j, "allow", ev->allow);
		json_str(&j, "accept", s_(ev->accept));
		json_str(&j, "supported", s_(ev->supported));
	}
	if (ev->type == UA_EV_MEDIA) {
		json_int(&j, "sent", (int64_t)ev->stats.sent);
		json_int(&j, "received", (int64_t)ev->stats.received);
		json_int(&j, "lost", ev->stats.lost);
		json_int(&j, "jitter_us", (int64_t)(ev->stats.jitter_ms * 1000));
	}
	json_obj_end(&j);
	json_end(&j);
}

static void text_ended(const struct ua_event *ev)
{
	if (ev->answered && ev->code && (ev->code < 200 || ev->code >= 300))
		printf("ended: %s (%u %s)\n", s_(ev->text), ev->code, s_(ev->reason));
	else if (ev->answered)
		printf("ended: %s\n", s_(ev->text));
	else if (!ev->outgoing)
		printf("call ended: %s (%u %s)\n", s_(ev->text), ev->code, s_(ev->reason));
	else if (ev->code)
		printf("call failed: %u %s%s\n", ev->code, s_(ev->reason),
		       ev->text && !strcmp(ev->text, "cancelled") ? " (cancelled)" : "");
	else
		printf("call failed: %s\n", s_(ev->text));
}

static void text_event(const struct ua_event *ev)
{
	switch (ev->type) {
	case UA_EV_REGISTERED:
		printf("registered %s expires=%u\n", s_(ev->uri), ev->expires);
		break;
	case UA_EV_BINDING:
		printf("binding %s expires=%u\n", s_(ev->uri), ev->expires);
		break;
	case UA_EV_UNREGISTERED:
		if (ev->code >= 200 && ev->code < 300)
			printf("unregistered %s\n", s_(ev->uri));
		else
			printf("unregister failed: %u %s\n", ev->code, s_(ev->reason));
		break;
	case UA_EV_REG_FAILED:
		printf("registration failed: %u %s\n", ev->code, s_(ev->reason));
		break;
	case UA_EV_RESPONSE:
		if (ev->allow) {
			printf("%u %s\n", ev->code, s_(ev->reason));
			if (ev->allow[0])
				printf("Allow: %s\n", ev->allow);
			if (ev->accept && ev->accept[0])
				printf("Accept: %s\n", ev->accept);
			if (ev->supported && ev->supported[0])
				printf("Supported: %s\n", ev->supported);
		} else {
			printf("message %s: %u %s\n",
			       ev->code >= 200 && ev->code < 300 ? "delivered" : "failed", ev->code,
			       s_(ev->reason));
		}
		break;
	case UA_EV_MESSAGE:
		printf("message from %s: %s\n", s_(ev->uri), s_(ev->text));
		break;
	case UA_EV_INCOMING:
		printf("incoming call from %s\n", s_(ev->uri));
		break;
	case UA_EV_PROGRESS:
		printf("%u %s\n", ev->code, s_(ev->reason));
		break;
	case UA_EV_REDIRECT:
		printf("redirected (%u) to %s\n", ev->code, s_(ev->uri));
		break;
	case UA_EV_ANSWERED:
		printf("answered %s\n", s_(ev->text));
		break;
	case UA_EV_HOLD:
		printf("%s: %s\n", ev->code ? "remote changed media" : "media changed",
		       s_(ev->text));
		break;
	case UA_EV_MEDIA:
		printf("media: sent=%llu received=%llu lost=%lld jitter=%.1fms\n",
		       (unsigned long long)ev->stats.sent, (unsigned long long)ev->stats.received,
		       (long long)ev->stats.lost, ev->stats.jitter_ms);
		break;
	case UA_EV_ENDED:
		text_ended(ev);
		break;
	default:
		break;
	}
}

void cli_event(const struct ua_event *ev, void *arg)
{
	struct cli *c = arg;

	if (ev->type == UA_EV_SENT || ev->type == UA_EV_RECEIVED) {
		if (c->verbose)
			ladder(c, ev);
		return;
	}
	if (c->json)
		json_event(c, ev);
	else
		text_event(ev);
	fflush(stdout);
	cli_on_event(c, ev);
}
