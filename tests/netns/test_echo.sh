#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# test_echo.sh: `sysflow echo` in the lab (scripts/lab) with real peers:
# arping, ping, ping -6 and a UDP client get their answers, counted
# exactly, in native and generic XDP mode; the host's stack keeps working;
# several queues; no chunk leaks; answers the device drops, a full tx ring
# and the UMEM's stock, every frame accounted for; busy polling; -v; clean
# close; and the echo as an unprivileged user with only the capabilities
# it needs.
source "$(dirname "$0")/xsk_lib.sh"

# The whole conversation of a peer with the echo, counted on both sides.
# ARP is counted exactly: the host's kernel gets a static entry before it
# pings, so arping's are the only requests. ping -6 resolves through NDP.
talk_and_count() {
	local mac
	assert_eq "$(arping_count 3 10.0.0.5)" 3 "arping replies"
	mac=$(mac_of "$T1" "$V1")
	in_host ip neigh replace 10.0.0.5 lladdr "$mac" dev "$V0" nud permanent
	assert_eq "$(ping_count -c 5 -i 0.2 10.0.0.5)" 5 "ping replies"
	in_host ip -6 neigh flush dev "$V0"
	assert_eq "$(ping_count -6 -c 5 -i 0.2 fd00::5)" 5 "ping -6 replies"
	in_host ip -6 neigh show fd00::5 dev "$V0" | grep -q "lladdr $mac" ||
		fail "NDP did not resolve fd00::5 to $mac: $(in_host ip -6 neigh)"
	assert_eq "$(udp_echo "$H" 10.0.0.5 20)" 20 "UDP echo replies"
	assert_eq "$(udp_echo "$H" fd00::5 20)" 20 "UDP/IPv6 echo replies"
	echo_stop
	assert_stat answered.arp 3
	assert_stat answered.icmp 5
	assert_stat answered.icmp6 5
	assert_stat answered.udp 20
	assert_stat answered.udp6 20
	[ "$(estat answered.ndp)" -ge 1 ] || fail "no neighbour solicitation answered"
	assert_stat queues.0.tx_dropped 0
	assert_accounted
	no_xdp "$T1" "$V1"
}

test_echo_native() {
	lab_up
	echo_start -m native
	grep -q "native XDP, copy mode" "$TMP/echo.err" ||
		fail "auto copy mode not reported: $(cat "$TMP/echo.err")"
	talk_and_count
}

test_echo_generic() {
	lab_up
	echo_start -m generic
	grep -q "generic XDP, copy mode" "$TMP/echo.err" || fail "mode not reported"
	talk_and_count
}

# Only requests are steered: the kernel of test1 still gets UDP to other
# ports, TCP, and the answers to its own pings and ARP requests.
test_echo_host_keeps_working() {
	lab_up
	echo_start
	bg_start udp9 ip netns exec "$T1" $PY -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.0.0.5", 8080)); s.listen(1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("10.0.0.5", 9))
print("ready", flush=True)
print(u.recvfrom(100)[0].decode(), flush=True)
c, _ = s.accept(); c.sendall(c.recv(100).upper()); c.close()'
	wait_for "$TMP/udp9.out" ready
	in_host $PY -c '
import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"to-port-9", ("10.0.0.5", 9))
c = socket.create_connection(("10.0.0.5", 8080), timeout=5); c.sendall(b"tcp works")
assert c.recv(100) == b"TCP WORKS"' || fail "TCP to test1's stack failed"
	wait_for "$TMP/udp9.out" to-port-9
	assert_eq "$(in_t1 ping -q -c 3 -i 0.2 -W 2 10.0.0.4 |
		sed -n 's/.* \([0-9]*\) received.*/\1/p')" 3 "test1's own pings"
	echo_stop
	[ "$(estat xdp.passed)" -gt 0 ] || fail "nothing passed to the stack"
	assert_stat answered.udp 0
}

# --all: every frame to the socket, the stack sees none (the seed's way).
test_echo_all() {
	lab_up
	echo_start --all
	in_host $PY -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(10): s.sendto(b"x", ("10.0.0.5", 9))'
	assert_eq "$(udp_echo "$H" 10.0.0.5 5)" 5 "UDP echo replies"
	echo_stop
	[ "$(estat ignored)" -ge 10 ] || fail "port 9 datagrams not taken by the echo"
	assert_stat xdp.passed 0
}

