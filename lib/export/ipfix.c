// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* ipfix.c: IPFIX (RFC 7011) export of flowmon's flows to a UDP collector. */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include "core/core.h"
#include "export/ipfix.h"

#define DEFAULT_DOMAIN_ID 1
#define DEFAULT_REFRESH_S 600
#define DEFAULT_MTU 1400

/* Information Element IDs (IANA IPFIX registry). */
enum ipfix_ie {
	IE_OCTET_DELTA_COUNT = 1,
	IE_PACKET_DELTA_COUNT = 2,
	IE_PROTOCOL_IDENTIFIER = 4,
	IE_IP_CLASS_OF_SERVICE = 5,
	IE_TCP_CONTROL_BITS = 6,
	IE_SOURCE_TRANSPORT_PORT = 7,
	IE_SOURCE_IPV4_ADDRESS = 8,
	IE_INGRESS_INTERFACE = 10,
	IE_DESTINATION_TRANSPORT_PORT = 11,
	IE_DESTINATION_IPV4_ADDRESS = 12,
	IE_MINIMUM_IP_TOTAL_LENGTH = 25,
	IE_MAXIMUM_IP_TOTAL_LENGTH = 26,
	IE_SOURCE_IPV6_ADDRESS = 27,
	IE_DESTINATION_IPV6_ADDRESS = 28,
	IE_MINIMUM_TTL = 52,
	IE_MAXIMUM_TTL = 53,
	IE_VLAN_ID = 58,
	IE_FLOW_END_REASON = 136,
	IE_FLOW_START_MILLISECONDS = 152,
	IE_FLOW_END_MILLISECONDS = 153,
	IE_DOT1Q_CUSTOMER_VLAN_ID = 245,
};

/* One template field and where its value lives in struct sf_flow: a
 * number of member_size bytes sent as len bytes, or (member_size 0) len
 * bytes copied as they are.
 */
struct ipfix_field {
	uint16_t ie;
	uint16_t len;
	uint16_t offset;
	uint16_t member_size;
};

/* The offset and member_size of a numeric or a raw member. */
#define FLOW_NUM(m) \
	offsetof(struct sf_flow, m), sizeof(((struct sf_flow *)0)->m)
#define FLOW_RAW(m) offsetof(struct sf_flow, m), 0

static const struct ipfix_field addr_v4[] = {
	{ IE_SOURCE_IPV4_ADDRESS, 4, FLOW_RAW(saddr) },
	{ IE_DESTINATION_IPV4_ADDRESS, 4, FLOW_RAW(daddr) },
};

static const struct ipfix_field addr_v6[] = {
	{ IE_SOURCE_IPV6_ADDRESS, 16, FLOW_RAW(saddr) },
	{ IE_DESTINATION_IPV6_ADDRESS, 16, FLOW_RAW(daddr) },
};

/* After the addresses, the same for both templates; for IPv6,
 * minimumTTL/maximumTTL carry the hop limit.
 */
static const struct ipfix_field flow_fields[] = {
	{ IE_SOURCE_TRANSPORT_PORT, 2, FLOW_NUM(sport) },
	{ IE_DESTINATION_TRANSPORT_PORT, 2, FLOW_NUM(dport) },
	{ IE_PROTOCOL_IDENTIFIER, 1, FLOW_NUM(proto) },
	{ IE_IP_CLASS_OF_SERVICE, 1, FLOW_NUM(tos) },
	{ IE_TCP_CONTROL_BITS, 2, FLOW_NUM(tcp_flags) },
	{ IE_OCTET_DELTA_COUNT, 8, FLOW_NUM(bytes) },
	{ IE_PACKET_DELTA_COUNT, 8, FLOW_NUM(packets) },
	{ IE_FLOW_START_MILLISECONDS, 8, FLOW_NUM(start_ms) },
	{ IE_FLOW_END_MILLISECONDS, 8, FLOW_NUM(end_ms) },
	{ IE_INGRESS_INTERFACE, 4, FLOW_NUM(ifindex) },
	{ IE_VLAN_ID, 2, FLOW_NUM(vlan_id) },
	{ IE_DOT1Q_CUSTOMER_VLAN_ID, 2, FLOW_NUM(inner_vlan_id) },
	{ IE_FLOW_END_REASON, 1, FLOW_NUM(end_reason) },
	{ IE_MINIMUM_TTL, 1, FLOW_NUM(min_ttl) },
	{ IE_MAXIMUM_TTL, 1, FLOW_NUM(max_ttl) },
	{ IE_MINIMUM_IP_TOTAL_LENGTH, 8, FLOW_NUM(min_ip_len) },
	{ IE_MAXIMUM_IP_TOTAL_LENGTH, 8, FLOW_NUM(max_ip_len) },
};

