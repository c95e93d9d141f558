// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* flows.c: FileFlow, NetworkFlow and ProcessFlow with SysFlow's semantics.
 *
 * A flow belongs to one thread and one fd (and one peer for unconnected
 * UDP). Its read/write counters live in the kernel's tracked table; the
 * flow that the kernel currently feeds is "attached" and folds the kernel
 * totals in (acc += totals - base) when it is exported or ended. Flows are
 * written on close, every FLOW_EXPORT_S while open (then restarted with
 * empty counters), and with OP_TRUNCATE when their thread or process ends
 * or at shutdown; idle ones are dropped unwritten after FLOW_EXPIRE_S.
 * Flows whose opFlags are 0 or only OP_TRUNCATE are never written.
 */
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "telemetry_int.h"

static uint64_t flow_key(uint32_t tid, int fd)
{
	return hash_u64(((uint64_t)tid << 32) | (uint32_t)fd);
}

struct tel_flow *tel_flow_cur(struct tel_driver *d, uint32_t tid, int fd)
{
	uint64_t key = flow_key(tid, fd);
	struct hnode *n;

	for (n = htab_find(&d->cur_flows, key); n; n = htab_next(n, key)) {
		struct tel_flow *f = container_of(n, struct tel_flow, hn);

		if (f->tid == tid && f->fd == fd)
			return f;
	}
	return NULL;
}

/* IPv4-mapped IPv6 addresses (or the unspecified one) on both ends: the
 * flow is an IPv4 flow, as libsinsp treats it.
 */
