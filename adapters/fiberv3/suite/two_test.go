package suite_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"
	sessfiberv3 "github.com/gosess/sess/adapters/fiberv3"
	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

func TestTwoManagers(t *testing.T) {
	conformance.RunTwoManagers(t, func(_ *testing.T, outer, inner *sess.Manager, h conformance.TwoHandler) http.Handler {
		app := fiber.New()
		app.Use(sessfiberv3.Middleware(outer), sessfiberv3.Middleware(inner))
		app.All("/*", func(c fiber.Ctx) error {
			q := func(name string) string { return strings.Clone(c.Query(name)) }
			return c.SendString(h(q, sessfiberv3.FromManager(c, outer), sessfiberv3.FromManager(c, inner), sessfiberv3.From(c)))
		})
		return conformance.RoundTripHandler(func(r *http.Request) (*http.Response, error) {
			return app.Test(r, fiber.TestConfig{Timeout: 0})
		})
	})
}
