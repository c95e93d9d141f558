// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* codec.c: SysFlow messages to and from big-endian bytes. Every length and
 * enum is checked before use; a decoder failure is an SFP_ERR() code that
 * names the ERROR to answer with. docs/protocol.md is the byte-level spec.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysflow/proto.h>
#include "core/grow.h"

/* ---- output buffer ---- */

void sfp_buf_free(struct sfp_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void sfp_buf_consume(struct sfp_buf *b, size_t n)
{
	b->len = grow_drop_front(b->data, b->len, n);
}

static uint8_t *buf_room(struct sfp_buf *b, size_t n)
{
	if (b->failed || grow_array(b->data, b->cap, b->len, n, 256)) {
		b->failed = true;
		return NULL;
	}
	b->len += n;
	return b->data + b->len - n;
}

static void put_bytes(struct sfp_buf *b, const void *v, size_t n)
{
	uint8_t *p = buf_room(b, n);

	if (p && n)
		memcpy(p, v, n);
}

static void put_u8(struct sfp_buf *b, uint8_t v)
{
	put_bytes(b, &v, 1);
}

static void put_u16(struct sfp_buf *b, uint16_t v)
{
	uint8_t p[2] = { v >> 8, v };

	put_bytes(b, p, 2);
}

static void put_u32(struct sfp_buf *b, uint32_t v)
{
	uint8_t p[4] = { v >> 24, v >> 16, v >> 8, v };

	put_bytes(b, p, 4);
}

static void put_u64(struct sfp_buf *b, uint64_t v)
{
	put_u32(b, v >> 32);
	put_u32(b, v);
}

/* Fixed-size text field, NUL padded. */
static void put_fixed_str(struct sfp_buf *b, const char *s, size_t n)
{
	uint8_t *p = buf_room(b, n);

	if (!p)
		return;
	memset(p, 0, n);
	memcpy(p, s, strnlen(s, n - 1));
}

/* u16 length + bytes, no NUL. */
static void put_str16(struct sfp_buf *b, const char *s)
{
	size_t n = strnlen(s, SFP_MAX_STR - 1);

	put_u16(b, n);
	put_bytes(b, s, n);
}

static void set_u16_at(struct sfp_buf *b, size_t off, uint16_t v)
{
	if (!b->failed) {
		b->data[off] = v >> 8;
		b->data[off + 1] = v;
	}
}

static void set_u32_at(struct sfp_buf *b, size_t off, uint32_t v)
{
	if (!b->failed) {
		set_u16_at(b, off, v >> 16);
		set_u16_at(b, off + 2, v);
	}
}

/* ---- input cursor ---- */

struct cur {
	const uint8_t *p;
	size_t len, off;
	bool short_read;
};

static const uint8_t *take(struct cur *c, size_t n)
{
	if (c->short_read || c->len - c->off < n) {
		c->short_read = true;
		return NULL;
	}
	c->off += n;
	return c->p + c->off - n;
}

static uint8_t get_u8(struct cur *c)
{
	const uint8_t *p = take(c, 1);

	return p ? p[0] : 0;
}

static uint16_t get_u16(struct cur *c)
{
	const uint8_t *p = take(c, 2);

	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static uint32_t get_u32(struct cur *c)
{
	const uint8_t *p = take(c, 4);

	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
			       (uint32_t)p[2] << 8 | p[3] :
		   0;
}

static uint64_t get_u64(struct cur *c)
{
	uint64_t hi = get_u32(c);

	return hi << 32 | get_u32(c);
}

static size_t left(const struct cur *c)
{
	return c->len - c->off;
}

#define BAD_LEN SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_LEN)

/* Text without NUL bytes, up to max-1 bytes, into dst (NUL terminated). */
static int get_text(struct cur *c, size_t n, char *dst, size_t max, int err)
{
	const uint8_t *p;

	if (n >= max)
		return err;
	p = take(c, n);
	if (!p)
		return BAD_LEN;
	if (memchr(p, 0, n))
		return err;
	memcpy(dst, p, n);
	dst[n] = 0;
	return 0;
}

#define BAD_RESERVED SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_RESERVED)

/* NUL-terminated text padded with zeros to n bytes: one spelling only. */
static int get_fixed_str(struct cur *c, char *dst, size_t n)
{
	const uint8_t *p = take(c, n);
	size_t len;

	if (!p)
		return BAD_LEN;
	len = strnlen((const char *)p, n);
	if (len == n)
		return BAD_RESERVED;
	for (size_t i = len; i < n; i++)
		if (p[i])
			return BAD_RESERVED;
	memcpy(dst, p, n);
	return 0;
}

static int get_str16(struct cur *c, char *dst, size_t max)
{
	uint16_t n = get_u16(c);

	if (c->short_read)
		return BAD_LEN;
	return get_text(c, n, dst, max,
			SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_LEN));
}

/* ---- match: u16 length, u8 op, u8 reserved, then TLVs ---- */

static void put_tlv_str(struct sfp_buf *b, uint16_t field, const char *s)
{
	size_t n = strnlen(s, SFP_MAX_STR - 1);

	put_u16(b, field);
	put_u16(b, n);
	put_bytes(b, s, n);
}

static void put_match(struct sfp_buf *b, const struct sfp_match *m)
{
	size_t start = b->len;
	uint32_t f = m->fields;

	put_u16(b, 0); /* length, set below */
	put_u8(b, m->op);
	put_u8(b, 0);
	if (f & SFP_F(SFP_F_PID)) {
		put_u16(b, SFP_F_PID);
		put_u16(b, 4);
		put_u32(b, m->pid);
	}
	if (f & SFP_F(SFP_F_EXE))
		put_tlv_str(b, SFP_F_EXE, m->exe);
	if (f & SFP_F(SFP_F_COMM))
		put_tlv_str(b, SFP_F_COMM, m->comm);
	if (f & SFP_F(SFP_F_UID)) {
		put_u16(b, SFP_F_UID);
		put_u16(b, 4);
		put_u32(b, m->uid);
	}
	if (f & SFP_F(SFP_F_CGROUP))
		put_tlv_str(b, SFP_F_CGROUP, m->cgroup);
	if (f & SFP_F(SFP_F_CONTAINER))
		put_tlv_str(b, SFP_F_CONTAINER, m->container);
	if (f & SFP_F(SFP_F_PARENT_EXE))
		put_tlv_str(b, SFP_F_PARENT_EXE, m->parent_exe);
	if (f & SFP_F(SFP_F_PATH))
		put_tlv_str(b, SFP_F_PATH, m->path);
	if (f & SFP_F(SFP_F_PATH_PREFIX))
		put_tlv_str(b, SFP_F_PATH_PREFIX, m->path);
	if (f & SFP_F(SFP_F_ADDR)) {
		size_t alen = m->family == 6 ? 16 : 4;

		put_u16(b, SFP_F_ADDR);
		put_u16(b, 2 + alen);
		put_u8(b, m->family);
		put_u8(b, m->prefix_len);
		put_bytes(b, m->addr, alen);
	}
	if (f & SFP_F(SFP_F_PORT)) {
		put_u16(b, SFP_F_PORT);
		put_u16(b, 4);
		put_u16(b, m->port_lo);
		put_u16(b, m->port_hi);
	}
	if (f & SFP_F(SFP_F_PROTO)) {
		put_u16(b, SFP_F_PROTO);
		put_u16(b, 1);
		put_u8(b, m->proto);
	}
	set_u16_at(b, start, b->len - start);
}

#define MATCH_ERR(code) SFP_ERR(SFP_ET_BAD_MATCH, code)

static int match_str_field(struct cur *c, uint16_t field, uint16_t len,
			   struct sfp_match *m)
{
	char *dst;
	size_t max = SFP_MAX_STR;

	switch (field) {
	case SFP_F_EXE:
		dst = m->exe;
		break;
	case SFP_F_COMM:
		dst = m->comm;
		max = sizeof(m->comm);
		break;
	case SFP_F_CGROUP:
		dst = m->cgroup;
		break;
	case SFP_F_CONTAINER:
		dst = m->container;
		max = sizeof(m->container);
		break;
	case SFP_F_PARENT_EXE:
		dst = m->parent_exe;
		break;
	default: /* PATH, PATH_PREFIX */
		dst = m->path;
		break;
	}
	if (len == 0)
		return MATCH_ERR(SFP_EC_BAD_FIELD_LEN);
	if (len >= max)
		return MATCH_ERR(SFP_EC_BAD_FIELD_LEN);
	return get_text(c, len, dst, max, MATCH_ERR(SFP_EC_BAD_VALUE));
}

static int match_field(struct cur *c, uint16_t field, uint16_t len,
		       struct sfp_match *m)
{
	size_t alen;

	switch (field) {
	case SFP_F_PID:
	case SFP_F_UID:
		if (len != 4)
			return MATCH_ERR(SFP_EC_BAD_FIELD_LEN);
		if (field == SFP_F_PID)
			m->pid = get_u32(c);
		else
			m->uid = get_u32(c);
		return 0;
	case SFP_F_EXE:
	case SFP_F_COMM:
	case SFP_F_CGROUP:
	case SFP_F_CONTAINER:
	case SFP_F_PARENT_EXE:
	case SFP_F_PATH:
	case SFP_F_PATH_PREFIX:
		return match_str_field(c, field, len, m);
	case SFP_F_ADDR:
		if (len != 6 && len != 18)
			return MATCH_ERR(SFP_EC_BAD_FIELD_LEN);
		m->family = get_u8(c);
		m->prefix_len = get_u8(c);
		alen = m->family == 6 ? 16 : 4;
		if ((m->family != 4 && m->family != 6) || len != 2 + alen ||
		    m->prefix_len > alen * 8)
			return MATCH_ERR(SFP_EC_BAD_VALUE);
		memcpy(m->addr, take(c, alen), alen);
		return 0;
	case SFP_F_PORT:
		if (len != 4)
			return MATCH_ERR(SFP_EC_BAD_FIELD_LEN);
		m->port_lo = get_u16(c);
		m->port_hi = get_u16(c);
		return m->port_lo > m->port_hi ? MATCH_ERR(SFP_EC_BAD_VALUE) :
						 0;
	case SFP_F_PROTO:
		if (len != 1)
			return MATCH_ERR(SFP_EC_BAD_FIELD_LEN);
		m->proto = get_u8(c);
		return 0;
	}
	return MATCH_ERR(SFP_EC_BAD_FIELD);
}

static int get_match(struct cur *c, struct sfp_match *m)
{
	uint16_t mlen = get_u16(c);
	struct cur mc;
	int err;

	memset(m, 0, sizeof(*m));
	m->op = get_u8(c);
	if (get_u8(c) != 0)
		return SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_RESERVED);
	if (c->short_read || mlen < 4 || left(c) < (size_t)mlen - 4)
		return MATCH_ERR(SFP_EC_BAD_FIELD_LEN);
	if (m->op >= SF_OP_COUNT && m->op != SF_OP_ANY)
		return MATCH_ERR(SFP_EC_BAD_OP);
	mc = (struct cur){ .p = take(c, mlen - 4), .len = mlen - 4 };
	while (left(&mc)) {
		uint16_t field = get_u16(&mc), len = get_u16(&mc);
		struct cur fc;

		if (mc.short_read || left(&mc) < len)
			return MATCH_ERR(SFP_EC_BAD_FIELD_LEN);
		if (field == 0 || field >= SFP_F_MAX)
			return MATCH_ERR(SFP_EC_BAD_FIELD);
		/* ascending field numbers: one spelling per match */
		if (m->fields & ~(SFP_F(field) - 1))
			return MATCH_ERR(SFP_EC_DUP_FIELD);
		fc = (struct cur){ .p = take(&mc, len), .len = len };
		err = match_field(&fc, field, len, m);
		if (err)
			return err;
		if (fc.short_read || left(&fc))
			return MATCH_ERR(SFP_EC_BAD_FIELD_LEN);
		m->fields |= SFP_F(field);
	}
	if ((m->fields & SFP_F(SFP_F_PATH)) &&
	    (m->fields & SFP_F(SFP_F_PATH_PREFIX)))
		return MATCH_ERR(SFP_EC_DUP_FIELD);
	return 0;
}

