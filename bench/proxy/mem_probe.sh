#!/bin/bash
# Memory per call or per REGISTER in ringletd, measured directly: malloc's
# in-use bytes over all arenas (mallinfo2(), read with gdb) before a fixed
# SIPp load, right after it, and once every transaction has expired (35 s:
# Timers J and L are 64*T1 = 32 s).  Uses ../shared/bench's scenarios and
# CSVs, UDP 127.0.0.1:5060 (ringletd), 5070 and 5073 (SIPp): run it alone.
#
#   bench/proxy/mem_probe.sh BIN cps RATE SECS   # calls through the proxy
#   bench/proxy/mem_probe.sh BIN reg RATE SECS   # REGISTERs of new AORs
#
# cps prints per_call (measured 1 s after the last BYE: the BYE client
# transactions still wait out Timer K) and what is left once all expired;
# reg prints tsx_per_register (what expired) and store_per_aor (what stays).
# Needs sipp and gdb.
set -eu
BIN=$(readlink -f "$1") KIND=$2 RATE=$3 SECS=$4
SRC=$(cd "$(dirname "$0")/../.." && pwd)
B=${PEER_BENCH:-$SRC/../shared/bench}
SC=$B/scenarios D=$B/data
W=$(mktemp -d "${TMPDIR:-/tmp}/mem_probe.XXXXXX")
N=$((RATE * SECS))
cd "$W"
setsid "$BIN" -l udp:127.0.0.1:5060 -d 127.0.0.1 --store memory: --auth off --workers 2 \
	--dns off >sut.log 2>&1 &
SUT=$!
UAS=""
cleanup() {
	[ -n "$UAS" ] && kill "$UAS" 2>/dev/null
	kill "$SUT" 2>/dev/null
	wait "$SUT" 2>/dev/null
	cd /
	rm -rf "$W"
}
trap cleanup EXIT
sleep 0.5
inuse() {
	gdb -p "$SUT" -batch -ex 'print (unsigned long)mallinfo2().uordblks' 2>/dev/null |
		awk '/^\$1/{print $3}'
}
sipp_c() {
	sipp 127.0.0.1:5060 -i 127.0.0.1 -p 5070 -t u1 -nostdin -buff_size 4194304 \
		-key domain 127.0.0.1 "$@" >/dev/null 2>&1
}
if [ "$KIND" = cps ]; then
	sipp_c -sf "$SC/reg_uac.xml" -inf "$D/callees_reg_1000.csv" -key expires 3600 -r 500 -m 1000
	sleep 34
	I0=$(inuse)
	sipp -sf "$SC/uas_call.xml" -i 127.0.0.1 -p 5073 -t u1 -nostdin -buff_size 4194304 \
		>uas.out 2>&1 &
	UAS=$!
	sleep 0.5
	sipp_c -sf "$SC/uac_call.xml" -inf "$D/callees_1000.csv" -r "$RATE" -m "$N" -d 500 \
		-l $((RATE * 10))
	sleep 1
	I1=$(inuse)
	sleep 35
	I2=$(inuse)
	echo "$(basename "$BIN") calls=$N in-use KiB: before=$((I0 / 1024)) after=$((I1 / 1024))" \
		"expired=$((I2 / 1024)) per_call=$(((I1 - I0) / N))B left=$(((I2 - I0) / N))B"
else
	I0=$(inuse)
	sipp_c -sf "$SC/reg_uac.xml" -inf "$D/reg_users_100000.csv" -key expires 3600 \
		-r "$RATE" -m "$N"
	I1=$(inuse)
	sleep 35
	I2=$(inuse)
	echo "$(basename "$BIN") registers=$N in-use KiB: start=$((I0 / 1024)) after=$((I1 / 1024))" \
		"expired=$((I2 / 1024)) tsx_per_register=$(((I1 - I2) / N))B" \
		"store_per_aor=$(((I2 - I0) / N))B"
fi
