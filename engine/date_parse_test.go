package engine_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
)

// parseDateRef is ParseDate as it was written, on time.Parse alone.
func parseDateRef(s string) (engine.Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return engine.Date{}, fmt.Errorf("%q is not a date of the form YYYY-MM-DD", truncateRef(s, 30))
	}
	if t.Year() < engine.MinYear {
		return engine.Date{}, fmt.Errorf("%q is before %d: no insurance year is", s, engine.MinYear)
	}
	return engine.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
}

func truncateRef(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// TestParseDateAsTimeParse: ParseDate answers as time.Parse did, date and
// error, for every month and day number of leap and common years, the
// first and last years, and random strings of digits and dashes.
func TestParseDateAsTimeParse(t *testing.T) {
	var in []string
	for _, y := range []string{"0000", "0004", "1899", "1900", "1904", "2000", "2023", "2024", "2026", "2100", "2400", "9999"} {
		for m := 0; m <= 19; m++ {
			for d := 0; d <= 39; d++ {
				in = append(in, fmt.Sprintf("%s-%02d-%02d", y, m, d))
			}
		}
	}
	in = append(in, "", "2026-1-01", "2026-01-1", "2026-01-011", "+026-01-01", "2026/01/01", "2026-01-01 ", " 2026-01-01", "２０２６-01-01", "2026-00-00")
	r := rand.New(rand.NewPCG(3, 4))
	const alphabet = "0123456789-+ x"
	for range 200_000 {
		b := make([]byte, 8+r.IntN(4))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
			if r.IntN(3) > 0 && (i == 4 || i == 7) {
				b[i] = '-'
			} else if r.IntN(2) > 0 {
				b[i] = byte('0' + r.IntN(10))
			}
		}
		in = append(in, string(b))
	}
	for _, s := range in {
		got, gotErr := engine.ParseDate(s)
		want, wantErr := parseDateRef(s)
		if got != want || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("ParseDate(%q) = %v, %v; time.Parse gave %v, %v", s, got, gotErr, want, wantErr)
		}
	}
}

// BenchmarkParseDate is ParseDate of a settle date.
func BenchmarkParseDate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := engine.ParseDate("2026-06-15"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseDateTimeParse is the same date through time.Parse, as
// ParseDate read it before parseDateOnly.
func BenchmarkParseDateTimeParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseDateRef("2026-06-15"); err != nil {
			b.Fatal(err)
		}
	}
}
