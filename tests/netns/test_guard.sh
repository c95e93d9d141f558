#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# test_guard.sh: the SysFlow agent and controller end to end on loopback:
# in-kernel connect deny by executable, fanotify open deny by process,
# REPORT, KILL, exact counters, idle and hard timeouts, controller and
# agent restarts, and the dlp app. Each test has its own cgroup, pin folder
# and tmpfs (guard_lib.sh); nothing else on the host is hooked.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/guard_lib.sh"

# Without a machine id (an empty /etc/machine-id, as in many containers)
# and no --host-id, the agent says the controller sees it as host 000...0,
# the id of every other host without one.
test_no_machine_id() {
	guard_setup
	start_controller
	: >"$TMP/empty-id"
	bg_start agent unshare -m sh -c "mount --bind '$TMP/empty-id' /etc/machine-id &&
		exec '$SYSFLOW' agent 127.0.0.1 $PORT -F '$PIN' -c '$CG' -w '$MNT' \
		--backoff-max 300 --echo-interval 500 --dead-interval 3000"
	wait_for "$TMP/agent.err" "connected to controller|error"
	grep -q "/etc/machine-id holds no host id (32 hex digits): this host is 00000000000000000000000000000000 to the controller" \
		"$TMP/agent.err" || fail "no word of the missing id: $(cat "$TMP/agent.err")"
	grep -q "connected to controller" "$TMP/agent.err" || fail "$(cat "$TMP/agent.err")"
	bg_stop agent
}

# A rule for one executable denies its connect() with EPERM; another
# program in the same cgroup connects. Processes started before the rule
# (labelled by the /proc scan) and after it (labelled at exec) both match.
test_connect_deny_exe() {
	local exe
	exe=$(readlink -f "$PY")
	guard_setup
	start_controller
	start_agent
	listen_on 17011
	assert_eq "$(connect_py 17011)" ok "python before the rule"
	# a process that exists before the rule, waiting on a fifo
	mkfifo "$TMP/go"
	in_cg "$PY" -c '
import errno, socket, sys
open(sys.argv[1]).read()
s = socket.socket()
try:
    s.connect(("127.0.0.1", 17011)); print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])' "$TMP/go" >"$TMP/early.out" &
	local early=$!
	add_rule "{\"op\":\"connect\",\"exe\":\"$exe\",\"port\":17011,\"actions\":[\"deny\"],\"cookie\":11}"
	assert_eq "$(connect_py 17011)" EPERM "python after the rule"
	assert_eq "$(connect_bash 17011)" ok "bash is not denied"
	echo go >"$TMP/go"
	wait "$early"
	assert_eq "$(cat "$TMP/early.out")" EPERM "python started before the rule"
	assert_eq "$(rule_hits 11)" 2 "hits"
	# the kernel's counters are in the agent's last lines
	bg_stop agent
	grep -qE "kernel: [0-9]+ hook runs, [0-9]+ matched, 2 denied, .* 0 events lost" \
		"$TMP/agent.err" || fail "kernel counters: $(grep 'kernel:' "$TMP/agent.err")"
}

# A file rule for one process name denies open(); others read the file.
test_open_deny_process() {
	guard_setup
	start_controller
	start_agent
	echo secret >"$MNT/secret"
	add_rule "{\"op\":\"open\",\"path\":\"$MNT/secret\",\"comm\":\"cat\",\"actions\":[\"deny\"],\"cookie\":12}"
	if in_cg cat "$MNT/secret" 2>"$TMP/cat.err"; then
		fail "cat could open the file"
	fi
	grep -q "Operation not permitted" "$TMP/cat.err" || fail "cat: $(cat "$TMP/cat.err")"
	assert_eq "$(head -1 "$MNT/secret")" secret "head reads it"
	assert_eq "$(cat "$MNT/other" 2>/dev/null; echo $?)" 1 "other files untouched"
	assert_eq "$(rule_hits 12)" 1 "hits"
}

