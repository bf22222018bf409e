module github.com/gosess/sess/adapters/nethttp

go 1.25

require github.com/gosess/sess/core v0.0.0-00010101000000-000000000000

require github.com/google/uuid v1.6.0 // indirect

replace github.com/gosess/sess/core => ../../core
