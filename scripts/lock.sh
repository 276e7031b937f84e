#!/usr/bin/env bash
# Re-resolve constraints.txt from pyproject.toml. CI, the local node and the notebook image
# all install exactly this set; run it after changing a dependency, then commit both files.
set -euo pipefail
cd "$(dirname "$0")/.."
uv=.venv/bin/uv
[ -x "$uv" ] || { python3 -m venv .venv && .venv/bin/pip install -q uv; }
"$uv" pip compile --quiet --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
    --all-extras --group pyproject.toml:airlock pyproject.toml -o constraints.txt --custom-compile-command "bash scripts/lock.sh"
# The images install subsets of exactly these pins (tests/integration/test_images.py checks it).
mkdir -p images/requirements
for extra in notebook node; do
    "$uv" pip compile --quiet --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
        --extra "$extra" pyproject.toml -c constraints.txt -o "images/requirements/$extra.txt" \
        --no-emit-package tresor --custom-compile-command "bash scripts/lock.sh"
done
# the airlock image: its dependency group only, not the researcher library's dependencies
"$uv" pip compile --quiet --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
    --group pyproject.toml:airlock -c constraints.txt -o images/requirements/airlock.txt \
    --no-emit-package tresor --custom-compile-command "bash scripts/lock.sh"
echo "constraints.txt updated: $(grep -c '==' constraints.txt) pinned packages"
