// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* xdp_pass.bpf.c: a bare XDP_PASS program. The baseline of the flowmon
 * benchmark and the program the feature probes attach to test a device.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
