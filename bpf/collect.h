/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* collect.h: types shared by the kernel side (collect.bpf.c) and the user
 * side (lib/telemetry) of sysflow collect: events that cross the ring
 * buffer, the per-(thread, fd) counter table and the statistics. Plain data
 * only: no libc or kernel includes.
 */
#ifndef __COLLECT_H
#define __COLLECT_H

#define COLLECT_STR_MAX 4096 /* one path, or the args or env of an exec */
#define COLLECT_DATA_MAX 16384 /* strings of one event, all together */
#define COLLECT_MAX_STRS 4
#define COLLECT_CID_LEN 16 /* 12 hex characters of a container id + NUL */
#define COLLECT_MAX_BUFS 128 /* ring buffers (one per CPU at most) */
#define COLLECT_MAX_SYSCALLS 512 /* prog array slots, by syscall number */
#define COLLECT_MMSG_MAX 8 /* messages summed per sendmmsg/recvmmsg */
#define COLLECT_RANGE_FDS (1 << 20) /* close_range follows fds below this */
#define COLLECT_EXEC_WORDS 16 /* exec closes: fds below 64 * this followed */

/* SysFlow opFlags (sf-collector op_flags.h) */
#define OP_CLONE (1 << 0)
#define OP_EXEC (1 << 1)
#define OP_EXIT (1 << 2)
#define OP_SETUID (1 << 3)
#define OP_SETNS (1 << 4)
#define OP_ACCEPT (1 << 5)
#define OP_CONNECT (1 << 6)
#define OP_OPEN (1 << 7)
#define OP_READ_RECV (1 << 8)
#define OP_WRITE_SEND (1 << 9)
#define OP_CLOSE (1 << 10)
#define OP_TRUNCATE (1 << 11)
#define OP_SHUTDOWN (1 << 12)
#define OP_MMAP (1 << 13)
#define OP_DIGEST (1 << 14)
#define OP_MKDIR (1 << 15)
#define OP_RMDIR (1 << 16)
#define OP_LINK (1 << 17)
#define OP_UNLINK (1 << 18)
#define OP_SYMLINK (1 << 19)
#define OP_RENAME (1 << 20)

enum collect_ev_type {
	CEV_CLONE = 1, /* sched_process_fork: a new process or thread */
	CEV_CLONE_FAIL, /* clone, clone3, fork or vfork returned an error */
	CEV_EXEC, /* sched_process_exec, or a failed execve/execveat */
	CEV_EXIT, /* sched_process_exit: one thread ended */
	CEV_SETUID, /* setuid, setreuid, setresuid */
	CEV_OPEN, /* open, openat, openat2, creat that returned an fd */
	CEV_ACCEPT, /* accept, accept4 */
	CEV_CONNECT, /* connect returned 0 or EINPROGRESS */
	CEV_TOUCH, /* first read/write/mmap/... of a thread on an fd */
	CEV_PEER, /* an unconnected UDP socket changed peer */
	CEV_CLOSE,
	CEV_FILEOP, /* mkdir, rmdir, link, unlink, symlink, rename */
	CEV_DUP, /* dup, dup2, dup3, fcntl F_DUPFD(_CLOEXEC) of a known fd */
	CEV_CLOEXEC, /* close_range(CLOSE_RANGE_CLOEXEC): close at exec */
};

/* What an fd refers to, as far as flows are concerned. */
enum collect_kind {
	CK_UNKNOWN = 0,
	CK_IGNORE, /* not tracked: anon inode, filtered, ... */
	CK_FILE,
	CK_DIR,
	CK_SOCK4,
	CK_SOCK6,
	CK_PIPE, /* only without fileOnly */
	CK_UNIX, /* only without fileOnly */
};

/* SysFlow ContainerType symbols, by their index in the schema. */
enum collect_ctype {
	CT_DOCKER = 0,
	CT_LXC,
	CT_LIBVIRT_LXC,
	CT_MESOS,
	CT_RKT,
	CT_CUSTOM,
	CT_CRI,
	CT_CONTAINERD,
	CT_CRIO,
	CT_BPM,
	CT_NONE = 255,
};

/* A socket as the kernel sees it: local and remote end, ports in host
 * order, IPv4 in the first 4 bytes of the address in network order.
 */
struct collect_sock {
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport;
	__u16 rport;
	__u8 family; /* 4 or 6 */
	__u8 proto; /* 6 TCP, 17 UDP, 1 ICMP, 254 raw */
	__u8 connected; /* remote end known from the socket itself */
	__u8 pad;
};

struct collect_counts {
	__u64 rops;
	__u64 wops;
	__u64 rbytes;
	__u64 wbytes;
	__u32 mmaps;
	__u16 shutdowns;
	__u16 setns;
};

/* Key of the tracked table (tid) and of the fdinfo table (tgid). User
 * space changes an entry only when its gen is the one it was told about
 * (the ts of the CEV_OPEN/ACCEPT/CONNECT/TOUCH that created it): fd numbers
 * are reused faster than events are read.
 */
struct collect_fdkey {
	__u32 id;
	__s32 fd;
};

/* Value of the tracked table: counters of one thread on one fd. Only that
 * thread writes it, so plain adds are enough; user space reads it.
 */
