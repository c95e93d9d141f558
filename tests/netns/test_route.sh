#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# test_route.sh: `sysflow route` against the real kernel. A client and two
# servers sit behind a router namespace (the "host"); the TC program on the
# router's client-side interface steers UDP to the server a rule names,
# checked by what each server's sink receives. The servers share a service
# address (VIP) that the router's kernel has no route for, so a packet
# that no rule steers is lost, and counting shows it.
source "$(dirname "$0")/lib.sh"

VIP=10.99.0.10
PIN=/sys/fs/bpf/sysflow-test-route-$$
PY=/usr/bin/python3

# rnet NS CMD...: run CMD in the namespace's network only, keeping our
# mounts (pins under /sys/fs/bpf must outlive each command).
rnet() { local n=$1; shift; nsenter --net="/run/netns/$(ns "$n")" "$@"; }
route() { rnet r "$SYSFLOW" route "$@" --pin-dir "$PIN"; }
REPO_DIR=$(cd "$(dirname "$0")/../.." && pwd)
mac() { in_ns "$1" cat "/sys/class/net/$2/address"; }

# link NS_A IF_A ADDR_A NS_B IF_B ADDR_B: a veth with /24 addresses and
# static neighbours both ways.
link() {
	ip link add "$2" netns "$(ns "$1")" type veth peer name "$5" netns "$(ns "$4")"
	in_ns "$1" ip addr add "$3/24" dev "$2"
	in_ns "$4" ip addr add "$6/24" dev "$5"
	in_ns "$1" ip link set "$2" up
	in_ns "$4" ip link set "$5" up
	in_ns "$1" ip neigh replace "$6" lladdr "$(mac "$4" "$5")" dev "$2" nud permanent
	in_ns "$4" ip neigh replace "$3" lladdr "$(mac "$1" "$2")" dev "$5" nud permanent
}

lab_up() {
	local n
	for n in c r s1 s2; do
		ns_add "$n"
		# no IPv6 and so no router solicitations: every packet counts
		in_ns "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done
	on_exit "nsenter --net='$(ns_path r)' '$SYSFLOW' route del --pin-dir '$PIN'"
	on_exit "rm -rf $PIN"
	link c c0 10.10.0.2 r rc 10.10.0.1
	link r rs1 10.11.0.1 s1 s1e 10.11.0.2
	link r rs2 10.12.0.1 s2 s2e 10.12.0.2
	in_ns c ip addr add 10.10.0.3/24 dev c0
	in_ns r ip neigh replace 10.10.0.3 lladdr "$(mac c c0)" dev rc nud permanent
	in_ns c ip route add default via 10.10.0.1
	in_ns s1 ip route add default via 10.11.0.1
	in_ns s2 ip route add default via 10.12.0.1
	in_ns s1 ip addr add "$VIP/32" dev lo
	in_ns s2 ip addr add "$VIP/32" dev lo
	in_ns r sysctl -qw net.ipv4.ip_forward=1
	write_tools
}

# sink.py OUT: count UDP datagrams per destination port; each payload
# starts with a sequence number. Prints "ready", then "n=N" every 100;
# on SIGTERM writes "PORT SEQ" lines to OUT.
# send.py DST PORT N RATE [SRC]: N datagrams paced at RATE per second.
write_tools() {
	cat >"$TMP/sink.py" <<'EOF'
import select, signal, socket, struct, sys
socks = []
for port in range(5000, 5010):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE
    s.bind(("0.0.0.0", port))
    s.setblocking(False)
    socks.append(s)
got = []
def stop(*_):
    with open(sys.argv[1], "w") as f:
        for port, seq in got:
            f.write("%d %d\n" % (port, seq))
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
print("ready", flush=True)
while True:
    r, _, _ = select.select(socks, [], [])
    for s in r:
        while True:
            try:
                data = s.recv(64)
            except BlockingIOError:
                break
            got.append((s.getsockname()[1], struct.unpack("!I", data[:4])[0]))
            if len(got) % 100 == 0:
                print("n=%d" % len(got), flush=True)
EOF
	cat >"$TMP/send.py" <<'EOF'
import socket, struct, sys, time
dst, port, n, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if len(sys.argv) > 5:
    s.bind((sys.argv[5], 0))
t0 = time.monotonic()
for i in range(n):
    s.sendto(struct.pack("!I", i) + b"x" * 28, (dst, port))
    if i % 20 == 19:
        ahead = t0 + (i + 1) / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
print("sent %d" % n, flush=True)
EOF
}

