#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# test_guard_isolate.sh: ISOLATION, QUARANTINE and ENCODE reach the sockets
# a process had before the rule. A subject in the test cgroup and namespace
# A talks to a peer in namespace B over a veth; a rule pushed from the
# controller cuts its established TCP connection, its UDP socket and its
# listener (cgroup_skb drop by socket cookie), denies new sockets, leaves
# another process alone, counts exactly; QUARANTINE also denies writes;
# ENCODE tags an established connection, as tcpdump in B sees.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/guard_lib.sh"

A=10.77.0.1
B=10.77.0.2

# The subject: commands on stdin, one answer line each ("CMD: RESULT").
write_subject() {
	cat >"$TMP/subject.py" <<'EOF'
import errno, os, select, socket, sys
peer, port = sys.argv[1], int(sys.argv[2])
tcp_on, udp_on, listen_on = (int(x) for x in sys.argv[3:6])
fam = socket.AF_INET6 if ":" in peer else socket.AF_INET
local = sys.argv[6]
bufs = {}
t = u = l = None
if tcp_on:
    t = socket.socket(fam)
    t.connect((peer, port))
if udp_on:
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.bind((local, port + 2))
if listen_on:
    l = socket.socket(fam)
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((local, port + 3))
    l.listen(8)
print("ready", os.getpid(), flush=True)

def wait_line(s, want, secs=1.5):
    buf = bufs.get(s, b"")
    while (want + "\n").encode() not in buf:
        if not select.select([s], [], [], secs)[0]:
            bufs[s] = buf
            return "timeout"
        d = s.recv(4096)
        if not d:
            return "closed"
        buf += d
    bufs[s] = buf.split((want + "\n").encode(), 1)[1]
    return "ok"

def udp_wait(secs=1.5):
    if not select.select([u], [], [], secs)[0]:
        return "timeout"
    return u.recv(100).decode()

for line in sys.stdin:
    cmd = line.strip()
    op, _, arg = cmd.partition(" ")
    try:
        if op == "tcp":  # a line to the peer, then its echo
            t.sendall((arg + "\n").encode())
            res = wait_line(t, "echo:" + arg)
        elif op == "recv":  # a line the peer pushes
            res = wait_line(t, arg)
        elif op == "accept":  # a connection waiting on the listener
            l.settimeout(1.5)
            a, _ = l.accept()
            res = "ok"
        elif op == "arecv":  # a line on the accepted connection
            res = wait_line(a, arg)
        elif op == "udp":
            u.sendto(arg.encode(), (peer, port + 1))
            res = udp_wait()
        elif op == "urecv":
            res = udp_wait()
        elif op == "new":
            s = socket.socket(fam)
            s.settimeout(2)
            s.connect((peer, port))
            res = "ok"
        elif op == "write":
            with open(arg, "a") as f:
                f.write("x")
            res = "ok"
        elif op == "read":
            open(arg).read()
            res = "ok"
        else:
            res = "?"
    except socket.timeout:
        res = "timeout"
    except OSError as e:
        res = errno.errorcode.get(e.errno, str(e.errno))
    print(cmd + ": " + res, flush=True)
EOF
}

# The peer in B: TCP echo on PORT, UDP echo on PORT+1 ("push X" there
# sends X to every TCP client instead); what it gets goes to peer.out.
start_peer() {
	local addr=$1 port=$2
	cat >"$TMP/peer.py" <<'EOF'
import selectors, socket, sys
addr, port = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
sel = selectors.DefaultSelector()
ls = socket.socket(fam)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((addr, port)); ls.listen(16)
us = socket.socket(fam, socket.SOCK_DGRAM)
us.bind((addr, port + 1))
sel.register(ls, selectors.EVENT_READ)
sel.register(us, selectors.EVENT_READ)
clients, bufs = [], {}
print("listening", flush=True)
while True:
    for k, _ in sel.select():
        s = k.fileobj
        if s is ls:
            c, _ = ls.accept()
            clients.append(c); bufs[c] = b""
            sel.register(c, selectors.EVENT_READ)
        elif s is us:
            d, src = us.recvfrom(100)
            msg = d.decode()
            print("udp " + msg, flush=True)
            if msg.startswith("push "):
                for c in clients:
                    c.sendall((msg[5:] + "\n").encode())
            else:
                us.sendto(("echo:" + msg).encode(), src)
        else:
            d = s.recv(4096)
            if not d:
                sel.unregister(s); clients.remove(s); s.close()
                continue
            bufs[s] += d
            while b"\n" in bufs[s]:
                l, bufs[s] = bufs[s].split(b"\n", 1)
                print("tcp " + l.decode(), flush=True)
                s.sendall(b"echo:" + l + b"\n")
EOF
	bg_start peer nsenter --net="$(ns_path b)" "$PY" "$TMP/peer.py" "$addr" "$port"
	wait_for "$TMP/peer.out" listening
}

