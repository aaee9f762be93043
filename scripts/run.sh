#!/bin/sh
# `make run`: start ringletd with its embedded defaults, in the foreground.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B="$ROOT/build"
if [ ! -x "$B/ringletd" ]; then
	echo "make run: the server (build/ringletd) is not part of this version yet; what works today:" >&2
	echo "  $B/ringlet parse FILE    check a SIP message and print it as JSON (see README)" >&2
	exit 2
fi
echo "ringletd: registrar + proxy on udp/tcp 127.0.0.1:5060; Ctrl-C stops it"
exec "$B/ringletd" "$@"
