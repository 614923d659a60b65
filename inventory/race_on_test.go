//go:build race

package inventory

// raceEnabled: the race detector multiplies memory use several times.
const raceEnabled = true
