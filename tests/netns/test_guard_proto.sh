#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# test_guard_proto.sh: the SysFlow session from the outside: malformed
# input gets an ERROR and a closed session (controller and agent), version
# negotiation, ECHO and the dead-peer timeout, mutual TLS, the policy app's
# reload, the acl app's windows, refusal of what the kernel cannot enforce,
# miss policies and fail modes, ENCODE, a shared-object app built as
# docs/extending.md says, daemon mode and the CLI's usage errors.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/guard_lib.sh"

# A raw SysFlow peer in Python: prints what it receives, one line each.
write_peer() {
	cat >"$TMP/peer.py" <<'PY'
import socket, struct, sys, time

def msg(t, body=b"", xid=1, ver=1, length=None):
    n = 12 + len(body) if length is None else length
    return struct.pack(">BBHII", ver, t, 0, n, xid) + body

def read_msgs(s, want=None, secs=5):
    """Yield (type, xid, body) until EOF, timeout or a type in want."""
    s.settimeout(secs)
    buf = b""
    end = time.time() + secs
    while time.time() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            return
        if not d:
            print("EOF", flush=True)
            return
        buf += d
        while len(buf) >= 12:
            v, t, r, n, x = struct.unpack(">BBHII", buf[:12])
            if len(buf) < n:
                break
            body, buf = buf[12:n], buf[n:]
            yield t, x, body
            if want is not None and t in want:
                return
PY
}

# hello | features
HELLO=0 FEAT_REQ=1 FEAT_REP=2 ECHO_REQ=6 ERROR=9

test_malformed_to_controller() {
	guard_setup
	start_controller
	write_peer
	local case
	for case in short-len bad-version unknown-type oversized garbage-before-hello; do
		"$PY" - "$PORT" "$case" >"$TMP/$case.out" <<PY
import socket, struct, sys
exec(open("$TMP/peer.py").read())
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
case = sys.argv[2]
s.sendall(msg(0, struct.pack(">I", 2)))
if case == "short-len":
    s.sendall(msg(11, length=8))
elif case == "bad-version":
    s.sendall(msg(11, ver=7))
elif case == "unknown-type":
    s.sendall(msg(99))
elif case == "oversized":
    s.sendall(struct.pack(">BBHII", 1, 3, 0, 1 << 20, 5))
elif case == "garbage-before-hello":
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(msg(8, b"\0" * 38))
for t, x, body in read_msgs(s):
    if t == 9:
        et, ec = struct.unpack(">HH", body[:4])
        print("ERROR", et, ec, flush=True)
PY
		grep -q "^ERROR 1 " "$TMP/$case.out" || fail "$case: no ERROR: $(cat "$TMP/$case.out")"
		grep -q "^EOF" "$TMP/$case.out" || fail "$case: session not closed"
	done
	grep -q "^ERROR 1 2" "$TMP/short-len.out" || fail "short length: $(cat "$TMP/short-len.out")"
	grep -q "^ERROR 1 0" "$TMP/bad-version.out" || fail "bad version"
	grep -q "^ERROR 1 1" "$TMP/unknown-type.out" || fail "unknown type"
	grep -q "^ERROR 1 3" "$TMP/oversized.out" || fail "oversized"
	grep -q "^ERROR 1 4" "$TMP/garbage-before-hello.out" || fail "before hello"
	kill -0 "$(cat "$TMP/controller.pid")" || fail "controller died"
}

