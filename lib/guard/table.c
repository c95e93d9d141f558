// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* table.c: the agent's rule table. Each rule is checked against what this
 * kernel can enforce, then split by mechanism: socket operations become
 * kernel entries (tuple-space keys, one per port block and cgroup, the
 * highest-priority rule per key written to the pinned map); file
 * operations stay here and are matched per fanotify event. Names are
 * never resolved once: executables are labelled by the kernel at exec,
 * cgroup and container names are re-resolved every second, file paths are
 * compared per event. Timeouts, counters and the pinned rule store too,
 * and the subjects of ISOLATION, QUARANTINE and ENCODE: the processes a
 * subject-only rule names get them at install, sockets they already have
 * included (isolate.c), until they exit or the rule goes.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "core/core.h"
#include "core/grow.h"
#include "guard_int.h"
#include "proto/conn.h"

#define KHASH_SIZE 16384
#define PATH_HASH_SIZE 4096
#define ISO_SLOT (GUARD_MAX_SLOTS - 1) /* counters of isolation entries */
#define MAX_RULES (GUARD_MAX_SLOTS - 1)
#define RESOLVE_MS 1000

struct mask_slot {
	struct guard_mask m;
	uint32_t refs[SF_OP_COUNT];
	uint32_t total;
};

/* One kernel key and the rules that produce it, best written to the map. */
struct kentry {
	struct guard_key key;
	struct guard_rule **rules;
	uint32_t n, cap;
	struct kentry *next;
};

struct exe_ent {
	char path[GUARD_PATH_MAX];
	uint32_t id;
	uint32_t refs;
};

struct iso_ent {
	uint32_t tgid;
	uint64_t start_time;
	bool quarantine;
	bool warned; /* its sockets could not be reached: said once */
	uint32_t why_slot; /* the rule that isolated it; ISO_SLOT: none */
	struct guard_rule rule; /* pid-only entries, priority 65535 */
	struct guard_socks socks; /* sockets it had, dropped in the kernel */
};

struct guard_table {
	struct guard_kern *b;
	struct guard_caps caps;
	char cgroup_root[256];
	char scope[256]; /* the hooks' cgroup, relative to cgroup_root */
	struct guard_rule *rules[GUARD_MAX_SLOTS];
	uint32_t n_rules;
	struct mask_slot masks[GUARD_MAX_MASKS];
	uint32_t n_masks;
	struct kentry *kh[KHASH_SIZE];
	struct exe_ent *exes;
	uint32_t n_exes, cap_exes, next_exe_id;
	bool exes_changed;
	struct guard_rule *path_idx[PATH_HASH_SIZE];
	uint32_t n_file_rules, n_file_exact;
	struct iso_ent *iso;
	uint32_t n_iso, cap_iso;
	uint64_t last_resolve_ms;
	bool restoring;
};

static const uint8_t kernel_ops[] = { SF_OP_SOCKET_CONNECT, SF_OP_SOCKET_BIND,
				      SF_OP_SOCKET_WRITE, SF_OP_SOCKET_CREATE };
static const uint8_t file_ops[] = { SF_OP_FILE_OPEN, SF_OP_FILE_READ,
				    SF_OP_FILE_WRITE, SF_OP_FILE_EXECUTE };

static uint64_t fnv(const void *p, size_t n)
{
	const uint8_t *s = p;
	uint64_t h = 1469598103934665603ULL;

	while (n--)
		h = (h ^ *s++) * 1099511628211ULL;
	return h;
}

/* ---- masks ---- */

/* Tell the hooks which subject fields some mask compares. A field is
 * announced before a mask that needs it is used, and withdrawn after.
 */
static void publish_need(struct guard_table *t)
{
	uint8_t need = 0;

	for (uint32_t i = 0; i < GUARD_MAX_MASKS; i++) {
		const struct guard_key *k = &t->masks[i].m.bits;

		if (!t->masks[i].total)
			continue;
		if (k->comm[0])
			need |= GUARD_NEED_COMM;
		if (k->cgroup_id)
			need |= GUARD_NEED_CGROUP;
		if (k->exe_id || k->pexe_id)
			need |= GUARD_NEED_PROCS;
	}
	guard_bpf_set_need(t->b, need);
}

static int mask_get(struct guard_table *t, const struct guard_mask *m,
		    uint8_t op)
{
	int free_slot = -1;

	for (uint32_t i = 0; i < GUARD_MAX_MASKS; i++) {
		struct mask_slot *s = &t->masks[i];

		if (!s->total) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (!memcmp(&s->m.bits, &m->bits, sizeof(m->bits))) {
			if (!s->refs[op]++ && !(s->m.ops & (1ULL << op))) {
				s->m.ops |= 1ULL << op;
				guard_bpf_mask_set(t->b, i, &s->m);
			}
			s->total++;
			return i;
		}
	}
	if (free_slot < 0)
		return -ENOSPC;
	struct mask_slot *s = &t->masks[free_slot];

	memset(s, 0, sizeof(*s));
	s->m.bits = m->bits;
	s->m.ops = 1ULL << op;
	s->refs[op] = 1;
	s->total = 1;
	publish_need(t);
	/* the mask is in the map before the kernel may scan its slot */
	if (guard_bpf_mask_set(t->b, free_slot, &s->m))
		return -EIO;
	if ((uint32_t)free_slot + 1 > t->n_masks) {
		t->n_masks = free_slot + 1;
		guard_bpf_set_n_masks(t->b, t->n_masks);
	}
	return free_slot;
}

static void mask_put(struct guard_table *t, uint32_t slot, uint8_t op)
{
	struct mask_slot *s = &t->masks[slot];

	if (!s->total || !s->refs[op])
		return;
	s->total--;
	if (!--s->refs[op])
		s->m.ops &= ~(1ULL << op);
	if (!s->total)
		memset(&s->m, 0, sizeof(s->m));
	guard_bpf_mask_set(t->b, slot, &s->m);
	while (t->n_masks && !t->masks[t->n_masks - 1].total)
		t->n_masks--;
	guard_bpf_set_n_masks(t->b, t->n_masks);
	if (!s->total)
		publish_need(t);
}

/* ---- kernel entries ---- */

static struct kentry **kfind(struct guard_table *t, const struct guard_key *k)
{
	struct kentry **pp = &t->kh[fnv(k, sizeof(*k)) % KHASH_SIZE];

	while (*pp && memcmp(&(*pp)->key, k, sizeof(*k)))
		pp = &(*pp)->next;
	return pp;
}

static bool better(const struct guard_rule *a, const struct guard_rule *b)
{
	return a->fm.priority > b->fm.priority ||
	       (a->fm.priority == b->fm.priority && a->slot < b->slot);
}

static void rule_value(const struct guard_rule *r, struct guard_value *v)
{
	memset(v, 0, sizeof(*v));
	v->slot = r->slot;
	v->priority = r->fm.priority;
	v->flags = r->kflags;
	for (int i = 0; i < r->fm.n_actions; i++) {
		if (r->fm.actions[i].type == SF_ACT_KILL)
			v->signal = r->fm.actions[i].arg;
		if (r->fm.actions[i].type == SF_ACT_ENCODE)
			v->dscp = r->fm.actions[i].arg;
	}
}

