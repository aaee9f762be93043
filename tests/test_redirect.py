#!/usr/bin/env python3
"""The redirect server (ringletd --mode redirect, RFC 3261 §8.3, §21.3).

  1. bob registers two contacts (q=0.5, then q=1.0); an INVITE for bob gets
     302 with both, highest q first, each with its q and seconds left; the
     ACK for the 302 is absorbed (no retransmission); OPTIONS for bob too;
  2. an unknown user gets 404, a provisioned one without bindings 480
     (SQLite store, `ringletd user add`);
  3. a SIPp caller follows the 302: ACK, then the INVITE straight to the
     first contact, where a SIPp callee answers; the call completes without
     the server;
  4. the mode per domain (config file: domains = ( "proxy.example", { name =
     "redir.example"; mode = "redirect"; } )): the redirect domain answers 302
     (a SIPp caller follows it), 404 and 480, while the other domain of the
     same server proxies.
"""
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


class Ua:
    """One UDP socket: requests retransmitted like Timer A/E, the final answer returned."""

    def __init__(self, port):
        self.port = port
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.lport = self.s.getsockname()[1]

    def close(self):
        self.s.close()

    def send(self, data, timeout=3.0):
        data = data.replace("LPORT", str(self.lport)).encode()
        cid = re.search(rb"\r\nCall-ID: ([^\r]+)", data).group(1)
        deadline = time.monotonic() + timeout
        nxt, t1 = 0.0, 0.5
        while time.monotonic() < deadline:
            now = time.monotonic()
            if now >= nxt:
                self.s.sendto(data, ("127.0.0.1", self.port))
                nxt, t1 = now + t1, min(t1 * 2, 4.0)
            self.s.settimeout(max(0.01, min(nxt, deadline) - time.monotonic()))
            try:
                r = self.s.recv(65536)
            except socket.timeout:
                continue
            if (b"\r\nCall-ID: " + cid + b"\r\n") in r and int(r.split(b" ", 2)[1]) >= 200:
                return int(r.split(b" ", 2)[1]), r.decode("utf-8", "replace"), data
        return None, "", data

    def recv_all(self, timeout):
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                got.append(self.s.recv(65536))
            except socket.timeout:
                break
        return got


def register(ua, user, contact, q, expires=300, domain="127.0.0.1"):
    return ua.send("REGISTER sip:%s SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP 127.0.0.1:LPORT;branch=z9hG4bK%x;rport\r\n"
                   "Max-Forwards: 70\r\n"
                   "To: <sip:%s@%s>\r\n"
                   "From: <sip:%s@%s>;tag=%x\r\n"
                   "Call-ID: reg-%x\r\n"
                   "CSeq: 1 REGISTER\r\n"
                   "Contact: <%s>;q=%s;expires=%d\r\n"
                   "Content-Length: 0\r\n\r\n" % (domain, random.getrandbits(60), user, domain,
                                                  user, domain, random.getrandbits(32),
                                                  random.getrandbits(48), contact, q, expires))[0]


def request(ua, method, user, domain=None):
    """method to sip:user@domain (default: the server's address), from a caller of ours."""
    host = domain or "127.0.0.1:%d" % ua.port
    return ua.send("%s sip:%s@%s SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP 127.0.0.1:LPORT;branch=z9hG4bK%x;rport\r\n"
                   "Max-Forwards: 70\r\n"
                   "To: <sip:%s@%s>\r\n"
                   "From: <sip:caller@127.0.0.1>;tag=%x\r\n"
                   "Call-ID: %s-%x\r\n"
                   "CSeq: 1 %s\r\n"
                   "Contact: <sip:caller@127.0.0.1:LPORT>\r\n"
                   "Content-Length: 0\r\n\r\n" % (method, user, host, random.getrandbits(60),
                                                  user, domain or "127.0.0.1", random.getrandbits(32),
                                                  method.lower(), random.getrandbits(48), method))


def ack_for(req, resp):
    """The ACK for a non-2xx final (§17.1.1.3): the INVITE's Via, the response's To."""
    to = re.search(r"\r\nTo: ([^\r]+)", resp).group(1)
    a = re.sub(rb"^INVITE", b"ACK", req.split(b"\r\n\r\n")[0])
    a = re.sub(rb"\r\nTo: [^\r]+", b"\r\nTo: " + to.encode(), a)
    a = re.sub(rb"\r\nCSeq: 1 INVITE", b"\r\nCSeq: 1 ACK", a)
    return a + b"\r\n\r\n"


