#!/usr/bin/env python3
"""The "SIP trapezoid" of RFC 3261 §4 and §24.2 between two ringletd processes.

atlanta.example (Alice's outbound proxy) and biloxi.example (Bob's registrar
and inbound proxy) each run on a loopback port of their own.  Bob is a SIPp
UAS registered at biloxi; Alice is a SIPp UAC whose outbound proxy is
atlanta.  tshark captures every packet on the loopback ports of the four
parties; the SIP messages are read back from the capture (parsed from the raw
payloads, captest.py) and checked message by message: who sent what to whom,
the Request-URI, Max-Forwards, the Via stack, Record-Route and Route, and that
the proxies change nothing else.

Message numbers follow the figure of §4 (and erratum 4300 of §24.2): F1
INVITE Alice->atlanta, F2 INVITE atlanta->biloxi, F3 100 atlanta->Alice, F4
INVITE biloxi->Bob, F5 100 biloxi->atlanta, F6-F8 180 back, F9-F11 200 back.
§24.2's proxies do not Record-Route, so there the ACK (F12) and the BYE (F13,
Bob's) go end to end; ringletd record-routes every dialog-creating request
(§16.6 item 4), so here the ACK and the BYE follow the route set through
both proxies (§12.2.1.1, loose routing §16.12) and each appears on three hops.

Variants:
  1. static route (--route biloxi.example=sip:127.0.0.1:B), UDP, Alice hangs up;
  2. the same, Bob hangs up (§24.2's F13/F14 direction: the callee's route
     set, in Record-Route order);
  3. atlanta->biloxi over TCP (;transport=tcp on the route);
  4. atlanta authenticates Alice (--auth on, alice@atlanta.example provisioned):
     her first INVITE gets 407, ACKed on its branch; the flow starts again
     with her INVITE carrying Proxy-Authorization (§22.3);
  5. RFC 3263 DNS instead of the route: a dnsmasq on a loopback port serves
     NAPTR biloxi.example -> SRV _sip._udp.biloxi.example -> A
     proxy.biloxi.example = 127.0.0.1, atlanta runs with --dns 127.0.0.1:N;
     every DNS query about the test's domains must go to that port only.
"""
import contextlib
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import captest  # noqa: E402
import rtest  # noqa: E402

ATL, BIL = "atlanta.example", "biloxi.example"
PROXIES = ("atlanta", "biloxi")
PATH = ("alice", "atlanta", "biloxi", "bob")
LO = "127.0.0.1"


def quiet_port():
    """A free port below the kernel's ephemeral range, so that no client socket
    of another process takes it before our SIPp binds it."""
    hi = 40000
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            hi = min(hi, int(f.read().split()[0]) - 1)
    except (OSError, ValueError, IndexError):
        pass
    return rtest.free_port(lo=min(20000, hi - 1000), hi=hi)