/* ---- actions: u16 type, u16 length (4 or 8), [u32 argument] ---- */

static bool action_has_arg(uint16_t type)
{
	return type == SF_ACT_KILL || type == SF_ACT_ENCODE;
}

static void put_actions(struct sfp_buf *b, const struct sfp_action *a, int n)
{
	for (int i = 0; i < n; i++) {
		bool arg = action_has_arg(a[i].type);

		put_u16(b, a[i].type);
		put_u16(b, arg ? 8 : 4);
		if (arg)
			put_u32(b, a[i].arg);
	}
}

#define ACT_ERR(code) SFP_ERR(SFP_ET_BAD_ACTION, code)

static int get_actions(struct cur *c, uint16_t n, struct sfp_action *a)
{
	if (n > SFP_MAX_ACTIONS)
		return ACT_ERR(SFP_EC_TOO_MANY);
	for (int i = 0; i < n; i++) {
		uint16_t type = get_u16(c), len = get_u16(c);

		if (c->short_read)
			return BAD_LEN;
		if (type == SF_ACT_UNKNOWN || type >= SF_ACT_COUNT)
			return ACT_ERR(SFP_EC_BAD_ACTION_TYPE);
		if (len != (action_has_arg(type) ? 8 : 4))
			return ACT_ERR(SFP_EC_BAD_ACTION_LEN);
		a[i].type = type;
		a[i].arg = action_has_arg(type) ? get_u32(c) : 0;
		if (c->short_read)
			return BAD_LEN;
		if (type == SF_ACT_ENCODE && a[i].arg > 63)
			return ACT_ERR(SFP_EC_BAD_ARG);
		if (type == SF_ACT_KILL && (a[i].arg == 0 || a[i].arg > 64))
			return ACT_ERR(SFP_EC_BAD_ARG);
	}
	return 0;
}

