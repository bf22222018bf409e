package suite_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	sessfiber "github.com/gosess/sess/adapters/fiber"
	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

func TestTwoManagers(t *testing.T) {
	conformance.RunTwoManagers(t, func(_ *testing.T, outer, inner *sess.Manager, h conformance.TwoHandler) http.Handler {
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		app.Use(sessfiber.Middleware(outer), sessfiber.Middleware(inner))
		app.All("/*", func(c *fiber.Ctx) error {
			q := func(name string) string { return strings.Clone(c.Query(name)) }
			return c.SendString(h(q, sessfiber.FromManager(c, outer), sessfiber.FromManager(c, inner), sessfiber.From(c)))
		})
		return conformance.RoundTripHandler(func(r *http.Request) (*http.Response, error) { return app.Test(r, -1) })
	})
}
