// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* avro.c: SysFlow v5 records through Apache Avro C: one reusable generic
 * value of the schema's top record, filled field by field in schema order,
 * then encoded into the open block of an object container file (written
 * here: deflate at a chosen level, 80,000-byte blocks as sf-collector's
 * writer) or encoded alone for the socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <avro.h>
#include <zlib.h>
#include "core/core.h"
#include "core/grow.h"
#include "telemetry_int.h"

#define AVRO_BLOCK_SIZE 80000 /* sf-collector COMPRESS_BLOCK_SIZE */
#define AVRO_SYNC_SIZE 16

struct tel_avro {
	int level; /* zlib level of the files' deflate codec */
	char *schema_json; /* libavro's rendering, for the files' header */
	size_t schema_len;
	avro_schema_t schema;
	avro_value_iface_t *iface;
	avro_value_t val;
	bool val_ok;
};

static const char *const state_names[] = { "CREATED", "MODIFIED", "REUP" };

/* The schema as libavro renders it (names, namespaces, types and order of
 * SysFlow's text, without the defaults and the ipaddr logical type, which
 * readers do not need and python3-avro warns about): what the files'
 * avro.schema has held since the first version.
 */
static int render_schema(struct tel_avro *a)
{
	size_t cap = 2 * strlen(tel_sysflow_schema);
	avro_writer_t w;

	a->schema_json = malloc(cap);
	w = a->schema_json ? avro_writer_memory(a->schema_json, cap) : NULL;
	if (!w || avro_schema_to_json(a->schema, w)) {
		if (w)
			avro_writer_free(w);
		return -ENOMEM;
	}
	a->schema_len = avro_writer_tell(w);
	avro_writer_free(w);
	return 0;
}

