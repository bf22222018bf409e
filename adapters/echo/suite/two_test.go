package suite_test

import (
	"net/http"
	"testing"

	sessecho "github.com/gosess/sess/adapters/echo"
	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
	"github.com/labstack/echo/v4"
)

func TestTwoManagers(t *testing.T) {
	conformance.RunTwoManagers(t, func(t *testing.T, outer, inner *sess.Manager, h conformance.TwoHandler) http.Handler {
		e := echo.New()
		e.Logger.SetOutput(t.Output())
		e.Use(sessecho.Middleware(outer), sessecho.Middleware(inner))
		e.Any("/*", func(c echo.Context) error {
			return c.String(http.StatusOK, h(c.QueryParam, sessecho.FromManager(c, outer), sessecho.FromManager(c, inner), sessecho.From(c)))
		})
		return e
	})
}
