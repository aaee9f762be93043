#!/bin/sh
# Run every libFuzzer target in build-fuzz/ for SECS seconds each, seeded from
# fuzz/seeds/<name>/ and the torture corpus.  Fails on the first crash, leak or
# sanitizer report (the reproducer is left in build-fuzz/artifacts/).
set -eu
SECS=${1:-20}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TORTURE="$ROOT/../shared/torture"
OUT="$ROOT/build-fuzz"
mkdir -p "$OUT/artifacts"
found=0
for bin in "$OUT"/fuzz_*; do
	[ -x "$bin" ] || continue
	found=$((found + 1))
	name=$(basename "$bin")
	short=${name#fuzz_}
	work="$OUT/corpus/$short"
	mkdir -p "$work"
	seeds=""
	[ -d "$ROOT/fuzz/seeds/$short" ] && seeds="$ROOT/fuzz/seeds/$short"
	for d in rfc4475 rfc5118; do
		[ -d "$TORTURE/$d" ] && seeds="$seeds $TORTURE/$d"
	done
	printf 'fuzz %-16s %ss ... ' "$short" "$SECS"
	# shellcheck disable=SC2086
	if ! "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$OUT/artifacts/$short-" \
		"$work" $seeds >"$OUT/$short.log" 2>&1; then
		echo "FAILED"
		tail -40 "$OUT/$short.log"
		echo "fuzz: $name failed; reproducer in $OUT/artifacts/, log $OUT/$short.log" >&2
		exit 1
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$short.log")
	echo "ok (${runs:-?} runs)"
done
if [ "$found" = 0 ]; then
	echo "fuzz: no targets in $OUT; run make fuzz-build" >&2
	exit 1
fi
echo "fuzz: $found targets, no crash, leak or sanitizer report"
