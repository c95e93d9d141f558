// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* filter.c: Falco-style filter expressions for sysflow collect, e.g.
 *
 *	proc.name in (nginx, curl) and not fd.name startswith /proc
 *	(evt.type = connect or evt.type = accept) and fd.dport != 22
 *
 * Fields: proc.name proc.exe proc.args proc.cmdline proc.pid proc.uid
 * fd.name fd.sport fd.dport container.id evt.type. Operators: = == != <
 * <= > >= contains startswith endswith in, joined by and, or, not and
 * parentheses. Values are words or quoted strings. Syscall names in
 * evt.type are folded to SysFlow's operations (openat -> open, ...).
 * At most NEST_MAX levels of nesting and CONDS_MAX conditions.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "telemetry_int.h"

#define IN_MAX 32
/* The parser, the matcher and free() recurse: bound the tree's depth. */
#define NEST_MAX 64 /* parentheses and 'not' inside each other */
#define CONDS_MAX 1024 /* conditions; an and/or chain is that deep */

enum field {
	F_PROC_NAME,
	F_PROC_EXE,
	F_PROC_ARGS,
	F_PROC_CMDLINE,
	F_PROC_PID,
	F_PROC_UID,
	F_FD_NAME,
	F_FD_SPORT,
	F_FD_DPORT,
	F_CONTAINER_ID,
	F_EVT_TYPE,
};

static const struct {
	const char *name;
	enum field f;
	bool num;
} fields[] = {
	{ "proc.name", F_PROC_NAME },	  { "proc.exe", F_PROC_EXE },
	{ "proc.args", F_PROC_ARGS },	  { "proc.cmdline", F_PROC_CMDLINE },
	{ "proc.pid", F_PROC_PID, true }, { "proc.uid", F_PROC_UID, true },
	{ "fd.name", F_FD_NAME },	  { "fd.sport", F_FD_SPORT, true },
	{ "fd.dport", F_FD_DPORT, true }, { "container.id", F_CONTAINER_ID },
	{ "evt.type", F_EVT_TYPE },
};

enum op {
	OP_EQ,
	OP_NE,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
	OP_CONTAINS,
	OP_STARTS,
	OP_ENDS,
	OP_IN
};

static const struct {
	const char *name;
	enum op op;
} ops[] = {
	{ "==", OP_EQ },
	{ "=", OP_EQ },
	{ "!=", OP_NE },
	{ "<=", OP_LE },
	{ "<", OP_LT },
	{ ">=", OP_GE },
	{ ">", OP_GT },
	{ "contains", OP_CONTAINS },
	{ "startswith", OP_STARTS },
	{ "endswith", OP_ENDS },
	{ "in", OP_IN },
};

/* Names of operations that are not traced syscalls; the traced ones
 * fold as capture.c's hooks[] says (tel_syscall_op()).
 */
static const char *const aliases[][2] = {
	{ "exec", "execve" }, { "procexit", "exit" }, { "exit_group", "exit" },
	{ "pread", "read" },  { "pwrite", "write" },  { "recv", "read" },
	{ "send", "write" },  { "mmap2", "mmap" },
};

enum node_kind { N_AND, N_OR, N_NOT, N_COND };

struct tel_filter {
	enum node_kind kind;
	struct tel_filter *l, *r;
	enum field field;
	bool num;
	enum op op;
	int nvals;
	char *vals[IN_MAX];
	long long nums[IN_MAX];
};

struct parser {
	const char *s;
	size_t pos;
	char *msg;
	size_t msg_len;
	bool failed;
	int nest; /* parentheses and 'not' open here */
	int conds;
};

static void perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return;
	p->failed = true;
	va_start(ap, fmt);
	n = vsnprintf(p->msg, p->msg_len, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < p->msg_len)
		snprintf(p->msg + n, p->msg_len - n, " at offset %zu", p->pos);
}

static void skip_ws(struct parser *p)
{
	while (isspace((unsigned char)p->s[p->pos]))
		p->pos++;
}

static bool is_word_char(char c)
{
	return c && !isspace((unsigned char)c) && !strchr("()=!<>,'\"", c);
}

/* Next token: a word, a quoted string, or punctuation. Caller frees. */
static char *token(struct parser *p, bool *quoted)
{
	size_t start, len;
	char q, *t;

	skip_ws(p);
	*quoted = false;
	start = p->pos;
	q = p->s[p->pos];
	if (q == '\'' || q == '"') {
		const char *end = strchr(p->s + p->pos + 1, q);

		if (!end) {
			perr(p, "unterminated string");
			return NULL;
		}
		*quoted = true;
		start++;
		len = end - (p->s + start);
		p->pos = end - p->s + 1;
	} else if (q && strchr("(),", q)) {
		len = 1;
		p->pos++;
	} else if (q && strchr("=!<>", q)) {
		len = 1 + (p->s[p->pos + 1] == '=');
		p->pos += len;
	} else {
		while (is_word_char(p->s[p->pos]))
			p->pos++;
		len = p->pos - start;
	}
	t = strndup(p->s + start, len);
	if (!t)
		perr(p, "out of memory");
	return t;
}

