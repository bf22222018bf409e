package pgstore

import (
	"testing"

	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

func TestConformanceStore(t *testing.T) {
	requirePostgres(t)
	pool := newPool(t, "", nil)
	conformance.RunStore(t, func(t *testing.T) sess.Store { return newTestStore(t, pool, Config{}) })
}

func TestConformanceAdapter(t *testing.T) {
	requirePostgres(t)
	pool := newPool(t, "", nil)
	conformance.RunWithStore(t, mountHTTP, func(t *testing.T) sess.Store { return newTestStore(t, pool, Config{}) })
}
