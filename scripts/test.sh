#!/usr/bin/env bash
# Run the whole tresor test suite: installs what it needs first (scripts/bootstrap.sh --test).
# Extra arguments go to pytest, e.g.  bash scripts/test.sh -m "not slow"  or  -k airlock
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --test
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"
ruff check .
ruff format --check .
echo "== pytest"
exec python -m pytest "$@"
