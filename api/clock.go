package api

import "time"

// clockBase is the reference point of nowSeconds (a monotonic reading).
var clockBase = time.Now()

// nowSeconds is a monotonic clock in seconds, for durations only.
func nowSeconds() float64 { return time.Since(clockBase).Seconds() }
