#!/usr/bin/env python3
"""Transactions per second through ringletd on loopback, with SIPp.

SIPp sends OPTIONS to the server itself (one non-INVITE server transaction
each: request in, 200 out, Timer J) at a fixed offered rate for a few
seconds; a step passes when every transaction completed, SIPp retransmitted
at most 1 % (on loopback a retransmission means an answer took > T1) and the
achieved rate is within 5 % of the offered one.  The rate is doubled until a
step fails, then bisected to 5 %.  Done once with --workers 1 and once with
--workers 2, in the same run.  Last line:
    tps: w1 N w2 N scaling: N.NN
Everything shares the machine's cores with SIPp: on 2 cores SIPp itself takes
one, so read the figures beside SIPp's CPU use.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests"))
import rtest  # noqa: E402

STEP_SECS = 3
MAX_RATE = 200000


def step(port, rate):
    calls = rate * STEP_SECS
    t0 = time.monotonic()
    rc, ok, fail, tail = rtest.sipp("options_uac", port, "-rp", "1000", transport="u1",
                                    calls=calls, rate=rate, timeout=STEP_SECS * 4 + 20)
    wall = time.monotonic() - t0
    retrans = rtest.sipp.last_retrans or 0
    achieved = calls / wall if wall > 0 else 0
    passed = rc == 0 and ok == calls and fail == 0 and retrans <= calls // 100 and \
        achieved >= 0.95 * rate * STEP_SECS / (STEP_SECS + 0.5)
    print("  rate %6d: %s (ok %s, failed %s, retrans %d, %.0f/s achieved)" %
          (rate, "pass" if passed else "FAIL", ok, fail, retrans, achieved), flush=True)
    return passed


def search(port, start=2000):
    lo, hi, rate = 0, None, start
    while hi is None and rate <= MAX_RATE:
        if step(port, rate):
            lo, rate = rate, rate * 2
        else:
            hi = rate
    if hi is None:
        return lo
    while lo and (hi - lo) > lo * 0.05:
        mid = (lo + hi) // 2
        if step(port, mid):
            lo = mid
        else:
            hi = mid
    return lo


def main():
    res = {}
    for w in (1, 2):
        print("ringletd --workers %d" % w, flush=True)
        with rtest.Server(workers=w) as srv:
            res[w] = search(srv.port)
            srv.stop()
        print("ringletd --workers %d: %d transactions/s" % (w, res[w]), flush=True)
    scaling = res[2] / res[1] if res[1] else 0.0
    print("tps: w1 %d w2 %d scaling: %.2f" % (res[1], res[2], scaling))
    return 0


if __name__ == "__main__":
    sys.exit(main())
