#!/usr/bin/env bash
# Installs the Debian packages Soma needs, only those that are missing. Safe to run repeatedly.
# Set SOMA_NO_APT=1 to only report what is missing.
set -eu
need=(build-essential pkg-config libopenblas-dev zlib1g-dev dataset-fashion-mnist)
# the movie web site (web/): HTTP, storage, crypto, JSON, images; wrk for bench/web_load.sh;
# Chromium (+ node/npm for playwright-core) for the browser test tests/web/e2e.sh
need+=(libmicrohttpd-dev libsqlite3-dev libsodium-dev libjansson-dev libpng-dev libjpeg-dev wrk chromium)
command -v npm >/dev/null || need+=(nodejs npm)
[ "${SOMA_WITH_TORCH:-0}" = 1 ] && need+=(python3-torch time)
missing=()
for p in "${need[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: missing Debian packages: ${missing[*]}"
if [ "${SOMA_NO_APT:-0}" = 1 ]; then exit 1; fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
