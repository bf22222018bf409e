package sess

import (
	"context"
	"time"
)

// Record is one stored session as a Store sees it.
type Record struct {
	// Meta is the Manager's small per-session header (its format, the
	// absolute deadline and room for later fields). Stores keep it as
	// opaque bytes and return it unchanged.
	Meta []byte
	// Entries is the session data in the entry encoding (see AppendEntry):
	// one entry per key, each a key and an opaque value. A store may keep
	// it as one blob or split into one field per key and rebuild it on Get
	// with AppendEntry; the order of the entries does not matter.
	Entries []byte
	// Version increases on every successful Create or Update of the
	// record. A live record has a version of at least 1. Touch does not
	// change it.
	Version uint64
	// Expires is the instant at which the record stops existing. A store
	// may delete the record from then on and must never return it
	// afterwards.
	Expires time.Time
	// Principal is the principal (user ID) the record is bound to, for
	// stores that implement PrincipalIndex: Create binds the new record to
	// it. Get and GetShared may leave it empty (the Manager keeps its own
	// copy in Meta); PrincipalIndex's methods fill it. The Manager sets it
	// only for stores that implement PrincipalIndex.
	Principal string
	// Deadline, if not zero, is the latest Expires the record can ever
	// get (the session's absolute deadline): a store may keep an index
	// entry for a bound record until then instead of moving it on every
	// write. The Manager sets it with every Principal.
	Deadline time.Time
}

// Entry is one key of a session and its encoded value, opaque to stores.
type Entry struct {
	Key   string
	Value []byte
}

// Patch is one commit's change to a stored session, applied by
// Store.Update atomically on the store's side. The steps, in order:
//
//  1. If no live record holds the ID, Update fails with ErrNotFound and
//     stores nothing. A deleted or expired session is never resurrected.
//  2. If IfVersion is not zero and differs from the record's Version,
//     Update fails with ErrConflict and changes nothing.
//  3. If Expires is not after the store's clock, the record is deleted and
//     Update returns nil (a conditional delete is a Patch with IfVersion
//     set and a zero Expires).
//  4. Otherwise the new entries are: none if Clear, else the stored ones;
//     minus the keys in Delete and in Set; plus the entries of Set (if a
//     key appears twice in Set, the later one counts). Meta replaces the
//     stored Meta unless it is nil. Expires replaces the stored expiry.
//  5. If MaxSize is positive and the new record's size (len(Meta) +
//     len(Entries) in the entry encoding, see EntrySize) exceeds it,
//     Update fails with ErrTooLarge and changes nothing.
//  6. The record is stored with Version one higher.
//
// Because every step runs under the store's own atomicity (a lock, a
// server-side script, a transaction), patches of different keys never
// conflict: all of them survive, and no writer is refused. Of concurrent
// patches that set the same key, the one the store applies last wins.
type Patch struct {
	// Clear drops every stored entry before Set is applied.
	Clear bool
	// Set lists the entries to add or replace.
	Set []Entry
	// Delete lists the keys to remove; a missing key is not an error.
	Delete []string
	// Meta replaces the record's Meta; nil leaves it unchanged.
	Meta []byte
	// Expires is the record's new expiry. A zero or past Expires deletes
	// the record.
	Expires time.Time
	// IfVersion makes the patch conditional on the record's version; zero
	// applies it whatever the version.
	IfVersion uint64
	// MaxSize caps the size of the patched record; zero means no cap.
	MaxSize int
	// Principal, if not nil, binds the record to *Principal (see
	// PrincipalIndex) or, if that is empty, unbinds it. The Manager sets it
	// only for stores that implement PrincipalIndex.
	Principal *string
	// Deadline is as Record.Deadline, for the patched record; the Manager
	// sets it with every Principal.
	Deadline time.Time
}

