// Package benchmarks holds medsettle's reproducible performance
// measurements: Go benchmarks of the engine and of the gRPC path (run
// `make bench`), and ghz scenarios for a running server (ghz/). The method
// and the figures quoted in the README are in README.md beside this file.
package benchmarks
