#!/usr/bin/env bash
# lwIP 2.1.3 for the test kit: installs Debian's liblwip-dev (as root, when missing) and
# builds stacks/lwip/shim.c against it into ~/.cache/synack/stacks/ (keyed by the sources'
# hash). Prints the shim's path; exit 2 with one line when it cannot.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../wire/build.sh"
need_debian liblwip-dev pkg-config gcc libc6-dev
build_shim lwip "$(pkg-config --cflags --libs lwip)" "$here/shim.c" "$here/../wire/wire.h"
