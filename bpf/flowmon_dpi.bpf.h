/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* flowmon_dpi.bpf.h: L5 inspectors of the flow monitor, tail called by
 * port after a packet has been accounted: DNS (query name, type, response
 * code), HTTP/1.x requests (method, Host), TLS ClientHello (SNI) and the
 * SSH identification string ("SSH-2.0-OpenSSH_9.2p1 Debian-2").
 *
 * Each flow is inspected once: an inspector claims it with a cmpxchg on
 * dpi_state, fills the fields and marks them DONE (or FAILED). The payload
 * is copied into a per-CPU buffer first so that every read is a masked
 * index, which keeps the verifier's work small.
 * Included by flowmon.bpf.c only.
 */
#ifndef __FLOWMON_DPI_BPF_H
#define __FLOWMON_DPI_BPF_H

#define DPI_MASK (FLOWMON_DPI_BUF - 1)
#define NAME_MASK (FLOWMON_NAME_LEN - 1)
#define HTTP_SCAN 1024 /* bytes searched for the Host header */
#define TLS_MAX_EXT 32 /* extensions walked looking for server_name */

struct dpi_buf {
	__u8 b[FLOWMON_DPI_BUF];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dpi_buf);
} dpi_scratch SEC(".maps");

static __always_inline __u8 dpi_byte(struct dpi_buf *p, __u32 off)
{
	return p->b[off & DPI_MASK];
}

static __always_inline __u16 dpi_be16(struct dpi_buf *p, __u32 off)
{
	return dpi_byte(p, off) << 8 | dpi_byte(p, off + 1);
}

/* Copy up to FLOWMON_NAME_LEN - 1 bytes of [off, off + len) into name,
 * stopping at CR or LF; name stays NUL-terminated.
 */
static __always_inline void dpi_copy_name(struct dpi_buf *p, __u32 off,
					  __u32 len, __u32 avail, char *name)
{
	__u32 i;

	for (i = 0; i < FLOWMON_NAME_LEN - 1; i++) {
		__u8 ch;

		if (i >= len || off + i >= avail)
			break;
		ch = dpi_byte(p, off + i);
		if (ch == '\r' || ch == '\n')
			break;
		name[i & NAME_MASK] = ch;
	}
	name[i & NAME_MASK] = 0;
}

/* DNS header, then the first question's name (labels joined by dots). */
static __always_inline int dpi_dns(struct dpi_buf *p, __u32 len,
				   struct flowmon_rec *fs)
{
	__u32 pos = 12, out = 0, rem = 0, i;

	if (len < 17 || dpi_be16(p, 4) == 0)
		return -1;
	fs->dns_rcode = dpi_byte(p, 3) & 0x0f;
	for (i = 0; i < 255; i++) {
		__u8 ch;

		if (pos >= len)
			return -1;
		ch = dpi_byte(p, pos++);
		if (rem == 0) {
			if (ch == 0)
				break;
			if (ch > 63)
				return -1; /* no compression in a question */
			if (out && out < FLOWMON_NAME_LEN - 1)
				fs->name[out++ & NAME_MASK] = '.';
			rem = ch;
			continue;
		}
		if (out < FLOWMON_NAME_LEN - 1)
			fs->name[out++ & NAME_MASK] = ch;
		rem--;
	}
	fs->name[out & NAME_MASK] = 0;
	if (pos + 2 > len)
		return -1;
	fs->dns_qtype = dpi_be16(p, pos);
	return DPI_DNS;
}

static __always_inline bool dpi_is_host_hdr(struct dpi_buf *p, __u32 off)
{
	return (dpi_byte(p, off) | 0x20) == 'h' &&
	       (dpi_byte(p, off + 1) | 0x20) == 'o' &&
	       (dpi_byte(p, off + 2) | 0x20) == 's' &&
	       (dpi_byte(p, off + 3) | 0x20) == 't' &&
	       dpi_byte(p, off + 4) == ':';
}

struct http_scan {
	struct dpi_buf *p;
	__u32 len;
	__u32 start; /* offset of the Host value, 0 if not found */
};

static long http_scan_line(__u32 i, void *arg)
{
	struct http_scan *hs = arg;

	if (i + 6 > hs->len)
		return 1;
	if (dpi_byte(hs->p, i) != '\n' || !dpi_is_host_hdr(hs->p, i + 1))
		return 0;
	hs->start = i + 6;
	return 1;
}

/* "METHOD SP ..." then a "Host:" header line, found with bpf_loop so that
 * the verifier checks the scan once rather than HTTP_SCAN times.
 */
static __always_inline int dpi_http(struct dpi_buf *p, __u32 len,
				    struct flowmon_rec *fs)
{
	struct http_scan hs = { .p = p, .len = len };
	__u32 i;

	for (i = 0; i < FLOWMON_METHOD_LEN; i++) {
		__u8 ch = i < len ? dpi_byte(p, i) : 0;

		if (ch == ' ')
			break;
		if (ch < 'A' || ch > 'Z' || i == FLOWMON_METHOD_LEN - 1)
			return -1;
		fs->http_method[i] = ch;
	}
	fs->http_method[i & (FLOWMON_METHOD_LEN - 1)] = 0;
	bpf_loop(HTTP_SCAN, http_scan_line, &hs, 0);
	if (!hs.start)
		return DPI_HTTP; /* a request without Host is still valid */
	if (hs.start < len && dpi_byte(p, hs.start) == ' ')
		hs.start++;
	dpi_copy_name(p, hs.start, FLOWMON_NAME_LEN, len, fs->name);
	return DPI_HTTP;
}

/* TLS record -> ClientHello -> extensions -> server_name (type 0). */
static __always_inline int dpi_tls(struct dpi_buf *p, __u32 len,
				   struct flowmon_rec *fs)
{
	__u32 pos, ext_end, i;

