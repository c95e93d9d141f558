// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* avro.c: SysFlow v5 records through Apache Avro C: one reusable generic
 * value of the schema's top record, filled field by field in schema order,
 * then appended to an object container file (deflate, 80,000-byte blocks,
 * as sf-collector's writer) or encoded alone for the socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <avro.h>
#include "core/core.h"
#include "telemetry_int.h"

#define AVRO_BLOCK_SIZE 80000 /* sf-collector COMPRESS_BLOCK_SIZE */

struct tel_avro {
	avro_schema_t schema;
	avro_value_iface_t *iface;
	avro_value_t val;
	bool val_ok;
};

static const char *const state_names[] = { "CREATED", "MODIFIED", "REUP" };

int tel_avro_init(struct tel_avro **out)
{
	struct tel_avro *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a)
		return -ENOMEM;
	if (avro_schema_from_json_length(tel_sysflow_schema,
					 strlen(tel_sysflow_schema),
					 &a->schema)) {
		pr_err("the SysFlow schema does not parse: %s\n",
		       avro_strerror());
		free(a);
		return -EINVAL;
	}
	a->iface = avro_generic_class_from_schema(a->schema);
	if (!a->iface || avro_generic_value_new(a->iface, &a->val)) {
		pr_err("cannot build Avro values of the SysFlow schema: %s\n",
		       avro_strerror());
		tel_avro_free(a);
		return -ENOMEM;
	}
	a->val_ok = true;
	*out = a;
	return 0;
}

void tel_avro_free(struct tel_avro *a)
{
	if (!a)
		return;
	if (a->val_ok)
		avro_value_decref(&a->val);
	if (a->iface)
		avro_value_iface_decref(a->iface);
	if (a->schema)
		avro_schema_decref(a->schema);
	free(a);
}

/* ---- field setters: fields are addressed by their schema index ---- */

static int branch(struct tel_avro *a, int idx, avro_value_t *b)
{
	avro_value_t rec;

	avro_value_reset(&a->val);
	if (avro_value_get_by_index(&a->val, 0, &rec, NULL) ||
	    avro_value_set_branch(&rec, idx, b))
		return -EINVAL;
	return 0;
}

static int field(avro_value_t *r, int i, avro_value_t *f)
{
	return avro_value_get_by_index(r, i, f, NULL) ? -EINVAL : 0;
}

static int set_long(avro_value_t *r, int i, int64_t v)
{
	avro_value_t f;

	return field(r, i, &f) ?: avro_value_set_long(&f, v);
}

static int set_int(avro_value_t *r, int i, int32_t v)
{
	avro_value_t f;

	return field(r, i, &f) ?: avro_value_set_int(&f, v);
}

static int set_bool(avro_value_t *r, int i, bool v)
{
	avro_value_t f;

	return field(r, i, &f) ?: avro_value_set_boolean(&f, v);
}

static int set_str(avro_value_t *r, int i, const char *s)
{
	avro_value_t f;

	return field(r, i, &f) ?: avro_value_set_string(&f, s ? s : "");
}

static int set_enum(avro_value_t *r, int i, int v)
{
	avro_value_t f;

	return field(r, i, &f) ?: avro_value_set_enum(&f, v);
}

static int set_fixed(avro_value_t *r, int i, const uint8_t *v, size_t len)
{
	avro_value_t f;

	return field(r, i, &f) ?: avro_value_set_fixed(&f, (void *)v, len);
}

static int set_oid_value(avro_value_t *f, const struct sysflow_oid *o)
{
	return set_long(f, 0, o->create_ts) ?: set_long(f, 1, o->hpid);
}

static int set_oid(avro_value_t *r, int i, const struct sysflow_oid *o)
{
	avro_value_t f;

	return field(r, i, &f) ?: set_oid_value(&f, o);
}

/* [null, string] */
static int set_opt_str(avro_value_t *r, int i, const char *s)
{
	avro_value_t f, b;

	if (field(r, i, &f) || avro_value_set_branch(&f, s ? 1 : 0, &b))
		return -EINVAL;
	return s ? avro_value_set_string(&b, s) : avro_value_set_null(&b);
}

/* [null, OID] */
static int set_opt_oid(avro_value_t *r, int i, const struct sysflow_oid *o)
{
	avro_value_t f, b;

	if (field(r, i, &f) || avro_value_set_branch(&f, o ? 1 : 0, &b))
		return -EINVAL;
	return o ? set_oid_value(&b, o) : avro_value_set_null(&b);
}

/* [null, FOID] */
static int set_opt_foid(avro_value_t *r, int i, const uint8_t *v)
{
	avro_value_t f, b;

	if (field(r, i, &f) || avro_value_set_branch(&f, v ? 1 : 0, &b))
		return -EINVAL;
	return v ? avro_value_set_fixed(&b, (void *)v, 20) :
		   avro_value_set_null(&b);
}

