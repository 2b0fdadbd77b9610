package main

import (
	"fmt"
	"io"
	"time"
)

// planProgress shows an export's progress: the server streams rows
// without saying how many will come, so the bar's total is an estimate
// when there is one (the previous plan's persons, with --diff) and a bare
// count with the rate otherwise.
type planProgress struct {
	bar      *progress
	estimate int64
	done     int64
	start    time.Time
}

// planLabel is the progress line's label.
const planLabel = "exporting plan"

func newPlanProgress(out io.Writer, estimate int64) *planProgress {
	return &planProgress{bar: newProgress(out), estimate: estimate, start: time.Now()}
}

// row counts one row and redraws now and then (every 1,024 rows the
// clock is asked whether it is time).
func (p *planProgress) row() {
	p.done++
	if p.done == 1 || p.done&1023 == 0 {
		p.draw(false)
	}
}

// draw shows the count, against the estimate while it holds.
func (p *planProgress) draw(force bool) {
	if p.estimate > 0 && p.done <= p.estimate {
		p.bar.update(force, planLabel, p.done, p.estimate, "persons", " (total estimated from the previous plan)")
		return
	}
	if p.bar.started && !force && time.Since(p.bar.drawn) < p.bar.every {
		return
	}
	p.bar.started, p.bar.drawn = true, time.Now()
	line := fmt.Sprintf("%s: %d persons", planLabel, p.done)
	if secs := time.Since(p.start).Seconds(); secs >= 1 {
		line += fmt.Sprintf(", %.0f persons/s", float64(p.done)/secs)
	}
	if p.bar.terminal {
		fmt.Fprint(p.bar.out, "\r"+line+"\x1b[K")
	} else {
		fmt.Fprintln(p.bar.out, line)
	}
}

// finish draws the final count (when anything was drawn or ok) and ends
// the line.
func (p *planProgress) finish(ok bool) {
	if ok {
		if p.estimate > 0 {
			p.estimate = p.done // the plan is whole: 100%
		}
		p.draw(true)
	}
	p.bar.end()
}
