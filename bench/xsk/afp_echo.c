// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* afp_echo.c: the baseline of bench/xsk/run.sh: the echo of `sysflow
 * echo` (the same sf_echo_frame()) on an AF_PACKET socket, written the way
 * a careful user would without AF_XDP: batches with recvmmsg() and
 * sendmmsg(), PACKET_QDISC_BYPASS, its own transmissions ignored, a large
 * receive buffer, poll() when idle.
 *
 * Prints "afp_echo: ready" on stderr, and "rx N tx N drops N" on stdout at
 * SIGINT/SIGTERM; drops are the frames the socket refused, its receive
 * buffer full (PACKET_STATISTICS tp_drops). Exit 0, 1 on a runtime failure, 2 on bad usage, 249
 * when run alone by bench/run (it is a helper, driven by run.sh).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <sysflow/log.h>
#include "bench.h"
#include "xsk/echo.h"

#define BATCH 64
#define FRAME_MAX 2048
#define RCVBUF (8 << 20)

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Frames the kernel dropped because the receive buffer was full. */
static unsigned long long socket_drops(int fd)
{
	struct tpacket_stats st = {};
	socklen_t len = sizeof(st);

	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		return 0;
	return st.tp_drops;
}

static int open_socket(const char *ifname)
{
	struct sockaddr_ll ll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = if_nametoindex(ifname),
	};
	int fd, one = 1, rcvbuf = RCVBUF;

	if (!ll.sll_ifindex) {
		fprintf(stderr, "afp_echo: unknown interface %s\n", ifname);
		return -1;
	}
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ll, sizeof(ll)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
		       sizeof(one)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
		       sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf))) {
		fprintf(stderr, "afp_echo: AF_PACKET socket on %s: %s\n",
			ifname, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static const char usage[] = "Usage: afp_echo IFACE ADDR[,ADDR]\n"
			    "A helper of bench/xsk/run.sh.\n";

int main(int argc, char **argv)
{
	static uint8_t buf[BATCH][FRAME_MAX];
	struct mmsghdr in[BATCH], out[BATCH];
	struct iovec iov[BATCH], oiov[BATCH];
	struct sigaction sa = { .sa_handler = on_signal };
	struct sf_echo_cfg cfg = {};
	uint64_t rx = 0, tx = 0;
	struct pollfd pfd;
	int fd, n, k, s;

	if (bench_help(argc, argv, usage))
		return 0;
	if (argc == 1) {
		fputs(usage, stderr);
		return 249; /* run alone by bench/run */
	}
	if (argc != 3) {
		fputs(usage, stderr);
		return 2;
	}
	sf_log_init();
	if (sf_echo_cfg_from_iface(&cfg, argv[1]) ||
	    sf_echo_cfg_set_addrs(&cfg, argv[2]))
		return 1;
	fd = open_socket(argv[1]);
	if (fd < 0)
		return 1;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ .iov_base = buf[i],
					 .iov_len = FRAME_MAX };
		in[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i],
						       .msg_iovlen = 1 } };
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	fprintf(stderr, "afp_echo: ready on %s\n", argv[1]);
	while (!stop) {
		n = recvmmsg(fd, in, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			poll(&pfd, 1, 500);
			continue;
		}
		rx += n;
		for (int i = k = 0; i < n; i++) {
			uint32_t len = in[i].msg_len;

			if (sf_echo_frame(&cfg, buf[i], &len, FRAME_MAX) ==
			    SF_ECHO_NONE)
				continue;
			oiov[k] = (struct iovec){ .iov_base = buf[i],
						  .iov_len = len };
			out[k] = (struct mmsghdr){ .msg_hdr = {
							   .msg_iov = &oiov[k],
							   .msg_iovlen = 1 } };
			k++;
		}
		for (int i = 0; i < k; i += s) {
			s = sendmmsg(fd, out + i, k - i, 0);
			if (s <= 0)
				break; /* dropped, as a full device would */
			tx += s;
		}
	}
	printf("rx %llu tx %llu drops %llu\n", (unsigned long long)rx,
	       (unsigned long long)tx, socket_drops(fd));
	close(fd);
	return 0;
}
