#!/usr/bin/env bash
# Installs the Debian 12 build dependencies that are missing (libpq-dev for
# the PostgreSQL backend too), then builds placid and placid-agent (Release)
# into build/. Used by the README's first command and by docker/Dockerfile,
# so both build the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGES="build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev
libcurl4-openssl-dev libyaml-dev check libsubunit-dev libpq-dev"
missing=()
for p in $PACKAGES; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j "$(nproc)"
