// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* json_out.c: events and flows as JSON lines, flattened the way SysFlow's
 * own printer does it (sf-apis formatter.py _flatten, "sysprint -o
 * flatjson"): the same keys in the same order, record type, process,
 * parent, file, network, flow, container and header fields by name. IPv6
 * addresses are printed in full (the printer itself only knows IPv4).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "core/core.h"
#include "export/json.h"
#include "telemetry_int.h"

#define JSON_VERSION "4" /* formatter.py _version */

static const char *const type_names[] = {
	[SYSFLOW_REC_HEADER] = "H",	    [SYSFLOW_REC_CONTAINER] = "C",
	[SYSFLOW_REC_PROCESS] = "P",	    [SYSFLOW_REC_FILE] = "F",
	[SYSFLOW_REC_PROCESS_EVENT] = "PE", [SYSFLOW_REC_NETWORK_FLOW] = "NF",
	[SYSFLOW_REC_FILE_FLOW] = "FF",	    [SYSFLOW_REC_FILE_EVENT] = "FE",
	[SYSFLOW_REC_NETWORK_EVENT] = "NE", [SYSFLOW_REC_PROCESS_FLOW] = "PF",
};

static const char *const ctype_names[] = {
	"CT_DOCKER", "CT_LXC", "CT_LIBVIRT_LXC", "CT_MESOS", "CT_RKT",
	"CT_CUSTOM", "CT_CRI", "CT_CONTAINERD",	 "CT_CRIO",  "CT_BPM",
};

/* utils.getOpFlagsStr */
static void opflags_str(int32_t f, char *out, size_t len)
{
	static const struct {
		int32_t flag;
		const char *name;
	} evs[] = {
		{ OP_MKDIR, "MKDIR" },	 { OP_RMDIR, "RMDIR" },
		{ OP_LINK, "LINK" },	 { OP_SYMLINK, "SYMLINK" },
		{ OP_UNLINK, "UNLINK" }, { OP_RENAME, "RENAME" },
		{ OP_CLONE, "CLONE" },	 { OP_EXEC, "EXEC" },
		{ OP_EXIT, "EXIT" },	 { OP_SETUID, "SETUID" },
	};
	static const struct {
		int32_t flag;
		char c;
	} flows[] = {
		{ OP_OPEN, 'O' },      { OP_ACCEPT, 'A' },
		{ OP_CONNECT, 'C' },   { OP_WRITE_SEND, 'W' },
		{ OP_READ_RECV, 'R' }, { OP_SETNS, 'N' },
		{ OP_MMAP, 'M' },      { OP_SHUTDOWN, 'S' },
		{ OP_CLOSE, 'C' },     { OP_TRUNCATE, 'T' },
		{ OP_DIGEST, 'D' },
	};
	size_t o = 0;

	out[0] = 0;
	for (size_t i = 0; i < 6; i++)
		if (f & evs[i].flag)
			o += snprintf(out + o, len - o, "%s", evs[i].name);
	if (o)
		return;
	for (size_t i = 6; i < ARRAY_SIZE(evs); i++)
		if (f & evs[i].flag)
			o += snprintf(out + o, len - o, "%s", evs[i].name);
	if (o)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(flows) && o + 1 < len; i++)
		out[o++] = f & flows[i].flag ? flows[i].c : ' ';
	out[o] = 0;
}

/* Python datetime.utcfromtimestamp(ts / 1e9).isoformat() */
static void iso_time(int64_t ns, char *out, size_t len)
{
	time_t s = ns / NSEC_PER_SEC;
	long us = (ns % NSEC_PER_SEC) / 1000;
	struct tm tm;
	size_t n;

	gmtime_r(&s, &tm);
	n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (us && n < len)
		snprintf(out + n, len - n, ".%06ld", us);
}

static void set(json_t *o, const char *k, json_t *v)
{
	json_object_set_new(o, k, v ? v : json_null());
}

static json_t *str(const char *s)
{
	return json_string(s ? s : "");
}

