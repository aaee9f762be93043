#!/usr/bin/env python3
"""ringletd's config file (-c FILE, --check-config), black-box.

The sample etc/ringlet.conf must validate; bad files (syntax, type, range,
unknown setting, inconsistent limits) must exit 2 with one line naming
FILE:LINE and the setting; a file's settings must take effect, and flags
must win over them (a repeated flag replaces the file's list).
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtest  # noqa: E402

SAMPLE = os.path.join(rtest.SRC, "etc", "ringlet.conf")
TMP = tempfile.mkdtemp(prefix="ringlet-config-")


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def ringletd(*args):
    """Run ringletd to completion (in TMP, so nothing lands in the source tree)."""
    return subprocess.run([rtest.RINGLETD] + list(args), capture_output=True, text=True,
                          timeout=20, cwd=TMP)


def lines(text):
    return [l for l in text.splitlines() if l.strip()]


def check_bad(c, what, text, line, setting, *flags):
    """A file that must be refused: exit 2, one stderr line naming file:line and setting."""
    path = write("bad.conf", text)
    p = ringletd("-c", path, "--check-config", *flags)
    err = lines(p.stderr)
    want = "%s:%d:" % (path, line)
    ok = (p.returncode == 2 and len(err) == 1 and want in err[0] and
          (setting is None or (setting + ":") in err[0]))
    c.check(ok, "%s: exit 2, %s" % (what, err[0] if err else "(no message)"),
            "rc=%d want %r and %r in one line: %r" % (p.returncode, want, setting, p.stderr))


class Daemon:
    """ringletd started with exactly the given arguments, its output in a log."""

    def __init__(self, *args):
        self.log = os.path.join(TMP, "ringletd-%d.log" % os.getpid())
        self.logf = open(self.log, "wb")
        self.proc = subprocess.Popen([rtest.RINGLETD] + list(args), stdout=self.logf,
                                     stderr=subprocess.STDOUT, cwd=TMP)

    def answers(self, port, host="127.0.0.1", timeout=10.0):
        """The first response to OPTIONS sip:host sent to 127.0.0.1:port, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            uri_port = port if host == "127.0.0.1" else 5060
            r = rtest.udp_request(port, rtest.options_msg(host, uri_port), timeout=0.3)
            if r:
                return r
        return None

    def tail(self):
        with open(self.log, "rb") as f:
            return f.read()[-2000:].decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode


def status(r):
    m = re.match(rb"SIP/2\.0 (\d{3}) ", r or b"")
    return int(m.group(1)) if m else None


def test_check_config(c):
    p = ringletd("-c", SAMPLE, "--check-config")
    out = lines(p.stdout)
    c.check(p.returncode == 0 and len(out) == 1 and out[0].endswith(SAMPLE + ": valid") and
            not lines(p.stderr), "sample etc/ringlet.conf passes --check-config", p)
    with open(SAMPLE) as f:
        text = f.read()
    # the settings ringletd knows, as its "unknown setting" message lists them
    known = []
    for group in ("", "registrar", "timers", "log"):
        body = "no_such_setting = 1;" if not group else "%s = { no_such_setting = 1; };" % group
        p = ringletd("-c", write("unknown.conf", body + "\n"), "--check-config")
        m = re.search(r"expected one of (.*)$", p.stderr.strip())
        known += m.group(1).split(", ") if m else ["(no list from %r)" % group]
    missing = [n for n in known if not re.search(r"^\s*#?\s*%s\s*=" % re.escape(n), text, re.M)]
    c.check(len(known) > 20 and not missing,
            "sample shows every setting ringletd knows (%d)" % len(known), missing)
    path = write("full.conf", """
listen = ["udp:127.0.0.1:5999", "tcp:[::1]:5999"];
domains = ["atlanta.example", "biloxi.example"];
store = "memory:";
auth = false;
realm = "Atlanta Users";
registrar = { min_expires = 0; max_expires = 4294967295; default_expires = 4294967295; };
workers = 256;
timers = { t1 = 100; t2 = 600000; t4 = 1; };
log = { level = "debug"; };
routes = ( { domain = "chicago.example"; uri = "sip:127.0.0.1:5070"; },
           { domain = "denver.example"; uri = "sips:[::1]:5071"; } );
trust = ["192.0.2.0/24", "2001:db8::/32", "10.1.2.3"];
dns = "127.0.0.1:53";
mode = "b2bua";
http = "127.0.0.1:8080";
""")
    p = ringletd("-c", path, "--check-config")
    c.check(p.returncode == 0 and lines(p.stdout) == ["ringletd: %s: valid" % path],
            "every setting at its limits is valid (4294967295 included)", p)
    p = ringletd("-c", write("empty.conf", "# nothing\n"), "--check-config")
    c.check(p.returncode == 0, "an empty file is valid (all defaults)", p)
    p = ringletd("--check-config")
    c.check(p.returncode == 0 and lines(p.stdout)[-1:] == ["ringletd: settings: valid"],
            "--check-config without -c checks the flags", p)


