module github.com/gosess/sess/adapters/echov5/suite

go 1.25.0

replace (
	github.com/gosess/sess/adapters/echov5 => ../
	github.com/gosess/sess/conformance => ../../../conformance
	github.com/gosess/sess/core => ../../../core
)

require (
	github.com/gosess/sess/adapters/echov5 v0.0.0-00010101000000-000000000000
	github.com/gosess/sess/conformance v0.0.0-00010101000000-000000000000
	github.com/gosess/sess/core v0.0.0-00010101000000-000000000000
	github.com/labstack/echo/v5 v5.4.6
)

require (
	github.com/google/uuid v1.6.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)
