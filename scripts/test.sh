#!/usr/bin/env bash
# Install everything the tests need (Python packages, Debian's Chromium for the browser test) and run them.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ||
    echo "warning: could not install chromium; the browser test will be skipped"
fi
if ! command -v curl >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null) ||
    echo "warning: could not install curl; README's curl examples will not be run"
fi
python3 -m pip install -q -r requirements-dev.txt
python3 -m pip install -q -r requirements-ray.txt  # optional for users; CI runs the Ray engine test
export HF_HUB_OFFLINE=1
# Two workers, a test module's tests kept together (module-scoped apps start once): see README "Tests".
python3 -m pytest -q -n "${PYTEST_WORKERS:-2}" --dist loadfile "$@"
