#!/usr/bin/env bash
# Install everything the tests need, start the real MongoDB test server, lint,
# type-check, and run the whole suite on both backends. Works on a fresh machine.
#
#   ./scripts/test.sh [pytest arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${WELLNESS_VENV:-.venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip >/dev/null
"$venv/bin/python" -m pip install -q -e ".[test,dev]"

port="${WELLNESS_TEST_PORT:-27117}"
dbpath=".mongod/test-$port"
export PYTHON="$venv/bin/python"
uri="$(scripts/start_mongod.sh --port "$port" --dbpath "$dbpath" --fresh)"
trap 'scripts/stop_mongod.sh --dbpath "$dbpath"' EXIT
export WELLNESS_TEST_MONGODB_URI="$uri"

echo "== lint and types"
"$venv/bin/ruff" check .
"$venv/bin/ruff" format --check .
"$venv/bin/mypy" --strict wellness_repo
"$venv/bin/mypy" --strict examples/service

echo "== tests (embedded backend and $uri)"
"$venv/bin/pytest" -q -p no:cacheprovider "$@"