static int kentry_write(struct guard_table *t, struct kentry *e)
{
	struct guard_rule *best = e->rules[0];
	struct guard_value v;

	for (uint32_t i = 1; i < e->n; i++)
		if (better(e->rules[i], best))
			best = e->rules[i];
	rule_value(best, &v);
	return guard_bpf_entry_set(t->b, &e->key, &v);
}

static int kentry_add(struct guard_table *t, const struct guard_key *k,
		      struct guard_rule *r)
{
	struct kentry **pp = kfind(t, k), *e = *pp;

	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->key = *k;
		*pp = e;
	}
	if (grow_array(e->rules, e->cap, e->n, 1, 2))
		return -ENOMEM;
	e->rules[e->n++] = r;
	return kentry_write(t, e);
}

static void kentry_del(struct guard_table *t, const struct guard_key *k,
		       struct guard_rule *r)
{
	struct kentry **pp = kfind(t, k), *e = *pp;

	if (!e)
		return;
	for (uint32_t i = 0; i < e->n; i++) {
		if (e->rules[i] == r) {
			e->rules[i] = e->rules[--e->n];
			break;
		}
	}
	if (e->n) {
		kentry_write(t, e);
		return;
	}
	guard_bpf_entry_del(t->b, k);
	*pp = e->next;
	free(e->rules);
	free(e);
}

/* ---- executables: ids the kernel assigns at exec ---- */

static struct exe_ent *exe_find(struct guard_table *t, const char *path)
{
	for (uint32_t i = 0; i < t->n_exes; i++)
		if (!strcmp(t->exes[i].path, path))
			return &t->exes[i];
	return NULL;
}

static int exe_get(struct guard_table *t, const char *path, uint32_t *id)
{
	struct exe_ent *e = exe_find(t, path);

	if (strlen(path) >= GUARD_PATH_MAX)
		return -ENAMETOOLONG;
	if (!e) {
		if (grow_array(t->exes, t->cap_exes, t->n_exes, 1, 16))
			return -ENOMEM;
		e = &t->exes[t->n_exes++];
		memset(e, 0, sizeof(*e));
		snprintf(e->path, sizeof(e->path), "%s", path);
		e->id = ++t->next_exe_id;
		if (guard_bpf_exe_set(t->b, path, e->id))
			return -EIO;
		guard_bpf_set_n_exes(t->b, t->n_exes);
		t->exes_changed = true;
	}
	e->refs++;
	*id = e->id;
	return 0;
}

static void exe_put(struct guard_table *t, uint32_t id)
{
	for (uint32_t i = 0; i < t->n_exes; i++) {
		struct exe_ent *e = &t->exes[i];

		if (e->id != id || --e->refs)
			continue;
		guard_bpf_exe_del(t->b, e->path);
		t->exes[i] = t->exes[--t->n_exes];
		guard_bpf_set_n_exes(t->b, t->n_exes);
		return;
	}
}

/* Label running processes whose executable (or parent's) is a rule's:
 * processes that exec later are labelled by the kernel itself.
 */
void guard_table_scan_procs(struct guard_table *t)
{
	struct sf_procinfo *pi = malloc(sizeof(*pi));
	struct dirent *de;
	DIR *d;

	t->exes_changed = false;
	if (!pi || !t->n_exes)
		goto out;
	d = opendir("/proc");
	if (!d)
		goto out;
	while ((de = readdir(d))) {
		struct exe_ent *e, *pe;
		pid_t pid = atoi(de->d_name);

		if (pid <= 0 ||
		    sf_procinfo_read(pid, SF_PI_EXE | SF_PI_PARENT_EXE, pi))
			continue;
		e = pi->exe[0] ? exe_find(t, pi->exe) : NULL;
		pe = pi->parent_exe[0] ? exe_find(t, pi->parent_exe) : NULL;
		if (e || pe)
			guard_bpf_label(t->b, pid, e ? e->id : 0,
					pe ? pe->id : 0);
	}
	closedir(d);
out:
	free(pi);
}

/* ---- cgroup and container names -> cgroup ids ---- */

static uint64_t cgroup_id_of(const char *root, const char *rel)
{
	char path[1024];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	if (stat(path, &st) || !S_ISDIR(st.st_mode))
		return 0;
	return st.st_ino;
}

static struct {
	const char *id;
	uint64_t *ids;
	uint32_t n, cap;
} walk_ctx;

static int walk_cgroup(const char *path, const struct stat *st, int flag,
		       struct FTW *ftw)
{
	char cid[SF_CONTAINER_ID_LEN + 1];

	(void)ftw;
	if (flag != FTW_D)
		return 0;
	if (sf_container_id(path, cid, sizeof(cid)) ||
	    !sf_container_match(walk_ctx.id, cid))
		return 0;
	/* only the container's own cgroup, not each one below it */
	const char *last = strrchr(path, '/');

	if (!last || !strstr(last, cid))
		return 0;
	if (grow_array(walk_ctx.ids, walk_ctx.cap, walk_ctx.n, 1, 4))
		return 1;
	walk_ctx.ids[walk_ctx.n++] = st->st_ino;
	return 0;
}

/* The cgroup ids a rule's CGROUP or CONTAINER names today. */
static int resolve_cgroups(struct guard_table *t, const struct sfp_match *m,
			   uint64_t **ids, uint32_t *n)
{
	*ids = NULL;
	*n = 0;
	if (m->fields & SFP_F(SFP_F_CGROUP)) {
		uint64_t id = cgroup_id_of(t->cgroup_root, m->cgroup);

		if (!id)
			return 0;
		*ids = malloc(sizeof(uint64_t));
		if (!*ids)
			return -ENOMEM;
		(*ids)[0] = id;
		*n = 1;
		return 0;
	}
	memset(&walk_ctx, 0, sizeof(walk_ctx));
	walk_ctx.id = m->container;
	nftw(t->cgroup_root, walk_cgroup, 16, FTW_PHYS | FTW_MOUNT);
	*ids = walk_ctx.ids;
	*n = walk_ctx.n;
	return 0;
}

/* ---- rule -> kernel keys ---- */

struct keyset {
	struct guard_key *v;
	uint32_t n, cap;
};

static int keyset_push(struct keyset *ks, const struct guard_key *k)
{
	if (grow_array(ks->v, ks->cap, ks->n, 1, 8))
		return -ENOMEM;
	ks->v[ks->n++] = *k;
	return 0;
}

static void apply_mask(struct guard_key *k, const struct guard_mask *m)
{
	uint64_t *kw = (uint64_t *)k;
	const uint64_t *mw = (const uint64_t *)&m->bits;

	for (int w = 0; w < GUARD_KEY_WORDS; w++)
		kw[w] &= mw[w];
}

static bool op_applies(uint8_t op, uint32_t fields)
{
	bool file = op <= SF_OP_FILE_OPEN;

	if (file)
		return !(fields & SFP_NET_FIELDS);
	if (fields & SFP_FILE_FIELDS)
		return false;
	if (op == SF_OP_SOCKET_CREATE &&
	    (fields & (SFP_F(SFP_F_ADDR) | SFP_F(SFP_F_PORT))))
		return false;
	return true;
}

