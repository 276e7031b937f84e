#!/usr/bin/env bash
# Build the three images of a production node from this checkout, on a machine with Docker:
#   bash images/build.sh [registry/prefix]     e.g. bash images/build.sh registry.example.org/tresor
# Tags are <prefix>tresor-<image>:<version from pyproject.toml>; labels carry version, source
# (git remote) and revision (git commit). Ship them to nodes with `docker save` or a registry;
# nodes never pull at spawn time (pull_policy never).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:+$1/}
version=$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
source_url=$(git remote get-url origin 2>/dev/null || echo unknown)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
for image in notebook hub airlock; do
    DOCKER_BUILDKIT=1 docker build --file "images/$image/Dockerfile" \
        --build-arg "TRESOR_VERSION=$version" --build-arg "TRESOR_SOURCE=$source_url" \
        --build-arg "TRESOR_REVISION=$revision" --tag "${prefix}tresor-$image:$version" .
done