class Uas:
    """Bob's phone: a SIPp UAS scenario in the background on a known port."""

    def __init__(self, scenario, timeout=20):
        for _ in range(3):  # a port taken between free_port and SIPp's bind: another one
            if self._start(scenario, timeout):
                return
        raise RuntimeError("SIPp UAS %s did not start: %s" % (scenario, self.wait(1)[1]))

    def _start(self, scenario, timeout):
        self.port = quiet_port()
        cmd = ["sipp", "-sf", os.path.join(rtest.SIPP_DIR, scenario + ".xml"),
               "-i", LO, "-p", str(self.port), "-cp", str(quiet_port()),
               "-mp", str(quiet_port()), "-t", "u1", "-m", "1",
               "-timeout", "%ds" % timeout, "-timeout_error", "-nostdin"]
        self.out = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=subprocess.STDOUT)
        # ready when its UDP port is taken and it still runs (bounded)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.proc.poll() is None:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind((LO, self.port))
            except OSError:
                time.sleep(0.1)
                if self.proc.poll() is None:
                    return True
            finally:
                s.close()
            time.sleep(0.05)
        self.kill()
        return False

    def wait(self, timeout):
        """Its exit status (-1: killed after timeout s) and output tail."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = -1
        self.out.seek(0)
        return rc, self.out.read()[-1500:].decode("utf-8", "replace")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def register(port, user, domain, cport, timeout=4.0):
    """REGISTER user@domain with contact sip:user@127.0.0.1:cport over UDP
    (retransmitted as Timer A does); the final status or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((LO, 0))
    msg = ("REGISTER sip:%s SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%x;rport\r\n"
           "Max-Forwards: 70\r\n"
           "To: <sip:%s@%s>\r\n"
           "From: <sip:%s@%s>;tag=%x\r\n"
           "Call-ID: trap-reg-%x\r\n"
           "CSeq: 1826 REGISTER\r\n"
           "Contact: <sip:%s@%s:%d>\r\n"
           "Expires: 300\r\n"
           "Content-Length: 0\r\n\r\n" % (domain, LO, s.getsockname()[1], random.getrandbits(60),
                                          user, domain, user, domain, random.getrandbits(32),
                                          random.getrandbits(48), user, LO, cport)).encode()
    try:
        deadline, nxt, t1 = time.monotonic() + timeout, 0.0, 0.5
        while time.monotonic() < deadline:
            if time.monotonic() >= nxt:
                s.sendto(msg, (LO, port))
                nxt, t1 = time.monotonic() + t1, t1 * 2
            s.settimeout(max(0.01, min(nxt, deadline) - time.monotonic()))
            try:
                r = s.recv(65536)
            except socket.timeout:
                continue
            code = int(r.split(b" ", 2)[1])
            if code >= 200:
                return code
        return None
    finally:
        s.close()


# --- reading the capture -------------------------------------------------------------------

def uri_key(v):
    """A comparable form of a SIP URI or name-addr: scheme:user@host:port and the
    URI parameters, sorted, lower-case ('<sip:h:1;lr>' == 'sip:h:1;lr')."""
    v = v.strip()
    if "<" in v:
        v = v[v.index("<") + 1:v.index(">")] if ">" in v else v
    base, *params = v.split(";")
    return base.lower() + "".join(";" + p.lower() for p in sorted(params))


def branches(msg):
    """The Via stack of msg as (transport, sent-by, branch), top first."""
    out = []
    for v in msg.all("via"):
        tr, sent_by = captest.via_sent_by(v)
        out.append((tr, sent_by, captest.via_param(v, "branch")))
    return out


class Trace:
    """The call's messages from a capture, and who sent each to whom."""

    def __init__(self, msgs, names, challenged=False):
        self.names = dict(names)  # port -> party
        self.tcp_owner = {}
        invs = [m for m in msgs if m.method == "INVITE" and self.name(m.src) == "alice"]
        self.call_id = invs[0].call_id() if invs else None
        self.other = [m for m in msgs if m.call_id() != self.call_id]
        self.msgs = [m for m in msgs if m.call_id() == self.call_id]
        # with a challenge, the first INVITE transaction (and its ACK) apart
        n0 = invs[0].cseq()[0] if invs and challenged else None
        self.pre = [m for m in self.msgs if n0 is not None and m.cseq()[0] == n0]
        self.msgs = [m for m in self.msgs if m not in self.pre]
        self._own_tcp_ports()
        self.used = set()

    def _own_tcp_ports(self):
        """A TCP connection from an ephemeral port belongs to the party its
        first request's top Via names (a proxy's Via has its listen port)."""
        for m in self.msgs:
            if m.proto == "TCP" and m.is_request and m.src[1] not in self.names:
                vias = branches(m)
                if vias:
                    port = int(vias[0][1].rsplit(":", 1)[-1])
                    if port in self.names:
                        self.tcp_owner[m.src[1]] = self.names[port]

    def name(self, addr):
        if not addr or addr[0] != LO:
            return None
        return self.names.get(addr[1]) or self.tcp_owner.get(addr[1])

    def leg(self, m):
        return self.name(m.src), self.name(m.dst)

    def find(self, kind, src, dst):
        """Distinct messages (retransmissions counted once) of kind src->dst."""
        seen, out = set(), []
        for m in self.msgs:
            if m.kind() == kind and self.leg(m) == (src, dst) and m.raw not in seen:
                seen.add(m.raw)
                out.append(m)
        return out

    def one(self, kind, src, dst):
        """The message kind src->dst if exactly one was sent (marked used), else None."""
        got = self.find(kind, src, dst)
        for m in self.msgs:
            if m.kind() == kind and self.leg(m) == (src, dst):
                self.used.add(id(m))
        return got[0] if len(got) == 1 else None

    def unused(self):
        return [m for m in self.msgs if id(m) not in self.used]