int tel_avro_init(struct tel_avro **out, int level)
{
	struct tel_avro *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a)
		return -ENOMEM;
	a->level = level;
	if (avro_schema_from_json_length(tel_sysflow_schema,
					 strlen(tel_sysflow_schema),
					 &a->schema)) {
		pr_err("the SysFlow schema does not parse: %s\n",
		       avro_strerror());
		free(a);
		return -EINVAL;
	}
	a->iface = avro_generic_class_from_schema(a->schema);
	if (render_schema(a) || !a->iface ||
	    avro_generic_value_new(a->iface, &a->val)) {
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
	free(a->schema_json);
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
 * Written here after the Avro specification ("Object Container Files"):
 * a header (magic, metadata with the schema and the codec, a 16-byte sync
 * marker), then blocks of records (count, size, the records deflated, the
 * marker). Records are encoded by libavro into the open block; a block
 * that reaches AVRO_BLOCK_SIZE is compressed with zlib at the configured
 * level (libavro's own writer is fixed at 9, four times the CPU of 1 for
 * 10% smaller files) and written at once. A write that fails is cut off
 * again (ftruncate to the end of the last complete block): the file stays
 * readable up to that block, and the bytes are kept to be written again
 * (tel_avro_file_flush), with the errno of the real write.
 */

struct tel_avro_file {
	struct tel_avro *a;
	int fd;
	char path[PATH_MAX];
	uint8_t sync[AVRO_SYNC_SIZE];
	z_stream z;
	bool z_ok;
	struct grow_buf block; /* encoded records of the open block */
	struct grow_buf zout; /* the open block deflated */
	struct grow_buf out; /* header and whole blocks not yet in the file */
	off_t good; /* file size: header and complete blocks */
	uint64_t on_disk; /* records in the file */
	uint64_t in_buf; /* records whose block is in out */
	uint64_t in_block; /* records in the open block */
	int err; /* errno of the write that failed; 0: none */
};

/* An Avro long: zig-zag, then 7 bits a byte, low bits first. */
static int put_long(struct grow_buf *b, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	uint8_t enc[10];
	size_t n = 0;

	do {
		enc[n] = z & 0x7f;
		z >>= 7;
		enc[n] |= z ? 0x80 : 0;
		n++;
	} while (z);
	return grow_buf_put(b, enc, n);
}

/* Avro string or bytes: length, then the bytes. */
static int put_str(struct grow_buf *b, const char *s, size_t n)
{
	return put_long(b, n) ?: grow_buf_put(b, s, n);
}

static int put_header(struct tel_avro_file *f)
{
	static const char magic[4] = { 'O', 'b', 'j', 1 };
	struct grow_buf *b = &f->out;

	return grow_buf_put(b, magic, sizeof(magic)) ?:
	       put_long(b, 2) ?: /* a map block of two entries */
	       put_str(b, "avro.schema", 11) ?:
	       put_str(b, f->a->schema_json, f->a->schema_len) ?:
	       put_str(b, "avro.codec", 10) ?:
	       put_str(b, "deflate", 7) ?:
	       put_long(b, 0) ?: /* end of the map */
	       grow_buf_put(b, f->sync, sizeof(f->sync));
}

/* Deflate the open block into f->out as a complete Avro block: count,
 * size, the deflated records, the sync marker.
 */
static int close_block(struct tel_avro_file *f)
{
	struct grow_buf *z = &f->zout, *b = &f->out;
	size_t start = b->len;

	if (!f->in_block)
		return 0;
	z->len = 0;
	if (grow_buf_reserve(z, deflateBound(&f->z, f->block.len)) ||
	    deflateReset(&f->z) != Z_OK)
		return -ENOMEM;
	f->z.next_in = f->block.data;
	f->z.avail_in = f->block.len;
	f->z.next_out = z->data;
	f->z.avail_out = z->cap;
	if (deflate(&f->z, Z_FINISH) != Z_STREAM_END)
		return -EIO;
	z->len = f->z.total_out;
	if (put_long(b, f->in_block) || put_long(b, z->len) ||
	    grow_buf_put(b, z->data, z->len) ||
	    grow_buf_put(b, f->sync, sizeof(f->sync))) {
		b->len = start; /* the records stay in the open block */
		return -ENOMEM;
	}
	f->in_buf += f->in_block;
	f->in_block = 0;
	f->block.len = 0;
	return 0;
}

/* Write f->out at the end of the file; on failure cut the file back. */
static int write_out(struct tel_avro_file *f)
{
	size_t done = 0;
	ssize_t n;

	while (done < f->out.len) {
		n = pwrite(f->fd, f->out.data + done, f->out.len - done,
			   f->good + done);
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
	f->good += f->out.len;
	f->out.len = 0;
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
	if (f->z_ok)
		deflateEnd(&f->z);
	grow_buf_free(&f->block);
	grow_buf_free(&f->zout);
	grow_buf_free(&f->out);
	free(f);
}

/* Raw deflate (no zlib header), as the Avro "deflate" codec is. */
static int start_file(struct tel_avro_file *f)
{
	if (getrandom(f->sync, sizeof(f->sync), 0) != sizeof(f->sync))
		return -errno;
	if (deflateInit2(&f->z, f->a->level, Z_DEFLATED, -15, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	f->z_ok = true;
	return put_header(f);
}

int tel_avro_file_open(struct tel_avro_file **out, struct tel_avro *a,
		       const char *spec, time_t now, char *path,
		       size_t path_len, struct sysflow_error *err)
{
	struct tel_avro_file *f = calloc(1, sizeof(*f));
	int e;

	*out = NULL;
	if (!f)
		return -ENOMEM;
	f->a = a;
	f->fd = create_file(spec, now, path, path_len);
	if (f->fd < 0) {
		e = -errno;
		tel_set_error(err, SYSFLOW_ERROR_READING_FILESYSTEM,
			      "cannot create SysFlow file %s: %s; check that "
			      "the directory exists and is writable",
			      path, strerror(-e));
		file_free(f);
		return e;
	}
	snprintf(f->path, sizeof(f->path), "%s", path);
	e = start_file(f);
	if (e) {
		tel_set_error(err, SYSFLOW_LIBS_ERROR,
			      "cannot start Avro file %s: %s", path,
			      strerror(-e));
		unlink(path);
		file_free(f);
		return e;
	}
	write_out(f); /* the file header; a failure is in tel_avro_file_error */
	*out = f;
	return 0;
}

int tel_avro_file_append(struct tel_avro_file *f)
{
	avro_writer_t w;
	size_t size;
	int rc;

	if (avro_value_sizeof(&f->a->val, &size) ||
	    grow_buf_reserve(&f->block, size))
		return -EINVAL;
	w = avro_writer_memory((char *)f->block.data + f->block.len, size);
	rc = w ? avro_value_write(w, &f->a->val) : ENOMEM;
	if (w)
		avro_writer_free(w);
	if (rc) {
		pr_debug("Avro encoding failed: %s\n", avro_strerror());
		return -EINVAL;
	}
	f->block.len += size;
	f->in_block++;
	if (f->block.len < AVRO_BLOCK_SIZE)
		return 0;
	/* the record is in the block either way: a block that could not be
	 * closed (out of memory) stays open and is closed with the next one
	 */
	if (!close_block(f) && !f->err)
		write_out(f);
	return 0;
}

int tel_avro_file_flush(struct tel_avro_file *f)
{
	if (close_block(f))
		return -ENOMEM;
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
	if (tel_avro_file_flush(f)) {
		*err = f->err ?: ENOMEM;
		lost = f->in_buf + f->in_block;
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
