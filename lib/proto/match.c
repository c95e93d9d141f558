// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* match.c: relations between two matches, used by FLOW_MOD: identical
 * (strict commands), overlapping (CHECK_OVERLAP) and covering (non-strict
 * DELETE and MODIFY select every rule at least as specific as the request).
 */
#include <string.h>
#include <sysflow/proto.h>

static bool prefix_eq(const uint8_t *a, const uint8_t *b, int bits)
{
	int bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes))
		return false;
	if (!rest)
		return true;
	return ((a[bytes] ^ b[bytes]) & (0xff << (8 - rest))) == 0;
}

/* Does field f hold the same value in a and b? */
static bool field_eq(const struct sfp_match *a, const struct sfp_match *b,
		     int f)
{
	switch (f) {
	case SFP_F_PID:
		return a->pid == b->pid;
	case SFP_F_UID:
		return a->uid == b->uid;
	case SFP_F_PROTO:
		return a->proto == b->proto;
	case SFP_F_PORT:
		return a->port_lo == b->port_lo && a->port_hi == b->port_hi;
	case SFP_F_ADDR:
		return a->family == b->family &&
		       a->prefix_len == b->prefix_len &&
		       prefix_eq(a->addr, b->addr, a->prefix_len);
	case SFP_F_EXE:
		return !strcmp(a->exe, b->exe);
	case SFP_F_COMM:
		return !strcmp(a->comm, b->comm);
	case SFP_F_CGROUP:
		return !strcmp(a->cgroup, b->cgroup);
	case SFP_F_CONTAINER:
		return !strcmp(a->container, b->container);
	case SFP_F_PARENT_EXE:
		return !strcmp(a->parent_exe, b->parent_exe);
	case SFP_F_PATH:
	case SFP_F_PATH_PREFIX:
		return !strcmp(a->path, b->path);
	}
	return true;
}

bool sfp_match_equal(const struct sfp_match *a, const struct sfp_match *b)
{
	if (a->fields != b->fields || a->op != b->op)
		return false;
	for (int f = 1; f < SFP_F_MAX; f++)
		if ((a->fields & SFP_F(f)) && !field_eq(a, b, f))
			return false;
	return true;
}

static bool path_prefix_of(const char *prefix, const char *path)
{
	size_t n = strlen(prefix);

	return !strncmp(prefix, path, n) &&
	       (prefix[n - 1] == '/' || path[n] == 0 || path[n] == '/');
}

/* Could one event match both? Fields present in only one never conflict. */
bool sfp_match_overlap(const struct sfp_match *a, const struct sfp_match *b)
{
	uint32_t both = a->fields & b->fields;
	uint32_t pa = a->fields & SFP_FILE_FIELDS,
		 pb = b->fields & SFP_FILE_FIELDS;

	if (a->op != b->op && a->op != SF_OP_ANY && b->op != SF_OP_ANY)
		return false;
	for (int f = SFP_F_PID; f <= SFP_F_PARENT_EXE; f++) /* the subject */
		if ((both & SFP_F(f)) && !field_eq(a, b, f))
			return false;
	if (pa && pb) {
		bool xa = pa & SFP_F(SFP_F_PATH), xb = pb & SFP_F(SFP_F_PATH);

		if (xa && xb && strcmp(a->path, b->path))
			return false;
		if (xa && !xb && !path_prefix_of(b->path, a->path))
			return false;
		if (!xa && xb && !path_prefix_of(a->path, b->path))
			return false;
		if (!xa && !xb && !path_prefix_of(a->path, b->path) &&
		    !path_prefix_of(b->path, a->path))
			return false;
	}
	if (both & SFP_F(SFP_F_ADDR)) {
		int bits = a->prefix_len < b->prefix_len ? a->prefix_len :
							   b->prefix_len;

		if (a->family != b->family ||
		    !prefix_eq(a->addr, b->addr, bits))
			return false;
	}
	if ((both & SFP_F(SFP_F_PORT)) &&
	    (a->port_hi < b->port_lo || b->port_hi < a->port_lo))
		return false;
	if ((both & SFP_F(SFP_F_PROTO)) && !field_eq(a, b, SFP_F_PROTO))
		return false;
	return true;
}

/* Every event that matches a also matches b (b is the wider request). */
bool sfp_match_covers(const struct sfp_match *b, const struct sfp_match *a)
{
	if (b->op != SF_OP_ANY && a->op != b->op)
		return false;
	if (b->fields & ~a->fields &
	    ~(SFP_F(SFP_F_PATH) | SFP_F(SFP_F_PATH_PREFIX)))
		return false;
	for (int f = 1; f < SFP_F_MAX; f++) {
		if (!(b->fields & SFP_F(f)))
			continue;
		switch (f) {
		case SFP_F_PATH:
			if (!(a->fields & SFP_F(SFP_F_PATH)) ||
			    strcmp(a->path, b->path))
				return false;
			break;
		case SFP_F_PATH_PREFIX:
			if (!(a->fields & SFP_FILE_FIELDS) ||
			    !path_prefix_of(b->path, a->path))
				return false;
			break;
		case SFP_F_ADDR:
			if (a->family != b->family ||
			    a->prefix_len < b->prefix_len ||
			    !prefix_eq(a->addr, b->addr, b->prefix_len))
				return false;
			break;
		case SFP_F_PORT:
			if (a->port_lo < b->port_lo || a->port_hi > b->port_hi)
				return false;
			break;
		default:
			if (!field_eq(a, b, f))
				return false;
		}
	}
	return true;
}
