package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress draws one task's progress on stderr: on a terminal a bar
// redrawn in place at most ten times a second; anywhere else (a log file,
// CI, a pipe) a plain line every plainEvery, so that logs stay readable.
type progress struct {
	out      io.Writer
	terminal bool
	every    time.Duration
	drawn    time.Time
	started  bool
}

// plainEvery is how often progress writes a plain line off a terminal.
const plainEvery = 5 * time.Second

func newProgress(out io.Writer) *progress {
	p := &progress{out: out, terminal: isTerminal(out), every: plainEvery}
	if p.terminal {
		p.every = 100 * time.Millisecond
	}
	return p
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && f.Name() != os.DevNull
}

// update shows label [bar] done/total unit (pct%) and extra, unless it
// showed something less than p.every ago and force is false. The first
// update is always shown.
func (p *progress) update(force bool, label string, done, total int64, unit, extra string) {
	if p.started && !force && time.Since(p.drawn) < p.every {
		return
	}
	p.started = true
	p.drawn = time.Now()
	const width = 30
	filled := width
	pct := 100.0
	if total > 0 {
		filled = int(min(width, done*width/total))
		pct = float64(done) * 100 / float64(total)
	}
	line := fmt.Sprintf("%s [%s%s] %d/%d %s (%.0f%%)%s",
		label, strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total, unit, pct, extra)
	if p.terminal {
		fmt.Fprint(p.out, "\r"+line+"\x1b[K")
	} else {
		fmt.Fprintln(p.out, line)
	}
}

// end finishes the bar's line on a terminal.
func (p *progress) end() {
	if p.terminal && p.started {
		fmt.Fprintln(p.out)
	}
}
