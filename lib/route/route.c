// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* route.c: the policy router's life cycle: apply (load, fill generation 0,
 * pin, attach to TC clsact), update (fill the other generation and flip),
 * del (detach, remove only the clsact qdiscs it created, unpin).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "core/core.h"
#include "route_int.h"
#include "route.skel.h"

_Static_assert(ROUTE_MAX_ATTACH ==
		       ARRAY_SIZE(((struct sf_route_status *)0)->hooks),
	       "sf_route_status.hooks must hold every attachment");

void sf_route_opts_init(struct sf_route_opts *opts)
{
	*opts = (struct sf_route_opts){ .pin_dir = SF_ROUTE_PIN_DIR };
}

const char *rt_pin_dir(const struct sf_route_opts *opts)
{
	return opts && opts->pin_dir ? opts->pin_dir : SF_ROUTE_PIN_DIR;
}

/* One apply, update or del at a time per pin directory; show takes the
 * lock shared. A second command waits for the first, as two runs of ip or
 * nft do, but no longer than RT_LOCK_WAIT_MS: a holder stopped for good
 * (Ctrl-Z) is named instead of hanging every later command.
 */
int rt_lock_dir(const char *dir, bool shared)
{
	int fd = sf_path_lock_wait(dir, false, shared, 0);

	if (fd != -EBUSY)
		return fd;
	pr_info("waiting for another sysflow route using %s\n", dir);
	fd = sf_path_lock_wait(dir, false, shared, RT_LOCK_WAIT_MS);
	if (fd == -EBUSY)
		pr_err("another sysflow route has held %s for %d s; stop it or "
		       "try again\n",
		       dir, RT_LOCK_WAIT_MS / 1000);
	return fd;
}

/* apply makes the directory; a del or failed apply that held the lock may
 * remove it under us, and then we make it again.
 */
static int lock_dir(const char *dir, bool create)
{
	int fd = -ENOENT;

	for (int tries = 0; fd == -ENOENT && tries < 3; tries++) {
		int err = create ? sf_make_pin_dir(dir, "--pin-dir") : 0;

		if (err)
			return err;
		fd = rt_lock_dir(dir, false);
		if (!create)
			break;
	}
	if (fd < 0 && fd != -EBUSY)
		rt_maps_explain_open(dir, fd);
	return fd;
}

static void unlock_dir(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int open_instance(struct rt_maps *m, const char *dir)
{
	struct route_state st;
	int err = rt_maps_open(m, dir);

	if (err) {
		rt_maps_explain_open(dir, err);
		return err;
	}
	err = rt_maps_get_state(m, &st);
	if (!err && st.abi != ROUTE_ABI)
		err = -EPROTO;
	if (err) {
		pr_err("the maps in %s are not from this sysflow (layout %u, "
		       "expected %u); remove them with 'sysflow route del'\n",
		       dir, err ? 0 : st.abi, ROUTE_ABI);
		rt_maps_close(m);
	}
	return err;
}

/* ---- TC hooks ---- */

static int hook_attach(int prog_fd, const struct rt_hook *h,
		       struct route_attach *a)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = h->ifindex,
		    .attach_point = h->egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .prog_fd = prog_fd);
	int err;

	sf_log_quiet_libbpf(true); /* an existing qdisc is no error here */
	err = bpf_tc_hook_create(&hook);
	sf_log_quiet_libbpf(false);

	/* -EEXIST: someone else's clsact (or ours from the other hook):
	 * use it, never destroy it.
	 */
	if (err && err != -EEXIST) {
		pr_err("cannot add a clsact qdisc to %s: %s\n", h->iface,
		       strerror(-err));
		return err;
	}
	a->created_hook = !err;
	a->ifindex = h->ifindex;
	a->egress = h->egress;
	err = bpf_tc_attach(&hook, &o);
	if (err) {
		pr_err("cannot attach the route program to %s %s: %s\n",
		       h->iface, h->egress ? "egress" : "ingress",
		       strerror(-err));
		if (a->created_hook)
			bpf_tc_hook_destroy(&hook);
		memset(a, 0, sizeof(*a));
		return err;
	}
	a->handle = o.handle;
	a->priority = o.priority;
	a->prog_id = o.prog_id;
	pr_debug("attached to %s %s (handle %u, priority %u)\n", h->iface,
		 h->egress ? "egress" : "ingress", o.handle, o.priority);
	return 0;
}

