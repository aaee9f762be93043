#!/usr/bin/env python3
"""`ringlet` (the command-line UA) against baresip 1.0 through ringletd.

ringletd runs with digest auth on (--auth-algorithms md5: baresip 1.0 gives
up on a challenge whose first algorithm is SHA-256), users in SQLite, the
domain ringlet.test, DNS off. Two baresip phones (tests/phones/baresip.conf.in
plus the contact module, which sends MESSAGE, and the stdio UI, which prints a
received one) register through ringletd and are driven through ctrl_tcp: bob
auto-answers with a 1000 Hz sine, alice's is 600 Hz (`audio_source ausine,HZ`:
baresip 1.0's ausine takes the frequency as its device name; the zero
crossings of what ringlet records confirm it). ringlet plays a WAV of three
tones (500, 1400, 2000 Hz, 0.6 s each).

  a. `ringlet call sip:bob@ringlet.test` (407 answered) reaches baresip bob,
     which auto-answers; --duration 3 ends it with our BYE: exit 0; ringlet's
     recording is as long as the call and holds bob's 1000 Hz over most of it;
     bob's own recording (sndfile) holds our three tones in order;
  c1. `ringlet message` to bob: delivered (200 from the phone), exit 0, and
     baresip prints the text;
  then bob stops (SIGTERM: un-REGISTER) and `ringlet answer` registers as bob;
  c2. baresip alice sends a MESSAGE (contact module, ctrl_tcp `message`) to
     bob: ringlet prints it;
  b. alice dials bob: ringlet answers (CALL_ESTABLISHED at alice, `answered`
     at ringlet), audio both ways (each recording holds the other's sound),
     alice's re-INVITE (ctrl_tcp `reinvite`) is answered and ACKed, alice
     hangs up: ringlet prints "ended: BYE from remote", un-registers and
     exits 0 (--count 1).

Everything is on 127.0.0.1 (the phones' resolver is a port nobody listens
on, ringlet runs with --dns off); every wait is bounded; every process is
killed in `finally`.
"""
import array
import glob
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtest  # noqa: E402
import test_phones as phones  # noqa: E402  (its main() does not run on import)

DOMAIN = "ringlet.test"
USERS = {"alice": "pw-alice", "bob": "pw-bob"}
SINE = {"alice": 600, "bob": 1000}  # Hz of each phone's ausine source
OURS = (500, 1400, 2000)  # the tones ringlet plays, in this order
TONE_S = 0.6
PROBES = sorted(set(OURS) | set(SINE.values()))


