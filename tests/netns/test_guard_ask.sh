#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# test_guard_ask.sh: the "ask" miss policy holds file operations for the
# controller's VERDICT: the policy app's answers allow and deny real
# open() calls on the test's tmpfs, no answer means the timeout fallback,
# a full hold table decides at once, a controller that dies releases
# what is held, and a controller without VERDICT gets the old allow-and-tell. Each test has its own cgroup, pins and tmpfs (guard_lib.sh).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/guard_lib.sh"

# open_rc FILE: open FILE for reading from the test cgroup; prints ok or
# the errno name, then the seconds it took.
open_rc() {
	in_cg "$PY" -c '
import errno, sys, time
t = time.monotonic()
try:
    open(sys.argv[1]).close(); r = "ok"
except OSError as e:
    r = errno.errorcode[e.errno]
print(r, "%.3f" % (time.monotonic() - t))' "$1"
}

# secs_below VALUE LIMIT: VALUE (seconds, decimal) < LIMIT.
secs_below() { "$PY" -c 'import sys; sys.exit(not float(sys.argv[1]) < float(sys.argv[2]))' "$1" "$2"; }

# host_field KEY: that counter of the test host in `ctl hosts -j`.
host_field() {
	ctl hosts -j | "$PY" -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if o.get("host_id") == sys.argv[2]:
        print(o[sys.argv[1]])' "$1" "$HOSTID"
}

host_holds() { ctl hosts -j | grep -q '"holds":true'; }
asked_is() { [ "$(host_field asked)" = "$1" ]; }

# The policy app answers held opens: allowed under one folder, denied
# elsewhere, each long before the 5 s timeout (so by the VERDICT, not the
# fallback). The counters on both sides agree.
test_ask_verdict() {
	guard_setup
	mkdir "$MNT/pub"
	echo a >"$MNT/pub/a"
	echo b >"$MNT/b"
	cat >"$TMP/policy.json" <<EOF
{"miss": {"file": "ask"},
 "ask": {"answers": [{"path_prefix": "$MNT/pub", "verdict": "allow"}],
         "default": "deny"},
 "rules": []}
EOF
	start_controller -P "$TMP/policy.json"
	start_agent --ask-timeout 5000
	wait_until 10 host_holds
	# the policy's SET_CONFIG reaches the agent before its BARRIER
	wait_for "$TMP/agent.err" "miss policy: file ask"
	local r
	r=$(open_rc "$MNT/pub/a")
	assert_eq "${r% *}" ok "open under the allowed folder"
	secs_below "${r#* }" 2.5 || fail "allowed after ${r#* } s: by the timeout?"
	r=$(open_rc "$MNT/b")
	assert_eq "${r% *}" EPERM "open elsewhere"
	secs_below "${r#* }" 2.5 || fail "denied after ${r#* } s: by the timeout?"
	assert_eq "$(host_field asked)" 2 "held operations the controller saw"
	assert_eq "$(host_field answered)" 2 "VERDICTs sent"
	ctl stats >"$TMP/stats"
	grep -q "held operations: asked 2, answered 2, answered too late 0" \
		"$TMP/stats" || fail "ctl stats: $(cat "$TMP/stats")"
	bg_stop agent
	grep -q "ask: 2 file operations held, 2 answered by the controller, 0 timed out" \
		"$TMP/agent.err" || fail "agent counters: $(grep 'ask:' "$TMP/agent.err")"
}

# No app answers: the operation waits the timeout, then the fail mode
# decides (secure: EPERM; open: allowed).
test_ask_timeout() {
	guard_setup
	echo x >"$MNT/f"
	start_controller
	start_agent --ask-timeout 400 --miss file=ask --fail-mode secure
	local r
	r=$(open_rc "$MNT/f")
	assert_eq "${r% *}" EPERM "secure fallback"
	secs_below 0.35 "${r#* }" || fail "answered after ${r#* } s, before the 400 ms timeout"
	secs_below "${r#* }" 3 || fail "held ${r#* } s, far past the timeout"
	wait_for "$TMP/agent.err" "no VERDICT within 400 ms"
	bg_stop agent
	grep -q "1 timed out" "$TMP/agent.err" || fail "$(grep 'ask:' "$TMP/agent.err")"
	mv "$TMP/agent.err" "$TMP/agent1.err"
	start_agent --ask-timeout 400 --miss file=ask --fail-mode open
	r=$(open_rc "$MNT/f")
	assert_eq "${r% *}" ok "open fallback"
	secs_below 0.35 "${r#* }" || fail "allowed after ${r#* } s, before the timeout"
}

