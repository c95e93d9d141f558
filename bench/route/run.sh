#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bench/route/run.sh: the TC fast path of `sysflow route` against the
# kernel's own forwarding with equivalent `ip rule` policy routing, between
# two namespaces behind a router namespace, side by side in one run:
#   kernel    no TC program; ip rules send the traffic through tables 100/101
#   redirect  sysflow route, bpf_redirect with MAC rewrite, both directions
#   peer      sysflow route, bpf_redirect_peer into the other namespace
# Rounds alternate the modes (kernel, redirect, peer, kernel, ...), so that
# drift hits all alike; medians are printed with ratios to the kernel.
#   packet rate: 64-byte UDP frames from an AF_PACKET sender (pktgen.c, one
#     CPU) for SECS; counted by an nftables counter on the server's ingress
#   CPU per packet: the sender's CPU time per packet. The whole path (veth,
#     router, veth, server ingress) runs in softirq in the sender's context,
#     so this is the path's cost, and unlike the rate it does not suffer
#     from other load on the machine; 1e9 / it is the rate one CPU sustains
#   round-trip time: UDP request/response (udp_rr.c), RR requests per round
# Root needed. Environment: BUILD (build), ROUNDS (9), SECS (1), RR (5000).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
ROUNDS=${ROUNDS:-9}
SECS=${SECS:-1}
RR=${RR:-5000}
SYSFLOW=${SYSFLOW:-$BUILD/sysflow}
BIN=$BUILD/bench/route
P=sfbr$$
PIN=/sys/fs/bpf/sysflow-bench-route-$$
TMP=$(mktemp -d /tmp/sysflow-bench-route.XXXXXX)
MODES=(kernel redirect peer)

[ "$(id -u)" -eq 0 ] || { echo "bench/route: needs root" >&2; exit 1; }
if [ ! -x "$BIN/pktgen" ] || [ ! -x "$BIN/udp_rr" ] || [ ! -x "$SYSFLOW" ]; then
	make -s BUILD="$BUILD" "$SYSFLOW" "$BIN/pktgen" "$BIN/udp_rr"
fi

in_ns() { local n=$1; shift; ip netns exec "$P-$n" "$@"; }
net() { local n=$1; shift; nsenter --net="/run/netns/$P-$n" "$@"; }
route() { net r "$SYSFLOW" route "$@" -q --pin-dir "$PIN"; }
mac() { in_ns "$1" cat "/sys/class/net/$2/address"; }

cleanup() {
	route del >/dev/null 2>&1 || true
	[ -f "$TMP/rr.pid" ] && kill "$(cat "$TMP/rr.pid")" 2>/dev/null
	for n in c r s; do ip netns del "$P-$n" 2>/dev/null || true; done
	rm -rf "$PIN" "$TMP"
}
trap cleanup EXIT

# link NS_A IF_A ADDR_A NS_B IF_B ADDR_B: veth, /24s, static neighbours.
link() {
	ip link add "$2" netns "$P-$1" type veth peer name "$5" netns "$P-$4"
	in_ns "$1" ip addr add "$3/24" dev "$2"
	in_ns "$4" ip addr add "$6/24" dev "$5"
	in_ns "$1" ip link set "$2" up
	in_ns "$4" ip link set "$5" up
	in_ns "$1" ip neigh replace "$6" lladdr "$(mac "$4" "$5")" dev "$2" nud permanent
	in_ns "$4" ip neigh replace "$3" lladdr "$(mac "$1" "$2")" dev "$5" nud permanent
}

setup() {
	local n
	for n in c r s; do
		ip netns add "$P-$n"
		in_ns "$n" ip link set lo up
		in_ns "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done
	link c c0 10.20.0.2 r rc 10.20.0.1
	link r rs 10.21.0.1 s s0 10.21.0.2
	in_ns c ip route add default via 10.20.0.1
	in_ns s ip route add default via 10.21.0.1
	in_ns r sysctl -qw net.ipv4.ip_forward=1
	# the kernel's policy routing, equivalent to the rules below
	in_ns r ip route add 10.21.0.0/24 dev rs table 100
	in_ns r ip route add 10.20.0.0/24 dev rc table 101
	in_ns r ip rule add pref 100 from 10.20.0.0/24 to 10.21.0.0/24 ipproto udp lookup 100
	in_ns r ip rule add pref 101 from 10.21.0.0/24 to 10.20.0.0/24 ipproto udp lookup 101
	# count (and drop) the load where it reaches the server's namespace
	in_ns s nft -f - <<EOF
table netdev bench {
	counter rx { }
	chain in {
		type filter hook ingress device s0 priority 0;
		udp dport 7000 counter name rx drop
	}
}
EOF
	config redirect redirect
	config peer redirect_peer
	bench_rr_server
}