class Phone(phones.Phone):
    """A baresip of tests/test_phones.py with an AOR in DOMAIN, a tone of its own, and the
    contact module (its `message` command sends a MESSAGE to the current contact)."""

    def __init__(self, tmp, name, srv_port, answermode, peer):
        self.name = name
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.sip_port = phones.pick_port()
        self.ctrl_port = phones.pick_port(kind="tcp")
        self.rtp_lo, self.rtp_hi = phones.rtp_range()
        with open(phones.CONF_IN) as f:
            conf = f.read().format(name=name, dir=self.dir, sip_port=self.sip_port,
                                   tone=SINE[name], rtp_lo=self.rtp_lo, rtp_hi=self.rtp_hi,
                                   ctrl_port=self.ctrl_port, dns_port=phones.DNS_PORT)
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write(conf + "module\t\t\tcontact.so\nmodule\t\t\tstdio.so\n")
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write("<sip:%s@%s>;auth_pass=%s;outbound=\"sip:127.0.0.1:%d\";regint=600;"
                    "answermode=%s;audio_codecs=PCMU\n" % (name, DOMAIN, USERS[name], srv_port,
                                                           answermode))
        with open(os.path.join(self.dir, "contacts"), "w") as f:
            f.write("<sip:%s@%s>\n" % (peer, DOMAIN))
        self.log = os.path.join(self.dir, "baresip.log")
        self.proc = self.sock = self.logf = None

    def start(self):
        """As test_phones' start, with stdin a pipe nobody writes to: the stdio UI (which
        prints a received MESSAGE) reads it, and must not see end-of-file."""
        self.logf = open(self.log, "wb")
        self.proc = subprocess.Popen([shutil.which("baresip") or "baresip", "-f", self.dir,
                                      "-s", "-t", "150"], stdin=subprocess.PIPE,
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        self.events = []
        self.responses = []
        self.cv = threading.Condition()
        self.token = 0
        self.sock = self.connect()
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def stop(self):
        st = super().stop()
        if self.proc and self.proc.stdin:
            self.proc.stdin.close()
        return st

    def registered(self, timeout=8.0):
        """True once the phone's log shows its REGISTER's 200 (it may come before ctrl_tcp)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "200 OK () [1 binding]" in self.text():
                return True
            time.sleep(0.1)
        return False

    def recording(self):
        """The newest recording of received audio (sndfile's dump-*-dec.wav)."""
        files = sorted(glob.glob(os.path.join(self.dir, "dump-*-dec.wav")), key=os.path.getmtime)
        return files[-1] if files else None


class Ringlet:
    """One `ringlet VERB ...` process, its output in files."""
    procs = []

    def __init__(self, tmp, name, *args):
        self.name = name
        self.out = os.path.join(tmp, name + ".out")
        self.err = os.path.join(tmp, name + ".err")
        with open(self.out, "wb") as o, open(self.err, "wb") as e:
            self.p = subprocess.Popen([rtest.RINGLET] + list(args), stdout=o, stderr=e,
                                      stdin=subprocess.DEVNULL)
        Ringlet.procs.append(self)

    def text(self):
        with open(self.out, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def errtext(self):
        with open(self.err, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_for(self, pattern, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.text(), re.M)
            if m or time.monotonic() > deadline or self.p.poll() is not None:
                return m or re.search(pattern, self.text(), re.M)
            time.sleep(0.02)

    def wait(self, timeout=10.0):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()

    def detail(self):
        return "\n[%s stdout]\n%s\n[%s stderr]\n%s" % (self.name, self.text()[-1500:], self.name,
                                                        self.errtext()[-2500:])


# ---- audio ----

def write_tones(path, freqs, secs, rate=8000):
    n = int(rate * secs)
    pcm = array.array("h", (int(9000 * math.sin(2 * math.pi * f * i / rate))
                            for f in freqs for i in range(n)))
    if sys.byteorder == "big":
        pcm.byteswap()
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def read_wav(path):
    """(mono samples, rate) of a 16-bit WAV (first channel), or (None, 0)."""
    try:
        with wave.open(path, "rb") as w:
            ch, rate, width = w.getnchannels(), w.getframerate(), w.getsampwidth()
            data = w.readframes(w.getnframes())
    except (OSError, EOFError, wave.Error, TypeError):
        return None, 0
    if width != 2:
        return None, 0
    pcm = array.array("h", data)
    if sys.byteorder == "big":
        pcm.byteswap()
    return pcm[::ch], rate


def goertzel(block, freq, rate):
    k = 2 * math.cos(2 * math.pi * freq / rate)
    a = b = 0.0
    for x in block:
        a, b = x + k * a - b, a
    return a * a + b * b - k * a * b


def dominant(samples, rate):
    """Per 50 ms block: the probe frequency that carries 10x the power of any other one,
    or None (quiet, or no single clean tone)."""
    out = []
    blk = rate // 20
    for i in range(0, len(samples) - blk + 1, blk):
        b = samples[i:i + blk]
        if sum(x * x for x in b) / blk < 1e5:
            out.append(None)
            continue
        p = {f: goertzel(b, f, rate) for f in PROBES}
        best = max(p, key=p.get)
        out.append(best if p[best] >= 10 * sorted(p.values())[-2] else None)
    return out


def tone_share(path, freq):
    """(seconds of audio, share of its 50 ms blocks dominated by freq, the frequency its
    zero crossings show in those blocks)."""
    s, rate = read_wav(path)
    if not s or not rate:
        return 0.0, 0.0, 0.0
    d = dominant(s, rate)
    blk = rate // 20
    share = sum(1 for x in d if x == freq) / len(d) if d else 0.0
    # zero crossings in blocks inside a run of freq (a block at a run's edge may be part
    # silence), each block with the sample before it: no crossing lost at block edges
    inner = [s[i * blk - 1:(i + 1) * blk] for i in range(1, len(d) - 1)
             if d[i - 1] == d[i] == d[i + 1] == freq]
    cross = sum(1 for b in inner for a, z in zip(b, b[1:]) if (a < 0) != (z < 0))
    span = len(inner) * blk / rate
    return len(s) / rate, share, (cross / 2.0 / span if span else 0.0)


def tone_seq(path):
    """The distinct dominant tones of a WAV in order (runs of at least 3 blocks)."""
    s, rate = read_wav(path)
    if not s or not rate:
        return []
    seq, run, prev = [], 0, None
    for x in dominant(s, rate):
        run = run + 1 if x == prev else 1
        prev = x
        if x is not None and run == 3 and (not seq or seq[-1] != x):
            seq.append(x)
    return seq


# ---- the scenarios ----

def common(user, srv):
    return ["--user", "%s@%s" % (user, DOMAIN), "--password", USERS[user], "--proxy",
            "sip:127.0.0.1:%d" % srv.port, "--dns", "off"]


def call_baresip(c, tmp, srv, bob, tones):
    """a. ringlet calls baresip bob (auto-answer); our BYE after 3 s."""
    mb = bob.mark()
    rec = os.path.join(tmp, "ringlet-a.wav")
    call = Ringlet(tmp, "call-a", "call", "sip:bob@" + DOMAIN, *common("alice", srv),
                   "--record", rec, "--play", tones, "--duration", "3", "-v")
    rc = call.wait(15)
    t = call.text()
    c.check(rc == 0 and re.search(r"^answered PCMU/8000$", t, re.M) and
            re.search(r"^ended: BYE sent$", t, re.M),
            "a. ringlet call sip:bob@%s: answered by baresip (PCMU), our BYE, exit 0 (%s)" %
            (DOMAIN, rc), call.detail())
    c.check(re.search(r"◀─+ 407 Proxy Authentication Required", call.errtext()) and
            re.search(r"◀─+ 200 \S.* \(INVITE\) \[sdp\]", call.errtext()),
            "a. -v ladder: ringletd's 407 answered, then baresip's 200 with SDP",
            call.errtext()[-1500:])
    eb = bob.wait("CALL_ESTABLISHED", mb, 3)
    cb = bob.wait("CALL_CLOSED", mb, 3)
    c.check(eb and eb.get("direction") == "incoming" and
            "alice@" + DOMAIN in eb.get("peeruri", ""),
            "a. baresip bob: CALL_ESTABLISHED, incoming from alice", bob.types(mb))
    c.check(cb is not None, "a. baresip bob: CALL_CLOSED by our BYE (%s)" %
            (cb or {}).get("param"), bob.types(mb))
    m = re.search(r"^media: sent=(\d+) received=(\d+)", t, re.M)
    c.check(m and int(m.group(1)) >= 140 and int(m.group(2)) >= 130,
            "a. ringlet's RTP counters: about 150 packets each way in 3 s (%s)" %
            (m.group(0) if m else None), t[-500:])
    secs, share, hz = tone_share(rec, SINE["bob"])
    c.check(abs(secs - 3.0) <= 0.35 and share >= 0.8 and abs(hz - SINE["bob"]) < 10,
            "a. ringlet's recording lasts the call (%.2f s of 3) and holds bob's %d Hz sine "
            "in %.0f%% of it (%.1f Hz by zero crossings)" % (secs, SINE["bob"], share * 100,
                                                              hz), rec)
    f = bob.recording()
    seq = tone_seq(f) if f else []
    c.check(seq[:3] == list(OURS), "a. baresip bob's recording holds ringlet's tones %s in "
            "order (%s)" % (list(OURS), seq), f)


def message_to_baresip(c, tmp, srv, bob):
    """c1. ringlet message -> baresip bob."""
    text = "hello bob %08x" % random.getrandbits(32)
    m = Ringlet(tmp, "message-c1", "message", "sip:bob@" + DOMAIN, text, *common("alice", srv))
    rc = m.wait(10)
    c.check(rc == 0 and "message delivered: 200 OK" in m.text(),
            "c. ringlet message to baresip bob: delivered (200), exit 0 (%s)" % rc, m.detail())
    deadline = time.monotonic() + 3
    while text not in bob.text() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = bob.text()
    # the SIP trace (-s) has the request; the stdio UI prints 'FROM: "TEXT"'
    c.check(re.search(r'^\r?sip:alice@%s: "%s"$' % (re.escape(DOMAIN), text), log, re.M),
            "c. baresip bob's UI shows the text, from sip:alice@%s" % DOMAIN, bob.tail(1200))


def answer_baresip(c, tmp, srv, alice, tones):
    """c2 and b. baresip alice messages, then calls, `ringlet answer` registered as bob."""
    rec = os.path.join(tmp, "ringlet-b.wav")
    ans = Ringlet(tmp, "answer-b", "answer", *common("bob", srv), "--play", tones, "--record",
                  rec, "--count", "1", "--ring", "0.2", "-v")
    c.check(ans.wait_for(r"^registered sip:bob@%s " % re.escape(DOMAIN), 5),
            "b. ringlet answer --user bob@%s registers (401 answered)" % DOMAIN, ans.detail())

    text = "hello ringlet %08x" % random.getrandbits(32)
    r1 = alice.cmd("contact_next")
    r2 = alice.cmd("message", text)
    c.check(r1 and r1.get("ok") and "sip:bob@" + DOMAIN in r1.get("data", "") and
            r2 and r2.get("ok"), "c. baresip alice: contact bob, `message` accepted", (r1, r2))
    c.check(ans.wait_for(r"^message from sip:alice@%s: %s$" % (re.escape(DOMAIN), text), 5),
            "c. ringlet prints baresip's MESSAGE (from sip:alice@%s)" % DOMAIN, ans.detail())

    ma = alice.mark()
    r = alice.cmd("dial", "sip:bob@" + DOMAIN)
    c.check(r and r.get("ok"), "b. baresip alice: dial sip:bob@%s accepted" % DOMAIN, r)
    ea = alice.wait("CALL_ESTABLISHED", ma, 10)
    up = time.monotonic()
    c.check(ea and ea.get("direction") == "outgoing",
            "b. baresip alice: CALL_ESTABLISHED (outgoing)", alice.events[ma:])
    c.check(ans.wait_for(r"^incoming call from sip:alice@%s$" % re.escape(DOMAIN), 1) and
            ans.wait_for(r"^answered PCMU/8000$", 2),
            "b. ringlet: 'incoming call from sip:alice@%s', 'answered PCMU/8000'" % DOMAIN,
            ans.detail())
    if ea:
        time.sleep(1.2)
        r = alice.cmd("reinvite")
        c.check(r and r.get("ok"), "b. baresip alice: re-INVITE sent", r)
        c.check(ans.wait_for(r"^remote changed media: sendrecv$", 3),
                "b. ringlet answers baresip's re-INVITE (same media, sendrecv)", ans.detail())
        time.sleep(max(0.0, up + 3.0 - time.monotonic()))
    ma = alice.mark()
    r = alice.cmd("hangup")
    down = time.monotonic()
    c.check(r and r.get("ok"), "b. baresip alice: hangup accepted", r)
    ca = alice.wait("CALL_CLOSED", ma, 5)
    c.check(ca is not None, "b. baresip alice: CALL_CLOSED (%s)" % (ca or {}).get("param"),
            alice.types(ma))
    rc = ans.wait(8)
    t = ans.text()
    c.check(rc == 0 and re.search(r"^ended: BYE from remote$", t, re.M) and
            re.search(r"^unregistered sip:bob@%s$" % re.escape(DOMAIN), t, re.M),
            "b. ringlet: ended by BYE from remote, --count 1 reached, un-registers, exit 0 "
            "(%s)" % rc, ans.detail())
    acks = re.findall(r"◀─+ ACK ─", ans.errtext())
    c.check(len(acks) == 2, "b. ringlet received baresip's two ACKs (INVITE, re-INVITE): %d" %
            len(acks), ans.errtext()[-2500:])
    want = down - up if ea else 0
    secs, share, hz = tone_share(rec, SINE["alice"])
    c.check(ea and abs(secs - want) <= 0.5 and share >= 0.8 and abs(hz - SINE["alice"]) < 10,
            "b. ringlet's recording lasts the call (%.2f s of %.2f) and holds alice's %d Hz "
            "sine in %.0f%% of it (%.1f Hz by zero crossings)" % (secs, want, SINE["alice"],
                                                                  share * 100, hz), rec)
    f = alice.recording()
    seq = tone_seq(f) if f else []
    c.check(seq[:3] == list(OURS), "b. baresip alice's recording holds ringlet's tones %s in "
            "order (%s)" % (list(OURS), seq), f)


def main():
    c = rtest.Checks()
    if not shutil.which("baresip"):
        c.check(False, "baresip is installed (scripts/deps.sh)")
        return c.done()
    tmp = tempfile.mkdtemp(prefix="rl-ua-baresip-")
    db = "sqlite:" + os.path.join(tmp, "users.db")
    for u, pw in USERS.items():
        p = subprocess.run([rtest.RINGLETD, "--store", db, "user", "add",
                            "%s@%s" % (u, DOMAIN), pw], capture_output=True, text=True,
                           timeout=30)
        c.check(p.returncode == 0, "provision %s@%s" % (u, DOMAIN), p.stderr)
    tones = os.path.join(tmp, "tones.wav")
    write_tones(tones, OURS, TONE_S)
    t0 = time.monotonic()
    srv = rtest.Server("--auth-algorithms", "md5", "--domain", DOMAIN, store=db, auth="on",
                       workers=1)
    started = []
    try:
        bob = Phone(tmp, "bob", srv.port, "auto", "alice")
        alice = Phone(tmp, "alice", srv.port, "manual", "bob")
        for p in (bob, alice):
            started.append(p)
            p.start()
        for p in (bob, alice):
            c.check(p.registered(), "baresip %s registers with ringletd (401, digest, 200)" %
                    p.name, p.tail(1500))
        call_baresip(c, tmp, srv, bob, tones)
        message_to_baresip(c, tmp, srv, bob)
        st = bob.stop()
        c.check(st == 0, "baresip bob exits 0 on SIGTERM (un-REGISTER)", bob.tail(800))
        answer_baresip(c, tmp, srv, alice, tones)
        st = alice.stop()
        c.check(st == 0, "baresip alice exits 0 on SIGTERM", alice.tail(800))
        c.check(srv.stop() == 0, "ringletd exits 0 on SIGTERM", srv.tail())
    finally:
        for p in started:
            p.stop()
        for r in Ringlet.procs:
            r.kill()
        srv.__exit__(None, None, None)
    print("test_ua_baresip: %.1f s" % (time.monotonic() - t0))
    if c.nfail:
        print("logs kept in %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return c.done()


if __name__ == "__main__":
    sys.exit(main())