static bool rule_has_op(const struct guard_rule *r, uint8_t op,
			const struct guard_caps *caps)
{
	const struct sfp_match *m = &r->fm.match;

	if (m->op != SF_OP_ANY)
		return m->op == op;
	if (!caps->mechanism[op] || !op_applies(op, m->fields))
		return false;
	for (int i = 0; i < r->fm.n_actions; i++)
		if (!(caps->actions[op] & (1u << r->fm.actions[i].type)))
			return false;
	return true;
}

/* Build the key and mask shared by every expansion of the rule. */
static void base_key(const struct guard_rule *r, struct guard_key *k,
		     struct guard_mask *mk)
{
	const struct sfp_match *m = &r->fm.match;
	uint32_t f = m->fields;

	memset(k, 0, sizeof(*k));
	memset(mk, 0, sizeof(*mk));
	mk->bits.op = 0xff;
	if (f & SFP_F(SFP_F_PROTO)) {
		k->proto = m->proto;
		mk->bits.proto = 0xff;
	}
	if (f & SFP_F(SFP_F_UID)) {
		k->uid = m->uid;
		mk->bits.uid = ~0u;
	}
	if (f & SFP_F(SFP_F_PID)) {
		k->pid = m->pid;
		mk->bits.pid = ~0u;
	}
	if (f & SFP_F(SFP_F_EXE)) {
		k->exe_id = r->exe_id;
		mk->bits.exe_id = ~0u;
	}
	if (f & SFP_F(SFP_F_PARENT_EXE)) {
		k->pexe_id = r->pexe_id;
		mk->bits.pexe_id = ~0u;
	}
	if (f & SFP_F(SFP_F_COMM)) {
		memcpy(k->comm, m->comm, strnlen(m->comm, sizeof(k->comm) - 1));
		memset(mk->bits.comm, 0xff, sizeof(mk->bits.comm));
	}
	if (f & (SFP_F(SFP_F_CGROUP) | SFP_F(SFP_F_CONTAINER)))
		mk->bits.cgroup_id = ~0ULL;
	if (f & SFP_F(SFP_F_ADDR)) {
		int bits = m->prefix_len;

		k->family = m->family;
		mk->bits.family = 0xff;
		memcpy(k->addr, m->addr, m->family == 6 ? 16 : 4);
		for (int i = 0; i < 16 && bits > 0; i++, bits -= 8)
			mk->bits.addr[i] = bits >= 8 ? 0xff :
						       0xff << (8 - bits);
	}
}

/* Split [lo, hi] into aligned power-of-two blocks: (value, prefix). */
static int port_blocks(uint16_t lo, uint16_t hi, uint16_t *val, uint8_t *plen)
{
	uint32_t a = lo, n = 0;

	while (a <= hi) {
		uint32_t size = 1;
		uint8_t p = 16;

		while (p > 0 && (a & (size * 2 - 1)) == 0 &&
		       a + size * 2 - 1 <= hi) {
			size *= 2;
			p--;
		}
		val[n] = a;
		plen[n] = p;
		n++;
		a += size;
	}
	return n;
}

static int rule_expand(struct guard_table *t, struct guard_rule *r,
		       struct keyset *ks)
{
	const struct sfp_match *m = &r->fm.match;
	uint16_t pval[40];
	uint8_t plen[40];
	int np = 1, err;
	struct guard_key base;
	struct guard_mask bmask;

	base_key(r, &base, &bmask);
	if (m->fields & SFP_F(SFP_F_PORT))
		np = port_blocks(m->port_lo, m->port_hi, pval, plen);
	if ((m->fields & (SFP_F(SFP_F_CGROUP) | SFP_F(SFP_F_CONTAINER))) &&
	    !r->n_cgroup_ids)
		return 0; /* the cgroup does not exist (yet) */
	for (size_t oi = 0; oi < sizeof(kernel_ops); oi++) {
		uint8_t op = kernel_ops[oi];

		if (!rule_has_op(r, op, &t->caps))
			continue;
		for (int p = 0; p < np; p++) {
			uint32_t nc = r->n_cgroup_ids ? r->n_cgroup_ids : 1;

			for (uint32_t c = 0; c < nc; c++) {
				struct guard_key k = base;
				struct guard_mask mk = bmask;
				int slot;

				k.op = op;
				if (m->fields & SFP_F(SFP_F_PORT)) {
					uint16_t pm =
						plen[p] ?
							(uint16_t)(0xffff
								   << (16 -
								       plen[p])) :
							0;

					k.port = htons(pval[p]);
					mk.bits.port = htons(pm);
				}
				if (r->n_cgroup_ids)
					k.cgroup_id = r->cgroup_ids[c];
				slot = mask_get(t, &mk, op);
				if (slot < 0)
					return slot;
				apply_mask(&k, &mk);
				k.mask_id = slot;
				err = keyset_push(ks, &k);
				if (err) {
					mask_put(t, slot, op);
					return err;
				}
			}
		}
	}
	return 0;
}

static void rule_unkernel(struct guard_table *t, struct guard_rule *r)
{
	for (uint32_t i = 0; i < r->n_keys; i++) {
		kentry_del(t, &r->keys[i], r);
		mask_put(t, r->keys[i].mask_id, r->keys[i].op);
	}
	free(r->keys);
	r->keys = NULL;
	r->n_keys = 0;
}

static int rule_kernel(struct guard_table *t, struct guard_rule *r)
{
	struct keyset ks = {};
	int err = rule_expand(t, r, &ks);

	for (uint32_t i = 0; !err && i < ks.n; i++) {
		err = kentry_add(t, &ks.v[i], r);
		if (err) {
			for (uint32_t j = 0; j < i; j++)
				kentry_del(t, &ks.v[j], r);
		}
	}
	if (err) {
		for (uint32_t i = 0; i < ks.n; i++)
			mask_put(t, ks.v[i].mask_id, ks.v[i].op);
		free(ks.v);
		return err;
	}
	r->keys = ks.v;
	r->n_keys = ks.n;
	return 0;
}

/* ---- the file index: exact paths hashed, the rest scanned ---- */

static bool rule_exact_path(const struct guard_rule *r)
{
	return r->fm.match.fields & SFP_F(SFP_F_PATH);
}

static void file_index_add(struct guard_table *t, struct guard_rule *r)
{
	struct guard_rule **head;

	t->n_file_rules++;
	if (!rule_exact_path(r))
		return;
	head = &t->path_idx[fnv(r->fm.match.path, strlen(r->fm.match.path)) %
			    PATH_HASH_SIZE];
	r->next_path = *head;
	*head = r;
	t->n_file_exact++;
}

static void file_index_del(struct guard_table *t, struct guard_rule *r)
{
	struct guard_rule **pp;

	t->n_file_rules--;
	if (!rule_exact_path(r))
		return;
	pp = &t->path_idx[fnv(r->fm.match.path, strlen(r->fm.match.path)) %
			  PATH_HASH_SIZE];
	while (*pp && *pp != r)
		pp = &(*pp)->next_path;
	if (*pp)
		*pp = r->next_path;
	t->n_file_exact--;
}

/* ---- validation: refuse what this kernel cannot enforce ---- */

