package national

import (
	"testing"
	"time"
)

// TestShanghaiText: the reused texts are what Format writes, around day
// and second boundaries, before 1970 and out of order.
func TestShanghaiText(t *testing.T) {
	base := []time.Time{time.Date(2025, 3, 4, 15, 59, 59, 999_999_999, time.UTC), time.Date(2025, 3, 4, 16, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 15, 59, 59, 500_000_000, time.UTC), time.Date(1969, 12, 31, 16, 0, 0, 0, time.UTC),
		time.Date(1950, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(2099, 12, 31, 23, 59, 59, 0, shanghai), time.Unix(0, 0), time.Unix(-1, 0)}
	var times []time.Time
	for _, b := range base {
		for _, d := range []time.Duration{0, -time.Nanosecond, time.Nanosecond, -time.Second, time.Second, 500 * time.Millisecond, 24 * time.Hour, -24 * time.Hour} {
			times = append(times, b.Add(d), b.Add(d).In(time.FixedZone("X", -5*3600)))
		}
	}
	for round := range 2 {
		for i := range times {
			tm := times[i]
			if round == 1 {
				tm = times[len(times)-1-i]
			}
			c := &Call{Now: tm}
			if got, want := c.Today(), tm.In(shanghai).Format(time.DateOnly); got != want {
				t.Errorf("%v: Today %s, want %s", tm, got, want)
			}
			if got, want := shanghaiDateTime(tm), tm.In(shanghai).Format(time.DateTime); got != want {
				t.Errorf("%v: date-time %s, want %s", tm, got, want)
			}
		}
	}
}
