# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""sfp_peer.py: a raw SysFlow protocol peer for the guard tests.

The Python snippets of tests/netns/test_guard_*.sh play controller or agent
against the real `sysflow agent` and `sysflow controller` with this module:
the 12-byte framing, a receive with a deadline, and the encoders and decoders
of the bodies the tests send and check. It speaks version 1 of the protocol
as docs/protocol.md describes it (the C side: lib/proto/, numbers in
include/sysflow/proto.h). It sends what it is told, any version, type,
length or xid, so a script can send malformed input on purpose; what it
receives must be framed (a length below 12 raises). guard_lib.sh puts this
directory on PYTHONPATH. With SFP_PEER_RECORD=DIR set, each peer also
appends what it sends to DIR/to-agent-PID-FD (when it plays the controller)
or DIR/to-controller-PID-FD: the seeds of the fuzz targets.
"""
import collections
import enum
import os
import socket
import struct
import time

# Mirrors include/sysflow/proto.h (test_guard_proto.sh test_peer_constants
# compares the two).
VERSION = 1  # SFP_VERSION
VERSIONS_SUPPORTED = 1 << 1  # SFP_VERSIONS_SUPPORTED: bit n speaks version n
HEADER_LEN = 12  # SFP_HEADER_LEN
HELLO_VERDICT = 1 << 0  # SFP_HELLO_VERDICT: HELLO feature bit 0


class Type(enum.IntEnum):
    """Message types: enum sfp_type."""
    HELLO = 0
    FEATURES_REQUEST = 1
    FEATURES_REPLY = 2
    FLOW_MOD = 3
    FLOW_STATS_REQUEST = 4
    FLOW_STATS_REPLY = 5
    ECHO_REQUEST = 6
    ECHO_REPLY = 7
    ACTION_REPORT = 8
    ERROR = 9
    FLOW_REMOVED = 10
    BARRIER_REQUEST = 11
    BARRIER_REPLY = 12
    EVENT_IN = 13
    SET_CONFIG = 14
    VERDICT = 15


def type_name(mtype):
    """The type's name, or its number when it has none."""
    try:
        return Type(mtype).name
    except ValueError:
        return str(mtype)


# enum sf_op, the ones the tests name
OP_CONNECT = 19  # SF_OP_SOCKET_CONNECT

# enum sf_miss: SET_CONFIG's per-class miss policy
MISS_ALLOW, MISS_DENY, MISS_ASK = 0, 1, 2  # SF_MISS_*

# enum sfp_event_reason: EVENT_IN's reason
EV_MISS, EV_ACTION, EV_HELD = 0, 1, 2  # SFP_EV_*

# ERROR: a type and code, then the offending message's first bytes
ET_CONFIG_FAILED, EC_BAD_CONFIG = 5, 0  # SFP_ET_*, SFP_EC_*
ERROR_DATA = 64  # SFP_ERROR_DATA

_HEADER = struct.Struct(">BBHII")  # version, type, reserved, length, xid

Msg = collections.namedtuple("Msg", "type body xid")
Error = collections.namedtuple("Error", "type code data")
Features = collections.namedtuple(
    "Features", "host_id hostname release cores max_rules rules fail_mode "
    "miss ops")
Event = collections.namedtuple(
    "Event", "cookie op verdict action reason pid uid time exe obj text "
    "hold_id")


def encode_msg(mtype, body=b"", xid=1, version=VERSION, length=None):
    """One message: header, then body. length overrides the header's length
    field (the bytes sent stay header and body), for malformed input."""
    n = HEADER_LEN + len(body) if length is None else length
    return _HEADER.pack(version, mtype, 0, n, xid) + body


def encode_hello(versions=VERSIONS_SUPPORTED, features=None):
    """HELLO body: the versions bitmap, then the feature bits if given."""
    body = struct.pack(">I", versions)
    return body if features is None else body + struct.pack(">I", features)


def decode_hello(body):
    """(versions, features); a 4-byte HELLO has feature bits 0."""
    versions = struct.unpack(">I", body[:4])[0]
    features = struct.unpack(">I", body[4:8])[0] if len(body) >= 8 else 0
    return versions, features


def decode_error(body):
    """Error(type, code, data): data is the offending message's start."""
    etype, code = struct.unpack(">HH", body[:4])
    return Error(etype, code, body[4:])


def encode_error(etype, code, offending):
    """An ERROR body about the message whose bytes are offending."""
    return struct.pack(">HH", etype, code) + offending[:ERROR_DATA]


def _text(raw):
    return raw.rstrip(b"\0").decode()


def decode_features(body):
    """The FEATURES_REPLY body; ops is [(op, mechanism, actions bitmap)]."""
    cores, max_rules, rules, fail_mode = struct.unpack(">IIIB", body[144:157])
    n = body[161]
    ops = [struct.unpack(">BBHI", body[164 + 8 * i:172 + 8 * i])
           for i in range(n)]
    return Features(body[:16], _text(body[16:80]), _text(body[80:144]),
                    cores, max_rules, rules, fail_mode, list(body[157:161]),
                    [(op, mech, bits) for op, mech, _, bits in ops])


