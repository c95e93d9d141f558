/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* guard.h: types shared by the enforcement programs (guard.bpf.c) and the
 * agent (lib/guard/): the tuple-space rule key, masks, rule values,
 * counters, the process label table and the event record. Plain data only.
 */
#ifndef __GUARD_H
#define __GUARD_H

#define GUARD_MAX_ENTRIES 16384 /* kernel rule entries (expanded keys) */
#define GUARD_MAX_SLOTS 4096 /* rules: one counter slot each */
#define GUARD_MAX_MASKS 32
#define GUARD_MAX_PROCS 65536 /* labelled processes */
#define GUARD_MAX_EXES 4096 /* distinct executable paths in rules */
#define GUARD_MAX_ISO_SOCKS 65536 /* sockets of isolated processes */
#define GUARD_PATH_MAX 256
#define GUARD_PATH_DEPTH 32 /* path components walked at exec */
#define GUARD_KEY_WORDS 9

/* Kernel operation numbers are the protocol's (enum sf_op). */
#define GUARD_OP_SOCKET_WRITE 14
#define GUARD_OP_SOCKET_CREATE 16
#define GUARD_OP_SOCKET_CONNECT 19
#define GUARD_OP_SOCKET_BIND 45

/* What the hooks match on. After masking, mask_id names the mask so keys
 * of different masks never collide. Addresses and ports in network order.
 */
struct guard_key {
	__u8 op;
	__u8 proto;
	__u8 family; /* 4 or 6 */
	__u8 mask_id;
	__u32 uid;
	__u32 pid; /* tgid */
	__u32 exe_id; /* from exe_ids at exec; 0: not a rule's exe */
	__u32 pexe_id; /* the parent's exe_id */
	__u32 pad;
	__u64 cgroup_id;
	char comm[16];
	__u8 addr[16];
	__u16 port;
	__u16 pad2;
	__u32 pad3;
};

struct guard_mask {
	struct guard_key bits; /* 1-bits are compared */
	__u64 ops; /* bit n: op n uses this mask */
};

/* Rule flags in the kernel value. */
#define GF_DENY (1 << 0)
#define GF_KILL (1 << 1)
#define GF_REPORT (1 << 2) /* ACTION_REPORT */
#define GF_LOG (1 << 3)
#define GF_MESSAGE (1 << 4) /* EVENT_IN */
#define GF_ENCODE (1 << 5) /* set IP TOS = dscp << 2 on the socket */
#define GF_ISOLATE (1 << 6) /* ISOLATION/QUARANTINE: deny, report why */

struct guard_value {
	__u32 slot; /* counter index, = the agent's rule id */
	__u16 priority;
	__u16 flags;
	__u8 signal;
	__u8 dscp;
	__u16 pad;
	__u32 pad2;
};

struct guard_counter {
	__u64 hits;
	__u64 last_ns; /* CLOCK_MONOTONIC of the last hit */
};

/* Table-miss verdicts per class as the kernel applies them (the agent
 * folds in the fail mode and the session state).
 */
#define GUARD_MISS_ALLOW 0
#define GUARD_MISS_DENY 1
#define GUARD_MISS_ASK 2 /* allow and send an event up */

/* guard_config.need: subject fields some mask compares; the hooks skip
 * reading the others
 */
#define GUARD_NEED_COMM (1 << 0)
#define GUARD_NEED_CGROUP (1 << 1)
#define GUARD_NEED_PROCS (1 << 2) /* exe_id or pexe_id */

struct guard_config {
	__u8 miss_socket; /* GUARD_MISS_* for the socket class */
	__u8 need; /* GUARD_NEED_* */
	__u8 pad[2];
	__u32 n_masks; /* masks[0..n_masks) are scanned */
	__u32 n_exes; /* exe_ids is not empty: resolve paths at exec */
	__u32 iso_socks; /* entries in iso_socks; 0: the skb programs pass */
	__u64 kill_pending; /* entries in pending_kill (fast path) */
};

struct guard_proc {
	__u32 exe_id;
	__u32 pexe_id;
};

/* A socket of an isolated (or quarantined) process, keyed by its socket
 * cookie: its packets are dropped both ways. pid and start_time let a
 * restarted agent find the isolation again.
 */
struct guard_iso_sock {
	__u32 slot; /* the rule that isolated it: counts the drops */
	__u32 pid; /* tgid */
	__u64 start_time; /* of pid, clock ticks after boot (/proc stat) */
	__u8 quarantine;
	__u8 pad[7];
};

struct guard_path {
	char path[GUARD_PATH_MAX];
};

/* open_flags values: the open(2) flags, or GUARD_O_EXEC for an exec. */
#define GUARD_O_WRONLY 01
#define GUARD_O_RDWR 02
#define GUARD_O_CREAT 0100
#define GUARD_O_EXEC 0x80000000

/* Event flags: why a record was sent up. */
#define GE_REPORT GF_REPORT
#define GE_LOG GF_LOG
#define GE_MESSAGE GF_MESSAGE
#define GE_MISS (1 << 8) /* table miss under "ask" */
#define GE_KILLED (1 << 9)

struct guard_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC */
	__u32 pid;
	__u32 uid;
	__u32 slot; /* the rule; ~0 for a miss */
	__u16 flags; /* GE_* */
	__u8 op;
	__u8 verdict; /* 1 allow, 2 deny (the protocol's action ids) */
	__u8 proto;
	__u8 family;
	__u16 port; /* network order */
	__u8 addr[16];
	char comm[16];
};

/* Per-CPU statistics, in this order. */
enum guard_stat {
	GS_EVENTS = 0, /* hook invocations */
	GS_MATCHED,
	GS_DENIED,
	GS_MISSES,
	GS_RINGBUF_DROPS, /* event records lost: ring buffer full */
	GS_KILLS,
	GS_EXEC_LABELLED,
	GS_PATH_TOO_LONG, /* exec paths not resolved (longer than 255) */
	GS_ISO_DROPS, /* packets of isolated sockets dropped */
	GS_MAX,
};

#endif /* __GUARD_H */
