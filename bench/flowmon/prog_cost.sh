#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# prog_cost.sh: run the prog_cost benchmark (bench/flowmon/prog_cost.c):
# ns per packet of each flowmon pipeline under BPF_PROG_TEST_RUN against a
# bare XDP_PASS program. Environment: BUILD (default build), ROUNDS (5).
# Arguments are passed on (-n MAX_FLOWS for a quick run).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BIN=$BUILD/bench/flowmon/prog_cost

[ "$(id -u)" -eq 0 ] || { echo "SKIP: prog_cost needs root" >&2; exit 249; }
[ -x "$BIN" ] || { echo "no $BIN; run make BUILD=... bench" >&2; exit 1; }
exec "$BIN" -r "${ROUNDS:-5}" "$@"