/* ---- message bodies ---- */

static void put_features(struct sfp_buf *b, const struct sfp_features *f)
{
	put_bytes(b, f->host_id, 16);
	put_fixed_str(b, f->hostname, 64);
	put_fixed_str(b, f->kernel, 64);
	put_u32(b, f->cores);
	put_u32(b, f->max_rules);
	put_u32(b, f->n_rules);
	put_u8(b, f->fail_mode);
	put_bytes(b, f->miss, SF_CLASS_COUNT);
	put_u8(b, f->n_ops);
	put_u16(b, 0);
	for (int i = 0; i < f->n_ops && i < SFP_MAX_OPS; i++) {
		put_u8(b, f->ops[i].op);
		put_u8(b, f->ops[i].mechanism);
		put_u16(b, 0);
		put_u32(b, f->ops[i].actions);
	}
}

static int get_features(struct cur *c, struct sfp_features *f)
{
	const uint8_t *id = take(c, 16);

	if (!id)
		return BAD_LEN;
	memcpy(f->host_id, id, 16);
	if (get_fixed_str(c, f->hostname, 64) ||
	    get_fixed_str(c, f->kernel, 64))
		return BAD_LEN;
	f->cores = get_u32(c);
	f->max_rules = get_u32(c);
	f->n_rules = get_u32(c);
	f->fail_mode = get_u8(c);
	for (int i = 0; i < SF_CLASS_COUNT; i++)
		f->miss[i] = get_u8(c);
	f->n_ops = get_u8(c);
	for (int i = 0; i < SF_CLASS_COUNT; i++)
		if (!c->short_read && f->miss[i] > SF_MISS_ASK)
			return SFP_ERR(SFP_ET_CONFIG_FAILED, SFP_EC_BAD_CONFIG);
	if (get_u16(c))
		return BAD_RESERVED;
	if (c->short_read)
		return BAD_LEN;
	if (f->n_ops > SFP_MAX_OPS || left(c) != f->n_ops * 8u)
		return BAD_LEN;
	for (int i = 0; i < f->n_ops; i++) {
		f->ops[i].op = get_u8(c);
		f->ops[i].mechanism = get_u8(c);
		if (get_u16(c))
			return BAD_RESERVED;
		f->ops[i].actions = get_u32(c);
	}
	return 0;
}

