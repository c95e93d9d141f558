#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# test_flowmon.sh: `sysflow flowmon` against the real kernel: exact packet
# and byte counts for known traffic between two test namespaces (checked
# against tcpdump/tshark where the kernel decides the packets), pcap replay,
# IPFIX to nfdump's nfcapd, DPI, restarts after kill -9, resource limits
# and errors. Every flowmon runs inside a namespace made here, with its own
# pin folder under /sys/fs/bpf.
source "$(dirname "$0")/lib.sh"

SF_BPF_DIR=$(dirname "$SYSFLOW")/bpf # built BPF objects (xdp_pass.bpf.o)
PY=/usr/bin/python3                   # Debian's, with scapy

# ---- helpers ----

# two_hosts: namespaces a and b joined by veth-a <-> veth-b (see veth_pair).
two_hosts() {
	ns_add a
	ns_add b
	veth_pair a veth-a b veth-b
}

# pins NAME: a private pin folder in $PINS, removed on exit. Not in $(...):
# the cleanup must be registered by this shell.
pins() {
	PINS=/sys/fs/bpf/sysflow-test-$$-$1
	on_exit rm -rf "$PINS"
}

# fm_start NAME NS DEV [ARGS...]: flowmon on DEV in NS with its own pin
# folder, output in $TMP/NAME.{out,err}; returns once it monitors.
fm_start() {
	local name=$1 n=$2 dev=$3 dir
	shift 3
	pins "$name"
	dir=$PINS
	bg_start "$name" nsenter --net="$(ns_path "$n")" \
		"$SYSFLOW" flowmon -d "$dev" -F "$dir" "$@"
	wait_for "$TMP/$name.err" "monitoring flows on $dev" 20
}

# why NAME: why a background command failed: its sanitizer report's first
# line, else the end of its stderr.
why() {
	grep -m 1 -E 'runtime error|Sanitizer' "$TMP/$1.err" ||
		tail -n 5 "$TMP/$1.err"
}

# fm_stop NAME [SIGNAL [RC]]: stop a flowmon (SIGINT: it flushes every
# flow) and check that it exited RC (0) with no sanitizer report.
fm_stop() {
	local rc=0
	bg_stop "$1" "${2:-INT}" || rc=$?
	[ "$rc" -eq "${3:-0}" ] || fail "$1 exited $rc: $(why "$1")"
	! grep -qE 'runtime error|Sanitizer' "$TMP/$1.err" ||
		fail "$1: sanitizer report: $(why "$1")"
}

# run_rc WANT NAME CMD...: run CMD, output in $TMP/NAME.{out,err}, and
# check its exit status.
run_rc() {
	local want=$1 name=$2 rc=0
	shift 2
	"$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
	[ "$rc" -eq "$want" ] ||
		fail "'$*' exited $rc, expected $want: $(tail -n 5 "$TMP/$name.err")"
}

# stat_of FILE NAME: a counter from flowmon's stats on stderr
# ("packets 5, accounted 5, ..." / "table full 0, ...").
stat_of() {
	local v
	v=$(grep -oE "(^|[ ,:])$2 [0-9]+" "$1" | tail -n 1 | grep -oE '[0-9]+$') ||
		fail "no '$2' counter in $1: $(cat "$1")"
	echo "$v"
}

# sel FILE JQ-CONDITION: the flows (JSON lines) of FILE that match.
sel() { jq -c "select($2)" "$1"; }

# has_flow FILE JQ-CONDITION: FILE has a flow that matches (for wait_until).
has_flow() { [ -n "$(sel "$1" "$2" 2>/dev/null)" ]; }

# count_lines TEXT: number of non-empty lines.
count_lines() { grep -c . <<<"$1" || true; }

# xdp_prog NS DEV: name of the XDP program on DEV, or "none".
xdp_prog() {
	in_ns "$1" ip -j link show "$2" | jq -r '.[0].xdp.prog.name // "none"'
}

# xdp_is NS DEV NAME: DEV has XDP program NAME ("none": no program).
xdp_is() { [ "$(xdp_prog "$1" "$2")" == "$3" ]; }

# ifindex NS DEV
ifindex() { in_ns "$1" cat "/sys/class/net/$2/ifindex"; }

# udp_send NS DST PORT COUNT SIZE SPORT [CPU]: COUNT datagrams of SIZE
# payload bytes from source port SPORT, optionally pinned to CPU.
udp_send() {
	local n=$1 dst=$2 port=$3 count=$4 size=$5 sport=$6 cpu=${7:-}
	local pin=()
	[ -z "$cpu" ] || pin=(taskset -c "$cpu")
	in_ns "$n" "${pin[@]}" "$PY" - "$dst" "$port" "$count" "$size" "$sport" <<'PY'
import socket, sys
dst, port, count, size, sport = sys.argv[1], *map(int, sys.argv[2:])
s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET,
                  socket.SOCK_DGRAM)
s.bind(("", sport))
data = b"x" * size
for _ in range(count):
    s.sendto(data, (dst, port))
PY
}

# udp_flows NS DST PORT SPORT_FIRST N PACKETS: N flows (source ports
# SPORT_FIRST...) of PACKETS datagrams of 10 bytes each.
udp_flows() {
	in_ns "$1" "$PY" - "$2" "$3" "$4" "$5" "$6" <<'PY'
import socket, sys
dst, port, first, n, packets = sys.argv[1], *map(int, sys.argv[2:])
for sport in range(first, first + n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("", sport))
    for _ in range(packets):
        s.sendto(b"0123456789", (dst, port))
    s.close()
PY
}

# tcp_server NAME NS ADDR PORT IN OUT: accept one connection, read IN bytes,
# send OUT bytes, read until the peer closes, close. Returns when listening.
tcp_server() {
	local name=$1
	bg_start "$name" ip netns exec "$(ns "$2")" "$PY" -c '
import socket, sys
addr, port, want, out = sys.argv[1], *map(int, sys.argv[2:])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
got = 0
while got < want:
    d = c.recv(65536)
    if not d:
        break
    got += len(d)
c.sendall(b"y" * out)
while c.recv(65536):
    pass
c.close()
print("received", got, flush=True)
' "$3" "$4" "$5" "$6"
	wait_for "$TMP/$name.out" listening
}

# tcp_client NS ADDR PORT SPORT OUT IN: connect from SPORT, send OUT bytes,
# read IN bytes, close first.
tcp_client() {
	in_ns "$1" "$PY" - "$2" "$3" "$4" "$5" "$6" <<'PY'
import socket, sys
addr, port, sport, out, want = sys.argv[1], *map(int, sys.argv[2:])
c = socket.create_connection((addr, port), timeout=10,
                             source_address=("", sport))
c.sendall(b"x" * out)
got = 0
while got < want:
    d = c.recv(65536)
    if not d:
        break
    got += len(d)
c.close()
assert got == want, f"got {got} of {want} bytes"
PY
}

# capture NAME NS DEV: tcpdump of what DEV receives, into $TMP/NAME.pcap;
# returns once it listens. Immediate mode, or the last block of packets is
# lost when tcpdump stops; it uses one 64 KiB slot per packet, hence -B.
capture() {
	bg_start "$1" ip netns exec "$(ns "$2")" tcpdump -n -U --immediate-mode \
		-B 16384 -s 65535 -Q in -i "$3" -w "$TMP/$1.pcap"
	wait_for "$TMP/$1.err" "listening on $3"
}

