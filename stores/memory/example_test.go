package memory_test

import (
	"fmt"

	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/stores/memory"
)

// A store with a cap on the number of sessions, shared by the Manager.
func ExampleNew() {
	store := memory.New(memory.Config{MaxSessions: 100_000})
	defer store.Close()

	m, err := sess.New(sess.Config{
		Secret: []byte("example-secret-at-least-32-bytes-long!"),
		Store:  store,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(m.CookieName(), store.Len())
	// Output: sid 0
}