# A fake controller: HELLO, FEATURES, then a malformed FLOW_MOD (the agent
# answers ERROR and keeps the session), then a bad length (ERROR, close).
test_malformed_to_agent() {
	guard_setup
	write_peer
	cat >"$TMP/fake.py" <<PY
import socket, struct, sys
exec(open("$TMP/peer.py").read())
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(1)
print("listening", flush=True)
c, _ = l.accept()
c.sendall(msg(0, struct.pack(">I", 2)))
c.sendall(msg(1, xid=2))
for t, x, body in read_msgs(c, want={2}):
    print("got", t, flush=True)
hostname = body[16:80].rstrip(b"\0").decode()
print("features", hostname, body[:16].hex(), flush=True)
# FLOW_MOD with an action type 99
fm = struct.pack(">BBHHHHHQQ", 0, 0, 0, 100, 0, 0, 1, 0, 0)
fm += struct.pack(">HBB", 4, 19, 0) + struct.pack(">HH", 99, 4)
c.sendall(msg(3, fm, xid=7))
for t, x, body in read_msgs(c, want={9}):
    if t == 9:
        print("ERROR", struct.unpack(">HH", body[:4]), x, flush=True)
c.sendall(msg(11, xid=8))
for t, x, body in read_msgs(c, want={12}):
    if t == 12:
        print("BARRIER", x, flush=True)
c.sendall(msg(12, length=4))
for t, x, body in read_msgs(c):
    if t == 9:
        print("ERROR", struct.unpack(">HH", body[:4]), x, flush=True)
PY
	bg_start fake "$PY" "$TMP/fake.py" "$PORT"
	wait_for "$TMP/fake.out" listening
	bg_start agent "$SYSFLOW" agent 127.0.0.1 "$PORT" -F "$PIN" -c "$CG" \
		--host-id "$HOSTID" --backoff-max 5000
	wait_for "$TMP/fake.out" "features .* $HOSTID"
	wait_for "$TMP/fake.out" "ERROR \(3, 0\) 7"
	wait_for "$TMP/fake.out" "BARRIER 8"
	wait_for "$TMP/fake.out" "ERROR \(1, 2\)"
	wait_for "$TMP/fake.out" "^EOF"
	wait_for "$TMP/agent.err" "controller session lost"
}

# No common version: ERROR HELLO_FAILED/INCOMPATIBLE and a closed session.
test_version_negotiation() {
	guard_setup
	start_controller
	write_peer
	"$PY" - "$PORT" >"$TMP/v.out" <<PY
import socket, struct, sys
exec(open("$TMP/peer.py").read())
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(msg(0, struct.pack(">I", 1 << 5), ver=5))
for t, x, body in read_msgs(s):
    if t == 0:
        print("HELLO", struct.unpack(">I", body[:4])[0], flush=True)
    if t == 9:
        print("ERROR", struct.unpack(">HH", body[:4]), flush=True)
PY
	grep -q "HELLO 2" "$TMP/v.out" || fail "controller HELLO: $(cat "$TMP/v.out")"
	grep -q "ERROR (0, 0)" "$TMP/v.out" || fail "no HELLO_FAILED"
	grep -q EOF "$TMP/v.out" || fail "not closed"
	# a version-5 peer that also speaks 1 is accepted at 1
	"$PY" - "$PORT" >"$TMP/v2.out" <<PY
import socket, struct, sys
exec(open("$TMP/peer.py").read())
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(msg(0, struct.pack(">I", (1 << 5) | 2), ver=5))
for t, x, body in read_msgs(s, want={1}, secs=3):
    print("type", t, flush=True)
PY
	grep -q "type 1" "$TMP/v2.out" || fail "no FEATURES_REQUEST: $(cat "$TMP/v2.out")"
}

# The agent ECHOes a silent controller, then declares it dead.
test_echo_dead_peer() {
	guard_setup
	write_peer
	cat >"$TMP/fake.py" <<PY
import socket, struct, sys, time
exec(open("$TMP/peer.py").read())
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(1)
print("listening", flush=True)
c, _ = l.accept()
c.sendall(msg(0, struct.pack(">I", 2)))
t0 = time.time()
for t, x, body in read_msgs(c, secs=5):
    print("type", t, "at %.1f" % (time.time() - t0), flush=True)
PY
	bg_start fake "$PY" "$TMP/fake.py" "$PORT"
	wait_for "$TMP/fake.out" listening
	bg_start agent "$SYSFLOW" agent 127.0.0.1 "$PORT" -F "$PIN" -c "$CG" \
		--host-id "$HOSTID" --echo-interval 300 --dead-interval 1000 \
		--backoff-max 10000
	wait_for "$TMP/fake.out" "type $ECHO_REQ"
	wait_for "$TMP/agent.err" "controller silent for 1000 ms"
	wait_for "$TMP/fake.out" "^EOF"
}

