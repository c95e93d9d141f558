#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# test_collect.sh: sysflow collect against the real kernel. A workload
# (tests/collect_workload.c) makes known syscalls; each test asserts the
# exact SysFlow records, read back by independent readers: python3-avro
# and avrocat (avro-bin) for Avro files and socket datagrams, json for -j.
# The readers take the record types and fields from the schema file the
# library embeds and `make install` installs (lib/telemetry/sysflow.avsc).
source "$(dirname "$0")/lib.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
PY=/usr/bin/python3
WL=$TMP/collect_workload
FILTER="proc.name = collect_workload"
export SF_AVSC=$REPO/lib/telemetry/sysflow.avsc

need_tools() {
	command -v avrocat >/dev/null || skip "avrocat missing (apt-get install avro-bin)"
	$PY -c 'import avro' 2>/dev/null || skip "python3-avro missing"
	if [ -x "$REPO/$BUILD/tests/collect_workload" ]; then
		cp "$REPO/$BUILD/tests/collect_workload" "$WL"
	else
		cc -O2 -Wall -o "$WL" "$REPO/tests/collect_workload.c" -lpthread ||
			fail "cannot build tests/collect_workload.c"
	fi
	write_reader
}

# sf.py: SysFlow readers for the assertions (Python's avro returns unions
# without their type name: the type is found from the field names).
write_reader() {
	cat >"$TMP/sf.py" <<'PY'
import hashlib, io, json, os, subprocess, sys, warnings
import avro.datafile, avro.errors, avro.io, avro.schema

# SysFlow's schema, the text the library embeds; the "ipaddr" logical type
# (Pod.hostIP, internalIP, Service.clusterIP) is unknown to python3-avro,
# which reads those fields as the arrays they are
warnings.simplefilter("ignore", avro.errors.IgnoredLogicalType)
with open(os.environ["SF_AVSC"]) as f:
    AVSC = f.read()
SCHEMA = avro.schema.parse(AVSC)
# record type -> its field names, in the order of the union "rec"
FIELDS = {t["name"]: [f["name"] for f in t["fields"]]
          for t in json.loads(AVSC)["fields"][0]["type"]}
BY_KEYS = {tuple(v): k for k, v in FIELDS.items()}
OP = dict(CLONE=1, EXEC=2, EXIT=4, SETUID=8, SETNS=16, ACCEPT=32, CONNECT=64,
          OPEN=128, READ=256, WRITE=512, CLOSE=1024, TRUNCATE=2048, SHUTDOWN=4096,
          MMAP=8192, MKDIR=1 << 15, RMDIR=1 << 16, LINK=1 << 17, UNLINK=1 << 18,
          SYMLINK=1 << 19, RENAME=1 << 20)

def typed(d):
    t = BY_KEYS.get(tuple(d.keys()))
    assert t, "unknown record %r" % (list(d.keys()),)
    return t

def avro_file(path):
    """python3-avro: [(type, record)], header first; the file's schema is
    SysFlow's (libavro's rendering drops defaults and logical types, which
    the Parsing Canonical Form leaves out too)."""
    with open(path, "rb") as f:
        r = avro.datafile.DataFileReader(f, avro.io.DatumReader())
        assert r.meta["avro.codec"] == b"deflate", r.meta["avro.codec"]
        ws = avro.schema.parse(r.meta["avro.schema"].decode())
        assert ws.canonical_form == SCHEMA.canonical_form, "not SysFlow's schema"
        recs = [(typed(x["rec"]), x["rec"]) for x in r]
    assert recs and recs[0][0] == "SFHeader", recs[:1]
    assert recs[0][1]["version"] == 5
    return recs

def datagrams(path):
    """one hex-encoded datagram per line -> [(type, record)], read with
    SysFlow's schema as sf-processor reads them"""
    out = []
    reader = avro.io.DatumReader(SCHEMA)
    for line in open(path):
        raw = bytes.fromhex(line.strip())
        dec = avro.io.BinaryDecoder(io.BytesIO(raw))
        x = reader.read(dec)["rec"]
        out.append((typed(x), x))
    return out

def avrocat(path):
    """avro-bin's reader: [(type, record)] with the type names it prints."""
    out = subprocess.run(["avrocat", path], check=True, capture_output=True,
                         text=True).stdout
    recs = []
    for line in out.splitlines():
        (t, v), = json.loads(line)["rec"].items()
        recs.append((t, v))
    return recs

def cross_check(path):
    """both readers agree on every record's type and field values."""
    a, b = avro_file(path), avrocat(path)
    assert len(a) == len(b), (len(a), len(b))
    for (ta, ra), (tb, rb) in zip(a, b):
        assert ta == tb, (ta, tb)
        for k in ("ts", "opFlags", "path", "exe", "numWSendBytes", "numRRecvBytes"):
            if k in ra:
                assert ra[k] == rb[k], (k, ra[k], rb[k])
    return a

def foid(cid, path):
    return hashlib.sha1(((cid or "") + path).encode()).digest()

def oid_key(o):
    return (o["createTS"], o["hpid"])

def check_stream(recs):
    """SysFlow's rules: a header starts the stream; every entity is written
    after the last header and before the first record that refers to it;
    FOIDs are SHA-1(containerId + path)."""
    procs, files, conts = set(), set(), set()
    assert recs[0][0] == "SFHeader"
    for t, r in recs:
        if t == "SFHeader":
            procs, files, conts = set(), set(), set()
        elif t == "Container":
            conts.add(r["id"])
        elif t == "Process":
            if r["containerId"]:
                assert r["containerId"] in conts, "container before process"
            procs.add(oid_key(r["oid"]))
        elif t == "File":
            assert r["oid"] == foid(r["containerId"], r["path"]), r["path"]
            if r["containerId"]:
                assert r["containerId"] in conts
            files.add(r["oid"])
        else:
            assert oid_key(r["procOID"]) in procs, "process before %s" % t
            if "fileOID" in r:
                assert r["fileOID"] in files, "file before %s" % t
            if r.get("newFileOID"):
                assert r["newFileOID"] in files
            if t in ("NetworkFlow", "FileFlow", "ProcessFlow"):
                assert r["opFlags"] not in (0, OP["TRUNCATE"]), r

def of_pid(recs, pid):
    return [(t, r) for t, r in recs if t not in ("SFHeader", "Container", "File")
            and (r["oid"] if t == "Process" else r["procOID"])["hpid"] == pid]

def files_by_oid(recs):
    return {r["oid"]: r for t, r in recs if t == "File"}

def ip(s):
    a = [int(x) for x in s.split(".")]
    v = a[0] | a[1] << 8 | a[2] << 16 | a[3] << 24
    return v - (1 << 32) if v >= 1 << 31 else v

def json_lines(path):
    return [json.loads(l) for l in open(path)]

def info(path):
    """the workload's JSON line"""
    return json.loads(open(path).read().splitlines()[-1])
PY
}

# start_collect NAME ARGS...: sysflow collect in the background, ready
# once it says it is tracing. The log of an earlier collector of the same
# name goes first: the new one truncates it only once it has forked, and
# wait_for could find the old "Tracing processes" in the meantime.
start_collect() {
	local name=$1; shift
	bg_start "$name" "$SYSFLOW" collect "$@"
	wait_for "$TMP/$name.err" "Tracing processes" 60
}

