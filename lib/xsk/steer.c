// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* steer.c: the XDP redirect program of each interface that has sockets.
 * One program per interface (this kernel refuses libxdp's dispatcher), so
 * the sockets of one process on one interface share it: the first attaches
 * it through a bpf_link, the last one's close detaches it. A bpf_link also
 * goes away with the process, so a killed application leaves nothing
 * attached. Nothing is pinned.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "core/core.h"
#include "xsk_int.h"
#include "xsk_redirect.skel.h"

#define PROG_NAME "xdp_to_xsk"

struct xsk_steer {
	struct xsk_steer *next;
	int ifindex;
	char ifname[IF_NAMESIZE];
	int refs;
	enum sf_xsk_attach mode; /* NATIVE or GENERIC */
	struct xsk_filter filters[XSK_MAX_FILTERS];
	uint32_t nfilters;
	struct xsk_redirect_bpf *skel;
	int link_fd;
};

static pthread_mutex_t steer_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xsk_steer *steer_list;

int xsk_queue_count(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = {};
	int fd, n;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ch;
	n = ioctl(fd, SIOCETHTOOL, &ifr) ? 1 : (int)ch.rx_count;
	if (n < (int)ch.combined_count)
		n = ch.combined_count;
	close(fd);
	return n > 0 ? n : 1;
}

const char *xsk_driver_name(const char *ifname, char *buf, size_t len)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = {};
	int fd;

	snprintf(buf, len, "?");
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return buf;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&info;
	if (!ioctl(fd, SIOCETHTOOL, &ifr))
		snprintf(buf, len, "%s", info.driver);
	close(fd);
	return buf;
}

_Static_assert(SF_XSK_MAX_FILTERS == XSK_MAX_FILTERS, "filter limits");

/* Counts were checked by sf_xsk_open(). */
static void convert_filters(const struct sf_xsk_opts *o, struct xsk_filter *out,
			    uint32_t *n)
{
	memset(out, 0, sizeof(*out) * XSK_MAX_FILTERS);
	for (uint32_t i = 0; i < o->n_filters; i++) {
		const struct sf_xsk_filter *f = &o->filters[i];

		out[i].eth_proto = f->eth_proto;
		out[i].ip_proto = f->ip_proto;
		out[i].port = f->port;
		out[i].match = (f->eth_proto ? XSK_MATCH_ETH : 0) |
			       (f->ip_proto ? XSK_MATCH_IP_PROTO : 0) |
			       (f->match_port ? XSK_MATCH_PORT : 0);
	}
	*n = o->n_filters;
}

static void explain_busy(const char *who, const char *ifname, int ifindex)
{
	char prog[BPF_OBJ_NAME_LEN], name[BPF_OBJ_NAME_LEN + 16] = "?";
	uint32_t id = sf_iface_xdp_prog(ifindex, prog, sizeof(prog), NULL);

	if (id && prog[0])
		snprintf(name, sizeof(name), "'%s' (id %u)", prog, id);
	else if (id)
		snprintf(name, sizeof(name), "id %u", id);
	if (strstr(prog, PROG_NAME))
		pr_err("%s: %s already has XDP program %s from another "
		       "process; open every queue of an interface from one "
		       "process\n",
		       who, ifname, name);
	else
		pr_err("%s: %s already has XDP program %s and there is one "
		       "XDP program per interface here; detach it first (ip "
		       "link set dev %s xdp off, or stop its owner)\n",
		       who, ifname, name, ifname);
}

static int link_xdp(struct xsk_steer *s, __u32 flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = flags);
	int fd;

	fd = bpf_link_create(bpf_program__fd(s->skel->progs.xdp_to_xsk),
			     s->ifindex, BPF_XDP, &lo);
	if (fd < 0)
		return -errno;
	s->link_fd = fd;
	return 0;
}

/* Native first when allowed; generic when native is refused by a driver
 * that lacks it (not when another program holds the interface).
 */
static int attach(struct xsk_steer *s, const char *who, enum sf_xsk_attach want,
		  bool need_native)
{
	int err;

	if (want != SF_XSK_ATTACH_GENERIC) {
		err = link_xdp(s, XDP_FLAGS_DRV_MODE);
		if (!err) {
			s->mode = SF_XSK_ATTACH_NATIVE;
			return 0;
		}
		if (err == -EBUSY || err == -EEXIST) {
			explain_busy(who, s->ifname, s->ifindex);
			return err;
		}
		if (want == SF_XSK_ATTACH_NATIVE || need_native) {
			pr_err("%s: cannot attach XDP to %s in native mode: %s "
			       "(%d)%s\n",
			       who, s->ifname, strerror(-err), err,
			       need_native ? "; zero-copy needs native XDP" :
					     "; try generic mode");
			return err;
		}
		pr_info("%s: no native XDP on %s (%s); using generic mode\n",
			who, s->ifname, strerror(-err));
	}
	err = link_xdp(s, XDP_FLAGS_SKB_MODE);
	if (!err) {
		s->mode = SF_XSK_ATTACH_GENERIC;
		return 0;
	}
	if (err == -EBUSY || err == -EEXIST)
		explain_busy(who, s->ifname, s->ifindex);
	else
		pr_err("%s: cannot attach XDP to %s in generic mode: %s (%d)\n",
		       who, s->ifname, strerror(-err), err);
	return err;
}

