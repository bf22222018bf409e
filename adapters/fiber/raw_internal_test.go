package sessfiber

import (
	"testing"

	"github.com/valyala/fasthttp"
)

// TestReleasedCarrier: a session handle kept past its request must not
// reach the pooled fasthttp context that served it, which fasthttp reuses
// for later requests.
func TestReleasedCarrier(t *testing.T) {
	var fctx fasthttp.RequestCtx
	fctx.Request.Header.Set("Cookie", "sid=x")
	c := &carrier{ctx: &fctx}
	c.release()
	c.AddResponseHeader("Set-Cookie", "sid=y")
	if got := c.RequestHeader("Cookie"); got != nil {
		t.Errorf("released carrier read Cookie %q", got)
	}
	if got := fctx.Response.Header.Peek("Set-Cookie"); len(got) != 0 {
		t.Errorf("released carrier wrote Set-Cookie %q into a reused context", got)
	}
}
