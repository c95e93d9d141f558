/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* bench.h: the option style of the bench programs: short options with
 * getopt, and -h/--help, which prints the usage on stdout and exits 0. An
 * unknown option is named once by getopt, then the usage goes to stderr.
 */
#ifndef __SYSFLOW_BENCH_H
#define __SYSFLOW_BENCH_H

#include <getopt.h>

/* getopt_long() over sopts, which must hold 'h', with --help as 'h'. */
static inline int bench_getopt(int argc, char *const argv[], const char *sopts)
{
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	return getopt_long(argc, argv, sopts, lopts, NULL);
}

#endif /* __SYSFLOW_BENCH_H */