static uint16_t action_kflags(const struct sfp_flow_mod *fm)
{
	uint16_t f = 0;

	for (int i = 0; i < fm->n_actions; i++) {
		switch (fm->actions[i].type) {
		case SF_ACT_DENY:
			f |= GF_DENY;
			break;
		case SF_ACT_KILL:
			f |= GF_KILL;
			break;
		case SF_ACT_REPORT:
			f |= GF_REPORT;
			break;
		case SF_ACT_LOG:
			f |= GF_LOG;
			break;
		case SF_ACT_MESSAGE:
			f |= GF_MESSAGE;
			break;
		case SF_ACT_ENCODE:
			f |= GF_ENCODE;
			break;
		case SF_ACT_ISOLATION:
		case SF_ACT_QUARANTINE:
			f |= GF_ISOLATE;
			break;
		}
	}
	return f;
}

static int validate(struct guard_table *t, const struct sfp_flow_mod *fm)
{
	const struct sfp_match *m = &fm->match;
	bool any_op = false;

	if (fm->n_actions == 0 && fm->command != SFP_FM_DELETE &&
	    fm->command != SFP_FM_DELETE_STRICT)
		return SFP_ERR(SFP_ET_BAD_ACTION, SFP_EC_BAD_ARG);
	if ((m->fields & SFP_F(SFP_F_CGROUP)) && m->cgroup[0] != '/')
		return SFP_ERR(SFP_ET_BAD_MATCH, SFP_EC_BAD_VALUE);
	if ((m->fields & SFP_F(SFP_F_CONTAINER)) &&
	    (strlen(m->container) < 12 || strlen(m->container) > 64))
		return SFP_ERR(SFP_ET_BAD_MATCH, SFP_EC_BAD_VALUE);
	if ((m->fields & (SFP_F(SFP_F_EXE) | SFP_F(SFP_F_PARENT_EXE))) &&
	    ((m->fields & SFP_F(SFP_F_EXE) && m->exe[0] != '/') ||
	     (m->fields & SFP_F(SFP_F_PARENT_EXE) && m->parent_exe[0] != '/')))
		return SFP_ERR(SFP_ET_BAD_MATCH, SFP_EC_BAD_VALUE);
	if ((m->fields & SFP_FILE_FIELDS) && m->path[0] != '/')
		return SFP_ERR(SFP_ET_BAD_MATCH, SFP_EC_BAD_VALUE);
	if (fm->command == SFP_FM_DELETE || fm->command == SFP_FM_DELETE_STRICT)
		return 0;
	if (m->op != SF_OP_ANY) {
		if (!t->caps.mechanism[m->op])
			return SFP_ERR(SFP_ET_BAD_ACTION, SFP_EC_UNSUPPORTED);
		if (!op_applies(m->op, m->fields))
			return SFP_ERR(SFP_ET_BAD_MATCH, SFP_EC_BAD_FIELD);
		for (int i = 0; i < fm->n_actions; i++)
			if (!(t->caps.actions[m->op] &
			      (1u << fm->actions[i].type)))
				return SFP_ERR(SFP_ET_BAD_ACTION,
					       SFP_EC_UNSUPPORTED);
		return 0;
	}
	for (int op = 0; op < SF_OP_COUNT && !any_op; op++) {
		struct guard_rule tmp = { .fm = *fm };

		any_op = rule_has_op(&tmp, op, &t->caps);
	}
	return any_op ? 0 : SFP_ERR(SFP_ET_BAD_ACTION, SFP_EC_UNSUPPORTED);
}

/* ---- rules ---- */

static bool rule_file(struct guard_table *t, const struct guard_rule *r)
{
	for (size_t i = 0; i < sizeof(file_ops); i++)
		if (rule_has_op(r, file_ops[i], &t->caps))
			return true;
	return false;
}

static bool rule_is_kernel(struct guard_table *t, const struct guard_rule *r)
{
	for (size_t i = 0; i < sizeof(kernel_ops); i++)
		if (rule_has_op(r, kernel_ops[i], &t->caps))
			return true;
	return false;
}

static int store_rule(struct guard_table *t, struct guard_rule *r)
{
	struct sfp_msg m = { .h = { .type = SFP_FLOW_MOD, .xid = 1 } };
	struct sfp_buf b = {};
	int err;

	m.flow_mod = r->fm;
	m.flow_mod.command = SFP_FM_ADD;
	err = sfp_encode(&b, &m);
	if (!err)
		err = guard_bpf_store_put(t->b, r->slot, b.data, b.len,
					  r->installed_real_ns);
	sfp_buf_free(&b);
	return err;
}

static void rule_free(struct guard_table *t, struct guard_rule *r)
{
	if (r->kernel)
		rule_unkernel(t, r);
	if (r->file)
		file_index_del(t, r);
	if (r->exe_id)
		exe_put(t, r->exe_id);
	if (r->pexe_id)
		exe_put(t, r->pexe_id);
	free(r->cgroup_ids);
	free(r);
}

static void iso_lift_rule(struct guard_table *t, uint32_t slot);
static void subject_actions(struct guard_table *t, struct guard_rule *r);

static void rule_remove(struct guard_table *t, struct guard_rule *r,
			uint8_t reason, guard_removed_cb cb, void *ctx)
{
	uint64_t hits = guard_rule_hits(t, r);

	iso_lift_rule(t, r->slot);
	t->rules[r->slot] = NULL;
	t->n_rules--;
	guard_bpf_store_del(t->b, r->slot);
	if (cb)
		cb(ctx, r, reason, hits);
	rule_free(t, r);
}

static int rule_insert(struct guard_table *t, const struct sfp_flow_mod *fm,
		       int want_slot, uint64_t installed_real_ns)
{
	struct guard_rule *r;
	int slot = want_slot, err;

	if (slot < 0) {
		for (slot = 0; slot < MAX_RULES && t->rules[slot]; slot++)
			;
	}
	if (slot >= MAX_RULES || t->rules[slot])
		return SFP_ERR(SFP_ET_FLOW_MOD_FAILED, SFP_EC_TABLE_FULL);
	r = calloc(1, sizeof(*r));
	if (!r)
		return SFP_ERR(SFP_ET_FLOW_MOD_FAILED, SFP_EC_TABLE_FULL);
	r->slot = slot;
	r->fm = *fm;
	r->fm.command = SFP_FM_ADD;
	r->installed_ms = sf_now_ms();
	r->installed_real_ns = installed_real_ns ?: sf_clock_ns(CLOCK_REALTIME);
	r->kflags = action_kflags(fm);
	r->kernel = rule_is_kernel(t, r);
	r->file = rule_file(t, r);
	/* a fresh slot: its kernel counter may hold an old rule's; a
	 * restored rule keeps what the kernel counted while we were away
	 */
	if (want_slot < 0)
		guard_bpf_counter_reset(t->b, slot);
	if (r->kernel) {
		const struct sfp_match *m = &fm->match;

		err = 0;
		if (m->fields & SFP_F(SFP_F_EXE))
			err = exe_get(t, m->exe, &r->exe_id);
		if (!err && (m->fields & SFP_F(SFP_F_PARENT_EXE)))
			err = exe_get(t, m->parent_exe, &r->pexe_id);
		if (!err && (m->fields &
			     (SFP_F(SFP_F_CGROUP) | SFP_F(SFP_F_CONTAINER))))
			err = resolve_cgroups(t, m, &r->cgroup_ids,
					      &r->n_cgroup_ids);
		if (!err)
			err = rule_kernel(t, r);
		if (err) {
			r->kernel = false;
			rule_free(t, r);
			return SFP_ERR(SFP_ET_FLOW_MOD_FAILED,
				       err == -ENOSPC ? SFP_EC_TABLE_FULL :
							SFP_EC_KERNEL);
		}
	}
	if (r->file)
		file_index_add(t, r);
	t->rules[slot] = r;
	t->n_rules++;
	if (!t->restoring && store_rule(t, r))
		pr_warn("rule %u is not in the pinned store: it will not "
			"survive an agent restart\n",
			slot);
	if (t->exes_changed && !t->restoring)
		guard_table_scan_procs(t);
	subject_actions(t, r);
	return 0;
}

