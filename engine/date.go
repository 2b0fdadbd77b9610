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
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date of the form YYYY-MM-DD", truncate(s, 30))
	}
	if t.Year() < MinYear {
		return Date{}, fmt.Errorf("%q is before %d: no insurance year is", s, MinYear)
	}
	return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
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
