package main

import (
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/gosess/sess/examples/internal/demotest"
)

func init() { gin.SetMode(gin.TestMode) } // no debug banner in test output

// TestExample checks the example end to end: routes (in memory, Redis and
// PostgreSQL), browser, main.
func TestExample(t *testing.T) { demotest.All(t, "gin", serve, "login-gin.png") }
