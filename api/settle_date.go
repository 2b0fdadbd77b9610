package api

import (
	"time"

	"github.com/medsettle/medsettle/engine"
)

// DefaultMaxClockSkew is how far ahead of the server's clock a settle date
// may be unless Config.MaxClockSkew says otherwise: a hospital whose clock
// runs ahead, or that settles just after midnight, is not refused.
const DefaultMaxClockSkew = 24 * time.Hour

// chinaTime is China Standard Time (UTC+8, no daylight saving since
// 1991): the time zone of the HIS systems, whose calendar settle dates are.
var chinaTime = time.FixedZone("CST", 8*60*60)

// settleClock decides which settle dates are in the future: those after
// the date, in China Standard Time, of now plus the allowed skew. Its zero
// value checks nothing (a SettlementService built outside NewServer).
type settleClock struct {
	now  func() time.Time
	skew time.Duration
}

// newSettleClock is a clock reading now (time.Now when nil) that allows
// skew (DefaultMaxClockSkew when zero or negative).
func newSettleClock(now func() time.Time, skew time.Duration) settleClock {
	if now == nil {
		now = time.Now
	}
	if skew <= 0 {
		skew = DefaultMaxClockSkew
	}
	return settleClock{now: now, skew: skew}
}

// dates are the server's date now and the latest settle date accepted,
// both in China Standard Time.
func (c settleClock) dates() (today, latest engine.Date) {
	t := c.now()
	return civil(t.In(chinaTime)), civil(t.Add(c.skew).In(chinaTime))
}

func civil(t time.Time) engine.Date {
	return engine.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

// checkSettleDate adds to invalid (nil or the *engine.ValidationError of
// the rest of the request) a violation on settle_date when d is in the
// future beyond the allowance, and returns the result.
func (c settleClock) checkSettleDate(d engine.Date, invalid error) error {
	if c.now == nil || d.IsZero() {
		return invalid
	}
	today, latest := c.dates()
	if d.Compare(latest) <= 0 {
		return invalid
	}
	var v engine.Violations
	if invalid != nil && !v.Merge(invalid) {
		return invalid
	}
	v.Addf("settle_date", "%s is in the future: the server's date is %s (China Standard Time) and it accepts settle dates up to %s (a clock-skew allowance of %s)",
		d, today, latest, c.skew)
	return v.Err()
}
