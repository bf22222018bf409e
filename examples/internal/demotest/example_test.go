package demotest_test

import (
	"testing"

	"github.com/gosess/sess/examples/internal/demo"
	"github.com/gosess/sess/examples/internal/demotest"
)

// How each example's tests use the package: serve is the example's own
// demo.ServeFunc (the same one its main runs).
func Example() {
	var serve demo.ServeFunc // the example's server
	_ = func(t *testing.T) {
		demotest.HTTP(t, demotest.Start(t, serve, demo.Options{})) // the routes over real HTTP
		demotest.Browser(t, serve, "login.png")                    // the page in headless Chromium
	}
}
