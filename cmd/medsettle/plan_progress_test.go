package main

import (
	"bytes"
	"testing"
)

// TestPlanProgress draws the first row and the end off a terminal: against
// the estimate while it holds (the end at 100 % of what came), as a count
// when there is none, and nothing more for a failed run.
func TestPlanProgress(t *testing.T) {
	for _, c := range []struct {
		estimate, rows int64
		ok             bool
		want           string
	}{
		{4, 3, true, "exporting plan [#######.......................] 1/4 persons (25%) (total estimated from the previous plan)\n" +
			"exporting plan [##############################] 3/3 persons (100%) (total estimated from the previous plan)\n"},
		{2, 3, true, "exporting plan [###############...............] 1/2 persons (50%) (total estimated from the previous plan)\n" +
			"exporting plan [##############################] 3/3 persons (100%) (total estimated from the previous plan)\n"},
		{0, 3, true, "exporting plan: 1 persons\nexporting plan: 3 persons\n"},
		{2, 3, false, "exporting plan [###############...............] 1/2 persons (50%) (total estimated from the previous plan)\n"},
		{0, 0, false, ""},
	} {
		var out bytes.Buffer
		p := newPlanProgress(&out, c.estimate)
		for range c.rows {
			p.row()
		}
		p.finish(c.ok)
		if out.String() != c.want {
			t.Errorf("estimate %d, %d rows, ok %v:\n%q\nwant\n%q", c.estimate, c.rows, c.ok, out.String(), c.want)
		}
	}
}
