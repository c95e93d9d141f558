# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# sysflow: one Makefile for the BPF objects, libsysflow and the sysflow CLI.
# Quiet unless V=1. Artifacts live in build/; nothing generated is tracked.

VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

PKGS ?= libbpf libxdp jansson libpcap avro-c libssl libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers -Wno-format-truncation \
	-fPIC -D_GNU_SOURCE -DSYSFLOW_VERSION='"$(VERSION)"' \
	-Iinclude -Ilib -Ibpf -I$(BUILD) $(PKG_CFLAGS)
LDLIBS += $(PKG_LIBS) -lelf -lz -lm
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined

BPF_SRC := $(wildcard bpf/*.bpf.c)
BPF_OBJ := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRC))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRC))
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) \
	-I$(BUILD) -Ibpf -Wall -Werror -Wno-unused-function

LIB_SRC := $(wildcard lib/*/*.c)
# The SysFlow schema: embedded in libsysflow, installed in share/sysflow/.
AVSC := lib/telemetry/sysflow.avsc
AVSC_INC := $(BUILD)/sysflow_avsc.inc
CMD_SRC := $(wildcard cmd/*.c)
LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC))
CMD_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(CMD_SRC))
SAN_LIB_OBJ := $(patsubst %.c,$(BUILD)/san/%.o,$(LIB_SRC))
SAN_CMD_OBJ := $(patsubst %.c,$(BUILD)/san/%.o,$(CMD_SRC))

UNIT_SRC := $(wildcard tests/unit/*.c)
BPFTEST_SRC := $(wildcard tests/bpf/*.c)
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(UNIT_SRC) $(BPFTEST_SRC))
# Fuzz targets (tests/fuzz/fuzz_<name>.c): libFuzzer binaries built with clang
# for `make fuzz`, and replay binaries (gcc, ASan+UBSan, no libFuzzer) that
# tests/run feeds the seed corpus and the regressions; see docs/testing.md.
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_NAMES))
REPLAY_BINS := $(patsubst %,$(BUILD)/tests/fuzz/replay_%,$(FUZZ_NAMES))
FUZZ_SECS ?= 60
FUZZ_CFLAGS := $(CFLAGS) -Wno-unknown-warning-option -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
FUZZ_LIB_OBJ := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(LIB_SRC))
FUZZLIB := $(BUILD)/libsysflow-fuzz.a
BENCH_SRC := $(wildcard bench/*/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
EXAMPLE_BINS := $(BUILD)/examples/l2fwd $(BUILD)/examples/consumer
# What `sysflow echo` (AF_XDP) needs without root; see docs/xsk.md.
XSK_CAPS := cap_net_raw,cap_net_admin,cap_bpf,cap_perfmon
SETCAP ?= 0

LIBA := $(BUILD)/libsysflow.a
LIBSO := $(BUILD)/libsysflow.so.0
# The same objects with every name global, for in-tree programs that call
# internal functions (the CLI, benchmarks, the fuzz seed generator).
INTLIB := $(BUILD)/libsysflow-int.a
# The names the library exports (the global: patterns of the map).
EXPORTS := $(shell sed -n '/global:/,/local:/s/^[[:space:]]*\([a-z_]*\*\);/\1/p' \
	lib/libsysflow.map)
SANLIB := $(BUILD)/libsysflow-san.a

.PHONY: all test bench install clean format format-check examples fuzz
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/sysflow $(LIBA) $(LIBSO) $(BUILD)/sysflow.pc $(EXAMPLE_BINS)

$(BUILD)/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# The SysFlow schema as a C string literal, one quoted line per line of the
# file, which lib/telemetry/schema.c includes: the library embeds the very
# file that `make install` installs.
$(AVSC_INC): $(AVSC)
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< > $@

$(foreach d,obj san fuzz/obj,$(BUILD)/$(d)/lib/telemetry/schema.o): $(AVSC_INC)

$(BUILD)/obj/%.o: %.c $(SKELS) $(wildcard include/sysflow/*.h lib/*/*.h cmd/*.h bpf/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/san/%.o: %.c $(SKELS) $(wildcard include/sysflow/*.h lib/*/*.h cmd/*.h bpf/*.h)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

# Exports what libsysflow.so exports: the objects linked into one, every
# name but the public ones (lib/libsysflow.map) made local, so a program
# linking it statically may have its own jpos_build or htab_find.
$(LIBA): $(LIB_OBJ) lib/libsysflow.map
	$(call msg,AR,$@)
	$(Q)$(LD) -r $(LIB_OBJ) -o $(BUILD)/libsysflow.o
	$(Q)objcopy --wildcard $(foreach e,$(EXPORTS),'--keep-global-symbol=$(e)') \
		$(BUILD)/libsysflow.o
	$(Q)rm -f $@ && ar rcs $@ $(BUILD)/libsysflow.o

$(INTLIB): $(LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(SANLIB): $(SAN_LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# Exports only the public names (lib/libsysflow.map).
$(LIBSO): $(LIB_OBJ) lib/libsysflow.map
	$(call msg,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,libsysflow.so.0 \
		-Wl,--version-script=lib/libsysflow.map $(LIB_OBJ) -o $@ $(LDLIBS)
	$(Q)ln -sf libsysflow.so.0 $(BUILD)/libsysflow.so

# sysflow.pc with this PREFIX; install writes it again, since the PREFIX
# of `make install PREFIX=...` may not be the one of the build before it
PC_GEN = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' sysflow.pc.in

$(BUILD)/sysflow.pc: sysflow.pc.in
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(PC_GEN) > $@

$(BUILD)/sysflow: $(CMD_OBJ) $(INTLIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/sysflow-san: $(SAN_CMD_OBJ) $(SANLIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $^ -o $@ $(LDLIBS)

# Tests link the sanitizer build of the library.
$(BUILD)/tests/%: tests/%.c $(SANLIB) $(wildcard tests/*.h)
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -Itests $< $(SANLIB) -o $@ $(LDLIBS) -lcmocka

$(BUILD)/tests/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c \
		tests/fuzz/fuzz.h $(SANLIB)
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $< tests/fuzz/replay.c $(SANLIB) -o $@ \
		$(LDLIBS)

$(BUILD)/fuzz/obj/%.o: %.c $(SKELS) $(wildcard include/sysflow/*.h lib/*/*.h bpf/*.h)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined \
		-c $< -o $@

$(FUZZLIB): $(FUZZ_LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZLIB)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined $< \
		$(FUZZLIB) -o $@ $(LDLIBS)

# one valid message of each type, for the proto target's corpus
$(BUILD)/fuzz/seeds: tests/fuzz/seeds.c $(INTLIB)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< $(INTLIB) -o $@ $(LDLIBS)

# Each target in turn for FUZZ_SECS seconds (FUZZ=name runs one).
fuzz: $(if $(FUZZ),$(BUILD)/fuzz/fuzz_$(FUZZ),$(FUZZ_BINS)) $(BUILD)/fuzz/seeds
	$(Q)BUILD=$(BUILD) FUZZ_SECS=$(FUZZ_SECS) tests/fuzz/run.sh \
		$(or $(FUZZ),$(FUZZ_NAMES))

$(BUILD)/bench/%: bench/%.c $(INTLIB) bench/bench.h
	$(call msg,CC-BENCH,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests -Ibench $< $(INTLIB) -o $@ $(LDLIBS)

# Examples use the public headers only, as a library user would.
$(BUILD)/examples/%: examples/%.c $(LIBA) $(wildcard include/sysflow/*.h)
	$(call msg,CC-EX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude \
		$(PKG_CFLAGS) $< $(LIBA) -o $@ $(LDLIBS)

examples: $(EXAMPLE_BINS)

test-build: all $(BUILD)/sysflow-san $(TEST_BINS) $(REPLAY_BINS)

test: test-build
	$(Q)BUILD=$(BUILD) tests/run

bench: all $(BENCH_BINS)
	$(Q)BUILD=$(BUILD) bench/run

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/sysflow \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/sysflow
	install -m 755 $(BUILD)/sysflow $(DESTDIR)$(PREFIX)/bin/sysflow
	install -m 644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBSO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libsysflow.so.0 $(DESTDIR)$(PREFIX)/lib/libsysflow.so
	install -m 644 include/sysflow/*.h $(DESTDIR)$(PREFIX)/include/sysflow/
	$(PC_GEN) > $(DESTDIR)$(PREFIX)/lib/pkgconfig/sysflow.pc
	chmod 644 $(DESTDIR)$(PREFIX)/lib/pkgconfig/sysflow.pc
	install -m 644 docs/man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 644 $(AVSC) $(DESTDIR)$(PREFIX)/share/sysflow/sysflow.avsc
ifeq ($(SETCAP),1)
	setcap $(XSK_CAPS)+ep $(DESTDIR)$(PREFIX)/bin/sysflow
else
	@echo "install: 'make install SETCAP=1' lets users run sysflow echo" \
	      "without root: setcap $(XSK_CAPS)+ep on the installed sysflow" \
	      "(it then applies to every sysflow command they run)"
endif

# C and BPF sources kept in the repo's .clang-format (kernel style)
FORMAT_SRCS = $(wildcard bpf/*.c bpf/*.h lib/*/*.c lib/*/*.h cmd/*.c cmd/*.h \
	include/sysflow/*.h)

format:
	clang-format -i $(FORMAT_SRCS)

# fails, naming file and line, where a source is not as `make format` leaves it
format-check:
	clang-format --dry-run --Werror $(FORMAT_SRCS)

clean:
	rm -rf $(BUILD)
