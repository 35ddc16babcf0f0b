# Sourced by each stack's setup.sh: install Debian packages the shim needs, and build a C shim
# into a cache keyed by what goes into it. Nothing here runs on its own.
#   need_debian PKG...              install the missing ones as root, else say how and exit 2
#   build_shim NAME CFLAGS-AND-LIBS SOURCE...   cc the first SOURCE (the rest are headers it
#                                   includes) and print the binary's path
set -euo pipefail

need_debian() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian's ${missing[*]}…" >&2
    export DEBIAN_FRONTEND=noninteractive
    # one apt at a time: two setups (or ./dev's graphviz) running at once would fail on apt's
    # lock; flock serialises synack's own, the timeout waits for anyone else's (at most 10 min)
    local apt=(flock /tmp/synack-apt.lock apt-get -o DPkg::Lock::Timeout=600)
    "${apt[@]}" install -y -qq "${missing[@]}" >/dev/null 2>&1 || {
      "${apt[@]}" update -qq >/dev/null 2>&1 && "${apt[@]}" install -y -qq "${missing[@]}" >/dev/null 2>&1; } || {
      echo "setup: apt-get could not install ${missing[*]}" >&2; exit 2; }
  else
    echo "setup: Debian packages missing: ${missing[*]} (install them: sudo apt-get install -y ${missing[*]})" >&2
    exit 2
  fi
}

build_shim() {
  local name=$1 flags=$2
  shift 2
  local cache=${SYNACK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/synack}/stacks
  local key
  key=$( { cat "$@"; echo "$flags"; cc --version | head -1; } | sha256sum | cut -c1-16)
  local out="$cache/$name-$key/shim"
  if [ ! -x "$out" ]; then
    mkdir -p "$(dirname "$out")"
    # shellcheck disable=SC2086  # flags are words
    cc -O2 -Wall -Wextra -o "$out.$$" "$1" $flags >&2
    mv -f "$out.$$" "$out"
  fi
  echo "$out"
}
