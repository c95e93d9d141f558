#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# tests/fuzz/run.sh [SECONDS]: build the libFuzzer target of the SysFlow
# decoder (tests/fuzz/fuzz_proto.c + lib/proto) with clang's fuzzer, ASan
# and UBSan, seed a corpus with valid messages, and fuzz for SECONDS
# (default 60). Exit 0 when no crash was found. Artifacts in $FUZZ_OUT,
# default $BUILD/fuzz (BUILD defaults to build).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-60}
OUT=${FUZZ_OUT:-${BUILD:-build}/fuzz}
CLANG=${CLANG:-clang}
mkdir -p "$OUT/corpus"
$CLANG -g -O1 -std=gnu11 -D_GNU_SOURCE -Iinclude -Ilib \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	tests/fuzz/fuzz_proto.c lib/proto/codec.c lib/proto/stream.c \
	lib/proto/names.c lib/proto/match.c -o "$OUT/fuzz_proto"
# Seeds: one of each message, written by the codec itself.
$CLANG -g -std=gnu11 -D_GNU_SOURCE -Iinclude -Ilib tests/fuzz/seeds.c \
	lib/proto/codec.c lib/proto/names.c lib/proto/match.c -o "$OUT/seeds"
"$OUT/seeds" "$OUT/corpus"
"$OUT/fuzz_proto" -max_total_time="$SECS" -max_len=4096 -timeout=10 \
	-artifact_prefix="$OUT/" -print_final_stats=1 "$OUT/corpus" \
	2>&1 | tail -n 20
echo "fuzz: no crash in ${SECS}s"
