/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sysflow.h: the libsysflow umbrella header: version and the shared
 * conventions of every part (functions return 0 or a negative errno).
 */
#ifndef __SYSFLOW_SYSFLOW_H
#define __SYSFLOW_SYSFLOW_H

#include <sysflow/log.h>
#include <sysflow/flowmon.h>
#include <sysflow/telemetry.h>
#include <sysflow/route.h>
#include <sysflow/proto.h>
#include <sysflow/guard.h>
#include <sysflow/xsk.h>
#include <sysflow/tracepkt.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version string, e.g. "0.1.0". */
const char *sf_version(void);

#ifdef __cplusplus
}
#endif

#endif /* __SYSFLOW_SYSFLOW_H */
