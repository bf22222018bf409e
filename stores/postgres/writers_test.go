package pgstore

import (
	"testing"

	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestInstances: conformance.RunInstances with two application instances,
// each with its own Store and its own pool, on one table of a real
// PostgreSQL (a cookie works on both; 1,000 writers on one session and
// 1,000 sessions x 10 writers lose nothing).
func TestInstances(t *testing.T) {
	requirePostgres(t)
	conformance.RunInstances(t, func(t *testing.T, n int) []sess.Store {
		table := testTable(t, newPool(t, "", nil))
		stores := make([]sess.Store, n)
		for i := range stores {
			pool := newPool(t, "", func(c *pgxpool.Config) { c.MaxConns = 16 })
			stores[i] = newTestStore(t, pool, Config{Table: table})
		}
		return stores
	})
}