def encode_features(host_id, hostname="peer", miss=(0, 0, 0, 0)):
    """A FEATURES_REPLY body with no operations; miss: one byte a class."""
    return (host_id + hostname.encode().ljust(64, b"\0") +
            b"6.18".ljust(64, b"\0") + struct.pack(">IIIB", 1, 64, 0, 0) +
            bytes(miss) + b"\0\0\0")


def encode_held_event(hold_id, exe="/bin/cat", obj="/srv/a"):
    """An EVENT_IN body: a file open by pid 42 held (EV_HELD) as hold_id."""
    body = struct.pack(">QBBHIIIQ", 0, 1, 0, 0, EV_HELD, 42, 0, 1)
    for text in (exe.encode(), obj.encode(), b""):
        body += struct.pack(">H", len(text)) + text
    return body + struct.pack(">I", hold_id)


def decode_event(body):
    """An EVENT_IN or ACTION_REPORT body; hold_id is 0 unless EV_HELD."""
    head = struct.unpack(">QBBHIIIQ", body[:32])
    texts, off = [], 32
    for _ in range(3):
        n = struct.unpack(">H", body[off:off + 2])[0]
        texts.append(body[off + 2:off + 2 + n].decode())
        off += 2 + n
    hold_id = 0
    if head[4] == EV_HELD:
        hold_id = struct.unpack(">I", body[off:off + 4])[0]
    return Event(*head, *texts, hold_id)


def encode_match(op, tlvs=()):
    """A match: op, then (field, value bytes) TLVs in the order given."""
    body = b"".join(struct.pack(">HH", f, len(v)) + v for f, v in tlvs)
    return struct.pack(">HBB", 4 + len(body), op, 0) + body


def encode_action(atype, arg=None):
    """An action: 4 bytes, or 8 with an argument."""
    if arg is None:
        return struct.pack(">HH", atype, 4)
    return struct.pack(">HHI", atype, 8, arg)


def encode_flow_mod(match, actions, command=0, flags=0, priority=100,
                    idle=0, hard=0, cookie=0, cookie_mask=0):
    """FLOW_MOD body from an encoded match and a list of encoded actions."""
    head = struct.pack(">BBHHHHHQQ", command, 0, flags, priority, idle, hard,
                       len(actions), cookie, cookie_mask)
    return head + match + b"".join(actions)


def encode_set_config(file=MISS_ALLOW, sock=MISS_ALLOW, ipc=MISS_ALLOW,
                      inode=MISS_ALLOW):
    """SET_CONFIG body: the miss policy of each class."""
    return bytes([file, sock, ipc, inode])


class Peer:
    """One end of a session over a connected socket. eof turns True when
    the other side closes; a reset or a length below 12 raises."""

    def __init__(self, sock, role="peer"):
        self.sock = sock
        self.buf = b""
        self.eof = False
        self.record = None
        rec = os.environ.get("SFP_PEER_RECORD")
        if rec:  # seeds for tests/fuzz (docs/testing.md)
            os.makedirs(rec, exist_ok=True)
            self.record = open(os.path.join(rec, "%s-%d-%d" % (
                role, os.getpid(), sock.fileno())), "ab")

    def send_raw(self, data):
        if self.record:
            self.record.write(data)
            self.record.flush()
        self.sock.sendall(data)

    def send_msg(self, mtype, body=b"", xid=1, version=VERSION, length=None):
        self.send_raw(encode_msg(mtype, body, xid, version, length))

    def _cut(self):
        if len(self.buf) < HEADER_LEN:
            return None
        _, mtype, _, n, xid = _HEADER.unpack(self.buf[:HEADER_LEN])
        if n < HEADER_LEN:
            raise ValueError("message of type %d with length %d < %d"
                             % (mtype, n, HEADER_LEN))
        if len(self.buf) < n:
            return None
        body, self.buf = self.buf[HEADER_LEN:n], self.buf[n:]
        return Msg(mtype, body, xid)

    def recv_msg(self, timeout=None):
        """The next Msg(type, body, xid), or None once timeout seconds have
        passed (None: no limit) or the peer has closed (then eof is set)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            m = self._cut()
            if m is not None or self.eof:
                return m
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not data:
                self.eof = True
            self.buf += data

    def messages(self, secs=None, until=()):
        """Yield each Msg for up to secs seconds (None: no limit) until EOF
        or a message whose type is in until (which is yielded too)."""
        deadline = None if secs is None else time.monotonic() + secs
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return
            m = self.recv_msg(left)
            if m is None:
                return
            yield m
            if m.type in until:
                return


def connect(port, host="127.0.0.1"):
    """A Peer connected to host:port over TCP."""
    return Peer(socket.create_connection((host, port)), "to-controller")


def listen(port, host="127.0.0.1"):
    """A listening TCP socket on host:port (SO_REUSEADDR)."""
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((host, port))
    lsock.listen(1)
    return lsock


def accept(lsock):
    """A Peer on the next connection to lsock."""
    sock, _ = lsock.accept()
    return Peer(sock, "to-agent")
