package main

import (
	"testing"

	"github.com/gosess/sess/examples/internal/demotest"
)

// TestRedisOutage checks the example on a Redis that hangs: 503 within
// StoreTimeout + 200 ms, and recovery without a restart.
func TestRedisOutage(t *testing.T) { demotest.RedisOutage(t, serve) }
