package conformance_test

import (
	"testing"

	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

// TestRunInstancesMemory: two Managers in one process sharing one memory
// store, the suite's reference for RunInstances.
func TestRunInstancesMemory(t *testing.T) {
	conformance.RunInstances(t, func(t *testing.T, n int) []sess.Store {
		st := sess.NewMemoryStore(sess.MemoryConfig{})
		t.Cleanup(func() { _ = st.Close() })
		stores := make([]sess.Store, n)
		for i := range stores {
			stores[i] = st
		}
		return stores
	})
}
