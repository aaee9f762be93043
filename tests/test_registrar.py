#!/usr/bin/env python3
"""The registrar (RFC 3261 §10.3) against real peers: SIPp scenarios
(tests/sipp/reg_*.xml), sipsak, and a small UDP client of our own for what
SIPp cannot express (several Call-IDs, replays, bulk queries).

  1. rules: memory store, auth off: register, refresh, query, several
     contacts with q, de-register one and all, expiry, 423 and the cap,
     CSeq order, domains, limits, Path and RFC 5626 parameters.
  2. auth: SQLite store with provisioned users, digest on: right and
     wrong password, stale nonce, replayed nonce-count, third-party
     registration, SHA-256, sipsak.
  3. durability: 2000 users registered by SIPp, SIGKILL right after the
     last 200, restart on the same file: every binding is there.
  4. scale-out: two nodes on one redis-server: a binding made at A is seen
     at B, and expires at both.
"""
import hashlib
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtest  # noqa: E402


class Uac:
    """A UDP SIP client for REGISTER: one socket, answers matched by Call-ID and CSeq."""

    def __init__(self, port):
        self.port = port
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.lport = self.s.getsockname()[1]

    def close(self):
        self.s.close()

    def build(self, user, cseq, callid, contacts=(), hdrs=(), domain="localhost", ruri=None,
              to=None):
        ruri = ruri or "sip:127.0.0.1:%d" % self.port
        to = to or "<sip:%s@%s>" % (user, domain)
        lines = ["REGISTER %s SIP/2.0" % ruri,
                 "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%x;rport" %
                 (self.lport, random.getrandbits(60)),
                 "Max-Forwards: 70",
                 "To: %s" % to,
                 "From: <sip:%s@%s>;tag=%x" % (user, domain, random.getrandbits(32)),
                 "Call-ID: %s" % callid,
                 "CSeq: %d REGISTER" % cseq]
        lines += ["Contact: %s" % c for c in contacts]
        lines += list(hdrs)
        lines += ["Content-Length: 0", "", ""]
        return "\r\n".join(lines).encode()

    def send(self, data, timeout=3.0):
        """Send one request (retransmitted as RFC 3261 Timer E would), return the final answer."""
        cid = re.search(rb"\r\nCall-ID: ([^\r]+)", data).group(1)
        cseq = re.search(rb"\r\nCSeq: ([^\r]+)", data).group(1)
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
            if (b"\r\nCall-ID: " + cid + b"\r\n") in r and (b"\r\nCSeq: " + cseq + b"\r\n") in r:
                code = int(r.split(b" ", 2)[1])
                if code >= 200:
                    return code, r.decode("utf-8", "replace")
        return None, ""

    def register(self, user, cseq=1, callid=None, **kw):
        return self.send(self.build(user, cseq, callid or "u-%x" % random.getrandbits(48), **kw))


def contacts_of(resp):
    """{contact URI: expires} of a 200's Contact headers."""
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"\r\nContact: <([^>]*)>;expires=(\d+)", resp)}


def digest(resp, user, password, ruri, method="REGISTER", alg="MD5", nc=1, cnonce="0a4f113b"):
    """An Authorization header answering the challenge for alg in 401 text resp."""
    for m in re.finditer(r"\r\nWWW-Authenticate: Digest ([^\r]*)", resp):
        p = dict(re.findall(r'(\w+)="?([^",]*)"?', m.group(1)))
        if p.get("algorithm", "MD5").upper() != alg:
            continue
        h = (lambda s: hashlib.md5(s.encode()).hexdigest()) if alg == "MD5" else \
            (lambda s: hashlib.sha256(s.encode()).hexdigest())
        ha1 = h("%s:%s:%s" % (user, p["realm"], password))
        ha2 = h("%s:%s" % (method, ruri))
        ncs = "%08x" % nc
        r = h("%s:%s:%s:%s:auth:%s" % (ha1, p["nonce"], ncs, cnonce, ha2))
        return ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
                'response="%s", algorithm=%s, qop=auth, nc=%s, cnonce="%s"' %
                (user, p["realm"], p["nonce"], ruri, r, alg, ncs, cnonce))
    return None


