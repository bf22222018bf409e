module github.com/gosess/sess/stores/redis

go 1.25

require (
	github.com/gosess/sess/adapters/nethttp v0.0.0-00010101000000-000000000000
	github.com/gosess/sess/conformance v0.0.0-00010101000000-000000000000
	github.com/gosess/sess/core v0.0.0-00010101000000-000000000000
	github.com/redis/go-redis/v9 v9.22.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	golang.org/x/sys v0.30.0 // indirect
)

replace (
	github.com/gosess/sess/adapters/nethttp => ../../adapters/nethttp
	github.com/gosess/sess/conformance => ../../conformance
	github.com/gosess/sess/core => ../../core
)
