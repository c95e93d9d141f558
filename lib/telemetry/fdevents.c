// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fdevents.c: the events about fds (open, accept, connect, dup, first
 * use, UDP peer, close, close-on-exec) and file namespace operations,
 * turned into fd table updates, FileFlows, NetworkFlows and FileEvents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "export/json.h"
#include "telemetry_int.h"

#define SF_UNK '?' /* restype of a file only known by name */

/* "sip:sport->dip:dport", oriented as the flow will be (the peer is the
 * source of an accepted socket).
 */
static void sock_name(const struct tel_fd *f, char *buf, size_t len, int *sport,
		      int *dport)
{
	const struct collect_sock *s = &f->sock;
	const uint8_t *src = f->server ? s->raddr : s->laddr;
	const uint8_t *dst = f->server ? s->laddr : s->raddr;
	char a[64], b[64];

	*sport = f->server ? s->rport : s->lport;
	*dport = f->server ? s->lport : s->rport;
	sf_ip_str(s->family, src, a, sizeof(a));
	sf_ip_str(s->family, dst, b, sizeof(b));
	snprintf(buf, len, "%s:%d->%s:%d", a, *sport, b, *dport);
}

/* A flow for (tid, fd), replacing one the kernel no longer feeds. */
static struct tel_flow *start_flow(struct tel_driver *d, struct tel_proc *p,
				   uint32_t tid, struct tel_fd *f, int64_t ts)
{
	struct tel_flow *old = tel_flow_cur(d, tid, f->fd);

	if (old)
		tel_flow_end(d, old, OP_TRUNCATE, ts);
	return tel_flow_new(d, p, tid, f, ts);
}

/* The filter dropped this fd: forget it, and let the kernel stop counting
 * it if the fd was not reused meanwhile.
 */
static void drop_fd(struct tel_driver *d, struct tel_proc *p, uint32_t tid,
		    int fd, uint64_t gen)
{
	tel_capture_ignore(d->cap, p->oid.hpid, tid, fd, gen);
	tel_fd_del(d, p, fd);
}

static void one_shot_file_flow(struct tel_driver *d, struct tel_proc *p,
			       uint32_t tid, struct tel_fd *f, int32_t op,
			       int64_t ts)
{
	struct tel_flow *fl = tel_flow_new(d, p, tid, f, ts);

	if (!fl)
		return;
	fl->op_flags = op;
	fl->open_flags = op == OP_OPEN ? f->open_flags : 0;
	tel_flow_end(d, fl, 0, ts);
}

void tel_on_open(struct tel_driver *d, const struct collect_event *ev,
		 size_t size, int64_t ts)
{
	const struct collect_ev_open *o = &ev->open;
	struct tel_proc *p = tel_proc_lookup(d, ev->h.tgid);
	struct tel_ev_strs st;
	struct tel_fd *f;
	struct tel_flow *fl;
	char *path;

	if (!p)
		return;
	tel_ev_split(ev, size, &st);
	if (!st.s[0])
		return;
	path = tel_path_join(st.s[1] ? st.s[1] : p->cwd, st.s[0]);
	if (!path)
		return;
	f = tel_fd_set(p, o->fd);
	if (!f) {
		free(path);
		return;
	}
	f->kind = o->kind;
	f->gen = ev->h.ts;
	f->open_flags = tel_open_flags(o->flags);
	f->cloexec = o->flags & 02000000;
	f->file = tel_file_get(d, path, p->cont, o->kind == CK_DIR ? 'd' : 'f',
			       ts, SYSFLOW_STATE_REUP);
	if (f->file)
		f->file->refs++;
	if (!tel_ev_pass(d, "open", p, path, -1, -1)) {
		free(path);
		drop_fd(d, p, ev->h.tid, o->fd, ev->h.ts);
		return;
	}
	free(path);
	if (d->cfg.collection_mode == SYSFLOW_MODE_CONSUMER) {
		one_shot_file_flow(d, p, ev->h.tid, f, OP_OPEN, ts);
		return;
	}
	fl = start_flow(d, p, ev->h.tid, f, ts);
	if (fl) {
		fl->gen = ev->h.ts;
		fl->op_flags = OP_OPEN;
		fl->open_flags = f->open_flags;
	}
}