static bool v4_mapped(const uint8_t *a)
{
	static const uint8_t pre[12] = { 0, 0, 0, 0, 0,	   0,
					 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t zero[16];

	return !memcmp(a, pre, 12) || !memcmp(a, zero, 16);
}

static void set_tuple(struct tel_flow *f, const struct tel_fd *fd)
{
	const struct collect_sock *s = &fd->sock;
	const uint8_t *src = fd->server ? s->raddr : s->laddr;
	const uint8_t *dst = fd->server ? s->laddr : s->raddr;
	bool v4 = s->family == 4 ||
		  (v4_mapped(s->laddr) && v4_mapped(s->raddr));

	f->proto = s->proto;
	f->ip_version = v4 ? 4 : 6;
	f->sport = fd->server ? s->rport : s->lport;
	f->dport = fd->server ? s->lport : s->rport;
	memset(f->sip, 0, 16);
	memset(f->dip, 0, 16);
	if (v4 && s->family == 6) {
		memcpy(f->sip, src + 12, 4);
		memcpy(f->dip, dst + 12, 4);
	} else {
		memcpy(f->sip, src, v4 ? 4 : 16);
		memcpy(f->dip, dst, v4 ? 4 : 16);
	}
}

struct tel_flow *tel_flow_new(struct tel_driver *d, struct tel_proc *p,
			      uint32_t tid, struct tel_fd *fd, int64_t ts)
{
	struct tel_flow *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->proc = p;
	f->tid = tid;
	f->fd = fd->fd;
	f->ts = ts;
	f->export_time = f->last_update = time(NULL);
	f->net = fd->kind == CK_SOCK4 || fd->kind == CK_SOCK6;
	if (f->net) {
		set_tuple(f, fd);
	} else {
		f->file = fd->file;
		if (f->file)
			f->file->refs++;
	}
	dlist_add_tail(&p->flows, &f->pnode);
	dlist_add_tail(&d->export_q, &f->tnode);
	f->attached = true;
	htab_add(&d->cur_flows, &f->hn, flow_key(tid, f->fd));
	return f;
}

static void detach(struct tel_driver *d, struct tel_flow *f)
{
	if (f->attached)
		htab_del(&d->cur_flows, &f->hn);
	f->attached = false;
}

void tel_flow_sync_to(struct tel_driver *d, struct tel_flow *f,
		      const struct collect_counts *c)
{
	const struct collect_counts *b = &f->base;
	bool reset = c->rops < b->rops || c->wops < b->wops ||
		     c->mmaps < b->mmaps || c->shutdowns < b->shutdowns ||
		     c->setns < b->setns;
	struct collect_counts z = {};
	struct tel_counts dl;

	(void)d;
	if (reset) /* the kernel entry was replaced under us */
		b = &z;
	dl.rops = c->rops - b->rops;
	dl.wops = c->wops - b->wops;
	dl.rbytes = c->rbytes - b->rbytes;
	dl.wbytes = c->wbytes - b->wbytes;
	dl.mmaps = c->mmaps - b->mmaps;
	dl.shutdowns = (uint16_t)(c->shutdowns - b->shutdowns);
	dl.setns = (uint16_t)(c->setns - b->setns);
	f->acc.rops += dl.rops;
	f->acc.wops += dl.wops;
	f->acc.rbytes += dl.rbytes;
	f->acc.wbytes += dl.wbytes;
	f->acc.mmaps += dl.mmaps;
	f->acc.shutdowns += dl.shutdowns;
	f->acc.setns += dl.setns;
	if (dl.rops)
		f->op_flags |= OP_READ_RECV;
	if (dl.wops)
		f->op_flags |= OP_WRITE_SEND;
	if (dl.mmaps)
		f->op_flags |= OP_MMAP;
	if (dl.shutdowns)
		f->op_flags |= OP_SHUTDOWN;
	if (dl.setns)
		f->op_flags |= OP_SETNS;
	if (dl.rops || dl.wops || dl.mmaps || dl.shutdowns || dl.setns)
		f->last_update = time(NULL);
	f->base = *c;
}

void tel_flow_sync(struct tel_driver *d, struct tel_flow *f)
{
	struct collect_counts c;

	if (f->attached && !tel_capture_counts(d->cap, f->tid, f->fd, &c))
		tel_flow_sync_to(d, f, &c);
}

/* fileReadMode (sf-collector readonly.h): read-only file flows are
 * dropped (1) or dropped under noisy directories (2). "Read-only" is the
 * PPM_O_RDONLY bit (which O_RDWR has too) or READ without WRITE or MMAP.
 */
static bool read_filtered(struct tel_driver *d, const struct tel_flow *f)
{
	static const char *const noisy[] = { "/proc/",	  "/dev/",
					     "/sys/",	  "//sys/",
					     "/lib/",	  "/lib64/",
					     "/usr/lib/", "/usr/lib64/" };
	int mode = d->cfg.file_read_mode;
	bool ro = (f->open_flags & SYSFLOW_O_RDONLY) ||
		  ((f->op_flags & OP_READ_RECV) &&
		   !(f->op_flags & (OP_WRITE_SEND | OP_MMAP)));

	if ((mode != 1 && mode != 2) || !ro)
		return false;
	if (mode == 1)
		return true;
	for (size_t i = 0; f->file && i < ARRAY_SIZE(noisy); i++)
		if (!strncmp(f->file->path, noisy[i], strlen(noisy[i])))
			return true;
	return false;
}

static void flow_write(struct tel_driver *d, struct tel_flow *f, int64_t end)
{
	struct sysflow_record r = {};

	if (!f->op_flags || f->op_flags == OP_TRUNCATE)
		return;
	if (f->net) {
		struct sysflow_network_flow *n = &r.nf;

		r.type = SYSFLOW_REC_NETWORK_FLOW;
		n->proc_oid = f->proc->oid;
		n->ts = f->ts;
		n->tid = f->tid;
		n->op_flags = f->op_flags;
		n->end_ts = end;
		n->ip_version = f->ip_version;
		memcpy(n->saddr, f->sip, 16);
		memcpy(n->daddr, f->dip, 16);
		if (f->ip_version == 4) {
			memcpy(&n->sip, f->sip, 4);
			memcpy(&n->dip, f->dip, 4);
		}
		n->sport = f->sport;
		n->dport = f->dport;
		n->proto = f->proto;
		n->fd = f->fd;
		n->num_rrecv_ops = f->acc.rops;
		n->num_wsend_ops = f->acc.wops;
		n->num_rrecv_bytes = f->acc.rbytes;
		n->num_wsend_bytes = f->acc.wbytes;
		tel_out_record(d, &r, f->proc, NULL, NULL);
		return;
	}
	if (!f->file || read_filtered(d, f))
		return;
	r.type = SYSFLOW_REC_FILE_FLOW;
	r.ff.proc_oid = f->proc->oid;
	r.ff.ts = f->ts;
	r.ff.tid = f->tid;
	r.ff.op_flags = f->op_flags;
	r.ff.open_flags = f->open_flags;
	r.ff.end_ts = end;
	memcpy(r.ff.file_oid, f->file->foid, 20);
	r.ff.fd = f->fd;
	r.ff.num_rrecv_ops = f->acc.rops;
	r.ff.num_wsend_ops = f->acc.wops;
	r.ff.num_rrecv_bytes = f->acc.rbytes;
	r.ff.num_wsend_bytes = f->acc.wbytes;
	tel_out_record(d, &r, f->proc, f->file, NULL);
}

static void flow_free(struct tel_driver *d, struct tel_flow *f)
{
	detach(d, f);
	dlist_del(&f->pnode);
	dlist_del(&f->tnode);
	tel_file_put(d, f->file);
	free(f);
}

void tel_flow_end(struct tel_driver *d, struct tel_flow *f, int32_t extra,
		  int64_t end_ts)
{
	f->op_flags |= extra;
	flow_write(d, f, end_ts);
	flow_free(d, f);
}

/* Truncate and forget the kernel counters of a flow whose fd is still
 * open in another thread (or whose thread ended).
 */
static void end_with_kernel(struct tel_driver *d, struct tel_flow *f,
			    int32_t extra, int64_t ts)
{
	bool attached = f->attached;

	tel_flow_sync(d, f);
	if (attached)
		tel_capture_forget(d->cap, f->tid, f->fd, f->gen);
	tel_flow_end(d, f, extra, ts);
}

void tel_flows_close(struct tel_driver *d, struct tel_proc *p, uint32_t tid,
		     int fd, int64_t ts)
{
	struct dlist *l, *next;
	int pass;

	/* other threads' flows on the same fd: opened/accepted/connected
	 * ones first (sf-collector removeAndWriteRelatedFlows)
	 */
	for (pass = 0; pass < 2; pass++) {
		for (l = p->flows.next; l != &p->flows; l = next) {
			struct tel_flow *f =
				container_of(l, struct tel_flow, pnode);
			bool first = f->op_flags &
				     (OP_OPEN | OP_ACCEPT | OP_CONNECT);

			next = l->next;
			if (f->fd != fd || f->tid == tid ||
			    first != (pass == 0))
				continue;
			end_with_kernel(d, f, OP_TRUNCATE, ts);
		}
	}
	/* earlier peers of this thread's unconnected UDP socket */
	for (l = p->flows.next; l != &p->flows; l = next) {
		struct tel_flow *f = container_of(l, struct tel_flow, pnode);

		next = l->next;
		if (f->fd == fd && f->tid == tid && !f->attached)
			tel_flow_end(d, f, OP_TRUNCATE, ts);
	}
}

void tel_flows_truncate(struct tel_driver *d, struct tel_proc *p, uint32_t tid,
			int64_t ts)
{
	struct dlist *l, *next;

	if (!ts)
		ts = tel_now_ns();
	for (l = p->flows.next; l != &p->flows; l = next) {
		struct tel_flow *f = container_of(l, struct tel_flow, pnode);

		next = l->next;
		if (!tid || f->tid == tid)
			end_with_kernel(d, f, OP_TRUNCATE, ts);
	}
}

static void flow_export(struct tel_driver *d, struct tel_flow *f, time_t now,
			int64_t now_ns)
{
	flow_write(d, f, now_ns);
	f->ts = now_ns;
	f->op_flags = 0;
	memset(&f->acc, 0, sizeof(f->acc));
	f->export_time = now;
	dlist_del(&f->tnode);
	dlist_add_tail(&d->export_q, &f->tnode);
}

static void pflow_write(struct tel_driver *d, struct tel_pflow *pf, int64_t end)
{
	struct sysflow_record r = { .type = SYSFLOW_REC_PROCESS_FLOW };

	if (!pf->op_flags || pf->op_flags == OP_TRUNCATE)
		return;
	r.pf.proc_oid = pf->proc->oid;
	r.pf.ts = pf->ts;
	r.pf.num_threads_cloned = pf->cloned;
	r.pf.op_flags = pf->op_flags;
	r.pf.end_ts = end;
	r.pf.num_threads_exited = pf->exited;
	r.pf.num_clone_errors = pf->errors;
	tel_out_record(d, &r, pf->proc, NULL, NULL);
}

void tel_flows_check(struct tel_driver *d, time_t now, int64_t now_ns)
{
	struct dlist *l, *next;

	for (l = d->export_q.next; l != &d->export_q; l = next) {
		struct tel_flow *f = container_of(l, struct tel_flow, tnode);

		next = l->next;
		if (now - f->export_time < FLOW_EXPORT_S)
			break;
		tel_flow_sync(d, f);
		if (now - f->last_update >= FLOW_EXPIRE_S) {
			if (f->attached)
				tel_capture_forget(d->cap, f->tid, f->fd,
						   f->gen);
			flow_free(d, f);
		} else {
			flow_export(d, f, now, now_ns);
		}
	}
	for (l = d->pexport_q.next; l != &d->pexport_q; l = next) {
		struct tel_pflow *pf = container_of(l, struct tel_pflow, tnode);

		next = l->next;
		if (now - pf->export_time < FLOW_EXPORT_S)
			break;
		dlist_del(&pf->tnode);
		if (now - pf->last_update >= FLOW_EXPIRE_S) {
			pf->proc->pf = NULL;
			free(pf);
			continue;
		}
		pflow_write(d, pf, now_ns);
		pf->ts = now_ns;
		pf->op_flags = 0;
		pf->cloned = pf->exited = pf->errors = 0;
		pf->export_time = now;
		dlist_add_tail(&d->pexport_q, &pf->tnode);
	}
}

void tel_pflow_update(struct tel_driver *d, struct tel_proc *p, int32_t op,
		      int ret, bool child_side, int64_t ts)
{
	struct tel_pflow *pf = p->pf;

	if (!pf) {
		pf = calloc(1, sizeof(*pf));
		if (!pf)
			return;
		pf->proc = p;
		pf->ts = ts;
		pf->export_time = time(NULL);
		p->pf = pf;
		dlist_add_tail(&d->pexport_q, &pf->tnode);
	}
	pf->op_flags |= op;
	pf->last_update = time(NULL);
	if (op == OP_CLONE && child_side)
		pf->cloned++;
	else if (op == OP_CLONE && ret < 0)
		pf->errors++;
	else if (op == OP_EXIT)
		pf->exited++;
}

void tel_pflow_end(struct tel_driver *d, struct tel_proc *p, int64_t ts)
{
	struct tel_pflow *pf = p->pf;

	if (!pf)
		return;
	pflow_write(d, pf, ts ? ts : tel_now_ns());
	dlist_del(&pf->tnode);
	p->pf = NULL;
	free(pf);
}
