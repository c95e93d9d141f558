// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* filter.c: compile a pcap-filter-like expression into tracepkt's test
 * list (see filter.h for the grammar). Three passes: split into tokens,
 * parse into a tree, then emit one instruction per test with true/false
 * targets, the way classic BPF compilers do, so the size stays linear in
 * the expression (no normal form blow-up).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "filter.h"

#define MAX_TOKENS 512
#define MAX_NODES (2 * MAX_TOKENS)
#define MAX_DEPTH 64

enum tok_kind {
	T_END = 0,
	T_WORD,
	T_LPAREN,
	T_RPAREN,
	T_NOT,
	T_AND,
	T_OR,
};

struct token {
	enum tok_kind kind;
	int pos; /* offset in the expression */
	int len;
};

enum node_kind {
	N_TEST,
	N_AND,
	N_OR,
	N_NOT,
};

struct node {
	enum node_kind kind;
	int a, b; /* children */
	struct tracepkt_insn test;
};

struct compiler {
	const char *src;
	struct token toks[MAX_TOKENS];
	int ntok, cur;
	struct node nodes[MAX_NODES];
	int nnodes;
	int ntests;
	int depth;
	struct tracepkt_insn code[TRACEPKT_MAX_INSNS]; /* emitted backwards */
	int ncode;
	struct sf_pktfilter_error *err;
};

/* ---- errors ---- */