# stop_collect NAME [SIGNAL] [RC]: it flushes every flow and closes its
# files; under ASan on a loaded machine that may take seconds, so wait up to
# 30 s and say where it is stuck otherwise. It must exit RC (default 0).
stop_collect() {
	local pid rc=0 i
	pid=$(cat "$TMP/$1.pid")
	kill -"${2:-INT}" "$pid" 2>/dev/null || true
	for ((i = 0; i < 600; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "# still running: $(cat /proc/"$pid"/wchan 2>/dev/null)" >&2
		cat /proc/"$pid"/stack >&2 2>/dev/null || true
		fail "sysflow collect did not exit after SIG${2:-INT}: $(tail -5 "$TMP/$1.err")"
	fi
	wait "$pid" 2>/dev/null || rc=$?
	[ "$rc" -eq "${3:-0}" ] ||
		fail "sysflow collect exited $rc, not ${3:-0}: $(tail -5 "$TMP/$1.err")"
}

# exec_some N: N short processes, so that records flow on a quiet machine.
exec_some() {
	local i
	for ((i = 0; i < $1; i++)); do /bin/true; done
}

# workload MODE ARGS...: run it from $TMP, keep its JSON line
workload() {
	(cd "$TMP" && "$WL" "$@") >"$TMP/wl.$1" 2>&1 || fail "workload $*: $(cat "$TMP/wl.$1")"
}

check() { # python assertions with sf.py imported
	PYTHONPATH=$TMP $PY -c "from sf import *; import sys; $1" "${@:2}" ||
		fail "assertions failed"
}

avro_file_in() { ls "$1"/* | head -1; }

# ---- per operation ----

test_files() {
	need_tools
	mkdir -p "$TMP/out" "$TMP/w"
	start_collect c -w "$TMP/out/" -j -o "$TMP/j.json" -f "$FILTER"
	workload files "$TMP/w"
	stop_collect c
	check '
recs = cross_check(sys.argv[1]); check_stream(recs)
w = info(sys.argv[2]); d = sys.argv[3]; tmp = sys.argv[4]
mine = of_pid(recs, w["pid"]); files = files_by_oid(recs)
ff = [r for t, r in mine if t == "FileFlow" and files[r["fileOID"]]["path"] == d + "/a.txt"]
assert len(ff) == 2, ff
wr, rd = ff
assert wr["opFlags"] == OP["OPEN"] | OP["WRITE"] | OP["CLOSE"], wr["opFlags"]
assert wr["openFlags"] == 2 | 4 | 256 and wr["fd"] == w["wfd"] and wr["tid"] == w["tid"]
assert (wr["numWSendOps"], wr["numWSendBytes"], wr["numRRecvOps"]) == (3, 1000, 0), wr
assert rd["opFlags"] == OP["OPEN"] | OP["READ"] | OP["CLOSE"] and rd["openFlags"] == 1
assert (rd["numRRecvOps"], rd["numRRecvBytes"], rd["numWSendOps"]) == (2, 1000, 0), rd
assert rd["ts"] <= rd["endTs"] and wr["endTs"] <= rd["ts"]
fe = [(r["opFlags"], files[r["fileOID"]]["path"],
       files[r["newFileOID"]]["path"] if r["newFileOID"] else None, r["ret"])
      for t, r in mine if t == "FileEvent"]
want = [(OP["RENAME"], d + "/a.txt", d + "/b.txt", 0),
        (OP["LINK"], d + "/b.txt", d + "/c.txt", 0),
        (OP["SYMLINK"], tmp + "/b.txt", d + "/d.txt", 0),
        (OP["SYMLINK"], "b.txt", d + "/e.txt", 0),
        (OP["UNLINK"], d + "/c.txt", None, 0), (OP["UNLINK"], d + "/d.txt", None, 0),
        (OP["UNLINK"], d + "/e.txt", None, 0), (OP["UNLINK"], d + "/b.txt", None, 0),
        (OP["MKDIR"], d + "/sub", None, 0), (OP["RMDIR"], d + "/sub", None, 0),
        (OP["MKDIR"], d + "/sub2", None, 0), (OP["UNLINK"], d + "/sub2", None, 0),
        (OP["MKDIR"], d + "/sub", None, 0), (OP["MKDIR"], d + "/sub", None, -17),
        (OP["RMDIR"], d + "/sub", None, 0)]
assert fe == want, fe
for r in files.values():
    assert r["oid"] == foid(None, r["path"])
types = {files[r["fileOID"]]["path"]: files[r["fileOID"]]["restype"] for t, r in mine if t == "FileEvent"}
assert types[d + "/sub"] == ord("d") and types[d + "/c.txt"] == ord("?")
assert files[ff[0]["fileOID"]]["restype"] == ord("f")
js = [j for j in json_lines(sys.argv[5]) if j["proc.pid"] == w["pid"]]
assert [j["opflags"] for j in js if j["type"] == "FE"][:2] == ["RENAME", "LINK"]
jw = [j for j in js if j["type"] == "FF" and j["file.path"] == d + "/a.txt"][0]
assert (jw["opflags"], jw["flow.wops"], jw["flow.wbytes"]) == ("O  W    C  ", 3, 1000), jw
assert jw["res"] == d + "/a.txt" and jw["file.openflags"] == 262 and jw["schema"] == 5
' "$(avro_file_in "$TMP/out")" "$TMP/wl.files" "$TMP/w" "$TMP" "$TMP/j.json"
}

# --compress-level: the deflate level of the Avro files. Level 0 stores
# the records as they are (their strings readable in the file), 9
# compresses them; both files hold the same records for both readers.
test_compress_level() {
	need_tools
	mkdir -p "$TMP/l0" "$TMP/l9" "$TMP/w"
	start_collect c0 -w "$TMP/l0/" --compress-level 0 -f "$FILTER"
	start_collect c9 -w "$TMP/l9/" --compress-level 9 -f "$FILTER"
	workload files "$TMP/w"
	stop_collect c0
	stop_collect c9
	check '
a, b = cross_check(sys.argv[1]), cross_check(sys.argv[2])
w = info(sys.argv[3])
# each collector stamps the events itself: compare all but the times
key = lambda recs: sorted((t, r.get("opFlags"), r.get("ret"), r.get("numWSendBytes"), r.get("numRRecvBytes")) for t, r in of_pid(recs, w["pid"]))
assert key(a) == key(b) and len(key(a)) > 10, [x for x in zip(key(a), key(b)) if x[0] != x[1]]
path = (sys.argv[4] + "/a.txt").encode()
assert path in open(sys.argv[1], "rb").read(), "level 0 did not store the records"
assert path not in open(sys.argv[2], "rb").read(), "level 9 did not compress"
' "$(avro_file_in "$TMP/l0")" "$(avro_file_in "$TMP/l9")" "$TMP/wl.files" "$TMP/w"
	local rc=0
	"$SYSFLOW" collect -w "$TMP/l0/" --compress-level 10 >"$TMP/o" 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 2 "exit code for --compress-level 10"
	grep -q "compress-level" "$TMP/e" || fail "option not named: $(cat "$TMP/e")"
}

test_tcp() {
	need_tools
	mkdir -p "$TMP/out"
	start_collect c -w "$TMP/out/" -f "$FILTER"
	workload tcp
	stop_collect c
	check '
recs = cross_check(sys.argv[1]); check_stream(recs)
w = info(sys.argv[2])
nf = {r["fd"]: r for t, r in of_pid(recs, w["pid"]) if t == "NetworkFlow"}
lo = ip("127.0.0.1")
c, s = nf[w["cfd"]], nf[w["sfd"]]
assert c["opFlags"] == OP["CONNECT"] | OP["READ"] | OP["WRITE"] | OP["CLOSE"], c
assert (c["sip"], c["sport"], c["dip"], c["dport"], c["proto"]) == (lo, w["cport"], lo, w["port"], 6), c
assert (c["numWSendOps"], c["numWSendBytes"], c["numRRecvOps"], c["numRRecvBytes"]) == (1, 1000, 1, 500), c
assert s["opFlags"] == OP["ACCEPT"] | OP["READ"] | OP["WRITE"] | OP["CLOSE"], s
assert (s["sip"], s["sport"], s["dip"], s["dport"]) == (lo, w["cport"], lo, w["port"]), s
assert (s["numRRecvOps"], s["numRRecvBytes"], s["numWSendOps"], s["numWSendBytes"]) == (1, 1000, 1, 500), s
assert c["tid"] == s["tid"] == w["tid"]
assert nf[w["lfd"]]["opFlags"] == OP["CLOSE"] and nf[w["lfd"]]["sport"] == w["port"]
' "$(avro_file_in "$TMP/out")" "$TMP/wl.tcp"
}

test_udp_peers() {
	need_tools
	mkdir -p "$TMP/out"
	start_collect c -w "$TMP/out/" -f "$FILTER"
	workload udp
	stop_collect c
	check '
recs = cross_check(sys.argv[1]); check_stream(recs)
w = info(sys.argv[2]); lo = ip("127.0.0.1")
nf = [r for t, r in of_pid(recs, w["pid"]) if t == "NetworkFlow"]
cl = sorted((r for r in nf if r["fd"] == w["cfd"]), key=lambda r: r["dport"] != w["port1"])
assert len(cl) == 2, cl
a, b = cl
assert a["dport"] == w["port1"] and a["sport"] == w["cport"] and a["proto"] == 17
assert a["opFlags"] == OP["WRITE"] | OP["READ"] | OP["TRUNCATE"], a
assert (a["numWSendOps"], a["numWSendBytes"], a["numRRecvOps"], a["numRRecvBytes"]) == (3, 300, 1, 50), a
assert b["dport"] == w["port2"] and b["opFlags"] == OP["WRITE"] | OP["CLOSE"], b
assert (b["numWSendOps"], b["numWSendBytes"]) == (2, 120), b
sv = [r for r in nf if r["fd"] == w["sfd"]][0]
assert (sv["sip"], sv["sport"], sv["dip"], sv["dport"]) == (lo, w["cport"], lo, w["port1"]), sv
assert sv["opFlags"] == OP["READ"] | OP["WRITE"] | OP["CLOSE"], sv
assert (sv["numRRecvOps"], sv["numRRecvBytes"], sv["numWSendOps"], sv["numWSendBytes"]) == (3, 300, 1, 50), sv
' "$(avro_file_in "$TMP/out")" "$TMP/wl.udp"
}

# IPv6 flows: in JSON in full, left out of Avro (int addresses) and counted.
test_ipv6() {
	need_tools
	mkdir -p "$TMP/out"
	start_collect c -w "$TMP/out/" -j -o "$TMP/j.json" -f "$FILTER" --stats
	workload tcp6
	stop_collect c
	grep -q "IPv6 flows not in Avro 3," "$TMP/c.err" || fail "IPv6 not counted: $(cat "$TMP/c.err")"
	check '
recs = cross_check(sys.argv[1]); w = info(sys.argv[2])
assert not [r for t, r in of_pid(recs, w["pid"]) if t == "NetworkFlow"]
js = {j["file.fd"]: j for j in json_lines(sys.argv[3]) if j["proc.pid"] == w["pid"] and j["type"] == "NF"}
c = js[w["cfd"]]
assert (c["net.sip"], c["net.dip"], c["net.sport"], c["net.dport"]) == ("::1", "::1", w["cport"], w["port"]), c
assert (c["flow.wbytes"], c["flow.rbytes"], c["opflags"]) == (1000, 500, "  CWR   C  "), c
assert js[w["sfd"]]["opflags"] == " A WR   C  "
' "$(avro_file_in "$TMP/out")" "$TMP/wl.tcp6" "$TMP/j.json"
}

test_exec_fork() {
	need_tools
	mkdir -p "$TMP/out"
	start_collect c -w "$TMP/out/" -f "$FILTER"
	workload exec
	stop_collect c
	check '
recs = cross_check(sys.argv[1]); check_stream(recs); w = info(sys.argv[2])
par = of_pid(recs, w["pid"]); kid = of_pid(recs, w["child"])
pclone = [r for t, r in par if t == "ProcessEvent" and r["opFlags"] == OP["CLONE"]]
assert len(pclone) == 1 and pclone[0]["ret"] == w["child"] and pclone[0]["tid"] == w["tid"], pclone
procs = [r for t, r in kid if t == "Process"]
assert procs[0]["state"] == "CREATED" and procs[0]["oid"]["createTS"] == pclone[0]["ts"], procs[0]
parent_oid = [r for t, r in par if t == "Process"][0]["oid"]
assert procs[0]["poid"] == parent_oid, (procs[0]["poid"], parent_oid)
ev = [(r["opFlags"], r["ret"], r["tid"]) for t, r in kid if t == "ProcessEvent"]
assert ev == [(OP["CLONE"], 0, w["child"]), (OP["EXEC"], 0, w["child"]), (OP["EXIT"], 3, w["child"])], ev
mod = [r for r in procs if r["state"] == "MODIFIED"]
assert mod and mod[0]["exeArgs"] == "noop arg1 arg two" and mod[0]["exe"].endswith("collect_workload"), mod
assert mod[0]["cwd"] == sys.argv[3] and any(e.startswith("PATH=") for e in mod[0]["env"])
' "$(avro_file_in "$TMP/out")" "$TMP/wl.exec" "$TMP"
}

test_setuid() {
	need_tools
	mkdir -p "$TMP/out"
	start_collect c -w "$TMP/out/" -f "$FILTER"
	workload setuid
	stop_collect c
	check '
recs = cross_check(sys.argv[1]); check_stream(recs); w = info(sys.argv[2])
kid = of_pid(recs, w["child"])
su = [r for t, r in kid if t == "ProcessEvent" and r["opFlags"] == OP["SETUID"]]
assert len(su) == 1 and su[0]["args"] == ["nobody"] and su[0]["ret"] == 0, su
mod = [r for t, r in kid if t == "Process" and r["state"] == "MODIFIED"]
assert mod and mod[-1]["uid"] == 65534 and mod[-1]["userName"] == "nobody", mod
' "$(avro_file_in "$TMP/out")" "$TMP/wl.setuid"
}

test_threads() {
	need_tools
	mkdir -p "$TMP/out" "$TMP/out2"
	start_collect c -w "$TMP/out/" -f "$FILTER"
	workload threads 5
	stop_collect c
	cp "$TMP/wl.threads" "$TMP/wl.threads1"
	start_collect c -w "$TMP/out2/" -f "$FILTER" --no-process-flow
	workload threads 5
	stop_collect c
	check '
recs = cross_check(sys.argv[1]); check_stream(recs); w = info(sys.argv[2])
mine = of_pid(recs, w["pid"])
pf = [r for t, r in mine if t == "ProcessFlow"]
assert len(pf) == 1, pf
assert (pf[0]["numThreadsCloned"], pf[0]["numThreadsExited"], pf[0]["numCloneErrors"]) == (5, 5, 0), pf
assert pf[0]["opFlags"] == OP["CLONE"] | OP["EXIT"]
kinds = [t for t, r in mine if t in ("ProcessFlow", "ProcessEvent")]
assert kinds[-2:] == ["ProcessFlow", "ProcessEvent"], kinds
recs = cross_check(sys.argv[3]); w = info(sys.argv[4])
pe = [r for t, r in of_pid(recs, w["pid"]) if t == "ProcessEvent"]
assert len([r for r in pe if r["opFlags"] == OP["CLONE"]]) == 10, pe
assert len([r for r in pe if r["opFlags"] == OP["EXIT"]]) == 6, pe
assert not [1 for t, r in recs if t == "ProcessFlow"]
' "$(avro_file_in "$TMP/out")" "$TMP/wl.threads1" "$(avro_file_in "$TMP/out2")" "$TMP/wl.threads"
}

# mmap (traced once dropMode is off), shutdown and setns are folded into
# the flow of their fd, like reads and writes.
test_mmap_shutdown_setns() {
	need_tools
	mkdir -p "$TMP/out"
	start_collect c -w "$TMP/out/" --no-drop-mode --file-read-mode 0 -f "$FILTER"
	workload misc "$TMP/m.bin"
	stop_collect c
	check '
recs = cross_check(sys.argv[1]); check_stream(recs); w = info(sys.argv[2]); files = files_by_oid(recs)
mine = of_pid(recs, w["pid"])
ff = {files[r["fileOID"]]["path"]: r for t, r in mine if t == "FileFlow"}
m = ff[sys.argv[3]]
assert m["opFlags"] == OP["OPEN"] | OP["MMAP"] | OP["CLOSE"], m
ns = ff["/proc/self/ns/net"]
assert ns["opFlags"] == OP["OPEN"] | OP["SETNS"] | OP["CLOSE"] and ns["fd"] == w["nfd"], ns
nf = [r for t, r in mine if t == "NetworkFlow" and r["fd"] == w["cfd"]][0]
assert nf["opFlags"] == OP["CONNECT"] | OP["SHUTDOWN"] | OP["CLOSE"], nf
' "$(avro_file_in "$TMP/out")" "$TMP/wl.misc" "$TMP/m.bin"
}

# open_by_handle_at: a file opened by handle, without a path, is an OPEN
# of its own path (without the hook, its read would begin a flow with no
# OPEN and openFlags 0).
test_open_by_handle() {
	need_tools
	mkdir -p "$TMP/out" "$TMP/w"
	start_collect c -w "$TMP/out/" --file-read-mode 0 -f "$FILTER"
	workload handle "$TMP/w"
	stop_collect c
	check '
recs = cross_check(sys.argv[1]); check_stream(recs); w = info(sys.argv[2]); d = sys.argv[3]
mine = of_pid(recs, w["pid"]); files = files_by_oid(recs)
h = [r for t, r in mine if t == "FileFlow" and files[r["fileOID"]]["path"] == d + "/h.txt"]
rd = [r for r in h if r["openFlags"] == 1]
assert len(h) == 2 and len(rd) == 1, h
r = rd[0]
assert r["opFlags"] == OP["OPEN"] | OP["READ"] | OP["CLOSE"] and r["fd"] == w["hfd"], r
assert (r["numRRecvOps"], r["numRRecvBytes"]) == (1, 300), r
' "$(avro_file_in "$TMP/out")" "$TMP/wl.handle" "$TMP/w"
}

# fd aliasing: I/O through a dup'd fd is a flow of its own on the same
# File (same FOID, no OPEN, openFlags 0) or the same tuple; dup2 onto an
# open fd closes that fd's flow first.
test_dup() {
	need_tools
	mkdir -p "$TMP/out" "$TMP/w"
	start_collect c -w "$TMP/out/" -j -o "$TMP/j.json" -f "$FILTER"
	workload fds "$TMP/w"
	stop_collect c
	check '
recs = cross_check(sys.argv[1]); check_stream(recs); w = info(sys.argv[2]); d = sys.argv[3]
mine = of_pid(recs, w["pid"]); files = files_by_oid(recs)
ff = [r for t, r in mine if t == "FileFlow" and files[r["fileOID"]]["path"].startswith(d + "/dup")]
a = {r["fd"]: r for r in ff if files[r["fileOID"]]["path"] == d + "/dup.txt"}
assert sorted(a) == sorted([w["fd"], w["d1"], w["d2"], w["bfd"], w["d3"]]), ff
assert w["d2"] >= 50 and w["d3"] == 60
o = a[w["fd"]]
assert o["opFlags"] == OP["OPEN"] | OP["WRITE"] | OP["CLOSE"] and o["openFlags"] == 262, o
assert (o["numWSendOps"], o["numWSendBytes"]) == (1, 100), o
for fd, n in ((w["d1"], 200), (w["d2"], 300), (w["bfd"], 400), (w["d3"], 500)):
    r = a[fd]
    assert r["opFlags"] == OP["WRITE"] | OP["CLOSE"] and r["openFlags"] == 0, r
    assert (r["numWSendOps"], r["numWSendBytes"], r["numRRecvOps"]) == (1, n, 0), r
    assert r["fileOID"] == o["fileOID"] == foid(None, d + "/dup.txt") and r["tid"] == w["tid"]
b = [r for r in ff if files[r["fileOID"]]["path"] == d + "/dup2.txt"]
assert len(b) == 1 and b[0]["fd"] == w["bfd"], b
assert b[0]["opFlags"] == OP["OPEN"] | OP["WRITE"] | OP["CLOSE"], b
assert (b[0]["numWSendOps"], b[0]["numWSendBytes"]) == (1, 10), b
assert b[0]["endTs"] <= a[w["bfd"]]["ts"], (b[0], a[w["bfd"]])
nf = {r["fd"]: r for t, r in mine if t == "NetworkFlow"}
lo = ip("127.0.0.1"); s = nf[w["sd"]]
assert s["opFlags"] == OP["WRITE"] | OP["CLOSE"], s
assert (s["sip"], s["sport"], s["dip"], s["dport"], s["proto"]) == (lo, w["cport"], lo, w["port"], 6), s
assert (s["numWSendOps"], s["numWSendBytes"], s["numRRecvOps"]) == (1, 700, 0), s
assert nf[w["sfd"]]["opFlags"] == OP["ACCEPT"] | OP["CLOSE"], nf[w["sfd"]]
assert nf[w["cfd"]]["numRRecvBytes"] == 700
js = [j for j in json_lines(sys.argv[4]) if j["proc.pid"] == w["pid"] and j["type"] == "FF"]
jd = [j for j in js if j["file.fd"] == w["d1"]][0]
assert (jd["file.path"], jd["opflags"], jd["flow.wbytes"]) == (d + "/dup.txt", "   W    C  ", 200), jd
' "$(avro_file_in "$TMP/out")" "$TMP/wl.fds" "$TMP/w" "$TMP/j.json"
}

# close_range closes every fd of its range as close() would; with
# CLOSE_RANGE_CLOEXEC the fds close at exec, which truncates their flows
# with their final counters, though the new image reuses x1's fd at once.
test_close_range() {
	need_tools
	mkdir -p "$TMP/out" "$TMP/w"
	start_collect c -w "$TMP/out/" -f "proc.name in (collect_workload, true)"
	workload closerange "$TMP/w"
	stop_collect c
	check '
recs = cross_check(sys.argv[1]); check_stream(recs); w = info(sys.argv[2]); d = sys.argv[3]
mine = of_pid(recs, w["pid"]); files = files_by_oid(recs)
ff = {files[r["fileOID"]]["path"][len(d) + 1:]: r for t, r in mine if t == "FileFlow"
      and files[r["fileOID"]]["path"].startswith(d + "/")}
assert sorted(ff) == ["keep.txt", "r0.txt", "r1.txt", "r2.txt", "r3.txt", "setfd.txt", "x1.txt", "x2.txt"], ff
O, W, C, T = OP["OPEN"], OP["WRITE"], OP["CLOSE"], OP["TRUNCATE"]
for name, flags, n in (("r1.txt", O | W | C, 10), ("r2.txt", O | W | C, 20), ("r3.txt", O | C, 0),
                       ("r0.txt", O | W | C, 5), ("x1.txt", O | W | T, 30),
                       ("x2.txt", O | W | T, 40), ("keep.txt", O | W | T, 50),
                       ("setfd.txt", O | W | T, 60)):
    r = ff[name]
    assert (r["opFlags"], r["numWSendBytes"], r["numWSendOps"]) == (flags, n, int(n > 0)), (name, r)
    assert r["fd"] == w[name[:-4]], (name, r)
# closed by close_range, then r0 by close(), then x1 opened on the fd of r0
assert max(ff[n]["endTs"] for n in ("r1.txt", "r2.txt", "r3.txt")) < ff["r0.txt"]["endTs"] < ff["x1.txt"]["ts"]
assert w["x1"] == w["r0"], w
ex = [r for t, r in mine if t == "ProcessEvent" and r["opFlags"] == OP["EXEC"]][-1]
assert ff["x1.txt"]["ts"] < ff["x1.txt"]["endTs"] <= ex["ts"] and ff["x2.txt"]["endTs"] <= ex["ts"], (ff, ex)
assert ff["setfd.txt"]["endTs"] <= ex["ts"], (ff["setfd.txt"], ex)
assert ff["keep.txt"]["endTs"] > ex["ts"], ff["keep.txt"]
' "$(avro_file_in "$TMP/out")" "$TMP/wl.closerange" "$TMP/w"
}

# sendfile, copy_file_range, splice, tee, vmsplice: the bytes returned are
# a read on the input fd and a write on the output fd (pipes with --all-fds).
test_sendfile_splice() {
	need_tools
	mkdir -p "$TMP/out" "$TMP/w"
	start_collect c -w "$TMP/out/" --all-fds -f "$FILTER"
	workload xfer "$TMP/w"
	stop_collect c
	check '
recs = cross_check(sys.argv[1]); check_stream(recs); w = info(sys.argv[2]); d = sys.argv[3]
mine = of_pid(recs, w["pid"]); files = files_by_oid(recs)
ff = [(files[r["fileOID"]], r) for t, r in mine if t == "FileFlow"]
src = [r for f, r in ff if f["path"] == d + "/src.bin" and r["fd"] == w["in"] and r["openFlags"] == 1]
dst = [r for f, r in ff if f["path"] == d + "/dst.bin"]
assert len(src) == 1 and len(dst) == 1, ff
s, o = src[0], dst[0]
assert s["opFlags"] == OP["OPEN"] | OP["READ"] | OP["CLOSE"], s
assert (s["numRRecvOps"], s["numRRecvBytes"], s["numWSendOps"]) == (3, 1800, 0), s
assert o["opFlags"] == OP["OPEN"] | OP["WRITE"] | OP["CLOSE"] and o["fd"] == w["out"], o
assert (o["numWSendOps"], o["numWSendBytes"], o["numRRecvOps"]) == (3, 1800, 0), o
pipes = {r["fd"]: (f, r) for f, r in ff if f["path"].startswith("pipe:[")}
def p(fd, flags, rops, rb, wops, wb):
    f, r = pipes[w[fd]]
    assert f["restype"] == ord("p"), f
    assert (r["opFlags"], r["numRRecvOps"], r["numRRecvBytes"], r["numWSendOps"], r["numWSendBytes"]) == \
        (flags, rops, rb, wops, wb), (fd, r)
    return f["path"]
R, W, C = OP["READ"], OP["WRITE"], OP["CLOSE"]
assert p("p0", R | C, 3, 700, 0, 0) == p("p1", W | C, 0, 0, 2, 500)
assert p("q0", R | C, 1, 200, 0, 0) == p("q1", W | C, 0, 0, 1, 200)
' "$(avro_file_in "$TMP/out")" "$TMP/wl.xfer" "$TMP/w"
}

# ---- outputs ----

# -G 1: a file per second named by epoch, each one standing alone: header
# first and its own entities (written again as REUP).
test_rotation() {
	need_tools
	mkdir -p "$TMP/out"
	start_collect c -w "$TMP/out/" -G 1 -f "$FILTER"
	local end=$((SECONDS + 30))
	while [ "$(ls "$TMP/out" | wc -l)" -lt 3 ] && [ $SECONDS -lt $end ]; do
		workload exec # records in every file, until 3 files exist
	done
	stop_collect c
	start_collect p -w "$TMP/prefix" -G 300 -f "$FILTER"
	workload exec
	stop_collect p
	check '
import os, re
d = sys.argv[1]; names = sorted(os.listdir(d))
assert len(names) >= 3, names
with_recs = 0
for n in names:
    assert re.fullmatch(r"\d{10}(\.\d+)?", n), n
    recs = cross_check(os.path.join(d, n)); check_stream(recs)
    assert recs[0][1]["filename"] == os.path.join(d, n)
    ev = [r for t, r in recs if t == "ProcessEvent"]
    if ev:
        with_recs += 1
        assert [r["state"] for t, r in recs if t == "Process"][0] in ("REUP", "MODIFIED", "CREATED")
assert with_recs >= 2, with_recs
pre = [n for n in os.listdir(sys.argv[2]) if n.startswith("prefix.")]
assert len(pre) == 1 and re.fullmatch(r"prefix\.\d{10}", pre[0]), pre
check_stream(cross_check(os.path.join(sys.argv[2], pre[0])))
' "$TMP/out" "$TMP"
}

# sf-processor's side of the socket: SOCK_SEQPACKET, a datagram per record,
# kept as hex lines.
seqpacket_server() { # NAME PATH
	cat >"$TMP/srv.py" <<'PY'
import os, socket, sys
path, out = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(path); s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
with open(out, "w") as f:
    while True:
        d = c.recv(65536)
        if not d:
            break
        f.write(d.hex() + "\n"); f.flush()
PY
	bg_start "$1" $PY "$TMP/srv.py" "$2" "$TMP/$1.dgrams"
	wait_for "$TMP/$1.out" listening 10
}

test_socket_reconnect() {
	need_tools
	local n
	mkdir -p "$TMP/out"
	seqpacket_server s1 "$TMP/sf.sock"
	start_collect c -u "$TMP/sf.sock" -w "$TMP/out/" -f "$FILTER" --stats
	workload tcp
	cp "$TMP/wl.tcp" "$TMP/wl.tcp1"
	check ' # wait until its flows reached the first server
import time
w, end = info(sys.argv[2]), time.time() + 20
def seen():
    try:
        return [1 for t, r in of_pid(datagrams(sys.argv[1]), w["pid"]) if t == "NetworkFlow"]
    except Exception: # a datagram half written to the file
        return False
while not seen():
    assert time.time() < end, "no flows on the first socket"
    time.sleep(0.05)
' "$TMP/s1.dgrams" "$TMP/wl.tcp1"
	kill "$(cat "$TMP/s1.pid")"
	wait "$(cat "$TMP/s1.pid")" 2>/dev/null || true
	workload exec # its records find the peer gone
	seqpacket_server s2 "$TMP/sf.sock"
	wait_for "$TMP/c.err" "reconnected to SysFlow socket" 30
	workload tcp
	stop_collect c
	grep -q "socket reconnects 1," "$TMP/c.err" || fail "reconnect not counted: $(cat "$TMP/c.err")"
	read -r -a n <<<"$(not_written c)"
	[ "${n[2]}" -gt 0 ] || fail "records of the gap not counted: ${n[*]}"
	assert_eq "${n[0]}" "${n[2]}" "records not written, all to the socket"
	check '
a = datagrams(sys.argv[1]); b = datagrams(sys.argv[2])
check_stream(a); check_stream(b)
w1, w2 = info(sys.argv[3]), info(sys.argv[4])
assert [t for t, r in of_pid(a, w1["pid"]) if t == "NetworkFlow"], "first stream"
nf = [r for t, r in of_pid(b, w2["pid"]) if t == "NetworkFlow"]
assert len(nf) == 3 and sum(r["numWSendBytes"] for r in nf) == 1500, nf
procs = [r for t, r in b if t == "Process"]
assert procs and all(r["state"] in ("REUP", "MODIFIED") for r in procs[:-1]), procs
assert len(max(open(sys.argv[1]).read().split(), key=len)) // 2 <= 16384
' "$TMP/s1.dgrams" "$TMP/s2.dgrams" "$TMP/wl.tcp1" "$TMP/wl.tcp"
}

# JSON lines alone, and beside Avro files (-w -j -o): the same fields, and
# each record's state is the one a reader of the Avro stream holds for its
# process (the state of the Process record last written for it).
test_json_lines() {
	need_tools
	mkdir -p "$TMP/out"
	start_collect c -j -f "$FILTER"
	start_collect d -w "$TMP/out/" -j -o "$TMP/d.json" -f "$FILTER"
	workload exec
	stop_collect c
	stop_collect d
	check '
avro = cross_check(sys.argv[4]); w = info(sys.argv[2])
held, want = None, []
for t, r in of_pid(avro, w["child"]):
    if t == "Process":
        held = r["state"]
    else:
        want.append(held)
assert want[:2] == ["CREATED", "MODIFIED"] and set(want[2:]) == {"MODIFIED"}, want
for f in sys.argv[1], sys.argv[3]:
    got = [j["state"] for j in json_lines(f) if j["proc.pid"] == w["child"]]
    assert got == want, (f, got, want)
' "$TMP/c.out" "$TMP/wl.exec" "$TMP/d.json" "$(avro_file_in "$TMP/out")"
	check '
js = json_lines(sys.argv[1]); w = info(sys.argv[2])
keys = list(js[0].keys())
assert keys[:8] == ["version", "type", "state", "opflags", "opflags_bitmap", "ret", "ts", "ts_uts"], keys
for k in ("proc.pid", "proc.tid", "pproc.pid", "file.path", "net.sip", "flow.rbytes",
          "container.id", "node.id", "filename", "schema"):
    assert k in keys, k
ev = [(j["type"], j["opflags"], j["ret"]) for j in js if j["proc.pid"] == w["child"]]
assert ev[:3] == [("PE", "CLONE", 0), ("PE", "EXEC", 0), ("FF", "O       C  ", None)], ev
assert ev[-1] == ("PE", "EXIT", 3), ev
exe = [j for j in js if j["proc.pid"] == w["child"] and j["opflags"] == "EXEC"][0]
assert exe["proc.args"] == "noop arg1 arg two" and exe["pproc.pid"] == w["pid"]
assert exe["ts"].startswith("20") and "T" in exe["ts"]
' "$TMP/c.out" "$TMP/wl.exec"
}

# Two collects at once share nothing (no pins): both see the same exec.
test_two_instances() {
	need_tools
	start_collect c1 -j -f "$FILTER"
	start_collect c2 -j -f "$FILTER"
	workload exec
	stop_collect c1
	stop_collect c2
	check '
w = info(sys.argv[3])
for f in sys.argv[1:3]:
    ev = [j["opflags"] for j in json_lines(f) if j["proc.pid"] == w["child"]]
    assert "EXEC" in ev, (f, ev)
' "$TMP/c1.out" "$TMP/c2.out" "$TMP/wl.exec"
}

# ---- filters and modes ----

test_filter() {
	need_tools
	mkdir -p "$TMP/out" "$TMP/w"
	start_collect c -w "$TMP/out/" \
		-f "$FILTER and evt.type != mkdir and not fd.name contains c.txt"
	workload files "$TMP/w"
	stop_collect c
	start_collect d -j -f "proc.name = collect_workload and evt.type in (connect, accept)"
	workload tcp
	stop_collect d
	local rc=0
	"$SYSFLOW" collect -j -f "proc.name === x" >"$TMP/out.bad" 2>"$TMP/err.bad" || rc=$?
	assert_eq "$rc" 2 "exit code of a bad filter (a usage error)"
	grep -q "EventParsingError" "$TMP/err.bad" || fail "bad filter: $(cat "$TMP/err.bad")"
	check '
recs = cross_check(sys.argv[1]); w = info(sys.argv[2]); files = files_by_oid(recs)
fe = [(r["opFlags"], files[r["fileOID"]]["path"]) for t, r in of_pid(recs, w["pid"]) if t == "FileEvent"]
assert not [1 for op, p in fe if op == OP["MKDIR"]], fe
assert not [1 for op, p in fe if p.endswith("c.txt")], fe
assert [1 for op, p in fe if op == OP["RENAME"]] and [1 for op, p in fe if op == OP["RMDIR"]], fe
js = json_lines(sys.argv[3]); t = info(sys.argv[4])
nf = [j for j in js if j["proc.pid"] == t["pid"]]
# close events do not pass: the flows end truncated, with their counters
assert sorted(j["opflags"] for j in nf) == sorted([" A WR    T ", "  CWR    T "]), nf
assert sorted(j["flow.wbytes"] for j in nf) == [500, 1000], nf
' "$(avro_file_in "$TMP/out")" "$TMP/wl.files" "$TMP/d.out" "$TMP/wl.tcp"
}

# fileReadMode: 0 keeps every read-only flow, 1 none, 2 (default) drops
# those under /proc, /dev, /sys, /lib, ...
test_file_read_mode() {
	need_tools
	local m
	for m in 0 1 2; do
		mkdir -p "$TMP/out$m" "$TMP/w$m"
		start_collect c -w "$TMP/out$m/" --file-read-mode $m -f "$FILTER"
		workload files "$TMP/w$m"
		cp "$TMP/wl.files" "$TMP/wl.files$m"
		stop_collect c
	done
	check '
def paths(i):
    recs = cross_check(sys.argv[1 + 2 * i]); w = info(sys.argv[2 + 2 * i]); files = files_by_oid(recs)
    return [(files[r["fileOID"]]["path"], r["openFlags"]) for t, r in of_pid(recs, w["pid"]) if t == "FileFlow"]
m0, m1, m2 = paths(0), paths(1), paths(2)
libc = lambda l: [p for p, f in l if p.startswith(("/lib/", "/usr/lib/")) and "libc.so" in p]
assert libc(m0) and not libc(m2) and not libc(m1), (m0, m2)
assert [1 for p, f in m2 if p == "/etc/ld.so.cache"] and not [1 for p, f in m1 if p == "/etc/ld.so.cache"]
assert not [1 for p, f in m1 if f & 1], m1
assert [1 for p, f in m1 if p.endswith("/a.txt") and f == 262], m1
' "$(avro_file_in "$TMP/out0")" "$TMP/wl.files0" "$(avro_file_in "$TMP/out1")" "$TMP/wl.files1" \
	  "$(avro_file_in "$TMP/out2")" "$TMP/wl.files2"
}

test_modes() {
	need_tools
	mkdir -p "$TMP/oc" "$TMP/on" "$TMP/w"
	start_collect c -w "$TMP/oc/" --mode consumer -f "$FILTER"
	workload files "$TMP/w"
	workload tcp
	stop_collect c
	cp "$TMP/wl.files" "$TMP/wl.filesc"
	cp "$TMP/wl.tcp" "$TMP/wl.tcpc"
	start_collect c -w "$TMP/on/" --mode nofiles -f "$FILTER"
	workload files "$TMP/w"
	workload tcp
	stop_collect c
	check '
recs = cross_check(sys.argv[1]); check_stream(recs); files = files_by_oid(recs)
w = info(sys.argv[2]); t = info(sys.argv[3])
ff = [r for tp, r in of_pid(recs, w["pid"]) if tp == "FileFlow" and files[r["fileOID"]]["path"].endswith("/a.txt")]
assert len(ff) == 2 and all(r["opFlags"] == OP["OPEN"] and r["endTs"] == r["ts"] for r in ff), ff
assert all(r["numWSendOps"] == r["numRRecvOps"] == 0 for r in ff)
assert [1 for tp, r in of_pid(recs, w["pid"]) if tp == "FileEvent"]
nf = {r["fd"]: r for tp, r in of_pid(recs, t["pid"]) if tp == "NetworkFlow"}
assert nf[t["cfd"]]["opFlags"] == OP["CONNECT"] | OP["READ"] | OP["WRITE"] | OP["CLOSE"], nf
assert nf[t["cfd"]]["numWSendBytes"] == 1000
recs = cross_check(sys.argv[4]); w = info(sys.argv[5]); t = info(sys.argv[6])
assert not [1 for tp, r in of_pid(recs, w["pid"]) if tp in ("FileFlow", "FileEvent")]
assert not [1 for tp, r in recs if tp in ("FileFlow", "FileEvent")]
assert len([1 for tp, r in of_pid(recs, t["pid"]) if tp == "NetworkFlow"]) == 3
' "$(avro_file_in "$TMP/oc")" "$TMP/wl.filesc" "$TMP/wl.tcpc" "$(avro_file_in "$TMP/on")" \
	  "$TMP/wl.files" "$TMP/wl.tcp"
}

# -s N counts reads/writes only in the first 1/N of each second: with
# N = 10^9 the 3 writes of a.txt are almost surely left out, and counted.
test_sampling() {
	need_tools
	mkdir -p "$TMP/out" "$TMP/w"
	start_collect c -w "$TMP/out/" -s 1000000000 -f "$FILTER" --stats
	workload files "$TMP/w"
	stop_collect c
	awk '/^ *[0-9]+ /{s += $7} END {exit !(s > 0)}' "$TMP/c.err" ||
		fail "nothing sampled out: $(cat "$TMP/c.err")"
	check '
recs = cross_check(sys.argv[1]); w = info(sys.argv[2]); files = files_by_oid(recs)
ff = [r for t, r in of_pid(recs, w["pid"]) if t == "FileFlow" and files[r["fileOID"]]["path"].endswith("/a.txt")]
assert ff[0]["opFlags"] == OP["OPEN"] | OP["CLOSE"] and ff[0]["numWSendOps"] == 0, ff
' "$(avro_file_in "$TMP/out")" "$TMP/wl.files"
}

# A cgroup named like a docker container's: its processes carry the short
# id, a Container record comes first, FOIDs hash the id; -c keeps only them.
test_container() {
	need_tools
	local mnt id cg
	mnt=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
	[ -n "$mnt" ] || skip "no cgroup2 mount"
	id=$(printf 'sysflow-test-%s' "$$" | sha256sum | cut -c1-64)
	cg=$mnt/sysflow-test-$$/docker-$id.scope
	mkdir -p "$cg" || skip "cannot create a cgroup under $mnt"
	on_exit rmdir "$cg" "$mnt/sysflow-test-$$"
	mkdir -p "$TMP/out" "$TMP/w"
	start_collect c -w "$TMP/out/" -c -f "$FILTER"
	(cd "$TMP" && sh -c "echo \$\$ > $cg/cgroup.procs && exec $WL files $TMP/w") \
		>"$TMP/wl.cont" 2>&1 || fail "workload in cgroup: $(cat "$TMP/wl.cont")"
	workload files "$TMP/w" # on the host: filtered out by -c
	stop_collect c
	check '
recs = cross_check(sys.argv[1]); check_stream(recs)
cid = sys.argv[2][:12]; w = info(sys.argv[3]); h = info(sys.argv[4])
conts = [r for t, r in recs if t == "Container"]
assert len(conts) == 1 and conts[0]["id"] == cid and conts[0]["type"] == "CT_DOCKER", conts
procs = [r for t, r in of_pid(recs, w["pid"]) if t == "Process"]
assert procs and all(r["containerId"] == cid for r in procs), procs
files = [r for t, r in recs if t == "File" and r["path"].endswith("a.txt")]
assert files and files[0]["containerId"] == cid and files[0]["oid"] == foid(cid, files[0]["path"])
assert not of_pid(recs, h["pid"]), "host process passed -c"
' "$(avro_file_in "$TMP/out")" "$id" "$TMP/wl.cont" "$TMP/wl.files"
}

# ---- flow timers, shutdown, faults ----

# A file open for 33 s: exported at 30 s (no CLOSE, counters restart), then
# written with OP_TRUNCATE at SIGTERM; the file stays readable.
test_export_and_sigterm() {
	need_tools
	mkdir -p "$TMP/out"
	start_collect c -w "$TMP/out/" -f "$FILTER"
	bg_start wl "$WL" longwrite "$TMP/long.txt" 33
	wait_for "$TMP/wl.out" '"fd"' 60
	stop_collect c TERM
	check '
recs = cross_check(sys.argv[1]); check_stream(recs); w = info(sys.argv[2])
files = files_by_oid(recs)
ff = [r for t, r in of_pid(recs, w["pid"]) if t == "FileFlow" and r["fd"] == w["fd"]
      and files[r["fileOID"]]["path"].endswith("/long.txt")]
assert len(ff) == 2, ff
a, b = ff
assert a["opFlags"] == OP["OPEN"] | OP["WRITE"] and 250 <= a["numWSendOps"] <= 310, a
assert b["opFlags"] == OP["WRITE"] | OP["TRUNCATE"] and b["ts"] == a["endTs"], b
assert a["numWSendOps"] + b["numWSendOps"] == 330, (a["numWSendOps"], b["numWSendOps"])
' "$(avro_file_in "$TMP/out")" "$TMP/wl.out"
}

# A tiny ring buffer and an open/close storm: losses are counted per CPU,
# the collector survives and its file is complete.
test_overflow() {
	need_tools
	mkdir -p "$TMP/out"
	touch "$TMP/storm"
	start_collect c -w "$TMP/out/" --buffer-size 4096 --cpu-buffers 1 \
		-f "$FILTER" --stats
	workload storm "$TMP/storm" 2
	workload tcp
	stop_collect c
	awk '/^ *[0-9]+ /{l += $4} END {exit !(l > 0)}' "$TMP/c.err" ||
		fail "no loss counted: $(cat "$TMP/c.err")"
	grep -qE "lost [1-9][0-9]*;" "$TMP/c.err" || fail "total loss not printed"
	check 'check_stream(cross_check(sys.argv[1]))' "$(avro_file_in "$TMP/out")"
}

# ---- full disk ----

# tiny_fs: a small tmpfs of this test's own at $TMP/tiny, unmounted on exit.
tiny_fs() {
	mkdir "$TMP/tiny"
	mount -t tmpfs -o size=16m "sft$$-tiny" "$TMP/tiny"
	on_exit umount -l "$TMP/tiny"
}

# fill_fs: a filler file takes every free block (dd stops at ENOSPC).
fill_fs() {
	dd if=/dev/zero of="$TMP/tiny/filler" bs=4k 2>/dev/null || true
	assert_eq "$(df --output=avail "$TMP/tiny" | tail -n 1 | tr -d ' ')" 0 \
		"free blocks on the filled tmpfs"
}

# not_written NAME: the "records not written N (file F, socket S, JSON J)"
# of its --stats, as "N F S J".
not_written() {
	grep -oE "records not written [0-9]+ \(file [0-9]+, socket [0-9]+, JSON [0-9]+\)" \
		"$TMP/$1.err" | tr -dc '0-9 ' | xargs ||
		fail "no records not written in --stats: $(cat "$TMP/$1.err")"
}

# one_episode NAME IDX WHAT: stop a collector that went through one
# full-disk episode (exit 1); it said so once and counted the records it
# lost, all on output IDX of not_written (1: file, 3: JSON). Sets LOST.
one_episode() {
	local n
	stop_collect "$1" INT 1
	[ "$(grep -c "failed: No space left on device" "$TMP/$1.err")" -eq 1 ] ||
		fail "not one error line for one full-disk episode: $(grep -E "failed|again" "$TMP/$1.err")"
	read -r -a n <<<"$(not_written "$1")"
	info "records not written ${n[*]}"
	[ "${n[$2]}" -gt 0 ] || fail "no $3 counted as not written: ${n[*]}"
	assert_eq "${n[0]}" "${n[$2]}" "records not written, all $3"
	LOST=${n[$2]}
}

# -w on a disk that fills up: one error line naming the file and the
# reason, records counted, the collector goes on; the full file is readable
# up to its last complete block; once space is back, writing resumes in a
# new file (header and entities again) and the exit status says data was
# lost.
test_disk_full() {
	need_tools
	local pid
	tiny_fs
	touch "$TMP/storm"
	start_collect c -w "$TMP/tiny/" -f "$FILTER" --stats
	pid=$(cat "$TMP/c.pid")
	workload files "$TMP"
	check ' # wait until the workload is in the file (flushed every second)
import time
w, end = info(sys.argv[2]), time.time() + 20
def seen():
    try:
        return [1 for t, r in of_pid(avro_file(sys.argv[1]), w["pid"]) if t == "FileFlow"]
    except Exception: # a block half written
        return False
while not seen():
    assert time.time() < end, "no file flows in the file"
    time.sleep(0.1)
' "$(avro_file_in "$TMP/tiny")" "$TMP/wl.files"
	fill_fs
	workload storm "$TMP/storm" 1
	wait_for "$TMP/c.err" "writing SysFlow to $TMP/tiny/[0-9]+ failed: No space left on device" 20
	kill -0 "$pid" 2>/dev/null || fail "collect died on a full disk: $(tail -5 "$TMP/c.err")"
	rm "$TMP/tiny/filler"
	wait_for "$TMP/c.err" "writing SysFlow to $TMP/tiny/[0-9.]+ again; [1-9][0-9]* records were not written" 20
	workload tcp
	one_episode c 1 "records to the file"
	grep -q "records not written: $LOST to the SysFlow file" "$TMP/c.err" ||
		fail "no summary at exit: $(tail -3 "$TMP/c.err")"
	check '
import os
d = sys.argv[1]; names = sorted(os.listdir(d))
assert len(names) == 2, names
full, new = [os.path.join(d, n) for n in names]
w, t = info(sys.argv[2]), info(sys.argv[3])
recs = cross_check(full); check_stream(recs)
assert [1 for tp, r in of_pid(recs, w["pid"]) if tp == "FileFlow"], "records before the disk filled"
recs = cross_check(new); check_stream(recs)
assert recs[0][1]["filename"] == new
nf = [r for tp, r in of_pid(recs, t["pid"]) if tp == "NetworkFlow"]
assert len(nf) == 3 and sum(r["numWSendBytes"] for r in nf) == 1500, nf
' "$TMP/tiny" "$TMP/wl.files" "$TMP/wl.tcp"
}

# tcp_in_json FILE: one more tcp workload, all of whose network flows are
# lines of FILE.
tcp_in_json() {
	workload tcp
	PYTHONPATH=$TMP $PY -c '
from sf import *
t = info(sys.argv[2])
nf = [j for j in json_lines(sys.argv[1]) if j["proc.pid"] == t["pid"] and j["type"] == "NF"]
sys.exit(not (len(nf) == 3 and sum(j["flow.wbytes"] for j in nf) == 1500))
' "$1" "$TMP/wl.tcp"
}

# -o JSON lines on a disk that fills up: the same, line by line: the file
# keeps whole lines only; once space is back, the next try (at most a
# second later) writes again.
test_disk_full_json() {
	need_tools
	local pid
	tiny_fs
	start_collect c -j -o "$TMP/tiny/j.json" -f "$FILTER" --stats
	pid=$(cat "$TMP/c.pid")
	workload files "$TMP"
	wait_until 10 grep -q '"type":"FF"' "$TMP/tiny/j.json"
	cp "$TMP/wl.files" "$TMP/wl.files1"
	fill_fs
	workload files "$TMP" # about 30 lines of 1 KB: more than the last page holds
	wait_for "$TMP/c.err" "writing JSON lines to $TMP/tiny/j.json failed: No space left on device" 20
	kill -0 "$pid" 2>/dev/null || fail "collect died on a full disk: $(tail -5 "$TMP/c.err")"
	rm "$TMP/tiny/filler"
	wait_until 20 tcp_in_json "$TMP/tiny/j.json"
	grep -qE "writing JSON lines to $TMP/tiny/j.json again; [1-9][0-9]* records were not written" \
		"$TMP/c.err" || fail "no line saying that writing resumed: $(tail -3 "$TMP/c.err")"
	one_episode c 3 "JSON lines"
	check '
js = json_lines(sys.argv[1]) # every line whole
w = info(sys.argv[2])
assert [j for j in js if j["proc.pid"] == w["pid"] and j["type"] == "FF"], "lines before the disk filled"
' "$TMP/tiny/j.json" "$TMP/wl.files1"
}

# A disk already full at start: exit 1 with the file and the reason, and
# no empty file left behind.
test_disk_full_at_start() {
	local rc=0
	tiny_fs
	fill_fs
	"$SYSFLOW" collect -w "$TMP/tiny/" >"$TMP/o" 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 1 "exit code on a full disk at start"
	grep -qE "cannot write SysFlow file $TMP/tiny/[0-9]+: No space left on device" "$TMP/e" ||
		fail "full disk at start: $(cat "$TMP/e")"
	assert_eq "$(ls "$TMP/tiny")" filler "files on the full disk"
}

# SIGINT while the collector is still loading its programs (it takes a
# second or more; its handler is in place once it names its output file):
# it exits once it can, instead of losing the signal.
test_sigint_during_start() {
	mkdir -p "$TMP/out"
	bg_start c "$SYSFLOW" collect -w "$TMP/out/"
	wait_for "$TMP/c.err" "writing SysFlow to" 60
	stop_collect c
	grep -q "Tracing processes" "$TMP/c.err" ||
		fail "stopped before it started, so nothing was tested: $(cat "$TMP/c.err")"
}

# --duration ends the run by itself (SIGALRM) as Ctrl-C would: exit 0 with
# the statistics of a clean stop, neither killed by the signal nor hung.
test_duration() {
	local rc=0
	timeout -k 5 90 "$SYSFLOW" collect -j -o "$TMP/d.json" --mode nofiles \
		--duration 1 --stats 2>"$TMP/d.err" || rc=$?
	assert_eq "$rc" 0 "exit code after --duration (124: still running)"
	grep -q "Tracing processes" "$TMP/d.err" || fail "never started: $(cat "$TMP/d.err")"
	grep -q "^syscalls [0-9]*, events sent" "$TMP/d.err" ||
		fail "no statistics at exit: $(tail -5 "$TMP/d.err")"
}

# `ip netns exec` gives the command a fresh /sys without tracefs: collect
# mounts it, as sysflow(8) says ("bpffs and tracefs, mounted on demand"),
# instead of failing to attach its syscall tracepoints.
test_mounts_tracefs() {
	local rc=0
	ns_add a
	timeout -k 5 90 ip netns exec "$(ns a)" sh -c \
		'! mountpoint -q /sys/kernel/tracing && exec "$@"' sh \
		"$SYSFLOW" collect -j -o "$TMP/t.json" --mode nofiles --duration 1 \
		>"$TMP/o" 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 0 "exit code without tracefs mounted: $(cat "$TMP/e")"
	grep -q "Tracing processes" "$TMP/e" || fail "never started: $(cat "$TMP/e")"
}

# -w DIR/ makes DIR when it is missing, as the examples expect
# (sysflow collect -w /var/lib/sysflow/ on a fresh machine).
test_write_new_dir() {
	local rc=0 dir=$TMP/new/sysflow/
	timeout -k 5 90 "$SYSFLOW" collect -w "$dir" --mode nofiles --duration 1 \
		>"$TMP/o" 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 0 "exit code with -w into a missing directory: $(cat "$TMP/e")"
	[ "$(find "$dir" -type f -name '[0-9]*' | wc -l)" -eq 1 ] ||
		fail "no SysFlow file in $dir: $(ls -la "$dir" 2>&1)"
}

test_errors() {
	local rc=0
	"$SYSFLOW" collect -w /proc/sysflow-no-such-dir/ >"$TMP/o" 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 1 "exit code for an unwritable path"
	grep -q "cannot create SysFlow file /proc/sysflow-no-such-dir/" "$TMP/e" ||
		fail "unwritable path: $(cat "$TMP/e")"
	grep -q "ErrorReadingFileSystem" "$TMP/e" || fail "no error code: $(cat "$TMP/e")"
	# a read-only directory, for Avro (-w) and JSON lines (-o)
	mkdir "$TMP/ro"
	mount -t tmpfs -o ro,size=16k sfc-ro "$TMP/ro"
	on_exit "umount '$TMP/ro'"
	rc=0
	"$SYSFLOW" collect -w "$TMP/ro/" --duration 5 >"$TMP/o" 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 1 "exit code for -w in a read-only directory"
	grep -qE "cannot create SysFlow file $TMP/ro/[0-9]+: Read-only file system" "$TMP/e" ||
		fail "-w read-only: $(cat "$TMP/e")"
	rc=0
	"$SYSFLOW" collect -j -o "$TMP/ro/x.json" --duration 5 >"$TMP/o" 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 1 "exit code for -o in a read-only directory"
	grep -q "cannot open the JSON output $TMP/ro/x.json: Read-only file system (ErrorReadingFileSystem)" "$TMP/e" ||
		fail "-o read-only: $(cat "$TMP/e")"
	rc=0
	"$SYSFLOW" collect -u "$TMP/nobody.sock" >"$TMP/o" 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 1 "exit code for a missing socket"
	grep -q "cannot connect to the SysFlow socket $TMP/nobody.sock" "$TMP/e" ||
		fail "missing socket: $(cat "$TMP/e")"
	rc=0 # with -w too: the socket is tried first, no directory is made
	"$SYSFLOW" collect -w "$TMP/sockless/" -u "$TMP/nobody.sock" >"$TMP/o" 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 1 "exit code for a missing socket with -w"
	[ ! -e "$TMP/sockless" ] || fail "-w directory made for a failed start"
	rc=0 # nor a JSON file (one that was there stays)
	touch "$TMP/was.json"
	"$SYSFLOW" collect -j -o "$TMP/new.json" -u "$TMP/nobody.sock" >"$TMP/o" 2>"$TMP/e" || rc=$?
	"$SYSFLOW" collect -j -o "$TMP/was.json" -u "$TMP/nobody.sock" >"$TMP/o" 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 1 "exit code for a missing socket with -o"
	[ ! -e "$TMP/new.json" ] || fail "-o file made for a failed start"
	[ -e "$TMP/was.json" ] || fail "-o file that was there removed"
	rc=0
	"$SYSFLOW" collect >"$TMP/o" 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 2 "exit code without an output"
	rc=0
	"$SYSFLOW" collect -j --node-ip 10.0.0 --duration 1 >"$TMP/o" 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 2 "exit code for a bad --node-ip"
	grep -q "invalid value '10.0.0' for --node-ip: not an IPv4 or IPv6 address" "$TMP/e" ||
		fail "node ip: $(cat "$TMP/e")"
	rc=0
	"$SYSFLOW" collect -j --buffer-size 5000 >"$TMP/o" 2>"$TMP/e" || rc=$?
	assert_eq "$rc" 2 "exit code for a bad buffer size (a usage error)"
	grep -q "invalid value '5000' for --buffer-size: not a power of two" "$TMP/e" ||
		fail "buffer size: $(cat "$TMP/e")"
}

# setpriv_nobody CAPS: the setpriv command line (in SETPRIV) that runs a
# command as uid 65534 holding only CAPS (+a,+b,...).
setpriv_nobody() {
	SETPRIV=(setpriv --inh-caps=-all,"$1" --ambient-caps="$1"
		--bounding-set=-all,"$1" --reuid=65534 --regid=65534
		--clear-groups)
}

# As uid 65534 with capabilities only: CAP_BPF and CAP_PERFMON are not
# enough (the tracepoints are found in tracefs, which only root can read),
# and the error says what is; with CAP_DAC_READ_SEARCH too it traces and
# says what CAP_SYS_PTRACE would add.
test_capabilities() {
	need_tools
	command -v setpriv >/dev/null || skip "setpriv missing"
	# LeakSanitizer cannot trace a process that gained capabilities
	export ASAN_OPTIONS=detect_leaks=0
	local rc=0 SETPRIV
	setpriv_nobody +bpf,+perfmon
	"${SETPRIV[@]}" "$SYSFLOW" collect -j --duration 5 >"$TMP/o" 2>"$TMP/e" ||
		rc=$?
	assert_eq "$rc" 1 "exit code with CAP_BPF and CAP_PERFMON only"
	grep -q "tracing needs CAP_DAC_READ_SEARCH too: the syscall tracepoints are found through /sys/kernel/tracing" \
		"$TMP/e" || fail "tracefs not named: $(cat "$TMP/e")"
	[ ! -s "$TMP/o" ] || fail "records without the capabilities"
	setpriv_nobody +bpf,+perfmon,+dac_read_search
	bg_start c "${SETPRIV[@]}" "$SYSFLOW" collect -j -f "$FILTER"
	wait_for "$TMP/c.err" "Tracing processes|error" 60
	workload exec
	stop_collect c
	grep -q "without CAP_SYS_PTRACE, processes of other users" "$TMP/c.err" ||
		fail "CAP_SYS_PTRACE not named: $(cat "$TMP/c.err")"
	check '
w = info(sys.argv[2])
ev = [j["opflags"] for j in json_lines(sys.argv[1]) if j["proc.pid"] == w["child"]]
assert ev[:2] == ["CLONE", "EXEC"] and ev[-1] == "EXIT", ev
' "$TMP/c.out" "$TMP/wl.exec"
}


# collect -j | head: when the reader of the only output leaves, collect
# stops at once, exits 0 and does not report the closed pipe as an error.
test_json_reader_gone() {
	local i rc=0 pid
	bg_start jr bash -c 'set -o pipefail; "$@" | true' bash "$SYSFLOW" collect -j --duration 120
	wait_for "$TMP/jr.err" "Tracing processes" 60
	pid=$(cat "$TMP/jr.pid")
	# records to write into the closed pipe, until collect stops (bounded)
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		exec_some 1
		sleep 0.1
	done
	bg_wait jr 30 || rc=$?
	assert_eq "$rc" 0 "exit code after the reader left"
	! grep -q "Broken pipe" "$TMP/jr.err" || fail "closed pipe reported: $(cat "$TMP/jr.err")"
	! grep -qE 'runtime error|Sanitizer' "$TMP/jr.err" || fail "sanitizer: $(cat "$TMP/jr.err")"
}

# examples/consumer.c: the library API with a callback, built and run.
test_consumer_example() {
	need_tools
	local bin=$REPO/$BUILD/examples/consumer
	if [ ! -x "$bin" ]; then
		bin=$TMP/consumer
		cc -O2 -Wall -I"$REPO/include" -o "$bin" "$REPO/examples/consumer.c" \
			"$REPO/$BUILD/libsysflow.a" $(pkg-config --libs libbpf libxdp \
			jansson libpcap avro-c libssl libcrypto) -lelf -lz -lm ||
			fail "cannot build examples/consumer.c"
	fi
	bg_start ex "$bin" collect_workload
	wait_for "$TMP/ex.err" "consumer: collecting" 60
	workload tcp
	workload exec
	bg_stop ex INT || fail "consumer exited $?: $(cat "$TMP/ex.err")"
	grep -qE "^NF pid=[0-9]+ .*127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:[0-9]+ .*wbytes=1000" \
		"$TMP/ex.out" || fail "no network flow: $(head -20 "$TMP/ex.out")"
	grep -qE "^PE pid=[0-9]+ .*EXEC" "$TMP/ex.out" || fail "no exec event"
	grep -qE "^records: [1-9]" "$TMP/ex.out" || fail "no summary: $(tail -3 "$TMP/ex.out")"
}

run_tests "$@"
