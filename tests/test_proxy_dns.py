#!/usr/bin/env python3
"""RFC 3263 next-hop resolution in ringletd's proxy, black box.

A dnsmasq of the test's own (captest.Dnsmasq, on a loopback port) serves

    NAPTR biloxi.example        10 10 "S" "SIP+D2U" -> _sip._udp.biloxi.example
    SRV   _sip._udp.biloxi.example  priority 10 -> a.biloxi.example:PA
                                    priority 20 -> b.biloxi.example:PB
    A     a.biloxi.example, b.biloxi.example, proxy.biloxi.example,
          gw.biloxi.example = 127.0.0.1
    nothing else under example. (NXDOMAIN)

and ringletd runs with --dns 127.0.0.1:N, -d atlanta.example, --trust
127.0.0.0/8 (the test may relay to foreign domains), --auth off and --t1 50,
so Timer B and Timer F (64*T1) fire after 3.2 s.  A and B are UDP servers of
the test (threads) answering each request as its Call-ID's plan says: a code,
or nothing at all.  The test's callers are plain UDP sockets; every request
has a Call-ID of its own, so the flows run in parallel.

  1. failover between SRV targets (RFC 3263 §4.3), MESSAGE and INVITE:
     a. A answers 503: the proxy tries B at once with a new transaction (a
        new Via branch), the caller gets B's answer and never the 503; A got
        the request once (and, for INVITE, its hop-by-hop ACK, §17.1.1.3);
     b. A is silent: after Timer F / Timer B (64*T1) the proxy tries B;
     c. both fail: 503+503 gives 500 (§16.7 item 6: a 503 chosen becomes
        500), silent+silent 408 (§16.7 item 6 / §16.8: a timeout counts as a
        408); a 503 then a timeout 408, a timeout then a 503 500 (the
        branch's final response is the last server's, RFC 3263 §4.3);
     d. denver.example: NAPTR SIP+D2T, SRV priority 10 a TCP port nobody
        listens on, priority 20 a TCP server of the test (BT): the refused
        connection is a transport error (§16.9: as a 503), BT is tried at once;
     e. columbus.example: the same over UDP: the datagrams to the closed port
        go unanswered; B gets the request after Timer F (the ICMP port
        unreachable is not noticed: a note, not a check -- §18.4 SHOULD).
  2. no records (NXDOMAIN for nowhere.example): 502 (§21.5.3); a DNS server
     that never answers (a silent socket as --dns): 504 (§21.5.5) after the
     resolver's deadline (2 tries of 2 s); an INVITE CANCELled while the
     resolution runs: 200 for the CANCEL and 487 for the INVITE at once
     (§16.10), and nothing later (no 504 when the resolver would have
     given up).
  3. --dns off and no --route for the domain: 403, and no DNS packet.
  4. a pre-loaded Route naming a host name (Route: <sip:proxy.biloxi.example:PB;lr>)
     in a request for a foreign domain: the proxy resolves the Route's host
     (A, as §4.2 says for a URI with a port: no NAPTR/SRV), not the
     Request-URI's, and forwards with the Request-URI and the Route as they
     were (§16.6 item 7, §16.12); a Route <sip:biloxi.example;lr> (no port)
     takes the full §4 procedure (NAPTR, SRV: A, priority 10, gets it); one
     whose host has no NAPTR/SRV falls back to A and port 5060 (checked only
     when 127.0.0.1:5060 is free).

tshark watches the DNS: every query about *.example goes to the test's
dnsmasq (or, in 2, the silent socket), none to port 53 on any interface.
Everything stays on 127.0.0.1; every wait is bounded; everything started
here is stopped on the way out (an ExitStack), whatever happens.
"""
import contextlib
import os
import random
import shutil
import socket
import struct
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import captest  # noqa: E402
import rtest  # noqa: E402

LO = "127.0.0.1"
ATL, BIL = "atlanta.example", "biloxi.example"
NX = "nowhere.example"     # no record at all: NXDOMAIN
OFF = "nodns.example"      # asked of the --dns off server only: must never be looked up
FOREIGN = "chicago.example"  # a Request-URI host the Route overrides: must never be looked up
DENVER = "denver.example"    # NAPTR SIP+D2T: SRV priority 10 a TCP port with no listener, 20 BT
COLUMBUS = "columbus.example"  # NAPTR SIP+D2U: SRV priority 10 a UDP port with no listener, 20 B
T1_MS = 50
TIMER_BF = 64 * T1_MS / 1000.0  # Timer B (INVITE) and Timer F (non-INVITE), §17.1
LOGDIRS = []  # ringletd log directories, removed when every check passed
REASONS = {200: "OK", 486: "Busy Here", 503: "Service Unavailable", 404: "Not Found"}


