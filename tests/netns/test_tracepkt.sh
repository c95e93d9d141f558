#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# test_tracepkt.sh: `sysflow tracepkt` against the real kernel: a ping
# across namespaces, veth pairs and a bridge shows the expected hops in
# order (tp_btf and plain tracepoints); an nftables drop shows kfree_skb
# with NETFILTER_DROP; a packet is followed through DNAT; the filter,
# --mark, --netns and --iface pass exactly the matching packets; text and
# summary output; usage errors; TCP deliveries, pure ACKs, addresses a
# freed segment leaves to another skb; a full ring buffer; malformed
# frames. Addresses are 10.213.0.0/16, used by no
# other suite, and every filter names one of them, so traffic of other
# tests never matches. The tracer sees every namespace on the host, where
# another run of this suite (another worktree) would use the same
# addresses: HOST_LOCK makes such runs take turns.
source "$(dirname "$0")/lib.sh"
HOST_LOCK=tracepkt

PY=/usr/bin/python3

mac() { in_ns "$1" cat "/sys/class/net/$2/address"; }
ino() { stat -L -c %i "/run/netns/$(ns "$1")"; }

# quiet_ns NAME: a namespace without IPv6 (no router solicitations).
quiet_ns() {
	ns_add "$1"
	in_ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
}

# link NS_A IF_A ADDR_A NS_B IF_B ADDR_B: veth with /24 addresses (either
# may be "-") and static neighbours where both have one.
link() {
	ip link add "$2" netns "$(ns "$1")" type veth peer name "$5" netns "$(ns "$4")"
	[ "$3" = - ] || in_ns "$1" ip addr add "$3/24" dev "$2"
	[ "$6" = - ] || in_ns "$4" ip addr add "$6/24" dev "$5"
	in_ns "$1" ip link set "$2" up
	in_ns "$4" ip link set "$5" up
	if [ "$3" != - ] && [ "$6" != - ]; then
		in_ns "$1" ip neigh replace "$6" lladdr "$(mac "$4" "$5")" dev "$2" nud permanent
		in_ns "$4" ip neigh replace "$3" lladdr "$(mac "$1" "$2")" dev "$5" nud permanent
	fi
}

# pair: namespaces a and b, a0 10.213.1.1 <-> b0 10.213.1.2.
pair() {
	quiet_ns a
	quiet_ns b
	link a a0 10.213.1.1 b b0 10.213.1.2
}

# tracer NAME ARGS...: start `sysflow tracepkt ARGS` in the background and
# return once it is attached (its "Ctrl-C to end" line).
tracer() {
	local name=$1; shift
	local i
	bg_start "$name" "$SYSFLOW" tracepkt "$@"
	for ((i = 0; i < 400; i++)); do # text: stdout; -j, -s: stderr
		grep -qs "Ctrl-C to end" "$TMP/$name.out" "$TMP/$name.err" && return 0
		sleep 0.05
	done
	fail "tracer did not start: $(tail -5 "$TMP/$name.err")"
}

# tracer_wait NAME: wait (bounded) for a tracer that stops by itself.
tracer_wait() {
	local pid i
	pid=$(cat "$TMP/$1.pid")
	for ((i = 0; i < 400; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && fail "$1 did not stop by itself: $(tail -3 "$TMP/$1.err")"
	wait "$pid" || fail "$1 exited $?: $(tail -5 "$TMP/$1.err")"
}

# udp_send NS SRC DST PORT... : one datagram per PORT from SRC (addr or
# addr:port), in order.
udp_send() {
	local n=$1; shift
	in_ns "$n" "$PY" - "$@" <<'EOF'
import socket, sys
src, dst, ports = sys.argv[1], sys.argv[2], sys.argv[3:]
addr, _, sport = src.partition(":")
for p in ports:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, int(sport or 0)))
    s.sendto(b"tracepkt test", (dst, int(p)))
    s.close()
EOF
}

# check NAME PYTHON: run PYTHON with `hops` (trace id -> list of hop
# objects, in order), `stats` and `ns` (name -> inode) from NAME's JSON.
check() {
	local name=$1 code=$2
	"$PY" - "$TMP/$name.out" "$(ino a 2>/dev/null || echo 0)" \
		"$(ino b 2>/dev/null || echo 0)" "$(ino h 2>/dev/null || echo 0)" \
		"$(ino r 2>/dev/null || echo 0)" <<EOF || fail "$name: check failed (JSON in $TMP/$name.out)"
import json, sys
hops, stats = {}, None
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["type"] == "hop":
        hops.setdefault(o["trace_id"], []).append(o)
    elif o["type"] == "stats":
        stats = o
ns = dict(zip("abhr", map(int, sys.argv[2:6])))
def path(t):
    return [h["hook"] + "@" + h["ifname"] for h in hops[t]]
def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    for t in sorted(hops):
        print(" trace", t, path(t), file=sys.stderr)
    sys.exit(1)
assert stats is not None, "no stats line"
for t, hs in hops.items():
    if [h["seq"] for h in hs] != list(range(len(hs))):
        fail("trace %d: hops lost or out of order" % t)
    if hs[0]["delta_ns"] != 0 or any(h["delta_ns"] < 0 for h in hs):
        fail("trace %d: bad deltas" % t)
    if any(b["time_ns"] < a["time_ns"] for a, b in zip(hs, hs[1:])):
        fail("trace %d: time goes back" % t)
if stats["lost"]:
    fail("hop events lost: %s" % stats)
$code
EOF
}

# ---- a ping across the lab: hops in order ----

# bridge_lab: a0 (ns a) - ha [br0 in ns h] hb - b0 (ns b), one subnet,
# static FDB entries so the bridge forwards (no flooding, no clones).
bridge_lab() {
	quiet_ns a
	quiet_ns b
	quiet_ns h
	link a a0 10.213.0.1 h ha -
	link b b0 10.213.0.2 h hb -
	in_ns h ip link add br0 type bridge
	in_ns h ip link set ha master br0
	in_ns h ip link set hb master br0
	in_ns h ip link set br0 up
	in_ns a ip neigh replace 10.213.0.2 lladdr "$(mac b b0)" dev a0 nud permanent
	in_ns b ip neigh replace 10.213.0.1 lladdr "$(mac a a0)" dev b0 nud permanent
	in_ns h bridge fdb replace "$(mac a a0)" dev ha master static
	in_ns h bridge fdb replace "$(mac b b0)" dev hb master static
}

ping_path() {
	bridge_lab
	tracer tr 'icmp and host 10.213.0.2' -c 2 -d 30 -j "$@"
	in_ns a ping -c 1 -W 2 10.213.0.2 >/dev/null || fail "ping failed"
	tracer_wait tr
	check tr '
req, rep = hops[1], hops[2]
if len(hops) != 2:
    fail("expected 2 traces (request, reply)")
if req[0]["icmp_type"] != 8 or rep[0]["icmp_type"] != 0:
    fail("trace 1 should be the request, 2 the reply")
want = ["net_dev_queue@a0", "net_dev_start_xmit@a0", "netif_rx@ha",
        "net_dev_xmit@a0", "netif_receive_skb@ha", "net_dev_queue@hb",
        "net_dev_start_xmit@hb", "netif_rx@b0", "net_dev_xmit@hb",
        "netif_receive_skb@b0"]
got = path(1)
if got[:len(want)] != want:
    fail("request path %s, want it to start %s" % (got, want))
rest = req[len(want):]
if not rest or any(h["hook"] != "fib_table_lookup" for h in rest[:-1]) \
        or rest[-1]["hook"] != "consume_skb" or not rest[-1]["end"]:
    fail("request should end with route lookups then consume_skb")
if not any(h["hook"] == "fib_table_lookup" for h in rest):
    fail("no route lookup in b")
where = {"a0": ns["a"], "ha": ns["h"], "hb": ns["h"], "b0": ns["b"]}
for h in req:
    if h["hook"] != "consume_skb" and h["netns"] != where[h["ifname"]]:
        fail("hop %s@%s in netns %d" % (h["hook"], h["ifname"], h["netns"]))
if req[-1]["netns"] != ns["b"]:
    fail("request freed outside b")
for h in req:
    if h["hook"] != "net_dev_xmit" and \
            (h.get("saddr"), h.get("daddr")) != ("10.213.0.1", "10.213.0.2"):
        fail("addresses of hop %s" % h)
back = ["net_dev_queue@b0", "net_dev_start_xmit@b0", "netif_rx@hb",
        "net_dev_xmit@b0", "netif_receive_skb@hb", "net_dev_queue@ha",
        "net_dev_start_xmit@ha", "netif_rx@a0", "net_dev_xmit@ha",
        "netif_receive_skb@a0"]
if path(2)[:len(back)] != back or not rep[-1]["end"]:
    fail("reply path %s" % path(2))
if stats["matched"] != 2 or stats["ended"] != 2:
    fail("stats %s" % stats)
'
}

