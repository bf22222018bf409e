package suite_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
	sessgin "github.com/gosess/sess/adapters/gin"
	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

func TestTwoManagers(t *testing.T) {
	conformance.RunTwoManagers(t, func(_ *testing.T, outer, inner *sess.Manager, h conformance.TwoHandler) http.Handler {
		r := gin.New()
		r.Use(gin.RecoveryWithWriter(io.Discard), sessgin.Middleware(outer), sessgin.Middleware(inner))
		r.Any("/*path", func(c *gin.Context) {
			c.String(http.StatusOK, "%s", h(c.Query, sessgin.FromManager(c, outer), sessgin.FromManager(c, inner), sessgin.From(c)))
		})
		return r
	})
}