# Two namespaces on a veth, a controller and an agent.
isolate_setup() {
	guard_setup
	ns_add a
	ns_add b
	veth_pair a va b vb
	write_subject
	start_controller
	start_agent
}

# start_subject NAME PEER PORT TCP UDP LISTEN: a subject in the test cgroup
# and namespace A; its pid in $TMP/NAME.pid, commands through fd NAME_fd.
start_subject() {
	local name=$1 peer=$2 port=$3 local=$A
	[[ $peer == *:* ]] && local=fd77::1
	mkfifo "$TMP/$name.in"
	in_cg nsenter --net="$(ns_path a)" "$PY" "$TMP/subject.py" "$peer" \
		"$port" "$4" "$5" "$6" "$local" <"$TMP/$name.in" \
		>"$TMP/$name.out" 2>"$TMP/$name.err" &
	eval "exec {${name}_fd}>'$TMP/$name.in'"
	wait_for "$TMP/$name.out" "^ready [0-9]+"
	awk '/^ready/ { print $2 }' "$TMP/$name.out" >"$TMP/$name.pid"
}

# ask NAME CMD: the subject's answer to CMD.
ask() {
	local name=$1 cmd=$2 fd n
	fd=${name}_fd
	n=$(grep -c . "$TMP/$name.out")
	echo "$cmd" >&"${!fd}"
	wait_until 10 answered "$name" "$n"
	sed -n "$((n + 1))p" "$TMP/$name.out" | sed "s|^$cmd: ||"
}
answered() { [ "$(grep -c . "$TMP/$1.out")" -gt "$2" ]; }

# send_to ADDR PORT N: N datagrams from namespace B.
send_to() {
	in_ns_net b "$PY" -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])):
    s.sendto(b"in%d" % i, (sys.argv[1], int(sys.argv[2])))' "$@"
}

# connect_from_b ADDR PORT: ok, or why not, within 1.5 s.
connect_from_b() {
	in_ns_net b "$PY" -c '
import errno, socket, sys
s = socket.socket()
s.settimeout(1.5)
try:
    s.connect((sys.argv[1], int(sys.argv[2]))); print("ok")
except socket.timeout:
    print("timeout")
except OSError as e:
    print(errno.errorcode[e.errno])' "$@"
}

