#!/usr/bin/env bash
# Install Debian's chromium for the browser tests (tests/test_viz_browser.py), if it is missing.
# Idempotent: does nothing when /usr/bin/chromium exists. Works as root (no sudo needed) or as a
# user with sudo. Playwright's own browser download is not used (`playwright install` is never run).
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    echo "install_browser: $CHROMIUM already present ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown')); nothing to do"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install_browser: $CHROMIUM is missing and this user is not root and has no sudo" >&2
    exit 1
fi

echo "install_browser: $CHROMIUM missing; running ${SUDO:+$SUDO }apt-get update && apt-get install -y chromium"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y chromium

if [ -x "$CHROMIUM" ]; then
    echo "install_browser: installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
else
    echo "install_browser: apt-get finished but $CHROMIUM is still missing" >&2
    exit 1
fi