# REPORT on a file read and on a connect reaches the controller.
test_report_reaches_controller() {
	guard_setup
	start_controller
	start_agent
	listen_on 17013
	echo data >"$MNT/watched"
	bg_start events "$SYSFLOW" ctl -S "$CTL" events -j
	bg_start events_txt "$SYSFLOW" ctl -S "$CTL" events # key=value lines
	# a tail whose reader leaves: ends at its next write, status 0, quiet
	bg_start head bash -c 'set -o pipefail; "$@" | head -1 >/dev/null' bash \
		"$SYSFLOW" ctl -S "$CTL" events -j
	add_rule "{\"op\":\"read\",\"path\":\"$MNT/watched\",\"actions\":[\"report\"],\"cookie\":13}"
	add_rule "{\"op\":\"connect\",\"port\":17013,\"actions\":[\"allow\",\"report\"],\"cookie\":14}"
	in_cg cat "$MNT/watched" >/dev/null
	assert_eq "$(connect_py 17013)" ok "connect allowed"
	wait_for "$TMP/events.out" "\"cookie\":13.*\"object\":\"$MNT/watched\""
	wait_for "$TMP/events.out" "\"cookie\":14.*\"op\":\"socket_connect\".*127.0.0.1:17013"
	grep -q '"exe":"/usr/bin/cat"' "$TMP/events.out" || fail "exe missing: $(cat "$TMP/events.out")"
	wait_for "$TMP/events_txt.out" " cookie=13 .*object=$MNT/watched"
	grep -q " exe=/usr/bin/cat" "$TMP/events_txt.out" || fail "text: $(cat "$TMP/events_txt.out")"
	! grep -q '^{' "$TMP/events_txt.out" || fail "JSON without -j: $(cat "$TMP/events_txt.out")"
	in_cg cat "$MNT/watched" >/dev/null # one more event after head left
	local rc=0
	bg_wait head 10 || rc=$?
	assert_eq "$rc" 0 "ctl events | head -1: exit status"
	[ ! -s "$TMP/head.err" ] || fail "ctl events | head -1 said: $(cat "$TMP/head.err")"
}

# KILL: the kernel signals the process as its syscall returns.
test_kill() {
	guard_setup
	start_controller
	start_agent
	listen_on 17015
	echo x >"$MNT/trap"
	add_rule '{"op":"connect","port":17015,"comm":"python3","actions":["deny",{"kill":9}],"cookie":15}'
	local rc=0
	in_cg "$PY" -c '
import socket, time
s = socket.socket()
try:
    s.connect(("127.0.0.1", 17015))
except OSError:
    pass
time.sleep(5)
print("survived")' >"$TMP/k.out" || rc=$?
	assert_eq "$rc" 137 "python exit status (SIGKILL)"
	[ ! -s "$TMP/k.out" ] || fail "process survived: $(cat "$TMP/k.out")"
	assert_eq "$(connect_bash 17015)" ok "bash unaffected"
	# and for a file decided through fanotify
	add_rule "{\"op\":\"open\",\"path\":\"$MNT/trap\",\"comm\":\"tail\",\"actions\":[{\"kill\":9}],\"cookie\":16}"
	rc=0
	in_cg tail -f "$MNT/trap" >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 137 "tail exit status (SIGKILL)"
}

# Counters are exact: N operations, N hits, in kernel and in user space.
test_counters_exact() {
	guard_setup
	start_controller
	start_agent
	listen_on 17017
	echo c >"$MNT/counted"
	add_rule '{"op":"connect","port":17017,"actions":["allow"],"cookie":17}'
	add_rule "{\"op\":\"open\",\"path\":\"$MNT/counted\",\"actions\":[\"allow\"],\"cookie\":18}"
	local i
	for ((i = 0; i < 7; i++)); do
		assert_eq "$(connect_bash 17017)" ok "connect $i"
	done
	for ((i = 0; i < 5; i++)); do
		in_cg cat "$MNT/counted" >/dev/null
	done
	connect_bash 17018 >/dev/null # another port: not counted
	assert_eq "$(rule_hits 17)" 7 "connect hits"
	assert_eq "$(rule_hits 18)" 5 "open hits"
	ctl rules "$HOSTID" >"$TMP/rules.txt"
	head -n 1 "$TMP/rules.txt" | grep -qE '^ +HITS +PRIO RULE$' ||
		fail "rules table header: $(cat "$TMP/rules.txt")"
	grep -qE '^ +7 .*"cookie":17' "$TMP/rules.txt" || fail "rule row: $(cat "$TMP/rules.txt")"
}

