#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# sweep_cost.sh: run the sweep_cost benchmark (bench/flowmon/sweep_cost.c):
# ms per read of the whole flow table by the flow manager, one key at a
# time against batches. Environment: BUILD (default build), ROUNDS (5).
# Arguments are passed on.
set -euo pipefail
# shellcheck source=bench/lib.sh disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bench_exec flowmon/sweep_cost -r "${ROUNDS:-5}" "$@"