/* A template is its two address fields followed by flow_fields. */
struct ipfix_tmpl {
	uint16_t id;
	uint16_t rec_len;
	const struct ipfix_field *addr;
};

static const struct ipfix_tmpl tmpl_v4 = {
	.id = SF_IPFIX_TMPL_V4,
	.rec_len = SF_IPFIX_REC_V4_LEN,
	.addr = addr_v4,
};

static const struct ipfix_tmpl tmpl_v6 = {
	.id = SF_IPFIX_TMPL_V6,
	.rec_len = SF_IPFIX_REC_V6_LEN,
	.addr = addr_v6,
};

struct sf_ipfix {
	struct sf_ipfix_io io;
	int fd;
	char *dest;
	uint32_t domain_id;
	uint32_t refresh_s;
	size_t mtu;
	uint8_t *buf; /* the message being built, mtu bytes */
	size_t len; /* bytes used; 0 when no message is started */
	size_t set_off; /* header of the open data set; 0 when none */
	uint16_t set_id;
	uint32_t nr_recs; /* data records in the message */
	uint32_t seq; /* data records in earlier messages, mod 2^32 */
	bool msg_tmpl; /* the message carries the templates */
	bool tmpl_sent; /* templates sent and no send failed since */
	uint64_t tmpl_time;
	uint64_t fail_streak; /* messages failed in a row */
	struct sf_ipfix_stats st;
};

/* ---- encoders ---- */

static uint8_t *put_be(uint8_t *p, uint64_t v, unsigned int len)
{
	for (unsigned int i = len; i > 0; i--) {
		p[i - 1] = v & 0xff;
		v >>= 8;
	}
	return p + len;
}

static uint64_t load_num(const uint8_t *p, unsigned int size)
{
	uint64_t v64;
	uint32_t v32;
	uint16_t v16;

	switch (size) {
	case 1:
		return *p;
	case 2:
		memcpy(&v16, p, 2);
		return v16;
	case 4:
		memcpy(&v32, p, 4);
		return v32;
	default:
		memcpy(&v64, p, 8);
		return v64;
	}
}

static const struct ipfix_tmpl *tmpl_for(const struct sf_flow *f)
{
	if (f->ip_version == 4)
		return &tmpl_v4;
	if (f->ip_version == 6)
		return &tmpl_v6;
	return NULL;
}

void sf_ipfix_encode_header(uint8_t *buf, uint16_t len, uint32_t export_time,
			    uint32_t seq, uint32_t domain_id)
{
	buf = put_be(buf, SF_IPFIX_VERSION, 2);
	buf = put_be(buf, len, 2);
	buf = put_be(buf, export_time, 4);
	buf = put_be(buf, seq, 4);
	put_be(buf, domain_id, 4);
}

static uint8_t *put_field_specs(uint8_t *p, const struct ipfix_field *fl,
				size_t n)
{
	for (size_t i = 0; i < n; i++) {
		p = put_be(p, fl[i].ie, 2);
		p = put_be(p, fl[i].len, 2);
	}
	return p;
}

static uint8_t *put_template(uint8_t *p, const struct ipfix_tmpl *t)
{
	p = put_be(p, t->id, 2);
	p = put_be(p, 2 + ARRAY_SIZE(flow_fields), 2);
	p = put_field_specs(p, t->addr, 2);
	return put_field_specs(p, flow_fields, ARRAY_SIZE(flow_fields));
}

int sf_ipfix_encode_templates(uint8_t *buf, size_t len)
{
	uint8_t *p;

	if (len < SF_IPFIX_TMPL_SET_LEN)
		return -ENOSPC;
	p = put_be(buf, SF_IPFIX_TEMPLATE_SET_ID, 2);
	p = put_be(p, SF_IPFIX_TMPL_SET_LEN, 2);
	p = put_template(p, &tmpl_v4);
	put_template(p, &tmpl_v6);
	return SF_IPFIX_TMPL_SET_LEN;
}

