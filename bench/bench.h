/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* bench.h: the option style of the bench programs: short options with
 * getopt, and -h/--help, which prints the usage on stdout and exits 0. An
 * unknown option is named once by getopt, then the usage goes to stderr.
 * Programs that take positional arguments only check -h/--help first.
 */
#ifndef __SYSFLOW_BENCH_H
#define __SYSFLOW_BENCH_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* getopt_long() over sopts, which must hold 'h', with --help as 'h'. */
static inline int bench_getopt(int argc, char *const argv[], const char *sopts)
{
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	return getopt_long(argc, argv, sopts, lopts, NULL);
}

/* For positional arguments only: true, after printing usage on stdout,
 * when the first argument is -h or --help.
 */
static inline bool bench_help(int argc, char *const argv[], const char *usage)
{
	if (argc < 2 || (strcmp(argv[1], "-h") && strcmp(argv[1], "--help")))
		return false;
	fputs(usage, stdout);
	return true;
}

#endif /* __SYSFLOW_BENCH_H */
