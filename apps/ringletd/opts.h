/*
 * opts.h - ringletd's settings: defaults, then the config file, then flags
 * (flags win).  The interface is DESIGN.md's flag list.
 */
#ifndef RINGLETD_OPTS_H
#define RINGLETD_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "ringlet/tp.h"

#define RD_MAX_LISTEN 16
#define RD_MAX_DOMAIN 64
#define RD_MAX_ROUTE 64
#define RD_MAX_TRUST 64

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
	const char *config;
	bool check_config;
	struct rd_listen listen[RD_MAX_LISTEN];
	unsigned nlisten;
	const char *domain[RD_MAX_DOMAIN];
	unsigned ndomain;
	const char *store;
	struct rd_route route[RD_MAX_ROUTE];
	unsigned nroute;
	const char *dns; /* "off", "HOST:PORT", or NULL: the system's */
	const char *trust[RD_MAX_TRUST];
	unsigned ntrust;
	enum rd_mode mode;
	bool auth;
	const char *realm;
	uint32_t min_expires;
	uint32_t max_expires;
	const char *http;
	unsigned workers;
	uint32_t t1, t2, t4; /* ms */
	int log_level;       /* 0 err .. 3 debug */
	/* `ringletd user add|del|list ...`: index of "user" in argv, or 0 */
	int user_cmd;
	uint32_t given; /* RD_G_*: flags set on the command line */
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
 * Parse argv into *o (defaults first).  Returns 0; or 2 after printing a
 * one-line reason on stderr (bad usage); or -1 when --help/--version printed
 * and the program should exit 0.
 */
int rd_opts_parse(struct rd_opts *o, int argc, char **argv);


#endif