class Ex:
    """The sub-conditions of one check; the check passes when none failed."""

    def __init__(self):
        self.bad = []

    def eq(self, what, got, want):
        if got != want:
            self.bad.append("%s: got %r, want %r" % (what, got, want))

    def true(self, what, cond, got=""):
        if not cond:
            self.bad.append("%s%s" % (what, " (%r)" % (got,) if got != "" else ""))

    def detail(self):
        return "=> " + "; ".join(self.bad) if self.bad else ""


# --- the checks ----------------------------------------------------------------------------

class Call:
    """What the call should look like: parties' ports, each hop's transport,
    the proxies' Record-Route URIs, the contacts."""

    def __init__(self, ports, tcp_legs=(), hangup="alice"):
        self.ports = ports  # party -> port
        self.tcp_legs = set(tcp_legs)  # {("atlanta", "biloxi")}: TCP that way (and back)
        self.hangup = hangup
        rr = {}
        for p, up in (("atlanta", "alice"), ("biloxi", "atlanta")):
            tr = ";transport=tcp" if (up, p) in self.tcp_legs else ""
            rr[p] = uri_key("<sip:%s:%d;lr%s>" % (LO, ports[p], tr))
        self.rr = rr
        self.bob_contact = uri_key("sip:bob@%s:%d" % (LO, ports["bob"]))
        self.alice_contact = uri_key("sip:alice@%s:%d" % (LO, ports["alice"]))

    def transport(self, a, b):
        return "TCP" if (a, b) in self.tcp_legs or (b, a) in self.tcp_legs else "UDP"


def check_request(ex, tr, call, path, i, m, prev, first, want_ruri, want_route, want_rr):
    """The request m on hop i of path (prev: the same request on hop i-1; first:
    on hop 0): §16.6 items 1-8 as seen on the wire."""
    src, dst = path[i], path[i + 1]
    ex.eq("transport", m.proto, call.transport(src, dst))
    ex.eq("Request-URI", uri_key(m.ruri or ""), want_ruri)
    ex.eq("Max-Forwards", m.get("max-forwards"), str(70 - i))
    vias = branches(m)
    ex.eq("Via count", len(vias), i + 1)
    if vias:
        ex.eq("top Via transport", vias[0][0], call.transport(src, dst))
        ex.eq("top Via sent-by", vias[0][1], "%s:%d" % (LO, call.ports[src]))
        ex.true("top Via branch with the magic cookie z9hG4bK (§8.1.1.7)",
                (vias[0][2] or "").startswith("z9hG4bK"), vias[0][2])
    if prev is not None:
        pv = branches(prev)
        ex.eq("Vias below ours (the previous hop's stack)", vias[1:], pv)
        ptop = prev.all("via")[:1]
        if ptop and captest.via_param(ptop[0], "rport") == "" and len(m.all("via")) > 1:
            ex.eq("rport filled in the previous hop's Via (RFC 3581)",
                  captest.via_param(m.all("via")[1], "rport"), str(prev.src[1]))
    ex.eq("Route", [uri_key(r) for r in m.all("route")], want_route)
    if want_rr is not None:
        ex.eq("Record-Route", [uri_key(r) for r in m.all("record-route")], want_rr)
    for h in ("call-id", "from", "to", "cseq", "content-type"):
        ex.eq(h + " as sent", m.get(h), first.get(h))
    ex.eq("body as sent", m.body, first.body)