# Two queues, one socket each, sharing one UMEM; the host's flows spread
# over both queues by hash.
test_echo_two_queues_shared_umem() {
	lab_up 2
	echo_start -n 2 --shared-umem -m native
	grep -q "queues 0-1.*shared UMEM" "$TMP/echo.err" || fail "not two queues"
	assert_eq "$(udp_echo "$H" 10.0.0.5 4 32)" 128 "UDP echo replies"
	echo_stop
	assert_stat answered.udp 128
	[ "$(estat queues.0.rx)" -gt 0 ] && [ "$(estat queues.1.rx)" -gt 0 ] ||
		fail "one queue got nothing: $(cat "$TMP/echo.out")"
	assert_stat queues.0.pool_free "$(estat queues.0.pool_free_start)"
	assert_stat queues.1.pool_size "$(estat queues.0.pool_size)"
}

# Two queues, each socket with its own UMEM, one XDP program for both.
test_echo_two_queues_own_umems() {
	lab_up 2
	echo_start -n 2 -m generic
	assert_eq "$(udp_echo "$H" fd00::5 2 32)" 64 "UDP/IPv6 echo replies"
	echo_stop
	assert_stat answered.udp6 64
	assert_stat queues.1.pool_size "$(estat queues.0.pool_size)"
	assert_stat queues.0.pool_free "$(estat queues.0.pool_free_start)"
	assert_stat queues.1.pool_free "$(estat queues.1.pool_free_start)"
}

# A long run at full speed: every chunk comes back to the pool.
test_echo_no_chunk_leak() {
	lab_up
	echo_start
	in_host ip neigh replace 10.0.0.5 lladdr "$(mac_of "$T1" "$V1")" dev "$V0" nud permanent
	in_host ping -q -f -c 20000 10.0.0.5 >/dev/null &
	local p1=$!
	in_host ping -q -6 -f -c 20000 fd00::5 >/dev/null &
	local p2=$!
	in_host $PY -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
end = time.time() + 4
n = 0
while time.time() < end:
    try:
        s.sendto(b"y" * (n % 1400), ("10.0.0.5", 7)); n += 1
    except BlockingIOError:
        pass
    try:
        while True: s.recv(2048)
    except BlockingIOError:
        pass
print(n)' >"$TMP/blast.out"
	wait "$p1" "$p2" || true
	echo_stop
	local rx udp free start
	rx=$(estat queues.0.rx) udp=$(estat answered.udp)
	free=$(estat queues.0.pool_free) start=$(estat queues.0.pool_free_start)
	info "rx $rx, udp $udp of $(cat "$TMP/blast.out") sent, pool $free/$start"
	[ "$rx" -gt 40000 ] || fail "only $rx frames received"
	assert_eq "$free" "$start" "pool free count after the run"
	assert_stat queues.0.tx_in_flight 0
	assert_stat queues.0.tx "$(estat queues.0.tx_completed)"
}

# udp_flood COUNT: COUNT UDP echo requests from the host, as fast as it
# sends, without reading the answers.
udp_flood() {
	in_host $PY - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[1])):
    s.sendto(b"flood %d" % i, ("10.0.0.5", 7))
PY
}
# udp_lines: the answers to UDP requests the echo -v has printed so far.
udp_lines() { grep -c '^udp ' "$TMP/echo.out" || true; }
# udp_lines_reach COUNT: for wait_until.
udp_lines_reach() { [ "$(udp_lines)" -ge "$1" ]; }

# The sent frames the device dropped are counted: the host's end goes
# down while requests wait in the rx ring of a stopped echo; each answer
# sendto() gives the device is dropped there (EBUSY: no carrier). They
# complete like sent ones, so only tx_device_dropped tells them apart.
test_echo_device_drops() {
	local pid
	lab_up
	echo_start -v
	in_host ip neigh replace 10.0.0.5 lladdr "$(mac_of "$T1" "$V1")" dev "$V0" nud permanent
	pid=$(cat "$TMP/echo.pid")
	kill -STOP "$pid"
	udp_flood 20
	in_host ip link set "$V0" down
	kill -CONT "$pid"
	wait_until 10 udp_lines_reach 20
	in_host ip link set "$V0" up
	echo_stop
	assert_stat answered.udp 20
	assert_stat queues.0.tx 20
	assert_stat queues.0.tx_completed 20
	assert_stat queues.0.tx_dropped 0
	assert_stat queues.0.tx_device_dropped 20
	assert_stat queues.0.pool_free "$(estat queues.0.pool_free_start)"
}