struct collect_fdstat {
	struct collect_counts c;
	__u8 peer[16]; /* last peer of an unconnected UDP socket */
	__u16 peer_port;
	__u8 peer_family;
	__u8 udp; /* unconnected UDP: follow the peer of each datagram */
	__u32 pad;
	__u64 gen; /* ts of the event that created it */
};

/* Value of the fdinfo table: what a process's fd is. */
struct collect_fdinfo {
	__u8 kind; /* enum collect_kind */
	__u8 udp;
	__u16 pad;
	__u32 open_flags;
	__u64 gen; /* ts of the event that created it */
};

/* Value of the tasks table: container verdict cached per process. */
struct collect_task {
	__u8 in_container;
	__u8 ctype;
	__u16 pad;
	__u32 pad2;
};

struct collect_hdr {
	__u64 ts; /* CLOCK_BOOTTIME ns */
	__u32 type; /* enum collect_ev_type */
	__u32 tgid;
	__u32 tid;
	__s32 ret;
	__u32 size; /* bytes of the whole event */
	__u16 slen[COLLECT_MAX_STRS]; /* string lengths with NUL; 0 = absent */
};

struct collect_ev_clone {
	__u32 child_tid;
	__u32 child_tgid;
	__u32 parent_tgid; /* real parent (CLONE_PARENT aware) */
	__u32 is_thread;
	__u32 flags;
	__u8 ctype;
	char cid[COLLECT_CID_LEN];
};

/* strings: exe, args (NUL separated, argv[0] first), env, cwd */
struct collect_ev_exec {
	__u32 uid; /* effective */
	__u32 gid;
	__u8 tty;
	__u8 entry; /* pid 1 of its pid namespace */
	__u8 ctype;
	__u8 pad;
	char cid[COLLECT_CID_LEN];
};

struct collect_ev_exit {
	__s32 code; /* task->exit_code */
	__u32 group_dead;
};

struct collect_ev_setuid {
	__u32 req_uid; /* the uid asked for */
	__u32 uid; /* effective uid after the call */
	__u32 gid;
};

/* strings: path as given, base directory when the path is relative */
struct collect_ev_open {
	__s32 fd;
	__u32 flags; /* kernel O_* */
	__u32 mode;
	__u32 kind;
};

struct collect_ev_sock {
	__s32 fd;
	__u32 pad;
	struct collect_sock s;
};

/* strings: path when the kernel had to name the fd itself */
struct collect_ev_touch {
	__s32 fd;
	__u8 kind;
	__u8 known; /* the fd was seen opened/accepted/connected */
	__u8 udp;
	__u8 op; /* what the thread did: 0 read, 1 write, 2 mmap, ... */
	__u32 pad2;
	__u64 ino;
	struct collect_sock s; /* sockets; raddr/rport = datagram peer */
};

struct collect_ev_peer {
	__s32 fd;
	__u32 pad;
	struct collect_counts c; /* totals before the new peer */
	__u8 peer[16]; /* the new peer */
	__u16 peer_port;
	__u8 peer_family;
	__u8 pad2;
	__u32 pad3;
};

/* strings: path when the fd was unknown */
struct collect_ev_close {
	__s32 fd;
	__u8 kind;
	__u8 had_stats; /* c holds the closing thread's final counters */
	__u8 known;
	__u8 at_exec; /* closed by exec: close-on-exec */
	__u32 pad2;
	__u64 ino;
	struct collect_counts c;
	struct collect_sock s;
};

/* strings: path1, base1, path2, base2 */
struct collect_ev_fileop {
	__u32 op; /* OP_MKDIR, ... */
	__u32 at; /* the *at form (symlinkat keeps a relative target) */
};

/* newfd refers to the open file of oldfd (libsinsp copies the fd info) */
struct collect_ev_dup {
	__s32 oldfd;
	__s32 newfd;
	__u32 cloexec; /* dup3(O_CLOEXEC), F_DUPFD_CLOEXEC */
	__u32 pad;
};

/* fds first..last are closed at the next exec */
struct collect_ev_range {
	__u32 first;
	__u32 last;
};

struct collect_event {
	struct collect_hdr h;
	union {
		struct collect_ev_clone clone;
		struct collect_ev_exec exec;
		struct collect_ev_exit exit;
		struct collect_ev_setuid setuid;
		struct collect_ev_open open;
		struct collect_ev_sock sock;
		struct collect_ev_touch touch;
		struct collect_ev_peer peer;
		struct collect_ev_close close;
		struct collect_ev_fileop fileop;
		struct collect_ev_dup dup;
		struct collect_ev_range range;
	};
	char data[COLLECT_DATA_MAX + COLLECT_STR_MAX];
};

/* Per-CPU counters; user space sums them and shows each CPU. */
struct collect_stats {
	__u64 syscalls; /* traced syscalls and sched events seen */
	__u64 sent; /* events written to a ring buffer */
	__u64 lost; /* events lost: ring buffer full */
	__u64 aggregated; /* read/write/send/recv ops folded into counters */
	__u64 filtered; /* not in a container (-c) */
	__u64 sampled_out; /* left out by the sampling ratio */
	__u64 ignored; /* ops on untracked fds (pipes, filtered files) */
	__u64 table_full; /* tracked table full: counters lost */
	__u64 truncated; /* strings cut at COLLECT_STR_MAX */
};

#endif /* __COLLECT_H */