void tel_on_sock(struct tel_driver *d, const struct collect_event *ev,
		 int64_t ts)
{
	const struct collect_ev_sock *s = &ev->sock;
	bool accept = ev->h.type == CEV_ACCEPT;
	struct tel_proc *p = tel_proc_lookup(d, ev->h.tgid);
	struct tel_flow *fl;
	struct tel_fd *f;
	char name[160];
	int sport, dport;

	if (!p || !s->s.family) /* unix sockets: only as files, by their use */
		return;
	f = tel_fd_set(p, s->fd);
	if (!f)
		return;
	f->kind = s->s.family == 4 ? CK_SOCK4 : CK_SOCK6;
	f->gen = ev->h.ts;
	f->sock = s->s;
	f->server = accept;
	f->udp = false;
	sock_name(f, name, sizeof(name), &sport, &dport);
	if (!tel_ev_pass(d, accept ? "accept" : "connect", p, name, sport,
			 dport)) {
		drop_fd(d, p, ev->h.tid, s->fd, ev->h.ts);
		return;
	}
	fl = tel_flow_cur(d, ev->h.tid, s->fd);
	if (fl && !accept) { /* e.g. UDP datagrams sent before connect */
		uint64_t gen = fl->gen;

		tel_flow_sync(d, fl);
		htab_del(&d->cur_flows, &fl->hn);
		fl->attached = false;
		fl = tel_flow_new(d, p, ev->h.tid, f, ts);
		if (fl) { /* the kernel counters go on: continue from them */
			struct collect_counts c;

			fl->gen = gen;
			if (!tel_capture_counts(d->cap, ev->h.tid, s->fd, &c))
				fl->base = c;
		}
	} else {
		fl = start_flow(d, p, ev->h.tid, f, ts);
		if (fl)
			fl->gen = ev->h.ts;
	}
	if (fl)
		fl->op_flags |= accept ? OP_ACCEPT : OP_CONNECT;
}

static const char *op_name(uint8_t op)
{
	static const char *const names[] = { "read", "write", "mmap",
					     "shutdown", "setns" };

	return op < 5 ? names[op] : "read";
}

static bool is_inet(uint8_t kind)
{
	return kind == CK_SOCK4 || kind == CK_SOCK6;
}

/* The SysFlow restype of a file, directory, pipe or unix socket */
static char restype_of(uint8_t kind)
{
	return kind == CK_DIR  ? 'd' :
	       kind == CK_PIPE ? 'p' :
	       kind == CK_UNIX ? 'u' :
				 'f';
}

/* A socket first seen in use: its addresses, and who is the server (a
 * datagram received, or the lower port of a connected pair)
 */
static void touch_sock(struct tel_fd *f, const struct collect_ev_touch *t)
{
	f->sock = t->s;
	f->server = t->udp ? t->op == 0 : t->s.lport < t->s.rport;
}

/* A file, pipe or unix socket first seen in use: its table entry, named
 * by the event's path or "pipe:[ino]", "socket:[ino]"; false without name
 */
static bool touch_file(struct tel_driver *d, struct tel_proc *p,
		       struct tel_fd *f, const struct collect_ev_touch *t,
		       const char *path, int64_t ts)
{
	char pbuf[64];

	if (t->kind == CK_PIPE || t->kind == CK_UNIX) {
		snprintf(pbuf, sizeof(pbuf), "%s:[%llu]",
			 t->kind == CK_PIPE ? "pipe" : "socket",
			 (unsigned long long)t->ino);
		path = pbuf;
	}
	if (!path)
		return false;
	f->file = tel_file_get(d, path, p->cont, restype_of(t->kind), ts,
			       SYSFLOW_STATE_REUP);
	if (f->file)
		f->file->refs++;
	return true;
}

