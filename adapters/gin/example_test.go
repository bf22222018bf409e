package sessgin_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"
	sessgin "github.com/gosess/sess/adapters/gin"
	sess "github.com/gosess/sess/core"
)

func Example() {
	gin.SetMode(gin.ReleaseMode)
	m, err := sess.New(sess.Config{Secret: []byte("example-secret-at-least-32-bytes-long!!")})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	r := gin.New()
	r.Use(sessgin.Middleware(m))
	r.GET("/visit", func(c *gin.Context) {
		s := sessgin.From(c)
		n, _ := sess.Get[int](s, "visits")
		s.Set("visits", n+1)
		c.JSON(http.StatusOK, gin.H{"visits": n + 1})
	})

	// First visit: the response carries the new session's cookie.
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/visit", nil))
	fmt.Println(w.Code, w.Body.String())
	fmt.Println("Set-Cookie present:", w.Header().Get("Set-Cookie") != "")

	// Second visit with that cookie: the same session, counted on.
	req := httptest.NewRequest(http.MethodGet, "/visit", nil)
	for _, c := range w.Result().Cookies() {
		req.AddCookie(c)
	}
	w = httptest.NewRecorder()
	r.ServeHTTP(w, req)
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// 200 {"visits":1}
	// Set-Cookie present: true
	// 200 {"visits":2}
}
