#!/usr/bin/env python3
"""The stateful proxy (RFC 3261 §16) between two SIPp instances.

The callee (a SIPp UAS) registers its contact with a small UDP REGISTER of
ours; the caller (a SIPp UAC) calls the AOR through ringletd:
  1. full calls: INVITE, 180, 200 with our Record-Route, then ACK and BYE
     along the route set (loose routing, §16.12);
  2. a rejected call: the callee's 486 reaches the caller;
  3. CANCEL after one second of ringing: 200 from the proxy, the callee
     gets the CANCEL and its 487 reaches the caller (§16.10);
  4. no binding: 404 for an unknown user, 480 for a provisioned one;
  5. forking (§16.6-16.7): two bindings of one q both ring, the first 200
     wins and the other branch is CANCELled; q=1.0 rejecting lets q=0.5 ring;
     486 and 603 from two branches give 603;
  6. relaying (§16.5, §22.3): a foreign domain is refused (403) unless the
     source is trusted (--trust) or the From user is ours, and then goes to
     its static route (--route); with --auth on our users answer a 407 that
     offers the --auth-algorithms only;
  7. the checks of §16.3: a request that comes back unchanged (a binding or
     a static route pointing at ringletd itself) gets 482, a spiral through
     an alias completes; Max-Forwards 0 gets 483 and an unknown Proxy-Require
     tag 420 with Unsupported, neither forwarded (SIPp callers);
  8. Timer C (§16.8, --timer-c): a callee that only rings is CANCELled and the
     caller gets 408;
  9. two branches challenging (401 and 407): the caller's response carries
     both challenges (§16.7 item 7);
 10. MESSAGE and OPTIONS fork to every binding like INVITE (also sipsak's);
     404 for an unknown user, 480 for a provisioned one without bindings.
"""
import hashlib
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtest  # noqa: E402


