#!/usr/bin/env bash
# Set up (venv, package, Chromium for the browser test) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -f scripts/install_browser.sh ]; then bash scripts/install_browser.sh; fi
exec .venv/bin/python -m pytest "$@"
