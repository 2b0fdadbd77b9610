//go:build linux || darwin

package main

import (
	"fmt"
	"syscall"
)

// raiseFileLimit raises the soft descriptor limit (RLIMIT_NOFILE) to the
// hard one where allowed, and returns both. (Go raises it at start since
// 1.19; serve does it again, explicitly, and reads the result.)
func raiseFileLimit() (soft, hard uint64, err error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, 0, fmt.Errorf("read the descriptor limit: %w", err)
	}
	if r.Cur < r.Max {
		want := syscall.Rlimit{Cur: r.Max, Max: r.Max}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			return r.Cur, r.Max, fmt.Errorf("raise the descriptor limit from %d to %d: %w", r.Cur, r.Max, err)
		}
		r.Cur = r.Max
	}
	return r.Cur, r.Max, nil
}