def sip_exchange(port, data, timeout=3.0, ack=True):
    """Send one request over UDP (retransmitted like Timer A), return the final status;
    the ACK for a non-2xx final goes back on the INVITE's branch (§17.1.1.3)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    data = data.replace(b"LPORT", str(s.getsockname()[1]).encode())
    try:
        deadline = time.monotonic() + timeout
        nxt, t1 = 0.0, 0.5
        while time.monotonic() < deadline:
            now = time.monotonic()
            if now >= nxt:
                s.sendto(data, ("127.0.0.1", port))
                nxt, t1 = now + t1, min(t1 * 2, 4.0)
            s.settimeout(max(0.01, min(nxt, deadline) - time.monotonic()))
            try:
                r = s.recv(65536)
            except socket.timeout:
                continue
            code = int(r.split(b" ", 2)[1])
            if code < 200:
                continue
            if ack and data.startswith(b"INVITE"):
                to = re.search(rb"\r\nTo: ([^\r]+)", r).group(1)
                a = re.sub(rb"^INVITE", b"ACK", data.split(b"\r\n\r\n")[0])
                a = re.sub(rb"\r\nTo: [^\r]+", b"\r\nTo: " + to, a)
                a = re.sub(rb"\r\nCSeq: 1 INVITE", b"\r\nCSeq: 1 ACK", a)
                s.sendto(a + b"\r\n\r\n", ("127.0.0.1", port))
            return code, r
        return None, b""
    finally:
        s.close()


def register(port, user, contact, domain="127.0.0.1", expires=300, hdrs="", q=None):
    if q is not None:
        expires = "%d;q=%s" % (expires, q)
    msg = ("REGISTER sip:%s SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:LPORT;branch=z9hG4bK%x;rport\r\n"
           "Max-Forwards: 70\r\n"
           "To: <sip:%s@%s>\r\n"
           "From: <sip:%s@%s>;tag=%x\r\n"
           "Call-ID: reg-%x\r\n"
           "CSeq: 1 REGISTER\r\n"
           "Contact: <%s>;expires=%s\r\n%s"
           "Content-Length: 0\r\n\r\n" % (domain, random.getrandbits(60), user, domain, user,
                                          domain, random.getrandbits(32),
                                          random.getrandbits(48), contact, expires, hdrs))
    return sip_exchange(port, msg.encode())[0]


def invite_msg(port, user, mf=70):
    return ("INVITE sip:%s@127.0.0.1:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:LPORT;branch=z9hG4bK%x;rport\r\n"
            "Max-Forwards: %d\r\n"
            "To: <sip:%s@127.0.0.1:%d>\r\n"
            "From: <sip:caller@127.0.0.1>;tag=%x\r\n"
            "Call-ID: inv-%x\r\n"
            "CSeq: 1 INVITE\r\n"
            "Contact: <sip:caller@127.0.0.1:LPORT>\r\n"
            "Content-Length: 0\r\n\r\n" % (user, port, random.getrandbits(60), mf, user, port,
                                           random.getrandbits(32), random.getrandbits(48)))


def hdr_lines(msg, name):
    return [l.split(b":", 1)[1].strip() for l in msg.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]
            if l.split(b":", 1)[0].strip().lower() == name.lower().encode()]


def forwarded_checks(c, srv):
    """The forwarded request as the callee sees it (§16.6), and the response back (§16.7)."""
    uas = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    uas.bind(("127.0.0.1", 0))
    up = uas.getsockname()[1]
    path = "<sip:127.0.0.1:%d;lr;edge>" % up
    code = register(srv.port, "dave", "sip:dave@127.0.0.1:%d;ua" % up,
                    hdrs="Supported: path\r\nPath: %s\r\n" % path)
    c.check(code == 200, "callee with a Path registered (%s)" % code)
    caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    caller.bind(("127.0.0.1", 0))
    lp = caller.getsockname()[1]
    try:
        caller.sendto(invite_msg(srv.port, "dave", mf=10).replace("LPORT", str(lp)).encode(),
                      ("127.0.0.1", srv.port))
        uas.settimeout(3.0)
        try:
            fw = uas.recv(65536)
        except socket.timeout:
            fw = b""
        c.check(fw.startswith(b"INVITE sip:dave@127.0.0.1:%d;ua SIP/2.0\r\n" % up),
                "Request-URI is the registered contact", fw[:80])
        c.check(hdr_lines(fw, "Max-Forwards") == [b"9"], "Max-Forwards decremented (10 -> 9)",
                hdr_lines(fw, "Max-Forwards"))
        rr = hdr_lines(fw, "Record-Route")
        c.check(rr == [b"<sip:127.0.0.1:%d;lr>" % srv.port], "our Record-Route on top", rr)
        c.check(hdr_lines(fw, "Route") == [path.encode()], "the binding's Path as Route",
                hdr_lines(fw, "Route"))
        vias = hdr_lines(fw, "Via")
        c.check(len(vias) == 2 and vias[0].startswith(b"SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK"
                                                     % srv.port) and
                b"rport=%d" % lp in vias[1], "our Via on top, the caller's with rport", vias)
        head = fw.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]
        resp = [b"SIP/2.0 486 Busy Here"]
        resp += [l for l in head if l.split(b":")[0] in (b"Via", b"From", b"Call-ID", b"CSeq")]
        resp += [b"To: " + hdr_lines(fw, "To")[0] + b";tag=busy", b"Content-Length: 0", b"", b""]
        uas.sendto(b"\r\n".join(resp), ("127.0.0.1", srv.port))
        got = []
        caller.settimeout(3.0)
        try:
            while not got or got[-1].startswith(b"SIP/2.0 1"):
                got.append(caller.recv(65536))
        except socket.timeout:
            pass
        c.check(got and got[-1].startswith(b"SIP/2.0 486") and
                len(hdr_lines(got[-1], "Via")) == 1, "486 back to the caller without our Via",
                got[-1:])
        try:
            ack = uas.recv(65536)
        except socket.timeout:
            ack = b""
        c.check(ack.startswith(b"ACK "), "the proxy ACKs the 486 hop by hop", ack[:60])
    finally:
        uas.close()
        caller.close()


def recv_all(sock, timeout):
    """Every datagram that arrives within timeout seconds."""
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            got.append(sock.recv(65536))
        except socket.timeout:
            break
    return got


def two_xx_checks(c, srv):
    """A 2xx retransmission reaches the caller statelessly (§16.7 step 5); the ACK for
    the 2xx, routed through us, is loose-routed to the callee (§16.12)."""
    uas = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    uas.bind(("127.0.0.1", 0))
    up = uas.getsockname()[1]
    code = register(srv.port, "erin", "sip:erin@127.0.0.1:%d" % up)
    c.check(code == 200, "callee erin registered (%s)" % code)
    caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    caller.bind(("127.0.0.1", 0))
    lp = caller.getsockname()[1]
    try:
        caller.sendto(invite_msg(srv.port, "erin").replace("LPORT", str(lp)).encode(),
                      ("127.0.0.1", srv.port))
        uas.settimeout(3.0)
        try:
            fw = uas.recv(65536)
        except socket.timeout:
            fw = b""
        head = fw.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]
        resp = [b"SIP/2.0 200 OK"]
        resp += [l for l in head if l.split(b":")[0] in (b"Via", b"From", b"Call-ID", b"CSeq",
                                                          b"Record-Route")]
        resp += [b"To: " + (hdr_lines(fw, "To") or [b"<sip:x@y>"])[0] + b";tag=ok",
                 b"Contact: <sip:erin@127.0.0.1:%d>" % up, b"Content-Length: 0", b"", b""]
        r200 = b"\r\n".join(resp)
        uas.sendto(r200, ("127.0.0.1", srv.port))
        time.sleep(0.2)
        uas.sendto(r200, ("127.0.0.1", srv.port))
        got = [r for r in recv_all(caller, 1.5) if r.startswith(b"SIP/2.0 200")]
        c.check(len(got) == 2 and all(len(hdr_lines(r, "Via")) == 1 for r in got),
                "200 and its retransmission reach the caller, our Via removed (%d)" % len(got))
        ack = ("ACK sip:erin@127.0.0.1:%d SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%x;rport\r\n"
               "Route: <sip:127.0.0.1:%d;lr>\r\n"
               "Max-Forwards: 70\r\n"
               "To: %s\r\n"
               "From: %s\r\n"
               "Call-ID: %s\r\n"
               "CSeq: 1 ACK\r\n"
               "Content-Length: 0\r\n\r\n" % (
                   up, lp, random.getrandbits(60), srv.port,
                   hdr_lines(got[0], "To")[0].decode() if got else "<sip:erin@x>;tag=ok",
                   hdr_lines(fw, "From")[0].decode() if fw else "<sip:c@x>;tag=1",
                   hdr_lines(fw, "Call-ID")[0].decode() if fw else "x"))
        caller.sendto(ack.encode(), ("127.0.0.1", srv.port))
        acks = [r for r in recv_all(uas, 1.0) if r.startswith(b"ACK ")]
        a = acks[0] if acks else b""
        c.check(a.startswith(b"ACK sip:erin@127.0.0.1:%d SIP/2.0" % up) and
                hdr_lines(a, "Route") == [] and hdr_lines(a, "Max-Forwards") == [b"69"] and
                len(hdr_lines(a, "Via")) == 2 and b"rport=%d" % lp in hdr_lines(a, "Via")[1],
                "ACK for the 2xx loose-routed: our Route removed, Via added, the caller's "
                "with rport (RFC 3581)", a[:300])
        # a strict router before us put our Record-Route URI in the Request-URI (§16.4)
        bye = ack.replace("ACK sip:erin@127.0.0.1:%d" % up, "BYE sip:127.0.0.1:%d;lr" % srv.port)
        bye = bye.replace("Route: <sip:127.0.0.1:%d;lr>" % srv.port,
                          "Route: <sip:erin@127.0.0.1:%d>" % up).replace("1 ACK", "2 BYE")
        caller.sendto(bye.encode(), ("127.0.0.1", srv.port))
        byes = [r for r in recv_all(uas, 1.0) if r.startswith(b"BYE ")]
        b = byes[0] if byes else b""
        c.check(b.startswith(b"BYE sip:erin@127.0.0.1:%d SIP/2.0" % up) and
                hdr_lines(b, "Route") == [],
                "BYE from a strict router: the last Route is the Request-URI", b[:300])
        if b:  # answer it, so that no transaction is left at the proxy
            bh = b.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]
            ok = [b"SIP/2.0 200 OK"] + [l for l in bh if l.split(b":")[0] in (
                b"Via", b"From", b"To", b"Call-ID", b"CSeq")] + [b"Content-Length: 0", b"", b""]
            uas.sendto(b"\r\n".join(ok), ("127.0.0.1", srv.port))
            got = [r for r in recv_all(caller, 1.0) if r.startswith(b"SIP/2.0 200")]
            c.check(len(got) == 1 and b"BYE" in got[0], "200 for the BYE reaches the caller")
    finally:
        uas.close()
        caller.close()


def invite(port, user):
    return sip_exchange(port, invite_msg(port, user).encode(), timeout=4.0)[0]


class Uas:
    """A SIPp UAS scenario (tests/sipp/NAME.xml) in the background, bounded; with
    trace, its messages are logged (first() reads when a request came)."""

    def __init__(self, scenario, calls, timeout=60, trace=False):
        self.port = rtest.free_port()
        self.timeout = timeout
        cmd = ["sipp", "-sf", os.path.join(rtest.SIPP_DIR, scenario + ".xml"),
               "-i", "127.0.0.1", "-p", str(self.port), "-cp", str(rtest.free_port()),
               "-mp", str(rtest.free_port(kind="udp")), "-t", "u1", "-m", str(calls),
               "-timeout", "%ds" % timeout, "-timeout_error", "-nostdin"]
        self.msgs = None
        if trace:
            self.msgs = os.path.join(tempfile.mkdtemp(prefix="sipp-uas-"), "msgs.log")
            cmd += ["-trace_msg", "-message_file", self.msgs]
        self.out = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=subprocess.STDOUT)
        time.sleep(0.3)

    def wait(self):
        try:
            rc = self.proc.wait(self.timeout + 10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = -1
        self.out.seek(0)
        return rc, self.out.read()[-1500:].decode("utf-8", "replace")

    def first(self, method):
        """Time of day the first request `method` arrived (from the message log), or None."""
        try:
            with open(self.msgs, errors="replace") as f:
                log = f.read()
        except (OSError, TypeError):
            return None
        m = re.search(r"-{10,} (\d+-\d+-\d+)\s+(\d+):(\d+):(\d+\.\d+)\s*\n"
                      r"UDP message received[^\n]*\n\s*" + method + " ", log)
        if not m:
            return None
        return int(m.group(2)) * 3600 + int(m.group(3)) * 60 + float(m.group(4))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def call_run(c, srv, what, uas_scen, uac_scen, user, calls, rate=10, transport="u1"):
    uas = Uas(uas_scen, calls)
    try:
        code = register(srv.port, user, "sip:%s@127.0.0.1:%d" % (user, uas.port))
        c.check(code == 200, "%s: callee registered (%s)" % (what, code))
        rc, ok, fail, tail = rtest.sipp(uac_scen, srv.port, "-s", user, calls=calls,
                                        rate=rate, timeout=30, transport=transport)
        urc, utail = uas.wait()
        c.check(rc == 0 and ok == calls and fail == 0,
                "%s: caller %s of %d calls ok, %s failed" % (what, ok, calls, fail),
                "sipp exit %d\n%s\n%s" % (rc, tail, srv.tail()))
        c.check(urc == 0, "%s: callee scenario complete (exit %d)" % (what, urc), utail)
    finally:
        uas.kill()


def fork_checks(c, srv):
    """Forking (RFC 3261 §16.6-16.7): parallel within a q-value, sequential by q."""
    # 1. parallel: two bindings of equal q; the first 200 wins, the other branch is CANCELled
    late, ring = Uas("uas_answer_late", 1, timeout=30), Uas("uas_ring", 1, timeout=30)
    try:
        for u in (late, ring):
            code = register(srv.port, "forkp", "sip:forkp@127.0.0.1:%d" % u.port, q="0.8")
            c.check(code == 200, "parallel: binding registered (%s)" % code)
        rc, ok, fail, tail = rtest.sipp("uac_call", srv.port, "-s", "forkp", calls=1,
                                        rate=1, timeout=30)
        c.check(rc == 0 and ok == 1, "parallel: the caller gets the 200 (exit %d)" % rc,
                tail + srv.tail())
        lrc, ltail = late.wait()
        c.check(lrc == 0, "parallel: the answering callee completes its call (exit %d)" % lrc,
                ltail)
        rrc, rtail = ring.wait()
        c.check(rrc == 0, "parallel: the ringing callee gets CANCEL, answers 200 and 487 "
                "(exit %d)" % rrc, rtail)
    finally:
        late.kill()
        ring.kill()
    # 2. sequential: q=1.0 says 486, then the q=0.5 binding is tried and answers
    busy = Uas("uas_reject_late", 1, timeout=30, trace=True)
    ans = Uas("uas_answer", 1, timeout=30, trace=True)
    try:
        code = register(srv.port, "forks", "sip:forks@127.0.0.1:%d" % busy.port, q="1.0")
        code2 = register(srv.port, "forks", "sip:forks@127.0.0.1:%d" % ans.port, q="0.5")
        c.check(code == 200 and code2 == 200, "sequential: bindings registered")
        rc, ok, fail, tail = rtest.sipp("uac_call", srv.port, "-s", "forks", calls=1,
                                        rate=1, timeout=30)
        c.check(rc == 0 and ok == 1, "sequential: the caller gets the 200 of the q=0.5 "
                "callee (exit %d)" % rc, tail + srv.tail())
        brc, btail = busy.wait()
        arc, atail = ans.wait()
        c.check(brc == 0 and arc == 0, "sequential: both callees complete (exit %d, %d)"
                % (brc, arc), btail + atail)
        t1, t2 = busy.first("INVITE"), ans.first("INVITE")
        c.check(t1 is not None and t2 is not None and t2 - t1 >= 0.4,
                "sequential: the q=0.5 callee got its INVITE after the q=1.0 one's 486, "
                "sent 0.5 s after its INVITE (%s, %s)" % (t1, t2))
    finally:
        busy.kill()
        ans.kill()
    # 3. both branches reject: 6xx before 4xx (§16.7 item 6)
    busy, dec = Uas("uas_reject", 1, timeout=30), Uas("uas_decline", 1, timeout=30)
    try:
        for u in (busy, dec):
            code = register(srv.port, "forkr", "sip:forkr@127.0.0.1:%d" % u.port)
            c.check(code == 200, "reject: binding registered (%s)" % code)
        code = invite(srv.port, "forkr")
        c.check(code == 603, "486 and 603: the caller gets 603 (%s)" % code, srv.tail())
        for u, what in ((busy, "486"), (dec, "603")):
            urc, utail = u.wait()
            c.check(urc == 0, "reject: the %s callee got the INVITE and the ACK (exit %d)"
                    % (what, urc), utail)
    finally:
        busy.kill()
        dec.kill()


def req_msg(ruri, frm, hdrs="", method="INVITE"):
    """A request to ruri from frm (a SIP URI), with extra header lines hdrs."""
    return ("%s %s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:LPORT;branch=z9hG4bK%x;rport\r\n"
            "Max-Forwards: 70\r\n"
            "To: <%s>\r\n"
            "From: <%s>;tag=%x\r\n"
            "Call-ID: rel-%x\r\n"
            "CSeq: 1 %s\r\n"
            "Contact: <sip:caller@127.0.0.1:LPORT>\r\n%s"
            "Content-Length: 0\r\n\r\n" % (method, ruri, random.getrandbits(60), ruri, frm,
                                           random.getrandbits(32), random.getrandbits(48),
                                           method, hdrs)).encode()


def proxy_digest(resp, user, password, ruri, method="INVITE", hdr="Proxy", nc=1):
    """A Proxy-Authorization (or Authorization) line answering the MD5 challenge in resp."""
    resp = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else resp
    name = "Proxy-Authenticate" if hdr == "Proxy" else "WWW-Authenticate"
    for m in re.finditer(r"\r\n" + name + r": Digest ([^\r]*)", resp):
        p = dict(re.findall(r'(\w+)="?([^",]*)"?', m.group(1)))
        if p.get("algorithm", "MD5").upper() != "MD5":
            continue
        h = lambda x: hashlib.md5(x.encode()).hexdigest()  # noqa: E731
        ncs, cn = "%08x" % nc, "0a4f113b"
        r = h("%s:%s:%s:%s:auth:%s" % (h("%s:%s:%s" % (user, p["realm"], password)),
                                       p["nonce"], ncs, cn, h("%s:%s" % (method, ruri))))
        return ('%s: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
                'response="%s", algorithm=MD5, qop=auth, nc=%s, cnonce="%s"\r\n' %
                ("Proxy-Authorization" if hdr == "Proxy" else "Authorization",
                 user, p["realm"], p["nonce"], ruri, r, ncs, cn))
    return None


class RejectUas:
    """A UDP callee answering every INVITE 486 (and ignoring the rest); keeps the INVITEs."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.invites = []
        self.stop = False
        self.th = threading.Thread(target=self.run, daemon=True)
        self.th.start()

    def run(self):
        while not self.stop:
            try:
                d, a = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not d.startswith(b"INVITE "):
                continue
            self.invites.append(d)
            head = d.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]
            keep = [l for l in head if l.split(b":", 1)[0].strip().lower() in
                    (b"via", b"from", b"call-id", b"cseq")]
            to = [l for l in head if l.lower().startswith(b"to:")]
            r = (b"SIP/2.0 486 Busy Here\r\n" + b"\r\n".join(keep) + b"\r\n" +
                 (to[0] + b";tag=uas1\r\n" if to else b"") + b"Content-Length: 0\r\n\r\n")
            self.sock.sendto(r, a)

    def close(self):
        self.stop = True
        self.th.join(2)
        self.sock.close()


