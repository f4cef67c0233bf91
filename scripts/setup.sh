#!/usr/bin/env bash
# Installs what the project needs on a Debian machine: system packages for the
# firmware's host build (g++, make, libcjson-dev), curl, openssl and chromium (the owner's page
# tests drive it through playwright-core), then the npm packages.
# Needs Node.js >= 20 with npm. Uses sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for pkg in g++ make libcjson-dev curl openssl chromium; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
npm ci --no-audit --no-fund