# --- the test's SIP servers ---------------------------------------------------------------

class Udp(threading.Thread):
    """A UDP socket on 127.0.0.1 (port 0: any) recording every datagram
    (monotonic time, source, bytes) until stop()."""

    def __init__(self, name, port=0):
        super().__init__(daemon=True)
        self.name_ = name
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LO, port))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.got = []
        self.lock = threading.Lock()
        self.halt = threading.Event()
        self.start()

    def run(self):
        while not self.halt.is_set():
            try:
                data, src = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.got.append((time.monotonic(), src, data))
            self.on_datagram(data, src)

    def on_datagram(self, data, src):
        pass

    def count(self):
        with self.lock:
            return len(self.got)

    def stop(self):
        self.halt.set()
        self.join(2)
        self.sock.close()


class Answers:
    """What the test's SIP servers share: plan (Call-ID -> a status code, or
    None: silent), the requests they got (self.got, under self.lock) and the
    response they make: Via, From, To (a tag added), Call-ID and CSeq copied
    (§8.2.6.2), the reason phrase tagged with the server's name, so the
    caller can tell whose answer it got."""

    def answer(self, data):
        """(the request as a SipMsg, the response's bytes or None)."""
        m = captest.SipMsg(data)
        if not m.is_request or m.method == "ACK":
            return m, None
        code = self.plan.get(m.call_id())
        if code is None:
            return m, None
        to = m.get("to") or ""
        if ";tag=" not in to:
            to += ";tag=%s-%x" % (self.name_, random.getrandbits(32))
        out = ["SIP/2.0 %d %s (%s)" % (code, REASONS.get(code, "Whatever"), self.name_)]
        out += ["Via: " + v for n, v in m.headers if n == "via"]
        out += ["From: " + (m.get("from") or ""), "To: " + to, "Call-ID: " + m.call_id(),
                "CSeq: " + (m.get("cseq") or ""), "Server: dns-test-" + self.name_,
                "Content-Length: 0", "", ""]
        return m, "\r\n".join(out).encode()

    def requests(self, cid, method=None):
        """(time, SipMsg) of every request of Call-ID cid received (method: only those)."""
        with self.lock:
            got = list(self.got)
        out = []
        for t, _, data in got:
            m = captest.SipMsg(data)
            if m.is_request and m.call_id() == cid and (method is None or m.method == method):
                out.append((t, m))
        return out


class Uas(Answers, Udp):
    """A SIP server over UDP; responses go to the top Via's sent-by
    (received/rport when present, §18.2.2)."""

    def __init__(self, name, port=0):
        self.plan = {}
        Udp.__init__(self, name, port)

    def on_datagram(self, data, src):
        m, out = self.answer(data)
        if out is None:
            return
        top = m.all("via")[0]
        _, sent_by = captest.via_sent_by(top)
        host, _, port = sent_by.rpartition(":")
        host = captest.via_param(top, "received") or host
        port = captest.via_param(top, "rport") or port
        self.sock.sendto(out, (host, int(port)))


class TcpUas(Answers, threading.Thread):
    """A SIP server over TCP on 127.0.0.1: messages framed by Content-Length
    (§18.3), responses on the connection the request came on (§18.2.2)."""

    def __init__(self, name):
        super().__init__(daemon=True)
        self.name_, self.plan, self.got, self.conns = name, {}, [], []
        self.lock = threading.Lock()
        self.halt = threading.Event()
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((LO, 0))
        self.lsock.listen(8)
        self.lsock.settimeout(0.05)
        self.port = self.lsock.getsockname()[1]
        self.start()

    def run(self):
        while not self.halt.is_set():
            try:
                conn, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(0.05)
            with self.lock:
                self.conns.append(conn)
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        buf = b""
        while not self.halt.is_set():
            try:
                data = conn.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data:
                return
            msgs, buf = captest._split_stream(buf + data)
            for raw in msgs:
                with self.lock:
                    self.got.append((time.monotonic(), None, raw))
                _, out = self.answer(raw)
                if out is not None:
                    conn.sendall(out)

    def stop(self):
        self.halt.set()
        self.join(2)
        self.lsock.close()
        with self.lock:
            for conn in self.conns:
                conn.close()


# --- the test's callers -------------------------------------------------------------------

