#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# sweep_cost.sh: run the sweep_cost benchmark (bench/flowmon/sweep_cost.c):
# ms per read of the whole flow table by the flow manager, one key at a
# time against batches. Environment: BUILD (default build), ROUNDS (5).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BIN=$BUILD/bench/flowmon/sweep_cost

[ "$(id -u)" -eq 0 ] || { echo "SKIP: sweep_cost needs root" >&2; exit 249; }
[ -x "$BIN" ] || { echo "no $BIN; run make BUILD=... bench" >&2; exit 1; }
exec "$BIN" "${ROUNDS:-5}"
