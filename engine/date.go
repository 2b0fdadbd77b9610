package engine

import (
	"fmt"
	"time"
)

// Date is a civil date (no time, no zone): settle dates and policy validity.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses "YYYY-MM-DD" and refuses dates that do not exist.
func ParseDate(s string) (Date, error) {
	if d, ok := parseDateOnly(s); ok {
		if d.Year < MinYear {
			return Date{}, fmt.Errorf("%q is before %d: no insurance year is", s, MinYear)
		}
		return d, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date of the form YYYY-MM-DD", truncate(s, 30))
	}
	if t.Year() < MinYear {
		return Date{}, fmt.Errorf("%q is before %d: no insurance year is", s, MinYear)
	}
	return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
}

// parseDateOnly reads s when it is a date time.Parse(time.DateOnly, s)
// accepts: four digits, '-', two, '-', two, and a day that exists in its
// month. It reports false for anything else, which ParseDate then hands to
// time.Parse for its answer. Every settlement request carries a date, and
// time.Parse cost more than the rest of reading it.
func parseDateOnly(s string) (Date, bool) {
	if len(s) != len(time.DateOnly) || s[4] != '-' || s[7] != '-' {
		return Date{}, false
	}
	var n [8]int
	for i, j := range [8]int{0, 1, 2, 3, 5, 6, 8, 9} {
		c := s[j]
		if c < '0' || c > '9' {
			return Date{}, false
		}
		n[i] = int(c - '0')
	}
	y, m, d := n[0]*1000+n[1]*100+n[2]*10+n[3], n[4]*10+n[5], n[6]*10+n[7]
	if m < 1 || m > 12 || d < 1 || d > daysIn(time.Month(m), y) {
		return Date{}, false
	}
	return Date{Year: y, Month: time.Month(m), Day: d}, true
}

// daysIn is the number of days of month m of year y (Gregorian).
func daysIn(m time.Month, y int) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// String renders the date as "YYYY-MM-DD".
func (d Date) String() string {
	var buf [10]byte
	return string(d.appendTo(buf[:0]))
}

// AppendString appends the date as String renders it.
func (d Date) AppendString(b []byte) []byte { return d.appendTo(b) }

// appendTo appends the date as String renders it ("%04d-%02d-%02d").
func (d Date) appendTo(b []byte) []byte {
	m := int(d.Month)
	if d.Year < 0 || d.Year > 9999 || m < 0 || m > 99 || d.Day < 0 || d.Day > 99 {
		return fmt.Appendf(b, "%04d-%02d-%02d", d.Year, m, d.Day)
	}
	y := d.Year
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d.Day/10), byte('0'+d.Day%10))
}

// IsZero reports whether the date was never set.
func (d Date) IsZero() bool { return d == Date{} }

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return cmpInt(d.Year, o.Year)
	case d.Month != o.Month:
		return cmpInt(int(d.Month), int(o.Month))
	default:
		return cmpInt(d.Day, o.Day)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
