#!/usr/bin/env bash
# Rebuild the JupyterLab extension's built form (tresor/lab/labextension) from its sources
# (tresor/lab/js) with npm and the JupyterLab builder, and record the sources' digest beside it.
# Only needed after changing tresor/lab/js: the built form is committed, so bootstrap needs no
# JavaScript build (tests/integration/test_labextension.py rebuilds it and compares).
#   scripts/build-labextension.sh [OUT]    OUT: where the built form goes (default: in place)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
src=tresor/lab/js
out=${1:-tresor/lab/labextension}
# Always the same build directory: webpack's module ids depend on the absolute path it builds
# in, and the committed build must come out byte for byte the same wherever the checkout is.
work=${TRESOR_LABEXTENSION_WORK:-/tmp/tresor-labextension-build}
mkdir -p "$work"
exec 9>"$work.lock"
flock 9  # one build at a time in that directory
rm -rf "$work/src" "$work/style" "$work/lib" "$work/labextension"
cp -r "$src/." "$work/"
cd "$work"
if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --no-update-notifier --loglevel=error >/dev/null
else
    npm install --no-audit --no-fund --no-update-notifier --loglevel=error >/dev/null
    cp package-lock.json "$repo/$src/package-lock.json"
fi
node_modules/.bin/tsc
# the builder of the installed JupyterLab's version, against its core packages (staging)
node node_modules/@jupyterlab/builder/lib/build-labextension.js \
    --core-path "$("$repo/.venv/bin/python" -c 'import jupyterlab, os; print(os.path.join(os.path.dirname(jupyterlab.__file__), "staging"))')" . >/dev/null
cd "$repo"
rm -rf "$out"
cp -r "$work/labextension" "$out"
.venv/bin/python -c 'import tresor.lab as t; print(t.sources_digest())' > "$out/tresor-sources.sha256"
echo "built $out from $src ($(cat "$out/tresor-sources.sha256"))"