/* Replace actions (and timeouts, cookie) of an installed rule. */
static int rule_modify(struct guard_table *t, struct guard_rule *r,
		       const struct sfp_flow_mod *fm, bool keep_cookie)
{
	uint64_t cookie = r->fm.cookie;

	r->fm.n_actions = fm->n_actions;
	memcpy(r->fm.actions, fm->actions, sizeof(fm->actions));
	r->fm.flags = fm->flags;
	if (!keep_cookie)
		r->fm.cookie = fm->cookie;
	else
		r->fm.cookie = cookie;
	r->fm.idle_timeout = fm->idle_timeout;
	r->fm.hard_timeout = fm->hard_timeout;
	r->kflags = action_kflags(fm);
	if (!(r->kflags & GF_ISOLATE))
		iso_lift_rule(t, r->slot);
	if (fm->flags & SFP_FF_RESET_COUNTS) {
		uint64_t last;

		guard_bpf_counter(t->b, r->slot, &r->hits_base, &last);
		r->user_hits = 0;
	}
	for (uint32_t i = 0; i < r->n_keys; i++) {
		struct kentry *e = *kfind(t, &r->keys[i]);

		if (e)
			kentry_write(t, e);
	}
	store_rule(t, r);
	subject_actions(t, r);
	return 0;
}

static bool cookie_ok(const struct guard_rule *r, const struct sfp_flow_mod *fm)
{
	return (r->fm.cookie & fm->cookie_mask) ==
	       (fm->cookie & fm->cookie_mask);
}

int guard_table_flow_mod(struct guard_table *t, const struct sfp_flow_mod *fm,
			 guard_removed_cb cb, void *ctx)
{
	bool strict = fm->command == SFP_FM_MODIFY_STRICT ||
		      fm->command == SFP_FM_DELETE_STRICT;
	int err = validate(t, fm), n = 0;

	if (err)
		return err;
	if (fm->command == SFP_FM_ADD) {
		for (uint32_t i = 0; i < MAX_RULES; i++) {
			struct guard_rule *r = t->rules[i];

			if (!r || r->fm.priority != fm->priority)
				continue;
			if (sfp_match_equal(&r->fm.match, &fm->match))
				return rule_modify(t, r, fm, false);
			if ((fm->flags & SFP_FF_CHECK_OVERLAP) &&
			    sfp_match_overlap(&r->fm.match, &fm->match))
				return SFP_ERR(SFP_ET_FLOW_MOD_FAILED,
					       SFP_EC_OVERLAP);
		}
		return rule_insert(t, fm, -1, 0);
	}
	for (uint32_t i = 0; i < MAX_RULES; i++) {
		struct guard_rule *r = t->rules[i];

		if (!r || !cookie_ok(r, fm))
			continue;
		if (strict ? (r->fm.priority != fm->priority ||
			      !sfp_match_equal(&r->fm.match, &fm->match)) :
			     !sfp_match_covers(&fm->match, &r->fm.match))
			continue;
		n++;
		if (fm->command == SFP_FM_DELETE ||
		    fm->command == SFP_FM_DELETE_STRICT)
			rule_remove(t, r, SFP_RR_DELETE,
				    (r->fm.flags & SFP_FF_SEND_FLOW_REM) ? cb :
									   NULL,
				    ctx);
		else
			rule_modify(t, r, fm, true);
	}
	(void)n;
	return 0;
}

uint64_t guard_rule_hits(struct guard_table *t, const struct guard_rule *r)
{
	uint64_t hits = 0, last;

	if (r->kernel && !guard_bpf_counter(t->b, r->slot, &hits, &last))
		hits = hits >= r->hits_base ? hits - r->hits_base : 0;
	return hits + r->user_hits;
}

uint32_t guard_rule_duration(const struct guard_rule *r, uint64_t now_ms)
{
	(void)now_ms;
	return (sf_clock_ns(CLOCK_REALTIME) - r->installed_real_ns) /
	       1000000000ULL;
}

static uint64_t last_activity_ms(struct guard_table *t, struct guard_rule *r)
{
	uint64_t last = r->installed_ms, hits, kns;

	if (r->last_hit_ms > last)
		last = r->last_hit_ms;
	if (r->kernel && !guard_bpf_counter(t->b, r->slot, &hits, &kns) &&
	    kns / 1000000 > last && hits > r->hits_base)
		last = kns / 1000000;
	return last;
}

static void refresh_cgroups(struct guard_table *t, struct guard_rule *r)
{
	uint64_t *ids;
	uint32_t n;

	if (resolve_cgroups(t, &r->fm.match, &ids, &n))
		return;
	if (n == r->n_cgroup_ids &&
	    (!n || !memcmp(ids, r->cgroup_ids, n * sizeof(*ids)))) {
		free(ids);
		return;
	}
	pr_info("rule %u: %s now names %u cgroup(s)\n", r->slot,
		r->fm.match.fields & SFP_F(SFP_F_CGROUP) ?
			r->fm.match.cgroup :
			r->fm.match.container,
		n);
	rule_unkernel(t, r);
	free(r->cgroup_ids);
	r->cgroup_ids = ids;
	r->n_cgroup_ids = n;
	if (rule_kernel(t, r))
		pr_warn("rule %u: cannot update its kernel entries\n", r->slot);
}

/* Put the sockets e's process has now into the kernel's drop map. */
static void iso_socks_add(struct guard_table *t, struct iso_ent *e)
{
	struct guard_iso_sock v = { .slot = e->why_slot,
				    .pid = e->tgid,
				    .start_time = e->start_time,
				    .quarantine = e->quarantine };
	int n = guard_socks_isolate(t->b, e->tgid, &v, &e->socks);

	if (n < 0 && n != -ESRCH && n != -ENOENT && !e->warned) {
		pr_warn("process %u: its existing sockets are not isolated: "
			"%s\n",
			e->tgid, guard_pidfd_error(n));
		e->warned = true;
	} else if (n > 0) {
		pr_info("process %u: %d existing socket(s) isolated\n", e->tgid,
			n);
	}
}

static void iso_lift(struct guard_table *t, uint32_t i)
{
	struct iso_ent *e = &t->iso[i];

	rule_unkernel(t, &e->rule);
	guard_socks_release(t->b, &e->socks);
	t->iso[i] = t->iso[--t->n_iso];
}

