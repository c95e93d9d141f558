/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* collect_task.bpf.h: what sysflow collect reads from a task: the file
 * behind an fd, the absolute path of a struct path (a bounded dentry walk,
 * since bpf_d_path needs fentry or LSM programs that lockdown refuses
 * here), and the container id from the task's cgroup names.
 * Needs struct heap and the `heap` map declared by the includer.
 */
#ifndef __COLLECT_TASK_BPF_H
#define __COLLECT_TASK_BPF_H

#define PATH_BUF COLLECT_STR_MAX /* a path ends at path[PATH_BUF] */
#define NAME_MASK 255
#define WALK_MAX 64 /* path components and mount crossings */

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFIFO 0010000

/* kernfs: "kernfs: Use RCU to access kernfs_node::parent" (v6.15) renamed
 * parent to __parent.
 */
struct kernfs_node___old {
	struct kernfs_node___old *parent;
	const char *name;
} __attribute__((preserve_access_index));

static __always_inline struct file *fd_file(struct task_struct *t, int fd)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **arr, *f = NULL;

	if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	arr = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &arr[fd]))
		return NULL;
	return f;
}

static __always_inline umode_t file_mode(struct file *f)
{
	return BPF_CORE_READ(f, f_inode, i_mode);
}

struct walk_ctx {
	struct dentry *d;
	struct dentry *mnt_root;
	struct mount *mnt;
	__u32 off; /* start of the path in heap->path */
	__u32 trunc;
};

/* One step up the tree: prepend "/name", or cross to the parent mount. */
static long walk_step(__u32 i, void *arg)
{
	struct walk_ctx *c = arg;
	struct dentry *d = c->d, *parent = BPF_CORE_READ(d, d_parent);
	struct mount *mnt = c->mnt, *mp;
	struct qstr q;
	struct heap *h;
	__u32 zero = 0, len, off;

	if (d == c->mnt_root || d == parent) {
		mp = BPF_CORE_READ(mnt, mnt_parent);
		if (d != c->mnt_root || mp == mnt)
			return 1; /* the root of the mount namespace */
		c->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		c->mnt = mp;
		c->mnt_root = BPF_CORE_READ(mp, mnt.mnt_root);
		return 0;
	}
	h = bpf_map_lookup_elem(&heap, &zero);
	if (!h)
		return 1;
	q = BPF_CORE_READ(d, d_name);
	len = q.len & NAME_MASK;
	if (len + 1 >= c->off) { /* keep path[0] free: start >= 1 */
		c->trunc = 1;
		return 1;
	}
	c->off -= len + 1;
	off = c->off & (PATH_BUF - 1);
	bpf_probe_read_kernel(&h->path[off + 1], len, q.name);
	h->path[off] = '/';
	c->d = parent;
	return 0;
}

/* Absolute path of p into h->path; returns the offset where it starts
 * (the string ends with NUL at h->path[PATH_BUF]).
 */
static __always_inline __u32 walk_path(struct heap *h, const struct path *p,
				       __u32 *trunc)
{
	struct walk_ctx c = {};
	struct vfsmount *vm = BPF_CORE_READ(p, mnt);

	c.d = BPF_CORE_READ(p, dentry);
	c.mnt_root = BPF_CORE_READ(vm, mnt_root);
	c.mnt = container_of(vm, struct mount, mnt);
	c.off = PATH_BUF;
	h->path[PATH_BUF] = 0;
	bpf_loop(WALK_MAX, walk_step, &c, 0);
	if (c.off == PATH_BUF) {
		c.off = PATH_BUF - 1;
		h->path[c.off] = '/';
	}
	*trunc = c.trunc;
	return c.off;
}

/* ---- containers: a cgroup named after a 64-hex container id ---- */

struct cg_name {
	char name[96]; /* leaf cgroup name */
	char parent[16]; /* start of the parent's name */
	char cid[COLLECT_CID_LEN];
};

/* Without a branch per character: each branch is a state the verifier
 * follows, in every program that inlines or calls this.
 */
