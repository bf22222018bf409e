package sess

import "errors"

// Sentinel errors. Callers branch on them with errors.Is; the Manager wraps
// them with detail using %w.
var (
	// ErrNotFound is returned by a Store for a missing or expired record.
	ErrNotFound = errors.New("sess: session not found")
	// ErrConflict is returned by Store.Create when a live record holds the
	// ID, and by Store.Update when a Patch's IfVersion does not match. The
	// Manager returns it (never wrapped in ErrStoreUnavailable) for the one
	// conflict it cannot merge: a renewal whose old session kept changing
	// through every retry. The default ErrorHandler answers 409 Conflict, and
	// the log entry has event=conflict; it is not a store outage.
	ErrConflict = errors.New("sess: version conflict")
	// ErrClosed is returned by a store that has been closed.
	ErrClosed = errors.New("sess: store closed")
	// ErrStoreFull is returned by a store that refuses a new session because
	// it holds its configured maximum.
	ErrStoreFull = errors.New("sess: store full")
	// ErrStoreUnavailable wraps every store failure the Manager meets while
	// loading or committing a session. The default ErrorHandler answers 503.
	ErrStoreUnavailable = errors.New("sess: session store unavailable")
	// ErrTooLarge reports session data whose encoding exceeds
	// Config.MaxDataSize. Stores return it from Update when a Patch would
	// make the record exceed Patch.MaxSize.
	ErrTooLarge = errors.New("sess: session data too large")
	// ErrEncode reports a value the session could not encode.
	ErrEncode = errors.New("sess: cannot encode session value")
	// ErrInvalidConfig wraps every validation failure of New.
	ErrInvalidConfig = errors.New("sess: invalid config")
	// ErrCommitFailed is returned by the Write and Hijack methods of a
	// Lifecycle's Writer (and an adapter's writer) after the session could
	// not be committed; the client got an error response instead.
	ErrCommitFailed = errors.New("sess: session commit failed; response replaced by an error")
	// ErrNoPrincipalIndex is returned by Session.SetPrincipal and by the
	// Manager's session management methods when the store does not
	// implement PrincipalIndex.
	ErrNoPrincipalIndex = errors.New("sess: the session store keeps no principal index")
	// ErrInvalidPrincipal reports a principal Session.SetPrincipal refused:
	// longer than 256 bytes or not valid UTF-8.
	ErrInvalidPrincipal = errors.New("sess: invalid principal")
	// ErrInvalidHandle reports a session ID or handle that a Manager method
	// refused before any store access: not of the form the Manager issues.
	ErrInvalidHandle = errors.New("sess: invalid session ID or handle")
)

// errResponseStarted reports, inside a Lifecycle, a session change that
// could not be saved because the response had already started and the
// change needed a new cookie (a new session, a renewal or a destroy); it is
// logged, never returned.
var errResponseStarted = errors.New("sess: session changed after the response started")