static void proc_fields(json_t *o, const char *pre,
			const struct sysflow_process *p, bool parent)
{
	char k[32];

#define K(name) (snprintf(k, sizeof(k), "%s.%s", pre, name), k)
	if (!parent) { /* proc.pid and proc.tid are set by the caller */
		set(o, K("uid"), p ? json_integer(p->uid) : NULL);
		set(o, K("user"), str(p ? p->user_name : ""));
		set(o, K("gid"), p ? json_integer(p->gid) : NULL);
		set(o, K("group"), str(p ? p->group_name : ""));
		set(o, K("exe"), str(p ? p->exe : ""));
		set(o, K("args"), str(p ? p->exe_args : ""));
		set(o, K("tty"), p ? json_boolean(p->tty) : str(""));
		set(o, K("entry"), p ? json_boolean(p->entry) : str(""));
		set(o, K("createts"),
		    p ? json_integer(p->oid.create_ts) : NULL);
		return;
	}
	set(o, K("pid"), p ? json_integer(p->oid.hpid) : NULL);
	set(o, K("gid"), p ? json_integer(p->gid) : NULL);
	set(o, K("uid"), p ? json_integer(p->uid) : NULL);
	set(o, K("group"), str(p ? p->group_name : ""));
	set(o, K("tty"), p ? json_boolean(p->tty) : str(""));
	set(o, K("entry"), p ? json_boolean(p->entry) : str(""));
	set(o, K("user"), str(p ? p->user_name : ""));
	set(o, K("exe"), str(p ? p->exe : ""));
	set(o, K("args"), str(p ? p->exe_args : ""));
	set(o, K("createts"), p ? json_integer(p->oid.create_ts) : str(""));
#undef K
}

/* The time, thread, operations and return code of a record: where each
 * record type keeps them.
 */
struct rec_common {
	int64_t ts, end, tid;
	int32_t ops, ret;
};

static struct rec_common rec_common(const struct sysflow_record *rec)
{
	struct rec_common c = { 0 };

	switch (rec->type) {
	case SYSFLOW_REC_PROCESS_EVENT:
		c.ts = rec->pe.ts, c.tid = rec->pe.tid;
		c.ops = rec->pe.op_flags, c.ret = rec->pe.ret;
		break;
	case SYSFLOW_REC_FILE_EVENT:
		c.ts = rec->fe.ts, c.tid = rec->fe.tid;
		c.ops = rec->fe.op_flags, c.ret = rec->fe.ret;
		break;
	case SYSFLOW_REC_NETWORK_FLOW:
		c.ts = rec->nf.ts, c.tid = rec->nf.tid;
		c.ops = rec->nf.op_flags, c.end = rec->nf.end_ts;
		break;
	case SYSFLOW_REC_FILE_FLOW:
		c.ts = rec->ff.ts, c.tid = rec->ff.tid;
		c.ops = rec->ff.op_flags, c.end = rec->ff.end_ts;
		break;
	default:
		c.ts = rec->pf.ts, c.ops = rec->pf.op_flags;
		c.end = rec->pf.end_ts;
		break;
	}
	return c;
}

/* version, type, state, opflags, ret, ts and endts */
static void record_fields(json_t *o, const struct sysflow_record *rec,
			  const struct rec_common *c,
			  const struct sysflow_process *proc,
			  const struct sysflow_file *f1)
{
	bool flow = rec->type == SYSFLOW_REC_NETWORK_FLOW ||
		    rec->type == SYSFLOW_REC_FILE_FLOW ||
		    rec->type == SYSFLOW_REC_PROCESS_FLOW;
	bool evt = rec->type == SYSFLOW_REC_PROCESS_EVENT ||
		   rec->type == SYSFLOW_REC_FILE_EVENT;
	char buf[512];

	set(o, "version", json_string(JSON_VERSION));
	set(o, "type", json_string(type_names[rec->type]));
	set(o, "state",
	    str(proc ? tel_state_name(proc->state) :
		f1   ? tel_state_name(f1->state) :
		       ""));
	opflags_str(c->ops, buf, sizeof(buf));
	set(o, "opflags", json_string(buf));
	set(o, "opflags_bitmap", json_integer(c->ops));
	set(o, "ret", evt ? json_integer(c->ret) : NULL);
	iso_time(c->ts, buf, sizeof(buf));
	set(o, "ts", json_string(buf));
	set(o, "ts_uts", json_integer(c->ts));
	if (flow)
		iso_time(c->end, buf, sizeof(buf));
	set(o, "endts", json_string(flow ? buf : ""));
	set(o, "endts_uts", flow ? json_integer(c->end) : NULL);
}