def sipp_foreign(port, host, calls=3):
    """uac_call to sip:relay@HOST:port, the requests sent to ringletd (-rsa)."""
    statf = os.path.join(tempfile.mkdtemp(prefix="sipp-"), "stat.csv")
    cmd = ["sipp", "-sf", os.path.join(rtest.SIPP_DIR, "uac_call.xml"),
           "%s:%d" % (host, port), "-rsa", "127.0.0.1:%d" % port, "-s", "relay",
           "-i", "127.0.0.1", "-p", str(rtest.free_port()), "-cp", str(rtest.free_port()),
           "-mp", str(rtest.free_port(kind="udp")), "-t", "u1", "-m", str(calls), "-r", "5",
           "-timeout", "30s", "-timeout_error", "-nostdin", "-trace_stat", "-stf", statf]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout[-1500:] + p.stderr[-1500:]


def relay_checks(c):
    """Static routes and the relay rules (§16.5, §16.6 item 7, §22.3)."""
    with rtest.Server(workers=1) as srv:
        code, _ = sip_exchange(srv.port, req_msg("sip:x@far.example",
                                                 "sip:eve@elsewhere.example"))
        c.check(code == 403, "relay: foreign domain, untrusted foreign caller: 403 (%s)" % code)
        code, _ = sip_exchange(srv.port, req_msg("sip:x@far.example", "sip:caller@127.0.0.1"))
        c.check(code == 403, "relay: our caller, foreign domain without a static route: 403 (%s)"
                % code)
        c.check(srv.stop() == 0, "relay: ringletd exits 0", srv.tail())
    # a trusted source: the call to the routed domain completes through us
    uas = Uas("uas_answer", 3, timeout=30)
    try:
        with rtest.Server("--trust", "127.0.0.0/8", "--route",
                          "127.0.0.2=sip:127.0.0.1:%d" % uas.port, workers=2) as srv:
            rc, tail = sipp_foreign(srv.port, "127.0.0.2", calls=3)
            c.check(rc == 0, "relay: trusted source, --route: 3 calls to sip:relay@127.0.0.2 "
                    "complete (exit %d)" % rc, tail + srv.tail())
            urc, utail = uas.wait()
            c.check(urc == 0, "relay: the routed callee completes 3 calls (exit %d)" % urc,
                    utail)
            c.check(srv.stop() == 0, "relay: ringletd (--trust) exits 0", srv.tail())
    finally:
        uas.kill()
    # --auth on: our users answer a 407, others calling our users do not
    d = tempfile.mkdtemp(prefix="rl-relay-")
    db = "sqlite:" + os.path.join(d, "s.db")
    for aor, pw in (("alice@127.0.0.1", "apw"), ("bob@127.0.0.1", "bpw")):
        p = subprocess.run([rtest.RINGLETD, "--store", db, "user", "add", aor, pw],
                           capture_output=True, timeout=30)
        c.check(p.returncode == 0, "relay: provision %s" % aor, p.stderr)
    uas = RejectUas()
    try:
        with rtest.Server("--route", "far.example=sip:127.0.0.1:%d" % uas.port, workers=1,
                          store=db, auth="on") as srv:
            ruri, alice = "sip:x@far.example", "sip:alice@127.0.0.1"
            code, r = sip_exchange(srv.port, req_msg(ruri, alice))
            c.check(code == 407 and b"\r\nProxy-Authenticate: Digest " in r,
                    "relay: our user without credentials: 407 with Proxy-Authenticate (%s)"
                    % code, srv.tail())
            c.check(not uas.invites, "relay: nothing forwarded before authentication")
            code2, _ = sip_exchange(srv.port, req_msg(
                ruri, alice, proxy_digest(r, "alice", "wrong", ruri) or ""))
            c.check(code2 == 407, "relay: wrong password: 407 again (%s)" % code2)
            code, r = sip_exchange(srv.port, req_msg(ruri, alice))
            code3, _ = sip_exchange(srv.port, req_msg(
                ruri, alice, proxy_digest(r, "alice", "apw", ruri) or ""))
            c.check(code3 == 486 and len(uas.invites) == 1,
                    "relay: right Proxy-Authorization: forwarded to the route, its 486 back "
                    "(%s, %d INVITEs)" % (code3, len(uas.invites)), srv.tail())
            fwd = uas.invites[0] if uas.invites else b""
            c.check(fwd.startswith(b"INVITE sip:x@far.example SIP/2.0\r\n") and
                    hdr_lines(fwd, "Max-Forwards") == [b"69"] and
                    len(hdr_lines(fwd, "Record-Route")) == 1 and len(hdr_lines(fwd, "Via")) == 2,
                    "relay: the routed INVITE keeps its Request-URI, Max-Forwards 69, our "
                    "Record-Route and Via", fwd[:600])
            c.check(fwd and not hdr_lines(fwd, "Proxy-Authorization"),
                    "relay: the credentials for our realm are consumed, not forwarded (§22.3)",
                    fwd[:600])
            # bob registers (401 digest) with the fake callee as contact
            reg = register_msg(srv.port, "bob", uas.port)
            code, r = sip_exchange(srv.port, reg)
            auth = proxy_digest(r, "bob", "bpw", "sip:127.0.0.1", method="REGISTER",
                                hdr="WWW") if code == 401 else None
            code, _ = sip_exchange(srv.port, register_msg(srv.port, "bob", uas.port,
                                                          auth or ""))
            c.check(code == 200, "relay: bob registered with digest (%s)" % code)
            bob = "sip:bob@127.0.0.1:%d" % srv.port
            code, _ = sip_exchange(srv.port, req_msg(bob, "sip:eve@elsewhere.example"))
            c.check(code == 486 and len(uas.invites) == 2,
                    "relay: foreign caller to our user with --auth on: forwarded without "
                    "challenge (%s)" % code, srv.tail())
            code, r = sip_exchange(srv.port, req_msg(bob, alice))
            c.check(code == 407 and len(uas.invites) == 2,
                    "relay: our user to our user with --auth on: 407 (%s)" % code)
            code, _ = sip_exchange(srv.port, req_msg(
                bob, alice, proxy_digest(r, "alice", "apw", bob) or ""))
            c.check(code == 486 and len(uas.invites) == 3,
                    "relay: our user to our user, authenticated: forwarded (%s)" % code)
            c.check(srv.stop() == 0, "relay: ringletd (--auth on) exits 0", srv.tail())
    finally:
        uas.close()


