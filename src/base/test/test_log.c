/*
 * test_log.c - line format, level filtering (arguments not evaluated below
 * the level), escaping, truncation, output switching and rate limiting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <string.h>

#define LOG_MODULE "tsx"
#include "ringlet/base.h"
#include "ringlet/log.h"

struct capture {
	char lines[64][LOG_LINE_MAX + 1];
	enum log_level level[64];
	unsigned n;
};

static struct capture cap;

static void sink(void *arg, enum log_level level, const char *line, size_t len)
{
	struct capture *c = arg;

	assert_true(len > 0 && len <= LOG_LINE_MAX);
	assert_int_equal(line[len - 1], '\n');
	assert_null(memchr(line, '\n', len - 1)); /* exactly one line */
	if (c->n < 64) {
		memcpy(c->lines[c->n], line, len);
		c->lines[c->n][len] = '\0';
		c->level[c->n] = level;
	}
	c->n++;
}

static int setup(void **state)
{
	(void)state;
	memset(&cap, 0, sizeof(cap));
	log_set_sink(sink, &cap);
	log_set_level(LOG_LEVEL_DEBUG);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_set_output(NULL);
	log_set_level(LOG_LEVEL_WARN);
	return 0;
}

static unsigned side_effects;

static int bump(void)
{
	side_effects++;
	return 7;
}

static void test_format(void **state)
{
	const char buf[] = "xxINVITEyy";
	struct span s = {2, 6};
	(void)state;

	log_err("event=%s n=%d", "boom", 3);
	log_warn("method=%.*s", LOG_SPAN(buf, s));
	log_info("a=1");
	log_debug("b=%u", 2u);
	assert_int_equal(cap.n, 4);
	assert_string_equal(cap.lines[0], "err tsx event=boom n=3\n");
	assert_string_equal(cap.lines[1], "warn tsx method=INVITE\n");
	assert_string_equal(cap.lines[2], "info tsx a=1\n");
	assert_string_equal(cap.lines[3], "debug tsx b=2\n");
	assert_int_equal(cap.level[0], LOG_LEVEL_ERR);
	assert_int_equal(cap.level[3], LOG_LEVEL_DEBUG);
}

/* Table: level set -> which of err/warn/info/debug come out. */
static void test_levels(void **state)
{
	static const struct {
		enum log_level set;
		unsigned lines;
	} cases[] = {
	    {LOG_LEVEL_ERR, 1},
	    {LOG_LEVEL_WARN, 2},
	    {LOG_LEVEL_INFO, 3},
	    {LOG_LEVEL_DEBUG, 4},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cap.n = 0;
		side_effects = 0;
		log_set_level(cases[i].set);
		assert_int_equal(log_get_level(), cases[i].set);
		log_err("x=%d", bump());
		log_warn("x=%d", bump());
		log_info("x=%d", bump());
		log_debug("x=%d", bump());
		assert_int_equal(cap.n, cases[i].lines);
		/* Arguments of suppressed lines are never evaluated. */
		assert_int_equal(side_effects, cases[i].lines);
		assert_true(log_enabled(cases[i].set));
		if (cases[i].set < LOG_LEVEL_DEBUG)
			assert_false(log_enabled(cases[i].set + 1));
	}
	log_set_level((enum log_level)99); /* clamped */
	assert_int_equal(log_get_level(), LOG_LEVEL_DEBUG);
}

/* Control bytes from a peer cannot start a new line or hide text. */
static void test_escape(void **state)
{
	(void)state;
	log_warn("ua=%s", "evil\r\nerr tsx forged=1\x1b[2J\x7f");
	assert_int_equal(cap.n, 1);
	assert_string_equal(cap.lines[0],
			    "warn tsx ua=evil\\x0d\\x0aerr tsx forged=1\\x1b[2J\\x7f\n");
}

static void test_truncate(void **state)
{
	char big[3000];
	(void)state;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("v=%s", big);
	assert_int_equal(cap.n, 1);
	size_t len = strlen(cap.lines[0]);
	assert_int_equal(len, LOG_LINE_MAX);
	assert_memory_equal(cap.lines[0], "info tsx v=aaa", 14);
	assert_string_equal(cap.lines[0] + len - 4, "...\n");
	/* Escapes that do not fit whole are cut too, never split. */
	memset(big, '\n', sizeof(big) - 1);
	log_info("%s", big);
	len = strlen(cap.lines[1]);
	assert_true(len <= LOG_LINE_MAX);
	assert_string_equal(cap.lines[1] + len - 8, "\\x0a...\n");
}

/* log_rate_check: limit per second, then the suppressed count when the next second opens. */
static void test_rate_check(void **state)
{
	struct log_rate r = {0};
	uint32_t sup = 99;
	unsigned pass = 0;
	(void)state;

	for (int i = 0; i < 10; i++)
		pass += log_rate_check(&r, 100, 3, &sup);
	assert_int_equal(pass, 3);
	assert_int_equal(sup, 0);
	assert_true(log_rate_check(&r, 101, 3, &sup));
	assert_int_equal(sup, 7);
	assert_true(log_rate_check(&r, 101, 3, &sup));
	assert_int_equal(sup, 0); /* reported once */
	assert_true(log_rate_check(&r, 101, 3, &sup));
	assert_false(log_rate_check(&r, 101, 3, &sup));
	/* A quiet gap: the next window starts fresh and reports the one refused. */
	assert_true(log_rate_check(&r, 500, 3, &sup));
	assert_int_equal(sup, 1);
	assert_true(log_rate_check(&r, 501, 3, &sup));
	assert_int_equal(sup, 0);
	/* Second 0 is a window like any other. */
	struct log_rate z = {0};
	assert_true(log_rate_check(&z, 0, 1, &sup));
	assert_false(log_rate_check(&z, 0, 1, &sup));
}

static void peer_line(unsigned i)
{
	log_warn_rl("event=bad_msg i=%u", i);
}

/* The _rl macro: one call site flooded yields about LOG_RATE_PER_SEC lines. */
static void test_rate_macro(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 1000; i++)
		peer_line(i);
	/* At most two windows can be touched by a fast loop, each with one suppressed line. */
	assert_true(cap.n >= LOG_RATE_PER_SEC);
	assert_true(cap.n <= 2 * LOG_RATE_PER_SEC + 1);
	assert_string_equal(cap.lines[0], "warn tsx event=bad_msg i=0\n");
	/* Another call site has its own budget. */
	unsigned before = cap.n;
	log_warn_rl("event=other");
	assert_int_equal(cap.n, before + 1);
	/* Below the level: nothing, and no budget used. */
	log_set_level(LOG_LEVEL_ERR);
	log_warn_rl("event=quiet");
	assert_int_equal(cap.n, before + 1);
}

static void test_output_file(void **state)
{
	char *mem = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&mem, &size);
	(void)state;

	assert_non_null(f);
	log_set_output(f); /* replaces the sink */
	log_err("to=file");
	fflush(f);
	assert_int_equal(cap.n, 0);
	assert_string_equal(mem, "err tsx to=file\n");
	log_set_output(NULL);
	fclose(f);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_format, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_escape, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rate_check, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rate_macro, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_output_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
