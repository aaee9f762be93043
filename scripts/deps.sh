#!/bin/sh
# Install the Debian packages that building and testing Ringlet need, or the
# packages given as arguments (scripts/deps-bench.sh).  Idempotent: quiet and
# fast (one dpkg-query per package) when everything is present.
set -eu

PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev python3 valgrind
libcmocka-dev libosip2-dev libsofia-sip-ua-dev sip-tester
libssl-dev libsqlite3-dev libhiredis-dev redis-server libconfig-dev sipsak
libc-ares-dev dnsmasq-base tshark baresip-core libsndfile1-dev"
[ $# -gt 0 ] && PKGS="$*"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "deps: missing packages:$missing; run as root: apt-get install$missing" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -q --no-install-recommends $missing >/tmp/ringlet-deps.log 2>&1; then
	# the package lists may be stale or absent on a fresh machine
	$SUDO apt-get update -q >>/tmp/ringlet-deps.log 2>&1 || true
	if ! $SUDO apt-get install -y -q --no-install-recommends $missing >>/tmp/ringlet-deps.log 2>&1; then
		echo "deps: apt-get install failed, see /tmp/ringlet-deps.log" >&2
		exit 1
	fi
fi