static int load(struct xsk_steer *s, const char *who, uint32_t queues)
{
	struct xsk_redirect_bpf *skel;
	int err;

	skel = s->skel = xsk_redirect_bpf__open();
	if (!skel) {
		err = -errno;
		pr_err("%s: cannot open the XSK redirect BPF object: %s\n", who,
		       strerror(-err));
		return err;
	}
	skel->rodata->targ_nfilters = s->nfilters;
	memcpy((void *)skel->rodata->targ_filters, s->filters,
	       sizeof(s->filters));
	if (queues > XSK_MAX_QUEUES)
		queues = XSK_MAX_QUEUES;
	err = bpf_map__set_max_entries(skel->maps.xsks, queues);
	if (!err)
		err = xsk_redirect_bpf__load(skel);
	if (err == -EACCES || err == -EPERM)
		pr_err("%s: the kernel refused the XSK redirect program: %s; "
		       "loading it needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON "
		       "(without CAP_PERFMON the verifier forbids variable "
		       "packet offsets)\n",
		       who, strerror(-err));
	else if (err)
		pr_err("%s: the kernel refused the XSK redirect program: %s "
		       "(run with -v -v for the verifier log)\n",
		       who, strerror(-err));
	return err;
}

static void steer_free(struct xsk_steer *s)
{
	if (s->link_fd >= 0)
		close(s->link_fd); /* detaches the program */
	xsk_redirect_bpf__destroy(s->skel);
	free(s);
}

static struct xsk_steer *find(int ifindex)
{
	for (struct xsk_steer *s = steer_list; s; s = s->next)
		if (s->ifindex == ifindex)
			return s;
	return NULL;
}

static int share(struct xsk_steer *s, const char *who,
		 const struct xsk_filter *f, uint32_t nf,
		 const struct sf_xsk_opts *o, bool need_native)
{
	if (nf != s->nfilters || memcmp(f, s->filters, sizeof(s->filters))) {
		pr_err("%s: the other sockets on %s steer other frames; open "
		       "every queue of an interface with the same filters\n",
		       who, s->ifname);
		return -EINVAL;
	}
	if ((o->attach != SF_XSK_ATTACH_AUTO && o->attach != s->mode) ||
	    (need_native && s->mode != SF_XSK_ATTACH_NATIVE)) {
		pr_err("%s: XDP is attached to %s in %s mode for its other "
		       "sockets\n",
		       who, s->ifname, sf_xsk_attach_name(s->mode));
		return -EINVAL;
	}
	s->refs++;
	return 0;
}

int xsk_steer_get(const char *who, const char *ifname, int ifindex,
		  uint32_t queues, const struct sf_xsk_opts *opts,
		  bool need_native, struct xsk_steer **out)
{
	struct xsk_filter f[XSK_MAX_FILTERS];
	struct xsk_steer *s;
	uint32_t nf = 0;
	int err;

	convert_filters(opts, f, &nf);
	pthread_mutex_lock(&steer_lock);
	s = find(ifindex);
	if (s) {
		err = share(s, who, f, nf, opts, need_native);
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		err = -ENOMEM;
		goto out;
	}
	s->ifindex = ifindex;
	s->link_fd = -1;
	s->refs = 1;
	snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);
	memcpy(s->filters, f, sizeof(f));
	s->nfilters = nf;
	err = load(s, who, queues) ?: attach(s, who, opts->attach, need_native);
	if (err) {
		steer_free(s);
		s = NULL;
		goto out;
	}
	pr_debug("%s: XDP program attached to %s in %s mode, %u filter(s)\n",
		 who, ifname, sf_xsk_attach_name(s->mode), nf);
	s->next = steer_list;
	steer_list = s;
out:
	pthread_mutex_unlock(&steer_lock);
	*out = err ? NULL : s;
	return err;
}

void xsk_steer_put(struct xsk_steer *s)
{
	struct xsk_steer **p;

	if (!s)
		return;
	pthread_mutex_lock(&steer_lock);
	if (--s->refs == 0) {
		for (p = &steer_list; *p; p = &(*p)->next) {
			if (*p == s) {
				*p = s->next;
				break;
			}
		}
		pr_debug("detaching the XDP program from %s\n", s->ifname);
		steer_free(s);
	}
	pthread_mutex_unlock(&steer_lock);
}

int xsk_steer_add(struct xsk_steer *s, struct xsk_socket *sock, const char *who)
{
	int err = xsk_socket__update_xskmap(sock,
					    bpf_map__fd(s->skel->maps.xsks));

	if (err) {
		err = err < 0 ? err : -EINVAL; /* libbpf: a negative errno */
		pr_err("%s: cannot put the socket into the XSKMAP: %s\n", who,
		       strerror(-err));
	}
	return err;
}

void xsk_steer_del(struct xsk_steer *s, uint32_t queue)
{
	bpf_map_delete_elem(bpf_map__fd(s->skel->maps.xsks), &queue);
}

enum sf_xsk_attach xsk_steer_mode(const struct xsk_steer *s)
{
	return s->mode;
}

int xsk_steer_stats(const struct xsk_steer *s, uint64_t out[XSK_STAT_MAX])
{
	return sf_percpu_sum(bpf_map__fd(s->skel->maps.stats), out,
			     XSK_STAT_MAX);
}
