// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* features.c: `sysflow features`: which kernel features sysflow can use on
 * this machine, and what it falls back to where one is missing.
 */
#include <stdio.h>
#include <sysflow/sysflow.h>
#include "core/core.h"
#include "cmds.h"

struct features_cfg {
	const char *dev;
	bool json;
};

static const struct features_cfg defaults_features = {};

/* clang-format off */
static const struct opt_def features_options[] = {
	{ .name = "dev", .short_name = 'd', .type = OPT_STRING,
	  .offset = offsetof(struct features_cfg, dev), .metavar = "DEV",
	  .help = "also probe native XDP on DEV (attaches briefly)" },
	{ .name = "json", .short_name = 'j', .type = OPT_FLAG,
	  .offset = offsetof(struct features_cfg, json),
	  .help = "one JSON object per feature" },
	OPT_END,
};
/* clang-format on */

static const char *const result_names[] = { "yes", "no", "unknown" };

#define DETAIL_COL 26 /* after "%-16s %-8s " */

static void print_probe(const struct sf_probe *p, bool json)
{
	json_t *o;

	if (!json) { /* the detail wraps under itself, within 80 columns */
		printf("%-16s %-8s ", p->name, result_names[p->result]);
		params_print_wrapped(stdout, p->detail, DETAIL_COL, DETAIL_COL);
		return;
	}
	o = json_pack("{s:s, s:s, s:s}", "feature", p->name, "usable",
		      result_names[p->result], "detail", p->detail);
	cmd_print_json(o);
}

static int do_features(void *arg)
{
	struct features_cfg *cfg = arg;
	struct sf_probe probes[24] = {};
	int n, ifindex;

	if (sf_check_privileges("sysflow features"))
		return 1;
	sf_mount_bpffs();
	sf_mount_tracefs();
	sf_log_quiet_libbpf(true);
	n = sf_probe_all(probes, ARRAY_SIZE(probes) - 1);
	if (cfg->dev) {
		if (sf_iface_index(cfg->dev, &ifindex))
			return 1;
		probes[n].name = "xdp_native";
		probes[n].result = sf_probe_xdp_native(
			ifindex, probes[n].detail, sizeof(probes[n].detail));
		n++;
	}
	sf_log_quiet_libbpf(false);
	if (!cfg->json) /* the JSON keys, in capitals */
		printf("%-16s %-8s %s\n", "FEATURE", "USABLE", "DETAIL");
	for (int i = 0; i < n; i++)
		print_probe(&probes[i], cfg->json);
	return 0;
}

const struct cmd_def cmd_features = {
	.name = "features",
	.run = do_features,
	.opts = features_options,
	.defaults = &defaults_features,
	.cfg_size = sizeof(struct features_cfg),
	.summary = "show which kernel features sysflow can use here",
	.doc = "Probes BTF, bpffs, tracefs, cgroup2, ring buffers, "
	       "tracepoints, tp_btf,\nkprobes, fentry, BPF LSM and fanotify by "
	       "trying each, and names the\nfallback used where one is "
	       "refused. Needs root.\n",
	.examples = "  sysflow features            # probe this host\n"
		    "  sysflow features -d eth0    # and native XDP on eth0\n",
};