# Mutual TLS: a certificate from the CA gets in; a foreign one and none
# are refused.
test_tls_mutual() {
	command -v openssl >/dev/null || skip "openssl missing"
	guard_setup
	local d=$TMP/pki
	mkdir "$d"
	(
		cd "$d"
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca
		openssl req -x509 -newkey rsa:2048 -nodes -keyout evil-ca.key -out evil-ca.pem -days 2 -subj /CN=evil-ca
		for n in ctrl agent; do
			openssl req -newkey rsa:2048 -nodes -keyout $n.key -out $n.csr -subj /CN=$n
			printf 'subjectAltName=IP:127.0.0.1\n' >ext
			openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $n.pem -days 2 -extfile ext
		done
		openssl req -newkey rsa:2048 -nodes -keyout evil.key -out evil.csr -subj /CN=evil
		openssl x509 -req -in evil.csr -CA evil-ca.pem -CAkey evil-ca.key -CAcreateserial -out evil.pem -days 2
	) >"$TMP/openssl.log" 2>&1 || fail "openssl: $(tail -3 "$TMP/openssl.log")"
	start_controller --tls-cert "$d/ctrl.pem" --tls-key "$d/ctrl.key" --tls-ca "$d/ca.pem" -v
	start_agent --tls-cert "$d/agent.pem" --tls-key "$d/agent.key" --tls-ca "$d/ca.pem"
	grep -q "over TLS as ctrl" "$TMP/agent.err" || fail "agent: $(cat "$TMP/agent.err")"
	ctl hosts -j | grep -q '"transport":"tls","cert_cn":"agent"' || fail "hosts: $(ctl hosts -j)"
	# a certificate from another CA
	local cg2=$CGROOT/sfg-test2-$$ pin2=/sys/fs/bpf/sfg-test2-$$
	mkdir "$cg2"
	on_exit "rmdir '$cg2'"
	on_exit "'$SYSFLOW' agent --unload -F '$pin2' -q"
	bg_start evil "$SYSFLOW" agent 127.0.0.1 "$PORT" -F "$pin2" -c "$cg2" \
		--host-id 00000000000000000000000000000bad --backoff-max 300 \
		--tls-cert "$d/evil.pem" --tls-key "$d/evil.key" --tls-ca "$d/ca.pem" -v
	wait_for "$TMP/controller.err" "TLS handshake with .* failed"
	# plain TCP to the TLS port
	"$PY" -c '
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(struct.pack(">BBHII", 1, 0, 0, 16, 1) + struct.pack(">I", 2))
s.settimeout(3)
try:
    print("closed" if not s.recv(100) else "answered")
except ConnectionResetError:
    print("closed")' "$PORT" >"$TMP/plain.out" 2>&1 || true
	grep -q closed "$TMP/plain.out" || fail "plain TCP: $(cat "$TMP/plain.out")"
	bg_stop evil INT || true
	grep -q "connected to controller" "$TMP/evil.err" && fail "foreign certificate accepted"
	assert_eq "$(ctl hosts -j | grep -c host_id)" 1 "hosts"
}

