// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* reasons.c: kfree_skb drop reasons by name, from the running kernel's
 * BTF (enum skb_drop_reason), never from a table compiled in here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "trace_int.h"

/* Core reasons are small numbers; codes from 1 << 16 up belong to
 * subsystems (mac80211, openvswitch) with enums of their own.
 */
#define REASON_CORE_MAX 0x10000

static const char *strip_prefix(const char *name)
{
	static const char *const prefixes[] = { "SKB_DROP_REASON_", "SKB_" };

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		size_t n = strlen(prefixes[i]);

		if (!strncmp(name, prefixes[i], n) && name[n])
			return name + n;
	}
	return name;
}

int sf_drop_reasons_load(struct sf_drop_reasons *r, const struct btf *vmlinux)
{
	const struct btf_type *t;
	const struct btf_enum *e;
	uint32_t max = 0;
	int id, vlen;

	memset(r, 0, sizeof(*r));
	id = btf__find_by_name_kind(vmlinux, "skb_drop_reason", BTF_KIND_ENUM);
	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(vmlinux, id);
	e = btf_enum(t);
	vlen = btf_vlen(t);
	for (int i = 0; i < vlen; i++)
		if ((uint32_t)e[i].val < REASON_CORE_MAX &&
		    (uint32_t)e[i].val >= max)
			max = e[i].val + 1;
	r->names = calloc(max ? max : 1, sizeof(*r->names));
	if (!r->names)
		return -ENOMEM;
	r->n = max;
	for (int i = 0; i < vlen; i++) {
		uint32_t v = e[i].val;
		const char *name = btf__name_by_offset(vmlinux, e[i].name_off);

		if (v >= max || !name || r->names[v])
			continue;
		r->names[v] = strdup(strip_prefix(name));
		if (!r->names[v]) {
			sf_drop_reasons_free(r);
			return -ENOMEM;
		}
	}
	return 0;
}

const char *sf_drop_reason_name(const struct sf_drop_reasons *r, uint32_t code)
{
	return code < r->n ? r->names[code] : NULL;
}

void sf_drop_reasons_free(struct sf_drop_reasons *r)
{
	for (uint32_t i = 0; i < r->n; i++)
		free(r->names[i]);
	free(r->names);
	memset(r, 0, sizeof(*r));
}
