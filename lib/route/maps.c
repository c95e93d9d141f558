// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* maps.c: the policy router's pinned maps: open them, write or clear one
 * generation, read counters and state. Used alike by apply (fresh maps),
 * update, show and del (pinned maps of a running instance).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "core/core.h"
#include "core/grow.h"
#include "route_int.h"

const char *const rt_map_names[RT_MAP_MAX] = {
	[RT_MAP_ACTIVE] = "active",	 [RT_MAP_RULES] = "rules",
	[RT_MAP_SRC4] = "src4",		 [RT_MAP_DST4] = "dst4",
	[RT_MAP_SRC6] = "src6",		 [RT_MAP_DST6] = "dst6",
	[RT_MAP_INGRESS] = "ingress",	 [RT_MAP_PROTOS] = "protos",
	[RT_MAP_SPORTS] = "sports",	 [RT_MAP_DPORTS] = "dports",
	[RT_MAP_COUNTERS] = "counters",	 [RT_MAP_STATS] = "stats",
	[RT_MAP_META] = "rule_meta",	 [RT_MAP_CARRIED] = "carried",
	[RT_MAP_ATTACH] = "attachments", [RT_MAP_STATE] = "state",
};

int rt_maps_open(struct rt_maps *m, const char *dir)
{
	char path[PATH_MAX];
	int err;

	for (int i = 0; i < RT_MAP_MAX; i++)
		m->fd[i] = -1;
	m->ncpus = libbpf_num_possible_cpus();
	if (m->ncpus < 0)
		return m->ncpus;
	for (int i = 0; i < RT_MAP_MAX; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, rt_map_names[i]);
		m->fd[i] = bpf_obj_get(path);
		if (m->fd[i] < 0) {
			err = -errno;
			rt_maps_close(m);
			return err;
		}
	}
	return 0;
}

void rt_maps_explain_open(const char *dir, int err)
{
	if (err == -ENOENT)
		pr_err("no route rules are applied in %s (nothing pinned "
		       "there; see --pin-dir)\n",
		       dir);
	else
		pr_err("cannot open the route maps pinned in %s: %s\n", dir,
		       strerror(-err));
}

void rt_maps_close(struct rt_maps *m)
{
	for (int i = 0; i < RT_MAP_MAX; i++) {
		if (m->fd[i] >= 0)
			close(m->fd[i]);
		m->fd[i] = -1;
	}
}

static int update(int fd, const void *key, const void *val)
{
	return bpf_map_update_elem(fd, key, val, BPF_ANY) ? -errno : 0;
}

/* Array entries [base, base + n) from vals, in one batch. */
static int write_array(int fd, uint32_t base, const void *vals, uint32_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	uint32_t *keys = malloc(n * sizeof(*keys)), count = n;
	int err = 0;

	if (!keys)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		keys[i] = base + i;
	if (bpf_map_update_batch(fd, keys, vals, &count, &o))
		err = -errno;
	free(keys);
	return err;
}

/* Delete the keys of a trie or hash whose generation is gen; gen_at is
 * the offset of the generation byte or word in the key.
 */
static int clear_keyed(int fd, size_t key_size, size_t gen_at, bool gen_u32,
		       uint32_t gen)
{
	char key[sizeof(struct route_lpm6)], next[sizeof(key)];
	char(*doomed)[sizeof(key)] = NULL;
	size_t n = 0, cap = 0;
	void *prev = NULL;
	int err = 0;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		uint32_t g = gen_u32 ? *(uint32_t *)(next + gen_at) :
				       (uint8_t)next[gen_at];

		if (g == gen) {
			if (grow_array(doomed, cap, n, 1, 64)) {
				err = -ENOMEM;
				break;
			}
			memcpy(doomed[n++], next, key_size);
		}
		memcpy(key, next, key_size);
		prev = key;
	}
	for (size_t i = 0; i < n && !err; i++)
		if (bpf_map_delete_elem(fd, doomed[i]) && errno != ENOENT)
			err = -errno;
	free(doomed);
	return err;
}

static int zero_counters(struct rt_maps *m, uint32_t gen)
{
	size_t n = (size_t)m->ncpus * ROUTE_MAX_RULES;
	struct route_counter *zeros = calloc(n, sizeof(*zeros));
	int err;

	if (!zeros)
		return -ENOMEM;
	err = write_array(m->fd[RT_MAP_COUNTERS], gen * ROUTE_MAX_RULES, zeros,
			  ROUTE_MAX_RULES);
	if (!err)
		err = write_array(m->fd[RT_MAP_CARRIED], gen * ROUTE_MAX_RULES,
				  zeros, ROUTE_MAX_RULES);
	free(zeros);
	return err;
}

