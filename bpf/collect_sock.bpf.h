/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* collect_sock.bpf.h: sockets for sysflow collect: classify the file behind
 * an fd, read the local and remote ends of an inet socket, and read the
 * peer of a datagram from a user sockaddr.
 */
#ifndef __COLLECT_SOCK_BPF_H
#define __COLLECT_SOCK_BPF_H

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define SOCK_RAW 3
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_ICMPV6 58

/* A datagram's peer, from a sockaddr in user memory. */
struct peer {
	__u8 addr[16];
	__u16 port;
	__u8 family; /* 0: none */
};

static __always_inline void read_sock(struct sock *sk, struct collect_sock *s)
{
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u16 type = BPF_CORE_READ(sk, sk_type);
	__u16 proto = BPF_CORE_READ(sk, sk_protocol);

	if (fam == AF_INET) {
		s->family = 4;
		BPF_CORE_READ_INTO((__u32 *)s->laddr, sk,
				   __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)s->raddr, sk,
				   __sk_common.skc_daddr);
	} else {
		s->family = 6;
		BPF_CORE_READ_INTO(&s->laddr, sk,
				   __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&s->raddr, sk,
				   __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
	s->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	s->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	s->proto = type == SOCK_RAW ? 254 : proto == IPPROTO_ICMPV6 ? 1 : proto;
	s->connected = s->rport != 0;
}

/* Kind of the file behind an fd; fills s for inet sockets. */
static __always_inline __u8 classify(struct file *f, struct collect_sock *s,
				     __u8 *udp)
{
	umode_t mode = file_mode(f);
	struct socket *sock;
	struct sock *sk;
	__u16 fam;

	switch (mode & S_IFMT) {
	case S_IFREG:
	case S_IFCHR:
	case S_IFBLK:
		return targ_no_files ? CK_IGNORE : CK_FILE;
	case S_IFDIR:
		return targ_no_files || targ_file_only ? CK_IGNORE : CK_DIR;
	case S_IFIFO:
		return targ_no_files || targ_file_only ? CK_IGNORE : CK_PIPE;
	case S_IFSOCK:
		break;
	default:
		return CK_IGNORE; /* anon inodes: eventfd, epoll, timerfd... */
	}
	sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return CK_IGNORE;
	fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (fam == AF_UNIX)
		return targ_no_files || targ_file_only ? CK_IGNORE : CK_UNIX;
	if (fam != AF_INET && fam != AF_INET6)
		return CK_IGNORE;
	read_sock(sk, s);
	*udp = s->proto == IPPROTO_UDP && !s->connected;
	return fam == AF_INET ? CK_SOCK4 : CK_SOCK6;
}

static __always_inline void read_peer(const void *uaddr, struct peer *p)
{
	struct sockaddr_in6 in6;
	struct sockaddr_in in;
	__u16 fam = 0;

	p->family = 0;
	if (!uaddr || bpf_probe_read_user(&fam, sizeof(fam), uaddr))
		return;
	if (fam == AF_INET && !bpf_probe_read_user(&in, sizeof(in), uaddr)) {
		__builtin_memset(p->addr, 0, sizeof(p->addr));
		__builtin_memcpy(p->addr, &in.sin_addr.s_addr, 4);
		p->port = bpf_ntohs(in.sin_port);
		p->family = 4;
	} else if (fam == AF_INET6 &&
		   !bpf_probe_read_user(&in6, sizeof(in6), uaddr)) {
		__builtin_memcpy(p->addr, &in6.sin6_addr, 16);
		p->port = bpf_ntohs(in6.sin6_port);
		p->family = 6;
	}
}

#endif /* __COLLECT_SOCK_BPF_H */