/* proc.* and pproc.* */
static void process_fields(json_t *o, const struct sysflow_record *rec,
			   const struct rec_common *c,
			   const struct sysflow_process *proc,
			   const struct sysflow_process *pproc)
{
	bool is_pf = rec->type == SYSFLOW_REC_PROCESS_FLOW;

	set(o, "proc.pid", proc ? json_integer(proc->oid.hpid) : NULL);
	set(o, "proc.tid", is_pf ? NULL : json_integer(c->tid));
	proc_fields(o, "proc", proc, false);
	proc_fields(o, "pproc", pproc, true);
}

/* file.*: the flow's descriptor, the paths, type and open flags */
static void file_fields(json_t *o, const struct sysflow_record *rec,
			const struct sysflow_file *f1,
			const struct sysflow_file *f2)
{
	bool is_nf = rec->type == SYSFLOW_REC_NETWORK_FLOW;
	bool is_ff = rec->type == SYSFLOW_REC_FILE_FLOW;
	char buf[512];

	set(o, "file.fd",
	    is_nf ? json_integer(rec->nf.fd) :
	    is_ff ? json_integer(rec->ff.fd) :
		    str(""));
	set(o, "file.path", str(f1 ? f1->path : ""));
	set(o, "file.newpath", str(f2 ? f2->path : ""));
	snprintf(buf, sizeof(buf), "%c", f1 ? f1->restype : 0);
	set(o, "file.type", str(f1 ? buf : ""));
	set(o, "file.openflags",
	    is_ff ? json_integer(rec->ff.open_flags) : str(""));
}

/* The addresses of a network flow as text, empty for other records */
struct endpoints {
	char sbuf[INET6_ADDRSTRLEN], dbuf[INET6_ADDRSTRLEN];
	const char *sip, *dip;
};

static void endpoints_of(const struct sysflow_record *rec, struct endpoints *ep)
{
	const struct sysflow_network_flow *nf = &rec->nf;

	ep->sip = ep->dip = "";
	if (rec->type != SYSFLOW_REC_NETWORK_FLOW)
		return;
	ep->sip = sf_ip_str(nf->ip_version, nf->saddr, ep->sbuf,
			    sizeof(ep->sbuf));
	ep->dip = sf_ip_str(nf->ip_version, nf->daddr, ep->dbuf,
			    sizeof(ep->dbuf));
}

/* net.* of a network flow, null or empty for the rest */
static void net_fields(json_t *o, const struct sysflow_record *rec,
		       const struct endpoints *ep)
{
	const struct sysflow_network_flow *nf = &rec->nf;
	bool is_nf = rec->type == SYSFLOW_REC_NETWORK_FLOW;

	set(o, "net.proto", is_nf ? json_integer(nf->proto) : str(""));
	set(o, "net.sport", is_nf ? json_integer(nf->sport) : NULL);
	set(o, "net.dport", is_nf ? json_integer(nf->dport) : NULL);
	set(o, "net.sip", str(ep->sip));
	set(o, "net.dip", str(ep->dip));
}

/* res: "sip:sport-dip:dport" of a network flow, the path (", newpath") of
 * a file flow or event, empty for the rest
 */
