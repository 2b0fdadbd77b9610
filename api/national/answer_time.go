package national

import (
	"sync/atomic"
	"time"
)

// secondText is the Asia/Shanghai text of one second as inf_refmsgid
// writes it (refmsgidTimeLayout, yyyyMMddHHmmss), which refmsg_time and
// respond_time start with.
type secondText struct {
	unix int64 // the second, in Unix seconds
	text [len(refmsgidTimeLayout)]byte
}

// lastSecond is the text of the last second an answer's time was written
// for: every answer within that second reuses it instead of formatting
// the time again (three times an answer).
var lastSecond atomic.Pointer[secondText]

// appendSecond appends t's second in Asia/Shanghai as refmsgidTimeLayout
// (t.In(shanghai).AppendFormat(b, refmsgidTimeLayout)). One Unix second is
// one text: a zone's offset changes on a whole second.
func appendSecond(b []byte, t time.Time) []byte {
	unix := t.Unix()
	if s := lastSecond.Load(); s != nil && s.unix == unix {
		return append(b, s.text[:]...)
	}
	start := len(b)
	b = t.In(shanghai).AppendFormat(b, refmsgidTimeLayout)
	if s := (&secondText{unix: unix}); len(b)-start == len(s.text) {
		copy(s.text[:], b[start:])
		lastSecond.Store(s)
	}
	return b
}

// appendRespTime appends t as refmsg_time and respond_time to b:
// yyyyMMddHHmmssSSS in Asia/Shanghai, respTimeLayout without its dot (the
// milliseconds cut, not rounded, as Time.Format cuts them).
func appendRespTime(b []byte, t time.Time) []byte {
	start := len(b)
	b = appendSecond(b, t)
	if len(b)-start != len(refmsgidTimeLayout) {
		// A year beyond four digits: as the layout writes it.
		b = t.In(shanghai).AppendFormat(b[:start], respTimeLayout)
		dot := start + 14
		return append(b[:dot], b[dot+1:]...)
	}
	ms := t.Nanosecond() / int(time.Millisecond)
	return append(b, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
}