class AnswerUas:
    """A UDP callee answering every request of `methods` with `code` plus the header
    lines `hdrs` (and the ACK for an INVITE's non-2xx with nothing); keeps the requests."""

    def __init__(self, code, hdrs="", methods=(b"INVITE",)):
        self.code, self.hdrs, self.methods = code, hdrs.encode(), methods
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.got = []
        self.stop = False
        self.th = threading.Thread(target=self.run, daemon=True)
        self.th.start()

    def run(self):
        while not self.stop:
            try:
                d, a = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if d.startswith(b"SIP/2.0"):
                continue
            self.got.append(d)
            if d.split(b" ", 1)[0] not in self.methods:
                continue
            head = d.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]
            keep = [l for l in head if l.split(b":", 1)[0].strip().lower() in
                    (b"via", b"from", b"call-id", b"cseq")]
            to = [l for l in head if l.lower().startswith(b"to:")]
            r = (b"SIP/2.0 %d Answer\r\n" % self.code + b"\r\n".join(keep) + b"\r\n" +
                 (to[0] + b";tag=ans%d\r\n" % self.port if to else b"") + self.hdrs +
                 b"Content-Length: 0\r\n\r\n")
            self.sock.sendto(r, a)

    def requests(self, method):
        return [d for d in self.got if d.startswith(method.encode() + b" ")]

    def close(self):
        self.stop = True
        self.th.join(2)
        self.sock.close()


