// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* out.c: the SysFlow stream: a header first on every Avro output, every
 * entity (container, ancestors, process, files) before the first record
 * that refers to it in the current file, and each record fanned out to
 * the Avro file, the unix socket, JSON lines and the callback.
 *
 * "Written" is per header generation: a rotation or a socket reconnect
 * starts a new generation, so entities are written again (state REUP) and
 * each file stands alone. IPv6 network flows cannot be expressed in the v5
 * schema (int addresses): they go to JSON and the callback only, and are
 * counted.
 *
 * Write errors (full disk, EIO, EDQUOT) log one line per episode and every
 * record an output does not take is counted. The Avro file keeps what it
 * could not write and tries again every second; records meanwhile are
 * dropped, and once the file works again a gap starts a new file (header,
 * every entity again). JSON lines try every record.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/core.h"
#include "telemetry_int.h"

#define ANCESTORS_MAX 64
#define FILE_WHAT "SysFlow"
#define JSON_WHAT "JSON lines"

static bool avro_out(const struct tel_out *o)
{
	return o->avro; /* -w or -u, also while the file cannot be written */
}

/* After every write to the Avro file: an episode of write errors begins
 * or, once the file holds everything again without a gap, ends.
 */
static void file_check(struct tel_out *o)
{
	int e = o->file ? tel_avro_file_error(o->file) : 0;

	if (e)
		sf_outerr_fail(&o->file_err, FILE_WHAT, o->filename, e, 0);
	else if (o->file && !o->file_gap)
		sf_outerr_ok(&o->file_err, FILE_WHAT, o->filename);
}

static void file_emit(struct tel_out *o)
{
	if (!o->file || tel_avro_file_error(o->file)) {
		o->file_gap = o->file != NULL;
		sf_outerr_lost(&o->file_err, 1);
		return;
	}
	if (tel_avro_file_append(o->file)) {
		sf_outerr_lost(&o->file_err, 1);
		return;
	}
	file_check(o);
}

static void sock_emit(struct tel_out *o)
{
	char buf[SOCK_MAX_RECORD * 4];
	int n;

	if (!tel_sock_connected(o->sock)) {
		o->sock_not_sent++;
		return;
	}
	n = tel_avro_encode(o->avro, buf, sizeof(buf));
	if (n < 0 || n > SOCK_MAX_RECORD) {
		pr_debug("record of %d bytes does not fit a datagram\n", n);
		o->sock_not_sent++;
	} else if (tel_sock_send(o->sock, buf, n)) {
		o->sock_not_sent++;
	}
}

/* JSON lines were the only output and their reader left (collect -j |
 * head): nobody reads what follows, so stop as after SIGINT, quietly.
 */
static void json_reader_gone(struct tel_driver *d)
{
	if (!d->exiting)
		pr_debug("JSON reader closed the pipe; stopping\n");
	d->exiting = 1;
}

/* The value last set on o->avro goes to the file and the socket. */
static void emit(struct tel_driver *d)
{
	if (d->cfg.file_path)
		file_emit(&d->out);
	if (d->out.sock)
		sock_emit(&d->out);
}

static void json_emit(struct tel_out *o, int e)
{
	char name[PATH_MAX];

	if (e < 0 && sf_outerr_failing(&o->json_err))
		sf_outerr_lost(&o->json_err, 1);
	else if (e < 0)
		sf_outerr_fail(&o->json_err, JSON_WHAT,
			       sf_stream_name(o->json, name, sizeof(name)), -e,
			       1);
	else if (sf_outerr_failing(&o->json_err))
		sf_outerr_ok(&o->json_err, JSON_WHAT,
			     sf_stream_name(o->json, name, sizeof(name)));
}

static void container_view(const struct tel_container *c,
			   struct sysflow_container *v)
{
	memset(v, 0, sizeof(*v));
	v->id = c->id;
	v->name = c->id; /* no runtime API here: the name is the id */
	v->image = "";
	v->imageid = "";
	v->type = c->type;
}