# no_btf FN: the test FN with plain tracepoints (--no-btf), checked to be
# the mechanism used
no_btf() {
	"$1" --no-btf
	grep -q '"mechanism":"tracepoint"' "$TMP/tr.out" || fail "plain tracepoints not used"
}

test_ping_path() {
	ping_path
	grep -q '"mechanism":"tp_btf"' "$TMP/tr.out" || fail "tp_btf not used: $(tail -1 "$TMP/tr.out")"
}

test_ping_path_tracepoints() {
	no_btf ping_path
}

# ---- IPv6, a queueing discipline ----

# pair6: namespaces a and b, a0 fd13:213::1 <-> b0 fd13:213::2.
pair6() {
	ns_add a
	ns_add b
	ip link add a0 netns "$(ns a)" type veth peer name b0 netns "$(ns b)"
	in_ns a ip -6 addr add fd13:213::1/64 dev a0 nodad
	in_ns b ip -6 addr add fd13:213::2/64 dev b0 nodad
	in_ns a ip link set a0 up
	in_ns b ip link set b0 up
	in_ns a ip -6 neigh replace fd13:213::2 lladdr "$(mac b b0)" dev a0 nud permanent
	in_ns b ip -6 neigh replace fd13:213::1 lladdr "$(mac a a0)" dev b0 nud permanent
}

test_ipv6_qdisc_path() {
	pair6
	# tbf always queues (pfifo would be bypassed on an idle device)
	in_ns a tc qdisc add dev a0 root tbf rate 100mbit burst 32kbit latency 50ms
	tracer tr 'icmp6 and host fd13:213::2' -c 2 -d 30 -j
	in_ns a ping -6 -c 1 -W 2 fd13:213::2 >/dev/null || fail "ping -6 failed"
	tracer_wait tr
	check tr '
want = ["net_dev_queue@a0", "qdisc_enqueue@a0", "qdisc_dequeue@a0",
        "net_dev_start_xmit@a0", "netif_rx@b0", "net_dev_xmit@a0",
        "netif_receive_skb@b0", "fib6_table_lookup@b0"]
if path(1)[:len(want)] != want or not hops[1][-1]["end"]:
    fail("request path %s" % path(1))
h = hops[1][0]
if (h["ip_version"], h["proto_name"], h["saddr"], h["daddr"], h["icmp_type"]) != \
        (6, "icmp6", "fd13:213::1", "fd13:213::2", 128):
    fail("first hop %s" % h)
if not all(x.get("qdisc_handle") for x in hops[1][1:3]):
    fail("qdisc hops without their handle")
if path(2)[:3] != ["net_dev_queue@b0", "net_dev_start_xmit@b0", "netif_rx@a0"]:
    fail("reply path %s" % path(2))
'
}

# ---- a drop by nftables ----

test_nft_drop() {
	pair
	in_ns b nft -f - <<'EOF'
table inet sft_drop {
	chain input {
		type filter hook input priority 0;
		ip saddr 10.213.1.1 icmp type echo-request drop
	}
}
EOF
	tracer tr 'icmp and dst host 10.213.1.2' -c 1 -d 30 -j
	in_ns a ping -c 1 -W 1 10.213.1.2 >/dev/null && fail "ping passed the drop rule"
	tracer_wait tr
	check tr '
if len(hops) != 1:
    fail("expected one trace")
hs, last = hops[1], hops[1][-1]
if last["hook"] != "kfree_skb" or not last["end"]:
    fail("last hop is not kfree_skb")
if last["drop_reason"] != "NETFILTER_DROP":
    fail("drop reason %s" % last.get("drop_reason"))
if last["netns"] != ns["b"] or last["ifname"] != "b0":
    fail("dropped in netns %d on %s" % (last["netns"], last["ifname"]))
if "netif_receive_skb@b0" not in path(1)[:-1]:
    fail("no netif_receive_skb before the drop")
'
}

# ---- following a packet through DNAT ----

test_dnat_followed() {
	quiet_ns a
	quiet_ns r
	quiet_ns b
	link a a0 10.213.4.1 r ra 10.213.4.254
	link r rb 10.213.5.254 b b0 10.213.5.2
	in_ns a ip route add default via 10.213.4.254
	in_ns b ip route add default via 10.213.5.254
	in_ns r sysctl -qw net.ipv4.ip_forward=1
	in_ns r nft -f - <<'EOF'
table ip sft_nat {
	chain prerouting {
		type nat hook prerouting priority -100;
		ip daddr 10.213.9.9 dnat to 10.213.5.2
	}
}
EOF
	tracer tr 'icmp and dst host 10.213.9.9' -c 1 -d 30 -j
	in_ns a ping -c 1 -W 2 10.213.9.9 >/dev/null || fail "ping through DNAT failed"
	tracer_wait tr
	check tr '
hs = hops[1]
if len(hops) != 1:
    fail("expected one trace")
if (hs[0]["saddr"], hs[0]["daddr"]) != ("10.213.4.1", "10.213.9.9"):
    fail("first hop %s" % hs[0])
inb = [h for h in hs if h["netns"] == ns["b"] and "daddr" in h]
if not inb or any(h["daddr"] != "10.213.5.2" for h in inb):
    fail("not followed into b with the translated address")
if "netif_receive_skb@b0" not in path(1) or not hs[-1]["end"]:
    fail("path %s" % path(1))
'
}

# ---- the filter passes exactly the matching packets ----

test_filter_exact() {
	pair
	in_ns a ip addr add 10.213.1.3/24 dev a0
	in_ns b ip neigh replace 10.213.1.3 lladdr "$(mac a a0)" dev b0 nud permanent
	in_ns a ip neigh replace 10.213.1.9 lladdr "$(mac b b0)" dev a0 nud permanent
	# dst host: other suites send to these ports too (test_route does)
	tracer tr 'dst host 10.213.1.2 and udp and (dst port 5001 or dst port 5003) and not src host 10.213.1.3' -d 30 -j
	# 5 matching datagrams among others that each fail one test, and
	# pings
	udp_send a 10.213.1.1 10.213.1.2 5002 5001 5004
	udp_send a 10.213.1.3 10.213.1.2 5001 5003 5001
	in_ns a ping -c 2 -i 0.2 -W 2 10.213.1.2 >/dev/null || fail "ping failed"
	udp_send a 10.213.1.1:6000 10.213.1.2 5003 5002 5001
	udp_send a 10.213.1.1 10.213.1.9 5001
	udp_send a 10.213.1.1 10.213.1.2 5009 5001 5003
	# under load the receive of one datagram may wait in ksoftirqd on
	# one CPU while the next, sent from the other CPU, ends first: wait
	# for all five ends, not only the last one sent
	local t
	for t in 1 2 3 4 5; do
		wait_for "$TMP/tr.out" "\"trace_id\":$t,.*\"end\":true" 20
	done
	bg_stop tr
	check tr '
if sorted(hops) != [1, 2, 3, 4, 5]:
    fail("traced %d packets, want exactly 5" % len(hops))
firsts = [hops[t][0] for t in sorted(hops)]
if [h["dport"] for h in firsts] != [5001, 5003, 5001, 5001, 5003]:
    fail("ports %s" % [h["dport"] for h in firsts])
if [h["sport"] == 6000 for h in firsts] != [False, True, True, False, False]:
    fail("source ports %s" % [h["sport"] for h in firsts])
if any(h["saddr"] != "10.213.1.1" or h["daddr"] != "10.213.1.2" or
       h["proto_name"] != "udp" for h in firsts):
    fail("a traced packet does not match: %s" % firsts)
for t, hs in hops.items():
    if hs[-1]["hook"] != "kfree_skb" or hs[-1]["drop_reason"] != "NO_SOCKET":
        fail("trace %d should end as NO_SOCKET in b" % t)
if stats["matched"] != 5:
    fail("stats %s" % stats)
'
}

# ---- delivery to a socket; route lookups of the packet being received ----