# hold_answers / release_answers: frames coming into the host's end wait
# in a slow queue (ingress redirected to an ifb under tbf at 8 kbit/s), so
# the echo's answers stay in flight, not completed, until released
# (deleting the ifb frees them). The ifb lives in the test's host netns.
hold_answers() {
	in_host ip link add hold0 type ifb
	in_host ip link set hold0 up
	in_host tc qdisc add dev hold0 root tbf rate 8kbit burst 1600 limit 1000000
	in_host tc qdisc add dev "$V0" ingress
	in_host tc filter add dev "$V0" parent ffff: protocol all u32 match u32 0 0 \
		action mirred egress redirect dev hold0
}
release_answers() {
	in_host tc qdisc del dev "$V0" ingress
	in_host ip link del hold0
}

# held_flood COUNT TOTAL: COUNT requests while answers are held, until the
# echo -v has printed TOTAL UDP answers; then a ping, answered once the
# hold is gone (its chunk came from the same fill ring).
held_flood() {
	hold_answers
	udp_flood "$1"
	wait_until 20 udp_lines_reach "$2"
	release_answers
	assert_eq "$(ping_count -c 1 10.0.0.5)" 1 "ping reply after $2 UDP requests"
}

# assert_accounted: every frame of the echo's JSON statistics accounted
# for: received = answered + ignored, answered = taken by the tx ring +
# dropped, taken = completed (nothing in flight after the exit's flush),
# and every chunk back in the pool.
assert_accounted() {
	$PY - "$TMP/echo.out" <<'PY' || fail "statistics do not add up: $(tail -n 1 "$TMP/echo.out")"
import json, sys
d = json.loads(open(sys.argv[1]).read().splitlines()[-1])
qs = d["queues"]
answered = sum(d["answered"].values())
tot = lambda k: sum(q[k] for q in qs)
ok = True
def check(what, a, b):
    global ok
    if a != b:
        print("%s: %d != %d" % (what, a, b), file=sys.stderr)
        ok = False
check("rx = answered + ignored", tot("rx"), answered + d["ignored"])
check("answered = tx + tx_dropped", answered, tot("tx") + tot("tx_dropped"))
check("tx = tx_completed", tot("tx"), tot("tx_completed"))
check("tx_in_flight", tot("tx_in_flight"), 0)
for q in qs:
    check("queue %d pool_free" % q["queue"], q["pool_free"], q["pool_free_start"])
sys.exit(0 if ok else 1)
PY
}

# The tx ring full: answers held in flight fill a 16-entry completion
# ring, the kernel stops taking frames, the 16-entry tx ring fills and the
# answers it does not take are dropped, counted. Large rx and fill rings
# take every request. Their chunks go back to the pool: a ping is still
# answered after each flood, a second flood behaves the same, and the
# statistics add up. In text as in JSON.
test_echo_tx_ring_full() {
	local rings="--rx-size 2048 --fill-size 2048 --tx-size 16 --comp-size 16"
	lab_up
	in_host ip neigh replace 10.0.0.5 lladdr "$(mac_of "$T1" "$V1")" dev "$V0" nud permanent
	echo_start -v $rings
	held_flood 1000 1000
	held_flood 1000 2000
	echo_stop
	assert_stat answered.udp 2000
	assert_stat answered.icmp 2
	assert_stat queues.0.rx_dropped 0
	assert_stat queues.0.fill_ring_empty 0
	[ "$(estat queues.0.tx_dropped)" -gt 0 ] || fail "no answer dropped: $(tail -n 1 "$TMP/echo.out")"
	info "dropped $(estat queues.0.tx_dropped) of 2002 answers"
	assert_accounted
	# the same in text
	bg_start echo ip netns exec "$T1" "$SYSFLOW" echo "$V1" -v $rings
	wait_for "$TMP/echo.err" "Ctrl-C to end" 30
	held_flood 1000 1000
	bg_stop echo INT || fail "echo exited $?: $(tail -n 5 "$TMP/echo.err")"
	grep -qE "^queue 0: rx [0-9]+, tx [0-9]+ \(completed [0-9]+, dropped [1-9][0-9]*, kick errors 0\)$" \
		"$TMP/echo.out" || fail "no drop in: $(grep -A4 '^queue' "$TMP/echo.out")"
}