static void write_container(struct tel_driver *d, struct tel_container *c)
{
	struct sysflow_container v;

	if (!c || c->written_gen == d->out.gen)
		return;
	container_view(c, &v);
	if (!tel_avro_set_container(d->out.avro, &v))
		emit(d);
	c->written_gen = d->out.gen;
}

void tel_proc_view(struct tel_driver *d, const struct tel_proc *p,
		   struct sysflow_process *v)
{
	v->state = p->state;
	v->oid = p->oid;
	v->has_poid = p->has_poid;
	v->poid = p->poid;
	v->ts = p->ts;
	v->exe = p->exe ? p->exe : "";
	v->exe_args = p->args ? p->args : "";
	v->uid = p->uid;
	v->user_name = tel_user_name(d, p->uid);
	v->gid = p->gid;
	v->group_name = tel_group_name(d, p->gid);
	v->tty = p->tty;
	v->container_id = p->cont ? p->cont->id : NULL;
	v->entry = p->entry;
	v->cwd = p->cwd ? p->cwd : "";
	v->env = (const char *const *)p->env;
	v->env_count = p->nenv;
}

void tel_file_view(const struct tel_file *f, struct sysflow_file *v)
{
	v->state = f->state;
	memcpy(v->oid, f->foid, 20);
	v->ts = f->ts;
	v->restype = f->restype;
	v->path = f->path;
	v->container_id = f->cont ? f->cont->id : NULL;
}

static void write_one_process(struct tel_driver *d, struct tel_proc *p)
{
	struct sysflow_process v;

	write_container(d, p->cont);
	tel_proc_view(d, p, &v);
	if (!tel_avro_set_process(d->out.avro, &v))
		emit(d);
	p->written_gen = d->out.gen;
	p->written_state = p->state;
	p->state = SYSFLOW_STATE_REUP;
}

/* The process and, first, its ancestors not yet in this file. A process
 * whose state is MODIFIED is written again even if it was written.
 */
void tel_out_process(struct tel_driver *d, struct tel_proc *p)
{
	struct tel_proc *chain[ANCESTORS_MAX], *a = p;
	int n = 0;

	if (!avro_out(&d->out)) { /* no stream: as if written */
		p->written_gen = d->out.gen;
		p->written_state = p->state;
		p->state = SYSFLOW_STATE_REUP;
		return;
	}
	if (p->written_gen == d->out.gen && p->state != SYSFLOW_STATE_MODIFIED)
		return;
	while (a->has_poid && n < ANCESTORS_MAX) {
		a = tel_proc_by_oid(d, &a->poid);
		if (!a || a->written_gen == d->out.gen || a == p)
			break;
		chain[n++] = a;
	}
	while (n--)
		write_one_process(d, chain[n]);
	write_one_process(d, p);
}

static void write_file(struct tel_driver *d, struct tel_file *f)
{
	struct sysflow_file v;

	if (!f || f->written_gen == d->out.gen || !avro_out(&d->out))
		return;
	write_container(d, f->cont);
	tel_file_view(f, &v);
	if (!tel_avro_set_file(d->out.avro, &v))
		emit(d);
	f->written_gen = d->out.gen;
	f->written_state = f->state;
	f->state = SYSFLOW_STATE_REUP;
}

/* The state a reader of the stream holds for an entity, which JSON lines
 * and the callback show: the state it was last written with (CREATED or
 * MODIFIED until a header has it written again as REUP, as SysFlow's own
 * readers cache entities), or the state of its first write to come.
 */
#define HELD_STATE(e) ((e)->written_gen ? (e)->written_state : (e)->state)

void tel_out_record(struct tel_driver *d, struct sysflow_record *rec,
		    struct tel_proc *p, struct tel_file *f1,
		    struct tel_file *f2)
{
	struct tel_out *o = &d->out;
	struct sysflow_process pv, ppv;
	struct sysflow_file v1, v2;
	struct sysflow_container cv;
	struct tel_proc *pp;
	int e;

