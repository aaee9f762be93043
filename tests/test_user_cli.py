#!/usr/bin/env python3
"""`ringletd user add|del|list` black-box (DESIGN.md "ringletd flags").

On a temporary SQLite file: add shows up in list (names only, never a
digest), the file holds the HA1 digests (RFC 7616 §3.4.2: H(user:realm:pw),
realm = DOMAIN, or --realm) and never the password, add on an existing user
replaces it, del removes, del of an unknown user exits 1, bad usage exits 2
with exactly one line and touches no store.  On memory: the commands run,
and nothing survives the process.  Last line: "N passed, N failed".
"""
import glob
import hashlib
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtest  # noqa: E402

PW1 = "Pw1-q8Zr-unlikely-in-any-file"
PW2 = "Pw2-kT4m-also-unlikely-here"
PW3 = "Pw3-stdin-Xw9-password"


def run(*args, stdin=None, cwd=None):
    p = subprocess.run([os.path.abspath(rtest.RINGLETD)] + list(args), input=stdin, capture_output=True,
                       text=True, timeout=30, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def ha1(alg, user, realm, pw):
    return hashlib.new(alg, ("%s:%s:%s" % (user, realm, pw)).encode()).hexdigest()


def store_bytes(d):
    data = b""
    for f in glob.glob(os.path.join(d, "*")):
        with open(f, "rb") as fh:
            data += fh.read()
    return data


def one_line(err):
    return len(err.strip().splitlines()) == 1


def sqlite_checks(c, d):
    db = os.path.join(d, "users.db")
    st = ["--store", "sqlite:" + db]

    rc, out, err = run(*st, "user", "list")
    c.check(rc == 0 and out == "", "list of a new store is empty", "%d %r %r" % (rc, out, err))
    rc, out, err = run(*st, "user", "add", "alice@Atlanta.Example", PW1)
    c.check(rc == 0, "add alice exits 0", err)
    rc, out, err = run(*st, "user", "add", "bob@biloxi.example", "-", stdin=PW3 + "\n")
    c.check(rc == 0, "add bob, password from stdin, exits 0", err)
    rc, out, err = run(*st, "--realm", "Ringlet Realm", "user", "add", "carol@atlanta.example",
                       PW1)
    c.check(rc == 0, "add carol with --realm exits 0", err)

    rc, out, err = run(*st, "user", "list")
    users = out.split()
    c.check(rc == 0 and users == ["alice@atlanta.example", "bob@biloxi.example",
                                  "carol@atlanta.example"],
            "list shows the users, one per line, domain lower-cased", repr(out))
    c.check(not re.search(r"[0-9a-f]{32}", out), "list prints no digest", repr(out))

    data = store_bytes(d)
    c.check(data != b"", "the store file exists")
    for pw in (PW1, PW3):
        c.check(pw.encode() not in data, "the store holds no password in clear (%s)" % pw[:3])
    want = [ha1("md5", "alice", "atlanta.example", PW1),
            ha1("sha256", "alice", "atlanta.example", PW1),
            ha1("md5", "bob", "biloxi.example", PW3),
            ha1("sha256", "carol", "Ringlet Realm", PW1)]
    for h in want:
        c.check(h.encode() in data, "the store holds HA1 %s..." % h[:8])

    # add on an existing user replaces it
    rc, out, err = run(*st, "user", "add", "alice@atlanta.example", PW2)
    c.check(rc == 0, "add alice again exits 0", err)
    rc, out, err = run(*st, "user", "list")
    c.check(out.split().count("alice@atlanta.example") == 1, "alice listed once", repr(out))

    rc, out, err = run(*st, "user", "del", "alice@atlanta.example")
    c.check(rc == 0, "del alice exits 0", err)
    rc, out, err = run(*st, "user", "list")
    c.check(rc == 0 and out.split() == ["bob@biloxi.example", "carol@atlanta.example"],
            "list no longer shows alice", repr(out))
    rc, out, err = run(*st, "user", "del", "alice@atlanta.example")
    c.check(rc == 1 and one_line(err), "del of an unknown user exits 1 with one line",
            "%d %r" % (rc, err))

    rc, out, err = run("--store", "sqlite:" + os.path.join(d, "no", "such", "dir.db"), "user",
                       "list")
    c.check(rc == 1 and one_line(err), "an unusable store exits 1 with one line",
            "%d %r" % (rc, err))


BAD = [
    ["user"],
    ["user", "frobnicate"],
    ["user", "add", "alice@atlanta.example"],
    ["user", "add", "alice@atlanta.example", "pw", "extra"],
    ["user", "add", "nodomain", "pw"],
    ["user", "add", "@atlanta.example", "pw"],
    ["user", "add", "alice@", "pw"],
    ["user", "add", "a@b@c", "pw"],
    ["user", "add", "al ice@atlanta.example", "pw"],
    ["user", "add", "alice@atlanta.example", ""],
    ["user", "del"],
    ["user", "del", "nodomain"],
    ["user", "list", "extra"],
]


def usage_checks(c, d):
    for args in BAD:
        rc, out, err = run(*args, cwd=d)
        c.check(rc == 2 and one_line(err) and out == "",
                "bad usage %r exits 2 with one line" % " ".join(args), "%d %r" % (rc, err))
    c.check(os.listdir(d) == [], "bad usage creates no store", repr(os.listdir(d)))
    # the default store is sqlite:ringlet.db in the working directory
    rc, out, err = run("user", "add", "dave@atlanta.example", PW1, cwd=d)
    c.check(rc == 0 and os.path.exists(os.path.join(d, "ringlet.db")),
            "the default store is ringlet.db", err)


def memory_checks(c):
    st = ["--store", "memory:"]
    rc, out, err = run(*st, "user", "add", "alice@atlanta.example", PW1)
    c.check(rc == 0, "memory: add exits 0", err)
    c.check(PW1 not in out + err, "memory: add does not echo the password")
    rc, out, err = run(*st, "user", "list")
    c.check(rc == 0 and out == "", "memory: a new process lists nobody", repr(out))
    rc, out, err = run(*st, "user", "del", "alice@atlanta.example")
    c.check(rc == 1 and "no user alice@atlanta.example" in err,
            "memory: del of an unknown user exits 1", "%d %r" % (rc, err))


def main():
    c = rtest.Checks()
    if not os.access(rtest.RINGLETD, os.X_OK):
        c.check(False, "ringletd is built", rtest.RINGLETD)
        return c.done()
    with tempfile.TemporaryDirectory(prefix="ringlet-user-") as d:
        sqlite_checks(c, d)
    with tempfile.TemporaryDirectory(prefix="ringlet-user-") as d:
        usage_checks(c, d)
    memory_checks(c)
    return c.done()


if __name__ == "__main__":
    sys.exit(main())
