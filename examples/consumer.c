// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* consumer.c: a complete SysFlow consumer on libsysflow's C API: set a
 * callback in the config, create the driver, run it until Ctrl-C, print
 * one line per event or flow and a summary.
 *
 *	consumer [PROCESS_NAME]    # only records of processes with that name
 *
 * Build: cc -o consumer examples/consumer.c -Iinclude build/libsysflow.a \
 *	$(pkg-config --libs libbpf libxdp jansson libpcap avro-c libssl \
 *	libcrypto) -lelf -lz -lm
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysflow/telemetry.h>

static struct sysflow_driver *driver;
static unsigned long long counts[SYSFLOW_REC_PROCESS_FLOW + 1];

static void on_signal(int sig)
{
	(void)sig;
	sysflow_driver_exit(driver); /* async-signal-safe */
}

static const char *ops(int32_t f, char *buf, size_t len)
{
	static const char *const names[] = {
		"CLONE", "EXEC", "EXIT", "SETUID", "SETNS", "ACCEPT", "CONNECT",
		"OPEN", "READ", "WRITE", "CLOSE", "TRUNCATE", "SHUTDOWN", "MMAP",
		"DIGEST", "MKDIR", "RMDIR", "LINK", "UNLINK", "SYMLINK", "RENAME",
	};
	size_t o = 0;

	buf[0] = 0;
	for (int i = 0; i < 21 && o < len; i++)
		if (f & (1 << i))
			o += snprintf(buf + o, len - o, "%s%s", o ? "|" : "",
				      names[i]);
	return buf;
}

static void on_record(const struct sysflow_header *hdr,
		      const struct sysflow_container *cont,
		      const struct sysflow_process *proc,
		      const struct sysflow_file *f1,
		      const struct sysflow_file *f2,
		      const struct sysflow_record *rec, void *ctx)
{
	const char *name = ctx, *base = strrchr(proc->exe, '/');
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], o[160];
	const struct sysflow_network_flow *nf = &rec->nf;
	int af;

	(void)hdr;
	if (name && strcmp(base ? base + 1 : proc->exe, name))
		return;
	counts[rec->type]++;
	switch (rec->type) {
	case SYSFLOW_REC_PROCESS_EVENT:
		printf("PE pid=%lld tid=%lld %s ret=%d exe=%s args=%s%s%s\n",
		       (long long)proc->oid.hpid, (long long)rec->pe.tid,
		       ops(rec->pe.op_flags, o, sizeof(o)), rec->pe.ret,
		       proc->exe, proc->exe_args, cont ? " container=" : "",
		       cont ? cont->id : "");
		break;
	case SYSFLOW_REC_NETWORK_FLOW:
		af = nf->ip_version == 4 ? AF_INET : AF_INET6;
		inet_ntop(af, nf->saddr, a, sizeof(a));
		inet_ntop(af, nf->daddr, b, sizeof(b));
		printf("NF pid=%lld tid=%lld %s:%d -> %s:%d proto=%d %s "
		       "rbytes=%lld wbytes=%lld\n", (long long)proc->oid.hpid,
		       (long long)nf->tid, a, nf->sport, b, nf->dport, nf->proto,
		       ops(nf->op_flags, o, sizeof(o)),
		       (long long)nf->num_rrecv_bytes,
		       (long long)nf->num_wsend_bytes);
		break;
	case SYSFLOW_REC_FILE_FLOW:
		printf("FF pid=%lld tid=%lld %s %s rbytes=%lld wbytes=%lld\n",
		       (long long)proc->oid.hpid, (long long)rec->ff.tid,
		       f1 ? f1->path : "?", ops(rec->ff.op_flags, o, sizeof(o)),
		       (long long)rec->ff.num_rrecv_bytes,
		       (long long)rec->ff.num_wsend_bytes);
		break;
	case SYSFLOW_REC_FILE_EVENT:
		printf("FE pid=%lld %s %s%s%s ret=%d\n",
		       (long long)proc->oid.hpid,
		       ops(rec->fe.op_flags, o, sizeof(o)), f1 ? f1->path : "?",
		       f2 ? " -> " : "", f2 ? f2->path : "", rec->fe.ret);
		break;
	case SYSFLOW_REC_PROCESS_FLOW:
		printf("PF pid=%lld threads cloned=%lld exited=%lld\n",
		       (long long)proc->oid.hpid,
		       (long long)rec->pf.num_threads_cloned,
		       (long long)rec->pf.num_threads_exited);
		break;
	default:
		break;
	}
}

int main(int argc, char **argv)
{
	struct sysflow_config cfg;
	struct sysflow_error err;
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long long total = 0;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sysflow_config_init(&cfg);
	cfg.callback = on_record;
	cfg.callback_ctx = argc > 1 ? argv[1] : NULL;
	cfg.app_name = "consumer";
	driver = sysflow_driver_create(&cfg, &err);
	if (!driver) {
		fprintf(stderr, "consumer: %s (%s)\n", err.message,
			sysflow_error_name(err.code));
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "consumer: collecting with libsysflow %s; Ctrl-C to "
		"end\n", sysflow_driver_version());
	rc = sysflow_driver_run(driver, &err);
	if (rc)
		fprintf(stderr, "consumer: %s (%s)\n", err.message,
			sysflow_error_name(err.code));
	for (int i = 0; i <= SYSFLOW_REC_PROCESS_FLOW; i++)
		total += counts[i];
	printf("records: %llu (process events %llu, network flows %llu, file "
	       "flows %llu, file events %llu, process flows %llu)\n", total,
	       counts[SYSFLOW_REC_PROCESS_EVENT],
	       counts[SYSFLOW_REC_NETWORK_FLOW], counts[SYSFLOW_REC_FILE_FLOW],
	       counts[SYSFLOW_REC_FILE_EVENT], counts[SYSFLOW_REC_PROCESS_FLOW]);
	sysflow_driver_destroy(driver);
	return rc ? 1 : 0;
}
