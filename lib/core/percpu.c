// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* percpu.c: read the per-CPU counter arrays every data path keeps. */
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "core.h"

int sf_percpu_sum(int map_fd, uint64_t *out, uint32_t n)
{
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	uint64_t *vals;

	if (ncpu < 1)
		return -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t k = 0; k < n; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(map_fd, &k, vals)) {
			err = err ?: -errno;
			continue;
		}
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
	return err;
}