def run_sipp(c, srv, scen, what, calls=1, rate=10, transport="u1", timeout=30, key=None):
    keys = {"pfx": "%s%x-" % (scen, random.getrandbits(20))}
    keys.update(key or {})
    rc, ok, fail, tail = rtest.sipp(scen, srv.port, transport=transport, calls=calls, rate=rate,
                                    timeout=timeout, key=keys)
    return c.check(rc == 0 and ok == calls and fail == 0,
                   "%s (%s, %s of %d calls)" % (what, scen, ok, calls),
                   "sipp exit %d\n%s\nserver log:\n%s" % (rc, tail, srv.tail()))


def test_rules(c):
    with rtest.Server("--min-expires", "2", "--max-expires", "3600", workers=2) as srv:
        run_sipp(c, srv, "reg_basic", "register, refresh, query over UDP", calls=20, rate=50)
        run_sipp(c, srv, "reg_basic", "register, refresh, query over TCP", calls=10, rate=50,
                 transport="t1")
        run_sipp(c, srv, "reg_multi", "three contacts with q-values, all listed", calls=5)
        run_sipp(c, srv, "reg_unregister", "de-register one contact, then all with *", calls=5)
        run_sipp(c, srv, "reg_expiry", "a 2 s binding is gone 3.5 s later", calls=3)
        run_sipp(c, srv, "reg_limits", "423 with Min-Expires below the minimum, cap above max",
                 calls=3)
        run_sipp(c, srv, "reg_cseq", "CSeq not above the binding's: 500 Out of Order", calls=3)
        uac = Uac(srv.port)
        try:
            rules_by_hand(c, uac)
        finally:
            uac.close()
        c.check(srv.stop() == 0, "ringletd exits 0 on SIGTERM", srv.tail())


def rules_by_hand(c, uac):
    code, r = uac.register("x", ruri="sip:example.org", contacts=["<sip:x@127.0.0.1:9>"])
    c.check(code == 403, "REGISTER for another domain: 403 (%s)" % code, r)
    code, r = uac.register("x", to="isbn:2983792873", contacts=["<sip:x@127.0.0.1:9>"])
    c.check(code == 400, "To that is not a SIP URI: 400 (%s, RFC 4475 3.3.4)" % code, r)
    code, r = uac.register("x", domain="elsewhere.example", contacts=["<sip:x@127.0.0.1:9>"])
    c.check(code == 404, "AOR of a foreign domain: 404 (%s)" % code, r)
    # the AOR is canonical: case of the host, escapes, parameters and port do not matter
    code, r = uac.register("canon", to="<sip:c%61non@LOCALHOST:5999;transport=tcp>",
                           contacts=["<sip:canon@127.0.0.1:9>"], hdrs=["Expires: 60"])
    code2, r2 = uac.register("canon")
    c.check(code == 200 and "sip:canon@127.0.0.1:9" in contacts_of(r2),
            "AOR canonical form: sip:c%61non@LOCALHOST:5999 is sip:canon@localhost", r + r2)
    # Call-ID/CSeq order is per Call-ID (§10.3 step 7): another Call-ID may go lower
    code, r = uac.register("cid", cseq=50, callid="cid-a", contacts=["<sip:cid@127.0.0.1:9>"])
    code2, r2 = uac.register("cid", cseq=10, callid="cid-b", contacts=["<sip:cid@127.0.0.1:9>"],
                             hdrs=["Expires: 30"])
    c.check(code == 200 and code2 == 200 and contacts_of(r2).get("sip:cid@127.0.0.1:9", 0) <= 30,
            "a lower CSeq on another Call-ID updates the binding", r + r2)
    # Path (RFC 3327) and RFC 5626 parameters: stored, echoed
    code, r = uac.register("path", contacts=['<sip:path@127.0.0.1:9>;+sip.instance='
                                             '"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>"'
                                             ';reg-id=1'],
                           hdrs=["Path: <sip:edge.example;lr>", "Supported: path",
                                 "Expires: 60"])
    c.check(code == 200 and "\r\nPath: <sip:edge.example;lr>\r\n" in r and
            '+sip.instance="<urn:uuid:00000000-0000-1000-8000-000a95a0e128>";reg-id=1' in r,
            "Path echoed with Supported: path, +sip.instance and reg-id listed", r)
    code, r = uac.register("path2", contacts=["<sip:p2@127.0.0.1:9>"],
                           hdrs=["Path: <sip:edge.example;lr>"])
    c.check(code == 200 and "Path:" not in r, "no Path in the 200 without Supported: path", r)
    # bounds of the store: a clear 400 or 403, never a silent truncation
    code, r = uac.register("long", contacts=["<sip:%s@127.0.0.1:9>" % ("x" * 600)])
    c.check(code == 400 and "400 Contact Too Long" in r, "a 600-byte contact: 400 (%s)" % code,
            r[:200])
    many = ["<sip:m%d@127.0.0.1:9>" % i for i in range(33)]
    code, r = uac.register("many", contacts=many)
    c.check(code == 403, "33 contacts for one AOR: 403 (%s)" % code, r[:200])
    code, r = uac.register("star", contacts=["*", "<sip:s@127.0.0.1:9>"], hdrs=["Expires: 0"])
    c.check(code == 400, "Contact: * with another contact: 400 (%s)" % code, r[:200])


