#!/usr/bin/env bash
# Refresh requirements.lock, the exact version (and hashes) of every dependency of drypowder: the
# runtime ones and every extra of pyproject.toml (viz, test, bench), one resolution valid for
# Python >= 3.12 on any platform. Then bring .venv to it.
#
#   bash scripts/lock.sh                            after adding or changing a dependency in
#                                                   pyproject.toml: every other pin stays as it is
#   bash scripts/lock.sh --upgrade                  every package to its newest allowed version
#   bash scripts/lock.sh --upgrade-package numpy    one package to its newest allowed version
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --bootstrap
.venv/bin/uv pip compile pyproject.toml --all-extras --universal --python-version 3.12 --generate-hashes \
  --custom-compile-command "bash scripts/lock.sh" --quiet --output-file requirements.lock "$@"
bash scripts/setup.sh