# Idle and hard timeouts remove rules and FLOW_REMOVED says why.
test_timeouts() {
	guard_setup
	start_controller
	start_agent
	bg_start events "$SYSFLOW" ctl -S "$CTL" events -j
	add_rule '{"op":"connect","port":17019,"actions":["deny"],"cookie":19,"idle_timeout":1,"flags":["send_flow_rem"]}'
	add_rule '{"op":"connect","port":17020,"actions":["deny"],"cookie":20,"hard_timeout":2,"flags":["send_flow_rem"]}'
	add_rule '{"op":"connect","port":17021,"actions":["deny"],"cookie":21,"hard_timeout":1}'
	assert_eq "$(connect_py 17020)" EPERM "hard-timeout rule in force"
	wait_for "$TMP/events.out" '"cookie":19,.*"reason":"idle_timeout".*"flow_removed"' 10
	wait_for "$TMP/events.out" '"cookie":20,.*"reason":"hard_timeout".*"hits":1,.*"flow_removed"' 10
	local n
	n=$(ctl rules "$HOSTID" -j | grep -c '"cookie"' || true)
	assert_eq "$n" 0 "rules left"
	grep -q '"cookie":21' "$TMP/events.out" && fail "removal of 21 sent without send_flow_rem"
	[ "$(connect_py 17020)" != EPERM ] || fail "rule still enforced after its hard timeout"
}

# Controller stopped: secure mode keeps enforcing; the agent reconnects
# and the new controller sees one session.
test_controller_restart_secure() {
	guard_setup
	start_controller
	start_agent --fail-mode secure
	listen_on 17022
	add_rule '{"op":"connect","port":17022,"actions":["deny"],"cookie":22}'
	bg_stop controller
	wait_for "$TMP/agent.err" "controller session lost"
	assert_eq "$(connect_py 17022)" EPERM "denied while the controller is away"
	assert_eq "$(connect_bash 17023)" fail "nothing listens on 17023" # sanity
	mv "$TMP/controller.err" "$TMP/controller1.err"
	start_controller
	wait_for "$TMP/controller.err" "host .* connected"
	local n
	n=$(grep -c "connected to controller" "$TMP/agent.err")
	assert_eq "$n" 2 "agent sessions"
	ctl stats -j >"$TMP/stats"
	grep -q '"hosts":1,"sessions":1' "$TMP/stats" || fail "stats: $(cat "$TMP/stats")"
	assert_eq "$(connect_py 17022)" EPERM "still denied"
	assert_eq "$(rule_hits 22)" 2 "hits across the restart"
}

# A host that comes back while its old session still looks alive (a
# frozen agent: its TCP connection is open, it just says nothing) gets a
# new session that replaces the old one.
test_reconnect_replaces_session() {
	guard_setup
	start_controller
	assert_eq "$(ctl hosts)" "no agent is connected" "hosts table before any agent"
	start_agent
	kill -STOP "$(cat "$TMP/agent.pid")"
	local cg2=$CGROOT/sfg-test2-$$ pin2=/sys/fs/bpf/sfg-test2-$$
	mkdir "$cg2"
	on_exit "rmdir '$cg2'"
	on_exit "'$SYSFLOW' agent --unload -F '$pin2' -q"
	bg_start agent2 "$SYSFLOW" agent 127.0.0.1 "$PORT" -F "$pin2" -c "$cg2" \
		--host-id "$HOSTID" --backoff-max 300
	wait_for "$TMP/controller.err" "replacing its old session"
	ctl hosts -j >"$TMP/hosts"
	assert_eq "$(grep -c host_id "$TMP/hosts")" 1 "hosts listed"
	ctl hosts >"$TMP/hosts.txt"
	head -n 1 "$TMP/hosts.txt" | grep -qE '^HOST +HOST ID +PEER +VIA +STATE$' ||
		fail "hosts table header: $(cat "$TMP/hosts.txt")"
	assert_eq "$(grep -c " $HOSTID " "$TMP/hosts.txt")" 1 "host rows"
	! awk 'length > 80' "$TMP/hosts.txt" | grep -q . || fail "hosts wider than 80: $(cat "$TMP/hosts.txt")"
	ctl stats -j | grep -q '"replaced":1,' || fail "replaced: $(ctl stats -j)"
	bg_stop agent KILL || true
}