/* Detach our filter if it is still ours. */
static void hook_detach(const struct route_attach *a)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->ifindex,
		    .attach_point = a->egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = a->handle,
		    .priority = a->priority);
	char name[IF_NAMESIZE];
	int err;

	if (!if_indextoname(a->ifindex, name)) {
		pr_info("interface if%d of the %s hook was deleted: its filter "
			"and qdisc went with it\n",
			a->ifindex, a->egress ? "egress" : "ingress");
		return;
	}
	err = bpf_tc_query(&hook, &q);
	if (err) {
		pr_info("route filter on %s %s is already gone\n", name,
			a->egress ? "egress" : "ingress");
		return;
	}
	if (q.prog_id != a->prog_id) {
		pr_warn("filter %u:%u on %s now runs program %u, not ours "
			"(%u); leaving it\n",
			a->priority, a->handle, name, q.prog_id, a->prog_id);
		return;
	}
	q.prog_id = 0;
	q.prog_fd = 0;
	q.flags = 0;
	err = bpf_tc_detach(&hook, &q);
	if (err)
		pr_warn("cannot detach the route program from %s: %s\n", name,
			strerror(-err));
}

static void hook_destroy_qdisc(const struct route_attach *a)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	char name[IF_NAMESIZE];
	int err = bpf_tc_hook_destroy(&hook);

	if (err && err != -ENOENT && err != -EINVAL && err != -ENODEV)
		pr_warn("cannot remove the clsact qdisc of %s: %s\n",
			sf_iface_name(a->ifindex, name), strerror(-err));
}

/* Detach every hook in the attachments map, then drop the qdiscs we made. */
static void detach_all(int attach_fd)
{
	struct route_attach a[ROUTE_MAX_ATTACH] = {};

	for (uint32_t i = 0; i < ROUTE_MAX_ATTACH; i++)
		if (bpf_map_lookup_elem(attach_fd, &i, &a[i]))
			memset(&a[i], 0, sizeof(a[i]));
	for (int i = 0; i < ROUTE_MAX_ATTACH; i++)
		if (a[i].ifindex)
			hook_detach(&a[i]);
	for (int i = 0; i < ROUTE_MAX_ATTACH; i++)
		if (a[i].ifindex && a[i].created_hook)
			hook_destroy_qdisc(&a[i]);
}

static void unpin_all(const char *dir)
{
	char path[PATH_MAX];

	for (int i = 0; i < RT_MAP_MAX; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, rt_map_names[i]);
		unlink(path);
	}
	sf_remove_pin_dir(dir); /* only when empty: never someone else's */
}

/* ---- apply ---- */

static int skel_maps(struct route_bpf *s, struct rt_maps *m)
{
	m->ncpus = libbpf_num_possible_cpus();
	for (int i = 0; i < RT_MAP_MAX; i++) {
		struct bpf_map *map =
			bpf_object__find_map_by_name(s->obj, rt_map_names[i]);

		if (!map)
			return -ENOENT;
		m->fd[i] = bpf_map__fd(map);
	}
	return m->ncpus < 0 ? m->ncpus : 0;
}

static int pin_all(struct route_bpf *s, const char *dir)
{
	char path[PATH_MAX];
	int err;

	for (int i = 0; i < RT_MAP_MAX; i++) {
		struct bpf_map *map =
			bpf_object__find_map_by_name(s->obj, rt_map_names[i]);

		snprintf(path, sizeof(path), "%s/%s", dir, rt_map_names[i]);
		err = bpf_map__pin(map, path);
		if (err) {
			pr_err("cannot pin map %s at %s: %s\n", rt_map_names[i],
			       path, strerror(-err));
			return err;
		}
	}
	return 0;
}