static int set_str_array(avro_value_t *r, int i, const char *const *v, size_t n)
{
	avro_value_t f, e;

	if (field(r, i, &f))
		return -EINVAL;
	for (size_t k = 0; k < n; k++)
		if (avro_value_append(&f, &e, NULL) ||
		    avro_value_set_string(&e, v[k] ? v[k] : ""))
			return -EINVAL;
	return 0;
}

/* ---- records, in schema field order ---- */

int tel_avro_set_header(struct tel_avro *a, const struct sysflow_header *h)
{
	avro_value_t b;

	return branch(a, SYSFLOW_REC_HEADER, &b)   ?:
		       set_long(&b, 0, h->version) ?:
		       set_str(&b, 1, h->exporter) ?:
		       set_str(&b, 2, h->ip)	   ?:
						     set_str(&b, 3, h->filename);
}

int tel_avro_set_container(struct tel_avro *a,
			   const struct sysflow_container *c)
{
	avro_value_t b;

	return branch(a, SYSFLOW_REC_CONTAINER, &b)   ?:
		       set_str(&b, 0, c->id)	      ?:
		       set_str(&b, 1, c->name)	      ?:
		       set_str(&b, 2, c->image)	      ?:
		       set_str(&b, 3, c->imageid)     ?:
		       set_enum(&b, 4, c->type)	      ?:
		       set_bool(&b, 5, c->privileged) ?:
		       set_opt_str(&b, 6, c->pod_id);
}

int tel_avro_set_process(struct tel_avro *a, const struct sysflow_process *p)
{
	avro_value_t b;

	return branch(a, SYSFLOW_REC_PROCESS, &b)			 ?:
		       set_enum(&b, 0, p->state)			 ?:
		       set_oid(&b, 1, &p->oid)				 ?:
		       set_opt_oid(&b, 2, p->has_poid ? &p->poid : NULL) ?:
		       set_long(&b, 3, p->ts)				 ?:
		       set_str(&b, 4, p->exe)				 ?:
		       set_str(&b, 5, p->exe_args)			 ?:
		       set_int(&b, 6, p->uid)				 ?:
		       set_str(&b, 7, p->user_name)			 ?:
		       set_int(&b, 8, p->gid)				 ?:
		       set_str(&b, 9, p->group_name)			 ?:
		       set_bool(&b, 10, p->tty)				 ?:
		       set_opt_str(&b, 11, p->container_id)		 ?:
		       set_bool(&b, 12, p->entry)			 ?:
		       set_str(&b, 13, p->cwd)				 ?:
		       set_str_array(&b, 14, p->env, p->env_count);
}

int tel_avro_set_file(struct tel_avro *a, const struct sysflow_file *f)
{
	avro_value_t b;

	return branch(a, SYSFLOW_REC_FILE, &b)	    ?:
		       set_enum(&b, 0, f->state)    ?:
		       set_fixed(&b, 1, f->oid, 20) ?:
		       set_long(&b, 2, f->ts)	    ?:
		       set_int(&b, 3, f->restype)   ?:
		       set_str(&b, 4, f->path)	    ?:
		       set_opt_str(&b, 5, f->container_id);
}

static int set_pe(avro_value_t *b, const struct sysflow_process_event *e)
{
	return set_oid(b, 0, &e->proc_oid)			   ?:
		       set_long(b, 1, e->ts)			   ?:
		       set_long(b, 2, e->tid)			   ?:
		       set_int(b, 3, e->op_flags)		   ?:
		       set_str_array(b, 4, e->args, e->args_count) ?:
		       set_int(b, 5, e->ret);
}

static int set_nf(avro_value_t *b, const struct sysflow_network_flow *f)
{
	return set_oid(b, 0, &f->proc_oid)		   ?:
		       set_long(b, 1, f->ts)		   ?:
		       set_long(b, 2, f->tid)		   ?:
		       set_int(b, 3, f->op_flags)	   ?:
		       set_long(b, 4, f->end_ts)	   ?:
		       set_int(b, 5, f->sip)		   ?:
		       set_int(b, 6, f->sport)		   ?:
		       set_int(b, 7, f->dip)		   ?:
		       set_int(b, 8, f->dport)		   ?:
		       set_int(b, 9, f->proto)		   ?:
		       set_int(b, 10, f->fd)		   ?:
		       set_long(b, 11, f->num_rrecv_ops)   ?:
		       set_long(b, 12, f->num_wsend_ops)   ?:
		       set_long(b, 13, f->num_rrecv_bytes) ?:
		       set_long(b, 14, f->num_wsend_bytes);
}