sinks_start() {
	bg_start sink1 nsenter --net="/run/netns/$(ns s1)" "$PY" -u "$TMP/sink.py" "$TMP/s1.got"
	bg_start sink2 nsenter --net="/run/netns/$(ns s2)" "$PY" -u "$TMP/sink.py" "$TMP/s2.got"
	wait_for "$TMP/sink1.out" '^ready' 10
	wait_for "$TMP/sink2.out" '^ready' 10
}

# sinks_stop: the sinks write what they got; then count PORT [SEQ-FILE].
sinks_stop() {
	bg_stop sink1 TERM || true
	bg_stop sink2 TERM || true
}
count() { # FILE PORT
	awk -v p="$2" '$1 == p' "$1" | wc -l
}

send() { rnet c "$PY" "$TMP/send.py" "$@" >/dev/null; }

# config FILE RULES_JSON: one hook on the router's client side.
config() {
	cat >"$1" <<EOF
{
  "attach": [ { "iface": "rc", "hook": "ingress" } ],
  "tenants": [
    { "name": "lab",
      "subnets": [ { "name": "clients", "prefix": "10.10.0.0/24" } ],
      "devices": [
        { "device": "rs1", "name": "server1", "address": "10.11.0.2", "mac": "$(mac s1 s1e)" },
        { "device": "rs2", "name": "server2", "address": "10.12.0.2", "mac": "$(mac s2 s2e)" }
      ] }
  ],
  "rules": [ $2 ]
}
EOF
}

# show_rule NAME FIELD: a rule's field from `route show -j`.
show_rule() {
	route show -j | "$PY" -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if o.get("record") == "rule" and o["name"] == sys.argv[1]:
        print(o[sys.argv[2]])' "$1" "$2"
}
show_stat() {
	route show -j | "$PY" -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if o.get("record") == "status":
        print(o["stats"][sys.argv[1]])' "$1"
}

# Rules steer by port, source and action kind; each server gets exactly
# its share, dropped and unknown traffic reaches nobody.
test_steer() {
	lab_up
	config "$TMP/r.json" '
    { "priority": 10, "name": "to-s1", "in_iface": "rc", "proto": "udp",
      "dst": "'$VIP'/32", "dport": 5001, "action": "redirect", "device": "server1" },
    { "priority": 20, "name": "from-10.10.0.3-to-server2", "src": "10.10.0.3/32", "dst": "'$VIP'/32",
      "action": "redirect_neigh", "out_iface": "rs2", "via": "10.12.0.2" },
    { "priority": 30, "name": "peer-s1", "src": "clients", "proto": "udp",
      "dport": "5003-5004", "action": "redirect_peer", "out_iface": "rs1",
      "dst_mac": "'"$(mac s1 s1e)"'" },
    { "priority": 25, "name": "drop-5004", "proto": "udp", "dport": 5004,
      "action": "drop" }'
	route check "$TMP/r.json" >/dev/null || fail "check refused the config"
	route apply "$TMP/r.json" || fail "apply failed"
	sinks_start
	send "$VIP" 5001 300 20000            # to-s1
	send "$VIP" 5002 300 20000 10.10.0.3  # from-10.10.0.3-to-server2 (any port)
	send "$VIP" 5003 300 20000            # peer-s1
	send "$VIP" 5004 300 20000            # drop-5004 wins over peer-s1
	send 10.11.0.2 5005 300 20000         # no rule: kernel forwarding
	send 10.12.0.2 5006 300 20000         # no rule: kernel forwarding
	wait_for "$TMP/sink1.out" '^n=900$' 10
	wait_for "$TMP/sink2.out" '^n=600$' 10
	sinks_stop
	assert_eq "$(count "$TMP/s1.got" 5001)" 300 "server1 via redirect"
	assert_eq "$(count "$TMP/s2.got" 5001)" 0 "server2 on 5001"
	assert_eq "$(count "$TMP/s2.got" 5002)" 300 "server2 via redirect_neigh"
	assert_eq "$(count "$TMP/s1.got" 5002)" 0 "server1 on 5002"
	assert_eq "$(count "$TMP/s1.got" 5003)" 300 "server1 via redirect_peer"
	assert_eq "$(count "$TMP/s1.got" 5004)$(count "$TMP/s2.got" 5004)" 00 "dropped"
	assert_eq "$(count "$TMP/s1.got" 5005)" 300 "server1 through the kernel"
	assert_eq "$(count "$TMP/s2.got" 5006)" 300 "server2 through the kernel"
	assert_eq "$(show_rule to-s1 packets)" 300 "to-s1 counter"
	assert_eq "$(show_rule from-10.10.0.3-to-server2 packets)" 300 "from-10.10.0.3-to-server2 counter"
	assert_eq "$(show_rule peer-s1 packets)" 300 "peer-s1 counter"
	assert_eq "$(show_rule drop-5004 packets)" 300 "drop counter"
	assert_eq "$(show_rule to-s1 bytes)" $((300 * 74)) "to-s1 bytes"
	[ "$(show_stat unmatched)" -ge 600 ] || fail "unmatched $(show_stat unmatched) < 600"
	route show >"$TMP/show.txt"
	grep -q "redirect rs1 to $(mac s1 s1e)" "$TMP/show.txt" || fail "text show: $(cat "$TMP/show.txt")"
	# a name longer than 16 widens the NAME column: the counts stay under
	# their headers
	"$PY" - "$TMP/show.txt" <<'PY' || fail "text show's columns: $(cat "$TMP/show.txt")"
import re, sys
lines = open(sys.argv[1]).read().splitlines()
head = [l for l in lines if l.startswith("PRIORITY")][0]
end = head.index("PACKETS") + len("PACKETS")
rules = [l for l in lines if re.match(r"\d+ ", l)]
assert len(rules) == 4 and any("from-10.10.0.3-to-server2" in l for l in rules), rules
for l in rules:
    assert l[end - 1].isdigit() and l[end] == " ", (head, l)
PY
	# without the rules the VIP is unreachable: the steering was ours
	route del || fail "del failed"
	[ ! -e "$PIN" ] || fail "pins left in $PIN"
	[[ "$(in_ns r tc qdisc show dev rc)" != *clsact* ]] || fail "clsact left on rc"
	sinks_start
	send "$VIP" 5001 100 20000
	send 10.11.0.2 5005 100 20000
	wait_for "$TMP/sink1.out" '^n=100$' 10 || true
	sinks_stop
	assert_eq "$(count "$TMP/s1.got" 5001)" 0 "VIP without rules"
	assert_eq "$(count "$TMP/s1.got" 5005)" 100 "kernel path after del"
}