def check_response(ex, m, req, uas_resp):
    """A response on a hop: the Via stack of the request on that hop (§16.7
    item 3: the proxy's own Via removed), the rest as the UAS sent it."""
    ex.eq("Via stack (the request's on this hop)", branches(m), branches(req))
    for h in ("call-id", "from", "cseq"):
        ex.eq(h + " as in the request", m.get(h), req.get(h))
    if uas_resp is not None:
        for h in ("to", "contact", "record-route", "content-type"):
            ex.eq(h + " as the UAS sent it", m.all(h), uas_resp.all(h))
        ex.eq("body as the UAS sent it", m.body, uas_resp.body)


def hop_names(call, uris):
    """Record-Route/Route URIs as the proxies' names ("none" for an empty list)."""
    inv = {v: k for k, v in call.rr.items()}
    return ", ".join(inv.get(u, u) for u in uris) or "none"


def hop_name(path, i, back=False):
    a, b = (path[i + 1], path[i]) if back else (path[i], path[i + 1])
    return "%s->%s" % (a, b)


def check_transaction(c, label, tr, call, method, path, fnums, want_ruri, want_routes, want_rrs,
                      resps):
    """One transaction along path (UAC, proxy, proxy, UAS): the request on every
    hop, 100 Trying from each proxy for an INVITE, each response back on every
    hop in reverse; fnums names the messages (request hops, then per response).
    Returns the causal chains: the request's hops, then each response's hops."""
    n = len(path) - 1
    reqs = [tr.one(method, path[i], path[i + 1]) for i in range(n)]
    for i in range(n):
        ex = Ex()
        m = reqs[i]
        if m is None:
            ex.true("exactly one distinct %s on this hop" % method, False,
                    tr.find(method, path[i], path[i + 1]))
        else:
            prev = reqs[i - 1] if i else None
            check_request(ex, tr, call, path, i, m, prev, reqs[0] or m, want_ruri[i],
                          want_routes[i], want_rrs[i] if want_rrs else None)
        rr = ", Record-Route: %s" % hop_names(call, want_rrs[i]) if want_rrs else ""
        c.check(not ex.bad, "%s: %s %s %s: R-URI %s, Max-Forwards %d, %d Via, Route: %s%s, "
                "the rest as sent" % (label, fnums[0][i], method, hop_name(path, i),
                                      want_ruri[i], 70 - i, i + 1,
                                      hop_names(call, want_routes[i]), rr), ex.detail())
    chain = [("%s %s" % (method, hop_name(path, i)), reqs[i]) for i in range(n)]
    chains = [chain]
    if method == "INVITE":
        for i in range(n):
            if path[i + 1] not in PROXIES:
                continue
            ex = Ex()
            m = tr.one("100 INVITE", path[i + 1], path[i])
            if m is None or reqs[i] is None:
                ex.true("exactly one distinct 100 Trying (not forwarded, §16.7 item 3)", False,
                        tr.find("100 INVITE", path[i + 1], path[i]))
            else:
                check_response(ex, m, reqs[i], None)
                if m.frame.no < reqs[i].frame.no:
                    ex.true("after the INVITE it answers", False)
            c.check(not ex.bad, "%s: %s 100 Trying %s, the hop's Via stack (§16.2, §16.7)" % (
                label, fnums[1][i], hop_name(path, i, True)), ex.detail())
    for k, code in enumerate(resps):
        kind = "%d %s" % (code, method)
        chains.append(list(chain))
        got = [tr.one(kind, path[i + 1], path[i]) for i in range(n)]
        uas = got[n - 1]
        for i in reversed(range(n)):
            ex = Ex()
            m = got[i]
            if m is None or reqs[i] is None:
                ex.true("exactly one distinct %s on this hop (and its request)" % kind, False,
                        tr.find(kind, path[i + 1], path[i]))
            else:
                check_response(ex, m, reqs[i], uas if i < n - 1 else None)
            c.check(not ex.bad, "%s: %s %s %s: the hop's Via stack, the rest as %s sent it" % (
                label, fnums[2 + k][n - 1 - i], kind, hop_name(path, i, True), path[-1]),
                ex.detail())
            chains[-1].append(("%s %s" % (kind, hop_name(path, i, True)), m))
    return chains


