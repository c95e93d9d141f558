// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* flow_json.c: a flow as a JSON object, keys named after IPFIX
 * information elements.
 */
#include <net/if.h>
#include "core/core.h"
#include "export/json.h"
#include "flow_json.h"

static void add_addrs(json_t *o, const struct sf_flow *f)
{
	char buf[64];
	bool v6 = f->ip_version == 6;

	json_object_set_new(o, v6 ? "sourceIPv6Address" : "sourceIPv4Address",
			    json_string(sf_ip_str(f->ip_version, f->saddr, buf,
						  sizeof(buf))));
	json_object_set_new(
		o, v6 ? "destinationIPv6Address" : "destinationIPv4Address",
		json_string(
			sf_ip_str(f->ip_version, f->daddr, buf, sizeof(buf))));
}

static void add_dpi(json_t *o, const struct sf_flow *f)
{
	switch (f->dpi_kind) {
	case SF_DPI_DNS:
		sf_json_set_str_nonempty(o, "dnsQueryName", f->name);
		json_object_set_new(o, "dnsQueryType",
				    json_integer(f->dns_qtype));
		json_object_set_new(o, "dnsResponseCode",
				    json_integer(f->dns_rcode));
		break;
	case SF_DPI_HTTP:
		sf_json_set_str_nonempty(o, "httpRequestMethod",
					 f->http_method);
		sf_json_set_str_nonempty(o, "httpHost", f->name);
		break;
	case SF_DPI_TLS:
		sf_json_set_str_nonempty(o, "tlsServerName", f->name);
		break;
	case SF_DPI_SSH:
		sf_json_set_str_nonempty(o, "sshIdentification", f->name);
		break;
	}
}

#define SET_INT(o, k, v) json_object_set_new(o, k, json_integer(v))

json_t *sf_flow_json(const struct sf_flow *f)
{
	json_t *o = json_object();
	char ifname[IF_NAMESIZE];

	if (!o)
		return NULL;
	add_addrs(o, f);
	SET_INT(o, "sourceTransportPort", f->sport);
	SET_INT(o, "destinationTransportPort", f->dport);
	SET_INT(o, "protocolIdentifier", f->proto);
	SET_INT(o, "ipVersion", f->ip_version);
	SET_INT(o, "packetDeltaCount", f->packets);
	SET_INT(o, "octetDeltaCount", f->bytes);
	SET_INT(o, "flowStartMilliseconds", f->start_ms);
	SET_INT(o, "flowEndMilliseconds", f->end_ms);
	SET_INT(o, "tcpControlBits", f->tcp_flags);
	if (f->end_reason)
		SET_INT(o, "flowEndReason", f->end_reason);
	SET_INT(o, "ingressInterface", f->ifindex);
	if (f->ifindex)
		json_object_set_new(
			o, "interfaceName",
			json_string(sf_iface_name(f->ifindex, ifname)));
	SET_INT(o, "ipClassOfService", f->tos);
	SET_INT(o, "minimumTTL", f->min_ttl);
	SET_INT(o, "maximumTTL", f->max_ttl);
	SET_INT(o, "minimumIpTotalLength", f->min_ip_len);
	SET_INT(o, "maximumIpTotalLength", f->max_ip_len);
	SET_INT(o, "vlanId", f->vlan_id);
	if (f->inner_vlan_id)
		SET_INT(o, "dot1qCustomerVlanId", f->inner_vlan_id);
	if (f->proto == 6) {
		SET_INT(o, "minimumTcpWindow", f->min_tcp_window);
		SET_INT(o, "maximumTcpWindow", f->max_tcp_window);
		SET_INT(o, "tcpSynTotalCount", f->tcp_syns);
		SET_INT(o, "tcpRstTotalCount", f->tcp_rsts);
	}
	add_dpi(o, f);
	return o;
}
