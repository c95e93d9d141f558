// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* events.c: what each kernel event means for the tables and which SysFlow
 * records it produces (sf-collector's controlflow, dataflow and fileevent
 * processors, in C): the dispatcher and the process events. Events arrive
 * in timestamp order from capture.c; fd events are in fdevents.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/core.h"
#include "telemetry_int.h"

int64_t tel_now_ns(void)
{
	return sf_clock_ns(CLOCK_REALTIME);
}

int64_t tel_ts(struct tel_driver *d, uint64_t boot_ns)
{
	return d->boot_to_epoch + (int64_t)boot_ns;
}

/* Split the string area; a string that does not fit is left out. */
void tel_ev_split(const struct collect_event *ev, size_t size,
		  struct tel_ev_strs *st)
{
	size_t off = 0, avail = size - offsetof(struct collect_event, data);

	memset(st, 0, sizeof(*st));
	for (int i = 0; i < COLLECT_MAX_STRS; i++) {
		size_t l = ev->h.slen[i];

		if (!l || off + l > avail)
			continue;
		st->s[i] = ev->data + off;
		st->len[i] = l;
		if (ev->data[off + l - 1]) /* not terminated: cut */
			st->s[i] = NULL;
		off += l;
	}
}

bool tel_ev_pass(struct tel_driver *d, const char *type,
		 const struct tel_proc *p, const char *name, int sport,
		 int dport)
{
	struct tel_filter_ctx c = {
		.evt_type = type,
		.proc = p,
		.fd_name = name,
		.sport = sport,
		.dport = dport,
		.container_id = p && p->cont ? p->cont->id : NULL,
	};

	if (!d->filter || tel_filter_match(d->filter, &c))
		return true;
	d->filtered_out++;
	return false;
}

static void proc_event(struct tel_driver *d, struct tel_proc *p, int64_t ts,
		       uint32_t tid, int32_t op, int32_t ret, const char *arg)
{
	struct sysflow_record r = { .type = SYSFLOW_REC_PROCESS_EVENT };
	const char *args[1] = { arg };

	r.pe.proc_oid = p->oid;
	r.pe.ts = ts;
	r.pe.tid = tid;
	r.pe.op_flags = op;
	r.pe.ret = ret;
	r.pe.args = args;
	r.pe.args_count = arg ? 1 : 0;
	tel_out_record(d, &r, p, NULL, NULL);
}

static void set_str(char **dst, const char *s)
{
	char *c = strdup(s ? s : "");

	if (c) {
		free(*dst);
		*dst = c;
	}
}

static void set_container(struct tel_driver *d, struct tel_proc *p,
			  uint8_t ctype, const char *cid)
{
	struct tel_container *c = NULL;

	if (ctype != CT_NONE && cid[0])
		c = tel_container_get(d, cid, ctype);
	tel_container_put(d, p->cont);
	p->cont = c;
}

/* ---- processes ---- */