# SIGHUP reloads the policy file without dropping the session.
test_policy_reload() {
	guard_setup
	cat >"$TMP/policy.json" <<EOF2
{"rules": [
  {"hosts": "*", "op": "connect", "port": 17030, "actions": ["deny"], "cookie": 30},
  {"hosts": ["no-such-host"], "op": "connect", "port": 17031, "actions": ["deny"], "cookie": 31}
]}
EOF2
	start_controller -P "$TMP/policy.json"
	start_agent
	echo x >"$MNT/unlisted"
	wait_rule '"cookie":30,'
	ctl rules "$HOSTID" -j | grep -q '"cookie":31,' && fail "rule for another host pushed"
	assert_eq "$(connect_py 17030)" EPERM "policy rule in force"
	cat >"$TMP/policy.json" <<EOF2
{"miss": {"file": "deny"},
 "rules": [{"op": "connect", "port": 17032, "actions": ["deny"], "cookie": 32}]}
EOF2
	kill -HUP "$(cat "$TMP/controller.pid")"
	wait_for "$TMP/controller.err" "policy: reloaded 1 rules"
	wait_rule '"cookie":32,'
	local i
	for ((i = 0; i < 40; i++)); do
		ctl rules "$HOSTID" -j | grep -q '"cookie":30,' || break
		sleep 0.05
	done
	ctl rules "$HOSTID" -j | grep -q '"cookie":30,' && fail "old rule kept"
	[ "$(connect_py 17030)" != EPERM ] || fail "old rule still enforced"
	in_cg cat "$MNT/unlisted" >/dev/null 2>&1 && fail "file miss policy deny not applied"
	assert_eq "$(grep -c "connected to controller" "$TMP/agent.err")" 1 "one session"
}

# The acl app: a rule in force only inside its time window.
test_acl_window() {
	guard_setup
	local from to
	# the window must outlast the start of controller and agent and the
	# connect (about 1 s on the shared 2-CPU VM with the sanitizer build,
	# a few when builds run beside it); %H:%M:%S cuts up to 1 s off it
	from=$(date -d '-1 min' +%H:%M:%S)
	to=$(date -d '+8 sec' +%H:%M:%S)
	[ "$from" \< "$to" ] || skip "window would cross midnight"
	cat >"$TMP/acl.json" <<EOF2
{"windows": [{"hosts": "*", "from": "$from", "to": "$to",
  "rule": {"op": "connect", "port": 17033, "actions": ["deny"], "cookie": 33}}]}
EOF2
	start_controller --acl "$TMP/acl.json"
	start_agent
	wait_rule '"cookie":33,'
	assert_eq "$(connect_py 17033)" EPERM "inside the window"
	wait_for "$TMP/controller.err" "acl: window 0 closes" 20
	local i
	for ((i = 0; i < 40; i++)); do
		ctl rules "$HOSTID" -j | grep -q '"cookie":33,' || break
		sleep 0.05
	done
	ctl rules "$HOSTID" -j | grep -q '"cookie":33,' && fail "rule kept after the window"
	[ "$(connect_py 17033)" != EPERM ] || fail "still denied after the window"
}

# What this kernel cannot enforce is refused at FLOW_MOD time.
test_unsupported_refused() {
	guard_setup
	start_controller
	bg_start agent "$SYSFLOW" agent 127.0.0.1 "$PORT" -F "$PIN" -c "$CG" \
		--host-id "$HOSTID" --backoff-max 300
	wait_for "$TMP/agent.err" "connected to controller"
	wait_until 10 more_sessions_than 0 # as start_agent does
	local r
	for r in '{"op":"socket","actions":[{"encode":10}]}' \
		'{"op":"open","path":"/tmp/x","actions":["deny"]}' \
		'{"op":"unlink","actions":["deny"]}' \
		'{"op":"connect","actions":["redirect"]}' \
		'{"op":"connect","path":"/tmp/x","actions":["deny"]}'; do
		if ctl add "$HOSTID" "$r" >"$TMP/o" 2>"$TMP/e"; then
			fail "accepted $r"
		fi
		grep -qE "unsupported|bad_field" "$TMP/e" || fail "$r: $(cat "$TMP/e")"
	done
	grep -q "refused: bad_action/unsupported" "$TMP/agent.err" || fail "agent log"
	assert_eq "$(ctl rules "$HOSTID" -j | grep -c cookie || true)" 0 "rules"
}