/* Processes that exited lose their entries; the others get the sockets
 * they gained since (accepted connections, descriptors passed to them).
 */
static void iso_tick(struct guard_table *t)
{
	struct sf_procinfo *pi = malloc(sizeof(*pi));

	for (uint32_t i = 0; pi && i < t->n_iso;) {
		struct iso_ent *e = &t->iso[i];

		if (!sf_procinfo_read(e->tgid, SF_PI_STAT, pi) &&
		    pi->start_time == e->start_time) {
			iso_socks_add(t, e);
			i++;
			continue;
		}
		pr_info("process %u exited: isolation lifted\n", e->tgid);
		iso_lift(t, i);
	}
	free(pi);
}

void guard_table_tick(struct guard_table *t, uint64_t now_ms,
		      guard_removed_cb cb, void *ctx)
{
	bool resolve = now_ms - t->last_resolve_ms >= RESOLVE_MS;

	for (uint32_t i = 0; i < MAX_RULES; i++) {
		struct guard_rule *r = t->rules[i];

		if (!r)
			continue;
		if (r->fm.hard_timeout &&
		    now_ms - r->installed_ms >= r->fm.hard_timeout * 1000ULL) {
			rule_remove(t, r, SFP_RR_HARD_TIMEOUT,
				    (r->fm.flags & SFP_FF_SEND_FLOW_REM) ? cb :
									   NULL,
				    ctx);
			continue;
		}
		if (r->fm.idle_timeout &&
		    now_ms - last_activity_ms(t, r) >=
			    r->fm.idle_timeout * 1000ULL) {
			rule_remove(t, r, SFP_RR_IDLE_TIMEOUT,
				    (r->fm.flags & SFP_FF_SEND_FLOW_REM) ? cb :
									   NULL,
				    ctx);
			continue;
		}
		if (resolve && r->kernel &&
		    (r->fm.match.fields &
		     (SFP_F(SFP_F_CGROUP) | SFP_F(SFP_F_CONTAINER))))
			refresh_cgroups(t, r);
	}
	if (resolve) {
		t->last_resolve_ms = now_ms;
		iso_tick(t);
	}
}

uint32_t guard_table_count(struct guard_table *t)
{
	return t->n_rules;
}

struct guard_rule *guard_table_slot(struct guard_table *t, uint32_t slot)
{
	return slot < MAX_RULES ? t->rules[slot] : NULL;
}

int guard_table_walk(struct guard_table *t, uint64_t cookie,
		     uint64_t cookie_mask, guard_rule_cb cb, void *ctx)
{
	for (uint32_t i = 0; i < MAX_RULES; i++) {
		struct guard_rule *r = t->rules[i];
		int err;

		if (!r ||
		    (r->fm.cookie & cookie_mask) != (cookie & cookie_mask))
			continue;
		err = cb(ctx, r);
		if (err)
			return err;
	}
	return 0;
}

/* ---- isolation and quarantine of a process ---- */

/* Lift the isolations rule slot made; another subject-only rule that
 * still isolates one of those processes takes it over.
 */
static void iso_lift_rule(struct guard_table *t, uint32_t slot)
{
	bool lifted = false;

	for (uint32_t i = 0; i < t->n_iso;) {
		if (t->iso[i].why_slot != slot) {
			i++;
			continue;
		}
		pr_info("process %u: isolation lifted (rule %u went)\n",
			t->iso[i].tgid, slot);
		iso_lift(t, i);
		lifted = true;
	}
	for (uint32_t i = 0; lifted && i < MAX_RULES; i++) {
		struct guard_rule *r = t->rules[i];

		if (r && i != slot && (r->kflags & GF_ISOLATE))
			subject_actions(t, r);
	}
}

int guard_table_isolate(struct guard_table *t, uint32_t tgid,
			const struct guard_rule *why, bool quarantine)
{
	struct sf_procinfo *pi;
	struct iso_ent *e;
	int err;

	for (uint32_t i = 0; i < t->n_iso; i++) {
		if (t->iso[i].tgid == tgid) {
			t->iso[i].quarantine |= quarantine;
			return 0;
		}
	}
	if (t->n_iso == t->cap_iso) {
		/* kernel entries point at the embedded rules: unhook them
		 * while the array is still where they point, hook them again
		 * where it is after (the same place when it cannot grow)
		 */
		for (uint32_t i = 0; i < t->n_iso; i++)
			rule_unkernel(t, &t->iso[i].rule);
		err = grow_array(t->iso, t->cap_iso, t->n_iso, 1, 8);
		for (uint32_t i = 0; i < t->n_iso; i++)
			rule_kernel(t, &t->iso[i].rule);
		if (err)
			return -ENOMEM;
	}
	pi = malloc(sizeof(*pi));
	if (!pi)
		return -ENOMEM;
	err = sf_procinfo_read(tgid, SF_PI_STAT, pi);
	e = &t->iso[t->n_iso];
	memset(e, 0, sizeof(*e));
	e->tgid = tgid;
	e->start_time = err ? 0 : pi->start_time;
	e->quarantine = quarantine;
	free(pi);
	if (err)
		return err;
	e->why_slot = why ? why->slot : ISO_SLOT;
	e->rule.slot = e->why_slot; /* new operations count on the rule */
	e->rule.fm.priority = 65535;
	e->rule.fm.match.op = SF_OP_ANY;
	e->rule.fm.match.fields = SFP_F(SFP_F_PID);
	e->rule.fm.match.pid = tgid;
	e->rule.fm.n_actions = 1;
	e->rule.fm.actions[0].type = SF_ACT_DENY;
	e->rule.kflags = GF_DENY;
	err = rule_kernel(t, &e->rule);
	if (err)
		return err;
	t->n_iso++;
	pr_info("process %u %s (rule cookie %llu)\n", tgid,
		quarantine ? "quarantined: no network, no file writes" :
			     "isolated: no network",
		why ? (unsigned long long)why->fm.cookie : 0ULL);
	iso_socks_add(t, e);
	return 0;
}

bool guard_table_quarantined(struct guard_table *t, uint32_t tgid)
{
	for (uint32_t i = 0; i < t->n_iso; i++)
		if (t->iso[i].tgid == tgid && t->iso[i].quarantine)
			return true;
	return false;
}

/* ---- file events ---- */

static unsigned int pi_needed(uint32_t fields)
{
	unsigned int w = 0;

	if (fields & SFP_F(SFP_F_EXE))
		w |= SF_PI_EXE;
	if (fields & SFP_F(SFP_F_COMM))
		w |= SF_PI_STAT;
	if (fields & SFP_F(SFP_F_UID))
		w |= SF_PI_STATUS;
	if (fields & (SFP_F(SFP_F_CGROUP) | SFP_F(SFP_F_CONTAINER)))
		w |= SF_PI_CGROUP;
	if (fields & SFP_F(SFP_F_PARENT_EXE))
		w |= SF_PI_PARENT_EXE;
	return w;
}