# UDP frees a delivered datagram without a tracepoint: the socket's
# sk_data_ready ends the trace. The output route lookup of the next
# datagram sent from a with the same addresses runs on the same CPU right
# after; it must not be taken for a hop (it is in another namespace).
test_socket_delivery() {
	pair
	cat >"$TMP/rx.py" <<'EOF2'
import select, socket, sys
socks = []
for port in (5011, 5012):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.213.1.2", port))
    socks.append(s)
print("ready", flush=True)
got = 0
while got < 8:
    ready, _, _ = select.select(socks, [], [], 20)
    if not ready:
        sys.exit("timed out after %d datagrams" % got)
    for s in ready:
        s.recv(100)
        got += 1
print("received", got, flush=True)
EOF2
	bg_start rx ip netns exec "$(ns b)" "$PY" "$TMP/rx.py"
	wait_for "$TMP/rx.out" '^ready' 10 || fail "receiver: $(cat "$TMP/rx.err")"
	tracer tr 'dst host 10.213.1.2 and udp and dst port 5011' -d 30 -j
	local i
	for i in 1 2 3 4; do
		udp_send a 10.213.1.1 10.213.1.2 5011 5012
		sleep 0.05
	done
	wait_for "$TMP/rx.out" '^received 8' 20 || fail "receiver: $(cat "$TMP/rx.err")"
	for i in 1 2 3 4; do
		wait_for "$TMP/tr.out" "\"trace_id\":$i,.*\"end\":true" 20
	done
	sleep 0.2 # a stray hop after the end would show now
	bg_stop tr
	check tr '
if sorted(hops) != [1, 2, 3, 4]:
    fail("traced %d packets, want 4" % len(hops))
for t, hs in hops.items():
    fibs = [h for h in hs if h["hook"] == "fib_table_lookup"]
    if not fibs:
        fail("trace %d: no route lookup in b" % t)
    if any(h["ifname"] != "b0" or h["netns"] != ns["b"] for h in fibs):
        fail("trace %d: a route lookup outside b" % t)
    if any(h.get("dport", 5011) not in (0, 5011) for h in hs):
        fail("trace %d holds a datagram to another port" % t)
    last = hs[-1]
    if last["hook"] != "sk_data_ready" or not last["end"] or \
            last["netns"] != ns["b"] or last["dport"] != 5011:
        fail("trace %d should end delivered to the socket in b" % t)
if stats["ended"] != 4:
    fail("stats %s" % stats)
'
}

# ---- --mark, --netns, --iface ----

# mark_traced NAME MARK/MASK: of 6 datagrams, --mark traces the 3 to port
# 5005, which the nft rule of test_mark_netns_iface marks 0x2a
mark_traced() {
	local name=$1
	tracer "$name" --mark "$2" 'udp and dst host 10.213.1.2' -d 30 -j
	udp_send a 10.213.1.1 10.213.1.2 5006 5005 5006 5005 5006 5005
	wait_for "$TMP/$name.out" '"trace_id":3,.*"end":true' 20
	bg_stop "$name"
	check "$name" '
if sorted(hops) != [1, 2, 3]:
    fail("want the 3 marked datagrams, got %d" % len(hops))
for hs in hops.values():
    if hs[0]["mark"] != 0x2a or hs[0]["dport"] != 5005:
        fail("unmarked packet traced: %s" % hs[0])
'
}

test_mark_netns_iface() {
	pair
	in_ns a nft -f - <<'EOF'
table inet sft_mark {
	chain output {
		type filter hook output priority 0;
		udp dport 5005 meta mark set 0x2a
	}
}
EOF
	mark_traced m 0x2a/0xff
	mark_traced m0 0x2a
	tracer n --netns "$(ns b)" 'udp and dst host 10.213.1.2' -d 30 -j
	udp_send a 10.213.1.1 10.213.1.2 5006 5005
	wait_for "$TMP/n.out" '"trace_id":2,.*"end":true' 20
	bg_stop n
	check n '
if sorted(hops) != [1, 2]:
    fail("want 2 traces, got %d" % len(hops))
for hs in hops.values():
    if hs[0]["netns"] != ns["b"] or hs[0]["hook"] != "netif_rx":
        fail("should start on arrival in b: %s" % path(hs[0]["trace_id"]))
    if any(h["netns"] == ns["a"] for h in hs[1:] if h["hook"] != "net_dev_xmit"):
        fail("hops in a after entering b")
'
	tracer i --iface b0 'udp and dst host 10.213.1.2' -d 30 -j
	udp_send a 10.213.1.1 10.213.1.2 5007
	wait_for "$TMP/i.out" '"trace_id":1,.*"end":true' 20
	bg_stop i
	# b0 is only in namespace b, a named one: no warning
	! grep -q "no interface" "$TMP/i.err" || fail "--iface b0 warned: $(cat "$TMP/i.err")"
	check i '
if sorted(hops) != [1] or hops[1][0]["ifname"] != "b0":
    fail("want one trace starting on b0: %s" % [path(t) for t in hops])
'
}

# ---- terminal output and --summary ----

test_text_and_summary() {
	bridge_lab
	tracer txt 'icmp and host 10.213.0.2' -c 2 -d 30
	in_ns a ping -c 1 -W 2 10.213.0.2 >/dev/null || fail "ping failed"
	tracer_wait txt
	local out=$TMP/txt.out
	head -1 "$out" | grep -q "^Tracing 'icmp and host 10.213.0.2'; Ctrl-C to end.$" ||
		fail "first line: $(head -1 "$out")"
	grep -q '^#1 icmp 10.213.0.1 > 10.213.0.2 echo request' "$out" || fail "no packet line"
	grep -q '^#2 icmp 10.213.0.2 > 10.213.0.1 echo reply' "$out" || fail "no reply line"
	grep -qE '^ +[0-9.]+ +[0-9.]+ +[0-9]+ +b0 +netif_rx +84$' "$out" || fail "no netif_rx hop on b0"
	grep -q 'table ' "$out" || fail "route lookup without its table"
	awk 'length > 79 { exit 1 }' "$out" || fail "line wider than 79 columns: $(awk 'length > 79' "$out")"
	grep -q "2 packets traced" "$TMP/txt.err" || fail "no counters: $(cat "$TMP/txt.err")"

	tracer sum 'icmp and host 10.213.0.2' -c 6 -d 30 -s
	in_ns a ping -c 3 -i 0.2 -W 2 10.213.0.2 >/dev/null || fail "ping failed"
	tracer_wait sum
	out=$TMP/sum.out
	grep -q "^Per-hop latency in microseconds over 6 packets:" "$out" || fail "no summary: $(cat "$out")"
	# the banner once: on stderr, as with -j (not on both stdout and stderr)
	assert_eq "$(cat "$out" "$TMP/sum.err" | grep -c 'Ctrl-C to end')" 1 "banners with -s"
	grep -qE '^net_dev_xmit@a0 -> netif_receive_skb@ha +3 ' "$out" ||
		grep -qE '^net_dev_xmit@a0 -> netif_receive_skb@ha$' "$out" || fail "no row for the veth hop: $(cat "$out")"
	awk 'length > 79 { exit 1 }' "$out" || fail "summary wider than 79 columns"
	"$PY" - "$out" <<'EOF' || fail "summary numbers: $(cat "$out")"
import sys
rows = [l.split() for l in open(sys.argv[1]) if l[:1] == " " or "->" in l]
nums = [r[-5:] for r in rows if len(r) >= 5 and r[-5].isdigit()]
assert nums, "no rows"
for n in nums:
    c, lo, med, p99, hi = int(n[0]), *map(float, n[1:])
    assert c >= 1 and lo <= med <= p99 <= hi, n
EOF

	# -s -j: the same as "type":"summary" objects, before the stats object
	tracer sumj 'icmp and host 10.213.0.2' -c 2 -d 30 -s -j
	in_ns a ping -c 1 -W 2 10.213.0.2 >/dev/null || fail "ping failed"
	tracer_wait sumj
	"$PY" - "$TMP/sumj.out" <<'EOF' || fail "summary JSON: $(cat "$TMP/sumj.out")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
sums = [r for r in rows if r["type"] == "summary"]
assert sums, "no summary objects"
assert rows[-1]["type"] == "stats", rows[-1]
for r in sums:
    assert r["count"] >= 1 and r["min_ns"] <= r["median_ns"] <= r["p99_ns"] <= r["max_ns"], r
assert any(r["from"] == "net_dev_xmit" and r["from_ifname"] == "a0" and
           r["to"] == "netif_receive_skb" and r["to_ifname"] == "ha" for r in sums), sums
EOF
}

# ---- TCP: deliveries from a socket's backlog, merged segments ----