# Miss policies and fail modes: "deny" misses while the controller is up;
# in fail-open mode misses are allowed once it is gone.
test_miss_and_fail_open() {
	guard_setup
	start_controller
	start_agent --fail-mode open --miss socket=deny
	listen_on 17034
	assert_eq "$(connect_py 17034)" EPERM "miss denied (socket creation)"
	add_rule '{"op":"socket","actions":["allow"]}'
	assert_eq "$(connect_py 17034)" EPERM "miss denied (connect)"
	add_rule '{"op":"connect","port":17034,"actions":["allow"]}'
	assert_eq "$(connect_py 17034)" ok "allowed by rule"
	assert_eq "$(connect_bash 17035)" fail "other port: miss"
	bg_stop controller
	wait_for "$TMP/agent.err" "fail mode open: table misses are allowed"
	listen_on 17035
	assert_eq "$(connect_py 17035)" ok "miss allowed without a controller"
}

# ENCODE: the subject's sockets carry the DSCP tag.
test_encode_dscp() {
	guard_setup
	start_controller
	start_agent
	listen_on 17036
	add_rule '{"op":"connect","port":17036,"comm":"python3","actions":[{"encode":10}]}'
	local tos
	tos=$(in_cg "$PY" -c '
import socket
s = socket.socket()
s.connect(("127.0.0.1", 17036))
print(s.getsockopt(socket.IPPROTO_IP, socket.IP_TOS))')
	assert_eq "$tos" 40 "IP_TOS (DSCP 10 << 2)"
}

# The sample app, built with exactly the command docs/extending.md gives.
test_app_sample() {
	local repo cmd
	repo=$(cd "$(dirname "$0")/../.." && pwd)
	cmd=$(sed -n 's/^    \(gcc .*app_sample.*\)$/\1/p' "$repo/docs/extending.md" | head -1)
	[ -n "$cmd" ] || fail "no build command in docs/extending.md"
	(cd "$repo" && eval "${cmd//build\/app_sample.so/$TMP\/app_sample.so}") ||
		fail "build: $cmd"
	guard_setup
	start_controller -a "$TMP/app_sample.so" --app-args 17037
	start_agent
	wait_for "$TMP/controller.err" "app_sample: .* connected"
	wait_rule '"port":"17037"'
	assert_eq "$(connect_py 17037)" EPERM "the sample app's rule"
	wait_for "$TMP/controller.err" "app_sample: report from"
}

# -d: a daemon with a log file and a pid file, stopped by SIGTERM.
test_daemon_mode() {
	guard_setup
	start_controller
	"$SYSFLOW" agent 127.0.0.1 "$PORT" -d -F "$PIN" -c "$CG" \
		--host-id "$HOSTID" -L "$TMP/agent.log" --pid-file "$TMP/agent.pid" --cleanup
	wait_for "$TMP/agent.log" "connected to controller"
	local pid
	pid=$(cat "$TMP/agent.pid")
	on_exit "kill -KILL $pid"
	kill -0 "$pid" || fail "no daemon"
	grep -qE '^[0-9T:-]+ info: agent for controller' "$TMP/agent.log" || fail "log lines: $(head -3 "$TMP/agent.log")"
	kill -TERM "$pid"
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && fail "daemon did not stop"
	[ ! -e "$TMP/agent.pid" ] || fail "pid file left"
	[ ! -e "$PIN" ] || fail "pins left after --cleanup"
}

# The decoder's libFuzzer target for 20 s (CI); every target, longer, by
# hand with make fuzz (docs/testing.md). The first run builds the fuzz
# library (under a minute).
test_fuzz_decoder() {
	local repo
	repo=$(cd "$(dirname "$0")/../.." && pwd)
	echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' >"$TMP/f.c"
	clang -fsanitize=fuzzer "$TMP/f.c" -o "$TMP/f" 2>/dev/null ||
		skip "clang has no -fsanitize=fuzzer"
	make -C "$repo" -s fuzz FUZZ=proto FUZZ_SECS=20 >"$TMP/fuzz.log" 2>&1 ||
		fail "fuzzer: $(tail -20 "$TMP/fuzz.log")"
	grep -q "^PASS fuzz/proto: [0-9]* executions in 20s" "$TMP/fuzz.log" ||
		fail "$(tail -5 "$TMP/fuzz.log")"
}

test_cli_usage() {
	local rc=0
	"$SYSFLOW" agent >/dev/null 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 2 "agent without HOST"
	grep -q "missing HOST" "$TMP/e" || fail "$(cat "$TMP/e")"
	rc=0
	"$SYSFLOW" agent h 1 --miss file=maybe >/dev/null 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 2 "bad --miss"
	rc=0
	"$SYSFLOW" ctl frobnicate >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 2 "ctl bad action"
	rc=0 # an argument the action would ignore
	"$SYSFLOW" ctl hosts web1 -S "$TMP/none.sock" >/dev/null 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 2 "ctl hosts HOST"
	grep -q "unexpected argument 'web1': hosts takes no HOST" "$TMP/e" || fail "$(cat "$TMP/e")"
	rc=0
	"$SYSFLOW" ctl rules web1 '{}' -S "$TMP/none.sock" >/dev/null 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 2 "ctl rules HOST JSON"
	grep -q "unexpected argument '{}': rules takes only HOST" "$TMP/e" || fail "$(cat "$TMP/e")"
	rc=0
	"$SYSFLOW" ctl hosts -S "$TMP/none.sock" >/dev/null 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 1 "ctl without controller"
	grep -q "is \`sysflow controller\` running" "$TMP/e" || fail "$(cat "$TMP/e")"
	# the TLS options go together, checked before anything starts
	rc=0
	"$SYSFLOW" controller --tls-cert c.pem -C "$TMP/c.sock" >/dev/null 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 2 "controller with --tls-cert alone"
	grep -q -- "--tls-cert needs --tls-key too (TLS options go together)" "$TMP/e" ||
		fail "$(cat "$TMP/e")"
	rc=0
	"$SYSFLOW" agent h 1 --tls-key k.pem --tls-ca ca.pem >/dev/null 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 2 "agent without --tls-cert"
	grep -q -- "needs --tls-cert too" "$TMP/e" || fail "$(cat "$TMP/e")"
	"$SYSFLOW" agent --help | grep -q -- "--fail-mode" || fail "agent help"
	"$SYSFLOW" controller --help | grep -q -- "--policy" || fail "controller help"
	"$SYSFLOW" --help | grep -q "controller" || fail "command list"
}

# controller_fails WHAT ARGS...: the controller refuses to start (exit 1)
# with stderr in $TMP/e; WHAT names the case.
controller_fails() {
	local what=$1 rc=0
	shift
	timeout 10 "$SYSFLOW" controller -l 127.0.0.1 -p "$PORT" -C "$TMP/ctl.sock" "$@" \
		>/dev/null 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 1 "controller exit status with $what"
}

# Files the applications cannot use: named once, with the reason and a
# position only when there is one.
test_app_file_errors() {
	controller_fails "a missing policy" -P "$TMP/none.json"
	grep -qx "sysflow: error: policy: cannot read $TMP/none.json: No such file or directory" \
		"$TMP/e" || fail "missing policy: $(cat "$TMP/e")"
	controller_fails "a directory as policy" -P "$TMP"
	grep -q "policy: cannot read $TMP: Is a directory" "$TMP/e" || fail "directory: $(cat "$TMP/e")"
	echo '{bad' >"$TMP/bad.json"
	controller_fails "a policy with a syntax error" -P "$TMP/bad.json"
	grep -q "policy: $TMP/bad.json:1:[0-9]*: string or '}' expected near 'bad'" "$TMP/e" ||
		fail "syntax error: $(cat "$TMP/e")"
	controller_fails "a missing acl" --acl "$TMP/none.json"
	grep -qx "sysflow: error: acl: cannot read $TMP/none.json: No such file or directory" \
		"$TMP/e" || fail "missing acl: $(cat "$TMP/e")"
	controller_fails "a missing app" -a "$TMP/none.so"
	[ "$(grep -o "$TMP/none.so" "$TMP/e" | wc -l)" -eq 1 ] || fail "app path not once: $(cat "$TMP/e")"
}

run_tests "$@"
