// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpf.c: the agent's BPF side: open guard.bpf.c with its maps pinned under
 * the pin folder (reused after a restart), attach the cgroup hooks, the
 * cgroup_skb drop of isolated sockets and the tracepoints through links
 * pinned beside them, and give table.c and isolate.c typed
 * access to the maps. A restarted agent swaps its programs into the pinned
 * cgroup links with BPF_LINK_UPDATE, so enforcement never has a gap.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "core/core.h"
#include "guard_int.h"
#include "guard.skel.h"

#define STORE_MSG_MAX 2032

struct guard_stored {
	uint64_t installed_ns;
	uint32_t len;
	uint32_t pad;
	uint8_t msg[STORE_MSG_MAX];
};

struct guard_kern {
	struct guard_bpf *skel;
	char pin_dir[256];
	char cgroup_path[256];
	int cgroup_fd;
	int lock_fd; /* flock on the pin folder: one agent per folder */
	bool skb_drop; /* the cgroup_skb programs are attached */
	int store_fd;
	int ncpus;
	struct guard_config *cfg; /* mmap()ed guard_cfg */
	struct ring_buffer *rb;
	guard_event_cb cb;
	void *cb_ctx;
	struct bpf_link *links[32];
	int n_links;
};

static const char *const pinned_maps[] = {
	"rules",	"masks",  "counters", "guard_cfg",  "exe_ids",	"procs",
	"pending_kill", "events", "stats",    "open_flags", "iso_socks"
};

static int pin_path(const struct guard_kern *b, const char *name, char *out,
		    size_t len)
{
	int n = snprintf(out, len, "%s/%s", b->pin_dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int set_pin_paths(struct guard_kern *b, bool *restored)
{
	char path[512];

	*restored = false;
	for (size_t i = 0; i < ARRAY_SIZE(pinned_maps); i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(
			b->skel->obj, pinned_maps[i]);

		if (!m || pin_path(b, pinned_maps[i], path, sizeof(path)))
			return -ENOENT;
		if (!access(path, F_OK))
			*restored = true;
		bpf_map__set_pin_path(m, path);
	}
	return 0;
}

static int create_store(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "guard_store",
				sizeof(uint32_t), sizeof(struct guard_stored),
				GUARD_MAX_SLOTS, &o);

	return fd < 0 ? -errno : fd;
}

static int open_store(struct guard_kern *b)
{
	char path[512];
	int fd;

	pin_path(b, "rulestore", path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		b->store_fd = fd;
		return 0;
	}
	fd = create_store();
	if (fd < 0)
		return fd;
	if (bpf_obj_pin(fd, path)) {
		int err = -errno;

		close(fd);
		return err;
	}
	b->store_fd = fd;
	return 0;
}

/* Attach prog, or take over the pinned link of an earlier agent. cgroup
 * links are updated in place; tracepoint links cannot be, so the new one
 * is attached before the old one is dropped (a short overlap, no gap).
 */
static int attach_one(struct guard_kern *b, struct bpf_program *prog,
		      bool cgroup)
{
	const char *name = bpf_program__name(prog);
	char path[512], lname[128];
	struct bpf_link *link, *old;
	int err;

	snprintf(lname, sizeof(lname), "link_%s", name);
	if (pin_path(b, lname, path, sizeof(path)))
		return -ENAMETOOLONG;
	old = access(path, F_OK) ? NULL : bpf_link__open(path);
	if (old && cgroup) {
		err = bpf_link__update_program(old, prog);
		if (!err) {
			b->links[b->n_links++] = old;
			return 0;
		}
		pr_warn("cannot update pinned link %s: %s; attaching anew\n",
			path, strerror(-err));
	}
	link = cgroup ? bpf_program__attach_cgroup(prog, b->cgroup_fd) :
			bpf_program__attach(prog);
	if (!link) {
		err = -errno;
		pr_err("cannot attach %s: %s\n", name, strerror(-err));
		bpf_link__destroy(old);
		return err;
	}
	if (old) {
		bpf_link__unpin(old);
		bpf_link__destroy(old);
	}
	err = bpf_link__pin(link, path);
	if (err) {
		pr_err("cannot pin link %s: %s\n", path, strerror(-err));
		bpf_link__destroy(link);
		return err;
	}
	b->links[b->n_links++] = link;
	return 0;
}

/* The cgroup_skb programs are optional: without them ISOLATION and
 * QUARANTINE are refused (guard_bpf_skb_drop() says so), the rest works.
 */
static int attach_all(struct guard_kern *b)
{
	struct bpf_program *prog;
	int err, n_skb = 0;

	bpf_object__for_each_program(prog, b->skel->obj) {
		enum bpf_attach_type t =
			bpf_program__expected_attach_type(prog);
		/* BPF_CGROUP_INET_INGRESS is 0, as is a tracepoint's */
		bool skb = bpf_program__type(prog) == BPF_PROG_TYPE_CGROUP_SKB;
		bool cg = skb || t == BPF_CGROUP_INET4_CONNECT ||
			  t == BPF_CGROUP_INET6_CONNECT ||
			  t == BPF_CGROUP_INET4_BIND ||
			  t == BPF_CGROUP_INET6_BIND ||
			  t == BPF_CGROUP_UDP4_SENDMSG ||
			  t == BPF_CGROUP_UDP6_SENDMSG ||
			  t == BPF_CGROUP_INET_SOCK_CREATE;

		if ((size_t)b->n_links >= ARRAY_SIZE(b->links))
			return -E2BIG;
		err = attach_one(b, prog, cg);
		if (err && skb) {
			pr_warn("cgroup_skb %s: cannot attach (%s): ISOLATION "
				"and QUARANTINE are refused\n",
				t == BPF_CGROUP_INET_INGRESS ? "ingress" :
							       "egress",
				strerror(-err));
			continue;
		}
		if (err)
			return err;
		n_skb += skb;
	}
	b->skb_drop = n_skb == 2;
	return 0;
}

static int handle_rb(void *ctx, void *data, size_t len)
{
	struct guard_kern *b = ctx;

	if (len < sizeof(struct guard_event) || !b->cb)
		return 0;
	b->cb(b->cb_ctx, data);
	return 0;
}

/* Two agents on one folder would share its rules and maps and take each
 * other's controller session in turn (the same host id): refuse the
 * second.
 */
static int lock_pin_dir(struct guard_kern *b, const char *pin_dir)
{
	b->lock_fd = sf_dir_lock(pin_dir, "agent", "-F");
	return b->lock_fd < 0 ? b->lock_fd : 0;
}

static int open_cgroup(struct guard_kern *b, const char *cgroup_path)
{
	int err;

	b->cgroup_fd = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->cgroup_fd < 0) {
		err = -errno;
		pr_err("cannot open cgroup %s: %s\n", cgroup_path,
		       strerror(-err));
		return err;
	}
	return 0;
}

