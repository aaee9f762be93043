#!/usr/bin/env python3
"""Registrations per second through ringletd on loopback, with SIPp.

Each SIPp call is one registration (RFC 3261 §10.3): a REGISTER with
Expires 3600 and one Contact, answered 200 (reg_uac.xml).  With --auth on
it is two REGISTERs: the first is challenged 401, the second carries the
digest and gets 200 (reg_auth_uac.xml); the figure is still registrations
(200s) per second, i.e. half the REGISTERs per second.

A step offers a fixed rate for STEP_SECS; it passes when every
registration got its 200, SIPp retransmitted at most 1 % (on loopback a
retransmission means an answer took > T1 = 500 ms) and the achieved rate
is >= 95 % of the offered one.  The rate doubles until a step fails (halves
while the first fails), then bisects until the bracket is within 5 %.
Later combinations start from a related earlier result with x1.5 steps.
The server keeps running across passing steps and is restarted (same
store) after a failing one, so no step inherits an overload's backlog.

SIPp sends from SOCKETS = 8 UDP sockets (-t un -max_socket 8): ringletd's
workers each own a SO_REUSEPORT socket and the kernel picks one per source
address, so SIPp's usual single socket (-t u1) would load one worker and
leave the other idle (as in ../shared/bench, which uses -t u1).  The
Contact's port is fixed in the scenarios, so each user keeps one binding.

Combinations: {auth off, on} x {memory:, sqlite:<temp file>} x {1, 2
workers}.  Users come from a SEQUENTIAL injection CSV written into a temp
dir (USERS rows, deterministic); each step walks it from the top, so the
first step inserts bindings and later ones mostly refresh them.  Auth on
needs provisioned users, and the only way in is `ringletd --store URL user
add` (one process per user, 6-9 ms each on this machine, since a SQLite
commit is fsynced): AUTH_USERS users are added once into a template SQLite
file that each auth run copies.  memory: is private to the process that
opened it, and ringletd has no way to provision a running server yet, so
auth on is measured with the SQLite store only; the auth-mem tokens print
n/a.  SIPp computes MD5 digests only, hence --auth-algorithms md5.

Last line (one token per combination, registrations/s):
    reg: mem-w1 N mem-w2 N sql-w1 N sql-w2 N auth-mem-w1 n/a auth-mem-w2 n/a
         auth-sql-w1 N auth-sql-w2 N
Environment: REG_USERS (20000), REG_AUTH_USERS (2000), REG_BUDGET_S (540:
the whole run stops searching after that and reports what it has),
REG_ONLY (comma-separated combination names, for profiling one of them).
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests"))
import rtest  # noqa: E402

STEP_SECS = 3
PRECISION = 0.05
MAX_STEPS = 9          # per combination
START = 2000           # first probe without an earlier result
MAX_RATE = 100000
SOCKETS = 8            # SIPp's UDP sockets, spread over the workers by SO_REUSEPORT
DOMAIN = "127.0.0.1"
USERS = int(os.environ.get("REG_USERS", "20000"))
AUTH_USERS = int(os.environ.get("REG_AUTH_USERS", "2000"))
BUDGET = float(os.environ.get("REG_BUDGET_S", "540"))
HZ = os.sysconf("SC_CLK_TCK")

# name, auth, store kind, workers, (hint from: name, factor)
COMBOS = [
    ("mem-w1", False, "mem", 1, None),
    ("mem-w2", False, "mem", 2, ("mem-w1", 1.0)),
    ("sql-w1", False, "sql", 1, ("mem-w1", 1.0)),
    ("sql-w2", False, "sql", 2, ("sql-w1", 1.0)),
    ("auth-mem-w1", True, "mem", 1, None),
    ("auth-mem-w2", True, "mem", 2, None),
    ("auth-sql-w1", True, "sql", 1, ("sql-w1", 0.5)),
    ("auth-sql-w2", True, "sql", 2, ("auth-sql-w1", 1.0)),
]


def cpu_ticks(pid):
    """utime+stime of a process (all its threads), or 0 once it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return int(rest[11]) + int(rest[12])
    except (OSError, IndexError, ValueError):
        return 0


