// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* pktgen.c: the route benchmark's packet source: 64-byte UDP frames sent
 * through an AF_PACKET socket that bypasses the qdisc, in batches, for a
 * fixed time, so that the cost per packet is in the path under test and
 * not in the sender's UDP stack.
 *   pktgen IFACE DST_MAC SRC_IP DST_IP DPORT SECONDS
 * Prints "sent N in S s cpu C ns/pkt": C is this process's CPU time per
 * packet, which includes the forwarding done in softirq on its way out
 * unless the kernel accounts softirq time apart (IRQ_TIME_ACCOUNTING).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

#define FRAME_LEN 60 /* + 4 FCS on a wire: a 64-byte frame */
#define BATCH 64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_secs(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static uint16_t ip_csum(const void *data, size_t len)
{
	const uint16_t *p = data;
	uint32_t sum = 0;

	for (; len > 1; len -= 2)
		sum += *p++;
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return ~sum;
}

static int build(unsigned char *f, const char *ifname, int fd, const char *dmac,
		 const char *src, const char *dst, int dport)
{
	struct ether_header *eth = (void *)f;
	struct iphdr *ip = (void *)(f + sizeof(*eth));
	struct udphdr *udp = (void *)(ip + 1);
	struct ifreq ifr = {};
	unsigned int m[6];

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) ||
	    sscanf(dmac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4],
		   &m[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		eth->ether_dhost[i] = m[i];
	memcpy(eth->ether_shost, ifr.ifr_hwaddr.sa_data, 6);
	eth->ether_type = htons(ETHERTYPE_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(FRAME_LEN - sizeof(*eth));
	if (inet_pton(AF_INET, src, &ip->saddr) != 1 ||
	    inet_pton(AF_INET, dst, &ip->daddr) != 1)
		return -1;
	ip->check = ip_csum(ip, sizeof(*ip));
	udp->source = htons(9999);
	udp->dest = htons(dport);
	udp->len = htons(FRAME_LEN - sizeof(*eth) - sizeof(*ip));
	return 0;
}

static const char usage[] =
	"usage: pktgen IFACE DST_MAC SRC_IP DST_IP DPORT SECONDS\n";

int main(int argc, char **argv)
{
	unsigned char frame[FRAME_LEN] = {};
	struct mmsghdr msgs[BATCH] = {};
	struct iovec iov = { frame, sizeof(frame) };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	double t0, c0, secs;
	long long sent = 0;
	int fd, one = 1;

	if (bench_help(argc, argv, usage))
		return 0;
	if (argc != 7) {
		fputs(usage, stderr);
		return 64;
	}
	secs = atof(argv[6]);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	sll.sll_ifindex = if_nametoindex(argv[1]);
	if (fd < 0 || !sll.sll_ifindex ||
	    build(frame, argv[1], fd, argv[2], argv[3], argv[4],
		  atoi(argv[5]))) {
		fprintf(stderr, "pktgen: cannot set up %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	for (int i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &sll;
		msgs[i].msg_hdr.msg_namelen = sizeof(sll);
	}
	t0 = now();
	c0 = cpu_secs();
	while (now() - t0 < secs) {
		int n = sendmmsg(fd, msgs, BATCH, 0);

		if (n > 0)
			sent += n;
		else if (errno != ENOBUFS && errno != EAGAIN)
			break;
	}
	printf("sent %lld in %.3f s cpu %.0f ns/pkt\n", sent, now() - t0,
	       sent ? (cpu_secs() - c0) * 1e9 / sent : 0);
	close(fd);
	return 0;
}