/* Read the /proc fields this rule needs that the event does not have. */
static bool ensure_pi(struct guard_file_event *ev, uint32_t fields)
{
	unsigned int need = pi_needed(fields) & ~ev->pi_have;
	struct sf_procinfo tmp;

	if (!need)
		return true;
	if (!ev->pi_have) {
		if (sf_procinfo_read(ev->pid, need, ev->pi))
			return false;
		ev->pi_have = need;
		return true;
	}
	/* add fields without losing the ones read before */
	if (sf_procinfo_read(ev->pid, need, &tmp))
		return false;
	if (need & SF_PI_EXE)
		memcpy(ev->pi->exe, tmp.exe, sizeof(tmp.exe));
	if (need & SF_PI_STAT) {
		memcpy(ev->pi->comm, tmp.comm, sizeof(tmp.comm));
		ev->pi->ppid = tmp.ppid;
	}
	if (need & SF_PI_STATUS)
		ev->pi->uid = tmp.uid;
	if (need & SF_PI_CGROUP) {
		memcpy(ev->pi->cgroup, tmp.cgroup, sizeof(tmp.cgroup));
		memcpy(ev->pi->container, tmp.container, sizeof(tmp.container));
	}
	if (need & SF_PI_PARENT_EXE)
		memcpy(ev->pi->parent_exe, tmp.parent_exe,
		       sizeof(tmp.parent_exe));
	ev->pi_have |= need;
	return true;
}

static bool prefix_match(const char *prefix, const char *path)
{
	size_t n = strlen(prefix);

	return !strncmp(prefix, path, n) &&
	       (prefix[n - 1] == '/' || path[n] == 0 || path[n] == '/');
}

/* Does the process of ev match the subject fields of m? */
static bool subject_matches(const struct sfp_match *m,
			    struct guard_file_event *ev)
{
	uint32_t f = m->fields;

	if ((f & SFP_F(SFP_F_PID)) && m->pid != (uint32_t)ev->pid)
		return false;
	if (!(f & SFP_SUBJECT_FIELDS & ~SFP_F(SFP_F_PID)))
		return true;
	if (!ensure_pi(ev, f))
		return false;
	if ((f & SFP_F(SFP_F_EXE)) && strcmp(m->exe, ev->pi->exe))
		return false;
	if ((f & SFP_F(SFP_F_COMM)) && strcmp(m->comm, ev->pi->comm))
		return false;
	if ((f & SFP_F(SFP_F_UID)) && m->uid != ev->pi->uid)
		return false;
	if ((f & SFP_F(SFP_F_CGROUP)) && strcmp(m->cgroup, ev->pi->cgroup))
		return false;
	if ((f & SFP_F(SFP_F_CONTAINER)) &&
	    !sf_container_match(m->container, ev->pi->container))
		return false;
	if ((f & SFP_F(SFP_F_PARENT_EXE)) &&
	    strcmp(m->parent_exe, ev->pi->parent_exe))
		return false;
	return true;
}

static bool file_rule_matches(struct guard_table *t, struct guard_rule *r,
			      struct guard_file_event *ev)
{
	const struct sfp_match *m = &r->fm.match;
	uint32_t f = m->fields;

	if (!rule_has_op(r, ev->op, &t->caps))
		return false;
	if ((f & SFP_F(SFP_F_PATH)) && strcmp(m->path, ev->path))
		return false;
	if ((f & SFP_F(SFP_F_PATH_PREFIX)) && !prefix_match(m->path, ev->path))
		return false;
	return subject_matches(m, ev);
}

bool guard_table_has_file_rules(const struct guard_table *t)
{
	return t->n_file_rules > 0;
}

struct guard_rule *guard_table_match_file(struct guard_table *t,
					  struct guard_file_event *ev,
					  uint64_t now_ms)
{
	struct guard_rule *best = NULL;
	uint32_t scanned = 0;

	if (!t->n_file_rules)
		return NULL;
	for (struct guard_rule *r =
		     t->path_idx[fnv(ev->path, strlen(ev->path)) %
				 PATH_HASH_SIZE];
	     r; r = r->next_path)
		if ((!best || better(r, best)) && file_rule_matches(t, r, ev))
			best = r;
	if (t->n_file_rules > t->n_file_exact) {
		for (uint32_t i = 0;
		     i < MAX_RULES &&
		     scanned < t->n_file_rules - t->n_file_exact;
		     i++) {
			struct guard_rule *r = t->rules[i];

			if (!r || !r->file || rule_exact_path(r))
				continue;
			scanned++;
			if ((!best || better(r, best)) &&
			    file_rule_matches(t, r, ev))
				best = r;
		}
	}
	(void)now_ms;
	return best;
}

/* ---- subject actions at install: the processes a rule names now ---- */

/* A rule that names only a subject (any operation, no address, port,
 * protocol or path) isolates, quarantines or tags the processes it
 * matches as soon as it is installed, sockets they already have included;
 * a rule with an object does so when its subject first hits it.
 */
static bool subject_only(const struct guard_rule *r)
{
	return r->fm.match.op == SF_OP_ANY &&
	       !(r->fm.match.fields & (SFP_NET_FIELDS | SFP_FILE_FIELDS));
}

/* Is the process in the cgroup the socket hooks act on? */
static bool in_scope(struct guard_table *t, struct guard_file_event *ev)
{
	if (!t->scope[0])
		return true;
	if (!ensure_pi(ev, SFP_F(SFP_F_CGROUP)))
		return false;
	return prefix_match(t->scope, ev->pi->cgroup);
}

static void subject_apply(struct guard_table *t, struct guard_rule *r,
			  pid_t pid, struct sf_procinfo *pi)
{
	struct guard_file_event ev = { .pid = pid, .pi = pi };
	bool quarantine = false;
	int n;

	if (pid == getpid() || !in_scope(t, &ev) ||
	    !subject_matches(&r->fm.match, &ev))
		return;
	for (int i = 0; i < r->fm.n_actions; i++) {
		const struct sfp_action *a = &r->fm.actions[i];

		quarantine |= a->type == SF_ACT_QUARANTINE;
		if (a->type != SF_ACT_ENCODE)
			continue;
		n = guard_socks_encode(pid, a->arg);
		if (n < 0 && n != -ESRCH)
			pr_warn("rule %u: DSCP not set on the sockets of "
				"process %d: %s\n",
				r->slot, pid, guard_pidfd_error(n));
		else if (n > 0)
			pr_info("rule %u: DSCP %u set on %d existing socket(s) "
				"of process %d\n",
				r->slot, a->arg, n, pid);
	}
	if (r->kflags & GF_ISOLATE)
		guard_table_isolate(t, pid, r, quarantine);
}

static bool is_user_process(pid_t pid)
{
	char path[64], c;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	return readlink(path, &c, 1) > 0; /* kernel threads have none */
}

static void subject_actions(struct guard_table *t, struct guard_rule *r)
{
	struct sf_procinfo *pi;
	struct dirent *de;
	DIR *d;

	if (!(r->kflags & (GF_ISOLATE | GF_ENCODE)) || !subject_only(r))
		return;
	pi = malloc(sizeof(*pi));
	if (!pi)
		return;
	if (r->fm.match.fields & SFP_F(SFP_F_PID)) {
		subject_apply(t, r, r->fm.match.pid, pi);
		free(pi);
		return;
	}
	d = opendir("/proc");
	while (d && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || !is_user_process(pid))
			continue;
		subject_apply(t, r, pid, pi);
	}
	if (d)
		closedir(d);
	free(pi);
}