/* Open the object with its maps pinned (*restored: some pins existed) */
static int open_skel(struct guard_kern *b, bool *restored)
{
	int err;

	b->skel = guard_bpf__open();
	if (!b->skel) {
		err = -errno;
		pr_err("cannot open the guard BPF object: %s\n",
		       strerror(-err));
		return err;
	}
	return set_pin_paths(b, restored);
}

static int load_skel(struct guard_kern *b, const char *pin_dir)
{
	int err = guard_bpf__load(b->skel);

	if (err)
		pr_err("cannot load the guard programs: %s; run with -v -v for "
		       "the verifier log, or remove stale pins in %s\n",
		       strerror(-err), pin_dir);
	return err;
}

static int make_store(struct guard_kern *b, const char *pin_dir)
{
	int err = open_store(b);

	if (err)
		pr_err("cannot create the rule store in %s: %s\n", pin_dir,
		       strerror(-err));
	return err;
}

/* guard_cfg, written in place through b->cfg */
static int map_config(struct guard_kern *b)
{
	void *mem;
	int err;

	mem = mmap(NULL, sizeof(struct guard_config), PROT_READ | PROT_WRITE,
		   MAP_SHARED, bpf_map__fd(b->skel->maps.guard_cfg), 0);
	if (mem == MAP_FAILED) {
		err = -errno;
		pr_err("cannot mmap the guard config map: %s\n",
		       strerror(-err));
		return err;
	}
	b->cfg = mem;
	return 0;
}

static int open_events(struct guard_kern *b)
{
	b->rb = ring_buffer__new(bpf_map__fd(b->skel->maps.events), handle_rb,
				 b, NULL);
	return b->rb ? 0 : -errno;
}

/* Every step from load_skel() on pins (maps at load, the rule store,
 * links at attach) or comes after a pin. A failure there undoes the pins
 * of a new folder (fresh: none of an earlier agent), so that nothing
 * enforces for an agent that never ran; an earlier agent's pins are left
 * as a stopped agent leaves them, its rules in force.
 */
