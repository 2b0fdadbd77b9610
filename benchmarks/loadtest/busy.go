package main

import (
	"context"
	"time"
)

// busyEvery is how often whenBusy reads the server's CPU time, and
// busyShare the share of one CPU the server must have used over that
// time for its calls to count as begun: an idle server uses next to
// none, a loaded one most of a CPU.
const (
	busyEvery = 50 * time.Millisecond
	busyShare = 5 // 1/5 of a CPU: 10 ms of CPU in 50 ms
)

// whenBusy calls started once the CPU time read returns rises by more
// than every/busyShare between two readings every apart, that is when the
// server starts working, and returns a stop that ends the watch (started
// not called). A ghz row's calls begin only after ghz has parsed its
// request file, seconds after its launch for a Settle row with hundreds
// of thousands of requests; a profile begun at the launch covered that
// idle server instead of the calls. Where the CPU time cannot be read,
// started is called at once, as before.
func whenBusy(ctx context.Context, read func() (time.Duration, bool), every time.Duration, started func()) (stop func()) {
	last, ok := read()
	if !ok {
		started()
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			now, ok := read()
			if !ok || now-last > every/busyShare {
				started()
				return
			}
			last = now
		}
	}()
	return cancel
}