static bool peek_is(struct parser *p, const char *word)
{
	size_t save = p->pos;
	bool quoted, yes;
	char *t = token(p, &quoted);

	yes = t && !quoted && !strcmp(t, word);
	free(t);
	if (!yes)
		p->pos = save;
	return yes;
}

static struct tel_filter *node(enum node_kind k, struct tel_filter *l,
			       struct tel_filter *r)
{
	struct tel_filter *n = calloc(1, sizeof(*n));

	if (!n) {
		tel_filter_free(l);
		tel_filter_free(r);
		return NULL;
	}
	n->kind = k;
	n->l = l;
	n->r = r;
	return n;
}

static const char *canon_type(const char *t)
{
	const char *op = tel_syscall_op(t);

	if (op)
		return op;
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (!strcmp(t, aliases[i][0]))
			return aliases[i][1];
	return t;
}

static int add_value(struct parser *p, struct tel_filter *n, char *v)
{
	char *end;

	if (n->nvals == IN_MAX) {
		perr(p, "more than %d values in a list", IN_MAX);
		free(v);
		return -1;
	}
	if (n->num) {
		n->nums[n->nvals] = strtoll(v, &end, 0);
		if (!*v || *end) {
			perr(p, "'%s' is not a number", v);
			free(v);
			return -1;
		}
	}
	if (n->field == F_EVT_TYPE) {
		char *c = strdup(canon_type(v));

		free(v);
		v = c;
		if (!v)
			return -1;
	}
	n->vals[n->nvals++] = v;
	return 0;
}

static struct tel_filter *parse_or(struct parser *p);
static struct tel_filter *parse_not(struct parser *p);

static struct tel_filter *parse_cond(struct parser *p)
{
	struct tel_filter *n = node(N_COND, NULL, NULL);
	bool quoted, found = false;
	char *t;

	if (!n)
		return NULL;
	if (++p->conds > CONDS_MAX) {
		perr(p, "more than %d conditions", CONDS_MAX);
		goto fail;
	}
	t = token(p, &quoted);
	for (size_t i = 0; t && i < ARRAY_SIZE(fields); i++) {
		if (!strcmp(t, fields[i].name)) {
			n->field = fields[i].f;
			n->num = fields[i].num;
			found = true;
		}
	}
	if (t && !found)
		perr(p,
		     "unknown field '%s' (known: proc.name, proc.exe, "
		     "proc.args, proc.cmdline, proc.pid, proc.uid, fd.name, "
		     "fd.sport, fd.dport, container.id, evt.type)",
		     t);
	free(t);
	if (p->failed)
		goto fail;
	t = token(p, &quoted);
	found = false;
	for (size_t i = 0; t && i < ARRAY_SIZE(ops); i++) {
		if (!strcmp(t, ops[i].name)) {
			n->op = ops[i].op;
			found = true;
			break;
		}
	}
	if (t && !found)
		perr(p, "unknown operator '%s'", t);
	free(t);
	if (p->failed)
		goto fail;
	if (n->num &&
	    (n->op == OP_CONTAINS || n->op == OP_STARTS || n->op == OP_ENDS)) {
		perr(p, "string operator on a numeric field");
		goto fail;
	}
	if (n->op != OP_IN) {
		t = token(p, &quoted);
		if (!t || (!quoted && (!*t || strchr("(),", *t)))) {
			perr(p, "missing value");
			free(t);
			goto fail;
		}
		if (add_value(p, n, t))
			goto fail;
		return n;
	}
	t = token(p, &quoted);
	if (!t || quoted || strcmp(t, "(")) {
		perr(p, "'in' needs a list: in (a, b)");
		free(t);
		goto fail;
	}
	free(t);
	for (;;) {
		t = token(p, &quoted);
		if (!t || (!quoted && (!*t || strchr("(),", *t)))) {
			perr(p, "missing value in list");
			free(t);
			goto fail;
		}
		if (add_value(p, n, t))
			goto fail;
		t = token(p, &quoted);
		if (t && !quoted && !strcmp(t, ")")) {
			free(t);
			return n;
		}
		if (!t || quoted || strcmp(t, ",")) {
			perr(p, "expected ',' or ')' in list");
			free(t);
			goto fail;
		}
		free(t);
	}
fail:
	tel_filter_free(n);
	return NULL;
}

static struct tel_filter *parse_nested(struct parser *p, bool negate)
{
	struct tel_filter *n;

	if (++p->nest > NEST_MAX) {
		perr(p, "parentheses and 'not' nested deeper than %d levels",
		     NEST_MAX);
		return NULL;
	}
	n = negate ? parse_not(p) : parse_or(p);
	p->nest--;
	if (negate)
		return n ? node(N_NOT, n, NULL) : NULL;
	if (n && !peek_is(p, ")")) {
		perr(p, "missing ')'");
		tel_filter_free(n);
		return NULL;
	}
	return n;
}

static struct tel_filter *parse_not(struct parser *p)
{
	if (peek_is(p, "not"))
		return parse_nested(p, true);
	if (peek_is(p, "("))
		return parse_nested(p, false);
	return parse_cond(p);
}

