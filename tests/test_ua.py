#!/usr/bin/env python3
"""The `ringlet` user agent, black box, against real peers: ringletd with
digest auth on (users provisioned in SQLite) and other ringlet processes.

  1. server: options (Allow), register (binding listed, un-REGISTER on
     SIGINT checked by a later registration's binding list), wrong password,
     MESSAGE through the proxy to a registered `ringlet answer`, a call
     through the proxy with 407 and audio both ways (tone sequences played
     from WAV files, found again in the other side's recording with a
     Goertzel detector, recordings as long as the call).
  2. direct: reject (486), busy (a second call while one is up), CANCEL on
     SIGINT while ringing (487, both sides see it), hold and resume by
     re-INVITE (media stops one way), BYE from the answering side, 481 for a
     BYE in no dialog, OPTIONS to a UA, the -v ladder, --json, bad usage.
  3. a 302 from ringletd --mode redirect followed to a UA on TCP; SIGINT
     after the answer sends BYE (exit 0).
  4. SIPp: it calls `ringlet answer`; a forking SIPp callee sends two 2xx
     to `ringlet call` (tests/sipp/ua_*.xml).
  5. RFC 3263: a dnsmasq on a loopback port serves SRV and A records; options
     and a call to sip:bob@ringlet.test reach the UA they name.
  6. in-dialog requests to host names: a scripted callee answers with a
     Record-Route or a Contact naming rr.ringlet.test / peer.ringlet.test
     with ;transport=tcp: the ACK, re-INVITE and BYE are resolved through
     dnsmasq and go over TCP, each with a TCP Via.

Everything runs on 127.0.0.1; every wait is bounded; every process is
killed in `finally`.
"""
import json
import math
import os
import random
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtest  # noqa: E402

RATE = 8000
TONE_MS = 300
TONES_A = (500, 900, 1300)
TONES_B = (700, 1100, 1500)
ALL_TONES = TONES_A + TONES_B


