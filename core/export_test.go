package sess

import "time"

// SignForTest signs id as m would, for tests that forge cookies.
func SignForTest(m *Manager, id string) string { return m.signer.sign(id) }

// AbsoluteDeadline decodes the absolute deadline of a record.
func AbsoluteDeadline(data []byte) (time.Time, error) {
	h, _, err := parseHeader(data, len(data))
	return time.UnixMilli(h.absolute), err
}
