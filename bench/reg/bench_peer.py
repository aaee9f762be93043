#!/usr/bin/env python3
"""REGISTER/s of ringletd beside Kamailio 5.6 and the SIPp baseline, with the
shared peer harness (../shared/bench): bench/proxy/bench_proxy.py with its
REG step only (`bench.sh --only reg`), default rounds (3, alternating order),
ringletd with 2 workers, memory store, no auth, --dns off.

Prints the harness's progress, the median max REG/s of each target over the
rounds and, last:
    reg ratio: N.NN        (ringletd's median over Kamailio's)
Environment: as bench_proxy.py (PEER_BENCH, PEER_REPEAT, RINGLET_BUILD,
PEER_OUT); PEER_ONLY is always reg here.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "proxy"))
import bench_proxy  # noqa: E402


def main():
    out = bench_proxy.env("PEER_OUT", os.path.join(
        bench_proxy.env("TMPDIR", "/tmp"), "sip-bench", "reg-" + time.strftime("%Y%m%d-%H%M%S")))
    rc, summ = bench_proxy.run("reg", int(bench_proxy.env("PEER_REPEAT", "3")), out)
    if rc:
        return rc
    print(bench_proxy.table(summ))
    for t in bench_proxy.TARGETS:
        s = summ.get(t)
        if s and s["max_reg"] is not None:
            v = [x for x in s["max_reg_all"] if x is not None]
            print("%s: median %.0f REGISTER/s over %d rounds (%s)" %
                  (t, s["max_reg"], len(v), " ".join("%.0f" % x for x in v)))
    r = bench_proxy.ratio(summ, "max_reg")
    if r == "n/a":
        print("bench-peer: no REG/s figure for kamailio or ringletd in %s" % out, file=sys.stderr)
        return 1
    print("reg ratio: %s" % r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
