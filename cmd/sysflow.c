// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sysflow.c: the sysflow CLI: the command table and main(). Each command
 * parses its own options (params.c) and calls into libsysflow.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sysflow/sysflow.h>
#include "core/core.h"
#include "export/json.h"
#include "cmds.h"

static const struct cmd_def *const commands[] = {
	&cmd_flowmon, &cmd_collect,  &cmd_agent, &cmd_controller, &cmd_ctl,
	&cmd_echo,    &cmd_tracepkt, &cmd_route, &cmd_features,	  NULL,
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: sysflow <command> [options]\n"
		     "       sysflow <command> --help\n"
		     "       sysflow --version\n\n"
		     "An eBPF data plane: system and network flows, fast "
		     "paths, policy.\n\nCommands:\n");
	for (int i = 0; commands[i]; i++)
		fprintf(out, "  %-10s %s\n", commands[i]->name,
			commands[i]->summary);
	fprintf(out, "\nCommon options, after the command: -v (repeatable), "
		     "-q, -h, --version\n");
	fprintf(out,
		"\nEnvironment:\n  %-12s log level: error, warn, info or "
		"debug\n",
		SF_LOG_ENV);
}

static const struct cmd_def *find_command(const char *name)
{
	for (int i = 0; commands[i]; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

/* -q wins; each -v raises the level from info (or $SYSFLOW_LOG); -v -v
 * also shows libbpf's and the verifier's output.
 */
static void apply_log_level(void)
{
	int level = sf_log_get_level() + common_opts.verbose;

	if (common_opts.quiet)
		level = SF_LOG_ERROR;
	sf_log_set_level(level > SF_LOG_DEBUG ? SF_LOG_DEBUG : level);
	sf_log_libbpf_debug(!common_opts.quiet && common_opts.verbose > 1);
}

bool cmd_stdout_gone(int err)
{
	struct pollfd p = { .fd = STDOUT_FILENO };
	struct stat st;

	if (err == EPIPE)
		return true;
	return !fstat(STDOUT_FILENO, &st) &&
	       (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) &&
	       poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

static int json_err; /* first failed cmd_print_json(), errno */

int cmd_print_json(json_t *o)
{
	int err = sf_json_write_line(stdout, o);

	if (err && !json_err)
		json_err = -err;
	return err;
}

/* What a command printed must have reached stdout: a full disk (or any
 * write error) makes the run a failure, named; a reader that left
 * (`sysflow features | head -1`) is its choice, and the status stays.
 * flowmon, collect and tracepkt count and name their own stdout errors:
 * a stream error is only looked at after a success.
 */
static int check_stdout(int rc)
{
	bool failed = fflush(stdout) != 0;
	int err = failed ? errno : json_err ?: EIO;

	failed = failed || json_err || (!rc && ferror(stdout));
	if (!failed || cmd_stdout_gone(err))
		return rc;
	pr_err("writing to stdout failed: %s; the output is incomplete\n",
	       strerror(err));
	return 1;
}

int cmd_check_intervals(const char *cmd, uint32_t echo_ms, uint32_t dead_ms)
{
	echo_ms = echo_ms ?: SFP_ECHO_INTERVAL_MS;
	dead_ms = dead_ms ?: SFP_DEAD_INTERVAL_MS;
	if (dead_ms > echo_ms)
		return 0;
	fprintf(stderr,
		"sysflow %s: --dead-interval %u must be longer than "
		"--echo-interval %u: the peer would be declared dead between "
		"two echoes\n",
		cmd, dead_ms, echo_ms);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const struct cmd_def *cmd;
	void *cfg;
	int rc;

	sf_log_init();
	signal(SIGPIPE, SIG_IGN); /* a closed stdout: EPIPE, see above */
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return check_stdout(0);
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		params_print_version();
		return check_stdout(0);
	}
	if (argv[1][0] == '-') { /* e.g. sysflow -v flowmon */
		fprintf(stderr,
			"sysflow: unknown option '%s'; options go after the "
			"command: sysflow <command> %s, try 'sysflow --help'\n",
			argv[1], argv[1]);
		return EXIT_USAGE;
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		fprintf(stderr, "sysflow: unknown command '%s'\n\n", argv[1]);
		usage(stderr); /* the commands there are */
		return EXIT_USAGE;
	}
	cfg = calloc(1, cmd->cfg_size);
	if (!cfg)
		return 1;
	rc = params_parse(cmd, argc - 1, argv + 1, cfg);
	if (rc == 0) {
		apply_log_level();
		rc = cmd->run(cfg);
	} else if (rc < 0) {
		rc = 0; /* --help or --version */
	}
	free(cfg);
	return check_stdout(rc);
}
