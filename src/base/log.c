/*
 * log.c - the process-wide logger.
 *
 * This file holds the only logger state of the process, on purpose: every
 * module logs through macros that take no context argument (passing a logger
 * down every call path of a SIP stack would touch every signature for no
 * gain), and worker threads share one output.  The state is therefore one
 * static struct, private to this file: the level is atomic (read on every
 * log call without a lock) and the output is guarded by a mutex, which also
 * keeps each line whole when threads log at once.
 */
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "ringlet/log.h"

static struct {
	pthread_mutex_t lock;
	_Atomic int level;
	FILE *out; /* NULL: stderr */
	log_sink_fn *sink;
	void *sink_arg;
} logger = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .level = LOG_LEVEL_WARN,
};

static const char *const level_names[] = {"err", "warn", "info", "debug"};

void log_set_level(enum log_level level)
{
	if (level < LOG_LEVEL_ERR)
		level = LOG_LEVEL_ERR;
	if (level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_DEBUG;
	atomic_store_explicit(&logger.level, (int)level, memory_order_relaxed);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load_explicit(&logger.level, memory_order_relaxed);
}

bool log_enabled(enum log_level level)
{
	return (int)level <= atomic_load_explicit(&logger.level, memory_order_relaxed);
}

void log_set_output(FILE *f)
{
	pthread_mutex_lock(&logger.lock);
	logger.out = f;
	logger.sink = NULL;
	logger.sink_arg = NULL;
	pthread_mutex_unlock(&logger.lock);
}

void log_set_sink(log_sink_fn *fn, void *arg)
{
	pthread_mutex_lock(&logger.lock);
	logger.sink = fn;
	logger.sink_arg = arg;
	pthread_mutex_unlock(&logger.lock);
}

static void write_line(enum log_level level, const char *line, size_t len)
{
	pthread_mutex_lock(&logger.lock);
	if (logger.sink)
		logger.sink(logger.sink_arg, level, line, len);
	else
		fwrite(line, 1, len, logger.out ? logger.out : stderr);
	pthread_mutex_unlock(&logger.lock);
}

/*
 * Copy text into line[pos..] escaping control bytes as \xHH.  Stops before
 * `limit`; returns the new position and sets *cut if text did not fit.
 */
static size_t append_escaped(char *line, size_t pos, size_t limit, const char *text, bool *cut)
{
	static const char hex[] = "0123456789abcdef";

	for (const unsigned char *s = (const unsigned char *)text; *s; s++) {
		bool ctl = *s < 0x20 || *s == 0x7f;

		if (pos + (ctl ? 4 : 1) > limit) {
			*cut = true;
			break;
		}
		if (ctl) {
			line[pos++] = '\\';
			line[pos++] = 'x';
			line[pos++] = hex[*s >> 4];
			line[pos++] = hex[*s & 15];
		} else {
			line[pos++] = (char)*s;
		}
	}
	return pos;
}

void log_emit(enum log_level level, const char *module, const char *fmt, ...)
{
	char text[LOG_LINE_MAX], line[LOG_LINE_MAX];
	const size_t limit = LOG_LINE_MAX - 4; /* room for "...\n" */
	bool cut = false;
	va_list ap;
	size_t pos;
	int n;

	if ((unsigned)level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_DEBUG;
	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		strcpy(text, "log=format_error");
	else if ((size_t)n >= sizeof(text))
		cut = true;
	n = snprintf(line, limit, "%s %s ", level_names[level], module ? module : "-");
	pos = n > 0 && (size_t)n < limit ? (size_t)n : 0;
	pos = append_escaped(line, pos, limit, text, &cut);
	if (cut) {
		memcpy(line + pos, "...", 3);
		pos += 3;
	}
	line[pos++] = '\n';
	write_line(level, line, pos);
}

bool log_rate_check(struct log_rate *r, uint64_t now_s, uint32_t limit, uint32_t *suppressed)
{
	uint64_t w = atomic_load_explicit(&r->window, memory_order_relaxed);

	*suppressed = 0;
	if (w != now_s + 1 &&
	    atomic_compare_exchange_strong_explicit(&r->window, &w, now_s + 1, memory_order_relaxed,
						    memory_order_relaxed)) {
		*suppressed = atomic_exchange_explicit(&r->suppressed, 0, memory_order_relaxed);
		atomic_store_explicit(&r->count, 0, memory_order_relaxed);
	}
	if (atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed) < limit)
		return true;
	atomic_fetch_add_explicit(&r->suppressed, 1, memory_order_relaxed);
	return false;
}

bool log_rate_pass(struct log_rate *r, enum log_level level, const char *module)
{
	struct timespec ts;
	uint32_t suppressed;
	bool ok;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	ok = log_rate_check(r, (uint64_t)ts.tv_sec, LOG_RATE_PER_SEC, &suppressed);
	if (suppressed)
		log_emit(level, module, "suppressed lines=%u", (unsigned)suppressed);
	return ok;
}