static void res_field(json_t *o, const struct sysflow_record *rec,
		      const struct endpoints *ep, const struct sysflow_file *f1,
		      const struct sysflow_file *f2)
{
	const struct sysflow_network_flow *nf = &rec->nf;
	bool is_file = rec->type == SYSFLOW_REC_FILE_FLOW ||
		       rec->type == SYSFLOW_REC_FILE_EVENT;
	char buf[512];

	if (rec->type == SYSFLOW_REC_NETWORK_FLOW)
		snprintf(buf, sizeof(buf), "%s:%d-%s:%d", ep->sip, nf->sport,
			 ep->dip, nf->dport);
	else if (is_file && f1)
		snprintf(buf, sizeof(buf), "%s%s%s", f1->path, f2 ? ", " : "",
			 f2 ? f2->path : "");
	else
		buf[0] = 0;
	set(o, "res", json_string(buf));
}

/* flow.* (the same counter of a network or a file flow) and pf.*, null
 * for the records without them
 */
static void counter_fields(json_t *o, const struct sysflow_record *rec)
{
	const struct sysflow_network_flow *nf = &rec->nf;
	const struct sysflow_file_flow *ff = &rec->ff;
	const struct sysflow_process_flow *pf = &rec->pf;
	bool is_nf = rec->type == SYSFLOW_REC_NETWORK_FLOW;
	bool is_ff = rec->type == SYSFLOW_REC_FILE_FLOW;
	bool is_pf = rec->type == SYSFLOW_REC_PROCESS_FLOW;

#define COUNT(m) \
	(is_nf ? json_integer(nf->m) : is_ff ? json_integer(ff->m) : NULL)
	set(o, "flow.rbytes", COUNT(num_rrecv_bytes));
	set(o, "flow.rops", COUNT(num_rrecv_ops));
	set(o, "flow.wbytes", COUNT(num_wsend_bytes));
	set(o, "flow.wops", COUNT(num_wsend_ops));
#undef COUNT
	set(o, "pf.nthreads",
	    is_pf ? json_integer(pf->num_threads_cloned) : NULL);
	set(o, "pf.nexits",
	    is_pf ? json_integer(pf->num_threads_exited) : NULL);
	set(o, "pf.nerrors", is_pf ? json_integer(pf->num_clone_errors) : NULL);
}

/* container.* */
static void container_fields(json_t *o, const struct sysflow_container *cont)
{
	set(o, "container.id", str(cont ? cont->id : ""));
	set(o, "container.name", str(cont ? cont->name : ""));
	set(o, "container.imageid", str(cont ? cont->imageid : ""));
	set(o, "container.image", str(cont ? cont->image : ""));
	set(o, "container.type", str(cont ? ctype_names[cont->type % 10] : ""));
	set(o, "container.privileged",
	    cont ? json_boolean(cont->privileged) : str(""));
}

/* node.*, filename and schema from the header; k8s.* always empty */
static void node_fields(json_t *o, const struct sysflow_header *h)
{
	set(o, "node.id", str(h->exporter));
	set(o, "node.ip", str(h->ip));
	set(o, "filename", str(h->filename));
	set(o, "schema", json_integer(h->version));
	set(o, "k8s.action", str(""));
	set(o, "k8s.kind", str(""));
	set(o, "k8s.msg", str(""));
}

int tel_json_record(struct tel_driver *d, FILE *out,
		    const struct sysflow_record *rec,
		    const struct sysflow_process *proc,
		    const struct sysflow_process *pproc,
		    const struct sysflow_file *f1,
		    const struct sysflow_file *f2,
		    const struct sysflow_container *cont)
{
	struct rec_common c = rec_common(rec);
	struct endpoints ep;
	json_t *o = json_object();

	if (!o)
		return -ENOMEM;
	endpoints_of(rec, &ep);
	record_fields(o, rec, &c, proc, f1);
	process_fields(o, rec, &c, proc, pproc);
	file_fields(o, rec, f1, f2);
	net_fields(o, rec, &ep);
	res_field(o, rec, &ep, f1, f2);
	counter_fields(o, rec);
	container_fields(o, cont);
	node_fields(o, &d->out.hdr);
	return sf_json_write_line(out, o);
}
