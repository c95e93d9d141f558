// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tables.c: the entities of the telemetry driver: processes (read from
 * /proc at start with createTS 0, then kept up to date by events), files
 * (FOID = SHA-1(containerId + path)), containers (from cgroup names) and
 * the user and group names of uids and gids. Reading /proc is procfs.c.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "core/core.h"
#include "telemetry_int.h"

struct name_ent {
	struct hnode hn;
	char name[64];
};

int tel_tables_init(struct tel_driver *d)
{
	return htab_init(&d->procs, 1024)	  ?:
		       htab_init(&d->files, 4096) ?:
		       htab_init(&d->conts, 64)	  ?:
		       htab_init(&d->users, 64)	  ?:
		       htab_init(&d->groups, 64)  ?:
		       htab_init(&d->cur_flows, 4096);
}

static void free_names(struct htab *h)
{
	struct hnode *n, *next;
	size_t i;

	for (i = 0; i < h->nb; i++)
		for (n = h->b[i]; n; n = next) {
			next = n->next;
			free(container_of(n, struct name_ent, hn));
		}
	htab_free(h);
}

void tel_tables_free(struct tel_driver *d)
{
	struct hnode *n, *next;
	size_t i;

	for (i = 0; i < d->procs.nb; i++)
		for (n = d->procs.b[i]; n; n = next) {
			next = n->next;
			tel_proc_free(d, container_of(n, struct tel_proc, hn));
		}
	htab_free(&d->procs);
	for (i = 0; i < d->files.nb; i++)
		for (n = d->files.b[i]; n; n = next) {
			struct tel_file *f =
				container_of(n, struct tel_file, hn);

			next = n->next;
			free(f->path);
			free(f);
		}
	htab_free(&d->files);
	for (i = 0; i < d->conts.nb; i++)
		for (n = d->conts.b[i]; n; n = next) {
			next = n->next;
			free(container_of(n, struct tel_container, hn));
		}
	htab_free(&d->conts);
	free_names(&d->users);
	free_names(&d->groups);
	htab_free(&d->cur_flows);
}

/* ---- paths and ids ---- */

void tel_foid(const char *cid, const char *path, uint8_t out[20])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n = 20;

	memset(out, 0, 20);
	if (!c)
		return;
	if (EVP_DigestInit_ex(c, EVP_sha1(), NULL) &&
	    EVP_DigestUpdate(c, cid, strlen(cid)) &&
	    EVP_DigestUpdate(c, path, strlen(path)))
		EVP_DigestFinal_ex(c, out, &n);
	EVP_MD_CTX_free(c);
}

char *tel_path_join(const char *base, const char *rel)
{
	size_t bl = base ? strlen(base) : 0, rl = strlen(rel);
	char *in = malloc(bl + rl + 2), *out, *tok, *save = NULL;
	size_t o = 0;

	if (!in)
		return NULL;
	if (rel[0] == '/' || !base)
		strcpy(in, rel);
	else
		snprintf(in, bl + rl + 2, "%s/%s", base, rel);
	if (in[0] != '/') /* a relative path with nothing to join: as given */
		return in;
	out = malloc(strlen(in) + 2);
	if (!out) {
		free(in);
		return NULL;
	}
	for (tok = strtok_r(in, "/", &save); tok;
	     tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			while (o > 0 && out[--o] != '/')
				;
			continue;
		}
		out[o++] = '/';
		strcpy(out + o, tok);
		o += strlen(tok);
	}
	if (!o)
		out[o++] = '/';
	out[o] = 0;
	free(in);
	return out;
}

int32_t tel_open_flags(uint32_t k)
{
	static const struct {
		uint32_t k;
		int32_t ppm;
	} map[] = {
		{ 0100, SYSFLOW_O_CREAT },
		{ 02000, SYSFLOW_O_APPEND },
		{ 010000, SYSFLOW_O_DSYNC },
		{ 0200, SYSFLOW_O_EXCL },
		{ 04000, SYSFLOW_O_NONBLOCK },
		{ 04000000, SYSFLOW_O_SYNC },
		{ 01000, SYSFLOW_O_TRUNC },
		{ 040000, SYSFLOW_O_DIRECT },
		{ 0200000, SYSFLOW_O_DIRECTORY },
		{ 0100000, SYSFLOW_O_LARGEFILE },
		{ 02000000, SYSFLOW_O_CLOEXEC },
	};
	int32_t f;

	switch (k & 3) {
	case 0:
		f = SYSFLOW_O_RDONLY;
		break;
	case 1:
		f = SYSFLOW_O_WRONLY;
		break;
	default:
		f = SYSFLOW_O_RDWR;
		break;
	}
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (k & map[i].k)
			f |= map[i].ppm;
	return f;
}