static void on_clone(struct tel_driver *d, const struct collect_event *ev,
		     int64_t ts)
{
	const struct collect_ev_clone *c = &ev->clone;
	struct tel_proc *parent = tel_proc_lookup(d, ev->h.tgid), *child, *rp;
	bool pf = d->cfg.enable_process_flow;

	if (!parent)
		return;
	if (c->is_thread) {
		if (!tel_ev_pass(d, "clone", parent, NULL, -1, -1))
			return;
		if (pf) {
			tel_pflow_update(d, parent, OP_CLONE, 0, true, ts);
			return;
		}
		proc_event(d, parent, ts, ev->h.tid, OP_CLONE, c->child_tid,
			   NULL);
		proc_event(d, parent, ts, c->child_tid, OP_CLONE, 0, NULL);
		return;
	}
	rp = tel_proc_get(d, c->parent_tgid);
	if (!rp)
		rp = parent;
	child = tel_proc_new(d, c->child_tgid);
	if (!child)
		return;
	/* a new process starts as a copy of its parent */
	child->oid.create_ts = ts;
	child->has_poid = true;
	child->poid = rp->oid;
	child->ts = ts;
	set_str(&child->exe, parent->exe);
	set_str(&child->args, parent->args);
	set_str(&child->cwd, parent->cwd);
	child->env = calloc(parent->nenv ? parent->nenv : 1, sizeof(char *));
	for (size_t i = 0; child->env && i < parent->nenv; i++)
		if ((child->env[child->nenv] = strdup(parent->env[i])))
			child->nenv++;
	child->uid = parent->uid;
	child->gid = parent->gid;
	child->tty = parent->tty;
	child->state = SYSFLOW_STATE_CREATED;
	if (c->ctype != CT_NONE)
		set_container(d, child, c->ctype, c->cid);
	else if (parent->cont)
		child->cont = tel_container_get(d, parent->cont->id,
						parent->cont->type);
	if (!tel_ev_pass(d, "clone", child, NULL, -1, -1))
		return;
	/* sf-collector writes the parent's clone (ret = child pid) and the
	 * child's (ret = 0), both as OP_CLONE process events
	 */
	proc_event(d, parent, ts, ev->h.tid, OP_CLONE, c->child_tid, NULL);
	proc_event(d, child, ts, c->child_tid, OP_CLONE, 0, NULL);
}

static void on_clone_fail(struct tel_driver *d, const struct collect_event *ev,
			  int64_t ts)
{
	struct tel_proc *p = tel_proc_lookup(d, ev->h.tgid);

	if (!p || !tel_ev_pass(d, "clone", p, NULL, -1, -1))
		return;
	if (d->cfg.enable_process_flow)
		tel_pflow_update(d, p, OP_CLONE, ev->h.ret, false, ts);
	else
		proc_event(d, p, ts, ev->h.tid, OP_CLONE, ev->h.ret, NULL);
}

/* exec closes the O_CLOEXEC fds: their flows end there */
static void close_cloexec(struct tel_driver *d, struct tel_proc *p, int64_t ts)
{
	struct hnode *n, *next;
	size_t i;

	for (i = 0; i < p->fds.nb; i++)
		for (n = p->fds.b[i]; n; n = next) {
			struct tel_fd *f = container_of(n, struct tel_fd, hn);

			next = n->next;
			if (!f->cloexec)
				continue;
			tel_flows_close(d, p, 0, f->fd, ts);
			tel_capture_forget_fdinfo(d->cap, p->oid.hpid, f->fd,
						  f->gen);
			tel_fd_del(d, p, f->fd);
		}
}

static void on_exec(struct tel_driver *d, const struct collect_event *ev,
		    size_t size, int64_t ts)
{
	const struct collect_ev_exec *x = &ev->exec;
	struct tel_proc *p = tel_proc_get(d, ev->h.tgid);
	bool created = !p;
	struct tel_ev_strs st;

	if (ev->h.ret < 0) { /* a failed exec changes nothing */
		p = tel_proc_lookup(d, ev->h.tgid);
		if (!p || !tel_ev_pass(d, "execve", p, NULL, -1, -1))
			return;
		p->state = SYSFLOW_STATE_MODIFIED;
		tel_out_process(d, p);
		proc_event(d, p, ts, ev->h.tid, OP_EXEC, ev->h.ret, NULL);
		return;
	}
	if (!p)
		p = tel_proc_lookup(d, ev->h.tgid);
	if (!p)
		return;
	tel_ev_split(ev, size, &st);
	if (st.s[0] && st.s[0][0])
		set_str(&p->exe, st.s[0]);
	if (st.s[1])
		tel_proc_set_args(p, st.s[1], st.len[1] - 1);
	if (st.s[2])
		tel_proc_set_env(p, st.s[2], st.len[2] - 1);
	if (st.s[3])
		set_str(&p->cwd, st.s[3]);
	p->uid = x->uid;
	p->gid = x->gid;
	p->tty = x->tty;
	p->entry = x->entry;
	p->ts = ts;
	set_container(d, p, x->ctype, x->cid);
	close_cloexec(d, p, ts);
	p->state = created ? SYSFLOW_STATE_CREATED : SYSFLOW_STATE_MODIFIED;
	if (!tel_ev_pass(d, "execve", p, NULL, -1, -1))
		return;
	tel_out_process(d, p);
	proc_event(d, p, ts, ev->h.tid, OP_EXEC, 0, NULL);
}