# The UMEM's default stock covers what the four rings can hold: with
# answers held in flight filling the tx ring and the socket's send buffer
# (more than 1024 chunks out), a stopped echo's fill ring still takes a
# whole rx ring of requests, none dropped as 'fill ring empty' (with the
# old 2048 chunks, only what was left: about 750).
test_echo_stock_covers_rings() {
	local pid
	lab_up
	in_host ip neigh replace 10.0.0.5 lladdr "$(mac_of "$T1" "$V1")" dev "$V0" nud permanent
	echo_start -v
	pid=$(cat "$TMP/echo.pid")
	hold_answers
	udp_flood 1500
	wait_until 20 udp_lines_reach 1500
	kill -STOP "$pid"
	udp_flood 1024
	kill -CONT "$pid"
	release_answers
	# answered after every request before it in the rx ring
	assert_eq "$(ping_count -c 1 10.0.0.5)" 1 "ping reply"
	echo_stop
	info "in flight at most: $(($(estat queues.0.tx) - 1)) taken, $(estat queues.0.tx_dropped) dropped"
	[ "$(estat queues.0.tx)" -gt 1100 ] || fail "fewer than 1100 answers in flight: $(tail -n 1 "$TMP/echo.out")"
	assert_stat queues.0.pool_size 4096
	assert_stat answered.udp 2524
	assert_stat queues.0.fill_ring_empty 0
	assert_stat queues.0.rx_dropped 0
	assert_accounted
}

# The pid of the echo: the sysflow process (sysflow-san under tests/run)
# in its namespace.
echo_pid() {
	local p
	for p in $(ip netns pids "$T1"); do
		case $(cat "/proc/$p/comm" 2>/dev/null) in
		sysflow*) echo "$p"; return 0 ;;
		esac
	done
	fail "no sysflow process in $T1"
}

# kernel_at_least MAJOR MINOR
kernel_at_least() {
	local v
	v=$(uname -r | sed 's/^\([0-9]*\)\.\([0-9]*\).*/\1 \2/')
	[ "${v% *}" -gt "$1" ] || { [ "${v% *}" -eq "$1" ] && [ "${v#* }" -ge "$2" ]; }
}

# CPU time (ms) a process uses in SECS seconds (schedstat: nanoseconds).
cpu_ms_in() {
	local pid=$1 secs=$2 a b
	a=$(cut -d' ' -f1 "/proc/$pid/schedstat")
	sleep "$secs"
	b=$(cut -d' ' -f1 "/proc/$pid/schedstat")
	echo $(((b - a) / 1000000))
}

# --busy-poll. The lab's veth has copy mode only, and since Linux 6.13 a
# copy-mode socket has no NAPI id: nothing to busy-poll. After the first
# frames the library turns it off and says so, the echo goes on answering,
# and idle it sleeps instead of spinning. On a kernel that gives the
# socket an id, busy polling stays on (and spins, as asked).
test_echo_busy_poll() {
	local pid cpu
	lab_up
	echo_start -m native --busy-poll
	grep -q "busy poll" "$TMP/echo.err" || fail "busy poll not reported"
	pid=$(echo_pid)
	in_host ip neigh replace 10.0.0.5 lladdr "$(mac_of "$T1" "$V1")" dev "$V0" nud permanent
	assert_eq "$(ping_count -c 5 -i 0.2 10.0.0.5)" 5 "ping replies"
	assert_eq "$(udp_echo "$H" fd00::5 10)" 10 "UDP/IPv6 echo replies"
	if kernel_at_least 6 13; then
		grep -q "busy polling off: the socket has no NAPI to poll (copy mode" \
			"$TMP/echo.err" || fail "no fallback: $(cat "$TMP/echo.err")"
		cpu=$(cpu_ms_in "$pid" 1)
		info "idle echo after the fallback: $cpu ms of CPU in 1 s"
		[ "$cpu" -lt 300 ] || fail "idle echo used $cpu ms of CPU in 1 s: still spinning"
	fi
	assert_eq "$(ping_count -c 3 -i 0.2 10.0.0.5)" 3 "ping replies after"
	echo_stop
	assert_stat answered.icmp 8
}