def add_user(db, aor, password):
    p = subprocess.run([rtest.RINGLETD, "--store", "sqlite:" + db, "user", "add", aor, password],
                       capture_output=True, text=True, timeout=20)
    return p.returncode == 0


AUTH_FLAGS = ["--auth-nonce-ttl", "2", "--auth-algorithms", "md5"]


def test_auth(c, tmp):
    db = os.path.join(tmp, "auth.db")
    c.check(add_user(db, "alice@localhost", "secret") and add_user(db, "bob@localhost", "pw2") and
            add_user(db, "carol@127.0.0.1", "s3"),
            "ringletd user add alice@localhost, bob@localhost, carol@127.0.0.1")
    with rtest.Server(*AUTH_FLAGS, store="sqlite:" + db, auth="on", workers=2) as srv:
        run_sipp(c, srv, "reg_auth", "right password: 401, then 200")
        run_sipp(c, srv, "reg_auth_bad", "wrong password: 401 again")
        run_sipp(c, srv, "reg_auth_stale", "expired nonce: 401 stale=true, then 200", timeout=30)
        run_sipp(c, srv, "reg_auth_nc", "the nonce reused with nonce-count 2: 200")
        uac = Uac(srv.port)
        try:
            auth_by_hand(c, uac)
        finally:
            uac.close()
        sipsak(c, srv)
        c.check(srv.stop() == 0, "ringletd (auth) exits 0 on SIGTERM", srv.tail())
    with rtest.Server(store="sqlite:" + db, auth="on", workers=1) as srv:
        uac = Uac(srv.port)
        try:
            code, r = uac.register("alice", contacts=["<sip:a@127.0.0.1:9>"])
            algs = re.findall(r"algorithm=([\w-]+)", r)
            c.check(code == 401 and algs == ["SHA-256", "MD5"],
                    "default challenge: SHA-256 first, then MD5 (RFC 8760 2.4)", r)
            auth = digest(r, "alice", "secret", "sip:127.0.0.1:%d" % srv.port, alg="SHA-256")
            code, r = uac.register("alice", cseq=2, contacts=["<sip:a@127.0.0.1:9>"], hdrs=[auth])
            c.check(code == 200, "SHA-256 credentials: 200 (%s)" % code, r)
        finally:
            uac.close()
        c.check(srv.stop() == 0, "ringletd (auth, defaults) exits 0 on SIGTERM", srv.tail())


