#!/usr/bin/env bash
# Makes sure rsvg-convert is here, which @tunekit/plots runs to write a plot as PNG (from its SVG):
# Debian's librsvg2-bin, installed when the command is missing. Prints the command's path.
set -euo pipefail
if ! command -v rsvg-convert > /dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "rsvg-convert is missing; install it: sudo apt-get install -y librsvg2-bin" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq > /dev/null
  apt-get install -y -qq --no-install-recommends librsvg2-bin > /dev/null
fi
command -v rsvg-convert
