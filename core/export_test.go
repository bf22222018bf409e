package sess

import "time"

// SignForTest signs id as m would, for tests that forge cookies.
func SignForTest(m *Manager, id string) string { return m.signer.sign(id) }

// AbsoluteDeadline decodes the absolute deadline of a record's Meta.
func AbsoluteDeadline(meta []byte) (time.Time, error) {
	h, err := parseRecord(meta, nil, len(meta))
	return time.UnixMilli(h.absolute), err
}

// MetaForTest returns the Meta of a record with the given absolute deadline
// and lifetime fields (mode, idle in ms, Max-Age in s), raw.
func MetaForTest(absolute int64, mode byte, idle, maxAge time.Duration) []byte {
	return appendMeta(nil, absolute, lifetime{mode: mode, idle: idle, maxAge: uint32(maxAge / time.Second)}, 0, nil)
}

// SetObserverDrainTimeout sets how long Close waits for queued Observer
// events, for Managers created afterwards; restore puts the default back.
func SetObserverDrainTimeout(d time.Duration) (restore func()) {
	old := observerDrainTimeout
	observerDrainTimeout = d
	return func() { observerDrainTimeout = old }
}
