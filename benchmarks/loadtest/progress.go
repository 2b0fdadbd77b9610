package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progress reports on stderr what the run is doing: one line per step,
// and while ghz runs the seconds left, rewritten in place on a terminal
// and every five seconds otherwise.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	start    time.Time
	open     bool // a countdown line is on the terminal without its newline
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

// step prints one line.
func (p *progress) step(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeLine()
	fmt.Fprintf(p.w, "[%s] %s\n", p.elapsed(), msg)
}

// countdown shows label and the seconds left of d, and of d and after
// together, until the returned stop is called.
func (p *progress) countdown(label string, d, after time.Duration) (stop func()) {
	end := time.Now().Add(d)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	show := func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		left := time.Until(end).Round(time.Second)
		if left < 0 {
			left = 0
		}
		msg := fmt.Sprintf("[%s] %s: %s left", p.elapsed(), label, left)
		if after > 0 {
			msg += fmt.Sprintf(" (this store: %s)", left+after)
		}
		if p.terminal {
			fmt.Fprint(p.w, "\r\033[K"+msg)
			p.open = true
			return
		}
		fmt.Fprintln(p.w, msg)
	}
	go func() {
		defer wg.Done()
		interval := 5 * time.Second
		if p.terminal {
			interval = time.Second
		}
		tick := time.NewTicker(interval)
		defer tick.Stop()
		show()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				show()
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		p.mu.Lock()
		p.closeLine()
		p.mu.Unlock()
	}
}

// done ends the progress output.
func (p *progress) done() {
	p.step("done")
}

// closeLine ends a countdown line left open on the terminal.
func (p *progress) closeLine() {
	if p.open {
		fmt.Fprint(p.w, "\r\033[K")
		p.open = false
	}
}

// elapsed is the time since the run started, as m:ss.
func (p *progress) elapsed() string {
	s := int(time.Since(p.start).Seconds())
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