def thread_ticks(pid):
    """{tid: utime+stime} for every thread of pid."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for t in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, t)) as f:
                rest = f.read().rsplit(")", 1)[1].split()
            out[t] = int(rest[11]) + int(rest[12])
        except (OSError, IndexError, ValueError):
            pass
    return out


def write_csv(path, n, auth):
    """SEQUENTIAL injection file: user;[authentication username=U password=P]
    (SIPp expands a keyword found in a field, not [field0] inside username=)."""
    with open(path, "w") as f:
        f.write("SEQUENTIAL\n")
        for i in range(1, n + 1):
            u = "breg%06d" % i
            f.write("%s;[authentication username=%s password=%s]\n" % (u, u, password(i))
                    if auth else "%s;-\n" % u)


def password(i):
    return "pw-%06d-x" % i


def provision(db, n):
    """Add users breg000001..n@DOMAIN to sqlite:db with `ringletd user add` (the
    product's own interface; the password goes through stdin)."""
    t0 = time.monotonic()
    for i in range(1, n + 1):
        p = subprocess.run([rtest.RINGLETD, "--store", "sqlite:" + db, "user", "add",
                            "breg%06d@%s" % (i, DOMAIN), "-"], input=password(i) + "\n",
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           timeout=30)
        if p.returncode != 0:
            raise RuntimeError("ringletd user add failed: %s" % p.stderr.strip())
    wal = db + "-wal"  # the CLI closed the file: the copy must hold every user
    if os.path.exists(wal) and os.path.getsize(wal) > 0:
        raise RuntimeError("%s is not empty after user add" % wal)
    return time.monotonic() - t0


class Step:
    """One fixed-rate SIPp run against the server; fields hold what it measured."""

    def __init__(self, srv, scen, csv, rate, tmp):
        self.rate = rate
        n = rate * STEP_SECS
        statf = os.path.join(tmp, "stat-%d.csv" % rate)
        if os.path.exists(statf):
            os.unlink(statf)
        lport, cp, mp = rtest.free_port("udp"), rtest.free_port("udp"), rtest.free_port("udp")
        cmd = ["sipp", "127.0.0.1:%d" % srv.port, "-sf", scen, "-inf", csv,
               "-key", "domain", DOMAIN, "-i", "127.0.0.1", "-p", str(lport),
               "-cp", str(cp), "-mp", str(mp), "-t", "un", "-max_socket", str(SOCKETS),
               "-r", str(rate), "-rp", "1000",
               "-m", str(n), "-l", str(max(200, rate * 6)), "-nostdin",
               "-buff_size", "4194304", "-max_recv_loops", "10000",
               "-max_sched_loops", "10000", "-trace_stat", "-stf", statf, "-fd", "1",
               "-timeout", "%ds" % (STEP_SECS + 10)]
        spid = srv.proc.pid
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             cwd=tmp)
        killed = False
        try:
            time.sleep(1.0)
            a = (time.monotonic(), cpu_ticks(spid), cpu_ticks(p.pid), thread_ticks(spid))
            time.sleep(STEP_SECS - 1.25)
            b = (time.monotonic(), cpu_ticks(spid), cpu_ticks(p.pid), thread_ticks(spid))
            # a failing step would spend ~30 s in retransmission back-off: cut it
            p.wait(timeout=STEP_SECS + 5 - (time.monotonic() - t0))
        except subprocess.TimeoutExpired:
            killed = True
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=2)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        finally:  # interrupted (^C): leave no SIPp behind
            if p.poll() is None:
                p.kill()
                p.wait()
        wall = time.monotonic() - t0
        dt = max(b[0] - a[0], 1e-3)
        self.srv_cpu = (b[1] - a[1]) / HZ / dt * 100
        self.sipp_cpu = (b[2] - a[2]) / HZ / dt * 100
        # the busiest thread (a worker, or SQLite's DB thread): 100 % = it is the limit
        self.top_thread = max([(v - a[3].get(t, 0)) / HZ / dt * 100 for t, v in b[3].items()]
                              or [0])
        self.ok, self.failed, self.retrans = self.parse(statf)
        # calls start at t = 0 .. (n-1)/rate; ~0.03 s of SIPp start/stop is not load
        self.achieved = min((n - 1) / max(wall - 0.03, 1e-3), rate * 1.5)
        why = []
        if killed or self.ok < n:
            why.append("incomplete %d/%d" % (self.ok, n))
        if self.failed:
            why.append("failed %d" % self.failed)
        if self.retrans > n // 100:
            why.append("retrans %d" % self.retrans)
        if self.achieved < 0.95 * rate:
            why.append("rate %.0f" % self.achieved)
        self.passed = not why
        self.why = ", ".join(why) or "-"
        self.wall = wall

    @staticmethod
    def parse(statf):
        """(successful, failed, retransmissions) from the last row of SIPp's stat CSV."""
        try:
            with open(statf) as f:
                rows = [r.rstrip("\n").split(";") for r in f if r.strip()]
            head, last = rows[0], rows[-1]
            return tuple(int(last[head.index(k)]) for k in
                         ("SuccessfulCall(C)", "FailedCall(C)", "Retransmissions(C)"))
        except (OSError, ValueError, IndexError):
            return 0, 0, 0

    def line(self):
        return ("  rate %6d: %s (ok %d, failed %d, retrans %d, %.0f/s achieved, "
                "ringletd %.0f%% CPU (busiest thread %.0f%%), SIPp %.0f%%; %s)" %
                (self.rate, "pass" if self.passed else "FAIL", self.ok, self.failed,
                 self.retrans, self.achieved, self.srv_cpu, self.top_thread, self.sipp_cpu,
                 self.why))


def rnd(x):
    return max(10, int(x / 10 + 0.5) * 10) if x >= 100 else max(1, int(x + 0.5))