	o->records++;
	if (avro_out(o)) {
		tel_out_process(d, p);
		write_file(d, f1);
		write_file(d, f2);
		if (rec->type == SYSFLOW_REC_NETWORK_FLOW &&
		    rec->nf.ip_version == 6)
			o->ipv6_skipped++;
		else if (!tel_avro_set_record(o->avro, rec))
			emit(d);
	}
	if (!o->json && !o->cb)
		return;
	tel_proc_view(d, p, &pv);
	pv.state = HELD_STATE(p);
	if (f1) {
		tel_file_view(f1, &v1);
		v1.state = HELD_STATE(f1);
	}
	if (f2) {
		tel_file_view(f2, &v2);
		v2.state = HELD_STATE(f2);
	}
	if (p->cont)
		container_view(p->cont, &cv);
	if (o->json && sf_outerr_wait(&o->json_err, time(NULL))) {
		sf_outerr_lost(&o->json_err, 1);
	} else if (o->json) {
		pp = p->has_poid ? tel_proc_get(d, p->poid.hpid) : NULL;
		if (pp) {
			tel_proc_view(d, pp, &ppv);
			ppv.state = HELD_STATE(pp);
		}
		e = tel_json_record(d, o->json, rec, &pv, pp ? &ppv : NULL,
				    f1 ? &v1 : NULL, f2 ? &v2 : NULL,
				    p->cont ? &cv : NULL);
		if (e == -EPIPE && !avro_out(o) && !o->cb)
			json_reader_gone(d);
		else
			json_emit(o, e);
	}
	if (o->cb)
		o->cb(&o->hdr, p->cont ? &cv : NULL, &pv, f1 ? &v1 : NULL,
		      f2 ? &v2 : NULL, rec, o->cb_ctx);
}

/* ---- headers, rotation, reconnect ---- */

static void write_header(struct tel_driver *d, bool to_file, bool to_sock)
{
	struct tel_out *o = &d->out;

	if (!o->avro || tel_avro_set_header(o->avro, &o->hdr))
		return;
	if (to_file && d->cfg.file_path)
		file_emit(o);
	if (to_sock && o->sock)
		sock_emit(o);
}

/* The records that did not reach the file are counted (and a first
 * failure logged) as it closes.
 */
static void file_close(struct tel_out *o)
{
	uint64_t lost;
	int e;

	if (!o->file)
		return;
	lost = tel_avro_file_close(o->file, &e);
	o->file = NULL;
	if (e)
		sf_outerr_fail(&o->file_err, FILE_WHAT, o->filename, e, lost);
}

/* A full disk at start is an error that stops the collector. */
static int file_start(struct tel_out *o, struct sysflow_error *err)
{
	int e;

	tel_avro_file_flush(o->file); /* readers see a complete file header */
	e = tel_avro_file_error(o->file);
	if (!e) {
		pr_info("writing SysFlow to %s\n", o->filename);
		return 0;
	}
	tel_set_error(err, SYSFLOW_ERROR_READING_FILESYSTEM,
		      "cannot write SysFlow file %s: %s", o->filename,
		      strerror(e));
	tel_avro_file_close(o->file, &e); /* nothing collected yet */
	o->file = NULL;
	return -EIO;
}

