package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	sess "github.com/gosess/sess/core"
	redisstore "github.com/gosess/sess/stores/redis"
	"github.com/redis/go-redis/v9"
)

// newRedisStore connects to the Redis server at addr and returns a session
// store on it, keeping keys under prefix ("" for the default), and a
// function closing the connection. It fails fast, with a
// clear error, when Redis does not answer.
func newRedisStore(ctx context.Context, addr, prefix string) (sess.Store, func() error, error) {
	// ContextTimeoutEnabled makes go-redis end each command at its
	// context's deadline (the Manager's StoreTimeout); see redisstore.New.
	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		return nil, nil, errors.Join(fmt.Errorf("demo: redis at %s does not answer: %w", addr, err), client.Close())
	}
	return redisstore.New(client, redisstore.Config{Prefix: prefix}), client.Close, nil
}