def check_order(c, label, what, order):
    bad = []
    last = None
    for name, m in order:
        if m is None:
            continue
        if last is not None and m.frame.no < last[1].frame.no:
            bad.append("%s (#%d) before %s (#%d)" % (name, m.frame.no, last[0], last[1].frame.no))
        last = (name, m)
    c.check(not bad, "%s: %s in causal order on the wire" % (label, what), "; ".join(bad))


def check_dialog(c, label, tr, call, inv):
    """The ACK and the BYE along the route set (§12.2.1.1, §16.12), and branches."""
    fwd, rev = list(PATH), list(PATH[::-1])
    route_fwd = [[call.rr["atlanta"], call.rr["biloxi"]], [call.rr["biloxi"]], []]
    route_rev = [[call.rr["biloxi"], call.rr["atlanta"]], [call.rr["atlanta"]], []]
    ack = check_transaction(c, label, tr, call, "ACK", fwd, [["F12"] * 3], [call.bob_contact] * 3,
                            route_fwd, None, [])
    if call.hangup == "alice":
        bye = check_transaction(c, label, tr, call, "BYE", fwd, [["F13"] * 3, [], ["F14"] * 3],
                                [call.bob_contact] * 3, route_fwd, None, [200])
    else:
        bye = check_transaction(c, label, tr, call, "BYE", rev, [["F13"] * 3, [], ["F14"] * 3],
                                [call.alice_contact] * 3, route_rev, None, [200])
    check_order(c, label, "F11, the ACK's hops, the BYE's hops, its 200's hops",
                [inv[2][-1]] + ack[0] + bye[1])
    # branches: a new one per hop and per transaction (§16.6 item 8, §8.1.1.7)
    tops = {}
    for m in tr.msgs:
        if m.is_request and branches(m):
            tops.setdefault((m.kind(), tr.leg(m)), set()).add(branches(m)[0][2])
    dup = [b for b in set().union(*tops.values()) if sum(b in s for s in tops.values()) > 1] \
        if tops else []
    c.check(tops and not dup, "%s: each request on each hop has a branch of its own" % label,
            "shared: %s" % dup)


def check_call(c, label, tr, call):
    """The whole call (INVITE, ACK, BYE) in the capture."""
    c.check(tr.call_id is not None, "%s: alice's INVITE captured" % label,
            "no INVITE from alice among %d SIP messages" % len(tr.msgs + tr.other))
    rr_down = [[], [call.rr["atlanta"]], [call.rr["biloxi"], call.rr["atlanta"]]]
    inv = check_transaction(
        c, label, tr, call, "INVITE", list(PATH),
        [["F1", "F2", "F4"], ["F3", "F5"], ["F6", "F7", "F8"], ["F9", "F10", "F11"]],
        [uri_key("sip:bob@" + BIL)] * 2 + [call.bob_contact], [[], [], []], rr_down,
        [180, 200])
    # the 200 Alice gets: both Record-Routes, biloxi's first (§16.6 item 4, §12.1.2)
    ok = tr.find("200 INVITE", "atlanta", "alice")
    c.check(len(ok) == 1 and [uri_key(r) for r in ok[0].all("record-route")] ==
            [call.rr["biloxi"], call.rr["atlanta"]],
            "%s: F11's Record-Route is <biloxi;lr>, <atlanta;lr> (%s)" % (
                label, ", ".join(ok[0].all("record-route")) if ok else "no F11"))
    check_order(c, label, "INVITE hops, then 180 hops back", inv[1])
    check_order(c, label, "INVITE hops, then 200 hops back", inv[2])
    if len(ok) != 1:
        c.check(False, "%s: the call was not answered (no single F11): ACK and BYE not checked"
                % label, ["%s %s->%s" % (m.first, *tr.leg(m)) for m in tr.msgs
                          if tr.leg(m)[1] == "alice"][:5])
    else:
        check_dialog(c, label, tr, call, inv)
    stray = tr.unused()
    c.check(not stray, "%s: no message of the call off the trapezoid's hops or unexpected" % label,
            ["%s %s->%s" % (m.first, *tr.leg(m)) for m in stray][:10])
    c.check(not tr.other, "%s: the capture holds no other SIP traffic" % label,
            [repr(m) for m in tr.other][:5])