/* ---- life cycle ---- */

static void set_scope(struct guard_table *t, const char *cgroup_path)
{
	size_t n = strlen(t->cgroup_root), len;

	if (strncmp(cgroup_path, t->cgroup_root, n))
		return; /* not under the mount: no restriction known */
	snprintf(t->scope, sizeof(t->scope), "%s", cgroup_path + n);
	len = strlen(t->scope);
	while (len && t->scope[len - 1] == '/')
		t->scope[--len] = 0;
}

struct guard_table *guard_table_new(struct guard_kern *b,
				    const struct guard_caps *caps,
				    const char *cgroup_root)
{
	struct guard_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->b = b;
	t->caps = *caps;
	snprintf(t->cgroup_root, sizeof(t->cgroup_root), "%s", cgroup_root);
	if (!strcmp(t->cgroup_root, "/"))
		t->cgroup_root[0] = 0;
	set_scope(t, guard_bpf_cgroup_path(b));
	return t;
}

void guard_table_free(struct guard_table *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < MAX_RULES; i++) {
		struct guard_rule *r = t->rules[i];

		if (!r)
			continue;
		free(r->keys);
		free(r->cgroup_ids);
		free(r);
	}
	for (uint32_t i = 0; i < KHASH_SIZE; i++) {
		struct kentry *e = t->kh[i], *n;

		for (; e; e = n) {
			n = e->next;
			free(e->rules);
			free(e);
		}
	}
	for (uint32_t i = 0; i < t->n_iso; i++) {
		free(t->iso[i].rule.keys);
		free(t->iso[i].socks.cookies); /* the kernel keeps dropping */
	}
	free(t->iso);
	free(t->exes);
	free(t);
}

/* ---- restore after an agent restart ---- */

static void restore_exe(void *ctx, const char *path, uint32_t id)
{
	struct guard_table *t = ctx;
	struct exe_ent *e;

	if (grow_array(t->exes, t->cap_exes, t->n_exes, 1, 16))
		return;
	e = &t->exes[t->n_exes++];
	memset(e, 0, sizeof(*e));
	snprintf(e->path, sizeof(e->path), "%s", path);
	e->id = id;
	if (id > t->next_exe_id)
		t->next_exe_id = id;
}

static int restore_rule(void *ctx, uint32_t slot, const void *msg, size_t len,
			uint64_t installed_ns)
{
	struct guard_table *t = ctx;
	struct sfp_msg m;
	int err = sfp_decode(msg, len, &m);

	if (err || m.h.type != SFP_FLOW_MOD || slot >= MAX_RULES) {
		pr_warn("pinned rule %u is unreadable; dropped\n", slot);
		guard_bpf_store_del(t->b, slot);
		return 0;
	}
	err = rule_insert(t, &m.flow_mod, slot, installed_ns);
	if (err) {
		pr_warn("pinned rule %u cannot be restored; dropped\n", slot);
		guard_bpf_store_del(t->b, slot);
	}
	return 0;
}

/* Isolations of the previous agent, read back from the drop map: the
 * processes still running, isolated by a rule still installed, are
 * isolated again; other entries go.
 */
struct iso_seen {
	struct guard_iso_sock *v;
	uint32_t n, cap;
};

static bool iso_note(void *ctx, uint64_t cookie, const struct guard_iso_sock *v)
{
	struct iso_seen *s = ctx;

	(void)cookie;
	for (uint32_t i = 0; i < s->n; i++)
		if (s->v[i].pid == v->pid)
			return true;
	if (grow_array(s->v, s->cap, s->n, 1, 16))
		return true;
	s->v[s->n++] = *v;
	return true;
}

static bool iso_tracked(void *ctx, uint64_t cookie,
			const struct guard_iso_sock *v)
{
	struct guard_table *t = ctx;

	for (uint32_t i = 0; i < t->n_iso; i++) {
		const struct guard_socks *s = &t->iso[i].socks;

		if (t->iso[i].tgid != v->pid)
			continue;
		for (uint32_t j = 0; j < s->n; j++)
			if (s->cookies[j] == cookie)
				return true;
	}
	return false;
}

static void iso_restore(struct guard_table *t)
{
	struct iso_seen seen = {};
	struct sf_procinfo *pi = malloc(sizeof(*pi));

	guard_bpf_iso_socks_walk(t->b, iso_note, &seen);
	for (uint32_t i = 0; pi && i < seen.n; i++) {
		const struct guard_iso_sock *v = &seen.v[i];
		struct guard_rule *why = guard_table_slot(t, v->slot);

		if (!why || !(why->kflags & GF_ISOLATE) ||
		    sf_procinfo_read(v->pid, SF_PI_STAT, pi) ||
		    pi->start_time != v->start_time)
			continue;
		guard_table_isolate(t, v->pid, why, v->quarantine);
	}
	free(seen.v);
	free(pi);
	guard_bpf_iso_socks_walk(t->b, iso_tracked, t);
}

static bool keep_entry(void *ctx, const struct guard_key *k)
{
	return *kfind(ctx, k) != NULL;
}

int guard_table_restore(struct guard_table *t)
{
	struct guard_mask m;

	/* Masks and exe ids keep their numbers, so the kernel keys and the
	 * process labels of the previous agent stay valid, and each mask
	 * keeps its ops until every rule is back: no gap in enforcement.
	 */
	for (uint32_t i = 0; i < GUARD_MAX_MASKS; i++) {
		if (guard_bpf_mask_read(t->b, i, &m) || !m.ops)
			continue;
		t->masks[i].m = m;
		t->masks[i].total = 1; /* claimed until the walk ends */
		t->n_masks = i + 1;
	}
	guard_bpf_exe_walk(t->b, restore_exe, t);
	t->restoring = true;
	guard_bpf_store_walk(t->b, restore_rule, t);
	t->restoring = false;
	iso_restore(t);
	for (uint32_t i = 0; i < GUARD_MAX_MASKS; i++) {
		struct mask_slot *s = &t->masks[i];

		if (!s->total)
			continue;
		s->total--; /* drop the claim */
		s->m.ops = 0;
		for (int op = 0; op < SF_OP_COUNT; op++)
			if (s->refs[op])
				s->m.ops |= 1ULL << op;
		if (!s->total)
			memset(&s->m, 0, sizeof(s->m));
		guard_bpf_mask_set(t->b, i, &s->m);
	}
	while (t->n_masks && !t->masks[t->n_masks - 1].total)
		t->n_masks--;
	guard_bpf_set_n_masks(t->b, t->n_masks);
	publish_need(t);
	for (uint32_t i = 0; i < t->n_exes;) {
		if (t->exes[i].refs) {
			i++;
			continue;
		}
		guard_bpf_exe_del(t->b, t->exes[i].path);
		t->exes[i] = t->exes[--t->n_exes];
	}
	guard_bpf_set_n_exes(t->b, t->n_exes);
	guard_bpf_entries_prune(t->b, keep_entry, t);
	guard_table_scan_procs(t);
	return t->n_rules;
}