# An established TCP connection, a UDP socket and a listener of one
# process stop carrying data once a rule isolates it; its new sockets are
# refused; another process's connection keeps working.
test_isolate_existing_sockets() {
	isolate_setup
	start_peer "$B" 17060
	start_subject s "$B" 17060 1 1 1
	start_subject o "$B" 17060 1 0 0
	local s
	s=$(cat "$TMP/s.pid")
	assert_eq "$(ask s "tcp s-one")" ok "subject TCP before the rule"
	assert_eq "$(ask s "udp s-one")" echo:s-one "subject UDP before"
	# a client whose connection waits in the listener's accept queue
	bg_start queued nsenter --net="$(ns_path b)" "$PY" -c '
import os, socket, sys, time
s = socket.create_connection(("10.77.0.1", 17063))
print("connected", flush=True)
for i in range(200):
    if os.path.exists(sys.argv[1]):
        break
    time.sleep(0.05)
s.sendall(b"queued\n")
print("sent", flush=True)
time.sleep(10)' "$TMP/go"
	wait_for "$TMP/queued.out" connected
	assert_eq "$(ask o "tcp o-one")" ok "other TCP before"
	add_rule "{\"pid\":$s,\"actions\":[\"isolation\"],\"cookie\":60}"
	wait_for "$TMP/agent.err" "process $s: [0-9]+ existing socket\(s\) isolated"
	# egress of the established connection: the peer never gets it
	assert_eq "$(ask s "tcp s-two")" timeout "subject TCP after"
	grep -q "tcp s-two" "$TMP/peer.out" && fail "the peer got s-two"
	# ingress: a line the peer pushes reaches the other process only
	in_ns_net b "$PY" -c '
import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"push late", ("10.77.0.2", 17061))'
	assert_eq "$(ask o "recv late")" ok "other process gets the push"
	assert_eq "$(ask s "recv late")" timeout "subject does not"
	# UDP both ways
	send_to $A 17062 2
	assert_eq "$(ask s urecv)" timeout "datagrams to the subject"
	assert_eq "$(ask s "udp s-udp2")" EPERM "subject sendto"
	# the listener it had: SYNs are dropped; a connection that waited in
	# its queue is accepted but carries nothing
	assert_eq "$(connect_from_b $A 17063)" timeout "subject's listener after"
	touch "$TMP/go"
	wait_for "$TMP/queued.out" sent
	assert_eq "$(ask s accept)" ok "accept the queued connection"
	assert_eq "$(ask s "arecv queued")" timeout "data on the accepted connection"
	# new sockets
	assert_eq "$(ask s new)" EPERM "subject's new connection"
	assert_eq "$(ask o "tcp o-two")" ok "other TCP after"
	assert_eq "$(ask o new)" ok "other's new connection"
	local hits
	hits=$(rule_hits 60)
	[ "$hits" -ge 6 ] || fail "hits: $hits, expected at least 6"
}

# Exact counters: every dropped datagram and refused operation of the
# isolated process is a hit of the rule that isolated it.
test_isolate_counts_exact() {
	isolate_setup
	start_peer "$B" 17070
	start_subject s "$B" 17070 0 1 0
	local s
	s=$(cat "$TMP/s.pid")
	assert_eq "$(ask s "udp before")" echo:before "UDP before the rule"
	add_rule "{\"pid\":$s,\"actions\":[\"isolation\"],\"cookie\":61}"
	wait_for "$TMP/agent.err" "process $s: 1 existing socket\(s\) isolated"
	send_to $A 17072 3
	assert_eq "$(ask s urecv)" timeout "datagrams to the subject"
	assert_eq "$(ask s "udp a")" EPERM "sendto 1"
	assert_eq "$(ask s "udp b")" EPERM "sendto 2"
	assert_eq "$(ask s new)" EPERM "socket()"
	assert_eq "$(rule_hits 61)" 6 "hits: 3 datagrams in, 2 sendto, 1 socket"
	grep -q "udp a" "$TMP/peer.out" && fail "the peer got a datagram"
	# the rule goes: so does the isolation, existing socket included
	ctl del "$HOSTID" '{"cookie":61}' >/dev/null || fail "del"
	wait_for "$TMP/agent.err" "process $s: isolation lifted"
	assert_eq "$(ask s "udp after")" echo:after "UDP once the rule is gone"
}

