#!/usr/bin/env bash
# gVisor's netstack for the test kit: installs Debian's golang-go and golang-inet-netstack-dev
# (as root, when missing) and builds stacks/gvisor/shim.go with Debian's Go, offline (GOPATH
# mode on /usr/share/gocode, no module downloads), into ~/.cache/synack/stacks/ keyed by the
# source's hash. Prints the shim's path; exit 2 with one line when it cannot.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../wire/build.sh"
need_debian golang-go golang-inet-netstack-dev
cache=${SYNACK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/synack}/stacks
key=$( { cat "$here/shim.go"; go version; dpkg-query -W golang-inet-netstack-dev; } | sha256sum | cut -c1-16)
out="$cache/gvisor-$key/shim"
if [ ! -x "$out" ]; then
  mkdir -p "$(dirname "$out")"
  (cd "$here" && GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= \
     GOCACHE="$cache/go-build" go build -trimpath -o "$out.$$" shim.go) >&2 || {
    echo "setup: go build of stacks/gvisor/shim.go failed" >&2; exit 2; }
  mv -f "$out.$$" "$out"
fi
echo "$out"
