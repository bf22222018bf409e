//go:build !race

package sess

const raceEnabled = false