struct guard_kern *guard_bpf_open(const char *pin_dir, const char *cgroup_path,
				  bool *restored, int *err)
{
	struct guard_kern *b = calloc(1, sizeof(*b));
	bool opened = false, fresh = false;

	if (!b) {
		*err = -ENOMEM;
		return NULL;
	}
	b->cgroup_fd = b->store_fd = b->lock_fd = -1;
	snprintf(b->pin_dir, sizeof(b->pin_dir), "%s", pin_dir);
	snprintf(b->cgroup_path, sizeof(b->cgroup_path), "%s", cgroup_path);
	b->ncpus = libbpf_num_possible_cpus();
	*err = sf_make_pin_dir(pin_dir, "-F");
	if (*err)
		goto fail;
	*err = lock_pin_dir(b, pin_dir);
	if (*err)
		goto fail;
	*err = open_cgroup(b, cgroup_path);
	if (*err)
		goto fail;
	*err = open_skel(b, restored);
	if (*err)
		goto fail;
	opened = true;
	fresh = !*restored;
	*err = load_skel(b, pin_dir);
	if (*err)
		goto fail;
	*err = make_store(b, pin_dir);
	if (*err)
		goto fail;
	*err = map_config(b);
	if (*err)
		goto fail;
	*err = attach_all(b);
	if (*err)
		goto fail;
	*err = open_events(b);
	if (*err)
		goto fail;
	return b;
fail:
	if (fresh)
		pr_info("start failed: programs detached, pins in %s removed\n",
			pin_dir);
	else if (opened)
		pr_info("rules stay in force in the kernel (pins in %s)\n",
			pin_dir);
	guard_bpf_close(b, fresh);
	sf_remove_pin_dir(pin_dir); /* only if we left it empty */
	return NULL;
}

struct guard_kern *guard_bpf_open_unattached(const char *cgroup_path, int *err)
{
	struct guard_kern *b = calloc(1, sizeof(*b));

	if (!b) {
		*err = -ENOMEM;
		return NULL;
	}
	b->cgroup_fd = b->store_fd = b->lock_fd = -1;
	snprintf(b->cgroup_path, sizeof(b->cgroup_path), "%s", cgroup_path);
	b->ncpus = libbpf_num_possible_cpus();
	b->skel = guard_bpf__open();
	*err = b->skel ? 0 : -errno;
	if (!*err)
		*err = guard_bpf__load(b->skel);
	if (!*err) {
		b->store_fd = create_store();
		*err = b->store_fd < 0 ? b->store_fd : 0;
	}
	if (!*err)
		*err = map_config(b);
	if (!*err)
		*err = open_events(b);
	if (!*err)
		return b;
	pr_err("cannot load the guard BPF object: %s\n", strerror(-*err));
	guard_bpf_close(b, false);
	return NULL;
}

static void remove_pins(const char *dir)
{
	struct dirent *de;
	char path[512];
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	sf_remove_pin_dir(dir);
}

void guard_bpf_close(struct guard_kern *b, bool unload)
{
	if (!b)
		return;
	ring_buffer__free(b->rb);
	for (int i = 0; i < b->n_links; i++) {
		if (unload)
			bpf_link__unpin(b->links[i]);
		bpf_link__destroy(b->links[i]);
	}
	if (b->cfg)
		munmap(b->cfg, sizeof(struct guard_config));
	if (b->store_fd >= 0)
		close(b->store_fd);
	if (b->cgroup_fd >= 0)
		close(b->cgroup_fd);
	guard_bpf__destroy(b->skel);
	if (unload)
		remove_pins(b->pin_dir);
	if (b->lock_fd >= 0)
		close(b->lock_fd);
	free(b);
}

int guard_bpf_unload_pins(const char *pin_dir)
{
	int lock;

	if (access(pin_dir, F_OK))
		return -ENOENT;
	lock = sf_dir_lock(pin_dir, "agent", NULL); /* not under a live one */
	if (lock < 0)
		return lock;
	/* unpinning the links detaches the programs; maps go with them */
	remove_pins(pin_dir);
	close(lock);
	return access(pin_dir, F_OK) ? 0 : -ENOTEMPTY; /* not ours inside */
}

/* ---- maps ---- */

static int upd(int fd, const void *k, const void *v)
{
	return bpf_map_update_elem(fd, k, v, BPF_ANY) ? -errno : 0;
}

int guard_bpf_entry_set(struct guard_kern *b, const struct guard_key *k,
			const struct guard_value *v)
{
	return upd(bpf_map__fd(b->skel->maps.rules), k, v);
}

int guard_bpf_entry_del(struct guard_kern *b, const struct guard_key *k)
{
	int rc = bpf_map_delete_elem(bpf_map__fd(b->skel->maps.rules), k);

	return rc && errno != ENOENT ? -errno : 0;
}

