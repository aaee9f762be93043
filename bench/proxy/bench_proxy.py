#!/usr/bin/env python3
"""ringletd as registrar + stateful proxy beside Kamailio 5.6 and the SIPp
baseline, with the shared peer harness (../shared/bench, README.md there):
calls per second (INVITE, 100/180/200, ACK, 0.5 s hold, BYE, 200 through
the proxy, Record-Route and loose routing) and REGISTER/s, in one run, in
alternating order round by round.

ringletd runs as an ad-hoc target: 2 workers, memory store, no auth,
--dns off, domain 127.0.0.1 on udp:127.0.0.1:5060.  Kamailio runs from the
harness's targets/kamailio.conf (2 children).  The harness folder may be
read-only, so the run always goes under $TMPDIR/sip-bench/ (--out).

Prints the harness's progress lines as they come, then a table (median
over the rounds of max CPS, max REGISTER/s, the server's CPU at those rates,
its PSS at the end of those steps and its highest PSS over the run, and the
failed calls of the best CPS steps), and, last:
    cps ratio: N.NN reg ratio: N.NN    (ringletd's medians over Kamailio's)
A kind that was not measured (PEER_ONLY) prints n/a.

Environment: PEER_BENCH (the harness folder, default ../shared/bench beside
the project), PEER_REPEAT (rounds, default 3), PEER_ONLY (cps, reg or both:
the default), RINGLET_BUILD (build/), RINGLET_WORKERS (2), PEER_OUT (the run
folder; default $TMPDIR/sip-bench/<kind>-<time>).
"""
import csv
import os
import statistics
import subprocess
import sys
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TARGETS = ("ringletd", "kamailio", "baseline")


def env(name, default):
    v = os.environ.get(name, "")
    return v if v else default


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def num(v):
    """A float from a results.tsv cell, or None for absent / negative (the harness's n/a)."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if x >= 0 else None


def median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def summarise(results, steps, only="both"):
    """{target: {field: median or list}} from results.tsv and steps.tsv rows; the kinds
    not measured (only) are None."""
    skip = {"cps": ("max_reg",), "reg": ("max_cps",)}.get(only, ())
    out = {}
    for t in TARGETS:
        rows = [r for r in results if r.get("target") == t]
        if not rows:
            continue
        s = {"rounds": len(rows)}
        for k in ("max_cps", "cpu_cps", "pss_cps_mib", "uac_cpu_cps", "max_reg", "cpu_reg",
                  "pss_reg_mib", "idle_pss_mib"):
            vals = [None if k in skip else num(r.get(k)) for r in rows]
            s[k] = median(vals)
            s[k + "_all"] = vals
        mine = [r for r in steps if r.get("target") == t]
        s["pss_peak"] = max([num(r.get("sut_pss_mib")) or 0 for r in mine] or [0]) or None
        # failed calls of the step that gave each round's max CPS
        failed = []
        for r in rows:
            best = r.get("max_cps")
            for st in mine:
                if (st.get("rep") == r.get("rep") and st.get("kind") == "cps" and
                        st.get("rate") == best and st.get("verdict") == "PASS"):
                    failed.append(int(num(st.get("failed")) or 0))
        s["failed_at_max"] = failed
        out[t] = s
    return out


def fmt(v, unit="", digits=0):
    if v is None:
        return "n/a"
    return ("%." + str(digits) + "f%s") % (v, unit)


def table(summ):
    lines = ["| target | rounds | max CPS (median [rounds]) | failed calls at max "
             "| CPU % at max CPS | PSS MiB at max CPS | max REG/s (median [rounds]) | CPU % at max REG "
             "| PSS MiB at max REG | PSS MiB peak |",
             "|---|---:|---|---:|---:|---:|---|---:|---:|---:|"]
    for t in TARGETS:
        s = summ.get(t)
        if not s:
            continue
        rounds = lambda k: " ".join(fmt(v) for v in s[k + "_all"])
        cpu = (lambda k: "-") if t == "baseline" else (lambda k: fmt(s[k]))
        lines.append("| %s | %d | %s [%s] | %s | %s | %s | %s [%s] | %s | %s | %s |" % (
            t, s["rounds"], fmt(s["max_cps"]), rounds("max_cps"),
            " ".join(str(x) for x in s["failed_at_max"]) or "n/a",
            cpu("cpu_cps"), cpu("pss_cps_mib"), fmt(s["max_reg"]), rounds("max_reg"),
            cpu("cpu_reg"), cpu("pss_reg_mib"), "-" if t == "baseline" else fmt(s["pss_peak"])))
    return "\n".join(lines)


def ratio(summ, key):
    a = summ.get("ringletd", {}).get(key)
    b = summ.get("kamailio", {}).get(key)
    return "%.2f" % (a / b) if a and b else "n/a"


def run(only, repeat, out):
    """Run the harness; returns (exit code, summary dict)."""
    build = os.path.abspath(env("RINGLET_BUILD", os.path.join(SRC, "build")))
    peer = os.path.abspath(env("PEER_BENCH", os.path.join(SRC, "..", "shared", "bench")))
    bench = os.path.join(peer, "bench.sh")
    ringletd = os.path.join(build, "ringletd")
    for f in (bench, ringletd):
        if not os.path.exists(f):
            print("bench-proxy: %s is missing" % f, file=sys.stderr)
            return 2, {}
    start = ("exec %s -l udp:127.0.0.1:5060 -d 127.0.0.1 --store memory: --auth off "
             "--workers %s --dns off" % (ringletd, env("RINGLET_WORKERS", "2")))
    cmd = [bench, "--repeat", str(repeat), "--out", out]
    if only != "both":
        cmd += ["--only", only]
    cmd += ["--compare", "kamailio", "baseline",
            "--name", "ringletd", "--start", start, "--addr", "127.0.0.1:5060"]
    print("load average at start: %s" % open("/proc/loadavg").read().strip(), flush=True)
    print("+ cd %s && %s" % (peer, " ".join("'%s'" % a if " " in a else a for a in cmd)),
          flush=True)
    t0 = time.time()
    # bench.sh logs one line per rate step on stderr: they are the progress lines
    rc = subprocess.call(cmd, cwd=peer)
    print("bench.sh took %.0f s; load average at end: %s" %
          (time.time() - t0, open("/proc/loadavg").read().strip()), flush=True)
    results = read_tsv(os.path.join(out, "results.tsv"))
    if rc != 0 or not results:
        print("bench-proxy: bench.sh exited %d; see %s" % (rc, out), file=sys.stderr)
        return rc or 1, {}
    return 0, summarise(results, read_tsv(os.path.join(out, "steps.tsv")), only)


def main():
    only = env("PEER_ONLY", "both")
    if only not in ("cps", "reg", "both"):
        print("bench-proxy: PEER_ONLY must be cps, reg or both", file=sys.stderr)
        return 2
    repeat = int(env("PEER_REPEAT", "3"))
    out = env("PEER_OUT", os.path.join(env("TMPDIR", "/tmp"), "sip-bench",
                                       "proxy-" + time.strftime("%Y%m%d-%H%M%S")))
    rc, summ = run(only, repeat, out)
    if rc:
        return rc
    print(table(summ))
    print("run folder: %s" % out)
    if "ringletd" not in summ or "kamailio" not in summ:
        print("bench-proxy: no figures for ringletd or kamailio", file=sys.stderr)
        return 1
    print("cps ratio: %s reg ratio: %s" % (ratio(summ, "max_cps"), ratio(summ, "max_reg")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