/* An fd opened before the capture started: a new fd table entry, NULL
 * when it cannot be made or named
 */
static struct tel_fd *learn_fd(struct tel_driver *d, struct tel_proc *p,
			       const struct collect_event *ev, size_t size,
			       int64_t ts)
{
	const struct collect_ev_touch *t = &ev->touch;
	struct tel_ev_strs st;
	struct tel_fd *f;

	tel_ev_split(ev, size, &st);
	f = tel_fd_set(p, t->fd);
	if (!f)
		return NULL;
	f->kind = t->kind;
	f->udp = t->udp;
	f->gen = ev->h.ts;
	if (is_inet(t->kind)) {
		touch_sock(f, t);
	} else if (!touch_file(d, p, f, t, st.s[0], ts)) {
		drop_fd(d, p, ev->h.tid, t->fd, ev->h.ts);
		return NULL;
	}
	return f;
}

/* A new thread on a known UDP socket: its current peer */
static void touch_udp_peer(struct tel_fd *f, const struct collect_ev_touch *t)
{
	memcpy(f->sock.raddr, t->s.raddr, 16);
	f->sock.rport = t->s.rport;
	f->server = t->op == 0;
}

void tel_on_touch(struct tel_driver *d, const struct collect_event *ev,
		  size_t size, int64_t ts)
{
	const struct collect_ev_touch *t = &ev->touch;
	struct tel_proc *p = tel_proc_lookup(d, ev->h.tgid);
	struct tel_flow *fl;
	struct tel_fd *f;
	char name[PATH_MAX + 64];
	int sport = -1, dport = -1;

	if (!p)
		return;
	f = t->known ? tel_fd_get(p, t->fd) : NULL;
	if (!f) {
		f = learn_fd(d, p, ev, size, ts);
		if (!f)
			return;
	} else if (f->udp && is_inet(f->kind)) {
		touch_udp_peer(f, t);
	}
	if (is_inet(f->kind))
		sock_name(f, name, sizeof(name), &sport, &dport);
	else
		snprintf(name, sizeof(name), "%s",
			 f->file ? f->file->path : "");
	if (!tel_ev_pass(d, op_name(t->op), p, name, sport, dport)) {
		/* fdinfo may be older than this touch: forget our counters */
		tel_capture_forget(d->cap, ev->h.tid, t->fd, ev->h.ts);
		drop_fd(d, p, ev->h.tid, t->fd, f->gen);
		return;
	}
	fl = start_flow(d, p, ev->h.tid, f, ts);
	if (fl)
		fl->gen = ev->h.ts;
}

/* newfd is oldfd's open file: the same name (path, or addresses and
 * which end is the server), so its flows, keyed (thread, newfd), point to
 * the same File or tuple. Like a flow begun by a read, they have no
 * OP_OPEN and openFlags 0 (sf-collector sets openFlags on open only).
 */
void tel_on_dup(struct tel_driver *d, const struct collect_event *ev)
{
	const struct collect_ev_dup *x = &ev->dup;
	struct tel_proc *p = tel_proc_lookup(d, ev->h.tgid);
	struct tel_fd *old, *f;

	if (!p)
		return;
	old = tel_fd_get(p, x->oldfd);
	if (!old) { /* not ours to name: the kernel names newfd at first use */
		tel_capture_forget_fdinfo(d->cap, p->oid.hpid, x->newfd,
					  ev->h.ts);
		tel_fd_del(d, p, x->newfd);
		return;
	}
	f = tel_fd_set(p, x->newfd);
	if (!f)
		return;
	f->kind = old->kind;
	f->udp = old->udp;
	f->open_flags = old->open_flags;
	f->file = old->file;
	if (f->file)
		f->file->refs++;
	f->sock = old->sock;
	f->server = old->server;
	f->cloexec = x->cloexec;
	f->gen = ev->h.ts;
}

