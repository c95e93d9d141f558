/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* cmds.h: the sysflow subcommands; each lives in cmd/<name>.c. */
#ifndef __SYSFLOW_CMDS_H
#define __SYSFLOW_CMDS_H

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

#endif /* __SYSFLOW_CMDS_H */