# The path switches from server1 to server2 while packets flow; every
# packet arrives exactly once on one side or the other.
test_update_under_traffic() {
	local n=20000 a b prog1 prog2
	lab_up
	config "$TMP/v1.json" '{ "priority": 10, "name": "steer", "proto": "udp",
	  "dst": "'$VIP'/32", "dport": 5000, "action": "redirect", "device": "server1" }'
	config "$TMP/v2.json" '{ "priority": 10, "name": "steer", "proto": "udp",
	  "dst": "'$VIP'/32", "dport": 5000, "action": "redirect", "device": "server2" },
	  { "priority": 5, "name": "other", "proto": "tcp", "action": "pass" }'
	route apply "$TMP/v1.json" || fail "apply failed"
	prog1=$(in_ns r tc filter show dev rc ingress | grep -o ' id [0-9]*' | sed -n 1p)
	sinks_start
	bg_start sender nsenter --net="/run/netns/$(ns c)" "$PY" "$TMP/send.py" "$VIP" 5000 $n 10000
	wait_for "$TMP/sink1.out" '^n=2000$' 10
	route update "$TMP/v2.json" || fail "update failed"
	bg_wait_sender
	wait_until_total $n
	sinks_stop
	a=$(count "$TMP/s1.got" 5000)
	b=$(count "$TMP/s2.got" 5000)
	info "server1 got $a, server2 got $b of $n"
	[ "$a" -ge 2000 ] && [ "$b" -ge 1000 ] || fail "no switch: $a / $b"
	assert_eq $((a + b)) $n "packets received on both sides"
	assert_eq "$(cat "$TMP/s1.got" "$TMP/s2.got" | sort -u | wc -l)" $n "distinct sequence numbers"
	# s1 got a prefix of the sequence, s2 the rest: one switch point
	local last1 first2
	last1=$(awk '{print $2}' "$TMP/s1.got" | sort -n | tail -1)
	first2=$(awk '{print $2}' "$TMP/s2.got" | sort -n | sed -n 1p)
	[ "$last1" -lt $((first2 + 50)) ] || fail "paths interleaved: s1 up to $last1, s2 from $first2"
	prog2=$(in_ns r tc filter show dev rc ingress | grep -o ' id [0-9]*' | sed -n 1p)
	assert_eq "$prog2" "$prog1" "the program stayed attached"
	assert_eq "$(show_rule steer packets)" $n "counter carried across the update"
	assert_eq "$(show_rule steer out_iface)" rs2 "active rule after update"
	[[ "$(route show -j)" == *'"updates":1,'* ]] || fail "update not counted"
}