def check_challenge(c, label, tr):
    """atlanta's 407 for alice's first INVITE (§22.3), ACKed hop by hop (§17.1.1.3)."""
    inv = [m for m in tr.pre if m.method == "INVITE"]
    r407 = [m for m in tr.pre if m.status == 407]
    ex = Ex()
    ex.eq("407 sent (retransmissions included)", len(r407), 1)
    ex.eq("407 on the hop atlanta->alice", [tr.leg(m) for m in r407[:1]], [("atlanta", "alice")])
    if r407 and inv:
        pa = r407[0].get("proxy-authenticate") or ""
        ex.true("Proxy-Authenticate: Digest with realm \"atlanta.example\"",
                pa.startswith("Digest ") and 'realm="%s"' % ATL in pa, pa)
        ex.eq("Via stack", branches(r407[0]), branches(inv[0]))
        ex.true("no Proxy-Authorization in the first INVITE", not inv[0].get("proxy-authorization"))
    c.check(not ex.bad, "%s: atlanta challenges the first INVITE: one 407 with "
            "Proxy-Authenticate (§22.3)" % label, ex.detail())
    acks = [m for m in tr.pre if m.method == "ACK"]
    c.check(len(acks) == 1 and tr.leg(acks[0]) == ("alice", "atlanta") and inv and
            branches(acks[0])[0][2] == branches(inv[0])[0][2],
            "%s: the ACK for the 407 goes to atlanta on the INVITE's branch" % label, acks)
    off = [m for m in tr.pre if set(tr.leg(m)) != {"alice", "atlanta"}]
    c.check(not off, "%s: nothing of the challenged INVITE passes atlanta" % label,
            ["%s %s->%s" % (m.first, *tr.leg(m)) for m in off][:5])
    f1 = tr.find("INVITE", "alice", "atlanta")
    pz = f1[0].get("proxy-authorization") if f1 else None
    c.check(pz and 'username="alice"' in pz and 'realm="%s"' % ATL in pz,
            "%s: F1 carries alice's Proxy-Authorization for atlanta.example" % label, pz)


# --- DNS -----------------------------------------------------------------------------------

DNS_NAMES = ("example",)


def dns_frames(frames, ports):
    """(frame, parsed) for the DNS messages (UDP to or from one of ports) among frames."""
    out = []
    for f in frames:
        if f.proto != "UDP" or not f.payload or not {f.src[1], f.dst[1]} & set(ports):
            continue
        try:
            out.append((f, captest.dns_parse(f.payload)))
        except (ValueError, IndexError, struct.error):
            continue
    return out


def check_dns(c, label, lo_frames, any_frames, dns_port):
    """atlanta's RFC 3263 lookups went to our dnsmasq and nowhere else."""
    qs = [(f, d) for f, d in dns_frames(lo_frames, [dns_port])
          if f.dst == (LO, dns_port) and not d["response"]]
    asked = {(d["qtype"], (d["qname"] or "").lower()) for _, d in qs}
    for want in (("NAPTR", BIL), ("SRV", "_sip._udp." + BIL), ("A", "proxy." + BIL)):
        c.check(want in asked, "%s: atlanta asked the resolver %s %s (RFC 3263 §4)" % (
            label, want[0], want[1]), sorted(asked))
    ours = [(f, d) for f, d in dns_frames(lo_frames, [dns_port, 53]) +
            dns_frames(any_frames, [dns_port, 53])
            if not d["response"] and (d["qname"] or "").lower().endswith(DNS_NAMES)]
    elsewhere = [(f, d["qtype"], d["qname"]) for f, d in ours if f.dst != (LO, dns_port)]
    first = {}
    for f, d in qs:
        first.setdefault((d["qtype"], (d["qname"] or "").lower()), f.no)
    seq = [first.get(k) for k in (("NAPTR", BIL), ("SRV", "_sip._udp." + BIL),
                                  ("A", "proxy." + BIL))]
    c.check(None not in seq and seq == sorted(seq),
            "%s: NAPTR, then SRV, then A (RFC 3263 §4.1, §4.2)" % label, seq)
    others = [d["qname"] for _, d in dns_frames(any_frames, [53]) if not d["response"] and
              not (d["qname"] or "").lower().endswith(DNS_NAMES)]
    print("# %s: %d other DNS queries to port 53 during the call (other processes): %s" % (
        label, len(others), sorted(set(others))[:5]))
    c.check(ours and not elsewhere,
            "%s: %d DNS queries about *.example, all to %s:%d" % (label, len(ours), LO, dns_port),
            elsewhere[:10])


