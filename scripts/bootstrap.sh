#!/usr/bin/env bash
# Install what this checkout needs, idempotently, and say exactly what is missing otherwise.
#   scripts/bootstrap.sh          the local node: Python venv from the lock, npm packages
#   scripts/bootstrap.sh --test   also the reference tools, PostgreSQL and Chromium for the tests
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

say() { printf 'tresor bootstrap: %s\n' "$*" >&2; }

# --- Debian packages ------------------------------------------------------------
# command -> Debian package that provides it
# bcftools: `tresor datasets add --fix` repairs copies of VCFs with it
declare -A node_pkgs=([python3]=python3 [node]=nodejs [npm]=npm [bcftools]=bcftools [tabix]=tabix
                      [bgzip]=tabix)
# as root the node isolates researchers: OS accounts (passwd), a firewall by account (nftables)
# and a runtime every account can run, from Debian's python3.11 (tresor.node.isolation)
if [ "$(id -u)" = 0 ]; then node_pkgs+=([nft]=nftables [useradd]=passwd [/usr/bin/python3.11]=python3.11); fi
declare -A test_pkgs=([plink2]=plink2
                      [chromium]=chromium [chromedriver]=chromium-driver
                      [/usr/lib/postgresql/15/bin/initdb]=postgresql
                      [/usr/bin/python3]=python3 [unshare]=util-linux [systemd-escape]=systemd)
missing=()
for cmd in "${!node_pkgs[@]}"; do command -v "$cmd" >/dev/null || missing+=("${node_pkgs[$cmd]}"); done
if [ "$want_test" = 1 ]; then
    for cmd in "${!test_pkgs[@]}"; do command -v "$cmd" >/dev/null || missing+=("${test_pkgs[$cmd]}"); done
fi
if [ "${#missing[@]}" -gt 0 ]; then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing Debian packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        say "missing Debian packages: ${missing[*]}"
        say "install them with:  sudo apt-get install -y ${missing[*]}"
        exit 1
    fi
fi
python3 -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null || {
    say "tresor needs Python 3.11 as python3 (found: $(python3 --version 2>&1))"; exit 1; }
python3 -c 'import venv, ensurepip' 2>/dev/null || {
    say "python3 cannot make virtual environments: install python3-venv (sudo apt-get install -y python3-venv)"; exit 1; }

# --- Python: one venv, exactly the locked set -------------------------------------
stamp=.venv/.tresor-lock-sha256
want=$(cat constraints.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing Python packages into .venv (exactly constraints.txt)"
    [ -x .venv/bin/python ] || python3 -m venv .venv
    [ -x .venv/bin/uv ] || .venv/bin/pip install -q "uv==0.13.9"
    # bytecode now: the environment may set PYTHONDONTWRITEBYTECODE, and every hub, server,
    # kernel and CLI start would otherwise compile its imports again
    .venv/bin/uv pip install -q --compile-bytecode --python .venv/bin/python -r constraints.txt
    .venv/bin/uv pip install -q --python .venv/bin/python --no-deps -e .
    echo "$want" > "$stamp"
fi

# --- as root: the runtime researchers' accounts run (/opt/tresor, tresor.node.runtime) ----
if [ "$(id -u)" = 0 ]; then
    .venv/bin/python -m tresor.node.runtime >/dev/null
fi

# --- Node.js: configurable-http-proxy for the hub ---------------------------------
if [ ! -x node_modules/.bin/configurable-http-proxy ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm packages (configurable-http-proxy)"
    npm ci --no-audit --no-fund --no-update-notifier --loglevel=error >/dev/null
fi