// Store keeps session records on the server. Implementations must be safe
// for concurrent use. Every method takes the session ID as issued by the
// Manager; stores that persist outside the process should key records by a
// hash of it (see HashID), never by the raw ID. The Manager bounds every
// call with Config.StoreTimeout through ctx; a store must return promptly
// (with an error) once ctx is done.
//
// The contract, checked by conformance.RunStore:
//
//   - Get returns ErrNotFound (possibly wrapped) for a missing or expired
//     record, never a record whose Expires has passed. The returned slices
//     must not alias memory the store keeps or hands to other callers.
//   - Create stores rec under id with Version 1 (rec.Version is ignored)
//     only if no live record holds id, and fails with ErrConflict
//     otherwise. A record whose Expires is not in the future is not
//     stored (Create returns nil). The store copies rec's slices.
//   - Update applies a Patch atomically, as documented on Patch. The store
//     copies the patch's slices; the caller may reuse them afterwards.
//   - Touch moves the expiry of a live record without changing its data or
//     version, returning ErrNotFound if there is none. An expiry that is
//     not in the future ends the record.
//   - Delete removes the record whatever its version; deleting a missing
//     record is not an error.
//
// Errors other than ErrNotFound, ErrConflict and ErrTooLarge mean the store
// failed; the Manager reports them wrapped in ErrStoreUnavailable.
type Store interface {
	Get(ctx context.Context, id string) (Record, error)
	Create(ctx context.Context, id string, rec Record) error
	Update(ctx context.Context, id string, p Patch) error
	Touch(ctx context.Context, id string, expires time.Time) error
	Delete(ctx context.Context, id string) error
}

// SharedGetter is an optional Store capability for stores that never
// change stored bytes in place (every write stores new slices), such as
// MemoryStore. The Manager reads through it when available and so saves
// copying each record it loads; it never modifies the returned slices. A
// wrapper that embeds such a store and overrides Get must override
// GetShared too, or the Manager reads past the override.
type SharedGetter interface {
	// GetShared is Get, except that the returned Meta and Entries may be
	// shared with the store and with other callers: callers must not
	// modify them, and the store must never modify them either, also
	// after later writes of the record. It may also return a record whose
	// Expires has passed but that is not yet removed, saving a clock
	// reading: the caller compares Expires with its own clock (the Manager
	// does, on every load).
	GetShared(ctx context.Context, id string) (Record, error)
}

// NonBlocking is an optional Store capability for stores whose calls
// always return promptly without waiting on I/O, such as MemoryStore. The
// Manager then gives their calls no StoreTimeout deadline, saving a timer
// per call. A wrapper that may block (one that injects latency, or talks to
// a network) must not report true, nor promote the method by embedding.
type NonBlocking interface {
	NonBlocking() bool
}

// ProcessLocal is implemented by stores whose sessions live in the memory
// of one process, such as MemoryStore. Adapters for servers that fork
// several processes (fiber's Prefork) use it to refuse such a store: each
// process would see its own sessions.
type ProcessLocal interface {
	ProcessLocal() bool
}

// PrincipalIndex is an optional Store capability: an index from each
// principal (a user ID, as the application names its users) to the live
// records bound to it, kept by the store with the records themselves. It
// lets the Manager list and revoke a user's sessions (Manager.Sessions,
// Manager.RevokeAll) without scanning the store. A Manager whose store lacks
// it refuses Session.SetPrincipal with ErrNoPrincipalIndex.
//
// A record is bound by Create with a non-empty Record.Principal or by an
// Update whose Patch.Principal is set, and unbound by an Update setting an
// empty principal. A record that is deleted (Delete, an Update deleting it,
// DeleteHandle, DeletePrincipal) or expires leaves the index: expired
// records are never returned, and their index entries must not pile up
// (the store removes them when it meets them and by its own expiry or
// sweeping). Handles are HashID of the record's ID. The contract, checked by
// conformance.RunStore:
//
//   - ListPrincipal returns every live record bound to principal, in no
//     particular order, with Handle and Principal filled; none for an
//     unknown principal.
//   - GetHandle returns the live record with that handle if it is bound to
//     a principal, and ErrNotFound otherwise (also for a record that exists
//     but is not bound).
//   - DeleteHandle deletes the record with that handle if it is bound to
//     principal (to any principal if principal is empty) and returns
//     ErrNotFound otherwise, changing nothing.
//   - DeletePrincipal deletes every record bound to principal except those
//     whose handles are in keep, and returns how many it deleted.
//
// The records returned are the caller's: their slices must not alias memory
// the store keeps.
//
// Each call is atomic with respect to concurrent writes of the records it
// touches: a record created or bound concurrently with DeletePrincipal is
// either deleted or listed afterwards, never silently left unindexed.
type PrincipalIndex interface {
	ListPrincipal(ctx context.Context, principal string) ([]IndexedRecord, error)
	GetHandle(ctx context.Context, handle string) (IndexedRecord, error)
	DeleteHandle(ctx context.Context, handle, principal string) error
	DeletePrincipal(ctx context.Context, principal string, keep []string) (int, error)
}

// IndexedRecord is a record found through a PrincipalIndex.
type IndexedRecord struct {
	// Handle is HashID of the record's session ID: stable, and useless for
	// hijacking the session.
	Handle string
	Record
}