# A second agent on the pin folder of a running one: exit 1 naming the
# folder, before it touches the maps or the controller; the first keeps
# its one session (two agents took each other's session in turn). And
# --unload waits until the running agent is stopped.
test_second_agent_same_folder() {
	local rc=0
	guard_setup
	start_controller
	start_agent
	timeout 20 "$SYSFLOW" agent 127.0.0.1 "$PORT" -F "$PIN" -c "$CG" \
		--host-id "$HOSTID" >"$TMP/a2.out" 2>"$TMP/a2.err" || rc=$?
	assert_eq "$rc" 1 "second agent's exit status"
	grep -qx "sysflow: error: another sysflow agent is using $PIN; stop it or choose another pin directory with -F" \
		"$TMP/a2.err" || fail "second agent said: $(cat "$TMP/a2.err")"
	assert_eq "$(host_sessions)" 1 "sessions of the test host at the controller"
	ctl rules "$HOSTID" >/dev/null || fail "the first agent's session is gone"
	# nor are its pins removed under it
	rc=0
	"$SYSFLOW" agent --unload -F "$PIN" >/dev/null 2>"$TMP/u.err" || rc=$?
	assert_eq "$rc" 1 "agent --unload under a running agent: exit status"
	grep -q "a running sysflow agent is using $PIN; stop it first" "$TMP/u.err" ||
		fail "--unload said: $(cat "$TMP/u.err")"
	assert_eq "$(wc -l <"$TMP/u.err")" 1 "lines --unload said under a running agent: $(cat "$TMP/u.err")"
	[ -n "$(ls "$PIN")" ] || fail "--unload removed the pins of a running agent"
	bg_stop agent INT || fail "first agent exited $?: $(tail -n 3 "$TMP/agent.err")"
	"$SYSFLOW" agent --unload -F "$PIN" >/dev/null 2>"$TMP/u.err" ||
		fail "--unload after the agent stopped: $(cat "$TMP/u.err")"
	[ ! -e "$PIN" ] || fail "--unload left $PIN"
}

# -c must name a cgroup2 folder: a plain directory (or a v1 hierarchy of a
# hybrid host) opens fine but fails at attach with EBADF. The agent names
# the problem before it loads or pins anything.
test_cgroup_not_v2() {
	local rc=0
	guard_setup
	timeout 20 "$SYSFLOW" agent 127.0.0.1 "$PORT" -F "$PIN" -c "$TMP" \
		--host-id "$HOSTID" >"$TMP/a.out" 2>"$TMP/a.err" || rc=$?
	assert_eq "$rc" 1 "agent -c on a plain directory: exit status"
	grep -qx "sysflow: error: cgroup $TMP is not on a cgroup2 file system; give -c a folder under the cgroup2 mount $CGROOT" \
		"$TMP/a.err" || fail "agent said: $(cat "$TMP/a.err")"
	[ ! -e "$PIN" ] || fail "agent left pins in $PIN: $(ls "$PIN")"
}