static int fail_at(struct compiler *c, int pos, int len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail_at(struct compiler *c, int pos, int len, const char *fmt, ...)
{
	va_list ap;

	if (c->err) {
		c->err->column = pos + 1;
		c->err->width = len > 0 ? len : 1;
		va_start(ap, fmt);
		vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* The text of a token for messages: 'word', or "end of expression". */
static const char *tok_text(struct compiler *c, const struct token *t,
			    char *buf, size_t len)
{
	if (t->kind == T_END)
		return "end of expression";
	snprintf(buf, len, "'%.*s'", t->len > 40 ? 40 : t->len,
		 c->src + t->pos);
	return buf;
}

static int fail_tok(struct compiler *c, const struct token *t,
		    const char *expected)
{
	char buf[48];

	return fail_at(c, t->pos, t->len, "expected %s, got %s", expected,
		       tok_text(c, t, buf, sizeof(buf)));
}

/* ---- tokens ---- */

static bool is_word_char(char ch)
{
	return ch && !isspace((unsigned char)ch) && !strchr("()!&|", ch);
}

static int lex(struct compiler *c)
{
	const char *s = c->src;
	int i = 0;

	for (;;) {
		struct token *t = &c->toks[c->ntok];

		while (s[i] && isspace((unsigned char)s[i]))
			i++;
		if (c->ntok == MAX_TOKENS - 1)
			return fail_at(c, i, 1,
				       "expression too long: more "
				       "than %d tokens",
				       MAX_TOKENS - 1);
		t->pos = i;
		t->len = 1;
		if (!s[i]) {
			t->kind = T_END;
			t->len = 0;
			c->ntok++;
			return 0;
		}
		if (s[i] == '(') {
			t->kind = T_LPAREN;
		} else if (s[i] == ')') {
			t->kind = T_RPAREN;
		} else if (s[i] == '!') {
			t->kind = T_NOT;
		} else if (s[i] == '&' || s[i] == '|') {
			if (s[i + 1] != s[i])
				return fail_at(c, i, 1,
					       "unexpected '%c' (did "
					       "you mean '%c%c'?)",
					       s[i], s[i], s[i]);
			t->kind = s[i] == '&' ? T_AND : T_OR;
			t->len = 2;
		} else {
			while (is_word_char(s[i + t->len]))
				t->len++;
			t->kind = T_WORD;
			if (t->len == 3 && !strncmp(s + i, "and", 3))
				t->kind = T_AND;
			else if (t->len == 2 && !strncmp(s + i, "or", 2))
				t->kind = T_OR;
			else if (t->len == 3 && !strncmp(s + i, "not", 3))
				t->kind = T_NOT;
		}
		i += t->len;
		c->ntok++;
	}
}

static struct token *peek(struct compiler *c)
{
	return &c->toks[c->cur];
}

static struct token *next(struct compiler *c)
{
	struct token *t = &c->toks[c->cur];

	if (t->kind != T_END)
		c->cur++;
	return t;
}

static bool word_is(struct compiler *c, const struct token *t, const char *w)
{
	return t->kind == T_WORD && (size_t)t->len == strlen(w) &&
	       !strncmp(c->src + t->pos, w, t->len);
}

/* ---- tree ---- */

static int new_node(struct compiler *c, enum node_kind kind, int a, int b)
{
	struct node *n;

	if (c->nnodes == MAX_NODES)
		return fail_at(c, peek(c)->pos, 1, "expression too complex");
	n = &c->nodes[c->nnodes];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->a = a;
	n->b = b;
	return c->nnodes++;
}

static int new_test(struct compiler *c, const struct token *at,
		    const struct tracepkt_insn *test)
{
	int n;

	if (++c->ntests > TRACEPKT_MAX_INSNS)
		return fail_at(c, at->pos, at->len,
			       "expression too long: "
			       "more than %d tests",
			       TRACEPKT_MAX_INSNS);
	n = new_node(c, N_TEST, -1, -1);
	if (n >= 0)
		c->nodes[n].test = *test;
	return n;
}

/* "host", "src", ...: words that start a term. */
static const char *const keywords[] = { "host",	 "net", "port", "src",	"dst",
					"proto", "tcp", "udp",	"icmp", "icmp6",
					"ip",	 "ip6", NULL };

static bool is_keyword(struct compiler *c, const struct token *t)
{
	for (int i = 0; keywords[i]; i++)
		if (word_is(c, t, keywords[i]))
			return true;
	return false;
}

static const struct {
	const char *name;
	uint8_t proto;
} proto_names[] = {
	{ "tcp", 6 },
	{ "udp", 17 },
	{ "icmp", 1 },
	{ "icmp6", 58 },
};

static int proto_by_name(struct compiler *c, const struct token *t)
{
	for (size_t i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]);
	     i++)
		if (word_is(c, t, proto_names[i].name))
			return proto_names[i].proto;
	return -1;
}

/* Parse a decimal number of at most max from a word token. */
static bool word_number(struct compiler *c, const struct token *t,
			unsigned long max, unsigned long *out)
{
	char buf[16], *end;

	if (t->kind != T_WORD || t->len >= (int)sizeof(buf) ||
	    !isdigit((unsigned char)c->src[t->pos]))
		return false;
	memcpy(buf, c->src + t->pos, t->len);
	buf[t->len] = 0;
	errno = 0;
	*out = strtoul(buf, &end, 10);
	return !errno && !*end && *out <= max;
}

static void set_mask(struct tracepkt_insn *in, int plen)
{
	uint8_t *m = (uint8_t *)in->mask, *a = (uint8_t *)in->addr;
	int bytes = in->family == 4 ? 4 : 16;

	memset(in->mask, 0, sizeof(in->mask));
	for (int i = 0; i < bytes; i++) {
		int bits = plen - i * 8;

		m[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : 0xff << (8 - bits);
		a[i] &= m[i];
	}
}

/* ADDR or ADDR/LEN into in (op, family, addr, mask). */
static int parse_addr(struct compiler *c, const struct token *t, bool prefix_ok,
		      struct tracepkt_insn *in)
{
	char buf[INET6_ADDRSTRLEN + 8], tok[48], *slash;
	unsigned char raw[16];
	unsigned long plen;
	int max;

	if (t->kind != T_WORD)
		return fail_tok(c, t,
				prefix_ok ? "a network (ADDR/LEN)" :
					    "an address");
	if (t->len >= (int)sizeof(buf))
		return fail_at(c, t->pos, t->len,
			       "%s is not an IPv4 or IPv6 "
			       "address",
			       tok_text(c, t, tok, sizeof(tok)));
	memcpy(buf, c->src + t->pos, t->len);
	buf[t->len] = 0;
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	if (inet_pton(AF_INET, buf, raw) == 1)
		in->family = 4;
	else if (inet_pton(AF_INET6, buf, raw) == 1)
		in->family = 6;
	else
		return fail_at(c, t->pos, t->len,
			       "%s is not an IPv4 or IPv6 "
			       "%s",
			       tok_text(c, t, tok, sizeof(tok)),
			       slash ? "network" : "address");
	max = in->family == 4 ? 32 : 128;
	plen = max;
	if (slash) {
		char *end;

		if (!prefix_ok)
			return fail_at(c, t->pos, t->len,
				       "%s is a network: "
				       "use 'net %.*s'",
				       tok_text(c, t, tok, sizeof(tok)), t->len,
				       c->src + t->pos);
		errno = 0;
		plen = strtoul(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || plen > (unsigned)max)
			return fail_at(c, t->pos, t->len,
				       "bad prefix length "
				       "in %s: use 0 to %d for IPv%d",
				       tok_text(c, t, tok, sizeof(tok)), max,
				       in->family);
	}
	in->op = TP_OP_ADDR;
	memset(in->addr, 0, sizeof(in->addr));
	memcpy(in->addr, raw, in->family == 4 ? 4 : 16);
	set_mask(in, plen);
	if (memcmp(in->addr, raw, in->family == 4 ? 4 : 16)) {
		char net[INET6_ADDRSTRLEN];

		inet_ntop(in->family == 4 ? AF_INET : AF_INET6, in->addr, net,
			  sizeof(net));
		return fail_at(c, t->pos, t->len,
			       "%s has host bits set (did "
			       "you mean %s/%lu?)",
			       tok_text(c, t, tok, sizeof(tok)), net, plen);
	}
	return 0;
}

static int parse_expr(struct compiler *c);

/* [dir] host|net|port ID, or dir ID; the direction is already consumed. */
static int parse_qualified(struct compiler *c, int dir,
			   const struct token *dir_tok)
{
	struct tracepkt_insn in = { .dir = dir };
	struct token *kw = peek(c), *id;
	unsigned long port;
	char buf[48];
	int err;

	if (word_is(c, kw, "host") || word_is(c, kw, "net")) {
		bool net = word_is(c, kw, "net");

		next(c);
		id = next(c);
		err = parse_addr(c, id, net, &in);
		return err ? err : new_test(c, kw, &in);
	}
	if (word_is(c, kw, "port")) {
		next(c);
		id = next(c);
		if (!word_number(c, id, 65535, &port))
			return id->kind == T_WORD ?
				       fail_at(c, id->pos, id->len,
					       "%s is not "
					       "a port number (0-65535)",
					       tok_text(c, id, buf,
							sizeof(buf))) :
				       fail_tok(c, id,
						"a port number after "
						"'port'");
		in.op = TP_OP_PORT;
		in.port = port;
		return new_test(c, kw, &in);
	}
	if (dir_tok && kw->kind == T_WORD && !is_keyword(c, kw)) {
		/* "src 10.0.0.1": host implied, as in pcap */
		next(c);
		err = parse_addr(c, kw, true, &in);
		return err ? err : new_test(c, kw, &in);
	}
	if (dir_tok && is_keyword(c, kw))
		return fail_at(c, kw->pos, kw->len,
			       "'%.*s' cannot follow "
			       "'%.*s': use host, net or port after it",
			       kw->len, c->src + kw->pos, dir_tok->len,
			       c->src + dir_tok->pos);
	return fail_tok(c, kw,
			dir_tok ? "host, net, port or an address" :
				  "host, net or port");
}

/* tcp, udp, icmp, icmp6, ip, ip6, proto X: optionally followed by a term
 * that is and-ed with it ("tcp port 80").
 */
static int parse_proto_word(struct compiler *c)
{
	struct tracepkt_insn in = {};
	struct token *kw = next(c), *id;
	unsigned long num;
	char buf[48];
	int n, rest;

	if (word_is(c, kw, "ip") || word_is(c, kw, "ip6")) {
		in.op = TP_OP_FAMILY;
		in.family = word_is(c, kw, "ip") ? 4 : 6;
	} else if (word_is(c, kw, "proto")) {
		id = next(c);
		n = proto_by_name(c, id);
		if (n < 0 && word_number(c, id, 255, &num))
			n = num;
		if (n < 0)
			return id->kind == T_WORD ?
				       fail_at(c, id->pos, id->len,
					       "unknown protocol %s: use tcp, "
					       "udp, icmp, icmp6 or a number "
					       "0-255",
					       tok_text(c, id, buf,
							sizeof(buf))) :
				       fail_tok(c, id,
						"a protocol after "
						"'proto'");
		in.op = TP_OP_PROTO;
		in.proto = n;
	} else {
		in.op = TP_OP_PROTO;
		in.proto = proto_by_name(c, kw);
	}
	n = new_test(c, kw, &in);
	if (n < 0)
		return n;
	id = peek(c);
	if (word_is(c, id, "src") || word_is(c, id, "dst")) {
		next(c);
		rest = parse_qualified(
			c, word_is(c, id, "src") ? TP_DIR_SRC : TP_DIR_DST, id);
	} else if (word_is(c, id, "host") || word_is(c, id, "net") ||
		   word_is(c, id, "port")) {
		rest = parse_qualified(c, TP_DIR_ANY, NULL);
	} else {
		return n;
	}
	return rest < 0 ? rest : new_node(c, N_AND, n, rest);
}

static int parse_term(struct compiler *c)
{
	struct token *t = peek(c);
	char buf[48];

	if (word_is(c, t, "src") || word_is(c, t, "dst")) {
		next(c);
		return parse_qualified(
			c, word_is(c, t, "src") ? TP_DIR_SRC : TP_DIR_DST, t);
	}
	if (word_is(c, t, "host") || word_is(c, t, "net") ||
	    word_is(c, t, "port"))
		return parse_qualified(c, TP_DIR_ANY, NULL);
	if (word_is(c, t, "proto") || word_is(c, t, "ip") ||
	    word_is(c, t, "ip6") || proto_by_name(c, t) >= 0)
		return parse_proto_word(c);
	if (t->kind == T_WORD) {
		struct tracepkt_insn in = {};
		int err = parse_addr(c, t, true, &in);

		if (!err) { /* host implied, as in pcap */
			next(c);
			return new_test(c, t, &in);
		}
		if (isdigit((unsigned char)c->src[t->pos]) ||
		    memchr(c->src + t->pos, ':', t->len))
			return err; /* meant as an address: say what is wrong */
		return fail_at(c, t->pos, t->len,
			       "unknown word %s: expected "
			       "host, net, port, src, dst, proto, tcp, udp, "
			       "icmp, icmp6, ip, ip6, an address, not or '('",
			       tok_text(c, t, buf, sizeof(buf)));
	}
	return fail_tok(c, t,
			"a test (host, net, port, proto, tcp, ...), "
			"'not' or '('");
}

static int parse_unary(struct compiler *c)
{
	struct token *t = peek(c);
	int n;

	if (++c->depth > MAX_DEPTH)
		return fail_at(c, t->pos, t->len,
			       "expression nested too "
			       "deeply (more than %d levels)",
			       MAX_DEPTH);
	if (t->kind == T_NOT) {
		next(c);
		n = parse_unary(c);
		if (n >= 0)
			n = new_node(c, N_NOT, n, -1);
	} else if (t->kind == T_LPAREN) {
		next(c);
		n = parse_expr(c);
		if (n >= 0 && peek(c)->kind != T_RPAREN) {
			char buf[48];

			n = fail_at(c, peek(c)->pos, peek(c)->len,
				    "expected "
				    "')' to close the '(' at column %d, got %s",
				    t->pos + 1,
				    tok_text(c, peek(c), buf, sizeof(buf)));
		} else if (n >= 0) {
			next(c);
		}
	} else {
		n = parse_term(c);
	}
	c->depth--;
	return n;
}

/* pcap-filter(7): and/or have equal precedence, left associative. */
static int parse_expr(struct compiler *c)
{
	int n = parse_unary(c);

	while (n >= 0 && (peek(c)->kind == T_AND || peek(c)->kind == T_OR)) {
		enum node_kind kind = next(c)->kind == T_AND ? N_AND : N_OR;
		int rhs = parse_unary(c);

		n = rhs < 0 ? rhs : new_node(c, kind, n, rhs);
	}
	return n;
}

/* ---- code ---- */

/* Emit node with its true/false targets; returns the index (in emission
 * order) of its entry, which is always the last instruction emitted.
 * Emission runs backwards from the end of the program, so every target
 * was emitted before: reversed, all jumps go forward.
 */
static int emit(struct compiler *c, int node, uint16_t t, uint16_t f)
{
	struct node *n = &c->nodes[node];
	int entry;

	switch (n->kind) {
	case N_TEST:
		c->code[c->ncode] = n->test;
		c->code[c->ncode].jt = t;
		c->code[c->ncode].jf = f;
		return c->ncode++;
	case N_NOT:
		return emit(c, n->a, f, t);
	case N_AND:
		entry = emit(c, n->b, t, f);
		return emit(c, n->a, entry, f);
	case N_OR:
		entry = emit(c, n->b, t, f);
		return emit(c, n->a, t, entry);
	}
	return -1;
}

static uint16_t renumber(uint16_t target, int n)
{
	if (target == TRACEPKT_ACCEPT || target == TRACEPKT_REJECT)
		return target;
	return n - 1 - target;
}

int sf_pktfilter_compile(const char *expr, struct sf_pktfilter *out,
			 struct sf_pktfilter_error *err)
{
	struct compiler *c = calloc(1, sizeof(*c));
	int root, rc = 0;

	if (!c)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	if (err)
		memset(err, 0, sizeof(*err));
	c->src = expr ? expr : "";
	c->err = err;
	rc = lex(c);
	if (rc || peek(c)->kind == T_END)
		goto out; /* empty: match everything */
	root = parse_expr(c);
	if (root < 0) {
		rc = root;
		goto out;
	}
	if (peek(c)->kind != T_END) {
		struct token *t = peek(c);

		rc = t->kind == T_RPAREN ?
			     fail_at(c, t->pos, t->len,
				     "unexpected ')' "
				     "without a matching '('") :
			     fail_tok(c, t,
				      "'and', 'or' or the end of the "
				      "expression");
		goto out;
	}
	emit(c, root, TRACEPKT_ACCEPT, TRACEPKT_REJECT);
	for (int i = 0; i < c->ncode; i++) {
		struct tracepkt_insn *in = &out->insns[c->ncode - 1 - i];

		*in = c->code[i];
		in->jt = renumber(in->jt, c->ncode);
		in->jf = renumber(in->jf, c->ncode);
	}
	out->len = c->ncode;
out:
	free(c);
	return rc;
}

/* ---- user-space twin of the BPF evaluator ---- */

static bool addr_match(const uint32_t *a, const struct tracepkt_insn *in)
{
	for (int i = 0; i < 4; i++)
		if ((a[i] & in->mask[i]) != in->addr[i])
			return false;
	return true;
}

static bool insn_test(const struct tracepkt_insn *in,
		      const struct sf_pktfilter_pkt *p)
{
	switch (in->op) {
	case TP_OP_FAMILY:
		return p->family == in->family;
	case TP_OP_PROTO:
		return p->family && p->proto == in->proto;
	case TP_OP_PORT:
		if (!p->has_ports)
			return false;
		if (in->dir != TP_DIR_DST && p->sport == in->port)
			return true;
		return in->dir != TP_DIR_SRC && p->dport == in->port;
	case TP_OP_ADDR:
		if (p->family != in->family)
			return false;
		if (in->dir != TP_DIR_DST && addr_match(p->saddr, in))
			return true;
		return in->dir != TP_DIR_SRC && addr_match(p->daddr, in);
	}
	return false;
}

bool sf_pktfilter_match(const struct sf_pktfilter *f,
			const struct sf_pktfilter_pkt *p)
{
	unsigned int pc = 0;

	if (!f->len)
		return true;
	for (int i = 0; i < TRACEPKT_MAX_INSNS; i++) {
		const struct tracepkt_insn *in = &f->insns[pc];

		pc = insn_test(in, p) ? in->jt : in->jf;
		if (pc == TRACEPKT_ACCEPT)
			return true;
		if (pc >= f->len)
			return false;
	}
	return false;
}