def sipp_to(scenario, port, host, user, calls=1, timeout=30):
    """SIPp scenario to sip:USER@HOST:port, the requests sent to ringletd (-rsa)."""
    statf = os.path.join(tempfile.mkdtemp(prefix="sipp-"), "stat.csv")
    cmd = ["sipp", "-sf", os.path.join(rtest.SIPP_DIR, scenario + ".xml"),
           "%s:%d" % (host, port), "-rsa", "127.0.0.1:%d" % port, "-s", user,
           "-i", "127.0.0.1", "-p", str(rtest.free_port()), "-cp", str(rtest.free_port()),
           "-mp", str(rtest.free_port(kind="udp")), "-t", "u1", "-m", str(calls), "-r", "5",
           "-timeout", "%ds" % timeout, "-timeout_error", "-nostdin", "-trace_stat",
           "-stf", statf]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 30)
    return p.returncode, p.stdout[-1500:] + p.stderr[-1500:]


def loop_checks(c, srv):
    """§16.3 items 3-5 with SIPp callers: 482 for a loop, a spiral completes, 483, 420."""
    code = register(srv.port, "loopy", "sip:loopy@127.0.0.1:%d" % srv.port)
    c.check(code == 200, "loop: a binding that points at ringletd itself (%s)" % code)
    rc, ok, fail, tail = rtest.sipp("prx_uac_482", srv.port, "-s", "loopy", calls=3, rate=5,
                                    timeout=30)
    c.check(rc == 0 and ok == 3, "loop: the request comes back unchanged: 3 callers get 482 "
            "Loop Detected (%s ok, %s failed)" % (ok, fail), tail + srv.tail())
    # a spiral: alias -> spiralbob, both ours; the Request-URI changes, so no 482
    uas = Uas("uas_answer", 2, timeout=30)
    try:
        code = register(srv.port, "spiralbob", "sip:spiralbob@127.0.0.1:%d" % uas.port)
        code2 = register(srv.port, "alias", "sip:spiralbob@127.0.0.1:%d" % srv.port)
        c.check(code == 200 and code2 == 200, "spiral: alias -> spiralbob -> callee registered")
        rc, ok, fail, tail = rtest.sipp("uac_call", srv.port, "-s", "alias", calls=2, rate=5,
                                        timeout=30)
        c.check(rc == 0 and ok == 2, "spiral: 2 calls to the alias pass ringletd twice and "
                "complete, ACK and BYE too (%s ok, %s failed)" % (ok, fail), tail + srv.tail())
        urc, utail = uas.wait()
        c.check(urc == 0, "spiral: the callee completes both calls (exit %d)" % urc, utail)
    finally:
        uas.kill()
    ans = AnswerUas(486)
    try:
        code = register(srv.port, "hops", "sip:hops@127.0.0.1:%d" % ans.port)
        c.check(code == 200, "483/420: callee registered (%s)" % code)
        rc, ok, fail, tail = rtest.sipp("prx_uac_483", srv.port, "-s", "hops", calls=1,
                                        rate=5, timeout=20)
        c.check(rc == 0 and ok == 1, "Max-Forwards: 0 for our user: 483 to the SIPp caller "
                "(exit %d)" % rc, tail)
        rc, ok, fail, tail = rtest.sipp("prx_uac_420", srv.port, "-s", "hops", calls=1,
                                        rate=5, timeout=20)
        c.check(rc == 0 and ok == 1, "Proxy-Require: path, x-no-such-ext: 420 with Unsupported: "
                "x-no-such-ext only (exit %d)" % rc, tail)
        time.sleep(0.3)
        c.check(not ans.got, "483/420: nothing forwarded to the callee (%d)" % len(ans.got))
        code, _ = sip_exchange(srv.port, req_msg("sip:hops@127.0.0.1:%d" % srv.port,
                                                 "sip:caller@127.0.0.1",
                                                 "Proxy-Require: path\r\n"))
        c.check(code == 486 and len(ans.requests("INVITE")) == 1,
                "Proxy-Require: path (supported) is forwarded: the callee's 486 (%s)" % code)
    finally:
        ans.close()