int rt_maps_clear_gen(struct rt_maps *m, uint32_t gen)
{
	size_t gen_at = offsetof(struct route_lpm4, gen);
	int err = 0;

	for (int k = RT_MAP_SRC4; k <= RT_MAP_DST6 && !err; k++)
		err = clear_keyed(m->fd[k],
				  k <= RT_MAP_DST4 ? sizeof(struct route_lpm4) :
						     sizeof(struct route_lpm6),
				  gen_at, false, gen);
	if (!err)
		err = clear_keyed(m->fd[RT_MAP_INGRESS],
				  sizeof(struct route_ingress_key),
				  offsetof(struct route_ingress_key, gen), true,
				  gen);
	return err ?: zero_counters(m, gen);
}

static int write_lpm(int fd, int family, uint32_t gen,
		     const struct rt_lpm_entry *v, int n)
{
	struct route_lpm6 k6;
	struct route_lpm4 k4;
	int err = 0;

	for (int i = 0; i < n && !err; i++) {
		if (family == 4) {
			k4.prefixlen = 8 + v[i].prefix.len;
			k4.gen = gen;
			memcpy(k4.addr, v[i].prefix.addr, 4);
			err = update(fd, &k4, &v[i].bits);
		} else {
			k6.prefixlen = 8 + v[i].prefix.len;
			k6.gen = gen;
			memcpy(k6.addr, v[i].prefix.addr, 16);
			err = update(fd, &k6, &v[i].bits);
		}
	}
	return err;
}

int rt_maps_write_gen(struct rt_maps *m, uint32_t gen,
		      const struct rt_tables *t)
{
	static const int fam[4] = { 4, 4, 6, 6 };
	int err = rt_maps_clear_gen(m, gen);

	err = err   ?:
		      write_array(m->fd[RT_MAP_RULES], gen * ROUTE_MAX_RULES,
				  t->rules, ROUTE_MAX_RULES);
	err = err   ?:
		      write_array(m->fd[RT_MAP_META], gen * ROUTE_MAX_RULES,
				  t->meta, ROUTE_MAX_RULES);
	err = err   ?:
		      write_array(m->fd[RT_MAP_PROTOS], gen * ROUTE_PROTO_SLOTS,
				  t->protos, ROUTE_PROTO_SLOTS);
	err = err   ?:
		      write_array(m->fd[RT_MAP_SPORTS], gen * ROUTE_PORTS,
				  t->sports, ROUTE_PORTS);
	err = err   ?:
		      write_array(m->fd[RT_MAP_DPORTS], gen * ROUTE_PORTS,
				  t->dports, ROUTE_PORTS);
	for (int k = 0; k < 4 && !err; k++)
		err = write_lpm(m->fd[RT_MAP_SRC4 + k], fam[k], gen, t->lpm[k],
				t->nlpm[k]);
	for (int k = 0; k < t->ningress && !err; k++) {
		struct route_ingress_key key = { gen, t->ingress[k].ifindex };

		err = update(m->fd[RT_MAP_INGRESS], &key, &t->ingress[k].bits);
	}
	if (err)
		pr_err("cannot write generation %u of the route maps: %s\n",
		       gen, strerror(-err));
	return err;
}

int rt_maps_rule_counter(struct rt_maps *m, uint32_t idx,
			 struct route_counter *out)
{
	struct route_counter *per = calloc(m->ncpus, sizeof(*per)), c = {};
	int err = 0;

	if (!per)
		return -ENOMEM;
	if (bpf_map_lookup_elem(m->fd[RT_MAP_COUNTERS], &idx, per) ||
	    bpf_map_lookup_elem(m->fd[RT_MAP_CARRIED], &idx, &c))
		err = -errno;
	for (int i = 0; i < m->ncpus && !err; i++) {
		c.packets += per[i].packets;
		c.bytes += per[i].bytes;
	}
	free(per);
	*out = c;
	return err;
}

int rt_maps_get_state(struct rt_maps *m, struct route_state *st)
{
	uint32_t zero = 0;

	return bpf_map_lookup_elem(m->fd[RT_MAP_STATE], &zero, st) ? -errno : 0;
}

int rt_maps_set_state(struct rt_maps *m, const struct route_state *st)
{
	uint32_t zero = 0;

	return update(m->fd[RT_MAP_STATE], &zero, st);
}

int rt_maps_get_active(struct rt_maps *m, uint32_t *gen)
{
	uint32_t zero = 0;

	return bpf_map_lookup_elem(m->fd[RT_MAP_ACTIVE], &zero, gen) ? -errno :
								       0;
}

void rt_wait_grace(void)
{
	/* MEMBARRIER_CMD_GLOBAL is synchronize_rcu(): TC programs run inside
	 * RCU read-side sections, so once it returns no packet still uses a
	 * generation read before the flip. It is refused with nohz_full.
	 */
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0)) {
		pr_debug("membarrier: %s; waiting 100 ms instead\n",
			 strerror(errno));
		usleep(100000);
	}
}