static void put_flow_mod(struct sfp_buf *b, const struct sfp_flow_mod *fm)
{
	put_u8(b, fm->command);
	put_u8(b, 0);
	put_u16(b, fm->flags);
	put_u16(b, fm->priority);
	put_u16(b, fm->idle_timeout);
	put_u16(b, fm->hard_timeout);
	put_u16(b, fm->n_actions);
	put_u64(b, fm->cookie);
	put_u64(b, fm->cookie_mask);
	put_match(b, &fm->match);
	put_actions(b, fm->actions, fm->n_actions);
}

static int get_flow_mod(struct cur *c, struct sfp_flow_mod *fm)
{
	int err;

	fm->command = get_u8(c);
	if (get_u8(c))
		return BAD_RESERVED;
	fm->flags = get_u16(c);
	fm->priority = get_u16(c);
	fm->idle_timeout = get_u16(c);
	fm->hard_timeout = get_u16(c);
	fm->n_actions = get_u16(c);
	fm->cookie = get_u64(c);
	fm->cookie_mask = get_u64(c);
	if (c->short_read)
		return BAD_LEN;
	if (fm->command > SFP_FM_DELETE_STRICT)
		return SFP_ERR(SFP_ET_FLOW_MOD_FAILED, SFP_EC_BAD_COMMAND);
	if (fm->flags & ~(SFP_FF_SEND_FLOW_REM | SFP_FF_CHECK_OVERLAP |
			  SFP_FF_RESET_COUNTS))
		return SFP_ERR(SFP_ET_FLOW_MOD_FAILED, SFP_EC_BAD_FLAGS);
	err = get_match(c, &fm->match);
	return err ?: get_actions(c, fm->n_actions, fm->actions);
}

