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
