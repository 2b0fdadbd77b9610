package api

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"
)

// closed reports whether ch is closed, without waiting.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// waitClosed waits up to a second for ch to close.
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Second):
		t.Fatalf("%s: Done not closed within a second", what)
	}
}

// A clockDeadline nobody watches ends by the clock: Err is nil before the
// deadline and DeadlineExceeded after it, and Done asked for afterwards is
// already closed.
func TestClockDeadlineUnwatchedEndsByTheClock(t *testing.T) {
	d := time.Now().Add(30 * time.Millisecond)
	c, stop := withClockDeadline(context.Background(), d)
	defer stop()
	if got, ok := c.Deadline(); !ok || !got.Equal(d) {
		t.Fatalf("Deadline = %v, %v; want %v, true", got, ok, d)
	}
	if err := c.Err(); err != nil {
		t.Fatalf("Err before the deadline = %v, want nil", err)
	}
	if c.ranOut() {
		t.Fatal("ranOut before the deadline")
	}
	if c.armed.Load() != nil {
		t.Fatal("a clockDeadline nobody waited on was armed")
	}
	time.Sleep(time.Until(d) + 5*time.Millisecond)
	if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Err after the deadline = %v, want DeadlineExceeded", err)
	}
	if !c.ranOut() || !storeLimitRanOut(c) {
		t.Fatal("ranOut after its own deadline is false")
	}
	if !closed(c.Done()) {
		t.Fatal("Done asked for after the deadline is not closed")
	}
	if c.armed.Load() != nil {
		t.Fatal("Done after the end armed it")
	}
}

// Done, once asked for, closes at the deadline by itself, and Err agrees.
func TestClockDeadlineWatchedClosesAtTheDeadline(t *testing.T) {
	c, stop := withClockDeadline(context.Background(), time.Now().Add(20*time.Millisecond))
	defer stop()
	done := c.Done()
	if closed(done) {
		t.Fatal("Done closed before the deadline")
	}
	if c.Done() != done {
		t.Fatal("Done returned a second channel")
	}
	waitClosed(t, done, "deadline")
	if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Err = %v, want DeadlineExceeded", err)
	}
	if !c.ranOut() {
		t.Fatal("ranOut is false")
	}
}

// The parent's end ends it, watched or not, with the parent's error, and
// is not its own deadline running out.
func TestClockDeadlineFollowsItsParent(t *testing.T) {
	for _, watched := range []bool{false, true} {
		parent, cancel := context.WithCancel(context.Background())
		c, stop := withClockDeadline(parent, time.Now().Add(time.Hour))
		var done <-chan struct{}
		if watched {
			done = c.Done()
		}
		cancel()
		if watched {
			waitClosed(t, done, "parent cancelled")
		}
		if err := c.Err(); !errors.Is(err, context.Canceled) {
			t.Fatalf("watched %v: Err = %v, want Canceled", watched, err)
		}
		if !closed(c.Done()) {
			t.Fatalf("watched %v: Done not closed after the parent ended", watched)
		}
		if c.ranOut() || storeLimitRanOut(c) {
			t.Fatalf("watched %v: the parent's end counted as its own deadline", watched)
		}
		stop()
	}
}

// The earlier of the parent's deadline and its own is its deadline, and
// the parent's running out is reported as the parent's.
func TestClockDeadlineParentDeadlineFirst(t *testing.T) {
	parent, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	pd, _ := parent.Deadline()
	c, stop := withClockDeadline(parent, time.Now().Add(time.Hour))
	defer stop()
	if got, _ := c.Deadline(); !got.Equal(pd) {
		t.Fatalf("Deadline = %v, want the parent's %v", got, pd)
	}
	waitClosed(t, c.Done(), "parent deadline")
	if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Err = %v, want DeadlineExceeded", err)
	}
	if c.ranOut() {
		t.Fatal("the parent's deadline counted as its own")
	}
}

// stop ends it as Canceled, releases an armed timer, and it never runs
// out afterwards.
func TestClockDeadlineStop(t *testing.T) {
	c, stop := withClockDeadline(context.Background(), time.Now().Add(20*time.Millisecond))
	done := c.Done()
	stop()
	if !closed(done) {
		t.Fatal("Done not closed by stop")
	}
	if err := c.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Err after stop = %v, want Canceled", err)
	}
	time.Sleep(40 * time.Millisecond)
	if err := c.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Err after stop and the deadline = %v, want Canceled", err)
	}
	if c.ranOut() {
		t.Fatal("ranOut after stop")
	}
	stop() // twice is harmless, as a context.CancelFunc
}

// Values pass through to the parent; a context derived from it ends with
// it.
func TestClockDeadlineValuesAndChildren(t *testing.T) {
	type key struct{}
	parent := context.WithValue(context.Background(), key{}, "v")
	c, stop := withClockDeadline(parent, time.Now().Add(20*time.Millisecond))
	defer stop()
	if got := c.Value(key{}); got != "v" {
		t.Fatalf("Value = %v, want the parent's", got)
	}
	child, cancel := context.WithCancel(c)
	defer cancel()
	if got := child.Value(clockDeadlineKey{}); got != c {
		t.Fatal("a child does not find its clockDeadline")
	}
	waitClosed(t, child.Done(), "child")
	if err := child.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("child Err = %v, want DeadlineExceeded", err)
	}
	if !storeLimitRanOut(child) {
		t.Fatal("storeLimitRanOut of the child is false")
	}
	if storeLimitRanOut(context.Background()) {
		t.Fatal("storeLimitRanOut of a context without a store limit is true")
	}
}

