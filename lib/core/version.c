// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* version.c: the library's version string. */
#include <sysflow/sysflow.h>

const char *sf_version(void)
{
	return SYSFLOW_VERSION;
}
