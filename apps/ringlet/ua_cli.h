/*
 * ua_cli.h - what the UA verbs (register, call, answer, message, options)
 * share: their options, the loop and UA they run, and the event output
 * (one line per event, --json, -v ladder).
 */
#ifndef RINGLET_APP_UA_CLI_H
#define RINGLET_APP_UA_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "ringlet/loop.h"
#include "ringlet/ua.h"

enum cli_verb {
	CLI_REGISTER = 1,
	CLI_CALL,
	CLI_ANSWER,
	CLI_MESSAGE,
	CLI_OPTIONS,
};

struct cli {
	enum cli_verb verb;
	/* options */
	const char *listen, *user, *password, *proxy, *dns;
	bool verbose, json;
	unsigned expires;
	const char *play, *record;
	uint64_t duration_ms, ring_ms, hold_after_ms, hold_for_ms;
	unsigned reject, count;
	unsigned t1;
	const char *target, *text; /* positional arguments */
	/* run time */
	struct loop *loop;
	struct ua *ua;
	int sigfd;
	int exit_code;
	bool stopping;	      /* wind-down started (un-REGISTER, CANCEL, BYE) */
	bool registered;      /* a REGISTER succeeded at least once */
	bool answered;	      /* a call was answered */
	unsigned ended;	      /* calls ended */
	struct ua_call *call; /* the call now (borrowed until its UA_EV_ENDED) */
	bool reg_active;      /* registered or registering (un-REGISTER due at the end) */
	bool held;	      /* our hold is on */
	loop_ms start;
	struct loop_timer t_duration, t_hold, t_guard;
};

/* Run the verb: returns the exit status. */
int cli_run(struct cli *c);

/*
 * Parse argv (argv[0] is the verb) into c.  Returns 0, or 2 after printing
 * a one-line reason on stderr (bad usage), or -1 when --help was printed.
 */
int cli_parse(struct cli *c, enum cli_verb verb, int argc, char **argv);

/* Create the loop, signal watch and UA.  Returns 0 or an exit status (message printed). */
int cli_setup(struct cli *c);

/* Free what cli_setup made. */
void cli_teardown(struct cli *c);

/* The UA's event callback: prints the event, then calls cli_on_event (cmd_ua.c). */
void cli_event(const struct ua_event *ev, void *arg);

/* The verb's reaction to an event (cmd_ua.c). */
void cli_on_event(struct cli *c, const struct ua_event *ev);
/* SIGINT / SIGTERM arrived (cmd_ua.c). */
void cli_on_signal(struct cli *c);

/* End the run with status st: the loop stops after this iteration. */
void cli_finish(struct cli *c, int st);

#endif
