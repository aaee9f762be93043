#!/usr/bin/env python3
"""REGISTER/s of ringletd beside Kamailio 5.6 and the SIPp baseline, with the
shared peer harness (../shared/bench, README.md there): its REG step only
(`bench.sh --only reg`), default rounds (3, alternating order), ringletd as
an ad-hoc target with 2 workers, memory store, no auth, --dns off, domain
127.0.0.1 on udp:127.0.0.1:5060.  The harness's folder may be read-only, so
the run always goes under $TMPDIR/sip-bench/ (--out).

Prints the harness's log and summary, then the median max REG/s of each
target over the rounds (from the run's results.tsv) and, last:
    reg ratio: N.NN        (ringletd's median over Kamailio's)
Environment: PEER_BENCH (the harness folder, default ../shared/bench beside
the project), PEER_REPEAT (rounds, default 3), RINGLET_BUILD (build/).
"""
import csv
import os
import statistics
import subprocess
import sys
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("RINGLET_BUILD", os.path.join(SRC, "build"))
PEER = os.environ.get("PEER_BENCH", os.path.join(SRC, "..", "shared", "bench"))
REPEAT = os.environ.get("PEER_REPEAT", "3")


def medians(results):
    """{target: median max_reg over its rounds} from bench.sh's results.tsv."""
    per = {}
    with open(results) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            try:
                per.setdefault(r["target"], []).append(float(r["max_reg"]))
            except (KeyError, ValueError):
                pass
    return {t: (statistics.median(v), v) for t, v in per.items() if v}


def main():
    bench = os.path.join(os.path.abspath(PEER), "bench.sh")
    ringletd = os.path.join(os.path.abspath(BUILD), "ringletd")
    for f in (bench, ringletd):
        if not os.path.exists(f):
            print("bench-peer: %s is missing" % f, file=sys.stderr)
            return 2
    out = os.path.join(os.environ.get("TMPDIR", "/tmp"), "sip-bench",
                       "reg-" + time.strftime("%Y%m%d-%H%M%S"))
    start = ("exec %s -l udp:127.0.0.1:5060 -d 127.0.0.1 --store memory: --auth off "
             "--workers 2 --dns off" % ringletd)
    cmd = [bench, "--only", "reg", "--repeat", REPEAT, "--out", out,
           "--compare", "kamailio", "baseline",
           "--name", "ringletd", "--start", start, "--addr", "127.0.0.1:5060"]
    print("load average at start: %s" % open("/proc/loadavg").read().strip(), flush=True)
    print("+ cd %s && %s" % (os.path.dirname(bench), " ".join(
        "'%s'" % a if " " in a else a for a in cmd)), flush=True)
    rc = subprocess.call(cmd, cwd=os.path.dirname(bench))
    print("load average at end: %s" % open("/proc/loadavg").read().strip(), flush=True)
    results = os.path.join(out, "results.tsv")
    if rc != 0 or not os.path.exists(results):
        print("bench-peer: bench.sh exited %d; see %s" % (rc, out), file=sys.stderr)
        return 1
    med = medians(results)
    for t in ("ringletd", "kamailio", "baseline"):
        if t in med:
            m, v = med[t]
            print("%s: median %.0f REGISTER/s over %d rounds (%s)" %
                  (t, m, len(v), " ".join("%.0f" % x for x in v)))
    if not med.get("kamailio") or not med["kamailio"][0] or "ringletd" not in med:
        print("bench-peer: no REG/s figure for kamailio or ringletd in %s" % results,
              file=sys.stderr)
        return 1
    print("reg ratio: %.2f" % (med["ringletd"][0] / med["kamailio"][0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