# router_lab: a0 10.213.6.1 - ra [ns r, forwarding] rb - b0 10.213.8.2.
# Through a router, the segments b receives are its own skbs (ip_forward
# un-clones them); straight over a veth pair they are clones of the
# sender's, which tcp_add_backlog never merges (skb_try_coalesce refuses
# a cloned skb). Timestamps off in a: segments then carry no options that
# differ, so consecutive ones can be merged.
router_lab() {
	quiet_ns a
	quiet_ns r
	quiet_ns b
	link a a0 10.213.6.1 r ra 10.213.6.254
	link r rb 10.213.8.254 b b0 10.213.8.2
	in_ns r sysctl -qw net.ipv4.ip_forward=1
	in_ns a sysctl -qw net.ipv4.tcp_timestamps=0
	in_ns b ip route add default via 10.213.8.254
}

# tcpext NS NAME: a TcpExt counter of namespace NS.
tcpext() {
	in_ns "$1" awk -v k="$2" '/^TcpExt:/ { if (!n) { split($0, h); n = 1 } \
		else for (i = 2; i <= NF; i++) if (h[i] == k) print $i }' /proc/net/netstat
}

# tcpext_ge NS NAME N: TcpExt counter NAME of NS is at least N (read anew
# at each call, for wait_until).
tcpext_ge() {
	[ "$(tcpext "$1" "$2")" -ge "$3" ]
}

# tcp_scripts: $TMP/hold.py, a receiver that reads N bytes; unless its
# last argument is "-", it waits for the first data, then holds its
# socket (the copy of its first recv faults on a userfaultfd page and
# waits there, inside tcp_recvmsg, with the socket lock held) until that
# file exists; $TMP/send.py, a sender that sends one segment per
# TOS:SIZE argument (from 0.2 s after the connection is made), a burst
# after each argument "wait:FILE".
tcp_scripts() {
	cat >"$TMP/hold.py" <<'EOF2'
import ctypes, mmap, os, select, socket, struct, sys, threading, time
addr, port, want, release = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def ioctl(fd, req, args):
    buf = ctypes.create_string_buffer(struct.pack("4Q", *args))
    if libc.ioctl(fd, ctypes.c_ulong(req), buf) < 0:
        sys.exit("ioctl %#x: %s" % (req, os.strerror(ctypes.get_errno())))
def hold(c, uffd):
    # the first segment comes in while no one owns the socket (softirq
    # delivery); a recv already in tcp_recvmsg would own it for a moment
    select.select([c], [], [], 10)
    ioctl(uffd, 0xC018AA3F, (0xAA, 0, 0, 0))  # UFFDIO_API
    flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
    page = mmap.mmap(-1, mmap.PAGESIZE, flags=flags)
    base = ctypes.addressof(ctypes.c_char.from_buffer(page))
    ioctl(uffd, 0xC020AA00, (base, mmap.PAGESIZE, 1, 0))  # REGISTER, missing
    got = []
    t = threading.Thread(target=lambda: got.append(c.recv_into(memoryview(page))))
    t.start()
    os.read(uffd, 32)  # the fault: recv is copying, the socket is held
    print("holding", flush=True)
    for _ in range(2000):
        if os.path.exists(release):
            break
        time.sleep(0.01)
    ioctl(uffd, 0xC020AA04, (base, mmap.PAGESIZE, 0, 0))  # UFFDIO_ZEROPAGE
    t.join()
    return got[0]
uffd = libc.syscall(323, os.O_CLOEXEC) if release != "-" else 0  # x86_64
if uffd < 0:
    print("no userfaultfd:", os.strerror(ctypes.get_errno()), flush=True)
    sys.exit(3)
l = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
l.bind((addr, port))
l.listen(1)
print("ready", flush=True)
c, _ = l.accept()
n = hold(c, uffd) if uffd else 0
c.settimeout(20)
while n < want:
    d = c.recv(65536)
    if not d:
        break
    n += len(d)
print("received", n, flush=True)
EOF2
	cat >"$TMP/send.py" <<'EOF2'
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
# the receiver returns from accept when the handshake ends: give it time
# to sleep in recv, so that the first segment does not find its socket
# owned (taken through the backlog, which the tests tell apart)
time.sleep(0.2)
for arg in sys.argv[3:]:
    what, _, val = arg.partition(":")
    if what == "wait":
        for _ in range(2000):
            if os.path.exists(val):
                break
            time.sleep(0.01)
        continue
    if s.family == socket.AF_INET:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, int(what))
    s.send(b"x" * int(val))
    time.sleep(0.002)  # one segment per send
print("sent", flush=True)
s.recv(1)  # until b closes
EOF2
}

# A receiver holds its socket while a sends: the segments wait in the
# socket's backlog. 101-104 alternate their TOS (tcp_add_backlog merges
# only equal ones): each is processed from the backlog (tcp_probe) and
# delivered (sk_data_ready), both marked backlog. 201-204 have one TOS:
# 202-204 are merged into 201 and end at 201's tcp_probe, "coalesced_into"
# 201's skb, as many as the kernel's TCPBacklogCoalesce; 201's delivery
# carries the 810 bytes. b holds the socket for over a second. The first
# segment (50 bytes) is delivered in softirq, not from the backlog.
tcp_backlog_delivery() {
	router_lab
	# no retransmission while b holds the data unacknowledged: no tail
	# loss probe, and an RTO of 3 s at least
	in_ns a sysctl -qw net.ipv4.tcp_early_retrans=0
	in_ns a ip route add default via 10.213.6.254 rto_min 3s
	tcp_scripts
	tracer tr 'tcp and dst host 10.213.8.2 and dst port 5301' -d 60 -j "$@"
	bg_start rx ip netns exec "$(ns b)" "$PY" "$TMP/hold.py" 10.213.8.2 5301 1270 "$TMP/release"
	wait_for "$TMP/rx.out" '^(ready|no userfaultfd)' 10
	grep -q '^no userfaultfd' "$TMP/rx.out" && skip "$(cat "$TMP/rx.out")"
	bg_start tx ip netns exec "$(ns a)" "$PY" "$TMP/send.py" 10.213.8.2 5301 0:50 \
		"wait:$TMP/go" 8:101 0:102 8:103 0:104 16:201 16:202 16:203 16:204
	wait_for "$TMP/rx.out" '^holding' 10
	touch "$TMP/go"
	wait_for "$TMP/tx.out" '^sent' 10
	wait_until 10 tcpext_ge b TCPBacklogCoalesce 3
	# hold longer than a followed skb may idle before it is taken for a
	# freed one (1 s): a segment known to wait in a backlog is not
	sleep 1.2
	touch "$TMP/release"
	wait_for "$TMP/rx.out" '^received 1270' 20
	local p
	# last hops: payload bytes; 201 delivers 201 + 202 + 203 + 204
	for p in 50 101 102 103 104 810 202 203 204; do
		wait_for "$TMP/tr.out" "\"hook\":\"(sk_data_ready|tcp_probe)\".*\"len\":$p,.*\"end\":true" 20
	done
	bg_stop tr
	check tr "
merged = $(tcpext b TCPBacklogCoalesce)
"'
sizes = [50, 101, 102, 103, 104, 201, 202, 203, 204]
seg = {}
for t, hs in hops.items():
    rx = [h for h in hs if h["hook"] == "netif_receive_skb" and h["ifname"] == "b0"]
    if rx and rx[0]["len"] - 40 in sizes: # no TCP options from a
        seg[rx[0]["len"] - 40] = hs
if sorted(seg) != sizes:
    fail("data segments traced: %s" % sorted(seg))
for n in sizes: # no tp_btf: output route lookups in a are taken for hops in b
    seg[n] = [h for h in seg[n] if h["hook"] != "fib_table_lookup"]
def tail(n, k):
    return [h["hook"] for h in seg[n][-k:]]
first = seg[50]
if tail(50, 3) != ["netif_receive_skb", "tcp_probe", "sk_data_ready"] or \
        first[-1]["backlog"] or first[-2]["backlog"] or not first[-1]["end"]:
    fail("50 bytes: not delivered in softirq: %s" % first[-3:])
for n in (101, 102, 103, 104, 201):
    hs = seg[n]
    if tail(n, 3) != ["netif_receive_skb", "tcp_probe", "sk_data_ready"]:
        fail("%d bytes: path ends %s" % (n, tail(n, 3)))
    probe, ready = hs[-2], hs[-1]
    if not (probe["backlog"] and ready["backlog"] and ready["end"]):
        fail("%d bytes: not delivered from the backlog: %s" % (n, hs[-2:]))
    if ready["netns"] != ns["b"] or ready["dport"] != 5301 or \
            ready["saddr"] != "10.213.6.1":
        fail("%d bytes: delivery hop %s" % (n, ready))
if seg[201][-1]["len"] != 810:
    fail("201 bytes: delivered %d bytes, want 810 (with the merged ones)" % seg[201][-1]["len"])
into = seg[201][-1]["skbaddr"]
for n in (202, 203, 204):
    last = seg[n][-1]
    if tail(n, 2) != ["netif_receive_skb", "tcp_probe"] or not last["end"] or \
            last.get("coalesced_into") != into or not last["backlog"] or \
            last["len"] != n:
        fail("%d bytes: should end merged into %s: %s" % (n, into, last))
if any("coalesced_into" in h for n in (50, 101, 102, 103, 104, 201) for h in seg[n]):
    fail("a segment that was not merged is shown merged")
if stats["coalesced"] != 3 or merged != 3:
    fail("coalesced %d, kernel TCPBacklogCoalesce %d, want 3" % (stats["coalesced"], merged))
'
}

