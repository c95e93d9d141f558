// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* agent.c: `sysflow agent HOST PORT [-d]`: options, daemon mode and the
 * call into the agent (lib/guard/).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sysflow/sysflow.h>
#include "core/core.h"
#include "cmds.h"

#define DEFAULT_LOG "/var/log/sysflow/agent.log"
#define DEFAULT_PID "/run/sysflow-agent.pid"
#define MAX_WATCH 16

struct agent_cfg {
	struct sf_agent_opts o; /* what the options set directly */
	bool daemon;
	const char *log_file;
	const char *pid_file;
	const char *watch;
	const char *miss;
	bool unload;
};

/* --fail-mode is an OPT_ENUM: it writes an int */
_Static_assert(sizeof(enum sf_fail_mode) == sizeof(int), "fail_mode size");
static const char *const fail_names[] = { "secure", "open", NULL };

static const struct agent_cfg defaults_agent = {
	.pid_file = DEFAULT_PID,
};

static void init_agent(void *cfg)
{
	sf_agent_opts_init(&((struct agent_cfg *)cfg)->o);
}

#define OFF(m) offsetof(struct agent_cfg, m)

/* clang-format off */
static const struct opt_def agent_options[] = {
	{ .name = "host", .positional = true, .type = OPT_STRING,
	  .offset = OFF(o.host), .metavar = "HOST" },
	{ .name = "port", .positional = true, .type = OPT_PORT,
	  .offset = OFF(o.port), .metavar = "PORT" },
	{ .name = "daemon", .short_name = 'd', .type = OPT_FLAG,
	  .offset = OFF(daemon), .help = "run in the background, log to "
	  DEFAULT_LOG },
	{ .name = "log", .short_name = 'L', .type = OPT_STRING,
	  .offset = OFF(log_file), .metavar = "FILE", .help = "log to FILE "
	  "(default: stderr, or " DEFAULT_LOG " with -d)" },
	{ .name = "pid-file", .type = OPT_STRING, .offset = OFF(pid_file),
	  .metavar = "FILE", .help = "with -d: write the pid here (default "
	  DEFAULT_PID ")" },
	{ .name = "folder", .short_name = 'F', .type = OPT_STRING,
	  .offset = OFF(o.pin_dir), .metavar = "DIR", .help = "pin programs, "
	  "maps and rules here (default " SF_GUARD_PIN_DIR ")" },
	{ .name = "cgroup", .short_name = 'c', .type = OPT_STRING,
	  .offset = OFF(o.cgroup), .metavar = "PATH", .help = "attach the "
	  "socket hooks to this cgroup v2 folder (default: the root)" },
	{ .name = "watch", .short_name = 'w', .type = OPT_STRING,
	  .offset = OFF(watch), .metavar = "DIR[,DIR]", .help = "decide "
	  "opens and execs on these mounts (fanotify)" },
	{ .name = "fail-mode", .type = OPT_ENUM, .offset = OFF(o.fail_mode),
	  .metavar = "MODE", .names = fail_names, .help = "without a "
	  "controller: secure keeps the miss policy, open allows misses" },
	{ .name = "miss", .short_name = 'm', .type = OPT_STRING,
	  .offset = OFF(miss), .metavar = "CLASS=POLICY[,...]",
	  .help = "table-miss policy per class (file, socket, ipc, inode): "
	  "allow, deny or ask; default allow" },
	{ .name = "echo-interval", .type = OPT_U32,
	  .offset = OFF(o.echo_interval_ms),
	  .metavar = "MS", .min = 100, .max = 3600000, .help = "ECHO after "
	  "this much silence (default " DEFAULT_STR(SFP_ECHO_INTERVAL_MS) ")" },
	{ .name = "dead-interval", .type = OPT_U32,
	  .offset = OFF(o.dead_interval_ms),
	  .metavar = "MS", .min = 200, .max = 3600000, .help = "controller "
	  "dead after this much silence (default "
	  DEFAULT_STR(SFP_DEAD_INTERVAL_MS) ")" },
	{ .name = "backoff-max", .type = OPT_U32,
	  .offset = OFF(o.backoff_max_ms),
	  .metavar = "MS", .min = 100, .max = 3600000, .help = "cap of the "
	  "reconnect backoff (default "
	  DEFAULT_STR(SF_AGENT_BACKOFF_MAX_MS) ")" },
	{ .name = "event-rate", .type = OPT_U32, .offset = OFF(o.event_rate),
	  .metavar = "N", .min = 1, .max = 1000000, .help = "events per "
	  "second to the controller at most (default "
	  DEFAULT_STR(SF_AGENT_EVENT_RATE) ")" },
	{ .name = "ask-timeout", .type = OPT_U32,
	  .offset = OFF(o.ask_timeout_ms),
	  .metavar = "MS", .min = 1, .max = 60000, .help = "\"ask\" "
	  "misses of file operations wait this long for the controller's "
	  "VERDICT, then the fail mode decides: secure denies, open allows "
	  "(default " DEFAULT_STR(SF_AGENT_ASK_TIMEOUT_MS) ")" },
	{ .name = "ask-max", .type = OPT_U32, .offset = OFF(o.ask_max),
	  .metavar = "N", .min = 1, .max = 65536, .help = "file operations "
	  "held at most; beyond, the fail mode decides at once (default "
	  DEFAULT_STR(SF_AGENT_ASK_MAX) ")" },
	{ .name = "tls-cert", .type = OPT_STRING, .offset = OFF(o.tls_cert),
	  .together = "TLS", .metavar = "PEM", .help = "this agent's "
	  "certificate (mutual TLS)" },
	{ .name = "tls-key", .type = OPT_STRING, .offset = OFF(o.tls_key),
	  .together = "TLS", .metavar = "PEM", .help = "its private key" },
	{ .name = "tls-ca", .type = OPT_STRING, .offset = OFF(o.tls_ca),
	  .together = "TLS", .metavar = "PEM", .help = "CA of the "
	  "controller's certificate" },
	{ .name = "host-id", .type = OPT_STRING, .offset = OFF(o.host_id),
	  .metavar = "HEX", .help = "host id (32 hex digits) instead of "
	  "/etc/machine-id" },
	{ .name = "unload", .type = OPT_FLAG, .offset = OFF(unload),
	  .help = "remove a previous agent's programs and pins, then exit" },
	{ .name = "cleanup", .type = OPT_FLAG, .offset = OFF(o.unload_on_exit),
	  .help = "on exit remove programs and pins (default: they stay "
	  "and keep enforcing)" },
	OPT_END,
};
/* clang-format on */