# A start that fails after the pins were made: --watch of a path that is
# not there fails at fanotify_mark, after the programs were loaded, their
# maps pinned and their links attached to the cgroup and pinned; a folder
# in the rule store's place fails an earlier step. A new folder is
# removed with everything it pinned (nothing enforces for an agent that
# never ran); the folder of an earlier agent (a restart) keeps its pins
# and its rules stay in force, as when an agent stops.
test_late_failure_pins() {
	local rc=0
	guard_setup
	timeout 20 "$SYSFLOW" agent 127.0.0.1 "$PORT" -F "$PIN" -c "$CG" \
		-w "$TMP/nosuch" --host-id "$HOSTID" >"$TMP/a.out" 2>"$TMP/a.err" || rc=$?
	assert_eq "$rc" 1 "agent with a --watch path that is not there: exit status"
	grep -q "cannot watch $TMP/nosuch with fanotify: No such file or directory" "$TMP/a.err" ||
		fail "agent said: $(cat "$TMP/a.err")"
	grep -q "start failed: programs detached, pins in $PIN removed" "$TMP/a.err" ||
		fail "agent said: $(cat "$TMP/a.err")"
	[ ! -e "$PIN" ] || fail "pins left in $PIN: $(ls "$PIN")"
	[ -z "$(bpftool cgroup show "$CG" 2>&1)" ] ||
		fail "programs left on the cgroup: $(bpftool cgroup show "$CG" 2>&1)"
	# an earlier step: a folder named rulestore where the rule store is
	# pinned fails it, after the load pinned the maps
	mkdir -p "$PIN/rulestore"
	rc=0
	timeout 20 "$SYSFLOW" agent 127.0.0.1 "$PORT" -F "$PIN" -c "$CG" \
		--host-id "$HOSTID" >"$TMP/a.out" 2>"$TMP/a.err" || rc=$?
	assert_eq "$rc" 1 "agent whose rule store cannot be pinned: exit status"
	grep -q "cannot create the rule store in $PIN: File exists" "$TMP/a.err" ||
		fail "agent said: $(cat "$TMP/a.err")"
	assert_eq "$(ls "$PIN")" rulestore "what is left in $PIN"
	rmdir "$PIN/rulestore" "$PIN"
	# a restart that fails the same way
	start_controller
	start_agent
	listen_on 17025
	add_rule '{"op":"connect","port":17025,"actions":["deny"],"cookie":25}'
	bg_stop agent INT || fail "agent exited $?: $(tail -n 3 "$TMP/agent.err")"
	rc=0
	timeout 20 "$SYSFLOW" agent 127.0.0.1 "$PORT" -F "$PIN" -c "$CG" \
		-w "$TMP/nosuch" --host-id "$HOSTID" >"$TMP/a.out" 2>"$TMP/a.err" || rc=$?
	assert_eq "$rc" 1 "restart with a --watch path that is not there: exit status"
	grep -q "rules stay in force in the kernel (pins in $PIN)" "$TMP/a.err" ||
		fail "agent said: $(cat "$TMP/a.err")"
	assert_eq "$(connect_py 17025)" EPERM "denied after a failed restart"
	start_agent
	grep -q "restored 1 rules" "$TMP/agent.err" || fail "no restore: $(cat "$TMP/agent.err")"
}

# kill -9 of the agent: pinned rules stay in force; a new agent restores
# its table, counters included.
test_agent_restart_keeps_rules() {
	guard_setup
	start_controller
	start_agent
	listen_on 17024
	add_rule '{"op":"connect","port":17024,"actions":["deny"],"cookie":24}'
	assert_eq "$(connect_py 17024)" EPERM "denied"
	bg_stop agent KILL || true
	assert_eq "$(connect_py 17024)" EPERM "denied without an agent"
	mv "$TMP/agent.err" "$TMP/agent1.err"
	start_agent
	grep -q "restored 1 rules" "$TMP/agent.err" || fail "no restore: $(cat "$TMP/agent.err")"
	assert_eq "$(connect_py 17024)" EPERM "denied by the new agent"
	assert_eq "$(rule_hits 24)" 3 "hits kept"
	assert_eq "$(connect_bash 17024)" fail "bash denied too (no subject)"
}

