#!/usr/bin/env python3
"""SIPp against ringletd over UDP and TCP, with and without packet loss.

OPTIONS to the server (200) and INVITE to an unknown user (404 + ACK on the
INVITE's branch, absorbed by the server INVITE transaction).  With SIPp's
-lost, requests, responses and ACKs are dropped at random on SIPp's side:
SIPp's retransmissions and the server's (Timer G; answers to retransmitted
requests from the transaction) must still complete every call.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtest  # noqa: E402

RUNS = [
    # scenario, transport, calls, rate, lost %
    ("options_uac", "u1", 400, 200, 0),
    ("options_uac", "t1", 400, 200, 0),
    ("options_uac", "u1", 200, 100, 10),
    ("invite_404_uac", "u1", 200, 100, 0),
    ("invite_404_uac", "t1", 200, 100, 0),
    ("invite_404_uac", "u1", 150, 50, 10),
]


def main():
    c = rtest.Checks()
    with rtest.Server(workers=2) as srv:
        for scen, tr, calls, rate, lost in RUNS:
            rc, ok, fail, tail = rtest.sipp(scen, srv.port, transport=tr, calls=calls,
                                            rate=rate, lost=lost, timeout=90)
            what = "%s over %s%s: %s of %d calls ok, %s failed" % (
                scen, "UDP" if tr == "u1" else "TCP", " with %d%% loss" % lost if lost else "",
                ok, calls, fail)
            c.check(rc == 0 and ok == calls and fail == 0, what, "sipp exit %d\n%s" % (rc, tail))
        c.check(srv.stop() == 0, "ringletd exits 0 on SIGTERM", srv.tail())
    return c.done()


if __name__ == "__main__":
    sys.exit(main())