static void put_stats_entry(struct sfp_buf *b, const struct sfp_flow_stats *e)
{
	size_t start = b->len;

	put_u16(b, 0);
	put_u16(b, e->priority);
	put_u16(b, e->idle_timeout);
	put_u16(b, e->hard_timeout);
	put_u16(b, e->flags);
	put_u16(b, e->n_actions);
	put_u32(b, e->duration_sec);
	put_u64(b, e->cookie);
	put_u64(b, e->hits);
	put_match(b, &e->match);
	put_actions(b, e->actions, e->n_actions);
	set_u16_at(b, start, b->len - start);
}

static int get_stats_reply(struct cur *c, struct sfp_stats_reply *r)
{
	r->flags = get_u16(c);
	if (get_u16(c))
		return BAD_RESERVED;
	r->count = get_u32(c);
	r->entries = NULL;
	if (c->short_read)
		return BAD_LEN;
	/* each entry is at least 36 bytes: bound the allocation by input */
	if (r->count > left(c) / 36)
		return BAD_LEN;
	if (!r->count)
		return left(c) ? BAD_LEN : 0;
	r->entries = calloc(r->count, sizeof(*r->entries));
	if (!r->entries)
		return -ENOMEM;
	for (uint32_t i = 0; i < r->count; i++) {
		struct sfp_flow_stats *e = &r->entries[i];
		uint16_t elen = get_u16(c);
		struct cur ec;
		int err;

		if (c->short_read || elen < 36 || left(c) < elen - 2u)
			return BAD_LEN;
		ec = (struct cur){ .p = take(c, elen - 2), .len = elen - 2 };
		e->priority = get_u16(&ec);
		e->idle_timeout = get_u16(&ec);
		e->hard_timeout = get_u16(&ec);
		e->flags = get_u16(&ec);
		e->n_actions = get_u16(&ec);
		e->duration_sec = get_u32(&ec);
		e->cookie = get_u64(&ec);
		e->hits = get_u64(&ec);
		err = get_match(&ec, &e->match);
		if (!err)
			err = get_actions(&ec, e->n_actions, e->actions);
		if (err)
			return err;
		if (ec.short_read || left(&ec))
			return BAD_LEN;
	}
	return 0;
}

