#!/usr/bin/env bash
# The contributor path, followed literally: the throwaway raw-fasthttp
# adapter in conformance/testdata/contrib/fasthttp, written from the
# README's "Writing an adapter", is copied into a module outside the
# repository and workspace (replace lines to this checkout's core and
# conformance, as the README says) and must pass the conformance suite
# under -race.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$root"/conformance/testdata/contrib/fasthttp/*.go "$dir"/
cd "$dir"
cat >go.mod <<MOD
module example.com/sessfasthttp

go 1.25

require github.com/valyala/fasthttp v1.69.0

replace (
	github.com/gosess/sess/core => $root/core
	github.com/gosess/sess/conformance => $root/conformance
)
MOD
export GOWORK=off GOFLAGS=-mod=mod
go get github.com/gosess/sess/core@v0.0.0-00010101000000-000000000000 \
	github.com/gosess/sess/conformance@v0.0.0-00010101000000-000000000000
go mod tidy
go vet ./...
go test -race -count=1 ./...