def auth_by_hand(c, uac):
    ruri = "sip:127.0.0.1:%d" % uac.port
    code, ch = uac.register("alice", contacts=["<sip:a@127.0.0.1:9>"])
    c.check(code == 401 and "algorithm=SHA-256" not in ch and 'realm="localhost"' in ch,
            "challenge with --auth-algorithms md5: MD5 only, realm localhost", ch)
    auth = digest(ch, "alice", "secret", ruri, nc=1)
    code, r = uac.register("alice", cseq=2, callid="rp-1", contacts=["<sip:a@127.0.0.1:9>"],
                           hdrs=[auth])
    code2, r2 = uac.register("alice", cseq=3, callid="rp-1", contacts=["<sip:a@127.0.0.1:9>"],
                             hdrs=[auth])
    c.check(code == 200 and code2 == 401, "same Authorization twice: 200, then 401 (%s, %s)" %
            (code, code2), r + r2)
    auth3 = digest(ch, "alice", "secret", ruri, nc=2)
    code, r = uac.register("alice", cseq=4, callid="rp-1", contacts=["<sip:a@127.0.0.1:9>"],
                           hdrs=[auth3])
    c.check(code == 200, "the next nonce-count on the same nonce: 200 (%s)" % code, r)
    # third-party registration: alice's credentials for bob's AOR are refused (§10.3 step 4)
    code, ch = uac.register("bob", contacts=["<sip:b@127.0.0.1:9>"])
    auth = digest(ch, "alice", "secret", ruri)
    code, r = uac.register("bob", cseq=2, contacts=["<sip:b@127.0.0.1:9>"], hdrs=[auth])
    c.check(code == 403, "alice's credentials for bob's AOR: 403 (%s)" % code, r)
    # From != To is fine when the credentials are the AOR's own (third-party, §10.2)
    data = uac.build("bob", 1, "tp-1", contacts=["<sip:b@127.0.0.1:9>"])
    data = data.replace(b"From: <sip:bob@localhost>", b"From: <sip:carol@localhost>")
    code, ch = uac.send(data)
    auth = digest(ch, "bob", "pw2", ruri)
    data = uac.build("bob", 2, "tp-1", contacts=["<sip:b@127.0.0.1:9>"], hdrs=[auth])
    data = data.replace(b"From: <sip:bob@localhost>", b"From: <sip:carol@localhost>")
    code, r = uac.send(data)
    c.check(code == 200, "From carol, To bob, bob's credentials: 200 (%s)" % code, r)
    # unknown user, unknown scheme: challenged like a wrong password
    code, ch = uac.register("mallory", contacts=["<sip:m@127.0.0.1:9>"])
    auth = digest(ch, "mallory", "x", ruri)
    code, r = uac.register("mallory", cseq=2, contacts=["<sip:m@127.0.0.1:9>"], hdrs=[auth])
    c.check(code == 401, "an unknown user: 401 (%s)" % code, r)
    code, r = uac.register("alice", contacts=["<sip:a@127.0.0.1:9>"],
                           hdrs=["Authorization: NoOneKnowsThisScheme opaque-data=here"])
    c.check(code == 401, "an unknown auth scheme: 401 (%s, RFC 4475 3.3.7)" % code, r)


