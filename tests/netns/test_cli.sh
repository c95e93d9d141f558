#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# test_cli.sh: the sysflow CLI contract: help, version, exit codes, errors
# that name the problem, and the feature probes.
source "$(dirname "$0")/lib.sh"

# expect_rc RC CMD...: run CMD, keep its output in $TMP/out and $TMP/err.
expect_rc() {
	local want=$1 rc=0; shift
	"$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "'$*' exited $rc, expected $want: $(cat "$TMP/err")"
}

test_help_and_version() {
	expect_rc 0 "$SYSFLOW" --help
	grep -q "flowmon" "$TMP/out" || fail "--help does not list flowmon"
	expect_rc 0 "$SYSFLOW" --version
	grep -qE '^sysflow [0-9]+\.[0-9]+\.[0-9]+ \(libbpf [0-9.]+\)$' "$TMP/out" ||
		fail "bad version line: $(cat "$TMP/out")"
	expect_rc 0 "$SYSFLOW" flowmon --help
	grep -q -- "--ipfix" "$TMP/out" || fail "flowmon --help misses --ipfix"
	grep -q "Examples:" "$TMP/out" || fail "flowmon --help has no examples"
	grep -q -- "--ipfix HOST\[:PORT\] .*(port 4739)" "$TMP/out" ||
		fail "flowmon --help does not say the IPFIX port is optional"
	[ ! -s "$TMP/err" ] || fail "--help wrote to stderr"
	# every command's help fits 80 columns
	local c
	for c in $("$SYSFLOW" --help | awk '/^Commands:/{f=1;next} /^$/{f=0} f{print $1}'); do
		expect_rc 0 "$SYSFLOW" "$c" --help
		! awk 'length > 80' "$TMP/out" | grep -q . ||
			fail "$c --help is wider than 80 columns: $(awk 'length > 80' "$TMP/out" | head -1)"
	done
}

# -v gives more messages; libbpf's and the verifier's output only with -v -v
# (--help, sysflow.8). flowmon -r loads its XDP program without an interface.
test_verbose_levels() {
	/usr/bin/python3 - "$TMP/one.pcap" <<'PY' || skip "python3-scapy missing"
import sys
from scapy.all import Ether, IP, UDP, wrpcap
wrpcap(sys.argv[1], [Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2)])
PY
	expect_rc 0 "$SYSFLOW" flowmon -r "$TMP/one.pcap" -j -v
	! grep -q "^libbpf: " "$TMP/err" ||
		fail "one -v shows libbpf's output: $(grep -c '^libbpf: ' "$TMP/err") lines"
	expect_rc 0 "$SYSFLOW" flowmon -r "$TMP/one.pcap" -j -v -v
	grep -q "^libbpf: " "$TMP/err" || fail "-v -v shows no libbpf output"
}

# SYSFLOW_LOG sets the level; a value that is not one is named, not ignored.
test_log_env() {
	SYSFLOW_LOG=error expect_rc 1 "$SYSFLOW" flowmon -d nosuchif0 -F /sys/fs/bpf/sysflow-test-$$
	grep -q "unknown interface 'nosuchif0'" "$TMP/err" || fail "error hidden by SYSFLOW_LOG=error"
	SYSFLOW_LOG=loud expect_rc 0 "$SYSFLOW" features
	grep -q "SYSFLOW_LOG='loud' is not a log level (error, warn, info or debug)" "$TMP/err" ||
		fail "bad SYSFLOW_LOG not named: $(head -3 "$TMP/err")"
}