static void put_event(struct sfp_buf *b, const struct sfp_event *e)
{
	put_u64(b, e->cookie);
	put_u8(b, e->op);
	put_u8(b, e->verdict);
	put_u16(b, e->action);
	put_u32(b, e->reason);
	put_u32(b, e->pid);
	put_u32(b, e->uid);
	put_u64(b, e->time_ns);
	put_str16(b, e->exe);
	put_str16(b, e->object);
	put_str16(b, e->data);
}

#define VERDICT_ERR(code) SFP_ERR(SFP_ET_VERDICT_FAILED, code)

/* EVENT_IN of a held operation: the texts, then u32 hold id. */
static bool event_held(uint8_t type, const struct sfp_event *e)
{
	return type == SFP_EVENT_IN && e->reason == SFP_EV_HELD;
}

static int get_event(struct cur *c, struct sfp_event *e)
{
	e->cookie = get_u64(c);
	e->op = get_u8(c);
	e->verdict = get_u8(c);
	e->action = get_u16(c);
	e->reason = get_u32(c);
	e->pid = get_u32(c);
	e->uid = get_u32(c);
	e->time_ns = get_u64(c);
	if (c->short_read)
		return BAD_LEN;
	if (e->op >= SF_OP_COUNT)
		return SFP_ERR(SFP_ET_BAD_MATCH, SFP_EC_BAD_OP);
	return get_str16(c, e->exe, sizeof(e->exe))		  ?:
		       get_str16(c, e->object, sizeof(e->object)) ?:
		       get_str16(c, e->data, sizeof(e->data));
}

static int get_held_id(struct cur *c, uint8_t type, struct sfp_event *e)
{
	if (!event_held(type, e))
		return 0;
	e->hold_id = get_u32(c);
	if (c->short_read)
		return BAD_LEN;
	return e->hold_id ? 0 : VERDICT_ERR(SFP_EC_BAD_VERDICT);
}

static int get_verdict(struct cur *c, struct sfp_verdict *v)
{
	v->hold_id = get_u32(c);
	v->verdict = get_u8(c);
	if (get_u8(c) || get_u16(c))
		return BAD_RESERVED;
	if (c->short_read)
		return BAD_LEN;
	if (!v->hold_id ||
	    (v->verdict != SF_ACT_ALLOW && v->verdict != SF_ACT_DENY))
		return VERDICT_ERR(SFP_EC_BAD_VERDICT);
	return 0;
}

static void put_removed(struct sfp_buf *b, const struct sfp_flow_removed *r)
{
	put_u64(b, r->cookie);
	put_u16(b, r->priority);
	put_u8(b, r->reason);
	put_u8(b, 0);
	put_u32(b, r->duration_sec);
	put_u16(b, r->idle_timeout);
	put_u16(b, r->hard_timeout);
	put_u64(b, r->hits);
	put_match(b, &r->match);
}

static int get_removed(struct cur *c, struct sfp_flow_removed *r)
{
	r->cookie = get_u64(c);
	r->priority = get_u16(c);
	r->reason = get_u8(c);
	if (get_u8(c))
		return BAD_RESERVED;
	r->duration_sec = get_u32(c);
	r->idle_timeout = get_u16(c);
	r->hard_timeout = get_u16(c);
	r->hits = get_u64(c);
	if (c->short_read)
		return BAD_LEN;
	if (r->reason > SFP_RR_DELETE)
		return SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_LEN);
	return get_match(c, &r->match);
}

/* ---- whole messages ---- */

static const int min_body[SFP_TYPE_MAX] = {
	[SFP_HELLO] = 4,
	[SFP_FEATURES_REQUEST] = 0,
	[SFP_FEATURES_REPLY] = 164,
	[SFP_FLOW_MOD] = 32,
	[SFP_FLOW_STATS_REQUEST] = 16,
	[SFP_FLOW_STATS_REPLY] = 8,
	[SFP_ECHO_REQUEST] = 0,
	[SFP_ECHO_REPLY] = 0,
	[SFP_ACTION_REPORT] = 38,
	[SFP_ERROR] = 4,
	[SFP_FLOW_REMOVED] = 32,
	[SFP_BARRIER_REQUEST] = 0,
	[SFP_BARRIER_REPLY] = 0,
	[SFP_EVENT_IN] = 38,
	[SFP_SET_CONFIG] = 4,
	[SFP_VERDICT] = 8,
};