def contacts(resp):
    """[(URI, q or None, expires)] of the Contact headers, in order."""
    out = []
    for v in re.findall(r"\r\nContact: ([^\r]+)", resp):
        m = re.match(r"<([^>]*)>(.*)$", v)
        if not m:
            out.append((v, None, None))
            continue
        params = dict(p.split("=", 1) for p in m.group(2).split(";")[1:] if "=" in p)
        out.append((m.group(1), float(params["q"]) if "q" in params else None,
                    int(params["expires"]) if "expires" in params else None))
    return out


class Uas:
    """A SIPp UAS scenario (tests/sipp/NAME.xml) in the background, bounded."""

    def __init__(self, scenario, calls, timeout=30):
        self.port = rtest.free_port()
        self.timeout = timeout
        cmd = ["sipp", "-sf", os.path.join(rtest.SIPP_DIR, scenario + ".xml"),
               "-i", "127.0.0.1", "-p", str(self.port), "-cp", str(rtest.free_port()),
               "-mp", str(rtest.free_port(kind="udp")), "-t", "u1", "-m", str(calls),
               "-timeout", "%ds" % timeout, "-timeout_error", "-nostdin"]
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

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def redirect_checks(c, srv):
    ua = Ua(srv.port)
    uas = Uas("uas_answer", 1)
    try:
        first = "sip:bob@127.0.0.1:%d" % uas.port
        second = "sip:bob@127.0.0.1:%d" % rtest.free_port()
        code = register(ua, "bob", second, "0.5")
        c.check(code == 200, "bob's q=0.5 contact registered (%s)" % code)
        code = register(ua, "bob", first, "1.0")
        c.check(code == 200, "bob's q=1.0 contact registered (%s)" % code)
        code, resp, req = request(ua, "INVITE", "bob")
        c.check(code == 302, "INVITE for bob: 302 Moved Temporarily (%s)" % code, resp)
        got = contacts(resp)
        c.check([(u, q) for u, q, _ in got] == [(first, 1.0), (second, 0.5)],
                "302 has both contacts, highest q first, each with its q", got)
        c.check(len(got) == 2 and all(e is not None and 290 <= e <= 300 for _, _, e in got),
                "each contact has ;expires= with the seconds left (290..300)", got)
        if code == 302:
            ua.s.sendto(ack_for(req, resp), ("127.0.0.1", srv.port))
        again = [r for r in ua.recv_all(1.5) if r.startswith(b"SIP/2.0 302")]
        c.check(code == 302 and not again,
                "the ACK for the 302 is absorbed: no retransmission (%d)" % len(again))
        code, resp, _ = request(ua, "OPTIONS", "bob")
        c.check(code == 302 and len(contacts(resp)) == 2,
                "OPTIONS for bob: 302 with both contacts (%s)" % code, resp)
        code, _, _ = request(ua, "INVITE", "nobody")
        c.check(code == 404, "INVITE for an unknown user: 404 (%s)" % code)
        rc, ok, fail, tail = rtest.sipp("uac_redirect", srv.port, "-s", "bob", calls=1,
                                        rate=1, timeout=20)
        urc, utail = uas.wait()
        c.check(rc == 0 and ok == 1 and fail == 0,
                "SIPp caller follows the 302 to the first contact: call complete "
                "(%s ok, %s failed)" % (ok, fail), "sipp exit %d\n%s\n%s" % (rc, tail, srv.tail()))
        c.check(urc == 0, "SIPp callee answered the redirected INVITE, ACK and BYE "
                "(exit %d)" % urc, utail)
    finally:
        uas.kill()
        ua.close()


def answer_busy(sock, timeout=3.0):
    """The first request on sock (None if none came), answered 486 (the ACK is ignored)."""
    sock.settimeout(timeout)
    try:
        d, a = sock.recvfrom(65536)
    except socket.timeout:
        return None
    head = d.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]
    keep = [l for l in head if l.split(b":", 1)[0].strip().lower() in
            (b"via", b"from", b"call-id", b"cseq")]
    to = [l + b";tag=busy" for l in head if l.lower().startswith(b"to:")]
    sock.sendto(b"SIP/2.0 486 Busy Here\r\n" + b"\r\n".join(keep + to) +
                b"\r\nContent-Length: 0\r\n\r\n", a)
    return d


