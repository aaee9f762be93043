#!/bin/sh
# Install the Debian packages that only the benchmarks need (scripts/deps.sh
# has the build and test ones, and does the installing): Kamailio, the anchor
# of ../shared/bench, and SIPp.  The kamailio package may start a system
# service on install; the benchmark needs 127.0.0.1:5060 free, so it is
# stopped and disabled.
set -eu

"$(dirname "$0")/deps.sh" kamailio sip-tester python3
# A packaged service listening on 5060 would collide with the benchmark's SUTs.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	SUDO=""
	[ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
	$SUDO systemctl disable --now kamailio >/dev/null 2>&1 || true
fi