# The dlp app: reading the sensitive file isolates the reader.
test_dlp_isolates() {
	guard_setup
	echo "top secret" >"$MNT/w2"
	start_controller --dlp "$MNT/w2"
	start_agent
	# the app sends its REPORT rule as the controller takes the host up;
	# the agent installs it a moment later: a read before that is never
	# reported
	wait_rule "\"path\":\"$MNT/w2\",\"actions\":\[\"report\"\]"
	listen_on 17025
	mkfifo "$TMP/go"
	in_cg "$PY" -c '
import errno, socket, sys
open(sys.argv[1]).read()
print("read", flush=True)
open(sys.argv[2]).read()
try:  # isolation denies socket() already
    s = socket.socket()
    s.connect(("127.0.0.1", 17025)); print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])' "$MNT/w2" "$TMP/go" >"$TMP/reader.out" &
	local reader=$!
	wait_for "$TMP/reader.out" read
	wait_for "$TMP/controller.err" "dlp: .* read $MNT/w2"
	wait_rule '"pid":[0-9]+.*"isolation"'
	echo go >"$TMP/go"
	wait "$reader"
	assert_eq "$(tail -1 "$TMP/reader.out")" EPERM "the reader's connect"
	assert_eq "$(connect_py 17025)" ok "other processes connect"
	wait_for "$TMP/agent.err" "isolated: no network"
}

# --dlp-action encode reaches the dlp app (as the library's dlp_action; the
# default, isolate, is the test above).
test_dlp_action_encode() {
	start_controller --dlp /etc/hostname --dlp-action encode
	grep -q "dlp: reads of /etc/hostname make the reader tag its traffic" \
		"$TMP/controller.err" || fail "not told to encode: $(cat "$TMP/controller.err")"
}

# A fanotify listener that dies leaves nothing blocked: opens that were
# denied (miss policy deny) go through once the agent is killed, and
# opens in flight when it dies complete.
test_fanotify_listener_death() {
	guard_setup
	echo x >"$MNT/f"
	start_controller
	start_agent --miss file=deny
	in_cg cat "$MNT/f" 2>/dev/null && fail "miss deny not applied"
	# opens in flight while the agent dies
	in_cg bash -c 'for i in $(seq 2000); do cat "$0" >/dev/null 2>&1; done; echo done' \
		"$MNT/f" >"$TMP/loop.out" &
	local loop=$!
	bg_stop agent KILL || true
	wait "$loop"
	assert_eq "$(cat "$TMP/loop.out")" done "looping process finished"
	assert_eq "$(in_cg cat "$MNT/f")" x "open after the agent died"
}

# Priorities, strict and non-strict MODIFY/DELETE, CHECK_OVERLAP, IPv6.
test_flow_mod_semantics() {
	guard_setup
	start_controller
	start_agent
	listen_on 17040
	add_rule '{"op":"connect","port":17040,"actions":["deny"],"cookie":40}'
	add_rule '{"op":"connect","port":"17000-17100","comm":"python3","priority":200,"actions":["allow"],"cookie":41}'
	assert_eq "$(connect_py 17040)" ok "higher priority allow wins"
	assert_eq "$(connect_bash 17040)" fail "bash: the deny"
	if ctl add "$HOSTID" '{"op":"connect","port":17050,"priority":200,"flags":["check_overlap"],"actions":["deny"]}' >/dev/null 2>"$TMP/e"; then
		fail "overlapping rule accepted"
	fi
	grep -q "flow_mod_failed/overlap" "$TMP/e" || fail "$(cat "$TMP/e")"
	ctl del "$HOSTID" '{"cookie":41}' >/dev/null || fail "del by cookie"
	assert_eq "$(connect_py 17040)" EPERM "after deleting the allow"
	ctl add "$HOSTID" '{"command":"modify_strict","op":"connect","port":17040,"priority":100,"actions":["allow"]}' >/dev/null ||
		fail "modify_strict"
	assert_eq "$(connect_py 17040)" ok "after modify_strict to allow"
	assert_eq "$(rule_hits 40)" 3 "hits kept across modify"
	# IPv6 through the connect6 hook
	add_rule '{"op":"connect","addr":"::1/128","port":17042,"actions":["deny"],"cookie":42}'
	local r
	r=$(in_cg "$PY" -c '
import errno, socket
s = socket.socket(socket.AF_INET6)
try:
    s.connect(("::1", 17042)); print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])')
	assert_eq "$r" EPERM "IPv6 connect"
	assert_eq "$(rule_hits 42)" 1 "IPv6 hits"
}

run_tests "$@"