int guard_bpf_mask_set(struct guard_kern *b, uint32_t slot,
		       const struct guard_mask *m)
{
	return upd(bpf_map__fd(b->skel->maps.masks), &slot, m);
}

int guard_bpf_mask_read(struct guard_kern *b, uint32_t slot,
			struct guard_mask *m)
{
	return bpf_map_lookup_elem(bpf_map__fd(b->skel->maps.masks), &slot, m) ?
		       -errno :
		       0;
}

void guard_bpf_set_n_masks(struct guard_kern *b, uint32_t n)
{
	__atomic_store_n(&b->cfg->n_masks, n, __ATOMIC_RELEASE);
}

void guard_bpf_set_miss_socket(struct guard_kern *b, uint8_t miss)
{
	__atomic_store_n(&b->cfg->miss_socket, miss, __ATOMIC_RELEASE);
}

void guard_bpf_set_need(struct guard_kern *b, uint8_t need)
{
	__atomic_store_n(&b->cfg->need, need, __ATOMIC_RELEASE);
}

void guard_bpf_set_n_exes(struct guard_kern *b, uint32_t n)
{
	__atomic_store_n(&b->cfg->n_exes, n, __ATOMIC_RELEASE);
}

int guard_bpf_counter(struct guard_kern *b, uint32_t slot, uint64_t *hits,
		      uint64_t *last_ns)
{
	struct guard_counter v[b->ncpus];

	*hits = *last_ns = 0;
	if (bpf_map_lookup_elem(bpf_map__fd(b->skel->maps.counters), &slot, v))
		return -errno;
	for (int i = 0; i < b->ncpus; i++) {
		*hits += v[i].hits;
		if (v[i].last_ns > *last_ns)
			*last_ns = v[i].last_ns;
	}
	return 0;
}

int guard_bpf_counter_reset(struct guard_kern *b, uint32_t slot)
{
	struct guard_counter v[b->ncpus];

	memset(v, 0, sizeof(v));
	return upd(bpf_map__fd(b->skel->maps.counters), &slot, v);
}

static void path_key(struct guard_path *k, const char *path)
{
	memset(k, 0, sizeof(*k));
	strncpy(k->path, path, sizeof(k->path) - 1);
}

int guard_bpf_exe_set(struct guard_kern *b, const char *path, uint32_t id)
{
	struct guard_path k;

	path_key(&k, path);
	return upd(bpf_map__fd(b->skel->maps.exe_ids), &k, &id);
}

int guard_bpf_exe_del(struct guard_kern *b, const char *path)
{
	struct guard_path k;

	path_key(&k, path);
	bpf_map_delete_elem(bpf_map__fd(b->skel->maps.exe_ids), &k);
	return 0;
}

int guard_bpf_label(struct guard_kern *b, uint32_t tgid, uint32_t exe_id,
		    uint32_t pexe_id)
{
	struct guard_proc p = { exe_id, pexe_id };
	int fd = bpf_map__fd(b->skel->maps.procs);

	if (!exe_id && !pexe_id) {
		bpf_map_delete_elem(fd, &tgid);
		return 0;
	}
	return upd(fd, &tgid, &p);
}

int guard_bpf_get_label(struct guard_kern *b, uint32_t tgid,
			struct guard_proc *p)
{
	return bpf_map_lookup_elem(bpf_map__fd(b->skel->maps.procs), &tgid, p) ?
		       -errno :
		       0;
}

int guard_bpf_kill(struct guard_kern *b, uint32_t tgid, uint32_t sig)
{
	int err = upd(bpf_map__fd(b->skel->maps.pending_kill), &tgid, &sig);

	if (!err)
		__atomic_fetch_add(&b->cfg->kill_pending, 1, __ATOMIC_SEQ_CST);
	return err;
}

void guard_bpf_exe_walk(struct guard_kern *b, guard_exe_cb cb, void *ctx)
{
	int fd = bpf_map__fd(b->skel->maps.exe_ids);
	struct guard_path key, next, *prev = NULL;
	uint32_t id;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(fd, &key, &id)) {
			key.path[sizeof(key.path) - 1] = 0;
			cb(ctx, key.path, id);
		}
	}
}

void guard_bpf_entries_prune(struct guard_kern *b, guard_entry_keep_cb keep,
			     void *ctx)
{
	int fd = bpf_map__fd(b->skel->maps.rules);
	struct guard_key key, next, *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		if (!keep(ctx, &key)) {
			bpf_map_delete_elem(fd, &key);
			continue; /* restart from the same predecessor */
		}
		prev = &key;
	}
}

