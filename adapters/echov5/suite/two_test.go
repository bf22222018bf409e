package suite_test

import (
	"log/slog"
	"net/http"
	"testing"

	sessechov5 "github.com/gosess/sess/adapters/echov5"
	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
	"github.com/labstack/echo/v5"
)

func TestTwoManagers(t *testing.T) {
	conformance.RunTwoManagers(t, func(t *testing.T, outer, inner *sess.Manager, h conformance.TwoHandler) http.Handler {
		e := echo.New()
		e.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
		e.Use(sessechov5.Middleware(outer), sessechov5.Middleware(inner))
		e.Any("/*", func(c *echo.Context) error {
			return c.String(http.StatusOK, h(c.QueryParam, sessechov5.FromManager(c, outer), sessechov5.FromManager(c, inner), sessechov5.From(c)))
		})
		return e
	})
}
