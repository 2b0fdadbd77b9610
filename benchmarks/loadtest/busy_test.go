package main

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestWhenBusy: started waits while the CPU time read stays flat or
// creeps (an idle server, ghz parsing its file), is called once it jumps
// (the calls began), and is not called after stop; where the CPU time
// cannot be read it is called at once.
func TestWhenBusy(t *testing.T) {
	const every = time.Millisecond
	var cpu atomic.Int64
	read := func() (time.Duration, bool) { return time.Duration(cpu.Load()), true }
	begun := make(chan struct{})
	stop := whenBusy(context.Background(), read, every, func() { close(begun) })
	defer stop()
	for range 20 {
		cpu.Add(1) // idle: a nanosecond now and then, far under the share
		time.Sleep(2 * every)
	}
	select {
	case <-begun:
		t.Fatal("started on an idle server")
	default:
	}
	cpu.Add(int64(time.Second))
	select {
	case <-begun:
	case <-time.After(5 * time.Second):
		t.Fatal("started not called 5 s after the server got busy")
	}

	var calls atomic.Int32
	stop2 := whenBusy(context.Background(), read, every, func() { calls.Add(1) })
	stop2()
	time.Sleep(5 * every)
	cpu.Add(int64(time.Second))
	time.Sleep(20 * every)
	if n := calls.Load(); n != 0 {
		t.Fatalf("started called %d times after stop", n)
	}

	called := false
	whenBusy(context.Background(), func() (time.Duration, bool) { return 0, false }, every, func() { called = true })()
	if !called {
		t.Fatal("started not called at once where the CPU time cannot be read")
	}
}
