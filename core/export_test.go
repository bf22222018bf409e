package sess

import "time"

// SignForTest signs id as m would, for tests that forge cookies.
func SignForTest(m *Manager, id string) string { return m.signer.sign(id) }

// AbsoluteDeadline decodes the absolute deadline of a record's Meta.
func AbsoluteDeadline(meta []byte) (time.Time, error) {
	h, err := parseRecord(meta, nil, len(meta))
	return time.UnixMilli(h.absolute), err
}
