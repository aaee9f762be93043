#!/bin/sh
# The release build under valgrind: every unit test runner and `ringlet parse`
# on the whole torture corpus.  Any leak or invalid access fails.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B="$ROOT/build"
TORTURE="$ROOT/../shared/torture"
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible --show-leak-kinds=definite,indirect,possible"
export RINGLET_TORTURE="$TORTURE" RINGLET_SRC="$ROOT"
n=0
for t in "$B"/test_*; do
	[ -x "$t" ] || continue
	if ! $VG "$t" >"$B/valgrind-$(basename "$t").log" 2>&1; then
		tail -30 "$B/valgrind-$(basename "$t").log"
		echo "valgrind: $(basename "$t") failed, log $B/valgrind-$(basename "$t").log" >&2
		exit 1
	fi
	n=$((n + 1))
done
for f in "$TORTURE"/rfc4475/*.dat "$TORTURE"/rfc5118/*.dat; do
	rc=0
	$VG "$B/ringlet" parse "$f" >/dev/null 2>"$B/valgrind-parse.log" || rc=$?
	if [ "$rc" -gt 1 ]; then
		cat "$B/valgrind-parse.log"
		echo "valgrind: ringlet parse $f: exit $rc" >&2
		exit 1
	fi
	n=$((n + 1))
done
echo "valgrind: $n runs clean"