# A rule with an object isolates its subject when it hits: the socket
# the process had before is cut from then on, across an agent restart.
test_isolate_on_hit() {
	isolate_setup
	start_peer "$B" 17100
	start_subject s "$B" 17100 0 1 0
	local s
	s=$(cat "$TMP/s.pid")
	add_rule '{"op":"connect","port":17100,"actions":["isolation"],"cookie":68}'
	assert_eq "$(ask s "udp one")" echo:one "UDP before the hit"
	assert_eq "$(ask s new)" EPERM "the connect that hits"
	wait_for "$TMP/agent.err" "process $s: [0-9]+ existing socket\(s\) isolated"
	send_to $A 17102 1
	assert_eq "$(ask s urecv)" timeout "datagram to the subject after the hit"
	assert_eq "$(ask s "udp two")" EPERM "sendto after the hit"
	# a restarted agent finds the isolation again in the pinned map
	bg_stop agent KILL || true
	mv "$TMP/agent.err" "$TMP/agent1.err"
	start_agent
	grep -q "process $s isolated" "$TMP/agent.err" ||
		fail "isolation not taken over: $(cat "$TMP/agent.err")"
	send_to $A 17102 1
	assert_eq "$(ask s urecv)" timeout "datagram after the restart"
	assert_eq "$(rule_hits 68)" 4 "hits: connect, datagram, sendto, datagram"
}

# Two rules isolate one process: when the one that isolated it goes, the
# other keeps it isolated; when both are gone its socket works again.
test_isolate_two_rules() {
	isolate_setup
	start_peer "$B" 17110
	start_subject s "$B" 17110 0 1 0
	local s
	s=$(cat "$TMP/s.pid")
	add_rule "{\"pid\":$s,\"actions\":[\"isolation\"],\"cookie\":69}"
	add_rule '{"uid":0,"actions":["isolation"],"cookie":70}'
	ctl del "$HOSTID" '{"cookie":69}' >/dev/null || fail "del 69"
	wait_for "$TMP/agent.err" "process $s: isolation lifted"
	send_to $A 17112 1
	assert_eq "$(ask s urecv)" timeout "still isolated by the uid rule"
	ctl del "$HOSTID" '{"cookie":70}' >/dev/null || fail "del 70"
	assert_eq "$(ask s "udp free")" echo:free "UDP once both are gone"
}

# QUARANTINE: no network (existing connection included), no file writes;
# reads still work.
test_quarantine_existing() {
	isolate_setup
	start_peer "$B" 17065
	start_subject s "$B" 17065 1 0 0
	echo r >"$MNT/r"
	local s
	s=$(cat "$TMP/s.pid")
	assert_eq "$(ask s "tcp one")" ok "TCP before the rule"
	assert_eq "$(ask s "write $MNT/w")" ok "write before the rule"
	add_rule "{\"pid\":$s,\"actions\":[\"quarantine\"],\"cookie\":65}"
	wait_for "$TMP/agent.err" "process $s quarantined"
	assert_eq "$(ask s "tcp two")" timeout "TCP after"
	assert_eq "$(ask s "write $MNT/w")" EPERM "write after"
	assert_eq "$(ask s "read $MNT/r")" ok "read after"
	assert_eq "$(ask s new)" EPERM "new connection"
	assert_eq "$(in_cg sh -c "echo y >>'$MNT/w' && echo ok")" ok "another process writes"
	# the subject exits: its entries go
	exec {s_fd}>&-
	wait_for "$TMP/agent.err" "process $s exited: isolation lifted" 5
}

# ENCODE on a connection made before the rule: tcpdump in B sees TOS 0
# on the data sent before the rule and DSCP 10 after, over IPv4 (TOS
# 0x28) and IPv6 (traffic class 0x28; tcpdump prints no class when 0).
# encode_check PEER PORT FILTER SED: SED turns each IP line into a mark.
encode_check() {
	local peer=$1 port=$2 filter=$3 marks=$4
	start_peer "$peer" "$port"
	start_subject s "$peer" "$port" 1 0 0
	bg_start tcpdump nsenter --net="$(ns_path b)" tcpdump -t -l -n -v \
		-i vb -c 2 "$filter and dst port $port"
	wait_for "$TMP/tcpdump.err" "listening on"
	assert_eq "$(ask s "tcp before-rule")" ok "TCP before the rule"
	add_rule "{\"pid\":$(cat "$TMP/s.pid"),\"actions\":[{\"encode\":10}],\"cookie\":66}"
	wait_for "$TMP/agent.err" "DSCP 10 set on 1 existing socket"
	assert_eq "$(ask s "tcp after-rule")" ok "TCP after the rule"
	bg_wait tcpdump 10 || fail "tcpdump: $(cat "$TMP/tcpdump.err")"
	assert_eq "$(sed -n "$marks" "$TMP/tcpdump.out" | tr '\n' ' ')" \
		"$5" "TOS on the wire (before, after)"
}

