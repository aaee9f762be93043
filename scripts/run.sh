#!/bin/sh
# `make run`: start ringletd with its embedded defaults, in the foreground:
# registrar on udp/tcp 127.0.0.1:5060, users and bindings in ./ringlet.db
# (SQLite, kept across restarts), digest authentication on.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B="$ROOT/build"
if [ ! -x "$B/ringletd" ]; then
	echo "make run: build/ringletd is missing; run 'make' first" >&2
	exit 2
fi
cat <<EOF
ringletd: registrar on udp/tcp 127.0.0.1:5060, store sqlite:ringlet.db, digest auth on.
  add a user (another terminal; the server may keep running):
    build/ringletd user add alice@localhost secret
  register a phone: server/registrar 127.0.0.1:5060 (UDP or TCP), domain localhost,
    user alice, password secret  (AOR sip:alice@localhost)
  for phones that only answer an MD5 challenge (SIPp 3.6, sipsak), start it as
    build/ringletd --auth-algorithms md5
  Ctrl-C stops it; the users and registrations stay in ringlet.db.
EOF
exec "$B/ringletd" "$@"
