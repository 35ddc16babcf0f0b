#!/usr/bin/env bash
# libslirp 4.7 for the test kit: installs Debian's libslirp-dev (as root, when missing) and
# builds stacks/slirp/shim.c against it into ~/.cache/synack/stacks/ (keyed by the sources'
# hash). Prints the shim's path; exit 2 with one line when it cannot.
# slirp.pc requires glib-2.0's .pc, which only the large libglib2.0-dev ships, and the
# public header uses nothing of glib: the include directory and library are named directly.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../wire/build.sh"
need_debian libslirp-dev gcc libc6-dev
build_shim slirp "-I/usr/include/slirp -lslirp" "$here/shim.c" "$here/../wire/wire.h"
