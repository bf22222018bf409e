package redisstore

import (
	"testing"

	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
	"github.com/redis/go-redis/v9"
)

// TestInstancesStandalone: conformance.RunInstances with two application
// instances, each with its own client, on one real Redis (a cookie works on
// both; 1,000 writers on one session and 1,000 sessions x 10 writers lose
// nothing).
func TestInstancesStandalone(t *testing.T) {
	requireRedis(t)
	conformance.RunInstances(t, func(t *testing.T, n int) []sess.Store {
		prefix := testPrefix(t, newClient(t, nil))
		stores := make([]sess.Store, n)
		for i := range stores {
			stores[i] = New(newClient(t, &redis.Options{Addr: redisAddr(), ContextTimeoutEnabled: true}), Config{Prefix: prefix})
		}
		return stores
	})
}

// TestInstancesCluster: the same on a real Redis Cluster of three
// primaries started by the test, each instance with its own cluster client.
func TestInstancesCluster(t *testing.T) {
	cl := startCluster(t, 3)
	admin := cl.Client(t)
	conformance.RunInstances(t, func(t *testing.T, n int) []sess.Store {
		prefix := testPrefix(t, admin)
		stores := make([]sess.Store, n)
		for i := range stores {
			stores[i] = New(cl.Client(t), Config{Prefix: prefix})
		}
		return stores
	})
}
