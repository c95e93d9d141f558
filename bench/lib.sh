# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# shellcheck shell=bash
# bench/lib.sh: what the benchmark scripts share (sourced; bench/run runs
# bench/*/*.sh, never this file).

# bench_exec PROG ARGS...: become $BUILD/bench/PROG (say flowmon/prog_cost)
# with ARGS. Without root: skipped (exit 249); PROG not built: exit 1.
bench_exec() {
	local root build bin
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	build=${BUILD:-build}
	case $build in /*) ;; *) build=$root/$build ;; esac
	bin=$build/bench/$1
	shift
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: ${bin##*/} needs root" >&2; exit 249; }
	[ -x "$bin" ] || { echo "no $bin; run make BUILD=... bench" >&2; exit 1; }
	exec "$bin" "$@"
}

# ---- background processes of a benchmark (needs TMP and fail from
# tests/netns/lib.sh): each in its own process group, output in
# $TMP/NAME.out and $TMP/NAME.err; only the ones still running are killed.

declare -gA BG_PID=()

# bg_start NAME CMD...: run CMD in the background, fresh output files.
bg_start() {
	local name=$1; shift
	rm -f "$TMP/$name.out" "$TMP/$name.err"
	setsid "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	BG_PID[$name]=$!
}

# bg_stop NAME: SIGINT, then wait at most 10 s.
bg_stop() {
	local pid=${BG_PID[$1]} i
	kill -INT "$pid" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && fail "$1 did not stop on SIGINT"
	unset "BG_PID[$1]"
	wait "$pid" 2>/dev/null || true
}

# bg_kill_all: SIGKILL to every process group still running (on exit).
bg_kill_all() {
	local n
	for n in "${!BG_PID[@]}"; do
		kill -KILL -- "-${BG_PID[$n]}" 2>/dev/null || true
	done
}
