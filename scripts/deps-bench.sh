#!/bin/sh
# Install the Debian packages that only the benchmarks need (scripts/deps.sh
# has the build and test ones): Kamailio, the anchor of ../shared/bench, and
# SIPp.  Idempotent: quiet and fast (one dpkg-query per package) when
# everything is present.  The kamailio package may start a system service on
# install; the benchmark needs 127.0.0.1:5060 free, so it is stopped and
# disabled right after installing.
set -eu

PKGS="kamailio sip-tester python3"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps-bench: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "deps-bench: missing packages:$missing; run as root: apt-get install$missing" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
LOG=/tmp/ringlet-deps-bench.log
if ! $SUDO apt-get install -y -q --no-install-recommends $missing >$LOG 2>&1; then
	# the package lists may be stale or absent on a fresh machine
	$SUDO apt-get update -q >>$LOG 2>&1 || true
	if ! $SUDO apt-get install -y -q --no-install-recommends $missing >>$LOG 2>&1; then
		echo "deps-bench: apt-get install failed, see $LOG" >&2
		exit 1
	fi
fi
# A packaged service listening on 5060 would collide with the benchmark's SUTs.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	$SUDO systemctl disable --now kamailio >>$LOG 2>&1 || true
fi
