/*
 * ringlet.h - the user agent program: one verb per task (DESIGN.md).
 */
#ifndef RINGLET_APP_H
#define RINGLET_APP_H

/* Exit statuses shared by every verb. */
#define EXIT_OK 0
#define EXIT_FAIL 1  /* the task failed (malformed message, call not answered ...) */
#define EXIT_USAGE 2 /* bad usage or unreadable input */

/* `ringlet parse [FILE|-]`: argv[0] is "parse". */
int cmd_parse(int argc, char **argv);

/* The UA verbs (cmd_ua.c): argv[0] is the verb. */
int cmd_register(int argc, char **argv);
int cmd_call(int argc, char **argv);
int cmd_answer(int argc, char **argv);
int cmd_message(int argc, char **argv);
int cmd_options(int argc, char **argv);

#endif