static int set_ff(avro_value_t *b, const struct sysflow_file_flow *f)
{
	return set_oid(b, 0, &f->proc_oid)		   ?:
		       set_long(b, 1, f->ts)		   ?:
		       set_long(b, 2, f->tid)		   ?:
		       set_int(b, 3, f->op_flags)	   ?:
		       set_int(b, 4, f->open_flags)	   ?:
		       set_long(b, 5, f->end_ts)	   ?:
		       set_fixed(b, 6, f->file_oid, 20)	   ?:
		       set_int(b, 7, f->fd)		   ?:
		       set_long(b, 8, f->num_rrecv_ops)	   ?:
		       set_long(b, 9, f->num_wsend_ops)	   ?:
		       set_long(b, 10, f->num_rrecv_bytes) ?:
		       set_long(b, 11, f->num_wsend_bytes);
}

static int set_fe(avro_value_t *b, const struct sysflow_file_event *e)
{
	return set_oid(b, 0, &e->proc_oid)		?:
		       set_long(b, 1, e->ts)		?:
		       set_long(b, 2, e->tid)		?:
		       set_int(b, 3, e->op_flags)	?:
		       set_fixed(b, 4, e->file_oid, 20) ?:
		       set_int(b, 5, e->ret)		?:
							  set_opt_foid(b, 6,
				       e->has_new_file_oid ? e->new_file_oid :
											     NULL);
}

/* ProcessFlow: opFlags comes after numThreadsCloned in the schema. */
static int set_pf(avro_value_t *b, const struct sysflow_process_flow *f)
{
	return set_oid(b, 0, &f->proc_oid)		     ?:
		       set_long(b, 1, f->ts)		     ?:
		       set_long(b, 2, f->num_threads_cloned) ?:
		       set_int(b, 3, f->op_flags)	     ?:
		       set_long(b, 4, f->end_ts)	     ?:
		       set_long(b, 5, f->num_threads_exited) ?:
		       set_long(b, 6, f->num_clone_errors);
}

int tel_avro_set_record(struct tel_avro *a, const struct sysflow_record *r)
{
	avro_value_t b;

	if (branch(a, r->type, &b))
		return -EINVAL;
	switch (r->type) {
	case SYSFLOW_REC_PROCESS_EVENT:
		return set_pe(&b, &r->pe);
	case SYSFLOW_REC_NETWORK_FLOW:
		return set_nf(&b, &r->nf);
	case SYSFLOW_REC_FILE_FLOW:
		return set_ff(&b, &r->ff);
	case SYSFLOW_REC_FILE_EVENT:
		return set_fe(&b, &r->fe);
	case SYSFLOW_REC_PROCESS_FLOW:
		return set_pf(&b, &r->pf);
	default:
		return -EINVAL;
	}
}

int tel_avro_encode(struct tel_avro *a, char *buf, size_t len)
{
	avro_writer_t w = avro_writer_memory(buf, len);
	int64_t n;

	if (!w)
		return -ENOMEM;
	if (avro_value_write(w, &a->val)) {
		avro_writer_free(w);
		return -ENOSPC;
	}
	n = avro_writer_tell(w);
	avro_writer_free(w);
	return (int)n;
}

/* ---- object container files ----
 *
 * libavro writes the file through a stdio cookie that only collects its
 * bytes; we write them to the file ourselves, at the points where they end
 * in a complete block (or the file header). libavro 1.11 cannot report a
 * failed write: it returns a bare EIO (avro_strerror() still holds an older
 * message), ignores fflush()'s result, and leaves a half-written block in
 * its buffer to be written again after the bytes that did reach the file.
 * Here libavro's writes always succeed, the errno of the real write is
 * kept, and a write that fails is cut off again (ftruncate to the end of
 * the last complete block): the file stays readable up to that block, and
 * the bytes are kept to be written again (tel_avro_file_flush).
 */

struct tel_avro_file {
	avro_file_writer_t w;
	struct tel_avro *a;
	int fd;
	char path[PATH_MAX];
	char *buf; /* bytes libavro wrote, not yet in the file */
	size_t len, cap;
	off_t good; /* file size: header and complete blocks */
	uint64_t on_disk; /* records in the file */
	uint64_t in_buf; /* records whose block is in buf */
	uint64_t in_block; /* records in libavro's open block */
	int err; /* errno of the write that failed; 0: none */
};

static ssize_t collect_bytes(void *cookie, const char *data, size_t n)
{
	struct tel_avro_file *f = cookie;
	size_t cap = f->cap ? f->cap : 4096;
	char *p;

	while (cap - f->len < n)
		cap *= 2;
	if (cap != f->cap) {
		p = realloc(f->buf, cap);
		if (!p)
			return 0; /* libavro sees a short write */
		f->buf = p;
		f->cap = cap;
	}
	memcpy(f->buf + f->len, data, n);
	f->len += n;
	return n;
}