static int parse_miss(const char *s, uint8_t miss[SF_CLASS_COUNT])
{
	char *copy = strdup(s), *tok, *save = NULL;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok && !err;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int cls, pol;

		if (!eq) {
			err = -EINVAL;
			break;
		}
		*eq = 0;
		cls = sf_class_parse(tok);
		pol = sf_miss_parse(eq + 1);
		if (cls < 0 || pol < 0)
			err = -EINVAL;
		else
			miss[cls] = pol;
	}
	free(copy);
	if (err)
		fprintf(stderr,
			"sysflow agent: bad --miss '%s': use "
			"CLASS=POLICY with classes file, socket, ipc, "
			"inode and policies allow, deny, ask\n",
			s);
	return err;
}

static int write_pid_file(const char *path)
{
	char dir[512];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", path);
	sf_mkdir_p(dirname(dir), 0755);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", getpid());
	fclose(f);
	return 0;
}

/* Detach from the terminal: fork twice, new session, stdio on /dev/null.
 * The first process stays until the daemon says it is set up (a byte on
 * *ready_fd) and exits 0, or 1 when the daemon ends before that: a
 * failed start is not reported as a start.
 */
static int daemonize(int *ready_fd)
{
	int fd, p[2];
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &c, 1) == 1)
			_exit(0);
		fprintf(stderr, "sysflow agent: the daemon ended before it was "
				"set up; its log says why\n");
		_exit(1);
	}
	close(p[0]);
	*ready_fd = p[1];
	setsid();
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	umask(022);
	if (chdir("/"))
		return -errno;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	return 0;
}

/* HOST and PORT given, --miss (into cfg->o) and --host-id well formed: 0
 * or EXIT_USAGE
 */
static int check_args(struct agent_cfg *cfg)
{
	if (!cfg->o.host || !cfg->o.port) {
		fprintf(stderr, "sysflow agent: missing %s\n",
			cfg->o.host ? "PORT" : "HOST");
		params_usage(&cmd_agent, stderr, false);
		return EXIT_USAGE;
	}
	if (cfg->miss && parse_miss(cfg->miss, cfg->o.miss))
		return EXIT_USAGE;
	if (cfg->o.host_id &&
	    (strlen(cfg->o.host_id) != 32 ||
	     strspn(cfg->o.host_id, "0123456789abcdefABCDEF") != 32)) {
		fprintf(stderr, "sysflow agent: --host-id needs 32 hex "
				"digits\n");
		return EXIT_USAGE;
	}
	return cmd_check_intervals("agent", cfg->o.echo_interval_ms,
				   cfg->o.dead_interval_ms);
}

/* --watch PATH,PATH,...: the paths (in *copy, to free) and their number,
 * or -1 after a line saying there are more than MAX_WATCH
 */