int tel_out_open(struct tel_driver *d, struct sysflow_error *err)
{
	struct tel_out *o = &d->out;
	const struct sysflow_config *c = &d->cfg;
	const char *ip = c->node_ip ? c->node_ip : getenv("NODE_IP");
	time_t now = time(NULL);
	int e;

	if (c->exporter_id)
		snprintf(o->exporter, sizeof(o->exporter), "%s",
			 c->exporter_id);
	else if (gethostname(o->exporter, sizeof(o->exporter) - 1))
		snprintf(o->exporter, sizeof(o->exporter), "localhost");
	snprintf(o->ip, sizeof(o->ip), "%s", ip ? ip : "");
	o->hdr.version = SYSFLOW_SCHEMA_VERSION;
	o->hdr.exporter = o->exporter;
	o->hdr.ip = o->ip;
	o->hdr.filename = o->filename;
	o->json = c->json_out;
	o->cb = c->callback;
	o->cb_ctx = c->callback_ctx;
	o->gen = 1;
	if (c->file_path || c->socket_path) {
		e = tel_avro_init(&o->avro, c->compress_level);
		if (e) {
			tel_set_error(err, SYSFLOW_LIBS_ERROR,
				      "cannot use the "
				      "SysFlow v5 schema with libavro");
			return e;
		}
	}
	/* the socket first: a reader that is not there leaves no file */
	if (c->socket_path) {
		e = tel_sock_open(&o->sock, c->socket_path, err);
		if (e)
			return e;
		pr_info("streaming SysFlow to socket %s\n", c->socket_path);
		snprintf(o->filename, sizeof(o->filename), "%s",
			 c->socket_path);
	}
	if (c->file_path) {
		e = tel_avro_file_open(&o->file, o->avro, c->file_path, now,
				       o->filename, sizeof(o->filename), err);
		if (e)
			return e;
	}
	write_header(d, true, true);
	d->last_rotate = now;
	return o->file ? file_start(o, err) : 0;
}

void tel_out_close(struct tel_driver *d)
{
	struct tel_out *o = &d->out;

	file_close(o);
	if (o->sock)
		d->reconnects_seen = tel_sock_reconnects(o->sock);
	tel_sock_close(o->sock);
	o->sock = NULL;
	tel_avro_free(o->avro);
	o->avro = NULL;
	if (o->json)
		fflush(o->json);
}

int tel_out_rotate(struct tel_driver *d, time_t now)
{
	struct tel_out *o = &d->out;
	struct sysflow_error err = {};
	int e;

	d->last_rotate = now;
	o->gen++;
	if (d->cfg.file_path) {
		file_close(o);
		o->file_gap = false;
		e = tel_avro_file_open(&o->file, o->avro, d->cfg.file_path, now,
				       o->filename, sizeof(o->filename), &err);
		if (e) {
			pr_debug("%s\n", err.message);
			sf_outerr_fail(&o->file_err, FILE_WHAT, o->filename, -e,
				       0);
		}
	}
	write_header(d, true, true);
	if (o->file) {
		tel_avro_file_flush(o->file);
		file_check(o);
		if (!tel_avro_file_error(o->file))
			pr_info("rotated to %s\n", o->filename);
	}
	tel_tables_gc(d);
	return 0;
}

/* Once a second while the file cannot be written: write what it kept
 * again. Records dropped meanwhile left a gap (entities too), so once the
 * bytes are in a new file begins; without a file, try to create one.
 */
static void file_retry(struct tel_driver *d, time_t now)
{
	struct tel_out *o = &d->out;

	if (o->file && tel_avro_file_flush(o->file))
		return;
	if (!o->file || o->file_gap)
		tel_out_rotate(d, now);
	else
		file_check(o);
}

int tel_out_tick(struct tel_driver *d, time_t now)
{
	struct tel_out *o = &d->out;
	int r;

	if (sf_outerr_failing(&o->file_err) && d->cfg.file_path) {
		file_retry(d, now);
	} else if (o->file) {
		tel_avro_file_flush(o->file);
		file_check(o);
	}
	if (!o->sock || tel_sock_connected(o->sock))
		return 0;
	r = tel_sock_retry(o->sock, now, d->run_err);
	if (r == 1) { /* a new stream: header, then entities again */
		o->gen++;
		write_header(d, false, true);
	}
	return r < 0 ? r : 0;
}
