// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* value.c: the policy router's value syntax, shared by the configuration
 * loader and the show output: prefixes, MAC addresses, protocol and
 * action names.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "core/core.h"
#include "route_int.h"

int rt_parse_prefix(const char *s, struct rt_prefix *p)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long len;
	int max;

	memset(p, 0, sizeof(*p));
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	if (inet_pton(AF_INET, buf, p->addr) == 1)
		p->family = 4;
	else if (inet_pton(AF_INET6, buf, p->addr) == 1)
		p->family = 6;
	else
		return -EINVAL;
	max = p->family == 4 ? 32 : 128;
	len = max;
	if (slash) {
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || len > (unsigned)max ||
		    slash[1] == '-' || slash[1] == '+')
			return -ERANGE;
	}
	p->len = len;
	/* host bits must be zero: 10.0.0.1/24 is a typo more often than not */
	for (int i = len; i < max; i++)
		if (p->addr[i / 8] & (0x80 >> (i % 8)))
			return -EDOM;
	return 0;
}

int rt_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (s[i * 3 + 2] != ':' && i < 5)
			return -EINVAL;
		mac[i] = b[i];
	}
	return 0;
}

const char *rt_prefix_str(const struct rt_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!p->family) {
		snprintf(buf, len, "any");
		return buf;
	}
	inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->len);
	return buf;
}

const char *rt_mac_str(const uint8_t m[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
	return buf;
}

const struct rt_proto_name rt_protos[] = {
	{ "tcp", 6 },	  { "udp", 17 },   { "icmp", 1 }, { "icmp6", 58 },
	{ "icmpv6", 58 }, { "sctp", 132 }, { "gre", 47 },
};
const size_t rt_nprotos = ARRAY_SIZE(rt_protos);

const char *rt_proto_name(uint8_t proto, char *buf, size_t len)
{
	if (!proto)
		return "any";
	for (size_t i = 0; i < ARRAY_SIZE(rt_protos); i++)
		if (rt_protos[i].nr == proto)
			return rt_protos[i].name;
	snprintf(buf, len, "%u", proto);
	return buf;
}

const char *const rt_action_names[ROUTE_ACT_MAX] = {
	[ROUTE_ACT_PASS] = "pass",
	[ROUTE_ACT_DROP] = "drop",
	[ROUTE_ACT_REDIRECT] = "redirect",
	[ROUTE_ACT_NEIGH] = "redirect_neigh",
	[ROUTE_ACT_PEER] = "redirect_peer",
};

const char *sf_route_action_name(enum sf_route_action a)
{
	return (unsigned)a < ROUTE_ACT_MAX ? rt_action_names[a] : "?";
}

/* Families of the rule's addresses must agree: a rule is IPv4, IPv6, or
 * (without any address) both.
 */