def search(run, hint, deadline):
    """Highest passing rate (0: none) and the step that passed there."""
    up, dn, r = (1.5, 1 / 1.5, rnd(hint)) if hint else (2.0, 0.5, START)
    lo, hi, best, steps = 0, None, None, 0
    while steps < MAX_STEPS and time.monotonic() < deadline:
        steps += 1
        s = run(r)
        print(s.line(), flush=True)
        if s.passed:
            lo, best = r, s
            time.sleep(0.5)
        else:
            hi = r
        if hi is None:
            r = rnd(r * up)
            if r > MAX_RATE:
                break
            continue
        if lo == 0:
            r = rnd(r * dn)
            if r < 20:
                break
            continue
        if hi - lo <= lo * PRECISION:
            break
        r = rnd((lo + hi) / 2)
        if r <= lo or r >= hi:
            break
    else:
        if time.monotonic() >= deadline:
            print("  time budget (REG_BUDGET_S) spent: the figure is a lower bound", flush=True)
    return lo, best


class Sut:
    """ringletd for one combination; restarted after a failed step (same store), so a
    step never inherits an overloaded step's backlog: every request's server
    transaction lives 32 s (Timer J, RFC 3261 §17.2.2), retransmissions included."""

    def __init__(self, args, workers, store, auth):
        self.spec = (args, workers, store, auth)
        self.srv = None
        self.start()

    def start(self):
        args, workers, store, auth = self.spec
        self.srv = rtest.Server(*args, workers=workers, store=store, auth=auth)

    def stop(self):
        try:
            rc = self.srv.stop()
            if rc != 0:
                print("  ringletd exited %d: %s" % (rc, self.srv.tail(500)), flush=True)
        except RuntimeError as e:
            print("  %s" % e, flush=True)
        finally:
            self.srv.__exit__()
            shutil.rmtree(self.srv.logdir, ignore_errors=True)

    def restart(self):
        self.stop()
        self.start()


def run_combo(name, auth, kind, workers, hint, tmp, files, deadline):
    scen = os.path.join(HERE, "reg_auth_uac.xml" if auth else "reg_uac.xml")
    csv = files["auth_csv"] if auth else files["csv"]
    if kind == "sql":
        db = os.path.join(tmp, name + ".db")
        if auth:
            shutil.copyfile(files["users_db"], db)
        store = "sqlite:" + db
    else:
        store = "memory:"
    args = ["-d", DOMAIN]
    if auth:
        args += ["--auth-algorithms", "md5"]
    print("%s: ringletd --workers %d --store %s --auth %s" %
          (name, workers, store, "on" if auth else "off"), flush=True)
    sut = Sut(args, workers, store, "on" if auth else "off")

    def run(rate):
        s = Step(sut.srv, scen, csv, rate, tmp)
        if not s.passed:
            sut.restart()
        return s

    try:
        best, s = search(run, hint, deadline)
    finally:
        sut.stop()
    extra = ""
    if s is not None:  # CPU per registration: steadier than the rate on a shared machine
        extra = (" (at that rate: ringletd %.0f%% of a core = %.1f us CPU per registration, "
                 "busiest thread %.0f%%; SIPp %.0f%%)" %
                 (s.srv_cpu, s.srv_cpu * 1e4 / best, s.top_thread, s.sipp_cpu))
    print("%s: %d registrations/s%s" % (name, best, extra), flush=True)
    return best


def main():
    t_begin = time.monotonic()
    deadline = t_begin + BUDGET
    only = [x for x in os.environ.get("REG_ONLY", "").split(",") if x]
    tmp = tempfile.mkdtemp(prefix="bench-reg-")
    res = {}
    try:
        print("load average at start: %s" % open("/proc/loadavg").read().strip(), flush=True)
        files = {"csv": os.path.join(tmp, "users.csv"),
                 "auth_csv": os.path.join(tmp, "auth_users.csv"),
                 "users_db": os.path.join(tmp, "users.db")}
        write_csv(files["csv"], USERS, False)
        write_csv(files["auth_csv"], AUTH_USERS, True)
        if any(c[1] and c[2] == "sql" and (not only or c[0] in only) for c in COMBOS):
            secs = provision(files["users_db"], AUTH_USERS)
            print("provisioned %d users with ringletd user add in %.1f s" % (AUTH_USERS, secs),
                  flush=True)
        for name, auth, kind, workers, hint_from in COMBOS:
            if (only and name not in only) or (auth and kind == "mem"):
                res[name] = None
                continue
            hint = 0
            if hint_from and res.get(hint_from[0]):
                hint = res[hint_from[0]] * hint_from[1]
            res[name] = run_combo(name, auth, kind, workers, hint, tmp, files, deadline)
        print("auth-mem-w1, auth-mem-w2: n/a (memory: is private to the server process and "
              "cannot be provisioned from outside; auth on is measured on SQLite)", flush=True)
        print("total %.0f s; load average at end: %s" %
              (time.monotonic() - t_begin, open("/proc/loadavg").read().strip()), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("reg: " + " ".join("%s %s" % (c[0], "n/a" if res.get(c[0]) is None else res[c[0]])
                             for c in COMBOS))
    return 0 if all(res[c[0]] for c in COMBOS if res[c[0]] is not None) else 1


if __name__ == "__main__":
    sys.exit(main())