int sfp_min_body(uint8_t type)
{
	return type < SFP_TYPE_MAX ? min_body[type] : -1;
}

void sfp_header_read(const uint8_t *p, struct sfp_header *h)
{
	h->version = p[0];
	h->type = p[1];
	h->reserved = p[2] << 8 | p[3];
	h->length = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
		    (uint32_t)p[6] << 8 | p[7];
	h->xid = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 |
		 (uint32_t)p[10] << 8 | p[11];
}

static void put_header(struct sfp_buf *b, const struct sfp_header *h)
{
	put_u8(b, h->version ?: SFP_VERSION);
	put_u8(b, h->type);
	put_u16(b, 0);
	put_u32(b, 0); /* length, set at the end */
	put_u32(b, h->xid);
}

int sfp_encode(struct sfp_buf *out, const struct sfp_msg *m)
{
	size_t start = out->len;

	if (m->h.type >= SFP_TYPE_MAX)
		return -EINVAL;
	put_header(out, &m->h);
	switch (m->h.type) {
	case SFP_HELLO:
		put_u32(out, m->hello_versions);
		if (m->hello_features)
			put_u32(out, m->hello_features);
		break;
	case SFP_FEATURES_REPLY:
		put_features(out, &m->features);
		break;
	case SFP_FLOW_MOD:
		put_flow_mod(out, &m->flow_mod);
		break;
	case SFP_FLOW_STATS_REQUEST:
		put_u64(out, m->stats_req.cookie);
		put_u64(out, m->stats_req.cookie_mask);
		break;
	case SFP_FLOW_STATS_REPLY:
		put_u16(out, m->stats_reply.flags);
		put_u16(out, 0);
		put_u32(out, m->stats_reply.count);
		for (uint32_t i = 0; i < m->stats_reply.count; i++)
			put_stats_entry(out, &m->stats_reply.entries[i]);
		break;
	case SFP_ECHO_REQUEST:
	case SFP_ECHO_REPLY:
		put_bytes(out, m->echo.data, m->echo.len);
		break;
	case SFP_ACTION_REPORT:
	case SFP_EVENT_IN:
		put_event(out, &m->event);
		if (event_held(m->h.type, &m->event))
			put_u32(out, m->event.hold_id);
		break;
	case SFP_ERROR:
		put_u16(out, m->error.type);
		put_u16(out, m->error.code);
		put_bytes(out, m->error.data,
			  m->error.data_len < SFP_ERROR_DATA ?
				  m->error.data_len :
				  SFP_ERROR_DATA);
		break;
	case SFP_FLOW_REMOVED:
		put_removed(out, &m->removed);
		break;
	case SFP_SET_CONFIG:
		put_bytes(out, m->config.miss, SF_CLASS_COUNT);
		break;
	case SFP_VERDICT:
		put_u32(out, m->verdict.hold_id);
		put_u8(out, m->verdict.verdict);
		put_u8(out, 0);
		put_u16(out, 0);
		break;
	default: /* header only */
		break;
	}
	if (out->failed) {
		out->failed = false;
		out->len = start;
		return -ENOMEM;
	}
	if (out->len - start > SFP_MAX_MSG) {
		out->len = start;
		return -EMSGSIZE;
	}
	set_u32_at(out, start + 4, out->len - start);
	return 0;
}

void sfp_msg_simple(struct sfp_msg *m, uint8_t type, uint32_t xid)
{
	*m = (struct sfp_msg){ .h = { .type = type, .xid = xid } };
	if (type == SFP_HELLO) {
		m->hello_versions = SFP_VERSIONS_SUPPORTED;
		m->hello_features = SFP_HELLO_FEATURES;
	}
}

void sfp_msg_error(struct sfp_msg *m, uint32_t xid, uint16_t type,
		   uint16_t code, const void *offending, size_t len)
{
	sfp_msg_simple(m, SFP_ERROR, xid);
	m->error.type = type;
	m->error.code = code;
	m->error.data_len = len < SFP_ERROR_DATA ? len : SFP_ERROR_DATA;
	if (offending && m->error.data_len)
		memcpy(m->error.data, offending, m->error.data_len);
}

