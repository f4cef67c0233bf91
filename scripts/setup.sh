#!/usr/bin/env bash
# Installs what the project needs on a Debian machine: system packages for the
# firmware's host build (g++, make, libcjson-dev, libsodium-dev for the Ed25519 check of firmware
# updates), curl and openssl, python3-skimage (its sample
# photographs are the labelled set of the photo triage measurement), chromium (the owner's page
# tests drive it through playwright-core), then the npm packages.
# Needs Node.js >= 20 with npm. Uses sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
packages=(g++ make libcjson-dev libsodium-dev curl openssl python3-skimage chromium)
# The board check (scripts/board-check/run.sh) runs only beside ../shared: its stand-in parser.
board_check=0
[ -f ../shared/board-check/typecheck.sh ] && { board_check=1; packages+=(gcc-xtensa-lx106); }
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ $board_check = 1 ] && [ ! -d .local/board-check/sysroot/usr/include/newlib/c++ ]; then
  # The target's newlib + libstdc++ headers, unpacked, not installed (the latter would pull in a
  # whole ARM toolchain); the check's work folder is here because ../shared may be read-only.
  echo "fetching the board check's header packages (apt-get download)"
  rm -rf .local/board-check/debs && mkdir -p .local/board-check/debs .local/board-check/sysroot
  (cd .local/board-check/debs && apt-get download -qq libnewlib-dev libstdc++-arm-none-eabi-dev 2>/dev/null)
  for deb in .local/board-check/debs/*.deb; do dpkg-deb -x "$deb" .local/board-check/sysroot; done
fi
npm ci --no-audit --no-fund