def domain_mode_checks(c):
    """The mode per domain, from the config file."""
    d = tempfile.mkdtemp(prefix="rl-rdr-dom-")
    conf = os.path.join(d, "ringlet.conf")
    with open(conf, "w") as f:
        f.write('domains = ( "proxy.example",\n'
                '            { name = "redir.example"; mode = "redirect"; } );\n')
    db = "sqlite:" + os.path.join(d, "s.db")
    p = subprocess.run([rtest.RINGLETD, "--store", db, "user", "add", "dave@redir.example",
                        "secret"], capture_output=True, timeout=30)
    c.check(p.returncode == 0, "domains: provision dave@redir.example", p.stderr)
    uas = Uas("uas_answer", 1)
    try:
        with rtest.Server("-c", conf, workers=2, store=db) as srv:
            ua = Ua(srv.port)
            callee = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            callee.bind(("127.0.0.1", 0))
            try:
                target = "sip:bob@127.0.0.1:%d" % uas.port
                code = register(ua, "bob", target, "1.0", domain="redir.example")
                code2 = register(ua, "carol", "sip:carol@127.0.0.1:%d" %
                                 callee.getsockname()[1], "1.0", domain="proxy.example")
                c.check(code == 200 and code2 == 200, "domains: bob@redir.example and "
                        "carol@proxy.example registered (%s, %s)" % (code, code2))
                code, resp, _ = request(ua, "INVITE", "bob", "redir.example")
                c.check(code == 302 and [u for u, _, _ in contacts(resp)] == [target],
                        "domains: INVITE bob@redir.example: 302 with its contact (%s)" % code,
                        resp)
                code, _, _ = request(ua, "INVITE", "nobody", "redir.example")
                c.check(code == 404, "domains: unknown user of the redirect domain: 404 (%s)"
                        % code)
                code, _, _ = request(ua, "INVITE", "dave", "redir.example")
                c.check(code == 480, "domains: provisioned user of the redirect domain without "
                        "bindings: 480 (%s)" % code)
                seen = []
                th = threading.Thread(target=lambda: seen.append(answer_busy(callee)))
                th.start()
                code, resp, _ = request(ua, "INVITE", "carol", "proxy.example")
                th.join(5)
                got = (seen or [None])[0] or b""
                c.check(code == 486 and got.startswith(b"INVITE sip:carol@127.0.0.1:"),
                        "domains: INVITE carol@proxy.example is proxied: the callee's 486 "
                        "comes back (%s)" % code, resp + srv.tail())
                rc, ok, fail, tail = rtest.sipp("rdr_uac_domain", srv.port, "-s", "bob",
                                                calls=1, rate=1, timeout=20,
                                                key={"domain": "redir.example"})
                urc, utail = uas.wait()
                c.check(rc == 0 and ok == 1, "domains: SIPp caller follows the 302 of "
                        "redir.example: call complete (exit %d)" % rc, tail + srv.tail())
                c.check(urc == 0, "domains: the SIPp callee answered the redirected call "
                        "(exit %d)" % urc, utail)
            finally:
                callee.close()
                ua.close()
            c.check(srv.stop() == 0, "domains: ringletd exits 0", srv.tail())
    finally:
        uas.kill()


def main():
    c = rtest.Checks()
    with rtest.Server("--mode", "redirect", workers=2) as srv:
        redirect_checks(c, srv)
        c.check(srv.stop() == 0, "ringletd --mode redirect exits 0 on SIGTERM", srv.tail())
        c.check("arrive later" not in srv.tail(), "no 'arrives later' warning for redirect",
                srv.tail())
    d = tempfile.mkdtemp(prefix="rl-rdr-")
    db = "sqlite:" + os.path.join(d, "s.db")
    p = subprocess.run([rtest.RINGLETD, "--store", db, "user", "add", "carol@127.0.0.1",
                        "secret"], capture_output=True, timeout=30)
    c.check(p.returncode == 0, "provision carol@127.0.0.1", p.stderr)
    with rtest.Server("--mode", "redirect", workers=1, store=db) as srv:
        ua = Ua(srv.port)
        try:
            code, _, _ = request(ua, "INVITE", "carol")
            c.check(code == 480, "INVITE for a provisioned user without bindings: 480 (%s)"
                    % code)
            code, _, _ = request(ua, "INVITE", "nobody")
            c.check(code == 404, "INVITE for an unknown user (SQLite): 404 (%s)" % code)
        finally:
            ua.close()
        c.check(srv.stop() == 0, "ringletd (SQLite) exits 0 on SIGTERM", srv.tail())
    domain_mode_checks(c)
    return c.done()


if __name__ == "__main__":
    sys.exit(main())
