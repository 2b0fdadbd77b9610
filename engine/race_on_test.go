//go:build race

package engine_test

// raceEnabled is true under the race detector.
const raceEnabled = true