test_usage_errors() {
	expect_rc 2 "$SYSFLOW"
	expect_rc 2 "$SYSFLOW" nosuchcommand
	grep -q "unknown command 'nosuchcommand'" "$TMP/err" || fail "no name in error"
	grep -q "^  flowmon " "$TMP/err" || fail "the commands not listed: $(cat "$TMP/err")"
	expect_rc 2 "$SYSFLOW" -v flowmon -d lo
	grep -q "unknown option '-v'; options go after the command" "$TMP/err" ||
		fail "an option before the command: $(cat "$TMP/err")"
	expect_rc 2 "$SYSFLOW" flowmon --no-such-option -d lo
	grep -q "unknown option '--no-such-option'" "$TMP/err" || fail "option not named"
	expect_rc 2 "$SYSFLOW" flowmon --de lo # prefixes are not accepted
	expect_rc 2 "$SYSFLOW" flowmon -d lo -i abc
	grep -q "invalid value 'abc' for --interval" "$TMP/err" || fail "value not named"
	expect_rc 2 "$SYSFLOW" flowmon
	grep -q "^Usage: sysflow flowmon -d DEV\[,DEV\] | -r FILE.pcap | -i 0 \[-F DIR\] \[options\]$" \
		"$TMP/err" || fail "flowmon usage line: $(cat "$TMP/err")"
	expect_rc 2 "$SYSFLOW" flowmon -d lo -r x.pcap
	# HOST and PORT are required unless --unload: the usage line says so
	expect_rc 2 "$SYSFLOW" agent
	grep -q "^Usage: sysflow agent HOST PORT | --unload \[options\]$" "$TMP/err" ||
		fail "agent usage line: $(cat "$TMP/err")"
	expect_rc 2 "$SYSFLOW" flowmon -d lo --pipeline fastest
	grep -q "invalid value 'fastest' for --pipeline: expected one of: single, tail-meta, tail-map" \
		"$TMP/err" || fail "choices not listed: $(cat "$TMP/err")"
	# a positional argument is named as such, not as an option
	expect_rc 2 "$SYSFLOW" route bogus
	grep -q "invalid command 'bogus': expected one of: apply, update, show, del, check" \
		"$TMP/err" || fail "route verb: $(cat "$TMP/err")"
	! grep -q -- "--command" "$TMP/err" || fail "names a --command option that does not exist"
	# ports are checked before anything listens or connects
	expect_rc 2 "$SYSFLOW" controller -p 0 -C "$TMP/ctl.sock"
	grep -q "invalid value '0' for --port: expected a port number from 1 to 65535" \
		"$TMP/err" || fail "controller port: $(cat "$TMP/err")"
	expect_rc 2 "$SYSFLOW" controller -p 70000 -C "$TMP/ctl.sock"
	expect_rc 2 "$SYSFLOW" agent 127.0.0.1 70000 -F "/sys/fs/bpf/sysflow-test-$$"
	grep -q "invalid port '70000'" "$TMP/err" || fail "agent port: $(cat "$TMP/err")"
	[ ! -e "/sys/fs/bpf/sysflow-test-$$" ] || fail "agent pinned before checking its port"
	# -d and -m are checked before anything is attached
	expect_rc 2 "$SYSFLOW" flowmon -d lo,lo -t 1
	grep -q "interface 'lo' is given twice" "$TMP/err" || fail "repeated -d: $(cat "$TMP/err")"
	expect_rc 2 "$SYSFLOW" flowmon -d lo -m turbo -t 1
	grep -q "invalid value 'turbo' for --mode" "$TMP/err" || fail "bad -m: $(cat "$TMP/err")"
	expect_rc 2 "$SYSFLOW" flowmon -d lo -m skb,native -t 1
	grep -q "gives 2 modes for 1 interface" "$TMP/err" || fail "extra -m: $(cat "$TMP/err")"
	expect_rc 2 "$SYSFLOW" flowmon -d lo -p tcp,bogus
	grep -q "unknown protocol 'bogus'.*valid: eth" "$TMP/err" || fail "protocols not listed"
	# a list that leaves out what a protocol is parsed on would count nothing
	expect_rc 2 "$SYSFLOW" flowmon -d lo -p ipv4,icmp
	grep -q "\-p ipv4,icmp leaves out eth, which every other protocol is parsed on" \
		"$TMP/err" || fail "-p without eth: $(cat "$TMP/err")"
	expect_rc 2 "$SYSFLOW" flowmon -d lo -p eth,ipv6,icmp
	grep -q "leaves out ipv4, which icmp is parsed on" "$TMP/err" ||
		fail "-p icmp without ipv4: $(cat "$TMP/err")"
	grep -q "^Usage: sysflow flowmon" "$TMP/err" || fail "-p: no usage line"
	# --ipfix's syntax is checked as the other options' (its port)
	expect_rc 2 "$SYSFLOW" flowmon -d lo --ipfix localhost:99999
	grep -q "invalid value 'localhost:99999' for --ipfix: expected host\[:port\]" \
		"$TMP/err" || fail "--ipfix port: $(cat "$TMP/err")"
	# an empty string is no value: an option's or a positional's
	expect_rc 2 "$SYSFLOW" collect -j -e ""
	grep -q "invalid value '' for --exporter: empty" "$TMP/err" ||
		fail "empty exporter id: $(cat "$TMP/err")"
	expect_rc 2 "$SYSFLOW" echo ""
	grep -q "invalid iface '': empty" "$TMP/err" || fail "empty iface: $(cat "$TMP/err")"
	# -o alone names what is missing, not "choose an output"
	expect_rc 2 "$SYSFLOW" collect -o "$TMP/flows.json" --duration 1
	grep -q "\-o names the JSON output; add -j" "$TMP/err" || fail "collect -o: $(cat "$TMP/err")"
	[ ! -e "$TMP/flows.json" ] || fail "collect -o without -j created its file"
}