test_tcp_backlog_delivery() {
	tcp_backlog_delivery
}

test_tcp_backlog_delivery_tracepoints() {
	no_btf tcp_backlog_delivery
}

# The router drops the first transmission of 102 (by its TOS; the sender
# sets another one before 103, and the retransmission takes that): 103
# (and 104, unless the retransmission comes first) wait in b's
# out-of-order queue after their tcp_probe and are delivered with the
# retransmitted 102, at its sk_data_ready.
test_tcp_out_of_order_delivery() {
	router_lab
	in_ns a ip route add default via 10.213.6.254
	in_ns r nft -f - <<'EOF'
table ip sft_ooo {
	chain forward {
		type filter hook forward priority 0;
		ip daddr 10.213.8.2 tcp dport 5302 ip dscp cs1 drop
	}
}
EOF
	tcp_scripts
	tracer tr 'tcp and dst host 10.213.8.2 and dst port 5302' -d 60 -j
	bg_start rx ip netns exec "$(ns b)" "$PY" "$TMP/hold.py" 10.213.8.2 5302 410 -
	wait_for "$TMP/rx.out" '^ready' 10
	bg_start tx ip netns exec "$(ns a)" "$PY" "$TMP/send.py" 10.213.8.2 5302 \
		0:101 32:102 0:103 0:104
	wait_for "$TMP/rx.out" '^received 410' 20
	local p
	for p in 101 102 103 104; do
		wait_for "$TMP/tr.out" "\"hook\":\"sk_data_ready\".*\"len\":$p,.*\"end\":true" 20
	done
	bg_stop tr
	check tr '
rx = {}
for t, hs in hops.items():
    for i, h in enumerate(hs):
        if h["hook"] == "netif_receive_skb" and h["ifname"] == "b0" and \
                h["len"] - 40 in (101, 102, 103, 104):
            rx[h["len"] - 40] = (hs, i)
if sorted(rx) != [101, 102, 103, 104]:
    fail("segments that reached b: %s" % sorted(rx))
dropped = [hs for hs in hops.values() if hs[-1].get("drop_reason") == "NETFILTER_DROP"]
if len(dropped) != 1 or dropped[0][-1]["netns"] != ns["r"]:
    fail("want one trace dropped in r (the first 102)")
hole, at = rx[102]
filled = hole[-1]
if filled["hook"] != "sk_data_ready" or not filled["end"]:
    fail("the retransmitted 102 was not delivered: %s" % filled)
for n in (101, 103, 104):
    hs, i = rx[n]
    after = [h["hook"] for h in hs[i + 1:] if h["hook"] != "fib_table_lookup"]
    if after != ["tcp_probe", "sk_data_ready"] or not hs[-1]["end"] or \
            hs[-1]["backlog"] or hs[-2]["backlog"]:
        fail("%d bytes: after b0 %s" % (n, after))
# the last ACK of the handshake wakes the listener: no payload, and its skb
# (freed before that) is not read
acks = [hs for hs in hops.values() if hs[-1]["hook"] == "sk_data_ready" and
        any(h["hook"] == "netif_receive_skb" and h["ifname"] == "b0" and h["len"] == 40 for h in hs)]
if len(acks) != 1 or acks[0][-1]["len"] != 0:
    fail("handshake ACK at the listener: %s" % [hs[-1] for hs in acks])
# 103 waits for the hole (104 may come after the retransmission)
hs = rx[103][0]
if hs[-2]["time_ns"] > hole[at]["time_ns"] or hs[-1]["time_ns"] < hole[at]["time_ns"]:
    fail("103 bytes: not delivered once the hole was filled: %s" % hs[-2:])
if hs[-1]["delta_ns"] < hole[at]["time_ns"] - hs[-2]["time_ns"]:
    fail("103 bytes: its delivery does not show the wait")
'
}

# TCP over IPv6: each data segment ends at its socket (tcp_probe, then
# sk_data_ready with its payload), the last ACK of the handshake at the
# listener with length 0.
# tcp_100_200 ADDR PORT [TRACER OPTIONS...]: trace a connection from a to
# ADDR:PORT in b carrying a 100-byte then a 200-byte segment, until both
# are delivered; the trace is tr.
tcp_100_200() {
	local addr=$1 port=$2 p
	shift 2
	tcp_scripts
	tracer tr "tcp and dst host $addr and dst port $port" -d 30 -j "$@"
	bg_start rx ip netns exec "$(ns b)" "$PY" "$TMP/hold.py" "$addr" "$port" 300 -
	wait_for "$TMP/rx.out" '^ready' 10
	bg_start tx ip netns exec "$(ns a)" "$PY" "$TMP/send.py" "$addr" "$port" 0:100 0:200
	wait_for "$TMP/rx.out" '^received 300' 20 || fail "receiver: $(cat "$TMP/rx.err")"
	for p in 100 200; do
		wait_for "$TMP/tr.out" "\"hook\":\"sk_data_ready\".*\"len\":$p,.*\"end\":true" 20
	done
	bg_stop tr
}

test_tcp_ipv6_delivery() {
	pair6
	tcp_100_200 fd13:213::2 5303
	check tr '
ends = {}
for t, hs in hops.items():
    last = hs[-1]
    if last["hook"] == "sk_data_ready" and last["end"]:
        ends[last["len"]] = hs
        if last["netns"] != ns["b"] or last["dport"] != 5303 or \
                last["saddr"] != "fd13:213::1" or last.get("backlog"):
            fail("delivery hop %s" % last)
if sorted(ends) != [0, 100, 200]:
    fail("deliveries of %s bytes, want the ACK (0), 100 and 200" % sorted(ends))
for n in (100, 200):
    if ends[n][-2]["hook"] != "tcp_probe":
        fail("%d bytes: no tcp_probe before the delivery: %s" % (n, ends[n][-2:]))
'
}

# Without tcp_probe (--hooks), a TCP segment still ends at its socket with
# its payload length, taken at reception: by the wakeup TCP may have freed
# the skb (merged into the queue's tail, or the handshake's ACK).
test_tcp_delivery_without_tcp_probe() {
	pair
	in_ns a sysctl -qw net.ipv4.tcp_timestamps=0
	tcp_100_200 10.213.1.2 5304 \
		--hooks netif_receive_skb,sk_data_ready,consume_skb,kfree_skb
	check tr '
ends = {}
for t, hs in hops.items():
    if hs[-1]["hook"] == "sk_data_ready" and hs[-1]["end"]:
        rx = [h for h in hs if h["hook"] == "netif_receive_skb"]
        ends[hs[-1]["len"]] = rx[0]["len"] - 40 if rx else None
if sorted(ends) != [0, 100, 200]:
    fail("deliveries of %s bytes, want the ACK (0), 100 and 200" % sorted(ends))
if any(ends[n] != n for n in ends):
    fail("delivered lengths against received payloads: %s" % ends)
'
}