static int split_watch(const char *list, const char *watch[MAX_WATCH],
		       char **copy)
{
	char *save = NULL, *tok;
	int n = 0;

	*copy = NULL;
	if (!list)
		return 0;
	*copy = strdup(list);
	for (tok = strtok_r(*copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == MAX_WATCH) {
			fprintf(stderr,
				"sysflow agent: --watch takes %d paths at "
				"most\n",
				MAX_WATCH);
			return -1;
		}
		watch[n++] = tok;
	}
	return n;
}

/* The log file (DEFAULT_LOG for a daemon), its directory made: 0 or -1 */
static int open_log(const struct agent_cfg *cfg)
{
	const char *log = cfg->log_file;
	char dir[512];
	int err;

	if (cfg->daemon && !log)
		log = DEFAULT_LOG;
	if (!log)
		return 0;
	snprintf(dir, sizeof(dir), "%s", log);
	sf_mkdir_p(dirname(dir), 0755);
	err = sf_log_set_file(log);
	if (err) {
		pr_err("cannot open log file %s: %s\n", log, strerror(-err));
		return -1;
	}
	return 0;
}

/* -d: the pid file and the first process's wait, until set up */
struct daemon_state {
	const char *pid_file;
	int ready_fd;
	bool pid_written; /* ours to remove at exit */
};

/* The agent is set up: write the pid file, then let the first process
 * exit 0. A pid file that cannot be written ends the daemon (the first
 * process then exits 1).
 */
static void daemon_ready(void *ctx)
{
	struct daemon_state *d = ctx;
	int err = write_pid_file(d->pid_file);

	if (err) {
		pr_err("cannot write the pid file %s: %s; stopping\n",
		       d->pid_file, strerror(-err));
		sf_exiting = 1;
	} else {
		d->pid_written = true;
		if (write(d->ready_fd, "", 1) != 1)
			pr_warn("cannot tell the starting process: %s\n",
				strerror(errno));
	}
	close(d->ready_fd);
	d->ready_fd = -1;
}

static int run_as_daemon(struct agent_cfg *cfg, struct daemon_state *d)
{
	int err;

	if (!cfg->daemon)
		return 0;
	d->pid_file = cfg->pid_file;
	err = daemonize(&d->ready_fd);
	if (err) {
		pr_err("cannot run as a daemon: %s\n", strerror(-err));
		return -1;
	}
	cfg->o.on_ready = daemon_ready;
	cfg->o.ready_ctx = d;
	return 0;
}

static int do_agent(void *arg)
{
	struct agent_cfg *cfg = arg;
	struct daemon_state d = { .ready_fd = -1 };
	const char *watch[MAX_WATCH];
	char *wcopy;
	int n, err;

	if (cfg->unload) {
		if (sf_check_privileges("sysflow agent"))
			return 1;
		return sf_agent_unload(cfg->o.pin_dir) ? 1 : 0;
	}
	err = check_args(cfg);
	if (err)
		return err;
	n = split_watch(cfg->watch, watch, &wcopy);
	if (n < 0) {
		free(wcopy);
		return EXIT_USAGE;
	}
	if (sf_check_privileges("sysflow agent") || open_log(cfg) ||
	    run_as_daemon(cfg, &d) || sf_signals_install()) {
		free(wcopy);
		return 1;
	}
	cfg->o.watch = n ? watch : NULL;
	cfg->o.n_watch = n;
	err = sf_agent_run(&cfg->o);
	if (d.pid_written) /* another daemon's is not ours to remove */
		unlink(cfg->pid_file);
	free(wcopy);
	return err ? 1 : 0;
}

const struct cmd_def cmd_agent = {
	.name = "agent",
	.run = do_agent,
	.opts = agent_options,
	.defaults = &defaults_agent,
	.init = init_agent,
	.cfg_size = sizeof(struct agent_cfg),
	.usage = "HOST PORT | --unload",
	.summary = "enforce a SysFlow controller's rules on this host",
	.doc = "Connects to the controller at HOST PORT (TCP, or mutual TLS "
	       "with --tls-*),\nreconnecting forever with capped backoff, and "
	       "enforces its rules: socket\nconnect, bind, UDP sendmsg and "
	       "socket create in the kernel (cgroup hooks);\nfile open, read, "
	       "write and exec through fanotify on the --watch mounts;\nKILL "
	       "with bpf_send_signal. Rules live in pinned maps and stay in "
	       "force\nwhen the agent stops (see --cleanup, --unload). "
	       "Prints what it uses at\nstart; logs to stderr, or a file with "
	       "-d.\n",
	.examples =
		"  sysflow agent 10.0.0.1 6653                 # foreground\n"
		"  sysflow agent ctl.example 6653 -d -w /home  # daemon, "
		"files under /home\n"
		"  sysflow agent 10.0.0.1 6653 --tls-cert a.pem --tls-key "
		"a.key --tls-ca ca.pem\n"
		"  sysflow agent --unload                      # remove what "
		"an agent left\n",
};
