// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* iface.c: interface lookups with errors that name the interface. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "core.h"

int sf_iface_index(const char *name, int *ifindex)
{
	unsigned int idx;

	if (!name || !*name || strlen(name) >= IF_NAMESIZE) {
		pr_err("invalid interface name '%s'\n", name ? name : "");
		return -EINVAL;
	}
	idx = if_nametoindex(name);
	if (!idx) {
		pr_err("unknown interface '%s' (see 'ip link show')\n", name);
		return -ENODEV;
	}
	*ifindex = idx;
	return 0;
}

const char *sf_iface_name(int ifindex, char buf[IF_NAMESIZE])
{
	if (ifindex > 0 && if_indextoname(ifindex, buf))
		return buf;
	snprintf(buf, IF_NAMESIZE, "if%d", ifindex);
	return buf;
}