# capture_stop NAME: stop tcpdump and check that the kernel dropped nothing.
capture_stop() {
	bg_stop "$1" INT || true
	grep -q "^0 packets dropped by kernel" "$TMP/$1.err" ||
		fail "tcpdump $1 lost packets: $(cat "$TMP/$1.err")"
}

# tshark_lens PCAP FILTER: the IP total lengths of the matching packets,
# one a line.
tshark_lens() {
	tshark -r "$1" -Y "$2" -T fields -e ip.len -e ipv6.plen 2>/dev/null |
		awk -F'\t' '$1 != "" { print $1; next } { print $2 + 40 }'
}

# ---- 1. UDP, exact counts ----

udp_exact() { # MODE
	local mode=$1 flows f
	two_hosts
	fm_start fm b veth-b -j -m "$mode"
	grep -q "attached to veth-b in $mode mode" "$TMP/fm.err" ||
		fail "not attached in $mode mode: $(cat "$TMP/fm.err")"
	udp_send a 10.77.0.2 9000 50 100 40000
	fm_stop fm
	flows=$(sel "$TMP/fm.out" '.protocolIdentifier == 17 and .destinationTransportPort == 9000')
	assert_eq "$(count_lines "$flows")" 1 "UDP flows to port 9000"
	f=$(jq -r '[.sourceIPv4Address, .destinationIPv4Address,
		.sourceTransportPort, .destinationTransportPort,
		.protocolIdentifier, .ipVersion, .packetDeltaCount,
		.octetDeltaCount, .ingressInterface, .interfaceName,
		.flowEndReason, .minimumIpTotalLength, .maximumIpTotalLength]
		| join(" ")' <<<"$flows")
	assert_eq "$f" "10.77.0.1 10.77.0.2 40000 9000 17 4 50 \
$((50 * (20 + 8 + 100))) $(ifindex b veth-b) veth-b 4 128 128" \
		"flow (src dst sport dport proto ipv packets bytes ifindex ifname end minlen maxlen)"
}

test_udp_exact_skb() { udp_exact skb; }
test_udp_exact_native() { udp_exact native; }

# ---- 2. TCP, against tcpdump ----

# A flow's packets and bytes must be what tcpdump captured on its interface.
check_against_capture() { # FLOWS_FILE JQ_COND PCAP TSHARK_FILTER WHAT
	local flows lens want_p want_b got
	flows=$(sel "$1" "$2")
	assert_eq "$(count_lines "$flows")" 1 "$5: number of flows"
	lens=$(tshark_lens "$3" "$4")
	want_p=$(count_lines "$lens")
	want_b=$(awk '{ s += $1 } END { print s + 0 }' <<<"$lens")
	[ "$want_p" -gt 0 ] || fail "$5: tcpdump captured nothing"
	got=$(jq -r '"\(.packetDeltaCount) \(.octetDeltaCount)"' <<<"$flows")
	assert_eq "$got" "$want_p $want_b" "$5: packets and bytes (tcpdump saw)"
	info "$5: $want_p packets, $want_b bytes in flowmon and tcpdump"
}

test_tcp_exact() {
	local fwd rev
	fwd='.sourceTransportPort == 41001 and .destinationTransportPort == 5001
		and .protocolIdentifier == 6'
	rev='.sourceTransportPort == 5001 and .destinationTransportPort == 41001
		and .protocolIdentifier == 6'
	local bits f
	two_hosts
	# each side sees what it receives: a->b on veth-b, b->a on veth-a
	fm_start fma a veth-a -j -i 1
	fm_start fmb b veth-b -j -i 1
	capture capa a veth-a
	capture capb b veth-b
	tcp_server srv b 10.77.0.2 5001 10000 5000
	tcp_client a 10.77.0.2 5001 41001 10000 5000
	bg_wait srv 10 || fail "server failed: $(cat "$TMP/srv.err")"
	grep -q "received 10000" "$TMP/srv.out" || fail "server: $(cat "$TMP/srv.out")"
	# FIN seen, then 1 s idle, then the next sweep exports with reason 3
	wait_until 15 has_flow "$TMP/fmb.out" "$fwd and .flowEndReason == 3"
	wait_until 15 has_flow "$TMP/fma.out" "$rev and .flowEndReason == 3"
	capture_stop capa
	capture_stop capb
	fm_stop fma
	fm_stop fmb
	check_against_capture "$TMP/fmb.out" "$fwd" "$TMP/capb.pcap" \
		"ip.src == 10.77.0.1 && tcp.srcport == 41001 && tcp.dstport == 5001" \
		"client->server"
	check_against_capture "$TMP/fma.out" "$rev" "$TMP/capa.pcap" \
		"ip.src == 10.77.0.2 && tcp.srcport == 5001 && tcp.dstport == 41001" \
		"server->client"
	for f in "fmb:$fwd" "fma:$rev"; do
		bits=$(sel "$TMP/${f%%:*}.out" "${f#*:}" | jq -r '"\(.tcpControlBits) \(.flowEndReason)"')
		(( (${bits% *} & 0x13) == 0x13 )) ||
			fail "${f%%:*}: tcpControlBits ${bits% *} lacks SYN, ACK or FIN"
		assert_eq "${bits#* }" 3 "${f%%:*}: flowEndReason"
	done
}

# ---- 3. ICMP echo ----

icmp_echo() { # 4|6
	local v=$1 dst=10.77.0.2 src=10.77.0.1 req=2048 rep=0 len=84 proto=1
	local addr=IPv4 q r summary
	summary='"\(.destinationTransportPort) \(.packetDeltaCount) \(.octetDeltaCount)"'
	if [ "$v" = 6 ]; then
		dst=fd77::2 src=fd77::1 req=32768 rep=33024 len=104 proto=58 addr=IPv6
	fi
	two_hosts
	fm_start fma a veth-a -j
	fm_start fmb b veth-b -j
	in_ns a ping -"$v" -n -q -c 5 -i 0.2 -W 2 "$dst" >"$TMP/ping.out" ||
		fail "ping: $(cat "$TMP/ping.out")"
	fm_stop fma
	fm_stop fmb
	q=$(sel "$TMP/fmb.out" ".protocolIdentifier == $proto and
		.source${addr}Address == \"$src\" and .destination${addr}Address == \"$dst\"")
	assert_eq "$(count_lines "$q")" 1 "echo request flows"
	assert_eq "$(jq -r "$summary" <<<"$q")" \
		"$req 5 $((5 * len))" "request flow (dport packets bytes)"
	r=$(sel "$TMP/fma.out" ".protocolIdentifier == $proto and
		.source${addr}Address == \"$dst\" and .destination${addr}Address == \"$src\"")
	assert_eq "$(count_lines "$r")" 1 "echo reply flows"
	assert_eq "$(jq -r "$summary" <<<"$r")" \
		"$rep 5 $((5 * len))" "reply flow (dport packets bytes)"
	assert_eq "$(jq .sourceTransportPort <<<"$r")" "$(jq .sourceTransportPort <<<"$q")" \
		"echo identifier (sport) of reply vs request"
}

test_icmp_echo_v4() { icmp_echo 4; }
test_icmp_echo_v6() { icmp_echo 6; }

# ---- 4. UDP over IPv6 ----