# -v: one line per answer, on stdout before the statistics.
test_echo_verbose() {
	lab_up
	bg_start echo ip netns exec "$T1" "$SYSFLOW" echo "$V1" -v
	wait_for "$TMP/echo.err" "Ctrl-C to end" 30
	assert_eq "$(arping_count 2 10.0.0.5)" 2 "arping replies"
	in_host ip neigh replace 10.0.0.5 lladdr "$(mac_of "$T1" "$V1")" dev "$V0" nud permanent
	assert_eq "$(ping_count -c 3 -i 0.2 10.0.0.5)" 3 "ping replies"
	bg_stop echo INT
	assert_eq "$(grep -c '^arp   reply 10.0.0.5 is-at .* to 10.0.0.4$' "$TMP/echo.out")" 2 "arp lines"
	assert_eq "$(grep -c '^icmp  echo reply 10.0.0.5 > 10.0.0.4 id [0-9]* seq [123]$' "$TMP/echo.out")" 3 "icmp lines"
	grep -q "answered arp 2, icmp 3," "$TMP/echo.out" || fail "no statistics: $(cat "$TMP/echo.out")"
	# the reader of the lines leaves (echo -v | head -1): the echo stops, 0
	bg_start eh ip netns exec "$T1" bash -c 'set -o pipefail; "$@" | head -1 >/dev/null' bash \
		"$SYSFLOW" echo "$V1" -v
	wait_for "$TMP/eh.err" "Ctrl-C to end" 30
	ping_count -c 3 -i 0.2 10.0.0.5 >/dev/null
	bg_wait eh 10 || fail "echo -v | head -1 exited $?: $(tail -n 3 "$TMP/eh.err")"
	! grep -qE "sysflow: error|Sanitizer" "$TMP/eh.err" || fail "said: $(cat "$TMP/eh.err")"
}

# prog_and_maps: the IDs of the XDP program on V1 and of its maps.
prog_and_maps() {
	local id
	id=$(ip -n "$T1" -d link show dev "$V1" |
		sed -n 's/.*prog\/xdp id \([0-9]*\) name xdp_to_xsk.*/\1/p')
	[ -n "$id" ] || fail "xdp_to_xsk not attached: $(ip -n "$T1" link show dev "$V1")"
	echo "prog:$id"
	bpftool prog show id "$id" -j | $PY -c '
import json, sys
print(" ".join("map:%d" % m for m in json.load(sys.stdin).get("map_ids", [])))'
}
gone() { # prog:ID or map:ID no longer exists in the kernel
	! bpftool "${1%%:*}" show id "${1#*:}" >/dev/null 2>&1
}

# SIGINT, SIGTERM and kill -9 all leave the interface bare, and the program and
# its maps freed; nothing is pinned (the echo shares this bpffs here).
test_echo_clean_close() {
	lab_up
	local objs o sig
	for sig in INT TERM KILL; do
		rm -f "$TMP/echo.out" "$TMP/echo.err" # not the last run's lines
		bg_start echo nsenter --net="/run/netns/$T1" "$SYSFLOW" echo "$V1" -j
		wait_for "$TMP/echo.err" "Ctrl-C to end" 30
		objs=$(prog_and_maps)
		[ "$(echo "$objs" | wc -w)" -ge 3 ] || fail "objects: $objs"
		[ -z "$(find /sys/fs/bpf -name '*xsk*' 2>/dev/null)" ] || fail "pinned: $(find /sys/fs/bpf -name '*xsk*')"
		if [ $sig == INT ]; then
			echo_stop
		elif [ $sig == TERM ]; then
			bg_stop echo TERM || fail "echo exited $? on SIGTERM: $(tail -n 5 "$TMP/echo.err")"
			grep -q '"answered"' "$TMP/echo.out" || fail "no statistics after SIGTERM"
		else
			kill -KILL "$(cat "$TMP/echo.pid")"
			wait "$(cat "$TMP/echo.pid")" 2>/dev/null || true
		fi
		wait_until 10 bash -c "! ip -n '$T1' link show dev '$V1' | grep -q prog/xdp"
		for o in $objs; do
			wait_until 10 gone "$o"
		done
	done
}

# The interface deleted under the echo (ip link del): it says so, prints
# the statistics of what it answered and exits 1, instead of waiting on
# sockets the kernel has unbound.
test_echo_interface_deleted() {
	local rc=0
	lab_up
	echo_start
	assert_eq "$(ping_count -c 3 -i 0.2 10.0.0.5)" 3 "ping replies before the delete"
	in_t1 ip link del "$V1"
	bg_wait echo 10 || rc=$?
	assert_eq "$rc" 1 "exit status after the interface went away"
	grep -q "^sysflow: error: $V1 went away (deleted): its AF_XDP sockets are unbound; stopping" \
		"$TMP/echo.err" || fail "not explained: $(tail -n 5 "$TMP/echo.err")"
	assert_stat answered.icmp 3
	! grep -qE 'runtime error|Sanitizer' "$TMP/echo.err" || fail "sanitizer: $(cat "$TMP/echo.err")"
}

