# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# tests/netns/xsk_lib.sh: helpers of the AF_XDP suites (test_echo.sh,
# test_xsk_*.sh), on top of lib.sh: a private scripts/lab, the echo in the
# background, its JSON statistics, and real peers (arping, ping, UDP).
# shellcheck source=tests/netns/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB=$REPO/scripts/lab
PY=/usr/bin/python3
# The capabilities the library needs, found by trying (test_echo.sh
# test_echo_unprivileged checks that each one is needed).
XSK_CAPS=cap_net_raw,cap_net_admin,cap_bpf,cap_perfmon

# lab_up [QUEUES]: the seed's lab under unique names, the host side in a
# namespace of its own, removed on exit. Sets H, T1, T2, V0..V3.
lab_up() {
	export LAB_PREFIX="x$$" LAB_HOST_NS="x$$host" LAB_QUEUES=${1:-1}
	on_exit "LAB_PREFIX=$LAB_PREFIX LAB_HOST_NS=$LAB_HOST_NS '$LAB' down"
	"$LAB" up >/dev/null
	H=$LAB_HOST_NS T1=${LAB_PREFIX}test1 T2=${LAB_PREFIX}test2
	V0=${LAB_PREFIX}veth0 V1=${LAB_PREFIX}veth1
	V2=${LAB_PREFIX}veth2 V3=${LAB_PREFIX}veth3
}
in_host() { ip netns exec "$H" "$@"; }
in_t1() { ip netns exec "$T1" "$@"; }
in_t2() { ip netns exec "$T2" "$@"; }
mac_of() { ip netns exec "$1" cat "/sys/class/net/$2/address"; }

# echo_start ARGS...: `sysflow echo V1 -j ARGS` in test1, ready.
echo_start() {
	bg_start echo ip netns exec "$T1" "$SYSFLOW" echo "$V1" -j "$@"
	wait_for "$TMP/echo.err" "Ctrl-C to end|error" 30
	grep -q "Ctrl-C to end" "$TMP/echo.err" || fail "echo: $(cat "$TMP/echo.err")"
}
# echo_stop: SIGINT, exit 0 expected; statistics in $TMP/echo.out.
echo_stop() {
	local rc=0
	bg_stop echo INT || rc=$?
	[ "$rc" -eq 0 ] || fail "echo exited $rc: $(tail -n 20 "$TMP/echo.err")"
	grep -q '^{' "$TMP/echo.out" || fail "no statistics: $(cat "$TMP/echo.out")"
}
# stat PATH: a field of the echo's JSON statistics, e.g. answered.arp or
# queues.0.pool_free.
estat() {
	$PY - "$TMP/echo.out" "$1" <<'PY'
import json, sys
d = json.loads(open(sys.argv[1]).read().splitlines()[-1])
for k in sys.argv[2].split("."):
    d = d[int(k)] if isinstance(d, list) else d[k]
print(d)
PY
}
assert_stat() { assert_eq "$(estat "$1")" "$2" "echo statistic $1"; }

# no_xdp NS DEV: nothing attached to DEV any more.
no_xdp() {
	ip -n "$1" link show dev "$2" | grep -q "prog/xdp" &&
		fail "an XDP program is still attached to $2"
	return 0
}

# arping_count COUNT ADDR: replies the host's arping got.
arping_count() {
	in_host arping -c "$1" -W 0.2 -i "$V0" "$2" 2>&1 |
		sed -n 's/.* transmitted, \([0-9]*\) packets received.*/\1/p'
}
# ping_count ARGS...: replies a ping from the host got.
ping_count() {
	in_host ping -q -W 2 "$@" 2>&1 |
		sed -n 's/.* transmitted, \([0-9]*\) received.*/\1/p'
}

# udp_echo WHERE ADDR COUNT [SOCKETS]: COUNT datagrams per socket to ADDR
# port 7 from namespace WHERE, each payload distinct; prints how many came
# back intact from port 7.
udp_echo() {
	ip netns exec "$1" $PY - "$2" "$3" "${4:-1}" <<'PY'
import socket, sys
addr, per, nsock = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
socks = [socket.socket(fam, socket.SOCK_DGRAM) for _ in range(nsock)]
got = 0
for r in range(per):
    for i, s in enumerate(socks):
        s.sendto(b"sysflow %d %d " % (i, r) + b"x" * (r * 7 % 900), (addr, 7))
    for i, s in enumerate(socks):
        s.settimeout(2)
        try:
            data, src = s.recvfrom(2048)
        except socket.timeout:
            continue
        if src[1] == 7 and data == b"sysflow %d %d " % (i, r) + b"x" * (r * 7 % 900):
            got += 1
print(got)
PY
}