int sfp_encode_simple(struct sfp_buf *out, uint8_t type, uint32_t xid)
{
	struct sfp_msg m;

	sfp_msg_simple(&m, type, xid);
	return sfp_encode(out, &m);
}

int sfp_encode_error(struct sfp_buf *out, uint32_t xid, uint16_t type,
		     uint16_t code, const void *offending, size_t len)
{
	struct sfp_msg m;

	sfp_msg_error(&m, xid, type, code, offending, len);
	return sfp_encode(out, &m);
}

int sfp_encode_echo(struct sfp_buf *out, uint8_t type, uint32_t xid,
		    const void *data, uint32_t len)
{
	struct sfp_msg m = { .h = { .type = type, .xid = xid } };

	m.echo.data = data;
	m.echo.len = len;
	return sfp_encode(out, &m);
}

int sfp_decode(const uint8_t *buf, size_t len, struct sfp_msg *m)
{
	struct cur c = { .p = buf, .len = len };
	int err = 0;

	memset(m, 0, sizeof(*m));
	if (len < SFP_HEADER_LEN)
		return BAD_LEN;
	sfp_header_read(buf, &m->h);
	if (m->h.length != len)
		return BAD_LEN;
	if (m->h.version == 0 || m->h.version > SFP_VERSION)
		return SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_VERSION);
	if (m->h.type >= SFP_TYPE_MAX)
		return SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_TYPE);
	if (m->h.reserved)
		return SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_RESERVED);
	if (len - SFP_HEADER_LEN < (size_t)min_body[m->h.type])
		return BAD_LEN;
	c.off = SFP_HEADER_LEN;
	switch (m->h.type) {
	case SFP_HELLO:
		m->hello_versions = get_u32(&c);
		if (left(&c) >= 4)
			m->hello_features = get_u32(&c);
		c.off = len; /* later versions may append elements */
		break;
	case SFP_FEATURES_REPLY:
		err = get_features(&c, &m->features);
		break;
	case SFP_FLOW_MOD:
		err = get_flow_mod(&c, &m->flow_mod);
		break;
	case SFP_FLOW_STATS_REQUEST:
		m->stats_req.cookie = get_u64(&c);
		m->stats_req.cookie_mask = get_u64(&c);
		break;
	case SFP_FLOW_STATS_REPLY:
		err = get_stats_reply(&c, &m->stats_reply);
		break;
	case SFP_ECHO_REQUEST:
	case SFP_ECHO_REPLY:
		m->echo.len = left(&c);
		m->echo.data = take(&c, m->echo.len);
		break;
	case SFP_ACTION_REPORT:
	case SFP_EVENT_IN:
		err = get_event(&c, &m->event) ?:
			      get_held_id(&c, m->h.type, &m->event);
		break;
	case SFP_ERROR:
		m->error.type = get_u16(&c);
		m->error.code = get_u16(&c);
		m->error.data_len = left(&c) < SFP_ERROR_DATA ? left(&c) :
								SFP_ERROR_DATA;
		memcpy(m->error.data, take(&c, m->error.data_len),
		       m->error.data_len);
		c.off = len;
		break;
	case SFP_FLOW_REMOVED:
		err = get_removed(&c, &m->removed);
		break;
	case SFP_SET_CONFIG:
		for (int i = 0; i < SF_CLASS_COUNT; i++) {
			m->config.miss[i] = get_u8(&c);
			if (m->config.miss[i] > SF_MISS_ASK)
				err = SFP_ERR(SFP_ET_CONFIG_FAILED,
					      SFP_EC_BAD_CONFIG);
		}
		break;
	case SFP_VERDICT:
		err = get_verdict(&c, &m->verdict);
		break;
	default:
		break;
	}
	if (!err && (c.short_read || left(&c)))
		err = BAD_LEN;
	if (err)
		sfp_msg_free(m);
	return err;
}

void sfp_msg_free(struct sfp_msg *m)
{
	if (m->h.type == SFP_FLOW_STATS_REPLY) {
		free(m->stats_reply.entries);
		m->stats_reply.entries = NULL;
		m->stats_reply.count = 0;
	}
}