class Flow:
    """One request sent to ringletd from a socket of its own, and every
    response that came back (time since the request, SipMsg)."""

    def __init__(self, label, method, ruri, route=None):
        self.label, self.method, self.ruri, self.route = label, method, ruri, route
        self.cid = "dns-%x@%s" % (random.getrandbits(48), LO)
        self.branch = "z9hG4bK-dns-%x" % random.getrandbits(48)
        self.ftag = "%x" % random.getrandbits(32)
        self.resp = []
        self.acks = 0
        self.cancel_at = None
        self.error = None

    def request(self, lport, method=None, to=None, cseq_method=None):
        method = method or self.method
        body = "watson, come here." if method == "MESSAGE" else ""
        lines = ["%s %s SIP/2.0" % (method, self.ruri),
                 "Via: SIP/2.0/UDP %s:%d;branch=%s;rport" % (LO, lport, self.branch),
                 "Max-Forwards: 70"]
        if self.route:
            lines.append("Route: " + self.route)
        lines += ["From: <sip:alice@%s>;tag=%s" % (ATL, self.ftag),
                  "To: " + (to or "<%s>" % self.ruri), "Call-ID: " + self.cid,
                  "CSeq: 1 " + (cseq_method or method)]
        if method == "INVITE":
            lines.append("Contact: <sip:alice@%s:%d>" % (LO, lport))
        if body:
            lines.append("Content-Type: text/plain")
        lines += ["Content-Length: %d" % len(body), "", body]
        return "\r\n".join(lines).encode()

    def run(self, port, timeout=10.0, linger=0.5, cancel_after=None, until=None):
        """Send the request to 127.0.0.1:port; collect responses until linger
        seconds after the first final one (or until `until` seconds after the
        request, if later), at most timeout seconds; ACK every non-2xx final
        of an INVITE (§17.1.1.3); CANCEL after cancel_after seconds (§9.1)."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((LO, 0))
            lport = s.getsockname()[1]
            t0 = time.monotonic()
            s.sendto(self.request(lport), (LO, port))
            final = None
            while True:
                now = time.monotonic() - t0
                end = timeout
                if final is not None:
                    end = min(timeout, max(final + linger, until or 0))
                if now >= end:
                    break
                if cancel_after is not None and self.cancel_at is None and now >= cancel_after:
                    s.sendto(self.request(lport, "CANCEL"), (LO, port))
                    self.cancel_at = now
                wake = end if cancel_after is None or self.cancel_at is not None \
                    else min(end, cancel_after)
                s.settimeout(max(0.005, wake - now))
                try:
                    data = s.recv(65536)
                except socket.timeout:
                    continue
                m = captest.SipMsg(data)
                self.resp.append((time.monotonic() - t0, m))
                if m.status is None or m.status < 200 or m.cseq()[1] != self.method:
                    continue
                if final is None:
                    final = time.monotonic() - t0
                if self.method == "INVITE" and m.status >= 300:
                    s.sendto(self.request(lport, "ACK", to=m.get("to")), (LO, port))
                    self.acks += 1
        finally:
            s.close()

    def finals(self, method=None):
        """(time, status, reason phrase) of every final response to method (default: ours)."""
        method = method or self.method
        return [(t, m.status, m.first.split(" ", 2)[2] if m.first.count(" ") >= 2 else "")
                for t, m in self.resp if m.status and m.status >= 200 and m.cseq()[1] == method]

    def codes(self):
        return [m.status for _, m in self.resp]

    def describe(self):
        return "%s: %s" % (self.label, ["%.2f %s" % (t, m.first) for t, m in self.resp])


def run_flows(port, flows):
    """Run every (flow, run-kwargs) in a thread of its own; wait for all."""
    def one(f, kw):
        try:
            f.run(port, **kw)
        except Exception:  # reported by the checks: f.error
            f.error = traceback.format_exc()
    ths = [threading.Thread(target=one, args=fk, daemon=True) for fk in flows]
    for t in ths:
        t.start()
    for t in ths:
        t.join(30)


def start_server(st, dns):
    """ringletd for atlanta.example, relaying for 127.0.0.0/8, T1 = T1_MS, with
    --dns dns; killed when st closes, its log directory removed at the end
    when every check passed (LOGDIRS)."""
    srv = st.enter_context(rtest.Server("-d", ATL, "--trust", "127.0.0.0/8",
                                        "--t1", str(T1_MS), dns=dns))
    LOGDIRS.append(srv.logdir)
    return srv


# --- 1. failover between SRV targets -------------------------------------------------------

# (method, A's answer, B's answer, what the caller must get, §)
FAILOVER = [
    ("MESSAGE", 503, 200, 200, "1a"),
    ("INVITE", 503, 486, 486, "1a"),
    ("MESSAGE", None, 200, 200, "1b"),
    ("INVITE", None, 486, 486, "1b"),
    ("MESSAGE", 503, 503, 500, "1c"),
    ("INVITE", 503, 503, 500, "1c"),
    ("MESSAGE", None, None, 408, "1c"),
    ("INVITE", None, None, 408, "1c"),
    ("MESSAGE", 503, None, 408, "1c"),
    ("MESSAGE", None, 503, 500, "1c"),
]


def failover_flows(a, b):
    out = []
    for method, ca, cb, want, sec in FAILOVER:
        f = Flow("%s %s A=%s B=%s" % (sec, method, ca or "silent", cb or "silent"), method,
                 "sip:bob@" + BIL)
        f.want, f.ca, f.cb = want, ca, cb
        a.plan[f.cid] = ca
        b.plan[f.cid] = cb
        out.append((f, dict(timeout=12.0)))
    return out


def check_failover(c, f, a, b):
    L = f.label
    ra = [(t, m) for t, m in a.requests(f.cid) if m.method != "ACK"]
    rb = [(t, m) for t, m in b.requests(f.cid) if m.method != "ACK"]
    c.check(not f.error, "%s: the caller ran" % L, f.error)
    # A, the priority-10 target, first; B only after A failed
    c.check(ra and (not rb or rb[0][0] > ra[-1][0]),
            "%s: A (SRV priority 10) got the request first, B (priority 20) only after A's "
            "last one (%d at A, %d at B)" % (L, len(ra), len(rb)))
    c.check(len(rb) >= 1, "%s: the proxy went on to B (RFC 3263 §4.3)" % L)
    if f.ca == 503:
        c.check(len(ra) == 1, "%s: A got the request exactly once (%d)" % (L, len(ra)))
    else:
        c.check(len(ra) >= 2, "%s: A, silent, got the request retransmitted over UDP "
                "(§17.1.1.2/§17.1.2.2: %d copies)" % (L, len(ra)))
    if f.cb is not None:
        c.check(len(rb) == 1, "%s: B got the request exactly once (%d)" % (L, len(rb)))
    if ra and rb:
        dt = rb[0][0] - ra[0][0]
        if f.ca == 503:
            c.check(dt < 1.0, "%s: B tried at once after A's 503 (%.2f s)" % (L, dt))
        else:
            c.check(TIMER_BF - 0.2 <= dt <= TIMER_BF + 1.3,
                    "%s: B tried when Timer %s (64*T1 = %.1f s) fired at A (%.2f s)" % (
                        L, "B" if f.method == "INVITE" else "F", TIMER_BF, dt))
        va = captest.via_param(ra[0][1].all("via")[0], "branch")
        vb = captest.via_param(rb[0][1].all("via")[0], "branch")
        c.check(va and vb and va != vb and ra[0][1].all("via")[1:] == rb[0][1].all("via")[1:],
                "%s: B's request is a new transaction: another branch on the proxy's Via, "
                "the rest of the Via stack the same (RFC 3263 §4.3)" % L, (va, vb))
        same = all(m.ruri == "sip:bob@" + BIL and m.get("max-forwards") == "69"
                   for _, m in ra[:1] + rb[:1])
        c.check(same, "%s: both copies keep the Request-URI and carry Max-Forwards 69" % L,
                [(m.ruri, m.get("max-forwards")) for _, m in ra[:1] + rb[:1]])
    if f.method == "INVITE":
        acks_a = a.requests(f.cid, "ACK")
        acks_b = b.requests(f.cid, "ACK")
        br_a = captest.via_param(ra[0][1].all("via")[0], "branch") if ra else None
        if f.ca == 503:
            c.check(len(acks_a) == 1 and
                    captest.via_param(acks_a[0][1].all("via")[0], "branch") == br_a,
                    "%s: A's 503 ACKed hop by hop on the INVITE's branch (§17.1.1.3)" % L,
                    len(acks_a))
        else:
            c.check(not acks_a, "%s: no ACK to A, which never answered" % L, len(acks_a))
        if f.cb is not None:
            c.check(len(acks_b) == 1, "%s: B's %d ACKed hop by hop (%d ACKs)" % (
                L, f.cb, len(acks_b)))
        c.check(f.codes()[:1] == [100], "%s: the caller got 100 Trying first (§16.2)" % L,
                f.describe())
    fin = f.finals()
    codes = sorted({x[1] for x in fin})
    c.check(codes == [f.want], "%s: the caller got %d (%s)" % (L, f.want, {
        200: "B's answer", 486: "B's answer", 500: "§16.7 item 6: a 503 chosen becomes 500",
        408: "§16.7 item 6: no final response, the timeouts count as 408"}.get(f.want, "?")),
            f.describe())
    if f.want in (200, 486):
        c.check(fin and fin[0][2].endswith("(B)"),
                "%s: the final response is B's own, relayed" % L, fin[:1])
    c.check(503 not in f.codes(), "%s: no 503 went upstream" % L, f.describe())
    if f.method == "INVITE":
        c.check(f.acks >= 1, "%s: the caller ACKed its final response" % L)
    if fin:
        worst = (TIMER_BF if f.ca is None else 0) + (TIMER_BF if f.cb is None else 0) + 2.0
        c.check(fin[0][0] <= worst, "%s: answered in %.2f s (at most %.1f s)" % (
            L, fin[0][0], worst))


# --- 1d/1e. transport errors -----------------------------------------------------------------

def transport_flows(b, bt):
    out = []
    for method, code in (("MESSAGE", 200), ("INVITE", 486)):
        f = Flow("1d %s, SRV priority 10 a TCP port nobody listens on" % method, method,
                 "sip:bob@" + DENVER)
        bt.plan[f.cid] = f.want = code
        out.append((f, dict(timeout=8.0)))
    g = Flow("1e MESSAGE, SRV priority 10 a UDP port nobody listens on", "MESSAGE",
             "sip:bob@" + COLUMBUS)
    b.plan[g.cid] = g.want = 200
    out.append((g, dict(timeout=8.0)))
    return out


def check_transport(c, f, srv, fast):
    """f went to srv after a first SRV target with no listener; fast: at once."""
    L = f.label
    got = [(t, m) for t, m in srv.requests(f.cid) if m.method != "ACK"]
    fin = f.finals()
    c.check(not f.error and [x[1] for x in fin][:1] == [f.want] and
            {x[1] for x in fin} == {f.want} and fin[0][2].endswith("(%s)" % srv.name_),
            "%s: the caller got %s's %d (RFC 3263 §4.3)" % (L, srv.name_, f.want), f.describe())
    c.check(503 not in f.codes(), "%s: no 503 went upstream" % L, f.describe())
    proto = {captest.via_sent_by(m.all("via")[0])[0] for _, m in got}
    c.check(len(got) == 1 and proto == {"TCP" if fast else "UDP"},
            "%s: %s got it once, over %s as the NAPTR says (§4.1)" % (
                L, srv.name_, "TCP" if fast else "UDP"), (len(got), proto))
    t = fin[0][0] if fin else -1
    if fast:
        c.check(0 <= t < 1.0, "%s: at once (%.2f s): a refused connection is a transport "
                "error (§16.9: as a 503), the next target is tried without a timer" % (L, t))
    else:
        c.check(0 <= t <= TIMER_BF + 1.5, "%s: within Timer F (%.2f s)" % (L, t))
        print("# %s: B tried after %.2f s: the ICMP port unreachable went unnoticed, Timer F "
              "ran out first (RFC 3261 §18.4: it SHOULD count as a transport failure)" % (L, t))
    if f.method == "INVITE":
        c.check(len(srv.requests(f.cid, "ACK")) == 1 and f.codes()[:1] == [100] and f.acks,
                "%s: 100 first, %s's %d ACKed hop by hop and by the caller" % (
                    L, srv.name_, f.want), f.describe())


# --- 2. no records, DNS silent, CANCEL during the resolution --------------------------------

def check_nx(c, f, a, b):
    fin = f.finals()
    c.check(not f.error and [x[1] for x in fin[:1]] == [502] and len({x[1] for x in fin}) == 1,
            "%s: 502 Bad Gateway for a domain with no record (NXDOMAIN, §21.5.3)" % f.label,
            f.describe())
    c.check(fin and fin[0][0] < 2.0, "%s: at once (%.2f s)" % (
        f.label, fin[0][0] if fin else -1))
    c.check(not a.requests(f.cid) and not b.requests(f.cid),
            "%s: no SIP server was contacted" % f.label)
    if f.method == "INVITE":
        c.check(f.codes()[:1] == [100] and f.acks >= 1,
                "%s: 100 Trying first, the 502 ACKed" % f.label, f.describe())


def dns_silent_phase(c, st, a, b, silent):
    """ringletd asking a DNS server that never answers: 504, and a CANCEL mid-resolution."""
    srv = start_server(st, "%s:%d" % (LO, silent.port))
    n0 = silent.count()
    to = Flow("2 MESSAGE, DNS silent", "MESSAGE", "sip:bob@" + BIL)
    cn = Flow("2 INVITE CANCELled while resolving", "INVITE", "sip:bob@" + BIL)
    run_flows(srv.port, [(to, dict(timeout=10.0)),
                         (cn, dict(timeout=10.0, cancel_after=0.5, until=6.0))])
    fin = to.finals()
    c.check(not to.error and [x[1] for x in fin] == [504],
            "%s: 504 Server Time-out (§21.5.5)" % to.label, to.describe())
    c.check(fin and 3.5 <= fin[0][0] <= 6.5,
            "%s: after the resolver's deadline (2 tries of 2 s: %.2f s)" % (
                to.label, fin[0][0] if fin else -1))
    inv = cn.finals()
    can = cn.finals("CANCEL")
    c.check(not cn.error and cn.codes()[:1] == [100],
            "%s: 100 Trying while the resolution runs" % cn.label, cn.describe())
    c.check(cn.cancel_at is not None and [x[1] for x in can] == [200] and
            can[0][0] - cn.cancel_at < 0.5,
            "%s: 200 for the CANCEL at once (§9.2)" % cn.label, cn.describe())
    c.check(cn.cancel_at is not None and [x[1] for x in inv][:1] == [487] and
            inv[0][0] - cn.cancel_at < 0.5,
            "%s: 487 Request Terminated for the INVITE at once (§16.10)" % cn.label,
            cn.describe())
    c.check(inv and {x[1] for x in inv} == {487} and cn.acks >= 1,
            "%s: no other final response later (no 504 when the resolver would have given up "
            "at ~4 s; waited 6 s), the 487 ACKed" % cn.label, cn.describe())
    qs = []
    with silent.lock:
        got = silent.got[n0:]
    for _, _, data in got:
        try:
            d = captest.dns_parse(data)
        except (ValueError, IndexError, struct.error):
            continue
        qs.append((d["qtype"], (d["qname"] or "").lower()))
    c.check(("NAPTR", BIL) in qs,
            "2: ringletd asked the configured (silent) server NAPTR %s (RFC 3263 §4.1)" % BIL,
            qs)
    c.check(qs and all(q == ("NAPTR", BIL) for q in qs),
            "2: nothing but NAPTR %s (an unanswered step ends the resolution; %d queries)" % (
                BIL, len(qs)), qs)
    c.check(not any(x.requests(f.cid) for x in (a, b) for f in (to, cn)),
            "2: no SIP server was contacted")
    c.check(srv.stop() == 0, "2: ringletd (DNS silent) exits 0 on SIGTERM", srv.tail())


# --- 3. --dns off -----------------------------------------------------------------------------

def dns_off_phase(c, st, silent):
    srv = start_server(st, "off")
    n0 = silent.count()
    fm = Flow("3 MESSAGE, --dns off", "MESSAGE", "sip:bob@" + OFF)
    fi = Flow("3 INVITE, --dns off", "INVITE", "sip:bob@" + OFF)
    run_flows(srv.port, [(fm, dict(timeout=5.0)), (fi, dict(timeout=5.0))])
    for f in (fm, fi):
        fin = f.finals()
        c.check(not f.error and {x[1] for x in fin} == {403} and fin[0][0] < 1.0,
                "%s: 403 at once (no static route, no DNS)" % f.label, f.describe())
    c.check(fi.acks >= 1, "3: the INVITE's 403 ACKed")
    c.check(silent.count() == n0, "3: nothing reached the silent DNS socket meanwhile")
    c.check(srv.stop() == 0, "3: ringletd (--dns off) exits 0 on SIGTERM", srv.tail())


# --- 4. a Route naming a host name ---------------------------------------------------------

def route_flows(a, b, d):
    out = []
    f = Flow("4 MESSAGE Route <sip:proxy.%s:PB;lr>" % BIL, "MESSAGE",
             "sip:carol@" + FOREIGN, route="<sip:proxy.%s:%d;lr>" % (BIL, b.port))
    b.plan[f.cid] = 200
    f.srv, f.host = b, "proxy." + BIL
    out.append((f, dict(timeout=5.0)))
    h = Flow("4 MESSAGE Route <sip:%s;lr>" % BIL, "MESSAGE", "sip:carol@" + FOREIGN,
             route="<sip:%s;lr>" % BIL)
    a.plan[h.cid] = 200
    h.srv, h.host = a, BIL
    out.append((h, dict(timeout=5.0)))
    if d:
        g = Flow("4 MESSAGE Route <sip:gw.%s;lr> (port 5060)" % BIL, "MESSAGE",
                 "sip:carol@" + FOREIGN, route="<sip:gw.%s;lr>" % BIL)
        d.plan[g.cid] = 200
        g.srv, g.host = d, "gw." + BIL
        out.append((g, dict(timeout=5.0)))
    return out


def check_route(c, f):
    got = f.srv.requests(f.cid)
    fin = f.finals()
    c.check(not f.error and [x[1] for x in fin] == [200] and fin[0][2].endswith(
        "(%s)" % f.srv.name_), "%s: 200 from the server the Route's host resolves to" % f.label,
        f.describe())
    c.check(len(got) == 1 and got[0][1].ruri == "sip:carol@" + FOREIGN and
            got[0][1].all("route") == [f.route],
            "%s: forwarded there once with the Request-URI and the Route untouched "
            "(loose routing, §16.6 item 7, §16.12)" % f.label,
            [(m.ruri, m.all("route")) for _, m in got])


# --- DNS traffic ----------------------------------------------------------------------------

def dns_queries(frames, port=None):
    """(frame, parsed) of the DNS queries among frames (to port, when given)."""
    out = []
    for f in frames:
        if f.proto != "UDP" or not f.payload or (port and f.dst[1] != port):
            continue
        try:
            d = captest.dns_parse(f.payload)
        except (ValueError, IndexError, struct.error):
            continue
        if not d["response"]:
            out.append((f, d))
    return out


def check_dns(c, lo_frames, any_frames, dns_port, silent_port, with_gw):
    qs = dns_queries(lo_frames, dns_port)
    asked = {(d["qtype"], (d["qname"] or "").lower()) for _, d in qs}
    first = {}
    for f, d in qs:
        first.setdefault((d["qtype"], (d["qname"] or "").lower()), f.no)
    order = [first.get(k) for k in (("NAPTR", BIL), ("SRV", "_sip._udp." + BIL))]
    c.check(None not in order and order == sorted(order),
            "dns: NAPTR %s, then SRV _sip._udp.%s (RFC 3263 §4.1, §4.2)" % (BIL, BIL),
            sorted(asked))
    for h in ("a." + BIL, "b." + BIL):
        c.check(("A", h) in asked, "dns: A %s asked (an SRV target, §4.2)" % h, sorted(asked))
    for want in (("NAPTR", NX), ("SRV", "_sip._udp." + NX), ("A", NX)):
        c.check(want in asked, "dns: %s %s asked for the unknown domain (§4.1, §4.2 "
                "fallbacks before 502)" % want, sorted(asked))
    prox = "proxy." + BIL
    c.check(("A", prox) in asked and not {("NAPTR", prox), ("SRV", "_sip._udp." + prox)} & asked,
            "dns: the Route host with a port: A %s, no NAPTR/SRV (§4.2)" % prox, sorted(asked))
    if with_gw:
        gw = "gw." + BIL
        c.check({("NAPTR", gw), ("SRV", "_sip._udp." + gw), ("A", gw)} <= asked,
                "dns: the Route host without a port: NAPTR, SRV, then A %s (§4)" % gw,
                sorted(asked))
    ours = [(f, d) for f, d in dns_queries(lo_frames + any_frames)
            if (d["qname"] or "").lower().endswith("example")]
    never = sorted({(f.dst, d["qtype"], d["qname"]) for f, d in ours
                    if d["qname"].lower().endswith((FOREIGN, OFF))})
    c.check(not never, "dns: never asked anyone about %s (the Route wins) nor %s (--dns off)" % (
        FOREIGN, OFF), never)
    elsewhere = sorted({(f.dst, d["qtype"], d["qname"]) for f, d in ours
                        if f.dst not in ((LO, dns_port), (LO, silent_port))})
    c.check(ours and not elsewhere, "dns: %d queries about *.example, all to the test's "
            "dnsmasq or its silent socket, none to port 53 anywhere" % len(ours), elsewhere[:10])


def check_closed(c, frames, closed_t, closed_u):
    """1d/1e: the proxy did try the priority-10 targets with no listener first."""
    syn = [f for f in frames if f.proto == "TCP" and f.syn and f.dst == (LO, closed_t)]
    c.check(syn, "1d: the proxy tried to connect to the priority-10 TCP target first "
            "(%d SYNs to %s:%d)" % (len(syn), LO, closed_t))
    sip = [f for f in frames if f.proto == "UDP" and f.dst == (LO, closed_u) and
           f.payload.startswith(b"MESSAGE ")]
    c.check(sip, "1e: the proxy sent the MESSAGE to the priority-10 UDP target first "
            "(%d datagrams to %s:%d)" % (len(sip), LO, closed_u))


# --- main -----------------------------------------------------------------------------------

def dnsmasq_records(pa, pb, pbt, closed_t, closed_u):
    return ["--local=/example/",
            "--naptr-record=%s,10,10,S,SIP+D2U,,_sip._udp.%s" % (BIL, BIL),
            "--srv-host=_sip._udp.%s,a.%s,%d,10,0" % (BIL, BIL, pa),
            "--srv-host=_sip._udp.%s,b.%s,%d,20,0" % (BIL, BIL, pb),
            "--naptr-record=%s,10,10,S,SIP+D2T,,_sip._tcp.%s" % (DENVER, DENVER),
            "--srv-host=_sip._tcp.%s,a.%s,%d,10,0" % (DENVER, BIL, closed_t),
            "--srv-host=_sip._tcp.%s,b.%s,%d,20,0" % (DENVER, BIL, pbt),
            "--naptr-record=%s,10,10,S,SIP+D2U,,_sip._udp.%s" % (COLUMBUS, COLUMBUS),
            "--srv-host=_sip._udp.%s,a.%s,%d,10,0" % (COLUMBUS, BIL, closed_u),
            "--srv-host=_sip._udp.%s,b.%s,%d,20,0" % (COLUMBUS, BIL, pb)] + [
                "--host-record=%s.%s,%s" % (h, BIL, LO) for h in ("a", "b", "proxy", "gw")]


def free_5060(st):
    """A Uas on 127.0.0.1:5060 (the default port of §4.2), or None when it is taken."""
    try:
        d = Uas("D", 5060)
    except OSError:
        print("# 127.0.0.1:5060 is taken: the Route-without-port case is skipped")
        return None
    st.callback(d.stop)
    return d


def resolver_phase(c, st, a, b, bt, d, dns):
    srv = start_server(st, "%s:%d" % (LO, dns.port))
    fo = failover_flows(a, b)
    nx = [(Flow("2 %s to %s" % (m, NX), m, "sip:bob@" + NX), dict(timeout=6.0))
          for m in ("MESSAGE", "INVITE")]
    rt = route_flows(a, b, d)
    tr = transport_flows(b, bt)
    t0 = time.monotonic()
    run_flows(srv.port, fo + nx + rt + tr)
    print("# %d flows in parallel through the resolving ringletd: %.1f s" % (
        len(fo + nx + rt + tr), time.monotonic() - t0))
    for f, _ in fo:
        check_failover(c, f, a, b)
    for f, _ in nx:
        check_nx(c, f, a, b)
    for f, _ in rt:
        check_route(c, f)
    for f, _ in tr:
        check_transport(c, f, bt if f.method == "INVITE" or DENVER in f.ruri else b,
                        DENVER in f.ruri)
    c.check(srv.stop() == 0, "1: ringletd (resolving) exits 0 on SIGTERM", srv.tail())


def main():
    c = rtest.Checks()
    t_start = time.monotonic()
    with contextlib.ExitStack() as st:
        try:
            a, b, bt = Uas("A"), Uas("B"), TcpUas("BT")
            st.callback(a.stop)
            st.callback(b.stop)
            st.callback(bt.stop)
            # ports nobody listens on (free now; nothing here binds them)
            closed_t, closed_u = rtest.free_port("tcp"), rtest.free_port("udp")
            silent = Udp("dns-silent")
            st.callback(silent.stop)
            d = free_5060(st)
            dns = st.enter_context(captest.Dnsmasq(dnsmasq_records(a.port, b.port, bt.port,
                                                                 closed_t, closed_u)))
            r = captest.dns_query(dns.port, "_sip._udp." + BIL, "SRV")
            srv = sorted(x[2] for x in (r or {}).get("answers", []) if x[0] == "SRV")
            c.check(srv == [(10, 0, a.port, "a." + BIL), (20, 0, b.port, "b." + BIL)],
                    "setup: dnsmasq serves SRV _sip._udp.%s: a:%d prio 10, b:%d prio 20" % (
                        BIL, a.port, b.port), r)
            lo = captest.Capture("udp port %d or udp port %d or tcp port %d or udp port %d" % (
                dns.port, silent.port, closed_t, closed_u))
            st.callback(lo.remove)
            st.callback(lo.stop, 0)
            anycap = captest.Capture("udp port 53 or tcp port 53", iface="any")
            st.callback(anycap.remove)
            st.callback(anycap.stop, 0)
            resolver_phase(c, st, a, b, bt, d, dns)
            dns_silent_phase(c, st, a, b, silent)
            dns_off_phase(c, st, silent)
            lo.stop()
            anycap.stop()
            frames = lo.frames()
            check_dns(c, frames, anycap.frames(), dns.port, silent.port, d is not None)
            check_closed(c, frames, closed_t, closed_u)
        except Exception:
            c.check(False, "ran to the end", traceback.format_exc())
    reports = []
    for d in LOGDIRS:
        try:
            with open(os.path.join(d, "ringletd.log"), "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        reports += [l for l in text.splitlines() if "runtime error:" in l or "Sanitizer" in l]
    c.check(LOGDIRS and not reports, "no sanitizer report in the %d ringletd logs" % len(LOGDIRS),
            reports[:5])
    if c.nfail == 0:
        for d in LOGDIRS:
            shutil.rmtree(d, ignore_errors=True)
    else:
        print("# ringletd logs kept in %s" % " ".join(LOGDIRS))
    print("# %.1f s in all" % (time.monotonic() - t_start))
    return c.done()


if __name__ == "__main__":
    sys.exit(main())