test_udp_v6_exact() {
	local flows
	two_hosts
	fm_start fm b veth-b -j
	udp_send a fd77::2 9000 50 100 40000
	fm_stop fm
	flows=$(sel "$TMP/fm.out" '.protocolIdentifier == 17 and .destinationTransportPort == 9000')
	assert_eq "$(count_lines "$flows")" 1 "UDP flows to port 9000"
	assert_eq "$(jq -r '[.sourceIPv6Address, .destinationIPv6Address,
		.sourceTransportPort, .ipVersion, .packetDeltaCount,
		.octetDeltaCount, .ingressInterface] | join(" ")' <<<"$flows")" \
		"fd77::1 fd77::2 40000 6 50 $((50 * (40 + 8 + 100))) $(ifindex b veth-b)" \
		"flow (src dst sport ipv packets bytes ifindex)"
}

# A full disk under -j and -O: each output says so once, then counts.
test_output_full_disk() {
	two_hosts
	full_tmpfs "$TMP/full"
	pins fm
	bg_start fm nsenter --net="$(ns_path b)" sh -c 'exec "$@" >"$0"' \
		"$TMP/full/flows.json" "$SYSFLOW" flowmon -d veth-b -F "$PINS" -j -O "$TMP/full"
	wait_for "$TMP/fm.err" "monitoring flows on veth-b" 20
	udp_send a 10.77.0.2 9000 5 10 40000
	fm_stop fm INT 1 # flows were lost
	assert_eq "$(grep -c "writing flows to stdout failed: No space left on device" "$TMP/fm.err")" 1 \
		"stdout failure lines"
	assert_eq "$(grep -c "writing flows to $TMP/full failed: No space left on device" "$TMP/fm.err")" 1 \
		"-O failure lines"
	[ "$(stat_of "$TMP/fm.err" "output errors")" -ge 2 ] || fail "lost flows not counted"
	# within 80 columns but for the (test's long) -O path
	! grep -vF "$TMP" "$TMP/fm.err" | awk 'length > 80' | grep -q . ||
		fail "stderr wider than 80 columns: $(cat "$TMP/fm.err")"
}

# A replay (-r) whose JSON goes to a full disk: said once, each flow
# counted, "flows not written" and exit 1.
test_pcap_output_full_disk() {
	local rc=0
	full_tmpfs "$TMP/full"
	"$PY" - "$TMP/ten.pcap" <<'PY' || skip "python3-scapy missing"
import sys
from scapy.all import Ether, IP, UDP, wrpcap
wrpcap(sys.argv[1], [Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1000 + i, dport=53)
                     for i in range(10)])
PY
	"$SYSFLOW" flowmon -r "$TMP/ten.pcap" -j >"$TMP/full/flows.json" 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 1 "replay to a full disk: exit status"
	assert_eq "$(grep -c "writing flows to stdout failed: No space left on device" "$TMP/e")" 1 \
		"failure lines"
	assert_eq "$(stat_of "$TMP/e" "output errors")" 10 "flows counted as not written"
	grep -q "flows not written: 10" "$TMP/e" || fail "no total: $(cat "$TMP/e")"
}

# -L on a full disk: said once on stderr, the flows still go out, and
# once there is room the log says how many messages it lost.
test_log_full_disk() {
	two_hosts
	full_tmpfs "$TMP/full"
	pins fm
	bg_start fm nsenter --net="$(ns_path b)" "$SYSFLOW" flowmon -d veth-b -F "$PINS" \
		-j -v -L "$TMP/full/fm.log"
	wait_for "$TMP/fm.err" "writing the log to $TMP/full/fm.log failed: No space left on device; messages are counted until it works again" 20
	wait_until 20 xdp_is b veth-b xdp_flowmon # "monitoring" went to the full log
	udp_send a 10.77.0.2 9000 5 10 40000
	rm "$TMP/full/fill"
	fm_stop fm
	assert_eq "$(grep -c "writing the log to" "$TMP/fm.err")" 1 "failure lines on stderr"
	has_flow "$TMP/fm.out" '.sourceTransportPort == 40000 and .packetDeltaCount == 5' ||
		fail "flows lost with the log: $(cat "$TMP/fm.out")"
	grep -qE "^[0-9T:-]+ warn: [1-9][0-9]* log messages were lost: No space left on device$" \
		"$TMP/full/fm.log" || fail "the log does not count its losses: $(cat "$TMP/full/fm.log")"
	grep -q "info: flushed [0-9]* flows" "$TMP/full/fm.log" || fail "no message after the room came back"
	! grep -qvE "^[0-9T:-]+ (error|warn|info|debug): |^  " "$TMP/full/fm.log" ||
		fail "a broken line in the log: $(grep -vE "^[0-9T:-]+ " "$TMP/full/fm.log" | head -3)"
}

# flowmon -j | head: when the reader of the only output leaves, flowmon
# stops by itself, exits 0 and does not report the closed pipe.
test_json_reader_gone() {
	two_hosts
	pins fm
	bg_start fm nsenter --net="$(ns_path b)" bash -c 'set -o pipefail; "$@" | true' bash \
		"$SYSFLOW" flowmon -d veth-b -F "$PINS" -j --idle-timeout 1
	wait_for "$TMP/fm.err" "monitoring flows on veth-b" 20
	udp_send a 10.77.0.2 9000 3 10 40000
	bg_wait fm 20 || fail "flowmon exited $?: $(why fm)"
	! grep -q "Broken pipe" "$TMP/fm.err" || fail "closed pipe reported: $(cat "$TMP/fm.err")"
	[ "$(stat_of "$TMP/fm.err" "output errors")" -ge 1 ] || fail "the lost flow is not counted"
	! grep -qE 'runtime error|Sanitizer' "$TMP/fm.err" || fail "sanitizer: $(why fm)"
	# the live view (no -j) whose reader leaves: the same
	pins fv
	bg_start fv nsenter --net="$(ns_path b)" bash -c 'set -o pipefail; "$@" | head -1 >/dev/null' \
		bash "$SYSFLOW" flowmon -d veth-b -F "$PINS"
	bg_wait fv 20 || fail "flowmon | head -1 exited $?: $(why fv)"
	! grep -qE "sysflow: error|Broken pipe|Sanitizer" "$TMP/fv.err" || fail "said: $(cat "$TMP/fv.err")"
}

# An interface deleted under flowmon (ip link del): named once, its flows
# kept; flowmon goes on with the others, and when none is left it
# exports every flow and exits 1.
test_interface_deleted() {
	local pid flow='.sourceTransportPort == 40000 and .packetDeltaCount == 3'
	two_hosts
	in_ns b ip link add dum0 type veth peer name dum1
	in_ns b ip link set dum0 up
	fm_start fm b veth-b,dum0 -j
	pid=$(cat "$TMP/fm.pid")
	udp_send a 10.77.0.2 9000 3 10 40000
	in_ns a ip link del veth-a # and its peer veth-b
	wait_for "$TMP/fm.err" "interface veth-b \(ifindex [0-9]+\) went away: flowmon is no longer attached to it" 10
	kill -0 "$pid" 2>/dev/null || fail "flowmon stopped with dum0 still there: $(why fm)"
	in_ns b ip link del dum0
	local rc=0
	bg_wait fm 10 || rc=$?
	assert_eq "$rc" 1 "exit status once no interface is left"
	grep -q "no interface of veth-b,dum0 is left to monitor; stopping" "$TMP/fm.err" ||
		fail "the stop is not explained: $(why fm)"
	assert_eq "$(grep -c "went away" "$TMP/fm.err")" 2 "one warning per interface"
	has_flow "$TMP/fm.out" "$flow" || fail "the flow seen before the delete is lost: $(cat "$TMP/fm.out")"
	! grep -qE 'runtime error|Sanitizer' "$TMP/fm.err" || fail "sanitizer: $(why fm)"
}

