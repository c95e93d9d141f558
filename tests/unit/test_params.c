// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_params.c: unit tests of the CLI's table-driven option parser
 * (cmd/params.c, compiled in): types, ranges, enums, required options,
 * positionals, unknown options and the generated help.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "../cmd/params.c"

struct demo_cfg {
	const char *dev;
	uint32_t count;
	bool json;
	int color;
	const char *host;
	const char *port;
};

static const char *const colors[] = { "red", "green", NULL };
static const struct demo_cfg demo_defaults = { .count = 7 };

static const struct opt_def demo_opts[] = {
	{ .name = "dev", .short_name = 'd', .type = OPT_STRING,
	  .offset = offsetof(struct demo_cfg, dev), .metavar = "DEV",
	  .help = "device", .required = true },
	{ .name = "count", .short_name = 'c', .type = OPT_U32,
	  .offset = offsetof(struct demo_cfg, count), .metavar = "N",
	  .min = 1, .max = 100, .help = "how many" },
	{ .name = "json", .short_name = 'j', .type = OPT_FLAG,
	  .offset = offsetof(struct demo_cfg, json), .help = "json" },
	{ .name = "color", .type = OPT_ENUM, .names = colors,
	  .offset = offsetof(struct demo_cfg, color), .metavar = "C",
	  .help = "a color" },
	{ .name = "host", .positional = true, .required = true,
	  .type = OPT_STRING, .offset = offsetof(struct demo_cfg, host),
	  .metavar = "HOST" },
	{ .name = "port", .positional = true, .type = OPT_STRING,
	  .offset = offsetof(struct demo_cfg, port), .metavar = "PORT" },
	OPT_END,
};

static const struct cmd_def demo = {
	.name = "demo", .opts = demo_opts, .defaults = &demo_defaults,
	.cfg_size = sizeof(struct demo_cfg), .summary = "a demo",
};

#define PARSE(cfg, ...)                                                  \
	({                                                               \
		char *argv[] = { "demo", __VA_ARGS__, NULL };            \
		params_parse(&demo, ARRAY_LEN(argv) - 1, argv, cfg);     \
	})
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void test_parse_ok(void **state)
{
	struct demo_cfg cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "-d", "eth0", "--color", "green", "h1",
			       "-j", "99"),
			 0);
	assert_string_equal(cfg.dev, "eth0");
	assert_int_equal(cfg.count, 7); /* default kept */
	assert_true(cfg.json);
	assert_int_equal(cfg.color, 1);
	assert_string_equal(cfg.host, "h1");
	assert_string_equal(cfg.port, "99");
	assert_int_equal(PARSE(&cfg, "--dev=x", "-c", "100", "h"), 0);
	assert_int_equal(cfg.count, 100);
	assert_null(cfg.port);
}

static void test_parse_errors(void **state)
{
	struct demo_cfg cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "-d", "x", "-c", "0", "h"), EXIT_USAGE);
	assert_int_equal(PARSE(&cfg, "-d", "x", "-c", "101", "h"), EXIT_USAGE);
	assert_int_equal(PARSE(&cfg, "-d", "x", "-c", "-1", "h"), EXIT_USAGE);
	assert_int_equal(PARSE(&cfg, "-d", "x", "-c", "5x", "h"), EXIT_USAGE);
	assert_int_equal(PARSE(&cfg, "-d", "x", "--color", "blue", "h"),
			 EXIT_USAGE);
	assert_int_equal(PARSE(&cfg, "h"), EXIT_USAGE); /* -d missing */
	assert_int_equal(PARSE(&cfg, "-d", "x"), EXIT_USAGE); /* HOST */
	assert_int_equal(PARSE(&cfg, "-d", "x", "h", "p", "extra"),
			 EXIT_USAGE);
	assert_int_equal(PARSE(&cfg, "-d", "x", "--bogus", "h"), EXIT_USAGE);
	assert_int_equal(PARSE(&cfg, "-d", "x", "-z", "h"), EXIT_USAGE);
	assert_int_equal(PARSE(&cfg, "h", "-d"), EXIT_USAGE); /* no value */
	assert_int_equal(PARSE(&cfg, "-d", "x", "--de", "y", "h"),
			 EXIT_USAGE); /* no prefix matching of --dev */
	assert_int_equal(PARSE(&cfg, "-d", "", "h"), EXIT_USAGE); /* empty */
	assert_int_equal(PARSE(&cfg, "--dev=", "h"), EXIT_USAGE);
	assert_int_equal(PARSE(&cfg, "-d", "x", ""), EXIT_USAGE);
	/* a value given twice would replace the first without a word */
	assert_int_equal(PARSE(&cfg, "-d", "x", "--dev", "y", "h"),
			 EXIT_USAGE);
	assert_int_equal(PARSE(&cfg, "-d", "x", "-j", "-j", "h"), 0); /* flag */
}

static void test_common_and_help(void **state)
{
	struct demo_cfg cfg;

	(void)state;
	common_opts.verbose = 0;
	assert_int_equal(PARSE(&cfg, "-v", "-v", "-d", "x", "h"), 0);
	assert_int_equal(common_opts.verbose, 2);
	assert_int_equal(PARSE(&cfg, "--help"), -1);
	assert_int_equal(PARSE(&cfg, "--version"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_common_and_help),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
