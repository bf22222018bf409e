module github.com/gosess/sess/stores/redis

go 1.25

require github.com/gosess/sess/core v0.0.0-00010101000000-000000000000

replace github.com/gosess/sess/core => ../../core