static FILE *cookie_stream(struct tel_avro_file *f)
{
	cookie_io_functions_t io = { .write = collect_bytes };
	FILE *fp = fopencookie(f, "w", io);

	/* unbuffered: every byte is in f->buf when libavro returns */
	if (fp)
		setvbuf(fp, NULL, _IONBF, 0);
	return fp;
}

/* Write f->buf at the end of the file; on failure cut the file back. */
static int write_out(struct tel_avro_file *f)
{
	size_t done = 0;
	ssize_t n;

	while (done < f->len) {
		n = pwrite(f->fd, f->buf + done, f->len - done, f->good + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			f->err = n < 0 ? errno : EIO;
			if (ftruncate(f->fd, f->good))
				pr_debug("cutting %s back to %lld bytes: %s\n",
					 f->path, (long long)f->good,
					 strerror(errno));
			return -f->err;
		}
		done += n;
	}
	f->good += f->len;
	f->len = 0;
	f->on_disk += f->in_buf;
	f->in_buf = 0;
	f->err = 0;
	return 0;
}

/* "dir/" -> dir/<epoch>, making dir if it is missing; "prefix" ->
 * prefix.<epoch>; a second file in the same second gets ".1", ".2", ...
 */
static int create_file(const char *spec, time_t now, char *path, size_t len)
{
	size_t n = strlen(spec);
	int fd = -1;

	if (n && spec[n - 1] == '/')
		sf_mkdir_p(spec, 0755); /* a failure shows in open() below */
	for (int i = 0; i < 100 && fd < 0; i++) {
		int w = snprintf(path, len, "%s%s%ld", spec,
				 n && spec[n - 1] == '/' ? "" : ".", (long)now);

		if (i && w > 0 && (size_t)w < len)
			snprintf(path + w, len - w, ".%d", i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			return -1;
	}
	return fd;
}

static void file_free(struct tel_avro_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->buf);
	free(f);
}

int tel_avro_file_open(struct tel_avro_file **out, struct tel_avro *a,
		       const char *spec, time_t now, char *path,
		       size_t path_len, struct sysflow_error *err)
{
	struct tel_avro_file *f = calloc(1, sizeof(*f));
	FILE *fp;

	*out = NULL;
	if (!f)
		return -ENOMEM;
	f->fd = create_file(spec, now, path, path_len);
	if (f->fd < 0) {
		int e = -errno;

		tel_set_error(err, SYSFLOW_ERROR_READING_FILESYSTEM,
			      "cannot create SysFlow file %s: %s; check that "
			      "the directory exists and is writable",
			      path, strerror(-e));
		file_free(f);
		return e;
	}
	snprintf(f->path, sizeof(f->path), "%s", path);
	fp = cookie_stream(f);
	if (!fp ||
	    avro_file_writer_create_with_codec_fp(fp, path, 1, a->schema, &f->w,
						  "deflate", AVRO_BLOCK_SIZE)) {
		tel_set_error(err, SYSFLOW_LIBS_ERROR,
			      "cannot start Avro file %s: %s", path,
			      fp ? avro_strerror() : strerror(errno));
		if (fp)
			fclose(fp);
		unlink(path);
		file_free(f);
		return -EIO;
	}
	f->a = a;
	write_out(f); /* the file header; a failure is in tel_avro_file_error */
	*out = f;
	return 0;
}

int tel_avro_file_append(struct tel_avro_file *f)
{
	size_t before = f->len;

	if (avro_file_writer_append_value(f->w, &f->a->val)) {
		pr_debug("Avro append failed: %s\n", avro_strerror());
		return -EINVAL;
	}
	if (f->len == before) { /* the record is in libavro's open block */
		f->in_block++;
		return 0;
	}
	/* libavro wrote out the block of the records before this one */
	f->in_buf += f->in_block;
	f->in_block = 1;
	if (!f->err)
		write_out(f);
	return 0;
}

int tel_avro_file_flush(struct tel_avro_file *f)
{
	if (avro_file_writer_flush(f->w)) {
		pr_debug("Avro flush failed: %s\n", avro_strerror());
		return -EIO;
	}
	f->in_buf += f->in_block;
	f->in_block = 0;
	return write_out(f);
}

int tel_avro_file_error(const struct tel_avro_file *f)
{
	return f->err;
}

uint64_t tel_avro_file_close(struct tel_avro_file *f, int *err)
{
	uint64_t lost = 0;

	*err = 0;
	if (!f)
		return 0;
	if (avro_file_writer_close(f->w))
		pr_err("closing SysFlow file %s failed: %s\n", f->path,
		       avro_strerror());
	f->in_buf += f->in_block;
	if (write_out(f)) {
		*err = f->err;
		lost = f->in_buf;
	}
	if (!f->on_disk) /* no file rather than one without a record */
		unlink(f->path);
	file_free(f);
	return lost;
}

const char *tel_state_name(int state)
{
	return state >= 0 && state < 3 ? state_names[state] : "?";
}
