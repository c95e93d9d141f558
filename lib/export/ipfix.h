/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* ipfix.h: IPFIX (RFC 7011) exporter over UDP for flowmon's flows, plus the
 * socket-free encoders it is built from, so tests can check the bytes.
 * Functions return 0 (or a length) or a negative errno.
 */
#ifndef __SYSFLOW_IPFIX_H
#define __SYSFLOW_IPFIX_H

#include <stddef.h>
#include <stdint.h>
#include <sysflow/flowmon.h>

#define SF_IPFIX_VERSION 10
#define SF_IPFIX_PORT "4739" /* RFC 7011, section 10.3.4 */
#define SF_IPFIX_TEMPLATE_SET_ID 2
#define SF_IPFIX_TMPL_V4 256
#define SF_IPFIX_TMPL_V6 257
#define SF_IPFIX_HDR_LEN 16 /* message header */
#define SF_IPFIX_SET_HDR_LEN 4

/* The fields of both templates after the two addresses, in the order they
 * are sent: F(information element, bytes on the wire, struct sf_flow
 * member). The one list: ipfix_encode.c builds the templates and records
 * from it, and the lengths below are summed from it. For IPv6,
 * minimumTTL/maximumTTL carry the hop limit.
 */
#define SF_IPFIX_FLOW_FIELDS(F)                        \
	F(IE_SOURCE_TRANSPORT_PORT, 2, sport)          \
	F(IE_DESTINATION_TRANSPORT_PORT, 2, dport)     \
	F(IE_PROTOCOL_IDENTIFIER, 1, proto)            \
	F(IE_IP_CLASS_OF_SERVICE, 1, tos)              \
	F(IE_TCP_CONTROL_BITS, 2, tcp_flags)           \
	F(IE_OCTET_DELTA_COUNT, 8, bytes)              \
	F(IE_PACKET_DELTA_COUNT, 8, packets)           \
	F(IE_FLOW_START_MILLISECONDS, 8, start_ms)     \
	F(IE_FLOW_END_MILLISECONDS, 8, end_ms)         \
	F(IE_INGRESS_INTERFACE, 4, ifindex)            \
	F(IE_VLAN_ID, 2, vlan_id)                      \
	F(IE_DOT1Q_CUSTOMER_VLAN_ID, 2, inner_vlan_id) \
	F(IE_FLOW_END_REASON, 1, end_reason)           \
	F(IE_MINIMUM_TTL, 1, min_ttl)                  \
	F(IE_MAXIMUM_TTL, 1, max_ttl)                  \
	F(IE_MINIMUM_IP_TOTAL_LENGTH, 8, min_ip_len)   \
	F(IE_MAXIMUM_IP_TOTAL_LENGTH, 8, max_ip_len)   \
	F(IE_TCP_SYN_TOTAL_COUNT, 8, tcp_syns)         \
	F(IE_TCP_RST_TOTAL_COUNT, 8, tcp_rsts)

#define SF_IPFIX_FIELD_LEN_(ie, len, member) +(len)
#define SF_IPFIX_FIELD_ONE_(ie, len, member) +1
#define SF_IPFIX_FLOW_LEN (0 SF_IPFIX_FLOW_FIELDS(SF_IPFIX_FIELD_LEN_))
#define SF_IPFIX_FLOW_NFIELDS (0 SF_IPFIX_FLOW_FIELDS(SF_IPFIX_FIELD_ONE_))

/* One data record of template 256 (IPv4) and of template 257 (IPv6). */
#define SF_IPFIX_REC_V4_LEN (2 * 4 + SF_IPFIX_FLOW_LEN)
#define SF_IPFIX_REC_V6_LEN (2 * 16 + SF_IPFIX_FLOW_LEN)
/* The set holding both templates: a set header, then per template its ID,
 * its field count and an (IE, length) pair per field.
 */
#define SF_IPFIX_TMPL_SET_LEN \
	(SF_IPFIX_SET_HDR_LEN + 2 * (4 + 4 * (2 + SF_IPFIX_FLOW_NFIELDS)))