bg_wait_sender() {
	local i pid
	pid=$(cat "$TMP/sender.pid")
	for ((i = 0; i < 400; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	fail "sender still running"
}

# Wait until the sinks' progress lines add up to the total (bounded).
wait_until_total() {
	local i a b
	for ((i = 0; i < 200; i++)); do
		a=$(grep -c '^n=' "$TMP/sink1.out" || true)
		b=$(grep -c '^n=' "$TMP/sink2.out" || true)
		[ $(((a + b) * 100)) -ge $(($1 - 100)) ] && return 0
		sleep 0.05
	done
}

# Rules for the VIP only: ping and UDP to the servers' own addresses are
# not touched and go through the kernel, in both directions.
test_unmatched_through_kernel() {
	lab_up
	config "$TMP/r.json" '{ "priority": 1, "name": "vip", "dst": "'$VIP'/32",
	  "action": "redirect", "device": "server1" }'
	route apply "$TMP/r.json" || fail "apply failed"
	rnet c ping -c 20 -i 0.01 -W 1 -q 10.11.0.2 >"$TMP/p1" || fail "ping server1: $(cat "$TMP/p1")"
	rnet c ping -c 20 -i 0.01 -W 1 -q 10.12.0.2 >"$TMP/p2" || fail "ping server2: $(cat "$TMP/p2")"
	grep -q ' 0% packet loss' "$TMP/p1" || fail "loss to server1: $(cat "$TMP/p1")"
	grep -q ' 0% packet loss' "$TMP/p2" || fail "loss to server2: $(cat "$TMP/p2")"
	assert_eq "$(show_rule vip packets)" 0 "vip rule untouched"
	[ "$(show_stat unmatched)" -ge 40 ] || fail "unmatched $(show_stat unmatched)"
	# and the VIP, steered, answers through the kernel's way back
	rnet c ping -c 5 -i 0.01 -W 1 -q "$VIP" >"$TMP/p3" || fail "ping VIP: $(cat "$TMP/p3")"
	assert_eq "$(show_rule vip packets)" 5 "vip rule"
}

# A clsact qdisc that was there before apply stays after del, with the
# other filter on it; apply twice is refused; an update cannot change hooks.
test_foreign_qdisc_and_misuse() {
	lab_up
	in_ns r tc qdisc add dev rc clsact
	in_ns r tc filter add dev rc ingress pref 7 protocol ip matchall action pass 2>/dev/null ||
		in_ns r tc filter add dev rc ingress pref 7 protocol ip u32 match u32 0 0 action pass 2>/dev/null || true
	config "$TMP/r.json" '{ "priority": 1, "dst": "'$VIP'/32", "action": "drop" }'
	route apply "$TMP/r.json" || fail "apply failed"
	route apply "$TMP/r.json" 2>"$TMP/err" && fail "second apply accepted"
	grep -q "already applied" "$TMP/err" || fail "second apply: $(cat "$TMP/err")"
	cat >"$TMP/r2.json" <<EOF
{ "attach": [ { "iface": "rc" }, { "iface": "rc", "hook": "egress" } ],
  "rules": [ { "priority": 1, "action": "pass" } ] }
EOF
	route update "$TMP/r2.json" 2>"$TMP/err" && fail "update changed hooks"
	grep -q "attach list differs" "$TMP/err" || fail "update: $(cat "$TMP/err")"
	[[ "$(route show -j)" == *'"created_qdisc":false'* ]] || fail "qdisc claimed as ours"
	route del || fail "del failed"
	[[ "$(in_ns r tc qdisc show dev rc)" == *clsact* ]] || fail "foreign clsact removed"
	[[ "$(in_ns r tc filter show dev rc ingress)" != *tc_route* ]] || fail "our filter left"
	route del 2>"$TMP/err" && fail "del of nothing succeeded"
	grep -q "no route rules are applied" "$TMP/err" || fail "del: $(cat "$TMP/err")"
}

# An attached interface deleted (ip link del): show marks its hook, update
# names it, del removes the rest without a warning.
test_interface_deleted() {
	local idx rc=0
	lab_up
	cat >"$TMP/r.json" <<EOF
{ "attach": [ { "iface": "rc" }, { "iface": "rs1", "hook": "egress" } ],
  "rules": [ { "priority": 1, "action": "pass" } ] }
EOF
	route apply "$TMP/r.json" || fail "apply failed"
	idx=$(in_ns r cat /sys/class/net/rs1/ifindex)
	in_ns r ip link del rs1
	route show >"$TMP/show.out" || fail "show failed"
	grep -q "hooks: rc/ingress if$idx/egress (deleted)$" "$TMP/show.out" ||
		fail "show: $(head -1 "$TMP/show.out")"
	[[ "$(route show -j | head -1)" == *'{"iface":"if'$idx'","hook":"egress","created_qdisc":true,"prog_id":'*',"gone":true}'* ]] ||
		fail "show -j: $(route show -j | head -1)"
	route update "$TMP/r.json" 2>"$TMP/err" || rc=$?
	assert_eq "$rc" 1 "update with a deleted interface"
	grep -q "attach\[1\].iface: unknown interface 'rs1'" "$TMP/err" || fail "update: $(cat "$TMP/err")"
	route del 2>"$TMP/err" || fail "del failed: $(cat "$TMP/err")"
	grep -q "interface if$idx of the egress hook was deleted: its filter and qdisc went with it" "$TMP/err" ||
		fail "del: $(cat "$TMP/err")"
	! grep -q "warn" "$TMP/err" || fail "del warned: $(cat "$TMP/err")"
	[[ "$(in_ns r tc filter show dev rc ingress)" != *tc_route* ]] || fail "filter left on rc"
}

# Configuration errors name file, line and field, and leave nothing.
test_config_errors() {
	lab_up
	cat >"$TMP/bad.json" <<'EOF'
{
  "attach": [ { "iface": "rc" } ],
  "rules": [
    { "priority": 1, "dst": "10.0.0.0/33", "action": "drop" }
  ]
}
EOF
	route apply "$TMP/bad.json" 2>"$TMP/err" && fail "bad prefix accepted"
	grep -q "bad.json:4:22: rules\[0\].dst: bad prefix '10.0.0.0/33'" "$TMP/err" ||
		fail "bad prefix: $(cat "$TMP/err")"
	sed -i 's/"rc"/"nosuch0"/; s/10.0.0.0\/33/10.0.0.0\/8/' "$TMP/bad.json"
	route apply "$TMP/bad.json" 2>"$TMP/err" && fail "unknown interface accepted"
	grep -q "bad.json:2:17: attach\[0\].iface: unknown interface 'nosuch0'" "$TMP/err" ||
		fail "unknown interface: $(cat "$TMP/err")"
	[ ! -e "$PIN" ] || fail "pins left after a refused apply"
	local rc=0
	route apply 2>/dev/null || rc=$?
	assert_eq $rc 2 "apply without CONFIG"
	# a config for other interfaces: check --no-ifaces, and nothing else
	route check "$TMP/bad.json" 2>"$TMP/err" && fail "check accepted an unknown interface"
	route check --no-ifaces "$TMP/bad.json" >"$TMP/out" 2>"$TMP/err" ||
		fail "check --no-ifaces: $(cat "$TMP/err")"
	grep -q "bad.json: 1 rules, valid" "$TMP/out" || fail "check output: $(cat "$TMP/out")"
	"$SYSFLOW" route check --no-ifaces "$REPO_DIR/docs/route-example.json" >"$TMP/out" 2>"$TMP/err" ||
		fail "the docs example: $(cat "$TMP/err")"
	rc=0
	route apply --no-ifaces "$TMP/bad.json" 2>"$TMP/err" || rc=$?
	assert_eq $rc 2 "apply --no-ifaces"
	grep -q -- "--no-ifaces is for check" "$TMP/err" || fail "apply --no-ifaces: $(cat "$TMP/err")"
}

# rule_names: the names of the rules `route show -j` lists, on one line.
rule_names() {
	route show -j | "$PY" -c '
import json, sys
print(" ".join(sorted(json.loads(l)["name"] for l in sys.stdin
                      if json.loads(l).get("record") == "rule")))'
}

# hold NAME: a process of the test holds the pin folder's lock until
# `touch $TMP/NAME.go`, as a route command in the middle of its work would.
hold() {
	bg_start "$1" flock "$PIN" sh -c "while [ ! -e '$TMP/$1.go' ]; do sleep 0.05; done"
	on_exit "touch '$TMP/$1.go'"
	wait_until 10 sh -c "! flock -n '$PIN' true"
}

# route_bg NAME ARGS...: `sysflow route ARGS` in the background.
route_bg() {
	local name=$1; shift
	bg_start "$name" nsenter --net="/run/netns/$(ns r)" "$SYSFLOW" route "$@" --pin-dir "$PIN"
}

# Route commands on one pin folder take turns (a lock on the folder). Each
# batch below is queued behind a holder, each command says it waits, then
# the holder lets go and they all go for the folder at once. Two applies:
# one applies, the other is refused as a second apply. Four updates of two
# configs: all succeed, one after the other (four updates counted), and
# the rules in force are one config's, never a mix.
test_concurrent_commands() {
	local i rc1=0 rc2=0 names
	lab_up
	for i in 1 2 3; do
		config "$TMP/c$i.json" '{ "priority": 1, "name": "c'$i'-a", "dst": "'$VIP'/32", "action": "drop" },
    { "priority": 2, "name": "c'$i'-b", "proto": "udp", "action": "pass" },
    { "priority": 3, "name": "c'$i'-c", "proto": "tcp", "action": "pass" }'
	done
	mkdir -p "$PIN"
	hold h1
	route_bg a1 apply "$TMP/c1.json"
	route_bg a2 apply "$TMP/c2.json"
	for i in 1 2; do
		wait_for "$TMP/a$i.err" "waiting for another sysflow route using $PIN" 10
	done
	touch "$TMP/h1.go"
	bg_wait a1 20 || rc1=$?
	bg_wait a2 20 || rc2=$?
	assert_eq "$((rc1 + rc2))" 1 "one of two applies at once refused ($rc1, $rc2)"
	grep -q "already applied" "$TMP/a$((rc1 ? 1 : 2)).err" ||
		fail "the refused apply said: $(cat "$TMP/a$((rc1 ? 1 : 2)).err")"
	i=$((rc1 ? 2 : 1))
	assert_eq "$(rule_names)" "c$i-a c$i-b c$i-c" "rules after two applies at once"
	hold h2
	for i in 1 2 3 4; do
		route_bg u$i update "$TMP/c$((2 + i % 2)).json"
	done
	for i in 1 2 3 4; do
		wait_for "$TMP/u$i.err" "waiting for another sysflow route using $PIN" 10
	done
	touch "$TMP/h2.go"
	for i in 1 2 3 4; do
		bg_wait u$i 20 || fail "update $i of 4 at once: $(cat "$TMP/u$i.err")"
	done
	names=$(rule_names)
	[ "$names" = "c2-a c2-b c2-c" ] || [ "$names" = "c3-a c3-b c3-c" ] ||
		fail "rules after four updates at once: $names"
	route show -j | grep -q '"updates":4,' || fail "updates: $(route show -j | head -1)"
}

# A command that finds the folder held waits for it, saying so once; a
# holder that does not let go is named after 10 s (a bounded wait).
test_lock_wait_bounded() {
	local rc=0 t0
	lab_up
	config "$TMP/r.json" '{ "priority": 1, "action": "pass" }'
	route apply "$TMP/r.json" || fail "apply failed"
	hold h1
	route_bg u update "$TMP/r.json"
	wait_for "$TMP/u.err" "waiting for another sysflow route using $PIN" 10
	kill -0 "$(cat "$TMP/u.pid")" 2>/dev/null || fail "update did not wait: $(cat "$TMP/u.err")"
	touch "$TMP/h1.go"
	bg_wait u 20 || fail "update after the holder let go: $(cat "$TMP/u.err")"
	assert_eq "$(grep -c "waiting for another" "$TMP/u.err")" 1 "waiting lines"
	grep -q "updated to 1 rule" "$TMP/u.err" || fail "update said: $(cat "$TMP/u.err")"
	hold h2
	t0=$SECONDS
	route del 2>"$TMP/d.err" || rc=$?
	assert_eq "$rc" 1 "del under a holder that stays"
	[ $((SECONDS - t0)) -ge 9 ] && [ $((SECONDS - t0)) -le 20 ] ||
		fail "del gave up after $((SECONDS - t0)) s"
	grep -q "another sysflow route has held $PIN for 10 s; stop it or try again" "$TMP/d.err" ||
		fail "del said: $(cat "$TMP/d.err")"
	[ -e "$PIN/state" ] || fail "del removed pins without the lock"
	touch "$TMP/h2.go"
	route del || fail "del after the holder let go"
	[ ! -e "$PIN" ] || fail "pins left in $PIN"
}

run_tests "$@"