def sipsak(c, srv):
    if not shutil.which("sipsak"):
        c.check(False, "sipsak is installed")
        return
    lport = rtest.free_port(kind="udp")
    # -u: sipsak would send the digest username "carol@" of the -s URI; -i: no Via warning.
    # sipsak answers only the first challenge and only MD5, hence --auth-algorithms md5.
    base = ["sipsak", "-U", "-C", "sip:carol@127.0.0.1:%d" % lport, "-x", "60", "-i",
            "-s", "sip:carol@127.0.0.1:%d" % srv.port, "-l", str(lport), "-u", "carol"]
    p = subprocess.run(base + ["-a", "s3"], capture_output=True, text=True, timeout=30)
    c.check(p.returncode == 0, "sipsak REGISTER with digest: exit 0", p.stdout + p.stderr)
    p = subprocess.run(base + ["-a", "wrong"], capture_output=True, text=True, timeout=30)
    c.check(p.returncode != 0, "sipsak with a wrong password: exit %d" % p.returncode,
            p.stdout + p.stderr)


def query_all(port, users, tries=4):
    """REGISTER without Contact for each user (UDP, pipelined); {user: contacts dict}."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    lport = s.getsockname()[1]
    got = {}
    try:
        for _ in range(tries):
            todo = [u for u in users if u not in got]
            for i in range(0, len(todo), 100):
                for u in todo[i:i + 100]:
                    msg = ("REGISTER sip:127.0.0.1:%d SIP/2.0\r\n"
                           "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%x;rport\r\n"
                           "Max-Forwards: 70\r\nTo: <sip:%s@localhost>\r\n"
                           "From: <sip:%s@localhost>;tag=q\r\nCall-ID: q-%s\r\n"
                           "CSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n" %
                           (port, lport, random.getrandbits(60), u, u, u))
                    s.sendto(msg.encode(), ("127.0.0.1", port))
                deadline = time.monotonic() + 2.0
                want = len([u for u in todo[i:i + 100] if u not in got])
                while want > 0 and time.monotonic() < deadline:
                    s.settimeout(max(0.01, deadline - time.monotonic()))
                    try:
                        r = s.recv(65536).decode("utf-8", "replace")
                    except socket.timeout:
                        break
                    m = re.search(r"\r\nCall-ID: q-([^\r]+)\r\n", r)
                    if m and r.startswith("SIP/2.0 200") and m.group(1) not in got:
                        got[m.group(1)] = contacts_of(r)
                        want -= 1
            if len(got) == len(users):
                break
    finally:
        s.close()
    return got


def test_durability(c, tmp):
    db = os.path.join(tmp, "durable.db")
    n = 2000
    pfx = "d%x-" % random.getrandbits(16)
    srv = rtest.Server(store="sqlite:" + db, workers=2)
    with srv:
        t0 = time.monotonic()
        rc, ok, fail, tail = rtest.sipp("reg_many", srv.port, calls=n, rate=400, timeout=90,
                                        key={"pfx": pfx})
        dt = time.monotonic() - t0
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait()
        c.check(rc == 0 and ok == n and fail == 0,
                "SIPp registered %s of %d users on SQLite in %.1f s, then SIGKILL" % (ok, n, dt),
                "sipp exit %d\n%s\n%s" % (rc, tail, srv.tail()))
    with rtest.Server(store="sqlite:" + db, workers=2, port=srv.port) as srv2:
        users = ["%s%d" % (pfx, i) for i in range(1, n + 1)]
        got = query_all(srv2.port, users)
        good = sum(1 for u in users if any(k.startswith("sip:%s-c1@" % u) for k in got.get(u, {})))
        c.check(good == n, "after the restart every binding is there: %d of %d" % (good, n),
                srv2.tail())
        c.check(srv2.stop() == 0, "ringletd (restarted) exits 0 on SIGTERM", srv2.tail())


def nonce_across_nodes(c, url):
    """Two nodes with auth on one Redis store sign nonces with the store's secret:
    a challenge from node A is answered at node B."""
    p = subprocess.run([rtest.RINGLETD, "--store", url, "user", "add", "nomad@localhost", "pw"],
                       capture_output=True, text=True, timeout=20)
    c.check(p.returncode == 0, "ringletd --store redis://... user add nomad@localhost", p.stderr)
    flags = ["--auth-algorithms", "md5"]
    with rtest.Server(*flags, store=url, auth="on") as a, \
            rtest.Server(*flags, store=url, auth="on") as b:
        ua, ub = Uac(a.port), Uac(b.port)
        try:
            callid = "nomad-%x" % random.getrandbits(40)
            code, r = ua.register("nomad", cseq=1, callid=callid,
                                  contacts=["<sip:nomad@127.0.0.1:9>"])
            auth = digest(r, "nomad", "pw", "sip:127.0.0.1:%d" % b.port) if code == 401 else None
            code2, r2 = ub.send(ub.build("nomad", 2, callid, contacts=["<sip:nomad@127.0.0.1:9>"],
                                         hdrs=[auth] if auth else []))
            c.check(code == 401 and code2 == 200,
                    "a nonce from node A is accepted at node B (%s, %s)" % (code, code2), r + r2)
        finally:
            ua.close()
            ub.close()
        c.check(a.stop() == 0 and b.stop() == 0, "auth nodes exit 0 on SIGTERM")


def test_scale_out(c, tmp):
    if not shutil.which("redis-server"):
        c.check(False, "redis-server is installed")
        return
    rport = rtest.free_port(kind="tcp")
    redis = subprocess.Popen(["redis-server", "--port", str(rport), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", tmp],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", rport), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        url = "redis://127.0.0.1:%d" % rport
        with rtest.Server("--min-expires", "1", store=url) as a, \
                rtest.Server("--min-expires", "1", store=url) as b:
            ua, ub = Uac(a.port), Uac(b.port)
            try:
                code, r = ua.register("roamer", contacts=["<sip:roamer@127.0.0.1:7>;expires=2"])
                code2, r2 = ub.register("roamer")
                c.check(code == 200 and "sip:roamer@127.0.0.1:7" in contacts_of(r2),
                        "binding made at node A is returned by a query at node B", r + r2)
                code, r = ub.register("roamer2", contacts=["<sip:r2@127.0.0.1:8>"])
                code2, r2 = ua.register("roamer2")
                c.check(code == 200 and "sip:r2@127.0.0.1:8" in contacts_of(r2),
                        "and one made at B is returned at A", r + r2)
                time.sleep(3.0)
                _, ra = ua.register("roamer")
                _, rb = ub.register("roamer")
                c.check(ra.startswith("SIP/2.0 200") and rb.startswith("SIP/2.0 200") and
                        not contacts_of(ra) and not contacts_of(rb),
                        "after its 2 s expiry it is gone at both nodes", ra + rb)
                nonce_across_nodes(c, url)
                redis.terminate()
                redis.wait(10)
                code, r = ua.register("roamer", cseq=2, contacts=["<sip:roamer@127.0.0.1:7>"])
                c.check(code == 500 and "\r\nRetry-After: " in r,
                        "with redis-server gone: 500 with Retry-After (%s)" % code, r)
            finally:
                ua.close()
                ub.close()
            c.check(a.stop() == 0 and b.stop() == 0, "both nodes exit 0 on SIGTERM",
                    a.tail() + b.tail())
    finally:
        if redis.poll() is None:
            redis.terminate()
        try:
            redis.wait(10)
        except subprocess.TimeoutExpired:
            redis.kill()
            redis.wait()


def main():
    c = rtest.Checks()
    tmp = tempfile.mkdtemp(prefix="ringlet-reg-")
    t0 = time.monotonic()
    try:
        for part in (test_rules, test_auth, test_durability, test_scale_out):
            t = time.monotonic()
            if part is test_rules:
                part(c)
            else:
                part(c, tmp)
            print("     (%s: %.1f s)" % (part.__name__, time.monotonic() - t))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("     (all: %.1f s)" % (time.monotonic() - t0))
    return c.done()


if __name__ == "__main__":
    sys.exit(main())
