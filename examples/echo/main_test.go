package main

import (
	"testing"

	"github.com/gosess/sess/examples/internal/demotest"
)

// TestExample checks the example end to end: routes (in memory, Redis and
// PostgreSQL), browser, main.
func TestExample(t *testing.T) { demotest.All(t, "echo", serve, "login-echo.png") }