static uint8_t *put_values(uint8_t *p, const struct sf_flow *f,
			   const struct ipfix_field *fl, size_t n)
{
	const uint8_t *flow = (const uint8_t *)f;

	for (size_t i = 0; i < n; i++) {
		if (fl[i].member_size) {
			p = put_be(p,
				   load_num(flow + fl[i].offset,
					    fl[i].member_size),
				   fl[i].len);
		} else {
			memcpy(p, flow + fl[i].offset, fl[i].len);
			p += fl[i].len;
		}
	}
	return p;
}

int sf_ipfix_encode_record(const struct sf_flow *f, uint8_t *buf, size_t len)
{
	const struct ipfix_tmpl *t = tmpl_for(f);

	if (!t)
		return -EINVAL;
	if (len < t->rec_len)
		return -ENOSPC;
	buf = put_values(buf, f, t->addr, 2);
	put_values(buf, f, flow_fields, ARRAY_SIZE(flow_fields));
	return t->rec_len;
}

/* ---- destinations ---- */

static int parse_port(const char *s, char port[6])
{
	unsigned long v;
	char *end;

	if (!s) {
		strcpy(port, SF_IPFIX_PORT);
		return 0;
	}
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	v = strtoul(s, &end, 10);
	if (*end || v == 0 || v > 65535)
		return -EINVAL;
	snprintf(port, 6, "%lu", v);
	return 0;
}

int sf_ipfix_parse_dest(const char *dest, char *host, size_t host_len,
			char port[6])
{
	const char *h = dest, *colon, *p = NULL;
	size_t len;

	if (!dest || !*dest)
		return -EINVAL;
	colon = strrchr(dest, ':');
	if (*dest == '[') {
		h = dest + 1;
		colon = strchr(h, ']');
		if (!colon || (colon[1] && colon[1] != ':'))
			return -EINVAL;
		len = colon - h;
		p = colon[1] ? colon + 2 : NULL;
	} else if (colon && colon == strchr(dest, ':')) {
		len = colon - dest;
		p = colon + 1;
	} else {
		len = strlen(dest); /* no port, or a bare IPv6 address */
	}
	if (!len)
		return -EINVAL;
	if (len >= host_len)
		return -ENAMETOOLONG;
	memcpy(host, h, len);
	host[len] = '\0';
	return parse_port(p, port);
}

static int gai_errno(int gai)
{
	switch (gai) {
	case EAI_SYSTEM:
		return errno ? -errno : -EIO;
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_AGAIN:
		return -EAGAIN;
	default:
		return -ENXIO;
	}
}

/* A UDP socket connected to ai, or -errno. */
static int try_connect(const struct addrinfo *ai)
{
	int fd, err;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0)
		return -errno;
	if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
		return fd;
	err = -errno;
	close(fd);
	return err;
}

/* Resolve dest and return a connected UDP socket, or -errno. */
static int collector_connect(const char *dest)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_DGRAM,
		.ai_flags = AI_NUMERICSERV,
	};
	struct addrinfo *res = NULL, *ai;
	char host[NI_MAXHOST], port[6];
	int ret;

	ret = sf_ipfix_parse_dest(dest, host, sizeof(host), port);
	if (ret) {
		pr_err("invalid IPFIX collector '%s': expected host[:port] or [ipv6-address][:port], port 1-65535\n",
		       dest);
		return ret;
	}
	ret = getaddrinfo(host, port, &hints, &res);
	if (ret) {
		pr_err("cannot resolve IPFIX collector '%s': %s\n", dest,
		       gai_strerror(ret));
		return gai_errno(ret);
	}
	ret = -EADDRNOTAVAIL;
	for (ai = res; ai && ret < 0; ai = ai->ai_next)
		ret = try_connect(ai);
	if (ret < 0)
		pr_err("cannot connect to IPFIX collector '%s': %s (%d)\n",
		       dest, strerror(-ret), ret);
	freeaddrinfo(res);
	return ret;
}

/* ---- messages ---- */

