#!/usr/bin/env bash
# Start a complete local tresor node with demo data: hub + proxy on 127.0.0.1, airlock service,
# three simulated cohorts. Prints the URL and the logins; Ctrl-C stops everything it started.
# Site config: $TRESOR_SITE_CONFIG, default config/site.local.toml; state: ~/.local/state/tresor.
# Arguments go to `tresor node start`, e.g. --stop-stale (see README.md, "Two commands").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/tresor node start "$@"