def static_loop_checks(c):
    """A static route that points back at ringletd: the second pass answers 482."""
    port = rtest.free_port()
    with rtest.Server("--trust", "127.0.0.0/8", "--route", "127.0.0.3=sip:127.0.0.1:%d" % port,
                      port=port, workers=2) as srv:
        rc, tail = sipp_to("prx_uac_482", srv.port, "127.0.0.3", "far", calls=2)
        c.check(rc == 0, "loop: --route 127.0.0.3=ringletd itself: the SIPp caller gets 482 "
                "(exit %d)" % rc, tail + srv.tail())
        c.check(srv.stop() == 0, "loop: ringletd (route to itself) exits 0", srv.tail())


def timer_c_checks(c):
    """Timer C (§16.8): 180 and no final answer; --timer-c 1500."""
    uas = Uas("uas_ring", 1, timeout=30)
    try:
        with rtest.Server("--timer-c", "1500", workers=2) as srv:
            code = register(srv.port, "ringer", "sip:ringer@127.0.0.1:%d" % uas.port)
            c.check(code == 200, "Timer C: the ringing callee registered (%s)" % code)
            t0 = time.monotonic()
            rc, ok, fail, tail = rtest.sipp("prx_uac_408", srv.port, "-s", "ringer", calls=1,
                                            rate=1, timeout=20)
            took = time.monotonic() - t0
            c.check(rc == 0 and ok == 1, "Timer C: the SIPp caller gets 180, then 408 "
                    "(exit %d)" % rc, tail + srv.tail())
            c.check(1.4 <= took < 10, "Timer C: the 408 comes after --timer-c 1500 ms "
                    "(%.1f s)" % took)
            urc, utail = uas.wait()
            c.check(urc == 0, "Timer C: the callee gets the CANCEL, answers 200 and 487, "
                    "gets the ACK (exit %d)" % urc, utail)
            c.check(srv.stop() == 0, "Timer C: ringletd exits 0", srv.tail())
    finally:
        uas.kill()