int guard_bpf_open_flags(struct guard_kern *b, uint32_t tgid, uint32_t *flags)
{
	return bpf_map_lookup_elem(bpf_map__fd(b->skel->maps.open_flags), &tgid,
				   flags) ?
		       -ENOENT :
		       0;
}

bool guard_bpf_skb_drop(struct guard_kern *b)
{
	return b->skb_drop;
}

const char *guard_bpf_cgroup_path(struct guard_kern *b)
{
	return b->cgroup_path;
}

int guard_bpf_iso_sock_add(struct guard_kern *b, uint64_t cookie,
			   const struct guard_iso_sock *v)
{
	int fd = bpf_map__fd(b->skel->maps.iso_socks);

	if (!bpf_map_update_elem(fd, &cookie, v, BPF_NOEXIST)) {
		__atomic_fetch_add(&b->cfg->iso_socks, 1, __ATOMIC_SEQ_CST);
		return 0;
	}
	if (errno != EEXIST)
		return -errno;
	return upd(fd, &cookie, v); /* already there (a restart) */
}

int guard_bpf_iso_sock_del(struct guard_kern *b, uint64_t cookie)
{
	if (bpf_map_delete_elem(bpf_map__fd(b->skel->maps.iso_socks), &cookie))
		return errno == ENOENT ? 0 : -errno;
	__atomic_fetch_sub(&b->cfg->iso_socks, 1, __ATOMIC_SEQ_CST);
	return 0;
}

void guard_bpf_iso_socks_walk(struct guard_kern *b, guard_iso_sock_cb cb,
			      void *ctx)
{
	int fd = bpf_map__fd(b->skel->maps.iso_socks);
	uint64_t key, next, *prev = NULL;
	struct guard_iso_sock v;
	uint32_t n = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		if (!bpf_map_lookup_elem(fd, &key, &v) && !cb(ctx, key, &v)) {
			bpf_map_delete_elem(fd, &key);
			continue; /* restart from the same predecessor */
		}
		prev = &key;
		n++;
	}
	__atomic_store_n(&b->cfg->iso_socks, n, __ATOMIC_SEQ_CST);
}

uint32_t guard_bpf_count(struct guard_kern *b, enum guard_bpf_counted what)
{
	int fd = what == GUARD_COUNT_STORE ?
			 b->store_fd :
		 what == GUARD_COUNT_EXES ?
			 bpf_map__fd(b->skel->maps.exe_ids) :
		 what == GUARD_COUNT_ISO_SOCKS ?
			 bpf_map__fd(b->skel->maps.iso_socks) :
			 bpf_map__fd(b->skel->maps.rules);
	/* room for the largest key, a struct guard_path */
	uint8_t key[sizeof(struct guard_path)], next[sizeof(key)];
	void *prev = NULL;
	uint32_t n = 0;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return n;
}

void guard_bpf_stats(struct guard_kern *b, uint64_t out[GS_MAX])
{
	sf_percpu_sum(bpf_map__fd(b->skel->maps.stats), out, GS_MAX);
}

int guard_bpf_events_fd(struct guard_kern *b)
{
	return ring_buffer__epoll_fd(b->rb);
}

int guard_bpf_poll_events(struct guard_kern *b, guard_event_cb cb, void *ctx)
{
	b->cb = cb;
	b->cb_ctx = ctx;
	return ring_buffer__consume(b->rb);
}

int guard_bpf_store_put(struct guard_kern *b, uint32_t slot, const void *msg,
			size_t len, uint64_t installed_ns)
{
	struct guard_stored *s;
	int err;

	if (len > STORE_MSG_MAX)
		return -EMSGSIZE;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->installed_ns = installed_ns;
	s->len = len;
	memcpy(s->msg, msg, len);
	err = upd(b->store_fd, &slot, s);
	free(s);
	return err;
}

int guard_bpf_store_del(struct guard_kern *b, uint32_t slot)
{
	bpf_map_delete_elem(b->store_fd, &slot);
	return 0;
}

int guard_bpf_store_walk(struct guard_kern *b, guard_store_cb cb, void *ctx)
{
	struct guard_stored *s = malloc(sizeof(*s));
	uint32_t key, next, *prev = NULL;
	int err = 0;

	if (!s)
		return -ENOMEM;
	while (!bpf_map_get_next_key(b->store_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(b->store_fd, &key, s))
			continue;
		if (s->len > STORE_MSG_MAX)
			continue;
		err = cb(ctx, key, s->msg, s->len, s->installed_ns);
		if (err)
			break;
	}
	free(s);
	return err;
}
