//go:build !(linux || darwin)

package main

// raiseFileLimit reports that descriptor limits are not available here.
func raiseFileLimit() (soft, hard uint64, err error) { return 0, 0, errNoRlimit }
