"""Shared helpers for Ringlet's black-box tests: find the build, pick free
loopback ports, start and stop ringletd, talk SIP over UDP/TCP, run SIPp.

Everything stays on 127.0.0.1 / ::1; every wait is bounded.
"""
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get("RINGLET_SRC", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BUILD = os.environ.get("RINGLET_BUILD", os.path.join(SRC, "build"))
TORTURE = os.environ.get("RINGLET_TORTURE", os.path.join(SRC, "..", "shared", "torture"))
RINGLETD = os.path.join(BUILD, "ringletd")
RINGLET = os.path.join(BUILD, "ringlet")


def free_port(kind="both", lo=20000, hi=40000):
    """A port free for UDP and TCP on 127.0.0.1 (random start, so parallel
    tests rarely collide; the bind check makes collisions impossible to miss)."""
    for _ in range(200):
        port = random.randint(lo, hi)
        socks = []
        try:
            if kind in ("both", "udp"):
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(u)
                u.bind(("127.0.0.1", port))
            if kind in ("both", "tcp"):
                t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(t)
                t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port")


def options_msg(host, port, transport="UDP", lport=0, cid=None):
    cid = cid or "rtest-%x" % random.getrandbits(48)
    return ("OPTIONS sip:%s:%d SIP/2.0\r\n"
            "Via: SIP/2.0/%s 127.0.0.1:%d;branch=z9hG4bK%x;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:probe@127.0.0.1>;tag=%x\r\n"
            "To: <sip:%s:%d>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n" % (host, port, transport, lport,
                                           random.getrandbits(48), random.getrandbits(32),
                                           host, port, cid)).encode()


def udp_request(port, data, timeout=2.0, host="127.0.0.1"):
    """Send one datagram, return the first datagram that comes back (or None)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", 0))
        s.settimeout(timeout)
        s.sendto(data, (host, port))
        try:
            return s.recvfrom(65536)[0]
        except socket.timeout:
            return None
    finally:
        s.close()


class Server:
    """A ringletd process on loopback ports of its own."""

    def __init__(self, *args, port=None, workers=2, store="memory:", extra_listen=(),
                 dns="off", auth="off", env=None):
        self.port = port or free_port()
        self.logdir = tempfile.mkdtemp(prefix="ringletd-")
        self.log = os.path.join(self.logdir, "ringletd.log")
        cmd = [RINGLETD, "-l", "udp:127.0.0.1:%d" % self.port,
               "-l", "tcp:127.0.0.1:%d" % self.port, "--dns", dns,
               "--workers", str(workers), "--store", store, "--auth", auth]
        for l in extra_listen:
            cmd += ["-l", l]
        cmd += list(args)
        self.cmd = cmd
        self.logf = open(self.log, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT,
                                     env=env)
        self.wait_ready()

    def wait_ready(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("ringletd exited with %d: %s" % (self.proc.returncode,
                                                                    self.tail()))
            r = udp_request(self.port, options_msg("127.0.0.1", self.port), timeout=0.3)
            if r:
                return
        raise RuntimeError("ringletd did not answer OPTIONS within %.0fs: %s" %
                           (timeout, self.tail()))

    def tail(self, n=2000):
        try:
            with open(self.log, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Stop it; returns its exit status (must be 0 on SIGTERM/SIGINT)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.logf.close()
                raise RuntimeError("ringletd did not exit within %.0fs of %s" %
                                   (timeout, signal.Signals(sig).name))
        self.logf.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.logf.closed:
            self.logf.close()


class Checks:
    """Counts named checks and prints the closing 'N passed, N failed' line."""

    def __init__(self):
        self.npass = 0
        self.nfail = 0

    def check(self, cond, what, detail=""):
        if cond:
            self.npass += 1
            print("ok   %s" % what)
        else:
            self.nfail += 1
            print("FAIL %s %s" % (what, detail))
        sys.stdout.flush()
        return cond

    def done(self):
        print("%d passed, %d failed" % (self.npass, self.nfail))
        return 0 if self.nfail == 0 and self.npass > 0 else 1


SIPP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sipp")


def sipp(scenario, port, *args, transport="u1", calls=100, rate=50, lost=0, timeout=60,
         key=None, lport=None):
    """Run one SIPp client scenario (tests/sipp/NAME.xml) against 127.0.0.1:port,
    from local port lport (default: a free one).
    Returns (exit status, successful calls, failed calls, output tail); the
    retransmission count is in sipp.last_retrans (a small cache, not shared state)."""
    lport = lport or free_port()
    cp = free_port()
    mp = free_port(kind="udp")
    statf = os.path.join(tempfile.mkdtemp(prefix="sipp-"), "stat.csv")
    cmd = ["sipp", "-sf", os.path.join(SIPP_DIR, scenario + ".xml"), "127.0.0.1:%d" % port,
           "-i", "127.0.0.1", "-p", str(lport), "-cp", str(cp), "-mp", str(mp),
           "-t", transport, "-m", str(calls), "-r", str(rate), "-l", str(max(calls, 10)),
           "-timeout", "%ds" % timeout, "-timeout_error", "-nostdin",
           "-trace_stat", "-stf", statf, "-fd", "1"]
    if lost:
        cmd += ["-lost", str(lost)]
    for k, v in (key or {}).items():
        cmd += ["-key", k, str(v)]
    cmd += list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 30)
    ok = fail = None
    sipp.last_retrans = None
    try:
        with open(statf) as f:
            rows = [r.rstrip("\n").split(";") for r in f if r.strip()]
        head, last = rows[0], rows[-1]
        ok = int(last[head.index("SuccessfulCall(C)")])
        fail = int(last[head.index("FailedCall(C)")])
        sipp.last_retrans = int(last[head.index("Retransmissions(C)")])
    except (OSError, ValueError, IndexError):
        pass
    return p.returncode, ok, fail, (p.stdout[-1500:] + p.stderr[-1500:])
