package sess

import (
	"testing"
	"unsafe"
)

// TestSessionSizeClass: a Session, allocated once per request with its
// Lifecycle, carrier, context and inline buffers, fits the allocator's
// 512-byte size class. The next class is 576 bytes: a field that pushes
// it over costs every request those bytes and their zeroing.
func TestSessionSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(Session{}); n > 512 {
		t.Fatalf("Session is %d bytes, over the 512-byte size class", n)
	}
}
