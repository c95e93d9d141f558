// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* ipfix_encode.c: IPFIX (RFC 7011) wire format for flowmon's flows: the two
 * templates, data records, message headers and collector addresses. Pure
 * functions, no socket and no clock, so the tests can check every byte.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include "core/core.h"
#include "export/ipfix.h"

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
	IE_TCP_SYN_TOTAL_COUNT = 218,
	IE_TCP_RST_TOTAL_COUNT = 220,
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

#define FLOW_FIELD(ie, len, member) { ie, len, FLOW_NUM(member) },

static const struct ipfix_field flow_fields[] = { SF_IPFIX_FLOW_FIELDS(
	FLOW_FIELD) };

_Static_assert(
	SF_IPFIX_HDR_LEN + SF_IPFIX_TMPL_SET_LEN + SF_IPFIX_SET_HDR_LEN +
			SF_IPFIX_REC_V6_LEN <=
		SF_IPFIX_MTU_MIN,
	"a message of the smallest MTU must hold the templates and a record");

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

int sf_ipfix_flow_template(const struct sf_flow *f, size_t *rec_len)
{
	const struct ipfix_tmpl *t = tmpl_for(f);

	if (!t)
		return -EINVAL;
	*rec_len = t->rec_len;
	return t->id;
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

void sf_ipfix_encode_set_header(uint8_t *buf, uint16_t set_id, uint16_t len)
{
	buf = put_be(buf, set_id, 2);
	put_be(buf, len, 2);
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
	sf_ipfix_encode_set_header(buf, SF_IPFIX_TEMPLATE_SET_ID,
				   SF_IPFIX_TMPL_SET_LEN);
	p = put_template(buf + SF_IPFIX_SET_HDR_LEN, &tmpl_v4);
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

/* ICMP type and code travel in the destination port, and the source port
 * (the echo identifier) is sent as 0: nfdump's collector (1.7.1 and later,
 * "fix odd CISCO behaviour for ICMP port/type in src port") otherwise takes
 * a non-zero source port, byte-swapped, as the type and code.
 */
int sf_ipfix_encode_record(const struct sf_flow *f, uint8_t *buf, size_t len)
{
	const struct ipfix_tmpl *t = tmpl_for(f);
	struct sf_flow icmp;

	if (!t)
		return -EINVAL;
	if (len < t->rec_len)
		return -ENOSPC;
	if (f->proto == IPPROTO_ICMP || f->proto == IPPROTO_ICMPV6) {
		icmp = *f;
		icmp.sport = 0;
		f = &icmp;
	}
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
