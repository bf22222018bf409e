package sess

import (
	"context"
	"time"
)

// Record is one stored session as a Store sees it: opaque data, a version
// for compare-and-swap and the instant after which the record is dead.
type Record struct {
	// Data is the encoded session. Stores treat it as opaque bytes.
	Data []byte
	// Version increases by one on every successful write of the record.
	// A live record always has a version of at least 1.
	Version uint64
	// Expires is the instant at which the record stops existing. A store may
	// delete the record from then on and must never return it afterwards.
	Expires time.Time
}

// Store keeps session records on the server. Implementations must be safe
// for concurrent use. Every method takes the session ID as issued by the
// Manager; stores that persist outside the process should key records by a
// hash of it (see HashID), never by the raw ID.
//
// The contract, checked by conformance.RunStore:
//
//   - Get returns ErrNotFound (possibly wrapped) for a missing or expired
//     record, never a record whose Expires has passed. The returned Data must
//     not alias memory the store keeps.
//   - CompareAndSwap with old == 0 creates the record only if no live record
//     holds the ID (ErrConflict otherwise). With old > 0 it replaces the
//     record only if its current version equals old: ErrNotFound if it is
//     gone (a deleted session is never resurrected), ErrConflict if another
//     writer got there first. rec.Version is always old+1. The store copies
//     rec.Data; the caller may reuse the slice afterwards. A record whose
//     Expires is not in the future is deleted instead of stored.
//   - Touch moves the expiry of a live record without rewriting its data,
//     returning ErrNotFound if there is none.
//   - Delete removes the record; deleting a missing record is not an error.
type Store interface {
	Get(ctx context.Context, id string) (Record, error)
	CompareAndSwap(ctx context.Context, id string, old uint64, rec Record) error
	Touch(ctx context.Context, id string, expires time.Time) error
	Delete(ctx context.Context, id string) error
}

// ProcessLocal is implemented by stores whose sessions live in the memory
// of one process, such as MemoryStore. Adapters for servers that fork
// several processes (fiber's Prefork) use it to refuse such a store: each
// process would see its own sessions.
type ProcessLocal interface {
	ProcessLocal() bool
}