# A restart right after the echo ended finds the queue free: the kernel
# tears the old socket's pool down a few ms after the process exits, and
# bind said EBUSY meanwhile (about one start in two, before the wait).
test_echo_restart_at_once() {
	local i
	lab_up
	for i in 1 2 3 4 5 6; do
		echo_start
		echo_stop
	done
}

# As uid 65534 with file capabilities XSK_CAPS only; dropping any one of
# them fails with a message that names it.
test_echo_unprivileged() {
	command -v setcap >/dev/null && command -v setpriv >/dev/null ||
		skip "setcap or setpriv missing"
	lab_up
	local bin=$TMP/caps/sysflow cap rest
	mkdir -p "$TMP/caps"
	chmod 755 "$TMP" "$TMP/caps"
	cp "$SYSFLOW" "$bin"
	chmod 755 "$bin"
	# LeakSanitizer cannot trace a process that gained capabilities.
	export ASAN_OPTIONS=detect_leaks=0
	setcap "$XSK_CAPS+ep" "$bin"
	bg_start echo ip netns exec "$T1" prlimit --memlock=8388608:8388608 \
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all "$bin" echo "$V1" -j
	wait_for "$TMP/echo.err" "Ctrl-C to end|error" 30
	grep -q "Ctrl-C to end" "$TMP/echo.err" || fail "echo: $(cat "$TMP/echo.err")"
	in_host ip neigh replace 10.0.0.5 lladdr "$(mac_of "$T1" "$V1")" dev "$V0" nud permanent
	assert_eq "$(ping_count -c 3 -i 0.2 10.0.0.5)" 3 "ping replies"
	assert_eq "$(udp_echo "$H" 10.0.0.5 5)" 5 "UDP echo replies"
	echo_stop
	assert_stat answered.icmp 3
	no_xdp "$T1" "$V1"
	# without CAP_IPC_LOCK the UMEM must fit RLIMIT_MEMLOCK: the default
	# (8 MiB) just fits the usual 8 MiB, one more chunk does not
	local rc=0
	ip netns exec "$T1" prlimit --memlock=8388608:8388608 setpriv \
		--reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$bin" echo "$V1" --chunks 4097 >"$TMP/out" 2>"$TMP/err" || rc=$?
	assert_eq "$rc" 1 "exit status with a UMEM above RLIMIT_MEMLOCK"
	grep -q "$V1 queue 0: cannot register a UMEM of 8194 KiB: with what this user has locked already, it exceeds RLIMIT_MEMLOCK (8192 KiB)" \
		"$TMP/err" || fail "not explained: $(cat "$TMP/err")"
	no_xdp "$T1" "$V1"
	for cap in ${XSK_CAPS//,/ }; do
		rest=$(echo ",$XSK_CAPS," | sed "s/,$cap,/,/;s/^,//;s/,$//")
		setcap "$rest+ep" "$bin"
		local rc=0
		ip netns exec "$T1" setpriv --reuid=65534 --regid=65534 \
			--clear-groups --inh-caps=-all "$bin" echo "$V1" \
			>"$TMP/out" 2>"$TMP/err" || rc=$?
		assert_eq "$rc" 1 "exit status without $cap"
		grep -qi "${cap#cap_}" "$TMP/err" ||
			fail "error without $cap does not name it: $(cat "$TMP/err")"
		no_xdp "$T1" "$V1"
	done
}

# make install SETCAP=1 gives the installed binary exactly XSK_CAPS.
test_install_setcap() {
	grep -q '^XSK_CAPS := ' "$REPO/Makefile" ||
		skip "the Makefile has no SETCAP install step yet"
	command -v getcap >/dev/null || skip "getcap missing"
	local root=$TMP/root caps
	make -s -C "$REPO" BUILD="${BUILD:-build}" install DESTDIR="$root" \
		PREFIX=/usr SETCAP=1 >"$TMP/make.log" 2>&1 ||
		fail "make install SETCAP=1: $(tail -5 "$TMP/make.log")"
	caps=$(getcap "$root/usr/bin/sysflow" | sed 's/.* //')
	assert_eq "$($PY -c 'import sys; print(",".join(sorted(sys.argv[1].split("=")[0].split(","))))' "$caps")" \
		"$($PY -c 'import sys; print(",".join(sorted(sys.argv[1].split(","))))' "$XSK_CAPS")" \
		"capabilities of the installed sysflow"
	[[ $caps == *=ep ]] || fail "not effective and permitted: $caps"
}

run_tests "$@"
