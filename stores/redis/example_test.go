package redisstore_test

import (
	"fmt"
	"log"
	"net/http"
	"os"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
	sess "github.com/gosess/sess/core"
	redisstore "github.com/gosess/sess/stores/redis"
	"github.com/redis/go-redis/v9"
)

// Every instance of the application runs this: same secret, same Redis,
// same prefix. A cookie issued by one instance works on all of them.
// (This example needs a Redis server, so it is compiled but not run.)
func Example() {
	// One client per process, shared by all requests. The store never
	// closes it. ContextTimeoutEnabled makes go-redis end each command at
	// the Manager's StoreTimeout (the store enforces that bound without it
	// too, at a cost).
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer rdb.Close()

	m, err := sess.New(sess.Config{
		// At least 32 random bytes, identical on every instance.
		Secret: []byte(os.Getenv("SESSION_SECRET")),
		Store:  redisstore.New(rdb, redisstore.Config{Prefix: "myapp:sess:"}),
	})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s := sesshttp.From(r)
		n, _ := sess.Get[int](s, "visits")
		s.Set("visits", n+1)
		fmt.Fprintf(w, "visits: %d\n", n+1)
	})
	log.Fatal(http.ListenAndServe(":8080", sesshttp.Middleware(m)(mux)))
}

// New accepts any go-redis client: standalone, Sentinel (failover) or
// Cluster. Each session is a single key, so Cluster needs no hash tags.
func ExampleNew() {
	cluster := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 []string{"10.0.0.1:6379", "10.0.0.2:6379", "10.0.0.3:6379"},
		ContextTimeoutEnabled: true,
	})
	sentinel := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:            "mymaster",
		SentinelAddrs:         []string{"10.0.0.1:26379", "10.0.0.2:26379"},
		ContextTimeoutEnabled: true,
	})
	_ = redisstore.New(cluster, redisstore.Config{})
	_ = redisstore.New(sentinel, redisstore.Config{Prefix: "shop:sess:"})
}