# A second flowmon on the pin folder or on the interface of a running one:
# exit 1 with one line naming what is in use; the first keeps counting.
test_second_instance() {
	local first
	two_hosts
	fm_start fm b veth-b -j
	first=$PINS
	run_rc 1 same_pins in_ns_net b "$SYSFLOW" flowmon -d veth-b -j -F "$first"
	grep -q "another sysflow flowmon is using $first; stop it or choose another pin directory with -F" \
		"$TMP/same_pins.err" || fail "same pin folder: $(cat "$TMP/same_pins.err")"
	pins second
	run_rc 1 same_if in_ns_net b "$SYSFLOW" flowmon -d veth-b -j -F "$PINS"
	grep -q "^sysflow: error: interface veth-b is monitored by another running sysflow flowmon (XDP program 'xdp_flowmon', id [0-9]*, held by its link); stop it first$" \
		"$TMP/same_if.err" || fail "same interface: $(cat "$TMP/same_if.err")"
	! grep -qE "^libbpf|stale" "$TMP/same_if.err" || fail "misleading lines: $(cat "$TMP/same_if.err")"
	udp_send a 10.77.0.2 9000 4 10 40000
	fm_stop fm TERM # flushes as SIGINT does
	has_flow "$TMP/fm.out" '.sourceTransportPort == 40000 and .packetDeltaCount == 4' ||
		fail "the first flowmon lost its flow: $(cat "$TMP/fm.out")"
}

# The IPFIX collector killed mid-run: the refused sends are said once,
# their records counted as output errors, and the run ends with exit 1
# and "flows not written". A UDP exporter learns of a gone collector only
# from the ICMP port unreachable that the next send returns.
test_ipfix_collector_gone() {
	local i rc=0
	two_hosts
	bg_start coll nsenter --net="$(ns_path b)" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 9996))
print("ready", flush=True)
s.recv(65535)
print("got", flush=True)
s.recv(65535)'
	wait_for "$TMP/coll.out" ready 10
	fm_start fm b veth-b --ipfix 127.0.0.1:9996 --idle-timeout 1 -j
	udp_send a 10.77.0.2 9000 2 10 40000
	wait_for "$TMP/coll.out" got 10
	bg_stop coll KILL || true
	# new flows until a send is refused (bounded)
	for ((i = 1; i <= 40; i++)); do
		grep -q "cannot send IPFIX" "$TMP/fm.err" && break
		udp_send a 10.77.0.2 9000 1 10 $((40000 + i))
		sleep 0.25
	done
	grep -q "^sysflow: warn: cannot send IPFIX message to '127.0.0.1:9996': Connection refused (-111), is the collector running?; [0-9]* flow records lost" \
		"$TMP/fm.err" || fail "the refused send is not said: $(why fm)"
	bg_stop fm INT || rc=$?
	assert_eq "$rc" 1 "exit status with records lost"
	[ "$(stat_of "$TMP/fm.err" "output errors")" -ge 1 ] || fail "lost records not counted"
	grep -q "flows not written: [1-9]" "$TMP/fm.err" || fail "no total: $(why fm)"
	has_flow "$TMP/fm.out" '.sourceTransportPort == 40000' || fail "-j lost flows too"
}

# ---- 5. two CPUs, and test mode ----

