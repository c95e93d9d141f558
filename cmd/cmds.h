/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* cmds.h: the sysflow subcommands; each lives in cmd/<name>.c. */
#ifndef __SYSFLOW_CMDS_H
#define __SYSFLOW_CMDS_H

#include <jansson.h>
#include "params.h"

extern const struct cmd_def cmd_flowmon;
extern const struct cmd_def cmd_collect;
extern const struct cmd_def cmd_agent;
extern const struct cmd_def cmd_controller;
extern const struct cmd_def cmd_ctl;
extern const struct cmd_def cmd_echo;
extern const struct cmd_def cmd_tracepkt;
extern const struct cmd_def cmd_route;
extern const struct cmd_def cmd_features;

/* A JSON line to stdout (lib/export/json.c), for commands that print and
 * end: a failed write is kept for main()'s check at exit, which names it
 * (the writer itself clears the stream's error to keep files whole).
 * Returns 0 or a negative errno; the line is freed.
 */
int cmd_print_json(json_t *o);

/* stdout is a pipe or socket that nobody reads any more (`| head`): err
 * is EPIPE, or the kernel reports EPOLLERR on a pipe's write end once its
 * readers are gone (err 0: errno is not known).
 */
bool cmd_stdout_gone(int err);

/* --echo-interval and --dead-interval of a SysFlow session (0: default):
 * a dead interval not longer than the echo interval declares the peer
 * dead between two echoes, and the session would flap forever. 0, or
 * EXIT_USAGE after a line naming both.
 */
int cmd_check_intervals(const char *cmd, uint32_t echo_ms, uint32_t dead_ms);

#endif /* __SYSFLOW_CMDS_H */