# --- one call ------------------------------------------------------------------------------

def provision(c, label, aor, password):
    """A store with one user in it (ringletd user add); its URL."""
    db = "sqlite:" + os.path.join(tempfile.mkdtemp(prefix="rl-trap-"), "atlanta.db")
    p = subprocess.run([rtest.RINGLETD, "--store", db, "user", "add", aor, password],
                       capture_output=True, timeout=30)
    c.check(p.returncode == 0, "%s: %s provisioned at atlanta" % (label, aor), p.stderr)
    return db


def start_proxies(st, c, label, route, dns, auth):
    """biloxi, atlanta (with its static route or its resolver) and, for DNS, the
    dnsmasq serving biloxi.example's records; all stopped when st closes."""
    atl_store = provision(c, label, "alice@" + ATL, "wonderland") if auth else "memory:"
    biloxi = st.enter_context(rtest.Server("-d", BIL, workers=2))
    atl_args, dns_srv = ["-d", ATL], None
    if dns:
        dns_srv = st.enter_context(captest.Dnsmasq([
            "--local=/example/",
            "--naptr-record=%s,10,10,S,SIP+D2U,,_sip._udp.%s" % (BIL, BIL),
            "--srv-host=_sip._udp.%s,proxy.%s,%d,0,0" % (BIL, BIL, biloxi.port),
            "--host-record=proxy.%s,%s" % (BIL, LO)]))
        a = captest.dns_query(dns_srv.port, "_sip._udp." + BIL, "SRV")
        c.check(a and a["answers"] and a["answers"][0][2][2:] == (biloxi.port, "proxy." + BIL),
                "%s: dnsmasq serves SRV _sip._udp.%s -> proxy.%s:%d" % (
                    label, BIL, BIL, biloxi.port), a)
    if route:
        atl_args += ["--route", "%s=%s" % (BIL, route % biloxi.port)]
    if auth:
        atl_args += ["--auth-algorithms", "md5"]  # SIPp's digest is MD5 only
    atlanta = st.enter_context(rtest.Server(
        *atl_args, workers=2, dns="%s:%d" % (LO, dns_srv.port) if dns else "off",
        store=atl_store, auth="on" if auth else "off"))
    return atlanta, biloxi, dns_srv


def alice_calls(st, label, uac, ports, dns_port, auth):
    """Start the captures, run alice's SIPp (bounded); returns (the captures
    (lo, any or None), ports with alice's, SIPp's (exit, calls ok, output))."""
    for attempt in range(2):  # alice's port taken before SIPp binds it: another one
        ports = dict(ports, alice=quiet_port())
        watched = list(ports.values()) + ([dns_port] if dns_port else [])
        cap = captest.Capture(" or ".join("udp port %d or tcp port %d" % (p, p)
                                          for p in watched))
        st.callback(cap.stop, 0)
        anycap = None
        if dns_port:
            anycap = captest.Capture("udp port 53 or tcp port 53", iface="any")
            st.callback(anycap.stop, 0)
            st.callback(anycap.remove)
        # the digest uri (SIPp prefixes "sip:"; its default is the remote address)
        extra = ["-auth_uri", "bob@" + BIL] if auth else []
        rc, ok, _, tail = rtest.sipp(uac, ports["atlanta"], "-s", "bob", *extra, calls=1,
                                     rate=1, timeout=10, lport=ports["alice"],
                                     key={"caller_domain": ATL, "callee_domain": BIL})
        if "Unable to bind main socket" not in tail or attempt:
            return (cap, anycap), ports, (rc, ok, tail)
        print("# %s: alice's port %d was taken, again with another" % (label, ports["alice"]))
        for x in (cap, anycap):
            if x:
                x.stop(0)
                x.remove()