// Whatever the interleaving of Done, Err, the deadline, the parent's end
// and stop (go test -race): Err is non-nil only once Done is closed, and
// it ends once, with one error.
func TestClockDeadlineConcurrent(t *testing.T) {
	for i := range 200 {
		parent, cancel := context.WithCancel(context.Background())
		c, stop := withClockDeadline(parent, time.Now().Add(time.Duration(i%5)*100*time.Microsecond))
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 50 {
					if err := c.Err(); err != nil {
						if !closed(c.Done()) {
							t.Error("Err non-nil while Done is open")
						}
						errs[g] = err
						return
					}
					if g%2 == 0 {
						c.Done()
					}
				}
			}()
		}
		switch i % 3 {
		case 0:
			cancel()
		case 1:
			stop()
		}
		wg.Wait()
		final := c.Err()
		for _, err := range errs {
			if err != nil && err != final {
				t.Fatalf("round %d: Err changed from %v to %v", i, err, final)
			}
		}
		stop()
		cancel()
		if c.Err() == nil || !closed(c.Done()) {
			t.Fatalf("round %d: not ended after stop", i)
		}
	}
}

// WithDeadlineByClock's context ends by the clock like a store limit's,
// but its running out is the caller's deadline: storeLimitRanOut looks
// through it to the store limit outside it, if any.
func TestWithDeadlineByClockIsNotAStoreLimit(t *testing.T) {
	ctx, stop := WithDeadlineByClock(context.Background(), time.Now().Add(10*time.Millisecond))
	defer stop()
	time.Sleep(15 * time.Millisecond)
	if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Err = %v, want DeadlineExceeded", err)
	}
	if !closed(ctx.Done()) {
		t.Fatal("Done not closed after the deadline")
	}
	if storeLimitRanOut(ctx) {
		t.Fatal("a caller's deadline counted as a store limit")
	}
	limit, stopLimit := withClockDeadline(context.Background(), time.Now().Add(-time.Millisecond))
	defer stopLimit()
	inner, stopInner := WithDeadlineByClock(limit, time.Now().Add(time.Hour))
	defer stopInner()
	if !storeLimitRanOut(inner) {
		t.Fatal("the store limit outside a caller's deadline is not found")
	}
}

// The store limit passes first and the caller's later deadline next, and
// nothing looks at the context until both have passed (memstore waiting
// for a person's lock): the store limit ran out, as the timers would have
// said, and timedRun reports a store timeout (UNAVAILABLE, retry).
func TestClockDeadlineFirstToPassDecides(t *testing.T) {
	parent, cancel := context.WithDeadline(context.Background(), time.Now().Add(30*time.Millisecond))
	defer cancel()
	sctx, stop := withClockDeadline(parent, time.Now().Add(20*time.Millisecond))
	defer stop()
	_, err := timedRun(context.Context(sctx), 50*time.Millisecond, "Settle", func(ctx context.Context) (int, error) {
		time.Sleep(60 * time.Millisecond) // a lock that does not watch the context
		return 0, ctx.Err()
	})
	var ste *storeTimeoutError
	if !errors.As(err, &ste) {
		t.Fatalf("err = %v (%T), want a storeTimeoutError: the store limit passed first", err, err)
	}
	// The other way round: the caller's deadline passed first.
	parent2, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(10*time.Millisecond))
	defer cancel2()
	sctx2, stop2 := withClockDeadline(parent2, time.Now().Add(20*time.Millisecond))
	defer stop2()
	time.Sleep(30 * time.Millisecond)
	if sctx2.ranOut() {
		t.Fatal("the caller's earlier deadline counted as the store limit")
	}
	if err := sctx2.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Err = %v, want DeadlineExceeded", err)
	}
}

// Once armed it is a standard cancel context: its cause is its own
// (context.Cause), and contexts derived from it and context.AfterFunc on
// it start no goroutine of their own.
func TestClockDeadlineArmedIsStandard(t *testing.T) {
	parent, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	c, stop := withClockDeadline(parent, time.Now().Add(20*time.Millisecond))
	defer stop()
	<-c.Done()
	cancel(errors.New("client went away"))
	if got := context.Cause(c); !errors.Is(got, errRanOut) {
		t.Fatalf("Cause = %v, want its own (errRanOut)", got)
	}
	if !c.ranOut() {
		t.Fatal("ranOut is false")
	}

	c2, stop2 := withClockDeadline(context.Background(), time.Now().Add(time.Hour))
	defer stop2()
	c2.Done()
	before := runtime.NumGoroutine()
	var stops []func() bool
	for range 20 {
		stops = append(stops, context.AfterFunc(c2, func() {}))
		_, cc := context.WithCancel(c2)
		defer cc()
	}
	if after := runtime.NumGoroutine(); after > before+2 {
		t.Fatalf("goroutines %d -> %d after 20 AfterFuncs and children", before, after)
	}
	for _, s := range stops {
		s()
	}
}
