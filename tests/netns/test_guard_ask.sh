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
import sys
import sfp_peer as sfp
T = sfp.Type
l = sfp.listen(int(sys.argv[1]))
print("listening", flush=True)
c = sfp.accept(l)
c.send_raw(sfp.encode_msg(T.HELLO, sfp.encode_hello()) +  # no feature bits
           sfp.encode_msg(T.FEATURES_REQUEST, xid=2))
for m in c.messages():
    if m.type == T.HELLO:
        print("agent HELLO features", sfp.decode_hello(m.body)[1], flush=True)
    elif m.type == T.FEATURES_REPLY:  # file misses ask, then a barrier
        config = sfp.encode_set_config(file=sfp.MISS_ASK)
        c.send_raw(sfp.encode_msg(T.SET_CONFIG, config, xid=3) +
                   sfp.encode_msg(T.BARRIER_REQUEST, xid=4))
    elif m.type == T.BARRIER_REPLY:
        print("ready", flush=True)
    elif m.type == T.EVENT_IN:
        e = sfp.decode_event(m.body)
        print("EVENT_IN reason", e.reason, "op", e.op, "object", e.obj,
              "len", len(m.body), flush=True)
    elif m.type == T.ECHO_REQUEST:
        c.send_msg(T.ECHO_REPLY, m.body, xid=m.xid)
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
