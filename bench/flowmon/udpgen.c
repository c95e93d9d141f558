// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* udpgen.c: send small UDP datagrams as fast as one thread can, with
 * sendmmsg() in turn over several connected sockets, each with its own
 * ephemeral source port, so the receiver sees one flow per socket. The
 * load generator of bench/flowmon/veth_pps.sh.
 *
 * Prints "udpgen: sending ..." on stderr once the sockets are ready, and
 * "sent N packets in T s, P pps" on stdout when the time is up or on
 * SIGINT/SIGTERM. Exit 0, 1 on a runtime failure, 64 on bad usage.
 */
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "bench.h"

#define MAX_SOCKS 256
#define MAX_BATCH 256
#define MAX_LEN 1472

static struct {
	const char *dst;
	unsigned int base_port;
	unsigned int ports;
	unsigned int socks;
	unsigned int len;
	unsigned int batch;
	double secs;
} env = {
	.base_port = 9000,
	.ports = 8,
	.socks = 64,
	.len = 18,
	.batch = 64,
	.secs = 3,
};

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int resolve(struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST,
				  .ai_socktype = SOCK_DGRAM },
			*ai;
	int err = getaddrinfo(env.dst, "0", &hints, &ai);

	if (err) {
		fprintf(stderr, "udpgen: bad destination '%s': %s\n", env.dst,
			gai_strerror(err));
		return -EINVAL;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static void set_port(struct sockaddr_storage *ss, unsigned int port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
}

static struct mmsghdr msgs[MAX_BATCH];
static struct iovec iov;
static char payload[MAX_LEN];

/* Socket i is connected to port base + i % ports: no route lookup per
 * datagram, and its ephemeral source port makes it a flow of its own.
 */
static int open_socks(int *fds, struct sockaddr_storage *dst, socklen_t alen)
{
	for (unsigned int i = 0; i < env.socks; i++) {
		set_port(dst, env.base_port + i % env.ports);
		fds[i] = socket(dst->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 || connect(fds[i], (void *)dst, alen)) {
			fprintf(stderr, "udpgen: socket to %s: %s\n", env.dst,
				strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* Errors a flood may meet: a full queue, or B's rate-limited ICMP port
 * unreachable reported on a connected socket.
 */
static bool transient(int err)
{
	return err == ENOBUFS || err == EAGAIN || err == ECONNREFUSED ||
	       err == EINTR;
}

/* Send until the time is up; counts datagrams in *sent. */
static int send_loop(int *fds, unsigned long long *sent, double *secs)
{
	double start = now_s(), t = start;
	unsigned int s = 0;
	int n, err = 0;

	while (!exiting && t - start < env.secs && !err) {
		n = sendmmsg(fds[s], msgs, env.batch, 0);
		if (n > 0)
			*sent += n;
		else if (!transient(errno))
			err = -errno;
		if (++s == env.socks)
			s = 0;
		t = now_s();
	}
	*secs = t - start;
	if (err)
		fprintf(stderr, "udpgen: sendmmsg: %s\n", strerror(-err));
	return err;
}

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: %s [-s SOCKETS] [-P BASE_PORT] [-p PORTS] [-l PAYLOAD] "
		"[-b BATCH] [-t SECONDS] DST_IP\n"
		"  -s  sockets = flows (default 64, at most %d)\n"
		"  -P  first destination port (default 9000)\n"
		"  -p  socket i sends to port P + i %% PORTS (default 8)\n"
		"  -l  UDP payload bytes (default 18: 60-byte frames)\n"
		"  -b  datagrams per sendmmsg() (default 64)\n"
		"  -t  seconds to send (default 3)\n"
		"  -h, --help  this help\n",
		prog, MAX_SOCKS);
}

/* 0 to run, 1 after --help, -EINVAL on bad usage. */
static int parse_args(int argc, char **argv)
{
	int c;

	while ((c = bench_getopt(argc, argv, "P:p:s:l:b:t:h")) != -1) {
		switch (c) {
		case 'P':
			env.base_port = strtoul(optarg, NULL, 10);
			break;
		case 'p':
			env.ports = strtoul(optarg, NULL, 10);
			break;
		case 's':
			env.socks = strtoul(optarg, NULL, 10);
			break;
		case 'l':
			env.len = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			env.batch = strtoul(optarg, NULL, 10);
			break;
		case 't':
			env.secs = strtod(optarg, NULL);
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 1;
		default:
			return -EINVAL;
		}
	}
	env.dst = optind < argc ? argv[optind] : NULL;
	if (!env.dst || !env.ports || env.base_port + env.ports > 65536 ||
	    !env.socks || env.socks > MAX_SOCKS || env.len > MAX_LEN ||
	    !env.batch || env.batch > MAX_BATCH || env.secs <= 0)
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage dst;
	int fds[MAX_SOCKS], err;
	unsigned long long sent = 0;
	socklen_t alen;
	double secs;

	err = parse_args(argc, argv);
	if (err > 0)
		return 0;
	if (err) {
		usage(stderr, argv[0]);
		return 64;
	}
	err = resolve(&dst, &alen) ?: open_socks(fds, &dst, alen);
	if (err)
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	iov = (struct iovec){ .iov_base = payload, .iov_len = env.len };
	for (unsigned int i = 0; i < env.batch; i++)
		msgs[i].msg_hdr =
			(struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1 };
	fprintf(stderr,
		"udpgen: sending to %s, %u flows, %u-byte payload, "
		"for %.1f s\n",
		env.dst, env.socks, env.len, env.secs);
	err = send_loop(fds, &sent, &secs);
	printf("sent %llu packets in %.3f s, %.0f pps\n", sent, secs,
	       sent / secs);
	return err ? 1 : 0;
}
