#!/usr/bin/env python3
"""ringletd's first behaviours, black-box: OPTIONS to itself over UDP, TCP and
IPv6 (200 with Allow, Accept, Supported; received/rport in the Via), the
status every other request gets, stateless 400 for a malformed request,
bad flags (exit 2, one line), a busy port (exit 2), SIGINT and SIGTERM (exit 0).
"""
import os
import random
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtest  # noqa: E402


def request(method, ruri, port, extra="", cseq_method=None):
    tag = random.getrandbits(32)
    return ("%s %s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK%x;rport\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=%x\r\nTo: <%s>\r\n"
            "Call-ID: basic-%x\r\nCSeq: 1 %s\r\n%sContent-Length: 0\r\n\r\n" %
            (method, ruri, random.getrandbits(48), tag, ruri, random.getrandbits(48),
             cseq_method or method, extra)).encode()


def status(resp):
    return int(resp.split(b" ", 2)[1]) if resp else None


def header(resp, name):
    for line in resp.decode("latin-1").split("\r\n")[1:]:
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return None


def tcp_request(port, data, host="127.0.0.1", family=socket.AF_INET):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect((host, port))
        s.sendall(data)
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                break
            buf += d
        return buf
    finally:
        s.close()


def main():
    c = rtest.Checks()
    port6 = rtest.free_port()
    with rtest.Server(workers=2, extra_listen=["udp:[::1]:%d" % port6,
                                               "tcp:[::1]:%d" % port6]) as srv:
        p = srv.port
        r = rtest.udp_request(p, rtest.options_msg("127.0.0.1", p))
        c.check(status(r) == 200, "OPTIONS over UDP: 200", r)
        c.check(r and "OPTIONS" in (header(r, "Allow") or ""), "200 has Allow", r)
        c.check(r and header(r, "Accept") == "application/sdp", "200 has Accept", r)
        c.check(r and header(r, "Supported") is not None, "200 has Supported", r)
        via = header(r, "Via") or ""
        c.check("received=127.0.0.1" in via and "rport=" in via,
                "response Via has received and the rport value (RFC 3581)", via)
        r = tcp_request(p, rtest.options_msg("127.0.0.1", p, transport="TCP"))
        c.check(status(r) == 200, "OPTIONS over TCP: 200", r)
        s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s6.settimeout(3)
        s6.bind(("::1", 0))
        s6.sendto(rtest.options_msg("[::1]", port6), ("::1", port6))
        try:
            r = s6.recvfrom(65536)[0]
        except socket.timeout:
            r = None
        s6.close()
        c.check(status(r) == 200, "OPTIONS over UDP/IPv6: 200", r)
        r = tcp_request(port6, rtest.options_msg("[::1]", port6, transport="TCP"), host="::1",
                        family=socket.AF_INET6)
        c.check(status(r) == 200, "OPTIONS over TCP/IPv6: 200", r)

        me = "sip:127.0.0.1:%d" % p
        cases = [
            (request("INFO", me, p), 405, "INFO to the server: 405 with Allow"),
            (request("FOO", me, p), 501, "unknown method to the server: 501"),
            (request("INVITE", "sip:bob@127.0.0.1:%d" % p, p), 404,
             "INVITE to an unknown user of ours: 404"),
            (request("INVITE", "sip:bob@biloxi.example", p), 403,
             "INVITE for a foreign domain: 403, never relayed"),
            (request("INVITE", "sip:bob@biloxi.example", p, extra="Require: foo\r\n"), 403,
             "unknown Require in a request to forward: not checked (§16.3), 403 relay"),
            (request("OPTIONS", me, p, extra="Require: foo\r\n"), 420,
             "unknown Require in a request to the server itself: 420"),
            (request("OPTIONS", "sip:bob@biloxi.example", p,
                     extra="Max-Forwards: 0\r\n").replace(b"Max-Forwards: 70\r\n", b""),
             483, "Max-Forwards 0 for elsewhere: 483"),
            (request("OPTIONS", me, p, cseq_method="INVITE"), 400,
             "CSeq method mismatch: 400"),
            (request("OPTIONS", "nobarr:foo", p), 416, "unknown URI scheme: 416"),
        ]
        for data, want, what in cases:
            r = rtest.udp_request(p, data)
            c.check(status(r) == want, what, r)
            if want == 405:
                c.check(r and header(r, "Allow"), "405 has Allow", r)
            if want == 420:
                c.check(r and header(r, "Unsupported") == "foo", "420 names it in Unsupported",
                        r)
        c.check(srv.stop(signal.SIGINT) == 0, "exit 0 on SIGINT", srv.tail())

    for args, what in ((["--workers", "0"], "--workers 0"), (["--listen", "udp:nohost"],
                                                             "bad --listen"),
                       (["--bogus"], "unknown flag"), (["--mode", "x"], "bad --mode")):
        pr = subprocess.run([rtest.RINGLETD] + args, capture_output=True, text=True, timeout=10)
        lines = [l for l in pr.stderr.splitlines() if l.strip()]
        c.check(pr.returncode == 2 and len(lines) == 1, "%s: exit 2 with one line: %s" % (
            what, lines[0] if lines else ""), pr.stderr)

    with rtest.Server(workers=1) as srv:
        pr = subprocess.run([rtest.RINGLETD, "-l", "udp:127.0.0.1:%d" % srv.port, "--dns",
                             "off", "--store", "memory:"],
                            capture_output=True, text=True, timeout=10)
        c.check(pr.returncode == 2 and "cannot listen" in pr.stderr,
                "busy port: exit 2, says so", pr.stderr)
        c.check(srv.stop() == 0, "exit 0 on SIGTERM", srv.tail())
    return c.done()


if __name__ == "__main__":
    sys.exit(main())
