package sessechov5_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/labstack/echo/v5"

	sessechov5 "github.com/gosess/sess/adapters/echov5"
	sess "github.com/gosess/sess/core"
)

func Example() {
	m, err := sess.New(sess.Config{Secret: []byte("use 32+ random bytes, not this!!")})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	e := echo.New()
	e.Use(sessechov5.Middleware(m))
	e.POST("/login", func(c *echo.Context) error {
		s := sessechov5.From(c)
		s.Renew() // a new ID on every change of privilege
		s.Set("user", "alice")
		return c.JSON(http.StatusOK, map[string]string{"status": "logged in"})
	})
	e.GET("/me", func(c *echo.Context) error {
		user, ok := sess.Get[string](sessechov5.From(c), "user")
		if !ok {
			return echo.ErrUnauthorized
		}
		return c.String(http.StatusOK, "hello "+user)
	})

	srv := httptest.NewTLSServer(e)
	defer srv.Close()
	client := srv.Client()

	resp, err := client.Post(srv.URL+"/login", "", nil)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("login:", resp.StatusCode)
	fmt.Println("Set-Cookie present:", len(resp.Cookies()) == 1)

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/me", nil)
	req.AddCookie(resp.Cookies()[0])
	resp, err = client.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("me:", resp.StatusCode)
	// Output:
	// login: 200
	// Set-Cookie present: true
	// me: 200
}
