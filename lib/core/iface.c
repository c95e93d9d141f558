// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* iface.c: interface lookups with errors that name the interface, an
 * interface looked for in every named network namespace, and the XDP
 * program an interface holds.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
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

#define NETNS_RUN_DIR "/run/netns"

struct netns_search {
	const char *name;
	bool found;
};

/* The thread's own network namespace changes, never the process's: the
 * thread ends in the last one it entered.
 */
static void *search_named_netns(void *arg)
{
	struct netns_search *s = arg;
	struct dirent *de;
	DIR *d = opendir(NETNS_RUN_DIR);

	while (d && !s->found && (de = readdir(d))) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		s->found = !setns(fd, CLONE_NEWNET) && if_nametoindex(s->name);
		close(fd);
	}
	if (d)
		closedir(d);
	return NULL;
}

bool sf_iface_exists_anywhere(const char *name)
{
	struct netns_search s = { .name = name };
	pthread_t t;

	if (if_nametoindex(name))
		return true;
	if (pthread_create(&t, NULL, search_named_netns, &s))
		return false;
	pthread_join(t, NULL);
	return s.found;
}

uint32_t sf_iface_xdp_prog(int ifindex, char *name, size_t len, uint8_t *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info), id;
	int fd;

	name[0] = 0;
	if (bpf_xdp_query(ifindex, 0, &q))
		return 0;
	if (mode)
		*mode = q.attach_mode;
	id = q.prog_id ?: q.drv_prog_id ?: q.skb_prog_id;
	fd = id ? bpf_prog_get_fd_by_id(id) : -1; /* needs CAP_SYS_ADMIN */
	if (fd < 0)
		return id;
	if (!bpf_obj_get_info_by_fd(fd, &info, &info_len))
		snprintf(name, len, "%s", info.name);
	close(fd);
	return id;
}
