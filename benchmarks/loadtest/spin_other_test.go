//go:build !linux

package main

import "time"

// spinCPU spends about d of the clock (no thread CPU clock here).
func spinCPU(d time.Duration) {
	for t := time.Now(); time.Since(t) < d; {
	}
}