	if (len < 44 || dpi_byte(p, 0) != 0x16 || dpi_byte(p, 5) != 0x01)
		return -1;
	pos = 5 + 4 + 2 + 32; /* record, handshake header, version, random */
	pos += 1 + dpi_byte(p, pos); /* session id */
	if (pos + 2 > len)
		return -1;
	pos += 2 + dpi_be16(p, pos); /* cipher suites */
	if (pos + 1 > len)
		return -1;
	pos += 1 + dpi_byte(p, pos); /* compression methods */
	if (pos + 2 > len)
		return -1;
	ext_end = pos + 2 + dpi_be16(p, pos);
	pos += 2;
	if (ext_end > len)
		ext_end = len;
	for (i = 0; i < TLS_MAX_EXT; i++) {
		__u16 type, elen;

		if (pos + 4 > ext_end)
			return -1;
		type = dpi_be16(p, pos);
		elen = dpi_be16(p, pos + 2);
		pos += 4;
		if (type == 0) {
			/* list length(2), name type(1), name length(2) */
			if (pos + 5 > ext_end || dpi_byte(p, pos + 2) != 0 ||
			    pos + 5 + dpi_be16(p, pos + 3) > ext_end)
				return -1; /* a name cut short is no name */
			dpi_copy_name(p, pos + 5, dpi_be16(p, pos + 3), ext_end,
				      fs->name);
			return DPI_TLS;
		}
		pos += elen;
	}
	return -1;
}

/* RFC 4253, 4.2: each end's first line is "SSH-protoversion-
 * softwareversion [SP comments]" and CR LF. A server may send other lines
 * before it; such a flow fails inspection.
 */
static __always_inline int dpi_ssh(struct dpi_buf *p, __u32 len,
				   struct flowmon_rec *fs)
{
	if (len < 9 || dpi_byte(p, 0) != 'S' || dpi_byte(p, 1) != 'S' ||
	    dpi_byte(p, 2) != 'H' || dpi_byte(p, 3) != '-')
		return -1;
	dpi_copy_name(p, 0, FLOWMON_NAME_LEN, len, fs->name);
	return DPI_SSH;
}

/* Find the packet's flow again and claim it for inspection. */
static __always_inline struct flowmon_rec *dpi_claim(struct xdp_md *ctx,
						     struct pkt_state *st)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct flowmon_rec *fs;
	struct flowmon_key key;

	if (build_key(data, data_end, st, &key, ctx->ingress_ifindex))
		return NULL;
	frag_track(st, &key);
	fs = bpf_map_lookup_elem(&flows, &key);
	if (!fs || __sync_val_compare_and_swap(&fs->dpi_state, DPI_STATE_NEW,
					       DPI_STATE_BUSY) != DPI_STATE_NEW)
		return NULL;
	return fs;
}

/* Copy the payload into the per-CPU buffer; returns its length or 0. */
static __always_inline __u32 dpi_load(struct xdp_md *ctx, struct pkt_state *st,
				      struct dpi_buf *p)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = st->l3_off + st->ip_len - st->payload_off;
	__u64 pkt_len = data_end - data;

	barrier_var(pkt_len); /* keep the subtraction 64-bit for the verifier */
	if (pkt_len <= st->payload_off)
		return 0;
	pkt_len -= st->payload_off;
	if (pkt_len < len)
		len = pkt_len; /* snap length cut the payload */
	if (len > FLOWMON_DPI_BUF)
		len = FLOWMON_DPI_BUF;
	if (len < 1 || len > FLOWMON_DPI_BUF)
		return 0;
	if (bpf_xdp_load_bytes(ctx, st->payload_off, p->b, len))
		return 0;
	return len;
}

static __always_inline int dpi_run(struct xdp_md *ctx, int kind)
{
	struct pkt_state *st = state_get(ctx);
	struct flowmon_rec *fs;
	struct dpi_buf *p;
	__u32 zero = 0, len;
	int res = -1;

	if (!st)
		return XDP_PASS;
	p = bpf_map_lookup_elem(&dpi_scratch, &zero);
	if (!p)
		return XDP_PASS;
	fs = dpi_claim(ctx, st);
	if (!fs)
		return XDP_PASS;
	len = dpi_load(ctx, st, p);
	if (len && kind == DPI_DNS)
		res = dpi_dns(p, len, fs);
	else if (len && kind == DPI_HTTP)
		res = dpi_http(p, len, fs);
	else if (len && kind == DPI_TLS)
		res = dpi_tls(p, len, fs);
	else if (len && kind == DPI_SSH)
		res = dpi_ssh(p, len, fs);
	if (res < 0) {
		stat_inc(STAT_DPI_FAILED);
		fs->dpi_state = DPI_STATE_FAILED;
		return XDP_PASS;
	}
	fs->dpi_kind = res;
	stat_inc(STAT_DPI_DONE);
	__sync_lock_test_and_set(&fs->dpi_state, DPI_STATE_DONE);
	return XDP_PASS;
}

SEC("xdp")
int flowmon_dns(struct xdp_md *ctx)
{
	return dpi_run(ctx, DPI_DNS);
}

SEC("xdp")
int flowmon_http(struct xdp_md *ctx)
{
	return dpi_run(ctx, DPI_HTTP);
}

SEC("xdp")
int flowmon_tls(struct xdp_md *ctx)
{
	return dpi_run(ctx, DPI_TLS);
}

SEC("xdp")
int flowmon_ssh(struct xdp_md *ctx)
{
	return dpi_run(ctx, DPI_SSH);
}

#endif /* __FLOWMON_DPI_BPF_H */