static bool templates_due(const struct sf_ipfix *x, uint64_t now)
{
	/* a clock that stepped back counts as due */
	return !x->tmpl_sent || now < x->tmpl_time ||
	       now - x->tmpl_time >= x->refresh_s;
}

static void note_sent(struct sf_ipfix *x, uint32_t nr_recs, bool tmpl,
		      uint64_t now)
{
	if (x->fail_streak)
		pr_info("IPFIX export to '%s' works again after %llu failed messages\n",
			x->dest, (unsigned long long)x->fail_streak);
	x->fail_streak = 0;
	x->st.messages++;
	x->st.records += nr_recs;
	if (tmpl) {
		x->st.template_sets++;
		x->tmpl_sent = true;
		x->tmpl_time = now;
	}
}

/* Log the first failure of a run; the records are lost, and the next
 * message carries the templates again in case the collector restarted.
 */
static void note_failed(struct sf_ipfix *x, int err, uint32_t nr_recs)
{
	x->st.send_errors++;
	x->st.records_lost += nr_recs;
	x->tmpl_sent = false;
	if (!x->fail_streak++)
		pr_warn("cannot send IPFIX message to '%s': %s (%d)%s; %u flow records lost, retrying with the next message\n",
			x->dest, strerror(-err), err,
			err == -ECONNREFUSED ? ", is the collector running?" :
					       "",
			nr_recs);
	else
		pr_debug("IPFIX send to '%s' failed again: %s\n", x->dest,
			 strerror(-err));
}

/* The sequence number counts every data record handed to the network, so
 * the collector sees records lost to a failed send as a gap.
 */
static void transmit(struct sf_ipfix *x, uint8_t *msg, size_t len,
		     uint32_t nr_recs, bool tmpl, uint64_t now)
{
	int err;

	sf_ipfix_encode_header(msg, len, now, x->seq, x->domain_id);
	err = x->io.send(x->io.ctx, msg, len);
	x->seq += nr_recs;
	if (err)
		note_failed(x, err, nr_recs);
	else
		note_sent(x, nr_recs, tmpl, now);
}

static void set_close(struct sf_ipfix *x)
{
	if (!x->set_off)
		return;
	put_be(x->buf + x->set_off + 2, x->len - x->set_off, 2);
	x->set_off = 0;
	x->set_id = 0;
}

static void set_open(struct sf_ipfix *x, uint16_t id)
{
	x->set_off = x->len;
	x->set_id = id;
	put_be(x->buf + x->len, id, 2);
	x->len += SF_IPFIX_SET_HDR_LEN;
}

static void msg_start(struct sf_ipfix *x)
{
	x->len = SF_IPFIX_HDR_LEN;
	x->nr_recs = 0;
	x->msg_tmpl = templates_due(x, x->io.now(x->io.ctx));
	if (x->msg_tmpl)
		x->len += sf_ipfix_encode_templates(x->buf + x->len,
						    x->mtu - x->len);
}

/* Templates fell due while records were buffered: put them in front of the
 * data sets, or send them alone first if there is no room.
 */
static void msg_add_templates(struct sf_ipfix *x, uint64_t now)
{
	uint8_t alone[SF_IPFIX_HDR_LEN + SF_IPFIX_TMPL_SET_LEN];
	uint8_t *data = x->buf + SF_IPFIX_HDR_LEN;

	if (x->len + SF_IPFIX_TMPL_SET_LEN <= x->mtu) {
		memmove(data + SF_IPFIX_TMPL_SET_LEN, data,
			x->len - SF_IPFIX_HDR_LEN);
		sf_ipfix_encode_templates(data, SF_IPFIX_TMPL_SET_LEN);
		x->len += SF_IPFIX_TMPL_SET_LEN;
		x->msg_tmpl = true;
		return;
	}
	sf_ipfix_encode_templates(alone + SF_IPFIX_HDR_LEN,
				  SF_IPFIX_TMPL_SET_LEN);
	transmit(x, alone, sizeof(alone), 0, true, now);
}

static void msg_send(struct sf_ipfix *x)
{
	uint64_t now = x->io.now(x->io.ctx);

	set_close(x);
	if (!x->msg_tmpl && templates_due(x, now))
		msg_add_templates(x, now);
	transmit(x, x->buf, x->len, x->nr_recs, x->msg_tmpl, now);
	x->len = 0;
	x->nr_recs = 0;
	x->msg_tmpl = false;
}