static int attach_hooks(struct route_bpf *s, const struct sf_route_config *cfg,
			int attach_fd)
{
	int in_fd = bpf_program__fd(s->progs.tc_route_ingress);
	int eg_fd = bpf_program__fd(s->progs.tc_route_egress);

	for (uint32_t i = 0; i < (uint32_t)cfg->nhooks; i++) {
		const struct rt_hook *h = &cfg->hooks[i];
		struct route_attach a = {};
		int err = hook_attach(h->egress ? eg_fd : in_fd, h, &a);

		if (err)
			return err;
		/* recorded at once, so that del finds a half-done apply */
		if (bpf_map_update_elem(attach_fd, &i, &a, BPF_ANY)) {
			err = -errno;
			hook_detach(&a);
			if (a.created_hook)
				hook_destroy_qdisc(&a);
			return err;
		}
	}
	return 0;
}

static int load_and_fill(struct route_bpf **skel, struct rt_maps *m,
			 const struct sf_route_config *cfg)
{
	struct route_state st = { .abi = ROUTE_ABI };
	struct rt_tables *t = NULL;
	uint32_t zero = 0;
	struct route_bpf *s;
	int err;

	s = *skel = route_bpf__open();
	if (!s) {
		err = -errno;
		pr_err("cannot open the route BPF object: %s\n",
		       strerror(-err));
		return err;
	}
	err = route_bpf__load(s);
	if (err) {
		pr_err("the kernel refused the route program: %s (run with -v "
		       "-v for the verifier log)\n",
		       strerror(-err));
		return err;
	}
	err = skel_maps(s, m) ?: rt_compile(cfg, &t);
	err = err ?: rt_maps_write_gen(m, 0, t);
	st.nrules[0] = cfg->nrules;
	st.applied_ns = st.updated_ns = sf_clock_ns(CLOCK_REALTIME);
	if (!err &&
	    (bpf_map_update_elem(m->fd[RT_MAP_ACTIVE], &zero, &zero, BPF_ANY) ||
	     rt_maps_set_state(m, &st)))
		err = -errno;
	rt_tables_free(t);
	return err;
}

int sf_route_apply(const struct sf_route_config *cfg,
		   const struct sf_route_opts *opts)
{
	const char *dir = rt_pin_dir(opts);
	struct route_bpf *skel = NULL;
	struct rt_maps m = {};
	char path[PATH_MAX];
	bool pinned = false;
	int lock, err;

	lock = lock_dir(dir, true);
	if (lock < 0)
		return lock;
	snprintf(path, sizeof(path), "%s/%s", dir, rt_map_names[RT_MAP_STATE]);
	if (!access(path, F_OK)) {
		pr_err("route rules are already applied in %s; use 'sysflow "
		       "route update' to change them or 'del' first\n",
		       dir);
		err = -EEXIST;
		goto cleanup;
	}
	err = load_and_fill(&skel, &m, cfg);
	if (err)
		goto cleanup;
	pinned = true;
	err = pin_all(skel, dir);
	if (err)
		goto cleanup;
	err = attach_hooks(skel, cfg, m.fd[RT_MAP_ATTACH]);
	if (err)
		detach_all(m.fd[RT_MAP_ATTACH]);
	else
		pr_info("applied %d rule%s from %s on %d hook%s; pinned in "
			"%s\n",
			cfg->nrules, cfg->nrules == 1 ? "" : "s", cfg->path,
			cfg->nhooks, cfg->nhooks == 1 ? "" : "s", dir);
cleanup:
	if (err && pinned)
		unpin_all(dir);
	else if (err)
		sf_remove_pin_dir(dir);
	route_bpf__destroy(skel); /* filters and pins keep what is needed */
	unlock_dir(lock);
	return err;
}

/* ---- update ---- */

/* Attachments do not change at run time: the hooks of cfg must be those
 * that apply attached.
 */
