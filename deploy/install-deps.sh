#!/bin/sh
# install-deps.sh - install the Debian packages idnode builds and tests with, only where missing.
# Usage: deploy/install-deps.sh [--browser] [--check]   (--check: list what is missing, install nothing)
#   --browser: only the headless browser of the page test (Debian's chromium), kept apart
#   so that every `make` does not pull a browser in; tests/integration/test_browser asks for it.
set -eu

PKGS="build-essential pkg-config libevent-dev liblmdb-dev lmdb-utils libssl-dev libc-ares-dev \
libcmocka-dev libjansson-dev clang libclang-rt-14-dev curl openssl"
if [ "${1:-}" = "--browser" ]; then
	PKGS="chromium"
	shift
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi
if [ "${1:-}" = "--check" ]; then
	echo "missing:$missing"
	exit 1
fi

echo "install-deps: installing$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "install-deps: run as root (or install sudo), or install them yourself:$missing" >&2
		exit 1
	fi
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# The package lists may be absent on a fresh machine; refresh them once.
if ! $SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1; then
	$SUDO apt-get update -q >/dev/null
	$SUDO apt-get install -y -q --no-install-recommends $missing
fi