class UA:
    """One `ringlet VERB ...` process with its output in files."""
    procs = []

    def __init__(self, tmp, name, *args, env=None):
        self.out = os.path.join(tmp, name + ".out")
        self.err = os.path.join(tmp, name + ".err")
        self.name = name
        self.args = [rtest.RINGLET] + list(args)
        with open(self.out, "wb") as o, open(self.err, "wb") as e:
            self.p = subprocess.Popen(self.args, stdout=o, stderr=e, env=env)
        UA.procs.append(self.p)

    def text(self):
        with open(self.out, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def errtext(self):
        with open(self.err, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_for(self, pattern, timeout=5.0):
        """The first match of regex pattern in stdout, or None after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.text(), re.M)
            if m or time.monotonic() > deadline:
                return m
            if self.p.poll() is not None:
                return re.search(pattern, self.text(), re.M)
            time.sleep(0.02)

    def wait(self, timeout=10.0):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return None

    def sigint(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)

    def detail(self):
        return "\n[%s stdout]\n%s\n[%s stderr]\n%s" % (self.name, self.text()[-1500:], self.name,
                                                        self.errtext()[-1500:])


def kill_all():
    for p in UA.procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    UA.procs.clear()


# ---- audio ----------------------------------------------------------------

def write_tones(path, freqs):
    w = wave.open(path, "wb")
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(RATE)
    n = RATE * TONE_MS // 1000
    frames = bytearray()
    for f in freqs:
        for i in range(n):
            frames += struct.pack("<h", int(9000 * math.sin(2 * math.pi * f * i / RATE)))
    w.writeframes(bytes(frames))
    w.close()


def read_wav(path):
    try:
        w = wave.open(path, "rb")
    except (OSError, EOFError, wave.Error):
        return None, 0
    n = w.getnframes()
    rate = w.getframerate()
    data = struct.unpack("<%dh" % n, w.readframes(n)) if n else ()
    w.close()
    return data, rate


def goertzel(block, freq):
    k = 2 * math.cos(2 * math.pi * freq / RATE)
    a = b = 0.0
    for x in block:
        a, b = x + k * a - b, a
    return a * a + b * b - k * a * b


def tone_sequence(samples):
    """The sequence of distinct dominant tones in 50 ms blocks that carry energy."""
    seq = []
    blk = RATE // 20
    for i in range(0, len(samples) - blk + 1, blk):
        b = samples[i:i + blk]
        if sum(x * x for x in b) / blk < 1e5:
            continue
        powers = {f: goertzel(b, f) for f in ALL_TONES}
        best = max(powers, key=powers.get)
        others = sorted(powers.values())[-2]
        if powers[best] < 10 * others:
            continue  # not one clean tone (a transition)
        if not seq or seq[-1] != best:
            seq.append(best)
    return seq


def check_recording(c, path, want, secs, who):
    data, rate = read_wav(path)
    c.check(data is not None and rate == RATE, "%s: recording is an 8 kHz WAV" % who, path)
    if data is None:
        return
    length = len(data) / RATE
    c.check(abs(length - secs) <= 0.35, "%s: recording lasts the call (%.2f s, call %.1f s)" %
            (who, length, secs))
    seq = tone_sequence(data)
    c.check(seq[:3] == list(want), "%s: heard the other side's tones %s in order" %
            (who, list(want)), "found %s" % seq)


# ---- the server part --------------------------------------------------------

def add_user(db, aor, password):
    p = subprocess.run([rtest.RINGLETD, "--store", "sqlite:" + db, "user", "add", aor, password],
                       capture_output=True, text=True, timeout=20)
    return p.returncode == 0


def test_server(c, tmp, wav_a, wav_b):
    db = os.path.join(tmp, "ua.db")
    c.check(add_user(db, "alice@127.0.0.1", "alicepw") and add_user(db, "bob@127.0.0.1", "bobpw"),
            "ringletd user add alice@127.0.0.1, bob@127.0.0.1")
    with rtest.Server(store="sqlite:" + db, auth="on", workers=1) as srv:
        proxy = "sip:127.0.0.1:%d" % srv.port
        common_a = ["--user", "alice@127.0.0.1", "--password", "alicepw", "--proxy", proxy]

        o = UA(tmp, "options", "options", proxy)
        rc = o.wait()
        c.check(rc == 0 and re.search(r"^200 OK$", o.text(), re.M) and
                re.search(r"^Allow: .*REGISTER", o.text(), re.M),
                "options to ringletd: exit 0, 200 OK and its Allow", o.detail())
        o = UA(tmp, "options-json", "options", proxy, "--json")
        rc = o.wait()
        try:
            ev = json.loads(o.text().strip().splitlines()[-1])
        except (ValueError, IndexError):
            ev = {}
        c.check(rc == 0 and ev.get("event") == "response" and ev.get("code") == 200 and
                "OPTIONS" in ev.get("allow", ""), "options --json: one JSON object with allow",
                o.detail())

        # register, a second registration lists both bindings, SIGINT un-registers
        r1 = UA(tmp, "reg1", "register", "--expires", "120", *common_a)
        m = r1.wait_for(r"^binding (sip:alice@127\.0\.0\.1:\d+) expires=(\d+)$")
        c.check(m and r1.wait_for(r"^registered sip:alice@127\.0\.0\.1 expires=120$"),
                "register: 401 answered, binding listed, expires=120", r1.detail())
        b1 = m.group(1) if m else "none"
        env = dict(os.environ, RINGLET_PASSWORD="alicepw")
        r2 = UA(tmp, "reg2", "register", "--expires", "120", "--user", "alice@127.0.0.1",
                "--proxy", proxy, env=env)
        r2.wait_for(r"^registered ")
        c.check(re.search(r"^binding %s expires=\d+$" % re.escape(b1), r2.text(), re.M) and
                len(re.findall(r"^binding ", r2.text(), re.M)) == 2,
                "a second registration (password from RINGLET_PASSWORD) lists both bindings",
                r2.detail())
        r1.sigint()
        rc = r1.wait()
        c.check(rc == 0 and re.search(r"^unregistered sip:alice@127\.0\.0\.1$", r1.text(), re.M),
                "register: SIGINT un-registers and exits 0", r1.detail())
        r3 = UA(tmp, "reg3", "register", *common_a)
        r3.wait_for(r"^registered ")
        binds = re.findall(r"^binding (\S+)", r3.text(), re.M)
        c.check(len(binds) == 2 and b1 not in binds,
                "after the un-REGISTER the first binding is gone (%d listed)" % len(binds),
                r3.detail())
        for r in (r2, r3):
            r.sigint()
            r.wait()
        bad = UA(tmp, "reg-bad", "register", "--user", "alice@127.0.0.1", "--password", "nope",
                 "--proxy", proxy)
        rc = bad.wait()
        c.check(rc == 1 and "registration failed: 401" in bad.text(),
                "wrong password: registration failed: 401, exit 1", bad.detail())

        # bob answers (registered); alice sends a MESSAGE, then calls him through the proxy
        bob = UA(tmp, "bob", "answer", "--user", "bob@127.0.0.1", "--password", "bobpw",
                 "--proxy", proxy, "--count", "1", "--ring", "0.3", "--play", wav_b,
                 "--record", os.path.join(tmp, "bob-srv.wav"))
        c.check(bob.wait_for(r"^registered sip:bob@127\.0\.0\.1 "), "answer --user registers",
                bob.detail())
        msg = UA(tmp, "msg", "message", "sip:bob@127.0.0.1:%d" % srv.port, "hello bob",
                 *common_a)
        rc = msg.wait()
        c.check(rc == 0 and "message delivered: 200 OK" in msg.text(),
                "message through ringletd (407 answered): delivered, exit 0", msg.detail())
        c.check(bob.wait_for(r"^message from sip:alice@127\.0\.0\.1: hello bob$"),
                "the registered UA prints the message", bob.detail())
        call = UA(tmp, "call-srv", "call", "sip:bob@127.0.0.1:%d" % srv.port, *common_a,
                  "--play", wav_a, "--record", os.path.join(tmp, "alice-srv.wav"),
                  "--duration", "2", "-v")
        rc = call.wait(15)
        t = call.text()
        c.check(rc == 0 and "180 Ringing" in t and re.search(r"^answered PCM[UA]/8000$", t, re.M)
                and "ended: BYE sent" in t, "call through ringletd: 180, answered, BYE, exit 0",
                call.detail())
        c.check("407 Proxy Authentication" in call.errtext(),
                "the ladder shows the proxy's 407", call.errtext()[-800:])
        rc = bob.wait(8)
        c.check(rc == 0 and "ended: BYE from remote" in bob.text() and
                "unregistered sip:bob@127.0.0.1" in bob.text(),
                "answer: BYE from remote, --count 1 reached, un-registers, exit 0", bob.detail())
        m = re.search(r"^media: sent=(\d+) received=(\d+) lost=(-?\d+)", t, re.M)
        c.check(m and int(m.group(1)) >= 90 and int(m.group(2)) >= 90,
                "caller's media stats: about 100 packets each way in 2 s", t[-600:])
        check_recording(c, os.path.join(tmp, "alice-srv.wav"), TONES_B, 2.0, "caller (proxied)")
        check_recording(c, os.path.join(tmp, "bob-srv.wav"), TONES_A, 2.0, "callee (proxied)")
        c.check(srv.stop() == 0, "ringletd exits 0", srv.tail())


# ---- direct calls ------------------------------------------------------------

def answer(tmp, name, *args):
    port = rtest.free_port(kind="udp")
    a = UA(tmp, name, "answer", "-l", "udp:127.0.0.1:%d" % port, *args)
    a.wait_for(r"^ready ", 5)
    return a, "sip:bob@127.0.0.1:%d" % port


def test_reject_busy(c, tmp):
    a, uri = answer(tmp, "ans-reject", "--reject", "486", "--count", "1")
    call = UA(tmp, "call-reject", "call", uri)
    rc = call.wait()
    c.check(rc == 1 and "call failed: 486 Busy Here" in call.text(),
            "--reject 486: caller prints 'call failed: 486 Busy Here', exit 1", call.detail())
    rc = a.wait()
    c.check(rc == 0 and "call ended: rejected (486 Busy Here)" in a.text(),
            "answer --reject: exit 0 after --count 1", a.detail())

    a, uri = answer(tmp, "ans-busy", "--count", "1", "--ring", "0")
    first = UA(tmp, "call-first", "call", uri, "--duration", "1.5")
    c.check(first.wait_for(r"^answered ", 5), "first call answered", first.detail())
    second = UA(tmp, "call-second", "call", uri)
    rc = second.wait()
    c.check(rc == 1 and "call failed: 486 Busy Here" in second.text(),
            "a second call while one is up: 486 Busy Here", second.detail())
    c.check(first.wait() == 0 and a.wait() == 0, "the first call ends normally", a.detail())


def test_cancel(c, tmp):
    a, uri = answer(tmp, "ans-cancel", "--ring", "30", "--count", "1")
    call = UA(tmp, "call-cancel", "call", uri, "-v")
    c.check(call.wait_for(r"^180 Ringing$"), "ringing", call.detail())
    time.sleep(0.2)
    call.sigint()
    rc = call.wait()
    c.check(rc not in (0, None) and "call failed: 487 Request Terminated (cancelled)" in
            call.text(), "SIGINT while ringing: CANCEL, 487, exit non-zero (%s)" % rc,
            call.detail())
    err = call.errtext()
    c.check(re.search(r"─ CANCEL ─+▶ 127\.0\.0\.1:\d+/UDP", err) and
            re.search(r"◀─+ 487 Request Terminated \(INVITE\) ─", err),
            "-v ladder: CANCEL sent, 487 received, as arrows", err[-800:])
    rc = a.wait()
    c.check(rc == 0 and "call ended: CANCEL from remote (487 Request Terminated)" in a.text(),
            "answer side sees the CANCEL", a.detail())


def test_no_answer(c, tmp):
    """Nobody picks up: the proxy's Timer C (§16.8) ends the call, 408 to the
    caller, CANCEL to the callee; and a user with no binding gets 480."""
    with rtest.Server("--timer-c", "1500", workers=1) as srv:
        bob = UA(tmp, "bob-noans", "answer", "--user", "bob@127.0.0.1", "--proxy",
                 "sip:127.0.0.1:%d" % srv.port, "--ring", "30", "--count", "1")
        c.check(bob.wait_for(r"^registered sip:bob@127\.0\.0\.1 "), "no answer: callee registered",
                bob.detail())
        t0 = time.monotonic()
        call = UA(tmp, "call-noans", "call", "sip:bob@127.0.0.1:%d" % srv.port, "--user",
                  "alice@127.0.0.1", "--proxy", "sip:127.0.0.1:%d" % srv.port)
        rc = call.wait(10)
        took = time.monotonic() - t0
        c.check(rc == 1 and "180 Ringing" in call.text() and
                "call failed: 408 Request Timeout" in call.text() and 1.3 < took < 6,
                "no answer: 180, then the proxy's Timer C gives 408, exit 1 (%.1f s)" % took,
                call.detail())
        rc = bob.wait(8)
        c.check(rc == 0 and "call ended: CANCEL from remote" in bob.text(),
                "no answer: the callee sees the proxy's CANCEL", bob.detail())
        call = UA(tmp, "call-unreg", "call", "sip:bob@127.0.0.1:%d" % srv.port, "--user",
                  "alice@127.0.0.1", "--proxy", "sip:127.0.0.1:%d" % srv.port)
        rc = call.wait(10)
        c.check(rc == 1 and re.search(r"call failed: 4(04|80) ", call.text()),
                "a callee with no binding: call failed with 404/480, exit 1", call.detail())


def test_hold(c, tmp, wav_a, wav_b):
    a, uri = answer(tmp, "ans-hold", "--count", "1", "--play", wav_b, "--json")
    call = UA(tmp, "call-hold", "call", uri, "--play", wav_a, "--duration", "3",
              "--hold-after", "1", "--hold-for", "1")
    rc = call.wait(12)
    t = call.text()
    c.check(rc == 0 and t.find("media changed: sendonly") < t.find("media changed: sendrecv"),
            "re-INVITE hold then resume accepted (sendonly, then sendrecv)", call.detail())
    m = re.search(r"^media: sent=(\d+) received=(\d+)", t, re.M)
    sent, recv = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    c.check(sent >= 130 and 60 <= recv <= sent - 30,
            "on hold the held side stops sending (sent %d, received %d)" % (sent, recv), t)
    rc = a.wait()
    evs = []
    for line in a.text().splitlines():
        try:
            evs.append(json.loads(line))
        except ValueError:
            pass
    dirs = [e.get("text") for e in evs if e.get("event") == "media-direction"]
    ended = [e for e in evs if e.get("event") == "ended"]
    c.check(rc == 0 and dirs == ["recvonly", "sendrecv"],
            "--json: the held side reports recvonly, then sendrecv (%s)" % dirs, a.detail())
    c.check(len(ended) == 1 and ended[0].get("answered") is True and ended[0].get("code") == 200,
            "--json: one 'ended' event, answered, code 200", a.detail())


def test_bye_from_callee(c, tmp, wav_a, wav_b):
    a, uri = answer(tmp, "ans-bye", "--count", "1", "--duration", "1.5", "--play", wav_b,
                    "--record", os.path.join(tmp, "bob-direct.wav"))
    call = UA(tmp, "call-bye", "call", uri, "--play", wav_a, "--record",
              os.path.join(tmp, "alice-direct.wav"))
    rc = call.wait(10)
    c.check(rc == 0 and "ended: BYE from remote" in call.text(),
            "BYE from the answering side (--duration): caller exits 0", call.detail())
    rc = a.wait()
    c.check(rc == 0 and "ended: BYE sent" in a.text(), "answer --duration sends BYE",
            a.detail())
    check_recording(c, os.path.join(tmp, "alice-direct.wav"), TONES_B, 1.5, "caller (direct)")
    check_recording(c, os.path.join(tmp, "bob-direct.wav"), TONES_A, 1.5, "callee (direct)")


def test_redirect_tcp(c, tmp):
    """A redirect server's 302 is followed to a UA that listens on TCP; SIGINT after the
    answer hangs up with BYE and exits 0."""
    with rtest.Server("--mode", "redirect", store="memory:", auth="off", workers=1) as srv:
        port = rtest.free_port()
        bob = UA(tmp, "bob-tcp", "answer", "-l", "tcp:127.0.0.1:%d" % port, "--user",
                 "bob@127.0.0.1", "--proxy", "sip:127.0.0.1:%d;transport=tcp" % srv.port,
                 "--count", "1")
        c.check(bob.wait_for(r"^binding sip:bob@127\.0\.0\.1:%d;transport=tcp " % port),
                "answer over TCP registers a ;transport=tcp contact", bob.detail())
        call = UA(tmp, "call-302", "call", "sip:bob@127.0.0.1:%d" % srv.port, "-v")
        ok = call.wait_for(r"^answered ", 8)
        c.check(ok and re.search(r"^redirected \(302\) to sip:bob@127\.0\.0\.1:%d;transport=tcp$"
                                 % port, call.text(), re.M),
                "302 from ringletd --mode redirect followed (the first Contact)", call.detail())
        c.check(re.search(r"INVITE \[sdp\] ─+▶ 127\.0\.0\.1:%d/TCP" % port, call.errtext()),
                "the redirected INVITE went over TCP", call.errtext()[-600:])
        time.sleep(0.3)
        call.sigint()
        rc = call.wait()
        c.check(rc == 0 and "ended: BYE sent" in call.text(),
                "SIGINT after the answer: BYE, exit 0", call.detail())
        c.check(bob.wait() == 0 and "ended: BYE from remote" in bob.text(),
                "the TCP side got the BYE", bob.detail())


def test_sipp(c, tmp):
    """Third-party peers: SIPp calls `ringlet answer`; a forking SIPp callee answers
    `ringlet call` twice (the extra dialog gets ACK + BYE)."""
    a, uri = answer(tmp, "ans-sipp", "--count", "1", "--ring", "0.1")
    port = int(uri.rsplit(":", 1)[1])
    rc, ok, fail, tail = rtest.sipp("ua_uac_call", port, calls=1, rate=1, timeout=15)
    c.check(rc == 0 and ok == 1, "SIPp calls ringlet answer: 180, 200 with PCMU, ACK, BYE",
            tail + a.detail())
    c.check(a.wait() == 0 and "ended: BYE from remote" in a.text(),
            "ringlet answer: the SIPp call ended by its BYE", a.detail())

    sport = rtest.free_port()
    out = open(os.path.join(tmp, "sipp-fork.out"), "wb")
    sp = subprocess.Popen(["sipp", "-sf", os.path.join(rtest.SIPP_DIR, "ua_uas_fork.xml"),
                           "-i", "127.0.0.1", "-p", str(sport), "-m", "1", "-cp",
                           str(rtest.free_port()), "-mp", str(rtest.free_port(kind="udp")),
                           "-timeout", "15s", "-timeout_error", "-nostdin"],
                          stdout=out, stderr=subprocess.STDOUT)
    UA.procs.append(sp)
    out.close()
    time.sleep(0.4)
    call = UA(tmp, "call-fork", "call", "sip:fork@127.0.0.1:%d" % sport, "--duration", "1",
              "-v")
    rc = call.wait(10)
    c.check(rc == 0 and len(re.findall(r"^answered ", call.text(), re.M)) == 1 and
            "ended: BYE sent" in call.text(), "forked 2xx: one call, ended by our BYE, exit 0",
            call.detail())
    err = call.errtext()
    c.check(len(re.findall(r"─ ACK ─", err)) == 2 and len(re.findall(r"─ BYE ─", err)) == 2,
            "forked 2xx: two ACKs, a BYE for the extra dialog and one for the call", err)
    try:
        src = sp.wait(10)
    except subprocess.TimeoutExpired:
        src = None
    with open(os.path.join(tmp, "sipp-fork.out"), "rb") as f:
        tail = f.read()[-1500:].decode("utf-8", "replace")
    c.check(src == 0, "the forking SIPp callee saw each BYE with the right To tag (exit %s)" %
            src, tail)


def udp_exchange(port, data, timeout=2.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", 0))
        s.settimeout(timeout)
        s.sendto(data.replace(b"LPORT", str(s.getsockname()[1]).encode()), ("127.0.0.1", port))
        try:
            return s.recv(65536)
        except socket.timeout:
            return b""
    finally:
        s.close()


def test_stray(c, tmp):
    a, uri = answer(tmp, "ans-stray", "--count", "1")
    port = int(uri.rsplit(":", 1)[1])
    bye = ("BYE %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:LPORT;branch=z9hG4bKstray1;rport\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:x@127.0.0.1>;tag=a\r\nTo: <%s>;tag=nosuch\r\n"
           "Call-ID: stray-1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n" % (uri, uri)).encode()
    r = udp_exchange(port, bye)
    c.check(r.startswith(b"SIP/2.0 481 "), "BYE in no dialog: 481", r[:60])
    r = udp_exchange(port, rtest.options_msg("127.0.0.1", port).replace(
        b"127.0.0.1:0;", b"127.0.0.1:LPORT;"))
    c.check(r.startswith(b"SIP/2.0 200 ") and re.search(rb"\r\nAllow: [^\r]*INVITE", r),
            "OPTIONS to a UA: 200 with Allow: INVITE ...", r[:300])
    a.sigint()
    c.check(a.wait() == 0, "answer exits 0 on SIGINT", a.detail())


class Callee:
    """A scripted SIP callee on UDP and TCP port self.port of 127.0.0.1: answers INVITE
    (initial or re-INVITE) with 200 and SDP, BYE and others with 200; its 200 to the
    initial INVITE carries Contact: <contact> and, if given, Record-Route: <rr>. Every
    request is kept as (transport, bytes). It stops by itself after 20 s."""

    def __init__(self, contact, rr=None):
        self.port = rtest.free_port()
        self.contact = contact.replace("PORT", str(self.port))
        self.rr = rr.replace("PORT", str(self.port)) if rr else None
        self.reqs = []
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(4)
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # media sink
        self.rtp.bind(("127.0.0.1", 0))
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopped.set()
        self.thread.join(5)
        for s in (self.udp, self.tcp, self.rtp):
            s.close()

    def run(self):
        conns = {}
        deadline = time.monotonic() + 20
        while not self.stopped.is_set() and time.monotonic() < deadline:
            r, _, _ = select.select([self.udp, self.tcp, self.rtp] + list(conns), [], [], 0.1)
            for s in r:
                if s is self.rtp:
                    s.recv(65536)
                elif s is self.udp:
                    data, addr = s.recvfrom(65536)
                    self.handle("udp", data, lambda b, a=addr: self.udp.sendto(b, a))
                elif s is self.tcp:
                    conn, _ = s.accept()
                    conns[conn] = b""
                else:
                    d = s.recv(65536)
                    if not d:
                        s.close()
                        del conns[s]
                        continue
                    conns[s] = self.frames(s, conns[s] + d)
        for s in conns:
            s.close()

    def frames(self, s, buf):
        """Handle every whole message in a TCP stream buffer; returns the rest."""
        while b"\r\n\r\n" in buf:
            head = buf.split(b"\r\n\r\n", 1)[0]
            m = re.search(rb"\r\n(?:Content-Length|l)\s*:\s*(\d+)", head, re.I)
            need = len(head) + 4 + (int(m.group(1)) if m else 0)
            if len(buf) < need:
                break
            self.handle("tcp", buf[:need], s.sendall)
            buf = buf[need:]
        return buf

    def handle(self, proto, msg, send):
        if msg.startswith(b"SIP/2.0 "):
            return
        self.reqs.append((proto, msg))
        method = msg.split(b" ", 1)[0]
        if method == b"ACK":
            return
        lines = msg.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
        keep = [ln for ln in lines if re.match(rb"(Via|From|To|Call-ID|CSeq)\s*:", ln, re.I)]
        initial = False
        for i, ln in enumerate(keep):
            if re.match(rb"To\s*:", ln, re.I) and b";tag=" not in ln:
                keep[i] = ln + b";tag=callee%x" % random.getrandbits(32)
                initial = True
        body = b""
        if method == b"INVITE":
            if initial and self.rr:
                keep.append(b"Record-Route: <%s>" % self.rr.encode())
            keep.append(b"Contact: <%s>" % self.contact.encode())
            d = b"a=recvonly\r\n" if b"a=sendonly" in msg else b""
            body = (b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                    b"t=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n%s" %
                    (self.rtp.getsockname()[1], d))
            keep.append(b"Content-Type: application/sdp")
        keep.append(b"Content-Length: %d" % len(body))
        send(b"SIP/2.0 200 OK\r\n" + b"\r\n".join(keep) + b"\r\n\r\n" + body)

    def after_invite(self):
        """[(transport, method, Request-URI, top Via, Route values)] after the first INVITE."""
        out = []
        for proto, m in self.reqs[1:]:
            head = m.split(b"\r\n\r\n", 1)[0].decode("latin-1")
            first = head.split("\r\n", 1)[0].split(" ")
            via = re.search(r"\r\n(?:Via|v)\s*:\s*([^\r]*)", head, re.I)
            routes = re.findall(r"\r\nRoute\s*:\s*([^\r]*)", head, re.I)
            out.append((proto, first[0], first[1], via.group(1) if via else "", routes))
        return out


def dnsmasq(tmp, records):
    """dnsmasq on a loopback port answering only records (no upstream); (process, port)."""
    port = rtest.free_port()
    d = os.path.join(tmp, "dnsmasq-%d" % port)
    os.makedirs(d)
    cmd = ["/usr/sbin/dnsmasq", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
           "--bind-interfaces", "--listen-address=127.0.0.1", "--port=%d" % port, "-k",
           "--pid-file=" + os.path.join(d, "pid"), "--user=root"] + records
    out = open(os.path.join(d, "out"), "wb")
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    UA.procs.append(p)
    time.sleep(0.3)
    return p, port


def test_dns(c, tmp):
    """RFC 3263 for the UA: SRV _sip._udp.ringlet.test -> pbx.ringlet.test:port -> 127.0.0.1."""
    a, uri = answer(tmp, "ans-dns", "--count", "1", "--ring", "0")
    port = int(uri.rsplit(":", 1)[1])
    dns, dport = dnsmasq(tmp, ["--local=/ringlet.test/",
                               "--host-record=pbx.ringlet.test,127.0.0.1",
                               "--srv-host=_sip._udp.ringlet.test,pbx.ringlet.test,%d" % port])
    dflag = ["--dns", "127.0.0.1:%d" % dport]
    o = UA(tmp, "options-dns", "options", "sip:bob@ringlet.test", *dflag)
    rc = o.wait()
    c.check(rc == 0 and re.search(r"^200 OK$", o.text(), re.M) and "INVITE" in o.text(),
            "options sip:bob@ringlet.test found the UA by SRV (dnsmasq on 127.0.0.1)",
            o.detail())
    call = UA(tmp, "call-dns", "call", "sip:bob@ringlet.test", "--duration", "0.5", *dflag)
    rc = call.wait()
    c.check(rc == 0 and "answered" in call.text(), "call sip:bob@ringlet.test by SRV: exit 0",
            call.detail())
    c.check(a.wait() == 0, "the UA found by DNS took the call", a.detail())
    o = UA(tmp, "options-nxdomain", "options", "sip:bob@nosuch.ringlet.test", *dflag)
    rc = o.wait()
    c.check(rc == 1 and "503 Host Not Found" in o.text(),
            "a name that does not resolve: 503 Host Not Found, exit 1", o.detail())
    o = UA(tmp, "options-off", "options", "sip:bob@ringlet.test", "--dns", "off")
    rc = o.wait()
    c.check(rc == 1 and "503 Host Not Found" in o.text(),
            "--dns off: no lookup, 503 Host Not Found, exit 1", o.detail())
    dns.terminate()
    dns.wait()


def test_dialog_dns_tcp(c, tmp):
    """In-dialog requests whose hop is a host name (RFC 3263, like the initial request's)
    and says ;transport=tcp: resolved through dnsmasq, sent over TCP with a TCP Via."""
    dns, dport = dnsmasq(tmp, ["--local=/ringlet.test/", "--log-queries", "--log-facility=-",
                               "--host-record=rr.ringlet.test,127.0.0.1",
                               "--host-record=peer.ringlet.test,127.0.0.1"])
    dflag = ["--dns", "127.0.0.1:%d" % dport]
    # 1. the route set's first entry (Record-Route) is a name, with ;transport=tcp
    cal = Callee("sip:callee@peer.ringlet.test:PORT",
                 rr="sip:rr.ringlet.test:PORT;transport=tcp;lr")
    try:
        call = UA(tmp, "call-rr-dns", "call", "sip:callee@127.0.0.1:%d" % cal.port,
                  "--duration", "1.2", "--hold-after", "0.4", "-v", *dflag)
        rc = call.wait(10)
    finally:
        cal.stop()
    t = call.text()
    c.check(rc == 0 and "media changed: sendonly" in t and "ended: BYE sent" in t,
            "Record-Route <sip:rr.ringlet.test:P;transport=tcp;lr>: answered, re-INVITE "
            "accepted, BYE answered, exit 0", call.detail())
    got = cal.after_invite()
    rr = "<sip:rr.ringlet.test:%d;transport=tcp;lr>" % cal.port
    want = ["ACK", "INVITE", "ACK", "BYE"]
    c.check(cal.reqs[:1] and cal.reqs[0][0] == "udp" and [g[1] for g in got] == want and
            all(g[0] == "tcp" and g[3].startswith("SIP/2.0/TCP ") and g[4] == [rr] and
                g[2] == "sip:callee@peer.ringlet.test:%d" % cal.port for g in got),
            "INVITE over UDP; ACK, re-INVITE, ACK, BYE to rr.ringlet.test over TCP, each with "
            "a TCP Via and Route: %s" % rr, got)
    # 2. no route set: the remote target (Contact) is a name, with ;transport=tcp
    cal = Callee("sip:callee@peer.ringlet.test:PORT;transport=tcp")
    try:
        call = UA(tmp, "call-contact-dns", "call", "sip:callee@127.0.0.1:%d" % cal.port,
                  "--duration", "0.5", "-v", *dflag)
        rc = call.wait(10)
    finally:
        cal.stop()
    c.check(rc == 0 and "ended: BYE sent" in call.text(),
            "Contact <sip:callee@peer.ringlet.test:P;transport=tcp>: answered, BYE answered, "
            "exit 0", call.detail())
    got = cal.after_invite()
    c.check([g[1] for g in got] == ["ACK", "BYE"] and
            all(g[0] == "tcp" and g[3].startswith("SIP/2.0/TCP ") and not g[4] and
                g[2] == "sip:callee@peer.ringlet.test:%d;transport=tcp" % cal.port
                for g in got),
            "ACK and BYE to peer.ringlet.test over TCP with a TCP Via, no Route", got)
    dns.terminate()
    dns.wait()
    with open(os.path.join(tmp, "dnsmasq-%d" % dport, "out"), "rb") as f:
        log = f.read().decode("utf-8", "replace")
    c.check(re.search(r"query\[A\] rr\.ringlet\.test from 127\.0\.0\.1", log) and
            re.search(r"query\[A\] peer\.ringlet\.test from 127\.0\.0\.1", log),
            "dnsmasq was asked for rr.ringlet.test and peer.ringlet.test", log[-800:])


def test_usage(c, tmp):
    for args, what in ((["call"], "call without URI"), (["register"], "register without --user"),
                       (["answer", "--reject", "99"], "--reject 99"),
                       (["options", "sip:127.0.0.1:9", "--ring", "1"], "--ring on options"),
                       (["register", "--user", "a@127.0.0.1", "--expires", "0"],
                        "register --expires 0, not a registration")):
        try:
            p = subprocess.run([rtest.RINGLET] + args, capture_output=True, text=True,
                               timeout=10)
        except subprocess.TimeoutExpired as e:
            c.check(False, "bad usage (%s): exit 2 with a reason (it ran on)" % what, e)
            continue
        c.check(p.returncode == 2 and p.stderr.strip(), "bad usage (%s): exit 2 with a reason" %
                what, p.stderr)


def main():
    c = rtest.Checks()
    tmp = tempfile.mkdtemp(prefix="test-ua-")
    wav_a = os.path.join(tmp, "a.wav")
    wav_b = os.path.join(tmp, "b.wav")
    write_tones(wav_a, TONES_A)
    write_tones(wav_b, TONES_B)
    t0 = time.monotonic()
    try:
        test_usage(c, tmp)
        test_server(c, tmp, wav_a, wav_b)
        kill_all()
        test_reject_busy(c, tmp)
        kill_all()
        test_cancel(c, tmp)
        kill_all()
        test_no_answer(c, tmp)
        kill_all()
        test_hold(c, tmp, wav_a, wav_b)
        kill_all()
        test_bye_from_callee(c, tmp, wav_a, wav_b)
        kill_all()
        test_stray(c, tmp)
        kill_all()
        test_redirect_tcp(c, tmp)
        kill_all()
        test_sipp(c, tmp)
        kill_all()
        test_dns(c, tmp)
        kill_all()
        test_dialog_dns_tcp(c, tmp)
    finally:
        kill_all()
    print("test_ua: %.1f s" % (time.monotonic() - t0))
    rc = c.done()
    if rc == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
