"""Packet-level helpers for Ringlet's black-box tests: capture loopback traffic
with tshark, read the SIP messages back from the capture (parsed here, from
the raw UDP/TCP payloads, so the checks do not depend on tshark's dissectors),
run a dnsmasq on a loopback port and ask it questions.

Everything stays on 127.0.0.1; every wait is bounded; whoever starts a
Capture or a Dnsmasq stops it (both are context managers).
"""
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

TSHARK = "tshark"
DNSMASQ = "/usr/sbin/dnsmasq"


def _stop(proc, sig=signal.SIGINT, timeout=5.0):
    """Stop a child we started: sig, then SIGKILL after timeout.  Returns its status."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


class Capture:
    """tshark writing every packet matching a BPF filter on one interface to a
    pcapng file; started when the constructor returns (tshark said "Capturing
    on"), stopped by stop() (SIGINT: tshark flushes the file)."""

    def __init__(self, bpf, iface="lo", timeout=10.0):
        self.dir = tempfile.mkdtemp(prefix="captest-")
        self.path = os.path.join(self.dir, "cap.pcapng")
        self.errpath = os.path.join(self.dir, "tshark.err")
        self.bpf = bpf
        self.err = open(self.errpath, "wb")
        self.proc = subprocess.Popen([TSHARK, "-i", iface, "-f", bpf, "-w", self.path, "-q"],
                                     stdout=subprocess.DEVNULL, stderr=self.err)
        deadline = time.monotonic() + timeout
        while b"Capturing on" not in self._errtext():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                msg = self._errtext().decode("utf-8", "replace")
                self.stop()
                raise RuntimeError("tshark did not start capturing on %s: %s" % (iface, msg))
            time.sleep(0.05)

    def _errtext(self):
        try:
            with open(self.errpath, "rb") as f:
                return f.read()
        except OSError:
            return b""

    def stop(self, settle=0.3):
        """Let the last packets in (settle seconds), stop tshark; returns its status."""
        if self.proc.poll() is None:
            time.sleep(settle)
        rc = _stop(self.proc)
        if not self.err.closed:
            self.err.close()
        return rc

    def remove(self):
        """Delete the capture file and its directory (after stop)."""
        shutil.rmtree(self.dir, ignore_errors=True)

    def frames(self):
        """The captured frames, in order (see read_frames)."""
        return read_frames(self.path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop(settle=0)


class Frame:
    """One captured IPv4/IPv6 UDP or TCP packet."""

    def __init__(self, no, t, proto, src, dst, payload, syn=False):
        self.no, self.t, self.proto = no, t, proto
        self.src, self.dst = src, dst  # (ip, port)
        self.payload, self.syn = payload, syn

    def __repr__(self):
        return "#%d %s %s:%d->%s:%d %dB" % (self.no, self.proto, self.src[0], self.src[1],
                                            self.dst[0], self.dst[1], len(self.payload))


_FIELDS = ["frame.number", "frame.time_relative", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
           "udp.srcport", "udp.dstport", "tcp.srcport", "tcp.dstport", "udp.payload",
           "tcp.payload", "tcp.flags.syn"]


def read_frames(path, timeout=30):
    """Every UDP/TCP frame of a capture file (first occurrence of each field,
    so an ICMP error quoting a UDP header is not mistaken for UDP)."""
    cmd = [TSHARK, "-r", path, "-n", "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=f"]
    for f in _FIELDS:
        cmd += ["-e", f]
    p = subprocess.run(cmd, capture_output=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("tshark -r %s: %s" % (path, p.stderr.decode("utf-8", "replace")))
    out = []
    for line in p.stdout.decode("ascii", "replace").splitlines():
        v = dict(zip(_FIELDS, line.split("\t")))
        ips = (v.get("ip.src") or v.get("ipv6.src"), v.get("ip.dst") or v.get("ipv6.dst"))
        if v.get("udp.srcport"):
            proto, sp, dp, pl = "UDP", v["udp.srcport"], v["udp.dstport"], v["udp.payload"]
        elif v.get("tcp.srcport"):
            proto, sp, dp, pl = "TCP", v["tcp.srcport"], v["tcp.dstport"], v["tcp.payload"]
        else:
            continue
        syn = v.get("tcp.flags.syn") in ("1", "True")
        out.append(Frame(int(v["frame.number"]), float(v["frame.time_relative"] or 0), proto,
                         (ips[0], int(sp)), (ips[1], int(dp)),
                         bytes.fromhex(pl.replace(":", "")) if pl else b"", syn))
    return out


# --- SIP messages ---------------------------------------------------------

COMPACT = {"v": "via", "i": "call-id", "f": "from", "t": "to", "m": "contact",
           "l": "content-length", "c": "content-type", "e": "content-encoding",
           "k": "supported", "s": "subject", "o": "event", "u": "allow-events",
           "r": "refer-to", "b": "referred-by", "x": "session-expires", "a": "accept-contact",
           "j": "reject-contact", "d": "request-disposition", "y": "identity",
           "n": "identity-info"}

# headers whose values are comma-separated lists (RFC 3261 §7.3.1)
LISTS = {"via", "route", "record-route", "contact", "allow", "supported", "require",
         "proxy-require", "unsupported"}


def split_list(value):
    """Split a header value at commas outside quotes and <...>."""
    out, cur, quote, angle, esc = [], [], False, False, False
    for ch in value:
        if esc:
            esc = False
        elif quote and ch == "\\":
            esc = True
        elif ch == '"':
            quote = not quote
        elif not quote and ch == "<":
            angle = True
        elif not quote and ch == ">":
            angle = False
        elif ch == "," and not quote and not angle:
            out.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    out.append("".join(cur).strip())
    return [x for x in out if x]


class SipMsg:
    """One SIP message as captured: start line, headers in order (names
    lower-case, compact forms expanded, folded lines joined), body."""

    def __init__(self, raw, frame=None):
        self.raw = raw
        self.frame = frame
        self.proto = frame.proto if frame else None
        self.src = frame.src if frame else None
        self.dst = frame.dst if frame else None
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("utf-8", "replace").split("\r\n")
        self.first = lines[0]
        self.headers = []
        for l in lines[1:]:
            if l[:1] in (" ", "\t") and self.headers:
                n, v = self.headers[-1]
                self.headers[-1] = (n, v + " " + l.strip())
                continue
            name, _, val = l.partition(":")
            name = name.strip().lower()
            self.headers.append((COMPACT.get(name, name), val.strip()))
        parts = self.first.split(" ", 2)
        self.is_request = not self.first.startswith("SIP/")
        self.method = parts[0] if self.is_request else None
        self.ruri = parts[1] if self.is_request and len(parts) > 1 else None
        self.status = None
        if not self.is_request and len(parts) > 1 and parts[1].isdigit():
            self.status = int(parts[1])

    def all(self, name):
        """Every value of header `name`, list headers split into their elements."""
        name = name.lower()
        vals = [v for n, v in self.headers if n == name]
        if name in LISTS:
            return [e for v in vals for e in split_list(v)]
        return vals

    def get(self, name):
        v = self.all(name)
        return v[0] if v else None

    def cseq(self):
        """(number, method) of CSeq, or (None, None)."""
        p = (self.get("cseq") or "").split()
        return (int(p[0]), p[1]) if len(p) == 2 and p[0].isdigit() else (None, None)

    def call_id(self):
        return self.get("call-id")

    def kind(self):
        """'INVITE', 'ACK', ... or '180 INVITE', '200 BYE' for responses."""
        return self.method if self.is_request else "%s %s" % (self.status, self.cseq()[1])

    def __repr__(self):
        f = ("#%d %s:%d->%s:%d " % (self.frame.no, self.src[0], self.src[1], self.dst[0],
                                     self.dst[1])) if self.frame else ""
        return "<%s%s>" % (f, self.first)


def via_param(via, name):
    """The value of parameter `name` of one Via value ('' when it has no
    value, None when absent)."""
    for p in via.split(";")[1:]:
        k, eq, v = p.partition("=")
        if k.strip().lower() == name:
            return v.strip() if eq else ""
    return None


def via_sent_by(via):
    """'SIP/2.0/UDP 127.0.0.1:5060;branch=..' -> ('UDP', '127.0.0.1:5060')."""
    proto, _, rest = via.partition(" ")
    return proto.rsplit("/", 1)[-1].upper(), rest.split(";")[0].strip()


def _split_stream(data):
    """Complete SIP messages at the front of a byte stream (RFC 3261 §18.3:
    Content-Length frames them) and the rest; CRLF keep-alives skipped."""
    msgs = []
    while True:
        data = data.lstrip(b"\r\n")
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return msgs, data
        clen = 0
        for l in data[:end].split(b"\r\n")[1:]:
            n, _, v = l.partition(b":")
            if n.strip().lower() in (b"content-length", b"l"):
                try:
                    clen = int(v.strip())
                except ValueError:
                    clen = 0
        total = end + 4 + clen
        if len(data) < total:
            return msgs, data
        msgs.append(data[:total])
        data = data[total:]


def sip_messages(frames):
    """The SIP messages in captured frames, in capture order: one per UDP
    datagram (keep-alives and non-SIP skipped), TCP streams reassembled per
    direction (each message tagged with the frame that completed it)."""
    out, streams = [], {}
    for f in frames:
        if not f.payload:
            continue
        if f.proto == "UDP":
            if f.payload.strip(b"\r\n") and (b"SIP/2.0" in f.payload.split(b"\r\n", 1)[0]):
                out.append(SipMsg(f.payload, f))
            continue
        key = (f.src, f.dst)
        buf = streams.get(key, b"") + f.payload
        msgs, rest = _split_stream(buf)
        streams[key] = rest
        out += [SipMsg(m, f) for m in msgs]
    return out


# --- DNS ------------------------------------------------------------------

QTYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "TXT": 16, "AAAA": 28,
          "SRV": 33, "NAPTR": 35, "ANY": 255}
QNAMES = {v: k for k, v in QTYPES.items()}


def _name(buf, off, depth=0):
    """A (possibly compressed) domain name at off: (name, offset after it)."""
    labels, end = [], None
    for _ in range(128):
        if off >= len(buf):
            raise ValueError("name past the end")
        n = buf[off]
        if n & 0xC0 == 0xC0:
            if depth > 10 or off + 1 >= len(buf):
                raise ValueError("bad pointer")
            ptr = ((n & 0x3F) << 8) | buf[off + 1]
            end = off + 2 if end is None else end
            rest, _ = _name(buf, ptr, depth + 1)
            return ".".join(labels + ([rest] if rest else [])), end
        if n == 0:
            return ".".join(labels), (off + 1 if end is None else end)
        labels.append(buf[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    raise ValueError("name too long")


def dns_query_msg(name, qtype, qid=None):
    qid = random.getrandbits(16) if qid is None else qid
    q = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack(">HH",
                                                                             QTYPES[qtype], 1)


def dns_parse(buf):
    """A DNS message: dict(id, response, rcode, qname, qtype, answers), answers
    as (type, data) with data decoded for A, AAAA, SRV, NAPTR.  ValueError
    when it is not one."""
    if len(buf) < 12:
        raise ValueError("short")
    qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", buf[:12])
    off, qname, qtype = 12, None, None
    for _ in range(qd):
        qname, off = _name(buf, off)
        qtype = QNAMES.get(struct.unpack(">H", buf[off:off + 2])[0], "?")
        off += 4
    answers = []
    for _ in range(an):
        rname, off = _name(buf, off)
        t, _cls, _ttl, rdlen = struct.unpack(">HHIH", buf[off:off + 10])
        off += 10
        rd = buf[off:off + rdlen]
        data = rd
        if t == 1 and rdlen == 4:
            data = socket.inet_ntop(socket.AF_INET, rd)
        elif t == 28 and rdlen == 16:
            data = socket.inet_ntop(socket.AF_INET6, rd)
        elif t == 33:
            pri, w, port = struct.unpack(">HHH", rd[:6])
            data = (pri, w, port, _name(buf, off + 6)[0])
        elif t == 35:
            order, pref = struct.unpack(">HH", rd[:4])
            p, strs = 4, []
            for _ in range(3):
                ln = rd[p]
                strs.append(rd[p + 1:p + 1 + ln].decode("ascii", "replace"))
                p += 1 + ln
            data = (order, pref, strs[0], strs[1], strs[2], _name(buf, off + p)[0])
        answers.append((QNAMES.get(t, str(t)), rname, data))
        off += rdlen
    return {"id": qid, "response": bool(flags & 0x8000), "rcode": flags & 0xF, "qname": qname,
            "qtype": qtype, "answers": answers}


def dns_query(port, name, qtype, timeout=2.0, host="127.0.0.1"):
    """Ask the DNS server at host:port (UDP); the parsed answer or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", 0))
        s.settimeout(timeout)
        q = dns_query_msg(name, qtype)
        s.sendto(q, (host, port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                r = s.recv(65536)
            except socket.timeout:
                return None
            if r[:2] == q[:2]:
                return dns_parse(r)
        return None
    finally:
        s.close()


class Dnsmasq:
    """dnsmasq answering only its own records on 127.0.0.1:port (no upstream,
    no hosts file, no config file), in the foreground; ready when it answers."""

    def __init__(self, records, port=None, timeout=10.0):
        from rtest import free_port
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="dnsmasq-")
        self.log = os.path.join(self.dir, "dnsmasq.log")
        self.cmd = [DNSMASQ, "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
                    "--bind-interfaces", "--listen-address=127.0.0.1", "--port=%d" % self.port,
                    "-k", "--pid-file=" + os.path.join(self.dir, "pid"), "--user=root",
                    "--log-queries", "--log-facility=" + self.log] + list(records)
        self.out = open(os.path.join(self.dir, "out"), "wb")
        self.proc = subprocess.Popen(self.cmd, stdout=self.out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = self.tail()
                self.stop()
                raise RuntimeError("dnsmasq did not start: %s" % tail)
            if dns_query(self.port, "ready.invalid", "A", timeout=0.2):
                return

    def tail(self, n=2000):
        text = b""
        for p in (os.path.join(self.dir, "out"), self.log):
            try:
                with open(p, "rb") as f:
                    text += f.read()[-n:]
            except OSError:
                pass
        return text.decode("utf-8", "replace")

    def stop(self):
        rc = _stop(self.proc, signal.SIGTERM)
        if not self.out.closed:
            self.out.close()
            shutil.rmtree(self.dir, ignore_errors=True)
        return rc

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
