package national

import (
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
)

// TestParseDateTimeFast: what the fast reader reads, time.Parse reads the
// same, and parseHISTime answers as it did with time.Parse alone.
func TestParseDateTimeFast(t *testing.T) {
	cases := []string{"2025-03-04 09:00:00", "2024-02-29 23:59:59", "2023-02-29 10:00:00", "2025-04-31 00:00:00",
		"2025-12-31 00:00:00", "2025-13-01 00:00:00", "2025-00-10 00:00:00", "2025-01-00 00:00:00", "2025-01-01 24:00:00",
		"2025-01-01 23:60:00", "2025-01-01 23:59:60", "1899-01-01 00:00:00", "0000-01-01 00:00:00", "9999-12-31 23:59:59",
		"2025-03-04 9:00:00", "2025-03-04T09:00:00", "2025/03/04 09:00:00", "2025-03-04 09:00:00.5", "2025-3-04 09:00:00",
		"20250304090000", "+025-03-04 09:00:00", "2025-03-04 09:00:0a", "２025-03-04 09:00:00", "", "2025-03-04",
		"1900-02-29 00:00:00", "2000-02-29 00:00:00", "2100-02-29 00:00:00", "2025-06-30 12:30:45", "2025-06-31 12:30:45"}
	for y := 1990; y <= 2030; y++ {
		for m := 1; m <= 12; m++ {
			for _, d := range []int{28, 29, 30, 31} {
				cases = append(cases, time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC).Format("2006-01-")+
					[]string{"28", "29", "30", "31"}[d-28]+" 12:00:00")
			}
		}
	}
	for _, s := range cases {
		slow := func() (engine.Date, bool) {
			for _, layout := range hisTimeLayouts {
				if tm, err := time.Parse(layout, s); err == nil && tm.Year() >= engine.MinYear {
					return engine.Date{Year: tm.Year(), Month: tm.Month(), Day: tm.Day()}, true
				}
			}
			return engine.Date{}, false
		}
		want, wantOK := slow()
		if d, ok := parseDateTimeFast(s); ok && (!wantOK || d != want) {
			t.Errorf("%q: fast %v, time.Parse %v %v", s, d, want, wantOK)
		}
		if d, ok := parseHISTime(s); ok != wantOK || d != want {
			t.Errorf("%q: parseHISTime %v %v, time.Parse %v %v", s, d, ok, want, wantOK)
		}
	}
}