# data segments only: longer than the TCP header with timestamps
test_encode_existing_v4() {
	isolate_setup
	encode_check "$B" 17080 "ip and ip[2:2] > 52" \
		's/^IP (\(tos 0x[0-9a-f]*\).*/[\1]/p' "[tos 0x0] [tos 0x28] "
}

test_encode_existing_v6() {
	isolate_setup
	encode_check fd77::2 17082 "ip6 and ip6[4:2] > 32" \
		's/^IP6 (\(class 0x[0-9a-f]*\)\?.*/[\1]/p' "[] [class 0x28] "
}

# Nine processes isolated at once: the agent's table of isolations starts
# with room for eight, so the ninth moves it; the kernel entries of the
# eight before follow it (they were once re-pointed from freed memory,
# which ASan reports), and each process stays cut off until its rule goes.
test_isolate_nine_processes() {
	local i pid
	isolate_setup
	start_peer "$B" 17110
	for i in 1 2 3 4 5 6 7 8 9; do
		start_subject "s$i" "$B" 17110 0 0 0
		assert_eq "$(ask "s$i" new)" ok "s$i connects before its rule"
	done
	for i in 1 2 3 4 5 6 7 8 9; do
		pid=$(cat "$TMP/s$i.pid")
		ctl add "$HOSTID" "{\"pid\":$pid,\"actions\":[\"isolation\"],\"cookie\":$((70 + i))}" \
			>/dev/null 2>"$TMP/ctl.err" ||
			fail "rule for s$i: $(cat "$TMP/ctl.err"); agent:" \
				"$(grep -m2 -E 'ERROR|SUMMARY' "$TMP/agent.err")"
		wait_for "$TMP/agent.err" "process $pid isolated: no network"
	done
	for i in 1 2 3 4 5 6 7 8 9; do
		assert_eq "$(ask "s$i" new)" EPERM "s$i isolated"
	done
	ctl del "$HOSTID" '{"cookie":71}' >/dev/null || fail "del"
	wait_for "$TMP/agent.err" "process $(cat "$TMP/s1.pid"): isolation lifted"
	assert_eq "$(ask s1 new)" ok "s1 once its rule is gone"
	assert_eq "$(ask s9 new)" EPERM "s9 still isolated"
	kill -0 "$(cat "$TMP/agent.pid")" 2>/dev/null ||
		fail "the agent died: $(grep -m3 ERROR "$TMP/agent.err")"
}

# The drop map and the skb links are pinned: an isolation holds while the
# agent is away, and a restarted agent takes it over.
test_isolate_survives_restart() {
	isolate_setup
	start_peer "$B" 17090
	start_subject s "$B" 17090 0 1 0
	local s
	s=$(cat "$TMP/s.pid")
	[ -e "$PIN/link_cgroup_skb__ingress" ] || fail "no pinned ingress link"
	add_rule "{\"pid\":$s,\"actions\":[\"isolation\"],\"cookie\":67}"
	wait_for "$TMP/agent.err" "process $s: 1 existing socket\(s\) isolated"
	bg_stop agent KILL || true
	send_to $A 17092 2
	assert_eq "$(ask s urecv)" timeout "datagrams while the agent is away"
	mv "$TMP/agent.err" "$TMP/agent1.err"
	start_agent
	grep -q "restored 1 rules" "$TMP/agent.err" || fail "no restore"
	send_to $A 17092 1
	assert_eq "$(ask s urecv)" timeout "datagrams after the restart"
	assert_eq "$(rule_hits 67)" 3 "hits kept across the restart"
	bg_stop agent
	"$SYSFLOW" agent --unload -F "$PIN" -q
	[ ! -e "$PIN" ] || fail "pins left: $(ls "$PIN")"
	assert_eq "$(ask s "udp free")" echo:free "UDP after --unload"
}

run_tests "$@"