/* ---- containers ---- */

struct tel_container *tel_container_get(struct tel_driver *d, const char *id,
					int type)
{
	uint64_t key = hash_str(0, id);
	struct tel_container *c;
	struct hnode *n;

	for (n = htab_find(&d->conts, key); n; n = htab_next(n, key)) {
		c = container_of(n, struct tel_container, hn);
		if (!strcmp(c->id, id)) {
			c->refs++;
			return c;
		}
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->type = type;
	c->refs = 1;
	htab_add(&d->conts, &c->hn, key);
	return c;
}

void tel_container_put(struct tel_driver *d, struct tel_container *c)
{
	(void)d;
	if (c && c->refs)
		c->refs--;
}

/* ---- users and groups ---- */

static const char *name_of(struct htab *h, uint32_t id, bool user)
{
	struct name_ent *e;
	struct hnode *n = htab_find(h, id);
	char buf[4096];

	if (n)
		return container_of(n, struct name_ent, hn)->name;
	e = calloc(1, sizeof(*e));
	if (!e)
		return "";
	if (user) {
		struct passwd pw, *r = NULL;

		getpwuid_r(id, &pw, buf, sizeof(buf), &r);
		snprintf(e->name, sizeof(e->name), "%s", r ? r->pw_name : "");
	} else {
		struct group gr, *r = NULL;

		getgrgid_r(id, &gr, buf, sizeof(buf), &r);
		snprintf(e->name, sizeof(e->name), "%s", r ? r->gr_name : "");
	}
	htab_add(h, &e->hn, id);
	return e->name;
}

const char *tel_user_name(struct tel_driver *d, uint32_t uid)
{
	return name_of(&d->users, uid, true);
}

const char *tel_group_name(struct tel_driver *d, uint32_t gid)
{
	return name_of(&d->groups, gid, false);
}

/* ---- files ---- */

struct tel_file *tel_file_get(struct tel_driver *d, const char *path,
			      struct tel_container *cont, int restype,
			      int64_t ts, int state)
{
	const char *cid = cont ? cont->id : "";
	uint64_t key = hash_str(hash_str(0, cid), path);
	struct tel_file *f;
	struct hnode *n;

	for (n = htab_find(&d->files, key); n; n = htab_next(n, key)) {
		f = container_of(n, struct tel_file, hn);
		if (f->cont == cont && !strcmp(f->path, path))
			return f;
	}
	f = calloc(1, sizeof(*f));
	if (!f || !(f->path = strdup(path))) {
		free(f);
		return NULL;
	}
	tel_foid(cid, path, f->foid);
	f->cont = cont;
	if (cont)
		cont->refs++;
	f->restype = restype;
	f->ts = ts;
	f->state = state;
	htab_add(&d->files, &f->hn, key);
	return f;
}

void tel_file_put(struct tel_driver *d, struct tel_file *f)
{
	(void)d;
	if (f && f->refs)
		f->refs--;
}

/* Files no flow refers to are dropped; so are containers no process or
 * file refers to. Run after a header, when everything is written again.
 */
void tel_tables_gc(struct tel_driver *d)
{
	struct hnode *n, *next;
	size_t i;

	if (d->cap) {
		int n = tel_capture_sweep(d->cap);

		if (n)
			pr_debug("removed the counters of %d threads that "
				 "ended unseen\n",
				 n);
	}
	/* processes whose exit was lost (ring buffer full) */
	for (i = 0; i < d->procs.nb; i++)
		for (n = d->procs.b[i]; n; n = next) {
			struct tel_proc *p =
				container_of(n, struct tel_proc, hn);

			next = n->next;
			if (dlist_empty(&p->flows) && !p->pf &&
			    kill(p->oid.hpid, 0) && errno == ESRCH)
				tel_proc_free(d, p);
		}

	for (i = 0; i < d->files.nb; i++)
		for (n = d->files.b[i]; n; n = next) {
			struct tel_file *f =
				container_of(n, struct tel_file, hn);

			next = n->next;
			if (f->refs)
				continue;
			htab_del(&d->files, n);
			tel_container_put(d, f->cont);
			free(f->path);
			free(f);
		}
	for (i = 0; i < d->conts.nb; i++)
		for (n = d->conts.b[i]; n; n = next) {
			struct tel_container *c =
				container_of(n, struct tel_container, hn);

			next = n->next;
			if (c->refs)
				continue;
			htab_del(&d->conts, n);
			free(c);
		}
}

/* ---- processes ---- */

struct tel_proc *tel_proc_get(struct tel_driver *d, uint32_t tgid)
{
	struct hnode *n = htab_find(&d->procs, tgid);

	return n ? container_of(n, struct tel_proc, hn) : NULL;
}

struct tel_proc *tel_proc_by_oid(struct tel_driver *d,
				 const struct sysflow_oid *oid)
{
	struct tel_proc *p = tel_proc_get(d, oid->hpid);

	return p && p->oid.create_ts == oid->create_ts ? p : NULL;
}

struct tel_proc *tel_proc_new(struct tel_driver *d, uint32_t tgid)
{
	struct tel_proc *p = calloc(1, sizeof(*p)),
			*old = tel_proc_get(d, tgid);

	if (!p)
		return NULL;
	if (htab_init(&p->fds, 16)) {
		free(p);
		return NULL;
	}
	if (old) /* the pid was reused: the old process is gone */
		tel_proc_free(d, old);
	dlist_init(&p->flows);
	p->oid.hpid = tgid;
	p->state = SYSFLOW_STATE_REUP;
	htab_add(&d->procs, &p->hn, tgid);
	return p;
}

void tel_fd_del(struct tel_driver *d, struct tel_proc *p, int fd)
{
	struct hnode *n = htab_find(&p->fds, (uint32_t)fd);
	struct tel_fd *f;

	if (!n)
		return;
	f = container_of(n, struct tel_fd, hn);
	htab_del(&p->fds, n);
	tel_file_put(d, f->file);
	free(f);
}

void tel_proc_free(struct tel_driver *d, struct tel_proc *p)
{
	struct hnode *n, *next;
	size_t i;

	tel_flows_truncate(d, p, 0, 0); /* normally none are left */
	if (p->pf)
		tel_pflow_end(d, p, 0);
	for (i = 0; i < p->fds.nb; i++)
		for (n = p->fds.b[i]; n; n = next) {
			struct tel_fd *f = container_of(n, struct tel_fd, hn);

			next = n->next;
			if (d->cap)
				tel_capture_forget_fdinfo(d->cap, p->oid.hpid,
							  f->fd, f->gen);
			tel_file_put(d, f->file);
			free(f);
		}
	htab_free(&p->fds);
	htab_del(&d->procs, &p->hn);
	tel_container_put(d, p->cont);
	free(p->exe);
	free(p->args);
	free(p->cwd);
	for (size_t k = 0; k < p->nenv; k++)
		free(p->env[k]);
	free(p->env);
	free(p);
}

struct tel_fd *tel_fd_get(struct tel_proc *p, int fd)
{
	struct hnode *n = htab_find(&p->fds, (uint32_t)fd);

	return n ? container_of(n, struct tel_fd, hn) : NULL;
}

struct tel_fd *tel_fd_set(struct tel_proc *p, int fd)
{
	struct tel_fd *f = tel_fd_get(p, fd);

	if (f) {
		if (f->file && f->file->refs)
			f->file->refs--;
		memset(&f->fd, 0, sizeof(*f) - offsetof(struct tel_fd, fd));
	} else {
		f = calloc(1, sizeof(*f));
		if (!f)
			return NULL;
		htab_add(&p->fds, &f->hn, (uint32_t)fd);
	}
	f->fd = fd;
	return f;
}

/* "a\0b\0c\0" -> env array */
void tel_proc_set_env(struct tel_proc *p, const char *buf, size_t len)
{
	size_t n = 0, i, k = 0;

	for (i = 0; i < p->nenv; i++)
		free(p->env[i]);
	free(p->env);
	p->env = NULL;
	p->nenv = 0;
	for (i = 0; i < len; i++)
		n += buf[i] == 0;
	if (len && buf[len - 1])
		n++;
	p->env = calloc(n ? n : 1, sizeof(char *));
	if (!p->env)
		return;
	for (i = 0; i < len && k < n; i += strlen(buf + i) + 1) {
		size_t l = strnlen(buf + i, len - i);

		if (!l)
			continue;
		p->env[k] = strndup(buf + i, l);
		if (p->env[k])
			k++;
	}
	p->nenv = k;
}

/* argv as NUL-separated bytes -> exeArgs (argv[1..] joined by spaces) */
void tel_proc_set_args(struct tel_proc *p, const char *buf, size_t len)
{
	size_t i = strnlen(buf, len), o = 0;
	char *out = malloc(len + 1);

	free(p->args);
	p->args = out;
	if (!out)
		return;
	for (i = i < len ? i + 1 : len; i < len; i++)
		out[o++] = buf[i] ? buf[i] : ' ';
	while (o && out[o - 1] == ' ')
		o--;
	out[o] = 0;
}
