// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* params.c: table-driven option parsing and generated --help for every
 * sysflow command. Exact names only: no prefix matching of long options.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <sysflow/sysflow.h>
#include "params.h"

#define MAX_OPTS 64
#define OPT_VERSION 0x100
#define OPT_LONG_BASE 0x200 /* getopt value of a long-only option i */

struct common_opts common_opts;

static const struct opt_def common_defs[] = {
	{ .name = "verbose",
	  .short_name = 'v',
	  .help = "more messages; repeat for libbpf and verifier output" },
	{ .name = "quiet", .short_name = 'q', .help = "errors only" },
	{ .name = "help", .short_name = 'h', .help = "show this help" },
	{ .name = "version", .help = "print the version and exit" },
	OPT_END,
};

void params_print_version(void)
{
	printf("sysflow %s (libbpf %u.%u)\n", sf_version(),
	       libbpf_major_version(), libbpf_minor_version());
}

#define HELP_COL 29 /* where option help text starts */
#define HELP_WIDTH 80

void params_print_wrapped(FILE *out, const char *text, int col, int indent)
{
	const char *w = text;

	while (*w) {
		int len = strcspn(w, " ");

		if (col > indent && col + 1 + len > HELP_WIDTH) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', out);
			col++;
		}
		col += fprintf(out, "%.*s", len, w);
		w += len;
		w += strspn(w, " ");
	}
	fputc('\n', out);
}

static void print_opt(FILE *out, const struct opt_def *o)
{
	char left[64];
	int n;

	if (o->short_name)
		n = snprintf(left, sizeof(left), "  -%c, --%s", o->short_name,
			     o->name);
	else
		n = snprintf(left, sizeof(left), "      --%s", o->name);
	if (o->metavar && n > 0 && (size_t)n < sizeof(left))
		snprintf(left + n, sizeof(left) - n, " %s", o->metavar);
	n = fprintf(out, "%-28s", left);
	if (n >= HELP_COL) { /* a long option name: help on the next line */
		fprintf(out, "\n%*s", HELP_COL - 1, "");
		n = HELP_COL - 1;
	}
	fputc(' ', out);
	params_print_wrapped(out, o->help ? o->help : "", n + 1, HELP_COL);
	if (o->type == OPT_ENUM) {
		fprintf(out, "%-28s one of:", "");
		for (int i = 0; o->names[i]; i++)
			fprintf(out, " %s", o->names[i]);
		fputc('\n', out);
	}
}

static void print_usage_line(const struct cmd_def *cmd, FILE *out)
{
	fprintf(out, "Usage: sysflow %s", cmd->name);
	if (cmd->usage) {
		fprintf(out, " %s [options]\n", cmd->usage);
		return;
	}
	for (const struct opt_def *o = cmd->opts; o->name; o++) {
		if (o->positional)
			fprintf(out, o->required ? " %s" : " [%s]", o->metavar);
		else if (o->required)
			fprintf(out, " -%c %s", o->short_name, o->metavar);
	}
	fprintf(out, " [options]\n");
}

void params_usage(const struct cmd_def *cmd, FILE *out, bool full)
{
	print_usage_line(cmd, out);
	if (!full) {
		fprintf(out, "Try 'sysflow %s --help' for more information.\n",
			cmd->name);
		return;
	}
	fprintf(out, "\n%s\n", cmd->summary);
	if (cmd->doc)
		fprintf(out, "\n%s", cmd->doc);
	fprintf(out, "\nOptions:\n");
	for (const struct opt_def *o = cmd->opts; o->name; o++)
		if (!o->positional)
			print_opt(out, o);
	fprintf(out, "\nCommon options:\n");
	for (const struct opt_def *o = common_defs; o->name; o++)
		print_opt(out, o);
	if (cmd->examples)
		fprintf(out, "\nExamples:\n%s", cmd->examples);
}

/* Names the option (--interval) or the positional argument (command). */
static int bad_value(const struct cmd_def *cmd, const struct opt_def *o,
		     const char *val, const char *why)
{
	if (o->positional)
		fprintf(stderr, "sysflow %s: invalid %s '%s': %s\n", cmd->name,
			o->name, val, why);
	else
		fprintf(stderr, "sysflow %s: invalid value '%s' for --%s: %s\n",
			cmd->name, val, o->name, why);
	params_usage(cmd, stderr, false);
	return EXIT_USAGE;
}

/* "expected one of: a, b, c" for an OPT_ENUM. */
static int bad_enum(const struct cmd_def *cmd, const struct opt_def *o,
		    const char *val)
{
	char why[160];
	int n = snprintf(why, sizeof(why), "expected one of:");

	for (int i = 0; o->names[i] && n > 0 && (size_t)n < sizeof(why); i++)
		n += snprintf(why + n, sizeof(why) - n, "%s %s", i ? "," : "",
			      o->names[i]);
	return bad_value(cmd, o, val, why);
}