# tcp_peer_script: $TMP/peer.py ROLE PORT WHAT FILE, one end of a TCP
# connection to 10.213.1.2 (pair's b): ROLE listen (prints "ready") or
# connect; WHAT recv:N (reads N bytes, prints "received N") or
# send:COUNTxSIZE[/GAP_MS]; then it keeps the connection until FILE exists.
tcp_peer_script() {
	cat >"$TMP/peer.py" <<'EOF2'
import os, socket, sys, time
role, port, what, close = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
if role == "listen":
    l = socket.socket()
    l.bind(("10.213.1.2", port))
    l.listen(1)
    print("ready", flush=True)
    s, _ = l.accept()
else:
    s = socket.create_connection(("10.213.1.2", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.settimeout(20)
what, _, arg = what.partition(":")
if what == "recv":
    n = 0
    while n < int(arg):
        d = s.recv(65536)
        if not d:
            break
        n += len(d)
    print("received", n, flush=True)
else:
    count, _, size = arg.partition("x")
    size, _, gap = size.partition("/")
    for _ in range(int(count)):
        s.sendall(b"y" * int(size))
        time.sleep(int(gap or 0) / 1000)
for _ in range(2000):
    if os.path.exists(close):
        break
    time.sleep(0.01)
EOF2
}

# Pure ACKs end at tcp_probe. a sends ten 100-byte segments, 20 ms
# apart, to b; the tracer follows what b sends to a: the SYN-ACK and the
# ACKs of a's data, which carry no data: TCP frees them after tcp_ack
# without a tracepoint, so each ends at its tcp_probe (in the softirq, or
# from the backlog when a was still in send()). No ACK is left open for
# an skb at the same address to continue, and the counters count them as
# ended. The tracer stops before the connection is closed.
tcp_pure_acks_end() {
	pair
	tcp_peer_script
	tracer tr 'tcp and src host 10.213.1.2 and src port 5305' -d 60 -j "$@"
	bg_start srv ip netns exec "$(ns b)" "$PY" "$TMP/peer.py" listen 5305 recv:1000 "$TMP/close"
	wait_for "$TMP/srv.out" '^ready' 10 || fail "server: $(cat "$TMP/srv.err")"
	bg_start cli ip netns exec "$(ns a)" "$PY" "$TMP/peer.py" connect 5305 send:10x100/20 "$TMP/close"
	wait_for "$TMP/srv.out" '^received 1000' 20 || fail "server: $(cat "$TMP/srv.out" "$TMP/srv.err")"
	sleep 0.2 # the last ACKs reach a
	bg_stop tr
	touch "$TMP/close"
	check tr '
# trace 1 is the SYN-ACK: a socket in SYN_SENT frees it without a
# tracepoint; the next ACK from b, at its address, is another segment and
# starts a trace of its own (see test_tcp_address_reuse)
for t, hs in hops.items():
    if [h["hook"] for h in hs].count("net_dev_queue") != 1:
        fail("trace %d holds more than one packet: %s" % (t, path(t)))
acks = [hs for t, hs in hops.items() if t > 1 and any(h["hook"] == "tcp_probe" for h in hs)]
if len(acks) < 5:
    fail("%d traces reached tcp_probe, want the ACKs of 10 segments" % len(acks))
for hs in acks:
    last = hs[-1]
    rx = [h for h in hs if h["hook"] == "netif_receive_skb"]
    if last["hook"] != "tcp_probe" or not last["end"]:
        fail("an ACK did not end at tcp_probe: %s" % [h["hook"] for h in hs])
    if len(rx) != 1 or rx[0]["len"] - 20 != last["len"] or \
            last["netns"] != ns["a"] or last["sport"] != 5305:
        fail("not a pure ACK from b ending in a: %s" % hs)
ended = sum(hs[-1]["end"] for hs in hops.values())
if stats["ended"] != ended or stats["matched"] != len(hops) or ended < len(acks):
    fail("counters %s, %d traces ended" % (stats, ended))
'
}

test_tcp_pure_acks_end() {
	tcp_pure_acks_end
}

test_tcp_pure_acks_end_tracepoints() {
	no_btf tcp_pure_acks_end
}

# A segment TCP freed without a tracepoint (an ACK merged into the one
# before it in a socket's backlog: tcp_add_backlog, TCPBacklogCoalesce)
# leaves its address tracked; the next skb there (most likely a's next
# ACK: the slab hands the freed skb out again) is another segment, with
# other TCP numbers, and starts its own trace instead of continuing the
# old one, which counts as expired (stale). b sends 400 KB to a, holding
# its socket in send() while a's ACKs arrive; the tracer follows a's ACKs.
tcp_address_reuse() {
	pair
	tcp_peer_script
	local merged0
	merged0=$(tcpext b TCPBacklogCoalesce)
	tracer tr 'tcp and dst host 10.213.1.2 and dst port 5306' -d 60 -j "$@"
	bg_start srv ip netns exec "$(ns b)" "$PY" "$TMP/peer.py" listen 5306 send:4x100000 "$TMP/close"
	wait_for "$TMP/srv.out" '^ready' 10 || fail "server: $(cat "$TMP/srv.err")"
	bg_start cli ip netns exec "$(ns a)" "$PY" "$TMP/peer.py" connect 5306 recv:400000 "$TMP/close"
	wait_for "$TMP/cli.out" '^received 400000' 20 || fail "client: $(cat "$TMP/cli.out" "$TMP/cli.err")"
	sleep 0.2 # the last ACKs reach b
	bg_stop tr
	touch "$TMP/close"
	check tr "
merged = $(tcpext b TCPBacklogCoalesce) - $merged0
"'
for t, hs in hops.items():
    names = [h["hook"] for h in hs]
    if names.count("net_dev_queue") != 1 or names.count("netif_receive_skb") > 1:
        fail("trace %d holds more than one packet: %s" % (t, path(t)))
left = [t for t, hs in hops.items() if not hs[-1]["end"]]
# open traces whose address a later trace started at: closed as stale
reused = [t for t in left if any(
    u != t and hops[u][0]["skbaddr"] == hops[t][-1]["skbaddr"] and
    hops[u][0]["time_ns"] > hops[t][-1]["time_ns"] for u in hops)]
print("merged", merged, "open", left, "reused", reused, "stats", stats,
      file=sys.stderr)
if stats["matched"] != len(hops) or stats["ended"] != len(hops) - len(left):
    fail("counters %s" % stats)
if stats["stale"] < len(reused):
    fail("%d traces closed at reuse, %d counted stale" % (len(reused), stats["stale"]))
if len(left) > merged:
    fail("%d traces open, %d ACKs merged" % (len(left), merged))
'
}

test_tcp_address_reuse() {
	tcp_address_reuse
}

test_tcp_address_reuse_tracepoints() {
	no_btf tcp_address_reuse
}

# Segments merged in b's backlog while b holds its socket, then sent again
# by a (tail loss probe, retransmission timeout: a's next skb of a segment
# is its fclone, at the address of the copy b merged and freed): the
# retransmission starts at a's net_dev_queue, in another namespace than
# the one the merged segment reached, so it is a new packet, not more hops
# of the merged one.
test_tcp_merged_then_retransmitted() {
	router_lab
	in_ns a ip route add default via 10.213.6.254
	tcp_scripts
	tracer tr 'tcp and dst host 10.213.8.2 and dst port 5307' -d 60 -j
	bg_start rx ip netns exec "$(ns b)" "$PY" "$TMP/hold.py" 10.213.8.2 5307 860 "$TMP/release"
	wait_for "$TMP/rx.out" '^(ready|no userfaultfd)' 10
	grep -q '^no userfaultfd' "$TMP/rx.out" && skip "$(cat "$TMP/rx.out")"
	bg_start tx ip netns exec "$(ns a)" "$PY" "$TMP/send.py" 10.213.8.2 5307 0:50 \
		"wait:$TMP/go" 16:201 16:202 16:203 16:204
	wait_for "$TMP/rx.out" '^holding' 10
	touch "$TMP/go"
	wait_for "$TMP/tx.out" '^sent' 10
	sleep 1 # a probes and retransmits while b holds the socket
	touch "$TMP/release"
	wait_for "$TMP/rx.out" '^received 860' 20
	sleep 0.5
	bg_stop tr
	check tr '
resent = 0
for t, hs in hops.items():
    names = [h["hook"] + "@" + h["ifname"] for h in hs]
    if names.count("net_dev_queue@a0") > 1:
        fail("trace %d holds more than one packet: %s" % (t, path(t)))
sizes = {}
for t, hs in hops.items():
    rx = [h for h in hs if h["hook"] == "netif_receive_skb" and h["ifname"] == "b0"]
    if rx:
        sizes.setdefault(rx[0]["len"] - 40, []).append(t)
resent = sum(len(v) - 1 for v in sizes.values())
print("traces per payload", sizes, "stats", stats, file=sys.stderr)
if not resent:
    fail("nothing was sent twice")
'
}

# ---- a full ring buffer ----

# udp_flood NS SRC DST PORT SEC: datagrams as fast as one socket sends,
# for SEC seconds.
udp_flood() {
	in_ns "$1" "$PY" - "$2" "$3" "$4" "$5" <<'EOF2'
import socket, sys, time
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
end = time.monotonic() + float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
while time.monotonic() < end:
    for _ in range(100):
        s.sendto(b"flood", (dst, port))
EOF2
}

# flood_traced NAME ARGS...: `sysflow tracepkt ARGS --buffer-size 4096
# -d 4` (one page, the smallest ring the kernel takes) piped into a slow
# reader (2 ms a line) while a sends matching datagrams (about seven hops
# each) as fast as it can for 1.5 s; returns tracepkt's exit status. Once
# the pipe is full the slow reader holds tracepkt in its writes, so the
# ring fills and frees a record at a time, in the middle of packets too.
flood_traced() {
	local name=$1 rc=0
	shift
	cat >"$TMP/slow.py" <<'EOF2'
import sys, time
for line in sys.stdin:
    sys.stdout.write(line)
    time.sleep(0.002)
EOF2
	bg_start "$name" bash -c 'set -o pipefail; "$@" | "$0" "'"$TMP/slow.py"'"' "$PY" \
		"$SYSFLOW" tracepkt 'udp and dst host 10.213.1.2 and dst port 5021' \
		--buffer-size 4096 -d 4 "$@"
	wait_for "$TMP/$name.err" "attached to" 20 || fail "$name did not start: $(tail -3 "$TMP/$name.err")"
	udp_flood a 10.213.1.1 10.213.1.2 5021 1.5
	bg_wait "$name" 30 || rc=$?
	return $rc
}

# A full ring buffer: hops that did not fit are counted as lost, in the
# JSON counters and on stderr with the CPUs; the hops read show the gaps
# (seq in JSON, "(N hops lost)" in text), never more than were counted;
# every hop written was read; exit 0.
test_ring_buffer_full() {
	local lost shown
	pair
	flood_traced rj -j || fail "tracepkt -j exited $?: $(tail -3 "$TMP/rj.err")"
	"$PY" - "$TMP/rj.out" <<'EOF2' || fail "JSON with a full ring buffer (in $TMP/rj.out)"
import json, sys
hops, stats = {}, None
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["type"] == "hop":
        hops.setdefault(o["trace_id"], []).append(o["seq"])
    else:
        stats = o
n = sum(map(len, hops.values()))
gaps = sum(max(s) + 1 - len(s) for s in hops.values())
print("traces", len(hops), "hops read", n, "gaps", gaps, "stats", stats, file=sys.stderr)
assert stats["lost"] > 0, "nothing lost"
assert sum(stats["lost_per_cpu"]) == stats["lost"], "per-CPU sum"
assert stats["hops"] == n, "hops written %d, read %d" % (stats["hops"], n)
assert 0 < gaps <= stats["lost"], "seq gaps %d, lost %d" % (gaps, stats["lost"])
assert all(s == sorted(set(s)) for s in hops.values()), "seq out of order"
EOF2
	grep -qE "[0-9]+ packets traced, [0-9]+ hops; [1-9][0-9]* hop events lost to a full ring buffer, cpu[0-9]+ [1-9]" "$TMP/rj.err" ||
		fail "no lost count on stderr: $(tail -3 "$TMP/rj.err")"

	flood_traced rt || fail "tracepkt exited $?: $(tail -3 "$TMP/rt.err")"
	lost=$(sed -nE 's/.* ([0-9]+) hop events lost to a full ring buffer.*/\1/p' "$TMP/rt.err")
	shown=$(sed -nE 's/^ +\((first )?([0-9]+) hops lost\)$/\2/p' "$TMP/rt.out" | awk '{ n += $1 } END { print n + 0 }')
	[ "${lost:-0}" -gt 0 ] || fail "text: nothing lost: $(tail -3 "$TMP/rt.err")"
	# text is written a block at a time, so the ring is freed in bursts
	# and gaps inside packets are rarer than with -j: not required here
	[ "$shown" -le "$lost" ] || fail "text: $shown hops shown lost, $lost counted"
}

# ---- malformed packets ----

# inject NS IFACE DST_MAC KIND...: one Ethernet frame per KIND from an
# AF_PACKET socket on IFACE, 10.213.1.1 > 10.213.1.2, port 5031: valid
# (UDP), short_ip (12 bytes of IPv4 header), bad_ihl (IHL 4 in a full
# IPv4/UDP packet), short_tcp (IPv4, then 10 bytes of TCP header),
# bare_vlan (an 802.1Q tag, then nothing).
inject() {
	in_ns "$1" "$PY" - "$2" "$3" "${@:4}" <<'EOF2'
import socket, struct, sys
ifname, dst, kinds = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), sys.argv[3:]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
src = s.getsockname()[4]
def csum(b):
    n = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    n = (n >> 16) + (n & 0xffff)
    return ~(n + (n >> 16)) & 0xffff
def ip(proto, payload, ihl=5):
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(payload), 1, 0x4000,
                    64, proto, 0, socket.inet_aton("10.213.1.1"),
                    socket.inet_aton("10.213.1.2"))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload
udp = struct.pack("!HHHH", 40000, 5031, 8 + 9, 0) + b"malformed"
frames = {
    "valid": (0x0800, ip(17, udp)),
    "short_ip": (0x0800, ip(17, udp)[:12]),
    "bad_ihl": (0x0800, ip(17, udp, ihl=4)),
    "short_tcp": (0x0800, ip(6, struct.pack("!HHI", 40000, 5031, 1) + b"\0\0")),
    "bare_vlan": (0x8100, struct.pack("!HH", 7, 0x0800)),
}
for k in kinds:
    etype, body = frames[k]
    s.send(dst + src + struct.pack("!H", etype) + body)
EOF2
}

