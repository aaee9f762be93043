/*
 * log.h - one line per event: `level module key=value ...` (STYLE.md §2
 * "Logging").
 *
 * Each .c file that logs defines its module name before including this
 * header (or at least before the first log call):
 *
 *	#define LOG_MODULE "tsx"
 *	#include "ringlet/log.h"
 *	...
 *	log_warn("event=timeout branch=%.*s", LOG_SPAN(buf, via.branch));
 *
 * prints `warn tsx event=timeout branch=z9hG4bK...`.  The level is checked
 * before the arguments are formatted.  Control characters in the formatted
 * text are escaped as \xHH, so a peer's bytes can never start a new line.
 *
 * Lines a peer can trigger (bad messages, unknown transactions) use the _rl
 * variants: at most LOG_RATE_PER_SEC lines per second per call site; the
 * first line in a later second is preceded by one `suppressed lines=K` line.
 * Whole messages never go to the log (use a trace hook).
 */
#ifndef RINGLET_LOG_H
#define RINGLET_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum log_level {
	LOG_LEVEL_ERR = 0,
	LOG_LEVEL_WARN = 1,
	LOG_LEVEL_INFO = 2,
	LOG_LEVEL_DEBUG = 3,
};

/* Lines per second per call site of the _rl macros. */
#ifndef LOG_RATE_PER_SEC
#define LOG_RATE_PER_SEC 10u
#endif

/* Longest line written, newline included; longer text is cut and ends in "...". */
#define LOG_LINE_MAX 1024

/* Receives each finished line (ending in '\n'; len counts it). */
typedef void log_sink_fn(void *arg, enum log_level level, const char *line, size_t len);

/* Log only lines at `level` or more severe (default LOG_LEVEL_WARN).  Thread-safe. */
void log_set_level(enum log_level level);
/* The current level. */
enum log_level log_get_level(void);
/* True if a line at `level` would be written. */
bool log_enabled(enum log_level level);
/* Write lines to f (NULL: stderr, the default).  Replaces any sink.  Thread-safe. */
void log_set_output(FILE *f);
/* Hand lines to fn(arg, ...) instead of a FILE (NULL: back to stderr).  Thread-safe. */
void log_set_sink(log_sink_fn *fn, void *arg);

/* Format and write one line now, whatever the level.  Use the macros below instead. */
void log_emit(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Printf arguments for a span: log_info("x=%.*s", LOG_SPAN(buf, s)). */
#define LOG_SPAN(buf, s) (int)(s).len, (buf) + (s).off

#define LOG_AT(level, ...)                                                                         \
	do {                                                                                       \
		if (log_enabled(level))                                                            \
			log_emit(level, LOG_MODULE, __VA_ARGS__);                                  \
	} while (0)

#define log_err(...) LOG_AT(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...) LOG_AT(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) LOG_AT(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) LOG_AT(LOG_LEVEL_DEBUG, __VA_ARGS__)

/*
 * Rate-limit state of one call site.  The _rl macros declare one as a
 * function-local static: per-call-site state is what the limit means, and
 * its fields are atomic so worker threads may share the site.
 */
struct log_rate {
	_Atomic uint64_t window; /* second of the current window, plus 1 (0: none yet) */
	_Atomic uint32_t count;	 /* lines passed or refused in the window */
	_Atomic uint32_t suppressed;
};

/*
 * Rate-limit decision for second now_s: true if the line may be written.
 * When a new window opens, *suppressed gets the number of lines refused in
 * the previous windows (else 0).  Pure apart from r; for tests and the macros.
 */
bool log_rate_check(struct log_rate *r, uint64_t now_s, uint32_t limit, uint32_t *suppressed);

/* log_rate_check on the current second; writes the "suppressed" line itself. */
bool log_rate_pass(struct log_rate *r, enum log_level level, const char *module);

#define LOG_AT_RL(level, ...)                                                                      \
	do {                                                                                       \
		static struct log_rate log_rate_site_;                                             \
		if (log_enabled(level) && log_rate_pass(&log_rate_site_, level, LOG_MODULE))       \
			log_emit(level, LOG_MODULE, __VA_ARGS__);                                  \
	} while (0)

#define log_err_rl(...) LOG_AT_RL(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn_rl(...) LOG_AT_RL(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info_rl(...) LOG_AT_RL(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug_rl(...) LOG_AT_RL(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
