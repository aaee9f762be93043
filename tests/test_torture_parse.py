#!/usr/bin/env python3
"""`ringlet parse` on every message of ../shared/torture, judged by MANIFEST.tsv.

- validity "valid": accepted (exit 0, JSON on stdout); where the manifest's
  ideal is a role verdict (416, 420, 483) the JSON verdict carries that status;
- validity "invalid" whose ideal (for UDP) is 400 or 505: rejected, exit 1,
  stdout "invalid: <that code> <reason>";
- responses: well-formed ones accepted, malformed ones (DROP) "invalid: drop";
- every other case: exit 0 or 1 with the matching output, never a crash.
Last line: "N passed, N failed".
"""
import json
import os
import re
import subprocess
import sys

SRC = os.environ.get("RINGLET_SRC", os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("RINGLET_BUILD", os.path.join(SRC, "build"))
CORPUS = os.environ.get("RINGLET_TORTURE", os.path.join(SRC, "..", "shared", "torture"))
RINGLET = os.path.join(BUILD, "ringlet")

# Responses that are malformed and must be dropped (RFC 4475 3.1.2.19, 3.1.2.5).
DROP = {"bigcode.dat", "scalarlg.dat"}
ROLE = {"416", "420", "483"}


def udp_field(field):
    """The UDP part of a per-transport field ('udp=400 tcp=none' -> '400')."""
    field = field.strip()
    if re.match(r"^(udp|tcp)=", field):
        for part in field.split():
            t, _, v = part.partition("=")
            if t == "udp":
                return v
        return "any"
    return field


def cases():
    with open(os.path.join(CORPUS, "MANIFEST.tsv"), encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\r\n")
            if not line.strip() or line.startswith("#") or line.startswith("file\t"):
                continue
            cols = line.split("\t") + [""] * 8
            yield cols[0], cols[2], udp_field(cols[5])


def run(path):
    p = subprocess.run([RINGLET, "parse", "--compact", path], capture_output=True,
                       timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode(
        "utf-8", "replace")


def judge(name, validity, ideal, rc, out, err):
    """None when the case passes, else why it failed."""
    if rc not in (0, 1) or "runtime error" in err or "Sanitizer" in err:
        return "crashed or misbehaved: exit %d, stderr %r" % (rc, err[-300:])
    if rc == 1 and not out.startswith("invalid: "):
        return "exit 1 without an 'invalid:' line: %r" % out[:200]
    doc = None
    if rc == 0:
        try:
            doc = json.loads(out)
        except ValueError as e:
            return "exit 0 but stdout is not JSON: %s" % e
    alts = ideal.split("|")
    if validity == "response":
        if name in DROP:
            return None if out.strip() == "invalid: drop" else "want 'invalid: drop', got %r" % out[:80]
        return None if rc == 0 and doc["type"] == "response" else "want accepted response, got %r" % out[:80]
    if validity == "valid":
        if rc != 0:
            return "valid message rejected: %s" % out.strip()
        want = [a for a in alts if a in ROLE]
        if want and str(doc["verdict"].get("status")) not in want:
            return "want verdict %s, got %r" % ("|".join(want), doc["verdict"])
        return None
    strict = [a for a in alts if a in ("400", "505")]
    if validity == "invalid" and strict and len(strict) == len(alts):
        code = out.split()[1] if rc == 1 and len(out.split()) > 1 else None
        return None if code in strict else "want invalid: %s, got exit %d %r" % (
            strict[0], rc, out.strip()[:80])
    return None


def main():
    if not os.path.exists(RINGLET):
        print("no %s: build first" % RINGLET)
        return 1
    npass = nfail = 0
    for rel, validity, ideal in cases():
        name = os.path.basename(rel)
        rc, out, err = run(os.path.join(CORPUS, rel))
        why = judge(name, validity, ideal, rc, out, err)
        if why:
            nfail += 1
            print("FAIL %-40s %s" % (rel, why))
        else:
            npass += 1
            verdict = out.strip() if rc else "accepted"
            if rc == 0:
                v = json.loads(out)["verdict"]
                if v.get("status"):
                    verdict += " (verdict %d)" % v["status"]
            print("ok   %-40s %s" % (rel, verdict[:60]))
    print("%d passed, %d failed" % (npass, nfail))
    return 0 if nfail == 0 and npass > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