# Every command that loads BPF, run by an unprivileged user: exit 1 and
# one line naming the capability it needs, before it touches anything.
test_not_root() {
	local cmd
	command -v setpriv >/dev/null || skip "setpriv missing"
	for cmd in "flowmon -d lo" "collect -j" "tracepkt icmp" "echo lo" \
		"route show" "agent 127.0.0.1 7" "features"; do
		# shellcheck disable=SC2086 # cmd is several words
		expect_rc 1 setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$SYSFLOW" $cmd
		grep -qE "needs CAP_(BPF|SYS_ADMIN)" "$TMP/err" ||
			fail "$cmd: capability not named: $(cat "$TMP/err")"
		[ "$(wc -l <"$TMP/err")" -eq 1 ] ||
			fail "$cmd: expected one line: $(cat "$TMP/err")"
	done
}

test_unknown_interface() {
	expect_rc 1 "$SYSFLOW" flowmon -d nosuchif0 -F /sys/fs/bpf/sysflow-test-$$
	grep -q "unknown interface 'nosuchif0'" "$TMP/err" || fail "interface not named"
	[ ! -e /sys/fs/bpf/sysflow-test-$$ ] || fail "pin folder left behind"
}

# A pin directory outside bpffs cannot hold pins: each command that pins
# names the problem and the option before it makes or loads anything
# (the agent used to blame the verifier, flowmon an EPERM).
test_pin_dir_not_bpffs() {
	printf '{"attach": [{"iface": "lo"}], "rules": [{"priority": 1, "action": "pass"}]}\n' \
		>"$TMP/route.json"
	expect_rc 1 "$SYSFLOW" flowmon -d lo -F "$TMP/pins/flowmon" -t 1
	grep -qx "sysflow: error: pin directory $TMP/pins/flowmon is not on a bpffs; choose one under /sys/fs/bpf with -F" \
		"$TMP/err" || fail "flowmon -F: $(cat "$TMP/err")"
	expect_rc 1 "$SYSFLOW" route apply "$TMP/route.json" --pin-dir "$TMP/pins/route"
	grep -qx "sysflow: error: pin directory $TMP/pins/route is not on a bpffs; choose one under /sys/fs/bpf with --pin-dir" \
		"$TMP/err" || fail "route --pin-dir: $(cat "$TMP/err")"
	expect_rc 1 "$SYSFLOW" agent 127.0.0.1 1 -F "$TMP/pins/agent"
	grep -qx "sysflow: error: pin directory $TMP/pins/agent is not on a bpffs; choose one under /sys/fs/bpf with -F" \
		"$TMP/err" || fail "agent -F: $(cat "$TMP/err")"
	[ ! -e "$TMP/pins" ] || fail "left behind: $(find "$TMP/pins")"
}

# closed_pipe CMD...: CMD with stdout a pipe whose reader has gone, and
# SIGPIPE at its default, as in a shell (`CMD | head -1`, later lines).
closed_pipe() {
	/usr/bin/python3 -c '
import os, signal, sys
r, w = os.pipe()
os.close(r)
os.dup2(w, 1)
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' "$@"
}

