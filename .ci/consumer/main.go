// Command consumer is a module outside the workspace that uses sess the way
// an application does today, before the modules are published: with the
// replace lines the README lists. .ci/consumer.sh copies it to a temporary
// folder and builds and tests it with GOWORK=off.
package main

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"
	"github.com/gofiber/fiber/v2"
	fiberv3 "github.com/gofiber/fiber/v3"
	sessecho "github.com/gosess/sess/adapters/echo"
	sessechov5 "github.com/gosess/sess/adapters/echov5"
	sessfiber "github.com/gosess/sess/adapters/fiber"
	sessfiberv3 "github.com/gosess/sess/adapters/fiberv3"
	sessgin "github.com/gosess/sess/adapters/gin"
	sesshttp "github.com/gosess/sess/adapters/nethttp"
	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/stores/memory"
	redisstore "github.com/gosess/sess/stores/redis"
	"github.com/labstack/echo/v4"
	echov5 "github.com/labstack/echo/v5"
	"github.com/redis/go-redis/v9"
)

// handlers builds one app per framework on m; the consumer only needs them
// to compile and serve.
func handlers(m *sess.Manager) {
	g := gin.New()
	g.Use(sessgin.Middleware(m))
	e := echo.New()
	e.Use(sessecho.Middleware(m))
	f := fiber.New()
	f.Use(sessfiber.Middleware(m))
	e5 := echov5.New()
	e5.Use(sessechov5.Middleware(m))
	f3 := fiberv3.New()
	f3.Use(sessfiberv3.Middleware(m))
}

func main() {
	store := memory.New(memory.Config{})
	defer store.Close()
	m, err := sess.New(sess.Config{Secret: []byte("consumer-secret-at-least-32-bytes!!"), Store: store})
	if err != nil {
		log.Fatal(err)
	}
	handlers(m)
	_ = redisstore.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:0"}), redisstore.Config{})

	h := sesshttp.Middleware(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sesshttp.From(r)
		n, _ := sess.Get[int](s, "n")
		s.Set("n", n+1)
		fmt.Fprint(w, n+1)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 || rec.Header().Get("Set-Cookie") == "" {
		log.Fatalf("consumer: got %d, Set-Cookie %q", rec.Code, rec.Header().Get("Set-Cookie"))
	}
	fmt.Println("consumer: ok")
}