int sf_ipfix_add(struct sf_ipfix *x, const struct sf_flow *f)
{
	const struct ipfix_tmpl *t = tmpl_for(f);
	size_t need;
	int ret;

	if (!t)
		return -EINVAL;
	need = t->rec_len + (x->set_id == t->id ? 0 : SF_IPFIX_SET_HDR_LEN);
	if (x->len && x->len + need > x->mtu)
		msg_send(x);
	if (!x->len)
		msg_start(x);
	if (x->set_id != t->id) {
		set_close(x);
		set_open(x, t->id);
	}
	ret = sf_ipfix_encode_record(f, x->buf + x->len, x->mtu - x->len);
	if (ret < 0)
		return ret; /* cannot happen with mtu >= SF_IPFIX_MTU_MIN */
	x->len += ret;
	x->nr_recs++;
	return 0;
}

int sf_ipfix_flush(struct sf_ipfix *x)
{
	if (x->len)
		msg_send(x);
	return 0;
}

/* ---- open and close ---- */

static int sock_send(void *ctx, const void *msg, size_t len)
{
	struct sf_ipfix *x = ctx;
	ssize_t n;

	do {
		n = send(x->fd, msg, len, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

static uint64_t wall_now(void *ctx)
{
	(void)ctx;
	return time(NULL);
}

static void ipfix_free(struct sf_ipfix *x)
{
	if (x->fd >= 0)
		close(x->fd);
	free(x->buf);
	free(x->dest);
	free(x);
}

static int check_opts(const struct sf_ipfix_opts *o, size_t mtu)
{
	if (mtu < SF_IPFIX_MTU_MIN || mtu > SF_IPFIX_MTU_MAX) {
		pr_err("IPFIX message size %zu for '%s' is out of range (%d-%d)\n",
		       mtu, o->dest ? o->dest : "", SF_IPFIX_MTU_MIN,
		       SF_IPFIX_MTU_MAX);
		return -EINVAL;
	}
	return 0;
}

struct sf_ipfix *sf_ipfix_open_io(const struct sf_ipfix_opts *o,
				  const struct sf_ipfix_io *io, int *err)
{
	size_t mtu = o->mtu ? o->mtu : DEFAULT_MTU;
	struct sf_ipfix *x;

	*err = check_opts(o, mtu);
	if (*err)
		return NULL;
	*err = -ENOMEM;
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->fd = -1;
	x->io = *io;
	x->mtu = mtu;
	x->domain_id = o->domain_id ? o->domain_id : DEFAULT_DOMAIN_ID;
	x->refresh_s = o->template_refresh_s ? o->template_refresh_s :
					       DEFAULT_REFRESH_S;
	x->dest = strdup(o->dest ? o->dest : "(custom output)");
	x->buf = malloc(mtu);
	if (!x->dest || !x->buf)
		goto cleanup;
	*err = 0;
	return x;
cleanup:
	ipfix_free(x);
	return NULL;
}

struct sf_ipfix *sf_ipfix_open(const struct sf_ipfix_opts *o, int *err)
{
	struct sf_ipfix_io io = { .send = sock_send, .now = wall_now };
	struct sf_ipfix *x;
	int fd;

	if (!o->dest || !*o->dest) {
		pr_err("no IPFIX collector given (expected host[:port])\n");
		*err = -EINVAL;
		return NULL;
	}
	x = sf_ipfix_open_io(o, &io, err);
	if (!x)
		return NULL;
	fd = collector_connect(o->dest);
	if (fd < 0) {
		*err = fd;
		ipfix_free(x);
		return NULL;
	}
	x->fd = fd;
	x->io.ctx = x;
	pr_debug("exporting IPFIX to '%s', domain %u, MTU %zu\n", x->dest,
		 x->domain_id, x->mtu);
	return x;
}

void sf_ipfix_close(struct sf_ipfix *x)
{
	if (!x)
		return;
	sf_ipfix_flush(x);
	ipfix_free(x);
}

void sf_ipfix_get_stats(const struct sf_ipfix *x, struct sf_ipfix_stats *st)
{
	*st = x->st;
}