def trapezoid(c, label, route=None, dns=False, hangup="alice", auth=False):
    """Start everything, make one call, check it; everything stopped on the way out
    (the capture kept when a check failed)."""
    uac, uas = ("trap_uac", "trap_uas") if hangup == "alice" else \
        ("trap_uac_hungup", "trap_uas_hangup")
    uac = "trap_uac_auth" if auth else uac
    nfail0 = c.nfail
    with contextlib.ExitStack() as st:
        atlanta, biloxi, dns_srv = start_proxies(st, c, label, route, dns, auth)
        bob = Uas(uas)
        st.callback(bob.kill)
        code = register(biloxi.port, "bob", BIL, bob.port)
        c.check(code == 200, "%s: bob registered at biloxi (%s)" % (label, code), biloxi.tail())
        ports = {"atlanta": atlanta.port, "biloxi": biloxi.port, "bob": bob.port}
        (cap, anycap), ports, (rc, ok, tail) = alice_calls(
            st, label, uac, ports, dns_srv.port if dns else None, auth)
        brc, btail = bob.wait(5 if ok == 1 else 1)
        for x in (cap, anycap):
            if x:
                x.stop()
        c.check(rc == 0 and ok == 1, "%s: alice's call completes (SIPp exit %d, %s ok)" % (
            label, rc, ok), tail + "\n--- atlanta:\n" + atlanta.tail() + "\n--- biloxi:\n" +
            biloxi.tail())
        c.check(brc == 0, "%s: bob's side completes (SIPp exit %d)" % (label, brc), btail)
        frames = cap.frames()
        tcp = route is not None and "transport=tcp" in route
        call = Call(ports, tcp_legs=[("atlanta", "biloxi")] if tcp else (), hangup=hangup)
        tr = Trace(captest.sip_messages(frames), {p: n for n, p in ports.items()},
                   challenged=auth)
        print("# %s: %d frames, %d SIP messages of the call" % (label, len(frames),
                                                                 len(tr.msgs)))
        if auth:
            check_challenge(c, label, tr)
        check_call(c, label, tr, call)
        if dns:
            check_dns(c, label, frames, anycap.frames(), dns_srv.port)
            print("# dnsmasq log:\n" + "\n".join(
                "#   " + l for l in dns_srv.tail().splitlines() if "query" in l or "config" in l))
        c.check(atlanta.stop() == 0, "%s: atlanta exits 0 on SIGTERM" % label, atlanta.tail())
        c.check(biloxi.stop() == 0, "%s: biloxi exits 0 on SIGTERM" % label, biloxi.tail())
        if c.nfail == nfail0:
            cap.remove()
        else:
            print("# %s: the capture is kept in %s" % (label, cap.path))


VARIANTS = [
    ("static route", dict(route="sip:127.0.0.1:%d")),
    ("bob hangs up", dict(route="sip:127.0.0.1:%d", hangup="bob")),
    ("tcp between proxies", dict(route="sip:127.0.0.1:%d;transport=tcp")),
    ("alice authenticates", dict(route="sip:127.0.0.1:%d", auth=True)),
    ("dns", dict(dns=True)),
]


def main():
    c = rtest.Checks()
    for label, kw in VARIANTS:
        try:
            trapezoid(c, label, **kw)
        except Exception:  # a setup failure fails this variant, the others still run
            c.check(False, "%s: ran to the end" % label, traceback.format_exc())
    return c.done()


if __name__ == "__main__":
    sys.exit(main())
