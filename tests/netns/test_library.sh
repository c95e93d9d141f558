#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# test_library.sh: libsysflow as a C or C++ program that links it sees it:
# every public header compiles on its own in strict C11 and in C++ with C
# linkage, and the C in the docs and in examples/ builds against an
# installed tree found with pkg-config. No namespace or BPF program needed.
source "$(dirname "$0")/lib.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd)
CFLAGS_STRICT=(-std=c11 -Wall -Wextra -Werror -pedantic)
CXXFLAGS_STRICT=(-Wall -Wextra -Werror -pedantic)

# header_functions INCDIR NAME: the functions <sysflow/NAME> declares itself
# (gcc -aux-info lists every prototype with the file it came from).
header_functions() {
	local inc=$1 name=$2
	printf '#include <sysflow/%s>\n' "$name" >"$TMP/aux.c"
	gcc -std=c11 -I"$inc" -aux-info "$TMP/aux.txt" -c "$TMP/aux.c" \
		-o /dev/null || return 1
	grep -F "/sysflow/$name:" "$TMP/aux.txt" | grep -v ' static ' |
		sed -E 's|^/\*[^*]*\*/ [^(]*[ *]([A-Za-z_][A-Za-z0-9_]*) \(.*|\1|'
}

# check_header INCDIR NAME: <sysflow/NAME> is the first include of a C11
# file and of a C++ file, and its functions have C linkage. Prints what
# fails and returns 1.
check_header() {
	local inc=$1 name=$2 fns f mangled
	printf '#include <sysflow/%s>\nint sf_header_check;\n' "$name" >"$TMP/h.c"
	cc "${CFLAGS_STRICT[@]}" -I"$inc" -c "$TMP/h.c" -o /dev/null 2>"$TMP/h.err" ||
		{ echo "$name is not self-contained C11: $(head -3 "$TMP/h.err")"; return 1; }
	fns=$(header_functions "$inc" "$name") || return 1
	# C++: take each function's address, then look for mangled names
	{
		printf '#include <sysflow/%s>\n' "$name"
		printf 'void *sf_header_fns[] = {\n'
		for f in $fns; do printf '\t(void *)&%s,\n' "$f"; done
		printf '\tnullptr };\n'
	} >"$TMP/h.cc"
	g++ "${CXXFLAGS_STRICT[@]}" -I"$inc" -c "$TMP/h.cc" -o "$TMP/h.o" 2>"$TMP/h.err" ||
		{ echo "$name does not compile as C++: $(head -3 "$TMP/h.err")"; return 1; }
	mangled=$(nm -u "$TMP/h.o" | awk '$2 ~ /^_Z/ {print $2}' | c++filt | tr '\n' ' ')
	[ -z "$mangled" ] ||
		{ echo "$name: no extern \"C\" around $mangled"; return 1; }
}