# Frames tracepkt cannot parse are not matched; what it parsed is: a
# tracer on 'dst port 5031' takes none of the malformed ones (the port
# is in bad_ihl's bytes, but a header that does not parse tells nothing),
# one on 'tcp and dst host' takes the truncated TCP segment (protocol and
# addresses were parsed, ports were not needed), without ports; and
# frames whose IP header does not parse are taken for packets that are
# not IP: 'not ip and not ip6' in b takes them and the bare VLAN tag. The
# tracers keep running and trace the valid datagram sent after them.
test_malformed_frames() {
	local mb
	pair
	mb=$(mac b b0)
	tracer mp 'udp and dst host 10.213.1.2 and dst port 5031' -d 60 -j
	tracer mt 'tcp and dst host 10.213.1.2' -d 60 -j
	tracer mn --netns "$(ns b)" 'not ip and not ip6' -d 60 -j
	inject a a0 "$mb" short_ip bad_ihl short_tcp bare_vlan short_ip bad_ihl short_tcp bare_vlan
	inject a a0 "$mb" valid
	wait_for "$TMP/mp.out" '"trace_id":1,.*"end":true' 20 || fail "the valid datagram was not traced"
	wait_for "$TMP/mt.out" '"trace_id":2,.*"end":true' 20 || fail "the truncated TCP segments were not traced"
	sleep 0.2 # a stray trace would show now
	wait_for "$TMP/mn.out" '"trace_id":6,.*"end":true' 20 || fail "frames that do not parse were not taken for not IP"
	local n
	for n in mp mt mn; do
		kill -0 "$(cat "$TMP/$n.pid")" || fail "tracer $n stopped: $(tail -3 "$TMP/$n.err")"
	done
	for n in mp mt mn; do
		bg_stop "$n" || fail "tracepkt exited $?: $(tail -3 "$TMP/$n.err")"
	done
	check mp '
if sorted(hops) != [1] or stats["matched"] != 1:
    fail("want only the valid datagram: %s" % stats)
h = [h for h in hops[1] if h.get("dport")][0]
if (h["saddr"], h["daddr"], h["sport"], h["dport"]) != ("10.213.1.1", "10.213.1.2", 40000, 5031):
    fail("traced %s" % h)
'
	check mt '
if sorted(hops) != [1, 2] or stats["matched"] != 2:
    fail("want the two truncated TCP segments: %s" % stats)
for hs in hops.values():
    if hs[0]["proto_name"] != "tcp" or "dport" in hs[0] or not hs[-1]["end"] or \
            hs[-1]["hook"] != "kfree_skb":
        fail("trace %s" % hs)
'
	check mn '
if sorted(hops) != [1, 2, 3, 4, 5, 6] or stats["matched"] != 6:
    fail("want short_ip, bad_ihl, bare_vlan twice each: %s" % stats)
if any("ip_version" in hs[0] or hs[0]["netns"] != ns["b"] for hs in hops.values()):
    fail("a frame with readable headers was taken: %s" % [hs[0] for hs in hops.values()])
'
}

# ---- stopping by itself, usage errors ----

