//go:build race

package conformance

// raceEnabled reports whether the race detector is on; a few load cases
// scale down under it.
const raceEnabled = true