static int check_same_hooks(struct rt_maps *m,
			    const struct sf_route_config *cfg)
{
	struct route_attach a;
	int n = 0;

	for (uint32_t i = 0; i < ROUTE_MAX_ATTACH; i++) {
		bool found = false;

		if (bpf_map_lookup_elem(m->fd[RT_MAP_ATTACH], &i, &a) ||
		    !a.ifindex)
			continue;
		for (int k = 0; k < cfg->nhooks; k++)
			found |= cfg->hooks[k].ifindex == (int)a.ifindex &&
				 cfg->hooks[k].egress == !!a.egress;
		if (!found)
			n = -1;
		else if (n >= 0)
			n++;
	}
	if (n == cfg->nhooks) /* hooks in cfg are unique (config.c) */
		return 0;
	pr_err("%s: the attach list differs from the applied one; hooks do "
	       "not change at run time: 'sysflow route del', then 'apply'\n",
	       cfg->path);
	return -EINVAL;
}

/* Counters follow a rule by name from the old generation to the new. */
static void carry_counters(struct rt_maps *m, uint32_t old, uint32_t nold,
			   uint32_t gen, uint32_t nnew)
{
	struct route_rule_meta mo, mn;
	struct route_counter c;

	for (uint32_t i = 0; i < nnew; i++) {
		uint32_t ni = gen * ROUTE_MAX_RULES + i;

		if (bpf_map_lookup_elem(m->fd[RT_MAP_META], &ni, &mn))
			continue;
		for (uint32_t j = 0; j < nold; j++) {
			uint32_t oi = old * ROUTE_MAX_RULES + j;

			if (bpf_map_lookup_elem(m->fd[RT_MAP_META], &oi, &mo) ||
			    strncmp(mo.name, mn.name, sizeof(mn.name)))
				continue;
			if (!rt_maps_rule_counter(m, oi, &c))
				bpf_map_update_elem(m->fd[RT_MAP_CARRIED], &ni,
						    &c, BPF_ANY);
			break;
		}
	}
}

int sf_route_update(const struct sf_route_config *cfg,
		    const struct sf_route_opts *opts)
{
	const char *dir = rt_pin_dir(opts);
	struct rt_tables *t = NULL;
	struct route_state st;
	struct rt_maps m = {};
	uint32_t zero = 0, old, gen;
	int lock, err;

	lock = lock_dir(dir, false);
	if (lock < 0)
		return lock;
	err = open_instance(&m, dir);
	if (err)
		goto unlock;
	err = check_same_hooks(&m, cfg)		   ?:
		      rt_maps_get_state(&m, &st)   ?:
		      rt_maps_get_active(&m, &old) ?:
						     rt_compile(cfg, &t);
	if (err)
		goto cleanup;
	gen = !old;
	err = rt_maps_write_gen(&m, gen, t);
	if (err)
		goto cleanup;
	/* The flip: one 4-byte map write; each packet reads it once. */
	if (bpf_map_update_elem(m.fd[RT_MAP_ACTIVE], &zero, &gen, BPF_ANY)) {
		err = -errno;
		pr_err("cannot switch to the new rules: %s\n", strerror(-err));
		goto cleanup;
	}
	rt_wait_grace();
	carry_counters(&m, old, st.nrules[old], gen, cfg->nrules);
	st.nrules[gen] = cfg->nrules;
	st.updates++;
	st.updated_ns = sf_clock_ns(CLOCK_REALTIME);
	err = rt_maps_set_state(&m, &st) ?: rt_maps_clear_gen(&m, old);
	if (!err)
		pr_info("updated to %d rule%s from %s (generation %u)\n",
			cfg->nrules, cfg->nrules == 1 ? "" : "s", cfg->path,
			gen);
cleanup:
	rt_tables_free(t);
	rt_maps_close(&m);
unlock:
	unlock_dir(lock);
	return err;
}

/* ---- del ---- */

int sf_route_del(const struct sf_route_opts *opts)
{
	const char *dir = rt_pin_dir(opts);
	char path[PATH_MAX];
	int lock, fd, err = 0;

	lock = lock_dir(dir, false);
	if (lock < 0)
		return lock;
	snprintf(path, sizeof(path), "%s/%s", dir, rt_map_names[RT_MAP_ATTACH]);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		pr_err("no route rules are applied in %s (%s)\n", dir,
		       strerror(-err));
	} else {
		detach_all(fd);
		close(fd);
		unpin_all(dir);
		pr_info("removed the route program and its maps from %s\n",
			dir);
	}
	unlock_dir(lock);
	return err;
}