# With one slot, a second operation is decided at once by the fallback
# while the first is held; killing the controller releases the held one
# long before its timeout.
test_ask_overflow_and_controller_death() {
	guard_setup
	echo x >"$MNT/f"
	start_controller
	start_agent --ask-timeout 20000 --ask-max 1 --miss file=ask
	open_rc "$MNT/f" >"$TMP/held.out" &
	local held=$!
	wait_until 10 asked_is 1
	local r
	r=$(open_rc "$MNT/f")
	assert_eq "${r% *}" EPERM "second operation: fallback (secure)"
	secs_below "${r#* }" 1 || fail "overflow waited ${r#* } s"
	kill -0 "$held" || fail "the held open finished before the controller died"
	bg_stop controller KILL || true
	wait "$held"
	r=$(cat "$TMP/held.out")
	assert_eq "${r% *}" EPERM "held operation released by the fallback"
	secs_below "${r#* }" 10 || fail "released after ${r#* } s"
	wait_for "$TMP/agent.err" "1 held file operations denied \(controller session lost\)"
	bg_stop agent
	grep -q "ask: 1 file operations held, 0 answered by the controller, 0 timed out, 1 overflowed, 1 released" \
		"$TMP/agent.err" || fail "$(grep 'ask:' "$TMP/agent.err")"
}

# A controller that predates VERDICT (its HELLO has no feature bits) gets
# the old "ask": the open is allowed at once and reported with EVENT_IN
# reason 0 (miss); the agent's own HELLO announces that it could hold.
test_ask_old_controller() {
	guard_setup
	echo x >"$MNT/f"
	cat >"$TMP/old.py" <<'PY'
import socket, struct, sys
def msg(t, body=b"", xid=1):
    return struct.pack(">BBHII", 1, t, 0, 12 + len(body), xid) + body
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(1)
print("listening", flush=True)
c, _ = l.accept()
c.sendall(msg(0, struct.pack(">I", 2)) + msg(1, xid=2))
buf = b""
while True:
    d = c.recv(65536)
    if not d:
        break
    buf += d
    while len(buf) >= 12:
        v, t, r, n, x = struct.unpack(">BBHII", buf[:12])
        if len(buf) < n:
            break
        body, buf = buf[12:n], buf[n:]
        if t == 0:
            feat = struct.unpack(">I", body[4:8])[0] if len(body) >= 8 else 0
            print("agent HELLO features", feat, flush=True)
        elif t == 2:  # FEATURES_REPLY: file misses ask, then a barrier
            c.sendall(msg(14, bytes([2, 0, 0, 0]), xid=3) + msg(11, xid=4))
        elif t == 12:
            print("ready", flush=True)
        elif t == 13:
            print("EVENT_IN reason", struct.unpack(">I", body[12:16])[0],
                  "len", len(body), flush=True)
        elif t == 6:
            c.sendall(msg(7, body, xid=x))
PY
	bg_start old "$PY" "$TMP/old.py" "$PORT"
	wait_for "$TMP/old.out" listening
	bg_start agent "$SYSFLOW" agent 127.0.0.1 "$PORT" -F "$PIN" -c "$CG" \
		-w "$MNT" --host-id "$HOSTID" --ask-timeout 5000
	wait_for "$TMP/old.out" "^ready"
	grep -q "agent HELLO features 1" "$TMP/old.out" || fail "$(cat "$TMP/old.out")"
	grep -q "answers held operations" "$TMP/agent.err" && fail "agent thinks it may hold"
	local r
	r=$(open_rc "$MNT/f")
	assert_eq "${r% *}" ok "allowed at once"
	secs_below "${r#* }" 2.5 || fail "held ${r#* } s"
	wait_for "$TMP/old.out" "EVENT_IN reason 0"
	grep -q "EVENT_IN reason 2" "$TMP/old.out" && fail "a held EVENT_IN went to an old controller"
	return 0
}

run_tests "$@"