def challenge_merge_checks(c, srv):
    """§16.7 item 7: the 401/407 forwarded has every branch's challenges."""
    a = AnswerUas(401, 'WWW-Authenticate: Digest realm="uas-a.example", nonce="na", qop="auth"'
                  '\r\n')
    b = AnswerUas(407, 'Proxy-Authenticate: Digest realm="uas-b.example", nonce="nb"\r\n'
                  'Proxy-Authenticate: Digest realm="uas-b.example", nonce="nb2", '
                  'algorithm=SHA-256\r\n')
    try:
        for u in (a, b):
            code = register(srv.port, "chal", "sip:chal@127.0.0.1:%d" % u.port)
            c.check(code == 200, "401/407: binding registered (%s)" % code)
        code, r = sip_exchange(srv.port, invite_msg(srv.port, "chal").encode(), timeout=4.0)
        www, prx = hdr_lines(r, "WWW-Authenticate"), hdr_lines(r, "Proxy-Authenticate")
        c.check(code in (401, 407) and len(a.requests("INVITE")) == 1 and
                len(b.requests("INVITE")) == 1, "401/407: both callees challenged (%s)" % code)
        c.check(www == [b'Digest realm="uas-a.example", nonce="na", qop="auth"'] and
                prx == [b'Digest realm="uas-b.example", nonce="nb"',
                        b'Digest realm="uas-b.example", nonce="nb2", algorithm=SHA-256'],
                "401/407: the caller's %s carries the 401's WWW-Authenticate and both of the "
                "407's Proxy-Authenticate, unchanged" % code, r)
    finally:
        a.close()
        b.close()


def message_checks(c, srv):
    """MESSAGE and OPTIONS fork to every binding (§16.6); sipsak as a caller."""
    u1, u2 = (AnswerUas(200, methods=(b"MESSAGE", b"OPTIONS")) for _ in range(2))
    try:
        for u in (u1, u2):
            code = register(srv.port, "msg", "sip:msg@127.0.0.1:%d" % u.port)
            c.check(code == 200, "MESSAGE: binding registered (%s)" % code)
        ruri = "sip:msg@127.0.0.1:%d" % srv.port
        for method in ("MESSAGE", "OPTIONS"):
            code, r = sip_exchange(srv.port, req_msg(ruri, "sip:caller@127.0.0.1",
                                                     method=method))
            time.sleep(0.3)
            n1, n2 = len(u1.requests(method)), len(u2.requests(method))
            c.check(code == 200 and n1 == 1 and n2 == 1, "%s to a user with two bindings: both "
                    "get it once, the caller gets 200 (%s; %d, %d)" % (method, code, n1, n2),
                    srv.tail())
        # sipsak 0.9.8's -M (message mode) crashes before sending (a NULL reply
        # buffer), so sipsak sends our MESSAGE from a file (-f), adding its Via
        f = os.path.join(tempfile.mkdtemp(prefix="rl-sipsak-"), "message.txt")
        with open(f, "w") as out:  # LF only: sipsak adds the CRs
            out.write("MESSAGE %s SIP/2.0\nFrom: <sip:sipsak@127.0.0.1>;tag=ss%x\n"
                      "To: <%s>\nCall-ID: sipsak-%x\nCSeq: 1 MESSAGE\nMax-Forwards: 70\n"
                      "Content-Type: text/plain\nContent-Length: 13\n\nhello ringlet"
                      % (ruri, random.getrandbits(32), ruri, random.getrandbits(48)))
        p = subprocess.run(["sipsak", "-f", f, "-s", ruri], capture_output=True, text=True,
                           timeout=30)
        time.sleep(0.3)
        got = [m for u in (u1, u2) for m in u.requests("MESSAGE") if b"hello ringlet" in m]
        c.check(p.returncode == 0 and len(got) == 2,
                "sipsak -f MESSAGE: both bindings get the text, sipsak gets 200 (exit %d, %d)"
                % (p.returncode, len(got)), p.stdout[-600:] + p.stderr[-600:])
        code, _ = sip_exchange(srv.port, req_msg("sip:nobody@127.0.0.1:%d" % srv.port,
                                                 "sip:caller@127.0.0.1", method="MESSAGE"))
        c.check(code == 404, "MESSAGE to an unknown user: 404 (%s)" % code)
    finally:
        u1.close()
        u2.close()


def sha256_digest(resp, user, password, ruri, algorithm="SHA-256", method="INVITE"):
    """A Proxy-Authorization line answering resp's first challenge with `algorithm`
    (MD5 or SHA-256) whatever that challenge offered."""
    resp = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else resp
    m = re.search(r"\r\nProxy-Authenticate: Digest ([^\r]*)", resp)
    if not m:
        return ""
    p = dict(re.findall(r'(\w+)="?([^",]*)"?', m.group(1)))
    hf = hashlib.sha256 if algorithm == "SHA-256" else hashlib.md5
    h = lambda x: hf(x.encode()).hexdigest()  # noqa: E731
    ncs, cn = "00000001", "0b5c2d1e"
    r = h("%s:%s:%s:%s:auth:%s" % (h("%s:%s:%s" % (user, p["realm"], password)), p["nonce"],
                                   ncs, cn, h("%s:%s" % (method, ruri))))
    return ('Proxy-Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
            'response="%s", algorithm=%s, qop=auth, nc=%s, cnonce="%s"\r\n' %
            (user, p["realm"], p["nonce"], ruri, r, algorithm, ncs, cn))


