/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* params.h: the CLI's one option style. Each command declares its options
 * once in a table (name, type, metavar, help, config member); parsing,
 * validation and --help are generated from that table.
 */
#ifndef __SYSFLOW_PARAMS_H
#define __SYSFLOW_PARAMS_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#define EXIT_USAGE 2 /* unknown command or option, bad value */

/* A macro's value as a string, for help texts:
 * "(default " DEFAULT_STR(SF_AGENT_ASK_MAX) ")"
 */
#define DEFAULT_STR(x) DEFAULT_STR_(x)
#define DEFAULT_STR_(x) #x

enum opt_type {
	OPT_FLAG, /* bool, set to true */
	OPT_STRING, /* const char * */
	OPT_U32, /* uint32_t within [min, max] */
	OPT_ENUM, /* int: index into a NULL-terminated names list */
	OPT_PORT, /* const char *: a TCP/UDP port number, 1 to 65535 */
	OPT_IP, /* const char *: an IPv4 or IPv6 address */
};

struct opt_def {
	const char *name; /* long name, or the positional's name */
	char short_name; /* 0 if none */
	enum opt_type type;
	size_t offset; /* member of the command's config struct */
	const char *metavar;
	const char *help;
	bool required;
	bool positional;
	uint32_t min, max; /* OPT_U32 */
	bool pow2; /* OPT_U32: a power of two (ring and buffer sizes) */
	const char *const *names; /* OPT_ENUM */
	const char *together; /* options naming the same group: all or none */
};

/* --buffer-size BYTES, the one definition of a BPF ring buffer's size
 * (collect, tracepkt): a power of two from one page on.
 */
#define OPT_BUFFER_SIZE(off)                                             \
	{                                                                \
		.name = "buffer-size", .type = OPT_U32, .offset = (off), \
		.pow2 = true, .metavar = "BYTES", .min = 4096,           \
		.max = 1u << 30,                                         \
		.help = "ring buffer size, a power of 2 (8 MiB)"         \
	}

#define OPT_END              \
	{                    \
		.name = NULL \
	}

struct cmd_def {
	const char *name;
	int (*run)(void *cfg);
	const struct opt_def *opts;
	const void *defaults; /* copied into cfg before parsing */
	/* then, when set, called to fill the library's defaults into cfg
	 * (an sf_*_opts_init() of the options struct cfg holds)
	 */
	void (*init)(void *cfg);
	size_t cfg_size;
	const char *usage; /* arguments of the usage line, when the table
			    * cannot say it (e.g. "-d DEV | -r FILE")
			    */
	const char *summary; /* one line */
	const char *doc; /* paragraphs after the usage line */
	const char *examples;
};

/* Set by the common options of every command. */
struct common_opts {
	int verbose;
	bool quiet;
};

extern struct common_opts common_opts;

/* Parse argv (argv[0] is the command name) into cfg. Returns 0, or
 * EXIT_USAGE after printing the problem and a pointer to --help, or -1
 * when --help was printed (the caller exits 0).
 */
int params_parse(const struct cmd_def *cmd, int argc, char **argv, void *cfg);

void params_usage(const struct cmd_def *cmd, FILE *out, bool full);

/* Print text word by word from column col (where the cursor is), wrapping
 * at 80 columns with continuation lines indented to column indent.
 */
void params_print_wrapped(FILE *out, const char *text, int col, int indent);

/* Print "sysflow <version> (libbpf <v>)". */
void params_print_version(void);

#endif /* __SYSFLOW_PARAMS_H */
