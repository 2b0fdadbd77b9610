package national

import (
	"testing"
	"time"
)

// TestAnswerTimesAsFormat: refmsg_time, respond_time and inf_refmsgid's
// time are what Time.Format writes, whichever second was written before
// (the reused text of the last second must never stand for another),
// with the layout's dot out:
// times in the same second, the next, back again, across Asia/Shanghai's
// summer-time changes of 1986–1991, and years of other widths.
func TestAnswerTimesAsFormat(t *testing.T) {
	// The layout's 15th character (its dot, for years of four digits)
	// out, as the answer wrote it before.
	want := func(t time.Time) string {
		s := t.In(shanghai).Format(respTimeLayout)
		return s[:14] + s[15:]
	}
	base := time.Date(2025, 3, 4, 13, 6, 59, 0, time.UTC)
	times := []time.Time{
		base, base.Add(999 * time.Millisecond), base.Add(999999999), base.Add(time.Second), base,
		base.Add(-time.Nanosecond), base.Add(time.Second + 5*time.Millisecond), base.Add(time.Hour),
		// The end and start of Asia/Shanghai's summer time (1986-1991).
		time.Date(1986, 9, 13, 17, 59, 59, 500e6, time.UTC), time.Date(1986, 9, 13, 18, 0, 0, 0, time.UTC),
		time.Date(1986, 5, 3, 17, 59, 59, 999e6, time.UTC), time.Date(1986, 5, 3, 18, 0, 0, 1e6, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(12345, 6, 7, 8, 9, 10, 11e6, time.UTC),
		time.Date(-5, 6, 7, 8, 9, 10, 11e6, time.UTC), base, base.In(time.FixedZone("X", 3600)),
	}
	for i := range 2000 {
		times = append(times, base.Add(time.Duration(i)*7777777*time.Microsecond))
	}
	for _, tm := range times {
		if got := string(appendRespTime([]byte("x"), tm)); got != "x"+want(tm) {
			t.Fatalf("%s: respond time %q, want %q", tm, got, "x"+want(tm))
		}
		if got := string(appendSecond(nil, tm)); got != tm.In(shanghai).Format(refmsgidTimeLayout) {
			t.Fatalf("%s: second %q, want %q", tm, got, tm.In(shanghai).Format(refmsgidTimeLayout))
		}
		if got := respTime(tm); got != want(tm) {
			t.Fatalf("%s: respTime %q, want %q", tm, got, want(tm))
		}
	}
	s := newRefmsgidSource()
	s.next.Store(41)
	if got := s.id("610300", base); got != "610300"+base.In(shanghai).Format(refmsgidTimeLayout)+"0000000042" {
		t.Fatalf("inf_refmsgid %q", got)
	}
}