static struct tel_filter *parse_and(struct parser *p)
{
	struct tel_filter *l = parse_not(p), *r;

	while (l && peek_is(p, "and")) {
		r = parse_not(p);
		if (!r) {
			tel_filter_free(l);
			return NULL;
		}
		l = node(N_AND, l, r);
	}
	return l;
}

static struct tel_filter *parse_or(struct parser *p)
{
	struct tel_filter *l = parse_and(p), *r;

	while (l && peek_is(p, "or")) {
		r = parse_and(p);
		if (!r) {
			tel_filter_free(l);
			return NULL;
		}
		l = node(N_OR, l, r);
	}
	return l;
}

int tel_filter_compile(const char *expr, struct tel_filter **out, char *msg,
		       size_t msg_len)
{
	struct parser p = { .s = expr, .msg = msg, .msg_len = msg_len };
	struct tel_filter *f = parse_or(&p);

	skip_ws(&p);
	if (f && p.s[p.pos]) {
		perr(&p, "unexpected '%s'", p.s + p.pos);
		tel_filter_free(f);
		f = NULL;
	}
	if (!f && !p.failed)
		perr(&p, "out of memory");
	*out = f;
	return f ? 0 : -EINVAL;
}

void tel_filter_free(struct tel_filter *f)
{
	if (!f)
		return;
	tel_filter_free(f->l);
	tel_filter_free(f->r);
	for (int i = 0; i < f->nvals; i++)
		free(f->vals[i]);
	free(f);
}

/* ---- evaluation ---- */

static const char *str_field(const struct tel_filter *f,
			     const struct tel_filter_ctx *c, char *buf,
			     size_t len)
{
	const struct tel_proc *p = c->proc;
	const char *s;

	switch (f->field) {
	case F_PROC_NAME:
		s = p && p->exe ? strrchr(p->exe, '/') : NULL;
		return s ? s + 1 : p && p->exe ? p->exe : "";
	case F_PROC_EXE:
		return p && p->exe ? p->exe : "";
	case F_PROC_ARGS:
		return p && p->args ? p->args : "";
	case F_PROC_CMDLINE:
		s = p && p->exe ? strrchr(p->exe, '/') : NULL;
		snprintf(buf, len, "%s%s%s",
			 s	     ? s + 1 :
			 p && p->exe ? p->exe :
				       "",
			 p && p->args && *p->args ? " " : "",
			 p && p->args ? p->args : "");
		return buf;
	case F_FD_NAME:
		return c->fd_name ? c->fd_name : "";
	case F_CONTAINER_ID:
		return c->container_id ? c->container_id : "host";
	case F_EVT_TYPE:
		return c->evt_type ? c->evt_type : "";
	default:
		return "";
	}
}

static long long num_field(const struct tel_filter *f,
			   const struct tel_filter_ctx *c)
{
	switch (f->field) {
	case F_PROC_PID:
		return c->proc ? c->proc->oid.hpid : -1;
	case F_PROC_UID:
		return c->proc ? (long long)c->proc->uid : -1;
	case F_FD_SPORT:
		return c->sport;
	case F_FD_DPORT:
		return c->dport;
	default:
		return -1;
	}
}

static bool cmp(const struct tel_filter *f, const struct tel_filter_ctx *c)
{
	char buf[8192];
	const char *s = f->num ? NULL : str_field(f, c, buf, sizeof(buf));
	long long v = f->num ? num_field(f, c) : 0;
	size_t sl, vl;

	for (int i = 0; i < f->nvals; i++) {
		const char *x = f->vals[i];
		long long n = f->nums[i];

		switch (f->op) {
		case OP_EQ:
		case OP_IN:
			if (f->num ? v == n : !strcmp(s, x))
				return true;
			break;
		case OP_NE:
			return f->num ? v != n : strcmp(s, x) != 0;
		case OP_LT:
			return f->num ? v < n : strcmp(s, x) < 0;
		case OP_LE:
			return f->num ? v <= n : strcmp(s, x) <= 0;
		case OP_GT:
			return f->num ? v > n : strcmp(s, x) > 0;
		case OP_GE:
			return f->num ? v >= n : strcmp(s, x) >= 0;
		case OP_CONTAINS:
			return strstr(s, x) != NULL;
		case OP_STARTS:
			return !strncmp(s, x, strlen(x));
		case OP_ENDS:
			sl = strlen(s);
			vl = strlen(x);
			return sl >= vl && !strcmp(s + sl - vl, x);
		}
	}
	return false;
}

bool tel_filter_match(const struct tel_filter *f,
		      const struct tel_filter_ctx *c)
{
	if (!f)
		return true;
	switch (f->kind) {
	case N_AND:
		return tel_filter_match(f->l, c) && tel_filter_match(f->r, c);
	case N_OR:
		return tel_filter_match(f->l, c) || tel_filter_match(f->r, c);
	case N_NOT:
		return !tel_filter_match(f->l, c);
	default:
		return cmp(f, c);
	}
}
