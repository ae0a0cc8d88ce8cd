#!/bin/sh
# Install Debian's chromium for the browser tests (tests/browser), only where it is missing.
# Needs root and apt-get; anywhere else it explains what to do and exits 0, and the browser
# tests skip themselves (set ABTOOL_REQUIRE_BROWSER=1 to make them fail instead).
set -eu
CHROMIUM="${ABTOOL_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_chromium.sh: $CHROMIUM is missing and this system has no apt-get;" \
        "install Chromium and set ABTOOL_CHROMIUM to its path to run the browser tests." >&2
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install_chromium.sh: $CHROMIUM is missing; run 'sudo apt-get install -y chromium'" \
        "(or 'make test' as root) to run the browser tests." >&2
    exit 0
fi
echo "install_chromium.sh: installing Debian's chromium for the browser tests" >&2
export DEBIAN_FRONTEND=noninteractive
# DejaVu Sans is the font matplotlib measures plot labels with. Try the package lists as
# they are first; refresh them only if that fails.
PACKAGES="chromium fonts-dejavu-core"
# shellcheck disable=SC2086
apt-get install -y -q $PACKAGES >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q $PACKAGES >/dev/null; }
if [ ! -x "$CHROMIUM" ]; then
    echo "install_chromium.sh: apt-get finished but $CHROMIUM is still missing" >&2
    exit 1
fi
"$CHROMIUM" --version >&2 2>/dev/null || true