test_duration_and_errors() {
	local rc=0 t0
	t0=$(date +%s)
	"$SYSFLOW" tracepkt 'host 10.213.77.77' -d 1 -j >"$TMP/d.out" 2>"$TMP/d.err" || rc=$?
	[ "$rc" -eq 0 ] || fail "-d 1 exited $rc: $(cat "$TMP/d.err")"
	[ $(($(date +%s) - t0)) -lt 20 ] || fail "-d 1 took too long"
	grep -q '"type":"stats","matched":0' "$TMP/d.out" || fail "no stats: $(cat "$TMP/d.out")"

	# an interface in no namespace: most often a typo, said once; traced
	# anyway (it may come later)
	rc=0; "$SYSFLOW" tracepkt -i sftnosuch0 'host 10.213.77.77' -d 1 -j >"$TMP/d.out" 2>"$TMP/d.err" || rc=$?
	[ "$rc" -eq 0 ] || fail "-i sftnosuch0 exited $rc: $(cat "$TMP/d.err")"
	assert_eq "$(grep -c "warn: no interface sftnosuch0 in this namespace or in /run/netns/\*; tracing packets on any interface that takes that name$" "$TMP/d.err")" 1 \
		"warnings for an interface in no namespace ($(cat "$TMP/d.err"))"
	grep -q '"type":"stats","matched":0' "$TMP/d.out" || fail "-i sftnosuch0: no stats: $(cat "$TMP/d.out")"
	rc=0; "$SYSFLOW" tracepkt -i sft-sixteen-chars >/dev/null 2>"$TMP/e.err" || rc=$?
	[ "$rc" -eq 2 ] && grep -q "invalid value 'sft-sixteen-chars' for --iface: an interface name has 1 to 15 characters" "$TMP/e.err" ||
		fail "--iface too long: $rc $(cat "$TMP/e.err")"

	rc=0; "$SYSFLOW" tracepkt 'tcp and port 99999' >"$TMP/e.out" 2>"$TMP/e.err" || rc=$?
	[ "$rc" -eq 2 ] || fail "bad filter exited $rc"
	grep -q "bad filter: column 14: '99999' is not a port number" "$TMP/e.err" || fail "$(cat "$TMP/e.err")"
	grep -q '^               \^$' "$TMP/e.err" || fail "no caret under the column: $(cat "$TMP/e.err")"
	rc=0; "$SYSFLOW" tracepkt --mark 0x2a/zz >/dev/null 2>"$TMP/e.err" || rc=$?
	[ "$rc" -eq 2 ] && grep -q "invalid value '0x2a/zz' for --mark" "$TMP/e.err" || fail "--mark: $rc $(cat "$TMP/e.err")"
	rc=0; "$SYSFLOW" tracepkt --mark 0x2a/0 >/dev/null 2>"$TMP/e.err" || rc=$?
	[ "$rc" -eq 2 ] && grep -q "a MASK of 0 compares no bit" "$TMP/e.err" || fail "--mark X/0: $rc $(cat "$TMP/e.err")"
	rc=0; "$SYSFLOW" tracepkt --mark 0x12a/0xff >/dev/null 2>"$TMP/e.err" || rc=$?
	[ "$rc" -eq 2 ] && grep -q "MARK has bits outside MASK" "$TMP/e.err" || fail "--mark outside mask: $rc $(cat "$TMP/e.err")"
	rc=0; "$SYSFLOW" tracepkt --hooks net_dev_queue,bogus >/dev/null 2>"$TMP/e.err" || rc=$?
	[ "$rc" -eq 2 ] && grep -q "unknown tracepoint 'bogus'" "$TMP/e.err" || fail "--hooks: $rc $(cat "$TMP/e.err")"
	rc=0; "$SYSFLOW" tracepkt --buffer-size 5000 >/dev/null 2>"$TMP/e.err" || rc=$?
	[ "$rc" -eq 2 ] && grep -q "invalid value '5000' for --buffer-size: not a power of two" "$TMP/e.err" ||
		fail "--buffer-size 5000: $rc $(cat "$TMP/e.err")"
	rc=0; "$SYSFLOW" tracepkt --buffer-size 2048 >/dev/null 2>"$TMP/e.err" || rc=$?
	[ "$rc" -eq 2 ] && grep -q "invalid value '2048' for --buffer-size: expected a number from 4096" "$TMP/e.err" ||
		fail "--buffer-size 2048: $rc $(cat "$TMP/e.err")"
	rc=0; "$SYSFLOW" tracepkt --netns sft-no-such-ns >/dev/null 2>"$TMP/e.err" || rc=$?
	[ "$rc" -eq 1 ] && grep -q "unknown network namespace 'sft-no-such-ns'" "$TMP/e.err" || fail "--netns: $rc $(cat "$TMP/e.err")"
	# a file that is not a network namespace has an inode number too
	rc=0; "$SYSFLOW" tracepkt --netns /proc/self/ns/mnt >/dev/null 2>"$TMP/e.err" || rc=$?
	[ "$rc" -eq 1 ] && grep -q "'/proc/self/ns/mnt' is not a network namespace" "$TMP/e.err" ||
		fail "--netns of a mount namespace: $rc $(cat "$TMP/e.err")"
	rc=0; "$SYSFLOW" tracepkt --netns "$TMP/e.out" >/dev/null 2>"$TMP/e.err" || rc=$?
	[ "$rc" -eq 1 ] && grep -q "'$TMP/e.out' is not a network namespace" "$TMP/e.err" ||
		fail "--netns of a plain file: $rc $(cat "$TMP/e.err")"
	rc=0; "$SYSFLOW" tracepkt icmp and host 10.0.0.1 >/dev/null 2>"$TMP/e.err" || rc=$?
	[ "$rc" -eq 2 ] || fail "unquoted filter exited $rc"
	grep -q "'FILTER' is one argument: quote it, as in sysflow tracepkt 'icmp and ...'" \
		"$TMP/e.err" || fail "no hint to quote the filter: $(cat "$TMP/e.err")"
}

# Two tracers at once share nothing: each sees every hop of the packets.
test_two_tracers() {
	pair
	tracer t1 -j 'icmp and host 10.213.1.2'
	tracer t2 -j 'icmp and host 10.213.1.2'
	in_ns a ping -q -c 2 -i 0.2 10.213.1.2 >/dev/null
	wait_for "$TMP/t1.out" '"trace_id":4,' 10 # 2 requests, 2 replies
	wait_for "$TMP/t2.out" '"trace_id":4,' 10
	bg_stop t1 INT || fail "first tracer exited $?"
	bg_stop t2 INT || fail "second tracer exited $?"
	assert_eq "$(grep -c '"type":"hop"' "$TMP/t2.out")" "$(grep -c '"type":"hop"' "$TMP/t1.out")" \
		"hops seen by the second tracer"
}

# SIGTERM ends a trace as Ctrl-C does: the hops so far, the counters, 0.
test_sigterm() {
	pair
	tracer tt -j 'icmp and host 10.213.1.2'
	in_ns a ping -q -c 2 -i 0.2 10.213.1.2 >/dev/null
	wait_for "$TMP/tt.out" '"type":"hop"' 10
	bg_stop tt TERM || fail "tracepkt exited $? on SIGTERM: $(tail -n 3 "$TMP/tt.err")"
	grep -q '"type":"stats"' "$TMP/tt.out" || fail "no counters after SIGTERM"
}

# tracepkt -j | head -1 ends quietly with 0 at its next write once the
# reader left; stdout on a full disk is named, exit 1, the counters still
# on stderr.
test_reader_gone_and_full_disk() {
	local rc=0
	pair
	bg_start th bash -c 'set -o pipefail; "$@" | head -1 >/dev/null' bash \
		"$SYSFLOW" tracepkt -j 'icmp and host 10.213.1.2'
	wait_for "$TMP/th.err" "Ctrl-C to end" 20
	in_ns a ping -q -c 3 -i 0.2 10.213.1.2 >/dev/null
	bg_wait th 10 || rc=$?
	assert_eq "$rc" 0 "tracepkt -j | head -1: exit status"
	! grep -qE "error|Broken pipe|Sanitizer" "$TMP/th.err" || fail "said: $(cat "$TMP/th.err")"

	full_tmpfs "$TMP/full"
	bg_start tf sh -c 'exec "$@" >"$0"' "$TMP/full/hops.json" "$SYSFLOW" tracepkt -j \
		'icmp and host 10.213.1.2'
	wait_for "$TMP/tf.err" "Ctrl-C to end" 20
	in_ns a ping -q -c 3 -i 0.2 10.213.1.2 >/dev/null
	rc=0
	bg_wait tf 10 || rc=$?
	assert_eq "$rc" 1 "tracepkt -j on a full disk: exit status"
	grep -q "^sysflow: error: writing to stdout failed: No space left on device" "$TMP/tf.err" ||
		fail "not named: $(cat "$TMP/tf.err")"
	grep -qE "^[0-9]+ packets traced, [0-9]+ hops" "$TMP/tf.err" || fail "no counters: $(cat "$TMP/tf.err")"
}

run_tests "$@"
