/*
 * main.c - `ringlet VERB ...`: dispatch to the verb.
 */
#include <stdio.h>
#include <string.h>

#include "ringlet.h"

struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct verb verbs[] = {
	{"parse", cmd_parse, "parse [FILE|-]   check one SIP message, print it as JSON"},
	{"register", cmd_register, "register --user AOR   register and stay registered until Ctrl-C"},
	{"call", cmd_call, "call URI         call, with audio from/to WAV files"},
	{"answer", cmd_answer, "answer           answer incoming calls (registers with --user)"},
	{"message", cmd_message, "message URI TEXT send an instant message (RFC 3428)"},
	{"options", cmd_options, "options URI      ask what a SIP entity supports"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ringlet VERB [OPTIONS] [ARGS]\n\nverbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %s\n", verbs[i].help);
	fprintf(f, "\n`ringlet VERB --help` shows a verb's options\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].run(argc - 1, argv + 1);
	fprintf(stderr, "ringlet: unknown verb '%s'; `ringlet --help` lists the verbs\n", argv[1]);
	return EXIT_USAGE;
}