#define SF_IPFIX_MTU_MIN 512 /* header, templates and a v6 record fit */
#define SF_IPFIX_MTU_MAX 65535 /* the header's length field is 16 bits */

struct sf_ipfix;

struct sf_ipfix_opts {
	const char *dest; /* "host:port", "[v6]:port"; port 4739 if omitted */
	uint32_t domain_id; /* observation domain; 0 means 1 */
	uint32_t template_refresh_s; /* 0 means 600 */
	size_t mtu; /* max message bytes; 0 means 1400 */
};

struct sf_ipfix_stats {
	uint64_t messages; /* messages sent */
	uint64_t records; /* data records in those messages */
	uint64_t template_sets; /* template sets in those messages */
	uint64_t send_errors; /* messages that could not be sent */
	uint64_t records_lost; /* data records in those messages */
};

/* Where messages go and what time it is; sf_ipfix_open() uses a UDP socket
 * and the wall clock, tests pass their own.
 */
struct sf_ipfix_io {
	int (*send)(void *ctx, const void *msg, size_t len); /* 0 or -errno */
	uint64_t (*now)(void *ctx); /* epoch seconds */
	void *ctx;
};

/* Resolve o->dest with getaddrinfo and connect a UDP socket to the first
 * address that takes it. On failure returns NULL, sets *err and logs an
 * error naming the destination.
 */
struct sf_ipfix *sf_ipfix_open(const struct sf_ipfix_opts *o, int *err);

/* The same exporter, sending through io; o->dest only names it in logs. */
struct sf_ipfix *sf_ipfix_open_io(const struct sf_ipfix_opts *o,
				  const struct sf_ipfix_io *io, int *err);

/* Buffer one data record, first sending the buffered message if the record
 * would not fit in the MTU. A failed send is counted in the stats and
 * logged, never returned: the next message is tried as usual. Returns
 * -EINVAL for a flow that is neither IPv4 nor IPv6.
 */
int sf_ipfix_add(struct sf_ipfix *x, const struct sf_flow *f);

/* Send the buffered records, if any. Send failures as for sf_ipfix_add(). */
int sf_ipfix_flush(struct sf_ipfix *x);

/* Flush, close the socket and free x (NULL is fine). */
void sf_ipfix_close(struct sf_ipfix *x);

void sf_ipfix_get_stats(const struct sf_ipfix *x, struct sf_ipfix_stats *st);

/* ---- encoders (ipfix_encode.c: no socket, no clock) ---- */

/* Split "host:port", "[v6]:port", "host", "[v6]" or a bare IPv6 address
 * into host and port ("4739" when omitted); -EINVAL on a malformed
 * destination or a port outside 1-65535, -ENAMETOOLONG if host won't fit.
 */
int sf_ipfix_parse_dest(const char *dest, char *host, size_t host_len,
			char port[6]);

/* The template a flow is sent with (SF_IPFIX_TMPL_V4 or _V6), with the
 * length of its data record in *rec_len; -EINVAL if neither IPv4 nor IPv6.
 */
int sf_ipfix_flow_template(const struct sf_flow *f, size_t *rec_len);

/* Write the 16-byte message header. */
void sf_ipfix_encode_header(uint8_t *buf, uint16_t len, uint32_t export_time,
			    uint32_t seq, uint32_t domain_id);

/* Write a 4-byte set header; len includes it. */
void sf_ipfix_encode_set_header(uint8_t *buf, uint16_t set_id, uint16_t len);

/* Write the template set (ID 2) holding templates 256 and 257. Returns
 * SF_IPFIX_TMPL_SET_LEN, or -ENOSPC if len is smaller.
 */
int sf_ipfix_encode_templates(uint8_t *buf, size_t len);

/* Write one data record for template 256 or 257 (by f->ip_version). For
 * ICMP and ICMPv6 the destination port carries type << 8 | code and the
 * source port is sent as 0 (see ipfix.c). Returns its length, -EINVAL for
 * another IP version, -ENOSPC if it does not fit in len.
 */
int sf_ipfix_encode_record(const struct sf_flow *f, uint8_t *buf, size_t len);

#endif /* __SYSFLOW_IPFIX_H */