# What a command prints must reach stdout: a full disk or /dev/full is
# named and the exit status is 1; a reader that left (| head) is no error.
test_stdout_full_or_closed() {
	local c
	full_tmpfs "$TMP/full"
	expect_rc 1 sh -c 'exec "$@" >"$0"' "$TMP/full/out" "$SYSFLOW" features
	grep -qx "sysflow: error: writing to stdout failed: No space left on device; the output is incomplete" \
		"$TMP/err" || fail "features on a full disk: $(cat "$TMP/err")"
	for c in "features -j" "--help" "--version" "flowmon --help"; do
		# shellcheck disable=SC2086 # c is several words
		expect_rc 1 sh -c 'exec "$@" >/dev/full' sh "$SYSFLOW" $c
		grep -q "writing to stdout failed: No space left on device" "$TMP/err" ||
			fail "$c >/dev/full: $(cat "$TMP/err")"
	done
	for c in "features" "features -j" "--help" "flowmon --help"; do
		# shellcheck disable=SC2086
		expect_rc 0 closed_pipe "$SYSFLOW" $c
		[ ! -s "$TMP/err" ] || fail "$c | (reader gone) said: $(cat "$TMP/err")"
	done
}

test_features() {
	expect_rc 0 "$SYSFLOW" features -j
	local n
	n=$(/usr/bin/python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
names = {r["feature"]: r for r in rows}
for f in ("btf", "bpffs", "tracefs", "tracepoints", "kprobes", "bpf_lsm", "fanotify"):
    assert f in names, f
    assert names[f]["usable"] in ("yes", "no", "unknown"), names[f]
assert names["btf"]["usable"] == "yes"
assert names["tracepoints"]["usable"] == "yes"
for f in ("kprobes", "bpf_lsm", "fentry"):
    r = names[f]
    assert r["usable"] == "yes" or "instead" in r["detail"], r
print(len(rows))' "$TMP/out")
	[ "$n" -ge 10 ] || fail "only $n features probed"
	local keys
	keys=$(head -1 "$TMP/out" | /usr/bin/python3 -c '
import json, sys
print(" ".join(json.loads(sys.stdin.read())).upper())')
	# the table fits 80 columns: long details wrap under the DETAIL column
	expect_rc 0 "$SYSFLOW" features
	! awk 'length > 80' "$TMP/out" | grep -q . ||
		fail "features is wider than 80 columns: $(awk 'length > 80' "$TMP/out" | head -1)"
	[ "$(grep -c '^[a-z]' "$TMP/out")" -eq "$n" ] || fail "not one line per feature: $(cat "$TMP/out")"
	# the text columns and the JSON keys say the same thing
	[ "$(head -1 "$TMP/out" | tr -s ' ')" = "$keys" ] ||
		fail "text columns '$(head -1 "$TMP/out")' are not the JSON keys '$keys'"
}

# help_opts CMD: the options CMD --help lists, common ones left out.
COMMON_OPTS='^(-v|--verbose|-q|--quiet|-h|--help|--version)$'
help_opts() {
	"$SYSFLOW" "$1" --help | sed -n '/^Common options:/q
		s/^  \(-[a-zA-Z], \|    \)\(--[a-z0-9-]*\).*/\1\2/p' |
		tr ', ' '\n\n' | grep . | grep -vE "$COMMON_OPTS" | sort -u
}

# man_opts PAGE: the options named on the tag lines (after .TP) of the
# page's OPTIONS section, common ones left out.
man_opts() {
	awk '/^\.SH/ { s = $0 } s == ".SH OPTIONS" && prev ~ /^\.TP/ { print }
		{ prev = $0 }' "$1" | sed 's/\\f[BIRP]/ /g; s/\\-/-/g' |
		grep -oE '(^|[ ",(])--?[a-zA-Z0-9][a-zA-Z0-9-]*' | sed 's/^[ ",(]//' |
		grep -vE "$COMMON_OPTS" | sort -u
}

# Every option in a command's --help has an entry in its man page, and the
# man page documents no option the command does not take.
test_help_matches_man() {
	local repo c page missing extra
	repo=$(cd "$(dirname "$0")/../.." && pwd)
	for c in $("$SYSFLOW" --help | awk '/^Commands:/{f=1;next} /^$/{f=0} f{print $1}'); do
		page=$repo/docs/man/sysflow-$c.8
		[ "$c" != features ] || continue
		[ -f "$page" ] || fail "no man page for $c: $page"
		help_opts "$c" >"$TMP/help.opts"
		man_opts "$page" >"$TMP/man.opts"
		[ -s "$TMP/help.opts" ] || fail "found no options in $c --help"
		missing=$(comm -23 "$TMP/help.opts" "$TMP/man.opts" | xargs)
		extra=$(comm -13 "$TMP/help.opts" "$TMP/man.opts" | xargs)
		[ -z "$missing" ] || fail "$c --help has options missing in ${page##*/}: $missing"
		[ -z "$extra" ] || fail "${page##*/} has options $c does not take: $extra"
	done
	# features has no page of its own: sysflow(8) describes its options
	for c in $(help_opts features); do
		sed 's/\\-/-/g' "$repo/docs/man/sysflow.8" | grep -q -- "$c" ||
			fail "sysflow.8 does not mention features $c"
	done
	# and the common options are in sysflow(8)
	for c in -v --verbose -q --quiet -h --help --version; do
		sed -n '/^\.SH COMMON OPTIONS/,/^\.SH [^C]/p' "$repo/docs/man/sysflow.8" |
			sed 's/\\-/-/g' | grep -q -- "$c" || fail "sysflow.8 COMMON OPTIONS lacks $c"
	done
}

# make install puts a usable library, header and pkg-config file in DESTDIR.
# The C and BPF sources are as `make format` leaves them (.clang-format).
test_format_clean() {
	local repo
	repo=$(cd "$(dirname "$0")/../.." && pwd)
	command -v clang-format >/dev/null || skip "clang-format is not installed"
	make -s -C "$repo" format-check >"$TMP/fmt.log" 2>&1 ||
		fail "sources not formatted (run make format): $(grep -m3 'error:' "$TMP/fmt.log")"
}

test_install() {
	local root=$TMP/root repo
	repo=$(cd "$(dirname "$0")/../.." && pwd)
	make -s -C "$repo" BUILD="${BUILD:-build}" install DESTDIR="$root" \
		PREFIX=/usr >"$TMP/make.log" 2>&1 || fail "make install: $(tail -5 "$TMP/make.log")"
	for f in usr/bin/sysflow usr/lib/libsysflow.a usr/lib/libsysflow.so.0 \
		usr/include/sysflow/flowmon.h usr/lib/pkgconfig/sysflow.pc \
		usr/share/man/man8/sysflow-flowmon.8; do
		[ -e "$root/$f" ] || fail "make install did not install $f"
	done
	assert_eq "$(PKG_CONFIG_PATH=$root/usr/lib/pkgconfig pkg-config --modversion sysflow)" \
		"$("$root/usr/bin/sysflow" --version | awk '{print $2}')" "pkg-config version"
	# the .pc names the PREFIX of this install, not the one of the build
	# before it (make, then make install PREFIX=/usr)
	assert_eq "$(PKG_CONFIG_PATH=$root/usr/lib/pkgconfig pkg-config --variable=libdir sysflow)" \
		/usr/lib "libdir in the installed sysflow.pc"
	cat >"$TMP/consumer.c" <<'C'
#include <stdio.h>
#include <sysflow/sysflow.h>
int main(void)
{
	unsigned int bits;

	if (sf_flowmon_parse_protocols("eth,ipv4,tcp", &bits))
		return 1;
	printf("%s %u\n", sf_version(), bits);
	return 0;
}
C
	gcc -Wall -Werror -I"$root/usr/include" "$TMP/consumer.c" -o "$TMP/consumer" \
		-L"$root/usr/lib" -lsysflow $(pkg-config --libs libbpf libxdp jansson libpcap avro-c libssl libcrypto) ||
		fail "cannot build against the installed library"
	LD_LIBRARY_PATH=$root/usr/lib "$TMP/consumer" >"$TMP/out"
	grep -qE '^[0-9.]+ 11$' "$TMP/out" || fail "consumer printed $(cat "$TMP/out")"
	# as docs/xsk.md and docs/library.md say: pkg-config --libs sysflow
	gcc -Wall -Werror "$TMP/consumer.c" -o "$TMP/consumer2" $(PKG_CONFIG_SYSROOT_DIR=$root \
		PKG_CONFIG_PATH=$root/usr/lib/pkgconfig pkg-config --cflags --libs sysflow) ||
		fail "cannot build with pkg-config --cflags --libs sysflow"
	LD_LIBRARY_PATH=$root/usr/lib "$TMP/consumer2" | grep -qE '^[0-9.]+ 11$' ||
		fail "consumer built with pkg-config failed"
}

run_tests "$@"