def test_bad_files(c):
    check_bad(c, "syntax error", "workers = 2;\n\nstore = ;\n", 3, None)
    p = ringletd("-c", os.path.join(TMP, "bad.conf"), "--check-config")
    c.check("syntax error" in p.stderr, "  ... and says syntax error", p.stderr)
    check_bad(c, "syntax error after a string (missing =)", "workers = 2;\nstore \"memory:\";\n",
              2, None)
    check_bad(c, "duplicate setting", "workers = 2;\nworkers = 3;\n", 2, None)
    check_bad(c, "wrong type (string for an integer)", "store = \"memory:\";\nworkers = \"two\";\n",
              2, "workers")
    check_bad(c, "wrong type (float)", "timers = {\n  t1 = 1.5;\n};\n", 2, "timers.t1")
    check_bad(c, "wrong type (integer for a list)", "listen = 5;\n", 1, "listen")
    check_bad(c, "wrong type (list for a group)", "\nregistrar = [];\n", 2, "registrar")
    check_bad(c, "wrong type (string for a bool)", "auth = \"yes\";\n", 1, "auth")
    check_bad(c, "out of range (negative)", "registrar = {\n\tmin_expires = -1;\n};\n", 2,
              "registrar.min_expires")
    path = os.path.join(TMP, "bad.conf")
    p = ringletd("-c", path, "--check-config")
    c.check("expected an integer from 0 to 4294967295" in p.stderr, "  ... and says the range",
            p.stderr)
    check_bad(c, "out of range (2^32)", "registrar = { max_expires = 4294967296; };\n", 1,
              "registrar.max_expires")
    # libconfig 1.5 alone reads 4294967356 as 60 (32-bit wrap): it must be refused
    check_bad(c, "out of range (2^32 + 60, no silent wrap)",
              "registrar = { min_expires = 4294967356; };\n", 1, "registrar.min_expires")
    check_bad(c, "out of range (hex)", "workers = 0x100000001;\n", 1, "workers")
    check_bad(c, "out of range (workers 0)", "\n\n\nworkers = 0;\n", 4, "workers")
    check_bad(c, "unknown setting", "workers = 2;\nlisten_on = [];\n", 2, "listen_on")
    check_bad(c, "unknown nested setting (typo)", "registrar = {\n  min_expire = 60;\n};\n", 2,
              "registrar.min_expire")
    check_bad(c, "unknown route member",
              "routes = ( { domain = \"b.example\";\n uri = \"sip:h\"; port = 5; } );\n", 2,
              "routes[0].port")
    check_bad(c, "bad listen spec", "listen = [\"udp:127.0.0.1:5060\", \"sctp:1.2.3.4\"];\n", 1,
              "listen[1]")
    check_bad(c, "bad store", "\nstore = \"postgres://x\";\n", 2, "store")
    check_bad(c, "bad mode", "mode = \"relay\";\n", 1, "mode")
    check_bad(c, "bad log level", "log = { level = \"loud\"; };\n", 1, "log.level")
    check_bad(c, "bad trust", "trust = [\"10.0.0.0/33\"];\n", 1, "trust[0]")
    check_bad(c, "bad route uri", "routes = ( { domain = \"b.example\"; uri = \"http://x\"; } );\n",
              1, "routes[0]")
    check_bad(c, "realm with a quote", "realm = \"a\\\"b\";\n", 1, "realm")
    check_bad(c, "min_expires above max_expires",
              "registrar = {\n max_expires = 100;\n min_expires = 200;\n};\n", 3,
              "registrar.min_expires")
    check_bad(c, "default_expires outside the limits",
              "registrar = {\n default_expires = 30;\n};\n", 2, "registrar.default_expires")
    check_bad(c, "@include refused", "workers = 2;\n@include \"other.conf\"\n", 2, None)

    p = ringletd("-c", os.path.join(TMP, "missing.conf"), "--check-config")
    c.check(p.returncode == 2 and len(lines(p.stderr)) == 1 and "missing.conf" in p.stderr,
            "missing file: exit 2 naming it", p)
    good = write("good.conf", "workers = 2;\n")
    p = ringletd("-c", good, "--check-config", "--workers", "0")
    c.check(p.returncode == 2 and len(lines(p.stderr)) == 1 and "--workers" in p.stderr,
            "a bad flag on top of a good file: exit 2", p)
    p = ringletd("-c", good, "--check-config", "--default-expires", "10")
    c.check(p.returncode == 2 and "default_expires" in p.stderr,
            "--default-expires below min_expires: exit 2", p)
    p = ringletd("-c", write("lim.conf", "registrar = { min_expires = 10; };\n"),
                 "--check-config", "--default-expires", "10")
    c.check(p.returncode == 0, "--default-expires within the file's limits is valid", p)

    # a bad file at a normal start: exit 2 with the line, nothing started
    port = rtest.free_port()
    path = write("start.conf", "listen = [\"udp:127.0.0.1:%d\"];\nworkers = 1000;\n" % port)
    p = ringletd("-c", path, "--store", "memory:", "--dns", "off")
    err = lines(p.stderr)
    c.check(p.returncode == 2 and len(err) == 1 and ("%s:2: workers:" % path) in err[0],
            "bad file at start: exit 2, %s" % (err[0] if err else ""), p)