def auth_alg_checks(c):
    """--auth-algorithms: the proxy's 407 offers only those, and accepts only those."""
    d = tempfile.mkdtemp(prefix="rl-algs-")
    db = "sqlite:" + os.path.join(d, "s.db")
    p = subprocess.run([rtest.RINGLETD, "--store", db, "user", "add", "alice@127.0.0.1", "apw"],
                       capture_output=True, timeout=30)
    c.check(p.returncode == 0, "algorithms: provision alice@127.0.0.1", p.stderr)
    uas = RejectUas()
    ruri, alice = "sip:x@far.example", "sip:alice@127.0.0.1"
    try:
        for algs, want in (("md5", ["MD5"]), ("sha-256", ["SHA-256"]),
                           ("sha-256,md5", ["SHA-256", "MD5"])):
            with rtest.Server("--route", "far.example=sip:127.0.0.1:%d" % uas.port,
                              "--auth-algorithms", algs, workers=1, store=db,
                              auth="on") as srv:
                code, r = sip_exchange(srv.port, req_msg(ruri, alice))
                got = [re.search(rb"algorithm=([\w-]+)", v).group(1).decode()
                       if re.search(rb"algorithm=([\w-]+)", v) else "MD5"
                       for v in hdr_lines(r, "Proxy-Authenticate")]
                c.check(code == 407 and got == want, "algorithms %s: the 407 offers %s (%s %s)"
                        % (algs, want, code, got), r)
                if algs == "sha-256":
                    n = len(uas.invites)
                    code, _ = sip_exchange(srv.port, req_msg(
                        ruri, alice, sha256_digest(r, "alice", "apw", ruri, "MD5")))
                    c.check(code == 407 and len(uas.invites) == n,
                            "algorithms sha-256: a right MD5 answer is challenged again (%s)"
                            % code)
                    code, r = sip_exchange(srv.port, req_msg(ruri, alice))
                    code, _ = sip_exchange(srv.port, req_msg(
                        ruri, alice, sha256_digest(r, "alice", "apw", ruri)))
                    c.check(code == 486 and len(uas.invites) == n + 1,
                            "algorithms sha-256: the SHA-256 answer is forwarded (%s)" % code)
                c.check(srv.stop() == 0, "algorithms %s: ringletd exits 0" % algs, srv.tail())
    finally:
        uas.close()


def register_msg(port, user, cport, hdrs=""):
    return ("REGISTER sip:127.0.0.1 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:LPORT;branch=z9hG4bK%x;rport\r\n"
            "Max-Forwards: 70\r\n"
            "To: <sip:%s@127.0.0.1>\r\n"
            "From: <sip:%s@127.0.0.1>;tag=%x\r\n"
            "Call-ID: regr-%s\r\n"
            "CSeq: %d REGISTER\r\n"
            "Contact: <sip:%s@127.0.0.1:%d>;expires=300\r\n%s"
            "Content-Length: 0\r\n\r\n" % (random.getrandbits(60), user, user,
                                           random.getrandbits(32), user, 2 if hdrs else 1,
                                           user, cport, hdrs)).encode()


def portless_checks(c, srv):
    """A user's URI without a port names the domain, as the AOR the registrar
    stored does, whatever port ringletd listens on; with another port it is
    some other host's address, not ours."""
    uas = AnswerUas(486)
    try:
        code = register(srv.port, "nport", "sip:nport@127.0.0.1:%d" % uas.port)
        c.check(code == 200, "port-less AOR: nport@127.0.0.1 registered (%s)" % code)
        code, _ = sip_exchange(srv.port, req_msg("sip:nport@127.0.0.1", "sip:caller@127.0.0.1"),
                               timeout=4.0)
        c.check(code == 486 and len(uas.requests("INVITE")) == 1,
                "port-less AOR: INVITE sip:nport@127.0.0.1 reaches the binding, 486 back "
                "(%s, %d INVITEs)" % (code, len(uas.requests("INVITE"))), srv.tail())
        code, _ = sip_exchange(srv.port, req_msg("sip:nport@127.0.0.1:%d" % rtest.free_port(),
                                                 "sip:caller@far.example"), timeout=4.0)
        c.check(code == 403 and len(uas.requests("INVITE")) == 1,
                "a user URI with another port is not ours: foreign caller gets 403 (%s)" % code)
    finally:
        uas.close()


def main():
    c = rtest.Checks()
    with rtest.Server(workers=2) as srv:
        call_run(c, srv, "answered calls, ACK and BYE via Record-Route", "uas_answer",
                 "uac_call", "bob", 20)
        call_run(c, srv, "busy callee", "uas_reject", "uac_reject", "busy", 5)
        call_run(c, srv, "CANCEL while ringing", "uas_ring", "uac_cancel", "ring", 3)
        call_run(c, srv, "caller over TCP", "uas_answer", "uac_call", "tcpbob", 5,
                 transport="t1")
        forwarded_checks(c, srv)
        two_xx_checks(c, srv)
        fork_checks(c, srv)
        loop_checks(c, srv)
        challenge_merge_checks(c, srv)
        message_checks(c, srv)
        portless_checks(c, srv)
        code = invite(srv.port, "nobody")
        c.check(code == 404, "INVITE to an unknown user without bindings: 404 (%s)" % code)
        c.check(srv.stop() == 0, "ringletd exits 0 on SIGTERM", srv.tail())
    d = tempfile.mkdtemp(prefix="rl-prx-")
    db = "sqlite:" + os.path.join(d, "s.db")
    p = subprocess.run([rtest.RINGLETD, "--store", db, "user", "add", "carol@127.0.0.1",
                        "secret"], capture_output=True, timeout=30)
    c.check(p.returncode == 0, "provision carol@127.0.0.1", p.stderr)
    with rtest.Server(workers=1, store=db) as srv:
        code = invite(srv.port, "carol")
        c.check(code == 480, "INVITE to a provisioned user without bindings: 480 (%s)" % code)
        code, _ = sip_exchange(srv.port, req_msg("sip:carol@127.0.0.1:%d" % srv.port,
                                                 "sip:caller@127.0.0.1", method="MESSAGE"))
        c.check(code == 480, "MESSAGE to a provisioned user without bindings: 480 (%s)" % code)
        c.check(srv.stop() == 0, "ringletd (SQLite) exits 0 on SIGTERM", srv.tail())
    relay_checks(c)
    static_loop_checks(c)
    timer_c_checks(c)
    auth_alg_checks(c)
    return c.done()


if __name__ == "__main__":
    sys.exit(main())