static __always_inline bool has_prefix(const char *s, const char *p, int n)
{
	char diff = 0;

	for (int i = 0; i < n && i < 16; i++)
		diff |= s[i] ^ p[i];
	return !diff;
}

/* 1 when c is not a lowercase hex digit, without a branch */
static __always_inline __u64 not_hex(char c)
{
	__s64 d = c - '0', a = c - 'a';

	return (__u64)((d | (9 - d)) & (a | (5 - a))) >> 63;
}

/* Match the leaf name of a cgroup against the patterns of docker,
 * containerd, cri-o and podman (plain "<id>", "docker-<id>.scope",
 * "cri-containerd-<id>.scope", "crio-<id>.scope", "libpod-<id>.scope");
 * on a match copy the 12-character short id and return the type. A global
 * function: the verifier checks its loops once, not in every caller.
 */
__noinline int cg_parse(struct cg_name *n)
{
	__u32 skip = 0, bad = 0;
	int type = CT_DOCKER;

	if (!n)
		return CT_NONE;
	if (has_prefix(n->name, "docker-", 7)) {
		skip = 7;
	} else if (has_prefix(n->name, "cri-containerd-", 15)) {
		skip = 15;
		type = CT_CONTAINERD;
	} else if (has_prefix(n->name, "crio-", 5)) {
		skip = 5;
		type = CT_CRIO;
	} else if (has_prefix(n->name, "libpod-", 7)) {
		skip = 7;
		type = CT_CUSTOM;
	} else if (!has_prefix(n->parent, "docker", 6)) {
		type = has_prefix(n->parent, "kubepods", 8) ||
				       has_prefix(n->parent, "pod", 3) ?
			       CT_CRI :
			       CT_DOCKER;
	}
	skip &= 15;
	for (int i = 0; i < 64; i++)
		bad |= not_hex(n->name[skip + i]);
	if (bad || (n->name[skip + 64] != 0 && n->name[skip + 64] != '.'))
		return CT_NONE;
	for (int i = 0; i < 12; i++)
		n->cid[i] = n->name[skip + i];
	n->cid[12] = 0;
	return type;
}

static __always_inline const char *kn_parent_name(struct kernfs_node *kn)
{
	struct kernfs_node___old *old = (void *)kn;

	if (bpf_core_field_exists(old->parent))
		return BPF_CORE_READ(old, parent, name);
	return BPF_CORE_READ(kn, __parent, name);
}

static __always_inline __u8 cgroup_container(struct kernfs_node *kn,
					     char cid[COLLECT_CID_LEN])
{
	struct cg_name n = {};
	int type;

	if (bpf_probe_read_kernel_str(n.name, sizeof(n.name),
				      BPF_CORE_READ(kn, name)) < 0)
		return CT_NONE;
	bpf_probe_read_kernel_str(n.parent, sizeof(n.parent),
				  kn_parent_name(kn));
	type = cg_parse(&n);
	if (type != CT_NONE)
		__builtin_memcpy(cid, n.cid, COLLECT_CID_LEN);
	return type;
}

/* The container of a task: its cgroup v2 leaf, else its v1 cpu cgroup. */
static __always_inline __u8 task_container(struct task_struct *t,
					   char cid[COLLECT_CID_LEN])
{
	int cpu_id = bpf_core_enum_value(enum cgroup_subsys_id, cpu_cgrp_id);
	struct kernfs_node *kn = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn);
	struct cgroup_subsys_state *css;
	__u8 type = CT_NONE;

	if (kn)
		type = cgroup_container(kn, cid);
	if (type != CT_NONE || cpu_id < 0 || cpu_id >= 12)
		return type;
	css = BPF_CORE_READ(t, cgroups, subsys[cpu_id]);
	kn = css ? BPF_CORE_READ(css, cgroup, kn) : NULL;
	return kn ? cgroup_container(kn, cid) : CT_NONE;
}

#endif /* __COLLECT_TASK_BPF_H */
