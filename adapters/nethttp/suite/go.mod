module github.com/gosess/sess/adapters/nethttp/suite

go 1.25

replace (
	github.com/gosess/sess/adapters/nethttp => ../
	github.com/gosess/sess/conformance => ../../../conformance
	github.com/gosess/sess/core => ../../../core
)

require (
	github.com/go-chi/chi/v5 v5.5.0
	github.com/gosess/sess/adapters/nethttp v0.0.0-00010101000000-000000000000
	github.com/gosess/sess/conformance v0.0.0-00010101000000-000000000000
	github.com/gosess/sess/core v0.0.0-00010101000000-000000000000
)

require github.com/google/uuid v1.6.0 // indirect
