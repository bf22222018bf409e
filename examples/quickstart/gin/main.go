// Command gin is the README quick start for gin: a session counter at
// /session_test.
//
//	SESSION_SECRET=$(openssl rand -base64 32) go run ./examples/quickstart/gin
//	curl -c jar -b jar http://127.0.0.1:8080/session_test   # {"test_counter":1}, then 2, 3...
package main

import (
	"log"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"
	sessgin "github.com/gosess/sess/adapters/gin"
	sess "github.com/gosess/sess/core"
)

func main() {
	m, err := sess.New(sess.Config{
		Secret:        []byte(os.Getenv("SESSION_SECRET")), // at least 32 random bytes
		DisableSecure: true,                                // plain-HTTP demo only: delete behind HTTPS
	})
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(router(m).Run("127.0.0.1:8080"))
}

func router(m *sess.Manager) *gin.Engine {
	r := gin.Default()
	r.Use(sessgin.Middleware(m))
	r.GET("/session_test", func(c *gin.Context) {
		s := sessgin.From(c)
		n, _ := sess.Get[int](s, "test_counter")
		s.Set("test_counter", n+1)
		c.JSON(http.StatusOK, gin.H{"test_counter": n + 1})
	})
	return r
}