/* A decimal number from min to max, without sign or trailing text. */
static bool parse_number(const char *val, uint32_t min, uint32_t max,
			 unsigned long long *n)
{
	char *end;

	errno = 0;
	*n = strtoull(val, &end, 10);
	return !errno && end != val && !*end && val[0] != '-' && *n >= min &&
	       *n <= max;
}

static int set_value(const struct cmd_def *cmd, const struct opt_def *o,
		     const char *val, void *cfg)
{
	char *dst = (char *)cfg + o->offset, why[80];
	unsigned char addr[16];
	unsigned long long n;

	switch (o->type) {
	case OPT_FLAG:
		*(bool *)dst = true;
		return 0;
	case OPT_STRING: /* no option means anything by an empty string */
		if (!*val)
			return bad_value(cmd, o, val, "empty");
		*(const char **)dst = val;
		return 0;
	case OPT_PORT:
		if (!parse_number(val, 1, 65535, &n))
			return bad_value(cmd, o, val,
					 "expected a port number from 1 to "
					 "65535");
		*(const char **)dst = val;
		return 0;
	case OPT_IP:
		if (inet_pton(AF_INET, val, addr) != 1 &&
		    inet_pton(AF_INET6, val, addr) != 1)
			return bad_value(cmd, o, val,
					 "not an IPv4 or IPv6 address");
		*(const char **)dst = val;
		return 0;
	case OPT_U32:
		if (!parse_number(val, o->min, o->max, &n)) {
			snprintf(why, sizeof(why),
				 "expected a number from %u "
				 "to %u",
				 o->min, o->max);
			return bad_value(cmd, o, val, why);
		}
		if (o->pow2 && (n & (n - 1)))
			return bad_value(cmd, o, val, "not a power of two");
		*(uint32_t *)dst = n;
		return 0;
	case OPT_ENUM:
		for (int i = 0; o->names[i]; i++) {
			if (!strcmp(val, o->names[i])) {
				*(int *)dst = i;
				return 0;
			}
		}
		return bad_enum(cmd, o, val);
	}
	return 0;
}

/* Build getopt's tables from the command's and the common options. */
static int build_getopt(const struct cmd_def *cmd, struct option *lopts,
			char *sopts)
{
	int i = 0, k = 0, s = 0;

	for (const struct opt_def *o = cmd->opts; o->name; o++, i++) {
		bool arg = o->type != OPT_FLAG;

		if (o->positional)
			continue;
		lopts[k++] =
			(struct option){ o->name, arg, NULL,
					 o->short_name ?: OPT_LONG_BASE + i };
		if (o->short_name) {
			sopts[s++] = o->short_name;
			if (arg)
				sopts[s++] = ':';
		}
	}
	strcpy(sopts + s, "vqh");
	return k;
}

static int bad_option(const struct cmd_def *cmd, const char *sopts,
		      const char *arg)
{
	if (optopt > 0 && optopt < 0x100 && strchr(sopts, optopt))
		fprintf(stderr, "sysflow %s: option '-%c' needs a value\n",
			cmd->name, optopt);
	else if (optopt > 0 && optopt < 0x100)
		fprintf(stderr, "sysflow %s: unknown option '-%c'\n", cmd->name,
			optopt);
	else if (optopt)
		fprintf(stderr, "sysflow %s: option '%s' needs a value\n",
			cmd->name, arg);
	else
		fprintf(stderr, "sysflow %s: unknown option '%s'\n", cmd->name,
			arg);
	params_usage(cmd, stderr, false);
	return EXIT_USAGE;
}

static const struct option *find_long(const struct option *lopts,
				      const char *name, size_t len)
{
	for (; lopts->name; lopts++)
		if (strlen(lopts->name) == len &&
		    !strncmp(lopts->name, name, len))
			return lopts;
	return NULL;
}

/* getopt_long accepts unambiguous prefixes ("--de" for "--dev"); a new
 * option would silently change what an old abbreviation means, so only
 * exact names are accepted. Values are skipped so they are not mistaken
 * for options.
 */
static int check_exact_names(const struct cmd_def *cmd, int argc, char **argv,
			     const struct option *lopts, const char *sopts)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *s;
		const struct option *o;

		if (!strcmp(a, "--"))
			return 0;
		if (a[0] != '-' || a[1] == 0)
			continue;
		if (a[1] != '-') { /* -abc: the last value-taking flag eats */
			for (s = a + 1; *s; s++) {
				const char *spec = strchr(sopts, *s);

				if (spec && spec[1] == ':') {
					i += s[1] == 0;
					break;
				}
			}
			continue;
		}
		eq = strchr(a, '=');
		o = find_long(lopts, a + 2,
			      eq ? (size_t)(eq - a - 2) : strlen(a + 2));
		if (!o) {
			fprintf(stderr, "sysflow %s: unknown option '%s'\n",
				cmd->name, a);
			params_usage(cmd, stderr, false);
			return EXIT_USAGE;
		}
		i += o->has_arg && !eq;
	}
	return 0;
}

