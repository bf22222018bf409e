#!/usr/bin/env bash
# Builds and runs an application module OUTSIDE the repository and the
# workspace (GOWORK=off) that uses every released sess module, with exactly
# the replace lines the README's "Using sess before its first release"
# lists. Fails if a module needs a replace line the README does not list.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$root/.ci/consumer/main.go" "$dir/"
cd "$dir"
export GOWORK=off
go mod init example.com/consumer >/dev/null 2>&1
# The modules the application imports, each required and replaced; plus
# replace lines only for conformance, which the Redis store's tests reach
# (the README lists the same set).
used="core adapters/nethttp adapters/gin adapters/echo adapters/echov5 adapters/fiber adapters/fiberv3 stores/memory stores/redis"
for m in $used conformance; do
	go mod edit -replace "github.com/gosess/sess/$m=$root/$m"
done
for m in $used; do
	go mod edit -require "github.com/gosess/sess/$m@v0.0.0-00010101000000-000000000000"
done
go mod tidy
go vet ./...
go run .
echo "consumer outside the workspace: built and ran with GOWORK=off"
