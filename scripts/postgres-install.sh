#!/usr/bin/env bash
# Makes sure PostgreSQL's server binaries are here for the tests' throwaway servers: Debian's
# postgresql package, installed when initdb is found nowhere. Prints the folder of the binaries.
set -euo pipefail
find_bin() {
  if command -v initdb > /dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  return 1
}
if ! find_bin > /dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "PostgreSQL's server binaries are missing; install them: sudo apt-get install -y postgresql" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq > /dev/null
  apt-get install -y -qq postgresql > /dev/null
fi
find_bin
