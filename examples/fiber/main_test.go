package main

import (
	"testing"

	"github.com/gosess/sess/examples/internal/demo"
	"github.com/gosess/sess/examples/internal/demotest"
)

func TestHTTP(t *testing.T) {
	demotest.HTTP(t, demotest.Start(t, serve, demo.Options{}))
}

func TestHTTPRedis(t *testing.T) {
	addr := demotest.RedisAddr(t)
	demotest.HTTP(t, demotest.Start(t, serve, demo.Options{Redis: addr}))
}

func TestBrowser(t *testing.T) {
	demotest.Browser(t, serve, "login-fiber.png")
}

func TestRun(t *testing.T) {
	demotest.Run(t, "fiber", serve)
}

func TestSecureFlag(t *testing.T) {
	demotest.Secure(t, serve)
}
