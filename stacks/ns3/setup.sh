#!/usr/bin/env bash
# ns-3.37 for the test kit: installs Debian's libns3-dev, g++ and nlohmann-json3-dev (as root,
# when missing) and builds stacks/ns3/shim.cc against ns-3's internet, network and core
# libraries into ~/.cache/synack/stacks/ keyed by the source's hash. Prints the shim's path;
# exit 2 with one line when it cannot.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../wire/build.sh"
need_debian libns3-dev g++ nlohmann-json3-dev
# Not pkg-config: Debian's ns3 .pc files name a broken include flag ("-I/usr\;") and static
# paths of libraries the -dev package does not pull in (libgsl.so). The headers are on the
# default path (/usr/include/ns3) and ns-3's shared libraries bring their own dependencies.
libs="-lns3-internet -lns3-network -lns3-core"
cache=${SYNACK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/synack}/stacks
key=$( { cat "$here/shim.cc"; echo "$libs"; g++ --version | head -1; dpkg-query -W libns3-dev; } \
       | sha256sum | cut -c1-16)
out="$cache/ns3-$key/shim"
if [ ! -x "$out" ]; then
  mkdir -p "$(dirname "$out")"
  # shellcheck disable=SC2086  # libs are words
  g++ -std=c++17 -O1 -Wall -o "$out.$$" "$here/shim.cc" $libs >&2 || {
    echo "setup: g++ build of stacks/ns3/shim.cc failed" >&2; exit 2; }
  mv -f "$out.$$" "$out"
fi
echo "$out"
