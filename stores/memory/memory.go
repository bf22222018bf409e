// Package memory is the in-process session store: sessions live in this
// process's memory, in sharded maps with incremental expiry and an optional
// cap on their number. It is what a sess.Manager uses when Config.Store is
// nil; construct it yourself to set a cap or to share one store between
// several Managers.
//
// Sessions vanish when the process exits, and are not shared between
// processes: a deployment with more than one instance (or fiber's Prefork)
// needs a shared store such as github.com/gosess/sess/stores/redis.
//
// The implementation lives in the core module (as sess.MemoryStore) so that
// a zero sess.Config works without importing anything else; this package is
// its documented home.
package memory

import (
	sess "github.com/gosess/sess/core"
)

// Store is the in-memory session store. See sess.MemoryStore.
type Store = sess.MemoryStore

// Config configures a Store; its zero value means the documented defaults.
// See sess.MemoryConfig.
type Config = sess.MemoryConfig

// New returns a running Store. Close it when done to stop its sweeper.
func New(cfg Config) *Store { return sess.NewMemoryStore(cfg) }
