/*
 * cmd_ua.c - the UA verbs: `ringlet register`, `call`, `answer`,
 * `message`, `options` (DESIGN.md "ringlet").  Each starts its task on the
 * UA, reacts to the UA's events, and winds down on SIGINT/SIGTERM (CANCEL
 * or BYE, un-REGISTER) within a bounded time.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ringlet.h"
#include "ua_cli.h"

#define GUARD_MS 5000u /* the longest wind-down (CANCEL's 487, BYE's 200, un-REGISTER) */

static void guard_fire(void *arg)
{
	struct cli *c = arg;

	fprintf(stderr, "ringlet: gave up waiting after %u ms\n", GUARD_MS);
	cli_finish(c, c->verb == CLI_CALL || !c->exit_code ? EXIT_FAIL : c->exit_code);
}

static void arm_guard(struct cli *c)
{
	if (!loop_timer_pending(&c->t_guard))
		loop_timer_start(c->loop, &c->t_guard, GUARD_MS, guard_fire, c);
}

/*
 * register / answer: end the calls, then the registration, then the run.
 * Called again by each event that completes a step.
 */
static void wind_down(struct cli *c)
{
	c->stopping = true;
	arm_guard(c);
	if (c->call) {
		ua_hangup(c->call, 480);
		return;
	}
	if (c->reg_active && ua_unregister(c->ua) == 0)
		return;
	cli_finish(c, c->verb == CLI_REGISTER && !c->registered ? EXIT_FAIL : EXIT_OK);
}

static void duration_fire(void *arg)
{
	struct cli *c = arg;

	if (c->call)
		ua_hangup(c->call, 0);
}

static void hold_fire(void *arg)
{
	struct cli *c = arg;

	if (!c->call)
		return;
	int err = ua_hold(c->call, !c->held);
	if (err) {
		fprintf(stderr, "ringlet: re-INVITE failed: %s\n", strerror(err));
		return;
	}
	c->held = !c->held;
	if (c->held && c->hold_for_ms)
		loop_timer_start(c->loop, &c->t_hold, c->hold_for_ms, hold_fire, c);
}

static void call_event(struct cli *c, const struct ua_event *ev)
{
	switch (ev->type) {
	case UA_EV_INCOMING:
		c->call = ev->call;
		if (c->stopping)
			ua_hangup(c->call, 480);
		break;
	case UA_EV_ANSWERED:
		c->answered = true;
		if (c->duration_ms)
			loop_timer_start(c->loop, &c->t_duration, c->duration_ms, duration_fire, c);
		if (c->hold_after_ms)
			loop_timer_start(c->loop, &c->t_hold, c->hold_after_ms, hold_fire, c);
		break;
	case UA_EV_ENDED:
		loop_timer_cancel(&c->t_duration);
		loop_timer_cancel(&c->t_hold);
		c->held = false;
		c->call = NULL;
		c->ended++;
		if (c->verb == CLI_CALL)
			cli_finish(c, ev->answered && ev->code >= 200 && ev->code < 300
					  ? EXIT_OK
					  : EXIT_FAIL);
		else if (c->stopping || (c->count && c->ended >= c->count))
			wind_down(c);
		break;
	default:
		break;
	}
}

void cli_on_event(struct cli *c, const struct ua_event *ev)
{
	switch (ev->type) {
	case UA_EV_REGISTERED:
		c->registered = true;
		break;
	case UA_EV_REG_FAILED:
		if (!c->registered) {
			c->reg_active = false;
			if (c->verb == CLI_REGISTER || c->verb == CLI_ANSWER)
				cli_finish(c, EXIT_FAIL);
		}
		break;
	case UA_EV_UNREGISTERED:
		c->reg_active = false;
		if (c->stopping)
			wind_down(c);
		break;
	case UA_EV_RESPONSE:
		if (c->verb == CLI_MESSAGE || c->verb == CLI_OPTIONS)
			cli_finish(c, ev->code >= 200 && ev->code < 300 ? EXIT_OK : EXIT_FAIL);
		break;
	default:
		call_event(c, ev);
	}
}

void cli_on_signal(struct cli *c)
{
	if (c->stopping) {
		cli_finish(c, EXIT_FAIL); /* a second Ctrl-C: leave now */
		return;
	}
	switch (c->verb) {
	case CLI_CALL:
		c->stopping = true;
		arm_guard(c);
		if (!c->call || ua_hangup(c->call, 0))
			cli_finish(c, EXIT_FAIL);
		break;
	case CLI_REGISTER:
	case CLI_ANSWER:
		wind_down(c);
		break;
	default:
		cli_finish(c, EXIT_FAIL);
	}
}

/* Start the verb's task; 0 or an exit status (message printed). */
static int start(struct cli *c)
{
	struct ua_media_conf mc = {.play = c->play, .record = c->record};
	int err = 0;

	switch (c->verb) {
	case CLI_REGISTER:
		err = ua_register(c->ua);
		c->reg_active = err == 0;
		break;
	case CLI_ANSWER: {
		struct ua_answer_conf ac = {.enabled = true,
					    .ring_ms = (unsigned)c->ring_ms,
					    .reject = c->reject,
					    .media = mc};
		err = ua_set_answer(c->ua, &ac);
		if (!err && c->user) {
			err = ua_register(c->ua);
			c->reg_active = err == 0;
		}
		if (!err)
			printf("ready %s\n", ua_aor(c->ua));
		fflush(stdout);
		break;
	}
	case CLI_CALL:
		err = ua_call(c->ua, c->target, &mc, &c->call);
		break;
	case CLI_MESSAGE:
		err = ua_message(c->ua, c->target, c->text);
		break;
	case CLI_OPTIONS:
		err = ua_options(c->ua, c->target);
		break;
	}
	if (!err)
		return 0;
	fprintf(stderr, "ringlet: %s\n", err == EINVAL ? "bad URI" : strerror(err));
	if (c->verb == CLI_CALL)
		printf("call failed: %s\n", strerror(err));
	return err == EINVAL ? EXIT_USAGE : EXIT_FAIL;
}

int cli_run(struct cli *c)
{
	int st = cli_setup(c);

	if (!st)
		st = start(c);
	if (!st) {
		c->exit_code = EXIT_OK;
		int err = loop_run(c->loop);
		st = err ? EXIT_FAIL : c->exit_code;
	}
	fflush(stdout);
	if (c->loop)
		cli_teardown(c);
	return st;
}

static int verb(enum cli_verb v, int argc, char **argv)
{
	struct cli c;
	int rc = cli_parse(&c, v, argc, argv);

	if (rc < 0)
		return EXIT_OK;
	if (rc)
		return EXIT_USAGE;
	return cli_run(&c);
}

int cmd_register(int argc, char **argv)
{
	return verb(CLI_REGISTER, argc, argv);
}

int cmd_call(int argc, char **argv)
{
	return verb(CLI_CALL, argc, argv);
}

int cmd_answer(int argc, char **argv)
{
	return verb(CLI_ANSWER, argc, argv);
}

int cmd_message(int argc, char **argv)
{
	return verb(CLI_MESSAGE, argc, argv);
}

int cmd_options(int argc, char **argv)
{
	return verb(CLI_OPTIONS, argc, argv);
}