test_headers_self_contained() {
	local h bad=0
	for h in "$REPO"/include/sysflow/*.h; do
		check_header "$REPO/include" "$(basename "$h")" || bad=1
	done
	[ "$bad" -eq 0 ] || fail "public headers above are not usable on their own"
}

# The check itself: a header missing an include, one without extern "C",
# one using an internal header each fail it.
test_header_check_catches() {
	mkdir -p "$TMP/inc/sysflow"
	printf '#ifndef X\n#define X\nuint32_t sf_a(void);\n#endif\n' \
		>"$TMP/inc/sysflow/noinc.h"
	printf '#include <stdint.h>\nuint32_t sf_b(void);\n' >"$TMP/inc/sysflow/nocxx.h"
	printf '#include "flow.h"\n' >"$TMP/inc/sysflow/internal.h"
	cat >"$TMP/inc/sysflow/good.h" <<'H'
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
uint32_t sf_c(void);
#ifdef __cplusplus
}
#endif
H
	check_header "$TMP/inc" good.h || fail "a good header fails the check"
	! check_header "$TMP/inc" noinc.h || fail "a header missing <stdint.h> passes"
	! check_header "$TMP/inc" nocxx.h || fail "a header without extern \"C\" passes"
	! check_header "$TMP/inc" internal.h || fail "a header including flow.h passes"
}

# install_tree: make install into $TMP/root; sets PKG_CONFIG_* to find it.
# The prefix is given to pkg-config, as the .pc of a build made with
# another PREFIX still names that one.
install_tree() {
	ROOT=$TMP/root
	make -s -C "$REPO" BUILD="${BUILD:-build}" install DESTDIR="$ROOT" \
		PREFIX=/usr >"$TMP/make.log" 2>&1 || fail "make install: $(tail -5 "$TMP/make.log")"
	export PKG_CONFIG_SYSROOT_DIR=$ROOT PKG_CONFIG_PATH=$ROOT/usr/lib/pkgconfig
	PC_FLAGS=$(pkg-config --define-variable=prefix=/usr --cflags --libs sysflow) ||
		fail "pkg-config finds no sysflow in $ROOT"
}

# build_installed NAME SRC [FLAGS...]: compile and link SRC as a user would.
build_installed() {
	local name=$1 src=$2; shift 2
	# shellcheck disable=SC2086
	gcc -std=gnu11 -Wall -Wextra -Werror "$@" "$src" -o "$TMP/$name" $PC_FLAGS \
		2>"$TMP/$name.err" ||
		fail "$name does not build against the installed library: $(head -5 "$TMP/$name.err")"
}

# Every ```c block of README.md and docs/*.md is a program that builds.
test_doc_snippets() {
	local md n=0 f
	install_tree
	for md in "$REPO"/README.md "$REPO"/docs/*.md; do
		awk -v out="$TMP/snip.$(basename "$md" .md)" '
			/^```c$/ { n++; f = out "." n ".c"; next }
			/^```/ { f = ""; next }
			f { print > f }' "$md"
	done
	for f in "$TMP"/snip.*.c; do
		[ -e "$f" ] || continue
		build_installed "$(basename "$f" .c)" "$f" -Wno-unused-parameter
		n=$((n + 1))
	done
	[ "$n" -ge 2 ] || fail "found $n C blocks in the docs, expected library.md's and xsk.md's"
	info "$n doc snippets built"
}

test_examples() {
	local ex
	install_tree
	for ex in consumer l2fwd; do
		build_installed "$ex" "$REPO/examples/$ex.c"
	done
	# the controller application links against nothing
	# shellcheck disable=SC2046
	gcc -std=gnu11 -Wall -Wextra -Werror -shared -fPIC \
		$(pkg-config --define-variable=prefix=/usr --cflags sysflow) \
		"$REPO/examples/app_sample.c" -o "$TMP/app_sample.so" 2>"$TMP/app.err" ||
		fail "app_sample.c: $(head -5 "$TMP/app.err")"
	# the static library with its dependencies, as docs/xsk.md says
	# shellcheck disable=SC2046
	gcc -std=gnu11 -Wall -Wextra -Werror "$REPO/examples/consumer.c" \
		-o "$TMP/consumer-static" -I"$ROOT/usr/include" "$ROOT/usr/lib/libsysflow.a" \
		$(PKG_CONFIG_SYSROOT_DIR='' pkg-config --libs libbpf libxdp jansson libpcap \
			avro-c libssl libcrypto) -lelf -lz -lm 2>"$TMP/static.err" ||
		fail "consumer.c with libsysflow.a: $(head -5 "$TMP/static.err")"
	! ldd "$TMP/consumer-static" | grep -q libsysflow ||
		fail "the static consumer still loads libsysflow.so"
	# the same through pkg-config --static (Requires.private, Libs.private)
	# shellcheck disable=SC2046
	gcc -std=gnu11 -Wall -Wextra -Werror "$REPO/examples/consumer.c" \
		-o "$TMP/consumer-pc-static" -I"$ROOT/usr/include" "$ROOT/usr/lib/libsysflow.a" \
		$(pkg-config --static --libs sysflow | sed 's/-lsysflow//') \
		2>"$TMP/pcstatic.err" ||
		fail "consumer.c with pkg-config --static --libs sysflow: $(head -5 "$TMP/pcstatic.err")"
	LD_LIBRARY_PATH=$ROOT/usr/lib "$TMP/l2fwd" -h >"$TMP/out" 2>&1 ||
		fail "the l2fwd built against the installed library does not run: $(head -3 "$TMP/out")"
	grep -q "sage" "$TMP/out" || fail "l2fwd -h printed no usage: $(head -3 "$TMP/out")"
}

# libsysflow.so exports what the headers declare and nothing without the
# public prefixes (lib/libsysflow.map).
test_exports() {
	local so=$REPO/${BUILD:-build}/libsysflow.so.0 h f missing="" foreign
	[ -e "$so" ] || fail "$so not built"
	nm -D --defined-only "$so" | awk '{print $3}' | sort >"$TMP/exported"
	foreign=$(grep -v -E '^(sf_|sfp_|sysflow_)' "$TMP/exported" | head -5 | tr '\n' ' ' || true)
	[ -z "$foreign" ] || fail "libsysflow.so exports internal symbols: $foreign..."
	for h in "$REPO"/include/sysflow/*.h; do
		for f in $(header_functions "$REPO/include" "$(basename "$h")"); do
			grep -qx "$f" "$TMP/exported" || missing+=" $f"
		done
	done
	[ -z "$missing" ] || fail "declared in include/sysflow/ but not exported:$missing"
}

# libsysflow.a defines, as global, the names libsysflow.so exports and no
# other: internal units are local to its one object.
test_static_exports() {
	local a=$REPO/${BUILD:-build}/libsysflow.a so=$REPO/${BUILD:-build}/libsysflow.so.0
	local foreign
	[ -e "$a" ] && [ -e "$so" ] || fail "$a or $so not built"
	nm -g --defined-only "$a" | awk 'NF == 3 {print $3}' | sort >"$TMP/static"
	foreign=$(grep -v -E '^(sf_|sfp_|sysflow_)' "$TMP/static" | head -5 | tr '\n' ' ' || true)
	[ -z "$foreign" ] || fail "libsysflow.a has internal global symbols: $foreign..."
	nm -D --defined-only "$so" | awk '{print $3}' | sort >"$TMP/exported"
	diff "$TMP/static" "$TMP/exported" >"$TMP/diff" ||
		fail "libsysflow.a and libsysflow.so export different names: $(head -5 "$TMP/diff")"
}

# A static program with globals of the names of library internals (the
# route config's jpos_build, the telemetry JSON writer's tel_json_record,
# the flow table's fm_table_read) links libsysflow.a, calls into it and
# gets its own. The same program against every internal object does not
# link: the check can fail.
test_static_name_clash() {
	local libs
	libs="$(pkg-config --libs libbpf libxdp jansson libpcap avro-c libssl libcrypto) -lelf -lz -lm"
	cat >"$TMP/clash.c" <<'C'
#include <stdio.h>
#include <sysflow/sysflow.h>

int fm_table_read = 3;
const char *tel_json_record(void)
{
	return "mine";
}
int jpos_build(int x)
{
	return x + 1;
}

int main(void)
{
	unsigned int protos = 0;

	if (sf_flowmon_parse_protocols("eth,ipv4,udp", &protos) || !protos)
		return 1;
	printf("%s %s %d %d\n", sf_version(), tel_json_record(),
	       jpos_build(fm_table_read), protos != 0);
	return 0;
}
C
	# shellcheck disable=SC2086
	gcc -std=gnu11 -Wall -Wextra -Werror -I"$REPO/include" "$TMP/clash.c" \
		"$REPO/${BUILD:-build}/libsysflow.a" $libs -o "$TMP/clash" 2>"$TMP/clash.err" ||
		fail "a program with its own jpos_build does not link libsysflow.a: $(head -5 "$TMP/clash.err")"
	"$TMP/clash" >"$TMP/out" || fail "the static program failed: $(cat "$TMP/out")"
	grep -qE '^[0-9]+\.[0-9]+\.[0-9]+ mine 4 1$' "$TMP/out" ||
		fail "the static program printed '$(cat "$TMP/out")'"
	# shellcheck disable=SC2086
	! gcc -std=gnu11 -I"$REPO/include" "$TMP/clash.c" -Wl,--whole-archive \
		"$REPO/${BUILD:-build}/libsysflow-int.a" -Wl,--no-whole-archive $libs \
		-o "$TMP/clash-int" 2>"$TMP/clash.err" ||
		fail "the clashing program links every internal object: the check proves nothing"
	grep -q "multiple definition of .jpos_build" "$TMP/clash.err" ||
		fail "linking the internal objects failed otherwise: $(head -3 "$TMP/clash.err")"
}

# The installed schema, where pkg-config says, is the repo's file, and the
# installed library and CLI embed that very text (followed by its NUL).
test_installed_schema() {
	local avsc bin
	install_tree
	avsc=$(pkg-config --variable=schema sysflow) ||
		fail "pkg-config has no schema variable for sysflow"
	assert_eq "$avsc" "$ROOT/usr/share/sysflow/sysflow.avsc" "pkg-config's schema"
	cmp "$REPO/lib/telemetry/sysflow.avsc" "$avsc" ||
		fail "the installed schema is not lib/telemetry/sysflow.avsc"
	for bin in lib/libsysflow.so.0 lib/libsysflow.a bin/sysflow; do
		python3 -c 'import sys
text = open(sys.argv[1], "rb").read() + b"\0"
sys.exit(text not in open(sys.argv[2], "rb").read())' "$avsc" "$ROOT/usr/$bin" ||
			fail "$bin does not embed the installed schema"
	done
}

# A C++ program includes the umbrella header, links the shared library
# and calls into it.
test_cxx_program() {
	install_tree
	cat >"$TMP/app.cc" <<'CC'
#include <sysflow/sysflow.h>
#include <sysflow/controller.h>
#include <cstdio>

int main()
{
	struct sysflow_config cfg;
	unsigned int protos = 0;

	sysflow_config_init(&cfg);
	if (sf_flowmon_parse_protocols("eth,ipv4,udp", &protos))
		return 1;
	std::printf("%s %u %u\n", sf_version(), protos, cfg.sampling_ratio);
	return 0;
}
CC
	# shellcheck disable=SC2086
	g++ "${CXXFLAGS_STRICT[@]}" "$TMP/app.cc" -o "$TMP/app" $PC_FLAGS 2>"$TMP/app.err" ||
		fail "a C++ program does not build: $(head -5 "$TMP/app.err")"
	LD_LIBRARY_PATH=$ROOT/usr/lib "$TMP/app" >"$TMP/out" ||
		fail "the C++ program failed: $(cat "$TMP/out")"
	grep -qE '^[0-9]+\.[0-9]+\.[0-9]+ [1-9][0-9]* 1$' "$TMP/out" ||
		fail "the C++ program printed '$(cat "$TMP/out")'"
}

# A controller application written in C++ exports sysflow_app, the symbol
# the controller looks up (a const object is internal in C++ unless the
# header declares it extern "C").
test_cxx_app() {
	install_tree
	cat >"$TMP/app.cc" <<'CC'
#include <sysflow/controller.h>

static void *init(struct sf_ctrl *, const struct sf_ctrl_api *api, const char *)
{
	return (void *)api;
}

const struct sf_app sysflow_app = { "cxx", init, nullptr, nullptr, nullptr,
				    nullptr, nullptr, nullptr, nullptr };
CC
	# shellcheck disable=SC2046
	g++ "${CXXFLAGS_STRICT[@]}" -shared -fPIC "$TMP/app.cc" -o "$TMP/app.so" \
		$(pkg-config --define-variable=prefix=/usr --cflags sysflow) 2>"$TMP/app.err" ||
		fail "a C++ application does not build: $(head -5 "$TMP/app.err")"
	nm -D --defined-only "$TMP/app.so" | grep -q ' sysflow_app$' ||
		fail "the C++ application does not export sysflow_app"
}

run_tests "$@"