static int parse_positionals(const struct cmd_def *cmd, int argc, char **argv,
			     void *cfg)
{
	const struct opt_def *last = NULL;
	int i = optind;

	for (const struct opt_def *o = cmd->opts; o->name; o++) {
		if (!o->positional)
			continue;
		if (i < argc) {
			int err = set_value(cmd, o, argv[i++], cfg);

			if (err)
				return err;
			last = o;
		} else if (o->required) {
			fprintf(stderr, "sysflow %s: missing %s\n", cmd->name,
				o->metavar);
			params_usage(cmd, stderr, false);
			return EXIT_USAGE;
		}
	}
	if (i < argc) {
		fprintf(stderr, "sysflow %s: unexpected argument '%s'\n",
			cmd->name, argv[i]);
		if (last && last->metavar[0] == '\'') /* e.g. 'FILTER' */
			fprintf(stderr,
				"  %s is one argument: quote it, as in "
				"sysflow %s '%s %s ...'\n",
				last->metavar, cmd->name, argv[i - 1], argv[i]);
		params_usage(cmd, stderr, false);
		return EXIT_USAGE;
	}
	return 0;
}

static int check_required(const struct cmd_def *cmd, const bool *seen)
{
	int i = 0;

	for (const struct opt_def *o = cmd->opts; o->name; o++, i++) {
		if (o->required && !o->positional && !seen[i]) {
			fprintf(stderr,
				"sysflow %s: missing required option "
				"-%c/--%s\n",
				cmd->name, o->short_name, o->name);
			params_usage(cmd, stderr, false);
			return EXIT_USAGE;
		}
	}
	return 0;
}

/* Options of one "together" group (e.g. --tls-cert, --tls-key, --tls-ca)
 * are given all or none: name the first one missing.
 */
static int check_together(const struct cmd_def *cmd, const bool *seen)
{
	const struct opt_def *opts = cmd->opts;

	for (int i = 0; opts[i].name; i++) {
		if (!opts[i].together || !seen[i])
			continue;
		for (int j = 0; opts[j].name; j++) {
			if (seen[j] || !opts[j].together ||
			    strcmp(opts[j].together, opts[i].together))
				continue;
			fprintf(stderr,
				"sysflow %s: --%s needs --%s too (%s options "
				"go together)\n",
				cmd->name, opts[i].name, opts[j].name,
				opts[i].together);
			params_usage(cmd, stderr, false);
			return EXIT_USAGE;
		}
	}
	return 0;
}

static int find_opt(const struct cmd_def *cmd, int c)
{
	int i = 0;

	for (const struct opt_def *o = cmd->opts; o->name; o++, i++)
		if (!o->positional && (o->short_name ? o->short_name == c :
						       OPT_LONG_BASE + i == c))
			return i;
	return -1;
}

/* The second value would replace the first without a word */
static int given_twice(const struct cmd_def *cmd, const struct opt_def *o)
{
	fprintf(stderr,
		"sysflow %s: --%s is given twice; it takes one value (a list "
		"goes in one, comma separated)\n",
		cmd->name, o->name);
	params_usage(cmd, stderr, false);
	return EXIT_USAGE;
}

int params_parse(const struct cmd_def *cmd, int argc, char **argv, void *cfg)
{
	struct option lopts[MAX_OPTS + 4];
	char sopts[MAX_OPTS * 2 + 8];
	bool seen[MAX_OPTS] = {};
	int n, c, i, err;

	memcpy(cfg, cmd->defaults, cmd->cfg_size);
	if (cmd->init)
		cmd->init(cfg);
	n = build_getopt(cmd, lopts, sopts);
	lopts[n++] = (struct option){ "verbose", 0, NULL, 'v' };
	lopts[n++] = (struct option){ "quiet", 0, NULL, 'q' };
	lopts[n++] = (struct option){ "help", 0, NULL, 'h' };
	lopts[n++] = (struct option){ "version", 0, NULL, OPT_VERSION };
	lopts[n] = (struct option){ NULL, 0, NULL, 0 };
	err = check_exact_names(cmd, argc, argv, lopts, sopts);
	if (err)
		return err;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, sopts, lopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			common_opts.verbose++;
			continue;
		case 'q':
			common_opts.quiet = true;
			continue;
		case 'h':
			params_usage(cmd, stdout, true);
			return -1;
		case OPT_VERSION:
			params_print_version();
			return -1;
		case '?':
			return bad_option(cmd, sopts, argv[optind - 1]);
		}
		i = find_opt(cmd, c);
		if (i < 0)
			continue;
		if (seen[i] && cmd->opts[i].type != OPT_FLAG)
			return given_twice(cmd, &cmd->opts[i]);
		seen[i] = true;
		err = set_value(cmd, &cmd->opts[i], optarg, cfg);
		if (err)
			return err;
	}
	return check_required(cmd, seen)	 ?:
		       check_together(cmd, seen) ?:
		       parse_positionals(cmd, argc, argv, cfg);
}