/* close_range(CLOSE_RANGE_CLOEXEC): the fds close at the next exec,
 * which ends their flows (OP_TRUNCATE) like those of O_CLOEXEC opens.
 */
void tel_on_cloexec(struct tel_driver *d, const struct collect_event *ev)
{
	struct tel_proc *p = tel_proc_lookup(d, ev->h.tgid);
	struct hnode *n;
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->fds.nb; i++)
		for (n = p->fds.b[i]; n; n = n->next) {
			struct tel_fd *f = container_of(n, struct tel_fd, hn);

			if ((uint32_t)f->fd >= ev->range.first &&
			    (uint32_t)f->fd <= ev->range.last)
				f->cloexec = true;
		}
}

static bool same_peer(const struct tel_flow *f, const struct collect_ev_peer *e,
		      bool server)
{
	const uint8_t *a = server ? f->sip : f->dip;
	uint16_t port = server ? f->sport : f->dport;

	return port == e->peer_port &&
	       !memcmp(a, e->peer, e->peer_family == 4 ? 4 : 16);
}

void tel_on_peer(struct tel_driver *d, const struct collect_event *ev,
		 int64_t ts)
{
	const struct collect_ev_peer *e = &ev->peer;
	struct tel_proc *p = tel_proc_get(d, ev->h.tgid);
	struct tel_flow *cur = tel_flow_cur(d, ev->h.tid, e->fd), *fl = NULL;
	struct tel_fd *f = p ? tel_fd_get(p, e->fd) : NULL;
	struct dlist *l;

	if (!p || !cur || !f)
		return;
	tel_flow_sync_to(d, cur, &e->c);
	htab_del(&d->cur_flows, &cur->hn);
	cur->attached = false;
	for (l = p->flows.next; l != &p->flows; l = l->next) {
		struct tel_flow *x = container_of(l, struct tel_flow, pnode);

		if (x->tid == ev->h.tid && x->fd == e->fd && !x->attached &&
		    same_peer(x, e, f->server)) {
			fl = x;
			break;
		}
	}
	memcpy(f->sock.raddr, e->peer, 16);
	f->sock.rport = e->peer_port;
	if (fl) {
		fl->attached = true;
		htab_add(&d->cur_flows, &fl->hn, fl->hn.key);
	} else {
		fl = tel_flow_new(d, p, ev->h.tid, f, ts);
	}
	if (fl) { /* the same kernel entry goes on */
		fl->base = e->c;
		fl->gen = cur->gen;
	}
}

void tel_on_close(struct tel_driver *d, const struct collect_event *ev,
		  size_t size, int64_t ts)
{
	const struct collect_ev_close *c = &ev->close;
	/* exec closed it (close-on-exec): its flows end truncated, as
	 * sf-collector ends them, with the final counters of the kernel
	 */
	int32_t op = c->at_exec ? OP_TRUNCATE : OP_CLOSE;
	struct tel_proc *p = tel_proc_lookup(d, ev->h.tgid);
	struct tel_fd tmp = {}, *f;
	struct tel_flow *fl;
	struct tel_ev_strs st;
	char name[PATH_MAX + 64];
	int sport = -1, dport = -1;

	if (!p)
		return;
	f = tel_fd_get(p, c->fd);
	if (!f) { /* never seen: name it from the event */
		tel_ev_split(ev, size, &st);
		tmp.fd = c->fd;
		tmp.kind = c->kind;
		if (c->kind == CK_SOCK4 || c->kind == CK_SOCK6) {
			tmp.sock = c->s;
			tmp.server = c->s.lport < c->s.rport;
		} else if (st.s[0]) {
			tmp.file = tel_file_get(d, st.s[0], p->cont,
						c->kind == CK_DIR ? 'd' : 'f',
						ts, SYSFLOW_STATE_REUP);
		}
		if (!tmp.file && !(c->kind == CK_SOCK4 || c->kind == CK_SOCK6))
			return;
		f = &tmp;
	}
	if (f->kind == CK_SOCK4 || f->kind == CK_SOCK6)
		sock_name(f, name, sizeof(name), &sport, &dport);
	else
		snprintf(name, sizeof(name), "%s",
			 f->file ? f->file->path : "");
	if (!c->at_exec && !tel_ev_pass(d, "close", p, name, sport, dport)) {
		/* the flow passed the filter, its close did not: end it as
		 * truncated, with its counters
		 */
		tel_flows_close(d, p, ev->h.tid, c->fd, ts);
		fl = tel_flow_cur(d, ev->h.tid, c->fd);
		if (fl && c->had_stats)
			tel_flow_sync_to(d, fl, &c->c);
		if (fl)
			tel_flow_end(d, fl, OP_TRUNCATE, ts);
		if (f != &tmp)
			tel_fd_del(d, p, c->fd);
		return;
	}
	tel_flows_close(d, p, ev->h.tid, c->fd, ts);
	fl = tel_flow_cur(d, ev->h.tid, c->fd);
	if (!fl && !c->at_exec) /* a one-shot record (processNewFlow) */
		fl = tel_flow_new(d, p, ev->h.tid, f, ts);
	if (fl) {
		if (c->had_stats)
			tel_flow_sync_to(d, fl, &c->c);
		tel_flow_end(d, fl, op, ts);
	}
	if (f != &tmp)
		tel_fd_del(d, p, c->fd);
}

