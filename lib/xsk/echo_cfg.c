// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* echo_cfg.c: what the echo responder (echo.c) answers for: the
 * interface's MAC and addresses from getifaddrs(), or a list given by the
 * user. Control path only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_packet.h>
#include "core/core.h"
#include "echo.h"

static int add_addr(struct sf_echo_cfg *c, int family, const void *a)
{
	if (family == AF_INET) {
		if (c->n_ip4 == SF_ECHO_MAX_ADDRS)
			return -E2BIG;
		memcpy(&c->ip4[c->n_ip4++], a, 4);
	} else {
		if (c->n_ip6 == SF_ECHO_MAX_ADDRS)
			return -E2BIG;
		memcpy(&c->ip6[c->n_ip6++], a, 16);
	}
	return 0;
}

int sf_echo_cfg_from_iface(struct sf_echo_cfg *c, const char *ifname)
{
	struct ifaddrs *ifa, *i;
	bool mac = false;

	if (getifaddrs(&ifa)) {
		pr_err("cannot list the addresses of %s: %s\n", ifname,
		       strerror(errno));
		return -errno;
	}
	c->n_ip4 = c->n_ip6 = 0;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, ifname))
			continue;
		switch (i->ifa_addr->sa_family) {
		case AF_INET:
			add_addr(
				c, AF_INET,
				&((struct sockaddr_in *)i->ifa_addr)->sin_addr);
			break;
		case AF_INET6:
			add_addr(c, AF_INET6,
				 &((struct sockaddr_in6 *)i->ifa_addr)
					  ->sin6_addr);
			break;
		case AF_PACKET: {
			struct sockaddr_ll *ll = (void *)i->ifa_addr;

			if (ll->sll_halen == 6) {
				memcpy(c->mac, ll->sll_addr, 6);
				mac = true;
			}
			break;
		}
		}
	}
	freeifaddrs(ifa);
	if (!mac) {
		pr_err("%s has no Ethernet address\n", ifname);
		return -ENODEV;
	}
	return 0;
}

int sf_echo_cfg_set_addrs(struct sf_echo_cfg *c, const char *list)
{
	char *copy = strdup(list), *tok, *save = NULL;
	uint8_t a[16];
	int err = copy ? 0 : -ENOMEM;

	c->n_ip4 = c->n_ip6 = 0;
	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && !err;
	     tok = strtok_r(NULL, ",", &save)) {
		if (inet_pton(AF_INET, tok, a) == 1)
			err = add_addr(c, AF_INET, a);
		else if (inet_pton(AF_INET6, tok, a) == 1)
			err = add_addr(c, AF_INET6, a);
		else
			err = -EINVAL;
		if (err == -EINVAL)
			pr_err("'%s' is not an IPv4 or IPv6 address\n", tok);
		else if (err)
			pr_err("too many addresses (at most %d of each "
			       "family)\n",
			       SF_ECHO_MAX_ADDRS);
	}
	free(copy);
	if (!err && !c->n_ip4 && !c->n_ip6) {
		pr_err("no address given\n");
		err = -EINVAL;
	}
	return err;
}
