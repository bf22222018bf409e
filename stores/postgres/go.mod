module github.com/gosess/sess/stores/postgres

go 1.25.0

replace (
	github.com/gosess/sess/adapters/nethttp => ../../adapters/nethttp
	github.com/gosess/sess/conformance => ../../conformance
	github.com/gosess/sess/core => ../../core
)

require (
	github.com/gosess/sess/adapters/nethttp v0.0.0-00010101000000-000000000000
	github.com/gosess/sess/conformance v0.0.0-00010101000000-000000000000
	github.com/gosess/sess/core v0.0.0-00010101000000-000000000000
	github.com/jackc/pgx/v5 v5.13.0
)

require (
	github.com/google/uuid v1.6.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/text v0.41.0 // indirect
)