def test_file_and_flags(c):
    a = rtest.free_port()
    b = rtest.free_port()
    path = write("run.conf", """# the server of test_file_and_flags
listen = ["udp:127.0.0.1:%d", "tcp:127.0.0.1:%d"];
domains = ["atlanta.example"];
store = "memory:";
auth = false;
dns = "off";
workers = 3;
log = { level = "info"; };
""" % (a, a))
    d = Daemon("-c", path)
    try:
        r = d.answers(a)
        c.check(status(r) == 200, "file only: answers OPTIONS on the file's port", d.tail())
        r = d.answers(a, host="atlanta.example")
        c.check(status(r) == 200, "file only: the file's domain is ours", r)
        r = d.answers(a, host="biloxi.example")
        c.check(status(r) not in (None, 200), "file only: another domain is not", r)
    finally:
        rc = d.stop()
    log = d.tail()
    c.check("workers=3" in log, "file only: workers and log level from the file", log)
    c.check(rc == 0, "exit 0 on SIGTERM", "exit %s" % rc)

    d = Daemon("-c", path, "-l", "udp:127.0.0.1:%d" % b, "--workers", "1", "--domain",
               "biloxi.example")
    try:
        r = d.answers(b)
        c.check(status(r) == 200, "flags win: answers OPTIONS on the flag's port", d.tail())
        r = rtest.udp_request(a, rtest.options_msg("127.0.0.1", a), timeout=1.0)
        c.check(r is None, "flags win: nothing on the file's port", r)
        r = d.answers(b, host="biloxi.example")
        c.check(status(r) == 200, "--domain replaces the file's domains (flag's is ours)", r)
        r = d.answers(b, host="atlanta.example")
        c.check(status(r) not in (None, 200), "--domain replaces the file's domains "
                "(file's is not)", r)
    finally:
        rc = d.stop()
    log = d.tail()
    c.check("workers=1" in log and "workers=3" not in log, "flags win: --workers 1", log)
    c.check(rc == 0, "exit 0 on SIGTERM", "exit %s" % rc)


def main():
    c = rtest.Checks()
    test_check_config(c)
    test_bad_files(c)
    test_file_and_flags(c)
    return c.done()


if __name__ == "__main__":
    sys.exit(main())