static int exit_status(int32_t code)
{
	return code & 0x7f ? 128 + (code & 0x7f) : (code >> 8) & 0xff;
}

static void on_exit_(struct tel_driver *d, const struct collect_event *ev,
		     int64_t ts)
{
	struct tel_proc *p = tel_proc_get(d, ev->h.tgid);
	bool main = ev->h.tid == ev->h.tgid, pf = d->cfg.enable_process_flow;

	if (!p)
		return;
	tel_flows_truncate(d, p, main ? 0 : ev->h.tid, ts);
	if (tel_ev_pass(d, "exit", p, NULL, -1, -1)) {
		if (pf && !main)
			tel_pflow_update(d, p, OP_EXIT, 0, false, ts);
		if (main || !pf) {
			if (pf)
				tel_pflow_end(d, p, ts);
			proc_event(d, p, ts, ev->h.tid, OP_EXIT,
				   exit_status(ev->exit.code), NULL);
		}
	}
	if (main)
		p->main_exited = true;
	if (ev->exit.group_dead)
		tel_proc_free(d, p);
}

static void on_setuid(struct tel_driver *d, const struct collect_event *ev,
		      int64_t ts)
{
	struct tel_proc *p = tel_proc_lookup(d, ev->h.tgid);
	char name[64];
	const char *u;

	if (!p || !tel_ev_pass(d, "setuid", p, NULL, -1, -1))
		return;
	p->uid = ev->setuid.uid;
	p->gid = ev->setuid.gid;
	p->state = SYSFLOW_STATE_MODIFIED;
	tel_out_process(d, p);
	u = tel_user_name(d, ev->setuid.req_uid);
	if (!*u) {
		snprintf(name, sizeof(name), "%u", ev->setuid.req_uid);
		u = name;
	}
	proc_event(d, p, ts, ev->h.tid, OP_SETUID, ev->h.ret, u);
}

int tel_handle_event(void *ctx, const struct collect_event *ev, size_t size)
{
	struct tel_driver *d = ctx;
	int64_t ts = tel_ts(d, ev->h.ts);

	d->events_received++;
	switch (ev->h.type) {
	case CEV_CLONE:
		on_clone(d, ev, ts);
		break;
	case CEV_CLONE_FAIL:
		on_clone_fail(d, ev, ts);
		break;
	case CEV_EXEC:
		on_exec(d, ev, size, ts);
		break;
	case CEV_EXIT:
		on_exit_(d, ev, ts);
		break;
	case CEV_SETUID:
		on_setuid(d, ev, ts);
		break;
	case CEV_OPEN:
		tel_on_open(d, ev, size, ts);
		break;
	case CEV_ACCEPT:
	case CEV_CONNECT:
		tel_on_sock(d, ev, ts);
		break;
	case CEV_TOUCH:
		tel_on_touch(d, ev, size, ts);
		break;
	case CEV_PEER:
		tel_on_peer(d, ev, ts);
		break;
	case CEV_CLOSE:
		tel_on_close(d, ev, size, ts);
		break;
	case CEV_FILEOP:
		tel_on_fileop(d, ev, size, ts);
		break;
	case CEV_DUP:
		tel_on_dup(d, ev);
		break;
	case CEV_CLOEXEC:
		tel_on_cloexec(d, ev);
		break;
	}
	return 0;
}
