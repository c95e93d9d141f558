#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# prog_cost.sh: run the prog_cost benchmark (bench/flowmon/prog_cost.c):
# ns per packet of each flowmon pipeline under BPF_PROG_TEST_RUN against a
# bare XDP_PASS program. Environment: BUILD (default build), ROUNDS (5).
# Arguments are passed on (-n MAX_FLOWS for a quick run).
set -euo pipefail
# shellcheck source=bench/lib.sh disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bench_exec flowmon/prog_cost -r "${ROUNDS:-5}" "$@"
