#!/usr/bin/env python3
"""../shared/torture/run.py against a fresh ringletd, over UDP and over TCP.

Each transport gets its own server (the RFC messages have fixed Call-IDs and
CSeqs), both run at once on their own ports, with --dns off so nothing the
messages name is ever looked up.  Every case must pass on both transports.
"""
import os
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtest  # noqa: E402


def run_transport(transport, local_ports, results):
    with rtest.Server(workers=2) as srv:
        p = subprocess.run([sys.executable, os.path.join(rtest.TORTURE, "run.py"),
                            "--target", "127.0.0.1:%d" % srv.port, "--transport", transport,
                            "--corpus", rtest.TORTURE, "--local-ports", local_ports,
                            "--max-time", "400"],
                           capture_output=True, text=True, timeout=600)
        rc = srv.stop()
        results[transport] = (p.returncode, p.stdout, p.stderr, rc, srv.tail())


def main():
    c = rtest.Checks()
    results = {}
    base = rtest.free_port(lo=41000, hi=60000)
    threads = []
    for i, tr in enumerate(("udp", "tcp")):
        lo = base + 40 * i
        ports = "%d-%d" % (lo, lo + 19) if lo + 19 < 65000 else "0"
        t = threading.Thread(target=run_transport, args=(tr, ports, results))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    for tr in ("udp", "tcp"):
        if tr not in results:
            c.check(False, "torture over %s" % tr, "the run did not finish")
            continue
        rc, out, err, src, log = results[tr]
        last = out.strip().splitlines()[-1] if out.strip() else ""
        fails = [l for l in out.splitlines() if " FAIL " in l]
        c.check(rc == 0 and last.endswith(" 0 failed"), "torture over %s: %s" % (tr, last),
                "\n" + "\n".join(fails) + err[-2000:] + "\nserver log:\n" + log)
        ideal = [l for l in out.splitlines() if l.startswith("ideal behaviour met")]
        print("     %s %s" % (tr, ideal[0] if ideal else ""))
        c.check(src == 0, "ringletd (%s run) exits 0 on SIGTERM" % tr, "exit %s" % src)
    return c.done()


if __name__ == "__main__":
    sys.exit(main())