test_two_cores_exact() {
	local n=20000 p0 p1 got sport
	[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
	two_hosts
	ns_no_ipv6 a veth-a # nothing but our datagrams reaches veth-b
	fm_start fm b veth-b -j
	# veth delivers on the sending CPU: the two flows are counted on two
	udp_send a 10.77.0.2 9000 "$n" 10 40000 0 &
	p0=$!
	udp_send a 10.77.0.2 9000 "$n" 10 40001 1 &
	p1=$!
	wait "$p0" || fail "sender on CPU 0 failed"
	wait "$p1" || fail "sender on CPU 1 failed"
	fm_stop fm
	for sport in 40000 40001; do
		got=$(sel "$TMP/fm.out" ".sourceTransportPort == $sport and .destinationTransportPort == 9000" |
			jq -r '"\(.packetDeltaCount) \(.octetDeltaCount)"')
		assert_eq "$got" "$n $((n * 38))" "flow from port $sport (packets bytes)"
	done
	assert_eq "$(stat_of "$TMP/fm.err" packets)" $((2 * n)) "packets seen"
	assert_eq "$(stat_of "$TMP/fm.err" accounted)" $((2 * n)) "packets accounted"
	assert_eq "$(jq -s 'map(.packetDeltaCount) | add' "$TMP/fm.out")" $((2 * n)) \
		"sum of packetDeltaCount"

	# -t: attach, count for 3 s, print the count
	pins fmt
	bg_start fmt nsenter --net="$(ns_path b)" "$SYSFLOW" flowmon -d veth-b \
		-F "$PINS" -t 3
	wait_for "$TMP/fmt.err" "counting packets on veth-b"
	udp_send a 10.77.0.2 9000 1234 10 40002
	bg_wait fmt 10 || fail "flowmon -t failed: $(cat "$TMP/fmt.err")"
	assert_eq "$(cat "$TMP/fmt.out")" 1234 "flowmon -t 3 count"
}

# ---- 6. pcap replay gives the live flows ----

# flow_keys FILE: key, packets and bytes of the flows between the test
# addresses, sorted (link-local and multicast noise left out).
flow_keys() {
	jq -r 'select(((.sourceIPv4Address // .sourceIPv6Address) | test("^(10\\.77\\.0\\.|fd77::)"))
		and ((.destinationIPv4Address // .destinationIPv6Address) | test("^(10\\.77\\.0\\.|fd77::)")))
		| [.sourceIPv4Address // .sourceIPv6Address,
		   .destinationIPv4Address // .destinationIPv6Address,
		   .sourceTransportPort, .destinationTransportPort,
		   .protocolIdentifier, .packetDeltaCount, .octetDeltaCount]
		| join(" ")' "$1" | sort
}

test_pcap_roundtrip() {
	local live replay n
	two_hosts
	fm_start fm b veth-b -j
	capture cap b veth-b
	udp_send a 10.77.0.2 9000 50 100 40000
	udp_send a fd77::2 9001 20 200 40001
	tcp_server srv b 10.77.0.2 5001 10000 5000
	tcp_client a 10.77.0.2 5001 41001 10000 5000
	bg_wait srv 10 || fail "server failed: $(cat "$TMP/srv.err")"
	in_ns a ping -n -q -c 3 -i 0.2 10.77.0.2 >/dev/null
	in_ns a ping -6 -n -q -c 3 -i 0.2 fd77::2 >/dev/null
	capture_stop cap
	fm_stop fm
	live=$(flow_keys "$TMP/fm.out")
	n=$(count_lines "$live")
	[ "$n" -ge 5 ] || fail "only $n live flows: $live"
	run_rc 0 r1 in_ns b "$SYSFLOW" flowmon -r "$TMP/cap.pcap" -j
	run_rc 0 r2 in_ns b "$SYSFLOW" flowmon -r "$TMP/cap.pcap" -j -q
	grep -q "^packets [0-9]*, accounted" "$TMP/r1.err" || fail "no counters at exit"
	! grep -q "^packets " "$TMP/r2.err" || fail "counters at exit despite -q"
	replay=$(flow_keys "$TMP/r1.out")
	[ "$live" == "$replay" ] ||
		fail "replay differs from live: $(diff <(echo "$live") <(echo "$replay"))"
	assert_eq "$(jq -s 'map(select(.ingressInterface != 0)) | length' "$TMP/r1.out")" 0 \
		"offline flows with an ingressInterface"
	# docs/flowmon.md: "The same pcap gives the same flows every time"
	if ! cmp -s "$TMP/r1.out" "$TMP/r2.out"; then
		cmp -s <(sort "$TMP/r1.out") <(sort "$TMP/r2.out") ||
			fail "two replays differ: $(diff "$TMP/r1.out" "$TMP/r2.out" | head)"
		fail "two replays of one pcap print the same flows in a different" \
			"order (flows leave the BPF hash map in its per-run hash order)"
	fi
}

# big_pcap FILE N: N UDP packets, each its own flow, 1,000 a second of
# pcap time (so the replay sweeps often: a slow replay of a small file).
big_pcap() {
	"$PY" - "$1" "$2" <<'PY' || fail "cannot write the test pcap"
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    eth = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00"
    for i in range(int(sys.argv[2])):
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 46, 0, 0, 64, 17, 0,
                         bytes([10, 0, (i >> 8) & 255, i & 255]), bytes([10, 1, 0, 1]))
        pkt = eth + ip + struct.pack("!HHHH", 1000 + i % 5000, 53, 26, 0) + b"x" * 18
        f.write(struct.pack("<IIII", 1700000000 + i // 1000, i % 1000 * 1000,
                            len(pkt), len(pkt)) + pkt)
PY
}

# A long replay shows its progress on a terminal (stderr; the flows go to
# a file) and stops at Ctrl-C, exporting the flows read so far.
test_pcap_progress_and_stop() {
	local n pid
	command -v script >/dev/null || skip "script (bsdutils) missing"
	big_pcap "$TMP/big.pcap" 300000
	bg_start rp script -qfec "$SYSFLOW flowmon -r $TMP/big.pcap -j >$TMP/rp.json" \
		"$TMP/rp.tty"
	wait_for "$TMP/rp.tty" "replaying $TMP/big.pcap: +[0-9]+%, [0-9]+ packets" 60
	pid=$(pgrep -f "^$SYSFLOW flowmon -r $TMP/big.pcap") || fail "no replay running"
	kill -INT "$pid"
	bg_wait rp 10 || fail "replay did not stop on SIGINT: $(tail -c 300 "$TMP/rp.tty")"
	n=$(grep -oE "stopped after [0-9]+ packets" "$TMP/rp.tty" | grep -oE "[0-9]+") ||
		fail "no stop message: $(tail -c 300 "$TMP/rp.tty")"
	[ "$n" -gt 0 ] && [ "$n" -lt 300000 ] || fail "stopped after $n of 300000 packets"
	assert_eq "$(wc -l <"$TMP/rp.json")" "$n" "flows exported (one per packet)"
	grep -q "exported $n" "$TMP/rp.tty" || fail "stats: $(tail -c 300 "$TMP/rp.tty")"
}

# ---- 7. truncated pcap ----

test_pcap_corrupt() {
	local off
	two_hosts
	# records 0-6: flow 1, 7-9: flow 2, 10-19: flow 1; cut inside record 10
	off=$("$PY" - "$TMP/t.pcap" <<'PY'
import sys
from scapy.all import Ether, IP, UDP, Raw, wrpcap
def pkt(sport, i):
    p = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / \
        IP(src="10.9.0.1", dst="10.9.0.2") / UDP(sport=sport, dport=53000) / \
        Raw(b"z" * 100)
    p.time = 1700000000 + i / 10
    return p
pkts = [pkt(1111 if i < 7 or i >= 10 else 2222, i) for i in range(20)]
wrpcap(sys.argv[1], pkts)
start = 24 + sum(16 + len(bytes(p)) for p in pkts[:10])
with open(sys.argv[1], "r+b") as f:
    f.truncate(start + 16 + 30)
print(start)
PY
) || fail "cannot write the test pcap"
	run_rc 1 r in_ns a "$SYSFLOW" flowmon -r "$TMP/t.pcap" -j
	grep -q "offset $off\b" "$TMP/r.err" ||
		fail "stderr does not name offset $off: $(cat "$TMP/r.err")"
	assert_eq "$(sel "$TMP/r.out" '.sourceTransportPort == 1111' | jq .packetDeltaCount)" 7 \
		"packets of flow 1 before the cut"
	assert_eq "$(sel "$TMP/r.out" '.sourceTransportPort == 2222' | jq .packetDeltaCount)" 3 \
		"packets of flow 2 before the cut"
	assert_eq "$(jq -s length "$TMP/r.out")" 2 "flows written"
}

# ---- 8. IPFIX to nfcapd ----

test_ipfix_nfcapd() {
	local nf=$TMP/nf file out
	command -v nfcapd >/dev/null || skip "nfcapd (nfdump) missing"
	two_hosts
	mkdir "$nf"
	# collector and exporter in b: 127.0.0.1 is b's own loopback
	bg_start nfcapd ip netns exec "$(ns b)" nfcapd -w "$nf" -b 127.0.0.1 -p 9995
	wait_until 10 grep -q "Startup nfcapd" "$TMP/nfcapd.out" "$TMP/nfcapd.err"
	fm_start fm b veth-b -j --ipfix 127.0.0.1:9995
	udp_send a 10.77.0.2 9000 50 100 40000
	udp_send a fd77::2 9001 20 200 40001
	in_ns a ping -n -q -c 3 -i 0.2 10.77.0.2 >/dev/null
	in_ns a ping -6 -n -q -c 3 -i 0.2 fd77::2 >/dev/null
	fm_stop fm
	bg_stop nfcapd TERM || fail "nfcapd failed: $(cat "$TMP/nfcapd.err")"
	file=$(find "$nf" -name 'nfcapd.2*' | head -n 1)
	[ -n "$file" ] || fail "nfcapd wrote no file: $(ls -la "$nf")"
	grep -q "Sequence Errors: 0, Bad Packets: 0" "$TMP/nfcapd.out" "$TMP/nfcapd.err" ||
		fail "nfcapd saw errors: $(cat "$TMP/nfcapd.out" "$TMP/nfcapd.err")"
	nfdump -r "$file" -o json >"$TMP/nfdump.json" ||
		fail "nfdump -r $file failed"
	# each JSON flow must be in nfdump with the same key, packets and bytes;
	# ICMP: nfdump shows type and code, flowmon has type << 8 | code in dport
	out=$("$PY" - "$TMP/fm.out" "$TMP/nfdump.json" <<'PY'
import json, sys
from collections import Counter
def ours(f):
    src = f.get("sourceIPv4Address") or f["sourceIPv6Address"]
    dst = f.get("destinationIPv4Address") or f["destinationIPv6Address"]
    p, dp = f["protocolIdentifier"], f["destinationTransportPort"]
    ports = ("icmp", dp >> 8, dp & 255) if p in (1, 58) else \
            (f["sourceTransportPort"], dp)
    return (src, dst, p, ports, f["packetDeltaCount"], f["octetDeltaCount"])
def theirs(r):
    src = r.get("src4_addr") or r["src6_addr"]
    dst = r.get("dst4_addr") or r["dst6_addr"]
    p = r["proto"]
    ports = ("icmp", r["icmp_type"], r["icmp_code"]) if p in (1, 58) else \
            (r["src_port"], r["dst_port"])
    return (src, dst, p, ports, r["in_packets"], r["in_bytes"])
a = Counter(ours(json.loads(l)) for l in open(sys.argv[1]) if l.strip())
b = Counter(theirs(r) for r in json.load(open(sys.argv[2])) if r.get("type") == "FLOW")
for k in sorted((a - b).keys(), key=str):
    print("flowmon only:", k)
for k in sorted((b - a).keys(), key=str):
    print("nfdump only: ", k)
# the traffic sent above: (protocol, ports, packets); ND may add flows
want = {(17, (40000, 9000), 50), (17, (40001, 9001), 20),
        (1, ("icmp", 8, 0), 3), (58, ("icmp", 128, 0), 3)}
for w in sorted(want - {(k[2], k[3], k[4]) for k in a}, key=str):
    print("missing from flowmon:", w)
PY
) || fail "comparing $TMP/fm.out with $TMP/nfdump.json failed"
	[ -z "$out" ] || fail "IPFIX as decoded by nfdump differs from the JSON output:
$out"
}

# ---- 9. errors ----

# one_line NAME: README: "runtime failures (not root, a missing kernel
# feature, an unknown interface) exit 1 with one line naming the problem".
one_line() {
	[ "$(wc -l <"$TMP/$1.err")" -eq 1 ] ||
		fail_later "$1: expected one line on stderr, got: $(cat "$TMP/$1.err")"
}

test_errors() {
	local dir xdp ro
	two_hosts
	pins err
	dir=$PINS
	run_rc 1 e1 in_ns_net b "$SYSFLOW" flowmon -d nosuch0 -j -F "$dir"
	grep -q "unknown interface 'nosuch0'" "$TMP/e1.err" ||
		fail_later "unknown interface not named: $(cat "$TMP/e1.err")"
	one_line e1

	run_rc 2 e2 in_ns_net b "$SYSFLOW" flowmon -d veth-b -p tcp,bogus -j -F "$dir"
	grep -q "unknown protocol 'bogus'" "$TMP/e2.err" &&
		grep -q "valid: eth, ipv4 (or ip), ipv6, tcp, udp, icmp, icmpv6" "$TMP/e2.err" ||
		fail_later "-p tcp,bogus: $(cat "$TMP/e2.err")"

	# a pcap that cannot be read: its path once, the reason, no counters
	run_rc 1 e5 "$SYSFLOW" flowmon -r "$TMP/nosuch.pcap" -j
	grep -qx "sysflow: error: cannot read pcap $TMP/nosuch.pcap: No such file or directory" \
		"$TMP/e5.err" || fail_later "missing pcap: $(cat "$TMP/e5.err")"
	one_line e5

	run_rc 2 e3 in_ns_net b "$SYSFLOW" flowmon -d veth-b --no-such-option -F "$dir"
	grep -q "unknown option '--no-such-option'" "$TMP/e3.err" ||
		fail_later "unknown option not named: $(cat "$TMP/e3.err")"

	# native XDP on lo: only meaningful if the kernel refuses it
	if in_ns b ip link set dev lo xdpdrv obj "$SF_BPF_DIR/xdp_pass.bpf.o" sec xdp 2>/dev/null; then
		in_ns b ip link set dev lo xdpdrv off
		info "this kernel takes native XDP on lo: check skipped"
	else
		run_rc 1 e4 in_ns_net b "$SYSFLOW" flowmon -d lo -m native -j -F "$dir"
		grep -q "lo does not support native XDP; use -m skb" "$TMP/e4.err" ||
			fail_later "-m native on lo: $(cat "$TMP/e4.err")"
		one_line e4
	fi

	# a foreign XDP program: refused by name, replaced with --force
	in_ns b ip link set dev veth-b xdpgeneric obj "$SF_BPF_DIR/xdp_pass.bpf.o" sec xdp
	run_rc 1 e5 in_ns_net b "$SYSFLOW" flowmon -d veth-b -j -F "$dir"
	grep -q "veth-b already has XDP program 'xdp_pass'.*--force" "$TMP/e5.err" ||
		fail_later "foreign program not named: $(cat "$TMP/e5.err")"
	one_line e5
	xdp=$(xdp_prog b veth-b)
	assert_eq "$xdp" xdp_pass "program on veth-b after the refusal"
	fm_start fmf b veth-b -j --force
	grep -q "replaced existing XDP program 'xdp_pass'" "$TMP/fmf.err" ||
		fail_later "--force did not say what it replaced: $(cat "$TMP/fmf.err")"
	xdp=$(xdp_prog b veth-b)
	assert_eq "$xdp" xdp_flowmon "program on veth-b with --force"
	udp_send a 10.77.0.2 9000 3 10 40000
	fm_stop fmf
	assert_eq "$(sel "$TMP/fmf.out" '.destinationTransportPort == 9000' | jq .packetDeltaCount)" 3 \
		"packets counted after --force"
	xdp=$(xdp_prog b veth-b)
	assert_eq "$xdp" none "program on veth-b after flowmon exited"

	# -O: a file, and a read-only directory
	touch "$TMP/afile"
	run_rc 1 e6 in_ns_net b "$SYSFLOW" flowmon -d veth-b -O "$TMP/afile" -F "$dir"
	grep -q "output directory $TMP/afile is not writable" "$TMP/e6.err" ||
		fail_later "-O FILE: $(cat "$TMP/e6.err")"
	one_line e6
	ro=$TMP/ro
	mkdir "$ro"
	mount -t tmpfs -o ro,size=16k sftest "$ro"
	on_exit umount -l "$ro"
	run_rc 1 e7 in_ns_net b "$SYSFLOW" flowmon -d veth-b -O "$ro" -F "$dir"
	grep -q "output directory $ro is not writable: Read-only file system" "$TMP/e7.err" ||
		fail_later "-O read-only dir: $(cat "$TMP/e7.err")"
	one_line e7
	# a missing directory is made; one that cannot be made is named so
	run_rc 1 e9 in_ns_net b "$SYSFLOW" flowmon -d veth-b -O "$ro/new" -F "$dir"
	grep -q "cannot create output directory $ro/new: Read-only file system" "$TMP/e9.err" ||
		fail_later "-O in a read-only dir: $(cat "$TMP/e9.err")"
	one_line e9

	# not root
	run_rc 1 e8 in_ns_net b setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$SYSFLOW" flowmon -d veth-b -F "$dir"
	grep -q "needs CAP_BPF or CAP_SYS_ADMIN" "$TMP/e8.err" ||
		fail_later "missing capability not named: $(cat "$TMP/e8.err")"
	one_line e8
	[ ! -e "$dir" ] || fail_later "pin folder $dir left behind by failed runs"
	fail_if_any
}

# ---- 10. kill -9, stale pins, reusing the flow map ----

test_kill9_restart() {
	local dir flow got rc
	flow='.sourceTransportPort == 40000 and .destinationTransportPort == 9000'
	two_hosts
	pins k9
	dir=$PINS
	bg_start k1 nsenter --net="$(ns_path b)" "$SYSFLOW" flowmon -d veth-b -j -F "$dir"
	wait_for "$TMP/k1.err" "monitoring flows on"
	udp_send a 10.77.0.2 9000 30 10 40000
	bg_stop k1 KILL || true
	# the BPF link dies with the process; the pins stay
	wait_until 5 xdp_is b veth-b none
	[ -e "$dir/flows" ] && [ -e "$dir/stats" ] || fail "pins gone after kill -9: $(ls -la "$dir")"

	# restart without -M: stale pins removed, fresh table
	bg_start k2 nsenter --net="$(ns_path b)" "$SYSFLOW" flowmon -d veth-b -j -F "$dir"
	wait_for "$TMP/k2.err" "monitoring flows on"
	grep -q "removed stale pinned map $dir/flows" "$TMP/k2.err" ||
		fail "no word about the stale flow map: $(cat "$TMP/k2.err")"
	udp_send a 10.77.0.2 9000 7 10 40000
	bg_stop k2 KILL || true

	# -i 0 -M: print the pinned table once (7 packets: k2 started clean);
	# docs/flowmon.md: "`-i 0 -M PATH` prints a pinned table once", no -d
	run_rc 0 show in_ns_net b "$SYSFLOW" flowmon -i 0 -M "$dir/flows" -j
	got=$(sel "$TMP/show.out" "$flow" | jq -c '[.packetDeltaCount, .flowEndReason]')
	[ "$got" == "[7,null]" ] ||
		fail_later "-i 0 -M printed (packets, end reason) $got, expected [7,null]"
	# -i 0 alone: the table pinned in -F DIR (the seed's default -M)
	run_rc 0 showf in_ns_net b "$SYSFLOW" flowmon -i 0 -F "$dir" -j
	cmp -s "$TMP/show.out" "$TMP/showf.out" ||
		fail_later "-i 0 -F DIR and -i 0 -M DIR/flows printed different tables"
	run_rc 1 nopin in_ns_net b "$SYSFLOW" flowmon -i 0 -F "$dir-none"
	grep -q "no flow table is pinned at $dir-none/flows: no sysflow flowmon is running with -F $dir-none" \
		"$TMP/nopin.err" || fail_later "-i 0 with nothing pinned: $(cat "$TMP/nopin.err")"
	run_rc 2 show_d in_ns_net b "$SYSFLOW" flowmon -d veth-b -i 0 -F "$dir"
	grep -q "attaches nothing: leave out -d" "$TMP/show_d.err" ||
		fail_later "-d with -i 0: $(cat "$TMP/show_d.err")"
	[ -e "$dir/flows" ] || fail "-i 0 -M removed the pinned map"
	# the table printed to a full disk: named, exit 1
	rc=0
	in_ns_net b "$SYSFLOW" flowmon -i 0 -M "$dir/flows" -j >/dev/full 2>"$TMP/full.err" || rc=$?
	[ "$rc" -eq 1 ] && grep -q "writing to stdout failed: No space left on device" "$TMP/full.err" ||
		fail_later "-i 0 -M -j >/dev/full exited $rc: $(cat "$TMP/full.err")"

	# -M: reuse the table, keep counting, export the old counts on exit
	bg_start k3 nsenter --net="$(ns_path b)" "$SYSFLOW" flowmon -d veth-b -j -F "$dir" -M "$dir/flows"
	wait_for "$TMP/k3.err" "monitoring flows on"
	! grep -q "removed stale pinned map $dir/flows" "$TMP/k3.err" ||
		fail "-M: the reused map was removed: $(cat "$TMP/k3.err")"
	udp_send a 10.77.0.2 9000 5 10 40000
	fm_stop k3
	got=$(sel "$TMP/k3.out" "$flow" |
		jq -c '[.packetDeltaCount, .octetDeltaCount, .flowEndReason]')
	assert_eq "$got" \
		"[12,$((12 * 38)),4]" "flow exported by the -M run (packets, bytes, end reason)"
	# the reused table was this folder's: gone after a clean exit, as
	# the folder, so the next start finds nothing stale
	[ ! -e "$dir" ] || fail_later "pins left after a clean -M run: $(ls -la "$dir")"
	# a pinned map of another shape: named before the verifier sees it
	bpftool map create "$dir-x" type hash key 8 value 8 entries 16 name sf_not_flows
	on_exit "rm -f '$dir-x'"
	run_rc 1 notflows in_ns_net b "$SYSFLOW" flowmon -d veth-b -F "$dir" -M "$dir-x"
	grep -q "pinned map $dir-x is not a flowmon flow table: a hash map with 8-byte keys and 8-byte values" \
		"$TMP/notflows.err" || fail_later "-M of another map: $(cat "$TMP/notflows.err")"
	one_line notflows
	[ ! -e "$dir" ] || fail_later "pin folder $dir left by a failed -M start"
	fail_if_any
}

# The default pin folder and its parent /sys/fs/bpf/sysflow, both made by
# the run, are gone after it (each only when empty).
test_default_pins_removed() {
	[ ! -e /sys/fs/bpf/sysflow ] || skip "/sys/fs/bpf/sysflow in use"
	run_rc 0 t "$SYSFLOW" flowmon -d lo -t 1 -q
	[ ! -e /sys/fs/bpf/sysflow ] ||
		fail "left behind: $(ls -laR /sys/fs/bpf/sysflow)"
}

# ---- 11. table full ----

test_table_full() {
	local pid p a t
	two_hosts
	ns_no_ipv6 a veth-a
	fm_start fm b veth-b -j -n 16
	udp_flows a 10.77.0.2 9000 41000 40 5
	pid=$(cat "$TMP/fm.pid")
	kill -0 "$pid" || fail "flowmon died with a full table: $(why fm)"
	udp_flows a 10.77.0.2 9000 42000 2 1 # still at work
	kill -0 "$pid" || fail "flowmon died with a full table: $(why fm)"
	fm_stop fm
	p=$(stat_of "$TMP/fm.err" packets)
	a=$(stat_of "$TMP/fm.err" accounted)
	t=$(stat_of "$TMP/fm.err" "table full")
	info "packets $p, accounted $a, table full $t"
	assert_eq "$p" $((40 * 5 + 2)) "packets seen"
	[ "$t" -gt 0 ] || fail "table full is $t with 40 flows in 16 entries"
	assert_eq "$((a + t))" "$p" "accounted + table full vs packets seen"
	assert_eq "$(jq -s 'map(.packetDeltaCount) | add' "$TMP/fm.out")" "$a" \
		"packets in the exported flows vs accounted"
}

# ---- 12. full disk ----

test_disk_full() {
	local tiny=$TMP/tiny pid errs
	two_hosts
	ns_no_ipv6 a veth-a
	mkdir "$tiny"
	mount -t tmpfs -o size=8k sftest "$tiny"
	on_exit umount -l "$tiny"
	# -j: no live view (see test_live_view), the stats still at exit
	fm_start fm b veth-b -j -O "$tiny" -i 1 --idle-timeout 1
	udp_flows a 10.77.0.2 9000 41000 100 1
	# idle after 1 s, exported at the next sweep: 100 lines do not fit in 8k
	wait_for "$TMP/fm.err" "writing flows to $tiny failed: No space left on device" 15
	pid=$(cat "$TMP/fm.pid")
	udp_flows a 10.77.0.2 9000 42000 20 1
	kill -0 "$pid" || fail "flowmon died on a full disk: $(why fm)"
	fm_stop fm INT 1 # flows were lost
	errs=$(stat_of "$TMP/fm.err" "output errors")
	info "output errors $errs"
	[ "$errs" -gt 0 ] || fail "no output errors counted: $(cat "$TMP/fm.err")"
	grep -q "flows not written: $errs (see the errors above)" "$TMP/fm.err" ||
		fail "no summary of the lost flows: $(tail -3 "$TMP/fm.err")"
	assert_eq "$(grep -c "writing flows to" "$TMP/fm.err")" 1 "write error logged once"
	[ "$(find "$tiny" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')" -gt 0 ] ||
		fail "nothing written to $tiny before it was full"
}

# ---- the live view ----

# views_at_least NAME N: the live view of NAME was printed N times; fails
# at once if NAME died.
views_at_least() {
	kill -0 "$(cat "$TMP/$1.pid")" 2>/dev/null ||
		fail "$1 died: $(why "$1")"
	[ "$(grep -c '^PROTO' "$TMP/$1.out")" -ge "$2" ]
}

# Without -j: each interval, totals and the top flows on stdout, also while
# the table is empty.
test_live_view() {
	two_hosts
	ns_no_ipv6 a veth-a # the table stays empty until we send
	fm_start fm b veth-b
	wait_until 10 views_at_least fm 2
	udp_send a 10.77.0.2 9000 50 100 40000
	wait_until 10 grep -qE '^udp +10\.77\.0\.1:40000 +10\.77\.0\.2:9000 +50 +6400$' "$TMP/fm.out"
	grep -qE '^packets 50, accounted 50, ' "$TMP/fm.out" ||
		fail "no totals in the view: $(tail -n 8 "$TMP/fm.out")"
	fm_stop fm
}

# ---- TCP SYN and RST counts ----

# A connect that b drops (after XDP saw it) retries its SYN: as many as
# nftables counted (how many is the kernel's choice: linear timeouts since
# 6.x); one that a refuses comes back as a RST.
test_tcp_syn_rst_counts() {
	local f syns
	two_hosts
	fm_start fm b veth-b -j
	in_ns b nft -f - <<'NFT'
table inet sf_syn_test {
	chain input {
		type filter hook input priority 0;
		tcp dport 9 counter drop
	}
}
NFT
	# TCP_SYNCNT 1: at least one retry, then ETIMEDOUT
	in_ns a "$PY" -c '
import socket
s = socket.socket()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 1)
s.settimeout(10)
try:
    s.connect(("10.77.0.2", 9))
except OSError as e:
    print(type(e).__name__)
' >"$TMP/dropped.out"
	in_ns b "$PY" -c '
import socket
try:
    socket.create_connection(("10.77.0.1", 9), timeout=5)
except ConnectionRefusedError:
    print("refused")
' >"$TMP/refused.out"
	fm_stop fm
	syns=$(in_ns b nft list table inet sf_syn_test | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
	info "SYNs dropped by nftables: $syns"
	[ "${syns:-0}" -ge 2 ] || fail "no SYN retried: nftables counted '$syns'"
	assert_eq "$(cat "$TMP/dropped.out")" TimeoutError "connect from a to b dropped"
	assert_eq "$(cat "$TMP/refused.out")" refused "connect from b to a refused"
	f=$(sel "$TMP/fm.out" '.sourceIPv4Address == "10.77.0.1" and .destinationTransportPort == 9')
	assert_eq "$(jq -c '[.tcpSynTotalCount, .tcpRstTotalCount]' <<<"$f")" "[$syns,0]" \
		"dropped connect: every SYN counted"
	f=$(sel "$TMP/fm.out" '.sourceIPv4Address == "10.77.0.1" and .sourceTransportPort == 9')
	assert_eq "$(jq -c '[.tcpSynTotalCount, .tcpRstTotalCount]' <<<"$f")" '[0,1]' \
		"refused connect: one RST"
}

# ---- 13. DPI ----

test_dpi_live() {
	local f
	two_hosts
	fm_start fm b veth-b -j -D
	# a listener for 22, 80 and 443 that reads the first data and hangs up
	bg_start lis ip netns exec "$(ns b)" "$PY" -c '
import socket, threading
def serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.77.0.2", port))
    s.listen(4)
    while True:
        c, _ = s.accept()
        c.settimeout(5)
        try:
            c.recv(4096)
        except OSError:
            pass
        c.close()
for p in (22, 80, 443):
    threading.Thread(target=serve, args=(p,), daemon=True).start()
print("listening", flush=True)
threading.Event().wait()
'
	# an SSH server's first line, from a to b
	bg_start sshd ip netns exec "$(ns a)" "$PY" -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.1", 22))
s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
c.sendall(b"SSH-2.0-sysflow_test_1.0\r\n")
c.settimeout(5)
c.recv(4096)
'
	wait_for "$TMP/lis.out" listening
	wait_for "$TMP/sshd.out" listening
	in_ns a "$PY" - <<'PY'
import socket, struct
# DNS query, type A, for www.example.test
q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l for l in b"www.example.test".split(b"."))
q += b"\0" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(q, ("10.77.0.2", 53))
# HTTP GET with a Host header
c = socket.create_connection(("10.77.0.2", 80), timeout=5)
c.sendall(b"GET /index.html HTTP/1.1\r\nHost: web.example.test\r\n"
          b"User-Agent: sysflow-test\r\nAccept: */*\r\n\r\n")
c.recv(100)
c.close()
PY
	in_ns a timeout 10 openssl s_client -connect 10.77.0.2:443 \
		-servername tls.example.test </dev/null >"$TMP/tls.out" 2>&1 || true
	# the real ssh client, to b and from b: it sends its line at once
	in_ns a timeout 10 ssh -F /dev/null -o BatchMode=yes \
		-o ConnectTimeout=5 10.77.0.2 true >"$TMP/ssh-a.out" 2>&1 || true
	in_ns b timeout 10 ssh -F /dev/null -o BatchMode=yes \
		-o ConnectTimeout=5 10.77.0.1 true >"$TMP/ssh-b.out" 2>&1 || true
	fm_stop fm
	f=$(sel "$TMP/fm.out" '.protocolIdentifier == 17 and .destinationTransportPort == 53')
	assert_eq "$(jq -c '[.dnsQueryName, .dnsQueryType]' <<<"$f")" '["www.example.test",1]' \
		"DNS flow (dnsQueryName, dnsQueryType)"
	f=$(sel "$TMP/fm.out" '.protocolIdentifier == 6 and .destinationTransportPort == 80')
	assert_eq "$(jq -c '[.httpRequestMethod, .httpHost]' <<<"$f")" '["GET","web.example.test"]' \
		"HTTP flow (httpRequestMethod, httpHost)"
	f=$(sel "$TMP/fm.out" '.protocolIdentifier == 6 and .destinationTransportPort == 443')
	assert_eq "$(jq -c '[.tlsServerName]' <<<"$f")" '["tls.example.test"]' \
		"TLS flow (tlsServerName)"
	f=$(sel "$TMP/fm.out" '.protocolIdentifier == 6 and .destinationTransportPort == 22')
	[[ $(jq -r .sshIdentification <<<"$f") == SSH-2.0-OpenSSH_* ]] ||
		fail "no OpenSSH client line in the flow to port 22: $f"
	f=$(sel "$TMP/fm.out" '.protocolIdentifier == 6 and .sourceTransportPort == 22')
	assert_eq "$(jq -c '[.sshIdentification]' <<<"$f")" '["SSH-2.0-sysflow_test_1.0"]' \
		"SSH server flow (sshIdentification)"
}

run_tests "$@"