# config NAME ACTION: the same policy as the ip rules; the out interface
# and the peer's MAC come from the device table.
config() {
	cat >"$TMP/$1.json" <<EOF
{
  "attach": [ { "iface": "rc" }, { "iface": "rs" } ],
  "tenants": [ { "name": "bench", "devices": [
    { "device": "rs", "name": "server", "address": "10.21.0.2", "mac": "$(mac s s0)" },
    { "device": "rc", "name": "client", "address": "10.20.0.2", "mac": "$(mac c c0)" } ] } ],
  "rules": [
    { "priority": 100, "name": "to-server", "src": "10.20.0.0/24",
      "dst": "10.21.0.0/24", "proto": "udp", "action": "$2", "device": "server" },
    { "priority": 101, "name": "to-client", "src": "10.21.0.0/24",
      "dst": "10.20.0.0/24", "proto": "udp", "action": "$2", "device": "client" }
  ]
}
EOF
}

bench_rr_server() {
	net s "$BIN/udp_rr" server 7001 >"$TMP/rr.out" &
	echo $! >"$TMP/rr.pid"
	for _ in $(seq 100); do
		grep -q ready "$TMP/rr.out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "bench/route: udp_rr server did not start" >&2
	exit 1
}

mode_on() {
	case $1 in
	kernel) ;;
	*) route apply "$TMP/$1.json" ;;
	esac
}
mode_off() { [ "$1" = kernel ] || route del; }

rx_count() {
	in_ns s nft list counter netdev bench rx | awk '/packets/ {print $2}'
}

# pps MODE ROUND: delivered packets per second.
measure_pps() {
	local before after out sent secs cpu
	before=$(rx_count)
	out=$(net c taskset -c 0 "$BIN/pktgen" c0 "$(mac r rc)" 10.20.0.2 10.21.0.2 7000 "$SECS")
	after=$(rx_count)
	sent=$(awk '{print $2}' <<<"$out")
	secs=$(awk '{print $4}' <<<"$out")
	cpu=$(awk '{print $7}' <<<"$out")
	awk -v d=$((after - before)) -v s="$secs" -v n="$sent" -v c="$cpu" \
		'BEGIN { printf "%d %d %d\n", d / s, n / s, c }'
}

measure_rtt() {
	net c "$BIN/udp_rr" client 10.21.0.2 7001 "$RR" | awk '{print $3, $5}'
}

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

setup
echo "bench/route: $ROUNDS rounds of ${SECS}s per mode, $RR requests for RTT"
for ((r = 1; r <= ROUNDS; r++)); do
	for m in "${MODES[@]}"; do
		mode_on "$m"
		read -r pps offered cpu < <(measure_pps)
		read -r p50 p99 < <(measure_rtt)
		mode_off "$m"
		echo "$pps" >>"$TMP/$m.pps"
		echo "$offered" >>"$TMP/$m.offered"
		echo "$cpu" >>"$TMP/$m.cpu"
		echo "$p50" >>"$TMP/$m.p50"
		echo "$p99" >>"$TMP/$m.p99"
		printf '  round %d %-8s %8d pps (%d sent) %5d ns/pkt  rtt p50 %6s p99 %7s us\n' \
			"$r" "$m" "$pps" "$offered" "$cpu" "$p50" "$p99"
	done
done

# Ratios are paired per round (each mode against the kernel run of the same
# round), then the median is taken: robust against load that drifts.
ratio() { # A FILE-SUFFIX [B]: per round A / B (B defaults to kernel)
	paste "$TMP/$1.$2" "$TMP/${3:-kernel}.$2" | awk '{printf "%.4f\n", $1 / $2}' | median
}
echo
printf '%-9s %9s %6s %7s %9s %8s %8s %6s\n' MODE PPS "PPS x" ns/pkt "PPS/CPU x" \
	"RTT p50" "RTT p99" "p50 x"
for m in "${MODES[@]}"; do
	awk -v m="$m" -v pps="$(median <"$TMP/$m.pps")" -v r="$(ratio "$m" pps)" \
		-v cpu="$(median <"$TMP/$m.cpu")" -v rc="$(ratio kernel cpu "$m")" \
		-v p50="$(median <"$TMP/$m.p50")" -v p99="$(median <"$TMP/$m.p99")" \
		-v r50="$(ratio "$m" p50)" \
		'BEGIN { printf "%-9s %9d %6.2f %7d %9.2f %6.1fus %6.1fus %6.2f\n", m, pps, r, cpu, rc, p50, p99, r50 }'
done
echo "(medians; x: median over rounds of the ratio to the kernel run of the same"
echo " round. PPS/CPU x = kernel ns/pkt / mode ns/pkt: packet rate per CPU."
echo " Target: packet rate >= 1.5x the kernel's. RTT: lower is better.)"