void tel_on_fileop(struct tel_driver *d, const struct collect_event *ev,
		   size_t size, int64_t ts)
{
	const struct collect_ev_fileop *o = &ev->fileop;
	struct sysflow_record r = { .type = SYSFLOW_REC_FILE_EVENT };
	struct tel_proc *p = tel_proc_lookup(d, ev->h.tgid);
	bool two = o->op == OP_LINK || o->op == OP_SYMLINK ||
		   o->op == OP_RENAME;
	bool dir = o->op == OP_MKDIR || o->op == OP_RMDIR;
	static const char *const names[] = { "mkdir",  "rmdir",	  "link",
					     "unlink", "symlink", "rename" };
	struct tel_file *f1, *f2 = NULL;
	char *p1, *p2 = NULL;
	struct tel_ev_strs st;
	int op_idx = __builtin_ctz(o->op) - 15;

	if (!p || op_idx < 0 || op_idx > 5)
		return;
	tel_ev_split(ev, size, &st);
	if (!st.s[0] || (two && !st.s[2]))
		return;
	/* symlinkat keeps its target as given; the rest become absolute */
	p1 = o->op == OP_SYMLINK && o->at ?
		     strdup(st.s[0]) :
		     tel_path_join(st.s[1] ? st.s[1] : p->cwd, st.s[0]);
	if (two)
		p2 = tel_path_join(st.s[3] ? st.s[3] : p->cwd, st.s[2]);
	if (!p1 || (two && !p2))
		goto out;
	if (!tel_ev_pass(d, names[op_idx], p, p1, -1, -1))
		goto out;
	f1 = tel_file_get(d, p1, p->cont, dir ? 'd' : SF_UNK, ts,
			  two ? SYSFLOW_STATE_REUP : SYSFLOW_STATE_CREATED);
	if (two)
		f2 = tel_file_get(d, p2, p->cont, SF_UNK, ts,
				  SYSFLOW_STATE_CREATED);
	if (!f1 || (two && !f2))
		goto out;
	r.fe.proc_oid = p->oid;
	r.fe.ts = ts;
	r.fe.tid = ev->h.tid;
	r.fe.op_flags = o->op;
	r.fe.ret = ev->h.ret;
	memcpy(r.fe.file_oid, f1->foid, 20);
	r.fe.has_new_file_oid = f2 != NULL;
	if (f2)
		memcpy(r.fe.new_file_oid, f2->foid, 20);
	tel_out_record(d, &r, p, f1, f2);
out:
	free(p1);
	free(p2);
}
