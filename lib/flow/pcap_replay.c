// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* pcap_replay.c: offline mode. Every frame of a pcap goes through the same
 * XDP program with BPF_PROG_TEST_RUN, the pcap's timestamps serving as the
 * program's clock, so the same file always gives the same flows.
 * (pcap.h brings classic BPF's struct bpf_insn: no libbpf headers here.)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <pcap/pcap.h>
#include <sysflow/flowmon.h>
#include <sysflow/log.h>
#include "core/core.h"
#include "replay_int.h"

#define REPLAY_SWEEP_NS 1000000000ULL /* sweep each second of pcap time */
#define REPORT_NS 1000000000ULL /* progress each second of wall time ... */
#define REPORT_CHECK 1024 /* ... looked at every this many packets */

static uint64_t pcap_ts_ns(const struct pcap_pkthdr *h, bool nano)
{
	return h->ts.tv_sec * 1000000000ULL +
	       (uint64_t)h->ts.tv_usec * (nano ? 1 : 1000);
}

static pcap_t *open_pcap(const char *path, bool *nano)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p;

	p = pcap_open_offline_with_tstamp_precision(
		path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p) { /* libpcap's text may start with "PATH: " itself */
		size_t n = strlen(path);
		const char *why = strncmp(errbuf, path, n) || errbuf[n] != ':' ?
					  errbuf :
					  errbuf + n + 2;

		pr_err("cannot read pcap %s: %s\n", path, why);
		return NULL;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		pr_err("pcap %s has link type %s; only Ethernet (EN10MB) "
		       "captures can be replayed\n",
		       path, pcap_datalink_val_to_name(pcap_datalink(p)));
		pcap_close(p);
		return NULL;
	}
	*nano = true;
	return p;
}

/* Where a replay is, for the progress callback. */
struct replay_pos {
	pcap_t *p;
	uint64_t size; /* of the file; 0 when unknown */
	uint64_t packets;
	uint64_t next_report_ns; /* CLOCK_MONOTONIC */
};

static void replay_pos_init(struct replay_pos *pos, pcap_t *p)
{
	struct stat st;

	memset(pos, 0, sizeof(*pos));
	pos->p = p;
	if (!fstat(fileno(pcap_file(p)), &st) && S_ISREG(st.st_mode))
		pos->size = st.st_size;
	pos->next_report_ns = sf_clock_ns(CLOCK_MONOTONIC) + REPORT_NS;
}

/* One more packet; about once a second, tell the progress callback. */
static void replay_step(struct sf_flowmon *fm, struct replay_pos *pos)
{
	uint64_t now;

	if (++pos->packets % REPORT_CHECK)
		return;
	now = sf_clock_ns(CLOCK_MONOTONIC);
	if (now < pos->next_report_ns)
		return;
	pos->next_report_ns = now + REPORT_NS;
	fm_progress(fm, ftell(pcap_file(pos->p)), pos->size, pos->packets);
}

int sf_flowmon_replay_pcap(struct sf_flowmon *fm, const char *path,
			   sf_flow_cb cb, void *ctx, long *bad_offset)
{
	struct pcap_pkthdr *h;
	const u_char *frame;
	uint64_t next_sweep = 0, ts;
	long offset = 24; /* after the file header */
	struct replay_pos pos;
	bool nano;
	pcap_t *p;
	int rc = 0, err = 0;

	p = open_pcap(path, &nano);
	if (!p)
		return -EINVAL;
	replay_pos_init(&pos, p);
	while (!fm_stop_asked(fm) && (rc = pcap_next_ex(p, &h, &frame)) == 1) {
		ts = pcap_ts_ns(h, nano);
		err = sf_flowmon_run_packet(fm, frame, h->caplen, ts);
		if (err)
			break;
		offset = ftell(pcap_file(p));
		replay_step(fm, &pos);
		if (ts < next_sweep)
			continue;
		if (next_sweep)
			err = sf_flowmon_sweep(fm, ts, cb, ctx);
		next_sweep = ts + REPLAY_SWEEP_NS;
		if (err < 0)
			break;
		err = 0;
	}
	if (rc == PCAP_ERROR) {
		pr_err("pcap %s is corrupt or truncated at offset %ld: %s\n",
		       path, offset, pcap_geterr(p));
		*bad_offset = offset;
		err = -EBADMSG;
	}
	if (!err && fm_stop_asked(fm))
		err = -EINTR;
	pcap_close(p);
	rc = sf_flowmon_flush(fm, cb, ctx);
	return err ?: (rc < 0 ? rc : 0);
}
